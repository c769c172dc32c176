//! Program tests: every `tests/programs/*.weft` is compiled and run in each
//! mode below, and its stdout and exit status compared with the `.out` and
//! `.status` files beside it (status 0 when there is none). A `.err` file
//! lists lines that must each appear in stderr; a `.args` file holds
//! command-line arguments (`{dir}` stands for a scratch folder of the
//! mode's own, for programs that write files); a `.in` file is stdin
//! (otherwise stdin is empty); a `.native` file marks a program only native
//! targets can build (it uses `net`), which the wasm32 modes leave out. `mod_*.weft` files are modules that programs
//! import. `WEFT_BLESS=1` rewrites `.out` and `.status` from the native -O0 run;
//! `WEFT_PROGRAMS=text` runs only the programs whose path contains `text`.

use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Clone, Copy)]
struct Mode {
    name: &'static str,
    wasm: bool,
    opt: &'static str,
    gc_stress: bool,
}

const NATIVE_O0: Mode = Mode {
    name: "native-O0",
    wasm: false,
    opt: "-O0",
    gc_stress: false,
};
const NATIVE_O2: Mode = Mode {
    name: "native-O2",
    wasm: false,
    opt: "-O2",
    gc_stress: false,
};
const WASM_O2: Mode = Mode {
    name: "wasm32-O2",
    wasm: true,
    opt: "-O2",
    gc_stress: false,
};
const NATIVE_O2_GC_STRESS: Mode = Mode {
    name: "native-O2-gc-stress",
    wasm: false,
    opt: "-O2",
    gc_stress: true,
};

const WASM_O2_GC_STRESS: Mode = Mode {
    name: "wasm32-O2-gc-stress",
    wasm: true,
    opt: "-O2",
    gc_stress: true,
};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn programs() -> Vec<PathBuf> {
    programs_in("tests/programs")
}

fn programs_in(dir: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
        .expect("the program directory exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "weft"))
        // `mod_*.weft` are modules the programs import, not programs.
        .filter(|p| {
            !p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("mod_"))
        })
        // `WEFT_PROGRAMS=io_` runs only the programs whose name has it.
        .filter(|p| match std::env::var("WEFT_PROGRAMS") {
            Ok(only) => p.to_string_lossy().contains(&only),
            Err(_) => true,
        })
        .collect();
    v.sort();
    let filtered = std::env::var_os("WEFT_PROGRAMS").is_some();
    assert!(filtered || !v.is_empty(), "no programs found in {dir}");
    v
}

fn read_opt(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// Builds and runs one program; returns a description of the mismatch, if any.
fn run_one(program: &Path, mode: Mode, bless: bool) -> Result<(), String> {
    let weft = env!("CARGO_BIN_EXE_weft");
    let stem = program.file_stem().unwrap().to_string_lossy().into_owned();
    let out_dir = root().join("target/test-programs").join(mode.name);
    std::fs::create_dir_all(&out_dir).unwrap();
    let output = out_dir.join(&stem);
    let mut build = Command::new(weft);
    build
        .arg("build")
        .arg(program)
        .arg("-o")
        .arg(&output)
        .arg(mode.opt)
        // Every program also checks the GC invariant (a violation exits 101).
        .arg("--verify-gc");
    if mode.wasm {
        build.arg("--target").arg("wasm32");
    }
    let built = build
        .output()
        .map_err(|e| format!("cannot run weft: {e}"))?;
    if !built.status.success() {
        return Err(format!(
            "build failed ({}):\n{}",
            built.status,
            String::from_utf8_lossy(&built.stderr)
        ));
    }
    let mut run = if mode.wasm {
        let mut c = Command::new("node");
        c.arg(out_dir.join(format!("{stem}.js")));
        c
    } else {
        Command::new(&output)
    };
    if mode.gc_stress {
        run.env("WEFT_GC_STRESS", "1");
    }
    let args_file = program.with_extension("args");
    if let Some(args) = read_opt(&args_file) {
        let scratch = out_dir.join(format!("{stem}.scratch"));
        std::fs::create_dir_all(&scratch).unwrap();
        let scratch = scratch.to_string_lossy().into_owned();
        run.args(
            args.split_whitespace()
                .map(|a| a.replace("{dir}", &scratch)),
        );
    }
    let in_file = program.with_extension("in");
    if in_file.exists() {
        run.stdin(
            std::fs::File::open(&in_file).map_err(|e| format!("{}: {e}", in_file.display()))?,
        );
    }
    let ran = run
        .output()
        .map_err(|e| format!("cannot run the program: {e}"))?;
    let stdout = String::from_utf8_lossy(&ran.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&ran.stderr).into_owned();
    let status = ran.status.code().unwrap_or(-1);
    let out_file = program.with_extension("out");
    let status_file = program.with_extension("status");
    if bless {
        std::fs::write(&out_file, &stdout).unwrap();
        if status != 0 {
            std::fs::write(&status_file, format!("{status}\n")).unwrap();
        } else {
            let _ = std::fs::remove_file(&status_file);
        }
        return Ok(());
    }
    let mut problems = Vec::new();
    let expected_out = read_opt(&out_file).unwrap_or_default();
    if stdout != expected_out {
        problems.push(format!(
            "stdout differs from {}:\n--- expected\n{expected_out}--- actual\n{stdout}",
            out_file.display()
        ));
    }
    let expected_status: i32 = read_opt(&status_file)
        .map(|s| s.trim().parse().expect("a .status file holds a number"))
        .unwrap_or(0);
    if status != expected_status {
        problems.push(format!("exit status {status}, expected {expected_status}"));
    }
    if let Some(err) = read_opt(&program.with_extension("err")) {
        for line in err.lines().filter(|l| !l.is_empty()) {
            if !stderr.contains(line) {
                problems.push(format!("stderr lacks `{line}`"));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        problems.push(format!("stderr was:\n{stderr}"));
        Err(problems.join("\n"))
    }
}

fn run_mode(mode: Mode) {
    run_mode_on(mode, &programs());
}

fn run_mode_on(mode: Mode, all: &[PathBuf]) {
    let bless = std::env::var_os("WEFT_BLESS").is_some() && mode.name == NATIVE_O0.name;
    let mut failures = Vec::new();
    for p in all {
        // A program using what only native targets have (`net`): its wasm32
        // build is a compile error, which lit/diag/net_on_wasm.weft checks.
        if mode.wasm && p.with_extension("native").exists() {
            continue;
        }
        if let Err(e) = run_one(p, mode, bless) {
            failures.push(format!("== {} [{}]\n{e}", p.display(), mode.name));
        }
    }
    if !failures.is_empty() {
        panic!(
            "{} of {} programs failed in mode {} (WEFT_BLESS=1 cargo test rewrites expectations):\n\n{}",
            failures.len(),
            all.len(),
            mode.name,
            failures.join("\n\n")
        );
    }
}

#[test]
fn programs_native_o0() {
    run_mode(NATIVE_O0);
}

#[test]
fn programs_native_o2() {
    run_mode(NATIVE_O2);
}

#[test]
fn programs_wasm32() {
    run_mode(WASM_O2);
}

#[test]
fn programs_native_gc_stress() {
    run_mode(NATIVE_O2_GC_STRESS);
}

#[test]
fn programs_wasm32_gc_stress() {
    run_mode(WASM_O2_GC_STRESS);
}

/// The GC matrix (tests/gc_matrix, written by its generate.py): every
/// operation that moves a value between compiled code and the runtime, for
/// each kind of payload, at every optimisation level on both targets, under
/// GC stress and --verify-gc.
#[test]
fn gc_matrix() {
    const LEVELS: [&str; 4] = ["-O0", "-O1", "-O2", "-O3"];
    let all = programs_in("tests/gc_matrix");
    let mut failures = Vec::new();
    for wasm in [false, true] {
        for opt in LEVELS {
            let name: &'static str = Box::leak(
                format!("gc-matrix-{}{opt}", if wasm { "wasm32" } else { "native" })
                    .into_boxed_str(),
            );
            let mode = Mode {
                name,
                wasm,
                opt,
                gc_stress: true,
            };
            for p in &all {
                if let Err(e) = run_one(p, mode, false) {
                    failures.push(format!("== {} [{}]\n{e}", p.display(), mode.name));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
