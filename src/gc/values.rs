//! Which values are GC references, and a coroutine's `llvm.coro.id` and begins.
//!
//! Besides `ptr addrspace(1)` values (or, on wasm32, `ptr` values not derived
//! from an alloca or a global), natively the pass also treats as references
//! the interior pointers made from one by `addrspacecast` (a generator's
//! handle, which CoroSplit would otherwise rematerialise after a suspend,
//! spilling the reference into the frame) and coroutine frames from
//! `@weft_coro_alloc` (the FRAME object is a GC object; a caller that inlined
//! the ramp holds it). `llvm.coro.resume` and `llvm.coro.destroy` run a
//! coroutine's code, so they are safepoints.

use super::*;

/// The `llvm.coro.id` call of a coroutine that CoroSplit has not split yet,
/// if the function is one: its `llvm.coro.id` has no resumers yet. After
/// CoroSplit the ramp keeps its `llvm.coro.id` until CoroCleanup, with the
/// resumers filled in, and may be inlined: ramps, clones and the functions
/// they are inlined into are ordinary functions.
pub(crate) unsafe fn presplit_coro_id(
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
pub(crate) unsafe fn coro_begins(body: &Body, id: LLVMValueRef) -> Vec<LLVMValueRef> {
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
pub(crate) unsafe fn not_gc(
    frames: &[FrameArea],
    begins: &[LLVMValueRef],
) -> HashSet<LLVMValueRef> {
    frames
        .iter()
        .map(|a| a.base)
        .filter(|&b| !LLVMIsAArgument(b).is_null())
        .chain(begins.iter().copied())
        .collect()
}

/// The function's GC values: arguments and instructions that are (or, on
/// wasm32, may be) GC references, pointers derived from them, and integers
/// made from them by `ptrtoint` (which must keep their object alive too).
/// Aggregates and vectors holding GC pointers are included; the pass rejects
/// them if they are live across a safepoint.
pub(crate) struct GcValues {
    pub(crate) set: HashSet<LLVMValueRef>,
    /// Arguments, then instructions in block order: a deterministic order.
    pub(crate) order: Vec<LLVMValueRef>,
}

/// Coroutine frames are GC objects: the pointer `@weft_coro_alloc` returns,
/// and what `llvm.coro.begin` makes of it, are references too, except those
/// in `excluded` (see [`not_gc`]).
pub(crate) unsafe fn gc_values(
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

pub(crate) unsafe fn is_gc_instruction(
    env: &Env,
    inst: LLVMValueRef,
    set: &HashSet<LLVMValueRef>,
) -> bool {
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
pub(crate) unsafe fn is_derived(
    inst: LLVMValueRef,
    op: LLVMOpcode,
    set: &HashSet<LLVMValueRef>,
) -> bool {
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
