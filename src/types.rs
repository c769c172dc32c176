//! Name resolution and type checking for a whole program (the root file and
//! every module it imports).
//!
//! One walk per function gives every expression a `Type`, every local a
//! `LocalId`, and every name, call and coercion a resolution, all kept in side
//! tables (`Typed`) keyed by `ExprId` (unique across files) or declaration span,
//! so codegen reads the trees plus these tables instead of a second tree.
//! Errors are collected, not thrown; an erroneous expression gets
//! `Type::Error`, which fits everywhere so one mistake does not cascade.
//!
//! Closures are lambda-lifted here: each gets its own `FnId`, and a local it
//! uses from an enclosing function is marked `captured`, which makes codegen
//! keep that local in a heap cell shared by both (capture by reference).
//! Parts of the language that are parsed but not built yet (async, generators,
//! channels, select, defer, enums) are rejected with `error[unsupported]`.

use crate::ast::*;
use crate::diagnostics::Diagnostic;
use std::collections::HashMap;
use std::fmt;
use weft_abi::{AbiType, RuntimeFn};

/// The expectation of a context that uses a value but wants no particular
/// type (`Type::Error` fits everything); `None` means the value is unused.
const ANY: Option<&Type> = Some(&Type::Error);

/// How many generic instances deep one instantiation may go.
const MAX_INSTANCE_DEPTH: usize = 64;

/// The names `resolve_type` gives built-in meanings; no struct or enum may take one.
const BUILTIN_TYPE_NAMES: [&str; 8] = [
    "int", "float", "bool", "string", "Map", "Gen", "Task", "Chan",
];

pub type LocalId = u32;
pub type FnId = u32;
pub type StructId = u32;
pub type ModId = u32;

#[derive(Clone, Debug, PartialEq)]
pub enum Type {
    Int,
    Float,
    Bool,
    Str,
    Array(Box<Type>),
    Map(Box<Type>, Box<Type>),
    Optional(Box<Type>),
    Struct(StructId),
    /// An enum; its id indexes `Typed::structs` too (nominal types share one table).
    Enum(StructId),
    Func(Vec<Type>, Box<Type>),
    /// A generator of `T` (`Gen[T]`): a coroutine frame.
    Gen(Box<Type>),
    /// A running task (`Task[T]`): the coroutine frame of a spawned async call.
    Task(Box<Type>),
    /// A channel of `T` (`Chan[T]`): a runtime object.
    Chan(Box<Type>),
    /// The type of statements and of functions without `-> T`.
    Unit,
    /// The type of `nil` before it meets an optional.
    Nil,
    /// The type of expressions that never complete (`exit(1)`, `return`).
    Never,
    /// Stands in after an error so it is reported once.
    Error,
}

// Struct names for `Display`; filled in by the checker.
thread_local! {
    static STRUCT_NAMES: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Int => f.write_str("int"),
            Type::Float => f.write_str("float"),
            Type::Bool => f.write_str("bool"),
            Type::Str => f.write_str("string"),
            Type::Array(t) => write!(f, "[{t}]"),
            Type::Map(k, v) => write!(f, "Map[{k}, {v}]"),
            Type::Gen(t) => write!(f, "Gen[{t}]"),
            Type::Task(t) => write!(f, "Task[{t}]"),
            Type::Chan(t) => write!(f, "Chan[{t}]"),
            Type::Optional(t) => write!(f, "{t}?"),
            Type::Struct(id) | Type::Enum(id) => {
                let name = STRUCT_NAMES.with(|n| n.borrow().get(*id as usize).cloned());
                f.write_str(&name.unwrap_or_else(|| "struct".into()))
            }
            Type::Func(params, ret) => {
                f.write_str("fn(")?;
                for (i, p) in params.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{p}")?;
                }
                f.write_str(")")?;
                if **ret != Type::Unit {
                    write!(f, " -> {ret}")?;
                }
                Ok(())
            }
            Type::Unit => f.write_str("()"),
            Type::Nil => f.write_str("nil"),
            Type::Never => f.write_str("never"),
            Type::Error => f.write_str("{error}"),
        }
    }
}

impl Type {
    /// A GC reference at run time.
    pub fn is_ref(&self) -> bool {
        matches!(
            self,
            Type::Str
                | Type::Enum(_)
                | Type::Array(_)
                | Type::Map(..)
                | Type::Optional(_)
                | Type::Struct(_)
                | Type::Func(..)
                | Type::Gen(_)
                | Type::Task(_)
                | Type::Chan(_)
                | Type::Nil
        )
    }
    /// `T?` is the same nullable reference as `T` when `T` is a non-optional
    /// reference; otherwise the value is boxed.
    pub fn optional_is_boxed(inner: &Type) -> bool {
        !inner.is_ref() || matches!(inner, Type::Optional(_) | Type::Nil)
    }
    fn is_numeric(&self) -> bool {
        matches!(self, Type::Int | Type::Float | Type::Error | Type::Never)
    }
    fn is_error(&self) -> bool {
        matches!(self, Type::Error)
    }
    fn contains_error(&self) -> bool {
        match self {
            Type::Error => true,
            Type::Array(t) | Type::Optional(t) | Type::Gen(t) | Type::Task(t) | Type::Chan(t) => {
                t.contains_error()
            }
            Type::Map(k, v) => k.contains_error() || v.contains_error(),
            Type::Func(p, r) => p.iter().any(|t| t.contains_error()) || r.contains_error(),
            _ => false,
        }
    }
}

/// How a value is adapted to the type its context expects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coercion {
    /// `T` used where `T?` is expected: box it (or keep the reference).
    WrapOptional,
}

#[derive(Debug)]
pub struct LocalInfo {
    pub name: String,
    pub ty: Type,
    pub mutable: bool,
    /// What it is, for diagnostics: "a `let` binding", "a parameter", ...
    pub declared_by: &'static str,
    /// Used by a closure: lives in a heap cell.
    pub captured: bool,
}

/// A struct, or an enum (`is_enum`, with `variants` instead of fields).
#[derive(Debug)]
pub struct StructInfo {
    pub name: String,
    pub fields: Vec<(String, Type)>,
    pub span: Span,
    pub methods: HashMap<String, FnId>,
    pub is_enum: bool,
    /// For enums: each variant's name and payload types; the tag is the index.
    pub variants: Vec<(String, Vec<Type>)>,
}

impl StructInfo {
    pub fn variant(&self, name: &str) -> Option<usize> {
        self.variants.iter().position(|(n, _)| n == name)
    }
    /// The type of values of this struct or enum.
    pub fn ty(&self, id: StructId) -> Type {
        if self.is_enum {
            Type::Enum(id)
        } else {
            Type::Struct(id)
        }
    }
    pub fn field(&self, name: &str) -> Option<(usize, &Type)> {
        self.fields
            .iter()
            .enumerate()
            .find(|(_, (n, _))| n == name)
            .map(|(i, (_, t))| (i, t))
    }
}

/// Where a function's body is.
#[derive(Clone, Copy, Debug)]
pub enum FnSource<'a> {
    Decl(&'a FnDecl),
    /// A closure expression (`ExprKind::Closure`).
    Closure(&'a Expr),
}

#[derive(Debug)]
pub struct FnInfo<'a> {
    /// The symbol: `module.name`, `module.Type.method` or `module.fn.closureN`.
    pub symbol: String,
    pub name: String,
    pub params: Vec<LocalId>,
    pub param_types: Vec<Type>,
    pub ret: Type,
    pub span: Span,
    pub source: FnSource<'a>,
    /// For closures: the enclosing locals it uses, in env-slot order.
    pub captures: Vec<LocalId>,
    pub is_closure: bool,
    /// For `gen fn`: the type it yields (its calls return `Gen[T]`).
    pub yields: Option<Type>,
    /// An `async fn`: a coroutine called only with `await` or `spawn`.
    pub is_async: bool,
}

/// What a name in an expression refers to.
#[derive(Clone, Copy, Debug)]
pub enum Res {
    Local(LocalId),
    /// A named function used as a value.
    Fn(FnId),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Builtin {
    Print,
    Println,
    Eprintln,
    Exit,
    ToInt,
    ToFloat,
    Str,
    Len,
    Assert,
    Panic,
    Args,
}

/// What an `await` waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AwaitKind {
    /// `await f(x)`: runs the call in this task.
    Call,
    /// `await t`: joins a task.
    Task,
    /// `await ch.send(v)` or `await ch.recv()`.
    Chan,
}

/// What one arm of a `select` waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SelectOp {
    Recv,
    Send,
    /// `time.after(ms)`.
    After,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArrayMethod {
    Len,
    Push,
    Pop,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapMethod {
    Get,
    Has,
    Remove,
    Len,
    Keys,
}

#[derive(Clone, Copy, Debug)]
pub enum Callee {
    /// A direct call of a named function or a static method.
    Fn(FnId),
    /// `recv.m(args)`: the receiver is the callee expression's base.
    Method(FnId),
    /// A call through a function value.
    Indirect,
    Builtin(Builtin),
    Array(ArrayMethod),
    Map(MapMethod),
    /// `s.len()` on a string.
    StrLen,
    /// `g.next()` on a generator.
    GenNext,
    /// `t.done()` on a task.
    TaskDone,
    /// `__sleep(ms)` in the `time` module: suspends the task for `ms`.
    Sleep,
    /// `t.cancel()` on a task.
    TaskCancel,
    /// `ch.send(v)`, `ch.recv()`, `ch.close()` on a channel.
    ChanSend,
    ChanRecv,
    ChanClose,
    /// A standard-library `extern fn`: a runtime function.
    Runtime(RuntimeFn),
    /// `__llvm_*` in the standard library: an LLVM float intrinsic.
    Intrinsic(&'static str),
}

/// Everything codegen needs to know beyond the ASTs.
#[derive(Default, Debug)]
pub struct Typed<'a> {
    pub expr_types: Vec<Type>,
    pub names: HashMap<ExprId, Res>,
    pub calls: HashMap<ExprId, Callee>,
    pub coercions: HashMap<ExprId, Coercion>,
    /// For a `Field` expression: the struct field index.
    pub fields: HashMap<ExprId, usize>,
    /// For a `StructLit`: the struct.
    pub struct_lits: HashMap<ExprId, StructId>,
    /// A variant constructor call `E.V(..)` or unit variant `E.V`: (enum, tag).
    pub variants: HashMap<ExprId, (StructId, usize)>,
    /// A pattern that tests a variant (by the pattern's span): (enum, tag).
    pub pattern_variants: HashMap<Span, (StructId, usize)>,
    /// The local declared by a `let`, `for`, `if let`, parameter or closure parameter, keyed by its name's span.
    pub decls: HashMap<Span, LocalId>,
    /// For `for x in e` loops over arrays: the element type (absent for ranges).
    pub for_arrays: HashMap<Span, Type>,
    /// For `for x in g` loops over generators: the element type.
    pub for_gens: HashMap<Span, Type>,
    /// For each `await`: what it waits for.
    pub awaits: HashMap<ExprId, AwaitKind>,
    /// What each `select` arm's operation (by its expression) waits for.
    pub select_ops: HashMap<ExprId, SelectOp>,
    pub locals: Vec<LocalInfo>,
    pub fns: Vec<FnInfo<'a>>,
    pub structs: Vec<StructInfo>,
    pub main: Option<FnId>,
}

impl Typed<'_> {
    pub fn ty(&self, e: &Expr) -> &Type {
        &self.expr_types[e.id as usize]
    }
}

/// One parsed file of the program.
pub struct SourceModule<'a> {
    pub name: String,
    pub file: u32,
    /// The file's text: generic functions are parsed again per instance.
    pub source: &'a str,
    pub ast: &'a Module,
    /// Part of the standard library: may declare `extern fn` and use `__llvm_*`.
    pub is_stdlib: bool,
    /// Imported module name → index in the program's module list.
    pub imports: HashMap<String, ModId>,
}

pub fn check<'a>(modules: &[SourceModule<'a>], expr_count: u32) -> (Typed<'a>, Vec<Diagnostic>) {
    let mut cx = Checker {
        out: Typed {
            expr_types: vec![Type::Error; expr_count as usize],
            ..Typed::default()
        },
        diags: Vec::new(),
        modules,
        items: vec![HashMap::new(); modules.len()],
        externs: vec![HashMap::new(); modules.len()],
        ctx: Vec::new(),
        async_call_ok: None,
        after_ok: None,
        module: 0,
        generics: Vec::new(),
        instances: HashMap::new(),
        instance_args: HashMap::new(),
        instance_parent: HashMap::new(),
        type_args: HashMap::new(),
        next_expr_id: expr_count,
        next_instance: 0,
        prechecked: None,
    };
    cx.declare(modules);
    let names: Vec<String> = cx.out.structs.iter().map(|s| s.name.clone()).collect();
    STRUCT_NAMES.with(|n| *n.borrow_mut() = names);
    let mut id = 0;
    // Closures append to `fns` while we go; check them too.
    while (id as usize) < cx.out.fns.len() {
        cx.check_fn(id);
        id += 1;
    }
    (cx.out, cx.diags)
}

#[derive(Clone, Copy, Debug)]
enum ItemRef {
    Fn(FnId),
    Struct(StructId),
    /// A generic function (index into `Checker::generics`).
    Generic(u32),
}

/// A standard module's `extern fn`: the runtime function and its Weft types.
#[derive(Clone)]
struct ExternSig {
    rf: RuntimeFn,
    params: Vec<Type>,
    ret: Type,
}

/// The ABI kind a value of this type travels as, if it can cross to the runtime.
fn abi_kind(t: &Type) -> Option<AbiType> {
    match t {
        Type::Int => Some(AbiType::I64),
        Type::Float => Some(AbiType::F64),
        Type::Bool => Some(AbiType::I32),
        Type::Unit => Some(AbiType::Void),
        _ if t.is_ref() => Some(AbiType::Ref),
        _ => None,
    }
}

/// A generic function as declared: each set of type arguments it is called
/// with becomes an ordinary function, an instance, parsed again from the
/// source (fresh expression ids, spans tagged with the instance) and checked
/// with its type parameters bound.
#[derive(Clone, Copy)]
struct Generic<'a> {
    decl: &'a FnDecl,
    module: ModId,
}

struct FnContext {
    fn_id: FnId,
    scopes: Vec<HashMap<String, LocalId>>,
    ret: Type,
    /// In a `gen fn`: the type of its `yield`s.
    yields: Option<Type>,
    /// In an `async fn`: `await` is allowed.
    is_async: bool,
    /// For each enclosing loop: whether a `break` leaves it.
    loops: Vec<bool>,
    /// Inside the expression of a `defer`: it cannot leave the block it
    /// runs at the exit of, nor wait (it also runs when a task is cancelled).
    in_defer: bool,
}

struct Checker<'a, 'm> {
    out: Typed<'a>,
    diags: Vec<Diagnostic>,
    modules: &'m [SourceModule<'a>],
    /// Per module: its top-level names.
    items: Vec<HashMap<String, ItemRef>>,
    /// Per standard module: its `extern fn`s (runtime functions it may call).
    externs: Vec<HashMap<String, ExternSig>>,
    /// The function being checked, innermost last (closures nest).
    ctx: Vec<FnContext>,
    /// The call that is the operand of `await`, `spawn` or a `select` arm,
    /// the one place calling an `async fn` or a channel operation is
    /// allowed. An id, not a flag: calls inside the receiver or arguments of
    /// that call (`await pick(c).send(f())`) are checked on their own.
    async_call_ok: Option<ExprId>,
    /// The operand of a `select` arm, where `time.after(ms)` is allowed.
    after_ok: Option<ExprId>,
    module: ModId,
    generics: Vec<Generic<'a>>,
    /// Instances by generic function and type arguments.
    instances: HashMap<String, FnId>,
    /// Each instance's type arguments, bound while its body is checked.
    instance_args: HashMap<FnId, HashMap<String, Type>>,
    /// The instance whose body asked for each instance (none for a call
    /// from ordinary code): the chain a runaway instantiation reports.
    instance_parent: HashMap<FnId, Option<FnId>>,
    /// The type parameters in scope and what they stand for.
    type_args: HashMap<String, Type>,
    next_expr_id: u32,
    next_instance: u32,
    /// The argument types of a call checked already (a generic call infers
    /// its type arguments from them first).
    prechecked: Option<Vec<Type>>,
}

/// Binds the type parameters `names` that `te` (a parameter's declared
/// type) mentions to the parts of `actual` (the argument's type) in their
/// place; the first binding wins, and the call's own check reports any
/// mismatch afterwards.
fn unify(te: &TypeExpr, actual: &Type, names: &[String], bound: &mut HashMap<String, Type>) {
    match (te, actual) {
        (TypeExpr::Named { path, args, .. }, _) if path.len() == 1 => {
            let head = path[0].name.as_str();
            match (head, args.as_slice(), actual) {
                (_, [], Type::Nil | Type::Never | Type::Error) => {}
                (_, [], _) if names.iter().any(|n| n == head) => {
                    bound
                        .entry(head.to_string())
                        .or_insert_with(|| actual.clone());
                }
                ("Task", [a], Type::Task(t))
                | ("Gen", [a], Type::Gen(t))
                | ("Chan", [a], Type::Chan(t)) => unify(a, t, names, bound),
                ("Map", [k, v], Type::Map(tk, tv)) => {
                    unify(k, tk, names, bound);
                    unify(v, tv, names, bound);
                }
                _ => {}
            }
        }
        (TypeExpr::Array(inner, _), Type::Array(t)) => unify(inner, t, names, bound),
        (TypeExpr::Optional(inner, _), Type::Optional(t)) => unify(inner, t, names, bound),
        (TypeExpr::Optional(inner, _), t) => unify(inner, t, names, bound),
        (TypeExpr::Func { params, ret, .. }, Type::Func(ps, r)) => {
            for (p, t) in params.iter().zip(ps) {
                unify(p, t, names, bound);
            }
            if let Some(ret) = ret {
                unify(ret, r, names, bound);
            }
        }
        _ => {}
    }
}

/// The symbol of `time.after`, which only a `select` arm may call.
pub const AFTER_SYMBOL: &str = "std.time.after";

fn unsupported(what: &str, span: Span) -> Diagnostic {
    Diagnostic::error("unsupported", format!("{what} is not supported yet"))
        .with_label(span, "not supported by this version of weft")
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

impl<'a> Checker<'a, '_> {
    fn error(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    // ----- declarations -------------------------------------------------

    /// A struct or enum may not take a built-in type's name: every use of
    /// the name would mean the built-in, and messages would read "expected
    /// `string`, found `string`".
    fn builtin_type_name(&mut self, name: &Ident) -> bool {
        if !BUILTIN_TYPE_NAMES.contains(&name.name.as_str()) {
            return false;
        }
        self.error(
            Diagnostic::error(
                "builtin-type-name",
                format!("`{}` is the name of a built-in type", name.name),
            )
            .with_label(name.span, "choose another name for this type"),
        );
        true
    }

    fn declare(&mut self, modules: &[SourceModule<'a>]) {
        // Structs first, so function signatures can name them.
        for (m, module) in modules.iter().enumerate() {
            for item in &module.ast.items {
                match item {
                    Item::Struct(s) if self.builtin_type_name(&s.name) => {}
                    Item::Enum(e) if self.builtin_type_name(&e.name) => {}
                    Item::Struct(s) => {
                        if self.redefined(m, &s.name) {
                            continue;
                        }
                        let id = self.out.structs.len() as StructId;
                        self.out.structs.push(StructInfo {
                            name: s.name.name.clone(),
                            fields: Vec::new(),
                            span: s.name.span,
                            methods: HashMap::new(),
                            is_enum: false,
                            variants: Vec::new(),
                        });
                        self.items[m].insert(s.name.name.clone(), ItemRef::Struct(id));
                    }
                    Item::Enum(e) => {
                        if self.redefined(m, &e.name) {
                            continue;
                        }
                        let id = self.out.structs.len() as StructId;
                        self.out.structs.push(StructInfo {
                            name: e.name.name.clone(),
                            fields: Vec::new(),
                            span: e.name.span,
                            methods: HashMap::new(),
                            is_enum: true,
                            variants: Vec::new(),
                        });
                        self.items[m].insert(e.name.name.clone(), ItemRef::Struct(id));
                    }
                    _ => {}
                }
            }
        }
        for (m, module) in modules.iter().enumerate() {
            self.module = m as ModId;
            for item in &module.ast.items {
                if let Item::Struct(s) = item {
                    let Some(ItemRef::Struct(id)) = self.items[m].get(&s.name.name).copied() else {
                        continue;
                    };
                    if self.out.structs[id as usize].span != s.name.span {
                        continue;
                    }
                    let mut fields: Vec<(String, Type)> = Vec::new();
                    for f in &s.fields {
                        if fields.iter().any(|(n, _)| *n == f.name.name) {
                            self.error(
                                Diagnostic::error(
                                    "duplicate-field",
                                    format!("the field `{}` is declared twice", f.name.name),
                                )
                                .with_label(f.name.span, "declared again here"),
                            );
                            continue;
                        }
                        let t = self.resolve_type(&f.ty);
                        fields.push((f.name.name.clone(), t));
                    }
                    self.out.structs[id as usize].fields = fields;
                }
                if let Item::Enum(e) = item {
                    let Some(ItemRef::Struct(id)) = self.items[m].get(&e.name.name).copied() else {
                        continue;
                    };
                    if self.out.structs[id as usize].span != e.name.span {
                        continue;
                    }
                    let mut variants: Vec<(String, Vec<Type>)> = Vec::new();
                    for v in &e.variants {
                        if variants.iter().any(|(n, _)| *n == v.name.name) {
                            self.error(
                                Diagnostic::error(
                                    "duplicate-variant",
                                    format!("the variant `{}` is declared twice", v.name.name),
                                )
                                .with_label(v.name.span, "declared again here"),
                            );
                            continue;
                        }
                        let payload = v.payload.iter().map(|t| self.resolve_type(t)).collect();
                        variants.push((v.name.name.clone(), payload));
                    }
                    if variants.is_empty() {
                        self.error(
                            Diagnostic::error(
                                "empty-enum",
                                format!("the enum `{}` has no variants", e.name.name),
                            )
                            .with_label(e.name.span, "an enum needs at least one variant"),
                        );
                    }
                    self.out.structs[id as usize].variants = variants;
                }
            }
        }
        for module in modules.iter() {
            for item in &module.ast.items {
                match item {
                    Item::Fn(f) => self.check_unique_names_of(f),
                    Item::Impl(imp) => imp
                        .methods
                        .iter()
                        .for_each(|f| self.check_unique_names_of(f)),
                    _ => {}
                }
            }
        }
        for (m, module) in modules.iter().enumerate() {
            self.module = m as ModId;
            for item in &module.ast.items {
                match item {
                    Item::Fn(f) if !f.type_params.is_empty() => {
                        if self.redefined(m, &f.name) {
                            continue;
                        }
                        let g = self.generics.len() as u32;
                        self.generics.push(Generic {
                            decl: f,
                            module: m as ModId,
                        });
                        self.items[m].insert(f.name.name.clone(), ItemRef::Generic(g));
                    }
                    Item::Fn(f) => {
                        if self.redefined(m, &f.name) {
                            continue;
                        }
                        let id = self.declare_fn(f, None);
                        self.items[m].insert(f.name.name.clone(), ItemRef::Fn(id));
                        if m == 0 && f.name.name == "main" {
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
                    Item::Impl(imp) => {
                        let target = match self.items[m].get(&imp.target.name) {
                            Some(ItemRef::Struct(id)) => *id,
                            _ => {
                                self.error(
                                    Diagnostic::error(
                                        "unknown-type",
                                        format!("unknown struct or enum `{}`", imp.target.name),
                                    )
                                    .with_label(
                                        imp.target.span,
                                        "`impl` needs a struct or enum declared in this file",
                                    ),
                                );
                                continue;
                            }
                        };
                        for method in &imp.methods {
                            if self.out.structs[target as usize]
                                .methods
                                .contains_key(&method.name.name)
                                || self.out.structs[target as usize]
                                    .field(&method.name.name)
                                    .is_some()
                            {
                                self.error(
                                    Diagnostic::error(
                                        "duplicate-definition",
                                        format!(
                                            "`{}` already has a field or method `{}`",
                                            imp.target.name, method.name.name
                                        ),
                                    )
                                    .with_label(method.name.span, "defined again here"),
                                );
                                continue;
                            }
                            let id = self.declare_fn(method, Some(target));
                            self.out.structs[target as usize]
                                .methods
                                .insert(method.name.name.clone(), id);
                        }
                    }
                    Item::Extern(x) => self.declare_extern(m, x),
                    Item::Import(_) | Item::Struct(_) | Item::Enum(_) => {}
                }
            }
        }
        if self.out.main.is_none() {
            let file = modules.first().map(|m| m.file).unwrap_or(0);
            self.error(
                Diagnostic::error("missing-main", "this program has no `main` function")
                    .with_label(Span::new(file, 0, 0), "expected `fn main()` in this file"),
            );
        }
    }

    /// `extern fn`: only in the standard library, only a function of the
    /// runtime's table, and only with Weft types whose ABI kinds are the
    /// table's (so codegen can pass the values as they are).
    fn declare_extern(&mut self, m: usize, x: &ExternFn) {
        if !self.modules[m].is_stdlib {
            self.error(
                Diagnostic::error(
                    "extern-outside-stdlib",
                    "`extern fn` declares a runtime function, which only the standard library may call",
                )
                .with_label(x.span, "not allowed in a program"),
            );
            return;
        }
        if self.redefined(m, &x.name) || self.externs[m].contains_key(&x.name.name) {
            return;
        }
        let params: Vec<Type> = x
            .params
            .iter()
            .map(|p| match &p.ty {
                Some(t) => self.resolve_type(t),
                None => Type::Error,
            })
            .collect();
        let ret = x.ret.as_ref().map_or(Type::Unit, |t| self.resolve_type(t));
        let Some(&rf) = RuntimeFn::ALL
            .iter()
            .find(|f| f.signature().name == x.name.name)
        else {
            self.error(
                Diagnostic::error(
                    "unknown-runtime-function",
                    format!("the runtime has no function `{}`", x.name.name),
                )
                .with_label(x.name.span, "not in weft_abi's table"),
            );
            return;
        };
        let sig = rf.signature();
        let kinds: Vec<Option<AbiType>> = params.iter().map(abi_kind).collect();
        let same = kinds.len() == sig.params.len()
            && kinds.iter().zip(sig.params).all(|(k, p)| *k == Some(*p))
            && abi_kind(&ret) == Some(sig.ret);
        if !same {
            let show = |k: &AbiType| format!("{k:?}");
            self.error(
                Diagnostic::error(
                    "extern-signature-mismatch",
                    format!(
                        "`{}` does not have the runtime's signature ({}) -> {:?}",
                        x.name.name,
                        sig.params.iter().map(show).collect::<Vec<_>>().join(", "),
                        sig.ret
                    ),
                )
                .with_label(x.span, "these types pass other ABI kinds"),
            );
            return;
        }
        self.externs[m].insert(x.name.name.clone(), ExternSig { rf, params, ret });
    }

    fn redefined(&mut self, m: usize, name: &Ident) -> bool {
        if let Some(prev) = self.items[m].get(&name.name).copied() {
            let prev_span = match prev {
                ItemRef::Fn(f) => self.out.fns[f as usize].span,
                ItemRef::Struct(s) => self.out.structs[s as usize].span,
                ItemRef::Generic(g) => self.generics[g as usize].decl.name.span,
            };
            self.error(
                Diagnostic::error(
                    "duplicate-definition",
                    format!("`{}` is defined twice", name.name),
                )
                .with_label(name.span, "redefined here")
                .with_label(prev_span, "first defined here"),
            );
            return true;
        }
        if self.modules[m].imports.contains_key(&name.name) {
            self.error(
                Diagnostic::error(
                    "duplicate-definition",
                    format!("`{}` is also the name of an imported module", name.name),
                )
                .with_label(name.span, "rename this item"),
            );
            return true;
        }
        false
    }

    /// Parameters and type parameters of one function have distinct names.
    fn check_unique_names_of(&mut self, f: &FnDecl) {
        let params = f.params.iter().map(|p| &p.name);
        self.check_unique_names(params, "parameter", "duplicate-parameter");
        let type_params = f.type_params.iter();
        self.check_unique_names(type_params, "type parameter", "duplicate-type-parameter");
    }

    /// Reports every name that `names` repeats, under the diagnostic `id`.
    fn check_unique_names<'i>(
        &mut self,
        names: impl Iterator<Item = &'i Ident>,
        what: &str,
        id: &'static str,
    ) {
        let mut seen: HashMap<&str, Span> = HashMap::new();
        for name in names {
            match seen.get(name.name.as_str()) {
                Some(&first) => {
                    self.error(
                        Diagnostic::error(
                            id,
                            format!("the {what} `{}` is declared twice", name.name),
                        )
                        .with_label(name.span, "declared again here")
                        .with_label(first, "first declared here"),
                    );
                }
                None => {
                    seen.insert(&name.name, name.span);
                }
            }
        }
    }

    fn declare_fn(&mut self, f: &'a FnDecl, owner: Option<StructId>) -> FnId {
        let mut saved_args = None;
        if let (Some(t), Some(_)) = (f.type_params.first(), owner) {
            self.error(unsupported("a generic method", t.span));
            // Its type parameters stand for errors, reported once, here.
            let errors = f.type_params.iter().map(|t| (t.name.clone(), Type::Error));
            saved_args = Some(std::mem::replace(&mut self.type_args, errors.collect()));
        }
        let mut param_types = Vec::new();
        for (i, p) in f.params.iter().enumerate() {
            let t = match (&p.ty, owner) {
                (Some(t), _) => self.resolve_type(t),
                (None, Some(s)) if i == 0 => self.out.structs[s as usize].ty(s),
                (None, _) => {
                    self.error(
                        Diagnostic::error(
                            "misplaced-self",
                            "`self` can only be the first parameter of a method",
                        )
                        .with_label(p.span, "not allowed here"),
                    );
                    Type::Error
                }
            };
            param_types.push(t);
        }
        let mut ret = match &f.ret {
            Some(t) => self.resolve_type(t),
            None => Type::Unit,
        };
        // A generator's `-> T` is what it yields; calling it gives a `Gen[T]`.
        let yields = if f.kind == FnKind::Gen {
            if ret == Type::Unit {
                self.error(
                    Diagnostic::error("gen-without-type", "a `gen fn` must declare what it yields")
                        .with_label(f.name.span, "write `gen fn name(...) -> T`"),
                );
                ret = Type::Error;
            }
            let y = ret.clone();
            ret = Type::Gen(Box::new(y.clone()));
            Some(y)
        } else {
            None
        };
        let module = &self.modules[self.module as usize].name;
        let symbol = match owner {
            Some(s) => format!(
                "{module}.{}.{}",
                self.out.structs[s as usize].name, f.name.name
            ),
            None => format!("{module}.{}", f.name.name),
        };
        let id = self.out.fns.len() as FnId;
        self.out.fns.push(FnInfo {
            symbol,
            name: f.name.name.clone(),
            params: Vec::new(),
            param_types,
            ret,
            span: f.name.span,
            source: FnSource::Decl(f),
            captures: Vec::new(),
            is_closure: false,
            yields,
            is_async: f.kind == FnKind::Async,
        });
        if let Some(saved) = saved_args {
            let errors = std::mem::replace(&mut self.type_args, saved);
            self.instance_args.insert(id, errors);
        }
        id
    }

    fn resolve_type(&mut self, t: &TypeExpr) -> Type {
        match t {
            TypeExpr::Named { path, args, span } => {
                let name = path
                    .iter()
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join(".");
                if name == "<error>" {
                    return Type::Error;
                }
                if let (true, Some(t)) = (args.is_empty(), self.type_args.get(&name)) {
                    return t.clone();
                }
                let arity = |cx: &mut Self, n: usize| {
                    if args.len() != n {
                        cx.error(
                            Diagnostic::error(
                                "wrong-type-arguments",
                                format!(
                                    "`{name}` takes {n} type argument{} but {} were given",
                                    plural(n),
                                    args.len()
                                ),
                            )
                            .with_label(*span, "wrong number of type arguments"),
                        );
                        false
                    } else {
                        true
                    }
                };
                // Every name here is in `BUILTIN_TYPE_NAMES`.
                match name.as_str() {
                    "int" | "float" | "bool" | "string" if !arity(self, 0) => Type::Error,
                    "int" => Type::Int,
                    "float" => Type::Float,
                    "bool" => Type::Bool,
                    "string" => Type::Str,
                    "Map" => {
                        if !arity(self, 2) {
                            return Type::Error;
                        }
                        let k = self.resolve_type(&args[0]);
                        let v = self.resolve_type(&args[1]);
                        if !matches!(k, Type::Int | Type::Str | Type::Error) {
                            self.error(
                                Diagnostic::error(
                                    "invalid-map-key",
                                    format!("map keys must be `int` or `string`, not `{k}`"),
                                )
                                .with_label(args[0].span(), "not a valid key type"),
                            );
                        }
                        Type::Map(Box::new(k), Box::new(v))
                    }
                    "Gen" => {
                        if !arity(self, 1) {
                            return Type::Error;
                        }
                        Type::Gen(Box::new(self.resolve_type(&args[0])))
                    }
                    "Task" => {
                        if !arity(self, 1) {
                            return Type::Error;
                        }
                        Type::Task(Box::new(self.resolve_type(&args[0])))
                    }
                    "Chan" => {
                        if !arity(self, 1) {
                            return Type::Error;
                        }
                        Type::Chan(Box::new(self.resolve_type(&args[0])))
                    }
                    _ => match self.lookup_item(path) {
                        Some(ItemRef::Struct(id)) if args.is_empty() => {
                            self.out.structs[id as usize].ty(id)
                        }
                        _ => {
                            self.error(
                                Diagnostic::error("unknown-type", format!("unknown type `{name}`"))
                                    .with_label(*span, "not a type in scope"),
                            );
                            Type::Error
                        }
                    },
                }
            }
            TypeExpr::Array(inner, _) => Type::Array(Box::new(self.resolve_type(inner))),
            TypeExpr::Optional(inner, _) => Type::Optional(Box::new(self.resolve_type(inner))),
            TypeExpr::Func { params, ret, .. } => {
                let params = params.iter().map(|p| self.resolve_type(p)).collect();
                let ret = match ret {
                    Some(r) => self.resolve_type(r),
                    None => Type::Unit,
                };
                Type::Func(params, Box::new(ret))
            }
        }
    }

    /// `name` in this module, or `module.name` through an import.
    fn lookup_item(&self, path: &[Ident]) -> Option<ItemRef> {
        match path {
            [one] => self.items[self.module as usize].get(&one.name).copied(),
            [m, one] => {
                let target = *self.modules[self.module as usize].imports.get(&m.name)?;
                let item = self.items[target as usize].get(&one.name).copied()?;
                // Names starting with `_` are private to their module.
                (!one.name.starts_with('_')).then_some(item)
            }
            _ => None,
        }
    }

    // ----- scopes ---------------------------------------------------------

    fn cx(&mut self) -> &mut FnContext {
        self.ctx.last_mut().expect("inside a function")
    }

    fn new_local(&mut self, name: &Ident, ty: Type, mutable: bool) -> LocalId {
        self.new_local_by(
            name,
            ty,
            mutable,
            if mutable {
                "a `var`"
            } else {
                "a `let` binding"
            },
        )
    }

    fn new_local_by(
        &mut self,
        name: &Ident,
        ty: Type,
        mutable: bool,
        declared_by: &'static str,
    ) -> LocalId {
        let id = self.out.locals.len() as LocalId;
        self.out.locals.push(LocalInfo {
            name: name.name.clone(),
            ty,
            mutable,
            declared_by,
            captured: false,
        });
        self.out.decls.insert(name.span, id);
        if let Some(scope) = self.cx().scopes.last_mut() {
            scope.insert(name.name.clone(), id);
        }
        id
    }

    /// Where a local was declared (only for diagnostics: a linear search).
    fn local_span(&self, id: LocalId) -> Option<Span> {
        self.out
            .decls
            .iter()
            .find_map(|(span, &l)| (l == id).then_some(*span))
    }

    /// Finds a local, capturing it into every closure between its function and here.
    fn lookup_local(&mut self, name: &str) -> Option<LocalId> {
        let depth = self.ctx.len();
        for level in (0..depth).rev() {
            let found = self.ctx[level]
                .scopes
                .iter()
                .rev()
                .find_map(|s| s.get(name).copied());
            if let Some(id) = found {
                if level + 1 < depth {
                    self.out.locals[id as usize].captured = true;
                    for inner in level + 1..depth {
                        let f = self.ctx[inner].fn_id as usize;
                        if !self.out.fns[f].captures.contains(&id) {
                            self.out.fns[f].captures.push(id);
                        }
                    }
                }
                return Some(id);
            }
        }
        None
    }

    fn push_scope(&mut self) {
        self.cx().scopes.push(HashMap::new());
    }

    fn pop_scope(&mut self) {
        self.cx().scopes.pop();
    }

    // ----- functions and statements --------------------------------------

    fn module_of(&self, span: Span) -> ModId {
        self.modules
            .iter()
            .position(|m| m.file == span.file)
            .unwrap_or(0) as ModId
    }

    fn check_fn(&mut self, id: FnId) {
        let info = &self.out.fns[id as usize];
        let source = info.source;
        let ret = info.ret.clone();
        let param_types = info.param_types.clone();
        let span = info.span;
        self.module = self.module_of(span);
        self.type_args = self.instance_args.get(&id).cloned().unwrap_or_default();
        let (params, body): (&'a [Param], &'a Block) = match source {
            FnSource::Decl(d) => (&d.params, &d.body),
            FnSource::Closure(e) => match &e.kind {
                ExprKind::Closure { params, body, .. } => (params, body),
                _ => return,
            },
        };
        if matches!(source, FnSource::Closure(_)) {
            // A closure is checked where it appears, inside its parent's context.
            return;
        }
        // A generator's body returns nothing; its calls return the `Gen[T]`.
        let yields = self.out.fns[id as usize].yields.clone();
        let ret = if yields.is_some() { Type::Unit } else { ret };
        let is_async = self.out.fns[id as usize].is_async;
        self.ctx.push(FnContext {
            fn_id: id,
            scopes: vec![HashMap::new()],
            ret: ret.clone(),
            yields,
            is_async,
            loops: Vec::new(),
            in_defer: false,
        });
        self.body(id, params, &param_types, body, &ret, span);
        self.ctx.pop();
    }

    fn body(
        &mut self,
        id: FnId,
        params: &'a [Param],
        param_types: &[Type],
        body: &'a Block,
        ret: &Type,
        span: Span,
    ) {
        let mut locals = Vec::new();
        for (p, ty) in params.iter().zip(param_types) {
            locals.push(self.new_local_by(&p.name, ty.clone(), false, "a parameter"));
        }
        self.out.fns[id as usize].params = locals;
        let (_, diverges) = self.check_block(body, None);
        if !diverges && !matches!(ret, Type::Unit | Type::Error) {
            let end = Span {
                start: body.span.end.saturating_sub(1),
                ..body.span
            };
            let name = self.out.fns[id as usize].name.clone();
            self.error(
                Diagnostic::error(
                    "missing-return",
                    format!("function `{name}` may end without returning a `{ret}`"),
                )
                .with_label(end, "the end of the function can be reached")
                .with_label(span, "declared to return a value"),
            );
        }
    }

    /// Checks a block; returns the type of its value (its trailing expression
    /// when `want` is given) and whether control can never leave its end.
    fn check_block(&mut self, block: &'a Block, want: Option<&Type>) -> (Type, bool) {
        self.push_scope();
        let mut diverges = false;
        let mut value = Type::Unit;
        let last = block.stmts.len().saturating_sub(1);
        for (i, stmt) in block.stmts.iter().enumerate() {
            if want.is_some() && i == last {
                if let Stmt::Expr(e) = stmt {
                    value = self.check_expr(e, want);
                    diverges |= value == Type::Never;
                    continue;
                }
            }
            diverges |= self.check_stmt(stmt);
        }
        self.pop_scope();
        if diverges {
            value = Type::Never;
        }
        (value, diverges)
    }

    /// Returns whether the statement never completes normally.
    fn check_stmt(&mut self, stmt: &'a Stmt) -> bool {
        match stmt {
            Stmt::Let {
                mutable,
                name,
                ty,
                value,
                ..
            } => {
                let declared = ty.as_ref().map(|t| self.resolve_type(t));
                let actual = self.check_expr(value, declared.as_ref().or(ANY));
                let ty = match declared {
                    Some(d) => {
                        self.coerce(value, &actual, &d);
                        d
                    }
                    None => {
                        match actual {
                            Type::Unit => self.error(
                                Diagnostic::error(
                                    "no-value",
                                    "this expression has no value to bind",
                                )
                                .with_label(value.span, "produces no value"),
                            ),
                            Type::Nil => self.error(
                                Diagnostic::error("cannot-infer", "cannot infer the type of `nil`")
                                    .with_label(value.span, "add a type: `let x: int? = nil`"),
                            ),
                            _ => {}
                        }
                        if matches!(actual, Type::Never | Type::Nil | Type::Unit) {
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
            } => self.check_assign(target, *op, value, *span),
            Stmt::Expr(e) => self.check_expr(e, None) == Type::Never,
            Stmt::While { cond, body, .. } => {
                let t = self.check_expr(cond, Some(&Type::Bool));
                self.expect(&t, &Type::Bool, cond.span);
                self.cx().loops.push(false);
                self.check_block(body, None);
                self.cx().loops.pop();
                false
            }
            Stmt::WhileLet {
                name, value, body, ..
            } => {
                let t = self.check_expr(value, ANY);
                let inner = self.optional_inner(&t, value.span);
                self.push_scope();
                self.new_local(name, inner, false);
                self.cx().loops.push(false);
                self.check_block(body, None);
                self.cx().loops.pop();
                self.pop_scope();
                false
            }
            Stmt::Loop { body, .. } => {
                self.cx().loops.push(false);
                self.check_block(body, None);
                let broke = self.cx().loops.pop().unwrap_or(false);
                !broke
            }
            Stmt::For {
                var,
                iter,
                body,
                span,
            } => {
                let elem = match &iter.kind {
                    ExprKind::Range { start, end, .. } => {
                        let a = self.check_expr(start, Some(&Type::Int));
                        let b = self.check_expr(end, Some(&Type::Int));
                        self.expect(&a, &Type::Int, start.span);
                        self.expect(&b, &Type::Int, end.span);
                        self.out.expr_types[iter.id as usize] = Type::Unit;
                        Type::Int
                    }
                    _ => match self.check_expr(iter, ANY) {
                        Type::Array(elem) => {
                            self.out.for_arrays.insert(*span, (*elem).clone());
                            *elem
                        }
                        Type::Gen(elem) => {
                            self.out.for_gens.insert(*span, (*elem).clone());
                            *elem
                        }
                        Type::Error => Type::Error,
                        other => {
                            self.error(
                                Diagnostic::error(
                                    "not-iterable",
                                    format!("cannot iterate over a `{other}`"),
                                )
                                .with_label(iter.span, "expected a range `a..b` or an array"),
                            );
                            Type::Error
                        }
                    },
                };
                self.push_scope();
                self.new_local_by(var, elem, false, "a `for` loop variable");
                self.cx().loops.push(false);
                self.check_block(body, None);
                self.cx().loops.pop();
                self.pop_scope();
                false
            }
            Stmt::Break(span) | Stmt::Continue(span) => {
                let is_break = matches!(stmt, Stmt::Break(_));
                match self.cx().loops.last_mut() {
                    Some(broke) => *broke |= is_break,
                    None => {
                        let word = if is_break { "break" } else { "continue" };
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
                self.not_in_defer("return", *span);
                let ret = self.cx().ret.clone();
                match value {
                    Some(v) if self.cx().yields.is_some() => {
                        self.check_expr(v, ANY);
                        self.error(
                            Diagnostic::error(
                                "return-value-in-gen",
                                "a generator cannot return a value",
                            )
                            .with_label(
                                v.span,
                                "use `yield` to produce values; `return` just ends the generator",
                            ),
                        );
                    }
                    Some(v) => {
                        let t = self.check_expr(v, Some(&ret));
                        if ret == Type::Unit && !t.is_error() {
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
                            self.coerce(v, &t, &ret);
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
            Stmt::Yield(value, span) => {
                self.not_in_defer("yield", *span);
                match self.cx().yields.clone() {
                    Some(y) => {
                        let t = self.check_expr(value, Some(&y));
                        self.coerce(value, &t, &y);
                    }
                    None => {
                        self.check_expr(value, ANY);
                        self.error(
                            Diagnostic::error("yield-outside-gen", "`yield` outside of a `gen fn`")
                                .with_label(*span, "only generators can yield"),
                        );
                    }
                }
                false
            }
            Stmt::Defer(value, _) => {
                let loops = std::mem::take(&mut self.cx().loops);
                let outer = std::mem::replace(&mut self.cx().in_defer, true);
                self.check_expr(value, ANY);
                self.cx().in_defer = outer;
                self.cx().loops = loops;
                false
            }
        }
    }

    fn check_assign(
        &mut self,
        target: &'a Expr,
        op: Option<BinOp>,
        value: &'a Expr,
        span: Span,
    ) -> bool {
        let target_ty = match &target.kind {
            ExprKind::Name(name) => match self.lookup_local(name) {
                Some(id) => {
                    self.out.names.insert(target.id, Res::Local(id));
                    let info = &self.out.locals[id as usize];
                    let ty = info.ty.clone();
                    let declared_by = info.declared_by;
                    if !info.mutable {
                        let decl = self.local_span(id);
                        let mut d = Diagnostic::error(
                            "assign-to-immutable",
                            format!("cannot assign twice to immutable variable `{name}`"),
                        )
                        .with_label(target.span, format!("cannot assign to {declared_by}"));
                        if let Some(decl) = decl {
                            let label = if declared_by == "a `let` binding" {
                                "declared with `let` here; use `var` to make it mutable".to_string()
                            } else {
                                format!("{declared_by} declared here; copy it into a `var` to change it")
                            };
                            d = d.with_label(decl, label);
                        }
                        self.error(d);
                    }
                    ty
                }
                None => {
                    self.check_expr(target, ANY);
                    Type::Error
                }
            },
            ExprKind::Index(..) | ExprKind::Field(..) => self.check_expr(target, ANY),
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
        if !target_ty.is_error() {
            self.out.expr_types[target.id as usize] = target_ty.clone();
        }
        let value_ty = self.check_expr(value, Some(&target_ty));
        match op {
            None => self.coerce(value, &value_ty, &target_ty),
            Some(op) => {
                let result =
                    self.binary_type(op, &target_ty, &value_ty, span, target.span, value.span);
                if !result.is_error() && result != target_ty {
                    self.expect(&result, &target_ty, span);
                }
            }
        }
        value_ty == Type::Never
    }

    /// The `T` of a `T?`, or an error.
    fn optional_inner(&mut self, t: &Type, span: Span) -> Type {
        match t {
            Type::Optional(inner) => (**inner).clone(),
            Type::Error | Type::Never => Type::Error,
            other => {
                self.error(
                    Diagnostic::error(
                        "not-optional",
                        format!("expected an optional, found `{other}`"),
                    )
                    .with_label(span, "`if let` and `while let` unwrap a `T?`"),
                );
                Type::Error
            }
        }
    }

    fn expect(&mut self, actual: &Type, expected: &Type, span: Span) {
        if !fits(actual, expected) {
            self.mismatch(actual, expected, span);
        }
    }

    fn mismatch(&mut self, actual: &Type, expected: &Type, span: Span) {
        let mut d = Diagnostic::error(
            "type-mismatch",
            format!("expected `{expected}`, found `{actual}`"),
        )
        .with_label(span, format!("this is a `{actual}`"));
        if let Type::Optional(inner) = actual {
            if fits(inner, expected) {
                d = d.with_note("unwrap the optional with `x!` or `if let v = x { ... }`");
            }
        }
        self.error(d);
    }

    /// Like `expect`, but a `T` where `T?` is wanted is wrapped (recorded for codegen).
    fn coerce(&mut self, e: &Expr, actual: &Type, expected: &Type) {
        if fits(actual, expected) {
            return;
        }
        if let Type::Optional(inner) = expected {
            if fits(actual, inner) && *actual != Type::Nil {
                self.out.coercions.insert(e.id, Coercion::WrapOptional);
                return;
            }
        }
        self.mismatch(actual, expected, e.span);
    }

    fn set(&mut self, e: &Expr, t: Type) -> Type {
        self.out.expr_types[e.id as usize] = t.clone();
        t
    }

    // ----- expressions ------------------------------------------------------

    /// `want`: the type the context expects, if any. It guides `[]`, `nil`
    /// and closures, and says the value is used (an `if` then needs an `else`).
    fn check_expr(&mut self, e: &'a Expr, want: Option<&Type>) -> Type {
        let t = self.expr_type(e, want);
        self.set(e, t)
    }

    fn expr_type(&mut self, e: &'a Expr, want: Option<&Type>) -> Type {
        match &e.kind {
            ExprKind::Int(_) => Type::Int,
            ExprKind::Float(_) => Type::Float,
            ExprKind::Bool(_) => Type::Bool,
            ExprKind::Nil => Type::Nil,
            ExprKind::Str(parts) => {
                for p in parts {
                    if let StrPart::Expr(inner) = p {
                        let t = self.check_expr(inner, ANY);
                        if matches!(t, Type::Unit) {
                            self.error(
                                Diagnostic::error(
                                    "no-value",
                                    "this expression has no value to interpolate",
                                )
                                .with_label(inner.span, "produces no value"),
                            );
                        }
                    }
                }
                Type::Str
            }
            ExprKind::Name(name) => self.check_name(e, name),
            ExprKind::Array(items) => {
                let want_elem = match want {
                    Some(Type::Array(t)) => Some((**t).clone()),
                    _ => None,
                };
                let mut elem: Option<Type> = want_elem.clone();
                for item in items {
                    let t = self.check_expr(item, elem.as_ref().or(ANY));
                    if t == Type::Unit {
                        self.error(
                            Diagnostic::error("no-value", "this expression has no value")
                                .with_label(item.span, "an array element must be a value"),
                        );
                        self.set(item, Type::Error);
                        continue;
                    }
                    match &elem {
                        None if !matches!(t, Type::Never | Type::Nil | Type::Error) => {
                            elem = Some(t)
                        }
                        Some(expected) => {
                            let expected = expected.clone();
                            self.coerce(item, &t, &expected);
                        }
                        None => {}
                    }
                }
                match elem {
                    Some(t) => Type::Array(Box::new(t)),
                    None if items
                        .iter()
                        .any(|i| self.out.expr_types[i.id as usize].is_error()) =>
                    {
                        Type::Error
                    }
                    None => {
                        self.error(
                            Diagnostic::error(
                                "cannot-infer",
                                "cannot infer the element type of this array",
                            )
                            .with_label(e.span, "write `[T]()` for an empty array"),
                        );
                        Type::Error
                    }
                }
            }
            ExprKind::Construct(ty, args) => {
                let t = self.resolve_type(ty);
                match &t {
                    Type::Array(_) | Type::Map(..) => {
                        if !args.is_empty() {
                            self.error(
                                Diagnostic::error(
                                    "wrong-argument-count",
                                    format!("`{t}()` takes no arguments"),
                                )
                                .with_label(e.span, "remove the arguments"),
                            );
                        }
                        t
                    }
                    Type::Chan(_) => {
                        match args.as_slice() {
                            [cap] => {
                                let c = self.check_expr(cap, Some(&Type::Int));
                                self.coerce(cap, &c, &Type::Int);
                            }
                            _ => {
                                for a in args {
                                    self.check_expr(a, ANY);
                                }
                                self.error(
                                    Diagnostic::error(
                                        "wrong-argument-count",
                                        format!("`{t}(capacity)` takes one argument"),
                                    )
                                    .with_label(
                                        e.span,
                                        "write `Chan[T](0)` for an unbuffered channel",
                                    ),
                                );
                            }
                        }
                        t
                    }
                    Type::Error => Type::Error,
                    _ => {
                        self.error(
                            Diagnostic::error(
                                "invalid-constructor",
                                format!("`{t}` cannot be constructed this way"),
                            )
                            .with_label(
                                e.span,
                                "only `[T]()`, `Map[K, V]()` and `Chan[T](n)` construct like this",
                            ),
                        );
                        Type::Error
                    }
                }
            }
            ExprKind::StructLit { name, fields } => self.check_struct_lit(e, name, fields),
            ExprKind::Unary(op, inner) => {
                let t = self.check_expr(inner, ANY);
                match (op, &t) {
                    (_, Type::Error | Type::Never) => t,
                    (UnOp::Neg, Type::Int | Type::Float) => t,
                    (UnOp::Not, Type::Bool | Type::Int) => t,
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
                let lt = self.check_expr(l, ANY);
                let hint = if matches!(lt, Type::Nil | Type::Error | Type::Never) {
                    None
                } else {
                    Some(lt.clone())
                };
                let rt = self.check_expr(r, hint.as_ref().or(ANY));
                self.binary_type(*op, &lt, &rt, e.span, l.span, r.span)
            }
            ExprKind::Call(callee, args) => self.check_call(e, callee, args),
            ExprKind::Field(base, field) => self.check_field(e, base, field),
            ExprKind::Index(base, index) => {
                let bt = self.check_expr(base, ANY);
                match bt {
                    Type::Array(elem) => {
                        let it = self.check_expr(index, Some(&Type::Int));
                        self.expect(&it, &Type::Int, index.span);
                        *elem
                    }
                    Type::Map(k, v) => {
                        let it = self.check_expr(index, Some(&k));
                        self.expect(&it, &k, index.span);
                        *v
                    }
                    Type::Error | Type::Never => {
                        self.check_expr(index, ANY);
                        Type::Error
                    }
                    other => {
                        self.check_expr(index, ANY);
                        self.error(
                            Diagnostic::error("not-indexable", format!("cannot index a `{other}`"))
                                .with_label(base.span, "only arrays and maps can be indexed"),
                        );
                        Type::Error
                    }
                }
            }
            ExprKind::Unwrap(inner) => {
                let t = self.check_expr(inner, ANY);
                match t {
                    Type::Optional(inner) => *inner,
                    Type::Error | Type::Never => Type::Error,
                    other => {
                        self.error(
                            Diagnostic::error(
                                "not-optional",
                                format!("cannot unwrap a `{other}` with `!`"),
                            )
                            .with_label(e.span, "`!` unwraps an optional `T?`"),
                        );
                        Type::Error
                    }
                }
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
            ExprKind::If { cond, then, els } => {
                let c = self.check_expr(cond, Some(&Type::Bool));
                self.expect(&c, &Type::Bool, cond.span);
                self.check_if_arms(e, then, els.as_deref(), want)
            }
            ExprKind::IfLet {
                name,
                value,
                then,
                els,
            } => {
                let t = self.check_expr(value, ANY);
                let inner = self.optional_inner(&t, value.span);
                self.push_scope();
                self.new_local(name, inner, false);
                let result = self.check_if_arms(e, then, els.as_deref(), want);
                self.pop_scope();
                result
            }
            ExprKind::Block(b) => self.check_block(b, want).0,
            ExprKind::Closure { params, ret, body } => {
                self.check_closure(e, params, ret.as_ref(), body)
            }
            ExprKind::Error => Type::Error,
            ExprKind::Match(scrutinee, arms) => self.check_match(e, scrutinee, arms, want),
            ExprKind::Await(inner) => self.check_await(e, inner),
            ExprKind::Spawn(inner) => self.check_spawn(e, inner),
            ExprKind::Select(arms) => self.check_select(e, arms),
        }
    }

    /// The arms of `if` / `if let` (the `then` block is checked here, the
    /// condition by the caller).
    fn check_if_arms(
        &mut self,
        e: &Expr,
        then: &'a Block,
        els: Option<&'a Expr>,
        want: Option<&Type>,
    ) -> Type {
        let (tt, tdiv) = self.check_block(then, want);
        match els {
            None => {
                if want.is_some() && !matches!(tt, Type::Unit | Type::Never | Type::Error) {
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
                // An optional is expected: each arm is checked against it
                // (`if c { "a" } else { nil }` is a `string?`).
                let optional = want.filter(|w| matches!(w, Type::Optional(_)));
                let hint = match (&tt, want) {
                    _ if optional.is_some() => optional.cloned(),
                    (Type::Never | Type::Nil | Type::Error, w) => w.cloned(),
                    (t, Some(_)) => Some(t.clone()),
                    (_, None) => None,
                };
                let et = self.check_expr(els, hint.as_ref().or(want));
                if let Some(w) = optional {
                    if fits_optional(&tt, w) && fits_optional(&et, w) {
                        if let Some(tail) = block_tail(then) {
                            self.coerce(tail, &tt, w);
                        }
                        self.coerce(els, &et, w);
                        return w.clone();
                    }
                }
                if want.is_none() {
                    return if tdiv && et == Type::Never {
                        Type::Never
                    } else {
                        Type::Unit
                    };
                }
                match (&tt, &et) {
                    (Type::Never, _) => et,
                    (_, Type::Never) => tt,
                    (Type::Nil, Type::Optional(_)) => et,
                    (Type::Optional(_), Type::Nil) => tt,
                    _ if fits(&et, &tt) => tt,
                    _ => {
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
    }

    fn check_name(&mut self, e: &Expr, name: &str) -> Type {
        if let Some(id) = self.lookup_local(name) {
            self.out.names.insert(e.id, Res::Local(id));
            return self.out.locals[id as usize].ty.clone();
        }
        let ident = Ident {
            name: name.to_string(),
            span: e.span,
        };
        match self.lookup_item(std::slice::from_ref(&ident)) {
            Some(ItemRef::Fn(f)) => self.fn_value(e, f),
            Some(ItemRef::Generic(g)) => self.generic_as_value(e, g),
            Some(ItemRef::Struct(_)) => {
                self.error(
                    Diagnostic::error("type-as-value", format!("`{name}` is a type, not a value"))
                        .with_label(e.span, format!("build one with `{name} {{ ... }}`")),
                );
                Type::Error
            }
            None => {
                let d = if self.modules[self.module as usize]
                    .imports
                    .contains_key(name)
                {
                    Diagnostic::error(
                        "module-as-value",
                        format!("`{name}` is a module, not a value"),
                    )
                    .with_label(e.span, format!("use its items as `{name}.item`"))
                } else {
                    Diagnostic::error(
                        "unknown-name",
                        format!("cannot find `{name}` in this scope"),
                    )
                    .with_label(e.span, "not found")
                };
                self.error(d);
                Type::Error
            }
        }
    }

    fn generic_as_value(&mut self, e: &Expr, g: u32) -> Type {
        let name = self.generics[g as usize].decl.name.name.clone();
        self.error(
            Diagnostic::error(
                "generic-as-value",
                format!("`{name}` is generic: it can only be called"),
            )
            .with_label(
                e.span,
                "its type arguments come from the arguments of a call",
            ),
        );
        Type::Error
    }

    /// A call of a generic function: the arguments are checked first, the
    /// type arguments inferred from their types, and the call goes to the
    /// instance for them (made on first use).
    fn generic_call(&mut self, e: &'a Expr, callee: &'a Expr, g: u32, args: &'a [Expr]) -> Type {
        let types: Vec<Type> = args.iter().map(|a| self.check_expr(a, ANY)).collect();
        let Generic { decl, .. } = self.generics[g as usize];
        let name = decl.name.name.clone();
        if decl.params.len() != args.len() {
            let span = Some(decl.name.span);
            self.wrong_argument_count(e.span, &name, decl.params.len(), args.len(), span);
            return Type::Error;
        }
        if types.iter().any(|t| t.contains_error()) {
            return Type::Error;
        }
        let names: Vec<String> = decl.type_params.iter().map(|t| t.name.clone()).collect();
        let mut bound = HashMap::new();
        for (p, t) in decl.params.iter().zip(&types) {
            if let Some(te) = &p.ty {
                unify(te, t, &names, &mut bound);
            }
        }
        let mut targs = Vec::new();
        for n in &names {
            match bound.get(n) {
                Some(t) => targs.push(t.clone()),
                None => {
                    self.error(
                        Diagnostic::error(
                            "cannot-infer-type",
                            format!("cannot infer the type `{n}` of this call of `{name}`"),
                        )
                        .with_label(e.span, format!("no argument says what `{n}` is")),
                    );
                    return Type::Error;
                }
            }
        }
        let key = format!("{g}:{targs:?}");
        let f = match self.instances.get(&key) {
            Some(&f) => f,
            None => {
                let parent = self.ctx.first().map(|c| c.fn_id);
                let parent = parent.filter(|p| self.instance_parent.contains_key(p));
                if self.instance_chain(parent).len() >= MAX_INSTANCE_DEPTH {
                    self.runaway_instantiation(e, &name, &targs, parent);
                    return Type::Error;
                }
                match self.instantiate(g, &names, &targs) {
                    Some(f) => {
                        self.instances.insert(key, f);
                        self.instance_parent.insert(f, parent);
                        f
                    }
                    None => return Type::Error,
                }
            }
        };
        self.prechecked = Some(types);
        self.direct_call(e, callee, f, args)
    }

    /// The instances that led to `from`, innermost first.
    fn instance_chain(&self, mut from: Option<FnId>) -> Vec<FnId> {
        let mut chain = Vec::new();
        while let Some(f) = from {
            chain.push(f);
            from = self.instance_parent.get(&f).copied().flatten();
        }
        chain
    }

    /// A generic function that instantiates itself at ever larger types
    /// (`f[T]` calling `f` at `[T]`) would make instances until memory ran
    /// out: one located error with the chain, and no more instances of it.
    fn runaway_instantiation(
        &mut self,
        e: &Expr,
        name: &str,
        targs: &[Type],
        parent: Option<FnId>,
    ) {
        let shown: Vec<String> = targs.iter().map(|t| t.to_string()).collect();
        let chain = self.instance_chain(parent);
        let mut d = Diagnostic::error(
            "instantiation-too-deep",
            format!(
                "instantiating `{name}[{}]` goes {MAX_INSTANCE_DEPTH} generic instances deep",
                shown.join(", ")
            ),
        )
        .with_label(e.span, "this call asks for yet another instance");
        let symbol = |f: &FnId| self.out.fns[*f as usize].symbol.clone();
        let mut notes: Vec<String> = chain.iter().rev().take(3).map(symbol).collect();
        if chain.len() > 6 {
            notes.push(format!("... {} more ...", chain.len() - 6));
        }
        notes.extend(
            chain
                .iter()
                .take(3.min(chain.len().saturating_sub(3)))
                .rev()
                .map(symbol),
        );
        d = d.with_note(format!("instantiated through: {}", notes.join(" -> ")));
        d = d.with_note(
            "a generic function must not call itself at a type built from its own type parameter",
        );
        self.error(d);
    }

    /// The instance of generic function `g` for `targs`: its source parsed
    /// again (fresh expression ids; spans tagged with a new instance number
    /// so tables keyed by span tell instances apart) and declared with the
    /// type parameters bound. Its body is checked like any function's.
    fn instantiate(&mut self, g: u32, names: &[String], targs: &[Type]) -> Option<FnId> {
        let Generic { decl, module } = self.generics[g as usize];
        let (source, file) = {
            let m = &self.modules[module as usize];
            (m.source, m.file)
        };
        self.next_instance += 1;
        let instance = self.next_instance;
        let (mut tokens, _) = crate::lexer::lex(source, file);
        tokens.retain(|t| t.span.start >= decl.span.start && t.span.end <= decl.span.end);
        for t in &mut tokens {
            t.span.instance = instance;
        }
        let (ast, next, diags) = crate::parser::parse_from(tokens, file, self.next_expr_id);
        self.next_expr_id = next;
        self.out.expr_types.resize(next as usize, Type::Error);
        // The AST lives as long as the program's: `Typed` refers into it.
        let ast: &'a Module = Box::leak(Box::new(ast));
        let Some(Item::Fn(copy)) = ast.items.first() else {
            self.diags.extend(diags);
            return None;
        };
        let saved_module = std::mem::replace(&mut self.module, module);
        let args: HashMap<String, Type> =
            names.iter().cloned().zip(targs.iter().cloned()).collect();
        let saved_args = std::mem::replace(&mut self.type_args, args.clone());
        let id = self.declare_fn(copy, None);
        let shown: Vec<String> = targs.iter().map(|t| t.to_string()).collect();
        let info = &mut self.out.fns[id as usize];
        info.symbol = format!("{}[{}]", info.symbol, shown.join(", "));
        self.instance_args.insert(id, args);
        self.type_args = saved_args;
        self.module = saved_module;
        Some(id)
    }

    fn fn_value(&mut self, e: &Expr, f: FnId) -> Type {
        self.out.names.insert(e.id, Res::Fn(f));
        let info = &self.out.fns[f as usize];
        if info.is_async {
            // Calling the value would run the coroutine's ramp as if it
            // were the function: not until async function values exist.
            let name = info.name.clone();
            self.error(
                Diagnostic::error(
                    "async-fn-value",
                    format!("the async function `{name}` cannot be used as a value"),
                )
                .with_label(
                    e.span,
                    format!("call it: `await {name}(...)` or `spawn {name}(...)`"),
                ),
            );
            return Type::Error;
        }
        Type::Func(info.param_types.clone(), Box::new(info.ret.clone()))
    }

    fn check_struct_lit(&mut self, e: &Expr, path: &[Ident], fields: &'a [(Ident, Expr)]) -> Type {
        let found = self
            .lookup_item(path)
            .filter(|r| matches!(r, ItemRef::Struct(i) if !self.out.structs[*i as usize].is_enum));
        let Some(ItemRef::Struct(id)) = found else {
            let name = path
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
                .join(".");
            self.error(
                Diagnostic::error("unknown-type", format!("unknown struct `{name}`"))
                    .with_label(e.span, "not a struct in scope"),
            );
            for (_, v) in fields {
                self.check_expr(v, ANY);
            }
            return Type::Error;
        };
        self.out.struct_lits.insert(e.id, id);
        let decl: Vec<(String, Type)> = self.out.structs[id as usize].fields.clone();
        let sname = self.out.structs[id as usize].name.clone();
        let mut seen = vec![false; decl.len()];
        for (name, value) in fields {
            match decl.iter().position(|(n, _)| *n == name.name) {
                Some(i) => {
                    let expected = decl[i].1.clone();
                    let t = self.check_expr(value, Some(&expected));
                    self.coerce(value, &t, &expected);
                    if seen[i] {
                        self.error(
                            Diagnostic::error(
                                "duplicate-field",
                                format!("the field `{}` is given twice", name.name),
                            )
                            .with_label(name.span, "given again here"),
                        );
                    }
                    seen[i] = true;
                }
                None => {
                    self.check_expr(value, ANY);
                    self.error(
                        Diagnostic::error(
                            "unknown-field",
                            format!("`{sname}` has no field `{}`", name.name),
                        )
                        .with_label(name.span, "unknown field"),
                    );
                }
            }
        }
        let missing: Vec<&str> = decl
            .iter()
            .zip(&seen)
            .filter(|(_, s)| !**s)
            .map(|((n, _), _)| n.as_str())
            .collect();
        if !missing.is_empty() {
            self.error(
                Diagnostic::error(
                    "missing-field",
                    format!(
                        "missing field{} {} in `{sname}`",
                        plural(missing.len()),
                        missing
                            .iter()
                            .map(|m| format!("`{m}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
                .with_label(e.span, "every field needs a value"),
            );
        }
        Type::Struct(id)
    }

    fn check_field(&mut self, e: &'a Expr, base: &'a Expr, field: &Ident) -> Type {
        // `module.item` used as a value.
        if let ExprKind::Name(m) = &base.kind {
            if self.lookup_local_quiet(m).is_none()
                && self.modules[self.module as usize].imports.contains_key(m)
            {
                let path = [
                    Ident {
                        name: m.clone(),
                        span: base.span,
                    },
                    field.clone(),
                ];
                return match self.lookup_item(&path) {
                    Some(ItemRef::Fn(f)) => self.fn_value(e, f),
                    Some(ItemRef::Generic(g)) => self.generic_as_value(e, g),
                    _ => {
                        self.error(
                            Diagnostic::error(
                                "unknown-name",
                                format!("module `{m}` has no public item `{}`", field.name),
                            )
                            .with_label(field.span, "not found"),
                        );
                        Type::Error
                    }
                };
            }
        }
        if let Some(t) = self.enum_variant(e, base, field, None) {
            return t;
        }
        let bt = self.check_expr(base, ANY);
        match &bt {
            Type::Struct(id) => {
                let info = &self.out.structs[*id as usize];
                if let Some((index, t)) = info.field(&field.name) {
                    let t = t.clone();
                    self.out.fields.insert(e.id, index);
                    return t;
                }
                let d = if info.methods.contains_key(&field.name) {
                    Diagnostic::error(
                        "method-as-value",
                        format!("`{}` is a method; call it", field.name),
                    )
                    .with_label(field.span, format!("write `.{}(...)`", field.name))
                } else {
                    Diagnostic::error(
                        "unknown-field",
                        format!("`{}` has no field `{}`", info.name, field.name),
                    )
                    .with_label(field.span, "unknown field")
                };
                self.error(d);
                Type::Error
            }
            Type::Error | Type::Never => Type::Error,
            other => {
                self.error(
                    Diagnostic::error(
                        "unknown-field",
                        format!("`{other}` has no field `{}`", field.name),
                    )
                    .with_label(field.span, "unknown field"),
                );
                Type::Error
            }
        }
    }

    /// Looks a local up without capturing it.
    fn lookup_local_quiet(&self, name: &str) -> Option<LocalId> {
        self.ctx
            .iter()
            .rev()
            .find_map(|c| c.scopes.iter().rev().find_map(|s| s.get(name).copied()))
    }

    /// `E.V` (unit variant, `args` None) or `E.V(args)` when `base` names an
    /// enum `E` (not shadowed by a local). `None` when `base` is not an enum.
    fn enum_variant(
        &mut self,
        e: &Expr,
        base: &Expr,
        variant: &Ident,
        args: Option<&'a [Expr]>,
    ) -> Option<Type> {
        let ExprKind::Name(name) = &base.kind else {
            return None;
        };
        if self.lookup_local_quiet(name).is_some() {
            return None;
        }
        let ident = Ident {
            name: name.clone(),
            span: base.span,
        };
        let Some(ItemRef::Struct(id)) = self.lookup_item(std::slice::from_ref(&ident)) else {
            return None;
        };
        let info = &self.out.structs[id as usize];
        if !info.is_enum {
            return None;
        }
        let Some(tag) = info.variant(&variant.name) else {
            if args.is_some() && info.methods.contains_key(&variant.name) {
                return None; // a static method of the enum
            }
            for a in args.unwrap_or_default() {
                self.check_expr(a, ANY);
            }
            self.error(
                Diagnostic::error(
                    "unknown-variant",
                    format!("`{name}` has no variant `{}`", variant.name),
                )
                .with_label(variant.span, "not a variant of this enum"),
            );
            return Some(Type::Error);
        };
        let payload = info.variants[tag].1.clone();
        self.out.variants.insert(e.id, (id, tag));
        match args {
            Some(args) => {
                self.check_args(
                    e,
                    &variant.name,
                    &payload,
                    args,
                    Some(info_span(&self.out.structs[id as usize])),
                );
            }
            None if !payload.is_empty() => {
                self.error(
                    Diagnostic::error(
                        "wrong-argument-count",
                        format!(
                            "the variant `{name}.{}` holds {} value{}",
                            variant.name,
                            payload.len(),
                            plural(payload.len())
                        ),
                    )
                    .with_label(e.span, format!("write `{name}.{}(...)`", variant.name)),
                );
            }
            None => {}
        }
        Some(Type::Enum(id))
    }

    fn check_match(
        &mut self,
        e: &'a Expr,
        scrutinee: &'a Expr,
        arms: &'a [MatchArm],
        want: Option<&Type>,
    ) -> Type {
        let st = self.check_expr(scrutinee, ANY);
        let mut result: Option<Type> = None;
        let mut all_diverge = true;
        for arm in arms {
            self.push_scope();
            self.check_pattern(&arm.pattern, &st);
            let hint = match (&result, want) {
                (Some(t), Some(_)) if !matches!(t, Type::Nil | Type::Never) => Some(t.clone()),
                _ => want.cloned(),
            };
            let t = self.check_expr(&arm.body, hint.as_ref());
            self.pop_scope();
            all_diverge &= t == Type::Never;
            if want.is_none() || t == Type::Never {
                continue;
            }
            match &result {
                None => result = Some(t),
                Some(Type::Nil) if matches!(t, Type::Optional(_)) => result = Some(t),
                Some(r) if fits(&t, r) => {}
                Some(r) => {
                    let r = r.clone();
                    self.error(
                        Diagnostic::error(
                            "branch-type-mismatch",
                            "`match` arms have different types",
                        )
                        .with_label(arm.body.span, format!("this is a `{t}`"))
                        .with_label(arms[0].body.span, format!("the first arm is a `{r}`")),
                    );
                    result = Some(Type::Error);
                }
            }
        }
        self.check_exhaustive(e, &st, arms);
        if all_diverge && !arms.is_empty() {
            return Type::Never;
        }
        match want {
            None => Type::Unit,
            Some(_) => result.unwrap_or(Type::Unit),
        }
    }

    /// Checks a pattern against the type it matches, declaring its bindings.
    fn check_pattern(&mut self, pat: &'a Pattern, ty: &Type) {
        let mismatch = |cx: &mut Self, span: Span, what: &str| {
            if !ty.contains_error() {
                cx.error(
                    Diagnostic::error(
                        "pattern-type-mismatch",
                        format!("a {what} pattern cannot match a `{ty}`"),
                    )
                    .with_label(span, "this pattern"),
                );
            }
        };
        match pat {
            Pattern::Wildcard(_) => {}
            Pattern::Binding(name) => {
                if let Type::Enum(id) = ty {
                    if let Some(tag) = self.out.structs[*id as usize].variant(&name.name) {
                        if self.out.structs[*id as usize].variants[tag].1.is_empty() {
                            self.out.pattern_variants.insert(name.span, (*id, tag));
                            return;
                        }
                    }
                }
                // The arm's scope holds only what its pattern binds so far.
                let first = self
                    .cx()
                    .scopes
                    .last()
                    .and_then(|scope| scope.get(&name.name))
                    .copied();
                if let Some(first) = first {
                    let mut d = Diagnostic::error(
                        "duplicate-binding",
                        format!("the pattern binds `{}` twice", name.name),
                    )
                    .with_label(name.span, "bound again here");
                    if let Some(at) = self.local_span(first) {
                        d = d.with_label(at, "first bound here");
                    }
                    self.error(d);
                }
                self.new_local_by(name, ty.clone(), false, "a pattern binding");
            }
            Pattern::Int(_, span) => {
                if !matches!(ty, Type::Int | Type::Error) {
                    mismatch(self, *span, "integer");
                }
            }
            Pattern::Str(_, span) => {
                if !matches!(ty, Type::Str | Type::Error) {
                    mismatch(self, *span, "string");
                }
            }
            Pattern::Bool(_, span) => {
                if !matches!(ty, Type::Bool | Type::Error) {
                    mismatch(self, *span, "bool");
                }
            }
            Pattern::Nil(span) => {
                if !matches!(ty, Type::Optional(_) | Type::Error) {
                    mismatch(self, *span, "`nil`");
                }
            }
            Pattern::Variant { path, args, span } => {
                let Type::Enum(id) = ty else {
                    mismatch(self, *span, "variant");
                    for a in args {
                        self.check_pattern(a, &Type::Error);
                    }
                    return;
                };
                let id = *id;
                let last = path.last().map(|p| p.name.as_str()).unwrap_or("");
                let info = &self.out.structs[id as usize];
                let qualifier_ok =
                    path.len() == 1 || (path.len() == 2 && path[0].name == info.name);
                let Some(tag) = info.variant(last).filter(|_| qualifier_ok) else {
                    let ename = info.name.clone();
                    self.error(
                        Diagnostic::error(
                            "unknown-variant",
                            format!("`{ename}` has no variant `{last}`"),
                        )
                        .with_label(*span, "not a variant of the matched enum"),
                    );
                    for a in args {
                        self.check_pattern(a, &Type::Error);
                    }
                    return;
                };
                let payload = info.variants[tag].1.clone();
                if payload.len() != args.len() {
                    self.error(
                        Diagnostic::error(
                            "wrong-pattern-arity",
                            format!(
                                "the variant `{last}` holds {} value{}, the pattern has {}",
                                payload.len(),
                                plural(payload.len()),
                                args.len()
                            ),
                        )
                        .with_label(*span, "wrong number of sub-patterns"),
                    );
                }
                self.out.pattern_variants.insert(*span, (id, tag));
                for (i, a) in args.iter().enumerate() {
                    let t = payload.get(i).cloned().unwrap_or(Type::Error);
                    self.check_pattern(a, &t);
                }
            }
        }
    }

    /// Every value of the scrutinee's type must be matched by some arm whose
    /// pattern cannot fail (nested refutable patterns do not count).
    fn check_exhaustive(&mut self, e: &Expr, ty: &Type, arms: &[MatchArm]) {
        if ty.contains_error() {
            return;
        }
        let irrefutable = |cx: &Self, p: &Pattern| -> bool {
            fn go(cx_variants: &HashMap<Span, (StructId, usize)>, p: &Pattern) -> bool {
                match p {
                    Pattern::Wildcard(_) => true,
                    Pattern::Binding(n) => !cx_variants.contains_key(&n.span),
                    _ => false,
                }
            }
            go(&cx.out.pattern_variants, p)
        };
        if arms.iter().any(|a| irrefutable(self, &a.pattern)) {
            return;
        }
        let missing: Vec<String> = match ty {
            Type::Enum(id) => {
                let info = &self.out.structs[*id as usize];
                let mut covered = vec![false; info.variants.len()];
                for arm in arms {
                    let (span, args): (Span, &[Pattern]) = match &arm.pattern {
                        Pattern::Variant { span, args, .. } => (*span, args),
                        Pattern::Binding(n) => (n.span, &[]),
                        _ => continue,
                    };
                    if let Some(&(_, tag)) = self.out.pattern_variants.get(&span) {
                        if args.iter().all(|a| irrefutable(self, a)) {
                            covered[tag] = true;
                        }
                    }
                }
                info.variants
                    .iter()
                    .zip(&covered)
                    .filter(|(_, c)| !**c)
                    .map(|((n, p), _)| {
                        if p.is_empty() {
                            n.clone()
                        } else {
                            format!("{n}(..)")
                        }
                    })
                    .collect()
            }
            Type::Bool => {
                let has = |b: bool| {
                    arms.iter()
                        .any(|a| matches!(a.pattern, Pattern::Bool(v, _) if v == b))
                };
                [true, false]
                    .iter()
                    .filter(|b| !has(**b))
                    .map(|b| b.to_string())
                    .collect()
            }
            Type::Optional(_) if arms.iter().any(|a| matches!(a.pattern, Pattern::Nil(_))) => {
                vec!["a non-nil value".into()]
            }
            _ => vec!["`_`".into()],
        };
        if !missing.is_empty() {
            self.error(
                Diagnostic::error(
                    "non-exhaustive-match",
                    format!("this `match` does not cover {}", missing.join(", ")),
                )
                .with_label(e.span, "some values match no arm")
                .with_note("add the missing arms, or a `_ => ...` arm"),
            );
        }
    }

    /// Whether `e` is a call of an `async fn` (checked already).
    fn is_async_call(&self, e: &Expr) -> bool {
        matches!(self.out.calls.get(&e.id), Some(Callee::Fn(f) | Callee::Method(f)) if self.out.fns[*f as usize].is_async)
    }

    fn in_async(&self) -> bool {
        self.ctx.last().is_some_and(|c| c.is_async)
    }

    /// `select { v = ch.recv() => {..} ch.send(x) => {..} time.after(ms) => {..} }`.
    fn check_select(&mut self, e: &Expr, arms: &'a [SelectArm]) -> Type {
        self.not_in_defer("select", e.span);
        if !self.in_async() {
            self.error(
                Diagnostic::error("select-outside-async", "`select` outside of an `async fn`")
                    .with_label(e.span, "`select` waits, and only async functions can wait"),
            );
        }
        if arms.is_empty() {
            self.error(
                Diagnostic::error("empty-select", "a `select` needs at least one arm")
                    .with_label(e.span, "this would wait forever"),
            );
        }
        for arm in arms {
            let saved = (
                self.async_call_ok.replace(arm.op.id),
                self.after_ok.replace(arm.op.id),
            );
            let t = self.check_expr(&arm.op, ANY);
            (self.async_call_ok, self.after_ok) = saved;
            let op = match self.out.calls.get(&arm.op.id) {
                Some(Callee::ChanRecv) => Some(SelectOp::Recv),
                Some(Callee::ChanSend) => Some(SelectOp::Send),
                Some(Callee::Fn(f)) if self.out.fns[*f as usize].symbol == AFTER_SYMBOL => {
                    Some(SelectOp::After)
                }
                _ => None,
            };
            match op {
                Some(op) => {
                    self.out.select_ops.insert(arm.op.id, op);
                }
                None if !t.contains_error() => self.error(
                    Diagnostic::error(
                        "invalid-select-arm",
                        "a `select` arm waits on `ch.recv()`, `ch.send(v)` or `time.after(ms)`",
                    )
                    .with_label(arm.op.span, "not a channel operation or `time.after`"),
                ),
                None => {}
            }
            self.push_scope();
            if let Some(binding) = &arm.binding {
                let ty = if op == Some(SelectOp::Recv) {
                    t
                } else {
                    if op.is_some() {
                        self.error(
                            Diagnostic::error("select-binding", "only a `recv` arm binds a value")
                                .with_label(binding.span, "remove `name =`"),
                        );
                    }
                    Type::Error
                };
                self.new_local(binding, ty, false);
            }
            self.check_block(&arm.body, None);
            self.pop_scope();
        }
        Type::Unit
    }

    /// `return`, `yield` and `await` cannot appear in a `defer`.
    fn not_in_defer(&mut self, what: &str, span: Span) {
        if self.ctx.last().is_some_and(|c| c.in_defer) {
            self.error(
                Diagnostic::error("control-flow-in-defer", format!("`{what}` inside a `defer`"))
                    .with_label(span, "not allowed here")
                    .with_note(
                        "a `defer` runs while its block exits, also when a task is cancelled or panics: it can neither leave the block nor wait",
                    ),
            );
        }
    }

    fn check_await(&mut self, e: &Expr, inner: &'a Expr) -> Type {
        self.not_in_defer("await", e.span);
        if !self.in_async() {
            self.check_expr(inner, ANY);
            self.error(
                Diagnostic::error("await-outside-async", "`await` outside of an `async fn`")
                    .with_label(
                        e.span,
                        "only async functions can await; mark this function `async fn`",
                    ),
            );
            return Type::Error;
        }
        let saved = self.async_call_ok.replace(inner.id);
        let t = self.check_expr(inner, ANY);
        self.async_call_ok = saved;
        if self.is_async_call(inner) {
            self.out.awaits.insert(e.id, AwaitKind::Call);
            return t;
        }
        if matches!(
            self.out.calls.get(&inner.id),
            Some(Callee::ChanSend | Callee::ChanRecv)
        ) {
            self.out.awaits.insert(e.id, AwaitKind::Chan);
            return t;
        }
        match t {
            Type::Task(result) => {
                self.out.awaits.insert(e.id, AwaitKind::Task);
                *result
            }
            Type::Error | Type::Never => Type::Error,
            other => {
                self.error(
                    Diagnostic::error("await-non-async", format!("cannot `await` a `{other}`"))
                        .with_label(
                            inner.span,
                            "expected a call of an `async fn` or a `Task[T]`",
                        ),
                );
                Type::Error
            }
        }
    }

    fn check_spawn(&mut self, e: &Expr, inner: &'a Expr) -> Type {
        let saved = self.async_call_ok.replace(inner.id);
        let t = self.check_expr(inner, ANY);
        self.async_call_ok = saved;
        if !self.is_async_call(inner) {
            if !t.contains_error() {
                self.error(
                    Diagnostic::error("spawn-non-async", "`spawn` needs a call of an `async fn`")
                        .with_label(inner.span, "not an async call"),
                );
            }
            return Type::Error;
        }
        if !self.in_async() {
            self.error(
                Diagnostic::error("spawn-outside-async", "`spawn` outside of an `async fn`")
                    .with_label(
                    e.span,
                    "tasks run on the scheduler of an `async fn main`; spawn them from async code",
                ),
            );
        }
        Type::Task(Box::new(t))
    }

    fn check_closure(
        &mut self,
        e: &'a Expr,
        params: &'a [Param],
        ret: Option<&TypeExpr>,
        body: &'a Block,
    ) -> Type {
        self.check_unique_names(
            params.iter().map(|p| &p.name),
            "parameter",
            "duplicate-parameter",
        );
        let mut param_types = Vec::new();
        for p in params {
            match &p.ty {
                Some(t) => param_types.push(self.resolve_type(t)),
                None => {
                    self.error(
                        Diagnostic::error("closure-param-type", "closure parameters need a type")
                            .with_label(p.span, "write `name: type`"),
                    );
                    param_types.push(Type::Error);
                }
            }
        }
        let ret = match ret {
            Some(t) => self.resolve_type(t),
            None => Type::Unit,
        };
        let parent = self.cx().fn_id;
        let id = self.out.fns.len() as FnId;
        let symbol = format!("{}.closure{}", self.out.fns[parent as usize].symbol, e.id);
        self.out.fns.push(FnInfo {
            symbol,
            name: "closure".into(),
            params: Vec::new(),
            param_types: param_types.clone(),
            ret: ret.clone(),
            span: e.span,
            source: FnSource::Closure(e),
            captures: Vec::new(),
            is_closure: true,
            yields: None,
            is_async: false,
        });
        self.out.names.insert(e.id, Res::Fn(id));
        self.ctx.push(FnContext {
            fn_id: id,
            scopes: vec![HashMap::new()],
            ret: ret.clone(),
            yields: None,
            is_async: false,
            loops: Vec::new(),
            in_defer: false,
        });
        self.body(id, params, &param_types, body, &ret, e.span);
        self.ctx.pop();
        Type::Func(param_types, Box::new(ret))
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
        if lt.contains_error() || rt.contains_error() {
            return match op {
                Eq | Ne | Lt | Le | Gt | Ge | And | Or => Type::Bool,
                _ => Type::Error,
            };
        }
        let mismatch = |cx: &mut Self, what: &str| {
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
            Add if same && *operand == Type::Str => Type::Str,
            Add | Sub | Mul | Div | Rem => {
                if same && operand.is_numeric() {
                    operand.clone()
                } else {
                    mismatch(self, "both sides must be `int` or both `float` (convert with `float(x)` or `int(x)`)")
                }
            }
            Lt | Le | Gt | Ge => {
                if same && (operand.is_numeric() || *operand == Type::Str) {
                    Type::Bool
                } else {
                    mismatch(self, "both sides must be `int`, `float` or `string`")
                }
            }
            Eq | Ne => {
                let nil_check = (matches!(lt, Type::Optional(_)) && *rt == Type::Nil)
                    || (*lt == Type::Nil && matches!(rt, Type::Optional(_)));
                if same && !matches!(operand, Type::Unit | Type::Nil) || nil_check {
                    Type::Bool
                } else if *lt == Type::Nil || *rt == Type::Nil {
                    mismatch(self, "only an optional `T?` can be compared with `nil`")
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

    fn check_args(
        &mut self,
        call: &Expr,
        name: &str,
        params: &[Type],
        args: &'a [Expr],
        decl: Option<Span>,
    ) {
        if let Some(types) = self.prechecked.take() {
            if params.len() == args.len() {
                for ((p, a), t) in params.iter().zip(args).zip(&types) {
                    self.coerce(a, t, p);
                }
                return;
            }
        }
        if params.len() != args.len() {
            for a in args {
                self.check_expr(a, ANY);
            }
            self.wrong_argument_count(call.span, name, params.len(), args.len(), decl);
            return;
        }
        for (p, a) in params.iter().zip(args) {
            let t = self.check_expr(a, Some(p));
            self.coerce(a, &t, p);
        }
    }

    fn wrong_argument_count(
        &mut self,
        call: Span,
        name: &str,
        expected: usize,
        given: usize,
        decl: Option<Span>,
    ) {
        let mut d = Diagnostic::error(
            "wrong-argument-count",
            format!(
                "`{name}` takes {expected} argument{} but {given} {} given",
                plural(expected),
                if given == 1 { "was" } else { "were" }
            ),
        )
        .with_label(call, "wrong number of arguments");
        if let Some(decl) = decl {
            d = d.with_label(decl, "defined here");
        }
        self.error(d);
    }

    fn check_call(&mut self, e: &'a Expr, callee: &'a Expr, args: &'a [Expr]) -> Type {
        match &callee.kind {
            ExprKind::Name(name) if self.lookup_local_quiet(name).is_none() => {
                let ident = Ident {
                    name: name.clone(),
                    span: callee.span,
                };
                match self.lookup_item(std::slice::from_ref(&ident)) {
                    Some(ItemRef::Fn(f)) => return self.direct_call(e, callee, f, args),
                    Some(ItemRef::Generic(g)) => return self.generic_call(e, callee, g, args),
                    Some(ItemRef::Struct(_)) => {
                        self.error(
                            Diagnostic::error("type-as-value", format!("`{name}` is a struct; build it with `{name} {{ field: value }}`"))
                                .with_label(callee.span, "not a function"),
                        );
                        return Type::Error;
                    }
                    None => return self.builtin_call(e, callee, name, args),
                }
            }
            ExprKind::Field(base, method) => {
                if let Some(t) = self.method_call(e, callee, base, method, args) {
                    return t;
                }
            }
            _ => {}
        }
        let ft = self.check_expr(callee, ANY);
        match ft {
            Type::Func(params, ret) => {
                self.out.calls.insert(e.id, Callee::Indirect);
                self.check_args(e, "this function", &params, args, None);
                *ret
            }
            Type::Error | Type::Never => {
                for a in args {
                    self.check_expr(a, ANY);
                }
                Type::Error
            }
            other => {
                for a in args {
                    self.check_expr(a, ANY);
                }
                self.error(
                    Diagnostic::error("not-callable", format!("a `{other}` cannot be called"))
                        .with_label(callee.span, "not a function"),
                );
                Type::Error
            }
        }
    }

    fn direct_call(&mut self, e: &Expr, callee: &Expr, f: FnId, args: &'a [Expr]) -> Type {
        self.out.names.insert(callee.id, Res::Fn(f));
        self.out.calls.insert(e.id, Callee::Fn(f));
        if self.out.fns[f as usize].is_async && self.async_call_ok != Some(e.id) {
            let name = self.out.fns[f as usize].name.clone();
            self.error(
                Diagnostic::error("async-call-without-await", format!("`{name}` is an `async fn`: call it with `await` or `spawn`"))
                    .with_label(e.span, format!("write `await {name}(...)` to wait for it, or `spawn {name}(...)` to run it as a task")),
            );
        }
        if self.out.fns[f as usize].symbol == AFTER_SYMBOL && self.after_ok != Some(e.id) {
            self.error(
                Diagnostic::error("after-outside-select", "`time.after(ms)` is a `select` arm")
                    .with_label(e.span, "use it as `time.after(ms) => { ... }` in a `select`; to wait, `await time.sleep(ms)`"),
            );
        }
        let info = &self.out.fns[f as usize];
        let (params, ret, decl, name) = (
            info.param_types.clone(),
            info.ret.clone(),
            info.span,
            info.name.clone(),
        );
        self.check_args(e, &name, &params, args, Some(decl));
        ret
    }

    /// `base.method(args)`: a module function, a struct method or static
    /// method, or a built-in method of arrays, maps and strings. `None` when
    /// `base.method` is a field holding a function value.
    fn method_call(
        &mut self,
        e: &'a Expr,
        callee: &'a Expr,
        base: &'a Expr,
        method: &Ident,
        args: &'a [Expr],
    ) -> Option<Type> {
        if let ExprKind::Name(m) = &base.kind {
            if self.lookup_local_quiet(m).is_none() {
                if self.modules[self.module as usize].imports.contains_key(m) {
                    let path = [
                        Ident {
                            name: m.clone(),
                            span: base.span,
                        },
                        method.clone(),
                    ];
                    return Some(match self.lookup_item(&path) {
                        Some(ItemRef::Fn(f)) => self.direct_call(e, callee, f, args),
                        Some(ItemRef::Generic(g)) => self.generic_call(e, callee, g, args),
                        _ => {
                            for a in args {
                                self.check_expr(a, ANY);
                            }
                            self.error(
                                Diagnostic::error(
                                    "unknown-name",
                                    format!(
                                        "module `{m}` has no public function `{}`",
                                        method.name
                                    ),
                                )
                                .with_label(method.span, "not found"),
                            );
                            Type::Error
                        }
                    });
                }
                let ident = Ident {
                    name: m.clone(),
                    span: base.span,
                };
                if let Some(t) = self.enum_variant(e, base, method, Some(args)) {
                    return Some(t);
                }
                if let Some(ItemRef::Struct(s)) = self.lookup_item(std::slice::from_ref(&ident)) {
                    let found = self.out.structs[s as usize]
                        .methods
                        .get(&method.name)
                        .copied();
                    return Some(match found {
                        Some(f) => self.direct_call(e, callee, f, args),
                        None => {
                            for a in args {
                                self.check_expr(a, ANY);
                            }
                            self.error(
                                Diagnostic::error(
                                    "unknown-method",
                                    format!("`{m}` has no method `{}`", method.name),
                                )
                                .with_label(method.span, "not found"),
                            );
                            Type::Error
                        }
                    });
                }
            }
        }
        let bt = self.check_expr(base, ANY);
        let name = method.name.as_str();
        let arg_count_error = |cx: &mut Self, n: usize| {
            cx.error(
                Diagnostic::error(
                    "wrong-argument-count",
                    format!(
                        "`{name}` takes {n} argument{} but {} {} given",
                        plural(n),
                        args.len(),
                        if args.len() == 1 { "was" } else { "were" }
                    ),
                )
                .with_label(e.span, "wrong number of arguments"),
            );
        };
        let result = match &bt {
            Type::Struct(s) | Type::Enum(s) => {
                let info = &self.out.structs[*s as usize];
                if let Some(&f) = info.methods.get(name) {
                    let fi = &self.out.fns[f as usize];
                    let takes_self = matches!(fi.source, FnSource::Decl(d) if d.params.first().is_some_and(|p| p.ty.is_none()));
                    if !takes_self {
                        let sname = info.name.clone();
                        self.error(
                            Diagnostic::error(
                                "static-method-on-value",
                                format!("`{name}` has no `self`; call it as `{sname}.{name}(...)`"),
                            )
                            .with_label(method.span, "not a method of values"),
                        );
                        return Some(Type::Error);
                    }
                    let params = fi.param_types[1..].to_vec();
                    let (ret, decl, is_async) = (fi.ret.clone(), fi.span, fi.is_async);
                    if is_async && self.async_call_ok != Some(e.id) {
                        self.error(
                            Diagnostic::error("async-call-without-await", format!("`{name}` is an `async` method: call it with `await` or `spawn`"))
                                .with_label(e.span, format!("write `await x.{name}(...)` to wait for it, or `spawn x.{name}(...)` to run it as a task")),
                        );
                    }
                    self.out.calls.insert(e.id, Callee::Method(f));
                    self.check_args(e, name, &params, args, Some(decl));
                    return Some(ret);
                }
                if info.field(name).is_some() {
                    return None;
                }
                let sname = info.name.clone();
                self.error(
                    Diagnostic::error(
                        "unknown-method",
                        format!("`{sname}` has no method `{name}`"),
                    )
                    .with_label(method.span, "not found"),
                );
                Type::Error
            }
            Type::Array(elem) => {
                let elem = (**elem).clone();
                let (m, params, ret) = match name {
                    "len" => (ArrayMethod::Len, vec![], Type::Int),
                    "push" => (ArrayMethod::Push, vec![elem.clone()], Type::Unit),
                    "pop" => (
                        ArrayMethod::Pop,
                        vec![],
                        Type::Optional(Box::new(elem.clone())),
                    ),
                    _ => {
                        self.error(
                            Diagnostic::error(
                                "unknown-method",
                                format!("arrays have no method `{name}`"),
                            )
                            .with_label(method.span, "arrays have `len`, `push` and `pop`"),
                        );
                        return Some(Type::Error);
                    }
                };
                if params.len() != args.len() {
                    arg_count_error(self, params.len());
                    return Some(ret);
                }
                self.check_args(e, name, &params, args, None);
                self.out.calls.insert(e.id, Callee::Array(m));
                ret
            }
            Type::Map(k, v) => {
                let (k, v) = ((**k).clone(), (**v).clone());
                let (m, params, ret) = match name {
                    "get" => (
                        MapMethod::Get,
                        vec![k.clone()],
                        Type::Optional(Box::new(v.clone())),
                    ),
                    "has" => (MapMethod::Has, vec![k.clone()], Type::Bool),
                    "remove" => (MapMethod::Remove, vec![k.clone()], Type::Bool),
                    "len" => (MapMethod::Len, vec![], Type::Int),
                    "keys" => (MapMethod::Keys, vec![], Type::Array(Box::new(k.clone()))),
                    _ => {
                        self.error(
                            Diagnostic::error(
                                "unknown-method",
                                format!("maps have no method `{name}`"),
                            )
                            .with_label(
                                method.span,
                                "maps have `get`, `has`, `remove`, `len` and `keys`",
                            ),
                        );
                        return Some(Type::Error);
                    }
                };
                if params.len() != args.len() {
                    arg_count_error(self, params.len());
                    return Some(ret);
                }
                self.check_args(e, name, &params, args, None);
                self.out.calls.insert(e.id, Callee::Map(m));
                ret
            }
            Type::Task(_) if name == "done" => {
                if !args.is_empty() {
                    arg_count_error(self, 0);
                }
                self.out.calls.insert(e.id, Callee::TaskDone);
                Type::Bool
            }
            Type::Task(_) if name == "cancel" => {
                if !args.is_empty() {
                    arg_count_error(self, 0);
                }
                self.out.calls.insert(e.id, Callee::TaskCancel);
                Type::Unit
            }
            Type::Chan(elem) if matches!(name, "send" | "recv" | "close") => {
                let elem = (**elem).clone();
                let waits = name != "close";
                if waits && self.async_call_ok != Some(e.id) {
                    self.error(
                        Diagnostic::error(
                            "chan-op-without-await",
                            format!("`{name}` waits for the channel: write `await ch.{name}(...)`"),
                        )
                        .with_label(e.span, "this channel operation is not awaited"),
                    );
                }
                let (params, result, callee) = match name {
                    "send" => (vec![elem.clone()], Type::Unit, Callee::ChanSend),
                    "recv" => (vec![], Type::Optional(Box::new(elem)), Callee::ChanRecv),
                    _ => (vec![], Type::Unit, Callee::ChanClose),
                };
                if params.len() != args.len() {
                    arg_count_error(self, params.len());
                    for a in args {
                        self.check_expr(a, ANY);
                    }
                } else {
                    self.check_args(e, name, &params, args, None);
                }
                self.out.calls.insert(e.id, callee);
                result
            }
            Type::Gen(elem) if name == "next" => {
                if !args.is_empty() {
                    arg_count_error(self, 0);
                }
                self.out.calls.insert(e.id, Callee::GenNext);
                Type::Optional(elem.clone())
            }
            Type::Str if name == "len" => {
                if !args.is_empty() {
                    arg_count_error(self, 0);
                }
                self.out.calls.insert(e.id, Callee::StrLen);
                Type::Int
            }
            Type::Error | Type::Never => Type::Error,
            other => {
                self.error(
                    Diagnostic::error(
                        "unknown-method",
                        format!("`{other}` has no method `{name}`"),
                    )
                    .with_label(method.span, "not found"),
                );
                Type::Error
            }
        };
        Some(result)
    }

    fn builtin_call(&mut self, e: &'a Expr, callee: &Expr, name: &str, args: &'a [Expr]) -> Type {
        if let Some(x) = self.externs[self.module as usize].get(name) {
            let ExternSig { rf, params, ret } = x.clone();
            self.out.calls.insert(e.id, Callee::Runtime(rf));
            self.check_args(e, name, &params, args, None);
            return ret;
        }
        if self.modules[self.module as usize].is_stdlib {
            if let Some(t) = self.stdlib_intrinsic(e, name, args) {
                return t;
            }
        }
        let builtin = match name {
            "print" => Builtin::Print,
            "println" => Builtin::Println,
            "eprintln" => Builtin::Eprintln,
            "exit" => Builtin::Exit,
            "int" => Builtin::ToInt,
            "float" => Builtin::ToFloat,
            "str" => Builtin::Str,
            "len" => Builtin::Len,
            "assert" => Builtin::Assert,
            "panic" => Builtin::Panic,
            "args" => Builtin::Args,
            _ => {
                for a in args {
                    self.check_expr(a, ANY);
                }
                let d = if self.modules[self.module as usize]
                    .imports
                    .contains_key(name)
                {
                    Diagnostic::error(
                        "module-as-value",
                        format!("`{name}` is a module, not a function"),
                    )
                    .with_label(callee.span, format!("call its functions as `{name}.f()`"))
                } else {
                    Diagnostic::error(
                        "unknown-name",
                        format!("cannot find function `{name}` in this scope"),
                    )
                    .with_label(callee.span, "not found")
                };
                self.error(d);
                return Type::Error;
            }
        };
        self.out.calls.insert(e.id, Callee::Builtin(builtin));
        let (min, max) = match builtin {
            Builtin::Println | Builtin::Eprintln => (0, 1),
            Builtin::Assert => (1, 2),
            Builtin::Args => (0, 0),
            _ => (1, 1),
        };
        let arg_types: Vec<Type> = args
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let hint = match (builtin, i) {
                    (Builtin::Exit, _) => Some(Type::Int),
                    (Builtin::Assert, 0) => Some(Type::Bool),
                    (Builtin::Assert, 1) | (Builtin::Panic, _) => Some(Type::Str),
                    _ => None,
                };
                // Every argument is a value (an `if` or `match` too).
                self.check_expr(a, hint.as_ref().or(ANY))
            })
            .collect();
        let result = match builtin {
            Builtin::Exit | Builtin::Panic => Type::Never,
            Builtin::ToInt | Builtin::Len => Type::Int,
            Builtin::ToFloat => Type::Float,
            Builtin::Str => Type::Str,
            Builtin::Args => Type::Array(Box::new(Type::Str)),
            _ => Type::Unit,
        };
        if args.len() < min || args.len() > max {
            let n = if min == max {
                format!("{min}")
            } else {
                format!("{min} or {max}")
            };
            self.error(
                Diagnostic::error(
                    "wrong-argument-count",
                    format!(
                        "`{name}` takes {n} argument{} but {} {} given",
                        plural(max),
                        args.len(),
                        if args.len() == 1 { "was" } else { "were" }
                    ),
                )
                .with_label(e.span, "wrong number of arguments"),
            );
            return result;
        }
        let no_value = |cx: &mut Self, t: &Type, a: &Expr| {
            if matches!(t, Type::Unit) {
                cx.error(
                    Diagnostic::error("no-value", "this expression has no value")
                        .with_label(a.span, "produces no value"),
                );
            }
        };
        match builtin {
            Builtin::Print | Builtin::Println | Builtin::Eprintln | Builtin::Str => {
                if let (Some(t), Some(a)) = (arg_types.first(), args.first()) {
                    no_value(self, t, a);
                }
            }
            Builtin::Exit => self.expect(&arg_types[0], &Type::Int, args[0].span),
            Builtin::Panic => self.expect(&arg_types[0], &Type::Str, args[0].span),
            Builtin::Assert => {
                self.expect(&arg_types[0], &Type::Bool, args[0].span);
                if let (Some(t), Some(a)) = (arg_types.get(1), args.get(1)) {
                    self.expect(t, &Type::Str, a.span);
                }
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
                        .with_label(
                            args[0].span,
                            "expected an `int` or a `float` (use strings.parse_int for strings)",
                        ),
                    );
                }
            }
            Builtin::Len => {
                if !matches!(
                    arg_types[0],
                    Type::Str | Type::Array(_) | Type::Map(..) | Type::Error | Type::Never
                ) {
                    let t = &arg_types[0];
                    self.error(
                        Diagnostic::error("invalid-operand", format!("`len` of a `{t}`"))
                            .with_label(args[0].span, "expected a string, array or map"),
                    );
                }
            }
            Builtin::Args => {}
        }
        result
    }

    /// `__sleep` (a suspend point) and `__llvm_*` (float intrinsics), which
    /// only standard-library modules may call (runtime functions are `extern fn`).
    fn stdlib_intrinsic(&mut self, e: &'a Expr, name: &str, args: &'a [Expr]) -> Option<Type> {
        use Type::*;
        let (callee, params, ret) = match name {
            "__sleep" => {
                if !self.in_async() {
                    self.error(
                        Diagnostic::error(
                            "await-outside-async",
                            "`__sleep` outside of an `async fn`",
                        )
                        .with_label(e.span, "only async functions can suspend"),
                    );
                }
                (Callee::Sleep, vec![Int], Unit)
            }
            _ => {
                let intrinsic: &'static str = match name {
                    "__llvm_sqrt" => "llvm.sqrt",
                    "__llvm_sin" => "llvm.sin",
                    "__llvm_cos" => "llvm.cos",
                    "__llvm_tan" => "llvm.tan",
                    "__llvm_exp" => "llvm.exp",
                    "__llvm_log" => "llvm.log",
                    "__llvm_log10" => "llvm.log10",
                    "__llvm_floor" => "llvm.floor",
                    "__llvm_ceil" => "llvm.ceil",
                    "__llvm_round" => "llvm.round",
                    "__llvm_trunc" => "llvm.trunc",
                    "__llvm_fabs" => "llvm.fabs",
                    "__llvm_pow" => "llvm.pow",
                    "__llvm_atan2" => "llvm.atan2",
                    "__llvm_minnum" => "llvm.minnum",
                    "__llvm_maxnum" => "llvm.maxnum",
                    _ => return None,
                };
                let arity = if matches!(
                    name,
                    "__llvm_pow" | "__llvm_atan2" | "__llvm_minnum" | "__llvm_maxnum"
                ) {
                    2
                } else {
                    1
                };
                (Callee::Intrinsic(intrinsic), vec![Float; arity], Float)
            }
        };
        self.out.calls.insert(e.id, callee);
        self.check_args(e, name, &params, args, None);
        Some(ret)
    }
}

fn info_span(info: &StructInfo) -> Span {
    info.span
}

/// Whether a value of type `actual` can be used where `expected` is wanted
/// without any conversion.
/// Whether a value of `actual` can stand where the optional `expected` is
/// wanted: as it is, or wrapped.
fn fits_optional(actual: &Type, expected: &Type) -> bool {
    match expected {
        Type::Optional(inner) => fits(actual, expected) || fits(actual, inner),
        _ => fits(actual, expected),
    }
}

/// The expression that gives a block its value, if it ends in one.
fn block_tail(block: &Block) -> Option<&Expr> {
    match block.stmts.last() {
        Some(Stmt::Expr(e)) => Some(e),
        _ => None,
    }
}

pub fn fits(actual: &Type, expected: &Type) -> bool {
    if actual == expected || matches!(actual, Type::Never | Type::Error) || expected.is_error() {
        return true;
    }
    match (actual, expected) {
        (Type::Nil, Type::Optional(_)) => true,
        (Type::Array(a), Type::Array(b)) | (Type::Optional(a), Type::Optional(b)) => {
            a.contains_error() || b.contains_error()
        }
        _ => actual.contains_error() || expected.contains_error(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{lexer, parser};

    /// The diagnostics of checking `main` (a program) importing `lib`, a
    /// standard-library module named `lib`.
    fn check_with_stdlib(lib: &str, main: &str) -> Vec<Diagnostic> {
        let (lib_tokens, _) = lexer::lex(lib, 1);
        let (lib_ast, next, lib_diags) = parser::parse_from(lib_tokens, 1, 0);
        let (main_tokens, _) = lexer::lex(main, 0);
        let (main_ast, count, main_diags) = parser::parse_from(main_tokens, 0, next);
        assert!(lib_diags.is_empty() && main_diags.is_empty());
        let modules = [
            SourceModule {
                name: "main".into(),
                file: 0,
                source: main,
                ast: &main_ast,
                is_stdlib: false,
                imports: HashMap::from([("lib".to_string(), 1)]),
            },
            SourceModule {
                name: "std.lib".into(),
                file: 1,
                source: lib,
                ast: &lib_ast,
                is_stdlib: true,
                imports: HashMap::new(),
            },
        ];
        check(&modules, count).1
    }

    fn ids(diags: &[Diagnostic]) -> Vec<&'static str> {
        diags.iter().map(|d| d.id).collect()
    }

    const MAIN: &str = "import lib\nfn main() { print(\"{lib.f()}\") }\n";

    #[test]
    fn extern_fn_calls_a_runtime_function() {
        let lib = "extern fn weft_now_ms() -> int\nfn f() -> int { return weft_now_ms() }\n";
        assert_eq!(ids(&check_with_stdlib(lib, MAIN)), Vec::<&str>::new());
    }

    #[test]
    fn extern_fn_must_name_a_runtime_function() {
        let lib = "extern fn weft_no_such() -> int\nfn f() -> int { return 1 }\n";
        assert_eq!(
            ids(&check_with_stdlib(lib, MAIN)),
            ["unknown-runtime-function"]
        );
    }

    #[test]
    fn extern_fn_must_have_the_runtime_signature() {
        for decl in [
            "extern fn weft_now_ms() -> float",
            "extern fn weft_now_ms(x: int) -> int",
            "extern fn weft_strings_find(s: string, sub: int) -> int",
        ] {
            let lib = format!("{decl}\nfn f() -> int {{ return 1 }}\n");
            let diags = check_with_stdlib(&lib, MAIN);
            assert_eq!(ids(&diags), ["extern-signature-mismatch"], "{decl}");
        }
    }

    #[test]
    fn extern_fn_is_private_to_its_module() {
        let lib = "extern fn weft_now_ms() -> int\nfn f() -> int { return 1 }\n";
        let main = "import lib\nfn main() { print(\"{lib.weft_now_ms()}\") }\n";
        assert_eq!(ids(&check_with_stdlib(lib, main)), ["unknown-name"]);
    }
}
