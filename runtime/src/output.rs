//! Buffered standard output and unbuffered standard error.
//!
//! Stdout is buffered because printing is the hot path of many programs; it is
//! flushed before anything goes to stderr (so the two interleave as written),
//! when the buffer fills, and at exit. Nothing printed is ever lost: every exit
//! path of the runtime goes through `flush_all`.

use crate::platform;
use core::cell::UnsafeCell;

const CAPACITY: usize = 1 << 14;

struct Buffer(UnsafeCell<Vec<u8>>);

// The runtime is single-threaded; the buffer is never touched from two threads.
unsafe impl Sync for Buffer {}

static STDOUT: Buffer = Buffer(UnsafeCell::new(Vec::new()));

fn stdout_buffer() -> &'static mut Vec<u8> {
    // SAFETY: single-threaded runtime, and no reference outlives a call below.
    unsafe { &mut *STDOUT.0.get() }
}

pub const STDOUT_FD: i32 = 1;
pub const STDERR_FD: i32 = 2;

/// Writes bytes to the stream (1 = stdout, 2 = stderr).
pub fn write(stream: i32, bytes: &[u8]) {
    if stream == STDERR_FD {
        flush_stdout();
        platform::write_all(STDERR_FD, bytes);
        return;
    }
    let buf = stdout_buffer();
    if bytes.len() >= CAPACITY {
        // Big writes go straight out: copying a 1.5 GB string into the
        // buffer first would need that much memory again.
        flush_stdout();
        platform::write_all(STDOUT_FD, bytes);
        return;
    }
    if buf.capacity() == 0 {
        buf.reserve(CAPACITY);
    }
    buf.extend_from_slice(bytes);
    if buf.len() >= CAPACITY {
        flush_stdout();
    }
}

pub fn flush_stdout() {
    let buf = stdout_buffer();
    if !buf.is_empty() {
        platform::write_all(STDOUT_FD, buf);
        buf.clear();
    }
}

pub fn flush_all() {
    flush_stdout();
}

/// Formats an integer in decimal into `buf` (19 digits and a sign fit) and
/// returns the text: what `print` writes and `str(i)` makes.
pub fn format_int(value: i64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    let mut v = value.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    if value < 0 {
        i -= 1;
        buf[i] = b'-';
    }
    &buf[i..]
}

/// Formats a float the way `str(x)` and `print` show it: the shortest text
/// that reads back as the same value, always with a fraction or exponent
/// (`3.0`, `0.1`, `1e100`, `inf`, `NaN`).
pub fn format_float(v: f64, out: &mut String) {
    use core::fmt::Write;
    let _ = write!(out, "{v:?}");
}
