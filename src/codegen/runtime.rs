//! Calls into the runtime: each function is declared from `weft_abi`'s
//! table on first use (its ABI types, `nounwind`, `noreturn`, `weft-nogc`,
//! and for `weft_alloc` what makes it an allocation function to LLVM), and
//! called with the lowering's arguments.

use super::*;

impl<'ctx> Codegen<'ctx, '_> {
    pub(super) fn runtime_fn(&mut self, rf: RuntimeFn) -> FunctionValue<'ctx> {
        if let Some(&f) = self.m.runtime.get(&rf) {
            return f;
        }
        let sig = rf.signature();
        let abi = |t: AbiType| -> Option<BasicTypeEnum<'ctx>> {
            Some(match t {
                AbiType::I32 => self.cx.i32_type().into(),
                AbiType::I64 => self.cx.i64_type().into(),
                AbiType::F64 => self.cx.f64_type().into(),
                AbiType::Ptr => self.raw.into(),
                AbiType::Ref => self.gc.into(),
                AbiType::Void => return None,
            })
        };
        let params: Vec<BasicMetadataTypeEnum> = sig
            .params
            .iter()
            .filter_map(|&t| abi(t))
            .map(Into::into)
            .collect();
        let fn_type = match abi(sig.ret) {
            Some(r) => r.fn_type(&params, false),
            None => self.cx.void_type().fn_type(&params, false),
        };
        let f = self
            .module
            .add_function(sig.name, fn_type, Some(Linkage::External));
        self.add_attr(f, "nounwind");
        if sig.noreturn {
            self.add_attr(f, "noreturn");
            self.add_attr(f, "cold");
        }
        if sig.nogc {
            f.add_attribute(
                AttributeLoc::Function,
                self.cx.create_string_attribute("weft-nogc", ""),
            );
        }
        if rf == RuntimeFn::Alloc {
            // An allocation function to LLVM (contents unknown: the header is
            // set), never null and not aliased: a box made only to be
            // unboxed at once (`if let c = m.get(k)` on an `int?`) goes away.
            let kind = Attribute::get_named_enum_kind_id("allockind");
            let alloc = 1; // llvm::AllocFnKind::Alloc
            f.add_attribute(
                AttributeLoc::Function,
                self.cx.create_enum_attribute(kind, alloc),
            );
            for name in ["noalias", "nonnull"] {
                let kind = Attribute::get_named_enum_kind_id(name);
                f.add_attribute(AttributeLoc::Return, self.cx.create_enum_attribute(kind, 0));
            }
        }
        self.m.runtime.insert(rf, f);
        f
    }

    pub(super) fn call_rt(
        &mut self,
        rf: RuntimeFn,
        args: &[BasicMetadataValueEnum<'ctx>],
        name: &str,
    ) -> Result<Option<BasicValueEnum<'ctx>>> {
        let f = self.runtime_fn(rf);
        Ok(self
            .b
            .build_call(f, args, name)?
            .try_as_basic_value()
            .basic())
    }

    /// A runtime call as a lowering: its value, or `nothing`.
    pub(super) fn rt_value(
        &mut self,
        rf: RuntimeFn,
        args: &[BasicMetadataValueEnum<'ctx>],
        name: &str,
    ) -> Result<Value<'ctx>> {
        let v = self.call_rt(rf, args, name)?;
        Ok(self.lowered(v))
    }
}
