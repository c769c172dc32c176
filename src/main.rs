//! `weft`: the command line. Parses arguments, runs the driver on a thread
//! with a large stack (the phases recurse over the tree, whose depth the
//! parser bounds), and turns the outcome into an exit status:
//! 0 success, 1 errors in the program or the build, 2 bad command line,
//! 101 an internal compiler error; `weft run` exits with the program's status.

mod ast;
mod check;
mod codegen;
mod diagnostics;
mod driver;
mod gc;
mod lexer;
mod link;
mod modules;
mod optimize;
mod parser;
mod tbaa;
mod tir;

use clap::{Parser, Subcommand, ValueEnum};
use driver::{Emit, Failure, Options};
use link::Target;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "weft",
    version,
    about = "The Weft compiler: async, generators and tasks on LLVM coroutines"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum TargetArg {
    Native,
    Wasm32,
}

#[derive(Clone, Copy, ValueEnum)]
enum EmitArg {
    Tir,
    #[value(name = "llvm-ir")]
    LlvmIr,
    #[value(name = "llvm-ir-presplit")]
    LlvmIrPresplit,
    Asm,
    Obj,
}

#[derive(clap::Args)]
struct BuildFlags {
    /// Target to compile for: a native executable, or wasm32 (.wasm + .js + .html)
    #[arg(long, value_enum, default_value = "native")]
    target: TargetArg,
    /// Optimisation level, -O0 to -O3
    #[arg(short = 'O', value_name = "LEVEL", default_value_t = 2, value_parser = clap::value_parser!(u8).range(0..=3))]
    opt_level: u8,
    /// Print the time each compiler phase takes to stderr
    #[arg(long)]
    timings: bool,
    /// Check right after the GC pass and after optimisation that no GC reference escapes its root slots (a violation is an internal error)
    #[arg(long)]
    verify_gc: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Compile a program
    Build {
        /// The .weft file with `main`
        file: PathBuf,
        /// Output path (`-` for stdout with --emit); default: the file's stem
        #[arg(short = 'o', value_name = "OUT")]
        output: Option<PathBuf>,
        /// Stop early and write this instead of linking
        #[arg(long, value_enum)]
        emit: Option<EmitArg>,
        #[command(flatten)]
        flags: BuildFlags,
    },
    /// Compile a program into a cache and run it (under node for wasm32)
    Run {
        /// The .weft file with `main`
        file: PathBuf,
        /// Arguments for the program (after `--`)
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
        #[command(flatten)]
        flags: BuildFlags,
    },
    /// Check textual LLVM IR with the GC verifier (a tool for the verifier's own tests)
    #[command(name = "verify-gc", hide = true)]
    VerifyGc {
        /// The .ll file
        file: PathBuf,
    },
    /// Run the gc-frame-spill pass, LLVM's pipeline with it, or the GC verifier on
    /// textual LLVM IR and print the result (a tool for their own tests)
    #[command(hide = true)]
    Opt {
        /// The .ll file (its triple picks the target's rules)
        file: PathBuf,
        /// Run the gc-frame-spill pass alone on every function
        #[arg(long)]
        gc_spill: bool,
        /// Run LLVM's whole pipeline at this level, with the pass in it
        #[arg(short = 'O', value_name = "LEVEL", value_parser = clap::value_parser!(u8).range(0..=3))]
        level: Option<u8>,
        /// Then check the GC invariant (a violation is an internal error)
        #[arg(long)]
        verify_gc: bool,
        /// Where to write the IR (default: stdout)
        #[arg(short = 'o')]
        output: Option<PathBuf>,
    },
}

fn options(
    file: PathBuf,
    output: Option<PathBuf>,
    emit: Option<EmitArg>,
    flags: &BuildFlags,
) -> Options {
    Options {
        input: file,
        output,
        target: match flags.target {
            TargetArg::Native => Target::Native,
            TargetArg::Wasm32 => Target::Wasm32,
        },
        opt_level: flags.opt_level,
        emit: emit.map(|e| match e {
            EmitArg::LlvmIr => Emit::LlvmIr,
            EmitArg::LlvmIrPresplit => Emit::LlvmIrPresplit,
            EmitArg::Tir => Emit::Tir,
            EmitArg::Asm => Emit::Asm,
            EmitArg::Obj => Emit::Obj,
        }),
        timings: flags.timings,
        verify_gc: flags.verify_gc,
    }
}

fn report(failure: Failure) -> u8 {
    match failure {
        Failure::Diagnostics => 1,
        Failure::Other(msg) => {
            diagnostics::plain_error(&msg);
            1
        }
        Failure::Internal(msg) => {
            diagnostics::plain_error(&msg);
            101
        }
    }
}

fn run_command(cli: Cli) -> u8 {
    match cli.command {
        Command::Build {
            file,
            output,
            emit,
            flags,
        } => match driver::build(&options(file, output, emit, &flags)) {
            Ok(_) => 0,
            Err(f) => report(f),
        },
        Command::VerifyGc { file } => match driver::verify_ir_file(&file) {
            Ok(()) => 0,
            Err(f) => report(f),
        },
        Command::Opt {
            file,
            gc_spill,
            level,
            verify_gc,
            output,
        } => {
            let opts = driver::OptOptions {
                gc_spill,
                level,
                verify_gc,
            };
            match driver::opt_ir_file(&file, &opts, output.as_deref()) {
                Ok(()) => 0,
                Err(f) => report(f),
            }
        }
        Command::Run { file, args, flags } => {
            let dir = run_cache_dir(&file, &flags);
            if let Err(e) = std::fs::create_dir_all(&dir) {
                diagnostics::plain_error(&format!("cannot create `{}`: {e}", dir.display()));
                return 1;
            }
            let stem = file
                .file_stem()
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("app"));
            let opts = options(file, Some(dir.join(stem)), None, &flags);
            match driver::build(&opts) {
                Ok(built) => exec(&built.runnable, opts.target, &args),
                Err(f) => report(f),
            }
        }
    }
}

/// One cache directory per source path and target, so concurrent runs of
/// different programs never share files.
fn run_cache_dir(file: &std::path::Path, flags: &BuildFlags) -> PathBuf {
    let abs = std::fs::canonicalize(file).unwrap_or_else(|_| file.to_path_buf());
    let key = format!(
        "{}|{}|{}",
        abs.display(),
        flags.target as u8,
        flags.opt_level
    );
    link::cache_dir()
        .join("run")
        .join(format!("{:016x}", link::fnv1a(key.as_bytes())))
}

fn exec(program: &std::path::Path, target: Target, args: &[String]) -> u8 {
    let mut cmd = match target {
        Target::Native => std::process::Command::new(program),
        Target::Wasm32 => {
            let mut c = std::process::Command::new(
                std::env::var("WEFT_NODE").unwrap_or_else(|_| "node".into()),
            );
            c.arg(program);
            c
        }
    };
    cmd.args(args);
    match cmd.status() {
        Ok(status) => match status.code() {
            Some(code) => code as u8,
            None => {
                use std::os::unix::process::ExitStatusExt;
                let sig = status.signal().unwrap_or(0);
                diagnostics::plain_error(&format!("the program was killed by signal {sig}"));
                (128 + sig) as u8
            }
        },
        Err(e) => {
            diagnostics::plain_error(&format!("cannot run `{}`: {e}", program.display()));
            1
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    std::panic::set_hook(Box::new(|info| {
        diagnostics::stderr_line(&format!("error: internal compiler error: {info}"));
        diagnostics::stderr_line(
            "note: this is a bug in weft; please report it with the input that caused it",
        );
    }));
    // The phases recurse over the syntax tree; give them room beyond the
    // parser's nesting limit.
    let worker = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || run_command(cli));
    let code = match worker {
        Ok(handle) => handle.join().unwrap_or(101),
        Err(e) => {
            diagnostics::plain_error(&format!("cannot start the compiler thread: {e}"));
            101
        }
    };
    ExitCode::from(code)
}
