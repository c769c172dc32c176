//! What differs between native and the browser: writing bytes, exiting, the
//! program's arguments, environment switches and a clock.
//!
//! Natively we write with `write(2)`, exit with `exit(3)`, read the clock
//! with `clock_gettime(2)`, sleep with `clock_nanosleep(2)` (the scheduler,
//! when only timers are pending) and take the arguments `main` was given.
//! wasm32 never sleeps: the scheduler returns to JavaScript instead. On wasm32
//! the host (app.js) provides imports: `weft.write` copies bytes out of
//! linear memory, `weft.exit` stops the program by throwing in JavaScript,
//! which unwinds the wasm stack (wasm has no other way to stop mid-call),
//! `weft.args_count`/`arg_len`/`arg_copy` copy the arguments in,
//! `weft.env_flag` answers whether a switch such as `WEFT_GC_STRESS` is on
//! (natively `env_u64` also reads integer settings such as `WEFT_SEED`;
//! wasm32 has none), and `weft.clock_ms` reads `performance.now()`.

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    use core::cell::Cell;

    extern "C" {
        fn write(fd: i32, buf: *const u8, count: usize) -> isize;
        fn exit(code: i32) -> !;
        fn __errno_location() -> *mut i32;
        fn clock_gettime(clock: i32, time: *mut Timespec) -> i32;
        fn clock_nanosleep(
            clock: i32,
            flags: i32,
            request: *const Timespec,
            remain: *mut Timespec,
        ) -> i32;
        fn strlen(s: *const u8) -> usize;
    }

    #[repr(C)]
    struct Timespec {
        seconds: i64,
        nanoseconds: i64,
    }

    const EINTR: i32 = 4;
    const CLOCK_MONOTONIC: i32 = 1;
    const TIMER_ABSTIME: i32 = 1;

    pub fn write_all(fd: i32, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            // SAFETY: the pointer and length come from a live slice.
            let n = unsafe { write(fd, bytes.as_ptr(), bytes.len()) };
            if n < 0 {
                // SAFETY: errno is thread-local and always valid to read.
                if unsafe { *__errno_location() } == EINTR {
                    continue;
                }
                return; // A closed pipe: nothing more can be written.
            }
            bytes = &bytes[n as usize..];
        }
    }

    pub fn exit_process(code: i32) -> ! {
        // SAFETY: plain libc exit; our buffers were flushed by the caller.
        unsafe { exit(code) }
    }

    /// Milliseconds on a monotonic clock.
    pub fn now_ms() -> f64 {
        let mut t = Timespec {
            seconds: 0,
            nanoseconds: 0,
        };
        // SAFETY: `t` is a valid out-parameter.
        unsafe { clock_gettime(CLOCK_MONOTONIC, &mut t) };
        t.seconds as f64 * 1e3 + t.nanoseconds as f64 / 1e6
    }

    /// Blocks in the kernel until `now_ms()` reaches `deadline_ms` (at once
    /// if it has): an absolute deadline, so a signal cannot stretch the wait.
    pub fn sleep_until_ms(deadline_ms: f64) {
        let ms = deadline_ms.max(0.0);
        let seconds = (ms / 1e3).floor();
        // Rounded up, so the clock reads at least `deadline_ms` on waking.
        let nanoseconds = ((ms - seconds * 1e3) * 1e6).ceil();
        let t = Timespec {
            seconds: seconds as i64,
            nanoseconds: (nanoseconds as i64).clamp(0, 999_999_999),
        };
        loop {
            // SAFETY: `t` is a valid timespec; no remainder is asked for.
            let r = unsafe {
                clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, core::ptr::null_mut())
            };
            if r != EINTR {
                return;
            }
        }
    }

    /// Whether the environment variable is set to something other than
    /// empty or `0`.
    pub fn env_flag(name: &str) -> bool {
        std::env::var_os(name).is_some_and(|v| !v.is_empty() && v != "0")
    }

    /// The environment variable as a decimal integer, if it is set to one.
    pub fn env_u64(name: &str) -> Option<u64> {
        std::env::var(name).ok()?.trim().parse().ok()
    }

    struct Argv {
        count: Cell<usize>,
        values: Cell<*const *const u8>,
    }

    // Written once by `main` before anything else runs; single-threaded.
    unsafe impl Sync for Argv {}

    static ARGV: Argv = Argv {
        count: Cell::new(0),
        values: Cell::new(core::ptr::null()),
    };

    /// Records the C `main`'s arguments for `args`.
    ///
    /// # Safety
    /// `argv` must hold `argc` C strings that live as long as the process.
    #[cfg_attr(test, expect(dead_code))]
    pub unsafe fn set_args(argc: i32, argv: *const *const u8) {
        ARGV.count.set(argc.max(0) as usize);
        ARGV.values.set(argv);
    }

    /// The arguments after the program name, as bytes.
    pub fn args() -> Vec<Vec<u8>> {
        let values = ARGV.values.get();
        (1..ARGV.count.get())
            .map(|i| {
                // SAFETY: guaranteed by `set_args`'s caller.
                unsafe {
                    let s = *values.add(i);
                    core::slice::from_raw_parts(s, strlen(s)).to_vec()
                }
            })
            .collect()
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod io_imp {
    //! `io`'s operations natively: the reactor performs them.
    pub use crate::reactor::{read_file as io_read_file, remove as io_remove};
    pub use crate::reactor::{stdin as io_stdin, write_file as io_write_file};
}

#[cfg(target_arch = "wasm32")]
mod io_imp {
    //! `io`'s operations on wasm32: app.js performs them (`io_start`) and
    //! completes them through the exports `weft_io_buffer`/`weft_io_done`.
    use weft_abi::io::*;

    #[link(wasm_import_module = "weft")]
    extern "C" {
        #[link_name = "io_start"]
        fn js_io_start(op: i32, token: f64, a: *const u8, a_len: usize, b: *const u8, b_len: usize);
    }

    fn start(op: i32, token: i64, a: &[u8], b: &[u8]) {
        // SAFETY: JavaScript reads the two byte ranges during the call only.
        unsafe { js_io_start(op, token as f64, a.as_ptr(), a.len(), b.as_ptr(), b.len()) }
    }

    pub fn io_stdin(token: i64) {
        start(OP_STDIN, token, &[], &[]);
    }

    pub fn io_read_file(token: i64, path: String) {
        start(OP_READ_FILE, token, path.as_bytes(), &[]);
    }

    pub fn io_write_file(token: i64, path: String, data: Vec<u8>) {
        start(OP_WRITE_FILE, token, path.as_bytes(), &data);
    }

    pub fn io_remove(token: i64, path: String) {
        start(OP_REMOVE, token, path.as_bytes(), &[]);
    }

    pub fn io_fetch(token: i64, url: String) {
        start(OP_FETCH, token, url.as_bytes(), &[]);
    }
}

pub use io_imp::*;

#[cfg(target_arch = "wasm32")]
mod imp {
    #[link(wasm_import_module = "weft")]
    extern "C" {
        #[link_name = "write"]
        fn js_write(fd: i32, ptr: *const u8, len: usize);
        #[link_name = "exit"]
        fn js_exit(code: i32);
        #[link_name = "unwind"]
        fn js_unwind();
        #[link_name = "clock_ms"]
        fn js_clock_ms() -> f64;
        #[link_name = "env_flag"]
        fn js_env_flag(name: *const u8, len: usize) -> i32;
        #[link_name = "args_count"]
        fn js_args_count() -> i32;
        #[link_name = "arg_len"]
        fn js_arg_len(index: i32) -> i32;
        #[link_name = "arg_copy"]
        fn js_arg_copy(index: i32, ptr: *mut u8);
    }

    pub fn write_all(fd: i32, bytes: &[u8]) {
        // SAFETY: JavaScript only reads `len` bytes at `ptr` from our memory.
        unsafe { js_write(fd, bytes.as_ptr(), bytes.len()) }
    }

    pub fn exit_process(code: i32) -> ! {
        // SAFETY: the import throws and never returns into wasm.
        unsafe { js_exit(code) };
        core::arch::wasm32::unreachable()
    }

    /// Throws back to app.js, which restores the stack pointer and calls
    /// `weft_unwound` (a panic in synchronous code ending a task).
    pub fn unwind_to_js() -> ! {
        // SAFETY: the import throws and never returns into wasm.
        unsafe { js_unwind() };
        core::arch::wasm32::unreachable()
    }

    /// Milliseconds on a monotonic clock.
    pub fn now_ms() -> f64 {
        // SAFETY: a pure import.
        unsafe { js_clock_ms() }
    }

    /// Whether the host says the switch is on.
    pub fn env_flag(name: &str) -> bool {
        // SAFETY: JavaScript only reads `len` bytes at `ptr`.
        unsafe { js_env_flag(name.as_ptr(), name.len()) != 0 }
    }

    /// Integer settings (`WEFT_SEED`) are not passed in: app.js answers
    /// only on/off switches.
    pub fn env_u64(_name: &str) -> Option<u64> {
        None
    }

    /// The arguments after the program name, as bytes.
    pub fn args() -> Vec<Vec<u8>> {
        // SAFETY: the imports copy at most `arg_len(i)` bytes into the buffer.
        unsafe {
            (0..js_args_count().max(0))
                .map(|i| {
                    let mut arg = vec![0u8; js_arg_len(i).max(0) as usize];
                    js_arg_copy(i, arg.as_mut_ptr());
                    arg
                })
                .collect()
        }
    }
}

pub use imp::*;
