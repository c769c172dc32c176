//! I/O operations and their completions, the same on every target.
//!
//! Everything the program waits for outside itself (a chunk of stdin, a
//! file read or written or removed) is an *operation* named by a token. The
//! standard library starts one (`weft_io_read_file`, ...), parks its task on
//! the token (`weft_io_wait`, from the `__wait` intrinsic: the task's
//! coroutine suspends) and, once resumed, takes the result
//! (`weft_io_status`, `weft_io_take_bytes`). The platform performs the
//! operation (natively `reactor`: epoll and a small thread pool; on wasm32
//! app.js, through the `io_start` import) and calls `complete` on the
//! scheduler's thread, which readies the waiting tasks.
//!
//! A waiting task's handle is held here only: the registrations are GC
//! roots (`for_each_root`), a cancelled task's registrations are dropped
//! (`forget`; an operation nobody waits for any more is dropped when it
//! completes), and the scheduler's deadlock check counts the operations
//! some task waits for (`outstanding`).
//!
//! Stdin is read in chunks into one buffer; `read_line` and `read_all` take
//! from it, so a line costs no syscall once buffered and reading a huge
//! input is linear.

use crate::object::Ref;
use crate::{bytes, sched, string};
use core::cell::UnsafeCell;
use std::collections::{HashMap, VecDeque};
use weft_abi::io::*;

/// What an operation's completion feeds.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    /// A chunk of stdin: queued for `read_line` and `read_all` (empty: end of input).
    Stdin,
    /// Any other: its status and bytes wait for `take`.
    Plain,
    /// A readiness wait (`net`): nothing to take, dropped on completion.
    Notify,
}

struct Op {
    kind: Kind,
    /// Coroutine handles parked on it.
    waiters: Vec<usize>,
    done: bool,
    /// A task that waited was cancelled: drop the result when it comes.
    orphan: bool,
    status: i64,
    data: Vec<u8>,
}

/// A chunk of stdin and how far it has been consumed.
struct Chunk {
    bytes: Vec<u8>,
    pos: usize,
}

#[derive(Default)]
struct Stdin {
    /// What has been read and not taken yet, in order: each chunk stays the
    /// piece the platform read (no copying into one buffer), except that a
    /// line across two chunks is joined into a chunk of its own.
    chunks: VecDeque<Chunk>,
    /// Bytes in `chunks` not taken yet.
    buffered: usize,
    /// The next `\n` in the first chunk, once found (so `take_line` does
    /// not search again), and how far from its `pos` is known to hold none.
    newline: Option<usize>,
    scanned: usize,
    eof: bool,
    /// The chunk being read, if any: every reader waits on the same one.
    pending: Option<i64>,
}

/// Natively, stdin is read ahead while less than this is buffered, so the
/// next chunk is on its way while the program takes lines from this one.
/// (Not on wasm32: in a browser a read asks the person at the page.)
const READ_AHEAD: usize = 4 << 20;

#[derive(Default)]
struct State {
    ops: HashMap<i64, Op>,
    next: i64,
    stdin: Stdin,
    /// Registrations (an op and a handle parked on it) not completed yet:
    /// what `outstanding` reports, kept as a count so the scheduler's
    /// every-iteration check costs nothing.
    waiting: usize,
}

struct StateCell(UnsafeCell<Option<State>>);

// Touched only on the scheduler's thread (platform threads hand their
// results over through `reactor`'s queue).
unsafe impl Sync for StateCell {}

static STATE: StateCell = StateCell(UnsafeCell::new(None));

fn state() -> &'static mut State {
    // SAFETY: single-threaded, and no caller keeps the reference across a
    // call that takes it again.
    unsafe { (*STATE.0.get()).get_or_insert_with(State::default) }
}

/// A new operation's token; the platform is asked to perform it by the caller.
pub fn new_op(kind: Kind) -> i64 {
    let s = state();
    s.next += 1;
    let token = s.next;
    s.ops.insert(
        token,
        Op {
            kind,
            waiters: Vec::new(),
            done: false,
            orphan: false,
            status: OK,
            data: Vec::new(),
        },
    );
    token
}

/// An operation finished (on the scheduler's thread): its waiters become
/// ready. Unknown tokens (dropped operations) are ignored.
pub fn complete(token: i64, status: i64, data: Vec<u8>) {
    let s = state();
    let Some(op) = s.ops.get_mut(&token) else {
        return;
    };
    op.done = true;
    op.status = status;
    let kind = op.kind;
    if kind == Kind::Stdin {
        let stdin = &mut s.stdin;
        stdin.pending = None;
        if status != OK || data.is_empty() {
            stdin.eof = true;
        } else {
            stdin.buffered += data.len();
            stdin.chunks.push_back(Chunk {
                bytes: data,
                pos: 0,
            });
        }
    } else {
        op.data = data;
    }
    let waiters = core::mem::take(&mut op.waiters);
    s.waiting -= waiters.len();
    let drop_it = kind != Kind::Plain || op.orphan;
    if drop_it {
        s.ops.remove(&token);
    }
    for h in waiters {
        sched::ready(h as *mut u8);
    }
    if kind == Kind::Stdin {
        read_ahead();
    }
}

/// Natively: asks for the next chunk of stdin when reading has begun, none
/// is on its way and little is buffered.
fn read_ahead() {
    let s = &state().stdin;
    if cfg!(not(target_arch = "wasm32"))
        && !s.eof
        && s.pending.is_none()
        && !s.chunks.is_empty()
        && s.buffered < READ_AHEAD
    {
        stdin_chunk();
    }
}

/// Parks `handle` on `token` (its coroutine suspends right after): ready at
/// once if the operation already finished.
pub fn wait(token: i64, handle: *mut u8) {
    let s = state();
    match s.ops.get_mut(&token) {
        Some(op) if !op.done => {
            op.waiters.push(handle as usize);
            s.waiting += 1;
        }
        // Done, or a stdin chunk already consumed into the buffer.
        _ => sched::ready(handle),
    }
}

/// A cancelled task's registrations go; an operation left with no waiter
/// is dropped when it completes.
pub fn forget(handle: *mut u8) {
    let handle = handle as usize;
    let s = state();
    if s.waiting == 0 {
        return;
    }
    for op in s.ops.values_mut() {
        let before = op.waiters.len();
        op.waiters.retain(|&h| h != handle);
        s.waiting -= before - op.waiters.len();
        if op.waiters.len() < before && op.waiters.is_empty() {
            op.orphan = true;
        }
    }
}

/// How many operations some task is waiting for: while there are any, a
/// program with nothing ready and no timer is waiting, not deadlocked.
pub fn outstanding() -> usize {
    state().waiting
}

/// Every parked handle (GC roots: nothing else holds a waiting task).
pub fn for_each_root(mut visit: impl FnMut(usize)) {
    for op in state().ops.values() {
        for &h in &op.waiters {
            visit(h);
        }
    }
}

/// `weft_io_status`: `OK` or the error kind plus one.
pub fn status(token: i64) -> i64 {
    state().ops.get(&token).map_or(OTHER, |op| op.status)
}

/// The operation's bytes (its data, or its error message), and the token
/// is released.
pub fn take(token: i64) -> Vec<u8> {
    state()
        .ops
        .remove(&token)
        .map(|op| op.data)
        .unwrap_or_default()
}

/// Asks for the next chunk of stdin unless one is on its way: its token.
fn stdin_chunk() -> i64 {
    if let Some(token) = state().stdin.pending {
        return token;
    }
    let token = new_op(Kind::Stdin);
    state().stdin.pending = Some(token);
    crate::platform::io_stdin(token);
    token
}

/// `weft_io_stdin_line`: `BUFFERED` when a whole line (or the end of input)
/// is buffered, else the token of the chunk to wait for.
pub fn stdin_line() -> i64 {
    if next_newline().is_some() || state().stdin.eof {
        return BUFFERED;
    }
    stdin_chunk()
}

/// Where the next buffered `\n` is in the first chunk, searching only
/// bytes not searched yet. A line that goes on into the next chunk is
/// joined with its rest there first (into a chunk of its own, or, when the
/// next chunk holds no `\n` either, by appending that chunk: a line of any
/// length costs linear time).
fn next_newline() -> Option<usize> {
    let s = &mut state().stdin;
    loop {
        if s.newline.is_some() {
            return s.newline;
        }
        let front = s.chunks.front()?;
        let from = front.pos + s.scanned;
        if let Some(i) = find_newline(&front.bytes[from..]) {
            s.newline = Some(from + i);
            return s.newline;
        }
        s.scanned = front.bytes.len() - front.pos;
        if s.chunks.len() < 2 {
            return None;
        }
        let next = &s.chunks[1];
        let rest = &next.bytes[next.pos..];
        match find_newline(rest) {
            Some(i) => {
                let front = &s.chunks[0];
                let mut line = Vec::with_capacity(front.bytes.len() - front.pos + i + 1);
                line.extend_from_slice(&front.bytes[front.pos..]);
                line.extend_from_slice(&rest[..=i]);
                s.chunks[1].pos += i + 1;
                if s.chunks[1].pos == s.chunks[1].bytes.len() {
                    s.chunks.remove(1);
                }
                s.chunks[0] = Chunk {
                    bytes: line,
                    pos: 0,
                };
            }
            None => {
                let next = s.chunks.remove(1).expect("two chunks");
                s.chunks[0].bytes.extend_from_slice(&next.bytes[next.pos..]);
            }
        }
    }
}

/// The first `\n` in `bytes`: natively libc's `memchr` (vectorised).
#[cfg(not(target_arch = "wasm32"))]
fn find_newline(bytes: &[u8]) -> Option<usize> {
    extern "C" {
        fn memchr(s: *const u8, c: i32, n: usize) -> *const u8;
    }
    // SAFETY: searches within the slice only.
    let p = unsafe { memchr(bytes.as_ptr(), b'\n' as i32, bytes.len()) };
    (!p.is_null()).then(|| p as usize - bytes.as_ptr() as usize)
}

/// The first `\n` in `bytes`: eight bytes at a time (a byte equal to
/// `\n` is a zero byte of `word ^ 0x0a0a...`), the tail one at a time.
#[cfg(target_arch = "wasm32")]
fn find_newline(bytes: &[u8]) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    const NL: u64 = LO * b'\n' as u64;
    let chunks = bytes.chunks_exact(8);
    let mut i = 0;
    for chunk in chunks {
        let x = u64::from_le_bytes(chunk.try_into().expect("8 bytes")) ^ NL;
        if x.wrapping_sub(LO) & !x & HI != 0 {
            break;
        }
        i += 8;
    }
    bytes[i..].iter().position(|&c| c == b'\n').map(|j| i + j)
}

/// `weft_io_stdin_all`: `BUFFERED` once the end of input is buffered.
pub fn stdin_all() -> i64 {
    if state().stdin.eof {
        return BUFFERED;
    }
    stdin_chunk()
}

/// The next buffered line without its `\n` (and a `\r` before it), invalid
/// UTF-8 replaced by U+FFFD; the unterminated rest at the end of input;
/// nil after that.
///
/// # Safety
/// May collect.
pub unsafe fn take_line() -> Ref {
    let newline = next_newline();
    let s = &mut state().stdin;
    let Some(front) = s.chunks.front() else {
        return core::ptr::null_mut();
    };
    let (end, used) = match newline {
        Some(n) => (n, n + 1),
        // At the end of input, the last line has no `\n`.
        None if s.eof => (front.bytes.len(), front.bytes.len()),
        None => return core::ptr::null_mut(),
    };
    let line = &front.bytes[front.pos..end];
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    // Copied into Rust memory first only when it needs replacing: the
    // string's allocation may collect, but the chunks are not GC memory.
    let text = if all_ascii(line) || core::str::from_utf8(line).is_ok() {
        string::from_bytes(line)
    } else {
        string::from_bytes(String::from_utf8_lossy(line).as_bytes())
    };
    let s = &mut state().stdin;
    let front = &mut s.chunks[0];
    s.buffered -= used - front.pos;
    front.pos = used;
    if front.pos == front.bytes.len() {
        s.chunks.pop_front();
    }
    s.newline = None;
    s.scanned = 0;
    read_ahead();
    text
}

/// Whether every byte is below 0x80, eight at a time: `[u8]::is_ascii`
/// checks a short slice (a typical line) one byte at a time, which took a
/// third of `take_line`.
#[inline]
fn all_ascii(bytes: &[u8]) -> bool {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut words = bytes.chunks_exact(8);
    let mut seen = 0u64;
    for w in &mut words {
        seen |= u64::from_ne_bytes(w.try_into().expect("eight bytes"));
    }
    let tail = words.remainder().iter().fold(0u8, |a, &b| a | b);
    seen & HIGH == 0 && tail < 0x80
}

/// Everything buffered from stdin, as `Bytes`; the buffer is emptied.
///
/// # Safety
/// May collect.
pub unsafe fn take_all() -> Ref {
    // The chunks are Rust memory: the allocation may collect meanwhile.
    let all = bytes::new(state().stdin.buffered);
    let s = &mut state().stdin;
    let mut at = 0;
    for chunk in s.chunks.drain(..) {
        let piece = &chunk.bytes[chunk.pos..];
        bytes::as_mut_slice(all)[at..at + piece.len()].copy_from_slice(piece);
        at += piece.len();
    }
    s.buffered = 0;
    s.newline = None;
    s.scanned = 0;
    all
}

/// wasm32: result buffers app.js fills, by token, until `buffer_done`.
#[cfg(target_arch = "wasm32")]
struct Buffers(UnsafeCell<Vec<(i64, Vec<u8>)>>);

#[cfg(target_arch = "wasm32")]
unsafe impl Sync for Buffers {}

#[cfg(target_arch = "wasm32")]
static BUFFERS: Buffers = Buffers(UnsafeCell::new(Vec::new()));

/// wasm32: room for `len` result bytes of `token` (app.js copies them in).
#[cfg(target_arch = "wasm32")]
pub fn result_buffer(token: i64, len: usize) -> *mut u8 {
    // SAFETY: single-threaded; app.js writes the bytes before `buffer_done`.
    let buffers = unsafe { &mut *BUFFERS.0.get() };
    buffers.retain(|(t, _)| *t != token);
    buffers.push((token, vec![0u8; len]));
    buffers
        .last_mut()
        .map_or(core::ptr::null_mut(), |(_, b)| b.as_mut_ptr())
}

/// wasm32: app.js finished `token`; its buffer (if any) is the result.
#[cfg(target_arch = "wasm32")]
pub fn buffer_done(token: i64, status: i64) {
    // SAFETY: as in `result_buffer`.
    let buffers = unsafe { &mut *BUFFERS.0.get() };
    let data = match buffers.iter().position(|(t, _)| *t == token) {
        Some(i) => buffers.swap_remove(i).1,
        None => Vec::new(),
    };
    complete(token, status, data);
}
