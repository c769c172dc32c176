//! `async fn`, `await`, `spawn` and sleeping, on top of `coroutine.rs`.
//!
//! An async function is a coroutine like a generator, with two more promise
//! uses: the result (bits of a scalar, or the reference slot) and the
//! continuation slot — the handle of the coroutine awaiting it, kept in the
//! root area so the GC keeps an awaiting caller alive through its callee.
//!
//! `await f(x)` creates the callee (it starts suspended), records the caller
//! as its continuation and transfers to it symmetrically
//! (`llvm.coro.await.suspend.handle`: CoroSplit makes it a tail call of the
//! callee's resume), so await chains of any depth run in constant native
//! stack. An async function's final suspend transfers the same way to its
//! continuation, or to `llvm.coro.noop` — back to the scheduler — when it has
//! none. `await t` on a task registers the continuation and returns to the
//! scheduler; `spawn` puts the new coroutine on the ready queue. The
//! scheduler (runtime `sched`) resumes coroutines only through the
//! `weft_resume` helper defined here, because resume functions use LLVM's
//! internal calling convention.

use super::coroutine::{CoroState, Target};
use super::{impossible, Codegen, Lowered, Result, Value};
use crate::ast::Span;
use crate::check::{AwaitKind, Callee, Type};
use crate::tir::*;
use inkwell::basic_block::BasicBlock;
use inkwell::module::Linkage;
use inkwell::values::{AsValueRef, BasicValueEnum, FunctionValue, IntValue, PointerValue};
use weft_abi::RuntimeFn;

use super::coroutine::{PROMISE_REF, PROMISE_SLOTS, STATE_PANICKED, STATE_SUPERVISED};

/// The continuation's and the child's promise slots. The child slot holds
/// what a suspended coroutine waits on, tagged in its low bits: an awaited
/// call's handle, a joined task's handle (`JOIN_TAG`) or a select
/// (`channel::SELECT_TAG`). Cancellation follows it.
use weft_abi::layout::{SLOT_CHILD as CHILD, SLOT_CONTINUATION as CONTINUATION};
use weft_abi::state::CHILD_JOIN as JOIN_TAG;
use weft_abi::symbols;

/// The functions `llvm.coro.await.suspend.handle` calls with `(target, frame)`.
#[derive(Clone, Copy)]
pub(super) enum Transfer {
    /// Start the awaited callee, which resumes this frame when it finishes.
    Await,
    /// Wait for a task: it resumes this frame when it finishes; the scheduler runs meanwhile.
    Join,
    /// Finished: resume the continuation, or return to the scheduler.
    Final,
}

impl<'ctx> Codegen<'ctx, '_> {
    pub(super) fn transfer_fn(&mut self, kind: Transfer) -> FunctionValue<'ctx> {
        let name = match kind {
            Transfer::Await => "weft.transfer.await",
            Transfer::Join => "weft.transfer.join",
            Transfer::Final => "weft.transfer.final",
        };
        if let Some(f) = self.module.get_function(name) {
            return f;
        }
        let ty = self.raw.fn_type(&[self.raw.into(), self.raw.into()], false);
        let f = self.module.add_function(name, ty, Some(Linkage::Internal));
        self.add_attr(f, "nounwind");
        let saved = self.b.get_insert_block();
        let bb = self.cx.append_basic_block(f, "entry");
        self.b.position_at_end(bb);
        let target = f
            .get_nth_param(0)
            .expect("two parameters")
            .into_pointer_value();
        let frame = f
            .get_nth_param(1)
            .expect("two parameters")
            .into_pointer_value();
        target.set_name("target");
        frame.set_name("frame");
        self.transfer_body(kind, target, frame)
            .expect("building a transfer function");
        if let Some(bb) = saved {
            self.b.position_at_end(bb);
        }
        f
    }

    fn transfer_body(
        &mut self,
        kind: Transfer,
        target: PointerValue<'ctx>,
        frame: PointerValue<'ctx>,
    ) -> Result<()> {
        let noop_fn = self.intrinsic("llvm.coro.noop", &[]);
        match kind {
            Transfer::Await => {
                let slot = self.continuation_slot(target)?;
                self.b.build_store(slot, frame)?;
                let child = self.ref_slot(frame, CHILD)?;
                self.b.build_store(child, target)?;
                self.b.build_return(Some(&target))?;
            }
            Transfer::Join => {
                let slot = self.continuation_slot(target)?;
                self.b.build_store(slot, frame)?;
                let child = self.ref_slot(frame, CHILD)?;
                let tagged = self.tagged(target, JOIN_TAG)?;
                self.b.build_store(child, tagged)?;
                // SAFETY: `llvm.coro.noop` returns a ptr.
                let noop = unsafe { PointerValue::new(self.raw_call(noop_fn, &[], "noop")) };
                self.b.build_return(Some(&noop))?;
            }
            Transfer::Final => {
                let slot = self.continuation_slot(frame)?;
                let next = self
                    .b
                    .build_load(self.raw, slot, "continuation")?
                    .into_pointer_value();
                let none = self.b.build_is_null(next, "no.continuation")?;
                // A panic with nobody to re-raise it ends the process,
                // unless a `tasks.Group` owns the task and re-raises it.
                let sp = self.state_ptr(frame)?;
                let i64t = self.cx.i64_type();
                let st = self.b.build_load(i64t, sp, "state")?.into_int_value();
                let watched = i64t.const_int(STATE_PANICKED | STATE_SUPERVISED, false);
                let bits = self.b.build_and(st, watched, "state.panic")?;
                let panicked = self.b.build_int_compare(
                    inkwell::IntPredicate::EQ,
                    bits,
                    i64t.const_int(STATE_PANICKED, false),
                    "panicked.alone",
                )?;
                let lost = self.b.build_and(none, panicked, "panic.unawaited")?;
                let f = self
                    .b
                    .get_insert_block()
                    .and_then(|b| b.get_parent())
                    .expect("in a function");
                let report = self.cx.append_basic_block(f, "panic.unawaited");
                let go = self.cx.append_basic_block(f, "transfer");
                self.b.build_conditional_branch(lost, report, go)?;
                self.b.position_at_end(report);
                self.call_rt(RuntimeFn::TaskUnawaited, &[frame.into()], "")?;
                self.b.build_unreachable()?;
                self.b.position_at_end(go);
                // SAFETY: as above.
                let noop = unsafe { PointerValue::new(self.raw_call(noop_fn, &[], "noop")) };
                let to = self.b.build_select(none, noop, next, "next")?;
                self.b.build_return(Some(&to))?;
            }
        }
        Ok(())
    }

    pub(super) fn promise_of(&mut self, handle: PointerValue<'ctx>) -> Result<PointerValue<'ctx>> {
        let promise_fn = self.intrinsic("llvm.coro.promise", &[]);
        let align = self.cx.i32_type().const_int(8, false);
        let from = self.cx.bool_type().const_zero();
        // SAFETY: `llvm.coro.promise` returns a ptr.
        Ok(unsafe {
            PointerValue::new(self.raw_call(
                promise_fn,
                &[
                    handle.as_value_ref(),
                    align.as_value_ref(),
                    from.as_value_ref(),
                ],
                "promise",
            ))
        })
    }

    /// The continuation slot in the promise of the coroutine `handle`. It
    /// holds a raw handle; the GC resolves it like any root slot.
    fn continuation_slot(&mut self, handle: PointerValue<'ctx>) -> Result<PointerValue<'ctx>> {
        self.ref_slot(handle, CONTINUATION)
    }

    /// `p + tag`, a handle or reference tagged in its low bits for a child
    /// slot (still inside the object `p` points into).
    pub(super) fn tagged(&mut self, p: PointerValue<'ctx>, tag: u64) -> Result<PointerValue<'ctx>> {
        let off = self.cx.i64_type().const_int(tag, false);
        // SAFETY (LLVM): objects and frames are larger than the tag.
        Ok(unsafe { self.b.build_gep(self.cx.i8_type(), p, &[off], "tagged")? })
    }

    /// Sets (or clears) this coroutine's own child slot.
    pub(super) fn set_child(
        &mut self,
        state: CoroState<'ctx>,
        value: Option<PointerValue<'ctx>>,
    ) -> Result<()> {
        let slot = self.ref_slot(state.handle, CHILD)?;
        match value {
            Some(v) => self.b.build_store(slot, v)?,
            None => self.b.build_store(slot, self.raw.const_null())?,
        };
        Ok(())
    }

    /// Reference slot `index` in the promise of the coroutine `handle`.
    fn ref_slot(&mut self, handle: PointerValue<'ctx>, index: u64) -> Result<PointerValue<'ctx>> {
        let p = self.promise_of(handle)?;
        let pt = self.promise_type();
        let slots = self.b.build_struct_gep(pt, p, PROMISE_REF, "slots")?;
        let i64t = self.cx.i64_type();
        // SAFETY (LLVM): index 1 of the two reference slots.
        unsafe {
            Ok(self.b.build_in_bounds_gep(
                self.gc.array_type(PROMISE_SLOTS),
                slots,
                &[i64t.const_zero(), i64t.const_int(index, false)],
                "promise.slot",
            )?)
        }
    }

    pub(super) fn done(&mut self, handle: PointerValue<'ctx>, name: &str) -> IntValue<'ctx> {
        let done_fn = self.intrinsic("llvm.coro.done", &[]);
        // SAFETY: `llvm.coro.done` returns an i1.
        unsafe { IntValue::new(self.raw_call(done_fn, &[handle.as_value_ref()], name)) }
    }

    /// `await f(x)` or `await t`.
    pub(super) fn await_expr(
        &mut self,
        e: &Expr,
        kind: AwaitKind,
        inner: &Expr,
    ) -> Result<Value<'ctx>> {
        let Some(state) = self.f.coro else {
            return impossible("a shape the checker rules out");
        };
        // `await time.sleep(ms)` suspends this coroutine directly: no frame
        // for `sleep` itself, which matters when a million tasks sleep.
        if let ExprKind::Call {
            callee: Callee::Fn(f),
            args,
            ..
        } = &inner.kind
        {
            if self.typed.fns[*f as usize].symbol == "std.time.sleep" && args.len() == 1 {
                self.park(RuntimeFn::Sleep, &args[0])?;
                return Ok(self.nothing());
            }
        }
        let result_ty = e.ty.clone();
        let kind = Some(kind);
        if kind == Some(AwaitKind::Chan) {
            return self.chan_await(inner);
        }
        let callee = value!(self.expr(inner)?);
        let callee = callee.into_pointer_value();
        if kind == Some(AwaitKind::Call) {
            // Awaited at once and never seen again after it finishes: its
            // frame may live in this coroutine's (CoroAnnotationElide).
            let call = callee.as_value_ref();
            // SAFETY: a plain query of the value's kind.
            if !unsafe { llvm_sys::core::LLVMIsACallInst(call) }.is_null() {
                let kind =
                    inkwell::attributes::Attribute::get_named_enum_kind_id("coro_elide_safe");
                let attr = self.cx.create_enum_attribute(kind, 0);
                // SAFETY: `call` is the call instruction of the async function.
                unsafe {
                    llvm_sys::core::LLVMAddCallSiteAttribute(
                        call,
                        llvm_sys::LLVMAttributeFunctionIndex,
                        attr.as_mut_ptr(),
                    )
                };
            }
        }
        let f = self.func();
        let resume = self.cx.append_basic_block(f, "await.resume");
        if kind == Some(AwaitKind::Call) {
            let wrapper = self.transfer_fn(Transfer::Await);
            self.suspend_with(state, false, resume, Some((Target::Frame(callee), wrapper)))?;
        } else {
            // A task that has finished is not waited for; one that was
            // cancelled panics here (its frame must not be looked at further).
            let h = self.gen_handle(callee)?;
            self.panic_if_cancelled(h, e.span)?;
            // Finished, or ended by a panic in synchronous code.
            let done = self.ended(h)?;
            let wait = self.cx.append_basic_block(f, "await.wait");
            self.b.build_conditional_branch(done, resume, wait)?;
            self.b.position_at_end(wait);
            // One awaiter at a time: a second one would silently replace the first.
            let slot = self.continuation_slot(h)?;
            let waiting = self
                .b
                .build_load(self.raw, slot, "awaiter")?
                .into_pointer_value();
            let taken = self.b.build_is_not_null(waiting, "awaited")?;
            self.panic_if(
                taken,
                "this task is already being awaited by another task",
                e.span,
            )?;
            let wrapper = self.transfer_fn(Transfer::Join);
            self.suspend_with(state, false, resume, Some((Target::Frame(callee), wrapper)))?;
        }
        self.b.position_at_end(resume);
        // A call awaited where no `defer` is pending shares one re-raise
        // block (`shared_reraise`), which finds the callee in the child
        // slot: that slot is cleared only after the check.
        let shared =
            kind == Some(AwaitKind::Call) && !self.has_cleanups() && self.f.caller.is_none();
        if !shared {
            self.set_child(state, None)?;
        }
        if kind == Some(AwaitKind::Task) {
            let h = self.gen_handle(callee)?;
            self.panic_if_cancelled(h, e.span)?;
        }
        // A callee that panicked: its panic becomes this coroutine's.
        let h = self.frame_handle(callee)?;
        let panicked = self.state_has(h, STATE_PANICKED)?;
        let fine = self.cx.append_basic_block(f, "await.ok");
        if shared {
            let reraise = self.shared_reraise(state)?;
            self.b.build_conditional_branch(panicked, reraise, fine)?;
            self.b.position_at_end(fine);
            self.set_child(state, None)?;
        } else {
            // The `defer`s pending here run on this await's own path; a
            // tracked library function's location is its caller's, known
            // at run time.
            let raise = self.cx.append_basic_block(f, "await.reraise");
            self.b.build_conditional_branch(panicked, raise, fine)?;
            self.b.position_at_end(raise);
            let (loc, loc_len) = self.location(e.span)?;
            let joined = (kind == Some(AwaitKind::Task)) as u64;
            let joined = self.cx.i32_type().const_int(joined, false);
            self.reraise(state, h, loc, loc_len, joined)?;
        }
        self.b.position_at_end(fine);
        if self.basic_type(&result_ty).is_none() {
            return Ok(self.nothing());
        }
        // `h` is still good: nothing between the check and here can collect.
        Ok(Lowered::Value(self.result_of(h, &result_ty)?))
    }

    /// Re-raises the panic of the awaited callee `h` at the await's
    /// location (`joined`: whether it joins a task) and unwinds.
    fn reraise(
        &mut self,
        state: CoroState<'ctx>,
        h: PointerValue<'ctx>,
        loc: PointerValue<'ctx>,
        loc_len: IntValue<'ctx>,
        joined: IntValue<'ctx>,
    ) -> Result<()> {
        self.call_rt(
            RuntimeFn::TaskReraise,
            &[
                h.into(),
                state.handle.into(),
                loc.into(),
                loc_len.into(),
                joined.into(),
            ],
            "",
        )?;
        self.unwind(state)
    }

    /// The coroutine's one re-raise block for the awaited calls with no
    /// `defer` pending; the callee is the child slot's (untagged: a call),
    /// and a call's location is not part of the panic (only a task join's
    /// is). A re-raise block per await made huge straight-line coroutines
    /// half as big again, and every LLVM pass over them slower (CoroSplit's
    /// suspend-crossing analysis is quadratic in blocks).
    fn shared_reraise(&mut self, state: CoroState<'ctx>) -> Result<BasicBlock<'ctx>> {
        if let Some(block) = self.f.reraise {
            return Ok(block);
        }
        let here = self.b.get_insert_block().expect("positioned");
        let block = self.cx.append_basic_block(self.func(), "await.reraise");
        self.b.position_at_end(block);
        let child = self.ref_slot(state.handle, CHILD)?;
        let h = self
            .b
            .build_load(self.raw, child, "child")?
            .into_pointer_value();
        self.set_child(state, None)?;
        let nowhere = self.raw.const_null();
        let zero = self.cx.i64_type().const_zero();
        let joined = self.cx.i32_type().const_zero();
        self.reraise(state, h, nowhere, zero, joined)?;
        self.b.position_at_end(here);
        self.f.reraise = Some(block);
        Ok(block)
    }

    /// `spawn f(x)`: the new coroutine goes to the ready queue; its frame is the task.
    pub(super) fn spawn_expr(&mut self, inner: &Expr) -> Result<Value<'ctx>> {
        let task = value!(self.expr(inner)?);
        let h = self.gen_handle(task.into_pointer_value())?;
        self.call_rt(RuntimeFn::TaskReady, &[h.into()], "")?;
        Ok(Lowered::Value(task))
    }

    /// `t.cancel()`: the runtime destroys the task's coroutines at their
    /// suspension points (running their `defer`s) and wakes its awaiter.
    pub(super) fn task_cancel(&mut self, task: PointerValue<'ctx>, span: Span) -> Result<()> {
        let h = self.gen_handle(task)?;
        let me = match self.f.coro {
            Some(state) => state.handle,
            None => self.raw.const_null(),
        };
        let (loc, loc_len) = self.location(span)?;
        self.call_rt(
            RuntimeFn::TaskCancel,
            &[h.into(), me.into(), loc.into(), loc_len.into()],
            "",
        )?;
        Ok(())
    }

    /// `t.done()`: finished, or cancelled.
    pub(super) fn task_done(&mut self, task: PointerValue<'ctx>) -> Result<BasicValueEnum<'ctx>> {
        let h = self.gen_handle(task)?;
        Ok(self.ended(h)?.into())
    }

    /// Awaiting a cancelled task panics with `cancelled`.
    fn panic_if_cancelled(&mut self, h: PointerValue<'ctx>, span: Span) -> Result<()> {
        let cancelled = self.state_has(h, super::coroutine::STATE_CANCELLED)?;
        self.panic_if(cancelled, "cancelled", span)
    }

    /// `return` inside a coroutine: an async function's result goes to the
    /// promise, then control goes to the final suspend.
    pub(super) fn coro_return(&mut self, value: Option<&Expr>, ty: &Type) -> Result<()> {
        let Some(state) = self.f.coro else {
            return Ok(());
        };
        if let Some(value) = value {
            let Lowered::Value(v) = self.expr(value)? else {
                return Ok(());
            };
            if state.is_async {
                self.store_yielded(state, v, ty)?;
            }
        }
        self.run_cleanups(0)?;
        if !self.terminated() {
            self.b.build_unconditional_branch(state.finish)?;
        }
        self.dead_block();
        Ok(())
    }

    /// `__yield()` in `tasks.yield_now`: this coroutine goes to the back of
    /// the ready queue (the scheduler resumes nothing until this resume
    /// returns), then suspends.
    pub(super) fn yield_task(&mut self) -> Result<()> {
        let Some(state) = self.f.coro else {
            return Ok(());
        };
        self.call_rt(RuntimeFn::TaskReady, &[state.handle.into()], "")?;
        let resume = self.cx.append_basic_block(self.func(), "yield.resume");
        self.suspend_with(state, false, resume, None)?;
        self.b.position_at_end(resume);
        Ok(())
    }

    /// `__supervise()` in `tasks.Group`'s tasks: this task's panic, with
    /// nobody awaiting it, leaves it ended instead of ending the process.
    pub(super) fn supervise_self(&mut self) -> Result<()> {
        let Some(state) = self.f.coro else {
            return Ok(());
        };
        let sp = self.state_ptr(state.handle)?;
        let i64t = self.cx.i64_type();
        let st = self.b.build_load(i64t, sp, "state")?.into_int_value();
        let st = self.b.build_or(
            st,
            i64t.const_int(STATE_SUPERVISED, false),
            "state.supervised",
        )?;
        self.b.build_store(sp, st)?;
        Ok(())
    }

    /// `__sleep(ms)` in `time.sleep` (`rf` is `Sleep`: the timer resumes
    /// this coroutine) and `__wait(token)` in `io` (`IoWait`: the I/O
    /// operation's completion does): hands the runtime this coroutine's
    /// handle with the argument, then suspends.
    pub(super) fn park(&mut self, rf: RuntimeFn, arg: &Expr) -> Result<()> {
        let Some(state) = self.f.coro else {
            return Ok(());
        };
        let Lowered::Value(arg) = self.expr(arg)? else {
            return Ok(());
        };
        self.call_rt(rf, &[arg.into(), state.handle.into()], "")?;
        let resume = self.cx.append_basic_block(self.func(), "park.resume");
        self.suspend_with(state, false, resume, None)?;
        self.b.position_at_end(resume);
        Ok(())
    }

    /// `weft_resume` and `weft_coro_done`: how the runtime's scheduler drives
    /// coroutines.
    pub(super) fn scheduler_helpers(&mut self) -> Result<()> {
        let void = self.cx.void_type();
        let resume = self.module.add_function(
            symbols::RESUME,
            void.fn_type(&[self.raw.into()], false),
            None,
        );
        self.add_attr(resume, "nounwind");
        let bb = self.cx.append_basic_block(resume, "entry");
        self.b.position_at_end(bb);
        let h = resume
            .get_nth_param(0)
            .expect("one parameter")
            .into_pointer_value();
        let resume_fn = self.intrinsic("llvm.coro.resume", &[]);
        self.raw_call(resume_fn, &[h.as_value_ref()], "");
        self.b.build_return(None)?;

        let destroy = self.module.add_function(
            symbols::CORO_DESTROY,
            void.fn_type(&[self.raw.into()], false),
            None,
        );
        self.add_attr(destroy, "nounwind");
        let bb = self.cx.append_basic_block(destroy, "entry");
        self.b.position_at_end(bb);
        let h = destroy
            .get_nth_param(0)
            .expect("one parameter")
            .into_pointer_value();
        let destroy_fn = self.intrinsic("llvm.coro.destroy", &[]);
        self.raw_call(destroy_fn, &[h.as_value_ref()], "");
        self.b.build_return(None)?;

        let i32t = self.cx.i32_type();
        if !self.layout.ptr32 {
            self.resume_guarded()?;
        }
        let done = self.module.add_function(
            symbols::CORO_DONE,
            i32t.fn_type(&[self.raw.into()], false),
            None,
        );
        self.add_attr(done, "nounwind");
        let bb = self.cx.append_basic_block(done, "entry");
        self.b.position_at_end(bb);
        let h = done
            .get_nth_param(0)
            .expect("one parameter")
            .into_pointer_value();
        let d = self.done(h, "done");
        let wide = self.b.build_int_z_extend(d, i32t, "done")?;
        self.b.build_return(Some(&wide))?;
        Ok(())
    }

    /// `weft_resume_guarded(h, env)` (native): `_setjmp(env)`, then resume
    /// `h`; returns 1 when a panic in synchronous code jumped back.
    fn resume_guarded(&mut self) -> Result<()> {
        let i32t = self.cx.i32_type();
        let setjmp = self.module.add_function(
            "_setjmp",
            i32t.fn_type(&[self.raw.into()], false),
            Some(Linkage::External),
        );
        self.add_attr(setjmp, "returns_twice");
        let f = self.module.add_function(
            symbols::RESUME_GUARDED,
            i32t.fn_type(&[self.raw.into(), self.raw.into()], false),
            None,
        );
        self.add_attr(f, "nounwind");
        let bb = self.cx.append_basic_block(f, "entry");
        self.b.position_at_end(bb);
        let h = f
            .get_nth_param(0)
            .expect("two parameters")
            .into_pointer_value();
        let env = f
            .get_nth_param(1)
            .expect("two parameters")
            .into_pointer_value();
        let r = self
            .b
            .build_call(setjmp, &[env.into()], "jumped")?
            .try_as_basic_value()
            .basic()
            .expect("an i32")
            .into_int_value();
        let first =
            self.b
                .build_int_compare(inkwell::IntPredicate::EQ, r, i32t.const_zero(), "first")?;
        let go = self.cx.append_basic_block(f, "resume");
        let caught = self.cx.append_basic_block(f, "panicked");
        self.b.build_conditional_branch(first, go, caught)?;
        self.b.position_at_end(go);
        let resume_fn = self.intrinsic("llvm.coro.resume", &[]);
        self.raw_call(resume_fn, &[h.as_value_ref()], "");
        self.b.build_return(Some(&i32t.const_zero()))?;
        self.b.position_at_end(caught);
        self.b.build_return(Some(&i32t.const_int(1, false)))?;
        Ok(())
    }

    /// `weft_main` for `async fn main`: create main's coroutine, run the scheduler.
    pub(super) fn run_async_main(&mut self, main: FunctionValue<'ctx>) -> Result<()> {
        let frame = self
            .b
            .build_call(main, &[], "main")?
            .try_as_basic_value()
            .basic()
            .expect("a frame");
        let h = self.gen_handle(frame.into_pointer_value())?;
        self.call_rt(RuntimeFn::RunAsyncMain, &[h.into()], "")?;
        Ok(())
    }
}
