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
        #[cfg_attr(test, expect(dead_code))]
        fn open(path: *const u8, flags: i32, ...) -> i32;
        #[cfg_attr(test, expect(dead_code))]
        fn lseek(fd: i32, off: i64, whence: i32) -> i64;
    }

    /// The Weft function that overflowed, by name: the innermost one among
    /// the faulting instruction and the return addresses on the stack above
    /// the fault, looked up in the executable's own symbol table (compiled
    /// functions are local symbols named `module.function`). Only system
    /// calls and reads of a private mapping: safe on the alternate stack of
    /// a process about to exit. `None` when anything is missing.
    #[cfg(test)]
    unsafe fn overflowed_function(_pc: u64, _sp: u64) -> Option<(*const u8, usize)> {
        None
    }

    #[cfg(not(test))]
    unsafe fn overflowed_function(pc: u64, sp: u64) -> Option<(*const u8, usize)> {
        const PROT_READ: i32 = 1;
        const MAP_PRIVATE: i32 = 2;
        let fd = open(c"/proc/self/exe".as_ptr() as *const u8, 0);
        if fd < 0 {
            return None;
        }
        let size = lseek(fd, 0, 2);
        if size <= 64 {
            return None;
        }
        let image = mmap(
            core::ptr::null_mut(),
            size as usize,
            PROT_READ,
            MAP_PRIVATE,
            fd,
            0,
        );
        if image as isize == -1 {
            return None;
        }
        let at = |off: u64, len: u64| -> Option<*const u8> {
            (off.checked_add(len)? <= size as u64).then(|| image.add(off as usize) as *const u8)
        };
        let u16_at = |p: *const u8, o: usize| (p.add(o) as *const u16).read_unaligned() as u64;
        let u32_at = |p: *const u8, o: usize| (p.add(o) as *const u32).read_unaligned() as u64;
        let u64_at = |p: *const u8, o: usize| (p.add(o) as *const u64).read_unaligned();
        if *image != 0x7f || *image.add(4) != 2 {
            return None; // not a 64-bit ELF
        }
        let (shoff, shentsize, shnum) = (
            u64_at(image, 0x28),
            u16_at(image, 0x3a),
            u16_at(image, 0x3c),
        );
        // The load bias: where the runtime's own `main` is, against its symbol.
        let main_at = crate::abi::main as *const () as u64;
        let mut symbols = None;
        for i in 0..shnum {
            let sh = at(shoff + i * shentsize, 64)?;
            if u32_at(sh, 4) == 2 {
                // SHT_SYMTAB, and its string table is section sh_link.
                let link = u32_at(sh, 40);
                let strsh = at(shoff + link * shentsize, 64)?;
                symbols = Some((
                    u64_at(sh, 24),
                    u64_at(sh, 32),
                    u64_at(strsh, 24),
                    u64_at(strsh, 32),
                ));
            }
        }
        let (symoff, symsize, stroff, strsize) = symbols?;
        let name_of = |sym: *const u8| -> Option<(*const u8, usize)> {
            let n = u32_at(sym, 0);
            let start = at(stroff + n, 1)?;
            let mut len = 0usize;
            while (n + len as u64) < strsize && *start.add(len) != 0 {
                len += 1;
            }
            Some((start, len))
        };
        let mut bias = None;
        for k in 0..symsize / 24 {
            let sym = at(symoff + k * 24, 24)?;
            if let Some((p, n)) = name_of(sym) {
                if core::slice::from_raw_parts(p, n) == b"main" {
                    bias = Some(main_at.wrapping_sub(u64_at(sym, 8)));
                }
            }
        }
        let bias = bias?;
        // A Weft function (`module.name`, code) containing `addr`, if any.
        let weft_function_at = |addr: u64| -> Option<(*const u8, usize)> {
            let addr = addr.wrapping_sub(bias);
            for k in 0..symsize / 24 {
                let sym = at(symoff + k * 24, 24)?;
                let (value, len) = (u64_at(sym, 8), u64_at(sym, 16));
                if *sym.add(4) & 0xf != 2 || addr < value || addr >= value + len {
                    continue; // not a function, or not this one
                }
                let (p, mut n) = name_of(sym)?;
                let name = core::slice::from_raw_parts(p, n);
                let dotted = name.contains(&b'.') && name[0] != b'.' && name[0] != b'_';
                // A coroutine's clones are the function it was.
                for suffix in [&b".resume"[..], b".destroy", b".cleanup"] {
                    if name.ends_with(suffix) {
                        n -= suffix.len();
                    }
                }
                return dotted.then_some((p, n));
            }
            None
        };
        if let Some(found) = weft_function_at(pc) {
            return Some(found);
        }
        // The fault was in the runtime (an allocation, say): the nearest
        // return address into Weft code is the function that overflowed.
        for i in 0..4096u64 {
            let word = sp.checked_add(8 * i)?;
            if word >= STACK.top.get() {
                break;
            }
            if let Some(found) = weft_function_at(*(word as *const u64)) {
                return Some(found);
            }
        }
        None
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

    extern "C" fn on_fault(_sig: i32, info: *const u8, context: *const u8) {
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
        let err = |b: &[u8]| crate::platform::write_all(crate::output::STDERR_FD, b);
        err(b"panic: stack overflow");
        // The saved registers: `uc_mcontext.gregs` at byte 40 of the
        // x86-64 `ucontext_t`, RSP its 16th, RIP its 17th.
        // SAFETY: the kernel passes the interrupted context.
        let (sp, pc) = unsafe {
            let gregs = context.add(40) as *const u64;
            (*gregs.add(15), *gregs.add(16))
        };
        // SAFETY: see `overflowed_function`.
        if let Some((name, len)) = unsafe { overflowed_function(pc, sp) } {
            err(b" in `");
            // SAFETY: the name lies in the mapped executable.
            err(unsafe { core::slice::from_raw_parts(name, len) });
            err(b"`");
        }
        err(b"\n");
        // SAFETY: async-signal-safe; no destructors or atexit handlers run.
        unsafe { _exit(101) }
    }
}

#[cfg(target_arch = "wasm32")]
mod imp {
    pub fn install() {}
}

pub use imp::install;
