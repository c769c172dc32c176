//! Generators as LLVM switched-resume coroutines.
//!
//! A `gen fn` becomes a coroutine: `llvm.coro.id` with a promise, the frame
//! from `weft_coro_alloc` (a GC object of kind FRAME; the call never
//! collects, so nothing needs rooting before `llvm.coro.begin`), an initial
//! suspend (calling a generator runs none of its body), one `llvm.coro.suspend`
//! per `yield`, and a real final suspend (LLVM 22's `.noalloc` ramps mishandle
//! a final suspend that does not suspend). LLVM's CoroSplit builds the frame
//! and the resume/destroy functions; we never write a state machine.
//!
//! The promise is `{ i32 count, i32 slots_offset, i64 value, i64 state,
//! [3 x ref] }`: the root-area header the GC reads, the bits of a yielded
//! scalar, the task state (cancelled, panicked: the runtime reads it too) and
//! three root slots: the yielded reference or result, the continuation and
//! the child (what the coroutine waits on); the gc-frame-spill pass appends the slots
//! for the generator's own GC values. A `Gen[T]` value is the reference to the
//! FRAME object; its coroutine handle is 24 bytes in (header, size word).
//! Frames are reclaimed by the GC, so `llvm.coro.free` frees nothing.

use super::{Codegen, Lowered, Result};
use crate::ast::Span;
use crate::check::{FnId, LocalId, Type};
use crate::tir::*;
use inkwell::attributes::{Attribute, AttributeLoc};
use inkwell::basic_block::BasicBlock;
use inkwell::intrinsics::Intrinsic;
use inkwell::types::{BasicTypeEnum, StructType};
use inkwell::values::{
    AsValueRef, BasicValueEnum, FunctionValue, InstructionValue, IntValue, PointerValue,
};
use llvm_sys::core as llvm;
use llvm_sys::prelude::LLVMValueRef;
use weft_abi::RuntimeFn;

// The ABI's layouts and bits (`weft_abi`), under the names codegen uses.
use weft_abi::layout::{self, promise_field, FRAME_OFFSET};
pub(super) use weft_abi::state::{
    CANCELLED as STATE_CANCELLED, ELIDED_TAG, PANICKED as STATE_PANICKED, RUNNING as STATE_RUNNING,
    SUPERVISED as STATE_SUPERVISED,
};
use weft_abi::symbols;
/// Promise fields, by index in codegen's promise struct: the bits of a
/// yielded scalar, the task state word and the reference slots.
const PROMISE_VALUE: u32 = promise_field(layout::PROMISE_VALUE);
pub(super) const PROMISE_STATE: u32 = promise_field(layout::PROMISE_STATE);
pub(super) const PROMISE_REF: u32 = promise_field(layout::PROMISE_REFS);
/// The promise's reserved reference slots: result, continuation, child.
pub(super) const PROMISE_SLOTS: u32 = layout::PROMISE_SLOTS as u32;

/// What codegen keeps while it emits a coroutine's body.
#[derive(Clone, Copy)]
pub(super) struct CoroState<'ctx> {
    promise: PointerValue<'ctx>,
    promise_type: StructType<'ctx>,
    /// `llvm.coro.suspend`'s "destroy" edge and the path to `coro.end`.
    cleanup: BasicBlock<'ctx>,
    suspend: BasicBlock<'ctx>,
    /// The final suspend: `return` and the end of the body go here.
    pub(super) finish: BasicBlock<'ctx>,
    /// This coroutine's own handle.
    pub(super) handle: PointerValue<'ctx>,
    pub(super) is_async: bool,
    /// `llvm.coro.begin`: per-coroutine state is initialised right after it.
    pub(super) begin: InstructionValue<'ctx>,
}

impl<'ctx> Codegen<'ctx, '_> {
    pub(super) fn promise_type(&self) -> StructType<'ctx> {
        let i32t = self.cx.i32_type();
        self.cx.struct_type(
            &[
                i32t.into(),
                i32t.into(),
                self.cx.i64_type().into(),
                self.cx.i64_type().into(),
                self.gc.array_type(PROMISE_SLOTS).into(),
            ],
            false,
        )
    }

    pub(super) fn intrinsic(
        &self,
        name: &str,
        overloads: &[BasicTypeEnum<'ctx>],
    ) -> FunctionValue<'ctx> {
        Intrinsic::find(name)
            .and_then(|i| i.get_declaration(&self.module, overloads))
            .unwrap_or_else(|| panic!("LLVM 22 declares {name}"))
    }

    /// A call with raw operands: coroutine intrinsics take and return tokens,
    /// which inkwell's value types cannot hold.
    pub(super) fn raw_call(
        &self,
        f: FunctionValue<'ctx>,
        args: &[LLVMValueRef],
        name: &str,
    ) -> LLVMValueRef {
        let name = std::ffi::CString::new(name).unwrap_or_default();
        let mut args = args.to_vec();
        // SAFETY: `f` is a declared function of this module, the builder is
        // positioned, and the operands match the intrinsic's signature.
        unsafe {
            llvm::LLVMBuildCall2(
                self.b.as_mut_ptr(),
                llvm::LLVMGlobalGetValueType(f.as_value_ref()),
                f.as_value_ref(),
                args.as_mut_ptr(),
                args.len() as u32,
                name.as_ptr(),
            )
        }
    }

    pub(super) fn token_none(&self) -> LLVMValueRef {
        // SAFETY: the null value of the token type is `token none`.
        unsafe { llvm::LLVMConstNull(llvm::LLVMTokenTypeInContext(self.cx.raw())) }
    }

    /// The coroutine handle inside a `Gen[T]` reference.
    pub(super) fn gen_handle(&mut self, gen: PointerValue<'ctx>) -> Result<PointerValue<'ctx>> {
        let raw = if self.layout.gc_address_space == 0 {
            gen
        } else {
            self.b.build_address_space_cast(gen, self.raw, "gen.raw")?
        };
        let off = self.cx.i64_type().const_int(FRAME_OFFSET, false);
        // SAFETY (LLVM): the frame lies inside the FRAME object.
        unsafe {
            Ok(self
                .b
                .build_in_bounds_gep(self.cx.i8_type(), raw, &[off], "gen.handle")?)
        }
    }

    /// The handle of an awaited call's coroutine, whose reference may be an
    /// elided frame's tagged handle rather than a FRAME object.
    pub(super) fn frame_handle(&mut self, r: PointerValue<'ctx>) -> Result<PointerValue<'ctx>> {
        let raw = if self.layout.gc_address_space == 0 {
            r
        } else {
            self.b.build_address_space_cast(r, self.raw, "call.raw")?
        };
        let i64t = self.cx.i64_type();
        let bits = self.b.build_ptr_to_int(raw, i64t, "call.bits")?;
        let tag = self
            .b
            .build_and(bits, i64t.const_int(ELIDED_TAG, false), "call.tag")?;
        let elided = self.b.build_int_compare(
            inkwell::IntPredicate::NE,
            tag,
            i64t.const_zero(),
            "call.elided",
        )?;
        let off = self.b.build_select(
            elided,
            i64t.const_int((-(ELIDED_TAG as i64)) as u64, true),
            i64t.const_int(FRAME_OFFSET, false),
            "call.offset",
        )?;
        // SAFETY (LLVM): either way the result is the frame's start.
        unsafe {
            Ok(self.b.build_gep(
                self.cx.i8_type(),
                raw,
                &[off.into_int_value()],
                "call.handle",
            )?)
        }
    }

    /// A suspend point: `final` for the last one. Continues in `resume` when
    /// the coroutine is resumed.
    fn suspend(
        &mut self,
        state: CoroState<'ctx>,
        is_final: bool,
        resume: BasicBlock<'ctx>,
    ) -> Result<()> {
        self.suspend_with(state, is_final, resume, None)
    }

    /// A suspend point that may first transfer control symmetrically: the
    /// wrapper gets `(target, this frame)` and returns the handle to resume.
    /// A target given as a GC reference is turned into its handle after
    /// `llvm.coro.save`, so only the (rooted) reference crosses the save.
    pub(super) fn suspend_with(
        &mut self,
        state: CoroState<'ctx>,
        is_final: bool,
        resume: BasicBlock<'ctx>,
        transfer: Option<(Target<'ctx>, FunctionValue<'ctx>)>,
    ) -> Result<()> {
        let suspend = self.intrinsic("llvm.coro.suspend", &[]);
        let flag = self.cx.bool_type().const_int(is_final as u64, false);
        let save = match transfer {
            Some((target, wrapper)) => {
                let save_fn = self.intrinsic("llvm.coro.save", &[]);
                let save = self.raw_call(save_fn, &[state.handle.as_value_ref()], "save");
                let target = match target {
                    Target::Handle(h) => h,
                    Target::Frame(r) => self.frame_handle(r)?,
                };
                let await_fn = self.intrinsic("llvm.coro.await.suspend.handle", &[]);
                let wrapper = wrapper.as_global_value().as_pointer_value();
                self.raw_call(
                    await_fn,
                    &[
                        target.as_value_ref(),
                        state.handle.as_value_ref(),
                        wrapper.as_value_ref(),
                    ],
                    "",
                );
                save
            }
            None => self.token_none(),
        };
        let r = self.raw_call(suspend, &[save, flag.as_value_ref()], "suspend");
        // SAFETY: `llvm.coro.suspend` returns an i8.
        let r = unsafe { IntValue::new(r) };
        let destroy = self.destroy_edge(state.cleanup)?;
        if state.is_async && !is_final {
            // Resumed: this coroutine runs now (see the runtime's `weft_running`).
            let here = self.b.get_insert_block().expect("positioned");
            self.b.position_at_end(resume);
            let running = self.running_global();
            self.b.build_store(running, state.handle)?;
            self.b.position_at_end(here);
        }
        let i8t = self.cx.i8_type();
        let switch = self.b.build_switch(
            r,
            state.suspend,
            &[
                (i8t.const_int(0, false), resume),
                (i8t.const_int(1, false), destroy),
            ],
        )?;
        if !is_final {
            // A suspended coroutine is almost always resumed, rarely
            // destroyed: what follows a suspend is as hot as what precedes
            // it. CoroAnnotationElide elides awaited calls only in blocks
            // that are frequent enough.
            let i32t = self.cx.i32_type();
            let weights = self.cx.metadata_node(&[
                self.cx.metadata_string("branch_weights").into(),
                i32t.const_int(1, false).into(),
                i32t.const_int(2000, false).into(),
                i32t.const_int(1, false).into(),
            ]);
            let prof = self.cx.get_kind_id("prof");
            switch
                .set_metadata(weights, prof)
                .expect("metadata on an instruction");
        }
        Ok(())
    }

    /// `__running()`: `weft_running` as an int, from the runtime (an
    /// identity for its owner links; an int the runtime returns is no
    /// pointer to the GC pass, which a `ptrtoint` here would be on wasm32).
    pub(super) fn running_handle(&mut self) -> Result<IntValue<'ctx>> {
        match self.call_rt(RuntimeFn::TaskRunning, &[], "running")? {
            Some(v) => Ok(v.into_int_value()),
            None => super::impossible("weft_task_running returns an int"),
        }
    }

    /// `weft_running`, the runtime's record of the async coroutine running.
    fn running_global(&mut self) -> PointerValue<'ctx> {
        if let Some(g) = self.module.get_global(symbols::RUNNING) {
            return g.as_pointer_value();
        }
        let g = self.module.add_global(self.raw, None, symbols::RUNNING);
        g.set_linkage(inkwell::module::Linkage::External);
        g.as_pointer_value()
    }

    /// The body of a `gen fn` or an `async fn`.
    pub(super) fn coroutine(&mut self, id: FnId, body: &Block) -> Result<()> {
        let is_async = self.typed.fns[id as usize].is_async;
        let f = self.m.fns[id as usize];
        let kind = Attribute::get_named_enum_kind_id("presplitcoroutine");
        f.add_attribute(
            AttributeLoc::Function,
            self.cx.create_enum_attribute(kind, 0),
        );
        let promise_type = self.promise_type();
        let promise = self.entry_alloca(promise_type.into(), "promise")?;
        let i32t = self.cx.i32_type();
        let null = self.raw.const_null();
        let coro_id = self.intrinsic("llvm.coro.id", &[]);
        let token = self.raw_call(
            coro_id,
            &[
                i32t.const_int(8, false).as_value_ref(),
                promise.as_value_ref(),
                null.as_value_ref(),
                null.as_value_ref(),
            ],
            "coro.id",
        );
        // A generator's frame is always a heap object: no `llvm.coro.alloc`,
        // so CoroElide never moves it into a caller's frame. An async
        // function's may be elided into its awaiting caller's frame (calls
        // marked `coro_elide_safe`, see `await_expr`): its `.noalloc` ramp,
        // where `llvm.coro.alloc` is false, gets the memory from the caller.
        let coro_size = self.intrinsic("llvm.coro.size", &[self.cx.i64_type().into()]);
        let need_alloc = if is_async {
            let coro_alloc = self.intrinsic("llvm.coro.alloc", &[]);
            // SAFETY: `llvm.coro.alloc` returns an i1.
            Some(unsafe { IntValue::new(self.raw_call(coro_alloc, &[token], "coro.need.alloc")) })
        } else {
            None
        };
        let mem = match need_alloc {
            None => {
                // SAFETY: `llvm.coro.size.i64` returns an i64.
                let size = unsafe { IntValue::new(self.raw_call(coro_size, &[], "coro.size")) };
                self.call_rt(RuntimeFn::CoroAlloc, &[size.into()], "coro.mem")?
                    .expect("a frame")
                    .into_pointer_value()
            }
            Some(need) => {
                let entry_end = self.b.get_insert_block().expect("positioned");
                let alloc_bb = self.cx.append_basic_block(f, "coro.alloc");
                let begin_bb = self.cx.append_basic_block(f, "coro.begin");
                self.b.build_conditional_branch(need, alloc_bb, begin_bb)?;
                self.b.position_at_end(alloc_bb);
                // SAFETY: `llvm.coro.size.i64` returns an i64.
                let size = unsafe { IntValue::new(self.raw_call(coro_size, &[], "coro.size")) };
                let heap = self
                    .call_rt(RuntimeFn::CoroAlloc, &[size.into()], "coro.mem")?
                    .expect("a frame")
                    .into_pointer_value();
                self.b.build_unconditional_branch(begin_bb)?;
                self.b.position_at_end(begin_bb);
                let phi = self.b.build_phi(self.raw, "coro.mem")?;
                phi.add_incoming(&[(&self.raw.const_null(), entry_end), (&heap, alloc_bb)]);
                phi.as_basic_value().into_pointer_value()
            }
        };
        let coro_begin = self.intrinsic("llvm.coro.begin", &[]);
        // SAFETY: `llvm.coro.begin` returns a ptr.
        let hdl = unsafe {
            PointerValue::new(self.raw_call(
                coro_begin,
                &[token, mem.as_value_ref()],
                "coro.handle",
            ))
        };
        // The ramp runs right after the call that stored the location; the
        // copy is made after `llvm.coro.begin`, where the pass expects a
        // slot's first use (on wasm32 it is as much a pointer as a root).
        if self.tracked(id) {
            self.track_entry()?;
        }
        // The `Gen[T]` is the FRAME object around the frame.
        let back = self
            .cx
            .i64_type()
            .const_int((-(FRAME_OFFSET as i64)) as u64, true);
        // SAFETY (LLVM): the FRAME object's header precedes the frame.
        let obj = unsafe {
            self.b
                .build_gep(self.cx.i8_type(), hdl, &[back], "gen.obj")?
        };
        // An elided frame has no FRAME object: its reference is the handle
        // tagged in bit 0 (see `frame_handle`).
        let obj = match need_alloc {
            None => obj,
            Some(need) => {
                let one = self.cx.i64_type().const_int(ELIDED_TAG, false);
                // SAFETY (LLVM): only ever untagged again, never dereferenced.
                let tagged = unsafe {
                    self.b
                        .build_gep(self.cx.i8_type(), hdl, &[one], "gen.elided")?
                };
                self.b
                    .build_select(need, obj, tagged, "gen.ref")?
                    .into_pointer_value()
            }
        };
        let gen: BasicValueEnum = if self.layout.gc_address_space == 0 {
            obj.into()
        } else {
            self.b.build_address_space_cast(obj, self.gc, "gen")?.into()
        };

        // A fresh task: running, no result, no continuation, waiting on nothing.
        let state_field =
            self.b
                .build_struct_gep(promise_type, promise, PROMISE_STATE, "promise.state")?;
        self.b
            .build_store(state_field, self.cx.i64_type().const_zero())?;
        let slots = self
            .b
            .build_struct_gep(promise_type, promise, PROMISE_REF, "promise.slots")?;
        self.b
            .build_store(slots, self.gc.array_type(PROMISE_SLOTS).const_zero())?;
        if !is_async && self.has_cleanups_in(body) {
            // Dropped unfinished, it still runs its `defer`s (runtime `finalize`).
            self.call_rt(RuntimeFn::GenFinalizable, &[hdl.into()], "")?;
        }

        let cleanup = self.cx.append_basic_block(f, "coro.cleanup");
        let suspend = self.cx.append_basic_block(f, "coro.suspend");
        let finish = self.cx.append_basic_block(f, "coro.final");
        let start = self.cx.append_basic_block(f, "coro.start");
        let state = CoroState {
            promise,
            promise_type,
            cleanup,
            suspend,
            finish,
            handle: hdl,
            is_async,
            begin: hdl
                .as_instruction()
                .expect("llvm.coro.begin is an instruction"),
        };
        // Parameters are stored after coro.begin, where the frame exists.
        // A captured one needs a heap cell, and the ramp must not allocate:
        // nothing roots the frame before the initial suspend returns it to
        // the caller. Its cell is made after the first resume.
        let info = &self.typed.fns[id as usize];
        // An async closure: its environment (the closure object) comes
        // first; the cells of its captures go into GC slots of the frame.
        let offset = info.is_closure as u32;
        if info.is_closure {
            let env = f
                .get_nth_param(0)
                .expect("closure env")
                .into_pointer_value();
            env.set_name("env");
            for (i, &local) in info.captures.iter().enumerate() {
                let name = format!("{}.cell", self.typed.locals[local as usize].name);
                let slot = self.entry_alloca(self.gc.into(), &name)?;
                let cell = self.load_slot(env, 8 * (i as u64 + 1), &Type::Str)?;
                self.b.build_store(slot, cell)?;
                self.f.locals.insert(local, slot);
            }
        }
        let info = &self.typed.fns[id as usize];
        let mut captured = Vec::new();
        for (i, &local) in info.params.iter().enumerate() {
            let name = self.typed.locals[local as usize].name.clone();
            let param = f
                .get_nth_param(i as u32 + offset)
                .expect("parameter count matches the signature");
            param.set_name(&name);
            if self.typed.locals[local as usize].captured {
                let tmp = self.entry_alloca(param.get_type(), &format!("{name}.arg"))?;
                self.b.build_store(tmp, param)?;
                captured.push((local, tmp, param.get_type(), name));
            } else {
                self.declare_local_named(local, Some(param), &format!("{name}.addr"))?;
            }
        }
        // Calling a generator runs none of its body.
        self.suspend(state, false, start)?;
        self.b.position_at_end(start);
        for (local, tmp, ty, name) in captured {
            let v = self.b.build_load(ty, tmp, &name)?;
            self.declare_local_named(local, Some(v), &format!("{name}.addr"))?;
        }

        self.b.position_at_end(start);
        self.f.coro = Some(state);
        self.block(body)?;
        self.f.coro = None;
        if !self.terminated() {
            self.b.build_unconditional_branch(finish)?;
        }

        self.b.position_at_end(finish);
        let trap = self.cx.append_basic_block(f, "coro.resumed.after.end");
        if is_async {
            // Hand control to whoever awaits this call, or back to the scheduler.
            let wrapper = self.transfer_fn(super::async_fn::Transfer::Final);
            self.suspend_with(state, true, trap, Some((Target::Handle(hdl), wrapper)))?;
        } else {
            self.suspend(state, true, trap)?;
        }
        self.b.position_at_end(trap);
        self.b.build_unreachable()?;

        self.b.position_at_end(cleanup);
        let coro_free = self.intrinsic("llvm.coro.free", &[]);
        // The GC reclaims the frame: nothing to free.
        self.raw_call(coro_free, &[token, hdl.as_value_ref()], "coro.free");
        self.b.build_unconditional_branch(suspend)?;

        self.b.position_at_end(suspend);
        let coro_end = self.intrinsic("llvm.coro.end", &[]);
        let f_false = self.cx.bool_type().const_zero();
        self.raw_call(
            coro_end,
            &[
                hdl.as_value_ref(),
                f_false.as_value_ref(),
                self.token_none(),
            ],
            "",
        );
        self.b.build_return(Some(&gen))?;
        Ok(())
    }

    /// `yield v`: the value goes to the promise, then the generator suspends.
    pub(super) fn yield_value(&mut self, value: &Expr, ty: &Type) -> Result<()> {
        let Some(state) = self.f.coro else {
            return Ok(());
        };
        let Lowered::Value(v) = self.expr(value)? else {
            return Ok(());
        };
        self.store_yielded(state, v, ty)?;
        let resume = self.cx.append_basic_block(self.func(), "yield.resume");
        self.suspend(state, false, resume)?;
        self.b.position_at_end(resume);
        Ok(())
    }

    pub(super) fn store_yielded(
        &mut self,
        state: CoroState<'ctx>,
        v: BasicValueEnum<'ctx>,
        ty: &Type,
    ) -> Result<()> {
        if ty.is_ref() {
            let slots = self.b.build_struct_gep(
                state.promise_type,
                state.promise,
                PROMISE_REF,
                "yield.slots",
            )?;
            self.b.build_store(slots, v)?;
        } else {
            let bits = self.value_bits(v, ty)?;
            let field = self.b.build_struct_gep(
                state.promise_type,
                state.promise,
                PROMISE_VALUE,
                "yield.value",
            )?;
            self.b.build_store(field, bits)?;
        }
        Ok(())
    }

    /// The state word of the coroutine `handle` (`STATE_*`).
    pub(super) fn state_ptr(&mut self, handle: PointerValue<'ctx>) -> Result<PointerValue<'ctx>> {
        let p = self.promise_of(handle)?;
        let pt = self.promise_type();
        Ok(self.b.build_struct_gep(pt, p, PROMISE_STATE, "state")?)
    }

    /// Whether the state word of the coroutine `h` has any of the `flags`.
    pub(super) fn state_has(
        &mut self,
        h: PointerValue<'ctx>,
        flags: u64,
    ) -> Result<IntValue<'ctx>> {
        let sp = self.state_ptr(h)?;
        let i64t = self.cx.i64_type();
        let st = self.b.build_load(i64t, sp, "state")?.into_int_value();
        let bit = self.b.build_and(st, i64t.const_int(flags, false), "flag")?;
        Ok(self.b.build_int_compare(
            inkwell::IntPredicate::NE,
            bit,
            i64t.const_zero(),
            "has.flag",
        )?)
    }

    /// Whether the coroutine `handle` has ended (finished, or destroyed).
    pub(super) fn ended(&mut self, handle: PointerValue<'ctx>) -> Result<IntValue<'ctx>> {
        let dead = self.state_has(handle, STATE_CANCELLED | STATE_PANICKED)?;
        let done = self.done(handle, "finished");
        Ok(self.b.build_or(dead, done, "ended")?)
    }

    /// Drops a generator that may be suspended: destroying it runs the
    /// `defer`s pending at its `yield`. It can never be resumed again.
    pub(super) fn drop_generator(&mut self, gen: PointerValue<'ctx>) -> Result<()> {
        let f = self.func();
        let h = self.gen_handle(gen)?;
        let ended = self.ended(h)?;
        let drop = self.cx.append_basic_block(f, "gen.drop");
        let after = self.cx.append_basic_block(f, "gen.dropped");
        self.b.build_conditional_branch(ended, after, drop)?;
        self.b.position_at_end(drop);
        let sp = self.state_ptr(h)?;
        let cancelled = self.cx.i64_type().const_int(STATE_CANCELLED, false);
        self.b.build_store(sp, cancelled)?;
        let destroy_fn = self.intrinsic("llvm.coro.destroy", &[]);
        self.raw_call(destroy_fn, &[h.as_value_ref()], "");
        self.b.build_unconditional_branch(after)?;
        self.b.position_at_end(after);
        Ok(())
    }

    /// Resumes the generator unless it has finished; returns whether it
    /// yielded a value (false once it has run to its end).
    fn resume_generator(&mut self, gen: PointerValue<'ctx>, span: Span) -> Result<IntValue<'ctx>> {
        let f = self.func();
        let done_fn = self.intrinsic("llvm.coro.done", &[]);
        let resume_fn = self.intrinsic("llvm.coro.resume", &[]);
        let h = self.gen_handle(gen)?;
        let finished = self.ended(h)?;
        let before = self.b.get_insert_block().expect("positioned");
        let run = self.cx.append_basic_block(f, "gen.resume");
        let after = self.cx.append_basic_block(f, "gen.after");
        self.b.build_conditional_branch(finished, after, run)?;
        self.b.position_at_end(run);
        let busy = self.state_has(h, STATE_RUNNING)?;
        self.panic_if(busy, "generator resumed while it is running", span)?;
        let i64t = self.cx.i64_type();
        let running = i64t.const_int(STATE_RUNNING, false);
        let sp = self.state_ptr(h)?;
        let st = self.b.build_load(i64t, sp, "state")?.into_int_value();
        let st = self.b.build_or(st, running, "state.running")?;
        self.b.build_store(sp, st)?;
        self.raw_call(resume_fn, &[h.as_value_ref()], "");
        // The handle is recomputed from the (rooted) reference after the call.
        let h = self.gen_handle(gen)?;
        let sp = self.state_ptr(h)?;
        let st = self.b.build_load(i64t, sp, "state")?.into_int_value();
        let st = self
            .b
            .build_and(st, i64t.const_int(!STATE_RUNNING, false), "state.idle")?;
        self.b.build_store(sp, st)?;
        // SAFETY: as above.
        let done =
            unsafe { IntValue::new(self.raw_call(done_fn, &[h.as_value_ref()], "gen.done")) };
        let yielded = self.b.build_not(done, "gen.yielded")?;
        let run_end = self.b.get_insert_block().expect("positioned");
        self.b.build_unconditional_branch(after)?;
        self.b.position_at_end(after);
        let phi = self.b.build_phi(self.cx.bool_type(), "gen.has.value")?;
        let no = self.cx.bool_type().const_zero();
        phi.add_incoming(&[(&no, before), (&yielded, run_end)]);
        Ok(phi.as_basic_value().into_int_value())
    }

    /// The value the generator last yielded.
    pub(super) fn yielded(
        &mut self,
        gen: PointerValue<'ctx>,
        ty: &Type,
    ) -> Result<BasicValueEnum<'ctx>> {
        let h = self.gen_handle(gen)?;
        self.result_of(h, ty)
    }

    /// The value in the promise of the coroutine `h`: what it last yielded,
    /// or its result.
    pub(super) fn result_of(
        &mut self,
        h: PointerValue<'ctx>,
        ty: &Type,
    ) -> Result<BasicValueEnum<'ctx>> {
        let promise_fn = self.intrinsic("llvm.coro.promise", &[]);
        let align = self.cx.i32_type().const_int(8, false);
        let from = self.cx.bool_type().const_zero();
        // SAFETY: `llvm.coro.promise` returns a ptr.
        let p = unsafe {
            PointerValue::new(self.raw_call(
                promise_fn,
                &[h.as_value_ref(), align.as_value_ref(), from.as_value_ref()],
                "gen.promise",
            ))
        };
        let pt = self.promise_type();
        if ty.is_ref() {
            let slot = self.b.build_struct_gep(pt, p, PROMISE_REF, "gen.slot")?;
            Ok(self.b.build_load(self.gc, slot, "gen.value")?)
        } else {
            let field = self.b.build_struct_gep(pt, p, PROMISE_VALUE, "gen.bits")?;
            let bits = self
                .b
                .build_load(self.cx.i64_type(), field, "gen.bits")?
                .into_int_value();
            self.bits_value(bits, ty)
        }
    }

    /// `g.next()`: the next value as `T?`, nil once the generator has finished.
    pub(super) fn gen_next(
        &mut self,
        gen: PointerValue<'ctx>,
        elem: &Type,
        span: Span,
    ) -> Result<BasicValueEnum<'ctx>> {
        let f = self.func();
        let result = self.entry_alloca(self.gc.into(), "next.value")?;
        self.b.build_store(result, self.gc.const_null())?;
        let has = self.resume_generator(gen, span)?;
        let take = self.cx.append_basic_block(f, "next.take");
        let done = self.cx.append_basic_block(f, "next.done");
        self.b.build_conditional_branch(has, take, done)?;
        self.b.position_at_end(take);
        let v = self.yielded(gen, elem)?;
        let wrapped = self.wrap_optional(v, elem)?;
        self.b.build_store(result, wrapped)?;
        self.b.build_unconditional_branch(done)?;
        self.b.position_at_end(done);
        Ok(self.b.build_load(self.gc, result, "next")?)
    }

    /// `for x in g { ... }`: resume, bind the yielded value, run the body.
    pub(super) fn for_gen(
        &mut self,
        local: LocalId,
        iter: &Expr,
        elem: &Type,
        body: &Block,
    ) -> Result<()> {
        let f = self.func();
        let Lowered::Value(g) = self.expr(iter)? else {
            return Ok(());
        };
        let slot = self.entry_alloca(self.gc.into(), "for.gen")?;
        self.b.build_store(slot, g)?;
        // Leaving the loop early (`break`, `return`) drops the generator.
        self.push_scope();
        self.defer_drop_gen(slot);
        let head = self.cx.append_basic_block(f, "for.next");
        let body_bb = self.cx.append_basic_block(f, "for.body");
        let exit = self.cx.append_basic_block(f, "for.end");
        self.b.build_unconditional_branch(head)?;
        self.b.position_at_end(head);
        let gen = self
            .b
            .build_load(self.gc, slot, "gen")?
            .into_pointer_value();
        let has = self.resume_generator(gen, iter.span)?;
        self.b.build_conditional_branch(has, body_bb, exit)?;
        self.b.position_at_end(body_bb);
        let gen = self
            .b
            .build_load(self.gc, slot, "gen")?
            .into_pointer_value();
        let x = self.yielded(gen, elem)?;
        self.declare_local(local, Some(x))?;
        self.loop_body(body, head, exit)?;
        self.b.position_at_end(exit);
        // Finished, or left by `break`: drop it if it is still suspended.
        self.pop_scope()?;
        Ok(())
    }
}

/// What a symmetric transfer goes to.
#[derive(Clone, Copy)]
pub(super) enum Target<'ctx> {
    /// A coroutine handle (raw).
    Handle(PointerValue<'ctx>),
    /// A FRAME object reference; its handle is computed after `llvm.coro.save`.
    Frame(PointerValue<'ctx>),
}
