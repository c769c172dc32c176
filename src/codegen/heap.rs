//! Heap objects in generated code: object layout and type descriptors, static
//! string literals, strings, arrays, maps, structs, closures, optionals,
//! equality and `str(v)`.
//!
//! Layout (ARCHITECTURE.md, "Objects"): a 16-byte header (descriptor
//! pointer, GC bits) then 8-byte slots. Every Weft value fits one slot: ints,
//! float bits, bools as 0/1, references. Arrays are indexed inline; maps and
//! string operations are runtime calls. `str(v)` of a composite type is a
//! generated function per type, built once and reused.

use super::{impossible, Codegen, Lowered, Result, Value};
use crate::ast::{BinOp, Span};
use crate::check::{ArrayMethod, FnId, MapMethod, Type};
use crate::tbaa::{self, Class};
use crate::tir::*;
use inkwell::module::Linkage;
use inkwell::types::{BasicMetadataTypeEnum, BasicTypeEnum};
use inkwell::values::{
    AsValueRef, BasicMetadataValueEnum, BasicValue, BasicValueEnum, GlobalValue, IntValue,
    PointerValue,
};
use inkwell::IntPredicate;
use weft_abi::symbols::{DESC_BOX_REF, DESC_BOX_SCALAR, DESC_STRING};
use weft_abi::RuntimeFn;

/// Bytes before an object's payload; the header's STATIC bit (immortal
/// objects in constant data); the FIXED descriptor kind.
use weft_abi::layout::{HEADER_BYTES as HEADER, HEADER_STATIC as STATIC_BITS};
const KIND_FIXED: u64 = weft_abi::layout::KIND_FIXED as u64;

/// The most pieces of an interpolation one runtime call joins. Each function
/// gets an array of GC slots per nesting depth, as wide as its first
/// interpolation there needs up to this; longer literals go by chunks
/// (fewer, bigger chunks are also much less work for LLVM: 16,000 parts in
/// chunks of 8 took 8.8 s to optimise).
const INTERP_CHUNK: u32 = 64;

impl<'ctx> Codegen<'ctx, '_> {
    // ----- slots --------------------------------------------------------------

    /// A pointer to the payload byte `offset` of `obj`.
    pub(super) fn slot_ptr(
        &mut self,
        obj: PointerValue<'ctx>,
        offset: u64,
    ) -> Result<PointerValue<'ctx>> {
        let i8t = self.cx.i8_type();
        let off = self.cx.i64_type().const_int(HEADER + offset, false);
        // SAFETY (LLVM): the offset stays inside the object, whose layout we define.
        Ok(unsafe { self.b.build_in_bounds_gep(i8t, obj, &[off], "slot") }?)
    }

    /// A value of type `ty` at `p`, the load tagged with `class` when it
    /// certainly is memory of that class (`tbaa.rs`).
    pub(super) fn load_typed(
        &mut self,
        p: PointerValue<'ctx>,
        ty: &Type,
        class: Option<Class>,
    ) -> Result<BasicValueEnum<'ctx>> {
        let loaded =
            |cg: &mut Self, t: BasicTypeEnum<'ctx>, name| -> Result<BasicValueEnum<'ctx>> {
                let v = cg.b.build_load(t, p, name)?;
                if let (Some(class), Some(load)) = (class, v.as_instruction_value()) {
                    // SAFETY: a load just built.
                    unsafe { tbaa::set(load.as_value_ref(), class) };
                }
                Ok(v)
            };
        Ok(match ty {
            Type::Bool => {
                let word = loaded(self, self.cx.i64_type().into(), "word")?.into_int_value();
                self.b
                    .build_int_compare(
                        IntPredicate::NE,
                        word,
                        self.cx.i64_type().const_zero(),
                        "bool",
                    )?
                    .into()
            }
            _ => loaded(self, self.llvm_type(ty), "field")?,
        })
    }

    pub(super) fn store_typed(
        &mut self,
        p: PointerValue<'ctx>,
        ty: &Type,
        v: BasicValueEnum<'ctx>,
        class: Option<Class>,
    ) -> Result<()> {
        let v = match ty {
            Type::Bool => self
                .b
                .build_int_z_extend(v.into_int_value(), self.cx.i64_type(), "word")?
                .into(),
            _ => v,
        };
        let store = self.b.build_store(p, v)?;
        if let Some(class) = class {
            // SAFETY: a store just built.
            unsafe { tbaa::set(store.as_value_ref(), class) };
        }
        Ok(())
    }

    pub(super) fn load_slot(
        &mut self,
        obj: PointerValue<'ctx>,
        offset: u64,
        ty: &Type,
    ) -> Result<BasicValueEnum<'ctx>> {
        let p = self.slot_ptr(obj, offset)?;
        self.load_typed(p, ty, Some(Class::Slot))
    }

    pub(super) fn store_slot(
        &mut self,
        obj: PointerValue<'ctx>,
        offset: u64,
        ty: &Type,
        v: BasicValueEnum<'ctx>,
    ) -> Result<()> {
        let p = self.slot_ptr(obj, offset)?;
        self.store_typed(p, ty, v, Some(Class::Slot))
    }

    /// A raw (non-GC) pointer kept in a slot: a closure's code.
    pub(super) fn load_raw_slot(
        &mut self,
        obj: PointerValue<'ctx>,
        offset: u64,
    ) -> Result<PointerValue<'ctx>> {
        let p = self.slot_ptr(obj, offset)?;
        Ok(self.b.build_load(self.raw, p, "code")?.into_pointer_value())
    }

    /// The value as the 8 bits a slot, a map or `weft_array_push` holds.
    pub(super) fn value_bits(
        &mut self,
        v: BasicValueEnum<'ctx>,
        ty: &Type,
    ) -> Result<IntValue<'ctx>> {
        let i64t = self.cx.i64_type();
        Ok(match ty {
            Type::Int => v.into_int_value(),
            Type::Float => self.b.build_bit_cast(v, i64t, "bits")?.into_int_value(),
            Type::Bool => self
                .b
                .build_int_z_extend(v.into_int_value(), i64t, "bits")?,
            _ => self
                .b
                .build_ptr_to_int(v.into_pointer_value(), i64t, "bits")?,
        })
    }

    /// A scalar from the 8 bits a promise's value word holds. References
    /// never travel as integers: an integer made back into a reference is
    /// invisible to the gc-frame-spill pass between the two, so the object
    /// could be collected while only its bits are held (the verifier rejects
    /// any `inttoptr` to a reference for that reason).
    pub(super) fn bits_value(
        &mut self,
        bits: IntValue<'ctx>,
        ty: &Type,
    ) -> Result<BasicValueEnum<'ctx>> {
        Ok(match ty {
            Type::Float => self.b.build_bit_cast(bits, self.cx.f64_type(), "value")?,
            Type::Bool => self
                .b
                .build_int_compare(
                    IntPredicate::NE,
                    bits,
                    self.cx.i64_type().const_zero(),
                    "value",
                )?
                .into(),
            _ => {
                assert!(!ty.is_ref(), "a reference rebuilt from integer bits");
                bits.into()
            }
        })
    }

    /// An 8-byte out-parameter the runtime writes a value's bits into
    /// (`weft_chan_try_recv`, `weft_select_result`, `weft_map_get`).
    pub(super) fn out_slot(&mut self, name: &str) -> Result<PointerValue<'ctx>> {
        self.entry_alloca(self.cx.i64_type().into(), name)
    }

    /// The value in an out-parameter, loaded with its own type: a reference
    /// comes out as a reference, so the pass roots it from here on.
    pub(super) fn read_out(
        &mut self,
        out: PointerValue<'ctx>,
        ty: &Type,
    ) -> Result<BasicValueEnum<'ctx>> {
        self.load_typed(out, ty, None)
    }

    // ----- allocation and descriptors -----------------------------------------

    fn runtime_desc(&mut self, name: &str) -> PointerValue<'ctx> {
        if let Some(g) = self.module.get_global(name) {
            return g.as_pointer_value();
        }
        // The runtime defines these; their size does not matter to us.
        let g = self
            .module
            .add_global(self.cx.i32_type().array_type(4), None, name);
        g.set_linkage(Linkage::External);
        g.set_constant(true);
        g.as_pointer_value()
    }

    /// A FIXED descriptor with `slots` 8-byte slots, the listed ones references.
    pub(super) fn fixed_desc(
        &mut self,
        name: &str,
        slots: u64,
        ref_slots: &[u64],
    ) -> GlobalValue<'ctx> {
        let key = format!("desc.{name}");
        if let Some(&g) = self.m.descs.get(&key) {
            return g;
        }
        let value = self.desc_value(slots, ref_slots);
        let g = self.private_constant(value.into(), &key);
        self.m.descs.insert(key, g);
        g
    }

    /// An 8-aligned private constant global holding `value`.
    pub(super) fn private_constant(
        &mut self,
        value: BasicValueEnum<'ctx>,
        name: &str,
    ) -> GlobalValue<'ctx> {
        let g = self.module.add_global(value.get_type(), None, name);
        g.set_initializer(&value);
        g.set_constant(true);
        g.set_linkage(Linkage::Private);
        g.set_alignment(8);
        g
    }

    fn desc_value(&self, slots: u64, ref_slots: &[u64]) -> inkwell::values::StructValue<'ctx> {
        let i32t = self.cx.i32_type();
        let offsets: Vec<_> = ref_slots
            .iter()
            .map(|s| i32t.const_int(8 * s, false))
            .collect();
        self.cx.const_struct(
            &[
                i32t.const_int(KIND_FIXED, false).into(),
                i32t.const_int(8 * slots, false).into(),
                i32t.const_int(ref_slots.len() as u64, false).into(),
                i32t.const_zero().into(),
                i32t.const_array(&offsets).into(),
            ],
            false,
        )
    }

    /// A FIXED descriptor preceded by its type's method tables, the table
    /// of interface `k` at `desc - (k + 1)` pointers (`tables[k]`, null
    /// where the type does not implement `k`): how a dynamic call finds a
    /// method from the object alone (`interfaces.rs`).
    pub(super) fn desc_with_tables(
        &mut self,
        name: &str,
        slots: u64,
        ref_slots: &[u64],
        tables: &[PointerValue<'ctx>],
    ) -> PointerValue<'ctx> {
        if tables.is_empty() {
            return self.fixed_desc(name, slots, ref_slots).as_pointer_value();
        }
        let key = format!("desc.tables.{name}");
        let g = match self.m.descs.get(&key) {
            Some(&g) => g,
            None => {
                // Nearest first, padded to an even count so the descriptor
                // stays 8-aligned with 4-byte pointers too.
                let mut prefix: Vec<PointerValue> = tables.iter().rev().copied().collect();
                if prefix.len() % 2 == 1 {
                    prefix.insert(0, self.raw.const_null());
                }
                let desc = self.desc_value(slots, ref_slots);
                let value = self
                    .cx
                    .const_struct(&[self.raw.const_array(&prefix).into(), desc.into()], false);
                let g = self.private_constant(value.into(), &key);
                self.m.descs.insert(key, g);
                g
            }
        };
        let i32t = self.cx.i32_type();
        let ty = g.get_value_type().into_struct_type();
        // SAFETY: field 1 of the global's own struct type.
        unsafe {
            g.as_pointer_value()
                .const_gep(ty, &[i32t.const_zero(), i32t.const_int(1, false)])
        }
    }

    pub(super) fn alloc(
        &mut self,
        desc: PointerValue<'ctx>,
        payload: u64,
        name: &str,
    ) -> Result<PointerValue<'ctx>> {
        let size = self.cx.i64_type().const_int(payload, false);
        let v = self
            .call_rt(RuntimeFn::Alloc, &[desc.into(), size.into()], name)?
            .expect("alloc returns");
        Ok(v.into_pointer_value())
    }

    /// A one-slot box: a captured variable's cell, or a boxed optional.
    pub(super) fn alloc_box(&mut self, inner: &Type) -> Result<PointerValue<'ctx>> {
        let desc = self.runtime_desc(if inner.is_ref() {
            DESC_BOX_REF
        } else {
            DESC_BOX_SCALAR
        });
        self.alloc(desc, 8, "box")
    }

    /// The header of a static (immortal) object in constant data.
    pub(super) fn static_header(
        &self,
        desc: PointerValue<'ctx>,
    ) -> (Vec<BasicTypeEnum<'ctx>>, Vec<BasicValueEnum<'ctx>>) {
        let i64t = self.cx.i64_type();
        let i32t = self.cx.i32_type();
        let bits = i64t.const_int(STATIC_BITS, false);
        if self.layout.ptr32 {
            (
                vec![self.raw.into(), i32t.into(), i64t.into()],
                vec![desc.into(), i32t.const_zero().into(), bits.into()],
            )
        } else {
            (
                vec![self.raw.into(), i64t.into()],
                vec![desc.into(), bits.into()],
            )
        }
    }

    /// A reference to a static object held in `global`.
    pub(super) fn static_ref(&self, global: GlobalValue<'ctx>) -> PointerValue<'ctx> {
        let p = global.as_pointer_value();
        if self.layout.gc_address_space == 0 {
            p
        } else {
            p.const_address_space_cast(self.gc)
        }
    }

    // ----- strings ------------------------------------------------------------

    /// A string literal: a static string object, shared by equal literals.
    pub(super) fn string_const(&mut self, text: &str) -> Result<PointerValue<'ctx>> {
        if let Some(&p) = self.m.strings.get(text) {
            return Ok(p);
        }
        let desc = self.runtime_desc(DESC_STRING);
        let (mut types, mut values) = self.static_header(desc);
        let i64t = self.cx.i64_type();
        let bytes = self.cx.const_string(text.as_bytes(), false);
        types.push(i64t.into());
        types.push(bytes.get_type().into());
        values.push(i64t.const_int(text.len() as u64, false).into());
        values.push(bytes.into());
        let ty = self.cx.struct_type(&types, false);
        let name = format!("str.{}", self.m.strings.len());
        let g = self.module.add_global(ty, None, &name);
        g.set_initializer(&self.cx.const_struct(&values, false));
        g.set_constant(true);
        g.set_linkage(Linkage::Private);
        g.set_unnamed_addr(true);
        g.set_alignment(8);
        let r = self.static_ref(g);
        self.m.strings.insert(text.to_string(), r);
        Ok(r)
    }

    /// A string literal, interpolated parts converted with `str` and joined.
    /// `"a{x}b{y}"`: the pieces go into an array of GC slots (rooted by the
    /// pass like any GC alloca) and one runtime call joins up to `INTERP_CHUNK` of
    /// them into one new string: one allocation and copy instead of a chain
    /// of concatenations, each copying everything before it (quadratic in
    /// the parts, in time and in LLVM's work on the chain).
    pub(super) fn string_expr(&mut self, parts: &[StrPart]) -> Result<Value<'ctx>> {
        if parts.is_empty() {
            return Ok(Lowered::Value(self.string_const("")?.into()));
        }
        if let [StrPart::Lit(s)] = parts {
            return Ok(Lowered::Value(self.string_const(s)?.into()));
        }
        let depth = self.f.interp_depth;
        let (slots, width) = match self.f.interp_slots.get(depth) {
            Some(&sw) => sw,
            None => {
                // Sized by the first interpolation at this depth; at least
                // two, because a full chunk joined into slot 0 must leave
                // room for the next piece (a width of 1 wrote past the end).
                let width = (parts.len() as u32).clamp(2, INTERP_CHUNK);
                let s = self.entry_alloca(self.gc.array_type(width).into(), "interp.parts")?;
                self.f.interp_slots.push((s, width));
                (s, width)
            }
        };
        self.f.interp_depth += 1;
        let joined = self.string_pieces(parts, slots, width);
        self.f.interp_depth = depth;
        joined
    }

    fn string_pieces(
        &mut self,
        parts: &[StrPart],
        slots: PointerValue<'ctx>,
        width: u32,
    ) -> Result<Value<'ctx>> {
        let i64t = self.cx.i64_type();
        let slot = |cx: &mut Self, i: u32| -> Result<PointerValue<'ctx>> {
            if i >= width {
                return impossible("an interpolation piece past its array");
            }
            let idx = [i64t.const_zero(), i64t.const_int(i as u64, false)];
            // SAFETY (LLVM): `i` is below the array's length.
            unsafe {
                Ok(cx
                    .b
                    .build_in_bounds_gep(cx.gc.array_type(width), slots, &idx, "interp.part")?)
            }
        };
        let mut filled = 0u32;
        for part in parts {
            if filled == width {
                // A full chunk becomes the first piece of the next one.
                let joined = self.join_pieces(slots, filled)?;
                let first = slot(self, 0)?;
                self.store_piece(first, joined)?;
                filled = 1;
            }
            let piece = match part {
                StrPart::Lit(s) => self.string_const(s)?,
                StrPart::Format(e, spec) => {
                    let ty = e.ty.clone();
                    let v = value!(self.expr(e)?);
                    self.formatted(v, &ty, spec)?
                }
                StrPart::Expr(e) => {
                    let ty = e.ty.clone();
                    let v = value!(self.expr(e)?);
                    self.string_of(v, &ty)?
                }
            };
            let at = slot(self, filled)?;
            self.store_piece(at, piece)?;
            filled += 1;
        }
        Ok(Lowered::Value(self.join_pieces(slots, filled)?.into()))
    }

    /// Volatile: the SLP vectorizer would otherwise try every run of these
    /// stores to one array as a vector store, at a cost that grows with the
    /// whole literal (16,000 parts: 3.4 s of 3.8 s of optimisation).
    fn store_piece(&mut self, at: PointerValue<'ctx>, piece: PointerValue<'ctx>) -> Result<()> {
        let store = self.b.build_store(at, piece)?;
        store
            .set_volatile(true)
            .expect("a store instruction can be volatile");
        Ok(())
    }

    fn join_pieces(&mut self, slots: PointerValue<'ctx>, n: u32) -> Result<PointerValue<'ctx>> {
        let n = self.cx.i64_type().const_int(n as u64, false);
        Ok(self
            .call_rt(
                RuntimeFn::StringJoinPieces,
                &[slots.into(), n.into()],
                "interp",
            )?
            .expect("a string")
            .into_pointer_value())
    }

    pub(super) fn concat(
        &mut self,
        a: PointerValue<'ctx>,
        b: PointerValue<'ctx>,
    ) -> Result<PointerValue<'ctx>> {
        Ok(self
            .call_rt(RuntimeFn::StringConcat, &[a.into(), b.into()], "concat")?
            .expect("a string")
            .into_pointer_value())
    }

    pub(super) fn string_binary(
        &mut self,
        op: BinOp,
        a: PointerValue<'ctx>,
        b: PointerValue<'ctx>,
    ) -> Result<BasicValueEnum<'ctx>> {
        if op == BinOp::Add {
            return Ok(self.concat(a, b)?.into());
        }
        let cmp = self
            .call_rt(RuntimeFn::StringCompare, &[a.into(), b.into()], "cmp")?
            .expect("an int")
            .into_int_value();
        let zero = self.cx.i64_type().const_zero();
        let pred = match op {
            BinOp::Lt => IntPredicate::SLT,
            BinOp::Le => IntPredicate::SLE,
            BinOp::Gt => IntPredicate::SGT,
            BinOp::Ge => IntPredicate::SGE,
            BinOp::Eq => IntPredicate::EQ,
            _ => IntPredicate::NE,
        };
        Ok(self.b.build_int_compare(pred, cmp, zero, "strcmp")?.into())
    }

    // ----- equality -------------------------------------------------------------

    /// `a == b`: contents for strings and optionals' values, identity for
    /// structs, arrays, maps and functions.
    pub(super) fn equal(
        &mut self,
        a: BasicValueEnum<'ctx>,
        b: BasicValueEnum<'ctx>,
        ty: &Type,
    ) -> Result<IntValue<'ctx>> {
        Ok(match ty {
            Type::Float => self.b.build_float_compare(
                inkwell::FloatPredicate::OEQ,
                a.into_float_value(),
                b.into_float_value(),
                "eq",
            )?,
            Type::Int | Type::Bool => self.b.build_int_compare(
                IntPredicate::EQ,
                a.into_int_value(),
                b.into_int_value(),
                "eq",
            )?,
            Type::Str => {
                let r = self
                    .call_rt(RuntimeFn::StringEq, &[a.into(), b.into()], "streq")?
                    .expect("an i32")
                    .into_int_value();
                self.b.build_int_compare(
                    IntPredicate::NE,
                    r,
                    self.cx.i32_type().const_zero(),
                    "eq",
                )?
            }
            Type::Optional(inner) => {
                // Equal when both are nil, or both hold equal values.
                let (pa, pb) = (a.into_pointer_value(), b.into_pointer_value());
                let f = self.func();
                let a_nil = self.b.build_is_null(pa, "a.nil")?;
                let b_nil = self.b.build_is_null(pb, "b.nil")?;
                let any_nil = self.b.build_or(a_nil, b_nil, "any.nil")?;
                let start = self.b.get_insert_block().expect("positioned");
                let values = self.cx.append_basic_block(f, "opteq.values");
                let end = self.cx.append_basic_block(f, "opteq.end");
                let both_nil = self.b.build_and(a_nil, b_nil, "both.nil")?;
                self.b.build_conditional_branch(any_nil, end, values)?;
                self.b.position_at_end(values);
                let inner = (**inner).clone();
                let va = self.unwrap_unchecked(pa, ty)?;
                let vb = self.unwrap_unchecked(pb, ty)?;
                let inner_eq = self.equal(va, vb, &inner)?;
                let values_end = self.b.get_insert_block().expect("positioned");
                self.b.build_unconditional_branch(end)?;
                self.b.position_at_end(end);
                let phi = self.b.build_phi(self.cx.bool_type(), "opteq")?;
                phi.add_incoming(&[(&both_nil, start), (&inner_eq, values_end)]);
                phi.as_basic_value().into_int_value()
            }
            _ => {
                let i64t = self.cx.i64_type();
                let x = self.b.build_ptr_to_int(a.into_pointer_value(), i64t, "a")?;
                let y = self.b.build_ptr_to_int(b.into_pointer_value(), i64t, "b")?;
                self.b.build_int_compare(IntPredicate::EQ, x, y, "same")?
            }
        })
    }

    // ----- optionals ------------------------------------------------------------

    /// `T` to `T?`: a box for scalars and optionals, the reference itself otherwise.
    pub(super) fn wrap_optional(
        &mut self,
        v: BasicValueEnum<'ctx>,
        inner: &Type,
    ) -> Result<BasicValueEnum<'ctx>> {
        if !Type::optional_is_boxed(inner) {
            return Ok(v);
        }
        let b = self.alloc_box(inner)?;
        self.store_slot(b, 0, inner, v)?;
        Ok(b.into())
    }

    /// The value inside a non-nil `T?`.
    pub(super) fn unwrap_unchecked(
        &mut self,
        p: PointerValue<'ctx>,
        opt_ty: &Type,
    ) -> Result<BasicValueEnum<'ctx>> {
        let Type::Optional(inner) = opt_ty else {
            return Ok(p.into());
        };
        if Type::optional_is_boxed(inner) {
            let inner = (**inner).clone();
            self.load_slot(p, 0, &inner)
        } else {
            Ok(p.into())
        }
    }

    /// `x!`: panics on nil.
    pub(super) fn unwrap_checked(
        &mut self,
        p: PointerValue<'ctx>,
        opt_ty: &Type,
        span: Span,
    ) -> Result<BasicValueEnum<'ctx>> {
        let is_nil = self.b.build_is_null(p, "is.nil")?;
        self.panic_if(is_nil, "unwrapped a nil value", span)?;
        self.unwrap_unchecked(p, opt_ty)
    }

    // ----- arrays ---------------------------------------------------------------

    fn new_array(&mut self, elem: &Type, capacity: u64) -> Result<PointerValue<'ctx>> {
        let is_ref = self.cx.i32_type().const_int(elem.is_ref() as u64, false);
        let cap = self.cx.i64_type().const_int(capacity, false);
        Ok(self
            .call_rt(RuntimeFn::ArrayNew, &[is_ref.into(), cap.into()], "array")?
            .expect("an array")
            .into_pointer_value())
    }

    fn push(
        &mut self,
        arr: PointerValue<'ctx>,
        v: BasicValueEnum<'ctx>,
        elem: &Type,
    ) -> Result<()> {
        let bits = self.value_bits(v, elem)?;
        self.call_rt(RuntimeFn::ArrayPush, &[arr.into(), bits.into()], "")?;
        Ok(())
    }

    /// `[v; n]`: `v` once, then one runtime call that makes the array with
    /// its buffer exactly `n` slots long (a reference is shared, not copied).
    pub(super) fn array_filled(&mut self, e: &Expr, v: &Expr, n: &Expr) -> Result<Value<'ctx>> {
        let Type::Array(elem) = e.ty.clone() else {
            return impossible("a shape the checker rules out");
        };
        let x = value!(self.expr(v)?);
        let count = value!(self.expr(n)?).into_int_value();
        let negative = self.b.build_int_compare(
            IntPredicate::SLT,
            count,
            self.cx.i64_type().const_zero(),
            "len.negative",
        )?;
        self.panic_if(negative, "an array's length cannot be negative", n.span)?;
        let bits = self.value_bits(x, &elem)?;
        let is_ref = self.cx.i32_type().const_int(elem.is_ref() as u64, false);
        self.rt_value(
            RuntimeFn::ArrayFilled,
            &[bits.into(), count.into(), is_ref.into()],
            "array",
        )
    }

    pub(super) fn array_literal(&mut self, e: &Expr, items: &[Expr]) -> Result<Value<'ctx>> {
        let Type::Array(elem) = e.ty.clone() else {
            return impossible("a shape the checker rules out");
        };
        let arr = self.new_array(&elem, items.len() as u64)?;
        // The array is kept in a stack slot, which the spill pass roots.
        let slot = self.entry_alloca(self.gc.into(), "array.lit")?;
        self.b.build_store(slot, arr)?;
        for item in items {
            let v = value!(self.expr(item)?);
            let arr = self
                .b
                .build_load(self.gc, slot, "array")?
                .into_pointer_value();
            self.push(arr, v, &elem)?;
        }
        Ok(Lowered::Value(self.b.build_load(self.gc, slot, "array")?))
    }

    pub(super) fn construct(&mut self, e: &Expr, args: &[Expr]) -> Result<Value<'ctx>> {
        match e.ty.clone() {
            Type::Array(elem) => Ok(Lowered::Value(self.new_array(&elem, 0)?.into())),
            Type::Chan(_) => self.chan_new(e, args),
            Type::Map(k, v) => {
                let i32t = self.cx.i32_type();
                let ks = i32t.const_int((*k == Type::Str) as u64, false);
                let vr = i32t.const_int(v.is_ref() as u64, false);
                self.rt_value(RuntimeFn::MapNew, &[ks.into(), vr.into()], "map")
            }
            _ => Ok(self.nothing()),
        }
    }

    /// The slot of element `i` of a slots buffer.
    pub(super) fn buffer_slot_ptr(
        &mut self,
        data: PointerValue<'ctx>,
        i: IntValue<'ctx>,
    ) -> Result<PointerValue<'ctx>> {
        let i64t = self.cx.i64_type();
        let scaled = self
            .b
            .build_int_mul(i, i64t.const_int(8, false), "elem.offset")?;
        let off = self
            .b
            .build_int_add(scaled, i64t.const_int(HEADER + 8, false), "elem.offset")?;
        // SAFETY (LLVM): the caller checked the index against the length.
        unsafe {
            Ok(self
                .b
                .build_in_bounds_gep(self.cx.i8_type(), data, &[off], "elem")?)
        }
    }

    /// The slot of `arr[i]`, after the bounds check.
    pub(super) fn array_element_ptr(
        &mut self,
        arr: PointerValue<'ctx>,
        i: IntValue<'ctx>,
        span: Span,
    ) -> Result<PointerValue<'ctx>> {
        let f = self.func();
        let len = self.load_slot(arr, 0, &Type::Int)?.into_int_value();
        // Unsigned comparison also rejects negative indices.
        let ok = self
            .b
            .build_int_compare(IntPredicate::ULT, i, len, "in.bounds")?;
        let bad = self.cx.append_basic_block(f, "index.panic");
        let good = self.cx.append_basic_block(f, "index.ok");
        self.b.build_conditional_branch(ok, good, bad)?;
        self.b.position_at_end(bad);
        self.raise(super::PanicMsg::Index(i, len), span)?;
        self.b.position_at_end(good);
        let data = self.load_slot(arr, 16, &Type::Str)?.into_pointer_value();
        self.buffer_slot_ptr(data, i)
    }

    pub(super) fn array_method(
        &mut self,
        m: ArrayMethod,
        base: &Expr,
        args: &[Expr],
    ) -> Result<Value<'ctx>> {
        let Type::Array(elem) = base.ty.clone() else {
            return impossible("a shape the checker rules out");
        };
        let arr = value!(self.expr(base)?);
        let arr = arr.into_pointer_value();
        match m {
            ArrayMethod::Len => Ok(Lowered::Value(self.load_slot(arr, 0, &Type::Int)?)),
            ArrayMethod::Push => {
                let v = value!(self.expr(&args[0])?);
                self.push(arr, v, &elem)?;
                Ok(self.nothing())
            }
            ArrayMethod::Pop => {
                let f = self.func();
                let i64t = self.cx.i64_type();
                let result = self.entry_alloca(self.gc.into(), "pop.value")?;
                self.b.build_store(result, self.gc.const_null())?;
                let len = self.load_slot(arr, 0, &Type::Int)?.into_int_value();
                let empty =
                    self.b
                        .build_int_compare(IntPredicate::EQ, len, i64t.const_zero(), "empty")?;
                let take = self.cx.append_basic_block(f, "pop.take");
                let done = self.cx.append_basic_block(f, "pop.done");
                self.b.build_conditional_branch(empty, done, take)?;
                self.b.position_at_end(take);
                let last = self
                    .b
                    .build_int_sub(len, i64t.const_int(1, false), "last")?;
                self.store_slot(arr, 0, &Type::Int, last.into())?;
                let data = self.load_slot(arr, 16, &Type::Str)?.into_pointer_value();
                let p = self.buffer_slot_ptr(data, last)?;
                let v = self.load_typed(p, &elem, Some(Class::Element))?;
                // Clear the slot so the array does not keep the value alive.
                let clear = self.b.build_store(p, i64t.const_zero())?;
                // SAFETY: a store just built.
                unsafe { tbaa::set(clear.as_value_ref(), Class::Element) };
                let wrapped = self.wrap_optional(v, &elem)?;
                self.b.build_store(result, wrapped)?;
                self.b.build_unconditional_branch(done)?;
                self.b.position_at_end(done);
                Ok(Lowered::Value(
                    self.b.build_load(self.gc, result, "popped")?,
                ))
            }
        }
    }

    // ----- maps -----------------------------------------------------------------

    /// Looks a key (as bits) up; its value's bits land in `out`. Returns
    /// whether the key was there.
    fn map_find(
        &mut self,
        map: PointerValue<'ctx>,
        key_bits: IntValue<'ctx>,
        out: PointerValue<'ctx>,
    ) -> Result<IntValue<'ctx>> {
        let found = self
            .call_rt(
                RuntimeFn::MapGet,
                &[map.into(), key_bits.into(), out.into()],
                "found",
            )?
            .expect("an i32")
            .into_int_value();
        Ok(self.b.build_int_compare(
            IntPredicate::NE,
            found,
            self.cx.i32_type().const_zero(),
            "found",
        )?)
    }

    /// `m[k]` as a value: panics when the key is absent.
    pub(super) fn map_index(
        &mut self,
        m: PointerValue<'ctx>,
        key: BasicValueEnum<'ctx>,
        map_ty: &Type,
        span: Span,
    ) -> Result<BasicValueEnum<'ctx>> {
        let Type::Map(k, v) = map_ty else {
            return Ok(key);
        };
        let (k, v) = ((**k).clone(), (**v).clone());
        let out = self.out_slot("map.out")?;
        let kb = self.value_bits(key, &k)?;
        let ok = self.map_find(m, kb, out)?;
        let missing = self.b.build_not(ok, "missing")?;
        self.panic_if(missing, "key not found in map", span)?;
        self.read_out(out, &v)
    }

    pub(super) fn map_method(
        &mut self,
        m: MapMethod,
        base: &Expr,
        args: &[Expr],
    ) -> Result<Value<'ctx>> {
        let Type::Map(k, v) = base.ty.clone() else {
            return impossible("a shape the checker rules out");
        };
        let map = value!(self.expr(base)?);
        let map = map.into_pointer_value();
        let key_bits = match args.first() {
            Some(a) => {
                let key = value!(self.expr(a)?);
                Some(self.value_bits(key, &k)?)
            }
            None => None,
        };
        let i32_to_bool = |cx: &mut Self, r: Option<BasicValueEnum<'ctx>>| -> Result<Value<'ctx>> {
            let r = r.expect("an i32").into_int_value();
            Ok(Lowered::Value(
                cx.b.build_int_compare(IntPredicate::NE, r, cx.cx.i32_type().const_zero(), "bool")?
                    .into(),
            ))
        };
        match m {
            MapMethod::Len => self.rt_value(RuntimeFn::MapLen, &[map.into()], "len"),
            MapMethod::Keys => self.rt_value(RuntimeFn::MapKeys, &[map.into()], "keys"),
            MapMethod::Values => self.rt_value(RuntimeFn::MapValues, &[map.into()], "values"),
            MapMethod::Clear => {
                self.call_rt(RuntimeFn::MapClear, &[map.into()], "")?;
                Ok(self.nothing())
            }
            MapMethod::Has => {
                let r = self.call_rt(
                    RuntimeFn::MapHas,
                    &[map.into(), key_bits.expect("a key").into()],
                    "has",
                )?;
                i32_to_bool(self, r)
            }
            MapMethod::Remove => {
                let r = self.call_rt(
                    RuntimeFn::MapRemove,
                    &[map.into(), key_bits.expect("a key").into()],
                    "removed",
                )?;
                i32_to_bool(self, r)
            }
            MapMethod::Get => {
                let f = self.func();
                let out = self.out_slot("map.out")?;
                let result = self.entry_alloca(self.gc.into(), "get.value")?;
                self.b.build_store(result, self.gc.const_null())?;
                let ok = self.map_find(map, key_bits.expect("a key"), out)?;
                let present = self.cx.append_basic_block(f, "get.present");
                let done = self.cx.append_basic_block(f, "get.done");
                self.b.build_conditional_branch(ok, present, done)?;
                self.b.position_at_end(present);
                let value = self.read_out(out, &v)?;
                let wrapped = self.wrap_optional(value, &v)?;
                self.b.build_store(result, wrapped)?;
                self.b.build_unconditional_branch(done)?;
                self.b.position_at_end(done);
                Ok(Lowered::Value(self.b.build_load(self.gc, result, "got")?))
            }
        }
    }

    // ----- structs and closures -------------------------------------------------

    pub(super) fn struct_desc(&mut self, id: u32) -> Result<PointerValue<'ctx>> {
        let info = &self.typed.structs[id as usize];
        let refs: Vec<u64> = info
            .fields
            .iter()
            .enumerate()
            .filter(|(_, (_, t))| t.is_ref())
            .map(|(i, _)| i as u64)
            .collect();
        let (name, n) = (info.name.clone(), info.fields.len() as u64);
        let tables = self.tables_of(id)?;
        Ok(self.desc_with_tables(&format!("{name}.{id}"), n, &refs, &tables))
    }

    pub(super) fn struct_literal(
        &mut self,
        id: u32,
        fields: &[(usize, Expr)],
    ) -> Result<Value<'ctx>> {
        // Values first, in source order; then the object.
        let mut values = Vec::new();
        for (index, value) in fields {
            let v = value!(self.expr(value)?);
            values.push((*index, v));
        }
        let desc = self.struct_desc(id)?;
        let n = self.typed.structs[id as usize].fields.len() as u64;
        let obj = self.alloc(desc, 8 * n, "struct")?;
        for (index, v) in values {
            let ty = self.typed.structs[id as usize].fields[index].1.clone();
            self.store_slot(obj, 8 * index as u64, &ty, v)?;
        }
        Ok(Lowered::Value(obj.into()))
    }

    /// A closure object: its code, then the cells of the locals it captures.
    pub(super) fn closure(&mut self, id: FnId) -> Result<Value<'ctx>> {
        let captures = self.typed.fns[id as usize].captures.clone();
        let n = captures.len() as u64;
        let refs: Vec<u64> = (1..=n).collect();
        let desc = self
            .fixed_desc(&format!("closure{n}"), n + 1, &refs)
            .as_pointer_value();
        let obj = self.alloc(desc, 8 * (n + 1), "closure")?;
        let code = self.m.fns[id as usize].as_global_value().as_pointer_value();
        let p = self.slot_ptr(obj, 0)?;
        self.b.build_store(p, code)?;
        for (i, local) in captures.iter().enumerate() {
            let slot = self.f.locals[local];
            let cell = self.b.build_load(self.gc, slot, "cell")?;
            let p = self.slot_ptr(obj, 8 * (i as u64 + 1))?;
            self.b.build_store(p, cell)?;
        }
        Ok(Lowered::Value(obj.into()))
    }

    /// A named function as a value: a static closure whose code ignores the environment.
    pub(super) fn fn_value(&mut self, id: FnId) -> Result<PointerValue<'ctx>> {
        if let Some(&p) = self.m.fn_values.get(&id) {
            return Ok(p);
        }
        let info = &self.typed.fns[id as usize];
        let mut params: Vec<BasicMetadataTypeEnum> = vec![self.gc.into()];
        params.extend(
            info.param_types
                .iter()
                .map(|t| BasicMetadataTypeEnum::from(self.llvm_type(t))),
        );
        // An async function's ramp returns its frame: the task.
        let ret = match info.is_async {
            true => Type::Task(Box::new(info.ret.clone())),
            false => info.ret.clone(),
        };
        let fn_type = self.fn_type(&ret, &params);
        let wrapper = self.module.add_function(
            &format!("{}.value", info.symbol),
            fn_type,
            Some(Linkage::Internal),
        );
        self.add_attr(wrapper, "nounwind");
        let here = self.b.get_insert_block();
        let bb = self.cx.append_basic_block(wrapper, "entry");
        self.b.position_at_end(bb);
        let args: Vec<BasicMetadataValueEnum> =
            wrapper.get_param_iter().skip(1).map(Into::into).collect();
        let r = self
            .b
            .build_call(self.m.fns[id as usize], &args, "call")?
            .try_as_basic_value()
            .basic();
        match r {
            Some(v) => self.b.build_return(Some(&v))?,
            None => self.b.build_return(None)?,
        };
        if let Some(bb) = here {
            self.b.position_at_end(bb);
        }
        let desc = self.fixed_desc("closure0", 1, &[]).as_pointer_value();
        let (mut types, mut values) = self.static_header(desc);
        types.push(self.raw.into());
        values.push(wrapper.as_global_value().as_pointer_value().into());
        let ty = self.cx.struct_type(&types, false);
        let g = self
            .module
            .add_global(ty, None, &format!("{}.value.obj", info.symbol));
        g.set_initializer(&self.cx.const_struct(&values, false));
        g.set_constant(true);
        g.set_linkage(Linkage::Private);
        g.set_alignment(8);
        let r = self.static_ref(g);
        self.m.fn_values.insert(id, r);
        Ok(r)
    }

    /// `{v:spec}`: ints and floats by the runtime's formatter, everything
    /// else as `str(v)` padded.
    fn formatted(
        &mut self,
        v: BasicValueEnum<'ctx>,
        ty: &Type,
        spec: &str,
    ) -> Result<PointerValue<'ctx>> {
        let text = self.bytes_ptr(spec.as_bytes())?;
        let len = self.cx.i64_type().const_int(spec.len() as u64, false);
        let (rf, arg) = match ty {
            Type::Int => (RuntimeFn::FormatInt, v),
            Type::Float => (RuntimeFn::FormatFloat, v),
            _ => (RuntimeFn::FormatPad, self.string_of(v, ty)?.into()),
        };
        let r = self.call_rt(rf, &[arg.into(), text.into(), len.into()], "formatted")?;
        Ok(r.expect("a string").into_pointer_value())
    }

    // ----- str(v) ---------------------------------------------------------------

    /// `str(v)`: scalars through the runtime, strings as they are, composite
    /// values by the runtime's formatter from the type's shape (`shape.rs`).
    pub(super) fn string_of(
        &mut self,
        v: BasicValueEnum<'ctx>,
        ty: &Type,
    ) -> Result<PointerValue<'ctx>> {
        let r = match ty {
            Type::Str => return Ok(v.into_pointer_value()),
            Type::Int => self.call_rt(RuntimeFn::StringFromInt, &[v.into()], "str")?,
            Type::Float => self.call_rt(RuntimeFn::StringFromFloat, &[v.into()], "str")?,
            Type::Bool => {
                let wide =
                    self.b
                        .build_int_z_extend(v.into_int_value(), self.cx.i32_type(), "wide")?;
                self.call_rt(RuntimeFn::StringFromBool, &[wide.into()], "str")?
            }
            Type::Func(..) | Type::AsyncFn(..) => return self.string_const("<fn>"),
            Type::Nil | Type::Unit | Type::Never | Type::Error => return self.string_const("nil"),
            // A type with `Display`: its own `to_string`.
            Type::Struct(_) | Type::Enum(_) if self.typed.display_of(ty).is_some() => {
                let f = self.typed.display_of(ty).expect("checked");
                self.b
                    .build_call(self.m.fns[f as usize], &[v.into()], "to_string")?
                    .try_as_basic_value()
                    .basic()
            }
            _ => {
                // Composite values: the runtime walks them from their shape.
                let shape = self.shape(ty)?;
                let bits = self.value_bits(v, ty)?;
                self.call_rt(RuntimeFn::Format, &[bits.into(), shape.into()], "str")?
            }
        };
        Ok(r.expect("a string").into_pointer_value())
    }
}
