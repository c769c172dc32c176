//! Linking the program's object files with the embedded runtime into what the user runs.
//!
//! The runtime static libraries are compiled into this binary (see build.rs)
//! and written on first use to a cache directory named after their content
//! hash, so a `weft` binary copied anywhere still links, and a new `weft`
//! never picks up an old runtime. Natively the system C compiler driver (`cc`)
//! links; for wasm32 `wasm-ld-22` does, and we write the `.js` loader and the
//! `.html` page beside the `.wasm`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

static RUNTIME_NATIVE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/libweft_rt_native.a"));
static RUNTIME_WASM32: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/libweft_rt_wasm32.a"));
static APP_JS: &str = include_str!("../runtime/js/app.js");
static APP_HTML: &str = include_str!("../runtime/js/app.html");

/// Libraries Rust's standard library (inside the runtime) needs on Linux.
const NATIVE_LIBS: &[&str] = &[
    "-lgcc_s",
    "-lutil",
    "-lrt",
    "-lpthread",
    "-lm",
    "-ldl",
    "-lc",
];

/// The wasm stack: deep recursion needs more than wasm-ld's 64 KiB default.
const WASM_STACK_BYTES: u32 = 8 << 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Native,
    Wasm32,
}

/// Where weft keeps its runtime copies and `weft run` builds.
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("WEFT_CACHE_DIR") {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(dir).join("weft");
    }
    if let Some(home) = std::env::var_os("HOME") {
        return PathBuf::from(home).join(".cache").join("weft");
    }
    std::env::temp_dir().join("weft-cache")
}

pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

/// Writes `bytes` to `path` unless an identical file is there; atomic, so
/// concurrent builds never see half a library.
fn write_cached(path: &Path, bytes: &[u8]) -> Result<(), String> {
    if fs::metadata(path)
        .map(|m| m.len() == bytes.len() as u64)
        .unwrap_or(false)
    {
        return Ok(());
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir)
        .map_err(|e| format!("cannot create cache directory {}: {e}", dir.display()))?;
    let tmp = dir.join(format!(".tmp-{}", std::process::id()));
    fs::write(&tmp, bytes).map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    fs::rename(&tmp, path).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn runtime_lib(target: Target) -> Result<PathBuf, String> {
    let (bytes, name) = match target {
        Target::Native => (RUNTIME_NATIVE, "libweft_rt_native.a"),
        Target::Wasm32 => (RUNTIME_WASM32, "libweft_rt_wasm32.a"),
    };
    let dir = cache_dir().join(format!("runtime-{:016x}", fnv1a(bytes)));
    let path = dir.join(name);
    write_cached(&path, bytes)?;
    Ok(path)
}

fn run_tool(mut cmd: Command, what: &str) -> Result<(), String> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run the {what} `{program}`: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "the {what} `{program}` failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

/// Links `objects` (the program's: one, or two with `optimize::split_huge`)
/// into an executable at `output`.
pub fn link_native(objects: &[PathBuf], output: &Path) -> Result<(), String> {
    let runtime = runtime_lib(Target::Native)?;
    let linker = std::env::var("WEFT_CC").unwrap_or_else(|_| "cc".into());
    let mut cmd = Command::new(linker);
    cmd.arg("-o")
        .arg(output)
        .args(objects)
        .arg(&runtime)
        .arg("-Wl,--gc-sections")
        .arg("-Wl,--strip-debug")
        .args(NATIVE_LIBS);
    run_tool(cmd, "linker")
}

/// The three files of a wasm32 build: `stem.wasm`, `stem.js`, `stem.html`.
pub struct WasmOutputs {
    pub wasm: PathBuf,
    pub js: PathBuf,
    pub html: PathBuf,
}

pub fn wasm_outputs(output: &Path) -> WasmOutputs {
    let base = match output.extension().and_then(|e| e.to_str()) {
        Some("wasm" | "js" | "html") => output.with_extension(""),
        _ => output.to_path_buf(),
    };
    let with = |ext: &str| {
        let mut name = base.file_name().unwrap_or_default().to_os_string();
        name.push(ext);
        base.with_file_name(name)
    };
    WasmOutputs {
        wasm: with(".wasm"),
        js: with(".js"),
        html: with(".html"),
    }
}

/// Links `objects` into `stem.wasm` and writes its loader and page; `io`:
/// the program uses the `io` module, so app.js needs the exports that
/// complete its operations (left out otherwise, with what they pull in).
pub fn link_wasm(objects: &[PathBuf], output: &Path, io: bool) -> Result<WasmOutputs, String> {
    let runtime = runtime_lib(Target::Wasm32)?;
    let outs = wasm_outputs(output);
    let linker = std::env::var("WEFT_WASM_LD").unwrap_or_else(|_| "wasm-ld-22".into());
    let mut cmd = Command::new(linker);
    cmd.arg("--no-entry")
        .arg("--export=weft_start")
        .arg("--export=weft_poll")
        .arg("--export=weft_unwound")
        // app.js writes out what stdout holds when the module traps.
        .arg("--export=weft_flush")
        // The stack first: running off its end goes below address 0 and
        // traps, where after the data it would overwrite the statics.
        .arg("--stack-first")
        // app.js puts it back after a panic unwinds the wasm stack.
        .arg("--export=__stack_pointer")
        .arg("--gc-sections")
        // The runtime's DWARF is most of a module's bytes, and browsers
        // download every one of them.
        .arg("--strip-debug")
        .arg("-z")
        .arg(format!("stack-size={WASM_STACK_BYTES}"));
    if io {
        cmd.arg("--export=weft_io_buffer")
            .arg("--export=weft_io_done");
    }
    cmd.arg("-o").arg(&outs.wasm).args(objects).arg(&runtime);
    run_tool(cmd, "wasm linker")?;
    let file = |p: &Path| {
        p.file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned()
    };
    let (wasm, js, html) = (file(&outs.wasm), file(&outs.js), file(&outs.html));
    let title = outs
        .wasm
        .file_stem()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let fill = |t: &str| {
        t.replace("__WASM__", &wasm)
            .replace("__JS__", &js)
            .replace("__HTML__", &html)
            .replace("__TITLE__", &title)
    };
    fs::write(&outs.js, fill(APP_JS))
        .map_err(|e| format!("cannot write {}: {e}", outs.js.display()))?;
    fs::write(&outs.html, fill(APP_HTML))
        .map_err(|e| format!("cannot write {}: {e}", outs.html.display()))?;
    Ok(outs)
}
