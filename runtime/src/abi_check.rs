//! The runtime's exports checked against `weft_abi`'s table at compile time:
//! each row below names the export of one `RuntimeFn`, and a `const`
//! assertion compares the Rust signature's kinds (through [`AbiKind`]) with
//! the table's, so a runtime function whose parameters, result or return
//! behaviour drift from what the compiler declares fails this crate's build.
//! The `match` in `every_function_has_a_row` makes a table row without an
//! export a build error too. Each row states only the arity (the helper's
//! digit) and whether the function returns (`f` or `n`).

use crate::abi::*;
use crate::format::Shape;
use crate::object::{Header, Ref, TypeDesc};
use weft_abi::{signature_matches, AbiType, RuntimeFn};

/// The ABI kind of a Rust type at the C boundary.
trait AbiKind {
    const KIND: AbiType;
}

macro_rules! kinds {
    ($($t:ty => $k:ident),* $(,)?) => {
        $(impl AbiKind for $t { const KIND: AbiType = AbiType::$k; })*
    };
}

kinds! {
    i32 => I32,
    i64 => I64,
    u64 => I64,
    f64 => F64,
    () => Void,
    *mut Header => Ref,
    *mut u8 => Ptr,
    *const u8 => Ptr,
    *mut i64 => Ptr,
    *const Ref => Ptr,
    *const TypeDesc => Ptr,
    *const Shape => Ptr,
}

/// An export's kinds: up to six parameters, the result, and whether it
/// never returns.
struct Sig {
    params: [AbiType; 6],
    n: usize,
    ret: AbiType,
    noreturn: bool,
}

const V: AbiType = AbiType::Void;

// One helper per arity, for functions that return (`fN`) and that never do
// (`nN`). A safe `extern "C" fn` coerces to the `unsafe` pointer type too.
const fn f0<R: AbiKind>(_: unsafe extern "C" fn() -> R) -> Sig {
    Sig {
        params: [V; 6],
        n: 0,
        ret: R::KIND,
        noreturn: false,
    }
}
const fn f1<A: AbiKind, R: AbiKind>(_: unsafe extern "C" fn(A) -> R) -> Sig {
    Sig {
        params: [A::KIND, V, V, V, V, V],
        n: 1,
        ret: R::KIND,
        noreturn: false,
    }
}
const fn f2<A: AbiKind, B: AbiKind, R: AbiKind>(_: unsafe extern "C" fn(A, B) -> R) -> Sig {
    Sig {
        params: [A::KIND, B::KIND, V, V, V, V],
        n: 2,
        ret: R::KIND,
        noreturn: false,
    }
}
const fn f3<A: AbiKind, B: AbiKind, C: AbiKind, R: AbiKind>(
    _: unsafe extern "C" fn(A, B, C) -> R,
) -> Sig {
    Sig {
        params: [A::KIND, B::KIND, C::KIND, V, V, V],
        n: 3,
        ret: R::KIND,
        noreturn: false,
    }
}
const fn f4<A: AbiKind, B: AbiKind, C: AbiKind, D: AbiKind, R: AbiKind>(
    _: unsafe extern "C" fn(A, B, C, D) -> R,
) -> Sig {
    Sig {
        params: [A::KIND, B::KIND, C::KIND, D::KIND, V, V],
        n: 4,
        ret: R::KIND,
        noreturn: false,
    }
}
const fn f5<A: AbiKind, B: AbiKind, C: AbiKind, D: AbiKind, E: AbiKind, R: AbiKind>(
    _: unsafe extern "C" fn(A, B, C, D, E) -> R,
) -> Sig {
    Sig {
        params: [A::KIND, B::KIND, C::KIND, D::KIND, E::KIND, V],
        n: 5,
        ret: R::KIND,
        noreturn: false,
    }
}
const fn n1<A: AbiKind>(_: unsafe extern "C" fn(A) -> !) -> Sig {
    Sig {
        params: [A::KIND, V, V, V, V, V],
        n: 1,
        ret: V,
        noreturn: true,
    }
}
const fn n3<A: AbiKind, B: AbiKind, C: AbiKind>(_: unsafe extern "C" fn(A, B, C) -> !) -> Sig {
    Sig {
        params: [A::KIND, B::KIND, C::KIND, V, V, V],
        n: 3,
        ret: V,
        noreturn: true,
    }
}
const fn n4<A: AbiKind, B: AbiKind, C: AbiKind, D: AbiKind>(
    _: unsafe extern "C" fn(A, B, C, D) -> !,
) -> Sig {
    Sig {
        params: [A::KIND, B::KIND, C::KIND, D::KIND, V, V],
        n: 4,
        ret: V,
        noreturn: true,
    }
}

const fn matches(f: RuntimeFn, sig: Sig, name: &str) -> bool {
    signature_matches(f, name, &sig.params, sig.n, sig.ret, sig.noreturn)
}

macro_rules! exports {
    ($($id:ident => $helper:ident($f:ident)),* $(,)?) => {
        $(
            const _: () = assert!(
                matches(RuntimeFn::$id, $helper($f), stringify!($f)),
                concat!("`", stringify!($f), "` does not match weft_abi's row for ", stringify!($id))
            );
        )*
        #[expect(dead_code)]
        const fn every_function_has_a_row(f: RuntimeFn) {
            match f {
                $(RuntimeFn::$id => {})*
            }
        }
    };
}

exports! {
    WriteInt => f2(weft_write_int),
    WriteFloat => f2(weft_write_float),
    WriteBool => f2(weft_write_bool),
    WriteStr => f3(weft_write_str),
    WriteString => f2(weft_write_string),
    Exit => n1(weft_exit),
    Panic => n4(weft_panic),
    PanicString => n3(weft_panic_string),
    PanicIndex => n4(weft_panic_index),
    Alloc => f2(weft_alloc),
    CoroAlloc => f1(weft_coro_alloc),
    GcCollect => f0(weft_gc_collect),
    StringConcat => f2(weft_string_concat),
    StringJoinPieces => f2(weft_string_join_pieces),
    StringEq => f2(weft_string_eq),
    StringCompare => f2(weft_string_compare),
    StringFromInt => f1(weft_string_from_int),
    StringFromFloat => f1(weft_string_from_float),
    StringFromBool => f1(weft_string_from_bool),
    FormatInt => f3(weft_format_int),
    FormatFloat => f3(weft_format_float),
    FormatPad => f3(weft_format_pad),
    Format => f2(weft_format),
    ArrayNew => f2(weft_array_new),
    ArrayPush => f2(weft_array_push),
    ArrayFilled => f3(weft_array_filled),
    MapNew => f2(weft_map_new),
    MapSet => f3(weft_map_set),
    MapGet => f3(weft_map_get),
    MapHas => f2(weft_map_has),
    MapRemove => f2(weft_map_remove),
    MapLen => f1(weft_map_len),
    MapKeys => f1(weft_map_keys),
    MapValues => f1(weft_map_values),
    StringSlice => f5(weft_string_slice),
    BytesNew => f3(weft_bytes_new),
    BytesGet => f4(weft_bytes_get),
    BytesSet => f5(weft_bytes_set),
    BytesPush => f4(weft_bytes_push),
    BytesExtend => f2(weft_bytes_extend),
    BytesPushStr => f2(weft_bytes_push_str),
    BytesSlice => f5(weft_bytes_slice),
    BytesStr => f1(weft_bytes_str),
    StringBytes => f1(weft_string_bytes),
    StringFromCode => f3(weft_string_from_code),
    StringByte => f4(weft_string_byte),
    StringsAsciiCase => f2(weft_strings_ascii_case),
    FormatFloatDigits => f2(weft_format_float_digits),
    MapClear => f1(weft_map_clear),
    ChanLen => f1(weft_chan_len),
    ChanCap => f1(weft_chan_cap),
    Args => f0(weft_args),
    StringsSplit => f2(weft_strings_split),
    StringsJoin => f2(weft_strings_join),
    StringsTrim => f1(weft_strings_trim),
    StringsFind => f2(weft_strings_find),
    StringsReplace => f3(weft_strings_replace),
    StringsRepeat => f2(weft_strings_repeat),
    StringsChars => f1(weft_strings_chars),
    StringsParseInt => f1(weft_strings_parse_int),
    StringsParseFloat => f1(weft_strings_parse_float),
    TaskReady => f1(weft_task_ready),
    TaskCancel => f4(weft_task_cancel),
    GenFinalizable => f1(weft_gen_finalizable),
    TaskPanic => f5(weft_task_panic),
    TaskPanicString => f4(weft_task_panic_string),
    TaskPanicIndex => f5(weft_task_panic_index),
    TaskReraise => f5(weft_task_reraise),
    TaskUnawaited => n1(weft_task_unawaited),
    Sleep => f2(weft_sleep),
    NowMs => f0(weft_now_ms),
    RunAsyncMain => f1(weft_run_async_main),
    ChanNew => f4(weft_chan_new),
    ChanTrySend => f2(weft_chan_try_send),
    ChanTryRecv => f2(weft_chan_try_recv),
    ChanClose => f1(weft_chan_close),
    SelectNew => f2(weft_select_new),
    SelectOneRecv => f3(weft_select_one_recv),
    SelectOneSend => f4(weft_select_one_send),
    SelectRecv => f3(weft_select_recv),
    SelectSend => f4(weft_select_send),
    SelectAfter => f3(weft_select_after),
    SelectStart => f1(weft_select_start),
    SelectPoll => f1(weft_select_poll),
    SelectFired => f1(weft_select_fired),
    SelectResult => f2(weft_select_result),
    SelectCancel => f1(weft_select_cancel),
    IoWait => f2(weft_io_wait),
    IoStdinLine => f0(weft_io_stdin_line),
    IoStdinAll => f0(weft_io_stdin_all),
    IoTakeLine => f0(weft_io_take_line),
    IoTakeAll => f0(weft_io_take_all),
    IoReadFile => f1(weft_io_read_file),
    IoWriteFile => f2(weft_io_write_file),
    IoRemove => f1(weft_io_remove),
    IoStatus => f1(weft_io_status),
    IoTakeBytes => f1(weft_io_take_bytes),
    IoTakeString => f1(weft_io_take_string),
    IoWrite => f2(weft_io_write),
    NetListen => f1(weft_net_listen),
    NetPort => f1(weft_net_port),
    NetAccept => f1(weft_net_accept),
    NetConnect => f1(weft_net_connect),
    NetConnected => f2(weft_net_connected),
    NetRead => f3(weft_net_read),
    NetWrite => f3(weft_net_write),
    NetWait => f2(weft_net_wait),
    NetClose => f1(weft_net_close),
    NetError => f0(weft_net_error),
    TaskLink => f2(weft_task_link),
    TaskUnlink => f2(weft_task_unlink),
    TaskRunning => f0(weft_task_running),
    HttpFetch => f1(weft_http_fetch),
}
