//! TCP for the `net` module (natively; `import net` is a compile error on
//! wasm32, where these functions only report `Unsupported`).
//!
//! Sockets are non-blocking descriptors the program owns. Every call tries
//! the system call once: done, an error (`-status`, with the message kept
//! for `last_error`), or `WOULD_BLOCK`, after which the standard library
//! waits for readiness (`reactor::wait_fd`: each socket is registered once,
//! edge-triggered) and tries again. Addresses are `host:port` with an IPv4 or IPv6 address
//! (`[::1]:80`) or a name the system resolves (`localhost:80`).

#[cfg(target_arch = "wasm32")]
use weft_abi::io::UNSUPPORTED;

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    use core::cell::RefCell;
    use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
    use std::os::fd::{FromRawFd, IntoRawFd};
    use weft_abi::io::*;

    extern "C" {
        fn socket(domain: i32, kind: i32, protocol: i32) -> i32;
        fn connect(fd: i32, addr: *const u8, len: u32) -> i32;
        fn accept4(fd: i32, addr: *mut u8, len: *mut u32, flags: i32) -> i32;
        fn recv(fd: i32, buf: *mut u8, len: usize, flags: i32) -> isize;
        fn send(fd: i32, buf: *const u8, len: usize, flags: i32) -> isize;
        fn getsockopt(fd: i32, level: i32, name: i32, value: *mut i32, len: *mut u32) -> i32;
        fn close(fd: i32) -> i32;
        #[link_name = "listen"]
        fn listen_backlog(fd: i32, backlog: i32) -> i32;
    }

    const AF_INET: i32 = 2;
    const AF_INET6: i32 = 10;
    const SOCK_STREAM: i32 = 1;
    const SOCK_NONBLOCK: i32 = 0o4000;
    const SOCK_CLOEXEC: i32 = 0o2000000;
    const SOL_SOCKET: i32 = 1;
    const SO_ERROR: i32 = 4;
    const MSG_NOSIGNAL: i32 = 0x4000;
    const EAGAIN: i32 = 11;
    const EINPROGRESS: i32 = 115;

    thread_local! {
        static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
    }

    use crate::reactor::{errno, EINTR};

    /// A non-blocking call's outcome: its result, `WOULD_BLOCK`, or the
    /// failure (`what` names it), retried while a signal interrupts it.
    fn attempt(what: &str, mut call: impl FnMut() -> isize) -> i64 {
        loop {
            let n = call();
            if n >= 0 {
                return n as i64;
            }
            match errno() {
                EINTR => continue,
                EAGAIN => return WOULD_BLOCK,
                _ => return fail(std::io::Error::last_os_error(), what),
            }
        }
    }

    /// Records `e` (with `what`) for `last_error`; its status, negated.
    fn fail(e: std::io::Error, what: &str) -> i64 {
        let status = crate::reactor::status_of(&e);
        let text = String::from_utf8_lossy(&crate::reactor::message_of(&e, what)).into_owned();
        LAST_ERROR.with(|l| *l.borrow_mut() = text);
        -status
    }

    fn fail_with(status: i64, text: String) -> i64 {
        LAST_ERROR.with(|l| *l.borrow_mut() = text);
        -status
    }

    pub fn last_error() -> String {
        LAST_ERROR.with(|l| l.borrow().clone())
    }

    fn resolve(addr: &str) -> Result<SocketAddr, i64> {
        if let Ok(a) = addr.parse::<SocketAddr>() {
            return Ok(a);
        }
        match addr.to_socket_addrs() {
            Ok(mut all) => all
                .next()
                .ok_or_else(|| fail_with(INVALID_INPUT, format!("{addr}: no address found"))),
            Err(e) => Err(fail_with(
                INVALID_INPUT,
                format!("{addr}: not an address (host:port): {e}"),
            )),
        }
    }

    pub fn listen(addr: &str) -> i64 {
        let a = match resolve(addr) {
            Ok(a) => a,
            Err(status) => return status,
        };
        // std sets SO_REUSEADDR and close-on-exec.
        match TcpListener::bind(a) {
            Ok(l) => match l.set_nonblocking(true) {
                Ok(()) => {
                    let fd = l.into_raw_fd();
                    // std's backlog is 128: a burst of connections past it
                    // waits for SYN retransmits (a second or more). The
                    // kernel caps this at somaxconn.
                    // SAFETY: listening again on our own socket only resizes its queue.
                    unsafe { listen_backlog(fd, 4096) };
                    fd as i64
                }
                Err(e) => fail(e, addr),
            },
            Err(e) => fail(e, addr),
        }
    }

    pub fn port(fd: i64) -> i64 {
        // SAFETY: borrows the listener's descriptor without taking it over.
        let l = core::mem::ManuallyDrop::new(unsafe { TcpListener::from_raw_fd(fd as i32) });
        l.local_addr().map_or(-1, |a| a.port() as i64)
    }

    pub fn accept(fd: i64) -> i64 {
        attempt("accept", || {
            // SAFETY: no peer address is asked for.
            unsafe {
                accept4(
                    fd as i32,
                    core::ptr::null_mut(),
                    core::ptr::null_mut(),
                    SOCK_NONBLOCK | SOCK_CLOEXEC,
                ) as isize
            }
        })
    }

    /// A non-blocking connect begun: the socket, whose writability then
    /// says the attempt is over (`connected` tells how it went).
    pub fn connect_start(addr: &str) -> i64 {
        let a = match resolve(addr) {
            Ok(a) => a,
            Err(status) => return status,
        };
        let mut raw = [0u8; 28];
        let (domain, len) = match a {
            SocketAddr::V4(v4) => {
                raw[..2].copy_from_slice(&(AF_INET as u16).to_ne_bytes());
                raw[2..4].copy_from_slice(&v4.port().to_be_bytes());
                raw[4..8].copy_from_slice(&v4.ip().octets());
                (AF_INET, 16)
            }
            SocketAddr::V6(v6) => {
                raw[..2].copy_from_slice(&(AF_INET6 as u16).to_ne_bytes());
                raw[2..4].copy_from_slice(&v6.port().to_be_bytes());
                raw[4..8].copy_from_slice(&v6.flowinfo().to_ne_bytes());
                raw[8..24].copy_from_slice(&v6.ip().octets());
                raw[24..28].copy_from_slice(&v6.scope_id().to_ne_bytes());
                (AF_INET6, 28)
            }
        };
        // SAFETY: plain system calls on a buffer of the stated length.
        unsafe {
            let fd = socket(domain, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            if fd < 0 {
                return fail(std::io::Error::last_os_error(), addr);
            }
            loop {
                if connect(fd, raw.as_ptr(), len) == 0 {
                    return fd as i64;
                }
                match errno() {
                    EINTR => continue,
                    EINPROGRESS => return fd as i64,
                    _ => {
                        let e = std::io::Error::last_os_error();
                        close(fd);
                        return fail(e, addr);
                    }
                }
            }
        }
    }

    /// After the socket became writable: 0, or the failed attempt's `-status`.
    pub fn connected(fd: i64, addr: &str) -> i64 {
        let mut err = 0i32;
        let mut len = 4u32;
        // SAFETY: an int-sized option into an int.
        let r = unsafe { getsockopt(fd as i32, SOL_SOCKET, SO_ERROR, &mut err, &mut len) };
        if r < 0 {
            return fail(std::io::Error::last_os_error(), addr);
        }
        if err != 0 {
            return fail(std::io::Error::from_raw_os_error(err), addr);
        }
        0
    }

    /// Up to `max` bytes: read into `out` (its first `max` bytes; the
    /// caller keeps it between reads, so it is zeroed only when it grows);
    /// their count (0 at the end of the stream), `WOULD_BLOCK` or `-status`.
    pub fn read(fd: i64, max: usize, out: &mut Vec<u8>) -> i64 {
        if out.len() < max {
            out.resize(max, 0);
        }
        // SAFETY: `out` has room for `max` bytes.
        attempt("read", || unsafe {
            recv(fd as i32, out.as_mut_ptr(), max, 0)
        })
    }

    /// Writes what it can of `bytes`: the count, `WOULD_BLOCK` or `-status`
    /// (a closed peer: `BrokenPipe` or `ConnectionReset`, never `SIGPIPE`).
    pub fn write(fd: i64, bytes: &[u8]) -> i64 {
        // SAFETY: the slice is live for the call.
        attempt("write", || unsafe {
            send(fd as i32, bytes.as_ptr(), bytes.len(), MSG_NOSIGNAL)
        })
    }

    pub fn close_fd(fd: i64) {
        crate::reactor::forget_fd(fd as i32);
        // SAFETY: the program's own descriptor, closed once (the library
        // marks its object closed).
        unsafe { close(fd as i32) };
    }
}

#[cfg(target_arch = "wasm32")]
mod imp {
    //! Never called: the checker rejects `import net` on wasm32.
    use super::UNSUPPORTED;

    pub fn last_error() -> String {
        "sockets are not available on wasm32".into()
    }
    pub fn listen(_: &str) -> i64 {
        -UNSUPPORTED
    }
    pub fn port(_: i64) -> i64 {
        -1
    }
    pub fn accept(_: i64) -> i64 {
        -UNSUPPORTED
    }
    pub fn connect_start(_: &str) -> i64 {
        -UNSUPPORTED
    }
    pub fn connected(_: i64, _: &str) -> i64 {
        -UNSUPPORTED
    }
    pub fn read(_: i64, _: usize, _: &mut Vec<u8>) -> i64 {
        -UNSUPPORTED
    }
    pub fn write(_: i64, _: &[u8]) -> i64 {
        -UNSUPPORTED
    }
    pub fn close_fd(_: i64) {}
}

pub use imp::*;

/// The token of a wait until `fd` is readable (or `writable`).
pub fn wait_fd(fd: i64, writable: bool) -> i64 {
    let token = crate::io::new_op(crate::io::Kind::Notify);
    #[cfg(not(target_arch = "wasm32"))]
    crate::reactor::wait_fd(fd as i32, writable, token);
    #[cfg(target_arch = "wasm32")]
    {
        let _ = (fd, writable);
        crate::io::complete(token, UNSUPPORTED, Vec::new());
    }
    token
}
