; A root frame linked into the shadow stack from inside another coroutine's
; frame, reached through a reference: what the code looks like when a
; generator's resume function, with a callee inlined into it, is inlined
; into the loop that drives it (gc_matrix at -O3, once `weft_alloc` became
; an allocation function to LLVM). The verifier accepts the link (the
; address derives from a GC value, kept alive by the root slot it is
; loaded from) and the stores into that root frame's slots; a link of a
; heap address that is not such a root frame (no constant count) stays
; wrong.
; RUN: not %weft opt --verify-gc %s 2>&1 | FileCheck %s
; CHECK: error: the GC invariant does not hold:
; CHECK-NEXT: function `bad`: GC value `not.frame` is stored outside a root slot or heap object: `store ptr %not.frame, ptr @weft_shadow_top
; CHECK-NOT: function `good`
@weft_shadow_top = external global ptr

declare ptr addrspace(1) @alloc()

define void @good(ptr %root.slot) {
entry:
  %child.ref = load ptr addrspace(1), ptr %root.slot
  %child = addrspacecast ptr addrspace(1) %child.ref to ptr
  %frame = getelementptr inbounds i8, ptr %child, i64 72
  %count.at = getelementptr inbounds i8, ptr %child, i64 80
  %slot.at = getelementptr inbounds i8, ptr %child, i64 88
  %prev = load ptr, ptr @weft_shadow_top
  store ptr %prev, ptr %frame
  store i64 1, ptr %count.at
  store ptr %frame, ptr @weft_shadow_top
  %v = call ptr addrspace(1) @alloc()
  %child.ref2 = load ptr addrspace(1), ptr %root.slot
  %child2 = addrspacecast ptr addrspace(1) %child.ref2 to ptr
  %slot2 = getelementptr inbounds i8, ptr %child2, i64 88
  store ptr addrspace(1) %v, ptr %slot2
  store ptr %prev, ptr @weft_shadow_top
  ret void
}

define void @bad(ptr %root.slot) {
entry:
  %obj.ref = load ptr addrspace(1), ptr %root.slot
  %obj = addrspacecast ptr addrspace(1) %obj.ref to ptr
  %not.frame = getelementptr inbounds i8, ptr %obj, i64 72
  store ptr %not.frame, ptr @weft_shadow_top
  ret void
}
