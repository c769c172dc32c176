//! The verifier (`--verify-gc`): the invariants listed in `gc/mod.rs`, on the
//! module after LLVM's whole pipeline.
//!
//! It accepts several root areas in one frame (a callee's frame elided into
//! its caller's, and the root frame of an inlined ordinary callee that
//! CoroSplit moved into the coroutine frame: found from the store of its
//! address into `@weft_shadow_top` and its constant `count`), the store of
//! a handle into `@weft_running`, and stores into the slots of
//! `@weft.globals` (the module variables' root frame). It rejects a reference made by `inttoptr`
//! from anything but a reference's own bits (`ptrtoint` of one, tagged or
//! offset): such an integer was invisible to the pass and may have crossed a
//! safepoint unrooted (issue 10's lost receive; `lit/gc/verify_int_to_ref.weft`).

use super::*;

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

pub(crate) unsafe fn verify_function(
    f: LLVMValueRef,
    config: GcConfig,
    problems: &mut Vec<String>,
) {
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
        if operand(inst, 1) == env.shadow_top && links_root_frame(&env, &frames, value) {
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
pub(crate) unsafe fn is_reference_bits(
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
pub(crate) unsafe fn check_frame_type(env: &Env, f: LLVMValueRef) -> Option<String> {
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
pub(crate) enum BadStore {
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
/// Whether `value`, stored into `@weft_shadow_top`, is the address of a
/// root frame inside a coroutine frame (`linked_root_frames`): when that
/// frame is another coroutine's, reached through a reference, the address
/// is derived from a GC value, and kept alive by it.
unsafe fn links_root_frame(env: &Env, frames: &[FrameArea], value: LLVMValueRef) -> bool {
    let (base, at) = strip_offsets(env.data_layout, value);
    frames
        .iter()
        .any(|a| a.linked && a.base == base && Some(a.start - ROOT_FRAME_SLOTS_AT) == at)
}

pub(crate) unsafe fn store_target(
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
            || is_module_variable(p)
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
pub(crate) unsafe fn is_running_global(p: LLVMValueRef) -> bool {
    !LLVMIsAGlobalVariable(p).is_null() && raw_name(p) == weft_abi::symbols::RUNNING
}

/// A slot of `@weft.globals`, the root frame of the module variables
/// (the address is a constant GEP into it).
pub(crate) unsafe fn is_module_variable(mut p: LLVMValueRef) -> bool {
    while !LLVMIsAConstantExpr(p).is_null() {
        p = LLVMGetOperand(p, 0);
    }
    !LLVMIsAGlobalVariable(p).is_null() && raw_name(p) == weft_abi::symbols::GLOBALS_FRAME
}

/// The values a pointer is based on through GEPs, casts, phis and selects
/// (stopping at those `stop` accepts), each with the byte offset of the
/// pointer from it when that is a known constant. A value reached with many
/// offsets (a loop of GEPs) is given an unknown one.
pub(crate) unsafe fn pointer_bases(
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
