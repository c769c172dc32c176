//! Small helpers over LLVM's C API that the pass and the verifier share.

use super::*;

extern "C" {
    /// In the shim: a call's memory effects as `MemoryEffects::toIntValue`.
    fn weft_call_memory_effects(call: LLVMValueRef) -> u32;
}

// Small helpers over the C API

pub(crate) struct Builder(pub(crate) LLVMBuilderRef);

impl Builder {
    pub(crate) unsafe fn new(ctx: LLVMContextRef) -> Self {
        Builder(LLVMCreateBuilderInContext(ctx))
    }
}

impl Drop for Builder {
    fn drop(&mut self) {
        // SAFETY: the builder was created by LLVMCreateBuilderInContext.
        unsafe { LLVMDisposeBuilder(self.0) }
    }
}

pub(crate) unsafe fn blocks_of(function: LLVMValueRef) -> Vec<LLVMBasicBlockRef> {
    let mut out = Vec::new();
    let mut b = LLVMGetFirstBasicBlock(function);
    while !b.is_null() {
        out.push(b);
        b = LLVMGetNextBasicBlock(b);
    }
    out
}

pub(crate) unsafe fn instructions_of(block: LLVMBasicBlockRef) -> Vec<LLVMValueRef> {
    let mut out = Vec::new();
    let mut i = LLVMGetFirstInstruction(block);
    while !i.is_null() {
        out.push(i);
        i = LLVMGetNextInstruction(i);
    }
    out
}

pub(crate) unsafe fn opcode(v: LLVMValueRef) -> Option<LLVMOpcode> {
    if LLVMIsAInstruction(v).is_null() {
        None
    } else {
        Some(LLVMGetInstructionOpcode(v))
    }
}

pub(crate) unsafe fn is_call(v: LLVMValueRef) -> bool {
    matches!(
        opcode(v),
        Some(LLVMOpcode::LLVMCall | LLVMOpcode::LLVMInvoke | LLVMOpcode::LLVMCallBr)
    )
}

pub(crate) unsafe fn operand(v: LLVMValueRef, i: u32) -> LLVMValueRef {
    LLVMGetOperand(v, i)
}

pub(crate) unsafe fn num_operands(v: LLVMValueRef) -> u32 {
    LLVMGetNumOperands(v).max(0) as u32
}

pub(crate) unsafe fn str_of(ptr: *const c_char, len: usize) -> String {
    if ptr.is_null() {
        return String::new();
    }
    String::from_utf8_lossy(std::slice::from_raw_parts(ptr as *const u8, len)).into_owned()
}

pub(crate) unsafe fn raw_name(v: LLVMValueRef) -> String {
    let mut len = 0usize;
    let ptr = LLVMGetValueName2(v, &mut len);
    str_of(ptr, len)
}

/// `%name` of a value, or its printed form when it has no name.
pub(crate) unsafe fn value_name(v: LLVMValueRef) -> String {
    let name = raw_name(v);
    if name.is_empty() {
        describe(v)
    } else {
        name
    }
}

/// The value as LLVM prints it, on one line.
pub(crate) unsafe fn describe(v: LLVMValueRef) -> String {
    take_message(LLVMPrintValueToString(v)).trim().to_string()
}

/// The called function, when the callee is one (not an indirect call).
pub(crate) unsafe fn called_function(call: LLVMValueRef) -> Option<LLVMValueRef> {
    let callee = LLVMGetCalledValue(call);
    (!callee.is_null() && !LLVMIsAFunction(callee).is_null()).then_some(callee)
}

pub(crate) unsafe fn is_intrinsic(function: LLVMValueRef) -> bool {
    LLVMGetIntrinsicID(function) != 0 || raw_name(function).starts_with("llvm.")
}

pub(crate) unsafe fn has_nogc_attribute(call: LLVMValueRef) -> bool {
    let key = NOGC_ATTRIBUTE.as_ptr() as *const c_char;
    let len = NOGC_ATTRIBUTE.len() as c_uint;
    let index = llvm_sys::LLVMAttributeFunctionIndex;
    if !LLVMGetCallSiteStringAttribute(call, index, key, len).is_null() {
        return true;
    }
    match called_function(call) {
        Some(f) => !LLVMGetStringAttributeAtIndex(f, index, key, len).is_null(),
        None => false,
    }
}

/// Whether the call may write memory other than through its pointer
/// arguments. Allocating and collecting do (the allocator is declared with
/// unknown memory effects), so a call that cannot is no safepoint; this is
/// also exactly when LLVM may forward a root slot's store across the call.
pub(crate) unsafe fn may_write_beyond_arguments(call: LLVMValueRef) -> bool {
    let effects = weft_call_memory_effects(call);
    // Two bits per location, ArgMem first; the high bit of a pair is "may write".
    const WRITES: u32 = 0xAAAA_AAAA;
    const ARG_MEM_WRITE: u32 = 0b10;
    effects & WRITES & !ARG_MEM_WRITE != 0
}

/// A safepoint: a call or invoke that may allocate, i.e. whose callee is not
/// an LLVM intrinsic, has no `"weft-nogc"` attribute, and may write memory
/// beyond its arguments. Indirect calls are safepoints. So are the coroutine
/// suspend points, `llvm.coro.suspend` and `llvm.coro.await.suspend.*`
/// (they only occur in coroutines before CoroSplit), `llvm.coro.save` (CoroSplit
/// treats everything between a save and its suspend as after the suspend, so a
/// value defined before the save and used by `await.suspend` would be spilled
/// into the frame), and `llvm.coro.resume` and `llvm.coro.destroy`, which run a
/// coroutine's code (CoroEarly turns them into indirect calls; at -O0 the pass
/// runs before it).
pub(crate) unsafe fn is_safepoint(inst: LLVMValueRef) -> bool {
    if !is_call(inst) {
        return false;
    }
    if let Some(f) = called_function(inst) {
        if is_intrinsic(f) {
            let name = raw_name(f);
            return matches!(
                name.as_str(),
                "llvm.coro.suspend" | "llvm.coro.save" | "llvm.coro.resume" | "llvm.coro.destroy"
            ) || name.starts_with("llvm.coro.await.suspend.");
        }
    }
    !has_nogc_attribute(inst) && may_write_beyond_arguments(inst)
}

/// The name of the function a call calls directly, if it does.
pub(crate) unsafe fn callee_name(inst: LLVMValueRef) -> Option<String> {
    if !is_call(inst) {
        return None;
    }
    called_function(inst).map(|f| raw_name(f))
}

pub(crate) unsafe fn take_message(msg: *mut c_char) -> String {
    if msg.is_null() {
        return String::new();
    }
    let text = CStr::from_ptr(msg).to_string_lossy().into_owned();
    LLVMDisposeMessage(msg);
    text
}

pub(crate) unsafe fn md_kind(ctx: LLVMContextRef, name: &str) -> c_uint {
    LLVMGetMDKindIDInContext(ctx, name.as_ptr() as *const c_char, name.len() as c_uint)
}
