//! `Map[K, V]`: hash maps with `int` or `string` keys that iterate in
//! insertion order, built from ordinary GC objects so the collector traces
//! them with the same descriptors as everything else.
//!
//! The layout follows CPython's compact dict. A map object (FIXED, opaque to
//! the compiler) points to three buffers:
//! - `keys` and `values`: slots buffers holding the entries in insertion
//!   order (reference buffers when keys are strings or values references);
//! - `meta`: a scalar buffer holding the index, a power-of-two open-addressing
//!   table (linear probing) of entry numbers, followed by each entry's hash.
//!
//! Removing an entry leaves a hole (hash `DELETED`, slots cleared so the
//! collector can free what they held) and a tombstone in the index, so the
//! other entries keep their order; holes are squeezed out when the entries
//! are full and the buffers are rebuilt. The index has twice as many slots
//! as there are entries, so probing always meets an empty slot soon.
//! Lookups and removal never allocate.

use crate::object::{
    payload, read_u64, ref_to_slot, slot_to_ref, write_u64, Ref, TypeDescWithPointers,
};
use crate::roots::with_roots;
use crate::{abi, array, gc, process, string};

// Payload offsets of the map object.
const FLAGS: usize = 0;
const LEN: usize = 8;
const USED: usize = 16;
const CAP: usize = 24;
const META: usize = 32;
const KEYS: usize = 40;
const VALUES: usize = 48;
/// Int-keyed maps: the key last found or inserted and its entry plus one
/// (0: none), so that `m[k] = v` right after `m.get(k)` (the counting
/// idiom) neither hashes nor probes again. Reset whenever entries move or
/// go (`remove`, `rebuild`, `clear`). Never used for string keys: a lookup
/// key is a string object the map does not keep alive.
const LAST_KEY: usize = 56;
const LAST_ENTRY: usize = 64;
const MAP_BYTES: usize = 72;

const KEY_IS_STRING: u64 = 1;
const VALUE_IS_REF: u64 = 2;

/// The map object's descriptor: its three buffers are references.
static MAP_DESC: TypeDescWithPointers<3> =
    TypeDescWithPointers::new(MAP_BYTES as u32, [META as u32, KEYS as u32, VALUES as u32]);

/// Index slot values: an entry `e` is stored as `e + FIRST_ENTRY` in the
/// low 32 bits and the top 32 bits of its hash above them (`index_value`),
/// so a probe compares most other keys away without reading the entries'
/// hashes or keys: once a table outgrows the cache, each of those reads is
/// a miss.
const EMPTY: u64 = 0;
const TOMBSTONE: u64 = 1;
const FIRST_ENTRY: u64 = 2;
const ENTRY_BITS: u64 = 0xffff_ffff;

/// The hash of a removed entry; real hashes have the top bit clear.
const DELETED: u64 = u64::MAX;
/// Entries of the first buffers.
const MIN_CAPACITY: usize = 4;

/// An index slot's value for entry `e` with hash `h`.
fn index_value(h: u64, e: usize) -> u64 {
    (h >> 32) << 32 | (e as u64 + FIRST_ENTRY)
}

/// A new empty map (its buffers come with the first insertion).
///
/// # Safety
/// May collect.
pub unsafe fn new(key_is_string: bool, value_is_ref: bool) -> Ref {
    let m = gc::alloc(MAP_DESC.desc(), MAP_BYTES);
    let flags =
        if key_is_string { KEY_IS_STRING } else { 0 } | if value_is_ref { VALUE_IS_REF } else { 0 };
    write_u64(m, FLAGS, flags);
    m
}

unsafe fn field(m: Ref, offset: usize) -> usize {
    read_u64(m, offset) as usize
}

unsafe fn buffer(m: Ref, offset: usize) -> Ref {
    slot_to_ref(read_u64(m, offset))
}

/// Slot `i` of a slots buffer.
#[inline]
unsafe fn slot(buf: Ref, i: usize) -> *mut u64 {
    payload(buf, 8 + 8 * i) as *mut u64
}

unsafe fn key_is_string(m: Ref) -> bool {
    read_u64(m, FLAGS) & KEY_IS_STRING != 0
}

/// The key's hash, top bit clear. Integers go through a 64-bit finaliser
/// (linear probing uses the low bits); strings through an FxHash-style
/// word-at-a-time loop, then the same finaliser.
unsafe fn hash(m: Ref, key: u64) -> u64 {
    let mut h = if key_is_string(m) {
        let bytes = string::bytes(slot_to_ref(key));
        let mut h = bytes.len() as u64;
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            let w = u64::from_le_bytes(w.try_into().unwrap());
            h = (h.rotate_left(5) ^ w).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
        let mut tail = [0u8; 8];
        tail[..words.remainder().len()].copy_from_slice(words.remainder());
        (h.rotate_left(5) ^ u64::from_le_bytes(tail)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95)
    } else {
        key
    };
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^= h >> 33;
    h >> 1
}

unsafe fn keys_equal(m: Ref, a: u64, b: u64) -> bool {
    a == b || (key_is_string(m) && string::eq(slot_to_ref(a), slot_to_ref(b)))
}

/// Where `key` is: (index slot, entry), if present.
unsafe fn find(m: Ref, key: u64, h: u64) -> Option<(usize, usize)> {
    let cap = field(m, CAP);
    if cap == 0 {
        return None;
    }
    let (meta, keys) = (buffer(m, META), buffer(m, KEYS));
    let mask = 2 * cap - 1;
    let mut i = h as usize & mask;
    loop {
        let v = *slot(meta, i);
        if v == EMPTY {
            return None;
        }
        if v != TOMBSTONE && v >> 32 == h >> 32 {
            let e = ((v & ENTRY_BITS) - FIRST_ENTRY) as usize;
            let found = if key_is_string(m) {
                *slot(meta, 2 * cap + e) == h && keys_equal(m, *slot(keys, e), key)
            } else {
                *slot(keys, e) == key
            };
            if found {
                return Some((i, e));
            }
        }
        i = (i + 1) & mask;
    }
}

/// Puts entry `e` (hash `h`) in the index.
unsafe fn index_insert(meta: Ref, cap: usize, h: u64, e: usize) {
    let mask = 2 * cap - 1;
    let mut i = h as usize & mask;
    while !matches!(*slot(meta, i), EMPTY | TOMBSTONE) {
        i = (i + 1) & mask;
    }
    *slot(meta, i) = index_value(h, e);
}

/// `m[key] = value`.
///
/// # Safety
/// `m` must be a map; `key` and `value` of its key and value kinds.
pub unsafe fn set(m: Ref, key: u64, value: u64) {
    let h = match entry(m, key) {
        Ok(e) => {
            *slot(buffer(m, VALUES), e) = value;
            return;
        }
        Err(h) => h,
    };
    if field(m, USED) == field(m, CAP) {
        let flags = read_u64(m, FLAGS);
        let key_ref = if flags & KEY_IS_STRING != 0 {
            slot_to_ref(key)
        } else {
            core::ptr::null_mut()
        };
        let value_ref = if flags & VALUE_IS_REF != 0 {
            slot_to_ref(value)
        } else {
            core::ptr::null_mut()
        };
        with_roots([m, key_ref, value_ref], |_| rebuild(m));
    }
    let (cap, e) = (field(m, CAP), field(m, USED));
    let meta = buffer(m, META);
    *slot(meta, 2 * cap + e) = h;
    *slot(buffer(m, KEYS), e) = key;
    *slot(buffer(m, VALUES), e) = value;
    index_insert(meta, cap, h, e);
    write_u64(m, USED, e as u64 + 1);
    write_u64(m, LEN, read_u64(m, LEN) + 1);
    remember(m, key, e);
}

/// The entry of `key` (remembered for the next call), or the key's hash
/// when the map does not hold it.
unsafe fn entry(m: Ref, key: u64) -> Result<usize, u64> {
    if let Some(e) = last_found(m, key) {
        return Ok(e);
    }
    let h = hash(m, key);
    let (_, e) = find(m, key, h).ok_or(h)?;
    remember(m, key, e);
    Ok(e)
}

/// The entry of `key` if it is the one an int-keyed map found last.
#[inline]
unsafe fn last_found(m: Ref, key: u64) -> Option<usize> {
    let e = read_u64(m, LAST_ENTRY);
    (e != 0 && read_u64(m, LAST_KEY) == key && !key_is_string(m)).then(|| e as usize - 1)
}

#[inline]
unsafe fn remember(m: Ref, key: u64, e: usize) {
    if !key_is_string(m) {
        write_u64(m, LAST_KEY, key);
        write_u64(m, LAST_ENTRY, e as u64 + 1);
    }
}

/// Makes room for one more entry: new buffers, twice as large unless at
/// least half the entries are holes, with the live entries moved to the
/// front in order and the index rebuilt.
unsafe fn rebuild(m: Ref) {
    let (len, cap) = (field(m, LEN), field(m, CAP));
    let new_cap = if len >= cap / 2 {
        cap.checked_mul(2)
            .unwrap_or_else(|| process::out_of_memory(Some(cap as u128 * 2), "entries"))
            .max(MIN_CAPACITY)
    } else {
        cap
    };
    let flags = read_u64(m, FLAGS);
    let slots_desc = |is_ref: bool| {
        if is_ref {
            &abi::weft_desc_ref_slots
        } else {
            &abi::weft_desc_slots
        }
    };
    // Entry numbers are 32 bits in the index (`index_value`).
    let meta_count = new_cap
        .checked_mul(3)
        .filter(|_| new_cap as u64 <= ENTRY_BITS - FIRST_ENTRY);
    let Some(meta_count) = meta_count else {
        process::out_of_memory(Some(new_cap as u128), "entries");
    };
    let meta = array::new_slots(&abi::weft_desc_slots, meta_count);
    let (keys, values) = with_roots([meta], |_| {
        let keys = array::new_slots(slots_desc(flags & KEY_IS_STRING != 0), new_cap);
        let values = with_roots([keys], |_| {
            array::new_slots(slots_desc(flags & VALUE_IS_REF != 0), new_cap)
        });
        (keys, values)
    });
    let used = field(m, USED);
    if cap > 0 {
        let (old_meta, old_keys, old_values) =
            (buffer(m, META), buffer(m, KEYS), buffer(m, VALUES));
        let mut n = 0;
        for e in 0..used {
            let h = *slot(old_meta, 2 * cap + e);
            if h == DELETED {
                continue;
            }
            *slot(meta, 2 * new_cap + n) = h;
            *slot(keys, n) = *slot(old_keys, e);
            *slot(values, n) = *slot(old_values, e);
            index_insert(meta, new_cap, h, n);
            n += 1;
        }
    }
    write_u64(m, LAST_ENTRY, 0);
    write_u64(m, CAP, new_cap as u64);
    write_u64(m, USED, len as u64);
    write_u64(m, META, ref_to_slot(meta));
    write_u64(m, KEYS, ref_to_slot(keys));
    write_u64(m, VALUES, ref_to_slot(values));
}

/// `m.get(key)`: the value's bits, if present.
///
/// # Safety
/// `m` must be a map and `key` of its key kind.
pub unsafe fn get(m: Ref, key: u64) -> Option<u64> {
    let e = entry(m, key).ok()?;
    Some(*slot(buffer(m, VALUES), e))
}

/// `m.remove(key)`: whether it was there.
///
/// # Safety
/// As for `get`.
pub unsafe fn remove(m: Ref, key: u64) -> bool {
    let Some((i, e)) = find(m, key, hash(m, key)) else {
        return false;
    };
    write_u64(m, LAST_ENTRY, 0);
    let (meta, cap) = (buffer(m, META), field(m, CAP));
    *slot(meta, i) = TOMBSTONE;
    *slot(meta, 2 * cap + e) = DELETED;
    *slot(buffer(m, KEYS), e) = 0;
    *slot(buffer(m, VALUES), e) = 0;
    write_u64(m, LEN, read_u64(m, LEN) - 1);
    true
}

/// `m.len()`.
///
/// # Safety
/// `m` must be a map.
pub unsafe fn len(m: Ref) -> usize {
    field(m, LEN)
}

/// Each entry's key and value bits, in insertion order. Never allocates.
///
/// # Safety
/// `m` must be a map, alive while `f` runs; `f` must not change it.
pub unsafe fn for_each(m: Ref, mut f: impl FnMut(u64, u64)) {
    let (cap, used) = (field(m, CAP), field(m, USED));
    if cap == 0 {
        return;
    }
    let (meta, keys, values) = (buffer(m, META), buffer(m, KEYS), buffer(m, VALUES));
    for e in 0..used {
        if *slot(meta, 2 * cap + e) != DELETED {
            f(*slot(keys, e), *slot(values, e));
        }
    }
}

/// `m.keys()`: a new array of the keys in insertion order.
///
/// # Safety
/// `m` must be a map.
pub unsafe fn keys(m: Ref) -> Ref {
    let len = field(m, LEN);
    let arr = with_roots([m], |_| array::new(key_is_string(m), len));
    let (cap, used) = (field(m, CAP), field(m, USED));
    if cap > 0 {
        let (meta, keys) = (buffer(m, META), buffer(m, KEYS));
        for e in 0..used {
            if *slot(meta, 2 * cap + e) != DELETED {
                // Within capacity: no allocation, nothing to root.
                array::push(arr, *slot(keys, e));
            }
        }
    }
    arr
}

/// `m.values()`: a new array of the values in insertion order.
///
/// # Safety
/// `m` must be a map.
pub unsafe fn values(m: Ref) -> Ref {
    let len = field(m, LEN);
    let is_ref = read_u64(m, FLAGS) & VALUE_IS_REF != 0;
    let arr = with_roots([m], |_| array::new(is_ref, len));
    for_each(m, |_, v| {
        // Within capacity: no allocation, nothing to root.
        array::push(arr, v);
    });
    arr
}

/// `m.clear()`: back to a new map's state (buffers come with the next
/// insertion); the collector frees the old buffers.
///
/// # Safety
/// `m` must be a map.
pub unsafe fn clear(m: Ref) {
    for offset in [LEN, USED, CAP, META, KEYS, VALUES, LAST_ENTRY] {
        write_u64(m, offset, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::{heap_lock, node, value};
    use core::ptr::null_mut;

    fn s(text: &str) -> u64 {
        // SAFETY: Rust memory.
        ref_to_slot(unsafe { string::from_bytes(text.as_bytes()) })
    }

    fn int_keys(m: Ref) -> Vec<i64> {
        // SAFETY: an `[int]` array.
        unsafe {
            let arr = keys(m);
            (0..array::len(arr))
                .map(|i| array::get(arr, i) as i64)
                .collect()
        }
    }

    #[test]
    fn int_keys_set_get_remove_in_order() {
        let _heap = heap_lock();
        // SAFETY: an int-to-int map.
        unsafe {
            let m = new(false, false);
            assert_eq!(len(m), 0);
            assert_eq!(get(m, 1), None);
            assert!(!remove(m, 1));
            assert_eq!(int_keys(m), Vec::<i64>::new());
            for k in [5i64, -3, 100, 0, i64::MIN] {
                set(m, k as u64, k.wrapping_mul(2) as u64);
            }
            set(m, 100, 7);
            assert_eq!(len(m), 5);
            assert_eq!(get(m, 100), Some(7));
            assert_eq!(get(m, (-3i64) as u64), Some((-6i64) as u64));
            assert_eq!(get(m, 6), None);
            assert_eq!(int_keys(m), [5, -3, 100, 0, i64::MIN]);
            assert!(remove(m, (-3i64) as u64));
            assert!(!remove(m, (-3i64) as u64));
            assert_eq!(len(m), 4);
            assert_eq!(int_keys(m), [5, 100, 0, i64::MIN]);
            set(m, (-3i64) as u64, 1);
            assert_eq!(int_keys(m), [5, 100, 0, i64::MIN, -3]);
        }
    }

    #[test]
    fn many_entries_and_churn_keep_order() {
        let _heap = heap_lock();
        // SAFETY: an int-to-int map, rooted across allocations.
        unsafe {
            let m = new(false, false);
            with_roots([m], |_| {
                let mut expected: Vec<i64> = Vec::new();
                for k in 0..20_000i64 {
                    set(m, k as u64, k as u64 + 1);
                    expected.push(k);
                }
                for k in (0..20_000i64).filter(|k| k % 3 != 0) {
                    assert!(remove(m, k as u64));
                }
                expected.retain(|k| k % 3 == 0);
                // Removing and re-adding keys churns through holes and rebuilds.
                for round in 0..5 {
                    for k in 100_000 + round * 1000..100_000 + round * 1000 + 1000 {
                        set(m, k as u64, 0);
                        assert!(remove(m, k as u64));
                    }
                }
                assert_eq!(len(m), expected.len());
                assert_eq!(int_keys(m), expected);
                for &k in &expected {
                    assert_eq!(get(m, k as u64), Some(k as u64 + 1));
                }
                assert!(field(m, CAP) <= 32_768, "capacity {}", field(m, CAP));
            });
        }
    }

    #[test]
    fn string_keys_compare_by_content() {
        let _heap = heap_lock();
        // SAFETY: a string-to-int map; keys are rooted by the map once set.
        unsafe {
            let m = new(true, false);
            with_roots([m], |_| {
                for (i, word) in ["apple", "banana", "", "a longer key than eight bytes"]
                    .iter()
                    .enumerate()
                {
                    let key = s(word);
                    set(m, key, i as u64);
                }
                assert_eq!(get(m, s("banana")), Some(1));
                assert_eq!(get(m, s("")), Some(2));
                assert_eq!(get(m, s("a longer key than eight bytes")), Some(3));
                assert_eq!(get(m, s("cherry")), None);
                set(m, s("apple"), 10);
                assert_eq!(len(m), 4);
                assert!(remove(m, s("banana")));
                let arr = keys(m);
                let words: Vec<String> = (0..array::len(arr))
                    .map(|i| {
                        String::from_utf8(string::bytes(array::get_ref(arr, i)).to_vec()).unwrap()
                    })
                    .collect();
                assert_eq!(words, ["apple", "", "a longer key than eight bytes"]);
            });
        }
    }

    #[test]
    fn keys_and_values_survive_stress_collections() {
        let _heap = heap_lock();
        crate::gc::set_stress(true);
        // SAFETY: a string-to-reference map; what is made is rooted until set.
        unsafe {
            let m = new(true, true);
            with_roots([m], |_| {
                for i in 0..200 {
                    let key = s(&format!("key{i}"));
                    let v = with_roots([slot_to_ref(key)], |_| node(null_mut(), i, null_mut()));
                    set(m, key, ref_to_slot(v));
                }
                for i in (0..200).step_by(2) {
                    assert!(remove(m, s(&format!("key{i}"))));
                }
                crate::gc::set_stress(false);
                crate::gc::collect();
                for i in 0..200 {
                    let v = get(m, s(&format!("key{i}")));
                    if i % 2 == 0 {
                        assert_eq!(v, None);
                    } else {
                        assert_eq!(value(slot_to_ref(v.unwrap())), i);
                    }
                }
                assert_eq!(len(m), 100);
            });
        }
    }
}
