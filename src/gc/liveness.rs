//! A function's blocks, instruction positions, predecessors and safepoints,
//! and the liveness of a value across safepoints.

use super::*;

pub(crate) struct Body {
    pub(crate) blocks: Vec<LLVMBasicBlockRef>,
    pub(crate) index: HashMap<LLVMBasicBlockRef, usize>,
    pub(crate) insts: Vec<Vec<LLVMValueRef>>,
    /// Block and position of every instruction.
    pub(crate) at: HashMap<LLVMValueRef, (usize, usize)>,
    pub(crate) preds: Vec<Vec<usize>>,
    /// Positions of the safepoints in each block, ascending.
    pub(crate) safepoints: Vec<Vec<usize>>,
}

impl Body {
    pub(crate) unsafe fn new(function: LLVMValueRef) -> Body {
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
    pub(crate) fn safepoint_between(
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
pub(crate) enum Def {
    Entry,
    At(usize, usize),
}

/// One use of a value: by an instruction (all its operands that are the
/// value), or by a phi on the edge from `block`.
#[derive(Clone, Copy)]
pub(crate) enum UseSite {
    Inst(LLVMValueRef),
    Phi {
        phi: LLVMValueRef,
        index: u32,
        block: LLVMBasicBlockRef,
    },
}

pub(crate) unsafe fn use_sites(v: LLVMValueRef) -> Vec<UseSite> {
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
pub(crate) struct Liveness<'a> {
    pub(crate) body: &'a Body,
    pub(crate) stamp: Vec<u32>,
    pub(crate) generation: u32,
    /// Each block's first instruction's position in layout order (for
    /// `hull`; made on first use).
    pub(crate) starts: Vec<usize>,
}

impl<'a> Liveness<'a> {
    pub(crate) fn new(body: &'a Body) -> Self {
        Liveness {
            body,
            stamp: vec![0; body.blocks.len()],
            generation: 0,
            starts: Vec::new(),
        }
    }

    /// The first safepoint found that the value is live across, if any.
    pub(crate) fn live_across(&mut self, def: Def, uses: &[UseSite]) -> Option<LLVMValueRef> {
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
    pub(crate) fn hull(&mut self, def: Def, uses: &[UseSite]) -> (usize, usize) {
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
    pub(crate) fn walk(
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

pub(crate) unsafe fn def_of(body: &Body, v: LLVMValueRef) -> Def {
    match body.at.get(&v) {
        Some(&(b, p)) => Def::At(b, p),
        None => Def::Entry,
    }
}
