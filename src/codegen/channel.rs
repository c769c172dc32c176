//! Channels and `select`, over the runtime's `chan` module.
//!
//! A channel operation first tries the non-blocking runtime call (no
//! allocation, no suspension: the common case when a partner is already
//! waiting or the buffer has room). Only when it would block does it build a
//! one-arm select, the same object a `select` statement builds: the runtime
//! enqueues a waiter per arm, and whichever arm fires makes this coroutine
//! ready again after unlinking the other waiters. A plain send or receive
//! hands the runtime its coroutine's previous one-arm select to reuse, so a
//! task that blocks again and again allocates nothing. While suspended, the
//! coroutine's child slot holds the select (tagged `SELECT_TAG`) so that
//! cancelling the task can take its waiters out of the channels.

use super::{impossible, Codegen, Lowered, Result, Value};
use crate::ast::Span;
use crate::check::{SelectOp, Type};
use crate::tir::*;
use inkwell::values::{BasicMetadataValueEnum, BasicValueEnum, IntValue, PointerValue};
use inkwell::IntPredicate;
use weft_abi::RuntimeFn;

/// The status codes of every channel operation (`weft_abi::status`).
const DONE: u64 = status::DONE as u64;
const CLOSED: u64 = status::CLOSED as u64;
const WOULD_BLOCK: u64 = status::WOULD_BLOCK as u64;
/// The child-slot tag of a select the coroutine waits on.
pub(super) use weft_abi::state::CHILD_SELECT as SELECT_TAG;
use weft_abi::status;

impl<'ctx> Codegen<'ctx, '_> {
    /// `Chan[T](capacity)`.
    pub(super) fn chan_new(&mut self, e: &Expr, args: &[Expr]) -> Result<Value<'ctx>> {
        let Type::Chan(elem) = e.ty.clone() else {
            return impossible("a shape the checker rules out");
        };
        let Some(cap) = args.first() else {
            return impossible("a shape the checker rules out");
        };
        let n = value!(self.expr(cap)?);
        let n = n.into_int_value();
        let negative = self.b.build_int_compare(
            IntPredicate::SLT,
            n,
            self.cx.i64_type().const_zero(),
            "cap.negative",
        )?;
        self.panic_if(
            negative,
            "a channel's capacity cannot be negative",
            cap.span,
        )?;
        let is_ref = self.cx.i32_type().const_int(elem.is_ref() as u64, false);
        let (loc, loc_len) = self.location(cap.span)?;
        self.rt_value(
            RuntimeFn::ChanNew,
            &[n.into(), is_ref.into(), loc.into(), loc_len.into()],
            "chan",
        )
    }

    /// The channel and its element type in `ch.op(...)`.
    fn chan_of(&mut self, call: &Expr) -> Result<Option<(PointerValue<'ctx>, Type)>> {
        // `None`: the channel expression diverged.
        let ExprKind::Call {
            receiver: Some(base),
            ..
        } = &call.kind
        else {
            return impossible("a channel operation without a receiver");
        };
        // A `select` arm may wait on a `Chan[T]?`: the same reference, and
        // the runtime never fires an arm whose channel is null.
        let elem = match &base.ty {
            Type::Chan(elem) => (**elem).clone(),
            Type::Optional(ch) => match &**ch {
                Type::Chan(elem) => (**elem).clone(),
                _ => return impossible("a channel operation on a non-channel"),
            },
            _ => return impossible("a channel operation on a non-channel"),
        };
        Ok(self
            .expr(base)?
            .value()
            .map(|c| (c.into_pointer_value(), elem)))
    }

    /// `ch.close()`.
    pub(super) fn chan_close(&mut self, call: &Expr) -> Result<Value<'ctx>> {
        let Some((ch, _)) = self.chan_of(call)? else {
            return Ok(Lowered::Diverged);
        };
        let st = self.rt_int(RuntimeFn::ChanClose, &[ch.into()], "close")?;
        self.panic_on(st, CLOSED, "close of a closed channel", call.span)?;
        Ok(self.nothing())
    }

    /// `await ch.send(v)` / `await ch.recv()`.
    pub(super) fn chan_await(&mut self, call: &Expr) -> Result<Value<'ctx>> {
        let ExprKind::Call { args, .. } = &call.kind else {
            return impossible("a shape the checker rules out");
        };
        let Some((ch, elem)) = self.chan_of(call)? else {
            return Ok(Lowered::Diverged);
        };
        let out = self.out_slot("chan.out")?;
        if let Some(value) = args.first() {
            let v = value!(self.expr(value)?);
            let f = self.func();
            let slow = self.cx.append_basic_block(f, "chan.wait");
            let end = self.cx.append_basic_block(f, "chan.end");
            let bits = self.value_bits(v, &elem)?;
            let st = self.rt_int(RuntimeFn::ChanTrySend, &[ch.into(), bits.into()], "send")?;
            self.panic_on(st, CLOSED, "send on a closed channel", call.span)?;
            let done = self.is(st, DONE, "sent")?;
            self.b.build_conditional_branch(done, end, slow)?;
            self.b.position_at_end(slow);
            // The bits again: the reference is reloaded after the try.
            let bits = self.value_bits(v, &elem)?;
            let sel = self.wait_one(RuntimeFn::SelectOneSend, ch, Some(bits))?;
            let st = self.rt_int(RuntimeFn::SelectResult, &[sel.into(), out.into()], "sent")?;
            self.panic_on(st, CLOSED, "send on a closed channel", call.span)?;
            self.b.build_unconditional_branch(end)?;
            self.b.position_at_end(end);
            return Ok(self.nothing());
        }
        let st = self.recv_status(ch, out)?;
        Ok(Lowered::Value(self.received(st, out, &elem)?))
    }

    /// A blocking send or receive (`rf`: `SelectOneSend`/`SelectOneRecv`) on
    /// the coroutine's reused one-arm select: waits until it fires.
    fn wait_one(
        &mut self,
        rf: RuntimeFn,
        ch: PointerValue<'ctx>,
        bits: Option<IntValue<'ctx>>,
    ) -> Result<PointerValue<'ctx>> {
        let cache = self.chan_cache()?;
        let last = self.b.build_load(self.gc, cache, "last.select")?;
        let handle = self.f.coro.expect("in an async function").handle;
        let mut args: Vec<BasicMetadataValueEnum<'ctx>> =
            vec![last.into(), handle.into(), ch.into()];
        if let Some(bits) = bits {
            args.push(bits.into());
        }
        let sel = self
            .call_rt(rf, &args, "select")?
            .expect("a select")
            .into_pointer_value();
        self.b.build_store(cache, sel)?;
        self.select_wait(sel)?;
        Ok(sel)
    }

    /// The receive half of `chan_await`: the status (`DONE` with the value's
    /// bits in `out`, or closed), trying first and waiting only if needed.
    fn recv_status(
        &mut self,
        ch: PointerValue<'ctx>,
        out: PointerValue<'ctx>,
    ) -> Result<IntValue<'ctx>> {
        let f = self.func();
        let slow = self.cx.append_basic_block(f, "chan.wait");
        let end = self.cx.append_basic_block(f, "chan.end");
        let st = self.rt_int(RuntimeFn::ChanTryRecv, &[ch.into(), out.into()], "recv")?;
        let fast = self.b.get_insert_block().expect("positioned");
        let would_block = self.is(st, WOULD_BLOCK, "would.block")?;
        self.b.build_conditional_branch(would_block, slow, end)?;
        self.b.position_at_end(slow);
        let sel = self.wait_one(RuntimeFn::SelectOneRecv, ch, None)?;
        let st2 = self.rt_int(
            RuntimeFn::SelectResult,
            &[sel.into(), out.into()],
            "received",
        )?;
        let slow_end = self.b.get_insert_block().expect("positioned");
        self.b.build_unconditional_branch(end)?;
        self.b.position_at_end(end);
        let phi = self.b.build_phi(self.cx.i32_type(), "recv.status")?;
        phi.add_incoming(&[(&st, fast), (&st2, slow_end)]);
        Ok(phi.as_basic_value().into_int_value())
    }

    /// `await ch.recv()` as its parts, without boxing the `T?`: for `x!`,
    /// `if let` and `while let` on a receive (the common forms, and every
    /// `int?` box saved is an allocation saved).
    pub(super) fn recv_parts(
        &mut self,
        e: &Expr,
    ) -> Result<Option<(IntValue<'ctx>, PointerValue<'ctx>, Type)>> {
        let ExprKind::Await(_, call) = &e.kind else {
            return Ok(None);
        };
        let is_recv = matches!(
            call.kind,
            ExprKind::Call {
                callee: crate::check::Callee::ChanRecv,
                ..
            }
        );
        if !is_recv || self.f.coro.is_none() {
            return Ok(None);
        }
        let Some((ch, elem)) = self.chan_of(call)? else {
            return Ok(None);
        };
        let out = self.out_slot("chan.out")?;
        let st = self.recv_status(ch, out)?;
        let got = self.is(st, DONE, "got")?;
        Ok(Some((got, out, elem)))
    }

    /// `T?` from a receive's status and bits: nil once the channel is closed.
    fn received(
        &mut self,
        st: IntValue<'ctx>,
        out: PointerValue<'ctx>,
        elem: &Type,
    ) -> Result<BasicValueEnum<'ctx>> {
        let f = self.func();
        let result = self.entry_alloca(self.gc.into(), "recv.value")?;
        self.b.build_store(result, self.gc.const_null())?;
        let got = self.is(st, DONE, "got")?;
        let take = self.cx.append_basic_block(f, "recv.take");
        let after = self.cx.append_basic_block(f, "recv.after");
        self.b.build_conditional_branch(got, take, after)?;
        self.b.position_at_end(take);
        let v = self.read_out(out, elem)?;
        let wrapped = self.wrap_optional(v, elem)?;
        self.b.build_store(result, wrapped)?;
        self.b.build_unconditional_branch(after)?;
        self.b.position_at_end(after);
        Ok(self.b.build_load(self.gc, result, "recv")?)
    }

    /// `select { ... }`; with a `default` arm it polls instead of waiting.
    pub(super) fn select(
        &mut self,
        arms: &[SelectArm],
        default: Option<&Block>,
    ) -> Result<Value<'ctx>> {
        let f = self.func();
        let i64t = self.cx.i64_type();
        let sel = self.select_new(arms.len() as u64)?;
        for (i, arm) in arms.iter().enumerate() {
            let idx = i64t.const_int(i as u64, false);
            let op = arm.kind;
            let ExprKind::Call { args, .. } = &arm.op.kind else {
                return impossible("a shape the checker rules out");
            };
            match op {
                SelectOp::After => {
                    let ms = value!(self.expr(&args[0])?);
                    self.call_rt(
                        RuntimeFn::SelectAfter,
                        &[sel.into(), idx.into(), ms.into()],
                        "",
                    )?;
                }
                SelectOp::Recv => {
                    let Some((ch, _)) = self.chan_of(&arm.op)? else {
                        return Ok(Lowered::Diverged);
                    };
                    self.call_rt(
                        RuntimeFn::SelectRecv,
                        &[sel.into(), idx.into(), ch.into()],
                        "",
                    )?;
                }
                SelectOp::Send => {
                    let Some((ch, elem)) = self.chan_of(&arm.op)? else {
                        return Ok(Lowered::Diverged);
                    };
                    let v = value!(self.expr(&args[0])?);
                    let bits = self.value_bits(v, &elem)?;
                    self.call_rt(
                        RuntimeFn::SelectSend,
                        &[sel.into(), idx.into(), ch.into(), bits.into()],
                        "",
                    )?;
                }
            }
        }
        let fired = match default {
            Some(_) => self.rt_int(RuntimeFn::SelectPoll, &[sel.into()], "fired")?,
            None => self.select_wait(sel)?,
        };
        let out = self.out_slot("select.out")?;
        let end = self.cx.append_basic_block(f, "select.end");
        let mut cases = Vec::new();
        for i in 0..arms.len() {
            let bb = self.cx.append_basic_block(f, &format!("select.arm{i}"));
            cases.push((i64t.const_int(i as u64, false), bb));
        }
        let name = if default.is_some() {
            "select.default"
        } else {
            "select.none"
        };
        let otherwise = self.cx.append_basic_block(f, name);
        self.b.build_switch(fired, otherwise, &cases)?;
        self.b.position_at_end(otherwise);
        match default {
            // Nothing was ready (the poll said -1).
            Some(body) => {
                self.push_scope();
                self.block(body)?;
                self.pop_scope()?;
                if !self.terminated() {
                    self.b.build_unconditional_branch(end)?;
                }
            }
            None => {
                self.b.build_unreachable()?;
            }
        }
        for (arm, (_, bb)) in arms.iter().zip(cases) {
            self.b.position_at_end(bb);
            let op = arm.kind;
            self.push_scope();
            let st = self.rt_int(RuntimeFn::SelectResult, &[sel.into(), out.into()], "result")?;
            match op {
                SelectOp::Recv => {
                    let elem = match &arm.op.ty {
                        Type::Optional(t) => (**t).clone(),
                        _ => Type::Error,
                    };
                    let v = self.received(st, out, &elem)?;
                    if let Some(local) = arm.binding {
                        self.declare_local(local, Some(v))?;
                    }
                }
                SelectOp::Send => {
                    self.panic_on(st, CLOSED, "send on a closed channel", arm.op.span)?;
                }
                SelectOp::After => {}
            }
            self.block(&arm.body)?;
            self.pop_scope()?;
            if !self.terminated() {
                self.b.build_unconditional_branch(end)?;
            }
        }
        self.b.position_at_end(end);
        Ok(self.nothing())
    }

    /// The slot of this coroutine's last one-arm select (null at first).
    fn chan_cache(&mut self) -> Result<PointerValue<'ctx>> {
        if let Some(slot) = self.f.chan_cache {
            return Ok(slot);
        }
        let slot = self.entry_alloca(self.gc.into(), "chan.cache")?;
        let state = self.f.coro.expect("in an async function");
        let after = state
            .begin
            .get_next_instruction()
            .expect("code follows coro.begin");
        let init = self.cx.create_builder();
        init.position_before(&after);
        init.build_store(slot, self.gc.const_null())?;
        self.f.chan_cache = Some(slot);
        Ok(slot)
    }

    fn select_new(&mut self, arms: u64) -> Result<PointerValue<'ctx>> {
        // Outside a coroutine only a polling select (`default`) is made:
        // nothing waits, so there is nobody to wake.
        let handle = match self.f.coro {
            Some(state) => state.handle,
            None => self.raw.const_null(),
        };
        let n = self.cx.i64_type().const_int(arms, false);
        Ok(self
            .call_rt(RuntimeFn::SelectNew, &[n.into(), handle.into()], "select")?
            .expect("a select")
            .into_pointer_value())
    }

    /// Starts a select and, when no arm can proceed yet, suspends until one
    /// fires; returns the arm that did.
    fn select_wait(&mut self, sel: PointerValue<'ctx>) -> Result<IntValue<'ctx>> {
        let state = self
            .f
            .coro
            .expect("channel operations are in async functions");
        let f = self.func();
        let r = self.rt_int(RuntimeFn::SelectStart, &[sel.into()], "fired")?;
        let start = self.b.get_insert_block().expect("positioned");
        let negative = self.b.build_int_compare(
            IntPredicate::SLT,
            r,
            self.cx.i64_type().const_zero(),
            "must.wait",
        )?;
        let wait = self.cx.append_basic_block(f, "select.wait");
        let resume = self.cx.append_basic_block(f, "select.resume");
        let after = self.cx.append_basic_block(f, "select.fired");
        self.b.build_conditional_branch(negative, wait, after)?;
        self.b.position_at_end(wait);
        let tagged = self.tagged(sel, SELECT_TAG)?;
        self.set_child(state, Some(tagged))?;
        self.suspend_with(state, false, resume, None)?;
        self.b.position_at_end(resume);
        self.set_child(state, None)?;
        let r2 = self.rt_int(RuntimeFn::SelectFired, &[sel.into()], "fired")?;
        let resumed = self.b.get_insert_block().expect("positioned");
        self.b.build_unconditional_branch(after)?;
        self.b.position_at_end(after);
        let phi = self.b.build_phi(self.cx.i64_type(), "arm")?;
        phi.add_incoming(&[(&r, start), (&r2, resumed)]);
        Ok(phi.as_basic_value().into_int_value())
    }

    fn rt_int(
        &mut self,
        rf: RuntimeFn,
        args: &[BasicMetadataValueEnum<'ctx>],
        name: &str,
    ) -> Result<IntValue<'ctx>> {
        Ok(self
            .call_rt(rf, args, name)?
            .expect("an integer result")
            .into_int_value())
    }

    fn is(&mut self, v: IntValue<'ctx>, code: u64, name: &str) -> Result<IntValue<'ctx>> {
        let c = v.get_type().const_int(code, false);
        Ok(self.b.build_int_compare(IntPredicate::EQ, v, c, name)?)
    }

    /// Panics with `msg` when the status `v` is `code`.
    fn panic_on(&mut self, v: IntValue<'ctx>, code: u64, msg: &str, span: Span) -> Result<()> {
        let bad = self.is(v, code, "bad")?;
        self.panic_if(bad, msg, span)
    }
}
