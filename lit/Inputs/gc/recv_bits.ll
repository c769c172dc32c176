; The shape of the lost-receive bug (issue 10, section 1): a received
; reference came out of the runtime's out-parameter as an integer and became a
; reference again only after an allocation, so no root held it in between.
target triple = "x86_64-unknown-linux-gnu"

declare i32 @weft_chan_try_recv(ptr addrspace(1), ptr) #0
declare ptr addrspace(1) @weft_array_new(i32, i64)

define void @received_as_bits(ptr addrspace(1) %ch, ptr addrspace(1) %keep) {
  %out = alloca i64, align 8
  %st = call i32 @weft_chan_try_recv(ptr addrspace(1) %ch, ptr %out) #0
  %bits = load i64, ptr %out, align 8
  %junk = call ptr addrspace(1) @weft_array_new(i32 1, i64 0)
  %b = inttoptr i64 %bits to ptr addrspace(1)
  store ptr addrspace(1) %b, ptr addrspace(1) %junk, align 8
  ret void
}

attributes #0 = { "weft-nogc" }
