//! Channels and `select`, with Go's semantics, over the scheduler.
//!
//! A channel is a GC object (opaque to the compiler): its element kind
//! (references or 64-bit scalars), its capacity, a ring buffer (a slots
//! buffer, of references when the elements are, so the collector traces
//! what sits in it; none for an unbuffered channel), the buffer's head and
//! length, a closed flag, and two FIFO queues of waiters: tasks blocked
//! receiving and tasks blocked sending. Values travel as their 64 bits (a
//! reference zero-extended, as everywhere in the ABI).
//!
//! Compiled code first tries an operation without blocking (`try_send`,
//! `try_recv`). When it would block, it builds a `Select` (a blocking send
//! or receive is a select of one arm): one `Waiter` per arm, then `start`,
//! which tries the arms in a random order (so no arm is starved) and, if
//! none can proceed, puts each waiter at the tail of its channel's queue,
//! registers the `after` arms' timers, and lets the task suspend. The first
//! operation of another task (or the timer) that can complete one of the
//! arms does the transfer itself, records the arm and the result in the
//! select, unlinks every other waiter of that select from its queue (queues
//! hold no stale waiters, so "is someone waiting?" is "is the queue
//! non-empty?"), makes its timers inert, and hands the task to the
//! scheduler's ready queue. Nothing here resumes a coroutine: a task only
//! ever runs from the scheduler's loop.
//!
//! Buffered channels keep the invariant that receivers wait only while the
//! buffer is empty and senders only while it is full, so a value always
//! goes to the buffer or straight to the first receiver, and the FIFO order
//! of values is the order of the sends that completed. When a receive frees
//! a slot, the first waiting sender's value moves into the buffer and that
//! sender is completed. `close` completes every waiter with "closed" (a
//! receiver gets nil, a sender panics in the compiled code); receives on a
//! closed channel drain the buffer first.
//!
//! Queues are doubly linked lists of waiters (head and tail in the channel)
//! so that unlinking the other arms of a select is O(1) per arm. A select
//! holds its task's coroutine handle, an interior pointer into a FRAME
//! object, so its descriptor is flagged `DESC_INTERIOR`; a channel with a
//! waiter thus keeps the waiting task alive, and a task blocked on channels
//! nobody can reach is garbage, as in Go.

use crate::object::{
    read_u64, ref_to_slot, slot_to_ref, write_u64, Ref, TypeDescWithPointers, DESC_INTERIOR,
};
use crate::roots::with_roots;
use crate::{abi, array, gc, process, rng, sched};
use core::ptr::null_mut;

// Payload offsets of a channel.
const CH_FLAGS: usize = 0;
const CH_CAP: usize = 8;
/// The buffer slot of the oldest value.
const CH_HEAD: usize = 16;
/// The number of buffered values.
const CH_LEN: usize = 24;
const CH_BUF: usize = 32;
const CH_RECV_HEAD: usize = 40;
const CH_RECV_TAIL: usize = 48;
const CH_SEND_HEAD: usize = 56;
const CH_SEND_TAIL: usize = 64;
const CH_BYTES: usize = 72;

/// `CH_FLAGS` bits.
const ELEM_IS_REF: u64 = 1;
const CLOSED: u64 = 2;

/// A channel: its buffer and the four ends of its queues are references.
static CHAN_DESC: TypeDescWithPointers<5> = TypeDescWithPointers::new(
    CH_BYTES as u32,
    [
        CH_BUF as u32,
        CH_RECV_HEAD as u32,
        CH_RECV_TAIL as u32,
        CH_SEND_HEAD as u32,
        CH_SEND_TAIL as u32,
    ],
);

// Payload offsets of a waiter: one arm of a select.
/// The next and previous waiters in the channel's queue.
const W_NEXT: usize = 0;
const W_PREV: usize = 8;
/// The channel (null for an `after` arm).
const W_CHAN: usize = 16;
/// The select; cleared when the select finishes, which is what makes an
/// `after` timer inert and lets the select go while the timer is pending.
const W_SELECT: usize = 24;
/// The next waiter of the same select.
const W_SIBLING: usize = 32;
/// The value to send, when the channel's elements are references.
const W_SEND_REF: usize = 40;
const W_ARM: usize = 48;
const W_OP: usize = 56;
/// The value to send, when scalar; the delay in ms of an `after` arm.
const W_BITS: usize = 64;
/// 1 while the waiter is in its channel's queue (or its timer in the
/// scheduler's heap and live).
const W_QUEUED: usize = 72;
const W_BYTES: usize = 80;

/// `W_OP` values.
const OP_RECV: u64 = 0;
const OP_SEND: u64 = 1;
const OP_AFTER: u64 = 2;

static WAITER_DESC: TypeDescWithPointers<6> = TypeDescWithPointers::new(
    W_BYTES as u32,
    [
        W_NEXT as u32,
        W_PREV as u32,
        W_CHAN as u32,
        W_SELECT as u32,
        W_SIBLING as u32,
        W_SEND_REF as u32,
    ],
);

// Payload offsets of a select.
/// The waiting task's coroutine handle (an interior pointer).
const S_HANDLE: usize = 0;
/// The first of its waiters, linked by `W_SIBLING` (null once finished).
const S_WAITERS: usize = 8;
/// A received reference (the collector traces it while it waits here).
const S_RESULT_REF: usize = 16;
const S_ARMS: usize = 24;
/// The arm that fired, or -1.
const S_FIRED: usize = 32;
const S_STATUS: usize = 40;
/// A received scalar.
const S_RESULT_BITS: usize = 48;
const S_FLAGS: usize = 56;
/// A one-arm select's waiter, kept after it finished so that `one_arm` can
/// reuse both (a task that blocks again and again allocates nothing).
const S_SPARE: usize = 64;
const S_BYTES: usize = 72;

/// `S_FLAGS` bits.
const HAS_VALUE: u64 = 1;
const VALUE_IS_REF: u64 = 2;
const CANCELLED: u64 = 4;
const STARTED: u64 = 8;

/// Completion statuses, as the ABI reports them (`weft_abi::status`).
pub const STATUS_OK: u64 = weft_abi::status::DONE as u64;
pub const STATUS_CLOSED: u64 = weft_abi::status::CLOSED as u64;

/// A select: the handle is an interior pointer, so every field is resolved
/// like a root (the others are object starts or null, which resolve to
/// themselves).
static SELECT_DESC: TypeDescWithPointers<4> = TypeDescWithPointers::new(
    S_BYTES as u32,
    [
        S_HANDLE as u32,
        S_WAITERS as u32,
        S_RESULT_REF as u32,
        S_SPARE as u32,
    ],
)
.with_flags(DESC_INTERIOR);

/// What a non-blocking send did.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SendResult {
    /// Handed to the first waiting receiver, or buffered.
    Done,
    WouldBlock,
    Closed,
}

/// What a non-blocking receive got.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RecvResult {
    Value(u64),
    /// Closed, and the buffer is empty.
    Closed,
    WouldBlock,
}

#[inline]
unsafe fn get_ref(obj: Ref, offset: usize) -> Ref {
    slot_to_ref(read_u64(obj, offset))
}

#[inline]
unsafe fn set_ref(obj: Ref, offset: usize, r: Ref) {
    write_u64(obj, offset, ref_to_slot(r))
}

#[inline]
unsafe fn field(obj: Ref, offset: usize) -> usize {
    read_u64(obj, offset) as usize
}

unsafe fn elem_is_ref(ch: Ref) -> bool {
    read_u64(ch, CH_FLAGS) & ELEM_IS_REF != 0
}

unsafe fn is_closed(ch: Ref) -> bool {
    read_u64(ch, CH_FLAGS) & CLOSED != 0
}

/// `ch.len()`: the values waiting in its buffer.
///
/// # Safety
/// `ch` must be a channel.
pub unsafe fn len(ch: Ref) -> u64 {
    read_u64(ch, CH_LEN)
}

/// `ch.cap()`.
///
/// # Safety
/// `ch` must be a channel.
pub unsafe fn cap(ch: Ref) -> u64 {
    read_u64(ch, CH_CAP)
}

/// A new empty channel of `capacity` buffered elements (0: unbuffered).
///
/// # Safety
/// May collect.
pub unsafe fn new(capacity: usize, elem_is_ref: bool) -> Ref {
    let buf = if capacity == 0 {
        null_mut()
    } else if elem_is_ref {
        array::new_slots(&abi::weft_desc_ref_slots, capacity)
    } else {
        array::new_slots(&abi::weft_desc_slots, capacity)
    };
    let ch = with_roots([buf], |_| gc::alloc(CHAN_DESC.desc(), CH_BYTES));
    write_u64(ch, CH_FLAGS, if elem_is_ref { ELEM_IS_REF } else { 0 });
    write_u64(ch, CH_CAP, capacity as u64);
    set_ref(ch, CH_BUF, buf);
    ch
}

/// The offsets of the head and tail of the queue a waiter of `op` joins.
fn queue_of(op: u64) -> (usize, usize) {
    if op == OP_SEND {
        (CH_SEND_HEAD, CH_SEND_TAIL)
    } else {
        (CH_RECV_HEAD, CH_RECV_TAIL)
    }
}

/// Appends `w` to the tail of its channel's queue.
unsafe fn enqueue(w: Ref) {
    let ch = get_ref(w, W_CHAN);
    let (head, tail) = queue_of(read_u64(w, W_OP));
    let last = get_ref(ch, tail);
    set_ref(w, W_PREV, last);
    set_ref(w, W_NEXT, null_mut());
    if last.is_null() {
        set_ref(ch, head, w);
    } else {
        set_ref(last, W_NEXT, w);
    }
    set_ref(ch, tail, w);
    write_u64(w, W_QUEUED, 1);
}

/// Takes `w` out of its channel's queue.
unsafe fn unlink(w: Ref) {
    let ch = get_ref(w, W_CHAN);
    let (head, tail) = queue_of(read_u64(w, W_OP));
    let (prev, next) = (get_ref(w, W_PREV), get_ref(w, W_NEXT));
    if prev.is_null() {
        set_ref(ch, head, next);
    } else {
        set_ref(prev, W_NEXT, next);
    }
    if next.is_null() {
        set_ref(ch, tail, prev);
    } else {
        set_ref(next, W_PREV, prev);
    }
    set_ref(w, W_PREV, null_mut());
    set_ref(w, W_NEXT, null_mut());
    write_u64(w, W_QUEUED, 0);
}

/// The first waiter of a queue (`head` is `CH_RECV_HEAD` or
/// `CH_SEND_HEAD`), taken out of it.
unsafe fn pop_waiter(ch: Ref, head: usize) -> Option<Ref> {
    let w = get_ref(ch, head);
    if w.is_null() {
        return None;
    }
    unlink(w);
    Some(w)
}

/// The value a send waiter offers.
unsafe fn send_value(w: Ref) -> u64 {
    if elem_is_ref(get_ref(w, W_CHAN)) {
        read_u64(w, W_SEND_REF)
    } else {
        read_u64(w, W_BITS)
    }
}

/// Records that `w`'s arm fired with `status` (and, for a receive, `value`)
/// in its select, and finishes the select. Does not wake its task.
unsafe fn fire(sel: Ref, w: Ref, status: u64, value: Option<u64>) {
    write_u64(sel, S_FIRED, read_u64(w, W_ARM));
    write_u64(sel, S_STATUS, status);
    if let Some(bits) = value {
        if elem_is_ref(get_ref(w, W_CHAN)) {
            write_u64(sel, S_RESULT_REF, bits);
            write_u64(
                sel,
                S_FLAGS,
                read_u64(sel, S_FLAGS) | HAS_VALUE | VALUE_IS_REF,
            );
        } else {
            write_u64(sel, S_RESULT_BITS, bits);
            write_u64(sel, S_FLAGS, read_u64(sel, S_FLAGS) | HAS_VALUE);
        }
    }
    detach(sel);
}

/// Completes the waiting select of `w` (already out of its queue): records
/// the arm, finishes the select and makes its task ready.
unsafe fn complete(w: Ref, status: u64, value: Option<u64>) {
    let sel = get_ref(w, W_SELECT);
    fire(sel, w, status, value);
    sched::ready(field(sel, S_HANDLE) as *mut u8);
}

/// Cuts a select loose from its waiters: each is taken out of its queue,
/// each registered timer becomes inert, and the list is dropped, so nothing
/// can complete the select again and its waiters become garbage (a pending
/// timer still holds its own waiter, but no longer the select).
unsafe fn detach(sel: Ref) {
    let mut w = get_ref(sel, S_WAITERS);
    set_ref(sel, S_WAITERS, null_mut());
    while !w.is_null() {
        // Cleared first: the scheduler may look at this timer's liveness
        // while it is told about it.
        set_ref(w, W_SELECT, null_mut());
        if read_u64(w, W_QUEUED) != 0 {
            if read_u64(w, W_OP) == OP_AFTER {
                write_u64(w, W_QUEUED, 0);
                sched::timer_became_inert();
            } else {
                unlink(w);
            }
        }
        let next = get_ref(w, W_SIBLING);
        set_ref(w, W_SIBLING, null_mut());
        w = next;
    }
}

/// Sends without blocking. Never allocates.
///
/// # Safety
/// `ch` must be a channel and `bits` of its element kind.
pub unsafe fn try_send(ch: Ref, bits: u64) -> SendResult {
    if is_closed(ch) {
        return SendResult::Closed;
    }
    if let Some(w) = pop_waiter(ch, CH_RECV_HEAD) {
        // A receiver waits only while the buffer is empty: it is next in line.
        complete(w, STATUS_OK, Some(bits));
        return SendResult::Done;
    }
    let (cap, len) = (field(ch, CH_CAP), field(ch, CH_LEN));
    if len == cap {
        return SendResult::WouldBlock;
    }
    let slot = (field(ch, CH_HEAD) + len) % cap;
    write_u64(get_ref(ch, CH_BUF), 8 + 8 * slot, bits);
    write_u64(ch, CH_LEN, len as u64 + 1);
    SendResult::Done
}

/// Receives without blocking. Never allocates.
///
/// # Safety
/// `ch` must be a channel.
pub unsafe fn try_recv(ch: Ref) -> RecvResult {
    let len = field(ch, CH_LEN);
    if len > 0 {
        let (buf, cap, head) = (get_ref(ch, CH_BUF), field(ch, CH_CAP), field(ch, CH_HEAD));
        let value = read_u64(buf, 8 + 8 * head);
        // Cleared, so the buffer does not keep a received object alive.
        write_u64(buf, 8 + 8 * head, 0);
        let head = (head + 1) % cap;
        write_u64(ch, CH_HEAD, head as u64);
        write_u64(ch, CH_LEN, len as u64 - 1);
        if let Some(w) = pop_waiter(ch, CH_SEND_HEAD) {
            // The slot just freed goes to the first waiting sender.
            write_u64(buf, 8 + 8 * ((head + len - 1) % cap), send_value(w));
            write_u64(ch, CH_LEN, len as u64);
            complete(w, STATUS_OK, None);
        }
        return RecvResult::Value(value);
    }
    if let Some(w) = pop_waiter(ch, CH_SEND_HEAD) {
        // Unbuffered: take the value straight from the first sender.
        let value = send_value(w);
        complete(w, STATUS_OK, None);
        return RecvResult::Value(value);
    }
    if is_closed(ch) {
        RecvResult::Closed
    } else {
        RecvResult::WouldBlock
    }
}

/// Closes `ch`: every waiting receiver and sender is completed with
/// "closed". Returns false if it was closed already. Never allocates.
///
/// # Safety
/// `ch` must be a channel.
pub unsafe fn close(ch: Ref) -> bool {
    if is_closed(ch) {
        return false;
    }
    write_u64(ch, CH_FLAGS, read_u64(ch, CH_FLAGS) | CLOSED);
    // Completing a waiter unlinks its select's other waiters, which may be
    // in these same queues: take the head afresh each time.
    for head in [CH_RECV_HEAD, CH_SEND_HEAD] {
        while let Some(w) = pop_waiter(ch, head) {
            complete(w, STATUS_CLOSED, None);
        }
    }
    true
}

/// A new select of `arms` arms for the task whose coroutine is `handle`;
/// its arms are added with `add_arm`.
///
/// # Safety
/// May collect. `handle` must be the running task's coroutine handle (the
/// scheduler roots it while the allocation may collect).
pub unsafe fn select_new(arms: usize, handle: *mut u8) -> Ref {
    let sel = gc::alloc(SELECT_DESC.desc(), S_BYTES);
    write_u64(sel, S_HANDLE, handle as usize as u64);
    write_u64(sel, S_ARMS, arms as u64);
    write_u64(sel, S_FIRED, -1i64 as u64);
    sel
}

/// What a waiting select waits for, in words (for the deadlock report).
///
/// # Safety
/// `sel` must be a select.
pub unsafe fn describe(sel: Ref) -> String {
    let mut ops = Vec::new();
    let mut w = get_ref(sel, S_WAITERS);
    while !w.is_null() {
        ops.push(read_u64(w, W_OP));
        w = get_ref(w, W_SIBLING);
    }
    match ops.as_slice() {
        [OP_RECV] => "to receive from a channel (`await ch.recv()`)".into(),
        [OP_SEND] => "to send on a channel (`await ch.send(v)`)".into(),
        _ => format!("in a `select` of {} arms", ops.len()),
    }
}

/// A one-arm select for a blocking `send` or `recv`, not started: `cache`
/// again, reset, when it is a finished one-arm select (the compiled code
/// keeps its last one per coroutine), or a new one.
///
/// # Safety
/// May collect (only when it makes a new one). `cache` must be null or a
/// select this coroutine made with `one_arm`; `what` as for `add_arm`.
pub unsafe fn one_arm(cache: Ref, handle: *mut u8, what: Arm) -> Ref {
    let reusable = !cache.is_null()
        && field(cache, S_ARMS) == 1
        && (read_u64(cache, S_FIRED) as i64) >= 0
        && read_u64(cache, S_FLAGS) & CANCELLED == 0
        && get_ref(cache, S_WAITERS).is_null()
        && !get_ref(cache, S_SPARE).is_null();
    if !reusable {
        let fields = ArmFields::of(what);
        // The value sent may be a reference: kept alive until the waiter holds it.
        let sel = with_roots([fields.ch, fields.sent_ref], |_| select_new(1, handle));
        add_arm(sel, 0, what);
        set_ref(sel, S_SPARE, get_ref(sel, S_WAITERS));
        return sel;
    }
    let w = get_ref(cache, S_SPARE);
    write_u64(cache, S_HANDLE, handle as usize as u64);
    set_ref(cache, S_RESULT_REF, null_mut());
    write_u64(cache, S_FIRED, -1i64 as u64);
    write_u64(cache, S_STATUS, 0);
    write_u64(cache, S_RESULT_BITS, 0);
    write_u64(cache, S_FLAGS, 0);
    ArmFields::of(what).fill(w, cache, 0);
    set_ref(cache, S_WAITERS, w);
    cache
}

/// What a waiter records of its arm.
struct ArmFields {
    op: u64,
    /// Null for an `after` arm.
    ch: Ref,
    /// The value sent, when the channel's elements are references.
    sent_ref: Ref,
    /// The value sent when scalar; an `after` arm's delay in ms.
    bits: u64,
}

impl ArmFields {
    unsafe fn of(what: Arm) -> ArmFields {
        let (op, ch, sent_ref, bits) = match what {
            Arm::Recv(ch) => (OP_RECV, ch, null_mut(), 0),
            Arm::Send(ch, bits) if !ch.is_null() && elem_is_ref(ch) => {
                (OP_SEND, ch, slot_to_ref(bits), 0)
            }
            Arm::Send(ch, bits) => (OP_SEND, ch, null_mut(), bits),
            Arm::After(ms) => (OP_AFTER, null_mut(), null_mut(), ms as u64),
        };
        ArmFields {
            op,
            ch,
            sent_ref,
            bits,
        }
    }

    /// Makes `w` the waiter of arm number `arm` of `sel`, in no queue and in
    /// no select's list yet.
    unsafe fn fill(&self, w: Ref, sel: Ref, arm: usize) {
        set_ref(w, W_NEXT, null_mut());
        set_ref(w, W_PREV, null_mut());
        set_ref(w, W_CHAN, self.ch);
        set_ref(w, W_SELECT, sel);
        set_ref(w, W_SIBLING, null_mut());
        set_ref(w, W_SEND_REF, self.sent_ref);
        write_u64(w, W_ARM, arm as u64);
        write_u64(w, W_OP, self.op);
        write_u64(w, W_BITS, self.bits);
        write_u64(w, W_QUEUED, 0);
    }
}

/// What an arm does.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Arm {
    /// Receive from the channel.
    Recv(Ref),
    /// Send these bits on the channel.
    Send(Ref, u64),
    /// Fire after this many milliseconds.
    After(i64),
}

/// Adds arm number `arm` to a select that has not started: a new waiter,
/// not in any queue yet.
///
/// # Safety
/// May collect. `sel` must be a select, each arm number given once, a
/// channel a channel (or null: an arm that never proceeds, like Go's nil
/// channel) and a value sent of its element kind.
pub unsafe fn add_arm(sel: Ref, arm: usize, what: Arm) {
    if arm >= field(sel, S_ARMS) {
        process::fatal("a select arm number beyond its arm count");
    }
    let fields = ArmFields::of(what);
    let w = with_roots([sel, fields.ch, fields.sent_ref], |_| {
        gc::alloc(WAITER_DESC.desc(), W_BYTES)
    });
    fields.fill(w, sel, arm);
    set_ref(w, W_SIBLING, get_ref(sel, S_WAITERS));
    set_ref(sel, S_WAITERS, w);
}

/// Starts a select: tries its arms in a uniformly random order and performs
/// the first that can proceed (recording it in the select), returning its
/// arm number; if none can, puts its waiters in their queues, registers its
/// timers and returns -1 (the task then suspends until an arm fires and the
/// scheduler resumes it). Starting a select again only returns its fired
/// arm (-1 while it waits, or once cancelled); a select with no arm (or only
/// nil channels) waits for ever, like Go's `select {}`. Never allocates.
///
/// # Safety
/// `sel` must be a select whose arms have been added.
/// Fires the first arm of `waiters` (in their order) that can complete now;
/// its arm index, or `None` when every one would block.
unsafe fn try_arms(sel: Ref, waiters: &[Ref]) -> Option<i64> {
    for &w in waiters.iter() {
        let ch = get_ref(w, W_CHAN);
        let outcome = match read_u64(w, W_OP) {
            OP_AFTER if (read_u64(w, W_BITS) as i64) <= 0 => Some((STATUS_OK, None)),
            OP_AFTER => None,
            _ if ch.is_null() => None,
            OP_RECV => match try_recv(ch) {
                RecvResult::Value(v) => Some((STATUS_OK, Some(v))),
                RecvResult::Closed => Some((STATUS_CLOSED, None)),
                RecvResult::WouldBlock => None,
            },
            _ => match try_send(ch, send_value(w)) {
                SendResult::Done => Some((STATUS_OK, None)),
                SendResult::Closed => Some((STATUS_CLOSED, None)),
                SendResult::WouldBlock => None,
            },
        };
        if let Some((status, value)) = outcome {
            fire(sel, w, status, value);
            return Some(read_u64(w, W_ARM) as i64);
        }
    }
    None
}

/// `select` with `default`: like `select_start`, but when no arm is ready
/// nothing is queued and the answer is -1 (the `default` arm runs).
pub unsafe fn select_poll(sel: Ref) -> i64 {
    let flags = read_u64(sel, S_FLAGS);
    write_u64(sel, S_FLAGS, flags | STARTED);
    // On the stack when there are few, as in `select_start` (a polling
    // loop comes through here on every turn).
    let mut on_stack = [null_mut(); 8];
    let mut on_heap = Vec::new();
    let mut n = 0;
    let mut w = get_ref(sel, S_WAITERS);
    while !w.is_null() {
        if n < on_stack.len() {
            on_stack[n] = w;
        } else {
            if on_heap.is_empty() {
                on_heap.extend_from_slice(&on_stack);
            }
            on_heap.push(w);
        }
        n += 1;
        w = get_ref(w, W_SIBLING);
    }
    let waiters: &mut [Ref] = if n <= on_stack.len() {
        &mut on_stack[..n]
    } else {
        &mut on_heap
    };
    for i in (1..waiters.len()).rev() {
        waiters.swap(i, rng::below(i + 1));
    }
    try_arms(sel, waiters).unwrap_or(-1)
}

pub unsafe fn select_start(sel: Ref) -> i64 {
    let flags = read_u64(sel, S_FLAGS);
    if flags & (STARTED | CANCELLED) != 0 {
        // Its waiters are queued, or it has finished: nothing to try again.
        return select_fired(sel);
    }
    write_u64(sel, S_FLAGS, flags | STARTED);
    // The arms, on the stack when there are few (no malloc per operation:
    // every blocking send and receive comes through here).
    let mut n = 0;
    let mut w = get_ref(sel, S_WAITERS);
    while !w.is_null() {
        n += 1;
        w = get_ref(w, W_SIBLING);
    }
    let mut on_stack = [null_mut(); 8];
    let mut on_heap = Vec::new();
    let waiters: &mut [Ref] = if n <= on_stack.len() {
        &mut on_stack[..n]
    } else {
        on_heap.resize(n, null_mut());
        &mut on_heap
    };
    let mut w = get_ref(sel, S_WAITERS);
    for slot in waiters.iter_mut() {
        *slot = w;
        w = get_ref(w, W_SIBLING);
    }
    // Fisher-Yates: every order of the arms is equally likely.
    for i in (1..waiters.len()).rev() {
        waiters.swap(i, rng::below(i + 1));
    }
    if let Some(arm) = try_arms(sel, waiters) {
        return arm;
    }
    for &w in waiters.iter() {
        if read_u64(w, W_OP) == OP_AFTER {
            sched::after(read_u64(w, W_BITS) as i64, w);
            write_u64(w, W_QUEUED, 1);
        } else if !get_ref(w, W_CHAN).is_null() {
            enqueue(w);
        }
    }
    -1
}

/// The arm that fired, or -1.
///
/// # Safety
/// `sel` must be a select.
pub unsafe fn select_fired(sel: Ref) -> i64 {
    read_u64(sel, S_FIRED) as i64
}

/// The fired arm's status, and the value it received (a receive that got
/// one).
///
/// # Safety
/// `sel` must be a select.
pub unsafe fn select_result(sel: Ref) -> (u64, Option<u64>) {
    let flags = read_u64(sel, S_FLAGS);
    let value = if flags & HAS_VALUE == 0 {
        None
    } else if flags & VALUE_IS_REF != 0 {
        Some(read_u64(sel, S_RESULT_REF))
    } else {
        Some(read_u64(sel, S_RESULT_BITS))
    };
    (read_u64(sel, S_STATUS), value)
}

/// Cancels a select that has not fired (its task is being cancelled): its
/// waiters leave their queues and its timers become inert; nothing will
/// wake its task for it. Never allocates.
///
/// # Safety
/// `sel` must be a select.
pub unsafe fn select_cancel(sel: Ref) {
    if select_fired(sel) < 0 {
        write_u64(sel, S_FLAGS, read_u64(sel, S_FLAGS) | CANCELLED);
    }
    detach(sel);
}

/// Whether the `after` timer of `waiter` can still fire (its select is
/// waiting). Never allocates.
///
/// # Safety
/// `waiter` must be a live waiter object.
pub unsafe fn timer_is_live(waiter: Ref) -> bool {
    let sel = get_ref(waiter, W_SELECT);
    !sel.is_null() && select_fired(sel) < 0 && read_u64(sel, S_FLAGS) & CANCELLED == 0
}

/// The `after` timer of `waiter` is due: completes its select with that arm
/// (its task becomes ready) and returns true, or returns false if the timer
/// was inert.
///
/// # Safety
/// `waiter` must be a live waiter object.
pub unsafe fn timer_due(waiter: Ref) -> bool {
    if !timer_is_live(waiter) {
        return false;
    }
    // Out of the heap already: not to be reported inert by `detach`.
    write_u64(waiter, W_QUEUED, 0);
    complete(waiter, STATUS_OK, None);
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::{
        weft_chan_close, weft_chan_new, weft_chan_try_recv, weft_chan_try_send, weft_coro_alloc,
        weft_select_after, weft_select_cancel, weft_select_fired, weft_select_new,
        weft_select_recv, weft_select_result, weft_select_send, weft_select_start,
    };
    use crate::object::{FRAME_PREFIX, HEADER_BYTES, POISON_DESC};
    use crate::tests::{heap_lock, node, value};
    use crate::{platform, sched};
    use weft_abi::status;

    /// Distinct fake coroutine handles (outside the heap) for selects whose
    /// tasks never run.
    fn handle(n: usize) -> *mut u8 {
        (0x1000 * n) as *mut u8
    }

    fn alive(obj: Ref) -> bool {
        // SAFETY: tests pass heap objects.
        unsafe { !gc::is_free(obj) && (*obj).desc != POISON_DESC }
    }

    /// Runs `f` with a rooted reference array: what `keep` is given stays
    /// alive until `f` returns.
    fn with_keep<R>(f: impl FnOnce(&dyn Fn(Ref) -> Ref) -> R) -> R {
        // SAFETY: the array is rooted by the frame; `push` roots the value.
        unsafe {
            let keep = array::new(true, 16);
            with_roots([keep], |_| {
                f(&|r: Ref| {
                    array::push(keep, ref_to_slot(r));
                    r
                })
            })
        }
    }

    /// A select of one arm, started: it must block. `keep` holds it.
    unsafe fn blocked(keep: &dyn Fn(Ref) -> Ref, h: usize, what: Arm) -> Ref {
        let sel = keep(select_new(1, handle(h)));
        add_arm(sel, 0, what);
        assert_eq!(select_start(sel), -1);
        sel
    }

    unsafe fn queue_len(ch: Ref, head: usize) -> usize {
        let mut n = 0;
        let mut w = get_ref(ch, head);
        while !w.is_null() {
            n += 1;
            w = get_ref(w, W_NEXT);
        }
        n
    }

    unsafe fn queues_empty(ch: Ref) -> bool {
        [CH_RECV_HEAD, CH_RECV_TAIL, CH_SEND_HEAD, CH_SEND_TAIL]
            .iter()
            .all(|&q| get_ref(ch, q).is_null())
    }

    fn handles(ns: &[usize]) -> Vec<usize> {
        ns.iter().map(|&n| handle(n) as usize).collect()
    }

    #[test]
    fn a_finished_one_arm_select_is_reused_and_an_unfinished_one_is_not() {
        let _heap = heap_lock();
        with_keep(|keep| unsafe {
            let ch = keep(new(0, false));
            let first = keep(one_arm(null_mut(), handle(1), Arm::Recv(ch)));
            assert_eq!(select_start(first), -1);
            // Still waiting: a second blocking operation needs its own.
            let other = keep(one_arm(first, handle(2), Arm::Recv(ch)));
            assert_ne!(other, first);
            assert_eq!(select_start(other), -1);
            assert_eq!(try_send(ch, 5), SendResult::Done);
            assert_eq!(select_result(first), (STATUS_OK, Some(5)));
            // Finished: the same select and waiter come back, reset, and work
            // in the other direction too.
            let again = one_arm(first, handle(1), Arm::Send(ch, 9));
            assert_eq!(again, first);
            assert_eq!(select_fired(again), -1);
            assert_eq!(select_start(again), 0, "`other` is waiting to receive");
            assert_eq!(select_result(other), (STATUS_OK, Some(9)));
            assert_eq!(sched::take_ready(), handles(&[1, 2]));
            assert!(queues_empty(ch));
        });
    }

    #[test]
    fn an_unbuffered_channel_hands_values_over_in_both_directions() {
        let _heap = heap_lock();
        with_keep(|keep| unsafe {
            let ch = keep(new(0, false));
            assert_eq!(try_recv(ch), RecvResult::WouldBlock);
            assert_eq!(try_send(ch, 1), SendResult::WouldBlock);

            // A receiver waits; a send completes it and makes it ready.
            let r = blocked(keep, 1, Arm::Recv(ch));
            assert_eq!(queue_len(ch, CH_RECV_HEAD), 1);
            assert!(sched::take_ready().is_empty());
            assert_eq!(try_send(ch, 42), SendResult::Done);
            assert_eq!(sched::take_ready(), handles(&[1]));
            assert_eq!(select_fired(r), 0);
            assert_eq!(select_result(r), (STATUS_OK, Some(42)));
            assert!(queues_empty(ch));

            // A sender waits; a receive takes its value and makes it ready.
            let s = blocked(keep, 2, Arm::Send(ch, (-7i64) as u64));
            assert_eq!(queue_len(ch, CH_SEND_HEAD), 1);
            assert_eq!(try_recv(ch), RecvResult::Value((-7i64) as u64));
            assert_eq!(sched::take_ready(), handles(&[2]));
            assert_eq!(select_fired(s), 0);
            assert_eq!(select_result(s), (STATUS_OK, None));
            assert!(queues_empty(ch));
            assert_eq!(try_recv(ch), RecvResult::WouldBlock);
        });
    }

    #[test]
    fn a_buffered_channel_is_first_in_first_out_and_blocks_when_full_or_empty() {
        let _heap = heap_lock();
        with_keep(|keep| unsafe {
            let ch = keep(new(3, false));
            assert_eq!(try_recv(ch), RecvResult::WouldBlock);
            let mut next_in = 0u64;
            let mut next_out = 0u64;
            // Fill, drain part, refill: the ring wraps around many times.
            for round in 0..50 {
                while try_send(ch, next_in) == SendResult::Done {
                    next_in += 1;
                }
                assert_eq!(next_in - next_out, 3, "round {round}: full at 3");
                for _ in 0..(round % 3 + 1) {
                    assert_eq!(try_recv(ch), RecvResult::Value(next_out));
                    next_out += 1;
                }
            }
            while let RecvResult::Value(v) = try_recv(ch) {
                assert_eq!(v, next_out);
                next_out += 1;
            }
            assert_eq!(next_out, next_in);
            assert_eq!(try_recv(ch), RecvResult::WouldBlock);
            assert!(sched::take_ready().is_empty());
        });
    }

    #[test]
    fn waiting_senders_are_served_in_order() {
        let _heap = heap_lock();
        with_keep(|keep| unsafe {
            // Buffered: each receive moves the first sender's value in.
            let ch = keep(new(1, false));
            assert_eq!(try_send(ch, 10), SendResult::Done);
            for (h, v) in [(1, 11), (2, 12), (3, 13)] {
                blocked(keep, h, Arm::Send(ch, v));
            }
            for (expected, woken) in [(10, 1), (11, 2), (12, 3)] {
                assert_eq!(try_recv(ch), RecvResult::Value(expected));
                assert_eq!(sched::take_ready(), handles(&[woken]));
                assert_eq!(field(ch, CH_LEN), 1);
            }
            assert_eq!(try_recv(ch), RecvResult::Value(13));
            assert_eq!(try_recv(ch), RecvResult::WouldBlock);
            assert!(queues_empty(ch));

            // Unbuffered: straight from each sender, in order.
            let ch = keep(new(0, false));
            for (h, v) in [(4, 40), (5, 50), (6, 60)] {
                blocked(keep, h, Arm::Send(ch, v));
            }
            for v in [40, 50, 60] {
                assert_eq!(try_recv(ch), RecvResult::Value(v));
            }
            assert_eq!(sched::take_ready(), handles(&[4, 5, 6]));
        });
    }

    #[test]
    fn waiting_receivers_are_served_in_order() {
        let _heap = heap_lock();
        with_keep(|keep| unsafe {
            for capacity in [0, 2] {
                let ch = keep(new(capacity, false));
                let sels: Vec<Ref> = (1..=3).map(|h| blocked(keep, h, Arm::Recv(ch))).collect();
                assert_eq!(queue_len(ch, CH_RECV_HEAD), 3);
                for v in [100, 200, 300] {
                    assert_eq!(try_send(ch, v), SendResult::Done);
                }
                // Handed over, not buffered.
                assert_eq!(field(ch, CH_LEN), 0);
                assert_eq!(sched::take_ready(), handles(&[1, 2, 3]));
                for (sel, v) in sels.iter().zip([100, 200, 300]) {
                    assert_eq!(select_result(*sel), (STATUS_OK, Some(v)));
                }
                assert!(queues_empty(ch));
            }
        });
    }

    #[test]
    fn close_wakes_every_waiter_and_receives_drain_the_buffer() {
        let _heap = heap_lock();
        with_keep(|keep| unsafe {
            let ch = keep(weft_chan_new(0, 0, core::ptr::null(), 0));
            let r1 = blocked(keep, 1, Arm::Recv(ch));
            let r2 = blocked(keep, 2, Arm::Recv(ch));
            assert_eq!(weft_chan_close(ch), status::DONE);
            assert_eq!(weft_chan_close(ch), status::CLOSED);
            assert_eq!(sched::take_ready(), handles(&[1, 2]));
            for sel in [r1, r2] {
                assert_eq!(select_fired(sel), 0);
                assert_eq!(select_result(sel), (STATUS_CLOSED, None));
            }
            assert!(queues_empty(ch));
            let mut out = 5i64;
            assert_eq!(weft_chan_try_recv(ch, &mut out), status::CLOSED);
            assert_eq!(out, 5);
            assert_eq!(weft_chan_try_send(ch, 1), status::CLOSED);

            // Senders blocked on a full buffer get "closed"; the buffer
            // still drains, then receives report "closed".
            let ch = keep(weft_chan_new(2, 0, core::ptr::null(), 0));
            assert_eq!(weft_chan_try_send(ch, 1), status::DONE);
            assert_eq!(weft_chan_try_send(ch, 2), status::DONE);
            assert_eq!(weft_chan_try_send(ch, 3), status::WOULD_BLOCK);
            let s1 = blocked(keep, 3, Arm::Send(ch, 3));
            let s2 = blocked(keep, 4, Arm::Send(ch, 4));
            assert_eq!(weft_chan_close(ch), status::DONE);
            assert_eq!(sched::take_ready(), handles(&[3, 4]));
            for sel in [s1, s2] {
                assert_eq!(select_result(sel), (STATUS_CLOSED, None));
            }
            assert_eq!(weft_chan_try_send(ch, 5), status::CLOSED);
            for expected in [1, 2] {
                assert_eq!(weft_chan_try_recv(ch, &mut out), status::DONE);
                assert_eq!(out, expected);
            }
            assert_eq!(weft_chan_try_recv(ch, &mut out), status::CLOSED);
            assert!(sched::take_ready().is_empty());

            // A select on a closed channel is ready at once, with "closed".
            let sel = keep(select_new(2, handle(5)));
            add_arm(sel, 0, Arm::Recv(ch));
            add_arm(sel, 1, Arm::Send(ch, 9));
            let arm = select_start(sel);
            assert!(arm == 0 || arm == 1);
            assert_eq!(select_result(sel), (STATUS_CLOSED, None));
        });
    }

    #[test]
    fn select_picks_among_ready_arms_at_random() {
        let _heap = heap_lock();
        with_keep(|keep| unsafe {
            let ready_recv = keep(new(1, false));
            let ready_send = keep(new(1, false));
            let never = keep(new(0, false));
            assert_eq!(try_send(ready_recv, 77), SendResult::Done);
            let mut picks = [0u32; 4];
            for _ in 0..1000 {
                let sel = weft_select_new(4, handle(1));
                with_roots([sel], |_| {
                    weft_select_recv(sel, 0, ready_recv);
                    weft_select_send(sel, 1, ready_send, 5);
                    weft_select_after(sel, 2, 0);
                    weft_select_recv(sel, 3, never);
                });
                let arm = weft_select_start(sel);
                assert_eq!(weft_select_fired(sel), arm);
                let mut out = -1i64;
                assert_eq!(weft_select_result(sel, &mut out), 0);
                match arm {
                    0 => {
                        assert_eq!(out, 77);
                        assert_eq!(try_send(ready_recv, 77), SendResult::Done);
                    }
                    1 => {
                        assert_eq!(out, -1, "a send receives nothing");
                        assert_eq!(try_recv(ready_send), RecvResult::Value(5));
                    }
                    2 => assert_eq!(out, -1),
                    _ => panic!("arm {arm} cannot proceed"),
                }
                picks[arm as usize] += 1;
                // Nothing was queued, nothing woken.
                assert!(queues_empty(never));
            }
            assert!(picks[..3].iter().all(|&n| n > 0), "{picks:?}");
            assert!(sched::take_ready().is_empty());
        });
    }

    #[test]
    fn a_completed_select_leaves_no_waiter_behind() {
        let _heap = heap_lock();
        with_keep(|keep| unsafe {
            let (a, b, c) = (
                keep(new(0, false)),
                keep(new(0, false)),
                keep(new(1, false)),
            );
            assert_eq!(try_send(c, 1), SendResult::Done);
            let sel = keep(select_new(3, handle(1)));
            add_arm(sel, 0, Arm::Recv(a));
            add_arm(sel, 1, Arm::Recv(b));
            add_arm(sel, 2, Arm::Send(c, 2));
            assert_eq!(select_start(sel), -1);
            assert_eq!(queue_len(a, CH_RECV_HEAD), 1);
            assert_eq!(queue_len(b, CH_RECV_HEAD), 1);
            assert_eq!(queue_len(c, CH_SEND_HEAD), 1);
            assert_eq!(try_send(b, 8), SendResult::Done);
            assert_eq!(select_fired(sel), 1);
            assert_eq!(select_result(sel), (STATUS_OK, Some(8)));
            assert_eq!(sched::take_ready(), handles(&[1]));
            assert!(queues_empty(a) && queues_empty(b) && queues_empty(c));
            assert_eq!(try_send(a, 1), SendResult::WouldBlock);
            // The send arm did not happen: `c` still holds only its 1.
            assert_eq!(try_recv(c), RecvResult::Value(1));
            assert_eq!(try_recv(c), RecvResult::WouldBlock);
            // Starting it again does nothing more.
            assert_eq!(select_start(sel), 1);
            assert!(queues_empty(a));

            // Unlinking from the middle of a queue keeps it in order.
            let first = blocked(keep, 2, Arm::Recv(a));
            let sel = keep(select_new(2, handle(3)));
            add_arm(sel, 0, Arm::Recv(a));
            add_arm(sel, 1, Arm::Recv(b));
            assert_eq!(select_start(sel), -1);
            let last = blocked(keep, 4, Arm::Recv(a));
            assert_eq!(queue_len(a, CH_RECV_HEAD), 3);
            assert_eq!(try_send(b, 9), SendResult::Done);
            assert_eq!(queue_len(a, CH_RECV_HEAD), 2);
            assert_eq!(try_send(a, 10), SendResult::Done);
            assert_eq!(try_send(a, 11), SendResult::Done);
            assert_eq!(select_result(first), (STATUS_OK, Some(10)));
            assert_eq!(select_result(last), (STATUS_OK, Some(11)));
            assert_eq!(sched::take_ready(), handles(&[3, 2, 4]));
            assert!(queues_empty(a) && queues_empty(b));
        });
    }

    #[test]
    fn an_after_arm_fires_by_the_timer_and_the_others_go_inert() {
        let _heap = heap_lock();
        with_keep(|keep| unsafe {
            let ch = keep(new(0, false));
            let start = platform::now_ms();
            let sel = keep(select_new(3, handle(1)));
            add_arm(sel, 0, Arm::Recv(ch));
            add_arm(sel, 1, Arm::After(20));
            add_arm(sel, 2, Arm::After(10_000));
            assert_eq!(select_start(sel), -1);
            let deadline = sched::next_deadline().unwrap();
            assert!(deadline >= start + 20.0 && deadline <= platform::now_ms() + 20.0);
            sched::move_due_timers(deadline - 1.0);
            assert_eq!(select_fired(sel), -1);
            sched::move_due_timers(deadline);
            assert_eq!(select_fired(sel), 1);
            assert_eq!(select_result(sel), (STATUS_OK, None));
            assert_eq!(sched::take_ready(), handles(&[1]));
            assert!(queues_empty(ch));
            // The 10 s timer is still in the heap, but inert: not reported.
            assert_eq!(sched::timer_count(), 1);
            assert_eq!(sched::next_deadline(), None);
            assert_eq!(sched::timer_count(), 0);

            // Completed by its channel: the timer goes inert.
            let sel = keep(select_new(2, handle(2)));
            add_arm(sel, 0, Arm::After(10_000));
            add_arm(sel, 1, Arm::Recv(ch));
            assert_eq!(select_start(sel), -1);
            assert_eq!(try_send(ch, 3), SendResult::Done);
            assert_eq!(select_fired(sel), 1);
            assert_eq!(sched::next_deadline(), None);
            // Firing a timer that went inert does nothing.
            let sel = keep(select_new(2, handle(3)));
            add_arm(sel, 0, Arm::After(5));
            add_arm(sel, 1, Arm::Recv(ch));
            assert_eq!(select_start(sel), -1);
            assert_eq!(try_send(ch, 4), SendResult::Done);
            assert_eq!(sched::take_ready(), handles(&[2, 3]));
            sched::move_due_timers(platform::now_ms() + 10.0);
            assert!(sched::take_ready().is_empty());
            assert_eq!(select_fired(sel), 1);
            assert_eq!(sched::timer_count(), 0);
        });
    }

    #[test]
    fn inert_timers_do_not_pile_up() {
        let _heap = heap_lock();
        with_keep(|keep| unsafe {
            let ch = keep(new(0, false));
            for i in 0..1000 {
                let sel = select_new(2, handle(1));
                with_roots([sel], |_| {
                    add_arm(sel, 0, Arm::Recv(ch));
                    add_arm(sel, 1, Arm::After(1_000_000 + i));
                });
                assert_eq!(select_start(sel), -1);
                assert_eq!(try_send(ch, i as u64), SendResult::Done);
                assert!(sched::timer_count() <= 2 * COMPACT_MIN, "{i}");
            }
            sched::take_ready();
            assert_eq!(sched::next_deadline(), None);
        });
    }

    /// Mirrors the scheduler's compaction threshold, for the test above.
    const COMPACT_MIN: usize = 64;

    #[test]
    fn cancel_unlinks_every_waiter_and_silences_the_timers() {
        let _heap = heap_lock();
        with_keep(|keep| unsafe {
            let (a, b) = (keep(new(0, false)), keep(new(0, true)));
            let sel = keep(select_new(3, handle(1)));
            add_arm(sel, 0, Arm::Recv(a));
            add_arm(sel, 1, Arm::Send(b, 0));
            add_arm(sel, 2, Arm::After(50));
            assert_eq!(select_start(sel), -1);
            assert!(!queues_empty(a) && !queues_empty(b));
            assert!(sched::next_deadline().is_some());
            weft_select_cancel(sel);
            assert!(queues_empty(a) && queues_empty(b));
            assert_eq!(sched::next_deadline(), None);
            assert_eq!(try_send(a, 1), SendResult::WouldBlock);
            assert_eq!(try_recv(b), RecvResult::WouldBlock);
            sched::move_due_timers(platform::now_ms() + 100.0);
            assert!(sched::take_ready().is_empty());
            assert_eq!(select_fired(sel), -1);
            assert_eq!(select_start(sel), -1, "a cancelled select stays put");
            assert!(queues_empty(a));
            // Cancelling again, or a finished select, is harmless.
            weft_select_cancel(sel);
            let done = blocked(keep, 2, Arm::Recv(a));
            assert_eq!(try_send(a, 3), SendResult::Done);
            weft_select_cancel(done);
            assert_eq!(select_result(done), (STATUS_OK, Some(3)));
        });
    }

    #[test]
    fn buffered_references_live_while_buffered() {
        let _heap = heap_lock();
        // SAFETY: a channel of references, rooted while it is used.
        unsafe {
            let ch = new(3, true);
            let (buf, first, second) = with_roots([ch], |_| {
                let first = node(null_mut(), 1, null_mut());
                assert_eq!(try_send(ch, ref_to_slot(first)), SendResult::Done);
                let second = node(null_mut(), 2, null_mut());
                assert_eq!(try_send(ch, ref_to_slot(second)), SendResult::Done);
                gc::collect_and_sweep();
                assert!(alive(first) && alive(second));
                let RecvResult::Value(v) = try_recv(ch) else {
                    panic!("a value is buffered")
                };
                assert_eq!(value(slot_to_ref(v)), 1);
                // Received and dropped: the buffer no longer holds it.
                gc::collect_and_sweep();
                assert!(!alive(first) && alive(second));
                (get_ref(ch, CH_BUF), first, second)
            });
            let _ = first;
            gc::collect_and_sweep();
            assert!(!alive(ch) && !alive(buf) && !alive(second));
        }
    }

    fn object_of(handle: *mut u8) -> Ref {
        handle.wrapping_sub(HEADER_BYTES + FRAME_PREFIX) as Ref
    }

    #[test]
    fn a_waiting_select_keeps_its_task_and_what_it_received_alive() {
        let _heap = heap_lock();
        // SAFETY: a real coroutine frame (never resumed) and real objects.
        unsafe {
            let frame = weft_coro_alloc(64);
            let ch = new(0, true);
            let sel = with_roots([ch], |_| weft_select_new(1, frame));
            with_roots([ch, sel], |_| weft_select_recv(sel, 0, ch));
            assert_eq!(weft_select_start(sel), -1);
            let waiter = get_ref(ch, CH_RECV_HEAD);
            // Only the channel holds the waiter, the select and the frame.
            with_roots([ch], |_| {
                gc::collect_and_sweep();
                assert!(alive(sel) && alive(waiter) && alive(object_of(frame)));
                let n = node(null_mut(), 5, null_mut());
                assert_eq!(try_send(ch, ref_to_slot(n)), SendResult::Done);
            });
            assert_eq!(sched::take_ready(), [frame as usize]);
            // The received node waits in the select, which alone holds it now.
            let received = with_roots([sel], |_| {
                gc::collect_and_sweep();
                assert!(alive(object_of(frame)), "the select holds its handle");
                let mut out = 0i64;
                assert_eq!(weft_select_result(sel, &mut out), 0);
                let n = slot_to_ref(out as u64);
                assert!(alive(n));
                assert_eq!(value(n), 5);
                n
            });
            gc::collect_and_sweep();
            for obj in [ch, sel, waiter, received, object_of(frame)] {
                assert!(!alive(obj), "{obj:p}");
            }

            // A pending `after` timer holds its waiter, its select and the task.
            let frame = weft_coro_alloc(64);
            let sel = weft_select_new(1, frame);
            with_roots([sel], |_| weft_select_after(sel, 0, 1_000_000));
            assert_eq!(weft_select_start(sel), -1);
            gc::collect_and_sweep();
            assert!(alive(sel) && alive(object_of(frame)));
            // Once inert, the timer holds its waiter but not the select.
            weft_select_cancel(sel);
            gc::collect_and_sweep();
            assert!(!alive(sel) && !alive(object_of(frame)));
            assert_eq!(sched::timer_count(), 1);
            assert_eq!(sched::next_deadline(), None);
        }
    }

    #[test]
    fn selects_survive_stress_collections() {
        let _heap = heap_lock();
        gc::set_stress(true);
        with_keep(|keep| unsafe {
            let ch = keep(weft_chan_new(0, 1, core::ptr::null(), 0));
            // Senders of references: each value is held only by its waiter.
            for i in 0..20 {
                let n = node(null_mut(), i, null_mut());
                let sel = with_roots([n], |_| keep(weft_select_new(2, handle(1))));
                with_roots([sel], |_| {
                    weft_select_send(sel, 0, ch, ref_to_slot(n) as i64);
                    weft_select_after(sel, 1, 1_000_000);
                });
                assert_eq!(weft_select_start(sel), -1);
            }
            node(null_mut(), -1, null_mut());
            for i in 0..20 {
                let mut out = 0i64;
                assert_eq!(weft_chan_try_recv(ch, &mut out), 0);
                assert_eq!(value(slot_to_ref(out as u64)), i);
                node(null_mut(), -1, null_mut());
            }
            assert_eq!(sched::take_ready().len(), 20);
        });
        gc::set_stress(false);
    }
}
