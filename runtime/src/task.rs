//! Cancelling a task (`t.cancel()`), and panics that cross tasks.
//!
//! A task is a chain of coroutines: the spawned one, the call it awaits, the
//! call that one awaits, and so on down to the leaf, which waits on something
//! outside the task (a timer, a select, another task) or sits in the ready
//! queue. Each coroutine's child slot names what it waits on (see
//! `object::CHILD_*`), so the chain can be walked from the task down.
//!
//! Cancelling takes the leaf out of whatever would wake it (timers and the
//! ready queue, a select's channel queues, another task's continuation), then
//! destroys the coroutines leaf first through their destroy functions, which
//! run the `defer`s pending at each suspension point, marks them cancelled
//! and empties their root areas, so everything they held becomes garbage.
//! Finally the task's awaiter, if any, is made ready: it sees the cancelled
//! state and panics with `cancelled`.
//!
//! A panic in an async function is recorded in its coroutine (the text,
//! `panic: <message>` and `at <location>`, as a string in the result slot,
//! and the panicked flag); the compiled code then runs the pending `defer`s
//! and reaches the final suspend, which resumes the awaiter. An `await` that
//! finds its callee panicked takes the panic over (`reraise`) and unwinds in
//! turn, adding `awaited at <location>` where it joins another task. A task
//! that ends panicked with nobody awaiting it (main's own, too) prints the
//! text and ends the process with status 101 (`unawaited`).

use crate::object::{
    Ref, CHILD_CALL, CHILD_JOIN, CHILD_SELECT, CHILD_TAG_MASK, PROMISE_OFFSET, PROMISE_SLOTS,
    PROMISE_STATE, SLOT_CHILD, SLOT_CONTINUATION, SLOT_RESULT, STATE_CANCELLED, STATE_PANICKED,
    STATE_SUPERVISED,
};
use crate::roots::with_roots;
use crate::{chan, output, process, sched, string};
use core::cell::UnsafeCell;
use std::collections::HashMap;

/// `tasks.Group`'s members by the coroutine that owns the group (the one
/// running when the group was made): cancelling the owner (it is in the
/// chain `cancel` destroys) cancels them. A member's link goes when it
/// ends; the members are GC roots while linked (a member blocked on
/// something nobody else references is still the owner's to cancel).
struct Links(UnsafeCell<Option<HashMap<usize, Vec<usize>>>>);

// The scheduler's thread only.
unsafe impl Sync for Links {}

static LINKS: Links = Links(UnsafeCell::new(None));

fn links() -> &'static mut HashMap<usize, Vec<usize>> {
    // SAFETY: single-threaded; no caller keeps it across a call that takes it.
    unsafe { (*LINKS.0.get()).get_or_insert_with(HashMap::new) }
}

/// Links task `member` to the coroutine `owner` (0: no owner).
pub fn link(owner: usize, member: usize) {
    if owner != 0 && member != 0 && owner != member {
        links().entry(owner).or_default().push(member);
    }
}

/// `member` ended: its link goes.
pub fn unlink(owner: usize, member: usize) {
    let l = links();
    if let Some(members) = l.get_mut(&owner) {
        members.retain(|&m| m != member);
        if members.is_empty() {
            l.remove(&owner);
        }
    }
}

/// A new coroutine frame at `handle`: links left by an earlier coroutine
/// at that address (an owner that finished) are not its own.
pub fn frame_reused(handle: usize) {
    // SAFETY: a read of the scheduler thread's own table.
    if let Some(l) = unsafe { (*LINKS.0.get()).as_mut() } {
        if !l.is_empty() {
            l.remove(&handle);
        }
    }
}

/// Every linked member (GC roots).
pub fn for_each_root(mut visit: impl FnMut(usize)) {
    // SAFETY: as in `frame_reused`.
    if let Some(l) = unsafe { (*LINKS.0.get()).as_ref() } {
        for members in l.values() {
            for &m in members {
                visit(m);
            }
        }
    }
}

#[cfg(not(test))]
use crate::abi::{weft_coro_destroy, weft_coro_done};

#[cfg(test)]
unsafe fn weft_coro_destroy(_handle: *mut u8) {}
#[cfg(test)]
unsafe fn weft_coro_done(_handle: *mut u8) -> i32 {
    0
}

unsafe fn promise(h: *mut u8) -> *mut u8 {
    h.add(PROMISE_OFFSET)
}

/// The state word (`STATE_*`) of the coroutine `h`.
pub unsafe fn state(h: *mut u8) -> *mut u64 {
    promise(h).add(PROMISE_STATE) as *mut u64
}

/// Whether the coroutine `h` has ended: finished, cancelled or panicked.
pub unsafe fn ended(h: *mut u8) -> bool {
    *state(h) & (STATE_CANCELLED | STATE_PANICKED) != 0 || weft_coro_done(h) != 0
}

unsafe fn slot(h: *mut u8, i: usize) -> *mut usize {
    promise(h).add(PROMISE_SLOTS + i * core::mem::size_of::<usize>()) as *mut usize
}

/// Cancels the task whose coroutine is `task`; `me` is the caller's own
/// coroutine (null in a synchronous function), `location` where it asked.
///
/// # Safety
/// `task` must be the handle of a task's coroutine; `me` null or a handle.
pub unsafe fn cancel(task: *mut u8, me: *mut u8, location: &[u8]) {
    if ended(task) {
        return; // Finished, panicked or cancelled already.
    }
    let mut chain = vec![task];
    loop {
        let last = *chain.last().expect("the task itself");
        if last == me {
            process::panic(b"a task cannot cancel itself", location);
        }
        let child = *slot(last, SLOT_CHILD);
        if child == 0 || child & CHILD_TAG_MASK != CHILD_CALL {
            break;
        }
        chain.push(child as *mut u8);
    }
    let leaf = *chain.last().expect("the task itself");
    let child = *slot(leaf, SLOT_CHILD);
    let target = (child & !CHILD_TAG_MASK) as *mut u8;
    match child & CHILD_TAG_MASK {
        _ if child == 0 => sched::forget(leaf),
        CHILD_JOIN => {
            // The joined task must not resume a destroyed coroutine.
            let cont = slot(target, SLOT_CONTINUATION);
            if *cont == leaf as usize {
                *cont = 0;
            }
        }
        CHILD_SELECT => chan::select_cancel(target as Ref),
        _ => {}
    }
    for &h in chain.iter().rev() {
        *state(h) |= STATE_CANCELLED;
        weft_coro_destroy(h);
        // Its root area holds nothing any more (the count is the first word).
        *(promise(h) as *mut u32) = 0;
    }
    // The groups these coroutines owned: their members go too, one at a
    // time, the others staying linked (so rooted: cancelling runs `defer`s,
    // which may collect).
    for &h in &chain {
        // In the order they were linked (spawn order).
        if let Some(members) = links().get_mut(&(h as usize)) {
            members.reverse();
        }
        while let Some(m) = links().get_mut(&(h as usize)).and_then(|v| v.pop()) {
            // Rooted while its `defer`s run: nothing else may hold it now.
            with_roots([m as Ref], |_| {
                cancel(m as *mut u8, core::ptr::null_mut(), location)
            });
        }
        links().remove(&(h as usize));
    }
    let awaiter = slot(task, SLOT_CONTINUATION);
    if *awaiter != 0 {
        let a = *awaiter as *mut u8;
        *awaiter = 0;
        sched::ready(a);
    }
}

/// Records a panic raised in the coroutine `handle`.
///
/// # Safety
/// `handle` must be the running async coroutine. May collect.
pub unsafe fn panic_in(handle: *mut u8, message: &[u8], location: &[u8]) {
    if *state(handle) & STATE_PANICKED != 0 {
        // A `defer` run by the unwinding panicked too: both are reported,
        // the first one first.
        let first = *slot(handle, SLOT_RESULT) as Ref;
        let mut again = message.to_vec();
        again.extend_from_slice(b" (while unwinding)");
        let text = process::panic_text(&again, location);
        let record = with_roots([first], |_| {
            let tail = string::from_bytes(&text);
            with_roots([tail], |_| string::concat(first, tail))
        });
        *slot(handle, SLOT_RESULT) = record as usize;
        return;
    }
    let record = string::from_bytes(&process::panic_text(message, location));
    *slot(handle, SLOT_RESULT) = record as usize;
    *state(handle) |= STATE_PANICKED;
}

/// `me` awaited `from`, which ended panicked: the panic becomes `me`'s.
///
/// # Safety
/// Both must be async coroutines; `from` panicked. May collect.
pub unsafe fn reraise(from: *mut u8, me: *mut u8, location: &[u8], joined: bool) {
    let record = *slot(from, SLOT_RESULT) as Ref;
    let record = if joined {
        let mut more = b"  awaited at ".to_vec();
        more.extend_from_slice(location);
        more.push(b'\n');
        with_roots([record], |_| {
            let tail = string::from_bytes(&more);
            with_roots([tail], |_| string::concat(record, tail))
        })
    } else {
        record
    };
    *slot(me, SLOT_RESULT) = record as usize;
    *state(me) |= STATE_PANICKED;
}

/// A panic in synchronous code ended the task whose coroutine `c` was
/// running (the scheduler's resume came back over the frames). `c` is
/// abandoned mid-body, never resumed again, its own pending `defer`s (and
/// those of the synchronous calls) lost; whoever awaits it is made ready and
/// re-raises the panic, running its own `defer`s. With nobody awaiting it,
/// the process ends with status 101.
///
/// # Safety
/// `c` must be the async coroutine that was running, its panic recorded.
pub unsafe fn abandoned(c: *mut u8) {
    let cont = slot(c, SLOT_CONTINUATION);
    if *cont == 0 {
        if *state(c) & STATE_SUPERVISED != 0 {
            return; // Its group finds it ended and re-raises the panic.
        }
        unawaited(c);
    }
    let awaiter = *cont as *mut u8;
    *cont = 0;
    sched::ready(awaiter);
}

/// The coroutine `handle` ended panicked and nobody awaits it.
///
/// # Safety
/// `handle` must be a panicked async coroutine.
pub unsafe fn unawaited(handle: *mut u8) -> ! {
    let record = *slot(handle, SLOT_RESULT) as Ref;
    output::write(output::STDERR_FD, string::bytes(record));
    process::exit(101)
}

/// What the task whose coroutine is `task` waits on, in words, following
/// its awaited calls down to the one that waits (for the deadlock report).
///
/// # Safety
/// `task` must be a suspended task's coroutine handle.
pub unsafe fn describe_wait(task: *mut u8) -> String {
    let mut h = task;
    loop {
        let child = *slot(h, SLOT_CHILD);
        let target = (child & !CHILD_TAG_MASK) as *mut u8;
        match child & CHILD_TAG_MASK {
            _ if child == 0 => return "".into(),
            CHILD_CALL => h = target,
            CHILD_JOIN => return " for a task (`await t`)".into(),
            CHILD_SELECT => return format!(" {}", chan::describe(target as Ref)),
            _ => return "".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::weft_coro_alloc;
    use crate::gc;
    use crate::object::{FRAME_PREFIX, HEADER_BYTES, POISON_DESC};
    use crate::tests::{heap_lock, node};
    use core::ptr::null_mut;

    fn alive(obj: Ref) -> bool {
        // SAFETY: tests pass heap objects.
        unsafe { !gc::is_free(obj) && (*obj).desc != POISON_DESC }
    }

    /// A suspended coroutine laid out like compiled code's: the promise's
    /// three slots form its root area (count 3 at offset `PROMISE_SLOTS`),
    /// and one more root slot holds `held`.
    unsafe fn coroutine(held: Ref) -> *mut u8 {
        let h = weft_coro_alloc(128);
        let p = promise(h);
        *(p as *mut u32) = 4;
        *(p.add(4) as *mut u32) = PROMISE_SLOTS as u32;
        *slot(h, 3) = held as usize;
        h
    }

    fn object_of(h: *mut u8) -> Ref {
        h.wrapping_sub(HEADER_BYTES + FRAME_PREFIX) as Ref
    }

    #[test]
    fn a_cancelled_task_and_the_call_it_awaits_become_garbage() {
        let _heap = heap_lock();
        sched::reset();
        // SAFETY: frames from the real allocator; the destroy function is
        // the unit tests' stand-in, which runs no code.
        unsafe {
            let (parent_data, child_data) = (
                node(null_mut(), 1, null_mut()),
                node(null_mut(), 2, null_mut()),
            );
            let child = coroutine(child_data);
            let parent = coroutine(parent_data);
            // The parent awaits the child (and holds it); the child sleeps.
            *slot(parent, SLOT_CHILD) = child as usize | CHILD_CALL;
            *slot(parent, 3 - 1) = child as usize;
            *slot(child, SLOT_CONTINUATION) = parent as usize;
            sched::sleep(1_000_000, child);
            // Whoever holds the task keeps its parent frame; the timer keeps the child.
            let task = crate::roots::with_roots([object_of(parent)], |_| {
                gc::collect_and_sweep();
                assert!(alive(parent_data) && alive(child_data) && alive(object_of(child)));
                cancel(parent, null_mut(), b"test");
                assert_eq!(*state(parent) & STATE_CANCELLED, STATE_CANCELLED);
                assert_eq!(*state(child) & STATE_CANCELLED, STATE_CANCELLED);
                assert_eq!(sched::next_deadline(), None, "the child's timer is gone");
                gc::collect_and_sweep();
                object_of(parent)
            });
            // Still held, the cancelled frame holds nothing any more.
            assert!(alive(task));
            assert!(!alive(parent_data) && !alive(child_data) && !alive(object_of(child)));
        }
    }
}
