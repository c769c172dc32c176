//! The LLVM side of the back end: the target machine, LLVM's own optimisation
//! pipeline (`default<On>`, with the gc-frame-spill pass of `gc/` placed in it
//! by the C++ shim, `llvm_shim/pass_wrapper.cpp`, which calls back into the
//! trampolines here), and object or assembly emission.
//!
//! Coroutine passes (CoroEarly, CoroSplit, CoroElide, CoroCleanup) are part of
//! `default<On>` at every level, which is why we run the whole standard
//! pipeline even at -O0.

use crate::gc::{
    blocks_of, clear_tail_markers, freeze_across_suspends, instructions_of, spill_function, thaw,
    value_name, verify_function, Body, Builder, Env, GcConfig, Thawed, CHANGED, CHANGED_CFG,
};
use crate::link::Target;
use inkwell::module::Module;
use inkwell::targets::{
    CodeModel, FileType, InitializationConfig, RelocMode, Target as LlvmTarget, TargetMachine,
    TargetTriple,
};
use inkwell::values::AsValueRef;
use inkwell::OptimizationLevel;
use llvm_sys::core::*;
use llvm_sys::error::{LLVMDisposeErrorMessage, LLVMErrorRef, LLVMGetErrorMessage};
use llvm_sys::prelude::*;
use llvm_sys::target_machine::LLVMTargetMachineRef;
use std::collections::HashSet;
use std::ffi::{c_uint, c_void, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

pub fn triple(target: Target) -> TargetTriple {
    match target {
        Target::Native => TargetMachine::get_default_triple(),
        Target::Wasm32 => TargetTriple::create("wasm32-unknown-unknown"),
    }
}

/// The target a module's triple names (the inverse of [`triple`]).
pub fn target_of(module: &Module) -> Target {
    let triple = module.get_triple();
    if triple.as_str().to_string_lossy().starts_with("wasm32") {
        Target::Wasm32
    } else {
        Target::Native
    }
}

fn llvm_level(level: u8) -> OptimizationLevel {
    match level {
        0 => OptimizationLevel::None,
        1 => OptimizationLevel::Less,
        2 => OptimizationLevel::Default,
        _ => OptimizationLevel::Aggressive,
    }
}

extern "C" {
    /// In the shim: prints code generation's `-time-passes` report, if asked for.
    fn weft_report_codegen_timings();
}

/// `WEFT_LLVM_ARGS="-time-passes ..."`: LLVM's own command-line options,
/// for finding out where compile time goes. Parsed once per process.
fn llvm_args_from_env() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let Ok(args) = std::env::var("WEFT_LLVM_ARGS") else {
            return;
        };
        let owned: Vec<std::ffi::CString> = std::iter::once("weft")
            .chain(args.split_whitespace())
            .filter_map(|a| std::ffi::CString::new(a).ok())
            .collect();
        let argv: Vec<*const std::ffi::c_char> = owned.iter().map(|a| a.as_ptr()).collect();
        // SAFETY: argv points into `owned`, alive for the call; LLVM copies what it keeps.
        unsafe {
            llvm_sys::support::LLVMParseCommandLineOptions(
                argv.len() as i32,
                argv.as_ptr(),
                std::ptr::null(),
            )
        };
    });
}

pub fn target_machine(target: Target, level: u8) -> Result<TargetMachine, String> {
    llvm_args_from_env();
    let config = InitializationConfig::default();
    match target {
        Target::Native => LlvmTarget::initialize_x86(&config),
        Target::Wasm32 => LlvmTarget::initialize_webassembly(&config),
    }
    let triple = triple(target);
    let llvm_target =
        LlvmTarget::from_triple(&triple).map_err(|e| format!("unsupported target: {e}"))?;
    // Native code targets the generic x86-64 baseline, as clang does by default,
    // so binaries run on any x86-64 machine. On wasm32, symmetric transfer
    // between coroutines is a `musttail` call, which needs wasm tail calls
    // (`return_call`, in every current browser and in node 20).
    let (cpu, features, reloc) = match target {
        Target::Native => ("x86-64", "", RelocMode::PIC),
        Target::Wasm32 => ("generic", "+tail-call", RelocMode::Default),
    };
    llvm_target
        .create_target_machine(
            &triple,
            cpu,
            features,
            llvm_level(level),
            reloc,
            CodeModel::Default,
        )
        .ok_or_else(|| {
            format!(
                "LLVM cannot create a target machine for {}",
                triple.as_str().to_string_lossy()
            )
        })
}

/// Sets the module's triple and data layout; codegen's optimisations depend on them.
pub fn configure(module: &Module, machine: &TargetMachine) {
    module.set_triple(&machine.get_triple());
    module.set_data_layout(&machine.get_target_data().get_data_layout());
}

/// Runs LLVM's standard pipeline for the level, with the gc-frame-spill pass
/// after inlining and before CoroSplit. Every failure here is an internal error.
pub fn optimize(
    module: &Module,
    machine: &TargetMachine,
    target: Target,
    level: u8,
    verify_gc: bool,
) -> Result<(), String> {
    run_pipeline(
        module,
        machine,
        level,
        GcConfig::for_target(target),
        verify_gc,
    )?;
    module.verify().map_err(|e| {
        format!(
            "invalid LLVM IR after optimisation:\n{}",
            e.to_string_lossy()
        )
    })
}

/// A coroutine with more suspend points than this is optimised and
/// compiled to machine code as at -O0, in a module of its own.
///
/// Such a function is generated straight-line code (4,000 `s += await f()`
/// lines took 12 s at -O2, 4 s at -O0): LLVM's function passes, CoroSplit's
/// suspend-crossing analysis, instruction selection and block placement all
/// grow faster than linearly with it, and each of its awaits costs a
/// coroutine switch that the optimiser does not remove.
pub const HUGE_SUSPENDS: u32 = 1000;

/// At -O1 and up, moves the coroutines with more than [`HUGE_SUSPENDS`]
/// suspend points into a module of their own (the shim's
/// `weft_split_huge`), for the driver to build at -O0 and link beside this
/// one. `None` when there are none.
pub fn split_huge<'ctx>(module: &Module<'ctx>, level: u8) -> Option<Module<'ctx>> {
    if level == 0 {
        return None;
    }
    // SAFETY: a live module, changed only here; the result is a new module
    // in the same context, owned by the `Module` made from it.
    unsafe {
        let huge = weft_split_huge(module.as_mut_ptr(), HUGE_SUSPENDS);
        (!huge.is_null()).then(|| Module::new(huge))
    }
}

pub fn emit(module: &Module, machine: &TargetMachine, asm: bool) -> Result<Vec<u8>, String> {
    let kind = if asm {
        FileType::Assembly
    } else {
        FileType::Object
    };
    let result = machine
        .write_to_memory_buffer(module, kind)
        .map(|buf| buf.as_slice().to_vec())
        .map_err(|e| format!("LLVM code generation failed: {e}"));
    // SAFETY: prints and resets LLVM's process-wide timers; no other thread uses them.
    unsafe { weft_report_codegen_timings() };
    result
}

/// The callback the shim's pass calls for each function: returns
/// [`CHANGED`] and [`CHANGED_CFG`] bits.
type FunctionCallback = unsafe extern "C" fn(LLVMValueRef, *mut c_void) -> c_uint;

extern "C" {
    pub(crate) fn weft_run_pipeline(
        module: LLVMModuleRef,
        machine: LLVMTargetMachineRef,
        level: c_uint,
        callback: Option<FunctionCallback>,
        late: Option<FunctionCallback>,
        thaw: Option<FunctionCallback>,
        ctx: *mut c_void,
    ) -> LLVMErrorRef;
    #[cfg(test)]
    fn weft_describe_pipeline(
        machine: LLVMTargetMachineRef,
        level: c_uint,
    ) -> *mut std::ffi::c_char;
    fn weft_fold_constant_branches(function: LLVMValueRef) -> c_uint;
    fn weft_split_huge(module: LLVMModuleRef, limit: c_uint) -> LLVMModuleRef;
}

// ---------------------------------------------------------------------------
// Running LLVM's pipeline with the pass in it

struct PassState {
    config: GcConfig,
    errors: Vec<String>,
    /// Coroutines the pass processed whose arithmetic is still to be frozen
    /// (at the peephole point after the next InstCombine; -O1 and up).
    to_freeze: HashSet<LLVMValueRef>,
    /// Whether freezing waits for that point (false at -O0, no InstCombine).
    freeze_late: bool,
    /// `--verify-gc`: check each ordinary function right after the pass too.
    verify_after_pass: bool,
}

/// Runs LLVM's `default<On>` on the module with the gc-frame-spill pass in
/// place. Errors of the pass are internal compiler errors.
pub fn run_pipeline(
    module: &Module,
    machine: &TargetMachine,
    level: u8,
    config: GcConfig,
    verify_after_pass: bool,
) -> Result<(), String> {
    let mut state = PassState {
        config,
        errors: Vec::new(),
        to_freeze: HashSet::new(),
        freeze_late: level > 0,
        verify_after_pass,
    };
    // SAFETY: the module and machine are live for the call; `state` outlives
    // it and only the callbacks, on this thread, touch it meanwhile.
    let error = unsafe {
        weft_run_pipeline(
            module.as_mut_ptr(),
            machine.as_mut_ptr(),
            c_uint::from(level.min(3)),
            Some(spill_callback),
            Some(freeze_callback),
            Some(thaw_callback),
            &mut state as *mut PassState as *mut c_void,
        )
    };
    if !error.is_null() {
        return Err(format!("LLVM optimisation failed: {}", take_error(error)));
    }
    if !state.errors.is_empty() {
        return Err(format!(
            "gc-frame-spill failed:\n  {}",
            state.errors.join("\n  ")
        ));
    }
    // A function with a root frame can be inlined into a coroutine's resume
    // function after the pass last saw it, whose calls TailCallElim marked
    // `tail` while it had no frame: those markers must go too.
    let mut f = module.get_first_function();
    while let Some(function) = f {
        if function.count_basic_blocks() > 0 {
            // SAFETY: a live function of the module, not being changed elsewhere.
            unsafe {
                let raw = function.as_value_ref();
                let env = Env::new(raw, config);
                let body = Body::new(raw);
                if body.insts.iter().flatten().any(|&i| env.is_root_frame(i)) {
                    clear_tail_markers(&body);
                }
            }
        }
        f = function.get_next_function();
    }
    Ok(())
}

/// Runs only the gc-frame-spill pass over every defined function, with no
/// other pass: what `--emit llvm-ir-presplit` shows (the IR as CoroSplit will
/// see it, before any inlining or simplification).
pub fn run_pass_only(module: &Module, config: GcConfig) -> Result<(), String> {
    let mut state = PassState {
        config,
        errors: Vec::new(),
        to_freeze: HashSet::new(),
        freeze_late: false,
        verify_after_pass: false,
    };
    let mut f = module.get_first_function();
    while let Some(function) = f {
        if function.count_basic_blocks() > 0 {
            // SAFETY: a live function of the module; `state` outlives the call.
            unsafe {
                spill_callback(
                    function.as_value_ref(),
                    &mut state as *mut PassState as *mut c_void,
                );
            }
        }
        f = function.get_next_function();
    }
    if state.errors.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "gc-frame-spill failed:\n  {}",
            state.errors.join("\n  ")
        ))
    }
}

/// The pass pipeline [`run_pipeline`] runs at this level, as LLVM prints it;
/// the pass shows as `weft-gc-frame-spill`.
#[cfg(test)]
pub fn describe_pipeline(machine: &TargetMachine, level: u8) -> String {
    // SAFETY: the machine is live; the returned message is ours to dispose.
    unsafe {
        let text = weft_describe_pipeline(machine.as_mut_ptr(), c_uint::from(level.min(3)));
        crate::gc::take_message(text)
    }
}

pub(crate) fn take_error(error: LLVMErrorRef) -> String {
    // SAFETY: consumes the error; the message is disposed after copying.
    unsafe {
        let msg = LLVMGetErrorMessage(error);
        let text = CStr::from_ptr(msg).to_string_lossy().into_owned();
        LLVMDisposeErrorMessage(msg);
        text
    }
}

/// The trampoline the C++ pass calls for every function it visits. Never
/// unwinds: a failure (or a panic) is recorded in the state, and the
/// function's body is replaced by `unreachable` so the rest of LLVM's
/// pipeline still sees valid IR; the build then fails with the error.
unsafe extern "C" fn spill_callback(function: LLVMValueRef, ctx: *mut c_void) -> c_uint {
    if ctx.is_null() || function.is_null() {
        return 0;
    }
    let state = ctx as *mut PassState;
    let config = (*state).config;
    let freeze_late = (*state).freeze_late;
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        spill_function(function, config, !freeze_late)
    }));
    if let Ok(Ok(o)) = &outcome {
        if o.coroutine && freeze_late {
            (*state).to_freeze.insert(function);
        }
        // `--verify-gc`: an ordinary function must satisfy the invariant
        // right after the pass, before later passes could hide the culprit
        // (a coroutine's root area is only final after CoroSplit).
        if (*state).verify_after_pass && !o.coroutine {
            let mut problems = Vec::new();
            let _ = catch_unwind(AssertUnwindSafe(|| {
                verify_function(function, config, &mut problems)
            }));
            for p in problems {
                (*state).errors.push(format!("right after the pass: {p}"));
            }
        }
    }
    let error = match outcome {
        Ok(Ok(outcome)) => return outcome.flags(),
        Ok(Err(e)) => e,
        Err(payload) => {
            let what = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            format!(
                "function `{}`: the pass panicked: {what}",
                value_name(function)
            )
        }
    };
    let _ = catch_unwind(AssertUnwindSafe(|| neutralize(function)));
    let _ = catch_unwind(AssertUnwindSafe(|| (*state).errors.push(error)));
    CHANGED | CHANGED_CFG
}

/// The peephole point (after each InstCombine): freezes the arithmetic of a
/// coroutine the pass processed since, so the InstCombine before CoroSplit
/// never sees those freezes.
unsafe extern "C" fn freeze_callback(function: LLVMValueRef, ctx: *mut c_void) -> c_uint {
    if ctx.is_null() || function.is_null() {
        return 0;
    }
    let state = ctx as *mut PassState;
    if !(*state).to_freeze.remove(&function) {
        return 0;
    }
    match catch_unwind(AssertUnwindSafe(|| freeze_across_suspends(function))) {
        Ok(true) => CHANGED,
        _ => 0,
    }
}

/// The CGSCC walk's optimizer-late point, which a coroutine's ramp and clones
/// reach again right after CoroSplit: removes the freezes
/// [`freeze_across_suspends`] put in, once no suspend is left.
unsafe extern "C" fn thaw_callback(function: LLVMValueRef, ctx: *mut c_void) -> c_uint {
    if ctx.is_null() || function.is_null() {
        return 0;
    }
    let config = (*(ctx as *mut PassState)).config;
    match catch_unwind(AssertUnwindSafe(|| thaw(function, config))) {
        Ok(Thawed::Split) => {
            // The clone's dead copies of every other path go now, in one
            // linear walk, before SROA, EarlyCSE and JumpThreading each
            // work through them.
            if weft_fold_constant_branches(function) != 0 {
                CHANGED | CHANGED_CFG
            } else {
                CHANGED
            }
        }
        Ok(Thawed::Frozen) => CHANGED,
        _ => 0,
    }
}

/// Replaces a function's body by a single `unreachable` block.
unsafe fn neutralize(function: LLVMValueRef) {
    let blocks = blocks_of(function);
    for &block in &blocks {
        for inst in instructions_of(block) {
            if !LLVMGetFirstUse(inst).is_null() {
                LLVMReplaceAllUsesWith(inst, LLVMGetPoison(LLVMTypeOf(inst)));
            }
        }
    }
    for &block in &blocks {
        for inst in instructions_of(block) {
            LLVMInstructionEraseFromParent(inst);
        }
    }
    for block in blocks {
        LLVMDeleteBasicBlock(block);
    }
    let ctx = LLVMGetTypeContext(LLVMTypeOf(function));
    let block = LLVMAppendBasicBlockInContext(ctx, function, c"entry".as_ptr());
    let builder = Builder::new(ctx);
    LLVMPositionBuilderAtEnd(builder.0, block);
    LLVMBuildUnreachable(builder.0);
}
