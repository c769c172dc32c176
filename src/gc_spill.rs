//! The gc-frame-spill pass and the GC verifier (see "Garbage collection" and
//! "Coroutine lowering" in DESIGN.md, and the RootFrame contract of the runtime).
//!
//! The GC is precise and finds a function's references only in its root
//! frame, a `{ ptr prev, i64 count, [N x gcref] }` alloca linked into the
//! shadow stack at `@weft_shadow_top`. This pass puts into that frame every
//! GC alloca and every GC SSA value that is live across a safepoint (a call
//! that may allocate): the value is stored to its slot right after its
//! definition and every use reloads it, so after the pass no GC SSA value is
//! live across a safepoint and LLVM, which sees the frame escape into a
//! global, keeps those stores and reloads around every call that may collect.
//!
//! Coroutines (before CoroSplit: a function whose `llvm.coro.id` has no
//! resumers yet) have no shadow-stack frame: their root area is the promise,
//! which CoroSplit places in the frame (a FRAME object the GC scans) right
//! after the resume and destroy pointers. The promise codegen makes,
//! `{ i32 count, i32 slots_offset, ..., [K x gcref] }`, is replaced by
//! `{ <promise>, [N x gcref] }` (RAUW: the old type is a prefix) when the
//! coroutine has GC allocas or GC values live across a safepoint (which here
//! includes `llvm.coro.suspend`); right after `llvm.coro.begin` the pass
//! stores `count = K + N`, `slots_offset` (volatile: the runtime reads them)
//! and null slots. Values defined before `llvm.coro.begin` (arguments) are
//! stored right after that initialisation. The layout is recorded as
//! `!weft.coro.roots` on the promise, on the function (CoroSplit copies it to
//! the `.resume`/`.destroy`/`.cleanup` clones, which get the frame as their
//! first argument) and on the `count` store (which follows the ramp when it is
//! inlined), so the verifier knows every frame's root area after CoroSplit.
//! The clones, ramps and everything else are ordinary functions to the pass.
//!
//! Besides `ptr addrspace(1)` values (or, on wasm32, `ptr` values not derived
//! from an alloca or a global), natively the pass also treats as references
//! the interior pointers made from one by `addrspacecast` (a generator's
//! handle, which CoroSplit would otherwise rematerialise after a suspend,
//! spilling the reference into the frame) and coroutine frames from
//! `@weft_coro_alloc` (the FRAME object is a GC object; a caller that inlined
//! the ramp holds it). `llvm.coro.resume` and `llvm.coro.destroy` run a
//! coroutine's code, so they are safepoints.
//!
//! The pass is written in Rust over LLVM's C API; `src/llvm_shim/pass_wrapper.cpp`
//! registers [`spill_callback`] in LLVM's pipeline after inlining and scalar
//! simplification and before CoroSplit (at -O0 also before CoroEarly), and
//! [`run_pipeline`] runs that pipeline. It is idempotent: already-processed
//! code has nothing left to spill (in a coroutine, values that later passes
//! leave live across a safepoint extend the root area, re-initialised as a
//! whole). [`verify_gc`] checks the invariant on the final module
//! (`--verify-gc`), including that no GC value is stored into a coroutine
//! frame outside its root area.

use crate::link::Target;
use inkwell::module::Module;
use inkwell::targets::TargetMachine;
use inkwell::values::AsValueRef;
use llvm_sys::core::*;
use llvm_sys::error::{LLVMDisposeErrorMessage, LLVMErrorRef, LLVMGetErrorMessage};
use llvm_sys::prelude::*;
use llvm_sys::target::{
    LLVMABIAlignmentOfType, LLVMABISizeOfType, LLVMGetModuleDataLayout, LLVMOffsetOfElement,
    LLVMPointerSize, LLVMStoreSizeOfType, LLVMTargetDataRef,
};
use llvm_sys::target_machine::LLVMTargetMachineRef;
use llvm_sys::{LLVMOpcode, LLVMTailCallKind, LLVMTypeKind};
use std::collections::{HashMap, HashSet};
use std::ffi::{c_char, c_uint, c_void, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// The callback the shim's pass calls for each function: returns
/// [`CHANGED`] and [`CHANGED_CFG`] bits.
type FunctionCallback = unsafe extern "C" fn(LLVMValueRef, *mut c_void) -> c_uint;

extern "C" {
    fn weft_run_pipeline(
        module: LLVMModuleRef,
        machine: LLVMTargetMachineRef,
        level: c_uint,
        callback: Option<FunctionCallback>,
        late: Option<FunctionCallback>,
        thaw: Option<FunctionCallback>,
        ctx: *mut c_void,
    ) -> LLVMErrorRef;
    #[cfg(test)]
    fn weft_describe_pipeline(machine: LLVMTargetMachineRef, level: c_uint) -> *mut c_char;
    fn weft_call_memory_effects(call: LLVMValueRef) -> u32;
    fn weft_fold_constant_branches(function: LLVMValueRef) -> c_uint;
}

const CHANGED: c_uint = 1;
const CHANGED_CFG: c_uint = 2;

/// The string function attribute the compiler puts on runtime functions that
/// never allocate: a call to them is not a safepoint.
pub const NOGC_ATTRIBUTE: &str = "weft-nogc";
/// Metadata kind marking a root-frame alloca (survives inlining).
const ROOT_FRAME_MD: &str = "weft.root.frame";
/// Metadata kind describing a coroutine's root area, `!{!"name", i64
/// slots_offset, i64 count}`: on the promise alloca, on the coroutine function
/// (CoroSplit copies it to the `.resume`/`.destroy`/`.cleanup` clones) and on
/// the store of `count` right after `llvm.coro.begin` (which survives
/// CoroSplit and inlining, and so locates the frame wherever the ramp went).
const CORO_ROOTS_MD: &str = "weft.coro.roots";
/// Metadata kind marking the freezes [`freeze_across_suspends`] inserts.
const KEPT_MD: &str = "weft.kept";
/// Metadata kind marking the rest of a coroutine's root-area initialisation.
const CORO_INIT_MD: &str = "weft.coro.init";
/// The runtime's coroutine frame allocator (`RuntimeFn::CoroAlloc`): it
/// returns a `ptr` into a new FRAME object, i.e. a GC reference.
const CORO_ALLOC: &str = "weft_coro_alloc";
/// The suffixes CoroSplit gives the clones of a switched-resume coroutine.
const CORO_CLONE_SUFFIXES: [&str; 3] = [".resume", ".destroy", ".cleanup"];

/// Which values are GC references.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GcConfig {
    /// The address space of GC references: 1 natively. 0 on wasm32, where
    /// every `ptr` not derived from an alloca, a global or a function is a
    /// potential GC reference (the runtime ignores roots outside its heap).
    pub gc_addrspace: u32,
}

impl GcConfig {
    pub fn for_target(target: Target) -> Self {
        match target {
            Target::Native => GcConfig { gc_addrspace: 1 },
            Target::Wasm32 => GcConfig { gc_addrspace: 0 },
        }
    }

    /// The configuration a module was compiled for, from its triple.
    pub fn for_module(module: &Module) -> Self {
        let triple = module.get_triple();
        if triple.as_str().to_string_lossy().starts_with("wasm32") {
            Self::for_target(Target::Wasm32)
        } else {
            Self::for_target(Target::Native)
        }
    }
}

// ---------------------------------------------------------------------------
// Running LLVM's pipeline with the pass in it

struct PassState {
    config: GcConfig,
    errors: Vec<String>,
    /// Coroutines the pass processed whose arithmetic is still to be frozen
    /// (at the peephole point after the next InstCombine; -O1 and up).
    to_freeze: HashSet<LLVMValueRef>,
    /// Whether freezing waits for that point (false at -O0, no InstCombine).
    freeze_late: bool,
}

/// Runs LLVM's `default<On>` on the module with the gc-frame-spill pass in
/// place. Errors of the pass are internal compiler errors.
pub fn run_pipeline(
    module: &Module,
    machine: &TargetMachine,
    level: u8,
    config: GcConfig,
) -> Result<(), String> {
    let mut state = PassState {
        config,
        errors: Vec::new(),
        to_freeze: HashSet::new(),
        freeze_late: level > 0,
    };
    // SAFETY: the module and machine are live for the call; `state` outlives
    // it and only the callbacks, on this thread, touch it meanwhile.
    let error = unsafe {
        weft_run_pipeline(
            module.as_mut_ptr(),
            machine.as_mut_ptr(),
            c_uint::from(level.min(3)),
            Some(spill_callback),
            Some(freeze_callback),
            Some(thaw_callback),
            &mut state as *mut PassState as *mut c_void,
        )
    };
    if !error.is_null() {
        return Err(format!("LLVM optimisation failed: {}", take_error(error)));
    }
    if !state.errors.is_empty() {
        return Err(format!(
            "gc-frame-spill failed:\n  {}",
            state.errors.join("\n  ")
        ));
    }
    // A function with a root frame can be inlined into a coroutine's resume
    // function after the pass last saw it, whose calls TailCallElim marked
    // `tail` while it had no frame: those markers must go too.
    let mut f = module.get_first_function();
    while let Some(function) = f {
        if function.count_basic_blocks() > 0 {
            // SAFETY: a live function of the module, not being changed elsewhere.
            unsafe {
                let raw = function.as_value_ref();
                let env = Env::new(raw, config);
                let body = Body::new(raw);
                if body.insts.iter().flatten().any(|&i| env.is_root_frame(i)) {
                    clear_tail_markers(&body);
                }
            }
        }
        f = function.get_next_function();
    }
    Ok(())
}

/// Runs only the gc-frame-spill pass over every defined function, with no
/// other pass: what `--emit llvm-ir-presplit` shows (the IR as CoroSplit will
/// see it, before any inlining or simplification).
pub fn run_pass_only(module: &Module, config: GcConfig) -> Result<(), String> {
    let mut state = PassState {
        config,
        errors: Vec::new(),
        to_freeze: HashSet::new(),
        freeze_late: false,
    };
    let mut f = module.get_first_function();
    while let Some(function) = f {
        if function.count_basic_blocks() > 0 {
            // SAFETY: a live function of the module; `state` outlives the call.
            unsafe {
                spill_callback(
                    function.as_value_ref(),
                    &mut state as *mut PassState as *mut c_void,
                );
            }
        }
        f = function.get_next_function();
    }
    if state.errors.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "gc-frame-spill failed:\n  {}",
            state.errors.join("\n  ")
        ))
    }
}

/// The pass pipeline [`run_pipeline`] runs at this level, as LLVM prints it;
/// the pass shows as `weft-gc-frame-spill`.
#[cfg(test)]
pub fn describe_pipeline(machine: &TargetMachine, level: u8) -> String {
    // SAFETY: the machine is live; the returned message is ours to dispose.
    unsafe {
        let text = weft_describe_pipeline(machine.as_mut_ptr(), c_uint::from(level.min(3)));
        take_message(text)
    }
}

fn take_error(error: LLVMErrorRef) -> String {
    // SAFETY: consumes the error; the message is disposed after copying.
    unsafe {
        let msg = LLVMGetErrorMessage(error);
        let text = CStr::from_ptr(msg).to_string_lossy().into_owned();
        LLVMDisposeErrorMessage(msg);
        text
    }
}

unsafe fn take_message(msg: *mut c_char) -> String {
    if msg.is_null() {
        return String::new();
    }
    let text = CStr::from_ptr(msg).to_string_lossy().into_owned();
    LLVMDisposeMessage(msg);
    text
}

/// The trampoline the C++ pass calls for every function it visits. Never
/// unwinds: a failure (or a panic) is recorded in the state, and the
/// function's body is replaced by `unreachable` so the rest of LLVM's
/// pipeline still sees valid IR; the build then fails with the error.
unsafe extern "C" fn spill_callback(function: LLVMValueRef, ctx: *mut c_void) -> c_uint {
    if ctx.is_null() || function.is_null() {
        return 0;
    }
    let state = ctx as *mut PassState;
    let config = (*state).config;
    let freeze_late = (*state).freeze_late;
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        spill_function(function, config, !freeze_late)
    }));
    if let Ok(Ok(o)) = &outcome {
        if o.coroutine && freeze_late {
            (*state).to_freeze.insert(function);
        }
    }
    let error = match outcome {
        Ok(Ok(outcome)) => return outcome.flags(),
        Ok(Err(e)) => e,
        Err(payload) => {
            let what = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            format!(
                "function `{}`: the pass panicked: {what}",
                value_name(function)
            )
        }
    };
    let _ = catch_unwind(AssertUnwindSafe(|| neutralize(function)));
    let _ = catch_unwind(AssertUnwindSafe(|| (*state).errors.push(error)));
    CHANGED | CHANGED_CFG
}

/// The peephole point (after each InstCombine): freezes the arithmetic of a
/// coroutine the pass processed since, so the InstCombine before CoroSplit
/// never sees those freezes.
unsafe extern "C" fn freeze_callback(function: LLVMValueRef, ctx: *mut c_void) -> c_uint {
    if ctx.is_null() || function.is_null() {
        return 0;
    }
    let state = ctx as *mut PassState;
    if !(*state).to_freeze.remove(&function) {
        return 0;
    }
    match catch_unwind(AssertUnwindSafe(|| freeze_across_suspends(function))) {
        Ok(true) => CHANGED,
        _ => 0,
    }
}

/// The CGSCC walk's optimizer-late point, which a coroutine's ramp and clones
/// reach again right after CoroSplit: removes the freezes
/// [`freeze_across_suspends`] put in, once no suspend is left.
unsafe extern "C" fn thaw_callback(function: LLVMValueRef, ctx: *mut c_void) -> c_uint {
    if ctx.is_null() || function.is_null() {
        return 0;
    }
    let config = (*(ctx as *mut PassState)).config;
    match catch_unwind(AssertUnwindSafe(|| thaw(function, config))) {
        Ok(Thawed::Split) => {
            // The clone's dead copies of every other path go now, in one
            // linear walk, before SROA, EarlyCSE and JumpThreading each
            // work through them.
            if weft_fold_constant_branches(function) != 0 {
                CHANGED | CHANGED_CFG
            } else {
                CHANGED
            }
        }
        Ok(Thawed::Frozen) => CHANGED,
        _ => 0,
    }
}

/// Replaces a function's body by a single `unreachable` block.
unsafe fn neutralize(function: LLVMValueRef) {
    let blocks = blocks_of(function);
    for &block in &blocks {
        for inst in instructions_of(block) {
            if !LLVMGetFirstUse(inst).is_null() {
                LLVMReplaceAllUsesWith(inst, LLVMGetPoison(LLVMTypeOf(inst)));
            }
        }
    }
    for &block in &blocks {
        for inst in instructions_of(block) {
            LLVMInstructionEraseFromParent(inst);
        }
    }
    for block in blocks {
        LLVMDeleteBasicBlock(block);
    }
    let ctx = LLVMGetTypeContext(LLVMTypeOf(function));
    let block = LLVMAppendBasicBlockInContext(ctx, function, c"entry".as_ptr());
    let builder = Builder::new(ctx);
    LLVMPositionBuilderAtEnd(builder.0, block);
    LLVMBuildUnreachable(builder.0);
}

// ---------------------------------------------------------------------------
// Small helpers over the C API

struct Builder(LLVMBuilderRef);

impl Builder {
    unsafe fn new(ctx: LLVMContextRef) -> Self {
        Builder(LLVMCreateBuilderInContext(ctx))
    }
}

impl Drop for Builder {
    fn drop(&mut self) {
        // SAFETY: the builder was created by LLVMCreateBuilderInContext.
        unsafe { LLVMDisposeBuilder(self.0) }
    }
}

unsafe fn blocks_of(function: LLVMValueRef) -> Vec<LLVMBasicBlockRef> {
    let mut out = Vec::new();
    let mut b = LLVMGetFirstBasicBlock(function);
    while !b.is_null() {
        out.push(b);
        b = LLVMGetNextBasicBlock(b);
    }
    out
}

unsafe fn instructions_of(block: LLVMBasicBlockRef) -> Vec<LLVMValueRef> {
    let mut out = Vec::new();
    let mut i = LLVMGetFirstInstruction(block);
    while !i.is_null() {
        out.push(i);
        i = LLVMGetNextInstruction(i);
    }
    out
}

unsafe fn opcode(v: LLVMValueRef) -> Option<LLVMOpcode> {
    if LLVMIsAInstruction(v).is_null() {
        None
    } else {
        Some(LLVMGetInstructionOpcode(v))
    }
}

unsafe fn is_call(v: LLVMValueRef) -> bool {
    matches!(
        opcode(v),
        Some(LLVMOpcode::LLVMCall | LLVMOpcode::LLVMInvoke | LLVMOpcode::LLVMCallBr)
    )
}

unsafe fn operand(v: LLVMValueRef, i: u32) -> LLVMValueRef {
    LLVMGetOperand(v, i)
}

unsafe fn num_operands(v: LLVMValueRef) -> u32 {
    LLVMGetNumOperands(v).max(0) as u32
}

unsafe fn str_of(ptr: *const c_char, len: usize) -> String {
    if ptr.is_null() {
        return String::new();
    }
    String::from_utf8_lossy(std::slice::from_raw_parts(ptr as *const u8, len)).into_owned()
}

unsafe fn raw_name(v: LLVMValueRef) -> String {
    let mut len = 0usize;
    let ptr = LLVMGetValueName2(v, &mut len);
    str_of(ptr, len)
}

/// `%name` of a value, or its printed form when it has no name.
unsafe fn value_name(v: LLVMValueRef) -> String {
    let name = raw_name(v);
    if name.is_empty() {
        describe(v)
    } else {
        name
    }
}

/// The value as LLVM prints it, on one line.
unsafe fn describe(v: LLVMValueRef) -> String {
    take_message(LLVMPrintValueToString(v)).trim().to_string()
}

/// The called function, when the callee is one (not an indirect call).
unsafe fn called_function(call: LLVMValueRef) -> Option<LLVMValueRef> {
    let callee = LLVMGetCalledValue(call);
    (!callee.is_null() && !LLVMIsAFunction(callee).is_null()).then_some(callee)
}

unsafe fn is_intrinsic(function: LLVMValueRef) -> bool {
    LLVMGetIntrinsicID(function) != 0 || raw_name(function).starts_with("llvm.")
}

unsafe fn has_nogc_attribute(call: LLVMValueRef) -> bool {
    let key = NOGC_ATTRIBUTE.as_ptr() as *const c_char;
    let len = NOGC_ATTRIBUTE.len() as c_uint;
    let index = llvm_sys::LLVMAttributeFunctionIndex;
    if !LLVMGetCallSiteStringAttribute(call, index, key, len).is_null() {
        return true;
    }
    match called_function(call) {
        Some(f) => !LLVMGetStringAttributeAtIndex(f, index, key, len).is_null(),
        None => false,
    }
}

/// Whether the call may write memory other than through its pointer
/// arguments. Allocating and collecting do (the allocator is declared with
/// unknown memory effects), so a call that cannot is no safepoint; this is
/// also exactly when LLVM may forward a root slot's store across the call.
unsafe fn may_write_beyond_arguments(call: LLVMValueRef) -> bool {
    let effects = weft_call_memory_effects(call);
    // Two bits per location, ArgMem first; the high bit of a pair is "may write".
    const WRITES: u32 = 0xAAAA_AAAA;
    const ARG_MEM_WRITE: u32 = 0b10;
    effects & WRITES & !ARG_MEM_WRITE != 0
}

/// A safepoint: a call or invoke that may allocate, i.e. whose callee is not
/// an LLVM intrinsic, has no `"weft-nogc"` attribute, and may write memory
/// beyond its arguments. Indirect calls are safepoints. So are the coroutine
/// suspend points, `llvm.coro.suspend` and `llvm.coro.await.suspend.*`
/// (they only occur in coroutines before CoroSplit), `llvm.coro.save` (CoroSplit
/// treats everything between a save and its suspend as after the suspend, so a
/// value defined before the save and used by `await.suspend` would be spilled
/// into the frame), and `llvm.coro.resume` and `llvm.coro.destroy`, which run a
/// coroutine's code (CoroEarly turns them into indirect calls; at -O0 the pass
/// runs before it).
unsafe fn is_safepoint(inst: LLVMValueRef) -> bool {
    if !is_call(inst) {
        return false;
    }
    if let Some(f) = called_function(inst) {
        if is_intrinsic(f) {
            let name = raw_name(f);
            return matches!(
                name.as_str(),
                "llvm.coro.suspend" | "llvm.coro.save" | "llvm.coro.resume" | "llvm.coro.destroy"
            ) || name.starts_with("llvm.coro.await.suspend.");
        }
    }
    !has_nogc_attribute(inst) && may_write_beyond_arguments(inst)
}

/// The name of the function a call calls directly, if it does.
unsafe fn callee_name(inst: LLVMValueRef) -> Option<String> {
    if !is_call(inst) {
        return None;
    }
    called_function(inst).map(|f| raw_name(f))
}

/// The `llvm.coro.id` call of a coroutine that CoroSplit has not split yet,
/// if the function is one: its `llvm.coro.id` has no resumers yet. After
/// CoroSplit the ramp keeps its `llvm.coro.id` until CoroCleanup, with the
/// resumers filled in, and may be inlined: ramps, clones and the functions
/// they are inlined into are ordinary functions.
unsafe fn presplit_coro_id(
    function: LLVMValueRef,
    body: &Body,
) -> Result<Option<LLVMValueRef>, String> {
    const PRESPLIT: &str = "presplitcoroutine";
    let mut found = None;
    let mut other = None;
    for &inst in body.insts.iter().flatten() {
        let Some(name) = callee_name(inst) else {
            continue;
        };
        if name == "llvm.coro.id" && !LLVMIsAConstantPointerNull(operand(inst, 3)).is_null() {
            if found.is_some() {
                return Err("more than one `llvm.coro.id`".into());
            }
            found = Some(inst);
        } else if name.starts_with("llvm.coro.id.") {
            other = Some(name);
        }
    }
    let kind = LLVMGetEnumAttributeKindForName(PRESPLIT.as_ptr() as *const c_char, PRESPLIT.len());
    let marked = !LLVMGetEnumAttributeAtIndex(function, llvm_sys::LLVMAttributeFunctionIndex, kind)
        .is_null();
    match other {
        Some(name) if found.is_none() && marked => Err(format!(
            "`{name}`: only switched-resume coroutines (`llvm.coro.id`) are supported"
        )),
        _ => Ok(found),
    }
}

/// The `llvm.coro.begin` calls of the coroutine whose `llvm.coro.id` is `id`.
unsafe fn coro_begins(body: &Body, id: LLVMValueRef) -> Vec<LLVMValueRef> {
    body.insts
        .iter()
        .flatten()
        .copied()
        .filter(|&i| {
            callee_name(i)
                .is_some_and(|n| n == "llvm.coro.begin" || n == "llvm.coro.begin.custom.abi")
                && operand(i, 0) == id
        })
        .collect()
}

/// What is not a GC value although it points into a GC object: the frame of
/// a clone (its first argument) and the handle of a coroutine before
/// CoroSplit (`llvm.coro.begin`). Whoever holds the handle keeps the frame
/// alive; rooting it in its own root area would not.
unsafe fn not_gc(frames: &[FrameArea], begins: &[LLVMValueRef]) -> HashSet<LLVMValueRef> {
    frames
        .iter()
        .map(|a| a.base)
        .filter(|&b| !LLVMIsAArgument(b).is_null())
        .chain(begins.iter().copied())
        .collect()
}

// ---------------------------------------------------------------------------
// The module-level facts both the pass and the verifier need

struct Env {
    config: GcConfig,
    ctx: LLVMContextRef,
    module: LLVMModuleRef,
    /// The GC reference type: `ptr addrspace(1)`, or `ptr` on wasm32.
    gc_ty: LLVMTypeRef,
    /// `ptr` (address space 0).
    ptr_ty: LLVMTypeRef,
    /// `@weft_shadow_top`, or null when the module does not mention it.
    shadow_top: LLVMValueRef,
    root_kind: c_uint,
    coro_kind: c_uint,
    coro_init_kind: c_uint,
    data_layout: LLVMTargetDataRef,
    /// Size and alignment of a root slot (a GC reference).
    slot_size: u64,
    slot_align: c_uint,
    /// Where the promise sits in a coroutine frame: right after the resume and
    /// destroy function pointers (16 natively, 8 on wasm32). The runtime relies
    /// on it, and LLVM puts the promise there (right after the two pointers).
    promise_offset: i64,
}

unsafe fn md_kind(ctx: LLVMContextRef, name: &str) -> c_uint {
    LLVMGetMDKindIDInContext(ctx, name.as_ptr() as *const c_char, name.len() as c_uint)
}

impl Env {
    unsafe fn new(function: LLVMValueRef, config: GcConfig) -> Env {
        let module = LLVMGetGlobalParent(function);
        let ctx = LLVMGetModuleContext(module);
        let name = CString::new(crate::runtime_abi::SHADOW_TOP).unwrap_or_default();
        let gc_ty = LLVMPointerTypeInContext(ctx, config.gc_addrspace);
        let data_layout = LLVMGetModuleDataLayout(module);
        Env {
            config,
            ctx,
            module,
            gc_ty,
            ptr_ty: LLVMPointerTypeInContext(ctx, 0),
            shadow_top: LLVMGetNamedGlobal(module, name.as_ptr()),
            root_kind: md_kind(ctx, ROOT_FRAME_MD),
            coro_kind: md_kind(ctx, CORO_ROOTS_MD),
            coro_init_kind: md_kind(ctx, CORO_INIT_MD),
            data_layout,
            slot_size: LLVMABISizeOfType(data_layout, gc_ty),
            slot_align: LLVMABIAlignmentOfType(data_layout, gc_ty),
            promise_offset: 2 * i64::from(LLVMPointerSize(data_layout)),
        }
    }

    /// `@weft_shadow_top`, declared as an external `ptr` global if missing.
    unsafe fn shadow_top(&mut self) -> LLVMValueRef {
        if self.shadow_top.is_null() {
            let name = CString::new(crate::runtime_abi::SHADOW_TOP).unwrap_or_default();
            self.shadow_top = LLVMAddGlobal(self.module, self.ptr_ty, name.as_ptr());
        }
        self.shadow_top
    }

    unsafe fn is_gc_pointer_type(&self, ty: LLVMTypeRef) -> bool {
        LLVMGetTypeKind(ty) == LLVMTypeKind::LLVMPointerTypeKind
            && LLVMGetPointerAddressSpace(ty) == self.config.gc_addrspace
    }

    /// A struct, array or vector type with a GC pointer somewhere inside.
    unsafe fn contains_gc_pointer(&self, ty: LLVMTypeRef) -> bool {
        match LLVMGetTypeKind(ty) {
            LLVMTypeKind::LLVMPointerTypeKind => self.is_gc_pointer_type(ty),
            LLVMTypeKind::LLVMStructTypeKind => (0..LLVMCountStructElementTypes(ty))
                .any(|i| self.contains_gc_pointer(LLVMStructGetTypeAtIndex(ty, i))),
            LLVMTypeKind::LLVMArrayTypeKind
            | LLVMTypeKind::LLVMVectorTypeKind
            | LLVMTypeKind::LLVMScalableVectorTypeKind => {
                self.contains_gc_pointer(LLVMGetElementType(ty))
            }
            _ => false,
        }
    }

    /// A root-frame alloca: marked by the pass, or linked into the shadow stack.
    unsafe fn is_root_frame(&self, alloca: LLVMValueRef) -> bool {
        if LLVMIsAAllocaInst(alloca).is_null() {
            return false;
        }
        if !LLVMGetMetadata(alloca, self.root_kind).is_null() {
            return true;
        }
        if self.shadow_top.is_null() {
            return false;
        }
        let mut u = LLVMGetFirstUse(alloca);
        while !u.is_null() {
            let user = LLVMGetUser(u);
            if opcode(user) == Some(LLVMOpcode::LLVMStore)
                && operand(user, 0) == alloca
                && operand(user, 1) == self.shadow_top
            {
                return true;
            }
            u = LLVMGetNextUse(u);
        }
        false
    }
}

// ---------------------------------------------------------------------------
// A function's blocks, instruction positions, predecessors and safepoints

struct Body {
    blocks: Vec<LLVMBasicBlockRef>,
    index: HashMap<LLVMBasicBlockRef, usize>,
    insts: Vec<Vec<LLVMValueRef>>,
    /// Block and position of every instruction.
    at: HashMap<LLVMValueRef, (usize, usize)>,
    preds: Vec<Vec<usize>>,
    /// Positions of the safepoints in each block, ascending.
    safepoints: Vec<Vec<usize>>,
}

impl Body {
    unsafe fn new(function: LLVMValueRef) -> Body {
        let blocks = blocks_of(function);
        let index: HashMap<_, _> = blocks.iter().enumerate().map(|(i, &b)| (b, i)).collect();
        let mut insts = Vec::with_capacity(blocks.len());
        let mut at = HashMap::new();
        let mut preds = vec![Vec::new(); blocks.len()];
        let mut safepoints = Vec::with_capacity(blocks.len());
        for (bi, &block) in blocks.iter().enumerate() {
            let list = instructions_of(block);
            let mut points = Vec::new();
            for (pos, &inst) in list.iter().enumerate() {
                at.insert(inst, (bi, pos));
                if is_safepoint(inst) {
                    points.push(pos);
                }
            }
            let term = LLVMGetBasicBlockTerminator(block);
            if !term.is_null() {
                for s in 0..LLVMGetNumSuccessors(term) {
                    if let Some(&si) = index.get(&LLVMGetSuccessor(term, s)) {
                        let p: &mut Vec<usize> = &mut preds[si];
                        if !p.contains(&bi) {
                            p.push(bi);
                        }
                    }
                }
            }
            insts.push(list);
            safepoints.push(points);
        }
        Body {
            blocks,
            index,
            insts,
            at,
            preds,
            safepoints,
        }
    }

    /// The first safepoint in block `b` strictly after position `after` and
    /// strictly before `before` (`None`: the block's start or end).
    fn safepoint_between(
        &self,
        b: usize,
        after: Option<usize>,
        before: Option<usize>,
    ) -> Option<LLVMValueRef> {
        self.safepoints[b]
            .iter()
            .find(|&&p| after.is_none_or(|a| p > a) && before.is_none_or(|e| p < e))
            .map(|&p| self.insts[b][p])
    }
}

/// Arithmetic that lives across a suspend is kept in the frame, not
/// recomputed after it: each such value gets a `freeze` right after its
/// definition, and every use goes through it. CoroSplit rematerializes
/// binary operators, comparisons and selects from their operands instead of
/// spilling them; a generator's `x = f(x); yield x` then spills the old `x`
/// and applies `f` again after each resume, so once inlined into a `for`
/// loop `f` runs twice per value. A `freeze` is not rematerialized; right
/// after CoroSplit, [`thaw`] takes them out again.
/// Returns whether it changed anything.
unsafe fn freeze_across_suspends(function: LLVMValueRef) -> bool {
    let mut body = Body::new(function);
    // Liveness across suspends only (not across every safepoint).
    for (b, points) in body.safepoints.iter_mut().enumerate() {
        let insts = &body.insts[b];
        points.retain(|&p| callee_name(insts[p]).as_deref() == Some("llvm.coro.suspend"));
    }
    let mut liveness = Liveness::new(&body);
    let mut crossing = Vec::new();
    for &inst in body.insts.iter().flatten() {
        let rematerializable = matches!(
            opcode(inst),
            Some(
                LLVMOpcode::LLVMAdd
                    | LLVMOpcode::LLVMSub
                    | LLVMOpcode::LLVMMul
                    | LLVMOpcode::LLVMShl
                    | LLVMOpcode::LLVMLShr
                    | LLVMOpcode::LLVMAShr
                    | LLVMOpcode::LLVMAnd
                    | LLVMOpcode::LLVMOr
                    | LLVMOpcode::LLVMXor
                    | LLVMOpcode::LLVMFAdd
                    | LLVMOpcode::LLVMFSub
                    | LLVMOpcode::LLVMFMul
                    | LLVMOpcode::LLVMSelect
                    | LLVMOpcode::LLVMICmp
                    | LLVMOpcode::LLVMFCmp
            )
        );
        // Scalars only: a reference live across a suspend is in the root
        // area already, and must stay where the pass put it.
        let scalar = matches!(
            LLVMGetTypeKind(LLVMTypeOf(inst)),
            LLVMTypeKind::LLVMIntegerTypeKind | LLVMTypeKind::LLVMDoubleTypeKind
        );
        if !rematerializable || !scalar {
            continue;
        }
        let uses = use_sites(inst);
        if !uses.is_empty() && liveness.live_across(def_of(&body, inst), &uses).is_some() {
            crossing.push(inst);
        }
    }
    if crossing.is_empty() {
        return false;
    }
    let ctx = LLVMGetTypeContext(LLVMTypeOf(function));
    let builder = Builder::new(ctx);
    let kept = md_kind(ctx, KEPT_MD);
    let marker = LLVMMetadataAsValue(ctx, LLVMMDNodeInContext2(ctx, std::ptr::null_mut(), 0));
    for inst in crossing {
        let next = LLVMGetNextInstruction(inst);
        LLVMPositionBuilderBefore(builder.0, next);
        let frozen = LLVMBuildFreeze(builder.0, inst, c"kept".as_ptr());
        LLVMSetMetadata(frozen, kept, marker);
        // Every use but the freeze's own goes through it.
        LLVMReplaceAllUsesWith(inst, frozen);
        LLVMSetOperand(frozen, 0, inst);
    }
    true
}

/// Undoes [`freeze_across_suspends`] in a function CoroSplit has split (or
/// that never was a coroutine): the freezes only had to outlast CoroSplit's
/// rematerialization, and each one left would cost EarlyCSE and InstCombine
/// a walk up the dominator tree (quadratic in a long straight-line
/// coroutine). Nothing between their insertion and here looks at them, so
/// the values are exactly what they were before. Returns whether it changed
/// anything.
unsafe fn thaw(function: LLVMValueRef, config: GcConfig) -> Thawed {
    let kept = md_kind(LLVMGetTypeContext(LLVMTypeOf(function)), KEPT_MD);
    let mut frozen = Vec::new();
    for block in blocks_of(function) {
        for inst in instructions_of(block) {
            if callee_name(inst).as_deref() == Some("llvm.coro.suspend") {
                return Thawed::Nothing;
            }
            if opcode(inst) == Some(LLVMOpcode::LLVMFreeze)
                && !LLVMGetMetadata(inst, kept).is_null()
            {
                frozen.push(inst);
            }
        }
    }
    for &inst in &frozen {
        LLVMReplaceAllUsesWith(inst, LLVMGetOperand(inst, 0));
        LLVMInstructionEraseFromParent(inst);
    }
    // CoroSplit copies the root-area metadata onto the ramp and every clone.
    let split_coroutine = RootsMd::of_function(&Env::new(function, config), function).is_some();
    match (split_coroutine, frozen.is_empty()) {
        (true, _) => Thawed::Split,
        (false, false) => Thawed::Frozen,
        (false, true) => Thawed::Nothing,
    }
}

/// What [`thaw`] found.
enum Thawed {
    /// A suspend is left, or the function never was a coroutine.
    Nothing,
    /// Freezes removed from a function that is no coroutine part.
    Frozen,
    /// A coroutine's ramp or clone after CoroSplit.
    Split,
}

/// Where a value is defined: at function entry (an argument) or at an instruction.
#[derive(Clone, Copy)]
enum Def {
    Entry,
    At(usize, usize),
}

/// One use of a value: by an instruction (all its operands that are the
/// value), or by a phi on the edge from `block`.
#[derive(Clone, Copy)]
enum UseSite {
    Inst(LLVMValueRef),
    Phi {
        phi: LLVMValueRef,
        index: u32,
        block: LLVMBasicBlockRef,
    },
}

unsafe fn use_sites(v: LLVMValueRef) -> Vec<UseSite> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    let mut u = LLVMGetFirstUse(v);
    while !u.is_null() {
        let user = LLVMGetUser(u);
        u = LLVMGetNextUse(u);
        if !seen.insert(user) || LLVMIsAInstruction(user).is_null() {
            continue;
        }
        if opcode(user) == Some(LLVMOpcode::LLVMPHI) {
            for i in 0..LLVMCountIncoming(user) {
                if LLVMGetIncomingValue(user, i) == v {
                    out.push(UseSite::Phi {
                        phi: user,
                        index: i,
                        block: LLVMGetIncomingBlock(user, i),
                    });
                }
            }
        } else {
            out.push(UseSite::Inst(user));
        }
    }
    out
}

/// Liveness of one value at a time: is it live across a safepoint, i.e. does
/// some path from its definition reach a safepoint and go on to a use
/// without passing the definition again? A backward walk from the uses,
/// which handles loops: a block is visited once per value. The same walk
/// gives each value's hull, for sharing root slots.
struct Liveness<'a> {
    body: &'a Body,
    stamp: Vec<u32>,
    generation: u32,
    /// Each block's first instruction's position in layout order (for
    /// `hull`; made on first use).
    starts: Vec<usize>,
}

impl<'a> Liveness<'a> {
    fn new(body: &'a Body) -> Self {
        Liveness {
            body,
            stamp: vec![0; body.blocks.len()],
            generation: 0,
            starts: Vec::new(),
        }
    }

    /// The first safepoint found that the value is live across, if any.
    fn live_across(&mut self, def: Def, uses: &[UseSite]) -> Option<LLVMValueRef> {
        let body = self.body;
        let mut found = None;
        self.walk(def, uses, |b, after, before| {
            found = body.safepoint_between(b, after, before);
            found.is_some()
        });
        found
    }

    /// Where a value is live, as one range of positions (blocks in layout
    /// order) containing all of it: its definition, every use, and the whole
    /// of every block it lives through. A superset of the real live range,
    /// so two values whose hulls are disjoint are never live at the same
    /// point and may share a root slot.
    fn hull(&mut self, def: Def, uses: &[UseSite]) -> (usize, usize) {
        if self.starts.is_empty() {
            let mut at = 0;
            for list in &self.body.insts {
                self.starts.push(at);
                at += list.len();
            }
            self.starts.push(at);
        }
        let starts = std::mem::take(&mut self.starts);
        let def_at = match def {
            Def::Entry => 0,
            Def::At(b, p) => starts[b] + p,
        };
        let (mut lo, mut hi) = (def_at, def_at);
        self.walk(def, uses, |b, after, before| {
            lo = lo.min(after.map_or(starts[b], |p| starts[b] + p));
            let end = starts[b + 1].saturating_sub(1).max(starts[b]);
            hi = hi.max(before.map_or(end, |p| starts[b] + p));
            false
        });
        self.starts = starts;
        (lo, hi)
    }

    /// Calls `segment(block, after, before)` for each stretch of a block
    /// where the value is live: strictly after position `after` and before
    /// `before` (`None`: the block's start or end), found backwards from the
    /// uses. Stops early when `segment` returns true.
    fn walk(
        &mut self,
        def: Def,
        uses: &[UseSite],
        mut segment: impl FnMut(usize, Option<usize>, Option<usize>) -> bool,
    ) {
        self.generation += 1;
        let generation = self.generation;
        let body = self.body;
        let (def_block, def_pos) = match def {
            Def::Entry => (0, None),
            Def::At(b, p) => (b, Some(p)),
        };
        // Blocks at whose end the value is live.
        let mut live_out: Vec<usize> = Vec::new();
        for site in uses {
            match *site {
                UseSite::Inst(user) => {
                    let Some(&(ub, up)) = body.at.get(&user) else {
                        continue;
                    };
                    if ub == def_block && def_pos.is_none_or(|d| up > d) {
                        if segment(ub, def_pos, Some(up)) {
                            return;
                        }
                    } else {
                        if segment(ub, None, Some(up)) {
                            return;
                        }
                        live_out.extend(&body.preds[ub]);
                    }
                }
                UseSite::Phi { block, .. } => {
                    if let Some(&b) = body.index.get(&block) {
                        live_out.push(b);
                    }
                }
            }
        }
        while let Some(b) = live_out.pop() {
            if self.stamp[b] == generation {
                continue;
            }
            self.stamp[b] = generation;
            if b == def_block {
                if segment(b, def_pos, None) {
                    return;
                }
                continue;
            }
            if segment(b, None, None) {
                return;
            }
            live_out.extend(&body.preds[b]);
        }
    }
}

/// The function's GC values: arguments and instructions that are (or, on
/// wasm32, may be) GC references, pointers derived from them, and integers
/// made from them by `ptrtoint` (which must keep their object alive too).
/// Aggregates and vectors holding GC pointers are included; the pass rejects
/// them if they are live across a safepoint.
struct GcValues {
    set: HashSet<LLVMValueRef>,
    /// Arguments, then instructions in block order: a deterministic order.
    order: Vec<LLVMValueRef>,
}

/// Coroutine frames are GC objects: the pointer `@weft_coro_alloc` returns,
/// and what `llvm.coro.begin` makes of it, are references too, except those
/// in `excluded` (see [`not_gc`]).
unsafe fn gc_values(
    env: &Env,
    function: LLVMValueRef,
    body: &Body,
    excluded: &HashSet<LLVMValueRef>,
) -> GcValues {
    let excluded = |v: LLVMValueRef| excluded.contains(&v);
    let mut set = HashSet::new();
    for i in 0..LLVMCountParams(function) {
        let arg = LLVMGetParam(function, i);
        if env.contains_gc_pointer(LLVMTypeOf(arg)) && !excluded(arg) {
            set.insert(arg);
        }
    }
    // A fixpoint: phis and selects may refer to values later in block order.
    loop {
        let mut grew = false;
        for &inst in body.insts.iter().flatten() {
            if !set.contains(&inst) && !excluded(inst) && is_gc_instruction(env, inst, &set) {
                set.insert(inst);
                grew = true;
            }
        }
        if !grew {
            break;
        }
    }
    let mut order: Vec<LLVMValueRef> = (0..LLVMCountParams(function))
        .map(|i| LLVMGetParam(function, i))
        .filter(|a| set.contains(a))
        .collect();
    order.extend(
        body.insts
            .iter()
            .flatten()
            .filter(|i| set.contains(*i))
            .copied(),
    );
    GcValues { set, order }
}

unsafe fn is_gc_instruction(env: &Env, inst: LLVMValueRef, set: &HashSet<LLVMValueRef>) -> bool {
    let ty = LLVMTypeOf(inst);
    let Some(op) = opcode(inst) else {
        return false;
    };
    // On wasm32 a reference's 64-bit bits are `zext (ptrtoint p)`: the
    // widened integer keeps the object alive just the same.
    if matches!(
        op,
        LLVMOpcode::LLVMPtrToInt | LLVMOpcode::LLVMPtrToAddr | LLVMOpcode::LLVMZExt
    ) {
        return set.contains(&operand(inst, 0));
    }
    let is_pointer = LLVMGetTypeKind(ty) == LLVMTypeKind::LLVMPointerTypeKind;
    if let (true, Some(name)) = (is_pointer, callee_name(inst)) {
        // A coroutine frame is a GC object; its handle and promise point into it.
        match name.as_str() {
            CORO_ALLOC => return true,
            "llvm.coro.begin" | "llvm.coro.begin.custom.abi" => {
                return set.contains(&operand(inst, 1))
            }
            "llvm.coro.promise" => return set.contains(&operand(inst, 0)),
            _ if name.starts_with("llvm.coro.") => return false,
            _ => {}
        }
    }
    if !env.is_gc_pointer_type(ty) {
        if is_pointer {
            // Natively, a `ptr` made from a reference by `addrspacecast` (then
            // GEPs, phis, selects), e.g. a generator's coroutine handle, is an
            // interior pointer: it must keep its object alive too, and CoroSplit
            // would rematerialise the cast after a suspend, spilling its base.
            return is_derived(inst, op, set);
        }
        return env.contains_gc_pointer(ty);
    }
    if env.config.gc_addrspace != 0 {
        // Natively the type says it all.
        return true;
    }
    // wasm32: a `ptr` is a potential GC reference unless it is derived from
    // an alloca, a global or a function (constants are never in the set).
    match op {
        LLVMOpcode::LLVMAlloca => false,
        LLVMOpcode::LLVMGetElementPtr
        | LLVMOpcode::LLVMBitCast
        | LLVMOpcode::LLVMAddrSpaceCast
        | LLVMOpcode::LLVMFreeze
        | LLVMOpcode::LLVMPHI
        | LLVMOpcode::LLVMSelect => is_derived(inst, op, set),
        // The saved shadow-stack top is a frame address, not a GC reference.
        LLVMOpcode::LLVMLoad => env.shadow_top.is_null() || operand(inst, 0) != env.shadow_top,
        _ => true,
    }
}

/// Whether a pointer instruction is derived from a value of the set (a GEP,
/// cast, phi or select of one).
unsafe fn is_derived(inst: LLVMValueRef, op: LLVMOpcode, set: &HashSet<LLVMValueRef>) -> bool {
    match op {
        LLVMOpcode::LLVMGetElementPtr
        | LLVMOpcode::LLVMBitCast
        | LLVMOpcode::LLVMAddrSpaceCast
        | LLVMOpcode::LLVMFreeze => set.contains(&operand(inst, 0)),
        LLVMOpcode::LLVMPHI => {
            (0..LLVMCountIncoming(inst)).any(|i| set.contains(&LLVMGetIncomingValue(inst, i)))
        }
        LLVMOpcode::LLVMSelect => {
            set.contains(&operand(inst, 1)) || set.contains(&operand(inst, 2))
        }
        _ => false,
    }
}

// ---------------------------------------------------------------------------
// Coroutine root areas: where they are, before and after CoroSplit

/// A coroutine's root area as the pass records it (`!weft.coro.roots`):
/// `count` slots at byte `slots_offset` of the promise.
#[derive(Clone, Debug, PartialEq, Eq)]
struct RootsMd {
    /// The coroutine the pass processed (the ramp keeps the name; CoroSplit
    /// names the clones `<name>.resume`, `.destroy` and `.cleanup`).
    name: String,
    slots_offset: i64,
    count: i64,
}

impl RootsMd {
    unsafe fn node(&self, env: &Env) -> LLVMMetadataRef {
        let i64_ty = LLVMInt64TypeInContext(env.ctx);
        let mut ops = [
            LLVMMDStringInContext2(
                env.ctx,
                self.name.as_ptr() as *const c_char,
                self.name.len(),
            ),
            LLVMValueAsMetadata(LLVMConstInt(i64_ty, self.slots_offset as u64, 1)),
            LLVMValueAsMetadata(LLVMConstInt(i64_ty, self.count as u64, 1)),
        ];
        LLVMMDNodeInContext2(env.ctx, ops.as_mut_ptr(), ops.len())
    }

    /// Reads a node made by [`RootsMd::node`] (given as a value).
    unsafe fn read(node: LLVMValueRef) -> Option<RootsMd> {
        if node.is_null() || LLVMGetMDNodeNumOperands(node) != 3 {
            return None;
        }
        let mut ops = [std::ptr::null_mut(); 3];
        LLVMGetMDNodeOperands(node, ops.as_mut_ptr());
        let mut len = 0;
        let name = LLVMGetMDString(ops[0], &mut len);
        if name.is_null() || ops[1..].iter().any(|&o| LLVMIsAConstantInt(o).is_null()) {
            return None;
        }
        Some(RootsMd {
            name: str_of(name, len as usize),
            slots_offset: LLVMConstIntGetSExtValue(ops[1]),
            count: LLVMConstIntGetSExtValue(ops[2]),
        })
    }

    unsafe fn of_instruction(env: &Env, inst: LLVMValueRef) -> Option<RootsMd> {
        RootsMd::read(LLVMGetMetadata(inst, env.coro_kind))
    }

    unsafe fn of_function(env: &Env, function: LLVMValueRef) -> Option<RootsMd> {
        let mut n = 0usize;
        let entries = LLVMGlobalCopyAllMetadata(function, &mut n);
        if entries.is_null() {
            return None;
        }
        let mut found = None;
        for i in 0..n as c_uint {
            if LLVMValueMetadataEntriesGetKind(entries, i) == env.coro_kind {
                let md = LLVMValueMetadataEntriesGetMetadata(entries, i);
                found = RootsMd::read(LLVMMetadataAsValue(env.ctx, md));
            }
        }
        LLVMDisposeValueMetadataEntries(entries);
        found
    }
}

/// The root area of one coroutine frame (or, before CoroSplit, of one
/// promise): bytes `[start, end)` from `base`.
#[derive(Clone, Copy, Debug)]
struct FrameArea {
    base: LLVMValueRef,
    start: i64,
    end: i64,
    /// Where the promise starts from `base`, when found from the `count`
    /// store: the runtime expects [`Env::promise_offset`].
    promise_at: Option<i64>,
    /// A shadow-stack root frame (an inlined callee's) that CoroSplit moved
    /// into the coroutine frame, rather than a coroutine root area.
    linked: bool,
}

/// Where a root frame `{ ptr prev, i64 count, [N x ref] }` keeps `count`
/// and its slots, on both targets (the `i64` aligns the slots to 16).
const ROOT_FRAME_COUNT_AT: i64 = 8;
const ROOT_FRAME_SLOTS_AT: i64 = 16;

/// The constant byte offset a GEP adds, if its indices are constants.
unsafe fn gep_offset(td: LLVMTargetDataRef, gep: LLVMValueRef) -> Option<i64> {
    let mut ty = LLVMGetGEPSourceElementType(gep);
    let mut offset = 0i64;
    for i in 1..num_operands(gep) {
        let index = operand(gep, i);
        if LLVMIsAConstantInt(index).is_null() {
            return None;
        }
        let c = LLVMConstIntGetSExtValue(index);
        let add = if i == 1 {
            c.checked_mul(LLVMABISizeOfType(td, ty) as i64)?
        } else {
            match LLVMGetTypeKind(ty) {
                LLVMTypeKind::LLVMStructTypeKind => {
                    let field = c_uint::try_from(c).ok()?;
                    let at = LLVMOffsetOfElement(td, ty, field) as i64;
                    ty = LLVMStructGetTypeAtIndex(ty, field);
                    at
                }
                LLVMTypeKind::LLVMArrayTypeKind | LLVMTypeKind::LLVMVectorTypeKind => {
                    ty = LLVMGetElementType(ty);
                    c.checked_mul(LLVMABISizeOfType(td, ty) as i64)?
                }
                _ => return None,
            }
        };
        offset = offset.checked_add(add)?;
    }
    Some(offset)
}

/// The pointer a pointer is based on through GEPs and casts, and its byte
/// offset from it when all of them are constant.
unsafe fn strip_offsets(td: LLVMTargetDataRef, mut p: LLVMValueRef) -> (LLVMValueRef, Option<i64>) {
    let mut offset = Some(0i64);
    loop {
        match opcode(p) {
            Some(LLVMOpcode::LLVMGetElementPtr) => {
                offset = offset
                    .zip(gep_offset(td, p))
                    .and_then(|(a, b)| a.checked_add(b));
                p = operand(p, 0);
            }
            Some(LLVMOpcode::LLVMBitCast | LLVMOpcode::LLVMAddrSpaceCast) => p = operand(p, 0),
            _ => return (p, offset),
        }
    }
}

/// Whether the function is a CoroSplit clone of the coroutine `roots` describes.
unsafe fn is_clone_of(function: LLVMValueRef, roots: &RootsMd) -> bool {
    let name = raw_name(function);
    CORO_CLONE_SUFFIXES
        .iter()
        .any(|suffix| name.strip_suffix(suffix) == Some(roots.name.as_str()))
}

/// The coroutine root areas a function can reach directly: the promise of a
/// pre-split coroutine (marked alloca), every frame whose `count` the function
/// initialises (a ramp after CoroSplit, or a ramp inlined into it), in a
/// CoroSplit clone the frame it gets as its first argument, and (with an empty
/// root area) any other frame from `@weft_coro_alloc`.
unsafe fn frame_areas(env: &Env, function: LLVMValueRef, body: &Body) -> Vec<FrameArea> {
    let area = |roots: &RootsMd, base, promise_at: Option<i64>| {
        let start = promise_at.unwrap_or(0) + roots.slots_offset;
        FrameArea {
            base,
            start,
            end: start + roots.count * env.slot_size as i64,
            promise_at,
            linked: false,
        }
    };
    let mut out = Vec::new();
    for &inst in body.insts.iter().flatten() {
        let Some(roots) = RootsMd::of_instruction(env, inst) else {
            continue;
        };
        if !LLVMIsAAllocaInst(inst).is_null() {
            out.push(area(&roots, inst, None));
        } else if opcode(inst) == Some(LLVMOpcode::LLVMStore) {
            let (base, at) = strip_offsets(env.data_layout, operand(inst, 1));
            let promise = !LLVMIsAAllocaInst(base).is_null()
                && !LLVMGetMetadata(base, env.coro_kind).is_null();
            if let (false, Some(at)) = (promise, at) {
                out.push(area(&roots, base, Some(at)));
            }
        }
    }
    if let Some(roots) = RootsMd::of_function(env, function) {
        if is_clone_of(function, &roots) && LLVMCountParams(function) >= 1 {
            let frame = LLVMGetParam(function, 0);
            if LLVMTypeOf(frame) == env.ptr_ty {
                out.push(area(&roots, frame, Some(env.promise_offset)));
            }
        }
    }
    // A frame the pass has not initialised has no root area at all.
    for &inst in body.insts.iter().flatten() {
        if callee_name(inst).as_deref() == Some(CORO_ALLOC) && !out.iter().any(|a| a.base == inst) {
            out.push(FrameArea {
                base: inst,
                start: 0,
                end: 0,
                promise_at: Some(env.promise_offset),
                linked: false,
            });
        }
    }
    out.extend(linked_root_frames(env, body, &out));
    out
}

/// Root frames of inlined callees that live inside a coroutine frame: an
/// alloca whose address is stored into `@weft_shadow_top` becomes part of
/// the frame when CoroSplit cannot prove it dead at every suspend. The GC
/// finds it through the shadow stack like any root frame; its slots are
/// `[16, 16 + slot * count)` from where it was linked, `count` the constant
/// stored at +8.
unsafe fn linked_root_frames(env: &Env, body: &Body, frames: &[FrameArea]) -> Vec<FrameArea> {
    if env.shadow_top.is_null() {
        return Vec::new();
    }
    let stores: Vec<LLVMValueRef> = body
        .insts
        .iter()
        .flatten()
        .copied()
        .filter(|&i| opcode(i) == Some(LLVMOpcode::LLVMStore))
        .collect();
    let mut out = Vec::new();
    for &st in &stores {
        if operand(st, 1) != env.shadow_top {
            continue;
        }
        let (base, Some(at)) = strip_offsets(env.data_layout, operand(st, 0)) else {
            continue;
        };
        if !frames.iter().any(|a| a.base == base) {
            continue;
        }
        // CoroSplit may give the root frames of several inlined calls the
        // same place in the frame: the largest count covers them all.
        let count = stores.iter().filter_map(|&c| {
            let value = operand(c, 0);
            if LLVMIsAConstantInt(value).is_null() {
                return None;
            }
            let (b, o) = strip_offsets(env.data_layout, operand(c, 1));
            (b == base && o == Some(at + ROOT_FRAME_COUNT_AT))
                .then(|| LLVMConstIntGetSExtValue(value))
        });
        let count = count.max();
        if let Some(count) = count {
            let start = at + ROOT_FRAME_SLOTS_AT;
            out.push(FrameArea {
                base,
                start,
                end: start + count * env.slot_size as i64,
                promise_at: None,
                linked: true,
            });
        }
    }
    out
}

unsafe fn def_of(body: &Body, v: LLVMValueRef) -> Def {
    match body.at.get(&v) {
        Some(&(b, p)) => Def::At(b, p),
        None => Def::Entry,
    }
}

// ---------------------------------------------------------------------------
// The pass

/// What the pass did to one function.
#[derive(Debug, Default)]
struct Outcome {
    changed: bool,
    /// What got a root slot, in slot order (names of values and allocas).
    slots: Vec<String>,
    /// The function is a coroutine before CoroSplit.
    coroutine: bool,
}

impl Outcome {
    fn flags(&self) -> c_uint {
        if self.changed {
            CHANGED
        } else {
            0
        }
    }
}

/// A GC value that must live in a root slot, with its uses before the pass.
struct Demotion {
    value: LLVMValueRef,
    uses: Vec<UseSite>,
    /// The smallest range of instruction positions (blocks in layout
    /// order) that holds every point where the value is live.
    hull: (usize, usize),
}

/// Runs the pass on one function: analyses first (every unsupported case is
/// reported before anything changes), then rewrites.
unsafe fn spill_function(
    function: LLVMValueRef,
    config: GcConfig,
    freeze_now: bool,
) -> Result<Outcome, String> {
    if LLVMIsDeclaration(function) != 0 {
        return Ok(Outcome::default());
    }
    let mut env = Env::new(function, config);
    let body = Body::new(function);
    let fname = raw_name(function);
    let unsupported = |what: String| format!("function `{fname}`: unsupported: {what}");
    if let Some(id) = presplit_coro_id(function, &body).map_err(unsupported)? {
        let mut outcome = spill_coroutine(&env, function, &body, id).map_err(unsupported)?;
        if freeze_now {
            outcome.changed |= freeze_across_suspends(function);
        }
        outcome.coroutine = true;
        return Ok(outcome);
    }
    let frames = frame_areas(&env, function, &body);
    let gc = gc_values(&env, function, &body, &not_gc(&frames, &[]));
    let data_layout = env.data_layout;
    let slot_align = env.slot_align;

    // (a) Allocas of the GC pointer type become root slots.
    let allocas = gc_allocas(&env, &body).map_err(unsupported)?;

    // (b) GC values live across a safepoint are demoted to root slots.
    let demoted = demotions(&env, &body, &gc).map_err(unsupported)?;

    let had_frame = body.insts.iter().flatten().any(|&i| env.is_root_frame(i));
    if allocas.is_empty() && demoted.is_empty() {
        let cleared = had_frame && clear_tail_markers(&body);
        return Ok(Outcome {
            changed: cleared,
            slots: Vec::new(),
            coroutine: false,
        });
    }
    if LLVMHasPersonalityFn(function) != 0 {
        return Err(unsupported(
            "a root frame in a function with exception handling".into(),
        ));
    }

    // (c) The frame, its slots, the stores and reloads, and the pops.
    let alloca_slots: u64 = allocas.iter().map(|&(_, n)| n).sum();
    let (colors, demoted_slots) = color_slots(&demoted);
    let n_slots = alloca_slots + demoted_slots;
    let builder = Builder::new(env.ctx);
    let b = builder.0;
    let i32_ty = LLVMInt32TypeInContext(env.ctx);
    let i64_ty = LLVMInt64TypeInContext(env.ctx);
    let mut fields = [env.ptr_ty, i64_ty, LLVMArrayType2(env.gc_ty, n_slots)];
    let frame_ty = LLVMStructTypeInContext(env.ctx, fields.as_mut_ptr(), 3, 0);
    let entry = body.blocks[0];
    let first = LLVMGetFirstInstruction(entry);
    let mut setup_at = first;
    while !LLVMIsAAllocaInst(setup_at).is_null() {
        setup_at = LLVMGetNextInstruction(setup_at);
    }

    LLVMPositionBuilderBefore(b, first);
    let frame = LLVMBuildAlloca(b, frame_ty, c"frame.roots".as_ptr());
    let marker = LLVMMDNodeInContext2(env.ctx, std::ptr::null_mut(), 0);
    LLVMSetMetadata(frame, env.root_kind, LLVMMetadataAsValue(env.ctx, marker));

    LLVMPositionBuilderBefore(b, setup_at);
    let shadow_top = env.shadow_top();
    let prev = LLVMBuildLoad2(b, env.ptr_ty, shadow_top, c"frame.prev".as_ptr());
    LLVMBuildStore(b, prev, frame);
    let count_ptr = LLVMBuildStructGEP2(b, frame_ty, frame, 1, c"frame.count".as_ptr());
    LLVMBuildStore(b, LLVMConstInt(i64_ty, n_slots, 0), count_ptr);
    let slots_ptr = LLVMBuildStructGEP2(b, frame_ty, frame, 2, c"frame.slots".as_ptr());
    let slot_size = LLVMABISizeOfType(data_layout, env.gc_ty);
    LLVMBuildMemSet(
        b,
        slots_ptr,
        LLVMConstInt(LLVMInt8TypeInContext(env.ctx), 0, 0),
        LLVMConstInt(i64_ty, n_slots * slot_size, 0),
        slot_align,
    );
    LLVMBuildStore(b, frame, shadow_top);
    let slot = |k: u64| {
        let mut idx = [
            LLVMConstInt(i32_ty, 0, 0),
            LLVMConstInt(i32_ty, 2, 0),
            LLVMConstInt(i64_ty, k, 0),
        ];
        let name = CString::new(format!("root.{k}")).unwrap_or_default();
        LLVMBuildInBoundsGEP2(b, frame_ty, frame, idx.as_mut_ptr(), 3, name.as_ptr())
    };

    let (outcome, slot_of) = assign_slots(&allocas, &demoted, &colors, slot);
    // The builder is still right after the frame set-up: spill arguments here.
    for (d, &root) in demoted.iter().zip(&slot_of) {
        if LLVMIsAArgument(d.value).is_null() {
            continue;
        }
        LLVMBuildStore(b, to_slot_value(&env, b, d.value), root);
    }
    store_and_reload(
        &env,
        b,
        &demoted,
        &slot_of,
        |v| !LLVMIsAArgument(v).is_null(),
        |_| false,
    );
    // Restore the shadow stack before every return (a musttail call must stay
    // right before its `ret`, so the frame is popped before that call).
    for &block in &body.blocks {
        let term = LLVMGetBasicBlockTerminator(block);
        if term.is_null() || opcode(term) != Some(LLVMOpcode::LLVMRet) {
            continue;
        }
        let before = LLVMGetPreviousInstruction(term);
        let at = if !before.is_null()
            && opcode(before) == Some(LLVMOpcode::LLVMCall)
            && LLVMGetTailCallKind(before) == LLVMTailCallKind::LLVMTailCallKindMustTail
        {
            before
        } else {
            term
        };
        LLVMPositionBuilderBefore(b, at);
        LLVMBuildStore(b, prev, shadow_top);
    }
    clear_tail_markers(&body);
    Ok(outcome)
}

/// The allocas of the GC pointer type (each becomes root slots), with their
/// element counts. They must be static: in the entry block, constant size.
unsafe fn gc_allocas(env: &Env, body: &Body) -> Result<Vec<(LLVMValueRef, u64)>, String> {
    let mut allocas = Vec::new();
    for (bi, list) in body.insts.iter().enumerate() {
        for &inst in list {
            if LLVMIsAAllocaInst(inst).is_null() {
                continue;
            }
            // `alloca ref, N` or (as InstCombine rewrites it) `alloca [N x ref]`.
            let ty = LLVMGetAllocatedType(inst);
            let per_element = if ty == env.gc_ty {
                1
            } else if LLVMGetTypeKind(ty) == LLVMTypeKind::LLVMArrayTypeKind
                && LLVMGetElementType(ty) == env.gc_ty
            {
                LLVMGetArrayLength2(ty)
            } else {
                continue;
            };
            let size = operand(inst, 0);
            if bi != 0 || LLVMIsAConstantInt(size).is_null() {
                return Err(format!("dynamic GC alloca `{}`", describe(inst)));
            }
            if LLVMGetAlignment(inst) > env.slot_align {
                return Err(format!("over-aligned GC alloca `{}`", describe(inst)));
            }
            allocas.push((inst, LLVMConstIntGetZExtValue(size) * per_element));
        }
    }
    Ok(allocas)
}

/// The GC values live across a safepoint, in `gc.order`, with their uses.
unsafe fn demotions(env: &Env, body: &Body, gc: &GcValues) -> Result<Vec<Demotion>, String> {
    let mut liveness = Liveness::new(body);
    let mut demoted = Vec::new();
    for &v in &gc.order {
        let uses = use_sites(v);
        if uses.is_empty() {
            continue;
        }
        let Some(safepoint) = liveness.live_across(def_of(body, v), &uses) else {
            continue;
        };
        check_demotable(env, v, &uses).map_err(|why| {
            format!(
                "`{}` is live across `{}` but {why}",
                describe(v),
                describe(safepoint)
            )
        })?;
        let hull = liveness.hull(def_of(body, v), &uses);
        demoted.push(Demotion {
            value: v,
            uses,
            hull,
        });
    }
    Ok(demoted)
}

/// Root slots for the demoted values, reused between values whose live
/// ranges do not meet (a chain of `s = s + ...` needs two slots, not one per
/// link: one slot each made the root frame, and LLVM's work on it, grow with
/// the chain). Linear scan over the hulls. Returns each value's slot, from
/// 0, and how many slots there are.
fn color_slots(demoted: &[Demotion]) -> (Vec<u64>, u64) {
    let mut order: Vec<usize> = (0..demoted.len()).collect();
    order.sort_by_key(|&i| demoted[i].hull);
    let mut color = vec![0u64; demoted.len()];
    // (end of the occupant's hull, slot), smallest end first.
    let mut busy: std::collections::BinaryHeap<std::cmp::Reverse<(usize, u64)>> =
        std::collections::BinaryHeap::new();
    let mut free: Vec<u64> = Vec::new();
    let mut count = 0u64;
    for i in order {
        let (lo, hi) = demoted[i].hull;
        // Strictly before: a value whose last use is the call that defines
        // the next one stays in its slot through that call.
        while let Some(&std::cmp::Reverse((end, slot))) = busy.peek() {
            if end >= lo {
                break;
            }
            busy.pop();
            free.push(slot);
        }
        let slot = free.pop().unwrap_or_else(|| {
            count += 1;
            count - 1
        });
        color[i] = slot;
        busy.push(std::cmp::Reverse((hi, slot)));
    }
    (color, count)
}

/// Why a GC value that is live across a safepoint cannot be demoted, if so.
unsafe fn check_demotable(env: &Env, v: LLVMValueRef, uses: &[UseSite]) -> Result<(), String> {
    let ty = LLVMTypeOf(v);
    let scalar = matches!(
        LLVMGetTypeKind(ty),
        LLVMTypeKind::LLVMIntegerTypeKind | LLVMTypeKind::LLVMPointerTypeKind
    );
    if !env.is_gc_pointer_type(ty) && !scalar {
        return Err("only single GC pointers can be kept in a root slot".into());
    }
    // Weft has no unwinding (panics exit), so no invokes; callbr is inline asm.
    if matches!(
        opcode(v),
        Some(LLVMOpcode::LLVMInvoke | LLVMOpcode::LLVMCallBr)
    ) {
        return Err("it is defined by an invoke or callbr".into());
    }
    for site in uses {
        if let UseSite::Phi { block, .. } = *site {
            if is_safepoint(LLVMGetBasicBlockTerminator(block)) {
                return Err("a phi uses it across the call that ends its incoming block".into());
            }
        }
    }
    Ok(())
}

/// Where the store of a demoted instruction goes: right after it, or after
/// the phis of its block for a phi (never a terminator: invokes are rejected).
/// Gives every GC alloca (replaced by its slot) and then every demoted value
/// its root slot, in that order; `slot(k)` builds the address of slot `k`.
/// Returns what got a slot and each demoted value's slot.
unsafe fn assign_slots(
    allocas: &[(LLVMValueRef, u64)],
    demoted: &[Demotion],
    colors: &[u64],
    slot: impl Fn(u64) -> LLVMValueRef,
) -> (Outcome, Vec<LLVMValueRef>) {
    let mut outcome = Outcome {
        changed: true,
        slots: Vec::new(),
        coroutine: false,
    };
    let mut next = 0u64;
    for &(alloca, count) in allocas {
        let gep = slot(next);
        outcome.slots.push(value_name(alloca));
        for _ in 1..count {
            outcome.slots.push(format!("{}[+]", value_name(alloca)));
        }
        next += count;
        replace_alloca(alloca, gep);
    }
    let mut slot_of = Vec::with_capacity(demoted.len());
    let mut made: HashMap<u64, LLVMValueRef> = HashMap::new();
    let mut names: Vec<Vec<String>> = Vec::new();
    for (d, &c) in demoted.iter().zip(colors) {
        slot_of.push(*made.entry(c).or_insert_with(|| slot(next + c)));
        let c = c as usize;
        if names.len() <= c {
            names.resize(c + 1, Vec::new());
        }
        names[c].push(value_name(d.value));
    }
    outcome.slots.extend(names.into_iter().map(|n| n.join("|")));
    (outcome, slot_of)
}

/// Stores each demoted value into its slot right after its definition
/// (unless `stored_already` says the caller did, e.g. for arguments) and
/// replaces each use by a reload placed just before it (for a phi, at the end
/// of the incoming block), except the uses `keeps_value` exempts.
unsafe fn store_and_reload(
    env: &Env,
    b: LLVMBuilderRef,
    demoted: &[Demotion],
    slot_of: &[LLVMValueRef],
    stored_already: impl Fn(LLVMValueRef) -> bool,
    keeps_value: impl Fn(UseSite) -> bool,
) {
    let mut phi_reloads: HashMap<(LLVMValueRef, LLVMBasicBlockRef), LLVMValueRef> = HashMap::new();
    for (d, &root) in demoted.iter().zip(slot_of) {
        let v = d.value;
        if !stored_already(v) {
            LLVMPositionBuilderBefore(b, store_point(v));
            LLVMBuildStore(b, to_slot_value(env, b, v), root);
        }
        for &site in &d.uses {
            if keeps_value(site) {
                continue;
            }
            match site {
                UseSite::Inst(user) => {
                    LLVMPositionBuilderBefore(b, user);
                    let reload = reload(env, b, v, root);
                    for i in 0..num_operands(user) {
                        if operand(user, i) == v {
                            LLVMSetOperand(user, i, reload);
                        }
                    }
                }
                UseSite::Phi { phi, index, block } => {
                    let reload = *phi_reloads.entry((v, block)).or_insert_with(|| {
                        LLVMPositionBuilderBefore(b, LLVMGetBasicBlockTerminator(block));
                        reload(env, b, v, root)
                    });
                    LLVMSetOperand(phi, index, reload);
                }
            }
        }
    }
}

unsafe fn store_point(v: LLVMValueRef) -> LLVMValueRef {
    let mut at = LLVMGetNextInstruction(v);
    while opcode(at) == Some(LLVMOpcode::LLVMPHI) {
        at = LLVMGetNextInstruction(at);
    }
    at
}

/// The value to store in a slot: the GC pointer, or a pointer of another
/// address space (`addrspacecast`) or an integer (`ptrtoint`) made from one,
/// turned back into a GC pointer.
unsafe fn to_slot_value(env: &Env, b: LLVMBuilderRef, v: LLVMValueRef) -> LLVMValueRef {
    let ty = LLVMTypeOf(v);
    if env.is_gc_pointer_type(ty) {
        v
    } else if LLVMGetTypeKind(ty) == LLVMTypeKind::LLVMPointerTypeKind {
        LLVMBuildAddrSpaceCast(b, v, env.gc_ty, c"gc.spill".as_ptr())
    } else {
        LLVMBuildIntToPtr(b, v, env.gc_ty, c"gc.spill".as_ptr())
    }
}

unsafe fn reload(
    env: &Env,
    b: LLVMBuilderRef,
    v: LLVMValueRef,
    root: LLVMValueRef,
) -> LLVMValueRef {
    let load = LLVMBuildLoad2(b, env.gc_ty, root, c"gc.reload".as_ptr());
    let ty = LLVMTypeOf(v);
    if env.is_gc_pointer_type(ty) {
        load
    } else if LLVMGetTypeKind(ty) == LLVMTypeKind::LLVMPointerTypeKind {
        LLVMBuildAddrSpaceCast(b, load, ty, c"gc.reload.ptr".as_ptr())
    } else {
        LLVMBuildPtrToInt(b, load, ty, c"gc.reload.int".as_ptr())
    }
}

/// Replaces a GC alloca by its root slot. Lifetime markers go: they may only
/// name an alloca, and the slot lives as long as the frame.
unsafe fn replace_alloca(alloca: LLVMValueRef, slot: LLVMValueRef) {
    let mut markers = Vec::new();
    let mut u = LLVMGetFirstUse(alloca);
    while !u.is_null() {
        let user = LLVMGetUser(u);
        if is_call(user)
            && called_function(user).is_some_and(|f| raw_name(f).starts_with("llvm.lifetime."))
            && !markers.contains(&user)
        {
            markers.push(user);
        }
        u = LLVMGetNextUse(u);
    }
    for m in markers {
        LLVMInstructionEraseFromParent(m);
    }
    let name = raw_name(alloca);
    LLVMReplaceAllUsesWith(alloca, slot);
    LLVMInstructionEraseFromParent(alloca);
    if !name.is_empty() {
        // The slot takes the local's name, so the IR still reads `%x.addr`.
        LLVMSetValueName2(slot, name.as_ptr() as *const c_char, name.len());
    }
}

/// Drops the `tail` marker of every safepoint call: it promises the callee
/// does not touch the caller's allocas, and the GC reads the root frame, so
/// LLVM's alias analysis would otherwise let root-slot stores be removed.
unsafe fn clear_tail_markers(body: &Body) -> bool {
    let mut changed = false;
    for (b, points) in body.safepoints.iter().enumerate() {
        for &p in points {
            let call = body.insts[b][p];
            if opcode(call) == Some(LLVMOpcode::LLVMCall)
                && LLVMGetTailCallKind(call) == LLVMTailCallKind::LLVMTailCallKindTail
            {
                LLVMSetTailCallKind(call, LLVMTailCallKind::LLVMTailCallKindNone);
                changed = true;
            }
        }
    }
    changed
}

// ---------------------------------------------------------------------------
// The pass on a coroutine (before CoroSplit)

/// A coroutine's promise: codegen's type `{ i32 count, i32 slots_offset, ...,
/// [K x gcref] }`, possibly already extended by an earlier run of the pass to
/// `{ <codegen's type>, [N x gcref] }`.
struct PromiseLayout {
    /// Codegen's promise type.
    base_ty: LLVMTypeRef,
    /// The index of its last field, the `[K x gcref]` codegen reserves.
    last: c_uint,
    /// The slots earlier runs added (N).
    added: u64,
    /// Whether an earlier run initialised the root area.
    initialised: bool,
}

impl PromiseLayout {
    /// For a coroutine without a promise: `{ i32, i32, [0 x gcref] }`.
    unsafe fn fresh(env: &Env) -> PromiseLayout {
        let i32_ty = LLVMInt32TypeInContext(env.ctx);
        let mut fields = [i32_ty, i32_ty, LLVMArrayType2(env.gc_ty, 0)];
        PromiseLayout {
            base_ty: LLVMStructTypeInContext(env.ctx, fields.as_mut_ptr(), 3, 0),
            last: 2,
            added: 0,
            initialised: false,
        }
    }

    unsafe fn of(env: &Env, promise: LLVMValueRef) -> Result<PromiseLayout, String> {
        let size = operand(promise, 0);
        if LLVMIsAConstantInt(size).is_null() || LLVMConstIntGetZExtValue(size) != 1 {
            return Err(format!(
                "the promise `{}` is an array alloca",
                describe(promise)
            ));
        }
        let is_struct = |t| LLVMGetTypeKind(t) == LLVMTypeKind::LLVMStructTypeKind;
        let fields = |t| {
            if is_struct(t) {
                LLVMCountStructElementTypes(t)
            } else {
                0
            }
        };
        let field = |t, i| LLVMStructGetTypeAtIndex(t, i);
        let is_slots = |t| {
            LLVMGetTypeKind(t) == LLVMTypeKind::LLVMArrayTypeKind
                && LLVMGetElementType(t) == env.gc_ty
        };
        let ty = LLVMGetAllocatedType(promise);
        let initialised = !LLVMGetMetadata(promise, env.coro_kind).is_null();
        let (base_ty, added) = if initialised
            && fields(ty) == 2
            && is_struct(field(ty, 0))
            && is_slots(field(ty, 1))
        {
            (field(ty, 0), LLVMGetArrayLength2(field(ty, 1)))
        } else {
            (ty, 0)
        };
        let n = fields(base_ty);
        let i32_ty = LLVMInt32TypeInContext(env.ctx);
        if n < 3
            || field(base_ty, 0) != i32_ty
            || field(base_ty, 1) != i32_ty
            || !is_slots(field(base_ty, n - 1))
        {
            return Err(format!(
                "the promise `{}` is not `{{ i32 count, i32 slots_offset, ..., [K x gcref] }}`",
                describe(promise)
            ));
        }
        Ok(PromiseLayout {
            base_ty,
            last: n - 1,
            added,
            initialised,
        })
    }
}

/// The parts of a coroutine before `llvm.coro.begin` (where codegen puts no
/// safepoint) and after it.
struct Regions {
    begin_block: usize,
    begin_pos: usize,
    /// Blocks reachable from the entry without passing `llvm.coro.begin`.
    before: Vec<bool>,
    successors: Vec<Vec<usize>>,
}

impl Regions {
    unsafe fn new(body: &Body, begin: LLVMValueRef) -> Result<Regions, String> {
        let n = body.blocks.len();
        let (begin_block, begin_pos) = body.at[&begin];
        let mut successors = vec![Vec::new(); n];
        for (b, preds) in body.preds.iter().enumerate() {
            for &p in preds {
                successors[p].push(b);
            }
        }
        let mut after = vec![false; n];
        let mut work = successors[begin_block].clone();
        while let Some(x) = work.pop() {
            if !after[x] {
                after[x] = true;
                work.extend(&successors[x]);
            }
        }
        if after[begin_block] {
            return Err("`llvm.coro.begin` is in a loop".into());
        }
        let regions = Regions {
            begin_block,
            begin_pos,
            before: reachable_avoiding(&successors, begin_block),
            successors,
        };
        if (0..n).any(|b| regions.before[b] && after[b]) {
            return Err("`llvm.coro.begin` does not dominate the coroutine body".into());
        }
        Ok(regions)
    }

    fn is_before(&self, b: usize, pos: usize) -> bool {
        self.before[b] || (b == self.begin_block && pos < self.begin_pos)
    }

    fn def_is_before(&self, def: Def) -> bool {
        match def {
            Def::Entry => true,
            Def::At(b, p) => self.is_before(b, p),
        }
    }

    /// Whether a definition before `llvm.coro.begin` dominates it (so it can
    /// be stored to its slot right after the root-area initialisation).
    fn def_dominates_begin(&self, def: Def) -> bool {
        match def {
            Def::Entry | Def::At(0, _) => true,
            Def::At(b, p) if b == self.begin_block => p < self.begin_pos,
            Def::At(b, _) => !reachable_avoiding(&self.successors, b)[self.begin_block],
        }
    }
}

/// The blocks reachable from the entry block without entering `avoid`.
fn reachable_avoiding(successors: &[Vec<usize>], avoid: usize) -> Vec<bool> {
    let mut seen = vec![false; successors.len()];
    let mut work = vec![0];
    while let Some(x) = work.pop() {
        if x != avoid && !seen[x] {
            seen[x] = true;
            work.extend(&successors[x]);
        }
    }
    seen
}

/// The pass on a coroutine before CoroSplit: its root area is the promise,
/// extended to `{ <promise>, [N x gcref] }` for the GC allocas and the GC
/// values live across a safepoint (a suspend point or a call that may
/// allocate), and initialised right after `llvm.coro.begin`. No shadow-stack
/// frame: the GC reaches the coroutine frame from whoever holds it.
unsafe fn spill_coroutine(
    env: &Env,
    function: LLVMValueRef,
    body: &Body,
    id: LLVMValueRef,
) -> Result<Outcome, String> {
    let td = env.data_layout;
    let ctx = env.ctx;
    // (a) Analysis: everything unsupported is reported before anything changes.
    let promise = operand(id, 1);
    let existing = if !LLVMIsAConstantPointerNull(promise).is_null() {
        None
    } else if !LLVMIsAAllocaInst(promise).is_null() {
        Some(promise)
    } else {
        return Err(format!(
            "the promise of `{}` is not an alloca",
            describe(id)
        ));
    };
    let layout = match existing {
        Some(p) => PromiseLayout::of(env, p)?,
        None => PromiseLayout::fresh(env),
    };
    let begins = coro_begins(body, id);
    let [begin] = begins[..] else {
        return Err(format!(
            "a coroutine needs one `llvm.coro.begin`, this one has {}",
            begins.len()
        ));
    };
    let regions = Regions::new(body, begin)?;
    for (b, points) in body.safepoints.iter().enumerate() {
        if let Some(&p) = points.iter().find(|&&p| regions.is_before(b, p)) {
            return Err(format!(
                "the safepoint `{}` comes before `llvm.coro.begin`",
                describe(body.insts[b][p])
            ));
        }
    }
    let frames = frame_areas(env, function, body);
    let gc = gc_values(env, function, body, &not_gc(&frames, &begins));
    let allocas = gc_allocas(env, body)?;
    for &(alloca, _) in &allocas {
        for site in use_sites(alloca) {
            let UseSite::Inst(user) = site else { continue };
            let lifetime = callee_name(user).is_some_and(|n| n.starts_with("llvm.lifetime."));
            if let Some(&(b, p)) = body.at.get(&user) {
                if !lifetime && regions.is_before(b, p) {
                    return Err(format!(
                        "the GC alloca `{}` is used before `llvm.coro.begin`: `{}`",
                        describe(alloca),
                        describe(user)
                    ));
                }
            }
        }
    }
    let demoted = demotions(env, body, &gc)?;
    for d in &demoted {
        let def = def_of(body, d.value);
        if regions.def_is_before(def) && !regions.def_dominates_begin(def) {
            return Err(format!(
                "`{}` is defined before `llvm.coro.begin` in a block that does not dominate it",
                describe(d.value)
            ));
        }
    }
    let align = [
        existing.map_or(0, |p| LLVMGetAlignment(p)),
        env.slot_align,
        LLVMABIAlignmentOfType(td, layout.base_ty),
    ]
    .into_iter()
    .max()
    .unwrap_or(1);
    if i64::from(align) > env.promise_offset {
        return Err(format!(
            "the promise is aligned to {align} bytes: the runtime expects it at byte {} of the frame",
            env.promise_offset
        ));
    }
    if layout.initialised && allocas.is_empty() && demoted.is_empty() {
        return Ok(Outcome {
            changed: clear_tail_markers(body),
            slots: Vec::new(),
            coroutine: false,
        });
    }

    // The initialisation an earlier run made (re-made below).
    let mut old_init = Vec::new();
    if let (Some(old), true) = (existing, layout.initialised) {
        for &inst in body.insts.iter().flatten() {
            let is_store = opcode(inst) == Some(LLVMOpcode::LLVMStore);
            let marked = (is_store && !LLVMGetMetadata(inst, env.coro_kind).is_null())
                || !LLVMGetMetadata(inst, env.coro_init_kind).is_null();
            if !marked || (!is_store && !is_call(inst)) {
                continue;
            }
            let ptr = operand(inst, if is_store { 1 } else { 0 });
            if strip_offsets(td, ptr).0 == old {
                old_init.push((inst, ptr));
            }
        }
    }

    // (b) The layout: the codegen slots [K x gcref], then the added ones, contiguous.
    let (colors, demoted_slots) = color_slots(&demoted);
    let new_slots = allocas.iter().map(|&(_, n)| n).sum::<u64>() + demoted_slots;
    let added = layout.added + new_slots;
    let slot = env.slot_size as i64;
    let promise_ty = if added > 0 {
        let mut fields = [layout.base_ty, LLVMArrayType2(env.gc_ty, added)];
        LLVMStructTypeInContext(ctx, fields.as_mut_ptr(), 2, 0)
    } else {
        layout.base_ty
    };
    let slots_offset = LLVMOffsetOfElement(td, layout.base_ty, layout.last) as i64;
    let codegen_slots = LLVMGetArrayLength2(LLVMStructGetTypeAtIndex(layout.base_ty, layout.last));
    let end = if added > 0 {
        // Any padding between the two arrays is a (null) slot too.
        LLVMOffsetOfElement(td, promise_ty, 1) as i64 + added as i64 * slot
    } else {
        slots_offset + codegen_slots as i64 * slot
    };
    if (end - slots_offset) % slot != 0 {
        return Err("the root slots of the promise are not contiguous".into());
    }
    let roots = RootsMd {
        name: raw_name(function),
        slots_offset,
        count: (end - slots_offset) / slot,
    };

    // (c) The promise: a new alloca when its type grows (RAUW: the old type
    // is a prefix of the new one, so existing GEPs stay valid).
    let builder = Builder::new(ctx);
    let b = builder.0;
    let promise = match existing {
        Some(old) if LLVMGetAllocatedType(old) == promise_ty => {
            LLVMSetAlignment(old, align);
            old
        }
        _ => {
            let at = existing.unwrap_or_else(|| LLVMGetFirstInstruction(body.blocks[0]));
            LLVMPositionBuilderBefore(b, at);
            let new = LLVMBuildAlloca(b, promise_ty, c"".as_ptr());
            LLVMSetAlignment(new, align);
            let name = match existing {
                Some(old) => {
                    let name = raw_name(old);
                    LLVMReplaceAllUsesWith(old, new);
                    LLVMInstructionEraseFromParent(old);
                    name
                }
                None => {
                    LLVMSetOperand(id, 1, new);
                    "promise".to_string()
                }
            };
            LLVMSetValueName2(new, name.as_ptr() as *const c_char, name.len());
            new
        }
    };
    // An earlier initialisation goes: the new one covers every slot.
    for (inst, ptr) in old_init {
        LLVMInstructionEraseFromParent(inst);
        if opcode(ptr) == Some(LLVMOpcode::LLVMGetElementPtr) && LLVMGetFirstUse(ptr).is_null() {
            LLVMInstructionEraseFromParent(ptr);
        }
    }

    // (d) The initialisation, right after llvm.coro.begin: count,
    // slots_offset (volatile: the runtime reads them behind LLVM's back, and
    // the verifier finds the frame by the `count` store), null slots.
    let i32_ty = LLVMInt32TypeInContext(ctx);
    let i64_ty = LLVMInt64TypeInContext(ctx);
    let roots_md = roots.node(env);
    let roots_value = LLVMMetadataAsValue(ctx, roots_md);
    let init_value = LLVMMetadataAsValue(ctx, LLVMMDNodeInContext2(ctx, std::ptr::null_mut(), 0));
    LLVMPositionBuilderBefore(b, LLVMGetNextInstruction(begin));
    let count_ptr = LLVMBuildStructGEP2(b, layout.base_ty, promise, 0, c"promise.count".as_ptr());
    let store = LLVMBuildStore(b, LLVMConstInt(i32_ty, roots.count as u64, 0), count_ptr);
    LLVMSetVolatile(store, 1);
    LLVMSetMetadata(store, env.coro_kind, roots_value);
    let offset_ptr = LLVMBuildStructGEP2(
        b,
        layout.base_ty,
        promise,
        1,
        c"promise.slots_offset".as_ptr(),
    );
    let store = LLVMBuildStore(b, LLVMConstInt(i32_ty, slots_offset as u64, 0), offset_ptr);
    LLVMSetVolatile(store, 1);
    LLVMSetMetadata(store, env.coro_init_kind, init_value);
    if roots.count > 0 {
        let slots_ptr = LLVMBuildStructGEP2(
            b,
            layout.base_ty,
            promise,
            layout.last,
            c"promise.slots".as_ptr(),
        );
        let memset = LLVMBuildMemSet(
            b,
            slots_ptr,
            LLVMConstInt(LLVMInt8TypeInContext(ctx), 0, 0),
            LLVMConstInt(i64_ty, (roots.count * slot) as u64, 0),
            env.slot_align,
        );
        LLVMSetMetadata(memset, env.coro_init_kind, init_value);
    }

    // (e) The slots, the allocas they replace, the stores and the reloads.
    let slot_ptr = |j: u64| {
        let k = layout.added + j;
        let mut idx = [
            LLVMConstInt(i32_ty, 0, 0),
            LLVMConstInt(i32_ty, 1, 0),
            LLVMConstInt(i64_ty, k, 0),
        ];
        let name = CString::new(format!("root.{k}")).unwrap_or_default();
        LLVMBuildInBoundsGEP2(b, promise_ty, promise, idx.as_mut_ptr(), 3, name.as_ptr())
    };
    let (outcome, slot_of) = assign_slots(&allocas, &demoted, &colors, slot_ptr);
    // The builder is still right after the initialisation: values defined
    // before llvm.coro.begin (arguments) are stored here.
    for (d, &root) in demoted.iter().zip(&slot_of) {
        if regions.def_is_before(def_of(body, d.value)) {
            LLVMBuildStore(b, to_slot_value(env, b, d.value), root);
        }
    }
    // Uses before llvm.coro.begin keep the value: no safepoint comes first.
    let before_begin = |site: UseSite| match site {
        UseSite::Inst(user) => body
            .at
            .get(&user)
            .is_some_and(|&(ub, up)| regions.is_before(ub, up)),
        UseSite::Phi { block, .. } => body.index.get(&block).is_some_and(|&bi| regions.before[bi]),
    };
    store_and_reload(
        env,
        b,
        &demoted,
        &slot_of,
        |v| regions.def_is_before(def_of(body, v)),
        before_begin,
    );
    LLVMSetMetadata(promise, env.coro_kind, roots_value);
    LLVMGlobalSetMetadata(function, env.coro_kind, roots_md);
    clear_tail_markers(body);
    Ok(outcome)
}

// ---------------------------------------------------------------------------
// The verifier

/// Checks the GC invariant on a whole module (after LLVM's pipeline): in every
/// function, no GC value is live across a safepoint, no GC value is stored
/// anywhere but in a root-frame slot or a heap object, and no safepoint call
/// in a function with a root frame is marked `tail`. Returns one message per
/// violation, naming the function and the value.
pub fn verify_gc(module: &Module) -> Result<(), Vec<String>> {
    verify_gc_with(module, GcConfig::for_module(module))
}

pub fn verify_gc_with(module: &Module, config: GcConfig) -> Result<(), Vec<String>> {
    let mut problems = Vec::new();
    for function in module.get_functions() {
        let f = function.as_value_ref();
        // SAFETY: the function belongs to the live module; nothing is changed.
        unsafe { verify_function(f, config, &mut problems) };
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

unsafe fn verify_function(f: LLVMValueRef, config: GcConfig, problems: &mut Vec<String>) {
    if LLVMIsDeclaration(f) != 0 {
        return;
    }
    let env = Env::new(f, config);
    let body = Body::new(f);
    let fname = raw_name(f);
    let (presplit, begins) = match presplit_coro_id(f, &body) {
        Ok(Some(id)) => (true, coro_begins(&body, id)),
        Ok(None) => (false, Vec::new()),
        Err(e) => {
            problems.push(format!("function `{fname}`: {e}"));
            return;
        }
    };
    let frames = frame_areas(&env, f, &body);
    if presplit && !frames.iter().any(|a| a.promise_at.is_none() && !a.linked) {
        problems.push(format!(
            "function `{fname}`: coroutine without a root area (not processed by the gc-frame-spill pass)"
        ));
    }
    for area in &frames {
        // Another promise further into a frame whose own promise is where
        // the runtime expects it: a callee's frame elided into this one
        // (CoroAnnotationElide), scanned through the caller's child slot.
        let elided_child = |at: i64| {
            at > env.promise_offset
                && frames
                    .iter()
                    .any(|a| a.base == area.base && a.promise_at == Some(env.promise_offset))
        };
        if let Some(at) = area
            .promise_at
            .filter(|&at| at != env.promise_offset && !elided_child(at))
        {
            problems.push(format!(
                "function `{fname}`: the promise of the coroutine frame `{}` is at byte {at}, the runtime expects it at byte {}",
                value_name(area.base),
                env.promise_offset
            ));
        }
    }
    if let Some(problem) = check_frame_type(&env, f) {
        problems.push(format!("function `{fname}`: {problem}"));
    }
    let gc = gc_values(&env, f, &body, &not_gc(&frames, &begins));
    let mut liveness = Liveness::new(&body);
    for &v in &gc.order {
        let uses = use_sites(v);
        if let Some(safepoint) = liveness.live_across(def_of(&body, v), &uses) {
            problems.push(format!(
                "function `{fname}`: GC value `{}` is live across the safepoint `{}`",
                describe(v),
                describe(safepoint)
            ));
        }
    }
    for &inst in body.insts.iter().flatten() {
        if opcode(inst) == Some(LLVMOpcode::LLVMIntToPtr)
            && gc.set.contains(&inst)
            && !is_reference_bits(operand(inst, 0), &gc.set, &mut HashSet::new())
        {
            problems.push(format!(
                "function `{fname}`: GC value `{}` is made from an integer that is not a reference's bits (`{}`): \
                 while a reference travels as an integer the pass cannot root it",
                value_name(inst),
                describe(inst)
            ));
        }
    }
    let mut has_frame = presplit;
    for &inst in body.insts.iter().flatten() {
        has_frame |= env.is_root_frame(inst);
        if opcode(inst) != Some(LLVMOpcode::LLVMStore) {
            continue;
        }
        let value = operand(inst, 0);
        if !gc.set.contains(&value) {
            continue;
        }
        let size = LLVMStoreSizeOfType(env.data_layout, LLVMTypeOf(value)) as i64;
        match store_target(&env, &gc.set, &frames, operand(inst, 1), size) {
            Ok(()) => {}
            Err(BadStore::Elsewhere) => problems.push(format!(
                "function `{fname}`: GC value `{}` is stored outside a root slot or heap object: `{}`",
                value_name(value),
                describe(inst)
            )),
            Err(BadStore::Frame { area, .. }) if area.start == area.end => problems.push(format!(
                "function `{fname}`: GC value `{}` is stored into the coroutine frame `{}`, which has no root area: `{}`",
                value_name(value),
                value_name(area.base),
                describe(inst)
            )),
            Err(BadStore::Frame { area, offset }) => {
                let at = offset.map_or("an unknown offset".to_string(), |o| format!("byte {o}"));
                problems.push(format!(
                    "function `{fname}`: GC value `{}` is stored at {at} of the coroutine frame `{}`, outside its root area [{}, {}): `{}`",
                    value_name(value),
                    value_name(area.base),
                    area.start,
                    area.end,
                    describe(inst)
                ))
            }
        }
    }
    if has_frame {
        for (b, points) in body.safepoints.iter().enumerate() {
            for &p in points {
                let call = body.insts[b][p];
                if opcode(call) == Some(LLVMOpcode::LLVMCall)
                    && LLVMGetTailCallKind(call) == LLVMTailCallKind::LLVMTailCallKindTail
                {
                    problems.push(format!(
                        "function `{fname}` has a root frame but the safepoint `{}` is marked tail",
                        describe(call)
                    ));
                }
            }
        }
    }
}

/// Whether the integer `v` is the bits of a GC reference the pass can see:
/// a `ptrtoint` of one (a GC value itself, rooted like the reference),
/// widened, narrowed, tagged or offset, or a phi or select of such bits and
/// constants. Anything else turned into a reference (bits loaded from
/// memory, returned by a call) was an integer while it might have crossed a
/// safepoint, unrooted.
unsafe fn is_reference_bits(
    v: LLVMValueRef,
    set: &HashSet<LLVMValueRef>,
    seen: &mut HashSet<LLVMValueRef>,
) -> bool {
    if !LLVMIsAConstant(v).is_null() {
        return true;
    }
    if set.contains(&v) {
        return true;
    }
    if !seen.insert(v) {
        // A cycle through phis: the other incoming values decide.
        return true;
    }
    match opcode(v) {
        Some(
            LLVMOpcode::LLVMZExt
            | LLVMOpcode::LLVMSExt
            | LLVMOpcode::LLVMTrunc
            | LLVMOpcode::LLVMFreeze,
        ) => is_reference_bits(operand(v, 0), set, seen),
        Some(
            LLVMOpcode::LLVMAnd
            | LLVMOpcode::LLVMOr
            | LLVMOpcode::LLVMXor
            | LLVMOpcode::LLVMAdd
            | LLVMOpcode::LLVMSub,
        ) => {
            let (a, b) = (operand(v, 0), operand(v, 1));
            let a_const = !LLVMIsAConstant(a).is_null();
            let b_const = !LLVMIsAConstant(b).is_null();
            (!a_const && is_reference_bits(a, set, seen))
                || (!b_const && is_reference_bits(b, set, seen))
        }
        Some(LLVMOpcode::LLVMPHI) => (0..LLVMCountIncoming(v))
            .all(|i| is_reference_bits(LLVMGetIncomingValue(v, i), set, seen)),
        Some(LLVMOpcode::LLVMSelect) => {
            is_reference_bits(operand(v, 1), set, seen)
                && is_reference_bits(operand(v, 2), set, seen)
        }
        _ => false,
    }
}

/// In the `.resume` clone of a coroutine the pass processed: the frame type
/// LLVM built (`%<name>.Frame`, when the module still names it) must have the
/// promise, field 2, where the runtime looks for it.
unsafe fn check_frame_type(env: &Env, f: LLVMValueRef) -> Option<String> {
    let roots = RootsMd::of_function(env, f)?;
    if raw_name(f) != format!("{}.resume", roots.name) {
        return None;
    }
    let name = CString::new(format!("{}.Frame", roots.name)).ok()?;
    let ty = LLVMGetTypeByName2(env.ctx, name.as_ptr());
    if ty.is_null()
        || LLVMGetTypeKind(ty) != LLVMTypeKind::LLVMStructTypeKind
        || LLVMCountStructElementTypes(ty) < 3
    {
        return None;
    }
    let at = LLVMOffsetOfElement(env.data_layout, ty, 2) as i64;
    (at != env.promise_offset).then(|| {
        format!(
            "the promise (field 2 of `%{}.Frame`) is at byte {at}, the runtime expects it at byte {}",
            roots.name, env.promise_offset
        )
    })
}

/// Why a store of a GC value is not allowed.
enum BadStore {
    /// Not into a root frame, a heap object or a coroutine frame.
    Elsewhere,
    /// Into a coroutine frame (or promise) outside its root area, or at an
    /// offset that is not constant.
    Frame {
        area: FrameArea,
        offset: Option<i64>,
    },
}

/// Whether every place a pointer may point to (through GEPs, casts, phis and
/// selects) is a root frame, a GC heap object (a pointer derived from a GC
/// reference), or the root area of a coroutine frame, for `size` bytes.
unsafe fn store_target(
    env: &Env,
    gc: &HashSet<LLVMValueRef>,
    frames: &[FrameArea],
    ptr: LLVMValueRef,
    size: i64,
) -> Result<(), BadStore> {
    // First the coroutine frames the address may be in (a frame pointer is a
    // GC reference too, so this looks through everything derived from one).
    let is_frame = |p: LLVMValueRef| frames.iter().any(|a| a.base == p);
    for (base, offset) in pointer_bases(env.data_layout, ptr, is_frame) {
        // A frame may hold several root areas: its own, and those of the
        // callees' frames elided into it.
        let mut areas = frames.iter().filter(|a| a.base == base).peekable();
        let Some(&first) = areas.peek().copied() else {
            continue;
        };
        let inside = |o: i64| areas.clone().any(|a| a.start <= o && o + size <= a.end);
        match offset {
            Some(o) if inside(o) => {}
            _ => {
                return Err(BadStore::Frame {
                    area: first,
                    offset,
                })
            }
        }
    }
    // Then root frames and heap objects.
    let mut seen = HashSet::new();
    let mut work = vec![ptr];
    while let Some(p) = work.pop() {
        // Natively every `ptr addrspace(1)` points into a GC object (or a static one).
        let gc_typed = env.config.gc_addrspace != 0 && env.is_gc_pointer_type(LLVMTypeOf(p));
        if !seen.insert(p)
            || gc.contains(&p)
            || gc_typed
            || env.is_root_frame(p)
            || frames.iter().any(|a| a.base == p)
            || is_running_global(p)
        {
            continue;
        }
        match opcode(p) {
            Some(
                LLVMOpcode::LLVMGetElementPtr
                | LLVMOpcode::LLVMBitCast
                | LLVMOpcode::LLVMAddrSpaceCast
                | LLVMOpcode::LLVMFreeze,
            ) => work.push(operand(p, 0)),
            Some(LLVMOpcode::LLVMPHI) => {
                work.extend((0..LLVMCountIncoming(p)).map(|i| LLVMGetIncomingValue(p, i)))
            }
            Some(LLVMOpcode::LLVMSelect) => {
                work.push(operand(p, 1));
                work.push(operand(p, 2));
            }
            _ => return Err(BadStore::Elsewhere),
        }
    }
    Ok(())
}

/// The runtime's `weft_running`: the handle of the coroutine running now,
/// which the runtime reads only during that resume, while the scheduler (or
/// the awaiting coroutine) holds the frame; it needs no rooting.
unsafe fn is_running_global(p: LLVMValueRef) -> bool {
    !LLVMIsAGlobalVariable(p).is_null() && raw_name(p) == "weft_running"
}

/// The values a pointer is based on through GEPs, casts, phis and selects
/// (stopping at those `stop` accepts), each with the byte offset of the
/// pointer from it when that is a known constant. A value reached with many
/// offsets (a loop of GEPs) is given an unknown one.
unsafe fn pointer_bases(
    td: LLVMTargetDataRef,
    ptr: LLVMValueRef,
    stop: impl Fn(LLVMValueRef) -> bool,
) -> Vec<(LLVMValueRef, Option<i64>)> {
    const MAX_OFFSETS: usize = 8;
    let mut seen: HashMap<LLVMValueRef, Vec<Option<i64>>> = HashMap::new();
    let mut out = Vec::new();
    let mut work = vec![(ptr, Some(0i64))];
    while let Some((p, mut offset)) = work.pop() {
        let offsets = seen.entry(p).or_default();
        if offsets.len() >= MAX_OFFSETS {
            offset = None;
        }
        if offsets.contains(&offset) || offsets.contains(&None) {
            continue;
        }
        offsets.push(offset);
        if stop(p) {
            out.push((p, offset));
            continue;
        }
        match opcode(p) {
            Some(LLVMOpcode::LLVMGetElementPtr) => {
                let offset = offset
                    .zip(gep_offset(td, p))
                    .and_then(|(a, b)| a.checked_add(b));
                work.push((operand(p, 0), offset));
            }
            Some(
                LLVMOpcode::LLVMBitCast | LLVMOpcode::LLVMAddrSpaceCast | LLVMOpcode::LLVMFreeze,
            ) => work.push((operand(p, 0), offset)),
            Some(LLVMOpcode::LLVMPHI) => {
                work.extend((0..LLVMCountIncoming(p)).map(|i| (LLVMGetIncomingValue(p, i), offset)))
            }
            Some(LLVMOpcode::LLVMSelect) => {
                work.push((operand(p, 1), offset));
                work.push((operand(p, 2), offset));
            }
            _ => out.push((p, offset)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimize;
    use inkwell::context::Context;
    use inkwell::memory_buffer::MemoryBuffer;
    use inkwell::values::AnyValue;

    const NATIVE: GcConfig = GcConfig { gc_addrspace: 1 };
    const WASM: GcConfig = GcConfig { gc_addrspace: 0 };

    /// Declarations the native test functions call: `@alloc` and `@gc` may
    /// collect, `@log` is `"weft-nogc"`, `@peek` only reads memory.
    const DECLS: &str = r#"
declare ptr addrspace(1) @alloc()
declare void @gc()
declare void @use(ptr addrspace(1))
declare void @use2(ptr addrspace(1), ptr addrspace(1))
declare void @log(ptr addrspace(1)) "weft-nogc"
declare i64 @peek(ptr addrspace(1)) memory(read)
"#;

    fn demotion(lo: usize, hi: usize) -> Demotion {
        Demotion {
            value: std::ptr::null_mut(),
            uses: Vec::new(),
            hull: (lo, hi),
        }
    }

    /// Values whose hulls are disjoint share a slot; values that meet, even
    /// at one position (the call that uses one and defines the next), do not.
    #[test]
    fn slots_are_shared_only_between_disjoint_live_ranges() {
        let chain = [
            demotion(0, 5),
            demotion(5, 9),
            demotion(9, 12),
            demotion(13, 20),
        ];
        let (colors, count) = color_slots(&chain);
        assert_ne!(colors[0], colors[1]);
        assert_ne!(colors[1], colors[2]);
        assert_eq!(colors[0], colors[2]);
        assert_eq!(count, 2);
        let nested = [
            demotion(0, 100),
            demotion(10, 20),
            demotion(30, 40),
            demotion(50, 200),
        ];
        let (colors, count) = color_slots(&nested);
        assert_eq!(count, 2);
        assert!(colors[1..].iter().all(|&c| c != colors[0]));
        assert_eq!(colors[1], colors[2]);
        assert_eq!(colors[2], colors[3]);
        let (_, none) = color_slots(&[]);
        assert_eq!(none, 0);
    }

    fn parse<'c>(ctx: &'c Context, target: Target, ir: &str) -> Module<'c> {
        let text = format!("{DECLS}\n{ir}");
        let buf = MemoryBuffer::create_from_memory_range_copy(text.as_bytes(), "test");
        let module = ctx
            .create_module_from_ir(buf)
            .unwrap_or_else(|e| panic!("bad test IR: {}", e.to_string_lossy()));
        let machine = optimize::target_machine(target, 2).expect("target machine");
        optimize::configure(&module, &machine);
        module
    }

    fn native<'c>(ctx: &'c Context, ir: &str) -> Module<'c> {
        parse(ctx, Target::Native, ir)
    }

    fn spill(module: &Module, name: &str, config: GcConfig) -> Result<Outcome, String> {
        let f = module.get_function(name).expect("no such function");
        // SAFETY: the function belongs to the live module.
        unsafe { spill_function(f.as_value_ref(), config, true) }
    }

    fn text(module: &Module, name: &str) -> String {
        let f = module.get_function(name).expect("no such function");
        f.print_to_string().to_string()
    }

    fn assert_valid(module: &Module) {
        if let Err(e) = module.verify() {
            panic!(
                "invalid IR: {}\n{}",
                e.to_string_lossy(),
                module.print_to_string().to_string()
            );
        }
    }

    fn pipeline(module: &Module, target: Target, level: u8) {
        let machine = optimize::target_machine(target, level).expect("target machine");
        run_pipeline(module, &machine, level, GcConfig::for_target(target))
            .unwrap_or_else(|e| panic!("pipeline failed: {e}"));
        assert_valid(module);
    }

    /// Runs the pass a second time on every function: nothing may change.
    fn assert_idempotent(module: &Module, config: GcConfig) {
        let before = module.print_to_string().to_string();
        for f in module.get_functions() {
            let name = f.get_name().to_string_lossy().into_owned();
            let outcome = spill(module, &name, config).expect("second run");
            assert!(!outcome.changed, "second run changed `{name}`: {outcome:?}");
        }
        assert_eq!(before, module.print_to_string().to_string());
    }

    /// Line of the first line of `haystack` containing `needle`.
    fn line_of(haystack: &str, needle: &str) -> usize {
        haystack
            .lines()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("`{needle}` not found in:\n{haystack}"))
    }

    const LIVE_ACROSS: &str = r#"
define void @f() {
entry:
  %a = call ptr addrspace(1) @alloc()
  call void @gc()
  call void @use(ptr addrspace(1) %a)
  ret void
}
"#;

    #[test]
    fn value_live_across_unknown_call_gets_a_slot() {
        let ctx = Context::create();
        let m = native(&ctx, LIVE_ACROSS);
        let outcome = spill(&m, "f", NATIVE).unwrap();
        assert_eq!(outcome.slots, ["a"]);
        assert_valid(&m);
        let ir = text(&m, "f");
        assert!(
            ir.contains("%frame.roots = alloca { ptr, i64, [1 x ptr addrspace(1)] }"),
            "{ir}"
        );
        assert!(ir.contains("!weft.root.frame"), "{ir}");
        assert!(ir.contains("store i64 1, ptr %frame.count"), "{ir}");
        assert!(ir.contains("call void @llvm.memset"), "{ir}");
        // Push, then the store right after the definition, the reload right before the use, the pop.
        let push = line_of(&ir, "store ptr %frame.roots, ptr @weft_shadow_top");
        let def = line_of(&ir, "%a = call ptr addrspace(1) @alloc()");
        let spill_store = line_of(&ir, "store ptr addrspace(1) %a, ptr %root.0");
        let safepoint = line_of(&ir, "call void @gc()");
        let reload = line_of(&ir, "%gc.reload = load ptr addrspace(1), ptr %root.0");
        let use_ = line_of(&ir, "call void @use(ptr addrspace(1) %gc.reload)");
        let pop = line_of(&ir, "store ptr %frame.prev, ptr @weft_shadow_top");
        let ret = line_of(&ir, "ret void");
        assert!(
            push < def && def + 1 == spill_store && spill_store < safepoint,
            "{ir}"
        );
        assert!(
            safepoint < reload && reload + 1 == use_ && use_ < pop && pop + 1 == ret,
            "{ir}"
        );
        assert!(m.get_global("weft_shadow_top").is_some());
        assert_eq!(verify_gc(&m), Ok(()));
        assert_idempotent(&m, NATIVE);
    }

    #[test]
    fn spilled_through_the_pipeline_at_o0_and_o2() {
        for level in [0, 2] {
            let ctx = Context::create();
            let m = native(&ctx, LIVE_ACROSS);
            pipeline(&m, Target::Native, level);
            let ir = text(&m, "f");
            assert!(ir.contains("%frame.roots = alloca"), "O{level}: {ir}");
            assert!(
                ir.contains("%gc.reload = load ptr addrspace(1)"),
                "O{level}: {ir}"
            );
            assert!(
                ir.contains("store ptr %frame.roots, ptr @weft_shadow_top"),
                "O{level}: {ir}"
            );
            assert_eq!(verify_gc(&m), Ok(()), "O{level}");
            assert_idempotent(&m, NATIVE);
        }
    }

    #[test]
    fn nogc_calls_intrinsics_and_readonly_calls_are_not_safepoints() {
        let ctx = Context::create();
        let m = native(
            &ctx,
            r#"
define i64 @f() {
entry:
  %a = call ptr addrspace(1) @alloc()
  call void @log(ptr addrspace(1) %a)
  call void @gc() "weft-nogc"
  %n = call i64 @peek(ptr addrspace(1) %a)
  call void @llvm.memset.p1.i64(ptr addrspace(1) %a, i8 0, i64 8, i1 false)
  call void @use(ptr addrspace(1) %a)
  ret i64 %n
}
"#,
        );
        let outcome = spill(&m, "f", NATIVE).unwrap();
        assert!(!outcome.changed && outcome.slots.is_empty(), "{outcome:?}");
        assert!(!text(&m, "f").contains("frame.roots"));
        assert_eq!(verify_gc(&m), Ok(()));
    }

    #[test]
    fn gc_alloca_becomes_a_slot() {
        let ctx = Context::create();
        let m = native(
            &ctx,
            r#"
define void @f() {
entry:
  %x.addr = alloca ptr addrspace(1), align 8
  call void @llvm.lifetime.start.p0(ptr %x.addr)
  %a = call ptr addrspace(1) @alloc()
  store ptr addrspace(1) %a, ptr %x.addr, align 8
  call void @gc()
  %b = load ptr addrspace(1), ptr %x.addr, align 8
  call void @use(ptr addrspace(1) %b)
  call void @llvm.lifetime.end.p0(ptr %x.addr)
  ret void
}
"#,
        );
        let outcome = spill(&m, "f", NATIVE).unwrap();
        assert_eq!(outcome.slots, ["x.addr"]);
        assert_valid(&m);
        let ir = text(&m, "f");
        assert!(!ir.contains("alloca ptr addrspace(1)"), "{ir}");
        assert!(!ir.contains("llvm.lifetime"), "{ir}");
        assert!(
            ir.contains("%x.addr = getelementptr inbounds { ptr, i64, [1 x ptr addrspace(1)] }, ptr %frame.roots, i32 0, i32 2, i64 0"),
            "{ir}"
        );
        assert!(
            ir.contains("store ptr addrspace(1) %a, ptr %x.addr"),
            "{ir}"
        );
        assert_eq!(verify_gc(&m), Ok(()));
        assert_idempotent(&m, NATIVE);
    }

    const LOOP: &str = r#"
define ptr addrspace(1) @loop(i64 %n) {
entry:
  %keep = call ptr addrspace(1) @alloc()
  %init = call ptr addrspace(1) @alloc()
  br label %head
head:
  %acc = phi ptr addrspace(1) [ %init, %entry ], [ %next, %body ]
  %i = phi i64 [ 0, %entry ], [ %i1, %body ]
  %c = icmp slt i64 %i, %n
  br i1 %c, label %body, label %exit
body:
  %next = call ptr addrspace(1) @alloc()
  call void @use2(ptr addrspace(1) %acc, ptr addrspace(1) %next)
  %i1 = add i64 %i, 1
  br label %head
exit:
  call void @use(ptr addrspace(1) %keep)
  ret ptr addrspace(1) %acc
}
"#;

    #[test]
    fn loops_and_phis() {
        let ctx = Context::create();
        let m = native(&ctx, LOOP);
        let outcome = spill(&m, "loop", NATIVE).unwrap();
        // %keep crosses the loop's calls; %acc crosses `%next = call @alloc()`;
        // %next reaches the phi after `call @use2`. %init reaches the phi
        // before any call, so it needs no slot.
        assert_eq!(outcome.slots, ["keep", "acc", "next"]);
        assert_valid(&m);
        let ir = text(&m, "loop");
        // The phi reads %next through a reload at the end of %body.
        assert!(ir.contains("[ %init, %entry ]"), "{ir}");
        let body = &ir[ir.find("body:").unwrap()..ir.find("exit:").unwrap()];
        let lines: Vec<&str> = body.lines().collect();
        let br = line_of(body, "br label %head");
        let reload = lines[br - 1].trim();
        assert!(
            reload.ends_with("= load ptr addrspace(1), ptr %root.2, align 8"),
            "{body}"
        );
        let name = reload.split(' ').next().unwrap();
        assert!(ir.contains(&format!("[ {name}, %body ]")), "{ir}");
        assert_eq!(verify_gc(&m), Ok(()));
        assert_idempotent(&m, NATIVE);
        for level in [0, 2] {
            let ctx = Context::create();
            let m = native(&ctx, LOOP);
            pipeline(&m, Target::Native, level);
            assert_eq!(verify_gc(&m), Ok(()), "O{level}");
            assert!(text(&m, "loop").contains("frame.roots"), "O{level}");
        }
    }

    #[test]
    fn no_frame_when_nothing_is_live_across_a_safepoint() {
        let ctx = Context::create();
        let m = native(
            &ctx,
            r#"
define void @f(i64 %n, ptr addrspace(1) %arg) {
entry:
  call void @use(ptr addrspace(1) %arg)
  br label %head
head:
  %p = phi ptr addrspace(1) [ null, %entry ], [ %q, %body ]
  %i = phi i64 [ 0, %entry ], [ %i1, %body ]
  %c = icmp slt i64 %i, %n
  br i1 %c, label %body, label %exit
body:
  call void @log(ptr addrspace(1) %p)
  %q = call ptr addrspace(1) @alloc()
  %i1 = add i64 %i, 1
  br label %head
exit:
  ret void
}
"#,
        );
        let outcome = spill(&m, "f", NATIVE).unwrap();
        assert!(!outcome.changed, "{outcome:?}");
        assert!(!text(&m, "f").contains("frame.roots"));
        assert!(m.get_global("weft_shadow_top").is_none());
        for level in [0, 2] {
            let ctx = Context::create();
            let m = native(&ctx, &text(&m, "f"));
            pipeline(&m, Target::Native, level);
            assert!(!text(&m, "f").contains("frame.roots"), "O{level}");
            assert_eq!(verify_gc(&m), Ok(()));
        }
    }

    #[test]
    fn arguments_are_spilled_at_entry_and_every_return_pops() {
        let ctx = Context::create();
        let m = native(
            &ctx,
            r#"
define void @f(ptr addrspace(1) %x, i1 %c) {
entry:
  br i1 %c, label %a, label %b
a:
  tail call void @gc()
  call void @use(ptr addrspace(1) %x)
  ret void
b:
  call void @gc()
  br i1 %c, label %dead, label %out
dead:
  unreachable
out:
  call void @use(ptr addrspace(1) %x)
  ret void
}
"#,
        );
        let outcome = spill(&m, "f", NATIVE).unwrap();
        assert_eq!(outcome.slots, ["x"]);
        assert_valid(&m);
        let ir = text(&m, "f");
        let push = line_of(&ir, "store ptr %frame.roots, ptr @weft_shadow_top");
        let spill_store = line_of(&ir, "store ptr addrspace(1) %x, ptr %root.0");
        assert!(
            push < spill_store && spill_store < line_of(&ir, "br i1 %c"),
            "{ir}"
        );
        assert_eq!(
            ir.matches("store ptr %frame.prev, ptr @weft_shadow_top")
                .count(),
            2,
            "{ir}"
        );
        // A `tail` marker would let LLVM assume the callee cannot read the frame.
        assert!(!ir.contains("tail call"), "{ir}");
        assert_eq!(verify_gc(&m), Ok(()));
        assert_idempotent(&m, NATIVE);
    }

    #[test]
    fn pointer_turned_integer_keeps_its_object_rooted() {
        let ctx = Context::create();
        let m = native(
            &ctx,
            r#"
define i64 @f() {
entry:
  %s = call ptr addrspace(1) @alloc()
  %k = ptrtoint ptr addrspace(1) %s to i64
  call void @gc()
  ret i64 %k
}
"#,
        );
        let outcome = spill(&m, "f", NATIVE).unwrap();
        assert_eq!(outcome.slots, ["k"]);
        assert_valid(&m);
        let ir = text(&m, "f");
        assert!(
            ir.contains("%gc.spill = inttoptr i64 %k to ptr addrspace(1)"),
            "{ir}"
        );
        assert!(
            ir.contains("%gc.reload.int = ptrtoint ptr addrspace(1) %gc.reload to i64"),
            "{ir}"
        );
        assert_eq!(verify_gc(&m), Ok(()));
        assert_idempotent(&m, NATIVE);
    }

    #[test]
    fn the_pass_runs_after_inlining_at_o2() {
        // @wrap may collect (it calls an unknown function) until it is inlined:
        // then only the "weft-nogc" @log is left between the definition and the use.
        let ir = r#"
define internal void @wrap(ptr addrspace(1) %x) {
entry:
  call void @log(ptr addrspace(1) %x)
  ret void
}
define void @f() {
entry:
  %a = call ptr addrspace(1) @alloc()
  call void @wrap(ptr addrspace(1) %a)
  call void @use(ptr addrspace(1) %a)
  ret void
}
"#;
        let ctx = Context::create();
        let m = native(&ctx, ir);
        pipeline(&m, Target::Native, 0);
        assert!(text(&m, "f").contains("frame.roots"), "O0 does not inline");
        assert_eq!(verify_gc(&m), Ok(()));
        let ctx = Context::create();
        let m = native(&ctx, ir);
        pipeline(&m, Target::Native, 2);
        let f = text(&m, "f");
        assert!(!f.contains("@wrap") && !f.contains("frame.roots"), "{f}");
        assert_eq!(verify_gc(&m), Ok(()));
    }

    #[test]
    fn inlined_frames_stay_intact_and_are_not_spilled_again() {
        // @callee keeps its own frame; once inlined into @caller at O2 the
        // caller's pass must leave that frame alone and root only its own values.
        let ctx = Context::create();
        let m = native(
            &ctx,
            r#"
define internal ptr addrspace(1) @callee(ptr addrspace(1) %x) {
entry:
  %y = call ptr addrspace(1) @alloc()
  call void @gc()
  call void @use2(ptr addrspace(1) %x, ptr addrspace(1) %y)
  ret ptr addrspace(1) %y
}
define void @caller() {
entry:
  %a = call ptr addrspace(1) @alloc()
  %b = call ptr addrspace(1) @callee(ptr addrspace(1) %a)
  call void @gc()
  call void @use2(ptr addrspace(1) %a, ptr addrspace(1) %b)
  ret void
}
"#,
        );
        pipeline(&m, Target::Native, 2);
        let ir = text(&m, "caller");
        assert!(!ir.contains("@callee"), "not inlined: {ir}");
        assert_eq!(ir.matches("!weft.root.frame").count(), 2, "{ir}");
        assert_eq!(verify_gc(&m), Ok(()));
        assert_idempotent(&m, NATIVE);
    }

    #[test]
    fn new_values_in_a_function_with_a_frame_get_a_nested_frame() {
        // A frame made by an earlier run keeps working; a value that later
        // code motion left live across a call gets a second frame, pushed
        // before and popped after the first, so the shadow stack stays nested.
        let ctx = Context::create();
        let m = native(
            &ctx,
            r#"
@weft_shadow_top = external global ptr
define void @f() {
entry:
  %frame.roots = alloca { ptr, i64, [1 x ptr addrspace(1)] }, align 8, !weft.root.frame !0
  %frame.prev = load ptr, ptr @weft_shadow_top
  store ptr %frame.prev, ptr %frame.roots
  %frame.count = getelementptr inbounds { ptr, i64, [1 x ptr addrspace(1)] }, ptr %frame.roots, i32 0, i32 1
  store i64 1, ptr %frame.count
  %root.0 = getelementptr inbounds { ptr, i64, [1 x ptr addrspace(1)] }, ptr %frame.roots, i32 0, i32 2, i64 0
  store ptr addrspace(1) null, ptr %root.0
  store ptr %frame.roots, ptr @weft_shadow_top
  %a = call ptr addrspace(1) @alloc()
  store ptr addrspace(1) %a, ptr %root.0
  %b = call ptr addrspace(1) @alloc()
  call void @gc()
  %r = load ptr addrspace(1), ptr %root.0
  call void @use2(ptr addrspace(1) %r, ptr addrspace(1) %b)
  store ptr %frame.prev, ptr @weft_shadow_top
  ret void
}
!0 = !{}
"#,
        );
        assert_eq!(verify_gc(&m).unwrap_err().len(), 1);
        let outcome = spill(&m, "f", NATIVE).unwrap();
        assert_eq!(outcome.slots, ["b"]);
        assert_valid(&m);
        let ir = text(&m, "f");
        let new_push = line_of(&ir, "store ptr %frame.roots1, ptr @weft_shadow_top");
        let old_push = line_of(&ir, "store ptr %frame.roots, ptr @weft_shadow_top");
        let old_pop = line_of(&ir, "store ptr %frame.prev, ptr @weft_shadow_top");
        // The new frame's saved top is the first load of @weft_shadow_top.
        let load = ir
            .lines()
            .find(|l| l.contains("= load ptr, ptr @weft_shadow_top"));
        let new_prev = load.unwrap().trim().split(' ').next().unwrap();
        assert_ne!(new_prev, "%frame.prev", "{ir}");
        let new_pop = line_of(&ir, &format!("store ptr {new_prev}, ptr @weft_shadow_top"));
        assert!(
            new_push < old_push && old_push < old_pop && old_pop < new_pop,
            "{ir}"
        );
        assert_eq!(verify_gc(&m), Ok(()));
        assert_idempotent(&m, NATIVE);
    }

    #[test]
    fn wasm32_treats_pointers_not_derived_from_allocas_as_references() {
        let ir = r#"
declare ptr @walloc()
declare void @wuse(ptr, ptr)
@table = global [4 x ptr] zeroinitializer
define void @w(ptr %arg) {
entry:
  %buf = alloca [16 x i8], align 4
  %p = getelementptr i8, ptr %buf, i32 4
  %g = getelementptr i8, ptr @table, i32 4
  %s = call ptr @walloc()
  %t = getelementptr i8, ptr %s, i32 8
  call void @gc()
  call void @wuse(ptr %p, ptr %g)
  call void @wuse(ptr %t, ptr %arg)
  ret void
}
"#;
        let ctx = Context::create();
        let m = parse(&ctx, Target::Wasm32, ir);
        let outcome = spill(&m, "w", WASM).unwrap();
        assert_eq!(outcome.slots, ["arg", "t"]);
        assert_valid(&m);
        let w = text(&m, "w");
        assert!(
            w.contains("%frame.roots = alloca { ptr, i64, [2 x ptr] }"),
            "{w}"
        );
        assert_eq!(GcConfig::for_module(&m), WASM);
        assert_eq!(verify_gc(&m), Ok(()));
        // The saved shadow-stack top is a `ptr` load, but not a GC reference.
        assert_idempotent(&m, WASM);
        for level in [0, 2] {
            let ctx = Context::create();
            let m = parse(&ctx, Target::Wasm32, ir);
            pipeline(&m, Target::Wasm32, level);
            assert_eq!(verify_gc(&m), Ok(()), "O{level}");
            assert_idempotent(&m, WASM);
        }
    }

    #[test]
    fn verifier_rejects_a_value_live_across_a_safepoint() {
        let ctx = Context::create();
        let m = native(&ctx, LIVE_ACROSS);
        let problems = verify_gc(&m).unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("function `f`"), "{problems:?}");
        assert!(
            problems[0].contains("%a = call ptr addrspace(1) @alloc()"),
            "{problems:?}"
        );
        assert!(problems[0].contains("call void @gc()"), "{problems:?}");
    }

    #[test]
    fn verifier_rejects_stores_outside_root_slots_and_heap_objects() {
        let ctx = Context::create();
        let m = native(
            &ctx,
            r#"
@global = global ptr addrspace(1) null
define void @bad(ptr %out) {
entry:
  %local = alloca ptr addrspace(1)
  %a = call ptr addrspace(1) @alloc()
  store ptr addrspace(1) %a, ptr %out
  store ptr addrspace(1) %a, ptr @global
  store ptr addrspace(1) %a, ptr %local
  %field = getelementptr i8, ptr addrspace(1) %a, i64 16
  store ptr addrspace(1) %a, ptr addrspace(1) %field
  ret void
}
"#,
        );
        let problems = verify_gc(&m).unwrap_err();
        assert_eq!(problems.len(), 3, "{problems:?}");
        for (p, target) in problems.iter().zip(["%out", "@global", "%local"]) {
            assert!(
                p.contains("function `bad`") && p.contains("stored outside"),
                "{p}"
            );
            assert!(p.contains(&format!("ptr {target}")), "{p}");
        }
        // After the pass the GC alloca is a root slot; the other two remain wrong.
        spill(&m, "bad", NATIVE).unwrap();
        assert_eq!(verify_gc(&m).unwrap_err().len(), 2);
    }

    #[test]
    fn unsupported_code_is_an_error_not_a_crash() {
        let ir = r#"
define void @dyn(i64 %n) {
entry:
  br label %more
more:
  %x = alloca ptr addrspace(1), i64 %n
  store ptr addrspace(1) null, ptr %x
  ret void
}
"#;
        let ctx = Context::create();
        let m = native(&ctx, ir);
        let e = spill(&m, "dyn", NATIVE).unwrap_err();
        assert!(e.contains("`dyn`") && e.contains("unsupported"), "{e}");
        // Through the pipeline: an error, and the module stays valid.
        let ctx = Context::create();
        let m = native(&ctx, ir);
        let machine = optimize::target_machine(Target::Native, 0).unwrap();
        let e = run_pipeline(&m, &machine, 0, NATIVE).unwrap_err();
        assert!(e.contains("dynamic GC alloca"), "{e}");
        assert_valid(&m);
    }

    // -----------------------------------------------------------------------
    // Coroutines

    /// What the coroutine tests call: the frame allocator (never collects),
    /// and wasm32 twins of the native declarations.
    const CORO_DECLS: &str = r#"
declare ptr @weft_coro_alloc(i64) "weft-nogc"
declare ptr @walloc()
declare void @wuse1(ptr)
declare void @wuse2(ptr, ptr)
"#;

    /// A switched-resume generator in the shape codegen emits (see
    /// /tmp/coro_spec.md): promise `{ i32 count, i32 slots_offset, i64,
    /// [K x gcref] }`, `coro.alloc` through `@weft_coro_alloc`, an initial
    /// suspend, then `body` (which ends with `br label %final`), a real final
    /// suspend (LLVM #188230), cleanup and `coro.end`.
    fn coroutine(
        target: Target,
        name: &str,
        params: &str,
        k: u32,
        allocas: &str,
        body: &str,
    ) -> String {
        let ret = match target {
            Target::Native => "  %handle = addrspacecast ptr %hdl to ptr addrspace(1)\n  ret ptr addrspace(1) %handle",
            Target::Wasm32 => "  ret ptr %hdl",
        };
        let text = format!(
            r#"
%{name}.Promise = type {{ i32, i32, i64, [{k} x ptr addrspace(1)] }}
define ptr addrspace(1) @{name}({params}) presplitcoroutine {{
entry:
  %promise = alloca %{name}.Promise, align 8
{allocas}
  %id = call token @llvm.coro.id(i32 16, ptr %promise, ptr null, ptr null)
  %need = call i1 @llvm.coro.alloc(token %id)
  br i1 %need, label %coro.alloc, label %coro.begin
coro.alloc:
  %size = call i64 @llvm.coro.size.i64()
  %mem = call ptr @weft_coro_alloc(i64 %size)
  br label %coro.begin
coro.begin:
  %phi = phi ptr [ null, %entry ], [ %mem, %coro.alloc ]
  %hdl = call ptr @llvm.coro.begin(token %id, ptr %phi)
  %initial = call i8 @llvm.coro.suspend(token none, i1 false)
  switch i8 %initial, label %ramp.ret [ i8 0, label %body
                                        i8 1, label %cleanup ]
body:
{body}
final:
  %fin = call i8 @llvm.coro.suspend(token none, i1 true)
  switch i8 %fin, label %ramp.ret [ i8 0, label %trap
                                    i8 1, label %cleanup ]
trap:
  unreachable
cleanup:
  %free = call ptr @llvm.coro.free(token %id, ptr %hdl)
  br label %ramp.ret
ramp.ret:
  call void @llvm.coro.end(ptr %hdl, i1 false, token none)
{ret}
}}
"#
        );
        match target {
            Target::Native => text,
            Target::Wasm32 => text
                .replace("alloca ptr addrspace(1), align 8", "alloca ptr, align 4")
                .replace("ptr addrspace(1)", "ptr")
                .replace("@alloc()", "@walloc()")
                .replace("@use(", "@wuse1(")
                .replace("@use2(", "@wuse2("),
        }
    }

    /// Keeps a GC value (`%b`, also yielded through the promise's slot) and a
    /// GC alloca (`%x.addr`) across a suspend.
    fn keep(target: Target) -> String {
        coroutine(
            target,
            "keep",
            "",
            1,
            "  %x.addr = alloca ptr addrspace(1), align 8",
            r#"  %x = call ptr addrspace(1) @alloc()
  store ptr addrspace(1) %x, ptr %x.addr
  %b = call ptr addrspace(1) @alloc()
  %yield = getelementptr inbounds %keep.Promise, ptr %promise, i32 0, i32 3, i64 0
  store ptr addrspace(1) %b, ptr %yield
  %s1 = call i8 @llvm.coro.suspend(token none, i1 false)
  switch i8 %s1, label %ramp.ret [ i8 0, label %resume1
                                   i8 1, label %cleanup ]
resume1:
  %x1 = load ptr addrspace(1), ptr %x.addr
  call void @use2(ptr addrspace(1) %x1, ptr addrspace(1) %b)
  store ptr addrspace(1) null, ptr %yield
  br label %final"#,
        )
    }

    /// A GC value live across an ordinary call (no suspend in between).
    fn across_call(target: Target) -> String {
        coroutine(
            target,
            "across_call",
            "",
            1,
            "",
            r#"  %a = call ptr addrspace(1) @alloc()
  call void @gc()
  %yield = getelementptr inbounds %across_call.Promise, ptr %promise, i32 0, i32 3, i64 0
  store ptr addrspace(1) %a, ptr %yield
  %s1 = call i8 @llvm.coro.suspend(token none, i1 false)
  switch i8 %s1, label %ramp.ret [ i8 0, label %resume1
                                   i8 1, label %cleanup ]
resume1:
  store ptr addrspace(1) null, ptr %yield
  br label %final"#,
        )
    }

    /// No GC values: yields the integers below %n.
    fn ints(target: Target) -> String {
        coroutine(
            target,
            "ints",
            "i64 %n",
            0,
            "",
            r#"  %value = getelementptr inbounds %ints.Promise, ptr %promise, i32 0, i32 2
  br label %head
head:
  %i = phi i64 [ 0, %body ], [ %i1, %next ]
  %more = icmp slt i64 %i, %n
  br i1 %more, label %yield, label %final
yield:
  store i64 %i, ptr %value
  %s1 = call i8 @llvm.coro.suspend(token none, i1 false)
  switch i8 %s1, label %ramp.ret [ i8 0, label %next
                                   i8 1, label %cleanup ]
next:
  %i1 = add i64 %i, 1
  br label %head"#,
        )
    }

    /// A GC argument used after the initial suspend.
    fn argument(target: Target) -> String {
        coroutine(
            target,
            "argument",
            "ptr addrspace(1) %s",
            1,
            "",
            r#"  call void @use(ptr addrspace(1) %s)
  %yield = getelementptr inbounds %argument.Promise, ptr %promise, i32 0, i32 3, i64 0
  store ptr addrspace(1) %s, ptr %yield
  %s1 = call i8 @llvm.coro.suspend(token none, i1 false)
  switch i8 %s1, label %ramp.ret [ i8 0, label %resume1
                                   i8 1, label %cleanup ]
resume1:
  store ptr addrspace(1) null, ptr %yield
  br label %final"#,
        )
    }

    fn coro_module<'c>(ctx: &'c Context, target: Target, ir: &str) -> Module<'c> {
        parse(ctx, target, &format!("{CORO_DECLS}\n{ir}"))
    }

    /// Runs LLVM's pipeline without the pass (to make violations).
    fn pipeline_without_pass(module: &Module, target: Target, level: u8) {
        let machine = optimize::target_machine(target, level).expect("target machine");
        // SAFETY: the module and machine are live for the call; no callback.
        let error = unsafe {
            weft_run_pipeline(
                module.as_mut_ptr(),
                machine.as_mut_ptr(),
                c_uint::from(level),
                None,
                None,
                None,
                std::ptr::null_mut(),
            )
        };
        assert!(error.is_null(), "{}", take_error(error));
        assert_valid(module);
    }

    /// The root area the pass recorded on a function, as (slots_offset, count).
    fn roots_of(module: &Module, name: &str) -> Option<(i64, i64)> {
        let f = module.get_function(name).expect("no such function");
        // SAFETY: the function belongs to the live module.
        unsafe {
            let env = Env::new(f.as_value_ref(), GcConfig::for_module(module));
            RootsMd::of_function(&env, f.as_value_ref()).map(|r| (r.slots_offset, r.count))
        }
    }

    /// The stores of GC values in a function, as (base, byte offset from it,
    /// the store printed).
    fn gc_stores(
        module: &Module,
        name: &str,
        config: GcConfig,
    ) -> Vec<(LLVMValueRef, Option<i64>, String)> {
        let f = module
            .get_function(name)
            .expect("no such function")
            .as_value_ref();
        // SAFETY: the function belongs to the live module; nothing is changed.
        unsafe {
            let env = Env::new(f, config);
            let mut out = Vec::new();
            for block in blocks_of(f) {
                for inst in instructions_of(block) {
                    if opcode(inst) == Some(LLVMOpcode::LLVMStore)
                        && env.is_gc_pointer_type(LLVMTypeOf(operand(inst, 0)))
                        && LLVMIsAConstantPointerNull(operand(inst, 0)).is_null()
                    {
                        let (base, offset) = strip_offsets(env.data_layout, operand(inst, 1));
                        out.push((base, offset, describe(inst)));
                    }
                }
            }
            out
        }
    }

    fn param0(module: &Module, name: &str) -> LLVMValueRef {
        let f = module
            .get_function(name)
            .expect("no such function")
            .as_value_ref();
        // SAFETY: the function belongs to the live module.
        unsafe { LLVMGetParam(f, 0) }
    }

    #[test]
    fn coroutine_roots_live_in_the_promise() {
        let ctx = Context::create();
        let m = coro_module(&ctx, Target::Native, &keep(Target::Native));
        let outcome = spill(&m, "keep", NATIVE).unwrap();
        assert_eq!(outcome.slots, ["x.addr", "b"]);
        assert_valid(&m);
        let ir = text(&m, "keep");
        // The promise grew by two slots after codegen's one; coro.id names the new one.
        assert!(
            ir.contains("%promise = alloca { %keep.Promise, [2 x ptr addrspace(1)] }, align 8, !weft.coro.roots"),
            "{ir}"
        );
        assert!(
            ir.contains("@llvm.coro.id(i32 16, ptr %promise, ptr null, ptr null)"),
            "{ir}"
        );
        // Initialised right after coro.begin: count 1 + 2, slots at byte 16, three null slots.
        let begin = line_of(&ir, "%hdl = call ptr @llvm.coro.begin");
        let count = line_of(&ir, "store volatile i32 3, ptr %promise.count");
        let offset = line_of(&ir, "store volatile i32 16, ptr %promise.slots_offset");
        let memset = line_of(
            &ir,
            "@llvm.memset.p0.i64(ptr align 8 %promise.slots, i8 0, i64 24, i1 false)",
        );
        assert!(begin < count && count < offset && offset < memset, "{ir}");
        assert!(
            ir.contains(
                "%promise.slots = getelementptr inbounds nuw %keep.Promise, ptr %promise, i32 0, i32 3"
            ),
            "{ir}"
        );
        // The GC alloca is slot 0 of the new array, %b slot 1: stored after its
        // definition, reloaded after the suspend.
        assert!(!ir.contains("alloca ptr addrspace(1)"), "{ir}");
        assert!(
            ir.contains("%x.addr = getelementptr inbounds { %keep.Promise, [2 x ptr addrspace(1)] }, ptr %promise, i32 0, i32 1, i64 0"),
            "{ir}"
        );
        let def = line_of(&ir, "%b = call ptr addrspace(1) @alloc()");
        let spill_store = line_of(&ir, "store ptr addrspace(1) %b, ptr %root.1");
        assert_eq!(def + 1, spill_store, "{ir}");
        let suspend = line_of(&ir, "%s1 = call i8 @llvm.coro.suspend");
        let reload = line_of(&ir, "%gc.reload = load ptr addrspace(1), ptr %root.1");
        let use_ = line_of(
            &ir,
            "call void @use2(ptr addrspace(1) %x1, ptr addrspace(1) %gc.reload)",
        );
        assert!(suspend < reload && reload + 1 == use_, "{ir}");
        // No shadow-stack frame in a coroutine.
        assert!(
            !ir.contains("frame.roots") && !ir.contains("weft_shadow_top"),
            "{ir}"
        );
        assert_eq!(roots_of(&m, "keep"), Some((16, 3)));
        assert_eq!(verify_gc(&m), Ok(()));
        assert_idempotent(&m, NATIVE);
    }

    #[test]
    fn coroutine_value_live_across_a_call_gets_a_slot() {
        let ctx = Context::create();
        let m = coro_module(&ctx, Target::Native, &across_call(Target::Native));
        let outcome = spill(&m, "across_call", NATIVE).unwrap();
        assert_eq!(outcome.slots, ["a"]);
        assert_valid(&m);
        let ir = text(&m, "across_call");
        let store = line_of(&ir, "store ptr addrspace(1) %a, ptr %root.0");
        let call = line_of(&ir, "call void @gc()");
        let reload = line_of(&ir, "%gc.reload = load ptr addrspace(1), ptr %root.0");
        let yield_ = line_of(&ir, "store ptr addrspace(1) %gc.reload, ptr %yield");
        assert!(
            store < call && call < reload && reload + 1 == yield_,
            "{ir}"
        );
        assert!(
            ir.contains("store volatile i32 2, ptr %promise.count"),
            "{ir}"
        );
        assert_eq!(verify_gc(&m), Ok(()));
        assert_idempotent(&m, NATIVE);
    }

    #[test]
    fn coroutine_without_gc_values_keeps_its_promise() {
        let ctx = Context::create();
        let m = coro_module(&ctx, Target::Native, &ints(Target::Native));
        let outcome = spill(&m, "ints", NATIVE).unwrap();
        assert!(outcome.changed && outcome.slots.is_empty(), "{outcome:?}");
        assert_valid(&m);
        let ir = text(&m, "ints");
        // Same type; count 0 and the offset of the (empty) codegen slots.
        assert!(
            ir.contains("%promise = alloca %ints.Promise, align 8, !weft.coro.roots"),
            "{ir}"
        );
        let begin = line_of(&ir, "%hdl = call ptr @llvm.coro.begin");
        assert_eq!(
            line_of(&ir, "store volatile i32 0, ptr %promise.count"),
            begin + 2,
            "{ir}"
        );
        assert!(
            ir.contains("store volatile i32 16, ptr %promise.slots_offset"),
            "{ir}"
        );
        assert!(!ir.contains("memset"), "{ir}");
        assert_eq!(roots_of(&m, "ints"), Some((16, 0)));
        assert_eq!(verify_gc(&m), Ok(()));
        assert_idempotent(&m, NATIVE);
    }

    #[test]
    fn coroutine_argument_is_stored_after_the_initialisation() {
        let ctx = Context::create();
        let m = coro_module(&ctx, Target::Native, &argument(Target::Native));
        let outcome = spill(&m, "argument", NATIVE).unwrap();
        assert_eq!(outcome.slots, ["s"]);
        assert_valid(&m);
        let ir = text(&m, "argument");
        let memset = line_of(&ir, "@llvm.memset");
        let store = line_of(&ir, "store ptr addrspace(1) %s, ptr %root.0");
        let suspend = line_of(&ir, "%initial = call i8 @llvm.coro.suspend");
        assert!(memset < store && store < suspend, "{ir}");
        // Every use after the suspend reads the slot (only the signature names %s).
        assert_eq!(ir.matches("%s)").count(), 1, "{ir}");
        assert_eq!(
            ir.matches("load ptr addrspace(1), ptr %root.0").count(),
            2,
            "{ir}"
        );
        assert_eq!(verify_gc(&m), Ok(()));
        assert_idempotent(&m, NATIVE);
    }

    /// The four coroutines through the whole pipeline, so CoroSplit really
    /// runs (-O0: the pass before CoroEarly; -O1..-O3: after it, in the CGSCC
    /// walk): (slots_offset, count) each gets, and the GC values it stores.
    /// `--nocapture` prints each `.resume` clone and ramp.
    #[test]
    fn coroutines_through_coro_split_at_o0_to_o3() {
        type Make = fn(Target) -> String;
        let cases: [(&str, Make, i64); 4] = [
            ("keep", keep, 3),
            ("across_call", across_call, 2),
            ("ints", ints, 0),
            ("argument", argument, 2),
        ];
        for level in 0..=3u8 {
            for (name, make, count) in cases {
                let ctx = Context::create();
                let m = coro_module(&ctx, Target::Native, &make(Target::Native));
                pipeline(&m, Target::Native, level);
                let resume = format!("{name}.resume");
                let ir = text(&m, &resume);
                println!("O{level} {name}:\n{ir}\n{}", text(&m, name));
                // (a) The root area is recorded on the ramp and the clones;
                // the ramp initialises it (a volatile store of count).
                assert_eq!(roots_of(&m, name), Some((16, count)), "O{level} {name}");
                assert_eq!(roots_of(&m, &resume), Some((16, count)), "O{level} {name}");
                let ramp = text(&m, name);
                assert!(
                    ramp.contains(&format!("store volatile i32 {count}, ptr")),
                    "O{level}: {ramp}"
                );
                // (b) Every GC value `.resume` stores goes to the root area of
                // its frame: bytes [16 + 16, 16 + 16 + 8 * count).
                let frame = param0(&m, &resume);
                for (base, offset, store) in gc_stores(&m, &resume, NATIVE) {
                    assert!(base == frame, "O{level}: not into the frame: {store}\n{ir}");
                    let offset = offset.unwrap_or_else(|| panic!("O{level}: {store}"));
                    assert!(
                        (32..32 + 8 * count).contains(&offset),
                        "O{level}: frame byte {offset} is outside the root area: {store}\n{ir}"
                    );
                }
                // At O0 LLVM's frame type shows the promise, grown, at field 2.
                if level == 0 && count > 1 {
                    let module_text = m.print_to_string().to_string();
                    let frame_ty = format!(
                        "%{name}.Frame = type {{ ptr, ptr, {{ %{name}.Promise, [{} x ptr addrspace(1)] }}",
                        count - 1
                    );
                    assert!(module_text.contains(&frame_ty), "{module_text}");
                }
                // (c) and (d).
                assert_eq!(verify_gc(&m), Ok(()), "O{level} {name}");
                assert_idempotent(&m, NATIVE);
            }
        }
    }

    #[test]
    fn verifier_rejects_gc_values_that_coro_split_spills() {
        for level in [0u8, 2] {
            let ctx = Context::create();
            let m = coro_module(&ctx, Target::Native, &keep(Target::Native));
            pipeline_without_pass(&m, Target::Native, level);
            let problems = verify_gc(&m).unwrap_err();
            println!("O{level}: {problems:#?}");
            assert!(
                problems.iter().any(
                    |p| p.contains("function `keep.resume`") && p.contains("is stored outside")
                ),
                "O{level}: {problems:?}"
            );
        }
        // Before CoroSplit: the value is live across the suspend, and there is no root area.
        let ctx = Context::create();
        let m = coro_module(&ctx, Target::Native, &keep(Target::Native));
        let problems = verify_gc(&m).unwrap_err();
        assert!(
            problems.iter().any(|p| p.contains("without a root area")),
            "{problems:?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p.contains("%b = call") && p.contains("@llvm.coro.suspend")),
            "{problems:?}"
        );
        // A GC argument CoroSplit spills in the ramp is caught there.
        let ctx = Context::create();
        let m = coro_module(&ctx, Target::Native, &argument(Target::Native));
        pipeline_without_pass(&m, Target::Native, 0);
        let problems = verify_gc(&m).unwrap_err();
        assert!(
            problems.iter().any(|p| p.contains("function `argument`")
                && p.contains(
                    "GC value `s` is stored into the coroutine frame `mem`, which has no root area"
                )),
            "{problems:?}"
        );
    }

    #[test]
    fn verifier_checks_the_root_area_of_split_clones() {
        // A clone as CoroSplit makes it, of a coroutine whose root area is 3
        // slots at byte 16 of the promise, i.e. frame bytes [32, 56).
        let ir = r#"
define internal fastcc void @g.resume(ptr %hdl) !weft.coro.roots !0 {
entry:
  %a = call ptr addrspace(1) @alloc()
  %in = getelementptr inbounds i8, ptr %hdl, i64 48
  store ptr addrspace(1) %a, ptr %in
  %last = getelementptr inbounds i8, ptr %hdl, i64 56
  store ptr addrspace(1) %a, ptr %last
  %spill = getelementptr inbounds i8, ptr %hdl, i64 24
  store ptr addrspace(1) %a, ptr %spill
  %first = getelementptr inbounds i8, ptr %hdl, i64 32
  %c = icmp eq ptr addrspace(1) %a, null
  br i1 %c, label %one, label %loop
one:
  %either = phi ptr [ %first, %entry ], [ %in, %one ]
  store ptr addrspace(1) %a, ptr %either
  br i1 %c, label %one, label %loop
loop:
  %p = phi ptr [ %first, %one ], [ %next, %loop ]
  store ptr addrspace(1) %a, ptr %p
  %next = getelementptr inbounds i8, ptr %p, i64 8
  br label %loop
}
!0 = !{!"g", i64 16, i64 3}
"#;
        let ctx = Context::create();
        let m = native(&ctx, ir);
        let problems = verify_gc(&m).unwrap_err();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(
            problems[0]
                .contains("byte 56 of the coroutine frame `hdl`, outside its root area [32, 56)"),
            "{problems:?}"
        );
        assert!(
            problems[1].contains("byte 24 of the coroutine frame `hdl`"),
            "{problems:?}"
        );
        // A phi of two root slots is fine; a pointer walking the frame is not.
        assert!(
            problems[2].contains("at an unknown offset of the coroutine frame `hdl`")
                && problems[2].contains("ptr %p"),
            "{problems:?}"
        );
        // A pre-split coroutine the pass processed, then broken by hand: a GC
        // value live across a suspend is found.
        let ctx = Context::create();
        let m = coro_module(&ctx, Target::Native, &keep(Target::Native));
        spill(&m, "keep", NATIVE).unwrap();
        let broken = m.print_to_string().to_string().replace(
            "call void @use2(ptr addrspace(1) %x1, ptr addrspace(1) %gc.reload)",
            "call void @use2(ptr addrspace(1) %x1, ptr addrspace(1) %b)",
        );
        let ctx = Context::create();
        let buf = MemoryBuffer::create_from_memory_range_copy(broken.as_bytes(), "broken");
        let m = ctx.create_module_from_ir(buf).unwrap();
        let problems = verify_gc(&m).unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("`%b = call ptr addrspace(1) @alloc()` is live across the safepoint `%s1 = call i8 @llvm.coro.suspend"), "{problems:?}");
    }

    #[test]
    fn new_values_in_a_processed_coroutine_extend_its_root_area() {
        // A first run, then code that leaves a new value live across the
        // suspend (as later passes could), then a second run.
        let ctx = Context::create();
        let m = coro_module(&ctx, Target::Native, &keep(Target::Native));
        spill(&m, "keep", NATIVE).unwrap();
        let grown = m
            .print_to_string()
            .to_string()
            .replace(
                "  %s1 = call i8 @llvm.coro.suspend",
                "  %late = call ptr addrspace(1) @alloc()\n  %s1 = call i8 @llvm.coro.suspend",
            )
            .replace(
                "  br label %final",
                "  call void @use(ptr addrspace(1) %late)\n  br label %final",
            );
        let ctx = Context::create();
        let buf = MemoryBuffer::create_from_memory_range_copy(grown.as_bytes(), "grown");
        let m = ctx.create_module_from_ir(buf).unwrap();
        assert_eq!(verify_gc(&m).unwrap_err().len(), 1);
        let outcome = spill(&m, "keep", NATIVE).unwrap();
        assert_eq!(outcome.slots, ["late"]);
        assert_valid(&m);
        let ir = text(&m, "keep");
        assert!(
            ir.contains("%promise = alloca { %keep.Promise, [3 x ptr addrspace(1)] }"),
            "{ir}"
        );
        // One initialisation, for all four slots; the new slot is the last.
        assert_eq!(ir.matches("%promise.count").count(), 2, "{ir}");
        assert!(
            ir.contains("store volatile i32 4, ptr %promise.count"),
            "{ir}"
        );
        assert!(ir.contains("i64 32, i1 false)"), "{ir}");
        assert!(ir.contains("ptr %promise, i32 0, i32 1, i64 2"), "{ir}");
        assert_eq!(roots_of(&m, "keep"), Some((16, 4)));
        assert_eq!(verify_gc(&m), Ok(()));
        assert_idempotent(&m, NATIVE);
        pipeline(&m, Target::Native, 0);
        assert_eq!(verify_gc(&m), Ok(()));
    }

    #[test]
    fn wasm32_coroutines() {
        type Make = fn(Target) -> String;
        let cases: [(&str, Make); 4] = [
            ("keep", keep),
            ("across_call", across_call),
            ("ints", ints),
            ("argument", argument),
        ];
        for (name, make) in cases {
            let ctx = Context::create();
            let m = coro_module(&ctx, Target::Wasm32, &make(Target::Wasm32));
            spill(&m, name, WASM).unwrap();
            assert_valid(&m);
            let ir = text(&m, name);
            // The handle is not a reference: it gets no slot.
            assert!(!ir.contains("store ptr %hdl"), "{ir}");
            assert_eq!(verify_gc(&m), Ok(()), "{name}");
            assert_idempotent(&m, WASM);
            for level in [0u8, 2] {
                let ctx = Context::create();
                let m = coro_module(&ctx, Target::Wasm32, &make(Target::Wasm32));
                pipeline(&m, Target::Wasm32, level);
                let resume = format!("{name}.resume");
                // The frame pointer is not rooted in a shadow-stack frame.
                assert!(
                    !text(&m, &resume).contains("frame.roots"),
                    "O{level}: {}",
                    text(&m, &resume)
                );
                let frame = param0(&m, &resume);
                let (slots_offset, count) = roots_of(&m, name).unwrap();
                for (base, offset, store) in gc_stores(&m, &resume, WASM) {
                    if base == frame {
                        let offset = offset.unwrap_or_else(|| panic!("O{level}: {store}"));
                        let start = 8 + slots_offset;
                        assert!(
                            (start..start + 4 * count).contains(&offset),
                            "O{level}: {store}"
                        );
                    }
                }
                assert_eq!(verify_gc(&m), Ok(()), "O{level} {name}");
                assert_idempotent(&m, WASM);
            }
        }
    }

    /// Keeps only a plain `ptr` made from a reference (`addrspacecast`, as
    /// codegen does for a generator's handle) across the suspend: CoroSplit
    /// would rematerialise the cast after it and spill the reference itself.
    fn derived(target: Target) -> String {
        coroutine(
            target,
            "derived",
            "",
            0,
            "",
            r#"  %a = call ptr addrspace(1) @alloc()
  %raw = addrspacecast ptr addrspace(1) %a to ptr
  %field = getelementptr inbounds i8, ptr %raw, i64 16
  %s1 = call i8 @llvm.coro.suspend(token none, i1 false)
  switch i8 %s1, label %ramp.ret [ i8 0, label %resume1
                                   i8 1, label %cleanup ]
resume1:
  %v = load i64, ptr %field
  %value = getelementptr inbounds %derived.Promise, ptr %promise, i32 0, i32 2
  store i64 %v, ptr %value
  br label %final"#,
        )
    }

    #[test]
    fn pointers_derived_from_references_are_interior_references() {
        let ctx = Context::create();
        let m = coro_module(&ctx, Target::Native, &derived(Target::Native));
        let outcome = spill(&m, "derived", NATIVE).unwrap();
        assert_eq!(outcome.slots, ["field"]);
        assert_valid(&m);
        let ir = text(&m, "derived");
        assert!(
            ir.contains("%gc.spill = addrspacecast ptr %field to ptr addrspace(1)"),
            "{ir}"
        );
        assert!(
            ir.contains("%gc.reload.ptr = addrspacecast ptr addrspace(1) %gc.reload to ptr"),
            "{ir}"
        );
        assert!(ir.contains("load i64, ptr %gc.reload.ptr"), "{ir}");
        assert_eq!(verify_gc(&m), Ok(()));
        assert_idempotent(&m, NATIVE);
        for level in [0u8, 2] {
            // With the pass: nothing but the root area is written in the frame.
            let ctx = Context::create();
            let m = coro_module(&ctx, Target::Native, &derived(Target::Native));
            pipeline(&m, Target::Native, level);
            assert_eq!(verify_gc(&m), Ok(()), "O{level}");
            assert_idempotent(&m, NATIVE);
            // Without it, the reference ends up in a frame field.
            let ctx = Context::create();
            let m = coro_module(&ctx, Target::Native, &derived(Target::Native));
            pipeline_without_pass(&m, Target::Native, level);
            let problems = verify_gc(&m).unwrap_err();
            assert!(
                problems.iter().any(|p| p.contains(
                    "function `derived.resume`: GC value `a` is stored outside a root slot or heap object"
                )),
                "O{level}: {problems:?}"
            );
        }
    }

    #[test]
    fn coroutine_frames_and_resumes_in_ordinary_functions() {
        // A frame from @weft_coro_alloc is a GC object (here: a ramp inlined
        // into its caller); resuming a coroutine runs its code, so
        // llvm.coro.resume is a safepoint (the pass runs before CoroEarly at -O0).
        let ctx = Context::create();
        let m = coro_module(
            &ctx,
            Target::Native,
            r#"
define void @caller() {
entry:
  %mem = call ptr @weft_coro_alloc(i64 64)
  %g = call ptr addrspace(1) @alloc()
  %handle = addrspacecast ptr addrspace(1) %g to ptr
  call void @llvm.coro.resume(ptr %handle)
  store i32 1, ptr %mem
  call void @llvm.coro.destroy(ptr %handle)
  call void @use(ptr addrspace(1) %g)
  ret void
}
"#,
        );
        let problems = verify_gc(&m).unwrap_err();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(
            problems[0].contains("%mem = call ptr @weft_coro_alloc"),
            "{problems:?}"
        );
        assert!(
            problems[1].contains("%g = call") && problems[1].contains("@llvm.coro.resume"),
            "{problems:?}"
        );
        assert!(
            problems[2].contains("%handle = addrspacecast")
                && problems[2].contains("@llvm.coro.resume"),
            "{problems:?}"
        );
        let outcome = spill(&m, "caller", NATIVE).unwrap();
        assert_eq!(outcome.slots, ["mem", "g", "handle"]);
        assert_valid(&m);
        assert_eq!(verify_gc(&m), Ok(()));
        assert_idempotent(&m, NATIVE);
    }

    #[test]
    fn coroutine_without_a_promise_gets_one() {
        // No promise (the runtime still reads a header at frame + 16), and a
        // value defined before llvm.coro.begin that is used after a suspend.
        let ir = coroutine(
            Target::Native,
            "bare",
            "ptr addrspace(1) %s",
            0,
            "  %f = getelementptr inbounds i8, ptr addrspace(1) %s, i64 16",
            r#"  call void @use(ptr addrspace(1) %f)
  br label %final"#,
        )
        .replace("i32 16, ptr %promise,", "i32 16, ptr null,");
        let ctx = Context::create();
        let m = coro_module(&ctx, Target::Native, &ir);
        let outcome = spill(&m, "bare", NATIVE).unwrap();
        assert_eq!(outcome.slots, ["f"]);
        assert_valid(&m);
        let text_ = text(&m, "bare");
        assert!(
            text_.contains(
                "%promise1 = alloca { { i32, i32, [0 x ptr addrspace(1)] }, [1 x ptr addrspace(1)] }, align 8, !weft.coro.roots"
            ),
            "{text_}"
        );
        assert!(
            text_.contains("@llvm.coro.id(i32 16, ptr %promise1, ptr null, ptr null)"),
            "{text_}"
        );
        let memset = line_of(&text_, "@llvm.memset");
        let store = line_of(&text_, "store ptr addrspace(1) %f, ptr %root.0");
        assert!(memset < store, "{text_}");
        assert!(
            text_.contains("store volatile i32 1, ptr %promise.count"),
            "{text_}"
        );
        assert!(
            text_.contains("store volatile i32 8, ptr %promise.slots_offset"),
            "{text_}"
        );
        assert_eq!(verify_gc(&m), Ok(()));
        assert_idempotent(&m, NATIVE);
        for level in [0u8, 2] {
            let ctx = Context::create();
            let m = coro_module(&ctx, Target::Native, &ir);
            pipeline(&m, Target::Native, level);
            assert_eq!(roots_of(&m, "bare"), Some((8, 1)), "O{level}");
            assert_eq!(verify_gc(&m), Ok(()), "O{level}");
            assert_idempotent(&m, NATIVE);
        }
    }

    #[test]
    fn unsupported_coroutines_are_errors() {
        let ctx = Context::create();
        let m = native(
            &ctx,
            r#"
define void @co() presplitcoroutine {
entry:
  %id = call token @llvm.coro.id(i32 0, ptr null, ptr null, ptr null)
  %a = call ptr addrspace(1) @alloc()
  call void @gc()
  call void @use(ptr addrspace(1) %a)
  ret void
}
"#,
        );
        let e = spill(&m, "co", NATIVE).unwrap_err();
        assert!(e.contains("`co`") && e.contains("llvm.coro.begin"), "{e}");
    }

    /// Where the pass sits in each pipeline: printed (run the test with
    /// `--nocapture` to see it) and checked.
    #[test]
    fn pipeline_placement() {
        const PASS: &str = "weft-gc-frame-spill";
        for level in 0..=3u8 {
            let machine = optimize::target_machine(Target::Native, level).unwrap();
            let text = describe_pipeline(&machine, level);
            println!("O{level}: {text}\n");
            assert!(!text.starts_with("error"), "{text}");
            assert_eq!(text.matches(PASS).count(), 1, "O{level}: {text}");
            let pass = text.find(PASS).unwrap();
            let coro_split = text.find("coro-split").expect("coro-split");
            assert!(pass < coro_split, "O{level}: runs after CoroSplit: {text}");
            if level == 0 {
                // buildO0DefaultPipeline: always-inline, then one function(...)
                // group with every function extension point, then the coroutine passes.
                let always_inline = text.find("always-inline").unwrap();
                let coro_early = text.find("coro-early").unwrap();
                assert!(always_inline < pass && pass < coro_early, "{text}");
            } else {
                // ScalarOptimizerLate: the end of the function simplification
                // pipeline, inside the CGSCC walk, after the inliner and before
                // coro-split of the same SCC.
                let inliner = text.find("cgscc(devirt<4>(inline").expect("inliner");
                assert!(inliner < pass, "O{level}: {text}");
                let between = &text[pass..coro_split];
                assert!(
                    !between.contains("cgscc("),
                    "O{level}: other CGSCC walk: {text}"
                );
                for late in ["sroa", "instcombine"] {
                    let last = text[..pass].rfind(late);
                    assert!(
                        last.is_some_and(|l| l > inliner),
                        "O{level}: {late} before: {text}"
                    );
                }
            }
        }
    }
}
