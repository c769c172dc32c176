//! Name resolution and type checking for a whole program (the root file and
//! every module it imports).
//!
//! A chain of passes (`check` shows it): the names of the types
//! (`declare_types`), of the module variables and constants
//! (`declare_globals`), the types' fields and variants
//! (`resolve_type_bodies`), the variables' annotated types, the constants'
//! values and the initialiser functions (`declare_global_types`), every
//! signature (`declare_functions`), then the bodies (`check_bodies`): one
//! walk per function gives every expression a `Type`, every local a
//! `LocalId`, and every name, call and coercion a resolution, all kept in side
//! tables (`Typed`) keyed by `ExprId` (unique across files) or declaration span,
//! which `tir::lower` turns into the typed IR codegen reads.
//! Errors are collected, not thrown; an erroneous expression gets
//! `Type::Error`, which fits everywhere so one mistake does not cascade.
//!
//! Closures are lambda-lifted here: each gets its own `FnId`, and a local it
//! uses from an enclosing function is marked `captured`, which makes codegen
//! keep that local in a heap cell shared by both (capture by reference).
//!
//! The files: `typed.rs` (the output: types and side tables), `declare.rs`
//! (the first pass, and type resolution), `locals.rs` (scopes and locals),
//! `stmts.rs` (function bodies and statements), `exprs.rs` (expressions,
//! struct literals, fields, closures, operators), `calls.rs` (calls and
//! methods), `builtins.rs` (the built-in functions and the standard
//! library's intrinsics), `generics.rs` (instantiating generic functions),
//! `generic_types.rs` (generic structs, enums and methods, and the inference
//! of type arguments), `patterns.rs`
//! (`match`, patterns and exhaustiveness), `globals.rs` (module `const`,
//! `let` and `var`), `interfaces.rs` (interfaces, `impl I for S`, dynamic
//! calls and bounds), `results.rs` (`Result`, `!` on it
//! and `?`), `contexts.rs` (`await`, `spawn`,
//! `select` and `defer` contexts).

mod builtins;
mod calls;
mod contexts;
mod declare;
mod exprs;
mod generic_types;
mod generics;
mod globals;
mod interfaces;
mod locals;
mod patterns;
mod results;
mod stmts;
#[cfg(test)]
mod tests;
mod typed;

pub use typed::*;

use crate::ast::*;
use crate::diagnostics::{DiagId, Diagnostic};
use std::collections::HashMap;
use std::fmt;
use weft_abi::{AbiType, RuntimeFn};

/// The expectation of a context that uses a value but wants no particular
/// type (`Type::Error` fits everything); `None` means the value is unused.
const ANY: Option<&Type> = Some(&Type::Error);

/// How many generic instances deep one instantiation may go.
const MAX_INSTANCE_DEPTH: usize = 64;

/// The names `resolve_type` gives built-in meanings; no struct or enum may take one.
const BUILTIN_TYPE_NAMES: [&str; 9] = [
    "int", "float", "bool", "string", "Bytes", "Map", "Gen", "Task", "Chan",
];

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
        pending_label: None,
        generic_types: Vec::new(),
        type_instances: HashMap::new(),
        generic_methods: HashMap::new(),
        instance_of: HashMap::new(),
        type_depth: 0,
        reported: std::collections::HashSet::new(),
        global_decls: Vec::new(),
        consts: Vec::new(),
        impls_done: std::collections::HashSet::new(),
        pending_impls: Vec::new(),
        pending_generic_impls: Vec::new(),
        prelude: modules
            .iter()
            .position(|m| m.is_stdlib && m.name == format!("std.{}", crate::modules::PRELUDE))
            .map(|p| p as ModId),
    };
    // Struct names for `Type`'s `Display`: this program's, as they are made.
    STRUCT_NAMES.with(|n| n.borrow_mut().clear());
    IFACE_NAMES.with(|n| n.borrow_mut().clear());
    // The chain of passes; each later one can rely on what the earlier made.
    cx.declare_types(modules);
    cx.declare_globals(modules);
    cx.resolve_type_bodies(modules);
    cx.declare_global_types(modules);
    cx.declare_functions(modules);
    cx.check_bodies();
    (cx.out, cx.diags)
}

#[derive(Clone, Copy, Debug)]
enum ItemRef {
    Fn(FnId),
    Struct(StructId),
    /// A generic function (index into `Checker::generics`).
    Generic(u32),
    /// A generic struct or enum (index into `Checker::generic_types`).
    GenericType(u32),
    /// A module-level `let` or `var`.
    Global(GlobalId),
    /// A `const` (index into `Checker::consts`).
    Const(u32),
    /// An interface.
    Interface(IfaceId),
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
    /// For each enclosing loop: its label, and whether a `break` leaves it.
    loops: Vec<(Option<String>, bool)>,
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
    /// The label of the loop statement about to be checked.
    pending_label: Option<String>,
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
    generic_types: Vec<generic_types::GenericType<'a>>,
    /// Instances of generic types by type and arguments.
    type_instances: HashMap<String, StructId>,
    /// The generic type each instance was made from.
    instance_of: HashMap<StructId, u32>,
    /// Methods with type parameters of their own, of non-generic types.
    generic_methods: HashMap<(StructId, String), generic_types::MethodTemplate<'a>>,
    /// How many generic type instances are being made, one inside another.
    type_depth: usize,
    /// Each diagnostic once: a generic declaration's text is resolved again
    /// per instance.
    reported: std::collections::HashSet<(&'static str, String, Span)>,
    /// The prelude module, whose public items every module sees.
    prelude: Option<ModId>,
    /// Each module variable's declaration, and whether its type is known
    /// yet (an unannotated one's comes from checking its initialiser).
    global_decls: Vec<(&'a GlobalDecl, bool)>,
    /// Each `const`: its declaration, module and value once evaluated.
    consts: Vec<globals::ConstSlot<'a>>,
    /// The instances of generic types whose interface implementations are
    /// made (`interfaces::instance_impls`).
    impls_done: std::collections::HashSet<StructId>,
    /// `impl I for S` blocks, checked once every method is declared.
    pending_impls: Vec<(ModId, StructId, &'a ImplDecl)>,
    pending_generic_impls: Vec<(ModId, u32, &'a ImplDecl)>,
}

impl Checker<'_, '_> {
    /// Pass 6: every function body (module initialisers first, which give
    /// unannotated module variables their types), and the closures and
    /// generic instances the bodies make as they are checked.
    fn check_bodies(&mut self) {
        let mut id = 0;
        loop {
            while (id as usize) < self.out.fns.len() {
                self.check_fn(id);
                id += 1;
            }
            // Every instance of a generic type that implements interfaces
            // gets its methods for them, whose bodies are then checked too.
            let before = self.out.fns.len();
            let mut instances: Vec<StructId> = self.instance_of.keys().copied().collect();
            instances.sort_unstable();
            for s in instances {
                self.instance_impls(s);
            }
            if self.out.fns.len() == before {
                break;
            }
        }
    }
}

/// The symbol of `time.after`, which only a `select` arm may call.
pub const AFTER_SYMBOL: &str = "std.time.after";

fn unsupported(what: &str, span: Span) -> Diagnostic {
    Diagnostic::error(DiagId::Unsupported, format!("{what} is not supported yet"))
        .with_label(span, "not supported by this version of weft")
}

/// `a.b.c` for messages.
fn path_text(path: &[Ident]) -> String {
    let parts: Vec<&str> = path.iter().map(|p| p.name.as_str()).collect();
    parts.join(".")
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

impl<'a> Checker<'a, '_> {
    pub(super) fn error(&mut self, d: Diagnostic) {
        let mut at = d.labels.first().map(|l| l.0).unwrap_or_default();
        at.instance = 0;
        if self.reported.insert((d.id, d.message.clone(), at)) {
            self.diags.push(d);
        }
    }

    // ----- declarations -------------------------------------------------
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
