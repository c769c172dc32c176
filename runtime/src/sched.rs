//! The task scheduler: single-threaded and cooperative, over the compiler's
//! coroutines.
//!
//! A coroutine handle is a raw pointer to an LLVM coroutine frame, which lives
//! inside a FRAME object (`weft_coro_alloc`): an interior pointer, as far as
//! the collector is concerned. The scheduler never calls a resume function
//! itself: it goes through the compiler-defined `weft_resume` and
//! `weft_coro_done` (see `abi`).
//!
//! State: a FIFO ready queue, a timer heap ordered by deadline and then by
//! registration (so equal deadlines fire in the order they were set), the
//! handle of `async fn main`, and the handle being resumed right now. All of
//! them are GC roots (`for_each_root`, called by `roots::for_each_root`): a
//! task waiting for the scheduler is referenced by nothing else, and a
//! running coroutine's frame by nothing but the scheduler.
//!
//! The loop: resume ready handles in FIFO order until the queue is empty, or
//! until main has finished (then the program ends and the other tasks are
//! dropped, as in Go); when nothing is ready and main is still waiting, the
//! earliest timer or an I/O operation (`io`) can wake a task: natively the
//! loop sleeps in the kernel until the deadline or an I/O event (`reactor`,
//! `epoll_wait`; before any I/O, `clock_nanosleep`), so a waiting program
//! uses no CPU; on wasm32 it returns to JavaScript with the delay (`poll`;
//! infinite while only I/O is awaited), which calls back with `setTimeout`
//! or when an operation completes. With no timer and no operation a task
//! waits for, no task can ever run again: a deadlock, reported and ended
//! with status 2.
//! Due timers are only looked at when the ready queue is empty, so the
//! interleaving of ready tasks does not depend on the clock. Resuming happens
//! only here, never from inside a resume: `ready` and `sleep` only queue.
//!
//! Deadlines are absolute milliseconds of `platform::now_ms` (a monotonic
//! clock); `now_ms` reports them relative to the program's start.
//!
//! A timer is either a `sleep` (its handle becomes ready) or the `after` arm
//! of a `select` (`chan`): a waiter object, whose select is completed when
//! the timer comes due. Once its select has fired through another arm (or was
//! cancelled) such a timer is inert: it is dropped when it reaches the top
//! of the heap, so it never delays deadlock detection or the native sleep,
//! and the heap is compacted when inert timers become the majority, so a
//! loop of selects with long `after` arms does not pile them up (nor keep
//! their waiters alive).

use crate::object::Ref;
use crate::{chan, output, platform, process};
use core::cell::UnsafeCell;
use core::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, VecDeque};

#[cfg(not(test))]
use crate::abi::weft_coro_done;
#[cfg(all(not(test), target_arch = "wasm32"))]
use crate::abi::weft_resume;
#[cfg(all(not(test), not(target_arch = "wasm32")))]
use crate::abi::weft_resume_guarded;
#[cfg(test)]
use fake::{weft_coro_done, weft_resume_guarded};

/// The first line of a deadlock report, on stderr, before exit status 2.
pub const DEADLOCK_MESSAGE: &str = "deadlock: all tasks are blocked";

/// On wasm32, how long one `poll` may keep running tasks whose timers keep
/// coming due (`sleep(0)` loops) before it gives the browser a turn.
const POLL_BUDGET_MS: f64 = 16.0;

/// Compacting the timer heap is considered only from this many inert timers.
const COMPACT_MIN_INERT: usize = 64;

/// A pending timer: at `deadline`, `handle` becomes ready (a `sleep`), or
/// `waiter`'s select is completed (an `after` arm).
struct Timer {
    deadline: f64,
    /// Registration order, to break ties between equal deadlines.
    seq: u64,
    /// The sleeping coroutine (0 for an `after` arm).
    handle: usize,
    /// The `after` arm's waiter object (0 for a `sleep`).
    waiter: usize,
}

impl Timer {
    /// Whether the timer can no longer do anything: an `after` arm whose
    /// select has finished.
    fn is_inert(&self) -> bool {
        // SAFETY: a waiter in the heap is a live object (the timer roots it).
        self.waiter != 0 && unsafe { !chan::timer_is_live(self.waiter as Ref) }
    }
}

impl Ord for Timer {
    fn cmp(&self, other: &Timer) -> Ordering {
        self.deadline
            .total_cmp(&other.deadline)
            .then(self.seq.cmp(&other.seq))
    }
}

impl PartialOrd for Timer {
    fn partial_cmp(&self, other: &Timer) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Timer {
    fn eq(&self, other: &Timer) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Timer {}

/// Where `async fn main` is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Main {
    /// The program has a synchronous main (or has not reached it yet).
    Absent,
    /// Registered by `run_async_main` and not finished.
    Running,
    /// Finished: the program is over (wasm32: `finish` has run).
    Finished,
}

struct Scheduler {
    ready: VecDeque<usize>,
    /// A min-heap by (deadline, seq).
    timers: BinaryHeap<Reverse<Timer>>,
    next_seq: u64,
    /// How many timers in `timers` are known to be inert (an upper bound:
    /// inert timers counted here may since have been dropped by compaction).
    inert: usize,
    /// main's handle (0 before `run_async_main`).
    main: usize,
    main_state: Main,
    /// The handle being resumed now (0 between resumes).
    current: usize,
    /// `platform::now_ms()` at start-up (NaN until `start_clock`).
    epoch: f64,
}

struct SchedulerCell(UnsafeCell<Scheduler>);

// The runtime is single-threaded (the unit tests serialise on a lock).
unsafe impl Sync for SchedulerCell {}

static SCHEDULER: SchedulerCell = SchedulerCell(UnsafeCell::new(Scheduler::new()));

/// The scheduler's state. Never hold the reference across a resume: the
/// resumed code calls back into `ready` and `sleep`.
#[inline(always)]
fn sched() -> &'static mut Scheduler {
    // SAFETY: single-threaded, and every caller drops the reference before
    // anything that could take it again (see above).
    unsafe { &mut *SCHEDULER.0.get() }
}

impl Scheduler {
    const fn new() -> Scheduler {
        Scheduler {
            ready: VecDeque::new(),
            timers: BinaryHeap::new(),
            next_seq: 0,
            inert: 0,
            main: 0,
            main_state: Main::Absent,
            current: 0,
            epoch: f64::NAN,
        }
    }

    /// The deadline of the earliest timer that can still wake something;
    /// inert timers on top are dropped on the way.
    fn next_deadline(&mut self) -> Option<f64> {
        while let Some(Reverse(t)) = self.timers.peek() {
            if !t.is_inert() {
                return Some(t.deadline);
            }
            self.timers.pop();
            self.inert = self.inert.saturating_sub(1);
        }
        None
    }

    fn push_timer(&mut self, ms: i64, handle: usize, waiter: usize) {
        let deadline = platform::now_ms() + ms.max(0) as f64;
        let seq = self.next_seq;
        self.next_seq += 1;
        self.timers.push(Reverse(Timer {
            deadline,
            seq,
            handle,
            waiter,
        }));
    }
}

/// Fires the timers due at `now`, earliest first: a sleeping handle goes to
/// the ready queue, an `after` arm completes its select (which readies the
/// select's task), an inert timer is dropped.
pub fn move_due_timers(now: f64) {
    loop {
        let s = sched();
        match s.timers.peek() {
            Some(Reverse(t)) if t.deadline <= now => {}
            _ => return,
        }
        let Some(Reverse(t)) = s.timers.pop() else {
            return;
        };
        if t.waiter == 0 {
            s.ready.push_back(t.handle);
            continue;
        }
        // `s` is not used past this call, which takes the scheduler again
        // (to ready the select's task).
        // SAFETY: the timer kept its waiter alive.
        if !unsafe { chan::timer_due(t.waiter as Ref) } {
            let s = sched();
            s.inert = s.inert.saturating_sub(1);
        }
    }
}

/// Pins "program start" for `now_ms`; called once before `weft_main`.
pub fn start_clock() {
    sched().epoch = platform::now_ms();
}

/// Milliseconds since the program started, on a monotonic clock.
pub fn now_ms() -> i64 {
    let s = sched();
    let now = platform::now_ms();
    if s.epoch.is_nan() {
        s.epoch = now;
    }
    (now - s.epoch).max(0.0).floor() as i64
}

/// Appends `handle` to the ready queue.
pub fn ready(handle: *mut u8) {
    sched().ready.push_back(handle as usize);
}

/// Makes `handle` ready `ms` milliseconds from now (at once if `ms <= 0`).
pub fn sleep(ms: i64, handle: *mut u8) {
    sched().push_timer(ms, handle as usize, 0);
}

/// Registers the `after` arm `waiter` (a `chan` waiter object) to fire `ms`
/// milliseconds from now; `chan::timer_due` decides then what it does.
pub fn after(ms: i64, waiter: Ref) {
    sched().push_timer(ms, 0, waiter as usize);
}

/// Notes that one registered `after` timer has become inert (its select
/// finished some other way). When inert timers are the majority of a large
/// heap, they are removed all at once: O(n), amortised over the n/2
/// notes since the last compaction.
pub fn timer_became_inert() {
    let s = sched();
    s.inert += 1;
    if s.inert >= COMPACT_MIN_INERT && 2 * s.inert > s.timers.len() {
        s.timers.retain(|Reverse(t)| !t.is_inert());
        s.inert = 0;
    }
}

/// Forgets a task: removes `handle` from the ready queue, its `sleep`
/// timers and its I/O registrations (for a cancelled task; its selects are
/// cancelled separately).
pub fn forget(handle: *mut u8) {
    crate::io::forget(handle);
    let s = sched();
    let handle = handle as usize;
    s.ready.retain(|&h| h != handle);
    s.timers
        .retain(|Reverse(t)| t.waiter != 0 || t.handle != handle);
}

/// Calls `visit` with every handle the scheduler holds: main, the handle
/// being resumed, the ready queue and the timers, and with the waiter
/// objects of `after` timers. Handles are interior pointers of FRAME
/// objects; the collector resolves them like any root.
pub fn for_each_root(mut visit: impl FnMut(usize)) {
    let s = sched();
    for handle in [s.main, s.current] {
        if handle != 0 {
            visit(handle);
        }
    }
    for &handle in &s.ready {
        visit(handle);
    }
    for Reverse(t) in s.timers.iter() {
        for r in [t.handle, t.waiter] {
            if r != 0 {
                visit(r);
            }
        }
    }
}

/// Records main's coroutine (created, not started) and makes it ready.
unsafe fn start_main(main: *mut u8) {
    let s = sched();
    if s.main_state != Main::Absent || s.current != 0 {
        process::fatal("weft_run_async_main called twice or from inside a task");
    }
    s.main = main as usize;
    s.main_state = Main::Running;
    s.ready.push_back(main as usize);
}

/// Whether main's coroutine is at its final suspend.
unsafe fn main_done() -> bool {
    let main = sched().main;
    main != 0 && weft_coro_done(main as *mut u8) != 0
}

/// Resumes ready handles in FIFO order until the queue is empty or main has
/// finished; returns whether main has finished.
unsafe fn run_ready() -> bool {
    loop {
        let s = sched();
        let Some(handle) = s.ready.pop_front() else {
            return main_done();
        };
        // Rooted while it runs: nothing else may hold its frame.
        s.current = handle;
        let h = handle as *mut u8;
        if weft_coro_done(h) != 0 {
            process::fatal("the scheduler was asked to resume a finished coroutine");
        }
        resume_guarded(h);
        let s = sched();
        s.current = 0;
        if handle == s.main && weft_coro_done(h) != 0 {
            return true;
        }
    }
}

/// A panic in synchronous code called by a task comes back to the resume in
/// progress (`unwind_to_scheduler`): natively with `longjmp` to `GUARD` (a
/// `jmp_buf`: glibc's is 200 bytes on x86-64); on wasm32 by a JavaScript
/// exception that app.js catches before calling `unwound`. `GUARDED` says
/// whether a resume is in progress, `GUARD_TOP` is the shadow stack then.
#[cfg(not(target_arch = "wasm32"))]
static mut GUARD: [u64; 64] = [0; 64];
static mut GUARDED: bool = false;
static mut GUARD_TOP: usize = 0;

#[cfg(not(target_arch = "wasm32"))]
extern "C" {
    fn longjmp(env: *mut u64, val: i32) -> !;
}

/// Resumes `h`; natively, under a guard that a panic in synchronous code
/// returns to, after which the panicking task is abandoned (see `task`).
unsafe fn resume_guarded(h: *mut u8) {
    GUARD_TOP = crate::roots::top() as usize;
    GUARDED = true;
    #[cfg(not(target_arch = "wasm32"))]
    {
        if weft_resume_guarded(h, core::ptr::addr_of_mut!(GUARD) as *mut u64) != 0 {
            unwound();
            return;
        }
    }
    #[cfg(target_arch = "wasm32")]
    weft_resume(h);
    GUARDED = false;
}

/// Back from a panic in synchronous code (natively from `longjmp`, on wasm32
/// through app.js): the frames unwound are gone, their root frames with
/// them; the task that panicked is abandoned (see `task::abandoned`).
///
/// # Safety
/// Only right after such an unwind, with `GUARDED` still set.
pub unsafe fn unwound() {
    GUARDED = false;
    crate::roots::set_top(GUARD_TOP as *mut crate::roots::RootFrame);
    sched().current = 0;
    crate::task::abandoned(crate::abi::weft_running);
}

/// The coroutine whose task a panic in synchronous code now ends, if the
/// scheduler can take over (natively, while it resumes a task).
pub fn guarded_task() -> Option<*mut u8> {
    // SAFETY: single-threaded; plain reads of the runtime's own statics.
    unsafe {
        let running = crate::abi::weft_running;
        if GUARDED && !running.is_null() {
            return Some(running);
        }
    }
    None
}

/// Jumps back to the resume in progress (see `guarded_task`).
///
/// # Safety
/// Only while `guarded_task` is `Some`; the frames jumped over must hold
/// nothing to drop.
pub unsafe fn unwind_to_scheduler() -> ! {
    #[cfg(not(target_arch = "wasm32"))]
    longjmp(core::ptr::addr_of_mut!(GUARD) as *mut u64, 1);
    #[cfg(target_arch = "wasm32")]
    platform::unwind_to_js()
}

/// How a run of the scheduler ended.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Outcome {
    /// main has finished: the program ends (status 0 unless it exited).
    MainDone,
    /// main is waiting and nothing can ever wake a task.
    Deadlock,
    /// (wasm32) Nothing to do until the earliest timer, this many ms away.
    Wait(f64),
    /// (`poll`) There is no async main, or it finished before this call.
    NotRunning,
}

/// Prints the deadlock message and exits with status 2 (flush, GC stats).
pub fn deadlock() -> ! {
    let main = sched().main;
    // SAFETY: main is a suspended coroutine: the loop only reports a
    // deadlock while main waits.
    let what = if main == 0 {
        String::new()
    } else {
        unsafe { crate::task::describe_wait(main as *mut u8) }
    };
    let text = format!(
        "{DEADLOCK_MESSAGE}\n  main is waiting{what}; no task is ready and no timer is pending\n"
    );
    output::write(output::STDERR_FD, text.as_bytes());
    process::exit(2)
}

/// Natively: runs main's coroutine and every task until main has finished,
/// sleeping in the kernel while only timers are pending.
///
/// # Safety
/// `main` must be a coroutine handle the compiler's helpers accept.
#[cfg(not(target_arch = "wasm32"))]
pub unsafe fn run_async_main(main: *mut u8) -> Outcome {
    start_main(main);
    loop {
        if run_ready() {
            sched().main_state = Main::Finished;
            return Outcome::MainDone;
        }
        let deadline = sched().next_deadline();
        if deadline.is_none() && crate::io::outstanding() == 0 {
            return Outcome::Deadlock;
        }
        if crate::reactor::active() {
            // What was printed before the wait is seen during it (a prompt).
            output::flush_stdout();
            crate::reactor::wait(deadline);
        } else if let Some(deadline) = deadline.filter(|&d| d > platform::now_ms()) {
            output::flush_stdout();
            platform::sleep_until_ms(deadline);
        }
        // (A server with no timer reads no clock per event.)
        if deadline.is_some() {
            move_due_timers(platform::now_ms());
        }
    }
}

/// On wasm32: records main's coroutine, runs the ready queue until it is
/// empty (or main has finished) and returns; `poll` goes on from there.
///
/// # Safety
/// As for the native `run_async_main`.
#[cfg(target_arch = "wasm32")]
pub unsafe fn run_async_main(main: *mut u8) -> Outcome {
    start_main(main);
    if run_ready() {
        sched().main_state = Main::Finished;
        return Outcome::MainDone;
    }
    match sched().next_deadline() {
        Some(deadline) => Outcome::Wait((deadline - platform::now_ms()).max(0.0)),
        None if crate::io::outstanding() > 0 => Outcome::Wait(f64::INFINITY),
        None => Outcome::Deadlock,
    }
}

/// Whether an async main has been registered and has not finished: then the
/// entry point must leave the ending to `poll`.
#[cfg_attr(all(not(target_arch = "wasm32"), not(test)), expect(dead_code))]
pub fn async_main_pending() -> bool {
    sched().main_state == Main::Running
}

/// One step of the non-blocking loop (wasm32's `weft_poll`): moves due timers
/// to the ready queue and runs it until empty, again while timers keep coming
/// due (for at most `POLL_BUDGET_MS`), and says what comes next: `MainDone`
/// only on the call during which main finished, `NotRunning` when there is
/// no async main or it finished earlier. Never blocks.
///
/// # Safety
/// The registered handles must still be valid coroutines.
#[cfg_attr(all(not(target_arch = "wasm32"), not(test)), expect(dead_code))]
pub unsafe fn poll() -> Outcome {
    if sched().main_state != Main::Running {
        return Outcome::NotRunning;
    }
    let started = platform::now_ms();
    loop {
        move_due_timers(platform::now_ms());
        if run_ready() {
            sched().main_state = Main::Finished;
            return Outcome::MainDone;
        }
        let Some(deadline) = sched().next_deadline() else {
            // An operation app.js performs wakes us when it completes.
            if crate::io::outstanding() > 0 {
                return Outcome::Wait(f64::INFINITY);
            }
            return Outcome::Deadlock;
        };
        let now = platform::now_ms();
        if deadline > now {
            return Outcome::Wait(deadline - now);
        }
        if now - started >= POLL_BUDGET_MS {
            return Outcome::Wait(0.0);
        }
    }
}

/// Forgets every task and timer (tests).
#[cfg(test)]
pub fn reset() {
    *sched() = Scheduler::new();
}

/// Empties the ready queue and returns what it held, in order (tests).
#[cfg(test)]
pub fn take_ready() -> Vec<usize> {
    sched().ready.drain(..).collect()
}

/// The deadline of the earliest live timer (tests).
#[cfg(test)]
pub fn next_deadline() -> Option<f64> {
    sched().next_deadline()
}

/// The number of timers in the heap, inert ones included (tests).
#[cfg(test)]
pub fn timer_count() -> usize {
    sched().timers.len()
}

/// Stand-ins for the compiler's `weft_resume` and `weft_coro_done` in unit
/// tests: a handle is "done" once marked so, and each resume is logged and
/// handed to a hook the test installs (which may queue or finish handles).
#[cfg(test)]
pub mod fake {
    use std::cell::RefCell;
    use std::collections::HashSet;

    type Hook = Box<dyn FnMut(usize)>;

    thread_local! {
        static LOG: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
        static DONE: RefCell<HashSet<usize>> = RefCell::new(HashSet::new());
        static HOOK: RefCell<Option<Hook>> = const { RefCell::new(None) };
    }

    pub unsafe fn weft_resume(handle: *mut u8) {
        LOG.with(|l| l.borrow_mut().push(handle as usize));
        let hook = HOOK.with(|h| h.borrow_mut().take());
        if let Some(mut hook) = hook {
            hook(handle as usize);
            HOOK.with(|h| {
                h.borrow_mut().get_or_insert(hook);
            });
        }
    }

    pub unsafe fn weft_resume_guarded(handle: *mut u8, _env: *mut u64) -> i32 {
        weft_resume(handle);
        0
    }

    pub unsafe fn weft_coro_done(handle: *mut u8) -> i32 {
        DONE.with(|d| d.borrow().contains(&(handle as usize))) as i32
    }

    /// Starts a test: no log, nothing done, `hook` called at each resume.
    pub fn install(hook: impl FnMut(usize) + 'static) {
        LOG.with(|l| l.borrow_mut().clear());
        DONE.with(|d| d.borrow_mut().clear());
        HOOK.with(|h| *h.borrow_mut() = Some(Box::new(hook)));
    }

    /// Marks `handle` as at its final suspend.
    pub fn finish(handle: usize) {
        DONE.with(|d| d.borrow_mut().insert(handle));
    }

    /// The handles resumed so far, in order.
    pub fn log() -> Vec<usize> {
        LOG.with(|l| l.borrow().clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::{weft_coro_alloc, weft_gc_collect, weft_sleep, weft_task_ready};
    use crate::gc;
    use crate::object::{Ref, FRAME_PREFIX, HEADER_BYTES, POISON_DESC};
    use crate::tests::heap_lock;

    /// A coroutine frame in a FRAME object, like compiled code gets one.
    fn frame() -> *mut u8 {
        // SAFETY: never collects; the frame (64 zero bytes) has an empty root area.
        unsafe { weft_coro_alloc(64) }
    }

    fn object_of(handle: *mut u8) -> Ref {
        handle.wrapping_sub(HEADER_BYTES + FRAME_PREFIX) as Ref
    }

    fn alive(obj: Ref) -> bool {
        // SAFETY: tests pass heap objects.
        unsafe { !gc::is_free(obj) && (*obj).desc != POISON_DESC }
    }

    /// Distinct fake handles for tests that never touch the heap.
    fn fake_handle(n: usize) -> *mut u8 {
        (0x1000 * n) as *mut u8
    }

    #[test]
    fn the_ready_queue_is_first_in_first_out() {
        let _heap = heap_lock();
        fake::install(|_| {});
        for n in [3, 1, 2] {
            ready(fake_handle(n));
        }
        // SAFETY: fake handles are only logged.
        unsafe { assert!(!run_ready()) };
        assert_eq!(
            fake::log(),
            [3, 1, 2].map(|n| fake_handle(n) as usize).to_vec()
        );
        assert!(sched().ready.is_empty());
    }

    #[test]
    fn handles_made_ready_while_running_go_to_the_back() {
        let _heap = heap_lock();
        let (a, b, c) = (fake_handle(1), fake_handle(2), fake_handle(3));
        let mut first = true;
        fake::install(move |h| {
            if h == a as usize && first {
                first = false;
                ready(c);
                ready(a);
            }
        });
        ready(a);
        ready(b);
        // SAFETY: fake handles.
        unsafe { run_ready() };
        assert_eq!(
            fake::log(),
            [a, b, c, a].map(|h| h as usize).to_vec(),
            "a queues c and itself behind b"
        );
    }

    #[test]
    fn timers_fire_by_deadline_then_by_registration() {
        let _heap = heap_lock();
        let s = sched();
        for (n, deadline) in [(1, 30.0), (2, 10.0), (3, 20.0), (4, 10.0), (5, 10.0)] {
            let seq = s.next_seq;
            s.next_seq += 1;
            s.timers.push(Reverse(Timer {
                deadline,
                seq,
                handle: n,
                waiter: 0,
            }));
        }
        move_due_timers(9.99);
        assert!(sched().ready.is_empty());
        assert_eq!(next_deadline(), Some(10.0));
        move_due_timers(10.0);
        assert_eq!(take_ready(), [2, 4, 5]);
        move_due_timers(100.0);
        assert_eq!(take_ready(), [3, 1]);
        assert_eq!(next_deadline(), None);
    }

    #[test]
    fn sleep_sets_deadlines_from_now_and_clamps_negative_delays() {
        let _heap = heap_lock();
        let before = platform::now_ms();
        // SAFETY: fake handles, never resumed.
        unsafe {
            weft_sleep(50, fake_handle(1));
            weft_sleep(-5, fake_handle(2));
            weft_sleep(0, fake_handle(3));
        }
        let after = platform::now_ms();
        let first = next_deadline().unwrap();
        assert!(before <= first && first <= after);
        move_due_timers(after);
        assert_eq!(take_ready(), [2, 3].map(|n| fake_handle(n) as usize));
        let last = next_deadline().unwrap();
        assert!(before + 50.0 <= last && last <= after + 50.0);
        move_due_timers(after + 49.0);
        assert!(take_ready().is_empty());
        move_due_timers(after + 50.0);
        assert_eq!(take_ready(), [fake_handle(1) as usize]);
    }

    #[test]
    fn forget_drops_a_task_from_the_queue_and_its_sleeps() {
        let _heap = heap_lock();
        let (gone, kept) = (fake_handle(1), fake_handle(2));
        ready(gone);
        ready(kept);
        ready(gone);
        sleep(0, gone);
        sleep(0, kept);
        sleep(10, gone);
        forget(gone);
        assert_eq!(take_ready(), [kept as usize]);
        move_due_timers(platform::now_ms() + 20.0);
        assert_eq!(take_ready(), [kept as usize]);
        assert_eq!(next_deadline(), None);
    }

    #[test]
    fn now_ms_counts_from_the_start() {
        let _heap = heap_lock();
        start_clock();
        let t0 = now_ms();
        assert!((0..5).contains(&t0), "{t0}");
        platform::sleep_until_ms(platform::now_ms() + 3.0);
        assert!(now_ms() >= t0 + 3);
    }

    #[test]
    fn queued_and_sleeping_frames_survive_collections() {
        let _heap = heap_lock();
        let (queued, sleeping, dropped) = (frame(), frame(), frame());
        // SAFETY: real frames, never resumed.
        unsafe {
            weft_task_ready(queued);
            weft_sleep(1_000_000, sleeping);
        }
        weft_gc_collect();
        gc::collect_and_sweep();
        assert!(alive(object_of(queued)));
        assert!(alive(object_of(sleeping)));
        assert!(!alive(object_of(dropped)));
        // Once they leave the scheduler, nothing keeps them.
        reset();
        gc::collect_and_sweep();
        assert!(!alive(object_of(queued)));
        assert!(!alive(object_of(sleeping)));
    }

    #[test]
    fn main_and_the_running_frame_are_roots_while_it_runs() {
        let _heap = heap_lock();
        let main = frame();
        let task = frame();
        let main_obj = object_of(main);
        let task_obj = object_of(task);
        let mut step = 0;
        fake::install(move |h| {
            if h == main as usize && step == 0 {
                // main spawns the task, then waits (for it, say): only the
                // scheduler's records hold either frame.
                ready(task);
                step = 1;
            } else if h == task as usize {
                // The task runs and collects: it is `current`, main is main.
                gc::collect_and_sweep();
                assert!(alive(task_obj) && alive(main_obj));
                fake::finish(task as usize);
                ready(main);
            } else {
                fake::finish(main as usize);
            }
        });
        // SAFETY: fake coroutines over real frames.
        let outcome = unsafe { run_async_main(main) };
        assert_eq!(outcome, Outcome::MainDone);
        assert_eq!(fake::log(), [main, task, main].map(|h| h as usize).to_vec());
    }

    #[test]
    fn the_native_loop_sleeps_until_the_timer_and_ends_with_main() {
        let _heap = heap_lock();
        let (main, other) = (fake_handle(1), fake_handle(2));
        let mut resumes = 0;
        fake::install(move |h| {
            if h == main as usize {
                resumes += 1;
                match resumes {
                    1 => {
                        // spawn `other`, then sleep 30 ms.
                        ready(other);
                        sleep(30, main);
                    }
                    _ => fake::finish(main as usize),
                }
            } else {
                // `other` sleeps far longer than main: dropped at the end.
                sleep(60_000, other);
            }
        });
        let started = platform::now_ms();
        // SAFETY: fake handles.
        let outcome = unsafe { run_async_main(main) };
        let elapsed = platform::now_ms() - started;
        assert_eq!(outcome, Outcome::MainDone);
        assert!((30.0..5_000.0).contains(&elapsed), "{elapsed} ms");
        assert_eq!(
            fake::log(),
            [main, other, main].map(|h| h as usize).to_vec()
        );
    }

    #[test]
    fn main_finishing_ends_the_loop_even_with_tasks_ready() {
        let _heap = heap_lock();
        let (main, other) = (fake_handle(1), fake_handle(2));
        fake::install(move |h| {
            if h == main as usize {
                ready(other);
                fake::finish(main as usize);
            }
        });
        // SAFETY: fake handles.
        let outcome = unsafe { run_async_main(main) };
        assert_eq!(outcome, Outcome::MainDone);
        assert_eq!(fake::log(), [main as usize]);
    }

    #[test]
    fn a_main_waiting_with_nothing_to_wake_it_is_a_deadlock() {
        let _heap = heap_lock();
        let (main, other) = (fake_handle(1), fake_handle(2));
        fake::install(move |h| {
            if h == main as usize {
                ready(other);
            }
        });
        // SAFETY: fake handles.
        let outcome = unsafe { run_async_main(main) };
        assert_eq!(outcome, Outcome::Deadlock);
        assert_eq!(fake::log(), [main, other].map(|h| h as usize).to_vec());
    }

    #[test]
    fn poll_runs_due_timers_and_reports_the_next_delay() {
        let _heap = heap_lock();
        // SAFETY: fake handles throughout.
        unsafe {
            assert_eq!(poll(), Outcome::NotRunning, "no async main");
            let (main, other) = (fake_handle(1), fake_handle(2));
            let mut resumes = 0;
            fake::install(move |h| {
                if h == main as usize {
                    resumes += 1;
                    match resumes {
                        1 => sleep(0, main),
                        2 => sleep(40, main),
                        _ => fake::finish(main as usize),
                    }
                } else {
                    sleep(60_000, other);
                }
            });
            // What wasm32's `weft_run_async_main` does first.
            start_main(main);
            ready(other);
            assert!(!run_ready());
            assert!(async_main_pending());
            // The sleep(0) is due at once; then main waits 40 ms.
            let Outcome::Wait(delay) = poll() else {
                panic!("main should wait")
            };
            assert!(delay > 0.0 && delay <= 40.0, "{delay}");
            platform::sleep_until_ms(platform::now_ms() + delay);
            assert_eq!(poll(), Outcome::MainDone);
            assert!(!async_main_pending());
            assert_eq!(poll(), Outcome::NotRunning);
            assert_eq!(
                fake::log(),
                [main, other, main, main].map(|h| h as usize).to_vec()
            );
        }
    }
}
