//! How a Weft program starts and ends: reading the runtime's environment
//! switches, the program's arguments, and the one way out (`exit`) that
//! every path takes, so stdout is always flushed and GC statistics are
//! always printed, whether `main` returns, the program calls `exit`, or it
//! panics.

use crate::object::Ref;
use crate::{array, gc, output, platform, string};

/// Reads `WEFT_GC_STRESS` and `WEFT_GC_STATS`, starts the program's clock
/// (`weft_now_ms`) and seeds the random choices of `select` (`WEFT_SEED`,
/// natively, else the clock); called once before `weft_main`.
#[cfg_attr(test, expect(dead_code))]
pub fn init() {
    gc::configure(
        platform::env_flag("WEFT_GC_STRESS"),
        platform::env_flag("WEFT_GC_STATS"),
    );
    crate::sched::start_clock();
    crate::rng::init();
    crate::overflow::install();
}

/// Flushes stdout and prints the GC statistics (when enabled): the work of
/// every exit path.
pub fn finish() {
    output::flush_all();
    gc::report();
}

/// Ends the program with `code` after `finish`.
pub fn exit(code: i32) -> ! {
    finish();
    platform::exit_process(code)
}

/// Prints `panic: <message>` and `  at <location>` to stderr and exits 101;
/// inside a task, it ends the task instead (see `task::abandoned`).
pub fn panic(message: &[u8], location: &[u8]) -> ! {
    if let Some(running) = crate::sched::guarded_task() {
        // Copied first: the message may live in a GC string, and recording
        // the panic allocates.
        let message = message.to_vec();
        // SAFETY: `running` is the task's coroutine; the frames between here
        // and the scheduler are compiled code and runtime frames holding
        // nothing to drop.
        unsafe {
            crate::task::panic_in(running, &message, location);
            drop(message);
            crate::sched::unwind_to_scheduler();
        }
    }
    output::write(output::STDERR_FD, &panic_text(message, location));
    exit(101)
}

/// `panic: <message>` and `  at <location>` (when there is one), as a panic prints it.
pub fn panic_text(message: &[u8], location: &[u8]) -> Vec<u8> {
    let mut text = Vec::with_capacity(message.len() + location.len() + 16);
    text.extend_from_slice(b"panic: ");
    text.extend_from_slice(message);
    // A runtime function called from the standard library knows no Weft
    // location: no `at` line rather than an empty one.
    if !location.is_empty() {
        text.extend_from_slice(b"\n  at ");
        text.extend_from_slice(location);
    }
    text.push(b'\n');
    text
}

/// Out of memory: `panic: out of memory (<n> <unit> requested)` and status
/// 101, whether the request is absurd (`Chan[int](1 << 60)`) or the system
/// has no more to give. Formatted on the stack: nothing here allocates.
/// `amount` is `None` when the size itself does not fit in 64 bits.
pub fn out_of_memory(amount: Option<u128>, unit: &str) -> ! {
    out_of_memory_at(amount, unit, &[])
}

/// `out_of_memory` with the Weft source location of the request, when the
/// compiled code passed one (`file:line:col`; empty when unknown).
pub fn out_of_memory_at(amount: Option<u128>, unit: &str, location: &[u8]) -> ! {
    output::flush_all();
    let err = |b: &[u8]| platform::write_all(output::STDERR_FD, b);
    err(b"panic: out of memory");
    match amount {
        Some(n) => {
            let mut digits = [0u8; 40];
            let mut i = digits.len();
            let mut v = n;
            loop {
                i -= 1;
                digits[i] = b'0' + (v % 10) as u8;
                v /= 10;
                if v == 0 {
                    break;
                }
            }
            err(b" (");
            err(&digits[i..]);
            err(b" ");
            err(unit.as_bytes());
            err(b" requested)\n");
        }
        None => {
            err(b" (the size requested does not fit in 64 bits)\n");
        }
    }
    if !location.is_empty() {
        err(b"  at ");
        err(location);
        err(b"\n");
    }
    gc::report();
    platform::exit_process(101)
}

/// Ends the program on an error of the runtime itself (out of memory, a
/// corrupt heap): `fatal: <message>` and status 134, like an abort. No GC
/// statistics: the heap may be what failed.
pub fn fatal(message: &str) -> ! {
    // Written piecewise: when memory is what ran out, nothing may allocate.
    output::flush_all();
    platform::write_all(output::STDERR_FD, b"fatal: ");
    platform::write_all(output::STDERR_FD, message.as_bytes());
    platform::write_all(output::STDERR_FD, b"\n");
    platform::exit_process(134)
}

/// The program's arguments (without the program name) as a new `[string]`.
pub fn args() -> Ref {
    let args = platform::args();
    // SAFETY: each string is rooted by the array as soon as it is made, and
    // the array by the frame.
    unsafe {
        let array = array::new(true, args.len());
        crate::roots::with_roots([array], |_| {
            for arg in &args {
                let s = string::from_bytes(String::from_utf8_lossy(arg).as_bytes());
                array::push(array, crate::object::ref_to_slot(s));
            }
        });
        array
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::heap_lock;

    #[test]
    fn without_a_c_main_there_are_no_arguments() {
        let _heap = heap_lock();
        let arr = args();
        // SAFETY: a fresh `[string]`.
        unsafe { assert_eq!(array::len(arr), 0) };
    }
}
