; What codegen emits now: the out-parameter is loaded as a reference, and
; bits turned back into a reference come from a reference (a tagged handle).
target triple = "x86_64-unknown-linux-gnu"

declare i32 @weft_chan_try_recv(ptr addrspace(1), ptr) #0
declare ptr addrspace(1) @weft_array_new(i32, i64)

define void @received_typed(ptr addrspace(1) %ch) {
  %out = alloca i64, align 8
  %st = call i32 @weft_chan_try_recv(ptr addrspace(1) %ch, ptr %out) #0
  %b = load ptr addrspace(1), ptr %out, align 8
  %bits = ptrtoint ptr addrspace(1) %b to i64
  %tagged = or i64 %bits, 1
  %t = inttoptr i64 %tagged to ptr addrspace(1)
  %junk = call ptr addrspace(1) @weft_array_new(i32 1, i64 0)
  store ptr addrspace(1) %junk, ptr addrspace(1) %junk, align 8
  ret void
}

attributes #0 = { "weft-nogc" }
