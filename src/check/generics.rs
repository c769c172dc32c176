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
        let Generic { decl, module } = self.generics[g as usize];
        let name = decl.name.name.clone();
        if decl.params.len() != args.len() {
            for a in args {
                self.check_expr(a, ANY);
            }
            let span = Some(decl.name.span);
            self.wrong_argument_count(e.span, &name, decl.params.len(), args.len(), span);
            return Type::Error;
        }
        let names: Vec<String> = decl.type_params.iter().map(|t| t.name.clone()).collect();
        let mut bound = HashMap::new();
        // The parser gives every parameter outside a method a type.
        let params: Vec<&TypeExpr> = decl.params.iter().filter_map(|p| p.ty.as_ref()).collect();
        let arg_refs: Vec<&'a Expr> = args.iter().collect();
        let types = self.infer_args(module, &names, &mut bound, &params, &arg_refs);
        if types.iter().any(|t| t.contains_error()) {
            return Type::Error;
        }
        let what = format!("this call of `{name}`");
        let Some(targs) = self.inferred(e, &names, &bound, &what, "argument") else {
            return Type::Error;
        };
        if !self.check_bounds(decl, module, &targs, e.span) {
            return Type::Error;
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

    /// `a.name(args)` on an array of `elem`, for the methods the prelude
    /// writes in Weft (`__array_name`, instantiated at `elem`): a method
    /// call of that function with the array as its first argument. `None`
    /// when there is no such method.
    pub(super) fn prelude_array_method(
        &mut self,
        e: &Expr,
        name: &str,
        elem: &Type,
        args: &'a [Expr],
        at: Span,
    ) -> Option<Type> {
        let p = self.prelude?;
        let item = self.items[p as usize]
            .get(&format!("__array_{name}"))
            .copied()?;
        let wrong = |cx: &mut Self, what: &str| {
            for a in args {
                cx.check_expr(a, ANY);
            }
            cx.error(
                Diagnostic::error(
                    DiagId::InvalidOperand,
                    format!("`{name}` is not a method of `[{elem}]`"),
                )
                .with_label(at, what.to_string()),
            );
            Some(Type::Error)
        };
        if elem.contains_error() {
            for a in args {
                self.check_expr(a, ANY);
            }
            return Some(Type::Error);
        }
        match name {
            "sort" if !matches!(elem, Type::Int | Type::Float | Type::Str) => {
                return wrong(self, "`sort` orders `int`, `float` and `string` arrays; use `sort_by(fn(x, y) -> int)`");
            }
            "join" if *elem != Type::Str => return wrong(self, "`join` joins a `[string]`"),
            _ => {}
        }
        let f = self.prelude_item_at(item, elem)?;
        let fi = &self.out.fns[f as usize];
        let (params, ret, decl) = (fi.param_types[1..].to_vec(), fi.ret.clone(), fi.span);
        self.out.calls.insert(e.id, Callee::Method(f));
        self.check_args(e, name, &params, args, Some(decl));
        Some(ret)
    }

    /// The prelude's function `name` (generic over one `T`) at `elem`.
    pub(super) fn prelude_fn_at(&mut self, name: &str, elem: &Type) -> Option<FnId> {
        let p = self.prelude?;
        let item = self.items[p as usize].get(name).copied()?;
        self.prelude_item_at(item, elem)
    }

    fn prelude_item_at(&mut self, item: ItemRef, elem: &Type) -> Option<FnId> {
        match item {
            ItemRef::Fn(f) => Some(f),
            ItemRef::Generic(g) => {
                let targs = vec![elem.clone()];
                let key = format!("{g}:{targs:?}");
                if let Some(&f) = self.instances.get(&key) {
                    return Some(f);
                }
                let names = vec!["T".to_string()];
                let f = self.instantiate(g, &names, &targs)?;
                self.instances.insert(key, f);
                self.instance_parent.insert(f, None);
                Some(f)
            }
            _ => None,
        }
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

    /// The instance of generic function `g` for `targs`.
    pub(super) fn instantiate(&mut self, g: u32, names: &[String], targs: &[Type]) -> Option<FnId> {
        let Generic { decl, module } = self.generics[g as usize];
        let args = names.iter().cloned().zip(targs.iter().cloned()).collect();
        self.instantiate_decl(decl, module, args, None, Some(targs))
    }

    /// A copy of the function or method `decl` of `module`, declared with
    /// the type parameters `args` bound (and as a method of `owner`): its
    /// source parsed again (fresh expression ids; spans tagged with a new
    /// instance number so tables keyed by span tell instances apart). Its
    /// body is checked like any function's. `shown` (its own type
    /// arguments, if it has any) goes into its symbol.
    pub(super) fn instantiate_decl(
        &mut self,
        decl: &'a FnDecl,
        module: ModId,
        args: HashMap<String, Type>,
        owner: Option<StructId>,
        shown: Option<&[Type]>,
    ) -> Option<FnId> {
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
        let (copy, next, diags) =
            crate::parser::parse_fn_from(tokens, file, self.next_expr_id, owner.is_some());
        self.next_expr_id = next;
        self.out.expr_types.resize(next as usize, Type::Error);
        let Some(copy) = copy else {
            self.diags.extend(diags);
            return None;
        };
        // The AST lives as long as the program's: `Typed` refers into it.
        let copy: &'a FnDecl = Box::leak(Box::new(copy));
        let id = self.in_scope(module, args.clone(), |cx| cx.declare_fn(copy, owner));
        if let Some(targs) = shown {
            let shown: Vec<String> = targs.iter().map(|t| t.to_string()).collect();
            let info = &mut self.out.fns[id as usize];
            info.symbol = format!("{}[{}]", info.symbol, shown.join(", "));
        }
        self.instance_args.insert(id, args);
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
