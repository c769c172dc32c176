//! What the checker produces: the types of Weft values and the side tables
//! (`Typed`) the TIR is lowered from.

use super::*;

pub type LocalId = u32;
pub type FnId = u32;
pub type StructId = u32;
pub type ModId = u32;
pub type GlobalId = u32;
pub type IfaceId = u32;

/// An interface: its methods' signatures (after `self`), in declaration
/// order, which is the order of every implementation's method table.
#[derive(Clone, Debug)]
pub struct InterfaceInfo {
    pub name: String,
    pub methods: Vec<IfaceMethod>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct IfaceMethod {
    pub name: String,
    pub params: Vec<Type>,
    pub ret: Type,
    pub span: Span,
}

/// A module-level `let` or `var`.
#[derive(Debug)]
pub struct GlobalInfo {
    pub name: String,
    /// `module.name`: its LLVM symbol.
    pub symbol: String,
    pub ty: Type,
    pub mutable: bool,
}

/// The value of a `const`.
#[derive(Clone, Debug, PartialEq)]
pub enum ConstValue {
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(String),
}

impl ConstValue {
    pub fn ty(&self) -> Type {
        match self {
            ConstValue::Int(_) => Type::Int,
            ConstValue::Float(_) => Type::Float,
            ConstValue::Bool(_) => Type::Bool,
            ConstValue::Str(_) => Type::Str,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Type {
    Int,
    Float,
    Bool,
    Str,
    /// `Bytes`: a growable buffer of bytes (a runtime object).
    Bytes,
    Array(Box<Type>),
    Map(Box<Type>, Box<Type>),
    Optional(Box<Type>),
    Struct(StructId),
    /// An enum; its id indexes `Typed::structs` too (nominal types share one table).
    Enum(StructId),
    Func(Vec<Type>, Box<Type>),
    /// An async function value (`async fn(int) -> int`): a named `async fn`
    /// or an async closure, called only under `await` or `spawn`.
    AsyncFn(Vec<Type>, Box<Type>),
    /// A generator of `T` (`Gen[T]`): a coroutine frame.
    Gen(Box<Type>),
    /// A running task (`Task[T]`): the coroutine frame of a spawned async call.
    Task(Box<Type>),
    /// A channel of `T` (`Chan[T]`): a runtime object.
    Chan(Box<Type>),
    /// A value of an interface type: a box holding the value and its
    /// type's method table for the interface.
    Interface(IfaceId),
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
    pub(super) static STRUCT_NAMES: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
    pub(super) static IFACE_NAMES: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Int => f.write_str("int"),
            Type::Float => f.write_str("float"),
            Type::Bool => f.write_str("bool"),
            Type::Str => f.write_str("string"),
            Type::Bytes => f.write_str("Bytes"),
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
            Type::Interface(id) => {
                let name = IFACE_NAMES.with(|n| n.borrow().get(*id as usize).cloned());
                f.write_str(&name.unwrap_or_else(|| "interface".into()))
            }
            Type::Func(params, ret) | Type::AsyncFn(params, ret) => {
                if matches!(self, Type::AsyncFn(..)) {
                    f.write_str("async ")?;
                }
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
                | Type::Bytes
                | Type::Enum(_)
                | Type::Array(_)
                | Type::Map(..)
                | Type::Optional(_)
                | Type::Struct(_)
                | Type::Func(..)
                | Type::AsyncFn(..)
                | Type::Gen(_)
                | Type::Task(_)
                | Type::Chan(_)
                | Type::Interface(_)
                | Type::Nil
        )
    }
    /// `T?` is the same nullable reference as `T` when `T` is a non-optional
    /// reference; otherwise the value is boxed.
    pub fn optional_is_boxed(inner: &Type) -> bool {
        !inner.is_ref() || matches!(inner, Type::Optional(_) | Type::Nil)
    }
    pub(super) fn is_numeric(&self) -> bool {
        matches!(self, Type::Int | Type::Float | Type::Error | Type::Never)
    }
    pub(super) fn is_error(&self) -> bool {
        matches!(self, Type::Error)
    }
    pub(super) fn contains_error(&self) -> bool {
        match self {
            Type::Error => true,
            Type::Array(t) | Type::Optional(t) | Type::Gen(t) | Type::Task(t) | Type::Chan(t) => {
                t.contains_error()
            }
            Type::Map(k, v) => k.contains_error() || v.contains_error(),
            Type::Func(p, r) | Type::AsyncFn(p, r) => {
                p.iter().any(|t| t.contains_error()) || r.contains_error()
            }
            _ => false,
        }
    }
}

/// How a value is adapted to the type its context expects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coercion {
    /// `T` used where `T?` is expected: box it (or keep the reference).
    WrapOptional,
    /// A struct or enum value used where an interface it implements is
    /// expected: boxed with its method table.
    ToInterface(IfaceId),
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
    /// The name in messages; an instance of a generic type shows its
    /// arguments (`Pair[int, string]`).
    pub name: String,
    /// The declared name (`Pair`): what a printed value shows.
    pub base_name: String,
    pub fields: Vec<(String, Type)>,
    pub span: Span,
    pub methods: HashMap<String, FnId>,
    pub is_enum: bool,
    /// For enums: each variant's name and payload types; the tag is the index.
    pub variants: Vec<(String, Vec<Type>)>,
    /// An instance of a generic type: its type arguments.
    pub type_args: Vec<Type>,
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
    /// The initialisers of a module's `let`s and `var`s, in source order.
    Init(ModId),
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
    /// A module-level `let` or `var`.
    Global(GlobalId),
    /// A `const`: its value (`Typed::consts`).
    Const(u32),
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
    /// `Bytes()` or `Bytes(n)`.
    Bytes,
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
    Values,
    Clear,
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
    /// `s[i..j]` on a string.
    StrSlice,
    /// `s.byte(i)` on a string.
    StrByte,
    /// `g.next()` on a generator.
    GenNext,
    /// `t.done()` on a task.
    TaskDone,
    /// `__sleep(ms)` in the `time` module: suspends the task for `ms`.
    Sleep,
    /// `__wait(token)` in the `io` module: suspends the task until the I/O
    /// operation `token` completes (`runtime/src/io.rs`).
    Wait,
    /// `__yield()` in the `tasks` module: the task goes to the back of the
    /// ready queue and suspends, so every other ready task runs once.
    Yield,
    /// `__supervise()` in the `tasks` module: the running task belongs to a
    /// `tasks.Group` (state bit `SUPERVISED`).
    Supervise,
    /// `__running()` in the `tasks` module: the async coroutine running
    /// now, as an int (0 in synchronous code outside any task).
    Running,
    /// `t.cancel()` on a task.
    TaskCancel,
    /// `v.m(args)` on a value of an interface type: the method at `index`
    /// of the value's method table.
    Dynamic {
        iface: IfaceId,
        index: usize,
    },
    /// A method of a built-in type done by one runtime function: the
    /// receiver, the arguments, then (`located`) the call's source location.
    RtMethod {
        rf: RuntimeFn,
        located: bool,
    },
    /// `ch.send(v)`, `ch.recv()`, `ch.close()` on a channel.
    ChanSend,
    ChanRecv,
    ChanClose,
    /// `ch.len()` and `ch.cap()`.
    ChanLen,
    ChanCap,
    /// A standard-library `extern fn`: a runtime function.
    Runtime(RuntimeFn),
    /// `__llvm_*` in the standard library: an LLVM float intrinsic.
    Intrinsic(&'static str),
}

/// What a piece of sugar stands for; `tir::lower` builds it out of plain
/// nodes, with the hidden locals the checker made for it.
#[derive(Clone, Copy, Debug)]
pub enum Desugar {
    /// `r!` on the `Result` `result`: `match r { Ok(ok) => ok, Err(err) => panic(str(err)) }`.
    UnwrapResult {
        result: StructId,
        ok: LocalId,
        err: LocalId,
    },
    /// `r?`: `match r { Ok(ok) => ok, Err(err) => return Err(err) }`, the
    /// `Err` of the function's result type `ret`.
    TryResult {
        result: StructId,
        ok: LocalId,
        err: LocalId,
        ret: StructId,
    },
    /// `x?` on an optional: `if let value = x { value } else { return nil }`.
    TryOptional { value: LocalId },
}

/// Everything the TIR is lowered from beyond the ASTs (`tir/lower.rs`
/// reads the tables keyed by id or span; codegen only the ones by index).
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
    /// `r!` and `r?` on a `Result`, `x?` on an optional: what they stand for.
    pub desugars: HashMap<ExprId, Desugar>,
    /// What each `select` arm's operation (by its expression) waits for.
    pub select_ops: HashMap<ExprId, SelectOp>,
    pub locals: Vec<LocalInfo>,
    pub fns: Vec<FnInfo<'a>>,
    pub structs: Vec<StructInfo>,
    pub main: Option<FnId>,
    pub globals: Vec<GlobalInfo>,
    pub consts: Vec<ConstValue>,
    /// The functions that initialise module variables, in the order they
    /// run before `main` (a module after the modules it imports).
    pub inits: Vec<FnId>,
    /// Each initialiser function's assignments, in order.
    pub init_values: HashMap<FnId, Vec<(GlobalId, &'a Expr)>>,
    pub interfaces: Vec<InterfaceInfo>,
    /// `impl I for S`: the methods of `S` in the order of `I`'s.
    pub impls: HashMap<(StructId, IfaceId), Vec<FnId>>,
    /// The prelude's `Display`, which `str` and printing use.
    pub display: Option<IfaceId>,
}

impl Typed<'_> {
    pub fn ty(&self, e: &Expr) -> &Type {
        &self.expr_types[e.id as usize]
    }

    /// The `to_string` of a struct or enum type that implements `Display`.
    pub fn display_of(&self, t: &Type) -> Option<FnId> {
        let (Type::Struct(s) | Type::Enum(s)) = t else {
            return None;
        };
        let table = self.impls.get(&(*s, self.display?))?;
        table.first().copied()
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
