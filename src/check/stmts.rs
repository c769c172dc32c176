//! Function bodies, blocks and statements (assignments included).

use super::*;

impl<'a> Checker<'a, '_> {
    /// A loop's body is about to be checked.
    fn enter_loop(&mut self, label: Option<String>) {
        self.cx().loops.push((label, false));
    }

    pub(super) fn check_fn(&mut self, id: FnId) {
        let info = &self.out.fns[id as usize];
        let source = info.source;
        let ret = info.ret.clone();
        let param_types = info.param_types.clone();
        let span = info.span;
        self.module = self.module_of(span);
        self.type_args = self.instance_args.get(&id).cloned().unwrap_or_default();
        if let FnSource::Init(m) = source {
            return self.check_init(id, m);
        }
        let (params, body): (&'a [Param], &'a Block) = match source {
            FnSource::Decl(d) => (&d.params, &d.body),
            FnSource::Init(_) => return,
            FnSource::Closure(e) => match &e.kind {
                ExprKind::Closure { params, body, .. } => (params, body),
                _ => return,
            },
        };
        if matches!(source, FnSource::Closure(_)) {
            // A closure is checked where it appears, inside its parent's context.
            return;
        }
        // A generator's body returns nothing; its calls return the `Gen[T]`.
        let yields = self.out.fns[id as usize].yields.clone();
        let ret = if yields.is_some() { Type::Unit } else { ret };
        let is_async = self.out.fns[id as usize].is_async;
        self.ctx.push(FnContext {
            fn_id: id,
            scopes: vec![HashMap::new()],
            ret: ret.clone(),
            yields,
            is_async,
            loops: Vec::new(),
            in_defer: false,
        });
        self.body(id, params, &param_types, body, &ret, span);
        self.ctx.pop();
    }

    pub(super) fn body(
        &mut self,
        id: FnId,
        params: &'a [Param],
        param_types: &[Type],
        body: &'a Block,
        ret: &Type,
        span: Span,
    ) {
        let mut locals = Vec::new();
        for (p, ty) in params.iter().zip(param_types) {
            locals.push(self.new_local_by(&p.name, ty.clone(), false, "a parameter"));
        }
        self.out.fns[id as usize].params = locals;
        let (_, diverges) = self.check_block(body, None);
        if !diverges && !matches!(ret, Type::Unit | Type::Error) {
            let end = Span {
                start: body.span.end.saturating_sub(1),
                ..body.span
            };
            let name = self.out.fns[id as usize].name.clone();
            self.error(
                Diagnostic::error(
                    DiagId::MissingReturn,
                    format!("function `{name}` may end without returning a `{ret}`"),
                )
                .with_label(end, "the end of the function can be reached")
                .with_label(span, "declared to return a value"),
            );
        }
    }

    /// Checks a block; returns the type of its value (its trailing expression
    /// when `want` is given) and whether control can never leave its end.
    pub(super) fn check_block(&mut self, block: &'a Block, want: Option<&Type>) -> (Type, bool) {
        self.push_scope();
        let mut diverges = false;
        let mut value = Type::Unit;
        let last = block.stmts.len().saturating_sub(1);
        for (i, stmt) in block.stmts.iter().enumerate() {
            if want.is_some() && i == last {
                if let Stmt::Expr(e) = stmt {
                    value = self.check_expr(e, want);
                    diverges |= value == Type::Never;
                    continue;
                }
            }
            diverges |= self.check_stmt(stmt);
        }
        self.pop_scope();
        if diverges {
            value = Type::Never;
        }
        (value, diverges)
    }

    /// Returns whether the statement never completes normally.
    pub(super) fn check_stmt(&mut self, stmt: &'a Stmt) -> bool {
        // Set by `label:` for the loop statement right inside it only.
        let label = self.pending_label.take();
        match stmt {
            Stmt::Let {
                mutable,
                name,
                ty,
                value,
                ..
            } => {
                let declared = ty.as_ref().map(|t| self.resolve_type(t));
                let actual = self.check_expr(value, declared.as_ref().or(ANY));
                let ty = match declared {
                    Some(d) => {
                        self.coerce(value, &actual, &d);
                        d
                    }
                    None => {
                        match actual {
                            Type::Unit => self.error(
                                Diagnostic::error(
                                    DiagId::NoValue,
                                    "this expression has no value to bind",
                                )
                                .with_label(value.span, "produces no value"),
                            ),
                            Type::Nil => self.error(
                                Diagnostic::error(
                                    DiagId::CannotInfer,
                                    "cannot infer the type of `nil`",
                                )
                                .with_label(value.span, "add a type: `let x: int? = nil`"),
                            ),
                            _ => {}
                        }
                        if matches!(actual, Type::Never | Type::Nil | Type::Unit) {
                            Type::Error
                        } else {
                            actual.clone()
                        }
                    }
                };
                self.new_local(name, ty, *mutable);
                actual == Type::Never
            }
            Stmt::Assign {
                target,
                op,
                value,
                span,
            } => self.check_assign(target, *op, value, *span),
            Stmt::Expr(e) => self.check_expr(e, None) == Type::Never,
            Stmt::While { cond, body, .. } => {
                let t = self.check_expr(cond, Some(&Type::Bool));
                self.expect(&t, &Type::Bool, cond.span);
                self.enter_loop(label.clone());
                self.check_block(body, None);
                self.cx().loops.pop();
                false
            }
            Stmt::WhileLet {
                name, value, body, ..
            } => {
                let t = self.check_expr(value, ANY);
                let inner = self.optional_inner(&t, value.span);
                self.push_scope();
                self.new_local(name, inner, false);
                self.enter_loop(label.clone());
                self.check_block(body, None);
                self.cx().loops.pop();
                self.pop_scope();
                false
            }
            Stmt::Loop { body, .. } => {
                self.enter_loop(label.clone());
                self.check_block(body, None);
                let broke = self.cx().loops.pop().is_some_and(|l| l.1);
                !broke
            }
            Stmt::For {
                var,
                iter,
                body,
                span,
            } => {
                let elem = match &iter.kind {
                    ExprKind::Range { start, end, .. } => {
                        let a = self.check_expr(start, Some(&Type::Int));
                        let b = self.check_expr(end, Some(&Type::Int));
                        self.expect(&a, &Type::Int, start.span);
                        self.expect(&b, &Type::Int, end.span);
                        self.out.expr_types[iter.id as usize] = Type::Unit;
                        Type::Int
                    }
                    _ => match self.check_expr(iter, ANY) {
                        Type::Array(elem) => {
                            self.out.for_arrays.insert(*span, (*elem).clone());
                            *elem
                        }
                        Type::Gen(elem) => {
                            self.out.for_gens.insert(*span, (*elem).clone());
                            *elem
                        }
                        // Each byte, as an int 0..255.
                        Type::Bytes => {
                            self.out.for_arrays.insert(*span, Type::Int);
                            Type::Int
                        }
                        Type::Error => Type::Error,
                        other => {
                            self.error(
                                Diagnostic::error(
                                    DiagId::NotIterable,
                                    format!("cannot iterate over a `{other}`"),
                                )
                                .with_label(
                                    iter.span,
                                    "expected a range `a..b`, an array, a generator or `Bytes`",
                                ),
                            );
                            Type::Error
                        }
                    },
                };
                self.push_scope();
                self.new_local_by(var, elem, false, "a `for` loop variable");
                self.enter_loop(label.clone());
                self.check_block(body, None);
                self.cx().loops.pop();
                self.pop_scope();
                false
            }
            Stmt::Labeled { label, body, .. } => {
                self.pending_label = Some(label.name.clone());
                self.check_stmt(body)
            }
            Stmt::Break(label, span) | Stmt::Continue(label, span) => {
                let is_break = matches!(stmt, Stmt::Break(..));
                let target = match label {
                    Some(l) => {
                        let found = self
                            .cx()
                            .loops
                            .iter()
                            .rposition(|(n, _)| n.as_deref() == Some(&l.name));
                        if found.is_none() {
                            let word = if is_break { "break" } else { "continue" };
                            self.error(
                                Diagnostic::error(
                                    DiagId::UnknownLabel,
                                    format!("no enclosing loop is labelled `{}`", l.name),
                                )
                                .with_label(
                                    l.span,
                                    format!("`{word} {}` names no loop around it", l.name),
                                ),
                            );
                            return true;
                        }
                        found
                    }
                    None => self.cx().loops.len().checked_sub(1),
                };
                match target {
                    Some(i) => self.cx().loops[i].1 |= is_break,
                    None => {
                        let word = if is_break { "break" } else { "continue" };
                        self.error(
                            Diagnostic::error(
                                DiagId::BreakOutsideLoop,
                                format!("`{word}` outside of a loop"),
                            )
                            .with_label(*span, "not inside `while`, `loop` or `for`"),
                        );
                    }
                }
                true
            }
            Stmt::Return(value, span) => {
                self.not_in_defer("return", *span);
                let ret = self.cx().ret.clone();
                match value {
                    Some(v) if self.cx().yields.is_some() => {
                        self.check_expr(v, ANY);
                        self.error(
                            Diagnostic::error(
                                DiagId::ReturnValueInGen,
                                "a generator cannot return a value",
                            )
                            .with_label(
                                v.span,
                                "use `yield` to produce values; `return` just ends the generator",
                            ),
                        );
                    }
                    Some(v) => {
                        let t = self.check_expr(v, Some(&ret));
                        if ret == Type::Unit && !t.is_error() {
                            self.error(
                                Diagnostic::error(
                                    DiagId::ReturnValueInUnitFn,
                                    "this function does not return a value",
                                )
                                .with_label(
                                    v.span,
                                    "remove this value, or declare `-> T` on the function",
                                ),
                            );
                        } else {
                            self.coerce(v, &t, &ret);
                        }
                    }
                    None => {
                        if !matches!(ret, Type::Unit | Type::Error) {
                            self.error(
                                Diagnostic::error(
                                    DiagId::MissingReturnValue,
                                    format!("this function must return a `{ret}`"),
                                )
                                .with_label(*span, "`return` without a value"),
                            );
                        }
                    }
                }
                true
            }
            Stmt::Yield(value, span) => {
                self.not_in_defer("yield", *span);
                match self.cx().yields.clone() {
                    Some(y) => {
                        let t = self.check_expr(value, Some(&y));
                        self.coerce(value, &t, &y);
                    }
                    None => {
                        self.check_expr(value, ANY);
                        self.error(
                            Diagnostic::error(
                                DiagId::YieldOutsideGen,
                                "`yield` outside of a `gen fn`",
                            )
                            .with_label(*span, "only generators can yield"),
                        );
                    }
                }
                false
            }
            Stmt::Defer(value, _) => {
                let loops = std::mem::take(&mut self.cx().loops);
                let outer = std::mem::replace(&mut self.cx().in_defer, true);
                self.check_expr(value, ANY);
                self.cx().in_defer = outer;
                self.cx().loops = loops;
                false
            }
        }
    }

    /// A constant stored into a `Bytes` must be a byte: `b[i] = 300` and
    /// `b.push(-1)` are errors here rather than panics at run time.
    pub(super) fn check_byte(&mut self, value: &Expr) {
        let n = match &value.kind {
            ExprKind::Int(n) => Some(*n),
            ExprKind::Unary(UnOp::Neg, inner) => match inner.kind {
                ExprKind::Int(n) => Some(n.wrapping_neg()),
                _ => None,
            },
            _ => None,
        };
        if let Some(n) = n.filter(|n| !(0..=255).contains(n)) {
            self.error(
                Diagnostic::error(DiagId::ByteOutOfRange, format!("{n} is not a byte"))
                    .with_label(value.span, "a `Bytes` holds values 0..255"),
            );
        }
    }

    pub(super) fn check_assign(
        &mut self,
        target: &'a Expr,
        op: Option<BinOp>,
        value: &'a Expr,
        span: Span,
    ) -> bool {
        let target_ty = match &target.kind {
            ExprKind::Name(name) => match self.lookup_local(name) {
                Some(id) => {
                    self.out.names.insert(target.id, Res::Local(id));
                    let info = &self.out.locals[id as usize];
                    let ty = info.ty.clone();
                    let declared_by = info.declared_by;
                    if !info.mutable {
                        let decl = self.local_span(id);
                        let mut d = Diagnostic::error(
                            DiagId::AssignToImmutable,
                            format!("cannot assign twice to immutable variable `{name}`"),
                        )
                        .with_label(target.span, format!("cannot assign to {declared_by}"));
                        if let Some(decl) = decl {
                            let label = if declared_by == "a `let` binding" {
                                "declared with `let` here; use `var` to make it mutable".to_string()
                            } else {
                                format!("{declared_by} declared here; copy it into a `var` to change it")
                            };
                            d = d.with_label(decl, label);
                        }
                        self.error(d);
                    }
                    ty
                }
                None => self.assign_global(target, name),
            },
            ExprKind::Index(..) | ExprKind::Field(..) => self.check_expr(target, ANY),
            _ => {
                self.error(
                    Diagnostic::error(
                        DiagId::InvalidAssignmentTarget,
                        "cannot assign to this expression",
                    )
                    .with_label(target.span, "not a variable, element or field"),
                );
                Type::Error
            }
        };
        if !target_ty.is_error() {
            self.out.expr_types[target.id as usize] = target_ty.clone();
        }
        let value_ty = self.check_expr(value, Some(&target_ty));
        if let (None, ExprKind::Index(base, _)) = (op, &target.kind) {
            if self.out.expr_types[base.id as usize] == Type::Bytes {
                self.check_byte(value);
            }
        }
        match op {
            None => self.coerce(value, &value_ty, &target_ty),
            Some(op) => {
                let result =
                    self.binary_type(op, &target_ty, &value_ty, span, target.span, value.span);
                if !result.is_error() && result != target_ty {
                    self.expect(&result, &target_ty, span);
                }
            }
        }
        value_ty == Type::Never
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::expect_ids;

    #[test]
    fn statements_and_returns() {
        expect_ids(&[
            (
                "fn f(x: int) -> int { if x > 0 { return 1 }\n return 0 }\nfn main() {}",
                &[],
            ),
            (
                "fn f(x: int) -> int { if x > 0 { return 1 } }\nfn main() {}",
                &["missing-return"],
            ),
            (
                "fn f() -> int { return }\nfn main() {}",
                &["missing-return-value"],
            ),
            (
                "fn f() { return 1 }\nfn main() {}",
                &["return-value-in-unit-fn"],
            ),
            ("fn main() { break }", &["break-outside-loop"]),
            ("fn main() { yield 1 }", &["yield-outside-gen"]),
            ("fn main() { let x = 1\n x = 2 }", &["assign-to-immutable"]),
            ("fn main() { for x in 5 { } }", &["not-iterable"]),
        ]);
    }
}
