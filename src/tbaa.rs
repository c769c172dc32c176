//! Weft's alias classes, as LLVM type-based alias analysis (TBAA) tags.
//!
//! Memory the compiled code touches falls in classes that never overlap:
//! root slots (the gc-frame-spill pass's stores and reloads, in root frames
//! and coroutine promises), object slots (struct fields, array and `Bytes`
//! headers, closure environments and cells, boxes), array elements (in the
//! arrays' buffers) and bytes (strings' and `Bytes`' contents). A load or
//! store tagged with one class is known not to touch memory of another, so
//! LLVM keeps a length, a data pointer or a reloaded root in a register
//! across stores into a byte buffer instead of loading it again after each.
//! Untagged accesses (everything else, and the runtime's own) may alias
//! anything, and calls are unaffected: a call that may collect still
//! clobbers every root slot, because the root frames escape.
//!
//! Only an access that is certainly of its class gets a tag: codegen tags
//! accesses through a heap object's slot (`slot_ptr`), an array buffer's
//! element (`buffer_slot_ptr`) or a string's or `Bytes`' byte (`byte_ptr`),
//! all in `codegen/heap.rs`, `codegen/bytes.rs` and the element places of
//! `codegen/mod.rs`, never a local's alloca (a GC alloca becomes a root slot,
//! which an object-slot tag would wrongly set apart); the pass tags only its
//! own spills and reloads.

use llvm_sys::core::*;
use llvm_sys::prelude::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    RootSlot,
    Slot,
    Element,
    Bytes,
}

impl Class {
    fn name(self) -> &'static str {
        match self {
            Class::RootSlot => "weft root slot",
            Class::Slot => "weft object slot",
            Class::Element => "weft array element",
            Class::Bytes => "weft bytes",
        }
    }
}

/// Tags `inst` (a load or store) with `class`.
///
/// # Safety
/// `inst` must be a live load or store instruction.
pub unsafe fn set(inst: LLVMValueRef, class: Class) {
    let ctx = LLVMGetTypeContext(LLVMTypeOf(inst));
    let string = |s: &str| LLVMMDStringInContext2(ctx, s.as_ptr().cast(), s.len());
    let node =
        |items: &mut [LLVMMetadataRef]| LLVMMDNodeInContext2(ctx, items.as_mut_ptr(), items.len());
    let zero = LLVMValueAsMetadata(LLVMConstInt(LLVMInt64TypeInContext(ctx), 0, 0));
    // Nodes are uniqued by content, so every tag of a class is one node.
    let root = node(&mut [string("weft tbaa")]);
    let ty = node(&mut [string(class.name()), root, zero]);
    let tag = node(&mut [ty, ty, zero]);
    let kind = LLVMGetMDKindIDInContext(ctx, c"tbaa".as_ptr(), 4);
    LLVMSetMetadata(inst, kind, LLVMMetadataAsValue(ctx, tag));
}
