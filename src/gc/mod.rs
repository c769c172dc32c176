//! The gc-frame-spill pass and the GC verifier (see "Garbage collection" and
//! "Coroutine lowering" in DESIGN.md, and the RootFrame contract of the runtime).
//!
//! The GC is precise and finds a function's references only in its root
//! frame, a `{ ptr prev, i64 count, [N x gcref] }` alloca linked into the
//! shadow stack at `@weft_shadow_top`. The pass puts into that frame every
//! GC alloca and every GC SSA value that is live across a safepoint (a call
//! that may allocate): the value is stored to its slot right after its
//! definition and every use reloads it, so after the pass no GC SSA value is
//! live across a safepoint and LLVM, which sees the frame escape into a
//! global, keeps those stores and reloads around every call that may collect.
//! Coroutines (before CoroSplit) keep their roots in the promise instead,
//! which CoroSplit places in the frame (a FRAME object the GC scans).
//!
//! The pass is written in Rust over LLVM's C API; `src/llvm_shim/pass_wrapper.cpp`
//! registers it in LLVM's pipeline after inlining and scalar simplification
//! and before CoroSplit, and `optimize.rs` runs that pipeline (its callbacks
//! call [`spill_function`], [`freeze_across_suspends`] and [`thaw`]). The
//! pass is idempotent: already-processed code has nothing left to spill.
//!
//! The files, in the order the pass uses them:
//! - `llvm.rs`: small helpers over the C API (every `unsafe` LLVM call the
//!   other files share: blocks, instructions, names, calls, metadata kinds).
//! - `env.rs`: the module-level facts (data layout, slot size, metadata kinds,
//!   where the promise sits in a frame) the pass and the verifier both need.
//! - `liveness.rs`: a function's blocks, positions, safepoints and the
//!   liveness of a value across them.
//! - `values.rs`: which values are GC references (and coroutine ids, begins).
//! - `roots.rs`: root areas: the metadata that records them and where they
//!   are before and after CoroSplit.
//! - `spill.rs`: the pass on an ordinary function (slots shared between
//!   disjoint live ranges, the shadow-stack frame).
//! - `coroutine.rs`: the pass on a coroutine before CoroSplit (its promise
//!   becomes the root area).
//! - `freeze.rs`: keeping arithmetic live across a suspend in the frame
//!   through CoroSplit, and undoing that right after it.
//! - `verify.rs`: the verifier (`--verify-gc`).
//!
//! The invariants the verifier checks on the final module, in every function:
//! 1. no GC value is live across a safepoint outside a root slot;
//! 2. no GC value is stored anywhere but a root slot or a heap object, nor
//!    into a coroutine frame outside its root area (a frame's root areas are
//!    known from `!weft.coro.roots`, from the `count` stores of inlined ramps,
//!    and from the root frames of inlined callees CoroSplit moved there);
//! 3. no GC reference is made by `inttoptr` from anything but a reference's
//!    own bits, and no reference's bits are live across a safepoint;
//! 4. the frame type LLVM built for a processed coroutine has the promise
//!    where the runtime looks for it (right after the resume and destroy
//!    pointers);
//! 5. no safepoint call in a function with a root frame is marked `tail`.

mod coroutine;
mod env;
mod freeze;
mod liveness;
mod llvm;
mod roots;
mod spill;
#[cfg(test)]
mod tests;
mod values;
mod verify;

pub(crate) use coroutine::*;
pub(crate) use env::*;
pub(crate) use freeze::*;
pub(crate) use liveness::*;
pub(crate) use llvm::*;
pub(crate) use roots::*;
pub(crate) use spill::*;
pub(crate) use values::*;
pub(crate) use verify::verify_function;
pub use verify::verify_gc;

use crate::link::Target;
use inkwell::module::Module;
use inkwell::values::AsValueRef;
use llvm_sys::core::*;
use llvm_sys::prelude::*;
use llvm_sys::target::{
    LLVMABIAlignmentOfType, LLVMABISizeOfType, LLVMGetModuleDataLayout, LLVMOffsetOfElement,
    LLVMPointerSize, LLVMStoreSizeOfType, LLVMTargetDataRef,
};
use llvm_sys::{LLVMOpcode, LLVMTailCallKind, LLVMTypeKind};
use std::collections::{HashMap, HashSet};
use std::ffi::{c_char, c_uint, CStr, CString};

/// What a pass callback returns to the shim: the function changed, and its CFG did.
pub(crate) const CHANGED: c_uint = 1;
pub(crate) const CHANGED_CFG: c_uint = 2;

/// The string function attribute the compiler puts on runtime functions that
/// never allocate: a call to them is not a safepoint.
pub const NOGC_ATTRIBUTE: &str = "weft-nogc";
/// Metadata kind marking a root-frame alloca (survives inlining).
pub(crate) const ROOT_FRAME_MD: &str = "weft.root.frame";
/// Metadata kind describing a coroutine's root area, `!{!"name", i64
/// slots_offset, i64 count}`: on the promise alloca, on the coroutine function
/// (CoroSplit copies it to the `.resume`/`.destroy`/`.cleanup` clones) and on
/// the store of `count` right after `llvm.coro.begin` (which survives
/// CoroSplit and inlining, and so locates the frame wherever the ramp went).
pub(crate) const CORO_ROOTS_MD: &str = "weft.coro.roots";
/// Metadata kind marking the freezes [`freeze_across_suspends`] inserts.
pub(crate) const KEPT_MD: &str = "weft.kept";
/// Metadata kind marking the rest of a coroutine's root-area initialisation.
pub(crate) const CORO_INIT_MD: &str = "weft.coro.init";
/// The runtime's coroutine frame allocator (`RuntimeFn::CoroAlloc`): it
/// returns a `ptr` into a new FRAME object, i.e. a GC reference.
pub(crate) const CORO_ALLOC: &str = weft_abi::RuntimeFn::CoroAlloc.signature().name;
/// The suffixes CoroSplit gives the clones of a switched-resume coroutine.
pub(crate) const CORO_CLONE_SUFFIXES: [&str; 3] = [".resume", ".destroy", ".cleanup"];

/// Which values are GC references.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GcConfig {
    /// The address space of GC references: 1 natively. 0 on wasm32, where
    /// every `ptr` not derived from an alloca, a global or a function is a
    /// potential GC reference (the runtime ignores roots outside its heap).
    pub gc_addrspace: u32,
}

impl GcConfig {
    pub fn for_target(target: Target) -> Self {
        match target {
            Target::Native => GcConfig { gc_addrspace: 1 },
            Target::Wasm32 => GcConfig { gc_addrspace: 0 },
        }
    }

    /// The configuration a module was compiled for, from its triple.
    pub fn for_module(module: &Module) -> Self {
        Self::for_target(crate::optimize::target_of(module))
    }
}
