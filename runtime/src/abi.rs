//! The C ABI between compiled Weft code and the runtime: every function the
//! compiler may call is here, with one doc line each. Their table (names,
//! parameter and result kinds, nogc, noreturn) is `weft_abi::RuntimeFn`, from
//! which the compiler declares them; `abi_check.rs` checks every signature
//! here against it at compile time.
//! The data symbols compiled code refers to (the runtime's type descriptors
//! and the shadow-stack head) are here too. Each function is a thin layer
//! over the module that implements it.
//!
//! Conventions: `stream` is 1 for stdout and 2 for stderr; constant strings
//! are a pointer and an `i64` byte length (UTF-8); booleans are passed as
//! `i32`; a `Ref` is a GC reference (a pointer to an object header, see
//! `object`), and values travel as their 8-byte bits (`i64`), references
//! included. Functions that end the program never return.
//!
//! Safety, for every function below: each `Ref` argument must be a live
//! object of the kind the function expects (the compiler's type checker
//! guarantees it), pointers must be valid for the stated lengths, and the
//! caller's references must be rooted in its shadow-stack frame across any
//! function that may allocate.
#![allow(clippy::missing_safety_doc)]
#![allow(non_upper_case_globals)]

use crate::object::{
    write_u64, Ref, TypeDesc, TypeDescWithPointers, FRAME_PREFIX, KIND_BYTES, KIND_FIXED,
    KIND_FRAME, KIND_POINTER_SLOTS, KIND_SCALAR_SLOTS,
};
use crate::roots::RootFrame;
use crate::{
    array, bytes, chan, gc, io, map, output, platform, process, sched, spec, string, task,
};
use weft_abi::status;

#[cfg(not(test))]
extern "C" {
    /// Defined by the compiler in every program: runs the Weft `main`.
    fn weft_main();
    /// Defined by the compiler in every program: resumes a coroutine (`llvm.coro.resume`).
    #[cfg_attr(not(target_arch = "wasm32"), expect(dead_code))]
    pub(crate) fn weft_resume(handle: *mut u8);
    /// Defined by the compiler in every program: 1 when a coroutine is at its final suspend (`llvm.coro.done`).
    pub(crate) fn weft_coro_done(handle: *mut u8) -> i32;
    /// Defined by the compiler in every program: destroys a suspended coroutine (`llvm.coro.destroy`), running its pending `defer`s.
    pub(crate) fn weft_coro_destroy(handle: *mut u8);
    /// Defined by the compiler in native programs: `_setjmp(env)`, then resumes the coroutine; 0 when the resume returned, 1 when a panic jumped back (`longjmp(env, 1)`).
    #[cfg(not(target_arch = "wasm32"))]
    pub(crate) fn weft_resume_guarded(handle: *mut u8, env: *mut u64) -> i32;
}

/// Strings: BYTES objects of UTF-8.
#[no_mangle]
pub static weft_desc_string: TypeDesc = TypeDesc::new(KIND_BYTES, 0);
/// Arrays: `[u64 len][u64 cap][ref data]`.
#[no_mangle]
pub static weft_desc_array: TypeDescWithPointers<1> =
    TypeDescWithPointers::new(array::ARRAY_PAYLOAD_BYTES as u32, [array::DATA as u32]);
/// Array buffers of scalars.
#[no_mangle]
pub static weft_desc_slots: TypeDesc = TypeDesc::new(KIND_SCALAR_SLOTS, 0);
/// Array buffers of references.
#[no_mangle]
pub static weft_desc_ref_slots: TypeDesc = TypeDesc::new(KIND_POINTER_SLOTS, 0);
/// The box of a scalar optional (`int?`, `float?`, `bool?`).
#[no_mangle]
pub static weft_desc_box_scalar: TypeDesc = TypeDesc::new(KIND_FIXED, 8);
/// The box of a reference optional (`string?`, `[T]?`, ...).
#[no_mangle]
pub static weft_desc_box_ref: TypeDescWithPointers<1> = TypeDescWithPointers::new(8, [0]);
/// Coroutine frames: FRAME objects, `[u64 frame bytes][LLVM frame]`.
#[no_mangle]
pub static weft_desc_frame: TypeDesc = TypeDesc::new(KIND_FRAME, 0);
/// The innermost root frame of the shadow stack (null when empty).
#[no_mangle]
pub static mut weft_shadow_top: *mut RootFrame = core::ptr::null_mut();
/// The async coroutine running now: compiled code stores its handle here each
/// time one resumes, so a panic in synchronous code knows whose task it ends.
#[no_mangle]
pub static mut weft_running: *mut u8 = core::ptr::null_mut();

/// Converts an ABI bool.
fn flag(b: bool) -> i32 {
    b as i32
}

/// A select arm number; a negative one (never emitted) is out of range.
fn arm_number(arm: i64) -> usize {
    usize::try_from(arm).unwrap_or(usize::MAX)
}

/// A constant string argument as a slice.
unsafe fn raw_bytes<'a>(ptr: *const u8, len: i64) -> &'a [u8] {
    if len <= 0 {
        return &[];
    }
    core::slice::from_raw_parts(ptr, len as usize)
}

/// Writes an integer in decimal.
#[no_mangle]
pub extern "C" fn weft_write_int(stream: i32, value: i64) {
    let mut buf = [0u8; 20];
    output::write(stream, output::format_int(value, &mut buf));
}

/// Writes a float as its shortest round-tripping text (`3.0`, `0.1`, `inf`).
#[no_mangle]
pub extern "C" fn weft_write_float(stream: i32, value: f64) {
    let mut s = String::new();
    output::format_float(value, &mut s);
    output::write(stream, s.as_bytes());
}

/// Writes `true` or `false`.
#[no_mangle]
pub extern "C" fn weft_write_bool(stream: i32, value: i32) {
    output::write(stream, if value != 0 { b"true" } else { b"false" });
}

/// Writes `len` bytes of UTF-8 text starting at `ptr`.
#[no_mangle]
pub unsafe extern "C" fn weft_write_str(stream: i32, ptr: *const u8, len: i64) {
    output::write(stream, raw_bytes(ptr, len));
}

/// Writes a string's bytes.
#[no_mangle]
pub unsafe extern "C" fn weft_write_string(stream: i32, s: Ref) {
    string::write(stream, s);
}

/// Flushes output and ends the process with `code` (`exit(code)` in Weft).
#[no_mangle]
pub extern "C" fn weft_exit(code: i64) -> ! {
    process::exit(code as i32)
}

/// Prints `panic: <msg>` and `  at <loc>` to stderr and exits with status 101.
#[no_mangle]
pub unsafe extern "C" fn weft_panic(
    msg: *const u8,
    msg_len: i64,
    loc: *const u8,
    loc_len: i64,
) -> ! {
    process::panic(raw_bytes(msg, msg_len), raw_bytes(loc, loc_len))
}

/// Panics with a string message (`panic(msg)`, failed `assert(c, msg)`).
#[no_mangle]
pub unsafe extern "C" fn weft_panic_string(msg: Ref, loc: *const u8, loc_len: i64) -> ! {
    process::panic(string::bytes(msg), raw_bytes(loc, loc_len))
}

/// Panics with `index {index} out of range for length {len}`.
#[no_mangle]
pub unsafe extern "C" fn weft_panic_index(index: i64, len: i64, loc: *const u8, loc_len: i64) -> ! {
    let msg = format!("index {index} out of range for length {len}");
    process::panic(msg.as_bytes(), raw_bytes(loc, loc_len))
}

/// A panic in the async coroutine `handle`: records `panic: <msg>` and its location as the task's panic and marks it panicked (the compiled code then unwinds: `defer`s, final suspend). May collect.
#[no_mangle]
pub unsafe extern "C" fn weft_task_panic(
    handle: *mut u8,
    msg: *const u8,
    msg_len: i64,
    loc: *const u8,
    loc_len: i64,
) {
    task::panic_in(handle, raw_bytes(msg, msg_len), raw_bytes(loc, loc_len))
}

/// As `weft_task_panic`, with a string message.
#[no_mangle]
pub unsafe extern "C" fn weft_task_panic_string(
    handle: *mut u8,
    msg: Ref,
    loc: *const u8,
    loc_len: i64,
) {
    let text = string::bytes(msg).to_vec();
    task::panic_in(handle, &text, raw_bytes(loc, loc_len))
}

/// As `weft_task_panic`, with `index {index} out of range for length {len}`.
#[no_mangle]
pub unsafe extern "C" fn weft_task_panic_index(
    handle: *mut u8,
    index: i64,
    len: i64,
    loc: *const u8,
    loc_len: i64,
) {
    let msg = format!("index {index} out of range for length {len}");
    task::panic_in(handle, msg.as_bytes(), raw_bytes(loc, loc_len))
}

/// `await` found the coroutine `from` panicked: `me` takes over its panic (adding `awaited at <loc>` when `joined`, a task boundary). May collect.
#[no_mangle]
pub unsafe extern "C" fn weft_task_reraise(
    from: *mut u8,
    me: *mut u8,
    loc: *const u8,
    loc_len: i64,
    joined: i32,
) {
    task::reraise(from, me, raw_bytes(loc, loc_len), joined != 0)
}

/// A task ended by a panic that nobody awaits (main's included): prints the panic and exits with status 101.
#[no_mangle]
pub unsafe extern "C" fn weft_task_unawaited(handle: *mut u8) -> ! {
    task::unawaited(handle)
}

/// A zeroed object of `payload_bytes` with header `desc`; may collect first.
#[no_mangle]
pub unsafe extern "C" fn weft_alloc(desc: *const TypeDesc, payload_bytes: i64) -> Ref {
    let Ok(bytes) = usize::try_from(payload_bytes) else {
        process::out_of_memory(Some(payload_bytes as u128), "bytes");
    };
    gc::alloc(desc, bytes)
}

/// Zeroed memory for a coroutine frame of `size` bytes, inside a FRAME object (never collects).
#[no_mangle]
pub unsafe extern "C" fn weft_coro_alloc(size: i64) -> *mut u8 {
    let bytes = usize::try_from(size).unwrap_or(usize::MAX);
    let obj = gc::alloc_without_collecting(&weft_desc_frame, FRAME_PREFIX.saturating_add(bytes));
    write_u64(obj, 0, bytes as u64);
    let handle = crate::object::payload(obj, FRAME_PREFIX);
    task::frame_reused(handle as usize);
    handle
}

/// Runs a full garbage collection now.
#[no_mangle]
pub extern "C" fn weft_gc_collect() {
    gc::collect()
}

/// Appends the coroutine `handle` to the scheduler's FIFO ready queue (never resumes it here).
#[no_mangle]
pub unsafe extern "C" fn weft_task_ready(handle: *mut u8) {
    sched::ready(handle)
}

/// Makes `handle` ready after `max(ms, 0)` milliseconds; equal deadlines fire in registration order.
#[no_mangle]
pub unsafe extern "C" fn weft_sleep(ms: i64, handle: *mut u8) {
    sched::sleep(ms, handle)
}

// ----- I/O (`io`; see `io.rs`) ------------------------------------------------

/// `__wait(token)`: parks the running coroutine `handle` on an I/O
/// operation; it suspends right after and is readied on completion.
#[no_mangle]
pub unsafe extern "C" fn weft_io_wait(token: i64, handle: *mut u8) {
    io::wait(token, handle)
}

/// -1 when a line (or the end) of stdin is buffered, else a token to wait on.
#[no_mangle]
pub extern "C" fn weft_io_stdin_line() -> i64 {
    io::stdin_line()
}

/// -1 when the end of stdin is buffered, else a token to wait on.
#[no_mangle]
pub extern "C" fn weft_io_stdin_all() -> i64 {
    io::stdin_all()
}

/// The next buffered line of stdin (`string?`: nil at the end).
#[no_mangle]
pub unsafe extern "C" fn weft_io_take_line() -> Ref {
    io::take_line()
}

/// The rest of stdin, as `Bytes`.
#[no_mangle]
pub unsafe extern "C" fn weft_io_take_all() -> Ref {
    io::take_all()
}

/// Starts reading the file at `path` (a string): its token.
#[no_mangle]
pub unsafe extern "C" fn weft_io_read_file(path: Ref) -> i64 {
    let token = io::new_op(io::Kind::Plain);
    platform::io_read_file(token, text(path));
    token
}

/// Starts writing string `data` to the file at `path`: its token.
#[no_mangle]
pub unsafe extern "C" fn weft_io_write_file(path: Ref, data: Ref) -> i64 {
    let token = io::new_op(io::Kind::Plain);
    platform::io_write_file(token, text(path), string::bytes(data).to_vec());
    token
}

/// Starts removing the file at `path`: its token.
#[no_mangle]
pub unsafe extern "C" fn weft_io_remove(path: Ref) -> i64 {
    let token = io::new_op(io::Kind::Plain);
    platform::io_remove(token, text(path));
    token
}

/// A finished operation's status: 0, or its `io.ErrorKind` plus one.
#[no_mangle]
pub extern "C" fn weft_io_status(token: i64) -> i64 {
    io::status(token)
}

/// A finished operation's bytes (its data, or its error message) as
/// `Bytes`; the token is released.
#[no_mangle]
pub unsafe extern "C" fn weft_io_take_bytes(token: i64) -> Ref {
    bytes::from_slice(&io::take(token))
}

/// A finished operation's bytes as a string (`string?`: nil if they are not
/// UTF-8); the token is released.
#[no_mangle]
pub unsafe extern "C" fn weft_io_take_string(token: i64) -> Ref {
    match String::from_utf8(io::take(token)) {
        Ok(s) => string::from_bytes(s.as_bytes()),
        Err(_) => core::ptr::null_mut(),
    }
}

/// `io.stdout.write(b)` (fd 1, buffered with `print`) and `io.stderr.write(b)` (fd 2).
#[no_mangle]
pub unsafe extern "C" fn weft_io_write(fd: i64, b: Ref) {
    let stream = if fd == 2 {
        output::STDERR_FD
    } else {
        output::STDOUT_FD
    };
    output::write(stream, bytes::as_slice(b));
}

// ----- TCP (`net`; see `net.rs`) -----------------------------------------------

/// `net.listen(addr)`: a listening non-blocking socket, or `-status`.
#[no_mangle]
pub unsafe extern "C" fn weft_net_listen(addr: Ref) -> i64 {
    crate::net::listen(&text(addr))
}

/// The port a listening socket is bound to.
#[no_mangle]
pub extern "C" fn weft_net_port(fd: i64) -> i64 {
    crate::net::port(fd)
}

/// An accepted connection, `WOULD_BLOCK` or `-status`.
#[no_mangle]
pub extern "C" fn weft_net_accept(fd: i64) -> i64 {
    crate::net::accept(fd)
}

/// A connection attempt begun (wait until writable, then `weft_net_connected`), or `-status`.
#[no_mangle]
pub unsafe extern "C" fn weft_net_connect(addr: Ref) -> i64 {
    crate::net::connect_start(&text(addr))
}

/// After a connecting socket became writable: 0, or `-status` (`addr` names it in the message).
#[no_mangle]
pub unsafe extern "C" fn weft_net_connected(fd: i64, addr: Ref) -> i64 {
    crate::net::connected(fd, &text(addr))
}

/// Appends up to `max` bytes read from `fd` to `Bytes` `into`: their count (0 at the end), `WOULD_BLOCK` or `-status`; may collect.
#[no_mangle]
pub unsafe extern "C" fn weft_net_read(fd: i64, max: i64, into: Ref) -> i64 {
    // One buffer for every read (the runtime is single-threaded).
    static mut BUF: Vec<u8> = Vec::new();
    let buf = &mut *core::ptr::addr_of_mut!(BUF);
    let n = crate::net::read(fd, max.clamp(1, 1 << 20) as usize, buf);
    if n > 0 {
        bytes::append(into, &buf[..n as usize]);
    }
    n
}

/// Writes what it can of `Bytes` `b` from byte `from`: the count, `WOULD_BLOCK` or `-status`.
#[no_mangle]
pub unsafe extern "C" fn weft_net_write(fd: i64, b: Ref, from: i64) -> i64 {
    let all = bytes::as_slice(b);
    let from = (from.max(0) as usize).min(all.len());
    crate::net::write(fd, &all[from..])
}

/// The token of a wait until `fd` is readable (`writable` 0) or writable (1).
#[no_mangle]
pub extern "C" fn weft_net_wait(fd: i64, writable: i64) -> i64 {
    crate::net::wait_fd(fd, writable != 0)
}

/// Closes a socket (its waiters wake and find it closed).
#[no_mangle]
pub extern "C" fn weft_net_close(fd: i64) {
    crate::net::close_fd(fd)
}

/// The message of the last `weft_net_*` call that failed.
#[no_mangle]
pub unsafe extern "C" fn weft_net_error() -> Ref {
    string::from_bytes(crate::net::last_error().as_bytes())
}

/// `http.get(url)` through the host's `fetch` (wasm32): the token of the
/// request; natively -1 (the library goes over `net` instead).
#[no_mangle]
pub unsafe extern "C" fn weft_http_fetch(url: Ref) -> i64 {
    #[cfg(target_arch = "wasm32")]
    {
        let token = io::new_op(io::Kind::Plain);
        platform::io_fetch(token, text(url));
        token
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = url;
        -1
    }
}

/// `tasks.Group`: the member task `member` (its root coroutine) belongs to
/// the coroutine `owner` (0: none); cancelling the owner cancels it.
#[no_mangle]
pub extern "C" fn weft_task_link(owner: i64, member: i64) {
    task::link(owner as usize, member as usize)
}

/// `__running()`: the async coroutine running now (`weft_running`) as an
/// int, 0 outside any task.
#[no_mangle]
pub extern "C" fn weft_task_running() -> i64 {
    // SAFETY: a plain read of the runtime's own static.
    unsafe { weft_running as usize as i64 }
}

/// The member task ended: its link goes.
#[no_mangle]
pub extern "C" fn weft_task_unlink(owner: i64, member: i64) {
    task::unlink(owner as usize, member as usize)
}

/// A string's text for the OS (a path); lossy only for bytes no Weft string has.
unsafe fn text(s: Ref) -> String {
    String::from_utf8_lossy(string::bytes(s)).into_owned()
}

/// wasm32, called by app.js (export `weft_io_buffer`): room for `len` bytes
/// of operation `token`'s result, which app.js fills before `weft_io_done`.
#[cfg(all(target_arch = "wasm32", not(test)))]
#[export_name = "weft_io_buffer"]
pub extern "C" fn wasm_io_buffer(token: f64, len: i32) -> *mut u8 {
    io::result_buffer(token as i64, len.max(0) as usize)
}

/// wasm32, called by app.js (export `weft_io_done`): operation `token`
/// finished with `status` (0, or an `io.ErrorKind` plus one) and the bytes
/// written into its buffer (data, or the error's message).
#[cfg(all(target_arch = "wasm32", not(test)))]
#[export_name = "weft_io_done"]
pub extern "C" fn wasm_io_done(token: f64, status: i32) {
    io::buffer_done(token as i64, status as i64)
}

/// wasm32, called by app.js (export `weft_unwound`, not by compiled code): a panic in synchronous code unwound the wasm stack back to JavaScript: the runtime abandons the task that panicked, and app.js polls again.
#[cfg(target_arch = "wasm32")]
#[export_name = "weft_unwound"]
pub unsafe extern "C" fn wasm_unwound() {
    sched::unwound()
}

/// A generator with pending cleanups was created: when the collector finds it unreachable and unfinished, it is destroyed, running its `defer`s (never allocates).
#[no_mangle]
pub unsafe extern "C" fn weft_gen_finalizable(handle: *mut u8) {
    crate::finalize::register(handle)
}

/// `t.cancel()` from the coroutine `me` (null outside one): destroys the task's suspended coroutines innermost first, running their `defer`s, and wakes its awaiter; panics at `loc` if the task is `me`'s own.
#[no_mangle]
pub unsafe extern "C" fn weft_task_cancel(
    task: *mut u8,
    me: *mut u8,
    loc: *const u8,
    loc_len: i64,
) {
    task::cancel(task, me, core::slice::from_raw_parts(loc, loc_len as usize))
}

/// Milliseconds since the program started, on a monotonic clock.
#[no_mangle]
pub extern "C" fn weft_now_ms() -> i64 {
    sched::now_ms()
}

/// Runs `async fn main` from its unstarted coroutine `handle`: natively until it finishes (or deadlock: status 2); on wasm32 until nothing is ready, then `weft_poll` goes on.
#[no_mangle]
pub unsafe extern "C" fn weft_run_async_main(handle: *mut u8) {
    match sched::run_async_main(handle) {
        sched::Outcome::Deadlock => sched::deadlock(),
        sched::Outcome::MainDone | sched::Outcome::Wait(_) | sched::Outcome::NotRunning => {}
    }
}

/// A new channel buffering `max(capacity, 0)` elements (0: unbuffered), references if `elem_is_ref`; `loc` names the call for an out-of-memory panic; may collect.
#[no_mangle]
pub unsafe extern "C" fn weft_chan_new(
    capacity: i64,
    elem_is_ref: i32,
    loc: *const u8,
    loc_len: i64,
) -> Ref {
    let location = if loc.is_null() {
        &[][..]
    } else {
        core::slice::from_raw_parts(loc, loc_len.max(0) as usize)
    };
    // A buffer no address space can hold is out of memory at the call,
    // before anything is allocated (and never truncated on wasm32).
    let bytes = (capacity.max(0) as u128) * 8;
    if bytes > isize::MAX as u128 {
        process::out_of_memory_at(Some(capacity as u128), "channel elements", location);
    }
    chan::new(capacity.max(0) as usize, elem_is_ref != 0)
}

/// Sends without blocking, never allocates: `DONE` (to the first waiting receiver, made ready, or buffered), `CLOSED`, `WOULD_BLOCK`.
#[no_mangle]
pub unsafe extern "C" fn weft_chan_try_send(ch: Ref, bits: i64) -> i32 {
    match chan::try_send(ch, bits as u64) {
        chan::SendResult::Done => status::DONE,
        chan::SendResult::Closed => status::CLOSED,
        chan::SendResult::WouldBlock => status::WOULD_BLOCK,
    }
}

/// Receives without blocking, never allocates: `DONE` (the value in `*out`), `CLOSED` (closed and drained, `*out` untouched), `WOULD_BLOCK`.
#[no_mangle]
pub unsafe extern "C" fn weft_chan_try_recv(ch: Ref, out: *mut i64) -> i32 {
    match chan::try_recv(ch) {
        chan::RecvResult::Value(bits) => {
            *out = bits as i64;
            status::DONE
        }
        chan::RecvResult::Closed => status::CLOSED,
        chan::RecvResult::WouldBlock => status::WOULD_BLOCK,
    }
}

/// Closes a channel, completing its waiting receivers and senders with "closed"; never allocates: `DONE`, or `CLOSED` if it was closed already.
#[no_mangle]
pub unsafe extern "C" fn weft_chan_close(ch: Ref) -> i32 {
    if chan::close(ch) {
        status::DONE
    } else {
        status::CLOSED
    }
}

/// A one-arm select receiving from `ch`, not started: `cache` reused when it is a finished one-arm select, else a new one (may collect then).
#[no_mangle]
pub unsafe extern "C" fn weft_select_one_recv(cache: Ref, handle: *mut u8, ch: Ref) -> Ref {
    chan::one_arm(cache, handle, chan::Arm::Recv(ch))
}

/// A one-arm select sending `bits` on `ch`, not started: `cache` reused when it is a finished one-arm select, else a new one (may collect then).
#[no_mangle]
pub unsafe extern "C" fn weft_select_one_send(
    cache: Ref,
    handle: *mut u8,
    ch: Ref,
    bits: i64,
) -> Ref {
    chan::one_arm(cache, handle, chan::Arm::Send(ch, bits as u64))
}

/// A new select of `arms` arms (numbered from 0) for the coroutine `handle`, which it wakes when an arm fires; may collect.
#[no_mangle]
pub unsafe extern "C" fn weft_select_new(arms: i64, handle: *mut u8) -> Ref {
    chan::select_new(usize::try_from(arms).unwrap_or(0), handle)
}

/// Adds arm `arm`: receive from `ch` (a waiter, not queued until `weft_select_start`); may collect.
#[no_mangle]
pub unsafe extern "C" fn weft_select_recv(sel: Ref, arm: i64, ch: Ref) {
    chan::add_arm(sel, arm_number(arm), chan::Arm::Recv(ch))
}

/// Adds arm `arm`: send `bits` on `ch`; may collect.
#[no_mangle]
pub unsafe extern "C" fn weft_select_send(sel: Ref, arm: i64, ch: Ref, bits: i64) {
    chan::add_arm(sel, arm_number(arm), chan::Arm::Send(ch, bits as u64))
}

/// Adds arm `arm`: `time.after(ms)`, ready `ms` milliseconds after the start (at once if `ms <= 0`); may collect.
#[no_mangle]
pub unsafe extern "C" fn weft_select_after(sel: Ref, arm: i64, ms: i64) {
    chan::add_arm(sel, arm_number(arm), chan::Arm::After(ms))
}

/// Tries the arms in random order, never allocates: performs the first that can proceed and returns its arm, else queues the waiters and timers and returns -1 (then suspend).
#[no_mangle]
pub unsafe extern "C" fn weft_select_start(sel: Ref) -> i64 {
    chan::select_start(sel)
}

/// `select` with `default`: fires the first ready arm (in random order) and
/// returns it, or -1 with nothing queued; never allocates, never waits.
#[no_mangle]
pub unsafe extern "C" fn weft_select_poll(sel: Ref) -> i64 {
    chan::select_poll(sel)
}

/// The arm that fired, or -1; never allocates.
#[no_mangle]
pub unsafe extern "C" fn weft_select_fired(sel: Ref) -> i64 {
    chan::select_fired(sel)
}

/// The fired arm's status, never allocates: 0 ok (a receive's value in `*out`), 1 the channel was closed.
#[no_mangle]
pub unsafe extern "C" fn weft_select_result(sel: Ref, out: *mut i64) -> i32 {
    let (status, value) = chan::select_result(sel);
    if let Some(bits) = value {
        *out = bits as i64;
    }
    status as i32
}

/// Cancels a waiting select (task cancellation), never allocates: its waiters leave their queues, its timers become inert.
#[no_mangle]
pub unsafe extern "C" fn weft_select_cancel(sel: Ref) {
    chan::select_cancel(sel)
}

/// `a + b` on strings: a new string (or `a` or `b` when the other is empty).
#[no_mangle]
pub unsafe extern "C" fn weft_string_concat(a: Ref, b: Ref) -> Ref {
    string::concat(a, b)
}

/// String equality by content: 1 or 0.
#[no_mangle]
pub unsafe extern "C" fn weft_string_eq(a: Ref, b: Ref) -> i32 {
    flag(string::eq(a, b))
}

/// Bytewise string order: -1, 0 or 1.
#[no_mangle]
pub unsafe extern "C" fn weft_string_compare(a: Ref, b: Ref) -> i64 {
    string::compare(a, b)
}

/// `"{n:spec}"` for an int (the spec's text, checked by the compiler).
#[no_mangle]
pub unsafe extern "C" fn weft_format_int(value: i64, spec: *const u8, len: i64) -> Ref {
    spec::int(value, spec::text(spec, len))
}

/// `"{x:spec}"` for a float.
#[no_mangle]
pub unsafe extern "C" fn weft_format_float(value: f64, spec: *const u8, len: i64) -> Ref {
    spec::float(value, spec::text(spec, len))
}

/// `"{v:spec}"` for any other value, given as `str(v)`: padded (and cut to
/// the precision, if any).
#[no_mangle]
pub unsafe extern "C" fn weft_format_pad(s: Ref, spec: *const u8, len: i64) -> Ref {
    spec::pad_str(s, spec::text(spec, len))
}

/// `str(i)` for an int.
#[no_mangle]
pub extern "C" fn weft_string_from_int(value: i64) -> Ref {
    string::from_int(value)
}

/// `str(v)` for a struct, enum, array, map or optional: the runtime walks the value from its `shape` (see `format`); cycles print `<cycle>`; may collect, only after the walk.
#[no_mangle]
pub unsafe extern "C" fn weft_format(bits: u64, shape: *const crate::format::Shape) -> Ref {
    crate::format::format(bits, shape)
}

/// An interpolation: one new string of the `n` strings at `pieces` (root slots of the caller); may collect.
#[no_mangle]
pub unsafe extern "C" fn weft_string_join_pieces(pieces: *const Ref, n: i64) -> Ref {
    string::join_pieces(pieces, n.max(0) as usize)
}

/// `str(f)` for a float, formatted like `weft_write_float`.
#[no_mangle]
pub extern "C" fn weft_string_from_float(value: f64) -> Ref {
    string::from_float(value)
}

/// `str(b)` for a bool.
#[no_mangle]
pub extern "C" fn weft_string_from_bool(value: i32) -> Ref {
    string::from_bool(value != 0)
}

/// A new empty array with room for `capacity` elements (references if `elem_is_ref`).
#[no_mangle]
pub unsafe extern "C" fn weft_array_new(elem_is_ref: i32, capacity: i64) -> Ref {
    let Ok(n) = usize::try_from(capacity.max(0)) else {
        process::out_of_memory(Some(capacity as u128), "elements");
    };
    array::new(elem_is_ref != 0, n)
}

/// Appends an element's 8-byte bits to an array, growing its buffer when full.
#[no_mangle]
pub unsafe extern "C" fn weft_array_push(arr: Ref, bits: i64) {
    array::push(arr, bits as u64)
}

/// A new empty map with int or string keys and scalar or reference values.
#[no_mangle]
pub unsafe extern "C" fn weft_map_new(key_is_string: i32, value_is_ref: i32) -> Ref {
    map::new(key_is_string != 0, value_is_ref != 0)
}

/// `m[key] = value`: inserts at the end of the order or overwrites in place.
#[no_mangle]
pub unsafe extern "C" fn weft_map_set(m: Ref, key: i64, value: i64) {
    map::set(m, key as u64, value as u64)
}

/// Looks `key` up: 1 and the value in `*out` when present, else 0; never allocates.
#[no_mangle]
pub unsafe extern "C" fn weft_map_get(m: Ref, key: i64, out: *mut i64) -> i32 {
    match map::get(m, key as u64) {
        Some(value) => {
            *out = value as i64;
            1
        }
        None => 0,
    }
}

/// `m.has(key)`: 1 or 0.
#[no_mangle]
pub unsafe extern "C" fn weft_map_has(m: Ref, key: i64) -> i32 {
    flag(map::get(m, key as u64).is_some())
}

/// `m.remove(key)`: 1 if the key was there; the others keep their order.
#[no_mangle]
pub unsafe extern "C" fn weft_map_remove(m: Ref, key: i64) -> i32 {
    flag(map::remove(m, key as u64))
}

/// `m.len()`: the number of entries.
#[no_mangle]
pub unsafe extern "C" fn weft_map_len(m: Ref) -> i64 {
    map::len(m) as i64
}

/// `m.keys()`: a new `[int]` or `[string]` of the keys in insertion order.
#[no_mangle]
pub unsafe extern "C" fn weft_map_keys(m: Ref) -> Ref {
    map::keys(m)
}

/// `[v; n]`: a new array of `n` copies of the bits `v` (the compiler
/// checked `n >= 0`); one buffer of exactly `n` slots.
#[no_mangle]
pub unsafe extern "C" fn weft_array_filled(bits: i64, n: i64, is_ref: i32) -> Ref {
    array::filled(bits as u64, n.max(0) as usize, is_ref != 0)
}

/// `strings.to_upper(s)` (`upper` 1) or `to_lower(s)` (0): ASCII letters
/// only; every other byte stays as it is.
#[no_mangle]
pub unsafe extern "C" fn weft_strings_ascii_case(s: Ref, upper: i32) -> Ref {
    let bytes = string::bytes(s);
    let mapped: Vec<u8> = if upper != 0 {
        bytes.to_ascii_uppercase()
    } else {
        bytes.to_ascii_lowercase()
    };
    if mapped == bytes {
        return s;
    }
    string::from_bytes(&mapped)
}

/// `strings.format_float(x, digits)`: `x` with exactly `digits` decimals
/// (as `"{x:.3}"` for 3), correctly rounded; a negative count is 0.
#[no_mangle]
pub unsafe extern "C" fn weft_format_float_digits(x: f64, digits: i64) -> Ref {
    let digits = digits.clamp(0, weft_abi::format::MAX_WIDTH as i64);
    spec::float(x, &format!(".{digits}"))
}

/// `s.byte(i)`: byte `i` of `s` (0..255); panics at `loc` when `i` is out
/// of range. Never allocates (but for the panic's message).
#[no_mangle]
pub unsafe extern "C" fn weft_string_byte(s: Ref, i: i64, loc: *const u8, loc_len: i64) -> i64 {
    let bytes = string::bytes(s);
    match usize::try_from(i).ok().and_then(|i| bytes.get(i)) {
        Some(&b) => b as i64,
        None => {
            let msg = format!("index {i} out of range for length {}", bytes.len());
            process::panic(msg.as_bytes(), raw_bytes(loc, loc_len))
        }
    }
}

/// `Bytes(n)` (`Bytes()` is `n` 0): `n` zero bytes; a negative `n` panics at `loc`.
#[no_mangle]
pub unsafe extern "C" fn weft_bytes_new(n: i64, loc: *const u8, loc_len: i64) -> Ref {
    let location = raw_bytes(loc, loc_len);
    if n < 0 {
        let msg = format!("Bytes({n}): negative length");
        process::panic(msg.as_bytes(), location);
    }
    match usize::try_from(n) {
        Ok(n) if n <= bytes::MAX_LEN => bytes::new(n),
        _ => process::out_of_memory_at(Some(n as u128), "bytes", location),
    }
}

/// `b[i]`: the byte as an int 0..255; panics at `loc` when `i` is out of range.
#[no_mangle]
pub unsafe extern "C" fn weft_bytes_get(b: Ref, i: i64, loc: *const u8, loc_len: i64) -> i64 {
    bytes::get(b, i, raw_bytes(loc, loc_len))
}

/// `b[i] = x`: panics at `loc` when `i` is out of range or `x` is not 0..255.
#[no_mangle]
pub unsafe extern "C" fn weft_bytes_set(b: Ref, i: i64, x: i64, loc: *const u8, loc_len: i64) {
    bytes::set(b, i, x, raw_bytes(loc, loc_len))
}

/// `b.push(x)`: panics at `loc` when `x` is not 0..255.
#[no_mangle]
pub unsafe extern "C" fn weft_bytes_push(b: Ref, x: i64, loc: *const u8, loc_len: i64) {
    bytes::push(b, x, raw_bytes(loc, loc_len))
}

/// `b.extend(other)` (`other` may be `b`).
#[no_mangle]
pub unsafe extern "C" fn weft_bytes_extend(b: Ref, other: Ref) {
    bytes::append(b, bytes::as_slice(other))
}

/// `b.push_str(s)`: appends the string's UTF-8 bytes.
#[no_mangle]
pub unsafe extern "C" fn weft_bytes_push_str(b: Ref, s: Ref) {
    bytes::append(b, string::bytes(s))
}

/// `b.slice(i, j)`: a copy of bytes `i..j`; panics at `loc` unless `0 <= i <= j <= len`.
#[no_mangle]
pub unsafe extern "C" fn weft_bytes_slice(
    b: Ref,
    i: i64,
    j: i64,
    loc: *const u8,
    loc_len: i64,
) -> Ref {
    bytes::slice(b, i, j, raw_bytes(loc, loc_len))
}

/// `b.str()` and `strings.from_bytes(b)`: a string of the bytes, or null
/// (`nil`) when they are not UTF-8.
#[no_mangle]
pub unsafe extern "C" fn weft_bytes_str(b: Ref) -> Ref {
    bytes::to_string(b)
}

/// `s.bytes()`: a new `Bytes` with a copy of the string's UTF-8 bytes.
#[no_mangle]
pub unsafe extern "C" fn weft_string_bytes(s: Ref) -> Ref {
    bytes::from_slice(string::bytes(s))
}

/// `strings.from_char_code(c)`: the one-character string of code point
/// `c`; panics unless `c` is a Unicode scalar value.
#[no_mangle]
pub unsafe extern "C" fn weft_string_from_code(code: i64, loc: *const u8, loc_len: i64) -> Ref {
    match u32::try_from(code).ok().and_then(char::from_u32) {
        Some(c) => {
            let mut buf = [0u8; 4];
            string::from_bytes(c.encode_utf8(&mut buf).as_bytes())
        }
        None => {
            let msg = format!("{code} is not a character code (a Unicode scalar value)");
            process::panic(msg.as_bytes(), raw_bytes(loc, loc_len))
        }
    }
}

/// `s[i..j]` by byte index: a new string (or `s` itself for the whole);
/// panics at `loc` unless `0 <= i <= j <= len` and both ends are on
/// UTF-8 character boundaries.
#[no_mangle]
pub unsafe extern "C" fn weft_string_slice(
    s: Ref,
    i: i64,
    j: i64,
    loc: *const u8,
    loc_len: i64,
) -> Ref {
    let bytes = string::bytes(s);
    let n = bytes.len() as i64;
    if i < 0 || j > n || i > j {
        let msg = format!("string slice [{i}..{j}] out of range for length {n}");
        process::panic(msg.as_bytes(), raw_bytes(loc, loc_len));
    }
    let (i, j) = (i as usize, j as usize);
    let text = core::str::from_utf8_unchecked(bytes);
    if !text.is_char_boundary(i) || !text.is_char_boundary(j) {
        let msg = format!("string slice [{i}..{j}] is not on character boundaries");
        process::panic(msg.as_bytes(), raw_bytes(loc, loc_len));
    }
    if i == 0 && j == bytes.len() {
        return s;
    }
    let part = bytes[i..j].to_vec();
    string::from_bytes(&part)
}

/// `m.values()`: a new array of the values in insertion order.
#[no_mangle]
pub unsafe extern "C" fn weft_map_values(m: Ref) -> Ref {
    map::values(m)
}

/// `m.clear()`: no entries left (its buffers go; never allocates).
#[no_mangle]
pub unsafe extern "C" fn weft_map_clear(m: Ref) {
    map::clear(m)
}

/// `ch.len()`: the values buffered in the channel (never allocates).
#[no_mangle]
pub unsafe extern "C" fn weft_chan_len(ch: Ref) -> i64 {
    chan::len(ch) as i64
}

/// `ch.cap()`: the channel's capacity (never allocates).
#[no_mangle]
pub unsafe extern "C" fn weft_chan_cap(ch: Ref) -> i64 {
    chan::cap(ch) as i64
}

/// `args()`: a new `[string]` of the program's arguments, without its name.
#[no_mangle]
pub extern "C" fn weft_args() -> Ref {
    process::args()
}

/// `strings.split(s, sep)`: a `[string]` like Rust's `str::split`; an empty `sep` splits into chars.
#[no_mangle]
pub unsafe extern "C" fn weft_strings_split(s: Ref, sep: Ref) -> Ref {
    string::split(s, sep)
}

/// `strings.join(parts, sep)`: the strings of `parts` with `sep` between them.
#[no_mangle]
pub unsafe extern "C" fn weft_strings_join(parts: Ref, sep: Ref) -> Ref {
    string::join(parts, sep)
}

/// `strings.trim(s)`: `s` without leading and trailing Unicode whitespace.
#[no_mangle]
pub unsafe extern "C" fn weft_strings_trim(s: Ref) -> Ref {
    string::trim(s)
}

/// `strings.find(s, sub)`: the byte index of the first `sub` in `s`, or -1.
#[no_mangle]
pub unsafe extern "C" fn weft_strings_find(s: Ref, sub: Ref) -> i64 {
    string::find(s, sub)
}

/// `strings.replace(s, from, to)`: every `from` replaced by `to` (`s` itself if `from` is empty).
#[no_mangle]
pub unsafe extern "C" fn weft_strings_replace(s: Ref, from: Ref, to: Ref) -> Ref {
    string::replace(s, from, to)
}

/// `strings.repeat(s, n)`: `s` repeated `n` times, empty for `n <= 0`.
#[no_mangle]
pub unsafe extern "C" fn weft_strings_repeat(s: Ref, n: i64) -> Ref {
    string::repeat(s, n)
}

/// `strings.chars(s)`: a `[string]` with one string per Unicode scalar value.
#[no_mangle]
pub unsafe extern "C" fn weft_strings_chars(s: Ref) -> Ref {
    string::chars(s)
}

/// `strings.parse_int(s)`: an `int?` box, or nil unless `s` is a base-10 integer.
#[no_mangle]
pub unsafe extern "C" fn weft_strings_parse_int(s: Ref) -> Ref {
    string::parse_int(s)
}

/// `strings.parse_float(s)`: a `float?` box, or nil unless `s` parses as a float.
#[no_mangle]
pub unsafe extern "C" fn weft_strings_parse_float(s: Ref) -> Ref {
    string::parse_float(s)
}

/// The native process entry point: records the arguments, runs the program, exits 0.
#[cfg(all(not(target_arch = "wasm32"), not(test)))]
#[no_mangle]
pub unsafe extern "C" fn main(argc: i32, argv: *const *const u8) -> i32 {
    crate::platform::set_args(argc, argv);
    process::init();
    weft_main();
    process::finish();
    0
}

/// The wasm32 entry point called by app.js: runs the program, returns 0 (`exit` and panics throw via `weft.exit`); an async main still waiting goes on in `weft_poll`.
#[cfg(all(target_arch = "wasm32", not(test)))]
#[no_mangle]
pub extern "C" fn weft_start() -> i32 {
    process::init();
    // SAFETY: `weft_main` is generated by the compiler and takes no arguments.
    unsafe { weft_main() };
    if sched::async_main_pending() {
        output::flush_stdout();
    } else {
        process::finish();
    }
    0
}

/// wasm32: writes out buffered stdout; app.js calls it (export `weft_flush`, not compiled code) after the module trapped, so no output is lost.
#[cfg(all(target_arch = "wasm32", not(test)))]
#[export_name = "weft_flush"]
pub extern "C" fn wasm_flush() {
    output::flush_stdout();
}

/// wasm32's event loop step, called by app.js (export `weft_poll`, not by compiled code): runs what is due; -1 when main is done (or was never async), else ms until the next timer.
#[cfg(all(target_arch = "wasm32", not(test)))]
#[export_name = "weft_poll"]
pub extern "C" fn wasm_poll() -> f64 {
    // SAFETY: the scheduler holds only handles compiled code gave it.
    match unsafe { sched::poll() } {
        // weft_start left the ending (flush, GC stats) to us.
        sched::Outcome::MainDone => {
            process::finish();
            -1.0
        }
        sched::Outcome::NotRunning => -1.0,
        sched::Outcome::Wait(ms) => {
            output::flush_stdout();
            ms
        }
        sched::Outcome::Deadlock => sched::deadlock(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::{read_u64, ref_to_slot, STATIC};
    use crate::roots::with_roots;
    use crate::tests::heap_lock;

    #[test]
    fn the_abi_layer_converts_arguments_and_results() {
        let _heap = heap_lock();
        // SAFETY: every reference passed is of the kind the function expects.
        unsafe {
            let arr = weft_array_new(1, -5);
            assert_eq!(read_u64(arr, array::CAP), 4);
            let twelve = weft_string_from_int(12);
            with_roots([twelve], |_| {
                assert_eq!(weft_string_eq(twelve, weft_string_from_int(12)), 1);
            });
            assert_eq!(
                weft_string_compare(weft_string_from_bool(0), weft_string_from_bool(1)),
                -1
            );
            assert_eq!((*weft_string_from_bool(1)).bits, STATIC);
            let m = weft_map_new(1, 0);
            with_roots([m], |_| {
                let key = weft_string_from_int(99);
                weft_map_set(m, ref_to_slot(key) as i64, -7);
                let mut out = 0i64;
                let probe = weft_string_from_int(99);
                assert_eq!(weft_map_get(m, ref_to_slot(probe) as i64, &mut out), 1);
                assert_eq!(out, -7);
                assert_eq!(weft_map_has(m, ref_to_slot(probe) as i64), 1);
                assert_eq!(weft_map_len(m), 1);
                assert_eq!(weft_map_remove(m, ref_to_slot(probe) as i64), 1);
                assert_eq!(weft_map_get(m, ref_to_slot(probe) as i64, &mut out), 0);
            });
            assert!(weft_strings_parse_int(weft_string_from_float(1.5)).is_null());
            let boxed = weft_strings_parse_float(weft_string_from_float(1.5));
            assert_eq!(f64::from_bits(read_u64(boxed, 0)), 1.5);
            assert_eq!(
                (*boxed).desc,
                &weft_desc_box_scalar as *const TypeDesc as u64
            );
            let obj = weft_alloc(weft_desc_box_ref.desc(), 8);
            assert_eq!(read_u64(obj, 0), 0);
            assert!(!weft_args().is_null());
        }
    }
}
