; A loop: %keep crosses the loop's calls, %acc crosses `%next = call
; @alloc()`, %next reaches the phi after `call @use2` (so the phi reads it
; through a reload at the end of %body); %init reaches the phi before any
; call and needs no slot. Idempotent, and through the pipeline at -O0 and -O2.
; RUN: %weft opt --gc-spill --verify-gc %s | FileCheck %s
; RUN: %weft opt --gc-spill %s -o %t.ll && %weft opt --gc-spill --verify-gc %t.ll | FileCheck %s
; RUN: %weft opt -O0 --verify-gc %s | FileCheck %s --check-prefix=PIPE
; RUN: %weft opt -O2 --verify-gc %s | FileCheck %s --check-prefix=PIPE
; CHECK-LABEL: define ptr addrspace(1) @loop(
; CHECK: %frame.roots = alloca { ptr, i64, [3 x ptr addrspace(1)] }
; CHECK: %keep = call ptr addrspace(1) @alloc()
; CHECK-NEXT: store ptr addrspace(1) %keep, ptr %root.0
; CHECK: %init = call ptr addrspace(1) @alloc()
; CHECK-NEXT: br label %head
; CHECK: head:
; CHECK-NEXT: %acc = phi ptr addrspace(1) [ %init, %entry ], [ %[[NEXT:gc.reload[0-9]*]], %body ]
; CHECK: store ptr addrspace(1) %acc, ptr %root.1
; CHECK: body:
; CHECK-NEXT: %next = call ptr addrspace(1) @alloc()
; CHECK-NEXT: store ptr addrspace(1) %next, ptr %root.2
; CHECK: %[[NEXT]] = load ptr addrspace(1), ptr %root.2
; CHECK-NEXT: br label %head
; CHECK: exit:
; CHECK: store ptr %frame.prev, ptr @weft_shadow_top
; CHECK-NEXT: ret ptr addrspace(1)
; PIPE-LABEL: define {{.*}}@loop(
; PIPE: frame.roots

declare ptr addrspace(1) @alloc()
declare void @gc()
declare void @use(ptr addrspace(1))
declare void @use2(ptr addrspace(1), ptr addrspace(1))
declare void @log(ptr addrspace(1)) "weft-nogc"
declare i64 @peek(ptr addrspace(1)) memory(read)

define ptr addrspace(1) @loop(i64 %n) {
entry:
  %keep = call ptr addrspace(1) @alloc()
  %init = call ptr addrspace(1) @alloc()
  br label %head
head:
  %acc = phi ptr addrspace(1) [ %init, %entry ], [ %next, %body ]
  %i = phi i64 [ 0, %entry ], [ %i1, %body ]
  %c = icmp slt i64 %i, %n
  br i1 %c, label %body, label %exit
body:
  %next = call ptr addrspace(1) @alloc()
  call void @use2(ptr addrspace(1) %acc, ptr addrspace(1) %next)
  %i1 = add i64 %i, 1
  br label %head
exit:
  call void @use(ptr addrspace(1) %keep)
  ret ptr addrspace(1) %acc
}
