//! Panics in compiled code: the source location a panic reports (its own
//! span, or in a tracked standard-library function its caller's, see
//! `caller.rs`), the call into the runtime that records it, and the unwind
//! that follows in a coroutine (its cleanups, then the final suspend).

use super::*;

impl<'ctx> Codegen<'ctx, '_> {
    /// `file:line:col` of a span, as constant bytes and their length.
    /// Where a panic at `span` happened: in a tracked standard-library
    /// function, the program's call into it (`caller.rs`).
    pub(super) fn location(&mut self, span: Span) -> Result<(PointerValue<'ctx>, IntValue<'ctx>)> {
        let own = self.own_location(span)?;
        self.caller_location(own)
    }

    /// `span` as `file:line:col`.
    pub(super) fn own_location(
        &mut self,
        span: Span,
    ) -> Result<(PointerValue<'ctx>, IntValue<'ctx>)> {
        let (line, col) = self.sources.line_col(span.file, span.start);
        let loc = format!("{}:{}:{}", self.sources.name(span.file), line, col);
        let p = self.bytes_ptr(loc.as_bytes())?;
        Ok((p, self.cx.i64_type().const_int(loc.len() as u64, false)))
    }

    /// Panics with a message and this span's location; ends the block.
    pub(super) fn panic(&mut self, msg: &str, span: Span) -> Result<()> {
        self.raise(PanicMsg::Const(msg), span)
    }

    /// Panics with `msg` when `failed` holds; otherwise code goes on after it.
    pub(super) fn panic_if(&mut self, failed: IntValue<'ctx>, msg: &str, span: Span) -> Result<()> {
        let f = self.func();
        let fail = self.cx.append_basic_block(f, "panic");
        let ok = self.cx.append_basic_block(f, "ok");
        self.b.build_conditional_branch(failed, fail, ok)?;
        self.b.position_at_end(fail);
        self.panic(msg, span)?;
        self.b.position_at_end(ok);
        Ok(())
    }

    /// A panic. Outside async functions it ends the process (`weft_panic*`);
    /// in one it ends the task: recorded in the coroutine, then the pending
    /// `defer`s run and control goes to the final suspend, whose awaiter
    /// re-raises it (see `runtime/src/task.rs`).
    pub(super) fn raise(&mut self, msg: PanicMsg<'ctx, '_>, span: Span) -> Result<()> {
        let (loc, loc_len) = self.location(span)?;
        let task = self.f.coro.filter(|s| s.is_async);
        let i64t = self.cx.i64_type();
        let (rf, mut args): (RuntimeFn, Vec<BasicMetadataValueEnum>) = match msg {
            PanicMsg::Const(m) => {
                let p = self.bytes_ptr(m.as_bytes())?;
                let n = i64t.const_int(m.len() as u64, false);
                let rf = if task.is_some() {
                    RuntimeFn::TaskPanic
                } else {
                    RuntimeFn::Panic
                };
                (rf, vec![p.into(), n.into()])
            }
            PanicMsg::Str(s) => {
                let rf = if task.is_some() {
                    RuntimeFn::TaskPanicString
                } else {
                    RuntimeFn::PanicString
                };
                (rf, vec![s.into()])
            }
            PanicMsg::Index(i, n) => {
                let rf = if task.is_some() {
                    RuntimeFn::TaskPanicIndex
                } else {
                    RuntimeFn::PanicIndex
                };
                (rf, vec![i.into(), n.into()])
            }
        };
        args.push(loc.into());
        args.push(loc_len.into());
        match task {
            Some(state) => {
                args.insert(0, state.handle.into());
                self.call_rt(rf, &args, "")?;
                self.unwind(state)
            }
            None => {
                self.call_rt(rf, &args, "")?;
                self.b.build_unreachable()?;
                Ok(())
            }
        }
    }

    /// Leaves a panicking async function: its `defer`s, then the final suspend.
    pub(super) fn unwind(&mut self, state: coroutine::CoroState<'ctx>) -> Result<()> {
        self.run_cleanups(0)?;
        if !self.terminated() {
            self.b.build_unconditional_branch(state.finish)?;
        }
        Ok(())
    }
}
