//! Enums and `match`.
//!
//! An enum value is a FIXED object: slot 0 holds the variant's tag, the next
//! slots its payload; each variant has its own descriptor, so the GC traces
//! exactly the references that variant holds. Variants without payload are
//! static objects, one per variant, so they cost no allocation.
//!
//! A `match` evaluates its scrutinee once, then tries the arms in order: each
//! arm's pattern is compiled to tests that branch to the next arm on failure,
//! binding names as they go; the checker proved some arm always matches.

use super::{Codegen, Lowered, Result, Value};
use crate::check::{StructId, Type};
use crate::tir::*;
use inkwell::basic_block::BasicBlock;
use inkwell::values::{BasicValueEnum, PointerValue};
use inkwell::IntPredicate;

impl<'ctx> Codegen<'ctx, '_> {
    pub(super) fn variant_desc(&mut self, id: StructId, tag: usize) -> Result<PointerValue<'ctx>> {
        let info = &self.typed.structs[id as usize];
        let (vname, payload) = &info.variants[tag];
        let refs: Vec<u64> = payload
            .iter()
            .enumerate()
            .filter(|(_, t)| t.is_ref())
            .map(|(i, _)| i as u64 + 1)
            .collect();
        let name = format!("{}.{vname}.{id}", info.name);
        let n = payload.len() as u64 + 1;
        let tables = self.tables_of(id)?;
        Ok(self.desc_with_tables(&name, n, &refs, &tables))
    }

    /// `E.V(args)` or `E.V`.
    pub(super) fn variant_value(
        &mut self,
        id: StructId,
        tag: usize,
        args: &[Expr],
    ) -> Result<Value<'ctx>> {
        let payload = self.typed.structs[id as usize].variants[tag].1.clone();
        if payload.is_empty() {
            return Ok(Lowered::Value(self.unit_variant(id, tag)?.into()));
        }
        let mut values = Vec::new();
        for a in args {
            let v = value!(self.expr(a)?);
            values.push(v);
        }
        let desc = self.variant_desc(id, tag)?;
        let obj = self.alloc(desc, 8 * (payload.len() as u64 + 1), "variant")?;
        let tag_value = self.cx.i64_type().const_int(tag as u64, false);
        self.store_slot(obj, 0, &Type::Int, tag_value.into())?;
        for (i, (v, ty)) in values.into_iter().zip(&payload).enumerate() {
            self.store_slot(obj, 8 * (i as u64 + 1), ty, v)?;
        }
        Ok(Lowered::Value(obj.into()))
    }

    /// The static object of a variant without payload.
    fn unit_variant(&mut self, id: StructId, tag: usize) -> Result<PointerValue<'ctx>> {
        let key = format!("variant.{id}.{tag}");
        if let Some(&p) = self.m.unit_variants.get(&key) {
            return Ok(p);
        }
        let desc = self.variant_desc(id, tag)?;
        let (mut types, mut values) = self.static_header(desc);
        let i64t = self.cx.i64_type();
        types.push(i64t.into());
        values.push(i64t.const_int(tag as u64, false).into());
        let ty = self.cx.struct_type(&types, false);
        let info = &self.typed.structs[id as usize];
        let name = format!("{}.{}.value", info.name, info.variants[tag].0);
        let g = self.module.add_global(ty, None, &name);
        g.set_initializer(&self.cx.const_struct(&values, false));
        g.set_constant(true);
        g.set_linkage(inkwell::module::Linkage::Private);
        g.set_alignment(8);
        let r = self.static_ref(g);
        self.m.unit_variants.insert(key, r);
        Ok(r)
    }

    pub(super) fn match_expr(
        &mut self,
        e: &Expr,
        scrutinee: &Expr,
        arms: &[Arm],
    ) -> Result<Value<'ctx>> {
        let f = self.func();
        let result_ty = e.ty.clone();
        let result_llvm = self.basic_type(&result_ty);
        let slot = match result_llvm {
            Some(t) => Some(self.entry_alloca(t, "match.value")?),
            None => None,
        };
        let v = value!(self.expr(scrutinee)?);
        // The scrutinee lives in a stack slot: GC-typed, so the spill pass roots it.
        let held = self.entry_alloca(v.get_type(), "match.scrutinee")?;
        self.b.build_store(held, v)?;
        let end = self.cx.append_basic_block(f, "match.end");
        for (i, arm) in arms.iter().enumerate() {
            let next = self
                .cx
                .append_basic_block(f, &format!("match.arm{}", i + 1));
            let v = self.b.build_load(v.get_type(), held, "scrutinee")?;
            self.pattern(v, &arm.pattern, next)?;
            let value = self.expr(&arm.body)?;
            if !self.terminated() {
                if let (Some(slot), Lowered::Value(value)) = (slot, value) {
                    self.b.build_store(slot, value)?;
                }
                self.b.build_unconditional_branch(end)?;
            }
            self.b.position_at_end(next);
        }
        // The checker proved the arms exhaustive; this is never reached.
        self.panic("no match arm matched", e.span)?;
        self.b.position_at_end(end);
        match (slot, result_llvm) {
            (Some(slot), Some(t)) => Ok(Lowered::Value(self.b.build_load(
                t,
                slot,
                "match.result",
            )?)),
            _ => Ok(self.nothing()),
        }
    }

    /// Tests `v` against `pat`, branching to `fail` when it does not match and
    /// binding the pattern's names when it does.
    fn pattern(
        &mut self,
        v: BasicValueEnum<'ctx>,
        pat: &Pattern,
        fail: BasicBlock<'ctx>,
    ) -> Result<()> {
        let f = self.func();
        let test = |cx: &mut Self, ok: inkwell::values::IntValue<'ctx>| -> Result<()> {
            let pass = cx.cx.append_basic_block(f, "pattern.ok");
            cx.b.build_conditional_branch(ok, pass, fail)?;
            cx.b.position_at_end(pass);
            Ok(())
        };
        match pat {
            Pattern::Wildcard => {}
            Pattern::Binding(local) => self.declare_local(*local, Some(v))?,
            Pattern::Int(n) => {
                let k = self.cx.i64_type().const_int(*n as u64, true);
                let ok = self
                    .b
                    .build_int_compare(IntPredicate::EQ, v.into_int_value(), k, "is")?;
                test(self, ok)?;
            }
            Pattern::Bool(b) => {
                let k = self.cx.bool_type().const_int(*b as u64, false);
                let ok = self
                    .b
                    .build_int_compare(IntPredicate::EQ, v.into_int_value(), k, "is")?;
                test(self, ok)?;
            }
            Pattern::Str(s) => {
                let k = self.string_const(s)?;
                let ok = self.equal(v, k.into(), &Type::Str)?;
                test(self, ok)?;
            }
            Pattern::Nil => {
                let ok = self.b.build_is_null(v.into_pointer_value(), "is.nil")?;
                test(self, ok)?;
            }
            Pattern::Variant { enum_id, tag, args } => {
                let (id, tag) = (*enum_id, *tag);
                let obj = v.into_pointer_value();
                let ok = self.tag_is(obj, tag)?;
                test(self, ok)?;
                let payload = self.typed.structs[id as usize].variants[tag].1.clone();
                for (i, (sub, sub_ty)) in args.iter().zip(&payload).enumerate() {
                    let field = self.load_slot(obj, 8 * (i as u64 + 1), sub_ty)?;
                    self.pattern(field, sub, fail)?;
                }
            }
        }
        Ok(())
    }

    fn tag_is(
        &mut self,
        obj: PointerValue<'ctx>,
        tag: usize,
    ) -> Result<inkwell::values::IntValue<'ctx>> {
        let t = self.load_slot(obj, 0, &Type::Int)?.into_int_value();
        let k = self.cx.i64_type().const_int(tag as u64, false);
        Ok(self
            .b
            .build_int_compare(IntPredicate::EQ, t, k, "is.variant")?)
    }
}
