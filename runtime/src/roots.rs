//! The shadow stack: the root frames compiled code (and the runtime's own
//! Rust code) links into `weft_shadow_top` so the collector can find every
//! GC reference that lives in a function's locals.
//!
//! Compiled functions push a `{ prev, count, [count x ref] }` frame on entry
//! and pop it before returning. Runtime functions that allocate while holding
//! references do the same through `with_roots`, because an allocation may
//! collect and the collector only knows about references it can reach from a
//! frame or from another live object. The collector is non-moving, so a
//! rooted reference stays valid in the Rust local it came from; the slots only
//! have to exist, not be read back.
//!
//! The scheduler's coroutine handles (tasks ready or sleeping, main, the
//! running one) are roots too: `for_each_root` visits them after the frames.

use crate::object::Ref;
use core::cell::Cell;
use core::ptr;

/// The fixed part of a root frame; `count` reference slots follow it. The
/// layout matches the compiler's `{ ptr, i64, [N x ptr] }` on both targets:
/// `count` at offset 8, the slots (pointer-sized) at offset 16.
#[repr(C)]
pub struct RootFrame {
    pub prev: *mut RootFrame,
    pub count: u64,
}

/// A root frame with its slots, for Rust code in the runtime. The slots are
/// `Cell`s because the collector reads them through `weft_shadow_top` while
/// the Rust code holds a reference to them: a `&mut` would let the optimiser
/// assume nobody else reads the slots and delay or drop the stores.
#[repr(C)]
struct Frame<const N: usize> {
    head: RootFrame,
    slots: [Cell<usize>; N],
}

/// The innermost frame (null when the stack is empty).
#[inline]
pub fn top() -> *mut RootFrame {
    // SAFETY: single-threaded runtime; a plain read of the exported static.
    unsafe { ptr::read(ptr::addr_of!(crate::abi::weft_shadow_top)) }
}

/// Replaces the innermost frame.
///
/// # Safety
/// `frame` must be null or a frame that stays alive and in place until it is
/// popped again.
#[inline]
pub unsafe fn set_top(frame: *mut RootFrame) {
    ptr::write(ptr::addr_of_mut!(crate::abi::weft_shadow_top), frame)
}

/// Runs `f` with the references in `refs` rooted by a frame on the shadow
/// stack. `f` receives the slots: storing a reference in one (with `set`)
/// roots it too, until `f` returns.
pub fn with_roots<const N: usize, R>(refs: [Ref; N], f: impl FnOnce(&[Cell<usize>; N]) -> R) -> R {
    let frame = Frame {
        head: RootFrame {
            prev: top(),
            count: N as u64,
        },
        slots: refs.map(|r| Cell::new(r as usize)),
    };
    // SAFETY: `frame` lives on this stack frame until after it is popped
    // below, and is not moved in between (only shared references are taken).
    unsafe { set_top(&frame as *const Frame<N> as *mut RootFrame) };
    let result = f(&frame.slots);
    // SAFETY: restores the frame that was innermost before ours.
    unsafe { set_top(frame.head.prev) };
    result
}

/// Calls `visit` with every slot value of every frame, innermost first, then
/// with every coroutine handle the scheduler holds (`sched::for_each_root`).
///
/// # Safety
/// Every frame on the shadow stack must be live and well formed.
pub unsafe fn for_each_root(mut visit: impl FnMut(usize)) {
    let mut frame = top();
    while !frame.is_null() {
        let count = (*frame).count as usize;
        let slots = frame.add(1) as *const usize;
        for i in 0..count {
            visit(ptr::read(slots.add(i)));
        }
        frame = (*frame).prev;
    }
    crate::sched::for_each_root(&mut visit);
    crate::io::for_each_root(&mut visit);
    crate::task::for_each_root(&mut visit);
    crate::finalize::for_each_root(visit);
}
