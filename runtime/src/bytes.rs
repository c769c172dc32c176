//! Weft `Bytes`: a growable buffer of bytes, a FIXED object
//! (`weft_desc_bytes`) with payload `[u64 len][u64 cap][ref data]`, where
//! `data` is a BYTES object (`[u64 cap][cap bytes]`, never seen by Weft
//! code). Like arrays, buffers double on growth, so pushes are amortised
//! O(1); unlike strings, the bytes are any values 0..255 and mutable.
//!
//! Every operation is a runtime call: indexing checks the index and the
//! stored value (0..255) and panics with the Weft location compiled code
//! passes.

use crate::object::{
    payload, read_u64, ref_to_slot, slot_to_ref, write_u64, Ref, TypeDesc, TypeDescWithPointers,
    KIND_BYTES,
};
use crate::roots::with_roots;
use crate::{gc, process, string};

/// Payload offsets of the `Bytes` object's fields (compiled code reads and
/// writes them inline on its fast paths).
pub const LEN: usize = weft_abi::layout::BYTES_LEN as usize;
pub const CAP: usize = weft_abi::layout::BYTES_CAP as usize;
pub const DATA: usize = weft_abi::layout::BYTES_BUFFER as usize;
/// Where a buffer's bytes start in its payload.
const AT: usize = weft_abi::layout::BYTES_DATA as usize;
/// Payload bytes of a `Bytes` object.
pub const BYTES_PAYLOAD_BYTES: usize = 24;
const MIN_CAPACITY: usize = 16;
/// No buffer is larger (2^47 bytes, beyond any machine's memory): a larger
/// request is an out-of-memory panic naming its size, not an overflow.
pub const MAX_LEN: usize = if usize::BITS > 32 {
    1 << 47
} else {
    usize::MAX >> 1
};

/// `Bytes` objects: one reference, the buffer.
static BYTES_DESC: TypeDescWithPointers<1> =
    TypeDescWithPointers::new(BYTES_PAYLOAD_BYTES as u32, [DATA as u32]);
/// The buffers: BYTES objects the collector never looks inside.
static BUFFER_DESC: TypeDesc = TypeDesc::new(KIND_BYTES, 0);

unsafe fn new_buffer(cap: usize) -> Ref {
    let Some(size) = cap.checked_add(AT) else {
        process::out_of_memory(Some(cap as u128), "bytes");
    };
    let buf = gc::alloc(&BUFFER_DESC, size);
    write_u64(buf, 0, cap as u64);
    buf
}

/// The number of bytes in `b`.
///
/// # Safety
/// `b` must be a `Bytes` object.
pub unsafe fn len(b: Ref) -> usize {
    read_u64(b, LEN) as usize
}

unsafe fn data(b: Ref) -> Ref {
    slot_to_ref(read_u64(b, DATA))
}

/// The bytes of `b`, borrowed while `b` stays rooted and unchanged.
///
/// # Safety
/// `b` must be a `Bytes` object.
pub unsafe fn as_slice<'a>(b: Ref) -> &'a [u8] {
    core::slice::from_raw_parts(payload(data(b), AT), len(b))
}

pub(crate) unsafe fn as_mut_slice<'a>(b: Ref) -> &'a mut [u8] {
    core::slice::from_raw_parts_mut(payload(data(b), AT), len(b))
}

/// `n` zero bytes (room for at least 16).
///
/// # Safety
/// May collect.
pub unsafe fn new(n: usize) -> Ref {
    let buf = new_buffer(n.max(MIN_CAPACITY));
    let b = with_roots([buf], |_| gc::alloc(BYTES_DESC.desc(), BYTES_PAYLOAD_BYTES));
    write_u64(b, LEN, n as u64);
    write_u64(b, CAP, read_u64(buf, 0));
    write_u64(b, DATA, ref_to_slot(buf));
    b
}

/// A new `Bytes` holding a copy of `src`.
///
/// # Safety
/// May collect: `src` must be Rust memory or lie in a rooted object.
pub unsafe fn from_slice(src: &[u8]) -> Ref {
    let copy = src.to_vec();
    let b = new(copy.len());
    as_mut_slice(b).copy_from_slice(&copy);
    b
}

/// Makes room for `more` bytes after the current ones (doubling).
///
/// # Safety
/// May collect; `b` is rooted by the caller's frame or here.
unsafe fn reserve(b: Ref, more: usize) {
    let n = len(b);
    let Some(need) = n.checked_add(more) else {
        process::out_of_memory(None, "bytes");
    };
    let cap = read_u64(b, CAP) as usize;
    if need <= cap {
        return;
    }
    let new_cap = need.max(cap.saturating_mul(2)).max(MIN_CAPACITY);
    let buf = with_roots([b], |_| new_buffer(new_cap));
    core::ptr::copy_nonoverlapping(payload(data(b), AT), payload(buf, AT), n);
    write_u64(b, CAP, new_cap as u64);
    write_u64(b, DATA, ref_to_slot(buf));
}

/// Appends `src`, which may lie in `b` itself or in another rooted object.
///
/// # Safety
/// May collect; `b` must be a `Bytes` object.
pub unsafe fn append(b: Ref, src: &[u8]) {
    let copy;
    let src = if src.is_empty() {
        src
    } else {
        // The growth may move `b`'s bytes; take a copy first.
        copy = src.to_vec();
        &copy[..]
    };
    reserve(b, src.len());
    let n = len(b);
    core::ptr::copy_nonoverlapping(src.as_ptr(), payload(data(b), AT + n), src.len());
    write_u64(b, LEN, (n + src.len()) as u64);
}

fn byte_value(x: i64, location: &[u8]) -> u8 {
    match u8::try_from(x) {
        Ok(v) => v,
        Err(_) => {
            let msg = format!("byte value {x} out of range 0..255");
            process::panic(msg.as_bytes(), location)
        }
    }
}

fn index(i: i64, n: usize, location: &[u8]) -> usize {
    match usize::try_from(i) {
        Ok(i) if i < n => i,
        _ => {
            let msg = format!("index {i} out of range for length {n}");
            process::panic(msg.as_bytes(), location)
        }
    }
}

/// `b[i]`.
///
/// # Safety
/// `b` must be a `Bytes` object.
pub unsafe fn get(b: Ref, i: i64, location: &[u8]) -> i64 {
    let bytes = as_slice(b);
    bytes[index(i, bytes.len(), location)] as i64
}

/// `b[i] = x`.
///
/// # Safety
/// `b` must be a `Bytes` object.
pub unsafe fn set(b: Ref, i: i64, x: i64, location: &[u8]) {
    let bytes = as_mut_slice(b);
    let at = index(i, bytes.len(), location);
    bytes[at] = byte_value(x, location);
}

/// `b.push(x)`.
///
/// # Safety
/// May collect; `b` must be a `Bytes` object.
pub unsafe fn push(b: Ref, x: i64, location: &[u8]) {
    let v = byte_value(x, location);
    reserve(b, 1);
    let n = len(b);
    *payload(data(b), AT + n) = v;
    write_u64(b, LEN, n as u64 + 1);
}

/// `b.slice(i, j)`: a copy of bytes `i..j`.
///
/// # Safety
/// May collect; `b` must be a `Bytes` object.
pub unsafe fn slice(b: Ref, i: i64, j: i64, location: &[u8]) -> Ref {
    let n = len(b) as i64;
    if i < 0 || j > n || i > j {
        let msg = format!("slice [{i}..{j}] out of range for length {n}");
        process::panic(msg.as_bytes(), location);
    }
    from_slice(&as_slice(b)[i as usize..j as usize])
}

/// `b.str()`: the bytes as a string, or null when they are not UTF-8.
///
/// # Safety
/// May collect; `b` must be a `Bytes` object.
pub unsafe fn to_string(b: Ref) -> Ref {
    let bytes = as_slice(b);
    if core::str::from_utf8(bytes).is_err() {
        return core::ptr::null_mut();
    }
    with_roots([b], |_| string::from_bytes(as_slice(b)))
}
