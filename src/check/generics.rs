//! Generic functions: calls and values, instantiated per set of type arguments.

use super::*;

impl<'a> Checker<'a, '_> {
    pub(super) fn generic_as_value(&mut self, e: &Expr, g: u32) -> Type {
        let name = self.generics[g as usize].decl.name.name.clone();
        self.error(
            Diagnostic::error(
                DiagId::GenericAsValue,
                format!("`{name}` is generic: it can only be called"),
            )
            .with_label(
                e.span,
                "its type arguments come from the arguments of a call",
            ),
        );
        Type::Error
    }

    /// A call of a generic function: the arguments are checked first, the
    /// type arguments inferred from their types, and the call goes to the
    /// instance for them (made on first use).
    pub(super) fn generic_call(
        &mut self,
        e: &'a Expr,
        callee: &'a Expr,
        g: u32,
        args: &'a [Expr],
    ) -> Type {
        let types: Vec<Type> = args.iter().map(|a| self.check_expr(a, ANY)).collect();
        let Generic { decl, .. } = self.generics[g as usize];
        let name = decl.name.name.clone();
        if decl.params.len() != args.len() {
            let span = Some(decl.name.span);
            self.wrong_argument_count(e.span, &name, decl.params.len(), args.len(), span);
            return Type::Error;
        }
        if types.iter().any(|t| t.contains_error()) {
            return Type::Error;
        }
        let names: Vec<String> = decl.type_params.iter().map(|t| t.name.clone()).collect();
        let mut bound = HashMap::new();
        for (p, t) in decl.params.iter().zip(&types) {
            if let Some(te) = &p.ty {
                unify(te, t, &names, &mut bound);
            }
        }
        let mut targs = Vec::new();
        for n in &names {
            match bound.get(n) {
                Some(t) => targs.push(t.clone()),
                None => {
                    self.error(
                        Diagnostic::error(
                            DiagId::CannotInferType,
                            format!("cannot infer the type `{n}` of this call of `{name}`"),
                        )
                        .with_label(e.span, format!("no argument says what `{n}` is")),
                    );
                    return Type::Error;
                }
            }
        }
        let key = format!("{g}:{targs:?}");
        let f = match self.instances.get(&key) {
            Some(&f) => f,
            None => {
                let parent = self.ctx.first().map(|c| c.fn_id);
                let parent = parent.filter(|p| self.instance_parent.contains_key(p));
                if self.instance_chain(parent).len() >= MAX_INSTANCE_DEPTH {
                    self.runaway_instantiation(e, &name, &targs, parent);
                    return Type::Error;
                }
                match self.instantiate(g, &names, &targs) {
                    Some(f) => {
                        self.instances.insert(key, f);
                        self.instance_parent.insert(f, parent);
                        f
                    }
                    None => return Type::Error,
                }
            }
        };
        self.prechecked = Some(types);
        self.direct_call(e, callee, f, args)
    }

    /// The instances that led to `from`, innermost first.
    pub(super) fn instance_chain(&self, mut from: Option<FnId>) -> Vec<FnId> {
        let mut chain = Vec::new();
        while let Some(f) = from {
            chain.push(f);
            from = self.instance_parent.get(&f).copied().flatten();
        }
        chain
    }

    /// A generic function that instantiates itself at ever larger types
    /// (`f[T]` calling `f` at `[T]`) would make instances until memory ran
    /// out: one located error with the chain, and no more instances of it.
    pub(super) fn runaway_instantiation(
        &mut self,
        e: &Expr,
        name: &str,
        targs: &[Type],
        parent: Option<FnId>,
    ) {
        let shown: Vec<String> = targs.iter().map(|t| t.to_string()).collect();
        let chain = self.instance_chain(parent);
        let mut d = Diagnostic::error(
            DiagId::InstantiationTooDeep,
            format!(
                "instantiating `{name}[{}]` goes {MAX_INSTANCE_DEPTH} generic instances deep",
                shown.join(", ")
            ),
        )
        .with_label(e.span, "this call asks for yet another instance");
        let symbol = |f: &FnId| self.out.fns[*f as usize].symbol.clone();
        let mut notes: Vec<String> = chain.iter().rev().take(3).map(symbol).collect();
        if chain.len() > 6 {
            notes.push(format!("... {} more ...", chain.len() - 6));
        }
        notes.extend(
            chain
                .iter()
                .take(3.min(chain.len().saturating_sub(3)))
                .rev()
                .map(symbol),
        );
        d = d.with_note(format!("instantiated through: {}", notes.join(" -> ")));
        d = d.with_note(
            "a generic function must not call itself at a type built from its own type parameter",
        );
        self.error(d);
    }

    /// The instance of generic function `g` for `targs`: its source parsed
    /// again (fresh expression ids; spans tagged with a new instance number
    /// so tables keyed by span tell instances apart) and declared with the
    /// type parameters bound. Its body is checked like any function's.
    pub(super) fn instantiate(&mut self, g: u32, names: &[String], targs: &[Type]) -> Option<FnId> {
        let Generic { decl, module } = self.generics[g as usize];
        let (source, file) = {
            let m = &self.modules[module as usize];
            (m.source, m.file)
        };
        self.next_instance += 1;
        let instance = self.next_instance;
        let (mut tokens, _) = crate::lexer::lex(source, file);
        tokens.retain(|t| t.span.start >= decl.span.start && t.span.end <= decl.span.end);
        for t in &mut tokens {
            t.span.instance = instance;
        }
        let (ast, next, diags) = crate::parser::parse_from(tokens, file, self.next_expr_id);
        self.next_expr_id = next;
        self.out.expr_types.resize(next as usize, Type::Error);
        // The AST lives as long as the program's: `Typed` refers into it.
        let ast: &'a Module = Box::leak(Box::new(ast));
        let Some(Item::Fn(copy)) = ast.items.first() else {
            self.diags.extend(diags);
            return None;
        };
        let saved_module = std::mem::replace(&mut self.module, module);
        let args: HashMap<String, Type> =
            names.iter().cloned().zip(targs.iter().cloned()).collect();
        let saved_args = std::mem::replace(&mut self.type_args, args.clone());
        let id = self.declare_fn(copy, None);
        let shown: Vec<String> = targs.iter().map(|t| t.to_string()).collect();
        let info = &mut self.out.fns[id as usize];
        info.symbol = format!("{}[{}]", info.symbol, shown.join(", "));
        self.instance_args.insert(id, args);
        self.type_args = saved_args;
        self.module = saved_module;
        Some(id)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::expect_ids;

    #[test]
    fn inference_instances_and_their_limits() {
        expect_ids(&[
            ("fn id[T](x: T) -> T { return x }\nfn main() { let a: int = id(1)\n let b: string = id(\"s\") }", &[]),
            ("fn id[T](x: T) -> T { return x }\nfn main() { let a: string = id(1) }", &["type-mismatch"]),
            ("fn mk[T]() -> [T] { return [] }\nfn main() { let a = mk() }", &["cannot-infer-type"]),
            ("fn id[T](x: T) -> T { return x }\nfn main() { let f = id }", &["generic-as-value"]),
            ("fn deep[T](x: T) -> int { return deep([x]) }\nfn main() { let n = deep(1) }", &["instantiation-too-deep"]),
        ]);
    }
}
