//! Interface values and dynamic calls. A value of an interface type is a
//! FIXED object `{ ptr table, ref value }` (only the value is traced), made
//! where the checker recorded `Coercion::ToInterface`. The table is one
//! constant per (type, interface): `[ptr shape, ptr method...]`, the
//! methods in the interface's order (`Typed::impls`), the shape first so
//! the runtime's formatter can print the value. A call `v.m(args)` loads
//! the method from the table and calls it with the boxed value as `self`:
//! one indirect call.

use super::*;
use crate::check::{IfaceId, StructId};

/// Payload offsets of an interface value's two slots.
const TABLE: u64 = 0;
const VALUE: u64 = 8;

impl<'ctx> Codegen<'ctx, '_> {
    /// The method table of `from` for `iface`, made on first use.
    fn iface_table(&mut self, from: StructId, iface: IfaceId) -> Result<PointerValue<'ctx>> {
        let key = format!("itable.{from}.{iface}");
        if let Some(g) = self.m.descs.get(&key) {
            return Ok(g.as_pointer_value());
        }
        let ty = self.typed.structs[from as usize].ty(from);
        let mut entries = vec![self.shape(&ty)?];
        let Some(methods) = self.typed.impls.get(&(from, iface)) else {
            return impossible("an interface value of a type that does not implement it");
        };
        for &f in methods {
            entries.push(self.m.fns[f as usize].as_global_value().as_pointer_value());
        }
        let value = self.raw.const_array(&entries);
        let g = self.module.add_global(value.get_type(), None, &key);
        g.set_initializer(&value);
        g.set_constant(true);
        g.set_linkage(Linkage::Private);
        g.set_alignment(8);
        self.m.descs.insert(key, g);
        Ok(g.as_pointer_value())
    }

    /// `value` (of struct or enum `from`) as a value of interface `iface`.
    pub(super) fn interface_value(
        &mut self,
        value: &Expr,
        iface: IfaceId,
        from: StructId,
    ) -> Result<Value<'ctx>> {
        let v = value!(self.expr(value)?);
        let table = self.iface_table(from, iface)?;
        let desc = self.fixed_desc("interface", 2, &[1]).as_pointer_value();
        let obj = self.alloc(desc, 16, "iface")?;
        let p = self.slot_ptr(obj, TABLE)?;
        self.b.build_store(p, table)?;
        self.store_slot(obj, VALUE, &value.ty, v)?;
        Ok(Lowered::Value(obj.into()))
    }

    /// `v.m(args)` on an interface value: method `index` of its table.
    pub(super) fn dynamic_call(
        &mut self,
        iface: IfaceId,
        index: usize,
        receiver: &Expr,
        args: &[Expr],
    ) -> Result<Value<'ctx>> {
        let boxed = value!(self.expr(receiver)?).into_pointer_value();
        let Some(mut values) = self.args(args)? else {
            return Ok(Lowered::Diverged);
        };
        let table = self.load_raw_slot(boxed, TABLE)?;
        // Any reference type loads the value as a GC reference.
        let this = self.load_slot(boxed, VALUE, &Type::Str)?;
        let slot = self.cx.i64_type().const_int(index as u64 + 1, false);
        // SAFETY: the table has one entry per method after the shape.
        let at = unsafe {
            self.b
                .build_in_bounds_gep(self.raw, table, &[slot], "method.at")?
        };
        let code = self
            .b
            .build_load(self.raw, at, "method")?
            .into_pointer_value();
        let m = &self.typed.interfaces[iface as usize].methods[index];
        let (params, ret) = (m.params.clone(), m.ret.clone());
        let mut param_types: Vec<BasicMetadataTypeEnum> = vec![self.gc.into()];
        param_types.extend(
            params
                .iter()
                .map(|t| BasicMetadataTypeEnum::from(self.llvm_type(t))),
        );
        let fn_type = self.fn_type(&ret, &param_types);
        values.insert(0, this.into());
        let r = self
            .b
            .build_indirect_call(fn_type, code, &values, "dyn")?
            .try_as_basic_value()
            .basic();
        Ok(self.lowered(r))
    }
}
