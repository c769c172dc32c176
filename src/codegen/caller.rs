//! Panics in the standard library report where the program called it. A
//! standard-library function (`std.*`, plain or async, not a generator:
//! its body runs at a later `next()`) is *tracked*: a call into one from other code first stores the call's
//! `file:line:col` in two internal globals (`weft.caller.loc`, `.len`); the
//! tracked function copies them at entry (so calls it makes into user code,
//! which store again, do not change what it reports), and each location it
//! would pass for a panic (`a.remove(99)` in the prelude, `Builder.str()`,
//! a `Bytes` index, the re-raise of a task's panic in `Group.wait`) is that
//! copy instead of its own line, or its own line when nothing stored one (a
//! call from the runtime). An async one copies them in its ramp, which runs
//! right after the call, and keeps the copy in its frame.

use super::*;
use inkwell::values::GlobalValue;

impl<'ctx> Codegen<'ctx, '_> {
    /// Whether function `id` reports its caller's location.
    pub(super) fn tracked(&self, id: FnId) -> bool {
        let info = &self.typed.fns[id as usize];
        info.symbol.starts_with("std.") && info.yields.is_none()
    }

    fn caller_globals(&mut self) -> (GlobalValue<'ctx>, GlobalValue<'ctx>) {
        if let Some(g) = self.m.caller {
            return g;
        }
        let loc = self.module.add_global(self.raw, None, "weft.caller.loc");
        loc.set_initializer(&self.raw.const_null());
        loc.set_linkage(Linkage::Internal);
        let i64t = self.cx.i64_type();
        let len = self.module.add_global(i64t, None, "weft.caller.len");
        len.set_initializer(&i64t.const_zero());
        len.set_linkage(Linkage::Internal);
        self.m.caller = Some((loc, len));
        (loc, len)
    }

    /// At a tracked function's entry: its copy of the caller's location.
    pub(super) fn track_entry(&mut self) -> Result<()> {
        let (loc, len) = self.caller_globals();
        let i64t = self.cx.i64_type();
        let loc_slot = self.entry_alloca(self.raw.into(), "caller.loc")?;
        let len_slot = self.entry_alloca(i64t.into(), "caller.len")?;
        let l = self
            .b
            .build_load(self.raw, loc.as_pointer_value(), "caller.loc")?;
        self.b.build_store(loc_slot, l)?;
        let n = self
            .b
            .build_load(i64t, len.as_pointer_value(), "caller.len")?;
        self.b.build_store(len_slot, n)?;
        self.f.caller = Some((loc_slot, len_slot));
        Ok(())
    }

    /// Before a call from untracked code that may enter a tracked function
    /// (`callee` is `None` for an indirect call): the call's location.
    pub(super) fn set_caller(&mut self, callee: Option<FnId>, span: Span) -> Result<()> {
        if self.f.caller.is_some() || callee.is_some_and(|id| !self.tracked(id)) {
            return Ok(());
        }
        let (p, n) = self.own_location(span)?;
        let (loc, len) = self.caller_globals();
        self.b.build_store(loc.as_pointer_value(), p)?;
        self.b.build_store(len.as_pointer_value(), n)?;
        Ok(())
    }

    /// In a tracked function: the caller's location, or `own` when none
    /// was stored.
    pub(super) fn caller_location(
        &mut self,
        own: (PointerValue<'ctx>, IntValue<'ctx>),
    ) -> Result<(PointerValue<'ctx>, IntValue<'ctx>)> {
        let Some((loc_slot, len_slot)) = self.f.caller else {
            return Ok(own);
        };
        let p = self
            .b
            .build_load(self.raw, loc_slot, "caller")?
            .into_pointer_value();
        let n = self
            .b
            .build_load(self.cx.i64_type(), len_slot, "caller.len")?
            .into_int_value();
        let none = self.b.build_is_null(p, "no.caller")?;
        let p = self
            .b
            .build_select(none, own.0, p, "at")?
            .into_pointer_value();
        let n = self
            .b
            .build_select(none, own.1, n, "at.len")?
            .into_int_value();
        Ok((p, n))
    }
}
