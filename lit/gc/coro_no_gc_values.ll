; A coroutine without GC values live across a safepoint keeps its promise
; type; the pass still initialises the root-area header right after
; coro.begin: count 0, and the offset of codegen's (empty) slots.
; RUN: %weft opt --gc-spill --verify-gc %s | FileCheck %s
; RUN: %weft opt --gc-spill %s -o %t.ll && %weft opt --gc-spill --verify-gc %t.ll | FileCheck %s
; CHECK-LABEL: define ptr addrspace(1) @ints(
; CHECK: %promise = alloca %ints.Promise, align 8, !weft.coro.roots
; CHECK: %hdl = call ptr @llvm.coro.begin
; CHECK-NEXT: %promise.count = getelementptr
; CHECK-NEXT: store volatile i32 0, ptr %promise.count
; CHECK: store volatile i32 16, ptr %promise.slots_offset
; CHECK-NOT: memset
; CHECK: ret ptr addrspace(1)

target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128"
target triple = "x86_64-pc-linux-gnu"

%ints.Promise = type { i32, i32, i64, [0 x ptr addrspace(1)] }

declare ptr addrspace(1) @alloc()

declare void @gc()

declare void @use(ptr addrspace(1))

declare void @use2(ptr addrspace(1), ptr addrspace(1))

declare void @log(ptr addrspace(1)) #0

; Function Attrs: memory(read)
declare i64 @peek(ptr addrspace(1)) #1

declare ptr @weft_coro_alloc(i64) #0

declare ptr @walloc()

declare void @wuse1(ptr)

declare void @wuse2(ptr, ptr)

; Function Attrs: presplitcoroutine
define ptr addrspace(1) @ints(i64 %n) #2 {
entry:
  %promise = alloca %ints.Promise, align 8
  %id = call token @llvm.coro.id(i32 16, ptr %promise, ptr null, ptr null)
  %need = call i1 @llvm.coro.alloc(token %id)
  br i1 %need, label %coro.alloc, label %coro.begin

coro.alloc:                                       ; preds = %entry
  %size = call i64 @llvm.coro.size.i64()
  %mem = call ptr @weft_coro_alloc(i64 %size)
  br label %coro.begin

coro.begin:                                       ; preds = %coro.alloc, %entry
  %phi = phi ptr [ null, %entry ], [ %mem, %coro.alloc ]
  %hdl = call ptr @llvm.coro.begin(token %id, ptr %phi)
  %initial = call i8 @llvm.coro.suspend(token none, i1 false)
  switch i8 %initial, label %ramp.ret [
    i8 0, label %body
    i8 1, label %cleanup
  ]

body:                                             ; preds = %coro.begin
  %value = getelementptr inbounds %ints.Promise, ptr %promise, i32 0, i32 2
  br label %head

head:                                             ; preds = %next, %body
  %i = phi i64 [ 0, %body ], [ %i1, %next ]
  %more = icmp slt i64 %i, %n
  br i1 %more, label %yield, label %final

yield:                                            ; preds = %head
  store i64 %i, ptr %value, align 4
  %s1 = call i8 @llvm.coro.suspend(token none, i1 false)
  switch i8 %s1, label %ramp.ret [
    i8 0, label %next
    i8 1, label %cleanup
  ]

next:                                             ; preds = %yield
  %i1 = add i64 %i, 1
  br label %head

final:                                            ; preds = %head
  %fin = call i8 @llvm.coro.suspend(token none, i1 true)
  switch i8 %fin, label %ramp.ret [
    i8 0, label %trap
    i8 1, label %cleanup
  ]

trap:                                             ; preds = %final
  unreachable

cleanup:                                          ; preds = %final, %yield, %coro.begin
  %free = call ptr @llvm.coro.free(token %id, ptr %hdl)
  br label %ramp.ret

ramp.ret:                                         ; preds = %cleanup, %final, %yield, %coro.begin
  call void @llvm.coro.end(ptr %hdl, i1 false, token none)
  %handle = addrspacecast ptr %hdl to ptr addrspace(1)
  ret ptr addrspace(1) %handle
}

; Function Attrs: nounwind
declare i1 @llvm.coro.alloc(token) #3

; Function Attrs: nounwind
declare ptr @llvm.coro.begin(token, ptr writeonly) #3

; Function Attrs: nounwind
declare void @llvm.coro.end(ptr, i1, token) #3

; Function Attrs: nounwind memory(argmem: read)
declare ptr @llvm.coro.free(token, ptr readonly captures(none)) #4

; Function Attrs: nocallback nofree nosync nounwind willreturn memory(argmem: read)
declare token @llvm.coro.id(i32, ptr readnone, ptr readonly captures(none), ptr) #5

; Function Attrs: nounwind memory(none)
declare i64 @llvm.coro.size.i64() #6

; Function Attrs: nounwind
declare i8 @llvm.coro.suspend(token, i1) #3

attributes #0 = { "weft-nogc" }
attributes #1 = { memory(read) }
attributes #2 = { presplitcoroutine }
attributes #3 = { nounwind }
attributes #4 = { nounwind memory(argmem: read) }
attributes #5 = { nocallback nofree nosync nounwind willreturn memory(argmem: read) }
attributes #6 = { nounwind memory(none) }
