//! Arithmetic live across a suspend stays in the coroutine frame through
//! CoroSplit (frozen before it, thawed right after it).
//!
//! CoroSplit rematerializes binary operators, comparisons and selects after a
//! suspend instead of spilling them; a generator's `x = f(x); yield x` then
//! applied `f` twice per value once inlined into its `for` loop. A `freeze`
//! is not rematerialized, so [`freeze_across_suspends`] puts one after each
//! such value (at -O1 and up at the peephole extension point after the
//! InstCombine that follows the pass: InstCombine's analysis of each freeze
//! walks the dominator tree, quadratic in a long coroutine). [`thaw`] runs at
//! the CGSCC optimizer-late point, which the CGSCC walk reaches again for the
//! ramp and the clones right after CoroSplit and before their simplification:
//! it takes those freezes (marked `!weft.kept`) out again, and the pipeline
//! runner then folds the branches CoroSplit made constant in each clone,
//! deleting the dead copies of the other paths in one linear walk.

use super::*;

/// Arithmetic that lives across a suspend is kept in the frame, not
/// recomputed after it: each such value gets a `freeze` right after its
/// definition, and every use goes through it. CoroSplit rematerializes
/// binary operators, comparisons and selects from their operands instead of
/// spilling them; a generator's `x = f(x); yield x` then spills the old `x`
/// and applies `f` again after each resume, so once inlined into a `for`
/// loop `f` runs twice per value. A `freeze` is not rematerialized; right
/// after CoroSplit, [`thaw`] takes them out again.
/// Returns whether it changed anything.
pub(crate) unsafe fn freeze_across_suspends(function: LLVMValueRef) -> bool {
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
pub(crate) unsafe fn thaw(function: LLVMValueRef, config: GcConfig) -> Thawed {
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
pub(crate) enum Thawed {
    /// A suspend is left, or the function never was a coroutine.
    Nothing,
    /// Freezes removed from a function that is no coroutine part.
    Frozen,
    /// A coroutine's ramp or clone after CoroSplit.
    Split,
}
