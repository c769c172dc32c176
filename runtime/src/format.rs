//! `str(v)` and `println(v)` of composite values: structs, enums, arrays,
//! maps and optionals, walked by the runtime from a *shape* the compiler
//! emits per type (static data: what kind of value, its name, its fields'
//! names and shapes).
//!
//! The walk is iterative (an explicit work list on the Rust heap), so a
//! linked list of a million nodes prints without touching the native stack;
//! it writes into one growing byte buffer, so printing is linear in the
//! output; and it keeps the set of objects on the path from the root, so a
//! value that contains itself prints `<cycle>` where it recurs instead of
//! recursing forever. It allocates no GC memory itself until the text is
//! done, so nothing it holds needs rooting, except around a call of a
//! `Display` type's compiled `to_string` (DISPLAY shapes), which may
//! allocate: every reference still to be read is then rooted in a frame.
//! A value of an interface type prints as the value it holds, through the
//! shape at the head of its method table.

use crate::object::{desc_of, read_u64, slot_to_ref, Ref};
use crate::roots::{self, RootFrame};
use crate::{array, bytes, map, output, string};
use std::collections::HashSet;

/// The kinds of shape (`weft_abi::shape`).
pub const INT: u32 = weft_abi::shape::INT;
pub const FLOAT: u32 = weft_abi::shape::FLOAT;
pub const BOOL: u32 = weft_abi::shape::BOOL;
pub const STRING: u32 = weft_abi::shape::STRING;
/// `items`: the fields' shapes, `labels`: their names; `name`: the struct's.
pub const STRUCT: u32 = weft_abi::shape::STRUCT;
/// `items`: one `VARIANT` shape per tag.
pub const ENUM: u32 = weft_abi::shape::ENUM;
/// `items`: the element's shape.
pub const ARRAY: u32 = weft_abi::shape::ARRAY;
/// `items`: the key's and the value's shapes.
pub const MAP: u32 = weft_abi::shape::MAP;
/// `items`: the inner shape; `count` 1 when the inner value is boxed (a
/// one-slot object: optionals of scalars and of optionals), else 0.
pub const OPTIONAL: u32 = weft_abi::shape::OPTIONAL;
/// Printed as its `name` (functions, channels, tasks, generators, nil).
pub const OPAQUE: u32 = weft_abi::shape::OPAQUE;
/// An enum variant: `name`, and `items` its payload's shapes.
pub const VARIANT: u32 = weft_abi::shape::VARIANT;
/// `Bytes`: its byte values, like an array of ints.
pub const BYTES: u32 = weft_abi::shape::BYTES;
pub const INTERFACE: u32 = weft_abi::shape::INTERFACE;
pub const DISPLAY: u32 = weft_abi::shape::DISPLAY;

/// One type's shape, as the compiler lays it out in constant data.
#[repr(C)]
pub struct Shape {
    pub kind: u32,
    /// How many `items` (and `labels`) there are; for `OPTIONAL`, boxed or not.
    pub count: u32,
    pub name: *const u8,
    pub name_len: u64,
    pub items: *const *const Shape,
    pub labels: *const Label,
}

/// A name in constant data.
#[repr(C)]
pub struct Label {
    pub ptr: *const u8,
    pub len: u64,
}

enum Work {
    Value(u64, *const Shape),
    Text(&'static [u8]),
    Name(*const u8, u64),
    /// The object is no longer on the path from the root.
    Leave(usize),
}

unsafe fn bytes_of<'a>(ptr: *const u8, len: u64) -> &'a [u8] {
    if len == 0 {
        return &[];
    }
    core::slice::from_raw_parts(ptr, len as usize)
}

unsafe fn item(shape: &Shape, i: usize) -> *const Shape {
    *shape.items.add(i)
}

/// Whether a value of this shape is a reference the walk reads later.
unsafe fn holds_ref(shape: *const Shape) -> bool {
    matches!(
        (*shape).kind,
        STRING | STRUCT | ENUM | ARRAY | MAP | OPTIONAL | BYTES | INTERFACE | DISPLAY
    )
}

/// `obj.to_string()` of a type with `Display` (its DISPLAY shape's item),
/// called in the middle of the walk: compiled code that may allocate, so
/// every reference the walk still has to read is rooted during the call.
unsafe fn display(obj: Ref, shape: &Shape, work: &[Work]) -> Ref {
    type ToString = unsafe extern "C" fn(Ref) -> Ref;
    // A root frame on the Rust heap (8-aligned words): the `RootFrame`
    // header (16 bytes on both targets), then pointer-sized slots.
    let mut refs = vec![obj as usize];
    for w in work {
        if let Work::Value(bits, s) = w {
            if holds_ref(*s) {
                refs.push(*bits as usize);
            }
        }
    }
    let bytes = core::mem::size_of::<RootFrame>() + refs.len() * core::mem::size_of::<usize>();
    let mut frame: Vec<u64> = vec![0; bytes.div_ceil(8)];
    let head = frame.as_mut_ptr() as *mut RootFrame;
    let prev = roots::top();
    head.write(RootFrame {
        prev,
        count: refs.len() as u64,
    });
    let slots = head.add(1) as *mut usize;
    for (i, r) in refs.iter().enumerate() {
        slots.add(i).write(*r);
    }
    let f: ToString = core::mem::transmute::<*const Shape, ToString>(*shape.items);
    roots::set_top(head);
    let text = f(obj);
    roots::set_top(prev);
    text
}

/// Appends the text of the value `bits` of shape `shape` to `out`.
///
/// # Safety
/// `shape` must be a shape the compiler emitted for the value's type, and
/// the value alive (reachable from a root) during the call.
pub unsafe fn format_into(bits: u64, shape: *const Shape, out: &mut Vec<u8>) {
    let mut work = vec![Work::Value(bits, shape)];
    let mut path: HashSet<usize> = HashSet::new();
    // Pushes `parts` so that they come out in order.
    fn push_all(work: &mut Vec<Work>, parts: Vec<Work>) {
        work.extend(parts.into_iter().rev());
    }
    while let Some(next) = work.pop() {
        let (bits, shape) = match next {
            Work::Text(t) => {
                out.extend_from_slice(t);
                continue;
            }
            Work::Name(p, n) => {
                out.extend_from_slice(bytes_of(p, n));
                continue;
            }
            Work::Leave(obj) => {
                path.remove(&obj);
                continue;
            }
            Work::Value(bits, shape) => (bits, &*shape),
        };
        match shape.kind {
            INT => {
                let mut buf = [0u8; 20];
                out.extend_from_slice(output::format_int(bits as i64, &mut buf));
            }
            FLOAT => {
                let mut s = String::new();
                output::format_float(f64::from_bits(bits), &mut s);
                out.extend_from_slice(s.as_bytes());
            }
            BOOL => out.extend_from_slice(if bits != 0 { b"true" } else { b"false" }),
            STRING => out.extend_from_slice(string::bytes(slot_to_ref(bits))),
            OPAQUE => out.extend_from_slice(bytes_of(shape.name, shape.name_len)),
            INTERFACE => {
                let r = slot_to_ref(bits);
                if r.is_null() {
                    out.extend_from_slice(b"nil");
                    continue;
                }
                // The table of interface `count` before the object's
                // descriptor starts with the value's own shape.
                let desc = desc_of(r) as *const *const *const Shape;
                let k = weft_abi::layout::itable_index(shape.count as u64);
                let table = *desc.offset(k as isize);
                let at = weft_abi::layout::ITABLE_SHAPE as usize;
                work.push(Work::Value(bits, *table.add(at)));
            }
            DISPLAY => {
                let r = slot_to_ref(bits);
                if r.is_null() {
                    out.extend_from_slice(b"nil");
                    continue;
                }
                let text = display(r, shape, &work);
                out.extend_from_slice(string::bytes(text));
            }
            BYTES => {
                let r = slot_to_ref(bits);
                if r.is_null() {
                    out.extend_from_slice(b"nil");
                    continue;
                }
                out.push(b'[');
                for (i, &b) in bytes::as_slice(r).iter().enumerate() {
                    if i > 0 {
                        out.extend_from_slice(b", ");
                    }
                    let mut buf = [0u8; 20];
                    out.extend_from_slice(output::format_int(b as i64, &mut buf));
                }
                out.push(b']');
            }
            OPTIONAL => {
                let r = slot_to_ref(bits);
                if r.is_null() {
                    out.extend_from_slice(b"nil");
                } else if shape.count == 1 {
                    work.push(Work::Value(read_u64(r, 0), item(shape, 0)));
                } else {
                    work.push(Work::Value(bits, item(shape, 0)));
                }
            }
            STRUCT | ENUM | ARRAY | MAP => {
                let r = slot_to_ref(bits);
                if r.is_null() {
                    out.extend_from_slice(b"nil");
                    continue;
                }
                let key = r as usize;
                if shape.kind == ENUM {
                    let tag = read_u64(r, 0) as usize;
                    if tag >= shape.count as usize {
                        out.push(b'?');
                        continue;
                    }
                    let variant = &*item(shape, tag);
                    if variant.kind != VARIANT {
                        out.push(b'?');
                        continue;
                    }
                    out.extend_from_slice(bytes_of(variant.name, variant.name_len));
                    if variant.count == 0 {
                        continue;
                    }
                    if !path.insert(key) {
                        out.extend_from_slice(b"(<cycle>)");
                        continue;
                    }
                    let mut parts = vec![Work::Text(b"(")];
                    for i in 0..variant.count as usize {
                        if i > 0 {
                            parts.push(Work::Text(b", "));
                        }
                        parts.push(Work::Value(read_u64(r, 8 * (i + 1)), item(variant, i)));
                    }
                    parts.push(Work::Text(b")"));
                    parts.push(Work::Leave(key));
                    push_all(&mut work, parts);
                    continue;
                }
                if !path.insert(key) {
                    out.extend_from_slice(b"<cycle>");
                    continue;
                }
                let mut parts = Vec::new();
                match shape.kind {
                    STRUCT => {
                        parts.push(Work::Name(shape.name, shape.name_len));
                        parts.push(Work::Text(b" {"));
                        for i in 0..shape.count as usize {
                            parts.push(Work::Text(if i == 0 { b" " } else { b", " }));
                            let label = &*shape.labels.add(i);
                            parts.push(Work::Name(label.ptr, label.len));
                            parts.push(Work::Text(b": "));
                            parts.push(Work::Value(read_u64(r, 8 * i), item(shape, i)));
                        }
                        parts.push(Work::Text(if shape.count == 0 { b"}" } else { b" }" }));
                    }
                    ARRAY => {
                        parts.push(Work::Text(b"["));
                        let elem = item(shape, 0);
                        for i in 0..array::len(r) {
                            if i > 0 {
                                parts.push(Work::Text(b", "));
                            }
                            parts.push(Work::Value(array::get(r, i), elem));
                        }
                        parts.push(Work::Text(b"]"));
                    }
                    _ => {
                        parts.push(Work::Text(b"{"));
                        let (k, v) = (item(shape, 0), item(shape, 1));
                        let mut first = true;
                        map::for_each(r, |key, value| {
                            if !first {
                                parts.push(Work::Text(b", "));
                            }
                            first = false;
                            parts.push(Work::Value(key, k));
                            parts.push(Work::Text(b": "));
                            parts.push(Work::Value(value, v));
                        });
                        parts.push(Work::Text(b"}"));
                    }
                }
                parts.push(Work::Leave(key));
                push_all(&mut work, parts);
            }
            _ => out.push(b'?'),
        }
    }
}

/// `str(v)`: the text as a new string.
///
/// # Safety
/// As for `format_into`. May collect, after the walk.
pub unsafe fn format(bits: u64, shape: *const Shape) -> Ref {
    let mut out = Vec::new();
    format_into(bits, shape, &mut out);
    string::from_bytes(&out)
}
