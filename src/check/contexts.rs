//! Async contexts: `await`, `spawn`, `select`, and what `defer` may not do.

use super::*;

impl<'a> Checker<'a, '_> {
    /// Whether `e` is a call of an `async fn` (checked already).
    pub(super) fn is_async_call(&self, e: &Expr) -> bool {
        match self.out.calls.get(&e.id) {
            Some(Callee::Fn(f) | Callee::Method(f)) => self.out.fns[*f as usize].is_async,
            // A call of an async function value.
            Some(Callee::Indirect) => match &e.kind {
                ExprKind::Call(callee, _) => {
                    matches!(self.out.expr_types[callee.id as usize], Type::AsyncFn(..))
                }
                _ => false,
            },
            _ => false,
        }
    }

    pub(super) fn in_async(&self) -> bool {
        self.ctx.last().is_some_and(|c| c.is_async)
    }

    /// `select { v = ch.recv() => {..} ch.send(x) => {..} time.after(ms) => {..} }`.
    pub(super) fn check_select(&mut self, e: &Expr, arms: &'a [SelectArm]) -> Type {
        self.not_in_defer("select", e.span);
        // With `default` it never waits: fine in any function.
        let polls = arms.last().is_some_and(|a| a.is_default);
        if !polls && !self.in_async() {
            self.error(
                Diagnostic::error(
                    DiagId::SelectOutsideAsync,
                    "`select` outside of an `async fn`",
                )
                .with_label(e.span, "`select` waits, and only async functions can wait"),
            );
        }
        if arms.is_empty() {
            self.error(
                Diagnostic::error(DiagId::EmptySelect, "a `select` needs at least one arm")
                    .with_label(e.span, "this would wait forever"),
            );
        }
        for (i, arm) in arms.iter().enumerate() {
            if arm.is_default {
                if i + 1 != arms.len() {
                    self.error(
                        Diagnostic::error(
                            DiagId::DefaultNotLast,
                            "`default` must be the last arm of a `select`",
                        )
                        .with_label(arm.span, "move this arm to the end"),
                    );
                }
                self.push_scope();
                self.check_block(&arm.body, None);
                self.pop_scope();
                continue;
            }
            let saved = (
                self.async_call_ok.replace(arm.op.id),
                self.after_ok.replace(arm.op.id),
            );
            let t = self.check_expr(&arm.op, ANY);
            (self.async_call_ok, self.after_ok) = saved;
            let op = match self.out.calls.get(&arm.op.id) {
                Some(Callee::ChanRecv) => Some(SelectOp::Recv),
                Some(Callee::ChanSend) => Some(SelectOp::Send),
                Some(Callee::Fn(f)) if self.out.fns[*f as usize].symbol == AFTER_SYMBOL => {
                    Some(SelectOp::After)
                }
                _ => None,
            };
            match op {
                Some(op) => {
                    self.out.select_ops.insert(arm.op.id, op);
                }
                None if !t.contains_error() => self.error(
                    Diagnostic::error(
                        DiagId::InvalidSelectArm,
                        "a `select` arm waits on `ch.recv()`, `ch.send(v)` or `time.after(ms)`",
                    )
                    .with_label(arm.op.span, "not a channel operation or `time.after`"),
                ),
                None => {}
            }
            self.push_scope();
            if let Some(binding) = &arm.binding {
                let ty = if op == Some(SelectOp::Recv) {
                    t
                } else {
                    if op.is_some() {
                        self.error(
                            Diagnostic::error(
                                DiagId::SelectBinding,
                                "only a `recv` arm binds a value",
                            )
                            .with_label(binding.span, "remove `name =`"),
                        );
                    }
                    Type::Error
                };
                self.new_local(binding, ty, false);
            }
            self.check_block(&arm.body, None);
            self.pop_scope();
        }
        Type::Unit
    }

    /// `return`, `yield` and `await` cannot appear in a `defer`.
    pub(super) fn not_in_defer(&mut self, what: &str, span: Span) {
        if self.ctx.last().is_some_and(|c| c.in_defer) {
            self.error(
                Diagnostic::error(DiagId::ControlFlowInDefer, format!("`{what}` inside a `defer`"))
                    .with_label(span, "not allowed here")
                    .with_note(
                        "a `defer` runs while its block exits, also when a task is cancelled or panics: it can neither leave the block nor wait",
                    ),
            );
        }
    }

    pub(super) fn check_await(&mut self, e: &Expr, inner: &'a Expr) -> Type {
        self.not_in_defer("await", e.span);
        if !self.in_async() {
            // The awaited call itself is fine: one error, for the `await`.
            let saved = self.async_call_ok.replace(inner.id);
            self.check_expr(inner, ANY);
            self.async_call_ok = saved;
            self.error(
                Diagnostic::error(
                    DiagId::AwaitOutsideAsync,
                    "`await` outside of an `async fn`",
                )
                .with_label(
                    e.span,
                    "only async functions can await; mark this function `async fn`",
                ),
            );
            return Type::Error;
        }
        let saved = self.async_call_ok.replace(inner.id);
        let t = self.check_expr(inner, ANY);
        self.async_call_ok = saved;
        if self.is_async_call(inner) {
            self.out.awaits.insert(e.id, AwaitKind::Call);
            return t;
        }
        if matches!(
            self.out.calls.get(&inner.id),
            Some(Callee::ChanSend | Callee::ChanRecv)
        ) {
            self.out.awaits.insert(e.id, AwaitKind::Chan);
            return t;
        }
        match t {
            Type::Task(result) => {
                self.out.awaits.insert(e.id, AwaitKind::Task);
                *result
            }
            Type::Error | Type::Never => Type::Error,
            other => {
                self.error(
                    Diagnostic::error(DiagId::AwaitNonAsync, format!("cannot `await` a `{other}`"))
                        .with_label(
                            inner.span,
                            "expected a call of an `async fn` or a `Task[T]`",
                        ),
                );
                Type::Error
            }
        }
    }

    pub(super) fn check_spawn(&mut self, e: &Expr, inner: &'a Expr) -> Type {
        let saved = self.async_call_ok.replace(inner.id);
        let t = self.check_expr(inner, ANY);
        self.async_call_ok = saved;
        if !self.is_async_call(inner) {
            if !t.contains_error() {
                self.error(
                    Diagnostic::error(
                        DiagId::SpawnNonAsync,
                        "`spawn` needs a call of an `async fn`",
                    )
                    .with_label(inner.span, "not an async call"),
                );
            }
            return Type::Error;
        }
        // `tasks.Group.spawn` is a plain method: a standard module may spawn
        // from synchronous code its async callers run.
        if !self.in_async() && !self.modules[self.module as usize].is_stdlib {
            self.error(
                Diagnostic::error(
                    DiagId::SpawnOutsideAsync,
                    "`spawn` outside of an `async fn`",
                )
                .with_label(
                    e.span,
                    "tasks run on the scheduler of an `async fn main`; spawn them from async code",
                ),
            );
        }
        Type::Task(Box::new(t))
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::expect_ids;

    #[test]
    fn async_contexts() {
        expect_ids(&[
            ("async fn f() -> int { return 1 }\nasync fn main() { let a = await f()\n let t = spawn f()\n let b = await t }", &[]),
            ("async fn f() -> int { return 1 }\nfn main() { let a = await f() }", &["await-outside-async"]),
            ("async fn f() -> int { return 1 }\nasync fn main() { let a = f() }", &["async-call-without-await"]),
            ("fn g() -> int { return 1 }\nasync fn main() { let t = spawn g() }", &["spawn-non-async"]),
            ("async fn main() { let x = await 3 }", &["await-non-async"]),
            ("async fn main() { select { } }", &["empty-select"]),
            ("fn main() { defer { return } }", &["control-flow-in-defer"]),
        ]);
    }
}
