//! Generators dropped unfinished: when the collector finds one unreachable,
//! its pending `defer`s run (the language contract: "when it is collected").
//!
//! Only generators whose body has cleanups register (`weft_gen_finalizable`,
//! from their ramp). After marking, a registered generator that is neither
//! reachable nor ended is resurrected — marked, with everything it holds —
//! and queued; the queued ones are roots until they have run. They run right
//! after the collection, before the allocation that triggered it goes on:
//! each is marked cancelled (so it is never resumed) and destroyed through
//! the compiled `weft_coro_destroy`, which runs the `defer`s pending at its
//! `yield`. That code may allocate and collect again; a finalizer never runs
//! inside another. The next collection frees the frame. When a program ends
//! without collecting, nothing runs (as with Go's finalizers).

use crate::object::STATE_CANCELLED;
use crate::task::{ended, state as coro_state};
use core::cell::UnsafeCell;
use std::collections::VecDeque;

#[cfg(not(test))]
use crate::abi::weft_coro_destroy;
#[cfg(test)]
use tests::weft_coro_destroy;

struct Finalizers {
    /// Handles of registered generators not known to have ended.
    registered: Vec<usize>,
    /// Unreachable ones, waiting to run.
    pending: VecDeque<usize>,
    running: bool,
}

struct Cell(UnsafeCell<Finalizers>);

// Single-threaded runtime.
unsafe impl Sync for Cell {}

static FINALIZERS: Cell = Cell(UnsafeCell::new(Finalizers {
    registered: Vec::new(),
    pending: VecDeque::new(),
    running: false,
}));

fn state() -> &'static mut Finalizers {
    // SAFETY: single-threaded; no caller holds the reference across code
    // that could take it again (`run_pending` drops it before each destroy).
    unsafe { &mut *FINALIZERS.0.get() }
}

/// Registers the generator whose coroutine is `h`.
pub fn register(h: *mut u8) {
    state().registered.push(h as usize);
}

/// After the mark phase: `reached(h)` says whether the frame of `h` was
/// marked, `resurrect(h)` marks it and what it holds. Forgets ended
/// generators; queues unreachable unfinished ones.
///
/// # Safety
/// Registered handles must be frames the collector has not freed (they are
/// forgotten before: an ended or finalized frame leaves the registry).
pub unsafe fn after_mark(reached: impl Fn(usize) -> bool, mut resurrect: impl FnMut(usize)) {
    let s = state();
    let mut kept = Vec::with_capacity(s.registered.len());
    for &h in &s.registered {
        if ended(h as *mut u8) {
            continue;
        }
        if reached(h) {
            kept.push(h);
        } else {
            resurrect(h);
            s.pending.push_back(h);
        }
    }
    s.registered = kept;
}

/// Whether finalizers wait to run.
pub fn has_pending() -> bool {
    let s = state();
    !s.pending.is_empty() && !s.running
}

/// Runs the queued finalizers (not from inside one).
///
/// # Safety
/// Between allocations: the caller's references are rooted.
pub unsafe fn run_pending() {
    if state().running {
        return;
    }
    state().running = true;
    // Each frame stays queued, so a root, while its cleanups run: they
    // allocate, and they read the frame's root area after each allocation.
    while let Some(&h) = state().pending.front() {
        if !ended(h as *mut u8) {
            *coro_state(h as *mut u8) |= STATE_CANCELLED;
            weft_coro_destroy(h as *mut u8);
        }
        state().pending.pop_front();
    }
    state().running = false;
}

/// The queued generators are roots until they have run.
pub fn for_each_root(mut visit: impl FnMut(usize)) {
    for &h in &state().pending {
        visit(h);
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use crate::abi::weft_coro_alloc;
    use crate::gc;
    use crate::object::{
        Ref, FRAME_PREFIX, HEADER_BYTES, POISON_DESC, PROMISE_OFFSET, PROMISE_SLOTS,
    };
    use crate::tests::{heap_lock, node};
    use core::ptr::null_mut;
    use std::cell::RefCell;

    thread_local! {
        static DESTROYED: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
    }

    pub unsafe fn weft_coro_destroy(h: *mut u8) {
        DESTROYED.with(|d| d.borrow_mut().push(h as usize));
    }

    fn alive(obj: Ref) -> bool {
        // SAFETY: tests pass heap objects.
        unsafe { !gc::is_free(obj) && (*obj).desc != POISON_DESC }
    }

    /// A suspended generator holding `held` in its root area.
    unsafe fn generator(held: Ref) -> *mut u8 {
        let h = weft_coro_alloc(96);
        let p = h.add(PROMISE_OFFSET);
        *(p as *mut u32) = 1;
        *(p.add(4) as *mut u32) = PROMISE_SLOTS as u32;
        *(p.add(PROMISE_SLOTS) as *mut usize) = held as usize;
        h
    }

    #[test]
    fn an_unreachable_unfinished_generator_is_destroyed_once_then_freed() {
        let _heap = heap_lock();
        DESTROYED.with(|d| d.borrow_mut().clear());
        // SAFETY: real frames; the destroy function is the stand-in above.
        unsafe {
            let held = node(null_mut(), 5, null_mut());
            let g = generator(held);
            let obj = g.wrapping_sub(HEADER_BYTES + FRAME_PREFIX) as Ref;
            register(g);
            // Unreachable: resurrected with what it holds, and queued.
            gc::collect_and_sweep();
            assert!(alive(obj) && alive(held));
            assert!(has_pending());
            run_pending();
            assert_eq!(DESTROYED.with(|d| d.borrow().clone()), [g as usize]);
            assert_eq!(*coro_state(g) & STATE_CANCELLED, STATE_CANCELLED);
            // Ended now: the next collections free it, and nothing runs twice.
            gc::collect_and_sweep();
            gc::collect_and_sweep();
            assert!(!alive(obj) && !alive(held));
            assert!(!has_pending());
            assert_eq!(DESTROYED.with(|d| d.borrow().len()), 1);
        }
    }
}
