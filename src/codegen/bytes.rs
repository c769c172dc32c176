//! Bytes of strings and `Bytes` inline: `s.byte(i)`, `b[i]`, `b[i] = x` and
//! `b.push(x)` check and load or store in place on their fast path (index
//! in range, value a byte, room in the buffer); anything else calls the
//! runtime function that does the whole operation, which also raises the
//! panic with its message. Layouts: `weft_abi::layout` (`BYTES_*`).

use super::*;
use inkwell::values::AsValueRef;
use weft_abi::layout::{BYTES_BUFFER, BYTES_CAP, BYTES_DATA, BYTES_LEN, HEADER_BYTES};

impl<'ctx> Codegen<'ctx, '_> {
    /// The address of byte `i` of the BYTES object `buf`.
    fn byte_ptr(
        &mut self,
        buf: PointerValue<'ctx>,
        i: IntValue<'ctx>,
    ) -> Result<PointerValue<'ctx>> {
        let i64t = self.cx.i64_type();
        let off = self.b.build_int_add(
            i,
            i64t.const_int(HEADER_BYTES + BYTES_DATA, false),
            "byte.off",
        )?;
        // SAFETY (LLVM): the caller checked `i` against the length.
        Ok(unsafe {
            self.b
                .build_in_bounds_gep(self.cx.i8_type(), buf, &[off], "byte.at")?
        })
    }

    /// Branches on `fast`: the fast block is current on return; the slow
    /// block and the join block are returned.
    fn fast_path(
        &mut self,
        fast: IntValue<'ctx>,
        what: &str,
    ) -> Result<(BasicBlock<'ctx>, BasicBlock<'ctx>)> {
        let f = self.func();
        let go = self.cx.append_basic_block(f, &format!("{what}.fast"));
        let slow = self.cx.append_basic_block(f, &format!("{what}.slow"));
        let join = self.cx.append_basic_block(f, &format!("{what}.done"));
        let fast = self.expect_true(fast)?;
        self.b.build_conditional_branch(fast, go, slow)?;
        self.b.position_at_end(go);
        Ok((slow, join))
    }

    /// Marks `cond` as almost always true (a branch weight LLVM keeps).
    fn expect_true(&mut self, cond: IntValue<'ctx>) -> Result<IntValue<'ctx>> {
        let expect = self.intrinsic("llvm.expect", &[self.cx.bool_type().into()]);
        let yes = self.cx.bool_type().const_all_ones();
        let r = self
            .b
            .build_call(expect, &[cond.into(), yes.into()], "likely")?;
        Ok(r.try_as_basic_value()
            .basic()
            .expect("a bool")
            .into_int_value())
    }

    /// A byte at a checked index, or the runtime's `slow` (which panics).
    fn load_byte(
        &mut self,
        buf: PointerValue<'ctx>,
        len: IntValue<'ctx>,
        i: IntValue<'ctx>,
        slow: (RuntimeFn, Vec<BasicMetadataValueEnum<'ctx>>),
    ) -> Result<BasicValueEnum<'ctx>> {
        let i64t = self.cx.i64_type();
        let ok = self
            .b
            .build_int_compare(IntPredicate::ULT, i, len, "byte.in")?;
        let (slow_bb, join) = self.fast_path(ok, "byte")?;
        let p = self.byte_ptr(buf, i)?;
        let byte = self.b.build_load(self.cx.i8_type(), p, "byte")?;
        // SAFETY: a load just built.
        unsafe { tbaa::set(byte.as_value_ref(), Class::Bytes) };
        let byte = byte.into_int_value();
        let fast = self.b.build_int_z_extend(byte, i64t, "byte.int")?;
        let fast_end = self.b.get_insert_block().expect("positioned");
        self.b.build_unconditional_branch(join)?;
        self.b.position_at_end(slow_bb);
        let r = match self.call_rt(slow.0, &slow.1, "byte.slow")? {
            Some(v) => v,
            None => return impossible("a byte read returns a value"),
        };
        let slow_end = self.b.get_insert_block().expect("positioned");
        self.b.build_unconditional_branch(join)?;
        self.b.position_at_end(join);
        let phi = self.b.build_phi(i64t, "byte")?;
        phi.add_incoming(&[(&fast, fast_end), (&r, slow_end)]);
        Ok(phi.as_basic_value())
    }

    /// `s.byte(i)`.
    pub(super) fn string_byte(
        &mut self,
        s: PointerValue<'ctx>,
        i: IntValue<'ctx>,
        span: Span,
    ) -> Result<BasicValueEnum<'ctx>> {
        let len = self.load_slot(s, 0, &Type::Int)?.into_int_value();
        let (loc, loc_len) = self.location(span)?;
        let slow = vec![s.into(), i.into(), loc.into(), loc_len.into()];
        self.load_byte(s, len, i, (RuntimeFn::StringByte, slow))
    }

    /// `b[i]` of a `Bytes`.
    pub(super) fn byte_at(
        &mut self,
        b: PointerValue<'ctx>,
        i: BasicValueEnum<'ctx>,
        span: Span,
    ) -> Result<BasicValueEnum<'ctx>> {
        let i = i.into_int_value();
        let len = self.load_slot(b, BYTES_LEN, &Type::Int)?.into_int_value();
        let buf = self
            .load_slot(b, BYTES_BUFFER, &Type::Str)?
            .into_pointer_value();
        let (loc, loc_len) = self.location(span)?;
        let slow = vec![b.into(), i.into(), loc.into(), loc_len.into()];
        self.load_byte(buf, len, i, (RuntimeFn::BytesGet, slow))
    }

    /// Whether `x` is a byte (0..255).
    fn is_byte(&mut self, x: IntValue<'ctx>) -> Result<IntValue<'ctx>> {
        let limit = self.cx.i64_type().const_int(256, false);
        Ok(self
            .b
            .build_int_compare(IntPredicate::ULT, x, limit, "is.byte")?)
    }

    /// `b[i] = x`.
    pub(super) fn set_byte(
        &mut self,
        b: PointerValue<'ctx>,
        i: BasicValueEnum<'ctx>,
        x: BasicValueEnum<'ctx>,
        span: Span,
    ) -> Result<()> {
        let (i, x) = (i.into_int_value(), x.into_int_value());
        let len = self.load_slot(b, BYTES_LEN, &Type::Int)?.into_int_value();
        let in_range = self
            .b
            .build_int_compare(IntPredicate::ULT, i, len, "byte.in")?;
        let byte = self.is_byte(x)?;
        let ok = self.b.build_and(in_range, byte, "byte.ok")?;
        let (slow_bb, join) = self.fast_path(ok, "setbyte")?;
        self.store_byte(b, i, x)?;
        self.b.build_unconditional_branch(join)?;
        self.b.position_at_end(slow_bb);
        self.slow_store(
            RuntimeFn::BytesSet,
            vec![b.into(), i.into(), x.into()],
            span,
            join,
        )
    }

    /// Byte `at` of `b`'s buffer set to `x` (checked already).
    fn store_byte(
        &mut self,
        b: PointerValue<'ctx>,
        at: IntValue<'ctx>,
        x: IntValue<'ctx>,
    ) -> Result<()> {
        let buf = self
            .load_slot(b, BYTES_BUFFER, &Type::Str)?
            .into_pointer_value();
        let p = self.byte_ptr(buf, at)?;
        let v = self.b.build_int_truncate(x, self.cx.i8_type(), "byte")?;
        let store = self.b.build_store(p, v)?;
        // SAFETY: a store just built.
        unsafe { tbaa::set(store.as_value_ref(), Class::Bytes) };
        Ok(())
    }

    /// The slow path of a store: the runtime function `rf` with `args` and
    /// the location, then on to `join`.
    fn slow_store(
        &mut self,
        rf: RuntimeFn,
        mut args: Vec<BasicMetadataValueEnum<'ctx>>,
        span: Span,
        join: BasicBlock<'ctx>,
    ) -> Result<()> {
        let (loc, loc_len) = self.location(span)?;
        args.push(loc.into());
        args.push(loc_len.into());
        self.call_rt(rf, &args, "")?;
        self.b.build_unconditional_branch(join)?;
        self.b.position_at_end(join);
        Ok(())
    }

    /// `b.push(x)`: in place while the buffer has room.
    pub(super) fn push_byte(
        &mut self,
        b: PointerValue<'ctx>,
        x: BasicValueEnum<'ctx>,
        span: Span,
    ) -> Result<()> {
        let x = x.into_int_value();
        let len = self.load_slot(b, BYTES_LEN, &Type::Int)?.into_int_value();
        let cap = self.load_slot(b, BYTES_CAP, &Type::Int)?.into_int_value();
        let room = self
            .b
            .build_int_compare(IntPredicate::ULT, len, cap, "has.room")?;
        let byte = self.is_byte(x)?;
        let ok = self.b.build_and(room, byte, "push.ok")?;
        let (slow_bb, join) = self.fast_path(ok, "pushbyte")?;
        self.store_byte(b, len, x)?;
        let one = self.cx.i64_type().const_int(1, false);
        let next = self.b.build_int_add(len, one, "len.next")?;
        self.store_slot(b, BYTES_LEN, &Type::Int, next.into())?;
        self.b.build_unconditional_branch(join)?;
        self.b.position_at_end(slow_bb);
        self.slow_store(RuntimeFn::BytesPush, vec![b.into(), x.into()], span, join)
    }
}
