//! The native reactor: where the scheduler sleeps when no task is ready,
//! and what performs `io`'s operations.
//!
//! One epoll instance, made on the first operation, holds an eventfd and
//! the descriptors tasks wait on: stdin when it is a pipe or a terminal
//! (one-shot, re-armed per chunk) and sockets (edge-triggered, registered
//! once: waiting on one is no system call).
//! The scheduler blocks in `epoll_wait` with the next timer's deadline as
//! its timeout, so a waiting program uses no CPU and wakes for whichever
//! comes first. Regular files do not work with epoll (and a read of one
//! can still block on a slow disk), so files, and stdin when it is a
//! regular file, are read and written by a small pool of threads; a thread
//! finishes by queueing `(token, status, bytes)` and writing the eventfd,
//! and the scheduler's thread completes the token (`io::complete`): the
//! runtime and its GC stay single-threaded, and only owned bytes cross.
//! Any other thread may use `post` the same way (the entry point for
//! completions from outside, such as a GPU worker).
//!
//! Stdin stays a blocking descriptor (making it non-blocking would change
//! it for every process sharing the terminal): it is read once per
//! readiness event, which a pipe or terminal answers without blocking.
//! `SIGPIPE` is ignored (a write to a closed pipe is an error, not death);
//! `EINTR` is retried; the soft limit on open descriptors is raised to the
//! hard one (as Go does), for servers with many connections.

use crate::io;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Condvar, Mutex};
use weft_abi::io::*;

extern "C" {
    fn epoll_create1(flags: i32) -> i32;
    fn epoll_ctl(epfd: i32, op: i32, fd: i32, event: *mut EpollEvent) -> i32;
    fn epoll_wait(epfd: i32, events: *mut EpollEvent, max: i32, timeout: i32) -> i32;
    fn eventfd(initval: u32, flags: i32) -> i32;
    fn read(fd: i32, buf: *mut u8, count: usize) -> isize;
    fn write(fd: i32, buf: *const u8, count: usize) -> isize;
    fn signal(sig: i32, handler: usize) -> usize;
    fn getrlimit(resource: i32, limit: *mut RLimit) -> i32;
    fn setrlimit(resource: i32, limit: *const RLimit) -> i32;
    fn __errno_location() -> *mut i32;
}

#[repr(C)]
struct RLimit {
    cur: u64,
    max: u64,
}

#[cfg_attr(target_arch = "x86_64", repr(C, packed))]
#[cfg_attr(not(target_arch = "x86_64"), repr(C))]
#[derive(Clone, Copy)]
struct EpollEvent {
    events: u32,
    data: u64,
}

const EPOLL_CLOEXEC: i32 = 0o2000000;
const EFD_CLOEXEC: i32 = 0o2000000;
const EFD_NONBLOCK: i32 = 0o4000;
const EPOLL_CTL_ADD: i32 = 1;
const EPOLL_CTL_MOD: i32 = 3;
const EPOLLIN: u32 = 0x001;
const EPOLLOUT: u32 = 0x004;
const EPOLLERR: u32 = 0x008;
const EPOLLHUP: u32 = 0x010;
const EPOLL_CTL_DEL: i32 = 2;
const EPOLLRDHUP: u32 = 0x2000;
const EPOLLET: u32 = 1 << 31;
const EPOLLONESHOT: u32 = 1 << 30;
pub(crate) const EINTR: i32 = 4;
const SIGPIPE: i32 = 13;
const SIG_IGN: usize = 1;
const RLIMIT_NOFILE: i32 = 7;

/// epoll data tags: the eventfd, stdin's readiness, and a socket's
/// (`TAG_FD + fd`).
const TAG_WAKE: u64 = 0;
const TAG_STDIN: u64 = 1;
const TAG_FD: u64 = 2;
/// How much one read of stdin takes: a pipe or terminal holds at most
/// 64 KB; a regular file is read by the pool in bigger pieces (fewer round
/// trips through a thread and the eventfd).
const CHUNK: usize = 1 << 16;
const FILE_CHUNK: usize = 1 << 20;
/// Threads for blocking file operations.
const WORKERS: usize = 2;

enum Job {
    ReadFile(i64, String),
    WriteFile(i64, String, Vec<u8>),
    Remove(i64, String),
    /// A chunk of this descriptor (stdin when it is a regular file).
    ReadFd(i64, i32),
}

/// Work for the pool, and finished results for the scheduler.
struct Shared {
    jobs: Mutex<VecDeque<Job>>,
    more: Condvar,
    done: Mutex<Vec<(i64, i64, Vec<u8>)>>,
}

static SHARED: Shared = Shared {
    jobs: Mutex::new(VecDeque::new()),
    more: Condvar::new(),
    done: Mutex::new(Vec::new()),
};

/// How stdin is read, once known.
#[derive(Clone, Copy, PartialEq)]
enum StdinMode {
    Unknown,
    /// Registered (one-shot) in the epoll set.
    Epoll,
    /// A regular file (or unusable descriptor): read by the pool.
    Pool,
}

struct Reactor {
    epfd: i32,
    wake: i32,
    workers: usize,
    stdin_mode: StdinMode,
    /// The stdin chunk epoll will deliver.
    stdin_token: i64,
    /// Sockets tasks wait on: the tokens waiting for readable and for
    /// writable, and whether the descriptor is in the epoll set.
    fds: HashMap<i32, FdWait>,
}

#[derive(Default)]
struct FdWait {
    read: Vec<i64>,
    write: Vec<i64>,
    added: bool,
}

struct ReactorCell(core::cell::UnsafeCell<Option<Reactor>>);

// The scheduler's thread only; the pool uses `SHARED`.
unsafe impl Sync for ReactorCell {}

static REACTOR: ReactorCell = ReactorCell(core::cell::UnsafeCell::new(None));

/// The eventfd, for `post` on any thread (-1 before the reactor exists).
static WAKE_FD: AtomicI32 = AtomicI32::new(-1);

pub fn errno() -> i32 {
    // SAFETY: errno is thread-local and always valid to read.
    unsafe { *__errno_location() }
}

/// The reactor, made on first use.
fn reactor() -> &'static mut Reactor {
    // SAFETY: the scheduler's thread only; no reference is kept across a
    // call that takes it again.
    let cell = unsafe { &mut *REACTOR.0.get() };
    cell.get_or_insert_with(|| {
        // SAFETY: plain system calls; failures leave -1, which `wait`
        // treats as "no reactor" (it then only sleeps).
        unsafe {
            signal(SIGPIPE, SIG_IGN);
            // As Go does: a server's connections may need more descriptors
            // than the default soft limit (often 1,024); the hard one is ours.
            let mut limit = RLimit { cur: 0, max: 0 };
            if getrlimit(RLIMIT_NOFILE, &mut limit) == 0 && limit.cur < limit.max {
                limit.cur = limit.max;
                setrlimit(RLIMIT_NOFILE, &limit);
            }
            let epfd = epoll_create1(EPOLL_CLOEXEC);
            let wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
            if epfd >= 0 && wake >= 0 {
                let mut ev = EpollEvent {
                    events: EPOLLIN,
                    data: TAG_WAKE,
                };
                epoll_ctl(epfd, EPOLL_CTL_ADD, wake, &mut ev);
                WAKE_FD.store(wake, Ordering::Release);
            }
            Reactor {
                epfd,
                wake,
                workers: 0,
                stdin_mode: StdinMode::Unknown,
                stdin_token: 0,
                fds: HashMap::new(),
            }
        }
    })
}

/// Whether operations have been started (then the scheduler waits here).
pub fn active() -> bool {
    // SAFETY: a read of the scheduler thread's own state.
    unsafe { (*REACTOR.0.get()).is_some() }
}

/// From any thread: queues a completion and wakes the scheduler.
pub fn post(token: i64, status: i64, data: Vec<u8>) {
    SHARED
        .done
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push((token, status, data));
    let wake = WAKE_FD.load(Ordering::Acquire);
    if wake >= 0 {
        let one: u64 = 1;
        // SAFETY: an 8-byte write to our eventfd.
        unsafe { write(wake, &one as *const u64 as *const u8, 8) };
    }
}

fn submit(job: Job) {
    let r = reactor();
    if r.workers < WORKERS {
        r.workers += 1;
        let spawned = std::thread::Builder::new()
            .name("weft-io".into())
            .stack_size(64 << 10)
            .spawn(worker);
        if spawned.is_err() {
            r.workers -= 1;
        }
    }
    let mut jobs = SHARED.jobs.lock().unwrap_or_else(|e| e.into_inner());
    jobs.push_back(job);
    SHARED.more.notify_one();
}

fn worker() {
    loop {
        let job = {
            let mut jobs = SHARED.jobs.lock().unwrap_or_else(|e| e.into_inner());
            loop {
                if let Some(job) = jobs.pop_front() {
                    break job;
                }
                jobs = SHARED.more.wait(jobs).unwrap_or_else(|e| e.into_inner());
            }
        };
        let (token, result) = match job {
            Job::ReadFile(t, path) => (t, std::fs::read(&path).map_err(|e| (e, path))),
            Job::WriteFile(t, path, data) => (
                t,
                std::fs::write(&path, data)
                    .map(|()| Vec::new())
                    .map_err(|e| (e, path)),
            ),
            Job::Remove(t, path) => (
                t,
                std::fs::remove_file(&path)
                    .map(|()| Vec::new())
                    .map_err(|e| (e, path)),
            ),
            Job::ReadFd(t, fd) => (
                t,
                read_chunk(fd, FILE_CHUNK).map_err(|e| (e, String::new())),
            ),
        };
        match result {
            Ok(data) => post(token, OK, data),
            Err((e, path)) => post(token, status_of(&e), message_of(&e, &path)),
        }
    }
}

/// One read of up to `size` bytes (empty at the end), retried on EINTR.
fn read_chunk(fd: i32, size: usize) -> std::io::Result<Vec<u8>> {
    // Not zeroed first: `read` writes the bytes the length then covers.
    let mut buf: Vec<u8> = Vec::with_capacity(size);
    loop {
        // SAFETY: the buffer has room for `size` bytes.
        let n = unsafe { read(fd, buf.as_mut_ptr(), size) };
        if n >= 0 {
            // SAFETY: the kernel wrote the first `n` bytes.
            unsafe { buf.set_len(n as usize) };
            return Ok(buf);
        }
        if errno() != EINTR {
            return Err(std::io::Error::last_os_error());
        }
    }
}

/// `io.ErrorKind` of an OS error, as a status.
pub fn status_of(e: &std::io::Error) -> i64 {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::NotFound => NOT_FOUND,
        K::PermissionDenied => PERMISSION_DENIED,
        K::AlreadyExists => ALREADY_EXISTS,
        K::ConnectionRefused => CONNECTION_REFUSED,
        K::ConnectionReset => CONNECTION_RESET,
        K::BrokenPipe => BROKEN_PIPE,
        K::TimedOut => TIMED_OUT,
        K::InvalidInput | K::InvalidData | K::IsADirectory | K::NotADirectory => INVALID_INPUT,
        K::Unsupported => UNSUPPORTED,
        _ => OTHER,
    }
}

/// The OS's wording (without Rust's "(os error N)"), with the path.
pub fn message_of(e: &std::io::Error, path: &str) -> Vec<u8> {
    let text = e.to_string();
    let os = match text.find(" (os error") {
        Some(i) => &text[..i],
        None => &text,
    };
    if path.is_empty() {
        os.as_bytes().to_vec()
    } else {
        format!("{path}: {os}").into_bytes()
    }
}

pub fn read_file(token: i64, path: String) {
    submit(Job::ReadFile(token, path));
}

pub fn write_file(token: i64, path: String, data: Vec<u8>) {
    submit(Job::WriteFile(token, path, data));
}

pub fn remove(token: i64, path: String) {
    submit(Job::Remove(token, path));
}

/// Asks for the next chunk of stdin.
pub fn stdin(token: i64) {
    let r = reactor();
    let mut ev = EpollEvent {
        events: EPOLLIN | EPOLLONESHOT,
        data: TAG_STDIN,
    };
    match r.stdin_mode {
        StdinMode::Unknown => {
            // SAFETY: a valid event for our epoll set. A regular file (EPERM)
            // or a closed stdin (EBADF) cannot be registered.
            let added = r.epfd >= 0 && unsafe { epoll_ctl(r.epfd, EPOLL_CTL_ADD, 0, &mut ev) } == 0;
            if added {
                r.stdin_mode = StdinMode::Epoll;
                r.stdin_token = token;
            } else {
                r.stdin_mode = StdinMode::Pool;
                submit(Job::ReadFd(token, 0));
            }
        }
        StdinMode::Epoll => {
            r.stdin_token = token;
            // SAFETY: re-arms the one-shot registration made above.
            unsafe { epoll_ctl(r.epfd, EPOLL_CTL_MOD, 0, &mut ev) };
        }
        StdinMode::Pool => submit(Job::ReadFd(token, 0)),
    }
}

/// Completes `token` when `fd` (a socket) next becomes readable, or
/// writable (the caller's last call on it said it would block); an error
/// or hang-up counts as both.
pub fn wait_fd(fd: i32, writable: bool, token: i64) {
    let epfd = {
        let r = reactor();
        let w = r.fds.entry(fd).or_default();
        if writable {
            w.write.push(token);
        } else {
            w.read.push(token);
        }
        r.epfd
    };
    arm(epfd, fd);
}

/// Registers `fd` once, edge-triggered for both directions: a wait costs no
/// system call (the library waits only after a call said it would block,
/// and any readiness after that comes as a new edge). A descriptor that
/// cannot be registered wakes its waiters at once: their retry reports
/// the descriptor's own error.
fn arm(epfd: i32, fd: i32) {
    // SAFETY: the scheduler thread's own state.
    let r = unsafe { (*REACTOR.0.get()).as_mut() }.expect("the reactor exists");
    let Some(w) = r.fds.get_mut(&fd) else {
        return;
    };
    if w.added {
        return;
    }
    let mut ev = EpollEvent {
        events: EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
        data: TAG_FD + fd as u64,
    };
    // SAFETY: a valid event for our epoll set.
    if unsafe { epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &mut ev) } == 0 {
        w.added = true;
    } else {
        let w = r.fds.remove(&fd).unwrap_or_default();
        for t in w.read.into_iter().chain(w.write) {
            io::complete(t, OK, Vec::new());
        }
    }
}

/// `fd` is being closed: out of the epoll set, its waiters woken (their
/// retry finds the connection closed).
pub fn forget_fd(fd: i32) {
    // SAFETY: the scheduler thread's own state.
    let Some(r) = (unsafe { (*REACTOR.0.get()).as_mut() }) else {
        return;
    };
    let Some(w) = r.fds.remove(&fd) else {
        return;
    };
    if w.added {
        let mut ev = EpollEvent { events: 0, data: 0 };
        // SAFETY: removes a descriptor we registered.
        unsafe { epoll_ctl(r.epfd, EPOLL_CTL_DEL, fd, &mut ev) };
    }
    for t in w.read.into_iter().chain(w.write) {
        io::complete(t, OK, Vec::new());
    }
}

/// Blocks until an event, a completion or `deadline` (ms of
/// `platform::now_ms`; `None`: no timer), then completes what came in.
pub fn wait(deadline: Option<f64>) {
    let (epfd, wake) = {
        let r = reactor();
        (r.epfd, r.wake)
    };
    let timeout = match deadline {
        None => -1,
        Some(d) => (d - crate::platform::now_ms())
            .ceil()
            .clamp(0.0, i32::MAX as f64) as i32,
    };
    if epfd < 0 {
        if let Some(d) = deadline {
            crate::platform::sleep_until_ms(d);
        }
        return;
    }
    let mut events = [EpollEvent { events: 0, data: 0 }; 16];
    // SAFETY: room for 16 events.
    let n = unsafe { epoll_wait(epfd, events.as_mut_ptr(), 16, timeout) };
    for ev in events.iter().take(n.max(0) as usize) {
        let tag = ev.data;
        if tag == TAG_WAKE {
            let mut count = 0u64;
            // SAFETY: an 8-byte read of our non-blocking eventfd.
            unsafe { read(wake, &mut count as *mut u64 as *mut u8, 8) };
        } else if tag == TAG_STDIN {
            let token = reactor().stdin_token;
            match read_chunk(0, CHUNK) {
                Ok(data) => io::complete(token, OK, data),
                Err(e) => io::complete(token, status_of(&e), message_of(&e, "")),
            }
        } else {
            let fd = (tag - TAG_FD) as i32;
            let flags = ev.events;
            let broken = flags & (EPOLLERR | EPOLLHUP) != 0;
            let mut woken = Vec::new();
            if let Some(w) = reactor().fds.get_mut(&fd) {
                if broken || flags & (EPOLLIN | EPOLLRDHUP) != 0 {
                    woken.append(&mut w.read);
                }
                if broken || flags & EPOLLOUT != 0 {
                    woken.append(&mut w.write);
                }
            }
            for t in woken {
                io::complete(t, OK, Vec::new());
            }
        }
    }
    let done = core::mem::take(&mut *SHARED.done.lock().unwrap_or_else(|e| e.into_inner()));
    for (token, status, data) in done {
        io::complete(token, status, data);
    }
}
