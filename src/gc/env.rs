//! The module-level facts both the pass and the verifier need.

use super::*;

pub(crate) struct Env {
    pub(crate) config: GcConfig,
    pub(crate) ctx: LLVMContextRef,
    pub(crate) module: LLVMModuleRef,
    /// The GC reference type: `ptr addrspace(1)`, or `ptr` on wasm32.
    pub(crate) gc_ty: LLVMTypeRef,
    /// `ptr` (address space 0).
    pub(crate) ptr_ty: LLVMTypeRef,
    /// `@weft_shadow_top`, or null when the module does not mention it.
    pub(crate) shadow_top: LLVMValueRef,
    pub(crate) root_kind: c_uint,
    pub(crate) coro_kind: c_uint,
    pub(crate) coro_init_kind: c_uint,
    pub(crate) data_layout: LLVMTargetDataRef,
    /// Size and alignment of a root slot (a GC reference).
    pub(crate) slot_size: u64,
    pub(crate) slot_align: c_uint,
    /// Where the promise sits in a coroutine frame: right after the resume and
    /// destroy function pointers (16 natively, 8 on wasm32). The runtime relies
    /// on it, and LLVM puts the promise there (right after the two pointers).
    pub(crate) promise_offset: i64,
}

impl Env {
    pub(crate) unsafe fn new(function: LLVMValueRef, config: GcConfig) -> Env {
        let module = LLVMGetGlobalParent(function);
        let ctx = LLVMGetModuleContext(module);
        let name = CString::new(weft_abi::symbols::SHADOW_TOP).unwrap_or_default();
        let gc_ty = LLVMPointerTypeInContext(ctx, config.gc_addrspace);
        let data_layout = LLVMGetModuleDataLayout(module);
        Env {
            config,
            ctx,
            module,
            gc_ty,
            ptr_ty: LLVMPointerTypeInContext(ctx, 0),
            shadow_top: LLVMGetNamedGlobal(module, name.as_ptr()),
            root_kind: md_kind(ctx, ROOT_FRAME_MD),
            coro_kind: md_kind(ctx, CORO_ROOTS_MD),
            coro_init_kind: md_kind(ctx, CORO_INIT_MD),
            data_layout,
            slot_size: LLVMABISizeOfType(data_layout, gc_ty),
            slot_align: LLVMABIAlignmentOfType(data_layout, gc_ty),
            promise_offset: weft_abi::layout::promise_offset(u64::from(LLVMPointerSize(
                data_layout,
            ))) as i64,
        }
    }

    /// `@weft_shadow_top`, declared as an external `ptr` global if missing.
    pub(crate) unsafe fn shadow_top(&mut self) -> LLVMValueRef {
        if self.shadow_top.is_null() {
            let name = CString::new(weft_abi::symbols::SHADOW_TOP).unwrap_or_default();
            self.shadow_top = LLVMAddGlobal(self.module, self.ptr_ty, name.as_ptr());
        }
        self.shadow_top
    }

    pub(crate) unsafe fn is_gc_pointer_type(&self, ty: LLVMTypeRef) -> bool {
        LLVMGetTypeKind(ty) == LLVMTypeKind::LLVMPointerTypeKind
            && LLVMGetPointerAddressSpace(ty) == self.config.gc_addrspace
    }

    /// A struct, array or vector type with a GC pointer somewhere inside.
    pub(crate) unsafe fn contains_gc_pointer(&self, ty: LLVMTypeRef) -> bool {
        match LLVMGetTypeKind(ty) {
            LLVMTypeKind::LLVMPointerTypeKind => self.is_gc_pointer_type(ty),
            LLVMTypeKind::LLVMStructTypeKind => (0..LLVMCountStructElementTypes(ty))
                .any(|i| self.contains_gc_pointer(LLVMStructGetTypeAtIndex(ty, i))),
            LLVMTypeKind::LLVMArrayTypeKind
            | LLVMTypeKind::LLVMVectorTypeKind
            | LLVMTypeKind::LLVMScalableVectorTypeKind => {
                self.contains_gc_pointer(LLVMGetElementType(ty))
            }
            _ => false,
        }
    }

    /// A root-frame alloca: marked by the pass, or linked into the shadow stack.
    pub(crate) unsafe fn is_root_frame(&self, alloca: LLVMValueRef) -> bool {
        if LLVMIsAAllocaInst(alloca).is_null() {
            return false;
        }
        if !LLVMGetMetadata(alloca, self.root_kind).is_null() {
            return true;
        }
        if self.shadow_top.is_null() {
            return false;
        }
        let mut u = LLVMGetFirstUse(alloca);
        while !u.is_null() {
            let user = LLVMGetUser(u);
            if opcode(user) == Some(LLVMOpcode::LLVMStore)
                && operand(user, 0) == alloca
                && operand(user, 1) == self.shadow_top
            {
                return true;
            }
            u = LLVMGetNextUse(u);
        }
        false
    }
}
