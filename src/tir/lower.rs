//! From the ASTs and the checker's side tables to the TIR: every lookup
//! the side tables need is done here, once.

use super::*;
use crate::ast;
use crate::check::{Builtin, Coercion, ConstValue, Desugar, FnSource, Res, SelectOp, Typed};
use std::cell::RefCell;

/// The TIR of every function the checker made, in `FnId` order.
pub fn lower(typed: &Typed) -> Program {
    let cx = Lower {
        typed,
        loops: RefCell::new(Vec::new()),
        pending_label: RefCell::new(None),
    };
    let fns = typed
        .fns
        .iter()
        .enumerate()
        .map(|(id, info)| {
            let body = match info.source {
                FnSource::Decl(d) => cx.block(&d.body),
                FnSource::Closure(e) => match &e.kind {
                    ast::ExprKind::Closure { body, .. } => cx.block(body),
                    _ => unreachable!("a closure's source is a closure"),
                },
                FnSource::Init(_) => cx.init_body(id as FnId),
            };
            let kind = if info.yields.is_some() {
                FnKind::Gen
            } else if info.is_async {
                FnKind::Async
            } else if info.is_closure {
                FnKind::Closure
            } else {
                FnKind::Plain
            };
            Function {
                id: id as FnId,
                symbol: info.symbol.clone(),
                kind,
                params: info.params.clone(),
                param_types: info.param_types.clone(),
                ret: info.yields.clone().unwrap_or_else(|| info.ret.clone()),
                captures: info.captures.clone(),
                body,
            }
        })
        .collect();
    Program { fns }
}

struct Lower<'t, 'a> {
    typed: &'t Typed<'a>,
    /// The labels of the loops around the statement being lowered, innermost last.
    loops: RefCell<Vec<Option<String>>>,
    /// Set by `label:` for the loop statement right inside it.
    pending_label: RefCell<Option<String>>,
}

impl Lower<'_, '_> {
    fn local(&self, name: &ast::Ident) -> LocalId {
        // The checker declares every binding it accepts.
        self.typed
            .decls
            .get(&name.span)
            .copied()
            .unwrap_or(LocalId::MAX)
    }

    /// A module's initialiser: each variable assigned its value, in order.
    fn init_body(&self, id: FnId) -> Block {
        let values = self
            .typed
            .init_values
            .get(&id)
            .map_or(&[][..], |v| v.as_slice());
        let stmts = values
            .iter()
            .map(|&(g, value)| Stmt::Assign {
                target: Expr {
                    ty: self.typed.globals[g as usize].ty.clone(),
                    span: value.span,
                    kind: ExprKind::Global(g),
                },
                op: None,
                value: self.expr(value),
            })
            .collect();
        Block { stmts }
    }

    /// How many loops out from the innermost `break label` leaves (0 without a label).
    fn loop_depth(&self, label: Option<&ast::Ident>) -> usize {
        let loops = self.loops.borrow();
        let Some(label) = label else { return 0 };
        // The checker resolved every label it accepted.
        let at = loops
            .iter()
            .rposition(|l| l.as_deref() == Some(&label.name));
        at.map_or(0, |i| loops.len() - 1 - i)
    }

    /// A loop's body, with `label` (if it has one) in scope.
    fn loop_body(&self, label: Option<String>, body: &ast::Block) -> Block {
        self.loops.borrow_mut().push(label);
        let b = self.block(body);
        self.loops.borrow_mut().pop();
        b
    }

    fn block(&self, b: &ast::Block) -> Block {
        Block {
            stmts: b.stmts.iter().map(|s| self.stmt(s)).collect(),
        }
    }

    fn stmt(&self, s: &ast::Stmt) -> Stmt {
        let label = self.pending_label.borrow_mut().take();
        match s {
            ast::Stmt::Let { name, value, .. } => Stmt::Let {
                local: self.local(name),
                value: self.expr(value),
            },
            ast::Stmt::Assign {
                target, op, value, ..
            } => Stmt::Assign {
                target: self.expr(target),
                op: *op,
                value: self.expr(value),
            },
            ast::Stmt::Expr(e) => Stmt::Expr(self.expr(e)),
            ast::Stmt::While { cond, body, .. } => Stmt::While {
                cond: self.expr(cond),
                body: self.loop_body(label, body),
            },
            ast::Stmt::WhileLet {
                name, value, body, ..
            } => Stmt::WhileLet {
                local: self.local(name),
                value: self.expr(value),
                body: self.loop_body(label, body),
            },
            ast::Stmt::Loop { body, .. } => Stmt::Loop(self.loop_body(label, body)),
            ast::Stmt::For {
                var,
                iter,
                body,
                span,
            } => {
                let iter = if self.typed.for_gens.contains_key(span) {
                    Iter::Gen(self.expr(iter))
                } else if self.typed.for_arrays.contains_key(span) {
                    Iter::Array(self.expr(iter))
                } else if let ast::ExprKind::Range {
                    start,
                    end,
                    inclusive,
                } = &iter.kind
                {
                    Iter::Range {
                        start: self.expr(start),
                        end: self.expr(end),
                        inclusive: *inclusive,
                    }
                } else {
                    Iter::Array(self.expr(iter))
                };
                Stmt::For {
                    local: self.local(var),
                    iter,
                    body: self.loop_body(label, body),
                }
            }
            ast::Stmt::Labeled { label, body, .. } => {
                *self.pending_label.borrow_mut() = Some(label.name.clone());
                self.stmt(body)
            }
            ast::Stmt::Break(label, _) => Stmt::Break(self.loop_depth(label.as_ref())),
            ast::Stmt::Continue(label, _) => Stmt::Continue(self.loop_depth(label.as_ref())),
            ast::Stmt::Return(v, _) => Stmt::Return(v.as_ref().map(|v| self.expr(v))),
            ast::Stmt::Yield(v, _) => Stmt::Yield(self.expr(v)),
            ast::Stmt::Defer(e, _) => Stmt::Defer(self.expr(e)),
        }
    }

    fn pattern(&self, p: &ast::Pattern) -> Pattern {
        match p {
            ast::Pattern::Wildcard(_) => Pattern::Wildcard,
            ast::Pattern::Binding(name) => match self.typed.pattern_variants.get(&name.span) {
                Some(&(enum_id, tag)) => Pattern::Variant {
                    enum_id,
                    tag,
                    args: Vec::new(),
                },
                None => Pattern::Binding(self.local(name)),
            },
            ast::Pattern::Int(n, _) => Pattern::Int(*n),
            ast::Pattern::Str(s, _) => Pattern::Str(s.clone()),
            ast::Pattern::Bool(b, _) => Pattern::Bool(*b),
            ast::Pattern::Nil(_) => Pattern::Nil,
            ast::Pattern::Variant { args, span, .. } => match self.typed.pattern_variants.get(span)
            {
                Some(&(enum_id, tag)) => Pattern::Variant {
                    enum_id,
                    tag,
                    args: args.iter().map(|a| self.pattern(a)).collect(),
                },
                None => Pattern::Wildcard,
            },
        }
    }

    fn boxed(&self, e: &ast::Expr) -> Box<Expr> {
        Box::new(self.expr(e))
    }

    /// The expression with the checker's coercion, if it has one, made explicit.
    fn expr(&self, e: &ast::Expr) -> Expr {
        let raw = self.raw(e);
        match self.typed.coercions.get(&e.id) {
            Some(Coercion::WrapOptional) => Expr {
                ty: Type::Optional(Box::new(raw.ty.clone())),
                span: raw.span,
                kind: ExprKind::WrapOptional(Box::new(raw)),
            },
            Some(&Coercion::ToInterface(iface)) => Expr {
                ty: Type::Interface(iface),
                span: raw.span,
                kind: ExprKind::ToInterface(Box::new(raw)),
            },
            None => raw,
        }
    }

    /// The expression as the checker typed it, before any coercion.
    fn raw(&self, e: &ast::Expr) -> Expr {
        if let (Some(d), ast::ExprKind::Unwrap(inner) | ast::ExprKind::Try(inner)) =
            (self.typed.desugars.get(&e.id), &e.kind)
        {
            return self.desugared(e, *d, inner);
        }
        let ty = self.typed.ty(e).clone();
        let kind = match &e.kind {
            ast::ExprKind::Int(v) => ExprKind::Int(*v),
            ast::ExprKind::Float(v) => ExprKind::Float(*v),
            ast::ExprKind::Bool(v) => ExprKind::Bool(*v),
            ast::ExprKind::Nil => ExprKind::Nil,
            ast::ExprKind::Str(parts) => ExprKind::Str(
                parts
                    .iter()
                    .map(|p| match p {
                        ast::StrPart::Lit(s) => StrPart::Lit(s.clone()),
                        ast::StrPart::Expr(e) => StrPart::Expr(self.expr(e)),
                        ast::StrPart::Format(e, spec) => {
                            StrPart::Format(self.expr(e), spec.text.clone())
                        }
                    })
                    .collect(),
            ),
            ast::ExprKind::Name(_) => match self.typed.names.get(&e.id) {
                Some(Res::Local(l)) => ExprKind::Local(*l),
                Some(Res::Fn(f)) => ExprKind::FnRef(*f),
                Some(Res::Global(g)) => ExprKind::Global(*g),
                Some(Res::Const(c)) => self.constant(*c),
                None => match self.typed.variants.get(&e.id) {
                    Some(&(enum_id, tag)) => ExprKind::Variant {
                        enum_id,
                        tag,
                        args: Vec::new(),
                    },
                    None => ExprKind::Error,
                },
            },
            ast::ExprKind::Repeat(v, n) => ExprKind::Repeat(self.boxed(v), self.boxed(n)),
            ast::ExprKind::Array(items) => {
                ExprKind::Array(items.iter().map(|i| self.expr(i)).collect())
            }
            // `Group[int]()`: a call of the instance's static `new`.
            ast::ExprKind::Construct(_, args) if self.typed.calls.contains_key(&e.id) => {
                match self.typed.calls.get(&e.id) {
                    Some(&c @ Callee::Fn(_)) => ExprKind::Call {
                        callee: c,
                        receiver: None,
                        callee_expr: None,
                        args: args.iter().map(|a| self.expr(a)).collect(),
                    },
                    _ => ExprKind::Error,
                }
            }
            ast::ExprKind::Construct(_, args) => {
                ExprKind::Construct(args.iter().map(|a| self.expr(a)).collect())
            }
            ast::ExprKind::StructLit { fields, .. } => match self.typed.struct_lits.get(&e.id) {
                Some(&struct_id) => {
                    let info = &self.typed.structs[struct_id as usize];
                    ExprKind::StructLit {
                        struct_id,
                        fields: fields
                            .iter()
                            .map(|(name, v)| {
                                let index = info.field(&name.name).map_or(usize::MAX, |(i, _)| i);
                                (index, self.expr(v))
                            })
                            .collect(),
                    }
                }
                None => ExprKind::Error,
            },
            ast::ExprKind::Unary(op, inner) => ExprKind::Unary(*op, self.boxed(inner)),
            ast::ExprKind::Binary(op, l, r) => ExprKind::Binary(*op, self.boxed(l), self.boxed(r)),
            ast::ExprKind::Call(callee, args) => self.call(e, callee, args),
            ast::ExprKind::Field(base, _) => match self.typed.variants.get(&e.id) {
                Some(&(enum_id, tag)) => ExprKind::Variant {
                    enum_id,
                    tag,
                    args: Vec::new(),
                },
                None => match self.typed.names.get(&e.id) {
                    Some(Res::Fn(f)) => ExprKind::FnRef(*f),
                    Some(Res::Global(g)) => ExprKind::Global(*g),
                    Some(Res::Const(c)) => self.constant(*c),
                    _ => ExprKind::Field {
                        base: self.boxed(base),
                        index: self.typed.fields.get(&e.id).copied().unwrap_or(usize::MAX),
                    },
                },
            },
            ast::ExprKind::Index(base, index)
                if matches!(index.kind, ast::ExprKind::Range { .. }) =>
            {
                self.slice(e, base, index)
            }
            ast::ExprKind::Index(base, index) => {
                ExprKind::Index(self.boxed(base), self.boxed(index))
            }
            ast::ExprKind::Unwrap(inner) => ExprKind::Unwrap(self.boxed(inner)),
            // The checker desugars every `?` it accepts.
            ast::ExprKind::Try(_) => ExprKind::Error,
            // Only a `for` iterates a range; the checker rejects it elsewhere.
            ast::ExprKind::Range { .. } => ExprKind::Error,
            ast::ExprKind::If { cond, then, els } => ExprKind::If {
                cond: self.boxed(cond),
                then: self.block(then),
                els: els.as_ref().map(|e| self.boxed(e)),
            },
            ast::ExprKind::IfLet {
                name,
                value,
                then,
                els,
            } => ExprKind::IfLet {
                local: self.local(name),
                value: self.boxed(value),
                then: self.block(then),
                els: els.as_ref().map(|e| self.boxed(e)),
            },
            ast::ExprKind::Block(b) => ExprKind::Block(self.block(b)),
            ast::ExprKind::Match(scrutinee, arms) => ExprKind::Match(
                self.boxed(scrutinee),
                arms.iter()
                    .map(|a| Arm {
                        pattern: self.pattern(&a.pattern),
                        body: self.expr(&a.body),
                    })
                    .collect(),
            ),
            ast::ExprKind::Closure { .. } => match self.typed.names.get(&e.id) {
                Some(Res::Fn(f)) => ExprKind::Closure(*f),
                _ => ExprKind::Error,
            },
            ast::ExprKind::Await(inner) => match self.typed.awaits.get(&e.id) {
                Some(&kind) => ExprKind::Await(kind, self.boxed(inner)),
                None => ExprKind::Error,
            },
            ast::ExprKind::Spawn(inner) => ExprKind::Spawn(self.boxed(inner)),
            ast::ExprKind::Select(arms) => ExprKind::Select(
                arms.iter()
                    .filter(|a| !a.is_default)
                    .map(|a| SelectArm {
                        binding: a.binding.as_ref().map(|b| self.local(b)),
                        kind: self
                            .typed
                            .select_ops
                            .get(&a.op.id)
                            .copied()
                            .unwrap_or(SelectOp::After),
                        op: self.expr(&a.op),
                        body: self.block(&a.body),
                    })
                    .collect(),
                // The checker let `default` be the last arm only.
                arms.last()
                    .filter(|a| a.is_default)
                    .map(|a| self.block(&a.body)),
            ),
            ast::ExprKind::Error => ExprKind::Error,
        };
        Expr {
            ty,
            span: e.span,
            kind,
        }
    }

    /// `a[i..j]` or `s[i..j]` (`..=` ends one further): a call of the
    /// slicing function the checker chose, the base its receiver.
    fn slice(&self, e: &ast::Expr, base: &ast::Expr, range: &ast::Expr) -> ExprKind {
        let (
            Some(&callee),
            ast::ExprKind::Range {
                start,
                end,
                inclusive,
            },
        ) = (self.typed.calls.get(&e.id), &range.kind)
        else {
            return ExprKind::Error;
        };
        let mut end = self.expr(end);
        if *inclusive {
            let span = end.span;
            let one = Expr {
                ty: Type::Int,
                span,
                kind: ExprKind::Int(1),
            };
            end = Expr {
                ty: Type::Int,
                span,
                kind: ExprKind::Binary(BinOp::Add, Box::new(end), Box::new(one)),
            };
        }
        ExprKind::Call {
            callee,
            receiver: Some(self.boxed(base)),
            callee_expr: None,
            args: vec![self.expr(start), end],
        }
    }

    /// A `const`'s value, as the literal it is.
    fn constant(&self, c: u32) -> ExprKind {
        match &self.typed.consts[c as usize] {
            ConstValue::Int(n) => ExprKind::Int(*n),
            ConstValue::Float(x) => ExprKind::Float(*x),
            ConstValue::Bool(b) => ExprKind::Bool(*b),
            ConstValue::Str(s) => ExprKind::Str(vec![StrPart::Lit(s.clone())]),
        }
    }

    /// `r!`, `r?` and `x?` out of `match`, `if let`, `return` and `panic`.
    fn desugared(&self, e: &ast::Expr, d: Desugar, inner: &ast::Expr) -> Expr {
        let span = e.span;
        let ty = self.typed.ty(e).clone();
        let mk = |ty: Type, kind: ExprKind| Expr { ty, span, kind };
        let local = |l: LocalId| mk(self.typed.locals[l as usize].ty.clone(), ExprKind::Local(l));
        let tag =
            |id: StructId, name: &str| self.typed.structs[id as usize].variant(name).unwrap_or(0);
        let arm = |result: StructId, name: &str, l: LocalId, body: Expr| Arm {
            pattern: Pattern::Variant {
                enum_id: result,
                tag: tag(result, name),
                args: vec![Pattern::Binding(l)],
            },
            body,
        };
        let leave = |value: Expr| {
            let stmts = vec![Stmt::Return(Some(value))];
            mk(Type::Never, ExprKind::Block(Block { stmts }))
        };
        let scrutinee = Box::new(self.expr(inner));
        match d {
            Desugar::UnwrapResult { result, ok, err } => {
                let text = mk(Type::Str, builtin_call(Builtin::Str, vec![local(err)]));
                let panic = mk(Type::Never, builtin_call(Builtin::Panic, vec![text]));
                let arms = vec![
                    arm(result, "Ok", ok, local(ok)),
                    arm(result, "Err", err, panic),
                ];
                mk(ty, ExprKind::Match(scrutinee, arms))
            }
            Desugar::TryResult {
                result,
                ok,
                err,
                ret,
            } => {
                let again = mk(
                    Type::Enum(ret),
                    ExprKind::Variant {
                        enum_id: ret,
                        tag: tag(ret, "Err"),
                        args: vec![local(err)],
                    },
                );
                let arms = vec![
                    arm(result, "Ok", ok, local(ok)),
                    arm(result, "Err", err, leave(again)),
                ];
                mk(ty, ExprKind::Match(scrutinee, arms))
            }
            Desugar::TryOptional { value } => {
                let then = Block {
                    stmts: vec![Stmt::Expr(local(value))],
                };
                let nil = leave(mk(Type::Nil, ExprKind::Nil));
                mk(
                    ty,
                    ExprKind::IfLet {
                        local: value,
                        value: scrutinee,
                        then,
                        els: Some(Box::new(nil)),
                    },
                )
            }
        }
    }

    fn call(&self, e: &ast::Expr, callee: &ast::Expr, args: &[ast::Expr]) -> ExprKind {
        if let Some(&(enum_id, tag)) = self.typed.variants.get(&e.id) {
            return ExprKind::Variant {
                enum_id,
                tag,
                args: args.iter().map(|a| self.expr(a)).collect(),
            };
        }
        let Some(&c) = self.typed.calls.get(&e.id) else {
            return ExprKind::Error;
        };
        // Methods of values and of built-in types take their receiver from
        // the callee `recv.m`; an indirect call evaluates the callee itself.
        let receiver = match (&c, &callee.kind) {
            (
                Callee::Fn(_)
                | Callee::Runtime(_)
                | Callee::Intrinsic(_)
                | Callee::Builtin(_)
                | Callee::Sleep
                | Callee::Wait
                | Callee::Yield
                | Callee::Supervise
                | Callee::Running,
                _,
            ) => None,
            (Callee::Indirect, _) => None,
            (_, ast::ExprKind::Field(base, _)) => Some(self.boxed(base)),
            _ => None,
        };
        let callee_expr = matches!(c, Callee::Indirect).then(|| self.boxed(callee));
        ExprKind::Call {
            callee: c,
            receiver,
            callee_expr,
            args: args.iter().map(|a| self.expr(a)).collect(),
        }
    }
}

fn builtin_call(b: Builtin, args: Vec<Expr>) -> ExprKind {
    ExprKind::Call {
        callee: Callee::Builtin(b),
        receiver: None,
        callee_expr: None,
        args,
    }
}
