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
    Ptr,
    Void,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RuntimeFn {
    WriteInt,
    WriteFloat,
    WriteBool,
    WriteStr,
    Exit,
    Panic,
}

pub struct Signature {
    pub name: &'static str,
    pub params: &'static [AbiType],
    pub ret: AbiType,
    /// Never returns: declared `noreturn` so LLVM knows the path ends.
    pub noreturn: bool,
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
        RuntimeFn::Exit,
        RuntimeFn::Panic,
    ];

    pub fn signature(self) -> Signature {
        let (name, params, ret, noreturn): (_, &'static [AbiType], _, _) = match self {
            RuntimeFn::WriteInt => ("weft_write_int", &[I32, I64], Void, false),
            RuntimeFn::WriteFloat => ("weft_write_float", &[I32, F64], Void, false),
            RuntimeFn::WriteBool => ("weft_write_bool", &[I32, I32], Void, false),
            RuntimeFn::WriteStr => ("weft_write_str", &[I32, Ptr, I64], Void, false),
            RuntimeFn::Exit => ("weft_exit", &[I64], Void, true),
            RuntimeFn::Panic => ("weft_panic", &[Ptr, I64, Ptr, I64], Void, true),
        };
        Signature {
            name,
            params,
            ret,
            noreturn,
        }
    }
}

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
