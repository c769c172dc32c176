//! The gc-frame-spill pass and the GC verifier (see "Garbage collection" in
//! DESIGN.md and the RootFrame contract of the runtime).
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
//! The pass is written in Rust over LLVM's C API; `src/llvm_shim/pass_wrapper.cpp`
//! registers [`spill_callback`] in LLVM's pipeline after inlining and scalar
//! simplification and before CoroSplit, and [`run_pipeline`] runs that
//! pipeline. It is idempotent: already-processed code has nothing left to
//! spill. [`verify_gc`] checks the invariant on the final module (`--verify-gc`).

use crate::link::Target;
use inkwell::module::Module;
use inkwell::targets::TargetMachine;
use inkwell::values::AsValueRef;
use llvm_sys::core::*;
use llvm_sys::error::{LLVMDisposeErrorMessage, LLVMErrorRef, LLVMGetErrorMessage};
use llvm_sys::prelude::*;
use llvm_sys::target::{LLVMABIAlignmentOfType, LLVMABISizeOfType, LLVMGetModuleDataLayout};
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
        ctx: *mut c_void,
    ) -> LLVMErrorRef;
    #[cfg(test)]
    fn weft_describe_pipeline(machine: LLVMTargetMachineRef, level: c_uint) -> *mut c_char;
    fn weft_call_memory_effects(call: LLVMValueRef) -> u32;
}

const CHANGED: c_uint = 1;
const CHANGED_CFG: c_uint = 2;

/// The string function attribute the compiler puts on runtime functions that
/// never allocate: a call to them is not a safepoint.
pub const NOGC_ATTRIBUTE: &str = "weft-nogc";
/// Metadata kind marking a root-frame alloca (survives inlining).
const ROOT_FRAME_MD: &str = "weft.root.frame";

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
    };
    // SAFETY: the module and machine are live for the call; `state` outlives
    // it and only the callback, on this thread, touches it meanwhile.
    let error = unsafe {
        weft_run_pipeline(
            module.as_mut_ptr(),
            machine.as_mut_ptr(),
            c_uint::from(level.min(3)),
            Some(spill_callback),
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
    Ok(())
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
    let outcome = catch_unwind(AssertUnwindSafe(|| spill_function(function, config)));
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
/// beyond its arguments. Indirect calls are safepoints. `llvm.coro.suspend`
/// is one too (for the coroutine lowering; it never occurs in ordinary code).
unsafe fn is_safepoint(inst: LLVMValueRef) -> bool {
    if !is_call(inst) {
        return false;
    }
    if let Some(f) = called_function(inst) {
        if is_intrinsic(f) {
            return raw_name(f) == "llvm.coro.suspend";
        }
    }
    !has_nogc_attribute(inst) && may_write_beyond_arguments(inst)
}

/// Whether the function is a coroutine (calls `llvm.coro.id`).
unsafe fn is_coroutine(body: &Body) -> bool {
    body.insts.iter().flatten().any(|&i| {
        is_call(i) && called_function(i).is_some_and(|f| raw_name(f).starts_with("llvm.coro.id"))
    })
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
}

impl Env {
    unsafe fn new(function: LLVMValueRef, config: GcConfig) -> Env {
        let module = LLVMGetGlobalParent(function);
        let ctx = LLVMGetModuleContext(module);
        let name = CString::new(crate::runtime_abi::SHADOW_TOP).unwrap_or_default();
        Env {
            config,
            ctx,
            module,
            gc_ty: LLVMPointerTypeInContext(ctx, config.gc_addrspace),
            ptr_ty: LLVMPointerTypeInContext(ctx, 0),
            shadow_top: LLVMGetNamedGlobal(module, name.as_ptr()),
            root_kind: LLVMGetMDKindIDInContext(
                ctx,
                ROOT_FRAME_MD.as_ptr() as *const c_char,
                ROOT_FRAME_MD.len() as c_uint,
            ),
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
/// which handles loops: a block is visited once per value.
struct Liveness<'a> {
    body: &'a Body,
    stamp: Vec<u32>,
    generation: u32,
}

impl<'a> Liveness<'a> {
    fn new(body: &'a Body) -> Self {
        Liveness {
            body,
            stamp: vec![0; body.blocks.len()],
            generation: 0,
        }
    }

    /// The first safepoint found that the value is live across, if any.
    fn live_across(&mut self, def: Def, uses: &[UseSite]) -> Option<LLVMValueRef> {
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
                        if let Some(s) = body.safepoint_between(ub, def_pos, Some(up)) {
                            return Some(s);
                        }
                    } else {
                        if let Some(s) = body.safepoint_between(ub, None, Some(up)) {
                            return Some(s);
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
                if let Some(s) = body.safepoint_between(b, def_pos, None) {
                    return Some(s);
                }
                continue;
            }
            if let Some(s) = body.safepoint_between(b, None, None) {
                return Some(s);
            }
            live_out.extend(&body.preds[b]);
        }
        None
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

unsafe fn gc_values(env: &Env, function: LLVMValueRef, body: &Body) -> GcValues {
    let mut set = HashSet::new();
    for i in 0..LLVMCountParams(function) {
        let arg = LLVMGetParam(function, i);
        if env.contains_gc_pointer(LLVMTypeOf(arg)) {
            set.insert(arg);
        }
    }
    // A fixpoint: phis and selects may refer to values later in block order.
    loop {
        let mut grew = false;
        for &inst in body.insts.iter().flatten() {
            if !set.contains(&inst) && is_gc_instruction(env, inst, &set) {
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
    if matches!(op, LLVMOpcode::LLVMPtrToInt | LLVMOpcode::LLVMPtrToAddr) {
        return set.contains(&operand(inst, 0));
    }
    if !env.is_gc_pointer_type(ty) {
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
        | LLVMOpcode::LLVMFreeze => set.contains(&operand(inst, 0)),
        LLVMOpcode::LLVMPHI => {
            (0..LLVMCountIncoming(inst)).any(|i| set.contains(&LLVMGetIncomingValue(inst, i)))
        }
        LLVMOpcode::LLVMSelect => {
            set.contains(&operand(inst, 1)) || set.contains(&operand(inst, 2))
        }
        // The saved shadow-stack top is a frame address, not a GC reference.
        LLVMOpcode::LLVMLoad => env.shadow_top.is_null() || operand(inst, 0) != env.shadow_top,
        _ => true,
    }
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
}

/// Runs the pass on one function: analyses first (every unsupported case is
/// reported before anything changes), then rewrites.
unsafe fn spill_function(function: LLVMValueRef, config: GcConfig) -> Result<Outcome, String> {
    if LLVMIsDeclaration(function) != 0 {
        return Ok(Outcome::default());
    }
    let mut env = Env::new(function, config);
    let body = Body::new(function);
    if is_coroutine(&body) {
        // Coroutines keep their roots in the promise (DESIGN.md); that lowering
        // is a later issue. Until then they are left as they are.
        return Ok(Outcome::default());
    }
    let fname = raw_name(function);
    let unsupported = |what: String| format!("function `{fname}`: unsupported: {what}");
    let gc = gc_values(&env, function, &body);
    let data_layout = LLVMGetModuleDataLayout(env.module);
    let slot_align = LLVMABIAlignmentOfType(data_layout, env.gc_ty);

    // (a) Allocas of the GC pointer type become root slots.
    let mut allocas: Vec<(LLVMValueRef, u64)> = Vec::new();
    for (bi, list) in body.insts.iter().enumerate() {
        for &inst in list {
            if LLVMIsAAllocaInst(inst).is_null() || LLVMGetAllocatedType(inst) != env.gc_ty {
                continue;
            }
            let size = operand(inst, 0);
            if bi != 0 || LLVMIsAConstantInt(size).is_null() {
                return Err(unsupported(format!(
                    "dynamic GC alloca `{}`",
                    describe(inst)
                )));
            }
            if LLVMGetAlignment(inst) > slot_align {
                return Err(unsupported(format!(
                    "over-aligned GC alloca `{}`",
                    describe(inst)
                )));
            }
            allocas.push((inst, LLVMConstIntGetZExtValue(size)));
        }
    }

    // (b) GC values live across a safepoint are demoted to root slots.
    let mut liveness = Liveness::new(&body);
    let mut demoted = Vec::new();
    for &v in &gc.order {
        let uses = use_sites(v);
        if uses.is_empty() {
            continue;
        }
        let Some(safepoint) = liveness.live_across(def_of(&body, v), &uses) else {
            continue;
        };
        check_demotable(&env, v, &uses).map_err(|why| {
            unsupported(format!(
                "`{}` is live across `{}` but {why}",
                describe(v),
                describe(safepoint)
            ))
        })?;
        demoted.push(Demotion { value: v, uses });
    }

    let had_frame = body.insts.iter().flatten().any(|&i| env.is_root_frame(i));
    if allocas.is_empty() && demoted.is_empty() {
        let cleared = had_frame && clear_tail_markers(&body);
        return Ok(Outcome {
            changed: cleared,
            slots: Vec::new(),
        });
    }
    if LLVMHasPersonalityFn(function) != 0 {
        return Err(unsupported(
            "a root frame in a function with exception handling".into(),
        ));
    }

    // (c) The frame, its slots, the stores and reloads, and the pops.
    let alloca_slots: u64 = allocas.iter().map(|&(_, n)| n).sum();
    let n_slots = alloca_slots + demoted.len() as u64;
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

    let mut outcome = Outcome {
        changed: true,
        slots: Vec::new(),
    };
    let mut next_slot = 0u64;
    for &(alloca, count) in &allocas {
        let gep = slot(next_slot);
        outcome.slots.push(value_name(alloca));
        for _ in 1..count {
            outcome.slots.push(format!("{}[+]", value_name(alloca)));
        }
        next_slot += count;
        replace_alloca(alloca, gep);
    }
    let mut slot_of = Vec::with_capacity(demoted.len());
    for d in &demoted {
        slot_of.push(slot(next_slot));
        outcome.slots.push(value_name(d.value));
        next_slot += 1;
    }
    // The builder is still right after the frame set-up: spill arguments here.
    for (d, &root) in demoted.iter().zip(&slot_of) {
        if LLVMIsAArgument(d.value).is_null() {
            continue;
        }
        LLVMBuildStore(b, to_slot_value(&env, b, d.value), root);
    }
    let mut phi_reloads: HashMap<(LLVMValueRef, LLVMBasicBlockRef), LLVMValueRef> = HashMap::new();
    for (d, &root) in demoted.iter().zip(&slot_of) {
        let v = d.value;
        if LLVMIsAArgument(v).is_null() {
            LLVMPositionBuilderBefore(b, store_point(v));
            LLVMBuildStore(b, to_slot_value(&env, b, v), root);
        }
        for site in &d.uses {
            match *site {
                UseSite::Inst(user) => {
                    LLVMPositionBuilderBefore(b, user);
                    let reload = reload(&env, b, v, root);
                    for i in 0..num_operands(user) {
                        if operand(user, i) == v {
                            LLVMSetOperand(user, i, reload);
                        }
                    }
                }
                UseSite::Phi { phi, index, block } => {
                    let reload = *phi_reloads.entry((v, block)).or_insert_with(|| {
                        LLVMPositionBuilderBefore(b, LLVMGetBasicBlockTerminator(block));
                        reload(&env, b, v, root)
                    });
                    LLVMSetOperand(phi, index, reload);
                }
            }
        }
    }
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

/// Why a GC value that is live across a safepoint cannot be demoted, if so.
unsafe fn check_demotable(env: &Env, v: LLVMValueRef, uses: &[UseSite]) -> Result<(), String> {
    let ty = LLVMTypeOf(v);
    let is_int = LLVMGetTypeKind(ty) == LLVMTypeKind::LLVMIntegerTypeKind;
    if !env.is_gc_pointer_type(ty) && !is_int {
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
unsafe fn store_point(v: LLVMValueRef) -> LLVMValueRef {
    let mut at = LLVMGetNextInstruction(v);
    while opcode(at) == Some(LLVMOpcode::LLVMPHI) {
        at = LLVMGetNextInstruction(at);
    }
    at
}

/// The value to store in a slot: the GC pointer, or an integer made from
/// one (`ptrtoint`), turned back into a pointer.
unsafe fn to_slot_value(env: &Env, b: LLVMBuilderRef, v: LLVMValueRef) -> LLVMValueRef {
    if env.is_gc_pointer_type(LLVMTypeOf(v)) {
        v
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
    if is_coroutine(&body) {
        // Checked once coroutines get their root area (a later issue).
        return;
    }
    let fname = raw_name(f);
    let gc = gc_values(&env, f, &body);
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
    let mut has_frame = false;
    for &inst in body.insts.iter().flatten() {
        has_frame |= env.is_root_frame(inst);
        if opcode(inst) != Some(LLVMOpcode::LLVMStore) {
            continue;
        }
        let value = operand(inst, 0);
        if gc.set.contains(&value) && !is_root_or_heap(&env, &gc.set, operand(inst, 1)) {
            problems.push(format!(
                "function `{fname}`: GC value `{}` is stored outside a root slot or heap object: `{}`",
                value_name(value),
                describe(inst)
            ));
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

/// Whether every object a pointer may point into is a root frame or a GC
/// heap object (a pointer derived from a GC reference).
unsafe fn is_root_or_heap(env: &Env, gc: &HashSet<LLVMValueRef>, ptr: LLVMValueRef) -> bool {
    let mut seen = HashSet::new();
    let mut work = vec![ptr];
    while let Some(p) = work.pop() {
        // Natively every `ptr addrspace(1)` points into a GC object (or a static one).
        let gc_typed = env.config.gc_addrspace != 0 && env.is_gc_pointer_type(LLVMTypeOf(p));
        if !seen.insert(p) || gc.contains(&p) || gc_typed {
            continue;
        }
        if env.is_root_frame(p) {
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
            _ => return false,
        }
    }
    true
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
        unsafe { spill_function(f.as_value_ref(), config) }
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

    #[test]
    fn coroutines_are_left_for_the_coroutine_lowering() {
        let ctx = Context::create();
        let m = native(
            &ctx,
            r#"
declare token @llvm.coro.id(i32, ptr, ptr, ptr)
define void @co() {
entry:
  %id = call token @llvm.coro.id(i32 0, ptr null, ptr null, ptr null)
  %a = call ptr addrspace(1) @alloc()
  call void @gc()
  call void @use(ptr addrspace(1) %a)
  ret void
}
"#,
        );
        assert!(!spill(&m, "co", NATIVE).unwrap().changed);
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
