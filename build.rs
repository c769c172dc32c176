//! Builds the runtime (weft-rt) as a static library for the host and for
//! wasm32-unknown-unknown and places both in OUT_DIR, where `src/link.rs`
//! embeds them with `include_bytes!`: a `weft` binary needs no source tree.
//!
//! The nested cargo uses its own target directory (`target/runtime`) so it
//! never waits on the lock the outer build holds.
//!
//! It also compiles the C++ pass shim (`src/llvm_shim/pass_wrapper.cpp`, which
//! puts the gc-frame-spill pass into LLVM's pipeline) with the `cc` crate,
//! using `llvm-config --cxxflags` of the LLVM that llvm-sys links.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let out_dir = PathBuf::from(env::var("OUT_DIR").unwrap());
    let host = env::var("TARGET").unwrap();
    let runtime = manifest_dir.join("runtime");
    println!("cargo:rerun-if-changed=runtime/src");
    println!("cargo:rerun-if-changed=runtime/Cargo.toml");
    println!("cargo:rerun-if-changed=abi/src");
    println!("cargo:rerun-if-changed=abi/Cargo.toml");
    println!("cargo:rerun-if-changed=build.rs");

    build_llvm_shim();

    let target_dir = manifest_dir.join("target").join("runtime");
    for (triple, name) in [
        (host.as_str(), "native"),
        ("wasm32-unknown-unknown", "wasm32"),
    ] {
        build_runtime(&runtime, &target_dir, triple);
        let lib = target_dir.join(triple).join("release").join("libweft_rt.a");
        let dest = out_dir.join(format!("libweft_rt_{name}.a"));
        std::fs::copy(&lib, &dest)
            .unwrap_or_else(|e| panic!("copying {} to {}: {e}", lib.display(), dest.display()));
    }
}

fn build_runtime(runtime: &Path, target_dir: &Path, triple: &str) {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.arg("build")
        .arg("--release")
        .arg("--manifest-path")
        .arg(runtime.join("Cargo.toml"))
        .arg("--target")
        .arg(triple)
        .arg("--target-dir")
        .arg(target_dir)
        // Weft panics exit through the runtime; Rust unwinding would only add size.
        .arg("--config")
        .arg("profile.release.panic=\"abort\"");
    // The outer build's flags and wrappers (clippy, coverage) are not the runtime's.
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_MAKEFLAGS",
        "MAKEFLAGS",
        "MFLAGS",
    ] {
        cmd.env_remove(var);
    }
    let status = cmd.status().expect("running cargo to build the runtime");
    if !status.success() {
        panic!(
            "building the Weft runtime for {triple} failed; for wasm32 run `rustup target add wasm32-unknown-unknown`"
        );
    }
}

/// Compiles the pass shim against the LLVM that llvm-sys links (`libLLVM-22.so`);
/// its symbols resolve there, so the shim is only our few functions.
fn build_llvm_shim() {
    let source = "src/llvm_shim/pass_wrapper.cpp";
    println!("cargo:rerun-if-changed={source}");
    println!("cargo:rerun-if-env-changed=LLVM_SYS_221_PREFIX");
    let prefix = env::var("LLVM_SYS_221_PREFIX").unwrap_or_else(|_| "/usr/lib/llvm-22".into());
    let config = Path::new(&prefix).join("bin").join("llvm-config");
    let output = Command::new(&config)
        .arg("--cxxflags")
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", config.display()));
    if !output.status.success() {
        panic!("{} --cxxflags failed", config.display());
    }
    let cxxflags = String::from_utf8_lossy(&output.stdout).into_owned();
    let mut build = cc::Build::new();
    build
        .cpp(true)
        .file(source)
        .include(Path::new(&prefix).join("include"))
        .std("c++17")
        // LLVM's headers are not -Wextra clean; -Wall stays on.
        .extra_warnings(false);
    for flag in cxxflags.split_whitespace() {
        // -std is set above; -I is the include directory above.
        if !flag.starts_with("-std=") && !flag.starts_with("-I") {
            build.flag(flag);
        }
    }
    build.compile("weft_llvm_shim");
}
