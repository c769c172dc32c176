//! Name resolution and type checking.
//!
//! Walks the AST once per function, giving every expression a `Type`, every
//! local variable a `LocalId` and every name and call a resolution, all kept
//! in side tables (`Typed`) keyed by `ExprId` or declaration span, so codegen
//! reads the tree plus these tables instead of a second tree. Errors are
//! collected, not thrown; an erroneous expression gets `Type::Error`, which
//! unifies with everything so one mistake does not cascade.
//!
//! Parts of the language that later phases do not implement yet are parsed but
//! rejected here with `error[unsupported]`, never silently miscompiled.

use crate::ast::*;
use crate::diagnostics::Diagnostic;
use std::collections::HashMap;
use std::fmt;

#[derive(Clone, Debug, PartialEq)]
pub enum Type {
    Int,
    Float,
    Bool,
    /// A string; for now only constants exist (GC strings come with the core issue).
    Str,
    /// The type of statements and of functions without `-> T`.
    Unit,
    /// The type of expressions that never complete (`exit(1)`, `return`).
    Never,
    /// Stands in after an error so it is reported once.
    Error,
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Type::Int => "int",
            Type::Float => "float",
            Type::Bool => "bool",
            Type::Str => "string",
            Type::Unit => "()",
            Type::Never => "never",
            Type::Error => "{error}",
        };
        f.write_str(s)
    }
}

impl Type {
    /// Whether a value of type `self` can be used where `expected` is wanted.
    fn fits(&self, expected: &Type) -> bool {
        self == expected || matches!(self, Type::Never | Type::Error) || *expected == Type::Error
    }
    fn is_numeric(&self) -> bool {
        matches!(self, Type::Int | Type::Float | Type::Error | Type::Never)
    }
}

pub type LocalId = u32;
pub type FnId = u32;

#[derive(Debug)]
pub struct LocalInfo {
    pub name: String,
    pub ty: Type,
    pub mutable: bool,
}

#[derive(Debug)]
pub struct FnInfo {
    pub name: String,
    pub params: Vec<LocalId>,
    pub param_types: Vec<Type>,
    pub ret: Type,
    pub span: Span,
}

/// What a name in an expression refers to.
#[derive(Clone, Copy, Debug)]
pub enum Res {
    Local(LocalId),
    /// Read once functions are values (closures land with the core issue).
    #[allow(dead_code)]
    Fn(FnId),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Builtin {
    Print,
    Println,
    Eprintln,
    Exit,
    /// `int(x)`
    ToInt,
    /// `float(x)`
    ToFloat,
}

#[derive(Clone, Copy, Debug)]
pub enum Callee {
    Fn(FnId),
    Builtin(Builtin),
}

/// Everything codegen needs to know beyond the AST.
#[derive(Default, Debug)]
pub struct Typed {
    pub expr_types: Vec<Type>,
    pub names: HashMap<ExprId, Res>,
    pub calls: HashMap<ExprId, Callee>,
    /// The local declared by a `let`, `for` or parameter, keyed by its name's span.
    pub decls: HashMap<Span, LocalId>,
    pub locals: Vec<LocalInfo>,
    pub fns: Vec<FnInfo>,
    /// Index into `fns` of `main`.
    pub main: Option<FnId>,
    /// The `FnDecl` (item index) each `FnId` was made from.
    pub fn_items: Vec<usize>,
}

impl Typed {
    pub fn ty(&self, e: &Expr) -> &Type {
        &self.expr_types[e.id as usize]
    }
}

pub fn check(module: &Module, expr_count: u32) -> (Typed, Vec<Diagnostic>) {
    let mut cx = Checker {
        out: Typed {
            expr_types: vec![Type::Error; expr_count as usize],
            ..Typed::default()
        },
        diags: Vec::new(),
        fn_names: HashMap::new(),
        scopes: Vec::new(),
        ret: Type::Unit,
        loops: Vec::new(),
    };
    cx.declare_items(module);
    for (fn_id, &item) in cx.out.fn_items.clone().iter().enumerate() {
        if let Item::Fn(f) = &module.items[item] {
            cx.check_fn(fn_id as FnId, f);
        }
    }
    (cx.out, cx.diags)
}

struct Checker {
    out: Typed,
    diags: Vec<Diagnostic>,
    fn_names: HashMap<String, FnId>,
    scopes: Vec<HashMap<String, LocalId>>,
    ret: Type,
    /// For each enclosing loop: whether a `break` leaves it.
    loops: Vec<bool>,
}

fn unsupported(what: &str, span: Span) -> Diagnostic {
    Diagnostic::error("unsupported", format!("{what} is not supported yet"))
        .with_label(span, "not supported by this version of weft")
}

impl Checker {
    fn error(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    fn declare_items(&mut self, module: &Module) {
        for (index, item) in module.items.iter().enumerate() {
            match item {
                Item::Fn(f) => {
                    if f.kind != FnKind::Plain {
                        let what = if f.kind == FnKind::Async {
                            "`async fn`"
                        } else {
                            "`gen fn`"
                        };
                        self.error(unsupported(what, f.name.span));
                    }
                    if let Some(&prev) = self.fn_names.get(&f.name.name) {
                        let prev_span = self.out.fns[prev as usize].span;
                        self.error(
                            Diagnostic::error(
                                "duplicate-definition",
                                format!("the function `{}` is defined twice", f.name.name),
                            )
                            .with_label(f.name.span, "redefined here")
                            .with_label(prev_span, "first defined here"),
                        );
                        continue;
                    }
                    let param_types = f
                        .params
                        .iter()
                        .map(|p| match &p.ty {
                            Some(t) => self.resolve_type(t),
                            None => {
                                self.error(unsupported("`self` outside an `impl`", p.span));
                                Type::Error
                            }
                        })
                        .collect();
                    let ret = match &f.ret {
                        Some(t) => self.resolve_type(t),
                        None => Type::Unit,
                    };
                    let id = self.out.fns.len() as FnId;
                    self.out.fns.push(FnInfo {
                        name: f.name.name.clone(),
                        params: Vec::new(),
                        param_types,
                        ret,
                        span: f.name.span,
                    });
                    self.out.fn_items.push(index);
                    self.fn_names.insert(f.name.name.clone(), id);
                    if f.name.name == "main" {
                        self.out.main = Some(id);
                        let info = &self.out.fns[id as usize];
                        if !f.params.is_empty() || info.ret != Type::Unit {
                            self.error(
                                Diagnostic::error("invalid-main", "`main` takes no parameters and returns nothing")
                                    .with_label(f.name.span, "declared here")
                                    .with_note("use `args()` for command-line arguments and `exit(n)` for the status"),
                            );
                        }
                    }
                }
                Item::Import(i) => self.error(unsupported("`import`", i.span)),
                Item::Struct(s) => self.error(unsupported("`struct`", s.name.span)),
                Item::Enum(e) => self.error(unsupported("`enum`", e.name.span)),
                Item::Impl(i) => self.error(unsupported("`impl`", i.target.span)),
            }
        }
        if self.out.main.is_none() {
            self.error(
                Diagnostic::error("missing-main", "this program has no `main` function")
                    .with_label(Span::new(0, 0, 0), "expected `fn main()` in this file"),
            );
        }
    }

    fn resolve_type(&mut self, t: &TypeExpr) -> Type {
        match t {
            TypeExpr::Named { path, args, span } if path.len() == 1 && args.is_empty() => {
                match path[0].name.as_str() {
                    "int" => Type::Int,
                    "float" => Type::Float,
                    "bool" => Type::Bool,
                    "string" => Type::Str,
                    "Map" | "Task" | "Chan" | "Gen" => {
                        self.error(unsupported(&format!("the type `{}`", path[0].name), *span));
                        Type::Error
                    }
                    name => {
                        self.error(
                            Diagnostic::error("unknown-type", format!("unknown type `{name}`"))
                                .with_label(*span, "not a type in scope"),
                        );
                        Type::Error
                    }
                }
            }
            TypeExpr::Named { span, .. } => {
                self.error(unsupported("this type", *span));
                Type::Error
            }
            TypeExpr::Array(_, span) => {
                self.error(unsupported("the array type", *span));
                Type::Error
            }
            TypeExpr::Optional(_, span) => {
                self.error(unsupported("the optional type", *span));
                Type::Error
            }
            TypeExpr::Func { span, .. } => {
                self.error(unsupported("the function type", *span));
                Type::Error
            }
        }
    }

    fn new_local(&mut self, name: &Ident, ty: Type, mutable: bool) -> LocalId {
        let id = self.out.locals.len() as LocalId;
        self.out.locals.push(LocalInfo {
            name: name.name.clone(),
            ty,
            mutable,
        });
        self.out.decls.insert(name.span, id);
        if let Some(scope) = self.scopes.last_mut() {
            scope.insert(name.name.clone(), id);
        }
        id
    }

    fn lookup_local(&self, name: &str) -> Option<LocalId> {
        self.scopes.iter().rev().find_map(|s| s.get(name).copied())
    }

    fn check_fn(&mut self, id: FnId, f: &FnDecl) {
        self.scopes.push(HashMap::new());
        let info = &self.out.fns[id as usize];
        self.ret = info.ret.clone();
        let param_types = info.param_types.clone();
        let mut params = Vec::new();
        for (p, ty) in f.params.iter().zip(param_types) {
            params.push(self.new_local(&p.name, ty, false));
        }
        self.out.fns[id as usize].params = params;
        let (_, diverges) = self.check_block(&f.body, false);
        if !diverges && !matches!(self.ret, Type::Unit | Type::Error) {
            let end = Span {
                start: f.body.span.end.saturating_sub(1),
                ..f.body.span
            };
            self.error(
                Diagnostic::error(
                    "missing-return",
                    format!(
                        "function `{}` may end without returning a `{}`",
                        f.name.name, self.ret
                    ),
                )
                .with_label(end, "the end of the function can be reached")
                .with_label(
                    f.ret.as_ref().map(|t| t.span()).unwrap_or(f.name.span),
                    "declared to return a value",
                ),
            );
        }
        self.scopes.pop();
    }

    /// Checks a block; returns the type of its value (its trailing expression
    /// when `want_value`) and whether control can never leave its end.
    fn check_block(&mut self, block: &Block, want_value: bool) -> (Type, bool) {
        self.scopes.push(HashMap::new());
        let mut diverges = false;
        let mut value = Type::Unit;
        let last = block.stmts.len().saturating_sub(1);
        for (i, stmt) in block.stmts.iter().enumerate() {
            if want_value && i == last {
                if let Stmt::Expr(e) = stmt {
                    value = self.check_expr(e, true);
                    diverges |= value == Type::Never;
                    continue;
                }
            }
            diverges |= self.check_stmt(stmt);
        }
        self.scopes.pop();
        if diverges {
            value = Type::Never;
        }
        (value, diverges)
    }

    /// Returns whether the statement never completes normally.
    fn check_stmt(&mut self, stmt: &Stmt) -> bool {
        match stmt {
            Stmt::Let {
                mutable,
                name,
                ty,
                value,
                ..
            } => {
                let declared = ty.as_ref().map(|t| self.resolve_type(t));
                let actual = self.check_expr(value, true);
                let ty = match declared {
                    Some(d) => {
                        self.expect(&actual, &d, value.span);
                        d
                    }
                    None => {
                        if actual == Type::Unit {
                            self.error(
                                Diagnostic::error(
                                    "no-value",
                                    "this expression has no value to bind",
                                )
                                .with_label(value.span, "produces no value"),
                            );
                        }
                        if actual == Type::Never {
                            Type::Error
                        } else {
                            actual.clone()
                        }
                    }
                };
                self.new_local(name, ty, *mutable);
                actual == Type::Never
            }
            Stmt::Assign {
                target,
                op,
                value,
                span,
            } => {
                let target_ty = match &target.kind {
                    ExprKind::Name(name) => match self.lookup_local(name) {
                        Some(id) => {
                            self.out.names.insert(target.id, Res::Local(id));
                            let info = &self.out.locals[id as usize];
                            let ty = info.ty.clone();
                            if !info.mutable {
                                let decl = self
                                    .out
                                    .decls
                                    .iter()
                                    .find(|(_, &l)| l == id)
                                    .map(|(s, _)| *s);
                                let mut d = Diagnostic::error(
                                    "assign-to-immutable",
                                    format!("cannot assign twice to immutable variable `{name}`"),
                                )
                                .with_label(target.span, "cannot assign to a `let` binding");
                                if let Some(decl) = decl {
                                    d = d.with_label(
                                        decl,
                                        "declared with `let` here; use `var` to make it mutable",
                                    );
                                }
                                self.error(d);
                            }
                            ty
                        }
                        None => {
                            self.check_expr(target, true);
                            Type::Error
                        }
                    },
                    ExprKind::Index(..) | ExprKind::Field(..) => {
                        self.error(unsupported(
                            "assignment to an element or field",
                            target.span,
                        ));
                        Type::Error
                    }
                    _ => {
                        self.error(
                            Diagnostic::error(
                                "invalid-assignment-target",
                                "cannot assign to this expression",
                            )
                            .with_label(target.span, "not a variable, element or field"),
                        );
                        Type::Error
                    }
                };
                if target_ty != Type::Error {
                    self.out.expr_types[target.id as usize] = target_ty.clone();
                }
                let value_ty = self.check_expr(value, true);
                match op {
                    None => self.expect(&value_ty, &target_ty, value.span),
                    Some(op) => {
                        self.binary_type(
                            *op,
                            &target_ty,
                            &value_ty,
                            *span,
                            target.span,
                            value.span,
                        );
                    }
                }
                value_ty == Type::Never
            }
            Stmt::Expr(e) => self.check_expr(e, false) == Type::Never,
            Stmt::While { cond, body, .. } => {
                let t = self.check_expr(cond, true);
                self.expect(&t, &Type::Bool, cond.span);
                self.loops.push(false);
                self.check_block(body, false);
                self.loops.pop();
                false
            }
            Stmt::Loop { body, .. } => {
                self.loops.push(false);
                self.check_block(body, false);
                let broke = self.loops.pop().unwrap_or(false);
                !broke
            }
            Stmt::For {
                var, iter, body, ..
            } => {
                let elem = match &iter.kind {
                    ExprKind::Range { start, end, .. } => {
                        let a = self.check_expr(start, true);
                        let b = self.check_expr(end, true);
                        self.expect(&a, &Type::Int, start.span);
                        self.expect(&b, &Type::Int, end.span);
                        self.out.expr_types[iter.id as usize] = Type::Unit;
                        Type::Int
                    }
                    _ => {
                        self.check_expr(iter, true);
                        self.error(unsupported(
                            "`for` over anything but a range `a..b`",
                            iter.span,
                        ));
                        Type::Error
                    }
                };
                self.scopes.push(HashMap::new());
                self.new_local(var, elem, false);
                self.loops.push(false);
                self.check_block(body, false);
                self.loops.pop();
                self.scopes.pop();
                false
            }
            Stmt::Break(span) | Stmt::Continue(span) => {
                match self.loops.last_mut() {
                    Some(broke) => {
                        if matches!(stmt, Stmt::Break(_)) {
                            *broke = true;
                        }
                    }
                    None => {
                        let word = if matches!(stmt, Stmt::Break(_)) {
                            "break"
                        } else {
                            "continue"
                        };
                        self.error(
                            Diagnostic::error(
                                "break-outside-loop",
                                format!("`{word}` outside of a loop"),
                            )
                            .with_label(*span, "not inside `while`, `loop` or `for`"),
                        );
                    }
                }
                true
            }
            Stmt::Return(value, span) => {
                let ret = self.ret.clone();
                match value {
                    Some(v) => {
                        let t = self.check_expr(v, true);
                        if ret == Type::Unit && t != Type::Error {
                            self.error(
                                Diagnostic::error(
                                    "return-value-in-unit-fn",
                                    "this function does not return a value",
                                )
                                .with_label(
                                    v.span,
                                    "remove this value, or declare `-> T` on the function",
                                ),
                            );
                        } else {
                            self.expect(&t, &ret, v.span);
                        }
                    }
                    None => {
                        if !matches!(ret, Type::Unit | Type::Error) {
                            self.error(
                                Diagnostic::error(
                                    "missing-return-value",
                                    format!("this function must return a `{ret}`"),
                                )
                                .with_label(*span, "`return` without a value"),
                            );
                        }
                    }
                }
                true
            }
            Stmt::WhileLet { span, .. } => {
                self.error(unsupported("`while let`", *span));
                false
            }
            Stmt::Yield(_, span) => {
                self.error(
                    Diagnostic::error("yield-outside-gen", "`yield` outside of a `gen fn`")
                        .with_label(*span, "only generators can yield"),
                );
                false
            }
            Stmt::Defer(_, span) => {
                self.error(unsupported("`defer`", *span));
                false
            }
        }
    }

    fn expect(&mut self, actual: &Type, expected: &Type, span: Span) {
        if !actual.fits(expected) {
            self.error(
                Diagnostic::error(
                    "type-mismatch",
                    format!("expected `{expected}`, found `{actual}`"),
                )
                .with_label(span, format!("this is a `{actual}`")),
            );
        }
    }

    fn set(&mut self, e: &Expr, t: Type) -> Type {
        self.out.expr_types[e.id as usize] = t.clone();
        t
    }

    /// `want_value`: the expression's value is used (an `if` must then have an `else`).
    fn check_expr(&mut self, e: &Expr, want_value: bool) -> Type {
        let t = self.expr_type(e, want_value);
        self.set(e, t)
    }

    fn expr_type(&mut self, e: &Expr, want_value: bool) -> Type {
        match &e.kind {
            ExprKind::Int(_) => Type::Int,
            ExprKind::Float(_) => Type::Float,
            ExprKind::Bool(_) => Type::Bool,
            ExprKind::Str(parts) => {
                if parts.iter().any(|p| matches!(p, StrPart::Expr(_))) {
                    self.error(unsupported("string interpolation", e.span));
                }
                Type::Str
            }
            ExprKind::Name(name) => {
                if let Some(id) = self.lookup_local(name) {
                    self.out.names.insert(e.id, Res::Local(id));
                    return self.out.locals[id as usize].ty.clone();
                }
                if let Some(&f) = self.fn_names.get(name) {
                    self.out.names.insert(e.id, Res::Fn(f));
                    self.error(unsupported("a function used as a value", e.span));
                    return Type::Error;
                }
                self.error(
                    Diagnostic::error(
                        "unknown-name",
                        format!("cannot find `{name}` in this scope"),
                    )
                    .with_label(e.span, "not found"),
                );
                Type::Error
            }
            ExprKind::Unary(op, inner) => {
                let t = self.check_expr(inner, true);
                match (op, &t) {
                    (_, Type::Error | Type::Never) => t,
                    (UnOp::Neg, Type::Int | Type::Float) => t,
                    (UnOp::Not, Type::Bool) => t,
                    (UnOp::Not, Type::Int) => Type::Int,
                    _ => {
                        let sym = if *op == UnOp::Neg { "-" } else { "!" };
                        self.error(
                            Diagnostic::error(
                                "invalid-operand",
                                format!("cannot apply unary `{sym}` to `{t}`"),
                            )
                            .with_label(inner.span, format!("this is a `{t}`")),
                        );
                        Type::Error
                    }
                }
            }
            ExprKind::Binary(op, l, r) => {
                let lt = self.check_expr(l, true);
                let rt = self.check_expr(r, true);
                self.binary_type(*op, &lt, &rt, e.span, l.span, r.span)
            }
            ExprKind::Call(callee, args) => self.check_call(e, callee, args),
            ExprKind::If { cond, then, els } => {
                let c = self.check_expr(cond, true);
                self.expect(&c, &Type::Bool, cond.span);
                let (tt, tdiv) = self.check_block(then, want_value);
                match els {
                    None => {
                        if want_value && tt != Type::Unit && tt != Type::Never {
                            self.error(
                                Diagnostic::error(
                                    "if-without-else",
                                    "`if` used as a value needs an `else`",
                                )
                                .with_label(e.span, "this `if` has no `else` branch"),
                            );
                        }
                        Type::Unit
                    }
                    Some(els) => {
                        let et = self.check_expr(els, want_value);
                        if !want_value {
                            return if tdiv && et == Type::Never {
                                Type::Never
                            } else {
                                Type::Unit
                            };
                        }
                        if tt == Type::Never {
                            et
                        } else if et == Type::Never || et.fits(&tt) {
                            tt
                        } else {
                            self.error(
                                Diagnostic::error(
                                    "branch-type-mismatch",
                                    "`if` and `else` have different types",
                                )
                                .with_label(els.span, format!("this is a `{et}`"))
                                .with_label(then.span, format!("this is a `{tt}`")),
                            );
                            Type::Error
                        }
                    }
                }
            }
            ExprKind::Block(b) => self.check_block(b, want_value).0,
            ExprKind::Error => Type::Error,
            ExprKind::Nil => {
                self.error(unsupported("`nil` (optionals)", e.span));
                Type::Error
            }
            ExprKind::Array(_) | ExprKind::Construct(..) => {
                self.error(unsupported("arrays, maps and channels", e.span));
                Type::Error
            }
            ExprKind::StructLit { .. } => {
                self.error(unsupported("struct literals", e.span));
                Type::Error
            }
            ExprKind::Field(..) => {
                self.error(unsupported("fields and methods", e.span));
                Type::Error
            }
            ExprKind::Index(..) => {
                self.error(unsupported("indexing", e.span));
                Type::Error
            }
            ExprKind::Unwrap(_) => {
                self.error(unsupported("`!` (optionals)", e.span));
                Type::Error
            }
            ExprKind::Range { .. } => {
                self.error(
                    Diagnostic::error(
                        "range-outside-for",
                        "a range can only be used in a `for` loop",
                    )
                    .with_label(e.span, "write `for i in a..b { }`"),
                );
                Type::Error
            }
            ExprKind::IfLet { .. } => {
                self.error(unsupported("`if let`", e.span));
                Type::Error
            }
            ExprKind::Match(..) => {
                self.error(unsupported("`match`", e.span));
                Type::Error
            }
            ExprKind::Closure { .. } => {
                self.error(unsupported("closures", e.span));
                Type::Error
            }
            ExprKind::Await(_) => {
                self.error(
                    Diagnostic::error("await-outside-async", "`await` outside of an `async fn`")
                        .with_label(e.span, "only async functions can await"),
                );
                Type::Error
            }
            ExprKind::Spawn(_) => {
                self.error(unsupported("`spawn`", e.span));
                Type::Error
            }
            ExprKind::Select(_) => {
                self.error(unsupported("`select`", e.span));
                Type::Error
            }
        }
    }

    fn binary_type(
        &mut self,
        op: BinOp,
        lt: &Type,
        rt: &Type,
        span: Span,
        lspan: Span,
        rspan: Span,
    ) -> Type {
        use BinOp::*;
        if matches!(lt, Type::Error) || matches!(rt, Type::Error) {
            return match op {
                Eq | Ne | Lt | Le | Gt | Ge | And | Or => Type::Bool,
                _ => Type::Error,
            };
        }
        let mismatch = |cx: &mut Checker, what: &str| {
            cx.error(
                Diagnostic::error(
                    "invalid-operand",
                    format!("cannot apply `{}` to `{lt}` and `{rt}`", op.symbol()),
                )
                .with_label(span, what.to_string())
                .with_label(lspan, format!("`{lt}`"))
                .with_label(rspan, format!("`{rt}`")),
            );
            Type::Error
        };
        let same = lt == rt || *lt == Type::Never || *rt == Type::Never;
        let operand = if *lt == Type::Never { rt } else { lt };
        match op {
            Add | Sub | Mul | Div | Rem => {
                if same && operand.is_numeric() {
                    operand.clone()
                } else if *lt == Type::Str || *rt == Type::Str {
                    self.error(unsupported("string operations", span));
                    Type::Error
                } else {
                    mismatch(self, "both sides must be `int` or both `float` (convert with `float(x)` or `int(x)`)")
                }
            }
            Lt | Le | Gt | Ge => {
                if same && operand.is_numeric() {
                    Type::Bool
                } else {
                    mismatch(self, "both sides must be `int` or both `float`")
                }
            }
            Eq | Ne => {
                if same && matches!(operand, Type::Int | Type::Float | Type::Bool | Type::Never) {
                    Type::Bool
                } else if same && *operand == Type::Str {
                    self.error(unsupported("string comparison", span));
                    Type::Bool
                } else {
                    mismatch(self, "both sides must have the same type")
                }
            }
            And | Or => {
                if same && matches!(operand, Type::Bool | Type::Never) {
                    Type::Bool
                } else {
                    mismatch(self, "both sides must be `bool`")
                }
            }
            BitAnd | BitOr | BitXor => {
                if same && matches!(operand, Type::Int | Type::Bool | Type::Never) {
                    operand.clone()
                } else {
                    mismatch(self, "both sides must be `int` or both `bool`")
                }
            }
            Shl | Shr => {
                if same && matches!(operand, Type::Int | Type::Never) {
                    Type::Int
                } else {
                    mismatch(self, "both sides must be `int`")
                }
            }
        }
    }

    fn check_call(&mut self, e: &Expr, callee: &Expr, args: &[Expr]) -> Type {
        let name = match &callee.kind {
            ExprKind::Name(n) if self.lookup_local(n).is_none() => n.as_str(),
            _ => {
                self.check_expr(callee, true);
                for a in args {
                    self.check_expr(a, true);
                }
                if !matches!(callee.kind, ExprKind::Name(_)) {
                    self.error(unsupported("calling this kind of expression", callee.span));
                }
                return Type::Error;
            }
        };
        let arg_types: Vec<Type> = args.iter().map(|a| self.check_expr(a, true)).collect();
        if let Some(&f) = self.fn_names.get(name) {
            self.out.names.insert(callee.id, Res::Fn(f));
            self.out.calls.insert(e.id, Callee::Fn(f));
            let info = &self.out.fns[f as usize];
            let params = info.param_types.clone();
            let ret = info.ret.clone();
            let decl = info.span;
            if params.len() != args.len() {
                self.error(
                    Diagnostic::error(
                        "wrong-argument-count",
                        format!(
                            "`{name}` takes {} argument{} but {} {} given",
                            params.len(),
                            if params.len() == 1 { "" } else { "s" },
                            args.len(),
                            if args.len() == 1 { "was" } else { "were" }
                        ),
                    )
                    .with_label(e.span, "wrong number of arguments")
                    .with_label(decl, "defined here"),
                );
            } else {
                for ((t, p), a) in arg_types.iter().zip(&params).zip(args) {
                    self.expect(t, p, a.span);
                }
            }
            return ret;
        }
        let builtin = match name {
            "print" => Builtin::Print,
            "println" => Builtin::Println,
            "eprintln" => Builtin::Eprintln,
            "exit" => Builtin::Exit,
            "int" => Builtin::ToInt,
            "float" => Builtin::ToFloat,
            _ => {
                let known_later = ["str", "len", "assert", "panic", "args"];
                if known_later.contains(&name) {
                    self.error(unsupported(&format!("the built-in `{name}`"), callee.span));
                } else {
                    self.error(
                        Diagnostic::error(
                            "unknown-name",
                            format!("cannot find function `{name}` in this scope"),
                        )
                        .with_label(callee.span, "not found"),
                    );
                }
                return Type::Error;
            }
        };
        self.out.calls.insert(e.id, Callee::Builtin(builtin));
        let (min, max) = match builtin {
            Builtin::Println | Builtin::Eprintln => (0, 1),
            _ => (1, 1),
        };
        if args.len() < min || args.len() > max {
            self.error(
                Diagnostic::error(
                    "wrong-argument-count",
                    format!(
                        "`{name}` takes {} argument{} but {} {} given",
                        max,
                        if max == 1 { "" } else { "s" },
                        args.len(),
                        if args.len() == 1 { "was" } else { "were" }
                    ),
                )
                .with_label(e.span, "wrong number of arguments"),
            );
            return match builtin {
                Builtin::Exit => Type::Never,
                Builtin::ToInt => Type::Int,
                Builtin::ToFloat => Type::Float,
                _ => Type::Unit,
            };
        }
        match builtin {
            Builtin::Print | Builtin::Println | Builtin::Eprintln => {
                if let (Some(t), Some(a)) = (arg_types.first(), args.first()) {
                    if matches!(t, Type::Unit) {
                        self.error(
                            Diagnostic::error("no-value", "this expression has no value to print")
                                .with_label(a.span, "produces no value"),
                        );
                    }
                }
                Type::Unit
            }
            Builtin::Exit => {
                self.expect(&arg_types[0], &Type::Int, args[0].span);
                Type::Never
            }
            Builtin::ToInt | Builtin::ToFloat => {
                if !matches!(
                    arg_types[0],
                    Type::Int | Type::Float | Type::Error | Type::Never
                ) {
                    let t = &arg_types[0];
                    self.error(
                        Diagnostic::error(
                            "invalid-conversion",
                            format!("cannot convert `{t}` with `{name}`"),
                        )
                        .with_label(args[0].span, "expected an `int` or a `float`"),
                    );
                }
                if builtin == Builtin::ToInt {
                    Type::Int
                } else {
                    Type::Float
                }
            }
        }
    }
}
