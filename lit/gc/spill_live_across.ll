; The pass on an ordinary function: a GC value live across a call that may
; collect goes into a slot of a shadow-stack root frame, stored right after
; its definition and reloaded right before its use; the frame is pushed at
; entry and popped before the return. (The IR-fixture form of the unit test
; value_live_across_unknown_call_gets_a_slot, through `weft opt`.)
; RUN: %weft opt --gc-spill --verify-gc %s | FileCheck %s
; RUN: %weft opt --gc-spill %s -o %t.ll && %weft opt --gc-spill %t.ll | FileCheck %s
; RUN: %weft opt -O2 --verify-gc %s | FileCheck %s --check-prefix=O2
; And without the pass, the verifier rejects the same function.
; RUN: not %weft opt --verify-gc %s 2>&1 | FileCheck %s --check-prefix=BAD
; CHECK-LABEL: define void @f()
; CHECK: %frame.roots = alloca { ptr, i64, [1 x ptr addrspace(1)] }{{.*}}!weft.root.frame
; CHECK: store i64 1, ptr %frame.count
; CHECK: store ptr %frame.roots, ptr @weft_shadow_top
; CHECK: %a = call ptr addrspace(1) @alloc()
; CHECK-NEXT: store ptr addrspace(1) %a, ptr %root.0
; CHECK: call void @gc()
; CHECK: %gc.reload = load ptr addrspace(1), ptr %root.0
; CHECK-NEXT: call void @use(ptr addrspace(1) %gc.reload)
; CHECK: store ptr %frame.prev, ptr @weft_shadow_top
; CHECK-NEXT: ret void
; O2-LABEL: define void @f()
; O2: store ptr addrspace(1) %a, ptr
; O2: call void @gc()
; O2: load ptr addrspace(1), ptr
; BAD: function `f`: GC value `%a = call ptr addrspace(1) @alloc()` is live across the safepoint

declare ptr addrspace(1) @alloc()
declare void @gc()
declare void @use(ptr addrspace(1))

define void @f() {
entry:
  %a = call ptr addrspace(1) @alloc()
  call void @gc()
  call void @use(ptr addrspace(1) %a)
  ret void
}
