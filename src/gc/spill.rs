//! The pass on an ordinary function: GC values live across a safepoint and GC
//! allocas go into a shadow-stack root frame `{ ptr prev, i64 count, [N x
//! gcref] }` linked at `@weft_shadow_top`; each value is stored after its
//! definition and reloaded before each use. Demoted values share slots when
//! their live ranges do not meet ([`color_slots`]: a linear scan over a
//! conservative hull of each value's liveness in layout order), so a chain of
//! partial strings needs one slot, not one per link. After LLVM's whole
//! pipeline the runner drops `tail` markers from safepoints of functions that
//! got a root frame by late inlining ([`clear_tail_markers`]).

use super::*;

/// What the pass did to one function.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    pub(crate) changed: bool,
    /// What got a root slot, in slot order (names of values and allocas).
    pub(crate) slots: Vec<String>,
    /// The function is a coroutine before CoroSplit.
    pub(crate) coroutine: bool,
}

impl Outcome {
    pub(crate) fn flags(&self) -> c_uint {
        if self.changed {
            CHANGED
        } else {
            0
        }
    }
}

/// A GC value that must live in a root slot, with its uses before the pass.
pub(crate) struct Demotion {
    pub(crate) value: LLVMValueRef,
    pub(crate) uses: Vec<UseSite>,
    /// The smallest range of instruction positions (blocks in layout
    /// order) that holds every point where the value is live.
    pub(crate) hull: (usize, usize),
}

/// Runs the pass on one function: analyses first (every unsupported case is
/// reported before anything changes), then rewrites.
pub(crate) unsafe fn spill_function(
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
        store_root(&env, b, d.value, root);
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
pub(crate) unsafe fn gc_allocas(
    env: &Env,
    body: &Body,
) -> Result<Vec<(LLVMValueRef, u64)>, String> {
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
pub(crate) unsafe fn demotions(
    env: &Env,
    body: &Body,
    gc: &GcValues,
) -> Result<Vec<Demotion>, String> {
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
pub(crate) fn color_slots(demoted: &[Demotion]) -> (Vec<u64>, u64) {
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
pub(crate) unsafe fn check_demotable(
    env: &Env,
    v: LLVMValueRef,
    uses: &[UseSite],
) -> Result<(), String> {
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
pub(crate) unsafe fn assign_slots(
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
        outcome.slots.push(raw_name(alloca));
        for _ in 1..count {
            outcome.slots.push(format!("{}[+]", raw_name(alloca)));
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
        names[c].push(raw_name(d.value));
    }
    outcome.slots.extend(names.into_iter().map(|n| n.join("|")));
    (outcome, slot_of)
}

/// Stores each demoted value into its slot right after its definition
/// (unless `stored_already` says the caller did, e.g. for arguments) and
/// replaces each use by a reload placed just before it (for a phi, at the end
/// of the incoming block), except the uses `keeps_value` exempts.
pub(crate) unsafe fn store_and_reload(
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
            store_root(env, b, v, root);
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

pub(crate) unsafe fn store_point(v: LLVMValueRef) -> LLVMValueRef {
    let mut at = LLVMGetNextInstruction(v);
    while opcode(at) == Some(LLVMOpcode::LLVMPHI) {
        at = LLVMGetNextInstruction(at);
    }
    at
}

/// The value to store in a slot: the GC pointer, or a pointer of another
/// address space (`addrspacecast`) or an integer (`ptrtoint`) made from one,
/// turned back into a GC pointer.
pub(crate) unsafe fn to_slot_value(env: &Env, b: LLVMBuilderRef, v: LLVMValueRef) -> LLVMValueRef {
    let ty = LLVMTypeOf(v);
    if env.is_gc_pointer_type(ty) {
        v
    } else if LLVMGetTypeKind(ty) == LLVMTypeKind::LLVMPointerTypeKind {
        LLVMBuildAddrSpaceCast(b, v, env.gc_ty, c"gc.spill".as_ptr())
    } else {
        LLVMBuildIntToPtr(b, v, env.gc_ty, c"gc.spill".as_ptr())
    }
}

/// Stores `v` (as a GC pointer) into its root slot, tagged as a root-slot
/// access (`tbaa.rs`).
pub(crate) unsafe fn store_root(env: &Env, b: LLVMBuilderRef, v: LLVMValueRef, root: LLVMValueRef) {
    let store = LLVMBuildStore(b, to_slot_value(env, b, v), root);
    crate::tbaa::set(store, crate::tbaa::Class::RootSlot);
}

pub(crate) unsafe fn reload(
    env: &Env,
    b: LLVMBuilderRef,
    v: LLVMValueRef,
    root: LLVMValueRef,
) -> LLVMValueRef {
    let load = LLVMBuildLoad2(b, env.gc_ty, root, c"gc.reload".as_ptr());
    crate::tbaa::set(load, crate::tbaa::Class::RootSlot);
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
pub(crate) unsafe fn replace_alloca(alloca: LLVMValueRef, slot: LLVMValueRef) {
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
pub(crate) unsafe fn clear_tail_markers(body: &Body) -> bool {
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
