//! LLVM IR generation with inkwell, from the typed IR (`tir`); the checker's
//! `Typed` is read only for what is indexed by id (functions, structs, locals).
//!
//! Every local lives in an `alloca` made in the entry block; LLVM's own
//! passes promote them, so codegen stays simple and -O0 stays debuggable.
//! Values of `if` expressions go through an `alloca` too, for the same reason.
//! After anything that leaves the current block for good (`return`, `break`,
//! `exit`), code generation continues in a fresh block with no predecessors,
//! which LLVM deletes; that keeps the builder always positioned.
//!
//! GC references are `ptr addrspace(1)` natively (plain `ptr` on wasm32, whose
//! backend reserves addrspace(1)); codegen never roots anything itself: the
//! gc-frame-spill pass finds the references live across safepoints and the
//! GC-typed allocas, and keeps them in the shadow-stack root frame. Heap
//! objects (layouts, descriptors, strings, arrays, maps, optionals, `str`)
//! are built by `heap.rs`.
//!
//! User functions are `internal` and named by their module path; the only
//! exported symbol is `weft_main`, which the runtime's entry point calls.

/// The value of a lowered operand, or: return `Diverged` from the enclosing
/// lowering function when the operand diverged (the code after it is dead),
/// and an internal error when it had no value (the checker's `no-value`).
macro_rules! value {
    ($lowered:expr) => {
        match $lowered {
            $crate::codegen::Lowered::Value(v) => v,
            $crate::codegen::Lowered::Diverged => return Ok($crate::codegen::Lowered::Diverged),
            $crate::codegen::Lowered::Unit => return $crate::codegen::impossible("a unit operand"),
        }
    };
}

mod async_fn;
mod bytes;
mod caller;
mod calls;
mod channel;
mod coroutine;
mod defer;
mod heap;
mod interfaces;
mod matching;
mod panics;
mod runtime;
mod shape;

use crate::ast::{BinOp, Span, UnOp};
use crate::check::{Builtin, Callee, FnId, LocalId, Type, Typed};
use crate::diagnostics::SourceMap;
use crate::tbaa::{self, Class};
use crate::tir::*;
use inkwell::attributes::{Attribute, AttributeLoc};
use inkwell::basic_block::BasicBlock;
use inkwell::builder::{Builder, BuilderError};
use inkwell::context::Context;
use inkwell::intrinsics::Intrinsic;
use inkwell::module::{Linkage, Module};
use inkwell::types::{BasicMetadataTypeEnum, BasicType, BasicTypeEnum, FunctionType, PointerType};
use inkwell::values::{
    BasicMetadataValueEnum, BasicValueEnum, FunctionValue, GlobalValue, IntValue, PointerValue,
};
use inkwell::{AddressSpace, FloatPredicate, IntPredicate};
use std::collections::HashMap;
use weft_abi::symbols::ENTRY as ENTRY_SYMBOL;
use weft_abi::{AbiType, RuntimeFn};

pub(crate) type Result<T> = std::result::Result<T, CodegenError>;

/// Why lowering failed: LLVM's builder refused, or codegen met a shape the
/// checker should have ruled out. Both are internal compiler errors.
#[derive(Debug)]
pub enum CodegenError {
    Builder(BuilderError),
    Internal(String),
}

impl From<BuilderError> for CodegenError {
    fn from(e: BuilderError) -> Self {
        CodegenError::Builder(e)
    }
}

impl std::fmt::Display for CodegenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CodegenError::Builder(e) => write!(f, "{e}"),
            CodegenError::Internal(what) => f.write_str(what),
        }
    }
}

/// A shape the checker rules out, met anyway: an internal error, not a guess.
pub(crate) fn impossible<T>(what: &str) -> Result<T> {
    Err(CodegenError::Internal(format!("unexpected shape: {what}")))
}

/// What lowering an expression gave: a value, nothing (a unit expression),
/// or nothing because control never gets past it (a panic, `return`, ...).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Lowered<'ctx> {
    Value(BasicValueEnum<'ctx>),
    Unit,
    Diverged,
}

impl<'ctx> Lowered<'ctx> {
    /// The value, when there is one.
    fn value(self) -> Option<BasicValueEnum<'ctx>> {
        match self {
            Lowered::Value(v) => Some(v),
            _ => None,
        }
    }
}

/// The message of a panic.
enum PanicMsg<'ctx, 's> {
    Const(&'s str),
    /// A Weft string.
    Str(BasicValueEnum<'ctx>),
    /// `index {i} out of range for length {n}`.
    Index(IntValue<'ctx>, IntValue<'ctx>),
}
type Value<'ctx> = Lowered<'ctx>;

/// How the target wants GC references and object headers laid out.
#[derive(Clone, Copy)]
pub struct Layout {
    /// Address space of GC references: 1 natively, 0 on wasm32.
    pub gc_address_space: u16,
    /// Pointers are 4 bytes (wasm32): headers pad the descriptor pointer.
    pub ptr32: bool,
}

/// Everything that lives as long as the module: declarations, constant
/// data, descriptors, shapes and the functions made on demand.
struct ModuleState<'ctx> {
    fns: Vec<FunctionValue<'ctx>>,
    runtime: HashMap<RuntimeFn, FunctionValue<'ctx>>,
    bytes: HashMap<Vec<u8>, PointerValue<'ctx>>,
    strings: HashMap<String, PointerValue<'ctx>>,
    unit_variants: HashMap<String, PointerValue<'ctx>>,
    descs: HashMap<String, GlobalValue<'ctx>>,
    /// `shape.rs`: the shape of each type `str` has met, by its name.
    shapes: HashMap<String, inkwell::values::GlobalValue<'ctx>>,
    fn_values: HashMap<FnId, PointerValue<'ctx>>,
    /// Where each module variable lives: references in the slots of one
    /// root frame (`weft.globals`, linked at the bottom of the shadow stack
    /// by `weft_main`), scalars in plain globals.
    globals: Vec<PointerValue<'ctx>>,
    globals_frame: Option<GlobalValue<'ctx>>,
    /// `caller.rs`: where a tracked standard-library function was called from.
    caller: Option<(GlobalValue<'ctx>, GlobalValue<'ctx>)>,
}

/// What lowering one function keeps; a fresh one for each function.
#[derive(Default)]
struct FnState<'ctx> {
    current: Option<FunctionValue<'ctx>>,
    /// Each local's stack slot; for captured locals the slot holds the cell.
    locals: HashMap<LocalId, PointerValue<'ctx>>,
    /// (continue target, break target, scope depth of its body) for each enclosing loop.
    loops: Vec<(BasicBlock<'ctx>, BasicBlock<'ctx>, usize)>,
    /// The cleanups (`defer`s) of each enclosing block, innermost last.
    scopes: Vec<Vec<defer::Cleanup<'ctx>>>,
    /// In a coroutine that blocks on channels: the slot of its last one-arm
    /// select, which the runtime reuses.
    chan_cache: Option<PointerValue<'ctx>>,
    /// The function's arrays of interpolation pieces, one per nesting depth
    /// of interpolations (`heap::string_expr`), shared by all of them so
    /// the copies of a `defer` on each suspend's destroy edge use one.
    interp_slots: Vec<(PointerValue<'ctx>, u32)>,
    interp_depth: usize,
    /// Inside a generator's body: its coroutine.
    coro: Option<coroutine::CoroState<'ctx>>,
    /// In a tracked standard-library function (`caller.rs`): the slots of
    /// its copy of the caller's location.
    caller: Option<(PointerValue<'ctx>, PointerValue<'ctx>)>,
    /// In a coroutine: the one block that re-raises an awaited callee's
    /// panic for every `await` with no `defer` pending (`async_fn.rs`).
    reraise: Option<BasicBlock<'ctx>>,
}

pub struct Codegen<'ctx, 'a> {
    cx: &'ctx Context,
    pub module: Module<'ctx>,
    b: Builder<'ctx>,
    typed: &'a Typed<'a>,
    tir: &'a Program,
    sources: &'a SourceMap,
    layout: Layout,
    gc: PointerType<'ctx>,
    raw: PointerType<'ctx>,
    m: ModuleState<'ctx>,
    f: FnState<'ctx>,
}

impl<'ctx, 'a> Codegen<'ctx, 'a> {
    pub fn new(
        cx: &'ctx Context,
        name: &str,
        typed: &'a Typed<'a>,
        tir: &'a Program,
        sources: &'a SourceMap,
        layout: Layout,
    ) -> Self {
        Codegen {
            cx,
            module: cx.create_module(name),
            b: cx.create_builder(),
            typed,
            tir,
            sources,
            layout,
            gc: cx.ptr_type(AddressSpace::from(layout.gc_address_space)),
            raw: cx.ptr_type(AddressSpace::default()),
            m: ModuleState {
                fns: Vec::new(),
                runtime: HashMap::new(),
                bytes: HashMap::new(),
                strings: HashMap::new(),
                unit_variants: HashMap::new(),
                descs: HashMap::new(),
                shapes: HashMap::new(),
                fn_values: HashMap::new(),
                globals: Vec::new(),
                globals_frame: None,
                caller: None,
            },
            f: FnState::default(),
        }
    }

    /// Generates every function of the program, plus `weft_main`.
    pub fn generate(&mut self) -> Result<()> {
        for info in &self.typed.fns {
            let mut params: Vec<BasicMetadataTypeEnum> = Vec::new();
            if info.is_closure {
                params.push(self.gc.into());
            }
            params.extend(
                info.param_types
                    .iter()
                    .map(|t| BasicMetadataTypeEnum::from(self.llvm_type(t))),
            );
            // Calling an async function creates its coroutine: the result is the frame.
            let ret = if info.is_async {
                Type::Task(Box::new(info.ret.clone()))
            } else {
                info.ret.clone()
            };
            let fn_type = self.fn_type(&ret, &params);
            let f = self
                .module
                .add_function(&info.symbol, fn_type, Some(Linkage::Internal));
            self.add_attr(f, "nounwind");
            self.m.fns.push(f);
        }
        self.module_variables();
        for id in 0..self.typed.fns.len() {
            self.function(id as FnId)?;
        }
        self.entry()
    }

    /// A global for every module variable (see `ModuleState::globals`).
    fn module_variables(&mut self) {
        let refs = self.typed.globals.iter().filter(|g| g.ty.is_ref()).count() as u32;
        let i64t = self.cx.i64_type();
        let frame_ty = self.cx.struct_type(
            &[
                self.raw.into(),
                i64t.into(),
                self.gc.array_type(refs).into(),
            ],
            false,
        );
        let frame = (refs > 0).then(|| {
            let g = self
                .module
                .add_global(frame_ty, None, weft_abi::symbols::GLOBALS_FRAME);
            g.set_linkage(Linkage::Internal);
            g.set_initializer(&self.cx.const_struct(
                &[
                    self.raw.const_null().into(),
                    i64t.const_int(refs as u64, false).into(),
                    self.gc.array_type(refs).const_zero().into(),
                ],
                false,
            ));
            g
        });
        self.m.globals_frame = frame;
        let mut slot = 0;
        for info in &self.typed.globals {
            let p = match (info.ty.is_ref(), frame) {
                (true, Some(frame)) => {
                    let at = [
                        i64t.const_zero(),
                        self.cx.i32_type().const_int(2, false),
                        i64t.const_int(slot, false),
                    ];
                    slot += 1;
                    // SAFETY (LLVM): `slot` is below the array's length.
                    unsafe { frame.as_pointer_value().const_in_bounds_gep(frame_ty, &at) }
                }
                _ => {
                    let ty = self.llvm_type(&info.ty);
                    let g = self.module.add_global(ty, None, &info.symbol);
                    g.set_linkage(Linkage::Internal);
                    g.set_initializer(&ty.const_zero());
                    g.as_pointer_value()
                }
            };
            self.m.globals.push(p);
        }
    }

    /// `@weft_shadow_top`, the runtime's head of the shadow stack.
    fn shadow_top(&mut self) -> PointerValue<'ctx> {
        let name = weft_abi::symbols::SHADOW_TOP;
        let g = match self.module.get_global(name) {
            Some(g) => g,
            None => self.module.add_global(self.raw, None, name),
        };
        g.as_pointer_value()
    }

    fn fn_type(&self, ret: &Type, params: &[BasicMetadataTypeEnum<'ctx>]) -> FunctionType<'ctx> {
        match self.basic_type(ret) {
            Some(r) => r.fn_type(params, false),
            None => self.cx.void_type().fn_type(params, false),
        }
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
        if let Some(frame) = self.m.globals_frame {
            // The module variables' references: a root frame that stays at
            // the bottom of the shadow stack for the whole run.
            let top = self.shadow_top();
            let prev = self.b.build_load(self.raw, top, "shadow.prev")?;
            let frame = frame.as_pointer_value();
            self.b.build_store(frame, prev)?;
            self.b.build_store(top, frame)?;
        }
        for &init in &self.typed.inits {
            self.b.build_call(self.m.fns[init as usize], &[], "")?;
        }
        if let Some(main) = self.typed.main {
            if self.typed.fns[main as usize].is_async {
                self.run_async_main(self.m.fns[main as usize])?;
            } else {
                self.b.build_call(self.m.fns[main as usize], &[], "")?;
            }
        }
        self.b.build_return(None)?;
        // The scheduler's way into coroutines; defined in every program.
        self.scheduler_helpers()?;
        Ok(())
    }

    pub fn basic_type(&self, t: &Type) -> Option<BasicTypeEnum<'ctx>> {
        Some(match t {
            Type::Int => self.cx.i64_type().into(),
            Type::Float => self.cx.f64_type().into(),
            Type::Bool => self.cx.bool_type().into(),
            Type::Unit | Type::Never | Type::Error => return None,
            _ => self.gc.into(),
        })
    }

    fn llvm_type(&self, t: &Type) -> BasicTypeEnum<'ctx> {
        self.basic_type(t)
            .unwrap_or_else(|| self.cx.i8_type().into())
    }

    // ----- functions ------------------------------------------------------

    fn function(&mut self, id: FnId) -> Result<()> {
        let info = &self.typed.fns[id as usize];
        let tir: &'a Program = self.tir;
        let body = &tir.fns[id as usize].body;
        let f = self.m.fns[id as usize];
        self.f = FnState {
            current: Some(f),
            ..FnState::default()
        };
        let entry = self.cx.append_basic_block(f, "entry");
        self.b.position_at_end(entry);
        if info.yields.is_some() || info.is_async {
            return self.coroutine(id, body);
        }
        if self.tracked(id) {
            self.track_entry()?;
        }
        let offset = info.is_closure as u32;
        if info.is_closure {
            let env = f
                .get_nth_param(0)
                .expect("closure env")
                .into_pointer_value();
            env.set_name("env");
            for (i, &local) in info.captures.iter().enumerate() {
                let slot = self.entry_alloca(
                    self.gc.into(),
                    &format!("{}.cell", self.typed.locals[local as usize].name),
                )?;
                let cell = self.load_slot(env, 8 * (i as u64 + 1), &Type::Str)?;
                self.b.build_store(slot, cell)?;
                self.f.locals.insert(local, slot);
            }
        }
        for (i, &local) in info.params.iter().enumerate() {
            let name = self.typed.locals[local as usize].name.clone();
            let param = f
                .get_nth_param(i as u32 + offset)
                .expect("parameter count matches the signature");
            param.set_name(&name);
            self.declare_local_named(local, Some(param), &format!("{name}.addr"))?;
        }
        self.block(body)?;
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

    /// What a lowering that made no value gave: `Diverged` when control cannot
    /// reach the insertion point (its block ended, or codegen went on in a
    /// dead block after a jump that leaves for good), else `Unit`.
    fn nothing(&self) -> Lowered<'ctx> {
        let Some(bb) = self.b.get_insert_block() else {
            return Lowered::Unit;
        };
        let entry = self.f.current.and_then(|f| f.get_first_basic_block());
        if bb.get_terminator().is_some() || (bb.get_first_use().is_none() && Some(bb) != entry) {
            Lowered::Diverged
        } else {
            Lowered::Unit
        }
    }

    /// An LLVM call's result as a lowering: its value, or else `nothing`.
    fn lowered(&self, v: Option<BasicValueEnum<'ctx>>) -> Lowered<'ctx> {
        match v {
            Some(v) => Lowered::Value(v),
            None => self.nothing(),
        }
    }

    fn func(&self) -> FunctionValue<'ctx> {
        self.f.current.expect("inside a function")
    }

    /// Continues in a new block with no predecessors after a jump that leaves for good.
    fn dead_block(&mut self) {
        let bb = self.cx.append_basic_block(self.func(), "dead");
        self.b.position_at_end(bb);
    }

    /// An `alloca` in the entry block, where mem2reg can promote it.
    fn entry_alloca(&mut self, ty: BasicTypeEnum<'ctx>, name: &str) -> Result<PointerValue<'ctx>> {
        let entry = self
            .func()
            .get_first_basic_block()
            .expect("entry block exists");
        let tmp = self.cx.create_builder();
        match entry.get_first_instruction() {
            Some(first) => tmp.position_before(&first),
            None => tmp.position_at_end(entry),
        }
        Ok(tmp.build_alloca(ty, name)?)
    }

    /// Creates a local's slot, and its cell when a closure captures it.
    fn declare_local(&mut self, local: LocalId, init: Option<BasicValueEnum<'ctx>>) -> Result<()> {
        let name = self.typed.locals[local as usize].name.clone();
        self.declare_local_named(local, init, &name)
    }

    /// `declare_local` with the slot named `name`.
    fn declare_local_named(
        &mut self,
        local: LocalId,
        init: Option<BasicValueEnum<'ctx>>,
        name: &str,
    ) -> Result<()> {
        let info = &self.typed.locals[local as usize];
        let ty = info.ty.clone();
        if info.captured {
            let slot = self.entry_alloca(self.gc.into(), &format!("{}.cell", info.name))?;
            let cell = self.alloc_box(&ty)?;
            self.b.build_store(slot, cell)?;
            self.f.locals.insert(local, slot);
            if let Some(v) = init {
                let cell = self
                    .b
                    .build_load(self.gc, slot, "cell")?
                    .into_pointer_value();
                self.store_slot(cell, 0, &ty, v)?;
            }
        } else {
            let slot = self.entry_alloca(self.llvm_type(&ty), name)?;
            self.f.locals.insert(local, slot);
            if let Some(v) = init {
                self.b.build_store(slot, v)?;
            }
        }
        Ok(())
    }

    fn read_local(&mut self, local: LocalId) -> Result<BasicValueEnum<'ctx>> {
        let info = &self.typed.locals[local as usize];
        let ty = info.ty.clone();
        let name = info.name.clone();
        let slot = self.f.locals[&local];
        if info.captured {
            let cell = self
                .b
                .build_load(self.gc, slot, "cell")?
                .into_pointer_value();
            self.load_slot(cell, 0, &ty)
        } else {
            Ok(self.b.build_load(self.llvm_type(&ty), slot, &name)?)
        }
    }

    fn write_local(&mut self, local: LocalId, v: BasicValueEnum<'ctx>) -> Result<()> {
        let info = &self.typed.locals[local as usize];
        let ty = info.ty.clone();
        let slot = self.f.locals[&local];
        if info.captured {
            let cell = self
                .b
                .build_load(self.gc, slot, "cell")?
                .into_pointer_value();
            self.store_slot(cell, 0, &ty, v)
        } else {
            self.b.build_store(slot, v)?;
            Ok(())
        }
    }

    // ----- statements -------------------------------------------------------

    fn block(&mut self, block: &Block) -> Result<Value<'ctx>> {
        self.block_value(block, false)
    }

    fn block_value(&mut self, block: &Block, want_value: bool) -> Result<Value<'ctx>> {
        let last = block.stmts.len().saturating_sub(1);
        self.push_scope();
        let mut value = None;
        for (i, stmt) in block.stmts.iter().enumerate() {
            if self.terminated() {
                // Code after a statement that left (a panic, `return`, an
                // endless loop): compiled into a block nothing reaches.
                self.dead_block();
            }
            if want_value && i == last {
                if let Stmt::Expr(e) = stmt {
                    value = Some(self.expr(e)?);
                    break;
                }
            }
            self.stmt(stmt)?;
        }
        self.pop_scope()?;
        Ok(value.unwrap_or_else(|| self.nothing()))
    }

    fn stmt(&mut self, stmt: &Stmt) -> Result<()> {
        match stmt {
            Stmt::Let { local, value } => {
                let v = self.expr(value)?.value();
                self.declare_local(*local, v)?;
            }
            Stmt::Assign { target, op, value } => self.assign(target, *op, value)?,
            Stmt::Expr(e) => {
                self.expr(e)?;
            }
            Stmt::While { cond, body } => {
                let f = self.func();
                let head = self.cx.append_basic_block(f, "while.cond");
                let body_bb = self.cx.append_basic_block(f, "while.body");
                let exit = self.cx.append_basic_block(f, "while.end");
                self.b.build_unconditional_branch(head)?;
                self.b.position_at_end(head);
                match self.expr(cond)?.value() {
                    Some(c) => {
                        self.b
                            .build_conditional_branch(c.into_int_value(), body_bb, exit)?
                    }
                    None => self.b.build_unconditional_branch(exit)?,
                };
                self.b.position_at_end(body_bb);
                self.loop_body(body, head, exit)?;
                self.b.position_at_end(exit);
            }
            Stmt::WhileLet { local, value, body } => {
                let f = self.func();
                let head = self.cx.append_basic_block(f, "whilelet.cond");
                let body_bb = self.cx.append_basic_block(f, "whilelet.body");
                let exit = self.cx.append_basic_block(f, "whilelet.end");
                self.b.build_unconditional_branch(head)?;
                self.b.position_at_end(head);
                let opt_ty = value.ty.clone();
                if let Some((got, out, elem)) = self.recv_parts(value)? {
                    // `while let v = await ch.recv()`: no `T?` box.
                    self.b.build_conditional_branch(got, body_bb, exit)?;
                    self.b.position_at_end(body_bb);
                    let inner = self.read_out(out, &elem)?;
                    self.declare_local(*local, Some(inner))?;
                    self.loop_body(body, head, exit)?;
                } else if let Lowered::Value(v) = self.expr(value)? {
                    let is_nil = self.b.build_is_null(v.into_pointer_value(), "is.nil")?;
                    self.b.build_conditional_branch(is_nil, exit, body_bb)?;
                    self.b.position_at_end(body_bb);
                    let inner = self.unwrap_unchecked(v.into_pointer_value(), &opt_ty)?;
                    self.declare_local(*local, Some(inner))?;
                    self.loop_body(body, head, exit)?;
                } else {
                    self.b.build_unconditional_branch(exit)?;
                }
                self.b.position_at_end(exit);
            }
            Stmt::Loop(body) => {
                let f = self.func();
                let body_bb = self.cx.append_basic_block(f, "loop.body");
                let exit = self.cx.append_basic_block(f, "loop.end");
                self.b.build_unconditional_branch(body_bb)?;
                self.b.position_at_end(body_bb);
                self.loop_body(body, body_bb, exit)?;
                self.b.position_at_end(exit);
            }
            Stmt::For { local, iter, body } => match iter {
                Iter::Range {
                    start,
                    end,
                    inclusive,
                } => self.for_range(*local, start, end, *inclusive, body)?,
                Iter::Gen(g) => {
                    let Type::Gen(elem) = &g.ty else {
                        return impossible("a `for` over a non-generator");
                    };
                    self.for_gen(*local, g, elem, body)?;
                }
                Iter::Array(a) => {
                    let elem = match &a.ty {
                        Type::Array(elem) => (**elem).clone(),
                        // Each byte, as an int.
                        Type::Bytes => Type::Int,
                        _ => return impossible("a `for` over a non-array"),
                    };
                    self.for_array(*local, a, &elem, body)?;
                }
            },
            Stmt::Break(out) | Stmt::Continue(out) => {
                let at = self.f.loops.len().checked_sub(1 + out);
                if let Some(&(cont, brk, depth)) = at.and_then(|i| self.f.loops.get(i)) {
                    let target = if matches!(stmt, Stmt::Break(_)) {
                        brk
                    } else {
                        cont
                    };
                    self.run_cleanups(depth)?;
                    if !self.terminated() {
                        self.b.build_unconditional_branch(target)?;
                    }
                    self.dead_block();
                }
            }
            Stmt::Return(value) if self.f.coro.is_some() => {
                let ty = self.current_ret();
                self.coro_return(value.as_ref(), &ty)?;
            }
            Stmt::Yield(value) => {
                let ty = self.current_info_yields();
                self.yield_value(value, &ty)?;
            }
            Stmt::Return(value) => {
                let v = match value {
                    Some(v) => match self.expr(v)? {
                        Lowered::Value(v) => Some(v),
                        Lowered::Unit => None,
                        // `return f(panic(...))`: nothing is returned, and
                        // the code here is dead (a `ret void` here was invalid IR).
                        Lowered::Diverged => {
                            if !self.terminated() {
                                self.b.build_unreachable()?;
                            }
                            self.dead_block();
                            return Ok(());
                        }
                    },
                    None => None,
                };
                self.run_cleanups(0)?;
                if !self.terminated() {
                    match v {
                        Some(v) => self.b.build_return(Some(&v))?,
                        None => self.b.build_return(None)?,
                    };
                }
                self.dead_block();
            }
            Stmt::Defer(e) => self.defer(e),
        }
        Ok(())
    }

    /// What the current generator yields.
    fn current_info_yields(&self) -> Type {
        let f = self.func();
        let id = self.m.fns.iter().position(|g| *g == f).unwrap_or(0);
        self.typed.fns[id].yields.clone().unwrap_or(Type::Error)
    }

    fn current_ret(&self) -> Type {
        let f = self.func();
        let id = self.m.fns.iter().position(|g| *g == f).unwrap_or(0);
        self.typed.fns[id].ret.clone()
    }

    /// The body of a loop whose `continue` goes to `cont` and `break` to `exit`.
    fn loop_body(
        &mut self,
        body: &Block,
        cont: BasicBlock<'ctx>,
        exit: BasicBlock<'ctx>,
    ) -> Result<()> {
        self.f.loops.push((cont, exit, self.f.scopes.len()));
        self.block(body)?;
        self.f.loops.pop();
        if !self.terminated() {
            self.b.build_unconditional_branch(cont)?;
        }
        Ok(())
    }

    fn assign(&mut self, target: &Expr, op: Option<BinOp>, value: &Expr) -> Result<()> {
        let target_ty = target.ty.clone();
        // Evaluate the place's parts first, then the value, as written.
        enum Place<'ctx> {
            Local(LocalId),
            Global(PointerValue<'ctx>),
            Slot(PointerValue<'ctx>, u64),
            Element(PointerValue<'ctx>),
            MapEntry(PointerValue<'ctx>, BasicValueEnum<'ctx>),
            /// `b[i]` of a `Bytes`: read and written by runtime calls.
            Byte(PointerValue<'ctx>, BasicValueEnum<'ctx>),
        }
        let place = match &target.kind {
            ExprKind::Local(l) => Place::Local(*l),
            ExprKind::Global(g) => Place::Global(self.m.globals[*g as usize]),
            ExprKind::Field { base, index } => {
                let Lowered::Value(obj) = self.expr(base)? else {
                    return Ok(());
                };
                Place::Slot(obj.into_pointer_value(), 8 * *index as u64)
            }
            ExprKind::Index(base, index) => {
                let base_ty = base.ty.clone();
                let (Some(obj), Some(i)) = (self.expr(base)?.value(), self.expr(index)?.value())
                else {
                    return Ok(());
                };
                if let Type::Map(..) = base_ty {
                    Place::MapEntry(obj.into_pointer_value(), i)
                } else if let Type::Bytes = base_ty {
                    Place::Byte(obj.into_pointer_value(), i)
                } else {
                    let elem = self.array_element_ptr(
                        obj.into_pointer_value(),
                        i.into_int_value(),
                        index.span,
                    )?;
                    Place::Element(elem)
                }
            }
            _ => return impossible("an assignment to something not a place"),
        };
        let new_value = match op {
            None => self.expr(value)?.value(),
            Some(op) => {
                let old = match &place {
                    Place::Local(l) => self.read_local(*l)?,
                    Place::Global(p) => {
                        self.b
                            .build_load(self.llvm_type(&target_ty), *p, "global")?
                    }
                    Place::Slot(obj, off) => self.load_slot(*obj, *off, &target_ty)?,
                    Place::Element(p) => self.load_typed(*p, &target_ty, Some(Class::Element))?,
                    Place::MapEntry(m, k) => {
                        let base_ty = match &target.kind {
                            ExprKind::Index(base, _) => base.ty.clone(),
                            _ => Type::Error,
                        };
                        self.map_index(*m, *k, &base_ty, target.span)?
                    }
                    Place::Byte(b, i) => self.byte_at(*b, *i, target.span)?,
                };
                match self.expr(value)?.value() {
                    Some(rhs) => Some(self.binary_values(op, &target_ty, old, rhs, value.span)?),
                    None => None,
                }
            }
        };
        let Some(v) = new_value else { return Ok(()) };
        match place {
            Place::Local(l) => self.write_local(l, v)?,
            Place::Global(p) => {
                self.b.build_store(p, v)?;
            }
            Place::Slot(obj, off) => self.store_slot(obj, off, &target_ty, v)?,
            Place::Element(p) => self.store_typed(p, &target_ty, v, Some(Class::Element))?,
            Place::MapEntry(m, k) => {
                let key_ty = match &target.kind {
                    ExprKind::Index(_, index) => index.ty.clone(),
                    _ => Type::Error,
                };
                let kb = self.value_bits(k, &key_ty)?;
                let vb = self.value_bits(v, &target_ty)?;
                self.call_rt(RuntimeFn::MapSet, &[m.into(), kb.into(), vb.into()], "")?;
            }
            Place::Byte(b, i) => self.set_byte(b, i, v, target.span)?,
        }
        Ok(())
    }

    /// `for i in a..b` counts in a hidden variable, so `..=` up to `int`'s
    /// maximum ends instead of wrapping around.
    fn for_range(
        &mut self,
        local: LocalId,
        start: &Expr,
        end: &Expr,
        inclusive: bool,
        body: &Block,
    ) -> Result<()> {
        let f = self.func();
        let i64t = self.cx.i64_type();
        let (Some(a), Some(b)) = (self.expr(start)?.value(), self.expr(end)?.value()) else {
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
        self.declare_local(local, Some(i.into()))?;
        self.loop_body(body, latch, exit)?;
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

    /// `for x in array`: the length is read on every step, so an array that
    /// changes while it is walked never reads out of bounds.
    /// `for x in a` over an array, or over a `Bytes` (`iter`'s type; each
    /// `x` is then a byte, as an int).
    fn for_array(&mut self, local: LocalId, iter: &Expr, elem: &Type, body: &Block) -> Result<()> {
        let f = self.func();
        let i64t = self.cx.i64_type();
        let Lowered::Value(arr) = self.expr(iter)? else {
            return Ok(());
        };
        let arr_slot = self.entry_alloca(self.gc.into(), "for.array")?;
        self.b.build_store(arr_slot, arr)?;
        let counter = self.entry_alloca(i64t.into(), "for.index")?;
        self.b.build_store(counter, i64t.const_zero())?;
        let head = self.cx.append_basic_block(f, "for.cond");
        let body_bb = self.cx.append_basic_block(f, "for.body");
        let latch = self.cx.append_basic_block(f, "for.next");
        let exit = self.cx.append_basic_block(f, "for.end");
        self.b.build_unconditional_branch(head)?;
        self.b.position_at_end(head);
        let i = self.b.build_load(i64t, counter, "i")?.into_int_value();
        let arr = self
            .b
            .build_load(self.gc, arr_slot, "array")?
            .into_pointer_value();
        let len = self.load_slot(arr, 0, &Type::Int)?.into_int_value();
        let go = self
            .b
            .build_int_compare(IntPredicate::SLT, i, len, "for.go")?;
        self.b.build_conditional_branch(go, body_bb, exit)?;
        self.b.position_at_end(body_bb);
        let x = if iter.ty == Type::Bytes {
            self.byte_at(arr, i.into(), iter.span)?
        } else {
            let data = self.load_slot(arr, 16, &Type::Str)?.into_pointer_value();
            let p = self.buffer_slot_ptr(data, i)?;
            self.load_typed(p, elem, Some(Class::Element))?
        };
        self.declare_local(local, Some(x))?;
        self.loop_body(body, latch, exit)?;
        self.b.position_at_end(latch);
        let i = self.b.build_load(i64t, counter, "i")?.into_int_value();
        let next = self
            .b
            .build_int_add(i, i64t.const_int(1, false), "i.next")?;
        self.b.build_store(counter, next)?;
        self.b.build_unconditional_branch(head)?;
        self.b.position_at_end(exit);
        Ok(())
    }

    // ----- expressions --------------------------------------------------------

    fn expr(&mut self, e: &Expr) -> Result<Value<'ctx>> {
        let i64t = self.cx.i64_type();
        Ok(Lowered::Value(match &e.kind {
            ExprKind::Int(v) => i64t.const_int(*v as u64, true).into(),
            ExprKind::Float(v) => self.cx.f64_type().const_float(*v).into(),
            ExprKind::Bool(v) => self.cx.bool_type().const_int(*v as u64, false).into(),
            ExprKind::Nil => self.gc.const_null().into(),
            ExprKind::Str(parts) => return self.string_expr(parts),
            ExprKind::Local(local) => self.read_local(*local)?,
            ExprKind::Global(g) => {
                let ty = self.llvm_type(&e.ty);
                self.b
                    .build_load(ty, self.m.globals[*g as usize], "global")?
            }
            ExprKind::FnRef(f) => self.fn_value(*f)?.into(),
            ExprKind::Array(items) => return self.array_literal(e, items),
            ExprKind::Repeat(v, n) => return self.array_filled(e, v, n),
            ExprKind::Construct(args) => return self.construct(e, args),
            ExprKind::StructLit { struct_id, fields } => {
                return self.struct_literal(*struct_id, fields)
            }
            ExprKind::Variant { enum_id, tag, args } => {
                return self.variant_value(*enum_id, *tag, args)
            }
            ExprKind::ToInterface(value) => return self.interface_value(value),
            ExprKind::WrapOptional(inner) => {
                let v = value!(self.expr(inner)?);
                self.wrap_optional(v, &inner.ty)?
            }
            ExprKind::Unary(op, inner) => {
                let v = value!(self.expr(inner)?);
                match (op, &inner.ty) {
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
                let lt = l.ty.clone();
                let rt = r.ty.clone();
                let a = value!(self.expr(l)?);
                let b = value!(self.expr(r)?);
                if matches!(op, BinOp::Eq | BinOp::Ne) {
                    let ty = if lt == Type::Nil { rt } else { lt };
                    let eq = self.equal(a, b, &ty)?;
                    return Ok(Lowered::Value(if *op == BinOp::Ne {
                        self.b.build_not(eq, "ne")?.into()
                    } else {
                        eq.into()
                    }));
                }
                self.binary_values(*op, &lt, a, b, e.span)?
            }
            ExprKind::Call {
                callee,
                receiver,
                callee_expr,
                args,
            } => {
                return self.call(
                    e,
                    *callee,
                    receiver.as_deref(),
                    callee_expr.as_deref(),
                    args,
                )
            }
            ExprKind::Field { base, index } => {
                let obj = value!(self.expr(base)?);
                self.load_slot(obj.into_pointer_value(), 8 * *index as u64, &e.ty)?
            }
            ExprKind::Index(base, index) => {
                let base_ty = base.ty.clone();
                let obj = value!(self.expr(base)?);
                let i = value!(self.expr(index)?);
                if let Type::Map(..) = base_ty {
                    self.map_index(obj.into_pointer_value(), i, &base_ty, e.span)?
                } else if let Type::Bytes = base_ty {
                    self.byte_at(obj.into_pointer_value(), i, e.span)?
                } else {
                    let p = self.array_element_ptr(
                        obj.into_pointer_value(),
                        i.into_int_value(),
                        e.span,
                    )?;
                    self.load_typed(p, &e.ty, Some(Class::Element))?
                }
            }
            ExprKind::Unwrap(inner) => {
                if let Some((got, out, elem)) = self.recv_parts(inner)? {
                    let nil = self.b.build_not(got, "is.nil")?;
                    self.panic_if(nil, "unwrapped a nil value", e.span)?;
                    return Ok(Lowered::Value(self.read_out(out, &elem)?));
                }
                let v = value!(self.expr(inner)?);
                self.unwrap_checked(v.into_pointer_value(), &inner.ty, e.span)?
            }
            ExprKind::If { cond, then, els } => {
                return self.if_expr(e, Some(cond), None, then, els.as_deref())
            }
            ExprKind::IfLet {
                local,
                value,
                then,
                els,
            } => return self.if_expr(e, None, Some((*local, value)), then, els.as_deref()),
            ExprKind::Block(b) => {
                let want = self.basic_type(&e.ty).is_some();
                return self.block_value(b, want);
            }
            ExprKind::Closure(f) => return self.closure(*f),
            ExprKind::Await(kind, inner) => return self.await_expr(e, *kind, inner),
            ExprKind::Spawn(inner) => return self.spawn_expr(inner),
            ExprKind::Select(arms, default) => return self.select(arms, default.as_ref()),
            ExprKind::Match(scrutinee, arms) => return self.match_expr(e, scrutinee, arms),
            ExprKind::Error => return impossible("an expression the checker could not type"),
        }))
    }

    fn if_expr(
        &mut self,
        e: &Expr,
        cond: Option<&Expr>,
        let_binding: Option<(LocalId, &Expr)>,
        then: &Block,
        els: Option<&Expr>,
    ) -> Result<Value<'ctx>> {
        let f = self.func();
        let result_ty = e.ty.clone();
        let result_llvm = self.basic_type(&result_ty);
        let slot = match result_llvm {
            Some(t) => Some(self.entry_alloca(t, "if.value")?),
            None => None,
        };
        let then_bb = self.cx.append_basic_block(f, "if.then");
        let else_bb = self.cx.append_basic_block(f, "if.else");
        let end_bb = self.cx.append_basic_block(f, "if.end");
        let mut bound = None;
        let mut received = None;
        if let Some(cond) = cond {
            let c = value!(self.expr(cond)?);
            self.b
                .build_conditional_branch(c.into_int_value(), then_bb, else_bb)?;
        } else if let Some((local, value)) = let_binding {
            if let Some((got, out, elem)) = self.recv_parts(value)? {
                // `if let v = await ch.recv()`: no `T?` box.
                self.b.build_conditional_branch(got, then_bb, else_bb)?;
                received = Some((local, out, elem));
            } else {
                let opt_ty = value.ty.clone();
                let v = value!(self.expr(value)?);
                let is_nil = self.b.build_is_null(v.into_pointer_value(), "is.nil")?;
                self.b.build_conditional_branch(is_nil, else_bb, then_bb)?;
                bound = Some((local, v.into_pointer_value(), opt_ty));
            }
        }
        self.b.position_at_end(then_bb);
        if let Some((local, out, elem)) = received {
            let inner = self.read_out(out, &elem)?;
            self.declare_local(local, Some(inner))?;
        }
        if let Some((local, v, opt_ty)) = bound {
            let inner = self.unwrap_unchecked(v, &opt_ty)?;
            self.declare_local(local, Some(inner))?;
        }
        let v = self.block_value(then, slot.is_some())?;
        self.store_arm(slot, v, &result_ty, end_bb)?;
        self.b.position_at_end(else_bb);
        if let Some(els) = els {
            let v = self.expr(els)?;
            self.store_arm(slot, v, &result_ty, end_bb)?;
        } else if !self.terminated() {
            self.b.build_unconditional_branch(end_bb)?;
        }
        self.b.position_at_end(end_bb);
        match (slot, result_llvm) {
            (Some(slot), Some(t)) => Ok(Lowered::Value(self.b.build_load(t, slot, "if.result")?)),
            _ => Ok(self.nothing()),
        }
    }

    fn store_arm(
        &mut self,
        slot: Option<PointerValue<'ctx>>,
        v: Value<'ctx>,
        _ty: &Type,
        end: BasicBlock<'ctx>,
    ) -> Result<()> {
        if self.terminated() {
            return Ok(());
        }
        if let (Some(slot), Lowered::Value(v)) = (slot, v) {
            self.b.build_store(slot, v)?;
        }
        self.b.build_unconditional_branch(end)?;
        Ok(())
    }

    fn short_circuit(&mut self, op: BinOp, l: &Expr, r: &Expr) -> Result<Value<'ctx>> {
        let f = self.func();
        let a = value!(self.expr(l)?);
        let lhs_end = self.b.get_insert_block().expect("positioned");
        let and = op == BinOp::And;
        let rhs_bb = self
            .cx
            .append_basic_block(f, if and { "and.rhs" } else { "or.rhs" });
        let end_bb = self
            .cx
            .append_basic_block(f, if and { "and.end" } else { "or.end" });
        let a = a.into_int_value();
        if and {
            self.b.build_conditional_branch(a, rhs_bb, end_bb)?;
        } else {
            self.b.build_conditional_branch(a, end_bb, rhs_bb)?;
        }
        self.b.position_at_end(rhs_bb);
        let b = self.expr(r)?;
        let rhs_end = self.b.get_insert_block().expect("positioned");
        // A diverging right-hand side (`c && panic(..)`) does not reach the
        // join: its (dead) block must not become a predecessor without a value.
        let rhs_live = !self.terminated() && matches!(b, Lowered::Value(_));
        if rhs_live {
            self.b.build_unconditional_branch(end_bb)?;
        } else if !self.terminated() {
            self.b.build_unreachable()?;
        }
        self.b.position_at_end(end_bb);
        let bool_t = self.cx.bool_type();
        let phi = self.b.build_phi(bool_t, if and { "and" } else { "or" })?;
        let short = bool_t.const_int((!and) as u64, false);
        phi.add_incoming(&[(&short, lhs_end)]);
        if let (true, Lowered::Value(b)) = (rhs_live, b) {
            phi.add_incoming(&[(&b.into_int_value(), rhs_end)]);
        }
        Ok(Lowered::Value(phi.as_basic_value()))
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
        if *operand == Type::Str {
            return self.string_binary(op, a.into_pointer_value(), b.into_pointer_value());
        }
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
                And | Or | BitAnd | BitOr | BitXor | Shl | Shr | UShr => {
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
            Shl | Shr | UShr => {
                // Shift counts are taken modulo 64, so no shift is undefined.
                let mask = self.cx.i64_type().const_int(63, false);
                let count = self.b.build_and(y, mask, "shift.count")?;
                match op {
                    Shl => self.b.build_left_shift(x, count, "shl")?.into(),
                    Shr => self.b.build_right_shift(x, count, true, "shr")?.into(),
                    _ => self.b.build_right_shift(x, count, false, "ushr")?.into(),
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
        let f = self.func();
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

    /// A private constant holding raw `bytes`; equal byte strings share one global.
    fn bytes_ptr(&mut self, bytes: &[u8]) -> Result<PointerValue<'ctx>> {
        if let Some(&p) = self.m.bytes.get(bytes) {
            return Ok(p);
        }
        let value = self.cx.const_string(bytes, false);
        let name = format!("bytes.{}", self.m.bytes.len());
        let global = self.module.add_global(value.get_type(), None, &name);
        global.set_initializer(&value);
        global.set_constant(true);
        global.set_linkage(Linkage::Private);
        global.set_unnamed_addr(true);
        global.set_alignment(1);
        let p = global.as_pointer_value();
        self.m.bytes.insert(bytes.to_vec(), p);
        Ok(p)
    }
}
