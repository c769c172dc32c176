; Calls that cannot collect are not safepoints: a "weft-nogc" callee or
; call site, an intrinsic, a call that only reads memory. Nothing is live
; across a safepoint here, so the function gets no root frame.
; RUN: %weft opt --gc-spill --verify-gc %s | FileCheck %s
; CHECK-LABEL: define i64 @f()
; CHECK-NOT: frame.roots
; CHECK: ret i64 %n

declare ptr addrspace(1) @alloc()
declare void @gc()
declare void @use(ptr addrspace(1))
declare void @use2(ptr addrspace(1), ptr addrspace(1))
declare void @log(ptr addrspace(1)) "weft-nogc"
declare i64 @peek(ptr addrspace(1)) memory(read)

define i64 @f() {
entry:
  %a = call ptr addrspace(1) @alloc()
  call void @log(ptr addrspace(1) %a)
  call void @gc() "weft-nogc"
  %n = call i64 @peek(ptr addrspace(1) %a)
  call void @llvm.memset.p1.i64(ptr addrspace(1) %a, i8 0, i64 8, i1 false)
  call void @use(ptr addrspace(1) %a)
  ret i64 %n
}
