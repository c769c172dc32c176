//! The one definition of the ABI between compiled Weft code (the compiler)
//! and the runtime (`runtime/`); both depend on this crate and neither
//! restates any of it.
//!
//! - [`RuntimeFn`]: every runtime function compiled code may call, with its
//!   parameter and result kinds and whether it never returns or never
//!   allocates. The compiler declares runtime functions only from this table;
//!   the runtime checks each export's Rust signature against it at compile
//!   time (`runtime/src/abi_check.rs`).
//! - [`symbols`]: the data symbols and the callbacks compiled code defines.
//! - [`layout`]: object headers, descriptor kinds, coroutine frames and
//!   promises, root frames, in bytes (codegen's field indices derive from them).
//! - [`state`]: task state bits and child-slot tags; [`status`]: the status
//!   codes of channel operations; [`shape`]: the value-shape codes of
//!   `weft_format`.
#![no_std]

/// The LLVM-level shape of an ABI parameter or result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AbiType {
    I32,
    I64,
    F64,
    /// A raw pointer (constant bytes, an out-parameter, a type descriptor).
    Ptr,
    /// A GC reference: `ptr addrspace(1)` natively, `ptr` on wasm32.
    Ref,
    Void,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RuntimeFn {
    WriteInt,
    WriteFloat,
    WriteBool,
    WriteStr,
    WriteString,
    Exit,
    Panic,
    PanicString,
    PanicIndex,
    Alloc,
    CoroAlloc,
    GcCollect,
    StringConcat,
    StringJoinPieces,
    StringEq,
    StringCompare,
    StringFromInt,
    FormatInt,
    FormatFloat,
    FormatPad,
    StringFromFloat,
    StringFromBool,
    Format,
    ArrayNew,
    ArrayFilled,
    ArrayPush,
    MapNew,
    MapSet,
    MapGet,
    MapHas,
    MapRemove,
    MapLen,
    MapKeys,
    MapValues,
    StringSlice,
    BytesNew,
    BytesGet,
    BytesSet,
    BytesPush,
    BytesExtend,
    BytesPushStr,
    BytesSlice,
    BytesStr,
    StringBytes,
    StringFromCode,
    StringByte,
    StringsAsciiCase,
    FormatFloatDigits,
    MapClear,
    ChanLen,
    ChanCap,
    Args,
    StringsSplit,
    StringsJoin,
    StringsTrim,
    StringsFind,
    StringsReplace,
    StringsRepeat,
    StringsChars,
    StringsParseInt,
    StringsParseFloat,
    TaskReady,
    TaskCancel,
    GenFinalizable,
    TaskPanic,
    TaskPanicString,
    TaskPanicIndex,
    TaskReraise,
    TaskUnawaited,
    Sleep,
    NowMs,
    RunAsyncMain,
    ChanNew,
    ChanTrySend,
    ChanTryRecv,
    ChanClose,
    SelectNew,
    SelectOneRecv,
    SelectOneSend,
    SelectRecv,
    SelectSend,
    SelectAfter,
    SelectStart,
    SelectPoll,
    SelectFired,
    SelectResult,
    SelectCancel,
    IoWait,
    IoStdinLine,
    IoStdinAll,
    IoTakeLine,
    IoTakeAll,
    IoReadFile,
    IoWriteFile,
    IoRemove,
    IoStatus,
    IoTakeBytes,
    IoTakeString,
    IoWrite,
    NetListen,
    NetPort,
    NetAccept,
    NetConnect,
    NetConnected,
    NetRead,
    NetWrite,
    NetWait,
    NetClose,
    NetError,
    TaskLink,
    TaskUnlink,
    TaskRunning,
    HttpFetch,
}

pub struct Signature {
    pub name: &'static str,
    pub params: &'static [AbiType],
    pub ret: AbiType,
    /// Never returns: declared `noreturn` so LLVM knows the path ends.
    pub noreturn: bool,
    /// Never allocates, so a call to it is not a GC safepoint (`"weft-nogc"`).
    pub nogc: bool,
}

use AbiType::*;

impl RuntimeFn {
    /// Functions whose last two parameters are the Weft source location of
    /// the call (`ptr, i64 len`), for the panics they raise: a standard
    /// library `extern fn` declares them without it, and codegen passes the
    /// call's location (in the standard library, its caller's).
    pub const fn located(self) -> bool {
        matches!(self, RuntimeFn::StringFromCode)
    }

    /// Every runtime function (the runtime's `abi_check` maps each to its export).
    pub const ALL: &'static [RuntimeFn] = &[
        RuntimeFn::WriteInt,
        RuntimeFn::WriteFloat,
        RuntimeFn::WriteBool,
        RuntimeFn::WriteStr,
        RuntimeFn::WriteString,
        RuntimeFn::Exit,
        RuntimeFn::Panic,
        RuntimeFn::PanicString,
        RuntimeFn::PanicIndex,
        RuntimeFn::Alloc,
        RuntimeFn::CoroAlloc,
        RuntimeFn::GcCollect,
        RuntimeFn::StringConcat,
        RuntimeFn::StringJoinPieces,
        RuntimeFn::StringEq,
        RuntimeFn::StringCompare,
        RuntimeFn::StringFromInt,
        RuntimeFn::FormatInt,
        RuntimeFn::FormatFloat,
        RuntimeFn::FormatPad,
        RuntimeFn::StringFromFloat,
        RuntimeFn::StringFromBool,
        RuntimeFn::Format,
        RuntimeFn::ArrayNew,
        RuntimeFn::ArrayFilled,
        RuntimeFn::ArrayPush,
        RuntimeFn::MapNew,
        RuntimeFn::MapSet,
        RuntimeFn::MapGet,
        RuntimeFn::MapHas,
        RuntimeFn::MapRemove,
        RuntimeFn::MapLen,
        RuntimeFn::MapKeys,
        RuntimeFn::MapValues,
        RuntimeFn::StringSlice,
        RuntimeFn::BytesNew,
        RuntimeFn::BytesGet,
        RuntimeFn::BytesSet,
        RuntimeFn::BytesPush,
        RuntimeFn::BytesExtend,
        RuntimeFn::BytesPushStr,
        RuntimeFn::BytesSlice,
        RuntimeFn::BytesStr,
        RuntimeFn::StringBytes,
        RuntimeFn::StringFromCode,
        RuntimeFn::StringByte,
        RuntimeFn::StringsAsciiCase,
        RuntimeFn::FormatFloatDigits,
        RuntimeFn::MapClear,
        RuntimeFn::ChanLen,
        RuntimeFn::ChanCap,
        RuntimeFn::Args,
        RuntimeFn::StringsSplit,
        RuntimeFn::StringsJoin,
        RuntimeFn::StringsTrim,
        RuntimeFn::StringsFind,
        RuntimeFn::StringsReplace,
        RuntimeFn::StringsRepeat,
        RuntimeFn::StringsChars,
        RuntimeFn::StringsParseInt,
        RuntimeFn::StringsParseFloat,
        RuntimeFn::TaskReady,
        RuntimeFn::TaskCancel,
        RuntimeFn::GenFinalizable,
        RuntimeFn::TaskPanic,
        RuntimeFn::TaskPanicString,
        RuntimeFn::TaskPanicIndex,
        RuntimeFn::TaskReraise,
        RuntimeFn::TaskUnawaited,
        RuntimeFn::Sleep,
        RuntimeFn::NowMs,
        RuntimeFn::RunAsyncMain,
        RuntimeFn::ChanNew,
        RuntimeFn::ChanTrySend,
        RuntimeFn::ChanTryRecv,
        RuntimeFn::ChanClose,
        RuntimeFn::SelectNew,
        RuntimeFn::SelectOneRecv,
        RuntimeFn::SelectOneSend,
        RuntimeFn::SelectRecv,
        RuntimeFn::SelectSend,
        RuntimeFn::SelectAfter,
        RuntimeFn::SelectStart,
        RuntimeFn::SelectPoll,
        RuntimeFn::SelectFired,
        RuntimeFn::SelectResult,
        RuntimeFn::SelectCancel,
        RuntimeFn::IoWait,
        RuntimeFn::IoStdinLine,
        RuntimeFn::IoStdinAll,
        RuntimeFn::IoTakeLine,
        RuntimeFn::IoTakeAll,
        RuntimeFn::IoReadFile,
        RuntimeFn::IoWriteFile,
        RuntimeFn::IoRemove,
        RuntimeFn::IoStatus,
        RuntimeFn::IoTakeBytes,
        RuntimeFn::IoTakeString,
        RuntimeFn::IoWrite,
        RuntimeFn::NetListen,
        RuntimeFn::NetPort,
        RuntimeFn::NetAccept,
        RuntimeFn::NetConnect,
        RuntimeFn::NetConnected,
        RuntimeFn::NetRead,
        RuntimeFn::NetWrite,
        RuntimeFn::NetWait,
        RuntimeFn::NetClose,
        RuntimeFn::NetError,
        RuntimeFn::TaskLink,
        RuntimeFn::TaskUnlink,
        RuntimeFn::TaskRunning,
        RuntimeFn::HttpFetch,
    ];

    pub const fn signature(self) -> Signature {
        // (name, params, result, noreturn, nogc)
        type Row = (&'static str, &'static [AbiType], AbiType, bool, bool);
        let (name, params, ret, noreturn, nogc): Row = match self {
            RuntimeFn::WriteInt => ("weft_write_int", &[I32, I64], Void, false, true),
            RuntimeFn::WriteFloat => ("weft_write_float", &[I32, F64], Void, false, true),
            RuntimeFn::WriteBool => ("weft_write_bool", &[I32, I32], Void, false, true),
            RuntimeFn::WriteStr => ("weft_write_str", &[I32, Ptr, I64], Void, false, true),
            RuntimeFn::WriteString => ("weft_write_string", &[I32, Ref], Void, false, true),
            RuntimeFn::Exit => ("weft_exit", &[I64], Void, true, true),
            RuntimeFn::Panic => ("weft_panic", &[Ptr, I64, Ptr, I64], Void, true, true),
            RuntimeFn::PanicString => ("weft_panic_string", &[Ref, Ptr, I64], Void, true, true),
            RuntimeFn::PanicIndex => ("weft_panic_index", &[I64, I64, Ptr, I64], Void, true, true),
            RuntimeFn::Alloc => ("weft_alloc", &[Ptr, I64], Ref, false, false),
            RuntimeFn::CoroAlloc => ("weft_coro_alloc", &[I64], Ptr, false, true),
            RuntimeFn::GcCollect => ("weft_gc_collect", &[], Void, false, false),
            RuntimeFn::StringConcat => ("weft_string_concat", &[Ref, Ref], Ref, false, false),
            RuntimeFn::StringJoinPieces => {
                ("weft_string_join_pieces", &[Ptr, I64], Ref, false, false)
            }
            RuntimeFn::StringEq => ("weft_string_eq", &[Ref, Ref], I32, false, true),
            RuntimeFn::StringCompare => ("weft_string_compare", &[Ref, Ref], I64, false, true),
            RuntimeFn::StringFromInt => ("weft_string_from_int", &[I64], Ref, false, false),
            RuntimeFn::StringFromFloat => ("weft_string_from_float", &[F64], Ref, false, false),
            RuntimeFn::StringFromBool => ("weft_string_from_bool", &[I32], Ref, false, false),
            RuntimeFn::FormatInt => ("weft_format_int", &[I64, Ptr, I64], Ref, false, false),
            RuntimeFn::FormatFloat => ("weft_format_float", &[F64, Ptr, I64], Ref, false, false),
            RuntimeFn::FormatPad => ("weft_format_pad", &[Ref, Ptr, I64], Ref, false, false),
            RuntimeFn::Format => ("weft_format", &[I64, Ptr], Ref, false, false),
            RuntimeFn::ArrayNew => ("weft_array_new", &[I32, I64], Ref, false, false),
            RuntimeFn::ArrayFilled => ("weft_array_filled", &[I64, I64, I32], Ref, false, false),
            RuntimeFn::ArrayPush => ("weft_array_push", &[Ref, I64], Void, false, false),
            RuntimeFn::MapNew => ("weft_map_new", &[I32, I32], Ref, false, false),
            RuntimeFn::MapSet => ("weft_map_set", &[Ref, I64, I64], Void, false, false),
            RuntimeFn::MapGet => ("weft_map_get", &[Ref, I64, Ptr], I32, false, true),
            RuntimeFn::MapHas => ("weft_map_has", &[Ref, I64], I32, false, true),
            RuntimeFn::MapRemove => ("weft_map_remove", &[Ref, I64], I32, false, true),
            RuntimeFn::MapLen => ("weft_map_len", &[Ref], I64, false, true),
            RuntimeFn::MapKeys => ("weft_map_keys", &[Ref], Ref, false, false),
            RuntimeFn::MapValues => ("weft_map_values", &[Ref], Ref, false, false),
            RuntimeFn::StringsAsciiCase => {
                ("weft_strings_ascii_case", &[Ref, I32], Ref, false, false)
            }
            RuntimeFn::FormatFloatDigits => {
                ("weft_format_float_digits", &[F64, I64], Ref, false, false)
            }
            RuntimeFn::BytesNew => ("weft_bytes_new", &[I64, Ptr, I64], Ref, false, false),
            RuntimeFn::BytesGet => ("weft_bytes_get", &[Ref, I64, Ptr, I64], I64, false, true),
            RuntimeFn::BytesSet => (
                "weft_bytes_set",
                &[Ref, I64, I64, Ptr, I64],
                Void,
                false,
                true,
            ),
            RuntimeFn::BytesPush => ("weft_bytes_push", &[Ref, I64, Ptr, I64], Void, false, false),
            RuntimeFn::BytesExtend => ("weft_bytes_extend", &[Ref, Ref], Void, false, false),
            RuntimeFn::BytesPushStr => ("weft_bytes_push_str", &[Ref, Ref], Void, false, false),
            RuntimeFn::BytesSlice => (
                "weft_bytes_slice",
                &[Ref, I64, I64, Ptr, I64],
                Ref,
                false,
                false,
            ),
            RuntimeFn::BytesStr => ("weft_bytes_str", &[Ref], Ref, false, false),
            RuntimeFn::StringBytes => ("weft_string_bytes", &[Ref], Ref, false, false),
            RuntimeFn::StringByte => ("weft_string_byte", &[Ref, I64, Ptr, I64], I64, false, true),
            RuntimeFn::StringFromCode => {
                ("weft_string_from_code", &[I64, Ptr, I64], Ref, false, false)
            }
            RuntimeFn::StringSlice => (
                "weft_string_slice",
                &[Ref, I64, I64, Ptr, I64],
                Ref,
                false,
                false,
            ),
            RuntimeFn::MapClear => ("weft_map_clear", &[Ref], Void, false, true),
            RuntimeFn::ChanLen => ("weft_chan_len", &[Ref], I64, false, true),
            RuntimeFn::ChanCap => ("weft_chan_cap", &[Ref], I64, false, true),
            RuntimeFn::Args => ("weft_args", &[], Ref, false, false),
            RuntimeFn::StringsSplit => ("weft_strings_split", &[Ref, Ref], Ref, false, false),
            RuntimeFn::StringsJoin => ("weft_strings_join", &[Ref, Ref], Ref, false, false),
            RuntimeFn::StringsTrim => ("weft_strings_trim", &[Ref], Ref, false, false),
            RuntimeFn::StringsFind => ("weft_strings_find", &[Ref, Ref], I64, false, true),
            RuntimeFn::StringsReplace => {
                ("weft_strings_replace", &[Ref, Ref, Ref], Ref, false, false)
            }
            RuntimeFn::StringsRepeat => ("weft_strings_repeat", &[Ref, I64], Ref, false, false),
            RuntimeFn::StringsChars => ("weft_strings_chars", &[Ref], Ref, false, false),
            RuntimeFn::StringsParseInt => ("weft_strings_parse_int", &[Ref], Ref, false, false),
            RuntimeFn::StringsParseFloat => ("weft_strings_parse_float", &[Ref], Ref, false, false),
            RuntimeFn::TaskReady => ("weft_task_ready", &[Ptr], Void, false, true),
            RuntimeFn::TaskCancel => (
                "weft_task_cancel",
                &[Ptr, Ptr, Ptr, I64],
                Void,
                false,
                false,
            ),
            RuntimeFn::GenFinalizable => ("weft_gen_finalizable", &[Ptr], Void, false, true),
            RuntimeFn::TaskPanic => (
                "weft_task_panic",
                &[Ptr, Ptr, I64, Ptr, I64],
                Void,
                false,
                false,
            ),
            RuntimeFn::TaskPanicString => (
                "weft_task_panic_string",
                &[Ptr, Ref, Ptr, I64],
                Void,
                false,
                false,
            ),
            RuntimeFn::TaskPanicIndex => (
                "weft_task_panic_index",
                &[Ptr, I64, I64, Ptr, I64],
                Void,
                false,
                false,
            ),
            RuntimeFn::TaskReraise => (
                "weft_task_reraise",
                &[Ptr, Ptr, Ptr, I64, I32],
                Void,
                false,
                false,
            ),
            RuntimeFn::TaskUnawaited => ("weft_task_unawaited", &[Ptr], Void, true, true),
            RuntimeFn::Sleep => ("weft_sleep", &[I64, Ptr], Void, false, true),
            RuntimeFn::NowMs => ("weft_now_ms", &[], I64, false, true),
            RuntimeFn::RunAsyncMain => ("weft_run_async_main", &[Ptr], Void, false, false),
            // Channel operations and `select` never allocate once the select's
            // arms are built: they only move values, link waiters and queue
            // tasks. Creating a channel, a select or an arm may collect.
            RuntimeFn::ChanNew => ("weft_chan_new", &[I64, I32, Ptr, I64], Ref, false, false),
            RuntimeFn::ChanTrySend => ("weft_chan_try_send", &[Ref, I64], I32, false, true),
            RuntimeFn::ChanTryRecv => ("weft_chan_try_recv", &[Ref, Ptr], I32, false, true),
            RuntimeFn::ChanClose => ("weft_chan_close", &[Ref], I32, false, true),
            RuntimeFn::SelectNew => ("weft_select_new", &[I64, Ptr], Ref, false, false),
            RuntimeFn::SelectOneRecv => {
                ("weft_select_one_recv", &[Ref, Ptr, Ref], Ref, false, false)
            }
            RuntimeFn::SelectOneSend => (
                "weft_select_one_send",
                &[Ref, Ptr, Ref, I64],
                Ref,
                false,
                false,
            ),
            RuntimeFn::SelectRecv => ("weft_select_recv", &[Ref, I64, Ref], Void, false, false),
            RuntimeFn::SelectSend => (
                "weft_select_send",
                &[Ref, I64, Ref, I64],
                Void,
                false,
                false,
            ),
            RuntimeFn::SelectAfter => ("weft_select_after", &[Ref, I64, I64], Void, false, false),
            RuntimeFn::SelectStart => ("weft_select_start", &[Ref], I64, false, true),
            RuntimeFn::SelectPoll => ("weft_select_poll", &[Ref], I64, false, true),
            RuntimeFn::SelectFired => ("weft_select_fired", &[Ref], I64, false, true),
            RuntimeFn::SelectResult => ("weft_select_result", &[Ref, Ptr], I32, false, true),
            RuntimeFn::SelectCancel => ("weft_select_cancel", &[Ref], Void, false, true),
            // I/O (`io`): an operation is a token; `weft_io_wait` parks the
            // task on it until the reactor completes it. Starting one copies
            // what it needs into runtime memory and never collects.
            RuntimeFn::IoWait => ("weft_io_wait", &[I64, Ptr], Void, false, true),
            RuntimeFn::IoStdinLine => ("weft_io_stdin_line", &[], I64, false, true),
            RuntimeFn::IoStdinAll => ("weft_io_stdin_all", &[], I64, false, true),
            RuntimeFn::IoTakeLine => ("weft_io_take_line", &[], Ref, false, false),
            RuntimeFn::IoTakeAll => ("weft_io_take_all", &[], Ref, false, false),
            RuntimeFn::IoReadFile => ("weft_io_read_file", &[Ref], I64, false, true),
            RuntimeFn::IoWriteFile => ("weft_io_write_file", &[Ref, Ref], I64, false, true),
            RuntimeFn::IoRemove => ("weft_io_remove", &[Ref], I64, false, true),
            RuntimeFn::IoStatus => ("weft_io_status", &[I64], I64, false, true),
            RuntimeFn::IoTakeBytes => ("weft_io_take_bytes", &[I64], Ref, false, false),
            RuntimeFn::IoTakeString => ("weft_io_take_string", &[I64], Ref, false, false),
            RuntimeFn::IoWrite => ("weft_io_write", &[I64, Ref], Void, false, true),
            // TCP (`net`, native): descriptors as ints; a result below zero
            // is `-status` or `io::WOULD_BLOCK` (wait with `weft_net_wait`).
            RuntimeFn::NetListen => ("weft_net_listen", &[Ref], I64, false, true),
            RuntimeFn::NetPort => ("weft_net_port", &[I64], I64, false, true),
            RuntimeFn::NetAccept => ("weft_net_accept", &[I64], I64, false, true),
            RuntimeFn::NetConnect => ("weft_net_connect", &[Ref], I64, false, true),
            RuntimeFn::NetConnected => ("weft_net_connected", &[I64, Ref], I64, false, true),
            RuntimeFn::NetRead => ("weft_net_read", &[I64, I64, Ref], I64, false, false),
            RuntimeFn::NetWrite => ("weft_net_write", &[I64, Ref, I64], I64, false, true),
            RuntimeFn::NetWait => ("weft_net_wait", &[I64, I64], I64, false, true),
            RuntimeFn::NetClose => ("weft_net_close", &[I64], Void, false, true),
            RuntimeFn::NetError => ("weft_net_error", &[], Ref, false, false),
            // `tasks.Group`: a member task linked to the coroutine that owns
            // its group (handles as ints), cancelled with it.
            RuntimeFn::TaskLink => ("weft_task_link", &[I64, I64], Void, false, true),
            RuntimeFn::TaskUnlink => ("weft_task_unlink", &[I64, I64], Void, false, true),
            // `__running()`: `weft_running` as an int, an identity only (an
            // int from the runtime, so no pointer crosses a suspend).
            RuntimeFn::TaskRunning => ("weft_task_running", &[], I64, false, true),
            // `http.get` through the host (wasm32): a token, or -1 natively
            // (where `http` goes over `net`).
            RuntimeFn::HttpFetch => ("weft_http_fetch", &[Ref], I64, false, true),
        };
        Signature {
            name,
            params,
            ret,
            noreturn,
            nogc,
        }
    }
}

impl AbiType {
    /// A discriminant for comparing kinds in `const` code.
    pub const fn code(self) -> u8 {
        self as u8
    }
}

/// Whether a runtime export matches the table's row for `f`: its symbol
/// `name`, its first `n` parameter kinds, its result kind and whether it
/// returns. The runtime compares every export in `const` code
/// (`runtime/src/abi_check.rs`), so a mismatch fails its build.
pub const fn signature_matches(
    f: RuntimeFn,
    name: &str,
    params: &[AbiType],
    n: usize,
    ret: AbiType,
    noreturn: bool,
) -> bool {
    let sig = f.signature();
    if !str_eq(sig.name, name)
        || sig.params.len() != n
        || sig.ret.code() != ret.code()
        || sig.noreturn != noreturn
    {
        return false;
    }
    let mut i = 0;
    while i < n {
        if sig.params[i].code() != params[i].code() {
            return false;
        }
        i += 1;
    }
    true
}

const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Symbols shared by compiled code and the runtime.
pub mod symbols {
    /// Type descriptors the runtime defines for its own objects.
    pub const DESC_STRING: &str = "weft_desc_string";
    pub const DESC_BOX_SCALAR: &str = "weft_desc_box_scalar";
    pub const DESC_BOX_REF: &str = "weft_desc_box_ref";
    /// The head of the shadow stack of root frames (the runtime's).
    pub const SHADOW_TOP: &str = "weft_shadow_top";
    /// The compiled program's root frame of module variables, linked at
    /// the bottom of the shadow stack before `main` runs.
    pub const GLOBALS_FRAME: &str = "weft.globals";
    /// The async coroutine running now (the runtime's; compiled code stores
    /// each resumed coroutine's handle there).
    pub const RUNNING: &str = "weft_running";
    /// The compiler defines these in every program; the runtime calls them.
    /// Runs the Weft `main`.
    pub const ENTRY: &str = "weft_main";
    /// Resumes a coroutine (`llvm.coro.resume`).
    pub const RESUME: &str = "weft_resume";
    /// 1 when a coroutine is at its final suspend (`llvm.coro.done`).
    pub const CORO_DONE: &str = "weft_coro_done";
    /// Destroys a suspended coroutine (`llvm.coro.destroy`).
    pub const CORO_DESTROY: &str = "weft_coro_destroy";
    /// Natively: `_setjmp(env)`, then resumes; 1 when a panic jumped back.
    pub const RESUME_GUARDED: &str = "weft_resume_guarded";
    /// The wasm32 module's exported entry point (the runtime's).
    pub const START: &str = "weft_start";
}

/// Layouts, in bytes, of what compiled code and the runtime both touch.
pub mod layout {
    /// An object's header: `desc` (a descriptor pointer) and `bits` (flags).
    pub const HEADER_BYTES: u64 = 16;
    /// Header bit: the object is immortal and lives in read-only data.
    pub const HEADER_STATIC: u64 = 2;
    /// The descriptor of a struct or enum that implements interfaces is
    /// preceded by its method tables: the table for interface `k` (the
    /// checker's numbering) is the pointer at this index from the
    /// descriptor, `desc - (k + 1)`; null where it does not implement `k`.
    pub const fn itable_index(k: u64) -> i64 {
        -(k as i64) - 1
    }
    /// A method table: the value's shape at this index, then the methods in
    /// the interface's order from `ITABLE_METHODS`.
    pub const ITABLE_SHAPE: u64 = 0;
    pub const ITABLE_METHODS: u64 = 1;
    /// A BYTES object's payload (a string, or a `Bytes` buffer): its byte
    /// count (a `Bytes` buffer's: its capacity), then the bytes.
    pub const BYTES_DATA: u64 = 8;
    /// A `Bytes` object's payload: `[u64 len][u64 cap][ref data]`, `data` a
    /// BYTES buffer of `cap` bytes.
    pub const BYTES_LEN: u64 = 0;
    pub const BYTES_CAP: u64 = 8;
    pub const BYTES_BUFFER: u64 = 16;
    /// Descriptor kinds. FIXED: `size` bytes of 8-byte slots, those listed
    /// in the descriptor's pointer offsets holding GC references.
    pub const KIND_FIXED: u32 = 0;
    /// A u64 byte length followed by that many bytes (strings).
    pub const KIND_BYTES: u32 = 1;
    /// A u64 count followed by that many scalar slots.
    pub const KIND_SCALAR_SLOTS: u32 = 2;
    /// A u64 count followed by that many slots, each a GC reference or null.
    pub const KIND_POINTER_SLOTS: u32 = 3;
    /// A u64 byte count followed by an LLVM coroutine frame of that size.
    pub const KIND_FRAME: u32 = 4;
    /// Bytes between a FRAME object's header and its coroutine frame (the size word).
    pub const FRAME_PREFIX: u64 = 8;
    /// Bytes from a FRAME object's start to its coroutine frame (the handle).
    pub const FRAME_OFFSET: u64 = HEADER_BYTES + FRAME_PREFIX;
    /// Where a coroutine frame's promise starts: after its resume and destroy
    /// function pointers.
    pub const fn promise_offset(pointer_bytes: u64) -> u64 {
        2 * pointer_bytes
    }

    /// Every coroutine's promise is `{ u32 count, u32 slots_offset, u64 value,
    /// u64 state, [PROMISE_SLOTS x ref] }` (then, for a coroutine with more
    /// roots, more reference slots): the root-area header first (what the
    /// collector reads), then what the runtime and compiled code share.
    /// These are its fields' byte offsets, in order.
    pub const PROMISE_FIELDS: [u64; 5] = [
        PROMISE_COUNT,
        PROMISE_SLOTS_OFFSET,
        PROMISE_VALUE,
        PROMISE_STATE,
        PROMISE_REFS,
    ];
    /// The number of reference slots of the root area (u32).
    pub const PROMISE_COUNT: u64 = 0;
    /// The byte offset of the root slots from the promise (u32).
    pub const PROMISE_SLOTS_OFFSET: u64 = 4;
    /// The bits of a yielded or returned scalar (u64).
    pub const PROMISE_VALUE: u64 = 8;
    /// The state word (`state::*` bits).
    pub const PROMISE_STATE: u64 = 16;
    /// The reserved reference slots (each a pointer: on wasm32 4 bytes apart).
    pub const PROMISE_REFS: u64 = 24;
    /// How many reference slots the promise reserves: [`SLOT_RESULT`],
    /// [`SLOT_CONTINUATION`], [`SLOT_CHILD`].
    pub const PROMISE_SLOTS: u64 = 3;
    /// Slot of the coroutine's reference result, or of its panic (a string).
    pub const SLOT_RESULT: u64 = 0;
    /// Slot of the continuation: the awaiting coroutine's handle, if any.
    pub const SLOT_CONTINUATION: u64 = 1;
    /// Slot of what a suspended coroutine waits on, tagged (`state::CHILD_*`).
    pub const SLOT_CHILD: u64 = 2;

    /// The index of the promise field at byte `offset` (codegen builds the
    /// promise as a struct in [`PROMISE_FIELDS`] order).
    pub const fn promise_field(offset: u64) -> u32 {
        let mut i = 0;
        while i < PROMISE_FIELDS.len() {
            if PROMISE_FIELDS[i] == offset {
                return i as u32;
            }
            i += 1;
        }
        panic!("not a promise field")
    }

    /// A shadow-stack root frame: `{ ptr prev, i64 count, [count x ref] }`.
    pub const ROOT_FRAME_PREV: u64 = 0;
    pub const ROOT_FRAME_COUNT: u64 = 8;
    pub const ROOT_FRAME_SLOTS: u64 = 16;
}

/// Task state bits and tags.
pub mod state {
    /// The task was cancelled (or a loop left the generator).
    pub const CANCELLED: u64 = 1;
    /// The task panicked.
    pub const PANICKED: u64 = 2;
    /// A generator being resumed: set around each resume, so resuming it
    /// again from inside its own body is a panic, not re-entry.
    pub const RUNNING: u64 = 4;
    /// A task owned by a `tasks.Group`: a panic with nobody awaiting it
    /// leaves it ended and panicked instead of ending the process (the
    /// group's `wait` finds it and re-raises it).
    pub const SUPERVISED: u64 = 8;
    /// Child-slot tags, in the low bits of the child slot: an awaited call's
    /// coroutine handle, a joined task's handle, a select.
    pub const CHILD_CALL: u64 = 0;
    pub const CHILD_JOIN: u64 = 1;
    pub const CHILD_SELECT: u64 = 2;
    pub const CHILD_TAG_MASK: u64 = 3;
    /// The low bit of a reference to an async call's frame elided into its
    /// awaiting caller's frame (frames are 8-aligned).
    pub const ELIDED_TAG: u64 = 1;
}

/// Status codes of the channel operations, the same for every one of them.
pub mod status {
    /// Done: sent, received (the value in `*out`), closed now, or the
    /// select's arm completed normally.
    pub const DONE: i32 = 0;
    /// The channel is (or was already) closed.
    pub const CLOSED: i32 = 1;
    /// Not possible without waiting (`weft_chan_try_send`, `weft_chan_try_recv`).
    pub const WOULD_BLOCK: i32 = 2;
}

/// The outcome of an I/O operation (`weft_io_status`): `OK`, or an error
/// kind plus one, in the order of `io.ErrorKind`'s variants
/// (`stdlib/io.weft`, which a compiler test compares with `ERROR_KINDS`).
pub mod io {
    pub const OK: i64 = 0;
    /// `io.ErrorKind`'s variants, in order: the status of a failed
    /// operation is the index of its kind plus one.
    pub const ERROR_KINDS: [&str; 10] = [
        "NotFound",
        "PermissionDenied",
        "AlreadyExists",
        "ConnectionRefused",
        "ConnectionReset",
        "BrokenPipe",
        "TimedOut",
        "InvalidInput",
        "Unsupported",
        "Other",
    ];
    pub const NOT_FOUND: i64 = 1;
    pub const PERMISSION_DENIED: i64 = 2;
    pub const ALREADY_EXISTS: i64 = 3;
    pub const CONNECTION_REFUSED: i64 = 4;
    pub const CONNECTION_RESET: i64 = 5;
    pub const BROKEN_PIPE: i64 = 6;
    pub const TIMED_OUT: i64 = 7;
    pub const INVALID_INPUT: i64 = 8;
    pub const UNSUPPORTED: i64 = 9;
    pub const OTHER: i64 = 10;
    /// `weft_io_stdin_line`/`_all`: what was asked for is buffered (no
    /// token: nothing to wait for).
    pub const BUFFERED: i64 = -1;
    /// A `weft_net_*` call that would block: wait for readiness, call again
    /// (below every `-status`).
    pub const WOULD_BLOCK: i64 = -1000;
    /// wasm32's `io_start` operations (app.js performs them).
    pub const OP_STDIN: i32 = 1;
    pub const OP_READ_FILE: i32 = 2;
    pub const OP_WRITE_FILE: i32 = 3;
    pub const OP_REMOVE: i32 = 4;
    /// `http.get` on wasm32: the host's `fetch`; the result is
    /// `STATUS\n`, then `name: value\n` per header, `\n`, then the body.
    pub const OP_FETCH: i32 = 5;
}

/// The value-shape codes of `weft_format`'s shape tables.
pub mod shape {
    pub const INT: u32 = 0;
    pub const FLOAT: u32 = 1;
    pub const BOOL: u32 = 2;
    pub const STRING: u32 = 3;
    /// A struct: its name and its fields' names and shapes.
    pub const STRUCT: u32 = 4;
    /// An enum: its variants.
    pub const ENUM: u32 = 5;
    pub const ARRAY: u32 = 6;
    pub const MAP: u32 = 7;
    /// `T?`: a box of `T`, or null.
    pub const OPTIONAL: u32 = 8;
    /// Printed as its type name (channels, tasks, functions).
    pub const OPAQUE: u32 = 9;
    /// One variant of an enum.
    pub const VARIANT: u32 = 10;
    /// `Bytes`: printed as the list of its byte values.
    pub const BYTES: u32 = 11;
    /// A value of an interface type (the object itself); `count` is the
    /// interface, whose table before the object's descriptor starts with
    /// the value's own shape (`layout::itable_index`).
    pub const INTERFACE: u32 = 12;
    /// A struct or enum that implements `Display`: `items[0]` is its
    /// `to_string` (`fn(ref) -> ref`), which the formatter calls.
    pub const DISPLAY: u32 = 13;
}

/// Format specs in interpolation (`"{x:.3}"`, `"{n:08x}"`, `"{s:*^9}"`):
/// `[[fill]align][0][width][.precision][type]`, as in Rust. The compiler
/// parses each spec to check it; the runtime parses the same text again to
/// format (both with this one parser).
pub mod format {
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Align {
        Left,
        Right,
        Center,
    }

    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Spec {
        pub fill: char,
        /// `None`: numbers go right, everything else left.
        pub align: Option<Align>,
        /// `0`: zero-padded after the sign (numbers only).
        pub zero: bool,
        pub width: usize,
        pub precision: Option<usize>,
        /// `x`, `X`, `b`, `o` (ints), `e` (floats) or none.
        pub kind: Option<char>,
    }

    /// Widths and precisions above this are refused (a spec is source text,
    /// so a huge one is a mistake, not a need).
    pub const MAX_WIDTH: usize = 1 << 16;

    fn align_of(c: char) -> Option<Align> {
        match c {
            '<' => Some(Align::Left),
            '>' => Some(Align::Right),
            '^' => Some(Align::Center),
            _ => None,
        }
    }

    impl Spec {
        pub fn parse(text: &str) -> Result<Spec, &'static str> {
            let mut spec = Spec {
                fill: ' ',
                align: None,
                zero: false,
                width: 0,
                precision: None,
                kind: None,
            };
            let mut rest = text;
            let mut two = rest.chars();
            let (c0, c1) = (two.next(), two.next());
            if let (Some(f), Some(a)) = (c0, c1.and_then(align_of)) {
                spec.fill = f;
                spec.align = Some(a);
                rest = two.as_str();
            } else if let Some(a) = c0.and_then(align_of) {
                spec.align = Some(a);
                rest = &rest[1..];
            }
            if let Some(r) = rest.strip_prefix('0') {
                spec.zero = true;
                rest = r;
            }
            fn number(rest: &mut &str) -> Result<Option<usize>, &'static str> {
                let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
                if digits == 0 {
                    return Ok(None);
                }
                let mut n: usize = 0;
                for d in rest[..digits].bytes() {
                    n = n.saturating_mul(10).saturating_add((d - b'0') as usize);
                }
                *rest = &rest[digits..];
                if n > MAX_WIDTH {
                    return Err("a width or precision above 65536");
                }
                Ok(Some(n))
            }
            spec.width = number(&mut rest)?.unwrap_or(0);
            if let Some(r) = rest.strip_prefix('.') {
                rest = r;
                match number(&mut rest)? {
                    Some(p) => spec.precision = Some(p),
                    None => return Err("a `.` must be followed by the precision"),
                }
            }
            let mut tail = rest.chars();
            match tail.next() {
                Some(c @ ('x' | 'X' | 'b' | 'o' | 'e')) => {
                    spec.kind = Some(c);
                    rest = tail.as_str();
                }
                Some(_) => return Err("expected `[[fill]align][0][width][.precision][x|X|b|o|e]`"),
                None => {}
            }
            if !rest.is_empty() {
                return Err("unexpected text after the spec");
            }
            Ok(spec)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_specs_parse_as_in_rust() {
        use format::{Align, Spec};
        let s = Spec::parse("*^9.2x").unwrap();
        assert_eq!(
            (s.fill, s.align, s.width, s.precision, s.kind),
            ('*', Some(Align::Center), 9, Some(2), Some('x'))
        );
        let s = Spec::parse("08.3").unwrap();
        assert!(s.zero && s.width == 8 && s.precision == Some(3) && s.align.is_none());
        let s = Spec::parse("<5").unwrap();
        assert_eq!((s.fill, s.align, s.width), (' ', Some(Align::Left), 5));
        assert_eq!(Spec::parse("").unwrap().width, 0);
        assert!(Spec::parse(".").is_err());
        assert!(Spec::parse("5q").is_err());
        assert!(Spec::parse("99999999").is_err());
    }

    #[test]
    fn promise_fields_are_in_order_and_indexed() {
        assert_eq!(layout::promise_field(layout::PROMISE_STATE), 3);
        assert_eq!(layout::promise_field(layout::PROMISE_REFS), 4);
        assert!(layout::PROMISE_FIELDS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn every_function_is_listed_once() {
        for (i, f) in RuntimeFn::ALL.iter().enumerate() {
            for g in &RuntimeFn::ALL[i + 1..] {
                assert_ne!(f.signature().name, g.signature().name);
            }
        }
    }

    #[test]
    fn signatures_compare() {
        use AbiType::*;
        let f = RuntimeFn::WriteInt;
        assert!(signature_matches(
            f,
            "weft_write_int",
            &[I32, I64],
            2,
            Void,
            false
        ));
        assert!(!signature_matches(
            f,
            "weft_write_int",
            &[I64, I64],
            2,
            Void,
            false
        ));
        assert!(!signature_matches(
            f,
            "weft_write_float",
            &[I32, I64],
            2,
            Void,
            false
        ));
        assert!(!signature_matches(
            f,
            "weft_write_int",
            &[I32, I64],
            2,
            Void,
            true
        ));
        assert!(signature_matches(
            RuntimeFn::Exit,
            "weft_exit",
            &[I64],
            1,
            Void,
            true
        ));
    }
}
