//! weft-rt: the runtime every Weft program links against.
//!
//! Built as a static library for the host and for wasm32-unknown-unknown by the
//! compiler's build.rs and embedded in the `weft` binary. Compiled Weft code
//! calls only the functions of `abi` (the C ABI, one place); the rest of the
//! crate is private. The program's entry point lives here too: natively the C
//! `main`, on wasm32 the exported `weft_start`, both of which call the
//! compiler-generated `weft_main`.
//!
//! Single-threaded by design (one cooperative scheduler per process), so the
//! global state below is accessed without locks.

pub mod abi;
mod output;
mod platform;
