//! Support for the unit tests: the runtime is single-threaded and its heap
//! and shadow stack are global, while cargo runs tests on several threads,
//! so every test that touches the heap holds `heap_lock()`, which also
//! starts it from a clean shadow stack, an empty scheduler and normal
//! (non-stress) mode.

use crate::object::{Ref, TypeDescWithPointers};
use crate::{gc, roots, sched};
use std::sync::{Mutex, MutexGuard};

static LOCK: Mutex<()> = Mutex::new(());

/// Holds the heap for one test.
pub struct HeapGuard {
    _lock: MutexGuard<'static, ()>,
}

/// Takes the heap for the calling test.
pub fn heap_lock() -> HeapGuard {
    // A failed test poisons the lock; the next test still runs.
    let lock = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    reset();
    HeapGuard { _lock: lock }
}

impl Drop for HeapGuard {
    fn drop(&mut self) {
        reset();
    }
}

fn reset() {
    gc::set_stress(false);
    sched::reset();
    // SAFETY: no frame of a finished (or failed) test is in use any more.
    unsafe { roots::set_top(core::ptr::null_mut()) };
}

/// A test struct `{ left: ref, value: int, right: ref }`.
pub static NODE: TypeDescWithPointers<2> = TypeDescWithPointers::new(24, [0, 16]);

/// A new node.
pub fn node(left: Ref, value: i64, right: Ref) -> Ref {
    // SAFETY: the children are rooted across the allocation.
    unsafe {
        let n = roots::with_roots([left, right], |_| gc::alloc(NODE.desc(), 24));
        crate::object::write_u64(n, 0, crate::object::ref_to_slot(left));
        crate::object::write_u64(n, 8, value as u64);
        crate::object::write_u64(n, 16, crate::object::ref_to_slot(right));
        n
    }
}

/// A node's fields.
pub fn left(n: Ref) -> Ref {
    // SAFETY: `n` is a node.
    unsafe { crate::object::slot_to_ref(crate::object::read_u64(n, 0)) }
}

pub fn value(n: Ref) -> i64 {
    // SAFETY: `n` is a node.
    unsafe { crate::object::read_u64(n, 8) as i64 }
}
