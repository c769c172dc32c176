//! Interface values and dynamic calls. A value of an interface type is the
//! struct or enum object itself: converting to an interface allocates
//! nothing. Each (type, interface) pair has a constant method table,
//! `[ptr shape, ptr method...]` (the methods in the interface's order, from
//! `Typed::impls`; the shape first so the runtime's formatter can print
//! the value), and a type's descriptors are preceded by its tables, the one
//! for interface `k` at `desc - (k + 1)` pointers (`heap::desc_with_tables`;
//! `weft_abi::layout::itable_index`). A call `v.m(args)` loads the
//! descriptor from `v`'s header, the table before it and the method from
//! the table, and calls it with `v` as `self`: one indirect call.

use super::*;
use crate::check::{FnId, IfaceId, StructId};
use inkwell::IntPredicate;
use weft_abi::layout::{itable_index, ITABLE_METHODS, ITABLE_SHAPE};

/// The most descriptors a dynamic call compares before it calls through
/// the table instead. Measured here (bench `iface`, six types, in order
/// and shuffled): six compares ran 3-6x faster than the table's indirect
/// call; a longer chain grows every call site, and its average cost with it.
const MAX_GUARDS: usize = 8;

impl<'ctx> Codegen<'ctx, '_> {
    /// Every descriptor an object implementing `iface` can have, with the
    /// code of method `index` for it; `None` when there are more than
    /// `MAX_GUARDS`.
    fn closed_targets(
        &mut self,
        iface: IfaceId,
        index: usize,
    ) -> Result<Option<Vec<(PointerValue<'ctx>, FnId)>>> {
        let mut types: Vec<(StructId, FnId)> = self
            .typed
            .impls
            .iter()
            .filter(|((_, k), _)| *k == iface)
            .map(|((s, _), methods)| (*s, methods[index]))
            .collect();
        // Sorted so the output does not depend on the map's order.
        types.sort_unstable();
        let count: usize = types
            .iter()
            .map(|&(s, _)| match &self.typed.structs[s as usize] {
                info if info.is_enum => info.variants.len(),
                _ => 1,
            })
            .sum();
        if count > MAX_GUARDS {
            return Ok(None);
        }
        let mut targets = Vec::new();
        for (s, f) in types {
            if self.typed.structs[s as usize].is_enum {
                for tag in 0..self.typed.structs[s as usize].variants.len() {
                    targets.push((self.variant_desc(s, tag)?, f));
                }
            } else {
                targets.push((self.struct_desc(s)?, f));
            }
        }
        Ok(Some(targets))
    }

    /// The method table of `from` for `iface`, made on first use.
    fn iface_table(&mut self, from: StructId, iface: IfaceId) -> Result<PointerValue<'ctx>> {
        let key = format!("itable.{from}.{iface}");
        if let Some(g) = self.m.descs.get(&key) {
            return Ok(g.as_pointer_value());
        }
        let ty = self.typed.structs[from as usize].ty(from);
        // The layout `weft_abi` states: the shape, then the methods.
        const _: () = assert!(ITABLE_SHAPE == 0 && ITABLE_METHODS == 1);
        let mut entries = vec![self.shape(&ty)?];
        let Some(methods) = self.typed.impls.get(&(from, iface)) else {
            return impossible("an interface value of a type that does not implement it");
        };
        for &f in methods {
            entries.push(self.m.fns[f as usize].as_global_value().as_pointer_value());
        }
        let value = self.raw.const_array(&entries);
        let g = self.private_constant(value.into(), &key);
        self.m.descs.insert(key, g);
        Ok(g.as_pointer_value())
    }

    /// The method tables of struct or enum `id` by interface (null where
    /// it implements none), for its descriptors' prefix; empty when it
    /// implements no interface.
    pub(super) fn tables_of(&mut self, id: StructId) -> Result<Vec<PointerValue<'ctx>>> {
        let mut ifaces: Vec<IfaceId> = self
            .typed
            .impls
            .keys()
            .filter(|(s, _)| *s == id)
            .map(|(_, k)| *k)
            .collect();
        ifaces.sort_unstable();
        let Some(&last) = ifaces.last() else {
            return Ok(Vec::new());
        };
        let mut tables = vec![self.raw.const_null(); last as usize + 1];
        for k in ifaces {
            tables[k as usize] = self.iface_table(id, k)?;
        }
        Ok(tables)
    }

    /// `value` as a value of an interface: the same reference.
    pub(super) fn interface_value(&mut self, value: &Expr) -> Result<Value<'ctx>> {
        self.expr(value)
    }

    /// `v.m(args)` on an interface value: method `index` of the table of
    /// `iface` before `v`'s descriptor.
    pub(super) fn dynamic_call(
        &mut self,
        iface: IfaceId,
        index: usize,
        receiver: &Expr,
        args: &[Expr],
        span: Span,
    ) -> Result<Value<'ctx>> {
        let this = value!(self.expr(receiver)?).into_pointer_value();
        let Some(mut values) = self.args(args)? else {
            return Ok(Lowered::Diverged);
        };
        // The header's first word is the descriptor's address.
        let desc = self
            .b
            .build_load(self.raw, this, "desc")?
            .into_pointer_value();
        let m = &self.typed.interfaces[iface as usize].methods[index];
        let (params, ret) = (m.params.clone(), m.ret.clone());
        values.insert(0, this.into());
        let Some(targets) = self.closed_targets(iface, index)? else {
            let code = self.table_method(desc, iface, index)?;
            let r = self.call_code(code, None, &params, &ret, &values, span)?;
            return Ok(self.lowered(r));
        };
        let done = self.cx.append_basic_block(self.func(), "dyn.done");
        let mut results = Vec::new();
        for (expected, f) in targets {
            let code = self.m.fns[f as usize].as_global_value().as_pointer_value();
            let hit = self.cx.append_basic_block(self.func(), "dyn.hit");
            let next = self.cx.append_basic_block(self.func(), "dyn.next");
            let is = self
                .b
                .build_int_compare(IntPredicate::EQ, desc, expected, "dyn.is")?;
            self.b.build_conditional_branch(is, hit, next)?;
            self.b.position_at_end(hit);
            let r = self.call_code(code, Some(f), &params, &ret, &values, span)?;
            results.push((r, self.b.get_insert_block().expect("in a block")));
            self.b.build_unconditional_branch(done)?;
            self.b.position_at_end(next);
        }
        // A descriptor no impl accounts for cannot occur; the table still
        // serves it rather than trusting that.
        let code = self.table_method(desc, iface, index)?;
        let r = self.call_code(code, None, &params, &ret, &values, span)?;
        results.push((r, self.b.get_insert_block().expect("in a block")));
        self.b.build_unconditional_branch(done)?;
        let last = self.b.get_insert_block().expect("in a block");
        if done.move_after(last).is_err() {
            return impossible("a dynamic call outside a function");
        }
        self.b.position_at_end(done);
        let Some((Some(first), _)) = results.first() else {
            return Ok(self.nothing());
        };
        let phi = self.b.build_phi(first.get_type(), "dyn.result")?;
        for (r, bb) in &results {
            let Some(r) = r else {
                return impossible("a dynamic call's targets disagree on a result");
            };
            phi.add_incoming(&[(r, *bb)]);
        }
        Ok(Lowered::Value(phi.as_basic_value()))
    }

    /// Method `index` of the table of `iface` before descriptor `desc`.
    fn table_method(
        &mut self,
        desc: PointerValue<'ctx>,
        iface: IfaceId,
        index: usize,
    ) -> Result<PointerValue<'ctx>> {
        let i64t = self.cx.i64_type();
        let before = i64t.const_int(itable_index(iface as u64) as u64, true);
        // SAFETY: every type that implements `iface` has its table there.
        let at = unsafe { self.b.build_gep(self.raw, desc, &[before], "table.at")? };
        let table = self
            .b
            .build_load(self.raw, at, "table")?
            .into_pointer_value();
        let slot = i64t.const_int(ITABLE_METHODS + index as u64, false);
        // SAFETY: the table has one entry per method after the shape.
        let at = unsafe {
            self.b
                .build_in_bounds_gep(self.raw, table, &[slot], "method.at")?
        };
        Ok(self
            .b
            .build_load(self.raw, at, "method")?
            .into_pointer_value())
    }
}
