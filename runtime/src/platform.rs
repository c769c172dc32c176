//! What differs between native and the browser: writing bytes, exiting, and
//! the process entry point.
//!
//! Natively we write with `write(2)` and exit with `exit(3)`. On wasm32 the
//! host (app.js) provides two imports: `weft.write` copies bytes out of linear
//! memory, and `weft.exit` stops the program by throwing in JavaScript, which
//! unwinds the wasm stack (wasm has no other way to stop mid-call).

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    extern "C" {
        fn write(fd: i32, buf: *const u8, count: usize) -> isize;
        fn exit(code: i32) -> !;
        fn __errno_location() -> *mut i32;
    }

    const EINTR: i32 = 4;

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
}

#[cfg(target_arch = "wasm32")]
mod imp {
    #[link(wasm_import_module = "weft")]
    extern "C" {
        #[link_name = "write"]
        fn js_write(fd: i32, ptr: *const u8, len: usize);
        #[link_name = "exit"]
        fn js_exit(code: i32);
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
}

pub use imp::*;
