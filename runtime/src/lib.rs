//! weft-rt: the runtime every Weft program links against.
//!
//! Built as a static library for the host and for wasm32-unknown-unknown by the
//! compiler's build.rs and embedded in the `weft` binary. Compiled Weft code
//! calls only the functions of `abi` (the C ABI, one place); the rest of the
//! crate is private. The program's entry point lives here too: natively the C
//! `main`, on wasm32 the exported `weft_start`, both of which call the
//! compiler-generated `weft_main`.
//!
//! Modules: `object` (object and descriptor layout), `gc` (the heap and the
//! collector), `roots` (the shadow stack), `string`, `array` and `map` (the
//! runtime's own object types), `process` (start-up, exit paths, panics,
//! arguments), `sched` (the task scheduler: ready queue, timers, the event
//! loop), `chan` (channels and `select`, over the scheduler), `rng` (the
//! random choices of `select`), `io` (the operations of the `io` module
//! and their completions), `net` (TCP sockets for the `net` module),
//! `reactor` (natively: epoll, where the scheduler
//! sleeps, and the threads that read files), `output` and `platform` (I/O
//! and what differs between targets).
//!
//! Single-threaded by design (one cooperative scheduler per process), so the
//! global state below is accessed without locks.

pub mod abi;
mod abi_check;
mod array;
mod bytes;
mod chan;
mod finalize;
mod format;
mod gc;
mod io;
mod map;
mod net;
mod object;
mod output;
mod overflow;
mod platform;
mod process;
#[cfg(not(target_arch = "wasm32"))]
mod reactor;
mod rng;
mod roots;
mod sched;
mod spec;
mod string;
mod task;

#[cfg(test)]
mod tests;
