//! Module-level `const`, `let` and `var` (LANGUAGE.md 0.2).
//!
//! A `const` is evaluated here, at compile time (literals, other constants,
//! arithmetic, bit operators, comparisons, string literals and `+` on them),
//! and each use becomes its literal. A `let` or `var` is a module variable:
//! a GC root when it holds a reference, assigned once by its module's
//! initialiser function (`FnSource::Init`), which runs before `main`, a
//! module's after those of the modules it imports. An initialiser is checked
//! before every function body, so a variable without a type annotation gets
//! its initialiser's type before any function uses it.

use super::*;

/// A `const` and its evaluation.
pub(super) struct ConstSlot<'a> {
    pub(super) decl: &'a GlobalDecl,
    module: ModId,
    state: ConstState,
}

#[derive(Clone, PartialEq)]
enum ConstState {
    Todo,
    /// Being evaluated: meeting it again is a cycle.
    Busy,
    Done(u32),
    Failed,
}

impl<'a> Checker<'a, '_> {
    /// The first pass's part: every `const`, `let` and `var` named.
    pub(super) fn declare_globals(&mut self, modules: &[SourceModule<'a>]) {
        for (m, module) in modules.iter().enumerate() {
            for item in &module.ast.items {
                let Item::Global(g) = item else { continue };
                if self.redefined(m, &g.name) {
                    continue;
                }
                let item = match g.kind {
                    GlobalKind::Const => {
                        let c = self.consts.len() as u32;
                        self.consts.push(ConstSlot {
                            decl: g,
                            module: m as ModId,
                            state: ConstState::Todo,
                        });
                        ItemRef::Const(c)
                    }
                    GlobalKind::Let | GlobalKind::Var => {
                        let id = self.out.globals.len() as GlobalId;
                        self.out.globals.push(GlobalInfo {
                            name: g.name.name.clone(),
                            symbol: format!("{}.{}", module.name, g.name.name),
                            ty: Type::Error,
                            mutable: g.kind == GlobalKind::Var,
                        });
                        self.global_decls.push((g, false));
                        ItemRef::Global(id)
                    }
                };
                self.items[m].insert(g.name.name.clone(), item);
            }
        }
    }

    /// After the types: annotated variables' types, every `const`'s value,
    /// and one initialiser function per module with variables (declared
    /// before any other function, so checked first; dependencies first).
    pub(super) fn declare_global_types(&mut self, modules: &[SourceModule<'a>]) {
        for id in 0..self.global_decls.len() {
            let (g, _) = self.global_decls[id];
            let module = self.module_of(g.span);
            if let Some(t) = &g.ty {
                let ty = self.in_scope(module, HashMap::new(), |cx| cx.resolve_type(t));
                self.out.globals[id].ty = ty;
                self.global_decls[id].1 = true;
            }
        }
        for c in 0..self.consts.len() {
            self.const_value(c as u32);
        }
        for m in (0..modules.len()).rev() {
            let has_vars = modules[m]
                .ast
                .items
                .iter()
                .any(|i| matches!(i, Item::Global(g) if g.kind != GlobalKind::Const));
            if !has_vars {
                continue;
            }
            let id = self.out.fns.len() as FnId;
            self.out.fns.push(FnInfo {
                symbol: format!("{}.<init>", modules[m].name),
                name: "<init>".into(),
                params: Vec::new(),
                param_types: Vec::new(),
                ret: Type::Unit,
                span: Span::new(modules[m].file, 0, 0),
                source: FnSource::Init(m as ModId),
                captures: Vec::new(),
                is_closure: false,
                yields: None,
                is_async: false,
            });
            self.out.inits.push(id);
        }
    }

    /// A module's initialisers: each checked against its annotation, or
    /// giving its variable its type.
    pub(super) fn check_init(&mut self, id: FnId, m: ModId) {
        self.module = m;
        self.type_args = HashMap::new();
        self.ctx.push(FnContext {
            fn_id: id,
            scopes: vec![HashMap::new()],
            ret: Type::Unit,
            yields: None,
            is_async: false,
            loops: Vec::new(),
            in_defer: false,
        });
        let modules = self.modules;
        for item in &modules[m as usize].ast.items {
            let Item::Global(g) = item else { continue };
            let Some(ItemRef::Global(gid)) = self.items[m as usize].get(&g.name.name).copied()
            else {
                continue;
            };
            if !std::ptr::eq(self.global_decls[gid as usize].0, g) {
                continue; // a redefinition, reported already
            }
            self.out
                .init_values
                .entry(id)
                .or_default()
                .push((gid, &g.value));
            if self.global_decls[gid as usize].1 {
                let want = self.out.globals[gid as usize].ty.clone();
                let t = self.check_expr(&g.value, Some(&want));
                self.coerce(&g.value, &t, &want);
            } else {
                let t = self.check_expr(&g.value, ANY);
                let t = match t {
                    Type::Nil => {
                        self.error(
                            Diagnostic::error(
                                DiagId::CannotInfer,
                                format!("cannot infer the type of `{}`", g.name.name),
                            )
                            .with_label(g.value.span, "`nil` of what type?")
                            .with_note(format!("write its type: `var {}: T? = nil`", g.name.name)),
                        );
                        Type::Error
                    }
                    Type::Never | Type::Unit => Type::Error,
                    t => t,
                };
                self.out.globals[gid as usize].ty = t;
                self.global_decls[gid as usize].1 = true;
            }
        }
        self.ctx.pop();
    }

    /// A module variable used as a value: its type, or an error when its
    /// initialiser (which gives it its type) has not been checked yet.
    pub(super) fn global_use(&mut self, e: &Expr, g: GlobalId) -> Type {
        self.out.names.insert(e.id, Res::Global(g));
        if !self.global_decls[g as usize].1 {
            let name = self.out.globals[g as usize].name.clone();
            self.error(
                Diagnostic::error(
                    DiagId::GlobalBeforeInit,
                    format!("`{name}` is used before its initialiser has run"),
                )
                .with_label(e.span, "module variables are initialised in source order")
                .with_note(format!(
                    "move `{name}` above this use, or give it a type: `let {name}: T = ...`"
                )),
            );
            return Type::Error;
        }
        self.out.globals[g as usize].ty.clone()
    }

    /// `name = v` where `name` is no local: a module `var`, or an error.
    pub(super) fn assign_global(&mut self, target: &'a Expr, name: &str) -> Type {
        let t = self.check_expr(target, ANY);
        let ident = Ident {
            name: name.to_string(),
            span: target.span,
        };
        match self.lookup_item(std::slice::from_ref(&ident)) {
            Some(ItemRef::Global(g)) if self.out.globals[g as usize].mutable => t,
            Some(item @ (ItemRef::Global(_) | ItemRef::Const(_))) => {
                let what = if matches!(item, ItemRef::Const(_)) {
                    "constant"
                } else {
                    "module `let`"
                };
                self.error(
                    Diagnostic::error(
                        DiagId::AssignToImmutable,
                        format!("cannot assign to the {what} `{name}`"),
                    )
                    .with_label(
                        target.span,
                        "declare it with `var` at module level to change it",
                    ),
                );
                Type::Error
            }
            _ => Type::Error,
        }
    }

    /// A `const` used as a value.
    pub(super) fn const_use(&mut self, e: &Expr, c: u32) -> Type {
        match self.const_value(c) {
            Some(v) => {
                self.out.names.insert(e.id, Res::Const(v));
                self.out.consts[v as usize].ty()
            }
            None => Type::Error,
        }
    }

    /// The value of `const` number `c` (an index into `Typed::consts`),
    /// evaluated on first use.
    fn const_value(&mut self, c: u32) -> Option<u32> {
        let slot = &self.consts[c as usize];
        match slot.state {
            ConstState::Done(v) => return Some(v),
            ConstState::Failed => return None,
            ConstState::Busy => {
                let name = slot.decl.name.clone();
                self.error(
                    Diagnostic::error(
                        DiagId::ConstNotConstant,
                        format!("the constant `{}` is defined in terms of itself", name.name),
                    )
                    .with_label(name.span, "its value depends on its own"),
                );
                self.consts[c as usize].state = ConstState::Failed;
                return None;
            }
            ConstState::Todo => {}
        }
        let (decl, module) = (slot.decl, slot.module);
        self.consts[c as usize].state = ConstState::Busy;
        let value = self.in_scope(module, HashMap::new(), |cx| cx.eval_const(&decl.value));
        let value = match (value, &decl.ty) {
            (Some(v), Some(t)) => {
                let want = self.in_scope(module, HashMap::new(), |cx| cx.resolve_type(t));
                match (v, &want) {
                    (ConstValue::Int(n), Type::Float) => Some(ConstValue::Float(n as f64)),
                    (v, w) if v.ty() == *w || w.is_error() => Some(v),
                    (v, w) => {
                        self.mismatch(&v.ty(), w, decl.value.span);
                        None
                    }
                }
            }
            (v, _) => v,
        };
        let state = match value {
            Some(v) => {
                let id = self.out.consts.len() as u32;
                self.out.consts.push(v);
                ConstState::Done(id)
            }
            None => ConstState::Failed,
        };
        if self.consts[c as usize].state == ConstState::Busy {
            self.consts[c as usize].state = state.clone();
        }
        match state {
            ConstState::Done(v) => Some(v),
            _ => None,
        }
    }

    /// `e` as a compile-time value, or a `const-not-constant` error.
    fn eval_const(&mut self, e: &Expr) -> Option<ConstValue> {
        use ConstValue::*;
        let v = match &e.kind {
            ExprKind::Int(n) => Int(*n),
            ExprKind::Float(x) => Float(*x),
            ExprKind::Bool(b) => Bool(*b),
            ExprKind::Str(parts) => match parts.as_slice() {
                [] => Str(String::new()),
                [StrPart::Lit(s)] => Str(s.clone()),
                _ => return self.not_constant(e, "an interpolated string is computed at run time"),
            },
            ExprKind::Name(_) | ExprKind::Field(..) => {
                let path = match &e.kind {
                    ExprKind::Name(n) => vec![Ident {
                        name: n.clone(),
                        span: e.span,
                    }],
                    ExprKind::Field(base, f) => match &base.kind {
                        ExprKind::Name(m) => vec![
                            Ident {
                                name: m.clone(),
                                span: base.span,
                            },
                            f.clone(),
                        ],
                        _ => return self.not_constant(e, "not a constant"),
                    },
                    _ => return None,
                };
                match self.lookup_item(&path) {
                    Some(ItemRef::Const(c)) => {
                        let v = self.const_value(c)?;
                        self.out.consts[v as usize].clone()
                    }
                    _ => return self.not_constant(e, "only other constants can be used here"),
                }
            }
            ExprKind::Unary(op, inner) => match (op, self.eval_const(inner)?) {
                (UnOp::Neg, Int(n)) => Int(n.wrapping_neg()),
                (UnOp::Neg, Float(x)) => Float(-x),
                (UnOp::Not, Bool(b)) => Bool(!b),
                (_, v) => return self.const_operand(e, &v.ty()),
            },
            ExprKind::Binary(op, l, r) => {
                let (a, b) = (self.eval_const(l)?, self.eval_const(r)?);
                match const_binary(*op, &a, &b) {
                    Ok(v) => v,
                    Err(why) => return self.not_constant(e, why),
                }
            }
            _ => return self.not_constant(e, "computed at run time"),
        };
        Some(v)
    }

    fn const_operand(&mut self, e: &Expr, t: &Type) -> Option<ConstValue> {
        self.not_constant(e, &format!("this operator does not apply to a `{t}`"))
    }

    fn not_constant(&mut self, e: &Expr, why: &str) -> Option<ConstValue> {
        self.error(
            Diagnostic::error(
                DiagId::ConstNotConstant,
                "a `const` needs a value known at compile time",
            )
            .with_label(e.span, why.to_string())
            .with_note("use `let` for a value computed when the program starts"),
        );
        None
    }
}

/// `a op b` on constants, as the program would compute it at run time.
fn const_binary(op: BinOp, a: &ConstValue, b: &ConstValue) -> Result<ConstValue, &'static str> {
    use BinOp::*;
    use ConstValue::*;
    Ok(match (a, b) {
        (Int(x), Int(y)) => {
            let (x, y) = (*x, *y);
            match op {
                Add => Int(x.wrapping_add(y)),
                Sub => Int(x.wrapping_sub(y)),
                Mul => Int(x.wrapping_mul(y)),
                Div | Rem if y == 0 => return Err("division by zero"),
                Div => Int(x.wrapping_div(y)),
                Rem => Int(x.wrapping_rem(y)),
                BitAnd => Int(x & y),
                BitOr => Int(x | y),
                BitXor => Int(x ^ y),
                Shl => Int(x.wrapping_shl((y & 63) as u32)),
                Shr => Int(x.wrapping_shr((y & 63) as u32)),
                UShr => Int(((x as u64) >> (y & 63)) as i64),
                Eq => Bool(x == y),
                Ne => Bool(x != y),
                Lt => Bool(x < y),
                Le => Bool(x <= y),
                Gt => Bool(x > y),
                Ge => Bool(x >= y),
                And | Or => return Err("`&&` and `||` take `bool`s"),
            }
        }
        (Float(x), Float(y)) => {
            let (x, y) = (*x, *y);
            match op {
                Add => Float(x + y),
                Sub => Float(x - y),
                Mul => Float(x * y),
                Div => Float(x / y),
                Rem => Float(x % y),
                Eq => Bool(x == y),
                Ne => Bool(x != y),
                Lt => Bool(x < y),
                Le => Bool(x <= y),
                Gt => Bool(x > y),
                Ge => Bool(x >= y),
                _ => return Err("this operator does not apply to `float`s"),
            }
        }
        (Bool(x), Bool(y)) => match op {
            And => Bool(*x && *y),
            Or => Bool(*x || *y),
            BitAnd => Bool(x & y),
            BitOr => Bool(x | y),
            BitXor => Bool(x ^ y),
            Eq => Bool(x == y),
            Ne => Bool(x != y),
            _ => return Err("this operator does not apply to `bool`s"),
        },
        (Str(x), Str(y)) => match op {
            Add => Str(format!("{x}{y}")),
            Eq => Bool(x == y),
            Ne => Bool(x != y),
            Lt => Bool(x < y),
            Le => Bool(x <= y),
            Gt => Bool(x > y),
            Ge => Bool(x >= y),
            _ => return Err("this operator does not apply to `string`s"),
        },
        _ => return Err("both sides must have the same type"),
    })
}
