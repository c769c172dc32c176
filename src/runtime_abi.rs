//! The compiler's side of the runtime's C ABI (`runtime/src/abi.rs`).
//!
//! Codegen declares runtime functions only through `RuntimeFn`, so this list is
//! the single place where the compiler states what it expects of the runtime;
//! the test below checks it against the runtime's source.

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
    /// Declared for completeness of the ABI; no Weft construct calls it yet.
    #[allow(dead_code)]
    GcCollect,
    StringConcat,
    StringJoinPieces,
    StringEq,
    StringCompare,
    StringFromInt,
    StringFromFloat,
    StringFromBool,
    Format,
    ArrayNew,
    ArrayPush,
    MapNew,
    MapSet,
    MapGet,
    MapHas,
    MapRemove,
    MapLen,
    MapKeys,
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
    /// The scheduler (async/await, tasks); declared ahead of the codegen that calls them.
    #[allow(dead_code)]
    TaskReady,
    TaskCancel,
    GenFinalizable,
    TaskPanic,
    TaskPanicString,
    TaskPanicIndex,
    TaskReraise,
    TaskUnawaited,
    #[allow(dead_code)]
    Sleep,
    #[allow(dead_code)]
    NowMs,
    #[allow(dead_code)]
    RunAsyncMain,
    /// Channels and `select`; declared ahead of the codegen that calls them.
    #[allow(dead_code)]
    ChanNew,
    #[allow(dead_code)]
    ChanTrySend,
    #[allow(dead_code)]
    ChanTryRecv,
    #[allow(dead_code)]
    ChanClose,
    #[allow(dead_code)]
    SelectNew,
    SelectOneRecv,
    SelectOneSend,
    #[allow(dead_code)]
    SelectRecv,
    #[allow(dead_code)]
    SelectSend,
    #[allow(dead_code)]
    SelectAfter,
    #[allow(dead_code)]
    SelectStart,
    #[allow(dead_code)]
    SelectFired,
    #[allow(dead_code)]
    SelectResult,
    #[allow(dead_code)]
    SelectCancel,
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
    /// Every runtime function; the test below checks it against the runtime.
    #[cfg(test)]
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
        RuntimeFn::StringFromFloat,
        RuntimeFn::StringFromBool,
        RuntimeFn::Format,
        RuntimeFn::ArrayNew,
        RuntimeFn::ArrayPush,
        RuntimeFn::MapNew,
        RuntimeFn::MapSet,
        RuntimeFn::MapGet,
        RuntimeFn::MapHas,
        RuntimeFn::MapRemove,
        RuntimeFn::MapLen,
        RuntimeFn::MapKeys,
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
        RuntimeFn::SelectFired,
        RuntimeFn::SelectResult,
        RuntimeFn::SelectCancel,
    ];

    pub fn signature(self) -> Signature {
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
            RuntimeFn::Format => ("weft_format", &[I64, Ptr], Ref, false, false),
            RuntimeFn::ArrayNew => ("weft_array_new", &[I32, I64], Ref, false, false),
            RuntimeFn::ArrayPush => ("weft_array_push", &[Ref, I64], Void, false, false),
            RuntimeFn::MapNew => ("weft_map_new", &[I32, I32], Ref, false, false),
            RuntimeFn::MapSet => ("weft_map_set", &[Ref, I64, I64], Void, false, false),
            RuntimeFn::MapGet => ("weft_map_get", &[Ref, I64, Ptr], I32, false, true),
            RuntimeFn::MapHas => ("weft_map_has", &[Ref, I64], I32, false, true),
            RuntimeFn::MapRemove => ("weft_map_remove", &[Ref, I64], I32, false, true),
            RuntimeFn::MapLen => ("weft_map_len", &[Ref], I64, false, true),
            RuntimeFn::MapKeys => ("weft_map_keys", &[Ref], Ref, false, false),
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
            RuntimeFn::SelectFired => ("weft_select_fired", &[Ref], I64, false, true),
            RuntimeFn::SelectResult => ("weft_select_result", &[Ref, Ptr], I32, false, true),
            RuntimeFn::SelectCancel => ("weft_select_cancel", &[Ref], Void, false, true),
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

/// Type descriptors the runtime defines for its own objects; the compiler
/// refers to them by these symbols.
pub const DESC_STRING: &str = "weft_desc_string";
pub const DESC_BOX_SCALAR: &str = "weft_desc_box_scalar";
pub const DESC_BOX_REF: &str = "weft_desc_box_ref";
/// The head of the shadow stack of root frames.
pub const SHADOW_TOP: &str = "weft_shadow_top";

/// The symbol the runtime's entry point calls; codegen defines it.
pub const ENTRY_SYMBOL: &str = "weft_main";

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `weft_*` function the runtime exports is declared here and vice versa.
    #[test]
    fn matches_runtime_source() {
        let src = include_str!("../runtime/src/abi.rs");
        let mut exported: Vec<&str> = src
            .lines()
            .filter_map(|l| {
                let l = l.trim();
                let rest = l
                    .strip_prefix("pub extern \"C\" fn ")
                    .or_else(|| l.strip_prefix("pub unsafe extern \"C\" fn "))?;
                let name = &rest[..rest.find('(')?];
                name.starts_with("weft_").then_some(name)
            })
            .filter(|n| *n != "weft_start")
            .collect();
        exported.sort();
        let mut declared: Vec<&str> = RuntimeFn::ALL.iter().map(|f| f.signature().name).collect();
        declared.sort();
        assert_eq!(exported, declared);
    }
}
