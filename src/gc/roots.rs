//! Root areas: the metadata that records a coroutine's, and where root areas
//! are before and after CoroSplit.

use super::*;

/// A coroutine's root area as the pass records it (`!weft.coro.roots`):
/// `count` slots at byte `slots_offset` of the promise.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RootsMd {
    /// The coroutine the pass processed (the ramp keeps the name; CoroSplit
    /// names the clones `<name>.resume`, `.destroy` and `.cleanup`).
    pub(crate) name: String,
    pub(crate) slots_offset: i64,
    pub(crate) count: i64,
}

impl RootsMd {
    pub(crate) unsafe fn node(&self, env: &Env) -> LLVMMetadataRef {
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
    pub(crate) unsafe fn read(node: LLVMValueRef) -> Option<RootsMd> {
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

    pub(crate) unsafe fn of_instruction(env: &Env, inst: LLVMValueRef) -> Option<RootsMd> {
        RootsMd::read(LLVMGetMetadata(inst, env.coro_kind))
    }

    pub(crate) unsafe fn of_function(env: &Env, function: LLVMValueRef) -> Option<RootsMd> {
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
pub(crate) struct FrameArea {
    pub(crate) base: LLVMValueRef,
    pub(crate) start: i64,
    pub(crate) end: i64,
    /// Where the promise starts from `base`, when found from the `count`
    /// store: the runtime expects [`Env::promise_offset`].
    pub(crate) promise_at: Option<i64>,
    /// A shadow-stack root frame (an inlined callee's) that CoroSplit moved
    /// into the coroutine frame, rather than a coroutine root area.
    pub(crate) linked: bool,
}

/// Where a root frame `{ ptr prev, i64 count, [N x ref] }` keeps `count`
/// and its slots, on both targets (the `i64` aligns the slots to 16).
pub(crate) const ROOT_FRAME_COUNT_AT: i64 = weft_abi::layout::ROOT_FRAME_COUNT as i64;
pub(crate) const ROOT_FRAME_SLOTS_AT: i64 = weft_abi::layout::ROOT_FRAME_SLOTS as i64;

/// The constant byte offset a GEP adds, if its indices are constants.
pub(crate) unsafe fn gep_offset(td: LLVMTargetDataRef, gep: LLVMValueRef) -> Option<i64> {
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
pub(crate) unsafe fn strip_offsets(
    td: LLVMTargetDataRef,
    mut p: LLVMValueRef,
) -> (LLVMValueRef, Option<i64>) {
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
pub(crate) unsafe fn is_clone_of(function: LLVMValueRef, roots: &RootsMd) -> bool {
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
pub(crate) unsafe fn frame_areas(env: &Env, function: LLVMValueRef, body: &Body) -> Vec<FrameArea> {
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
/// the frame when CoroSplit cannot prove it dead at every suspend (this
/// function's frame, or another coroutine's whose resume function was
/// inlined here). The GC
/// finds it through the shadow stack like any root frame; its slots are
/// `[16, 16 + slot * count)` from where it was linked, `count` the constant
/// stored at +8.
pub(crate) unsafe fn linked_root_frames(
    env: &Env,
    body: &Body,
    frames: &[FrameArea],
) -> Vec<FrameArea> {
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
        // A frame this function knows, or another coroutine's frame
        // reached through a reference loaded from memory, when that
        // coroutine's resume function was inlined here (a generator's, into
        // the loop that drives it) with the root frame of a callee inlined
        // into it.
        if !frames.iter().any(|a| a.base == base) && LLVMIsALoadInst(base).is_null() {
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
