//! The pass on a coroutine before CoroSplit: its promise becomes the root area.
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

use super::*;

/// A coroutine's promise: codegen's type `{ i32 count, i32 slots_offset, ...,
/// [K x gcref] }`, possibly already extended by an earlier run of the pass to
/// `{ <codegen's type>, [N x gcref] }`.
pub(crate) struct PromiseLayout {
    /// Codegen's promise type.
    pub(crate) base_ty: LLVMTypeRef,
    /// The index of its last field, the `[K x gcref]` codegen reserves.
    pub(crate) last: c_uint,
    /// The slots earlier runs added (N).
    pub(crate) added: u64,
    /// Whether an earlier run initialised the root area.
    pub(crate) initialised: bool,
}

impl PromiseLayout {
    /// For a coroutine without a promise: `{ i32, i32, [0 x gcref] }`.
    pub(crate) unsafe fn fresh(env: &Env) -> PromiseLayout {
        let i32_ty = LLVMInt32TypeInContext(env.ctx);
        let mut fields = [i32_ty, i32_ty, LLVMArrayType2(env.gc_ty, 0)];
        PromiseLayout {
            base_ty: LLVMStructTypeInContext(env.ctx, fields.as_mut_ptr(), 3, 0),
            last: 2,
            added: 0,
            initialised: false,
        }
    }

    pub(crate) unsafe fn of(env: &Env, promise: LLVMValueRef) -> Result<PromiseLayout, String> {
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
pub(crate) struct Regions {
    pub(crate) begin_block: usize,
    pub(crate) begin_pos: usize,
    /// Blocks reachable from the entry without passing `llvm.coro.begin`.
    pub(crate) before: Vec<bool>,
    pub(crate) successors: Vec<Vec<usize>>,
}

impl Regions {
    pub(crate) unsafe fn new(body: &Body, begin: LLVMValueRef) -> Result<Regions, String> {
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

    pub(crate) fn is_before(&self, b: usize, pos: usize) -> bool {
        self.before[b] || (b == self.begin_block && pos < self.begin_pos)
    }

    pub(crate) fn def_is_before(&self, def: Def) -> bool {
        match def {
            Def::Entry => true,
            Def::At(b, p) => self.is_before(b, p),
        }
    }

    /// Whether a definition before `llvm.coro.begin` dominates it (so it can
    /// be stored to its slot right after the root-area initialisation).
    pub(crate) fn def_dominates_begin(&self, def: Def) -> bool {
        match def {
            Def::Entry | Def::At(0, _) => true,
            Def::At(b, p) if b == self.begin_block => p < self.begin_pos,
            Def::At(b, _) => !reachable_avoiding(&self.successors, b)[self.begin_block],
        }
    }
}

/// The blocks reachable from the entry block without entering `avoid`.
pub(crate) fn reachable_avoiding(successors: &[Vec<usize>], avoid: usize) -> Vec<bool> {
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
pub(crate) unsafe fn spill_coroutine(
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
            store_root(env, b, d.value, root);
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
