//! The layout of GC objects and type descriptors, shared by the collector and
//! by every runtime module that builds or reads objects.
//!
//! This is the runtime's half of the contract with the compiler (see the GC
//! spec in ARCHITECTURE.md); every number the compiler relies on comes from
//! `weft_abi`: an object is a 16-byte header (`desc`, `bits`)
//! followed by its payload; every value slot is 8 bytes, and a GC reference
//! in a slot is a pointer zero-extended to 64 bits (on wasm32 the upper half
//! is zero). Keeping the accessors here means no other module does pointer
//! arithmetic on headers by hand.

use core::ptr;
use weft_abi::{layout, state};

/// Payload is `size` bytes of 8-byte slots; the slots listed in
/// `ptr_offsets` hold GC references.
pub const KIND_FIXED: u32 = layout::KIND_FIXED;
/// Payload is a u64 byte length followed by that many bytes (strings).
pub const KIND_BYTES: u32 = layout::KIND_BYTES;
/// Payload is a u64 count followed by that many scalar slots.
pub const KIND_SCALAR_SLOTS: u32 = layout::KIND_SCALAR_SLOTS;
/// Payload is a u64 count followed by that many slots, each a GC reference or null.
pub const KIND_POINTER_SLOTS: u32 = layout::KIND_POINTER_SLOTS;
/// Payload is a u64 byte count followed by an LLVM coroutine frame of that
/// size. The frame's promise sits at `PROMISE_OFFSET` from the frame start
/// (after the resume and destroy function pointers) and begins with the root
/// area header: u32 slot count, u32 byte offset of the slots from the promise.
pub const KIND_FRAME: u32 = layout::KIND_FRAME;

/// Where a coroutine frame's promise starts: after two function pointers.
pub const PROMISE_OFFSET: usize =
    layout::promise_offset(core::mem::size_of::<usize>() as u64) as usize;
/// Bytes between a FRAME object's header and its coroutine frame (the size word).
pub const FRAME_PREFIX: usize = layout::FRAME_PREFIX as usize;

// Every coroutine's promise is `{ u32 count, u32 slots_offset, u64 value,
// u64 state, [3 x ref] }`, at `PROMISE_OFFSET` in its frame: the root area
// header first (what `gc` reads), then the fields the runtime and the
// compiled code share. The constants below name them.

/// Byte offset in the promise of the state word (`STATE_*` flags).
pub const PROMISE_STATE: usize = layout::PROMISE_STATE as usize;
/// Byte offset in the promise of its reference slots; each slot is a
/// pointer (`size_of::<usize>()` bytes), so on wasm32 they are 4 bytes apart.
pub const PROMISE_SLOTS: usize = layout::PROMISE_REFS as usize;
/// Promise slot of the coroutine's reference result (when its value is a
/// reference), or of its panic (a string) once it panicked.
pub const SLOT_RESULT: usize = layout::SLOT_RESULT as usize;
/// Promise slot of the continuation: the awaiting coroutine's handle, if any.
pub const SLOT_CONTINUATION: usize = layout::SLOT_CONTINUATION as usize;
/// Promise slot of what a suspended coroutine waits on, tagged in its low
/// bits (`CHILD_*`): so cancelling a task can reach it.
pub const SLOT_CHILD: usize = layout::SLOT_CHILD as usize;
/// State flag: the task was cancelled.
pub const STATE_CANCELLED: u64 = state::CANCELLED;
/// State flag: the task panicked.
pub const STATE_PANICKED: u64 = state::PANICKED;
/// State flag: a task owned by a `tasks.Group` (an unawaited panic leaves it
/// ended instead of ending the process).
pub const STATE_SUPERVISED: u64 = state::SUPERVISED;
/// State flag: a generator being resumed (compiled code sets and clears it
/// around each resume; resuming it again meanwhile is a panic).
#[expect(dead_code)]
pub const STATE_RUNNING: u64 = state::RUNNING;
/// Child-slot tags: an awaited call's coroutine handle, a joined task's
/// handle, a select (`chan`).
pub const CHILD_CALL: usize = state::CHILD_CALL as usize;
pub const CHILD_JOIN: usize = state::CHILD_JOIN as usize;
pub const CHILD_SELECT: usize = state::CHILD_SELECT as usize;
pub const CHILD_TAG_MASK: usize = state::CHILD_TAG_MASK as usize;

/// Header bit: the object was reached by the current mark phase.
pub const MARK: u64 = 1;
/// Header bit: the object is immortal and lives in read-only data.
pub const STATIC: u64 = layout::HEADER_STATIC;
/// Header bit (runtime-private): the cell is free. A free cell keeps the link
/// to the next free cell in the rest of its `bits` word, so the low three
/// bits of that word are flags and the link is 8-aligned.
pub const FREE: u64 = 4;
/// Every flag bit of the `bits` word.
pub const FLAG_MASK: u64 = 7;

/// The `desc` word of a freed cell: not a valid address on any target
/// (non-canonical on x86-64, beyond linear memory on wasm32), so code that
/// follows a stale reference's descriptor crashes at once.
pub const POISON_DESC: u64 = 0xdbdb_dbdb_dbdb_dbdb;
/// The byte freed payloads are filled with under `WEFT_GC_STRESS=1`.
pub const POISON_BYTE: u8 = 0xdb;

/// Bytes in an object header.
pub const HEADER_BYTES: usize = layout::HEADER_BYTES as usize;

/// `TypeDesc::flags` bit of a FIXED descriptor: its pointer fields may hold
/// interior pointers (coroutine handles) or null, so the collector resolves
/// them like roots instead of taking them for object starts. Only the
/// runtime's own descriptors set it; the compiler emits `flags = 0`.
pub const DESC_INTERIOR: u32 = 1;

/// A type descriptor's fixed part; FIXED descriptors continue with
/// `nptrs` u32 payload offsets (see `TypeDescWithPointers`).
#[repr(C)]
pub struct TypeDesc {
    pub kind: u32,
    pub size: u32,
    pub nptrs: u32,
    /// `DESC_*` bits (this word was padding before, so the compiler's
    /// descriptors have it zero).
    pub flags: u32,
}

/// A FIXED descriptor together with its pointer offsets, for the runtime's
/// own object types.
#[repr(C)]
pub struct TypeDescWithPointers<const N: usize> {
    pub head: TypeDesc,
    pub ptr_offsets: [u32; N],
}

impl TypeDesc {
    pub const fn new(kind: u32, size: u32) -> TypeDesc {
        TypeDesc {
            kind,
            size,
            nptrs: 0,
            flags: 0,
        }
    }

    /// The payload offsets of the reference slots of a FIXED descriptor.
    ///
    /// # Safety
    /// `self` must be followed in memory by `nptrs` u32 offsets, as the
    /// compiler and `TypeDescWithPointers` lay descriptors out.
    #[inline]
    pub unsafe fn ptr_offsets(&self) -> &[u32] {
        let first = (self as *const TypeDesc).add(1) as *const u32;
        core::slice::from_raw_parts(first, self.nptrs as usize)
    }
}

impl<const N: usize> TypeDescWithPointers<N> {
    pub const fn new(size: u32, ptr_offsets: [u32; N]) -> Self {
        TypeDescWithPointers {
            head: TypeDesc {
                kind: KIND_FIXED,
                size,
                nptrs: N as u32,
                flags: 0,
            },
            ptr_offsets,
        }
    }

    /// The same descriptor with `flags` (`DESC_*` bits) set.
    pub const fn with_flags(self, flags: u32) -> Self {
        TypeDescWithPointers {
            head: TypeDesc { flags, ..self.head },
            ptr_offsets: self.ptr_offsets,
        }
    }

    pub const fn desc(&self) -> *const TypeDesc {
        &self.head
    }
}

/// An object header. A GC reference points here.
#[repr(C)]
pub struct Header {
    pub desc: u64,
    pub bits: u64,
}

/// A GC reference as the runtime handles it.
pub type Ref = *mut Header;

/// The `desc` word of a static object: a pointer to a descriptor, padded to
/// 8 bytes on 32-bit targets, usable in a `static` initialiser.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct DescWord {
    desc: *const TypeDesc,
    #[cfg(target_pointer_width = "32")]
    high: u32,
}

// The descriptor it points to is immutable, so sharing the word is safe.
unsafe impl Sync for DescWord {}

impl DescWord {
    pub const fn new(desc: *const TypeDesc) -> DescWord {
        DescWord {
            desc,
            #[cfg(target_pointer_width = "32")]
            high: 0,
        }
    }
}

/// Turns a slot's 64 bits into a reference (the low half on wasm32).
#[inline]
pub fn slot_to_ref(bits: u64) -> Ref {
    bits as usize as Ref
}

/// Turns a reference into the 64 bits stored in a slot.
#[inline]
pub fn ref_to_slot(r: Ref) -> u64 {
    r as usize as u64
}

/// The object's descriptor.
///
/// # Safety
/// `obj` must be a live object (heap or static).
#[inline]
pub unsafe fn desc_of(obj: Ref) -> *const TypeDesc {
    (*obj).desc as usize as *const TypeDesc
}

/// The address of payload byte `offset`.
#[inline]
pub fn payload(obj: Ref, offset: usize) -> *mut u8 {
    (obj as *mut u8).wrapping_add(HEADER_BYTES + offset)
}

/// Reads the 8-byte payload slot at byte `offset`.
///
/// # Safety
/// The slot must lie inside the object.
#[inline]
pub unsafe fn read_u64(obj: Ref, offset: usize) -> u64 {
    ptr::read(payload(obj, offset) as *const u64)
}

/// Writes the 8-byte payload slot at byte `offset`.
///
/// # Safety
/// The slot must lie inside a heap (not static) object.
#[inline]
pub unsafe fn write_u64(obj: Ref, offset: usize, value: u64) {
    ptr::write(payload(obj, offset) as *mut u64, value)
}

/// The whole size of an object in bytes (header and payload, before any
/// rounding by the allocator), computed from its descriptor.
///
/// # Safety
/// `obj` must be a live object whose descriptor is valid.
#[inline]
pub unsafe fn object_bytes(obj: Ref, desc: &TypeDesc) -> Option<usize> {
    let payload = match desc.kind {
        KIND_FIXED => desc.size as usize,
        KIND_BYTES => 8 + (read_u64(obj, 0) as usize).checked_add(7)? / 8 * 8,
        KIND_SCALAR_SLOTS | KIND_POINTER_SLOTS => 8 + (read_u64(obj, 0) as usize).checked_mul(8)?,
        KIND_FRAME => FRAME_PREFIX + (read_u64(obj, 0) as usize).checked_add(7)? / 8 * 8,
        _ => return None,
    };
    Some(HEADER_BYTES + payload)
}
