//! Calls: direct, method, indirect and runtime calls, and the built-in
//! functions (`print`, `len`, `str`, `assert`, ...) with the output they write.

use super::*;

impl<'ctx> Codegen<'ctx, '_> {
    /// The arguments' values (the TIR made each fit its parameter), or
    /// `None` when one diverged: the call is never reached.
    pub(super) fn args(
        &mut self,
        args: &[Expr],
    ) -> Result<Option<Vec<BasicMetadataValueEnum<'ctx>>>> {
        let mut values = Vec::new();
        for a in args {
            match self.expr(a)? {
                Lowered::Value(v) => values.push(v.into()),
                Lowered::Diverged => return Ok(None),
                Lowered::Unit => return impossible("a unit argument"),
            }
        }
        Ok(Some(values))
    }

    /// A call `e`: `receiver` is a method's receiver, `callee_expr` the
    /// function value of an indirect call.
    pub(super) fn call(
        &mut self,
        e: &Expr,
        kind: Callee,
        receiver: Option<&Expr>,
        callee_expr: Option<&Expr>,
        args: &[Expr],
    ) -> Result<Value<'ctx>> {
        let recv = |what: &str| match receiver {
            Some(r) => Ok(r),
            None => impossible(what),
        };
        let result = match kind {
            Callee::Fn(id) => {
                let Some(values) = self.args(args)? else {
                    return Ok(Lowered::Diverged);
                };
                self.set_caller(Some(id), e.span)?;
                self.b
                    .build_call(self.m.fns[id as usize], &values, "call")?
                    .try_as_basic_value()
                    .basic()
            }
            Callee::Method(id) => {
                let base = recv("a method call without a receiver")?;
                let recv = value!(self.expr(base)?);
                let Some(mut values) = self.args(args)? else {
                    return Ok(Lowered::Diverged);
                };
                values.insert(0, recv.into());
                self.set_caller(Some(id), e.span)?;
                self.b
                    .build_call(self.m.fns[id as usize], &values, "call")?
                    .try_as_basic_value()
                    .basic()
            }
            Callee::Indirect => {
                let Some(callee) = callee_expr else {
                    return impossible("an indirect call without a callee");
                };
                let (params, ret) = match callee.ty.clone() {
                    Type::Func(params, ret) => (params, ret),
                    // An async function value's code is the ramp: it returns the frame.
                    Type::AsyncFn(params, ret) => (params, Box::new(Type::Task(ret))),
                    _ => return impossible("an indirect call of a non-function"),
                };
                let closure = value!(self.expr(callee)?);
                let Some(mut values) = self.args(args)? else {
                    return Ok(Lowered::Diverged);
                };
                let closure = closure.into_pointer_value();
                values.insert(0, closure.into());
                let code = self.load_raw_slot(closure, 0)?;
                self.call_code(code, None, &params, &ret, &values, e.span)?
            }
            Callee::Builtin(b) => self.builtin(b, args, e.span)?.value(),
            Callee::Array(m) => {
                let base = recv("an array method without a receiver")?;
                self.array_method(m, base, args)?.value()
            }
            Callee::Map(m) => {
                let base = recv("a map method without a receiver")?;
                self.map_method(m, base, args)?.value()
            }
            Callee::TaskDone => {
                let base = recv("a method call without a receiver")?;
                let t = value!(self.expr(base)?);
                Some(self.task_done(t.into_pointer_value())?)
            }
            Callee::ChanClose => self.chan_close(e)?.value(),
            Callee::ChanLen | Callee::ChanCap => {
                let base = recv("a channel method without a receiver")?;
                let ch = value!(self.expr(base)?);
                let rf = match kind {
                    Callee::ChanLen => RuntimeFn::ChanLen,
                    _ => RuntimeFn::ChanCap,
                };
                self.call_rt(rf, &[ch.into()], "chan")?
            }
            // Only reached through `await` and `select`, which handle them.
            Callee::ChanSend | Callee::ChanRecv => None,
            Callee::TaskCancel => {
                let base = recv("a method call without a receiver")?;
                let t = value!(self.expr(base)?);
                self.task_cancel(t.into_pointer_value(), e.span)?;
                None
            }
            Callee::Yield => {
                self.yield_task()?;
                None
            }
            Callee::Supervise => {
                self.supervise_self()?;
                None
            }
            Callee::Running => Some(self.running_handle()?.into()),
            Callee::Sleep => {
                self.park(RuntimeFn::Sleep, &args[0])?;
                None
            }
            Callee::Wait => {
                self.park(RuntimeFn::IoWait, &args[0])?;
                None
            }
            Callee::GenNext => {
                let base = recv("a method call without a receiver")?;
                let Type::Gen(elem) = base.ty.clone() else {
                    return impossible("`next` of a non-generator");
                };
                let g = value!(self.expr(base)?);
                Some(self.gen_next(g.into_pointer_value(), &elem, e.span)?)
            }
            Callee::StrByte => {
                let base = recv("a string method without a string")?;
                let s = value!(self.expr(base)?);
                let i = value!(self.expr(&args[0])?);
                Some(self.string_byte(s.into_pointer_value(), i.into_int_value(), e.span)?)
            }
            Callee::RtMethod {
                rf: RuntimeFn::BytesPush,
                ..
            } => {
                let base = recv("a method call without a receiver")?;
                let b = value!(self.expr(base)?);
                let x = value!(self.expr(&args[0])?);
                self.push_byte(b.into_pointer_value(), x, e.span)?;
                None
            }
            Callee::StrSlice => {
                let base = recv("a string slice without a string")?;
                let s = value!(self.expr(base)?);
                let Some(mut values) = self.args(args)? else {
                    return Ok(Lowered::Diverged);
                };
                values.insert(0, s.into());
                let (loc, loc_len) = self.location(e.span)?;
                values.push(loc.into());
                values.push(loc_len.into());
                self.call_rt(RuntimeFn::StringSlice, &values, "slice")?
            }
            Callee::Dynamic { iface, index } => {
                let base = recv("an interface call without a receiver")?;
                return self.dynamic_call(iface, index, base, args, e.span);
            }
            Callee::RtMethod { rf, located } => {
                let base = recv("a method call without a receiver")?;
                let r = value!(self.expr(base)?);
                let Some(mut values) = self.args(args)? else {
                    return Ok(Lowered::Diverged);
                };
                values.insert(0, r.into());
                if located {
                    let (loc, loc_len) = self.location(e.span)?;
                    values.push(loc.into());
                    values.push(loc_len.into());
                }
                self.call_rt(rf, &values, "rt")?
            }
            Callee::StrLen => {
                let base = recv("a method call without a receiver")?;
                let s = value!(self.expr(base)?);
                Some(self.load_slot(s.into_pointer_value(), 0, &Type::Int)?)
            }
            Callee::Runtime(rf) => {
                // A Weft `bool` crosses the ABI as its `I32` kind: widened on
                // the way in, compared with zero on the way out.
                let i32t = self.cx.i32_type();
                let mut values: Vec<BasicMetadataValueEnum> = Vec::new();
                for a in args {
                    let v = value!(self.expr(a)?);
                    let v = match a.ty {
                        Type::Bool => self
                            .b
                            .build_int_z_extend(v.into_int_value(), i32t, "abi.bool")?
                            .into(),
                        _ => v,
                    };
                    values.push(v.into());
                }
                if rf.located() {
                    let (loc, loc_len) = self.location(e.span)?;
                    values.push(loc.into());
                    values.push(loc_len.into());
                }
                // Runtime results that are `T?` of scalars come boxed already.
                let r = self.call_rt(rf, &values, "rt")?;
                match (r, &e.ty) {
                    (Some(v), Type::Bool) => {
                        let zero = i32t.const_zero();
                        let b = self.b.build_int_compare(
                            IntPredicate::NE,
                            v.into_int_value(),
                            zero,
                            "abi.bool",
                        )?;
                        Some(b.into())
                    }
                    _ => r,
                }
            }
            Callee::Intrinsic(name) => {
                let mut values: Vec<BasicMetadataValueEnum> = Vec::new();
                for a in args {
                    let v = value!(self.expr(a)?);
                    values.push(v.into());
                }
                let f64t = self.cx.f64_type();
                let intrinsic = Intrinsic::find(name).expect("a known LLVM intrinsic");
                let decl = intrinsic
                    .get_declaration(&self.module, &[f64t.into()])
                    .expect("declarable for f64");
                self.b
                    .build_call(decl, &values, "math")?
                    .try_as_basic_value()
                    .basic()
            }
        };
        if e.ty == Type::Never {
            // A diverging call (a panic ends the task with a branch to the
            // final suspend): whatever the expression goes on to build is
            // dead code.
            if !self.terminated() {
                self.b.build_unreachable()?;
            }
            self.dead_block();
        }
        Ok(self.lowered(result))
    }

    pub(super) fn builtin(&mut self, b: Builtin, args: &[Expr], span: Span) -> Result<Value<'ctx>> {
        match b {
            Builtin::Print | Builtin::Println | Builtin::Eprintln => {
                let stream = if b == Builtin::Eprintln { 2 } else { 1 };
                let newline = b != Builtin::Print;
                match args.first() {
                    // A literal and its newline go out in one write.
                    Some(Expr {
                        kind: ExprKind::Str(parts),
                        ..
                    }) if parts.len() == 1 && matches!(parts[0], StrPart::Lit(_)) => {
                        let StrPart::Lit(s) = &parts[0] else {
                            unreachable!()
                        };
                        let mut text = s.clone();
                        if newline {
                            text.push('\n');
                        }
                        self.write_bytes(stream, text.as_bytes())?;
                    }
                    Some(a) => {
                        let ty = a.ty.clone();
                        let v = value!(self.expr(a)?);
                        self.write_value(stream, &ty, v)?;
                        if newline {
                            self.write_bytes(stream, b"\n")?;
                        }
                    }
                    None if newline => self.write_bytes(stream, b"\n")?,
                    None => {}
                }
                Ok(self.nothing())
            }
            Builtin::Exit => {
                let code = value!(self.expr(&args[0])?);
                self.call_rt(RuntimeFn::Exit, &[code.into()], "")?;
                Ok(self.nothing())
            }
            Builtin::Panic => {
                if let Lowered::Value(msg) = self.expr(&args[0])? {
                    self.raise(PanicMsg::Str(msg), span)?;
                }
                Ok(self.nothing())
            }
            Builtin::Assert => {
                let c = value!(self.expr(&args[0])?);
                let f = self.func();
                let fail = self.cx.append_basic_block(f, "assert.fail");
                let ok = self.cx.append_basic_block(f, "assert.ok");
                self.b
                    .build_conditional_branch(c.into_int_value(), ok, fail)?;
                self.b.position_at_end(fail);
                match args.get(1) {
                    Some(msg) => {
                        let prefix = self.string_const("assertion failed: ")?;
                        if let Lowered::Value(m) = self.expr(msg)? {
                            let text = self
                                .call_rt(
                                    RuntimeFn::StringConcat,
                                    &[prefix.into(), m.into()],
                                    "msg",
                                )?
                                .expect("a string");
                            self.raise(PanicMsg::Str(text), span)?;
                        }
                        if !self.terminated() {
                            self.b.build_unreachable()?;
                        }
                    }
                    None => self.panic("assertion failed", span)?,
                }
                self.b.position_at_end(ok);
                Ok(self.nothing())
            }
            Builtin::ToInt | Builtin::ToFloat => {
                let from = args[0].ty.clone();
                let v = value!(self.expr(&args[0])?);
                Ok(Lowered::Value(match (b, from) {
                    (Builtin::ToInt, Type::Float) => {
                        // Saturating, NaN to 0: a conversion is never undefined.
                        let i64t = self.cx.i64_type();
                        let f64t = self.cx.f64_type();
                        let sat = Intrinsic::find("llvm.fptosi.sat").expect("LLVM has fptosi.sat");
                        let decl = sat
                            .get_declaration(&self.module, &[i64t.into(), f64t.into()])
                            .expect("fptosi.sat.i64.f64 exists");
                        self.b
                            .build_call(decl, &[v.into()], "to_int")?
                            .try_as_basic_value()
                            .basic()
                            .expect("returns a value")
                    }
                    (Builtin::ToFloat, Type::Int) => self
                        .b
                        .build_signed_int_to_float(
                            v.into_int_value(),
                            self.cx.f64_type(),
                            "to_float",
                        )?
                        .into(),
                    _ => v,
                }))
            }
            Builtin::Str => {
                let ty = args[0].ty.clone();
                let v = value!(self.expr(&args[0])?);
                Ok(Lowered::Value(self.string_of(v, &ty)?.into()))
            }
            Builtin::Len => {
                let ty = args[0].ty.clone();
                let v = value!(self.expr(&args[0])?);
                let p = v.into_pointer_value();
                let len = match ty {
                    Type::Map(..) => self.call_rt(RuntimeFn::MapLen, &[p.into()], "len")?,
                    _ => Some(self.load_slot(p, 0, &Type::Int)?),
                };
                Ok(self.lowered(len))
            }
            Builtin::Args => {
                let args = self.call_rt(RuntimeFn::Args, &[], "args")?;
                Ok(self.lowered(args))
            }
            Builtin::Bytes => {
                let n = match args.first() {
                    Some(a) => value!(self.expr(a)?),
                    None => self.cx.i64_type().const_zero().into(),
                };
                let (loc, loc_len) = self.location(span)?;
                let b = self.call_rt(
                    RuntimeFn::BytesNew,
                    &[n.into(), loc.into(), loc_len.into()],
                    "bytes",
                )?;
                Ok(self.lowered(b))
            }
        }
    }

    /// A call of the code at `code`, whose first argument is a GC reference
    /// (a closure's environment, an interface method's `self`) and the rest
    /// `params`; the callee is unknown, so it may be a tracked library
    /// function (`caller.rs`).
    /// A call of `code`, which is function `callee` where that is known
    /// (so its location is stored only for a tracked one).
    pub(super) fn call_code(
        &mut self,
        code: PointerValue<'ctx>,
        callee: Option<FnId>,
        params: &[Type],
        ret: &Type,
        values: &[BasicMetadataValueEnum<'ctx>],
        span: Span,
    ) -> Result<Option<BasicValueEnum<'ctx>>> {
        let mut param_types: Vec<BasicMetadataTypeEnum> = vec![self.gc.into()];
        param_types.extend(
            params
                .iter()
                .map(|t| BasicMetadataTypeEnum::from(self.llvm_type(t))),
        );
        let fn_type = self.fn_type(ret, &param_types);
        self.set_caller(callee, span)?;
        Ok(self
            .b
            .build_indirect_call(fn_type, code, values, "call")?
            .try_as_basic_value()
            .basic())
    }

    pub(super) fn write_bytes(&mut self, stream: u64, bytes: &[u8]) -> Result<()> {
        let p = self.bytes_ptr(bytes)?;
        let i32t = self.cx.i32_type();
        let len = self.cx.i64_type().const_int(bytes.len() as u64, false);
        self.call_rt(
            RuntimeFn::WriteStr,
            &[i32t.const_int(stream, false).into(), p.into(), len.into()],
            "",
        )?;
        Ok(())
    }

    pub(super) fn write_value(
        &mut self,
        stream: u64,
        ty: &Type,
        v: BasicValueEnum<'ctx>,
    ) -> Result<()> {
        let i32t = self.cx.i32_type();
        let s = i32t.const_int(stream, false).into();
        match ty {
            Type::Int => {
                self.call_rt(RuntimeFn::WriteInt, &[s, v.into()], "")?;
            }
            Type::Float => {
                self.call_rt(RuntimeFn::WriteFloat, &[s, v.into()], "")?;
            }
            Type::Bool => {
                let wide = self
                    .b
                    .build_int_z_extend(v.into_int_value(), i32t, "bool.wide")?;
                self.call_rt(RuntimeFn::WriteBool, &[s, wide.into()], "")?;
            }
            Type::Unit | Type::Never | Type::Error => {}
            _ => {
                let text = self.string_of(v, ty)?;
                self.call_rt(RuntimeFn::WriteString, &[s, text.into()], "")?;
            }
        }
        Ok(())
    }
}
