; A GC alloca becomes a slot of the root frame: the alloca and its lifetime
; markers go, its uses address the slot.
; RUN: %weft opt --gc-spill --verify-gc %s | FileCheck %s
; RUN: %weft opt --gc-spill %s -o %t.ll && %weft opt --gc-spill --verify-gc %t.ll | FileCheck %s
; CHECK-LABEL: define void @f()
; CHECK-NOT: alloca ptr addrspace(1)
; CHECK-NOT: llvm.lifetime
; CHECK: %x.addr = getelementptr inbounds { ptr, i64, [1 x ptr addrspace(1)] }, ptr %frame.roots, i32 0, i32 2, i64 0
; CHECK-NOT: llvm.lifetime
; CHECK: store ptr addrspace(1) %a, ptr %x.addr
; CHECK-NOT: llvm.lifetime
; CHECK: ret void

declare ptr addrspace(1) @alloc()
declare void @gc()
declare void @use(ptr addrspace(1))
declare void @use2(ptr addrspace(1), ptr addrspace(1))
declare void @log(ptr addrspace(1)) "weft-nogc"
declare i64 @peek(ptr addrspace(1)) memory(read)

define void @f() {
entry:
  %x.addr = alloca ptr addrspace(1), align 8
  call void @llvm.lifetime.start.p0(ptr %x.addr)
  %a = call ptr addrspace(1) @alloc()
  store ptr addrspace(1) %a, ptr %x.addr, align 8
  call void @gc()
  %b = load ptr addrspace(1), ptr %x.addr, align 8
  call void @use(ptr addrspace(1) %b)
  call void @llvm.lifetime.end.p0(ptr %x.addr)
  ret void
}
