//! Weft arrays `[T]`: a FIXED object (`weft_desc_array`) with payload
//! `[u64 len][u64 cap][ref data]`, where `data` is a slots buffer of `cap`
//! 8-byte elements: `weft_desc_ref_slots` when the elements are references
//! (so the collector traces them), `weft_desc_slots` otherwise.
//!
//! The compiler indexes and pops inline against this layout, so it is fixed
//! by the ABI; the runtime creates arrays and grows them on push (doubling,
//! so pushes are amortised O(1)).

use crate::abi::{weft_desc_array, weft_desc_ref_slots, weft_desc_slots};
use crate::object::{
    desc_of, payload, read_u64, ref_to_slot, slot_to_ref, write_u64, Ref, TypeDesc,
    KIND_POINTER_SLOTS,
};
use crate::roots::with_roots;
use crate::{gc, process};

/// Payload offsets of the array object's fields.
pub const LEN: usize = 0;
pub const CAP: usize = 8;
pub const DATA: usize = 16;
/// Payload bytes of an array object.
pub const ARRAY_PAYLOAD_BYTES: usize = 24;
/// The smallest buffer: small arrays do not regrow at once.
const MIN_CAPACITY: usize = 4;

/// A zeroed slots buffer of `count` elements.
///
/// # Safety
/// May collect.
pub unsafe fn new_slots(desc: *const TypeDesc, count: usize) -> Ref {
    let Some(bytes) = count.checked_mul(8).and_then(|b| b.checked_add(8)) else {
        process::out_of_memory(Some(count as u128), "elements");
    };
    let buf = gc::alloc(desc, bytes);
    write_u64(buf, 0, count as u64);
    buf
}

/// An empty array with room for `capacity` elements (at least 4).
///
/// # Safety
/// May collect: the caller roots what it holds.
pub unsafe fn new(elem_is_ref: bool, capacity: usize) -> Ref {
    let cap = capacity.max(MIN_CAPACITY);
    let desc = if elem_is_ref {
        &weft_desc_ref_slots
    } else {
        &weft_desc_slots
    };
    let buf = new_slots(desc, cap);
    let arr = with_roots([buf], |_| {
        gc::alloc(weft_desc_array.desc(), ARRAY_PAYLOAD_BYTES)
    });
    write_u64(arr, LEN, 0);
    write_u64(arr, CAP, cap as u64);
    write_u64(arr, DATA, ref_to_slot(buf));
    arr
}

/// `[v; n]`: `n` elements with the bits `bits`, in one buffer of exactly
/// that size. A reference `bits` is rooted while the buffers are made.
///
/// # Safety
/// May collect; `n` is not negative (the caller checked).
pub unsafe fn filled(bits: u64, n: usize, elem_is_ref: bool) -> Ref {
    let held = if elem_is_ref {
        slot_to_ref(bits)
    } else {
        core::ptr::null_mut()
    };
    let arr = with_roots([held], |_| new(elem_is_ref, n));
    let buf = data(arr);
    for i in 0..n {
        write_u64(buf, 8 + 8 * i, bits);
    }
    write_u64(arr, LEN, n as u64);
    arr
}

/// The number of elements.
///
/// # Safety
/// `arr` must be an array.
#[inline]
pub unsafe fn len(arr: Ref) -> usize {
    read_u64(arr, LEN) as usize
}

/// The buffer.
///
/// # Safety
/// `arr` must be an array.
#[inline]
unsafe fn data(arr: Ref) -> Ref {
    slot_to_ref(read_u64(arr, DATA))
}

/// Element `i`'s bits (no bounds check).
///
/// # Safety
/// `arr` must be an array and `i < len(arr)`.
#[inline]
pub unsafe fn get(arr: Ref, i: usize) -> u64 {
    read_u64(data(arr), 8 + 8 * i)
}

/// Element `i` of a reference array.
///
/// # Safety
/// As for `get`, on an array of references.
#[inline]
pub unsafe fn get_ref(arr: Ref, i: usize) -> Ref {
    slot_to_ref(get(arr, i))
}

/// Appends an element (its 8 bytes; for a reference array, the pointer).
///
/// # Safety
/// `arr` must be an array; `bits` a reference when its elements are.
pub unsafe fn push(arr: Ref, bits: u64) {
    let len = len(arr);
    let cap = read_u64(arr, CAP) as usize;
    if len == cap {
        let old = data(arr);
        let desc = desc_of(old);
        // A reference being pushed is held only in `bits` here: root it too.
        let value = if (*desc).kind == KIND_POINTER_SLOTS {
            slot_to_ref(bits)
        } else {
            core::ptr::null_mut()
        };
        let new_cap = cap.saturating_mul(2).max(MIN_CAPACITY);
        let buf = with_roots([arr, value], |_| new_slots(desc, new_cap));
        core::ptr::copy_nonoverlapping(payload(old, 8), payload(buf, 8), 8 * len);
        write_u64(arr, CAP, new_cap as u64);
        write_u64(arr, DATA, ref_to_slot(buf));
    }
    write_u64(data(arr), 8 + 8 * len, bits);
    write_u64(arr, LEN, len as u64 + 1);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::{heap_lock, node, value};

    #[test]
    fn layout_is_the_abi() {
        let _heap = heap_lock();
        // SAFETY: a fresh array.
        unsafe {
            let arr = new(false, 0);
            assert_eq!((*arr).desc, weft_desc_array.desc() as usize as u64);
            assert_eq!(weft_desc_array.head.size, 24);
            assert_eq!(weft_desc_array.ptr_offsets, [16]);
            assert_eq!(read_u64(arr, LEN), 0);
            assert_eq!(read_u64(arr, CAP), 4);
            let buf = data(arr);
            assert_eq!(
                (*buf).desc,
                &weft_desc_slots as *const TypeDesc as usize as u64
            );
            assert_eq!(read_u64(buf, 0), 4);
            let arr = new(true, 10);
            assert_eq!(read_u64(arr, CAP), 10);
            assert_eq!(
                (*data(arr)).desc,
                &weft_desc_ref_slots as *const TypeDesc as usize as u64
            );
        }
    }

    #[test]
    fn push_grows_and_keeps_elements() {
        let _heap = heap_lock();
        // SAFETY: a scalar array.
        unsafe {
            let arr = new(false, 0);
            with_roots([arr], |_| {
                for i in 0..1000u64 {
                    push(arr, i * 3);
                    crate::gc::collect();
                }
            });
            assert_eq!(len(arr), 1000);
            assert_eq!(read_u64(arr, CAP), 1024);
            for i in 0..1000 {
                assert_eq!(get(arr, i), i as u64 * 3);
            }
        }
    }

    #[test]
    fn pushed_references_survive_stress_collections() {
        let _heap = heap_lock();
        crate::gc::set_stress(true);
        // SAFETY: a reference array; each node is pushed as soon as it is made.
        unsafe {
            let arr = new(true, 1);
            with_roots([arr], |_| {
                for i in 0..300 {
                    push(
                        arr,
                        ref_to_slot(node(core::ptr::null_mut(), i, core::ptr::null_mut())),
                    );
                }
            });
            crate::gc::set_stress(false);
            for i in 0..300 {
                assert_eq!(value(get_ref(arr, i)), i as i64);
            }
        }
    }
}
