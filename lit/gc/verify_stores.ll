; --verify-gc rejects a GC value stored anywhere but a root slot or a heap
; object (an out-parameter, a global, a plain alloca), and only those: the
; store into the object's own field is fine. After the pass the GC alloca is
; a root slot; the other two stay wrong.
; RUN: not %weft opt --verify-gc %s 2>&1 | FileCheck %s
; RUN: not %weft opt --gc-spill --verify-gc %s 2>&1 | FileCheck %s --check-prefix=SPILLED
; CHECK: error: the GC invariant does not hold:
; CHECK-NEXT: function `bad`: GC value `a` is stored outside a root slot or heap object: `store ptr addrspace(1) %a, ptr %out
; CHECK-NEXT: function `bad`: GC value `a` is stored outside a root slot or heap object: `store ptr addrspace(1) %a, ptr @global
; CHECK-NEXT: function `bad`: GC value `a` is stored outside a root slot or heap object: `store ptr addrspace(1) %a, ptr %local
; CHECK-NOT: %field
; SPILLED: error: the GC invariant does not hold:
; SPILLED-NEXT: ptr %out
; SPILLED-NEXT: ptr @global
; SPILLED-NOT: function `bad`
declare ptr addrspace(1) @alloc()

@global = global ptr addrspace(1) null
define void @bad(ptr %out) {
entry:
  %local = alloca ptr addrspace(1)
  %a = call ptr addrspace(1) @alloc()
  store ptr addrspace(1) %a, ptr %out
  store ptr addrspace(1) %a, ptr @global
  store ptr addrspace(1) %a, ptr %local
  %field = getelementptr i8, ptr addrspace(1) %a, i64 16
  store ptr addrspace(1) %a, ptr addrspace(1) %field
  ret void
}
