//! The LLVM side of the back end: the target machine, LLVM's own optimisation
//! pipeline (`default<On>`, with the gc-frame-spill pass placed in it by the
//! C++ shim, see `gc_spill.rs`), and object or assembly emission.
//!
//! Coroutine passes (CoroEarly, CoroSplit, CoroElide, CoroCleanup) are part of
//! `default<On>` at every level, which is why we run the whole standard
//! pipeline even at -O0.

use crate::gc_spill::{self, GcConfig};
use crate::link::Target;
use inkwell::module::Module;
use inkwell::targets::{
    CodeModel, FileType, InitializationConfig, RelocMode, Target as LlvmTarget, TargetMachine,
    TargetTriple,
};
use inkwell::OptimizationLevel;

pub fn triple(target: Target) -> TargetTriple {
    match target {
        Target::Native => TargetMachine::get_default_triple(),
        Target::Wasm32 => TargetTriple::create("wasm32-unknown-unknown"),
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
) -> Result<(), String> {
    gc_spill::run_pipeline(module, machine, level, GcConfig::for_target(target))?;
    module.verify().map_err(|e| {
        format!(
            "invalid LLVM IR after optimisation:\n{}",
            e.to_string_lossy()
        )
    })
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
