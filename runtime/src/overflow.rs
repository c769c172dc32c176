//! Stack overflow as a panic: natively, a `SIGSEGV`/`SIGBUS` whose faulting
//! address lies in the main thread's stack region (the guard page below
//! it) prints `panic: stack overflow` and exits 101, instead of a bare
//! signal death (status 139). The handler runs on its own `sigaltstack`,
//! since the overflowed stack has no room left. Any other fault keeps the
//! default action (re-raised at once): it is a bug, not the program's.
//!
//! On wasm32 the engine traps instead (`RangeError` for its call stack; an
//! out-of-bounds access when the linear-memory stack, placed first by the
//! linker, goes below zero) and app.js prints the same message.

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    use core::cell::Cell;

    #[repr(C)]
    struct StackT {
        sp: *mut u8,
        flags: i32,
        size: usize,
    }

    /// glibc's x86-64 `struct sigaction`.
    #[repr(C)]
    struct SigAction {
        handler: usize,
        mask: [u64; 16],
        flags: i32,
        restorer: usize,
    }

    #[repr(C)]
    struct RLimit {
        cur: u64,
        max: u64,
    }

    extern "C" {
        fn sigaltstack(ss: *const StackT, old: *mut StackT) -> i32;
        fn sigaction(sig: i32, act: *const SigAction, old: *mut SigAction) -> i32;
        fn getrlimit(resource: i32, rlim: *mut RLimit) -> i32;
        fn _exit(code: i32) -> !;
        fn mmap(addr: *mut u8, len: usize, prot: i32, flags: i32, fd: i32, off: i64) -> *mut u8;
    }

    const SIGBUS: i32 = 7;
    const SIGSEGV: i32 = 11;
    const SA_SIGINFO: i32 = 4;
    const SA_ONSTACK: i32 = 0x0800_0000;
    const SA_RESETHAND: i32 = 0x8000_0000u32 as i32;
    const RLIMIT_STACK: i32 = 3;
    const PROT_READ_WRITE: i32 = 3;
    const MAP_PRIVATE_ANONYMOUS: i32 = 0x22;
    const ALT_STACK_BYTES: usize = 64 << 10;
    /// Below the lowest stack address the limit allows: the guard gap.
    const GUARD_SLACK: u64 = 1 << 20;

    struct Bounds {
        top: Cell<u64>,
        bottom: Cell<u64>,
    }
    // Written once at start-up, before anything can fault; single-threaded.
    unsafe impl Sync for Bounds {}
    static STACK: Bounds = Bounds {
        top: Cell::new(0),
        bottom: Cell::new(0),
    };

    /// Records the main stack's extent and installs the handler.
    pub fn install() {
        let here = 0u8;
        let top = core::ptr::addr_of!(here) as u64;
        let mut limit = RLimit { cur: 0, max: 0 };
        // SAFETY: plain libc calls with valid out-parameters; the alternate
        // stack is a fresh private mapping that lives as long as the process.
        unsafe {
            let size = if getrlimit(RLIMIT_STACK, &mut limit) == 0 && limit.cur < (1 << 40) {
                limit.cur
            } else {
                8 << 20
            };
            STACK.top.set(top + (64 << 10));
            STACK.bottom.set(top.saturating_sub(size + GUARD_SLACK));
            let alt = mmap(
                core::ptr::null_mut(),
                ALT_STACK_BYTES,
                PROT_READ_WRITE,
                MAP_PRIVATE_ANONYMOUS,
                -1,
                0,
            );
            if alt as isize == -1 {
                return;
            }
            let ss = StackT {
                sp: alt,
                flags: 0,
                size: ALT_STACK_BYTES,
            };
            if sigaltstack(&ss, core::ptr::null_mut()) != 0 {
                return;
            }
            let action = SigAction {
                handler: on_fault as extern "C" fn(i32, *const u8, *const u8) as usize,
                mask: [0; 16],
                flags: SA_SIGINFO | SA_ONSTACK | SA_RESETHAND,
                restorer: 0,
            };
            sigaction(SIGSEGV, &action, core::ptr::null_mut());
            sigaction(SIGBUS, &action, core::ptr::null_mut());
        }
    }

    extern "C" fn on_fault(_sig: i32, info: *const u8, _context: *const u8) {
        // `si_addr` is at byte 16 of a `siginfo_t` on x86-64 Linux.
        // SAFETY: the kernel passes a valid siginfo for SA_SIGINFO handlers.
        let addr = unsafe { *(info.add(16) as *const u64) };
        if addr < STACK.bottom.get() || addr > STACK.top.get() {
            // Not the stack: SA_RESETHAND restored the default action, and
            // returning re-runs the faulting instruction.
            return;
        }
        // What stdout holds is the program's output so far; the buffer is
        // the runtime's own and nothing else runs now.
        crate::output::flush_stdout();
        crate::platform::write_all(crate::output::STDERR_FD, b"panic: stack overflow\n");
        // SAFETY: async-signal-safe; no destructors or atexit handlers run.
        unsafe { _exit(101) }
    }
}

#[cfg(target_arch = "wasm32")]
mod imp {
    pub fn install() {}
}

pub use imp::install;
