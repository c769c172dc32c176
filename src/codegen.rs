//! LLVM IR generation with inkwell, from the AST and the checker's tables.
//!
//! Every local lives in an `alloca` made in the entry block; LLVM's own
//! passes promote them, so codegen stays simple and -O0 stays debuggable.
//! Values of `if` expressions go through an `alloca` too, for the same reason.
//! After anything that leaves the current block for good (`return`, `break`,
//! `exit`), code generation continues in a fresh block with no predecessors,
//! which LLVM deletes; that keeps the builder always positioned.
//!
//! User functions are `internal` and named `<module>.<fn>`; the only exported
//! symbol is `weft_main`, which the runtime's entry point calls.

use crate::ast::*;
use crate::diagnostics::SourceMap;
use crate::runtime_abi::{AbiType, RuntimeFn, ENTRY_SYMBOL};
use crate::types::{Builtin, Callee, LocalId, Res, Type, Typed};
use inkwell::attributes::{Attribute, AttributeLoc};
use inkwell::basic_block::BasicBlock;
use inkwell::builder::{Builder, BuilderError};
use inkwell::context::Context;
use inkwell::intrinsics::Intrinsic;
use inkwell::module::{Linkage, Module};
use inkwell::types::{BasicMetadataTypeEnum, BasicType, BasicTypeEnum, StructType};
use inkwell::values::{
    BasicMetadataValueEnum, BasicValueEnum, FunctionValue, IntValue, PointerValue,
};
use inkwell::{FloatPredicate, IntPredicate};
use std::collections::HashMap;

type Result<T> = std::result::Result<T, BuilderError>;

pub struct Codegen<'ctx, 'a> {
    cx: &'ctx Context,
    pub module: Module<'ctx>,
    b: Builder<'ctx>,
    typed: &'a Typed,
    sources: &'a SourceMap,
    prefix: String,
    fns: Vec<FunctionValue<'ctx>>,
    runtime: HashMap<RuntimeFn, FunctionValue<'ctx>>,
    locals: HashMap<LocalId, PointerValue<'ctx>>,
    /// (continue target, break target) for each enclosing loop.
    loops: Vec<(BasicBlock<'ctx>, BasicBlock<'ctx>)>,
    current: Option<FunctionValue<'ctx>>,
    strings: HashMap<Vec<u8>, PointerValue<'ctx>>,
    str_type: StructType<'ctx>,
}

impl<'ctx, 'a> Codegen<'ctx, 'a> {
    pub fn new(cx: &'ctx Context, name: &str, typed: &'a Typed, sources: &'a SourceMap) -> Self {
        let module = cx.create_module(name);
        let str_type = cx.struct_type(
            &[cx.ptr_type(Default::default()).into(), cx.i64_type().into()],
            false,
        );
        Codegen {
            cx,
            module,
            b: cx.create_builder(),
            typed,
            sources,
            prefix: name.to_string(),
            fns: Vec::new(),
            runtime: HashMap::new(),
            locals: HashMap::new(),
            loops: Vec::new(),
            current: None,
            strings: HashMap::new(),
            str_type,
        }
    }

    /// Generates the whole module: one LLVM function per Weft function, plus `weft_main`.
    pub fn generate(&mut self, ast: &Module_) -> Result<()> {
        for info in &self.typed.fns {
            let params: Vec<BasicMetadataTypeEnum> = info
                .param_types
                .iter()
                .map(|t| self.llvm_type(t).into())
                .collect();
            let fn_type = match self.basic_type(&info.ret) {
                Some(r) => r.fn_type(&params, false),
                None => self.cx.void_type().fn_type(&params, false),
            };
            let name = format!("{}.{}", self.prefix, info.name);
            let f = self
                .module
                .add_function(&name, fn_type, Some(Linkage::Internal));
            self.add_attr(f, "nounwind");
            self.fns.push(f);
        }
        for (id, &item) in self.typed.fn_items.iter().enumerate() {
            if let Item::Fn(decl) = &ast.items[item] {
                self.function(id, decl)?;
            }
        }
        self.entry()
    }

    fn add_attr(&self, f: FunctionValue<'ctx>, name: &str) {
        let kind = Attribute::get_named_enum_kind_id(name);
        f.add_attribute(
            AttributeLoc::Function,
            self.cx.create_enum_attribute(kind, 0),
        );
    }

    fn entry(&mut self) -> Result<()> {
        let f =
            self.module
                .add_function(ENTRY_SYMBOL, self.cx.void_type().fn_type(&[], false), None);
        self.add_attr(f, "nounwind");
        let bb = self.cx.append_basic_block(f, "entry");
        self.b.position_at_end(bb);
        if let Some(main) = self.typed.main {
            self.b.build_call(self.fns[main as usize], &[], "")?;
        }
        self.b.build_return(None)?;
        Ok(())
    }

    fn basic_type(&self, t: &Type) -> Option<BasicTypeEnum<'ctx>> {
        Some(match t {
            Type::Int => self.cx.i64_type().into(),
            Type::Float => self.cx.f64_type().into(),
            Type::Bool => self.cx.bool_type().into(),
            Type::Str => self.str_type.into(),
            Type::Unit | Type::Never | Type::Error => return None,
        })
    }

    fn llvm_type(&self, t: &Type) -> BasicTypeEnum<'ctx> {
        self.basic_type(t)
            .unwrap_or_else(|| self.cx.i8_type().into())
    }

    fn runtime_fn(&mut self, rf: RuntimeFn) -> FunctionValue<'ctx> {
        if let Some(&f) = self.runtime.get(&rf) {
            return f;
        }
        let sig = rf.signature();
        let abi = |t: AbiType| -> Option<BasicTypeEnum<'ctx>> {
            Some(match t {
                AbiType::I32 => self.cx.i32_type().into(),
                AbiType::I64 => self.cx.i64_type().into(),
                AbiType::F64 => self.cx.f64_type().into(),
                AbiType::Ptr => self.cx.ptr_type(Default::default()).into(),
                AbiType::Void => return None,
            })
        };
        let params: Vec<BasicMetadataTypeEnum> = sig
            .params
            .iter()
            .filter_map(|&t| abi(t))
            .map(Into::into)
            .collect();
        let fn_type = match abi(sig.ret) {
            Some(r) => r.fn_type(&params, false),
            None => self.cx.void_type().fn_type(&params, false),
        };
        let f = self
            .module
            .add_function(sig.name, fn_type, Some(Linkage::External));
        self.add_attr(f, "nounwind");
        if sig.noreturn {
            self.add_attr(f, "noreturn");
            self.add_attr(f, "cold");
        }
        self.runtime.insert(rf, f);
        f
    }

    fn function(&mut self, id: usize, decl: &FnDecl) -> Result<()> {
        let f = self.fns[id];
        self.current = Some(f);
        self.locals.clear();
        let entry = self.cx.append_basic_block(f, "entry");
        self.b.position_at_end(entry);
        let info = &self.typed.fns[id];
        for (i, &local) in info.params.iter().enumerate() {
            // Name the parameter before its slot so `%x` is the argument and
            // `%x.addr` its stack slot, as in clang's output.
            let name = self.typed.locals[local as usize].name.clone();
            let param = f
                .get_nth_param(i as u32)
                .expect("parameter count matches the signature");
            param.set_name(&name);
            let ty = self.llvm_type(&self.typed.locals[local as usize].ty);
            let slot = self.entry_alloca(ty, &format!("{name}.addr"))?;
            self.locals.insert(local, slot);
            self.b.build_store(slot, param)?;
        }
        self.block(&decl.body)?;
        if !self.terminated() {
            if info.ret == Type::Unit {
                self.b.build_return(None)?;
            } else {
                // The checker proved this point unreachable.
                self.b.build_unreachable()?;
            }
        }
        Ok(())
    }

    fn terminated(&self) -> bool {
        self.b
            .get_insert_block()
            .and_then(|bb| bb.get_terminator())
            .is_some()
    }

    /// Continues in a new block with no predecessors after a jump that leaves for good.
    fn dead_block(&mut self) {
        let f = self.current.expect("inside a function");
        let bb = self.cx.append_basic_block(f, "dead");
        self.b.position_at_end(bb);
    }

    /// An `alloca` in the entry block, where mem2reg can promote it.
    fn entry_alloca(&mut self, ty: BasicTypeEnum<'ctx>, name: &str) -> Result<PointerValue<'ctx>> {
        let f = self.current.expect("inside a function");
        let entry = f.get_first_basic_block().expect("entry block exists");
        let here = self.b.get_insert_block();
        let tmp = self.cx.create_builder();
        match entry.get_first_instruction() {
            Some(first) => tmp.position_before(&first),
            None => tmp.position_at_end(entry),
        }
        let slot = tmp.build_alloca(ty, name)?;
        if let Some(bb) = here {
            self.b.position_at_end(bb);
        }
        Ok(slot)
    }

    fn local_slot(&mut self, local: LocalId) -> Result<PointerValue<'ctx>> {
        if let Some(&p) = self.locals.get(&local) {
            return Ok(p);
        }
        let info = &self.typed.locals[local as usize];
        let ty = self.llvm_type(&info.ty);
        let name = info.name.clone();
        let slot = self.entry_alloca(ty, &name)?;
        self.locals.insert(local, slot);
        Ok(slot)
    }

    fn block(&mut self, block: &Block) -> Result<Option<BasicValueEnum<'ctx>>> {
        self.block_value(block, false)
    }

    fn block_value(
        &mut self,
        block: &Block,
        want_value: bool,
    ) -> Result<Option<BasicValueEnum<'ctx>>> {
        let last = block.stmts.len().saturating_sub(1);
        for (i, stmt) in block.stmts.iter().enumerate() {
            if want_value && i == last {
                if let Stmt::Expr(e) = stmt {
                    return self.expr(e);
                }
            }
            self.stmt(stmt)?;
        }
        Ok(None)
    }

    fn stmt(&mut self, stmt: &Stmt) -> Result<()> {
        match stmt {
            Stmt::Let { name, value, .. } => {
                let v = self.expr(value)?;
                let local = self.typed.decls[&name.span];
                let slot = self.local_slot(local)?;
                if let Some(v) = v {
                    self.b.build_store(slot, v)?;
                }
            }
            Stmt::Assign {
                target, op, value, ..
            } => {
                let Some(Res::Local(local)) = self.typed.names.get(&target.id).copied() else {
                    return Ok(());
                };
                let slot = self.local_slot(local)?;
                let ty = self.typed.locals[local as usize].ty.clone();
                let v = match op {
                    None => self.expr(value)?,
                    Some(op) => {
                        let old = self.b.build_load(self.llvm_type(&ty), slot, "old")?;
                        let rhs = self.expr(value)?;
                        match rhs {
                            Some(rhs) => Some(self.binary_values(*op, &ty, old, rhs, value.span)?),
                            None => None,
                        }
                    }
                };
                if let Some(v) = v {
                    self.b.build_store(slot, v)?;
                }
            }
            Stmt::Expr(e) => {
                self.expr(e)?;
            }
            Stmt::While { cond, body, .. } => {
                let f = self.current.expect("inside a function");
                let head = self.cx.append_basic_block(f, "while.cond");
                let body_bb = self.cx.append_basic_block(f, "while.body");
                let exit = self.cx.append_basic_block(f, "while.end");
                self.b.build_unconditional_branch(head)?;
                self.b.position_at_end(head);
                match self.expr(cond)? {
                    Some(c) => {
                        self.b
                            .build_conditional_branch(c.into_int_value(), body_bb, exit)?;
                    }
                    None => {
                        self.b.build_unconditional_branch(exit)?;
                    }
                }
                self.b.position_at_end(body_bb);
                self.loops.push((head, exit));
                self.block(body)?;
                self.loops.pop();
                if !self.terminated() {
                    self.b.build_unconditional_branch(head)?;
                }
                self.b.position_at_end(exit);
            }
            Stmt::Loop { body, .. } => {
                let f = self.current.expect("inside a function");
                let body_bb = self.cx.append_basic_block(f, "loop.body");
                let exit = self.cx.append_basic_block(f, "loop.end");
                self.b.build_unconditional_branch(body_bb)?;
                self.b.position_at_end(body_bb);
                self.loops.push((body_bb, exit));
                self.block(body)?;
                self.loops.pop();
                if !self.terminated() {
                    self.b.build_unconditional_branch(body_bb)?;
                }
                self.b.position_at_end(exit);
            }
            Stmt::For {
                var, iter, body, ..
            } => {
                let ExprKind::Range {
                    start,
                    end,
                    inclusive,
                } = &iter.kind
                else {
                    return Ok(());
                };
                self.for_range(var, start, end, *inclusive, body)?;
            }
            Stmt::Break(_) | Stmt::Continue(_) => {
                if let Some(&(cont, brk)) = self.loops.last() {
                    let target = if matches!(stmt, Stmt::Break(_)) {
                        brk
                    } else {
                        cont
                    };
                    self.b.build_unconditional_branch(target)?;
                    self.dead_block();
                }
            }
            Stmt::Return(value, _) => {
                let v = match value {
                    Some(v) => self.expr(v)?,
                    None => None,
                };
                if !self.terminated() {
                    match v {
                        Some(v) => self.b.build_return(Some(&v))?,
                        None => self.b.build_return(None)?,
                    };
                }
                self.dead_block();
            }
            // Rejected by the checker until their issues land.
            Stmt::WhileLet { .. } | Stmt::Yield(..) | Stmt::Defer(..) => {}
        }
        Ok(())
    }

    /// `for i in a..b` counts in a hidden variable, so `..=` up to `int`'s
    /// maximum ends instead of wrapping around.
    fn for_range(
        &mut self,
        var: &Ident,
        start: &Expr,
        end: &Expr,
        inclusive: bool,
        body: &Block,
    ) -> Result<()> {
        let f = self.current.expect("inside a function");
        let i64t = self.cx.i64_type();
        let (Some(a), Some(b)) = (self.expr(start)?, self.expr(end)?) else {
            return Ok(());
        };
        let counter = self.entry_alloca(i64t.into(), "for.index")?;
        self.b.build_store(counter, a)?;
        let head = self.cx.append_basic_block(f, "for.cond");
        let body_bb = self.cx.append_basic_block(f, "for.body");
        let latch = self.cx.append_basic_block(f, "for.next");
        let exit = self.cx.append_basic_block(f, "for.end");
        self.b.build_unconditional_branch(head)?;
        self.b.position_at_end(head);
        let i = self.b.build_load(i64t, counter, "i")?.into_int_value();
        let pred = if inclusive {
            IntPredicate::SLE
        } else {
            IntPredicate::SLT
        };
        let go = self
            .b
            .build_int_compare(pred, i, b.into_int_value(), "for.go")?;
        self.b.build_conditional_branch(go, body_bb, exit)?;
        self.b.position_at_end(body_bb);
        let local = self.typed.decls[&var.span];
        let slot = self.local_slot(local)?;
        self.b.build_store(slot, i)?;
        self.loops.push((latch, exit));
        self.block(body)?;
        self.loops.pop();
        if !self.terminated() {
            self.b.build_unconditional_branch(latch)?;
        }
        self.b.position_at_end(latch);
        let i = self.b.build_load(i64t, counter, "i")?.into_int_value();
        let next = self
            .b
            .build_int_add(i, i64t.const_int(1, false), "i.next")?;
        self.b.build_store(counter, next)?;
        if inclusive {
            let last =
                self.b
                    .build_int_compare(IntPredicate::EQ, i, b.into_int_value(), "for.last")?;
            self.b.build_conditional_branch(last, exit, head)?;
        } else {
            self.b.build_unconditional_branch(head)?;
        }
        self.b.position_at_end(exit);
        Ok(())
    }

    fn expr(&mut self, e: &Expr) -> Result<Option<BasicValueEnum<'ctx>>> {
        let i64t = self.cx.i64_type();
        Ok(Some(match &e.kind {
            ExprKind::Int(v) => i64t.const_int(*v as u64, true).into(),
            ExprKind::Float(v) => self.cx.f64_type().const_float(*v).into(),
            ExprKind::Bool(v) => self.cx.bool_type().const_int(*v as u64, false).into(),
            ExprKind::Str(parts) => {
                let text: String = parts
                    .iter()
                    .map(|p| match p {
                        StrPart::Lit(s) => s.as_str(),
                        StrPart::Expr(_) => "",
                    })
                    .collect();
                self.string_value(text.as_bytes())?
            }
            ExprKind::Name(_) => match self.typed.names.get(&e.id) {
                Some(Res::Local(local)) => {
                    let local = *local;
                    let slot = self.local_slot(local)?;
                    let ty = self.llvm_type(&self.typed.locals[local as usize].ty);
                    let name = self.typed.locals[local as usize].name.clone();
                    self.b.build_load(ty, slot, &name)?
                }
                _ => return Ok(None),
            },
            ExprKind::Unary(op, inner) => {
                let Some(v) = self.expr(inner)? else {
                    return Ok(None);
                };
                match (op, self.typed.ty(inner)) {
                    (UnOp::Neg, Type::Float) => {
                        self.b.build_float_neg(v.into_float_value(), "neg")?.into()
                    }
                    (UnOp::Neg, _) => self.b.build_int_neg(v.into_int_value(), "neg")?.into(),
                    (UnOp::Not, _) => self.b.build_not(v.into_int_value(), "not")?.into(),
                }
            }
            ExprKind::Binary(op @ (BinOp::And | BinOp::Or), l, r) => {
                return self.short_circuit(*op, l, r)
            }
            ExprKind::Binary(op, l, r) => {
                let (Some(a), Some(b)) = (self.expr(l)?, self.expr(r)?) else {
                    return Ok(None);
                };
                let ty = self.typed.ty(l).clone();
                self.binary_values(*op, &ty, a, b, e.span)?
            }
            ExprKind::Call(_, args) => return self.call(e, args),
            ExprKind::If { cond, then, els } => return self.if_expr(e, cond, then, els.as_deref()),
            ExprKind::Block(b) => {
                let want = self.basic_type(self.typed.ty(e)).is_some();
                return self.block_value(b, want);
            }
            _ => return Ok(None),
        }))
    }

    fn if_expr(
        &mut self,
        e: &Expr,
        cond: &Expr,
        then: &Block,
        els: Option<&Expr>,
    ) -> Result<Option<BasicValueEnum<'ctx>>> {
        let f = self.current.expect("inside a function");
        let result_ty = self.basic_type(self.typed.ty(e));
        let slot = match result_ty {
            Some(t) => Some(self.entry_alloca(t, "if.value")?),
            None => None,
        };
        let Some(c) = self.expr(cond)? else {
            return Ok(None);
        };
        let then_bb = self.cx.append_basic_block(f, "if.then");
        let else_bb = self.cx.append_basic_block(f, "if.else");
        let end_bb = self.cx.append_basic_block(f, "if.end");
        self.b
            .build_conditional_branch(c.into_int_value(), then_bb, else_bb)?;
        self.b.position_at_end(then_bb);
        let v = self.block_value(then, slot.is_some())?;
        if let (Some(slot), Some(v)) = (slot, v) {
            if !self.terminated() {
                self.b.build_store(slot, v)?;
            }
        }
        if !self.terminated() {
            self.b.build_unconditional_branch(end_bb)?;
        }
        self.b.position_at_end(else_bb);
        if let Some(els) = els {
            let v = self.expr(els)?;
            if let (Some(slot), Some(v)) = (slot, v) {
                if !self.terminated() {
                    self.b.build_store(slot, v)?;
                }
            }
        }
        if !self.terminated() {
            self.b.build_unconditional_branch(end_bb)?;
        }
        self.b.position_at_end(end_bb);
        match (slot, result_ty) {
            (Some(slot), Some(t)) => Ok(Some(self.b.build_load(t, slot, "if.result")?)),
            _ => Ok(None),
        }
    }

    fn short_circuit(
        &mut self,
        op: BinOp,
        l: &Expr,
        r: &Expr,
    ) -> Result<Option<BasicValueEnum<'ctx>>> {
        let f = self.current.expect("inside a function");
        let Some(a) = self.expr(l)? else {
            return Ok(None);
        };
        let lhs_end = self.b.get_insert_block().expect("positioned");
        let rhs_bb = self.cx.append_basic_block(
            f,
            if op == BinOp::And {
                "and.rhs"
            } else {
                "or.rhs"
            },
        );
        let end_bb = self.cx.append_basic_block(
            f,
            if op == BinOp::And {
                "and.end"
            } else {
                "or.end"
            },
        );
        let a = a.into_int_value();
        if op == BinOp::And {
            self.b.build_conditional_branch(a, rhs_bb, end_bb)?;
        } else {
            self.b.build_conditional_branch(a, end_bb, rhs_bb)?;
        }
        self.b.position_at_end(rhs_bb);
        let b = self.expr(r)?;
        let rhs_end = self.b.get_insert_block().expect("positioned");
        let rhs_live = !self.terminated();
        if rhs_live {
            self.b.build_unconditional_branch(end_bb)?;
        }
        self.b.position_at_end(end_bb);
        let bool_t = self.cx.bool_type();
        let phi = self
            .b
            .build_phi(bool_t, if op == BinOp::And { "and" } else { "or" })?;
        let short = bool_t.const_int((op == BinOp::Or) as u64, false);
        phi.add_incoming(&[(&short, lhs_end)]);
        if let (true, Some(b)) = (rhs_live, b) {
            phi.add_incoming(&[(&b.into_int_value(), rhs_end)]);
        }
        Ok(Some(phi.as_basic_value()))
    }

    fn binary_values(
        &mut self,
        op: BinOp,
        operand: &Type,
        a: BasicValueEnum<'ctx>,
        b: BasicValueEnum<'ctx>,
        span: Span,
    ) -> Result<BasicValueEnum<'ctx>> {
        use BinOp::*;
        if *operand == Type::Float {
            let (x, y) = (a.into_float_value(), b.into_float_value());
            let pred = |p| self.b.build_float_compare(p, x, y, "fcmp");
            return Ok(match op {
                Add => self.b.build_float_add(x, y, "fadd")?.into(),
                Sub => self.b.build_float_sub(x, y, "fsub")?.into(),
                Mul => self.b.build_float_mul(x, y, "fmul")?.into(),
                Div => self.b.build_float_div(x, y, "fdiv")?.into(),
                Rem => self.b.build_float_rem(x, y, "frem")?.into(),
                Eq => pred(FloatPredicate::OEQ)?.into(),
                Ne => pred(FloatPredicate::UNE)?.into(),
                Lt => pred(FloatPredicate::OLT)?.into(),
                Le => pred(FloatPredicate::OLE)?.into(),
                Gt => pred(FloatPredicate::OGT)?.into(),
                Ge => pred(FloatPredicate::OGE)?.into(),
                And | Or | BitAnd | BitOr | BitXor | Shl | Shr => {
                    unreachable!("rejected by the checker")
                }
            });
        }
        let (x, y) = (a.into_int_value(), b.into_int_value());
        let cmp = |p| self.b.build_int_compare(p, x, y, "cmp");
        Ok(match op {
            Add => self.b.build_int_add(x, y, "add")?.into(),
            Sub => self.b.build_int_sub(x, y, "sub")?.into(),
            Mul => self.b.build_int_mul(x, y, "mul")?.into(),
            Div | Rem => self.division(op, x, y, span)?.into(),
            Eq => cmp(IntPredicate::EQ)?.into(),
            Ne => cmp(IntPredicate::NE)?.into(),
            Lt => cmp(IntPredicate::SLT)?.into(),
            Le => cmp(IntPredicate::SLE)?.into(),
            Gt => cmp(IntPredicate::SGT)?.into(),
            Ge => cmp(IntPredicate::SGE)?.into(),
            BitAnd | And => self.b.build_and(x, y, "and")?.into(),
            BitOr | Or => self.b.build_or(x, y, "or")?.into(),
            BitXor => self.b.build_xor(x, y, "xor")?.into(),
            Shl | Shr => {
                // Shift counts are taken modulo 64, so no shift is undefined.
                let mask = self.cx.i64_type().const_int(63, false);
                let count = self.b.build_and(y, mask, "shift.count")?;
                if op == Shl {
                    self.b.build_left_shift(x, count, "shl")?.into()
                } else {
                    self.b.build_right_shift(x, count, true, "shr")?.into()
                }
            }
        })
    }

    /// `/` and `%` on ints: panic on zero; `int.min / -1` wraps (to `int.min`,
    /// remainder 0) instead of being undefined as LLVM's `sdiv` would be.
    fn division(
        &mut self,
        op: BinOp,
        x: IntValue<'ctx>,
        y: IntValue<'ctx>,
        span: Span,
    ) -> Result<IntValue<'ctx>> {
        let f = self.current.expect("inside a function");
        let i64t = self.cx.i64_type();
        let zero = i64t.const_zero();
        let is_zero = self
            .b
            .build_int_compare(IntPredicate::EQ, y, zero, "div.zero")?;
        let panic_bb = self.cx.append_basic_block(f, "div.panic");
        let ok_bb = self.cx.append_basic_block(f, "div.ok");
        self.b.build_conditional_branch(is_zero, panic_bb, ok_bb)?;
        self.b.position_at_end(panic_bb);
        let msg = if op == BinOp::Div {
            "integer division by zero"
        } else {
            "integer remainder by zero"
        };
        self.panic(msg, span)?;
        self.b.position_at_end(ok_bb);
        let minus_one = i64t.const_all_ones();
        let is_minus_one =
            self.b
                .build_int_compare(IntPredicate::EQ, y, minus_one, "div.minus1")?;
        let one = i64t.const_int(1, false);
        let safe = self
            .b
            .build_select(is_minus_one, one, y, "div.safe")?
            .into_int_value();
        let (plain, special) = if op == BinOp::Div {
            (
                self.b.build_int_signed_div(x, safe, "div")?,
                self.b.build_int_neg(x, "div.neg")?,
            )
        } else {
            (self.b.build_int_signed_rem(x, safe, "rem")?, zero)
        };
        Ok(self
            .b
            .build_select(
                is_minus_one,
                special,
                plain,
                if op == BinOp::Div {
                    "quot"
                } else {
                    "remainder"
                },
            )?
            .into_int_value())
    }

    /// Calls `weft_panic` with a message and this span's `file:line:col`.
    fn panic(&mut self, msg: &str, span: Span) -> Result<()> {
        let (line, col) = self.sources.line_col(span.file, span.start);
        let loc = format!("{}:{}:{}", self.sources.name(span.file), line, col);
        let msg_ptr = self.string_ptr(msg.as_bytes())?;
        let loc_ptr = self.string_ptr(loc.as_bytes())?;
        let i64t = self.cx.i64_type();
        let f = self.runtime_fn(RuntimeFn::Panic);
        self.b.build_call(
            f,
            &[
                msg_ptr.into(),
                i64t.const_int(msg.len() as u64, false).into(),
                loc_ptr.into(),
                i64t.const_int(loc.len() as u64, false).into(),
            ],
            "",
        )?;
        self.b.build_unreachable()?;
        Ok(())
    }

    /// A private constant holding `bytes`; equal strings share one global.
    fn string_ptr(&mut self, bytes: &[u8]) -> Result<PointerValue<'ctx>> {
        if let Some(&p) = self.strings.get(bytes) {
            return Ok(p);
        }
        let value = self.cx.const_string(bytes, false);
        let name = format!("str.{}", self.strings.len());
        let global = self.module.add_global(value.get_type(), None, &name);
        global.set_initializer(&value);
        global.set_constant(true);
        global.set_linkage(Linkage::Private);
        global.set_unnamed_addr(true);
        global.set_alignment(1);
        let p = global.as_pointer_value();
        self.strings.insert(bytes.to_vec(), p);
        Ok(p)
    }

    fn string_value(&mut self, bytes: &[u8]) -> Result<BasicValueEnum<'ctx>> {
        let p = self.string_ptr(bytes)?;
        let len = self.cx.i64_type().const_int(bytes.len() as u64, false);
        Ok(self
            .str_type
            .const_named_struct(&[p.into(), len.into()])
            .into())
    }

    fn call(&mut self, e: &Expr, args: &[Expr]) -> Result<Option<BasicValueEnum<'ctx>>> {
        let Some(&callee) = self.typed.calls.get(&e.id) else {
            return Ok(None);
        };
        match callee {
            Callee::Fn(id) => {
                let mut values: Vec<BasicMetadataValueEnum> = Vec::new();
                for a in args {
                    match self.expr(a)? {
                        Some(v) => values.push(v.into()),
                        None => return Ok(None),
                    }
                }
                let call = self.b.build_call(self.fns[id as usize], &values, "call")?;
                Ok(call.try_as_basic_value().basic())
            }
            Callee::Builtin(b) => self.builtin(b, args),
        }
    }

    fn builtin(&mut self, b: Builtin, args: &[Expr]) -> Result<Option<BasicValueEnum<'ctx>>> {
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
                        let ty = self.typed.ty(a).clone();
                        if let Some(v) = self.expr(a)? {
                            self.write_value(stream, &ty, v)?;
                        }
                        if newline {
                            self.write_bytes(stream, b"\n")?;
                        }
                    }
                    None => {
                        if newline {
                            self.write_bytes(stream, b"\n")?;
                        }
                    }
                }
                Ok(None)
            }
            Builtin::Exit => {
                if let Some(code) = self.expr(&args[0])? {
                    let f = self.runtime_fn(RuntimeFn::Exit);
                    self.b.build_call(f, &[code.into()], "")?;
                    self.b.build_unreachable()?;
                    self.dead_block();
                }
                Ok(None)
            }
            Builtin::ToInt | Builtin::ToFloat => {
                let from = self.typed.ty(&args[0]).clone();
                let Some(v) = self.expr(&args[0])? else {
                    return Ok(None);
                };
                Ok(Some(match (b, from) {
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
        }
    }

    fn write_bytes(&mut self, stream: u64, bytes: &[u8]) -> Result<()> {
        let p = self.string_ptr(bytes)?;
        let f = self.runtime_fn(RuntimeFn::WriteStr);
        let i32t = self.cx.i32_type();
        let len = self.cx.i64_type().const_int(bytes.len() as u64, false);
        self.b.build_call(
            f,
            &[i32t.const_int(stream, false).into(), p.into(), len.into()],
            "",
        )?;
        Ok(())
    }

    fn write_value(&mut self, stream: u64, ty: &Type, v: BasicValueEnum<'ctx>) -> Result<()> {
        let i32t = self.cx.i32_type();
        let s = i32t.const_int(stream, false).into();
        match ty {
            Type::Int => {
                let f = self.runtime_fn(RuntimeFn::WriteInt);
                self.b.build_call(f, &[s, v.into()], "")?;
            }
            Type::Float => {
                let f = self.runtime_fn(RuntimeFn::WriteFloat);
                self.b.build_call(f, &[s, v.into()], "")?;
            }
            Type::Bool => {
                let f = self.runtime_fn(RuntimeFn::WriteBool);
                let wide = self
                    .b
                    .build_int_z_extend(v.into_int_value(), i32t, "bool.wide")?;
                self.b.build_call(f, &[s, wide.into()], "")?;
            }
            Type::Str => {
                let f = self.runtime_fn(RuntimeFn::WriteStr);
                let sv = v.into_struct_value();
                let ptr = self.b.build_extract_value(sv, 0, "str.ptr")?;
                let len = self.b.build_extract_value(sv, 1, "str.len")?;
                self.b.build_call(f, &[s, ptr.into(), len.into()], "")?;
            }
            Type::Unit | Type::Never | Type::Error => {}
        }
        Ok(())
    }
}

/// The AST's module type, renamed so it does not clash with LLVM's `Module`.
pub use crate::ast::Module as Module_;
