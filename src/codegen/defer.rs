//! `defer` and the other work a block owes on its way out.
//!
//! Each block opens a scope of cleanups: the `defer`s met so far, and for a
//! `for` loop over a generator, dropping the generator. Every way out of a
//! block runs the cleanups it crosses, innermost first, inline at the exit:
//! falling off the end runs the block's own, `break`/`continue` those inside
//! the loop, `return` all of them. In a coroutine each suspend point also gets
//! its own copy on the destroy edge of `llvm.coro.suspend`, so destroying a
//! suspended coroutine (cancelling a task, a `for` loop leaving a generator
//! early) runs exactly the `defer`s pending at that point; CoroSplit moves
//! those copies into the destroy function. A `defer` runs its expression at
//! exit time (like Swift's `defer`, not Go's, which evaluates arguments early).

use super::{Codegen, Result};
use crate::tir::{Block, Expr, ExprKind, Iter, Stmt};
use inkwell::basic_block::BasicBlock;
use inkwell::values::PointerValue;

/// Something a scope must do when control leaves it.
#[derive(Clone, Copy)]
pub(super) enum Cleanup<'ctx> {
    /// `defer e`. The TIR outlives code generation.
    Defer(*const Expr),
    /// Drop the generator whose reference is in this slot, unless finished.
    DropGen(PointerValue<'ctx>),
}

impl<'ctx> Codegen<'ctx, '_> {
    pub(super) fn push_scope(&mut self) {
        self.f.scopes.push(Vec::new());
    }

    /// Leaves the innermost scope; runs its cleanups if control falls off its end.
    pub(super) fn pop_scope(&mut self) -> Result<()> {
        if !self.terminated() {
            self.run_cleanups(self.f.scopes.len().saturating_sub(1))?;
        }
        self.f.scopes.pop();
        Ok(())
    }

    pub(super) fn defer(&mut self, e: &Expr) {
        if let Some(scope) = self.f.scopes.last_mut() {
            scope.push(Cleanup::Defer(e as *const Expr));
        }
    }

    pub(super) fn defer_drop_gen(&mut self, slot: PointerValue<'ctx>) {
        if let Some(scope) = self.f.scopes.last_mut() {
            scope.push(Cleanup::DropGen(slot));
        }
    }

    /// Runs the cleanups of the scopes from `depth` on, innermost first.
    pub(super) fn run_cleanups(&mut self, depth: usize) -> Result<()> {
        let pending: Vec<Cleanup<'ctx>> = self.f.scopes[depth.min(self.f.scopes.len())..]
            .iter()
            .flatten()
            .copied()
            .collect();
        // The cleanups run outside the scopes they belong to: a `defer`
        // inside a `defer` belongs to the inner block only.
        let saved = std::mem::take(&mut self.f.scopes);
        for c in pending.into_iter().rev() {
            if self.terminated() {
                break;
            }
            match c {
                Cleanup::Defer(e) => {
                    // SAFETY: `e` points into the TIR, which outlives codegen.
                    let e = unsafe { &*e };
                    self.expr(e)?;
                }
                Cleanup::DropGen(slot) => {
                    let g = self
                        .b
                        .build_load(self.gc, slot, "gen")?
                        .into_pointer_value();
                    self.drop_generator(g)?;
                }
            }
        }
        self.f.scopes = saved;
        Ok(())
    }

    /// Whether any cleanup is pending at this point.
    pub(super) fn has_cleanups(&self) -> bool {
        self.f.scopes.iter().any(|s| !s.is_empty())
    }

    /// The destroy edge of a suspend point: a block that runs every pending
    /// cleanup and then goes on to `cleanup` (the coroutine's end).
    pub(super) fn destroy_edge(&mut self, cleanup: BasicBlock<'ctx>) -> Result<BasicBlock<'ctx>> {
        if !self.has_cleanups() {
            return Ok(cleanup);
        }
        let saved = self.b.get_insert_block();
        let bb = self.cx.append_basic_block(self.func(), "destroy.defers");
        self.b.position_at_end(bb);
        self.run_cleanups(0)?;
        if !self.terminated() {
            self.b.build_unconditional_branch(cleanup)?;
        }
        if let Some(bb) = saved {
            self.b.position_at_end(bb);
        }
        Ok(bb)
    }
}

impl Codegen<'_, '_> {
    /// Whether a suspended coroutine with this body can have cleanups pending
    /// (a `defer`, or a `for` loop over a generator, which drops it): such a
    /// generator asks the runtime to run them if it is dropped unfinished.
    pub(super) fn has_cleanups_in(&self, block: &Block) -> bool {
        block.stmts.iter().any(|s| self.stmt_has_cleanups(s))
    }

    fn stmt_has_cleanups(&self, stmt: &Stmt) -> bool {
        match stmt {
            Stmt::Defer(..) => true,
            Stmt::For { iter, body, .. } => {
                matches!(iter, Iter::Gen(_)) || self.has_cleanups_in(body)
            }
            Stmt::While { body, .. } | Stmt::WhileLet { body, .. } | Stmt::Loop(body) => {
                self.has_cleanups_in(body)
            }
            Stmt::Let { value, .. } | Stmt::Expr(value) => self.expr_has_cleanups(value),
            _ => false,
        }
    }

    /// Blocks nested in expressions (closures are functions of their own).
    fn expr_has_cleanups(&self, e: &Expr) -> bool {
        match &e.kind {
            ExprKind::If { then, els, .. } | ExprKind::IfLet { then, els, .. } => {
                self.has_cleanups_in(then)
                    || els.as_ref().is_some_and(|e| self.expr_has_cleanups(e))
            }
            ExprKind::Block(b) => self.has_cleanups_in(b),
            ExprKind::Match(_, arms) => arms.iter().any(|a| self.expr_has_cleanups(&a.body)),
            ExprKind::WrapOptional(inner) => self.expr_has_cleanups(inner),
            ExprKind::ToInterface(value) => self.expr_has_cleanups(value),
            ExprKind::Select(arms, default) => {
                arms.iter().any(|a| self.has_cleanups_in(&a.body))
                    || default.as_ref().is_some_and(|d| self.has_cleanups_in(d))
            }
            _ => false,
        }
    }
}
