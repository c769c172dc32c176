//! The typed IR (TIR): the checked program as one tree per function, in
//! which every expression carries its type and every name its resolution.
//!
//! `lower.rs` builds it from the ASTs and the checker's side tables
//! (`check::Typed`); `print.rs` prints it (`weft build --emit tir`, which
//! the lit tests in `lit/tir/` check). Every function the checker made is
//! here, generic instances included (each is its own function, with its
//! type parameters substituted). Compared with the AST: names are locals
//! (`LocalId`) or functions (`FnId`); calls carry the checker's `Callee`;
//! closures name the function they were lifted to and its captures; `for`
//! says what it iterates (a range, an array, a generator); the coercion of
//! a value to an optional is an explicit node.
//!
//! Codegen reads this tree, not the ASTs: every lookup in the checker's
//! tables keyed by expression id or span happens once, in `lower.rs`.
//! Still to come (issue 11): sugar desugared (`if let`, `while let`),
//! cleanup scopes and suspend points as nodes, and generic instances made
//! by substitution over this tree instead of by the checker re-parsing.

mod lower;
mod print;

pub use lower::lower;
pub use print::print;

use crate::ast::{BinOp, Span, UnOp};
use crate::check::{AwaitKind, Callee, FnId, GlobalId, LocalId, SelectOp, StructId, Type};

/// The whole checked program.
pub struct Program {
    pub fns: Vec<Function>,
}

pub struct Function {
    pub id: FnId,
    pub symbol: String,
    pub kind: FnKind,
    pub params: Vec<LocalId>,
    pub param_types: Vec<Type>,
    pub ret: Type,
    /// A closure's captured locals, in environment-slot order.
    pub captures: Vec<LocalId>,
    pub body: Block,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum FnKind {
    Plain,
    Closure,
    Async,
    /// A generator and the type it yields.
    Gen,
}

pub struct Block {
    pub stmts: Vec<Stmt>,
}

pub enum Iter {
    /// `a..b` (or `a..=b`).
    Range {
        start: Expr,
        end: Expr,
        inclusive: bool,
    },
    Array(Expr),
    Gen(Expr),
}

pub enum Stmt {
    Let {
        local: LocalId,
        value: Expr,
    },
    Assign {
        target: Expr,
        op: Option<BinOp>,
        value: Expr,
    },
    Expr(Expr),
    While {
        cond: Expr,
        body: Block,
    },
    /// `while let x = opt { }`: binds the unwrapped value while it is not nil.
    WhileLet {
        local: LocalId,
        value: Expr,
        body: Block,
    },
    Loop(Block),
    For {
        local: LocalId,
        iter: Iter,
        body: Block,
    },
    /// `break`: leaves the loop this many loops out from the innermost
    /// (0 for a plain `break`; a label resolved to its depth).
    Break(usize),
    Continue(usize),
    Return(Option<Expr>),
    Yield(Expr),
    Defer(Expr),
}

pub enum Pattern {
    Wildcard,
    Binding(LocalId),
    Int(i64),
    Str(String),
    Bool(bool),
    Nil,
    Variant {
        enum_id: StructId,
        tag: usize,
        args: Vec<Pattern>,
    },
}

pub struct Arm {
    pub pattern: Pattern,
    pub body: Expr,
}

pub struct SelectArm {
    pub binding: Option<LocalId>,
    /// What the arm waits for; `op` is its call.
    pub kind: SelectOp,
    pub op: Expr,
    pub body: Block,
}

pub enum StrPart {
    Lit(String),
    Expr(Expr),
    /// `{x:spec}`: the value and its spec's text (checked; the runtime
    /// parses it again to format).
    Format(Expr, String),
}

pub struct Expr {
    pub ty: Type,
    /// Where it is in the source: what a panic in it reports.
    pub span: Span,
    pub kind: ExprKind,
}

pub enum ExprKind {
    Int(i64),
    Float(f64),
    Bool(bool),
    Nil,
    Str(Vec<StrPart>),
    Local(LocalId),
    /// A named function used as a value.
    FnRef(FnId),
    /// A module variable (`let` or `var` at module level).
    Global(GlobalId),
    Array(Vec<Expr>),
    /// `[v; n]`: one array of `n` copies of `v`.
    Repeat(Box<Expr>, Box<Expr>),
    /// `[T]()`, `Map[K, V]()`, `Chan[T](n)`: the type is the expression's.
    Construct(Vec<Expr>),
    StructLit {
        struct_id: StructId,
        fields: Vec<(usize, Expr)>,
    },
    /// `E.V(args)` or the unit variant `E.V`.
    Variant {
        enum_id: StructId,
        tag: usize,
        args: Vec<Expr>,
    },
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// A call the checker resolved; for a method the receiver is `args[0]`'s
    /// base expression, kept as `receiver`.
    Call {
        callee: Callee,
        receiver: Option<Box<Expr>>,
        callee_expr: Option<Box<Expr>>,
        args: Vec<Expr>,
    },
    Field {
        base: Box<Expr>,
        index: usize,
    },
    Index(Box<Expr>, Box<Expr>),
    Unwrap(Box<Expr>),
    If {
        cond: Box<Expr>,
        then: Block,
        els: Option<Box<Expr>>,
    },
    IfLet {
        local: LocalId,
        value: Box<Expr>,
        then: Block,
        els: Option<Box<Expr>>,
    },
    Block(Block),
    Match(Box<Expr>, Vec<Arm>),
    /// A closure: the function it was lifted to (captures are on it).
    Closure(FnId),
    Await(AwaitKind, Box<Expr>),
    Spawn(Box<Expr>),
    /// `select`, and its `default` arm: with one it never waits.
    Select(Vec<SelectArm>, Option<Block>),
    /// `T` where `T?` is wanted.
    WrapOptional(Box<Expr>),
    /// A struct or enum value used as a value of an interface type (the
    /// expression's type): the same reference, whose descriptor leads to
    /// the method table.
    ToInterface(Box<Expr>),
    /// What the checker could not type (never in a program that compiles).
    Error,
}
