; A reference carried as an integer across a safepoint: its bits are a GC
; value too (the pass roots them), so unrooted bits there are an error.
target triple = "x86_64-unknown-linux-gnu"

declare ptr addrspace(1) @weft_array_new(i32, i64)
declare void @weft_array_push(ptr addrspace(1), i64)

define void @bits_across(ptr addrspace(1) %keep) {
  %a = call ptr addrspace(1) @weft_array_new(i32 1, i64 0)
  %bits = ptrtoint ptr addrspace(1) %a to i64
  %b = call ptr addrspace(1) @weft_array_new(i32 1, i64 0)
  call void @weft_array_push(ptr addrspace(1) %b, i64 %bits)
  ret void
}
