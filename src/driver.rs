//! The pipeline, phase by phase: read, lex, parse, check, generate LLVM IR,
//! optimise, emit, link. Each phase either hands its product to the next or
//! returns diagnostics; the driver renders them and stops.

use crate::diagnostics::{self, DiagId, Diagnostic, SourceMap};
use crate::link::{self, Target};
use crate::{check, codegen, gc, modules, optimize, tir};
use inkwell::context::Context;
use inkwell::module::Module;
use inkwell::targets::TargetMachine;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Emit {
    /// The typed IR (`tir`), after checking.
    Tir,
    /// Optimised LLVM IR.
    LlvmIr,
    /// LLVM IR after the gc-frame-spill pass and before LLVM's pipeline (so before CoroSplit).
    LlvmIrPresplit,
    Asm,
    Obj,
}

pub struct Options {
    pub input: PathBuf,
    pub output: Option<PathBuf>,
    pub target: Target,
    pub opt_level: u8,
    pub emit: Option<Emit>,
    pub timings: bool,
    /// Check the GC invariant on the optimised module (`--verify-gc`).
    pub verify_gc: bool,
}

/// Why a build stopped. Diagnostics are already printed when this is returned.
#[derive(Debug)]
pub enum Failure {
    /// The program has errors (exit status 1).
    Diagnostics,
    /// Anything else: unreadable file, failed link (exit status 1).
    Other(String),
    /// A bug in the compiler, such as a broken GC invariant (exit status 101).
    Internal(String),
}

/// What a successful build produced.
pub struct Built {
    /// The file to execute: the executable, or the `.js` of a wasm32 build.
    pub runnable: PathBuf,
}

struct Timer {
    enabled: bool,
    last: Instant,
}

impl Timer {
    fn phase(&mut self, name: &str) {
        if self.enabled {
            let now = Instant::now();
            diagnostics::stderr_line(&format!(
                "{:>10.3} ms  {name}",
                (now - self.last).as_secs_f64() * 1e3
            ));
            self.last = now;
        }
    }
}

/// Reads a source file; a file that is not UTF-8 becomes a diagnostic at the first bad byte.
fn read_source(sources: &mut SourceMap, path: &Path) -> Result<u32, Failure> {
    let bytes = std::fs::read(path)
        .map_err(|e| Failure::Other(format!("cannot read `{}`: {e}", path.display())))?;
    let name = path.display().to_string();
    match String::from_utf8(bytes) {
        Ok(text) => Ok(sources.add(name, text)),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
            // Lossy decoding keeps the valid prefix byte for byte, so `at` is still right.
            let file = sources.add(name, text);
            let d = Diagnostic::error(DiagId::InvalidUtf8, "source file is not valid UTF-8")
                .with_label(
                    crate::ast::Span::new(file, at, at + 1),
                    "this byte is not UTF-8",
                )
                .with_note("Weft source files must be UTF-8 text");
            diagnostics::render(sources, &[d]);
            Err(Failure::Diagnostics)
        }
    }
}

fn module_name(path: &Path) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let clean: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if clean.is_empty() {
        "main".into()
    } else {
        clean
    }
}

fn default_output(opts: &Options) -> PathBuf {
    let stem = opts.input.file_stem().unwrap_or_default();
    let mut p = PathBuf::from(stem);
    match opts.emit {
        Some(Emit::Tir) => p.set_extension("tir"),
        Some(Emit::LlvmIr | Emit::LlvmIrPresplit) => p.set_extension("ll"),
        Some(Emit::Asm) => p.set_extension("s"),
        Some(Emit::Obj) => p.set_extension("o"),
        None => false,
    };
    p
}

fn write_output(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    if path == Path::new("-") {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        return out
            .write_all(bytes)
            .and_then(|_| out.flush())
            .map_err(|e| Failure::Other(format!("cannot write to stdout: {e}")));
    }
    std::fs::write(path, bytes)
        .map_err(|e| Failure::Other(format!("cannot write `{}`: {e}", path.display())))
}

fn stop_on(sources: &SourceMap, diags: Vec<Diagnostic>) -> Result<(), Failure> {
    if diags.is_empty() {
        Ok(())
    } else {
        diagnostics::render(sources, &diags);
        Err(Failure::Diagnostics)
    }
}

pub fn build(opts: &Options) -> Result<Built, Failure> {
    let mut timer = Timer {
        enabled: opts.timings,
        last: Instant::now(),
    };
    let mut sources = SourceMap::default();
    let file = read_source(&mut sources, &opts.input)?;
    timer.phase("read");

    // Lexing and parsing errors of every file are reported together: both recover.
    let (program, diags) = modules::load(&mut sources, file, &opts.input, module_name(&opts.input));
    timer.phase("parse");
    stop_on(&sources, diags)?;
    if opts.target == Target::Wasm32 {
        stop_on(&sources, modules::wasm_import_errors(&program))?;
    }
    // The host's side of `io` (wasm32 exports app.js completes operations with).
    let uses_io = program.modules.iter().any(|m| m.name == "std.io");

    let source_modules: Vec<check::SourceModule> = program
        .modules
        .iter()
        .map(|m| check::SourceModule {
            name: m.name.clone(),
            file: m.file,
            source: sources.source(m.file),
            ast: &m.ast,
            is_stdlib: m.is_stdlib,
            imports: m.imports.clone(),
        })
        .collect();
    let (typed, diags) = check::check(&source_modules, program.expr_count);
    timer.phase("check");
    stop_on(&sources, diags)?;
    let program = tir::lower(&typed);
    timer.phase("lower");
    if opts.emit == Some(Emit::Tir) {
        let text = tir::print(&program, &typed);
        let output = opts.output.clone().unwrap_or_else(|| default_output(opts));
        write_output(&output, text.as_bytes())?;
        return Ok(Built { runnable: output });
    }

    let context = Context::create();
    if !matches!(opts.emit, Some(Emit::LlvmIr | Emit::LlvmIrPresplit)) {
        // As clang does: names of local values only serve the printed IR,
        // and every pass that clones or renames (CoroSplit clones each
        // coroutine thrice) pays for them in string-map work.
        // SAFETY: the context is live; the flag only drops future names.
        unsafe { llvm_sys::core::LLVMContextSetDiscardValueNames(context.raw(), 1) };
    }
    let machine = optimize::target_machine(opts.target, opts.opt_level).map_err(Failure::Other)?;
    let layout = codegen::Layout {
        gc_address_space: if opts.target == Target::Wasm32 { 0 } else { 1 },
        ptr32: opts.target == Target::Wasm32,
    };
    let mut gen = codegen::Codegen::new(
        &context,
        &module_name(&opts.input),
        &typed,
        &program,
        &sources,
        layout,
    );
    optimize::configure(&gen.module, &machine);
    gen.generate()
        .map_err(|e| Failure::Internal(format!("internal compiler error in codegen: {e}")))?;
    let module = gen.module;
    inject_fault(&context, &module);
    if let Err(e) = module.verify() {
        return Err(Failure::Internal(format!(
            "internal compiler error: invalid LLVM IR:\n{}",
            e.to_string_lossy()
        )));
    }
    timer.phase("codegen");

    let output = opts.output.clone().unwrap_or_else(|| default_output(opts));
    if let Some(parent) = output.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| {
            Failure::Other(format!(
                "cannot create the output directory `{}`: {e}",
                parent.display()
            ))
        })?;
    }
    if opts.emit == Some(Emit::LlvmIrPresplit) {
        // The IR as CoroSplit receives it: after the gc-frame-spill pass.
        optimize::run_pass_only(&module, gc::GcConfig::for_target(opts.target))
            .map_err(|e| Failure::Internal(format!("internal compiler error: {e}")))?;
        write_output(&output, module.print_to_string().to_bytes())?;
        return Ok(Built { runnable: output });
    }

    // Huge coroutines build as at -O0 in a module of their own (`--emit`
    // writes one module, so it keeps them).
    let huge = match opts.emit {
        None => optimize::split_huge(&module, opts.opt_level),
        Some(_) => None,
    };
    let quick = match huge {
        Some(_) => Some(optimize::target_machine(opts.target, 0).map_err(Failure::Other)?),
        None => None,
    };
    let parts: Vec<(&Module, &TargetMachine, u8)> =
        std::iter::once((&module, &machine, opts.opt_level))
            .chain(huge.as_ref().zip(quick.as_ref()).map(|(m, tm)| (m, tm, 0)))
            .collect();
    for &(part, tm, level) in &parts {
        optimize::optimize(part, tm, opts.target, level, opts.verify_gc).map_err(internal)?;
    }
    timer.phase("optimize");
    if opts.verify_gc {
        for &(part, _, _) in &parts {
            gc::verify_gc(part).map_err(|problems| {
                Failure::Internal(format!(
                    "internal compiler error: the GC invariant does not hold after optimisation:\n  {}",
                    problems.join("\n  ")
                ))
            })?;
        }
        timer.phase("verify-gc");
    }

    match opts.emit {
        Some(Emit::LlvmIr) => {
            write_output(&output, module.print_to_string().to_bytes())?;
            return Ok(Built { runnable: output });
        }
        Some(kind @ (Emit::Asm | Emit::Obj)) => {
            let bytes = optimize::emit(&module, &machine, kind == Emit::Asm).map_err(internal)?;
            write_output(&output, &bytes)?;
            return Ok(Built { runnable: output });
        }
        _ => {}
    }

    let objects = parts
        .iter()
        .map(|&(part, tm, _)| optimize::emit(part, tm, false))
        .collect::<Result<Vec<_>, _>>()
        .map_err(internal)?;
    timer.phase("emit");
    let mut paths = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        let tmp = tempfile_path(&output, i);
        if let Err(e) = std::fs::write(&tmp, object) {
            paths.iter().for_each(|p| drop(std::fs::remove_file(p)));
            return Err(Failure::Other(format!(
                "cannot write `{}`: {e}",
                tmp.display()
            )));
        }
        paths.push(tmp);
    }
    let linked = match opts.target {
        Target::Native => link::link_native(&paths, &output).map(|_| output.clone()),
        Target::Wasm32 => link::link_wasm(&paths, &output, uses_io).map(|o| o.js),
    };
    for p in &paths {
        let _ = std::fs::remove_file(p);
    }
    let runnable = linked.map_err(Failure::Other)?;
    timer.phase("link");
    Ok(Built { runnable })
}

/// `weft verify-gc FILE.ll`: the GC verifier on textual IR (a reduced test
/// case, or what `--emit llvm-ir` wrote), for the lit tests of the verifier
/// itself. The triple in the file picks the target's rules.
pub fn verify_ir_file(path: &Path) -> Result<(), Failure> {
    let context = Context::create();
    let module = read_ir(&context, path)?;
    verify_ir(&module)
}

/// What `weft opt` runs on an IR file, in this order.
pub struct OptOptions {
    pub gc_spill: bool,
    pub level: Option<u8>,
    pub verify_gc: bool,
}

/// `weft opt [--gc-spill] [-O N] [--verify-gc] FILE.ll`: the pass alone, the
/// whole pipeline with it, and the verifier, on textual IR; writes the IR
/// (unless only verifying). The IR fixtures of the pass are lit tests this way.
pub fn opt_ir_file(path: &Path, opts: &OptOptions, out: Option<&Path>) -> Result<(), Failure> {
    let context = Context::create();
    let module = read_ir(&context, path)?;
    let target = optimize::target_of(&module);
    // A file without a triple or data layout gets the target's, as codegen's modules do.
    let level = opts.level.unwrap_or(2);
    let machine = optimize::target_machine(target, level).map_err(Failure::Other)?;
    optimize::configure(&module, &machine);
    if opts.gc_spill {
        optimize::run_pass_only(&module, gc::GcConfig::for_target(target)).map_err(internal)?;
    }
    if opts.level.is_some() {
        optimize::optimize(&module, &machine, target, level, opts.verify_gc).map_err(internal)?;
    }
    if opts.verify_gc {
        verify_ir(&module)?;
    }
    if !opts.gc_spill && opts.level.is_none() {
        return Ok(());
    }
    let text = module.print_to_string().to_string();
    match out {
        None => {
            use std::io::Write;
            std::io::stdout()
                .write_all(text.as_bytes())
                .map_err(|e| Failure::Other(format!("cannot write the IR: {e}")))
        }
        Some(p) => std::fs::write(p, text)
            .map_err(|e| Failure::Other(format!("cannot write `{}`: {e}", p.display()))),
    }
}

fn read_ir<'c>(context: &'c Context, path: &Path) -> Result<inkwell::module::Module<'c>, Failure> {
    let buffer = inkwell::memory_buffer::MemoryBuffer::create_from_file(path).map_err(|e| {
        Failure::Other(format!(
            "cannot read `{}`: {}",
            path.display(),
            e.to_string_lossy()
        ))
    })?;
    context.create_module_from_ir(buffer).map_err(|e| {
        Failure::Other(format!(
            "`{}` is not LLVM IR: {}",
            path.display(),
            e.to_string_lossy().trim_end()
        ))
    })
}

fn verify_ir(module: &inkwell::module::Module) -> Result<(), Failure> {
    gc::verify_gc(module).map_err(|problems| {
        Failure::Internal(format!(
            "the GC invariant does not hold:\n  {}",
            problems.join("\n  ")
        ))
    })
}

/// `WEFT_FAULT=invalid-ir|panic`: makes this build fail the way a compiler
/// bug would (a function without a terminator; a Rust panic), so that the
/// tests of the internal-error path (status 101, the message) have a cause.
fn inject_fault<'c>(context: &'c Context, module: &inkwell::module::Module<'c>) {
    match std::env::var("WEFT_FAULT").as_deref() {
        Ok("invalid-ir") => {
            let f =
                module.add_function("weft.fault", context.void_type().fn_type(&[], false), None);
            context.append_basic_block(f, "no.terminator");
        }
        Ok("panic") => panic!("fault injected by WEFT_FAULT"),
        _ => {}
    }
}

/// LLVM failing on IR the compiler made (and verified) is a compiler bug.
fn internal(msg: String) -> Failure {
    Failure::Internal(format!("internal compiler error: {msg}"))
}

/// Scratch object `index` beside the output, unique to this process.
fn tempfile_path(output: &Path, index: usize) -> PathBuf {
    let mut name = output.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{}.{index}.o", std::process::id()));
    output.with_file_name(name)
}
