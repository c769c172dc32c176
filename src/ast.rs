//! The syntax tree the parser produces for one source file.
//!
//! It covers the whole grammar of LANGUAGE.md, including the parts that later
//! phases do not give meaning to yet (those report `unsupported` in `types`),
//! so adding a feature touches the checker and codegen, not the parser.
//! Every node carries a `Span`; expressions also carry an `ExprId` that the
//! type checker uses to attach types without rebuilding the tree.

// The tree describes the whole language; later phases read more of it as
// features land, so parts of it are not read yet.
#![expect(
    dead_code,
    reason = "spans of declarations not yet read by any diagnostic"
)]

/// A byte range in one source file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Hash)]
pub struct Span {
    pub file: u32,
    pub start: u32,
    pub end: u32,
    /// Which copy of the text this is: 0 for the source as parsed, else the
    /// instance of a generic function re-parsed for one set of type
    /// arguments, so that tables keyed by span tell the copies apart.
    pub instance: u32,
}

impl Span {
    pub fn new(file: u32, start: usize, end: usize) -> Span {
        Span {
            file,
            start: start as u32,
            end: end as u32,
            instance: 0,
        }
    }
    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span {
            file: self.file,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
            instance: self.instance,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// One parsed file.
#[derive(Debug, Default)]
pub struct Module {
    pub items: Vec<Item>,
}

#[derive(Debug)]
pub enum Item {
    Import(Import),
    Fn(FnDecl),
    Struct(StructDecl),
    Enum(EnumDecl),
    Impl(ImplDecl),
    Extern(ExternFn),
    Global(GlobalDecl),
    Interface(InterfaceDecl),
}

/// `interface Shape { fn area(self) -> float  fn name(self) -> string }`.
#[derive(Debug)]
pub struct InterfaceDecl {
    pub name: Ident,
    pub methods: Vec<MethodSig>,
    pub span: Span,
}

/// A method's signature in an interface: `fn area(self) -> float`.
#[derive(Debug)]
pub struct MethodSig {
    pub kind: FnKind,
    pub name: Ident,
    /// Without the leading `self` (every interface method takes it).
    pub params: Vec<Param>,
    pub ret: Option<TypeExpr>,
    pub span: Span,
}

/// `T: Shape` (or `T: Shape + Display`) in a generic function's type
/// parameters: the index of the parameter, and the interfaces it needs.
#[derive(Clone, Debug)]
pub struct Bound {
    pub param: usize,
    pub interfaces: Vec<Vec<Ident>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GlobalKind {
    /// `const NAME = e`: a compile-time value.
    Const,
    /// `let name = e`: initialised once before `main`.
    Let,
    /// `var name = e`: the same, and assignable.
    Var,
}

/// A module-level `const`, `let` or `var`.
#[derive(Debug)]
pub struct GlobalDecl {
    pub kind: GlobalKind,
    pub name: Ident,
    pub ty: Option<TypeExpr>,
    pub value: Expr,
    pub span: Span,
}

/// `extern fn name(params) -> T`: a runtime function (its `weft_abi` name),
/// declared in a standard-library module, which may call it like a function.
#[derive(Debug)]
pub struct ExternFn {
    pub name: Ident,
    pub params: Vec<Param>,
    pub ret: Option<TypeExpr>,
    pub span: Span,
}

#[derive(Debug)]
pub struct Import {
    pub name: Ident,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FnKind {
    Plain,
    Async,
    Gen,
}

#[derive(Debug)]
pub struct Param {
    pub name: Ident,
    /// `None` only for `self` in a method.
    pub ty: Option<TypeExpr>,
    pub span: Span,
}

#[derive(Debug)]
pub struct FnDecl {
    pub kind: FnKind,
    pub name: Ident,
    /// `fn f[T, U](...)`: a generic function's type parameters.
    pub type_params: Vec<Ident>,
    /// `fn f[T: Shape](...)`: the interfaces some of them must implement.
    pub bounds: Vec<Bound>,
    pub params: Vec<Param>,
    pub ret: Option<TypeExpr>,
    pub body: Block,
    pub span: Span,
}

#[derive(Debug)]
pub struct Field {
    pub name: Ident,
    pub ty: TypeExpr,
}

#[derive(Debug)]
pub struct StructDecl {
    pub name: Ident,
    /// `struct Pair[A, B]`: a generic struct's type parameters.
    pub type_params: Vec<Ident>,
    pub fields: Vec<Field>,
    pub span: Span,
}

#[derive(Debug)]
pub struct Variant {
    pub name: Ident,
    pub payload: Vec<TypeExpr>,
    pub span: Span,
}

#[derive(Debug)]
pub struct EnumDecl {
    pub name: Ident,
    /// `enum Tree[T]`: a generic enum's type parameters.
    pub type_params: Vec<Ident>,
    pub variants: Vec<Variant>,
    pub span: Span,
}

#[derive(Debug)]
pub struct ImplDecl {
    /// `impl[T] Stack[T]`: the impl's type parameters ...
    pub type_params: Vec<Ident>,
    pub target: Ident,
    /// ... and the target's type arguments, which name them.
    pub target_args: Vec<TypeExpr>,
    /// `impl Shape for Circle`: the interface implemented (a path: `geo.Shape`).
    pub interface: Option<Vec<Ident>>,
    pub methods: Vec<FnDecl>,
    pub span: Span,
}

/// A format spec as written (`.3` in `{x:.3}`), parsed by `weft_abi::format`.
#[derive(Clone, Debug)]
pub struct FormatSpec {
    pub text: String,
    pub spec: weft_abi::format::Spec,
    pub span: Span,
}

/// A type as written in the source.
#[derive(Clone, Debug)]
pub enum TypeExpr {
    /// `int`, `S`, `time.Timer`, and generic heads such as `Map[string, int]`.
    Named {
        path: Vec<Ident>,
        args: Vec<TypeExpr>,
        span: Span,
    },
    /// `[T]`
    Array(Box<TypeExpr>, Span),
    /// `T?`
    Optional(Box<TypeExpr>, Span),
    /// `fn(int, int) -> int`, or `async fn(int) -> int`.
    Func {
        is_async: bool,
        params: Vec<TypeExpr>,
        ret: Option<Box<TypeExpr>>,
        span: Span,
    },
}

impl TypeExpr {
    pub fn span(&self) -> Span {
        match self {
            TypeExpr::Named { span, .. }
            | TypeExpr::Array(_, span)
            | TypeExpr::Optional(_, span)
            | TypeExpr::Func { span, .. } => *span,
        }
    }
}

#[derive(Debug)]
pub struct Block {
    pub stmts: Vec<Stmt>,
    pub span: Span,
}

#[derive(Debug)]
pub enum Stmt {
    Let {
        mutable: bool,
        name: Ident,
        ty: Option<TypeExpr>,
        value: Expr,
        span: Span,
    },
    /// `target = value` or `target op= value`.
    Assign {
        target: Expr,
        op: Option<BinOp>,
        value: Expr,
        span: Span,
    },
    Expr(Expr),
    While {
        cond: Expr,
        body: Block,
        span: Span,
    },
    /// `while let name = value { }`
    WhileLet {
        name: Ident,
        value: Expr,
        body: Block,
        span: Span,
    },
    Loop {
        body: Block,
        span: Span,
    },
    /// `for x in iterable { }`; ranges are `Expr::Range`.
    For {
        var: Ident,
        iter: Expr,
        body: Block,
        span: Span,
    },
    /// `break` or `break label`.
    Break(Option<Ident>, Span),
    Continue(Option<Ident>, Span),
    /// `label: while/for/loop ...`: `body` is the loop.
    Labeled {
        label: Ident,
        body: Box<Stmt>,
        span: Span,
    },
    Return(Option<Expr>, Span),
    Yield(Expr, Span),
    Defer(Expr, Span),
}

impl Stmt {
    pub fn span(&self) -> Span {
        match self {
            Stmt::Let { span, .. }
            | Stmt::Assign { span, .. }
            | Stmt::While { span, .. }
            | Stmt::WhileLet { span, .. }
            | Stmt::Loop { span, .. }
            | Stmt::For { span, .. }
            | Stmt::Break(_, span)
            | Stmt::Continue(_, span)
            | Stmt::Labeled { span, .. }
            | Stmt::Return(_, span)
            | Stmt::Yield(_, span)
            | Stmt::Defer(_, span) => *span,
            Stmt::Expr(e) => e.span,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
    BitAnd,
    BitOr,
    BitXor,
    Shl,
    Shr,
    /// `>>>`: shifts in zeros.
    UShr,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::And => "&&",
            BinOp::Or => "||",
            BinOp::BitAnd => "&",
            BinOp::BitOr => "|",
            BinOp::BitXor => "^",
            BinOp::Shl => "<<",
            BinOp::Shr => ">>",
            BinOp::UShr => ">>>",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    Neg,
    Not,
}

/// Index of an expression in its file, dense from 0; the checker's side tables use it.
pub type ExprId = u32;

#[derive(Debug)]
pub struct Expr {
    pub id: ExprId,
    pub kind: ExprKind,
    pub span: Span,
}

/// One piece of an interpolated string literal.
#[derive(Debug)]
pub enum StrPart {
    /// `{x:spec}`: the value formatted by a spec (`.3`, `08x`, `*^9`).
    Format(Expr, FormatSpec),
    Lit(String),
    Expr(Expr),
}

#[derive(Debug)]
pub struct MatchArm {
    pub pattern: Pattern,
    pub body: Expr,
    pub span: Span,
}

#[derive(Debug)]
pub enum Pattern {
    Wildcard(Span),
    /// A plain name: binds, unless it names a variant without payload.
    Binding(Ident),
    Int(i64, Span),
    Str(String, Span),
    Bool(bool, Span),
    Nil(Span),
    /// `Circle(r)` or `Shape.Circle(r)`
    Variant {
        path: Vec<Ident>,
        args: Vec<Pattern>,
        span: Span,
    },
}

#[derive(Debug)]
pub struct SelectArm {
    /// `default => { ... }`: runs when no other arm is ready (its `op` is
    /// an `Error` placeholder).
    pub is_default: bool,
    /// `v = ch.recv() => ...` binds `v`.
    pub binding: Option<Ident>,
    pub op: Expr,
    pub body: Block,
    pub span: Span,
}

#[derive(Debug)]
pub enum ExprKind {
    Int(i64),
    Float(f64),
    Bool(bool),
    Nil,
    /// A string literal; one `Lit` part when nothing is interpolated.
    Str(Vec<StrPart>),
    Name(String),
    Array(Vec<Expr>),
    /// `[v; n]`: `n` elements equal to `v` (evaluated once).
    Repeat(Box<Expr>, Box<Expr>),
    /// `Map[string, int](...)`, `[int]()`, `Chan[int](0)`: a type applied to arguments.
    Construct(TypeExpr, Vec<Expr>),
    StructLit {
        name: Vec<Ident>,
        /// `Pair[int, string] { ... }`: type arguments written out.
        type_args: Vec<TypeExpr>,
        fields: Vec<(Ident, Expr)>,
    },
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    Call(Box<Expr>, Vec<Expr>),
    Field(Box<Expr>, Ident),
    Index(Box<Expr>, Box<Expr>),
    /// `x!`
    Unwrap(Box<Expr>),
    /// `x?`: the value, or return early (nil, or the `Result`'s error).
    Try(Box<Expr>),
    /// `a..b` (exclusive) or `a..=b` (inclusive)
    Range {
        start: Box<Expr>,
        end: Box<Expr>,
        inclusive: bool,
    },
    If {
        cond: Box<Expr>,
        then: Block,
        els: Option<Box<Expr>>,
    },
    /// `if let name = value { } else { }`
    IfLet {
        name: Ident,
        value: Box<Expr>,
        then: Block,
        els: Option<Box<Expr>>,
    },
    Block(Block),
    Match(Box<Expr>, Vec<MatchArm>),
    /// `fn(x: int) -> int { ... }`, or `async fn(...) -> T { ... }`.
    Closure {
        is_async: bool,
        params: Vec<Param>,
        ret: Option<TypeExpr>,
        body: Block,
    },
    Await(Box<Expr>),
    Spawn(Box<Expr>),
    Select(Vec<SelectArm>),
    /// Produced where the parser recovered from an error.
    Error,
}
