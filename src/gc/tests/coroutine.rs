//! Coroutine fixtures: the pass before CoroSplit, and the verifier after it.

use super::*;
// -----------------------------------------------------------------------
// Coroutines

/// What the coroutine tests call: the frame allocator (never collects),
/// and wasm32 twins of the native declarations.
const CORO_DECLS: &str = r#"
declare ptr @weft_coro_alloc(i64) "weft-nogc"
declare ptr @walloc()
declare void @wuse1(ptr)
declare void @wuse2(ptr, ptr)
"#;

/// A switched-resume generator in the shape codegen emits (see
/// /tmp/coro_spec.md): promise `{ i32 count, i32 slots_offset, i64,
/// [K x gcref] }`, `coro.alloc` through `@weft_coro_alloc`, an initial
/// suspend, then `body` (which ends with `br label %final`), a real final
/// suspend (LLVM #188230), cleanup and `coro.end`.
fn coroutine(
    target: Target,
    name: &str,
    params: &str,
    k: u32,
    allocas: &str,
    body: &str,
) -> String {
    let ret = match target {
        Target::Native => {
            "  %handle = addrspacecast ptr %hdl to ptr addrspace(1)\n  ret ptr addrspace(1) %handle"
        }
        Target::Wasm32 => "  ret ptr %hdl",
    };
    let text = format!(
        r#"
%{name}.Promise = type {{ i32, i32, i64, [{k} x ptr addrspace(1)] }}
define ptr addrspace(1) @{name}({params}) presplitcoroutine {{
entry:
  %promise = alloca %{name}.Promise, align 8
{allocas}
  %id = call token @llvm.coro.id(i32 16, ptr %promise, ptr null, ptr null)
  %need = call i1 @llvm.coro.alloc(token %id)
  br i1 %need, label %coro.alloc, label %coro.begin
coro.alloc:
  %size = call i64 @llvm.coro.size.i64()
  %mem = call ptr @weft_coro_alloc(i64 %size)
  br label %coro.begin
coro.begin:
  %phi = phi ptr [ null, %entry ], [ %mem, %coro.alloc ]
  %hdl = call ptr @llvm.coro.begin(token %id, ptr %phi)
  %initial = call i8 @llvm.coro.suspend(token none, i1 false)
  switch i8 %initial, label %ramp.ret [ i8 0, label %body
                                    i8 1, label %cleanup ]
body:
{body}
final:
  %fin = call i8 @llvm.coro.suspend(token none, i1 true)
  switch i8 %fin, label %ramp.ret [ i8 0, label %trap
                                i8 1, label %cleanup ]
trap:
  unreachable
cleanup:
  %free = call ptr @llvm.coro.free(token %id, ptr %hdl)
  br label %ramp.ret
ramp.ret:
  call void @llvm.coro.end(ptr %hdl, i1 false, token none)
{ret}
}}
"#
    );
    match target {
        Target::Native => text,
        Target::Wasm32 => text
            .replace("alloca ptr addrspace(1), align 8", "alloca ptr, align 4")
            .replace("ptr addrspace(1)", "ptr")
            .replace("@alloc()", "@walloc()")
            .replace("@use(", "@wuse1(")
            .replace("@use2(", "@wuse2("),
    }
}

/// Keeps a GC value (`%b`, also yielded through the promise's slot) and a
/// GC alloca (`%x.addr`) across a suspend.
fn keep(target: Target) -> String {
    coroutine(
        target,
        "keep",
        "",
        1,
        "  %x.addr = alloca ptr addrspace(1), align 8",
        r#"  %x = call ptr addrspace(1) @alloc()
  store ptr addrspace(1) %x, ptr %x.addr
  %b = call ptr addrspace(1) @alloc()
  %yield = getelementptr inbounds %keep.Promise, ptr %promise, i32 0, i32 3, i64 0
  store ptr addrspace(1) %b, ptr %yield
  %s1 = call i8 @llvm.coro.suspend(token none, i1 false)
  switch i8 %s1, label %ramp.ret [ i8 0, label %resume1
                               i8 1, label %cleanup ]
resume1:
  %x1 = load ptr addrspace(1), ptr %x.addr
  call void @use2(ptr addrspace(1) %x1, ptr addrspace(1) %b)
  store ptr addrspace(1) null, ptr %yield
  br label %final"#,
    )
}

/// A GC value live across an ordinary call (no suspend in between).
fn across_call(target: Target) -> String {
    coroutine(
        target,
        "across_call",
        "",
        1,
        "",
        r#"  %a = call ptr addrspace(1) @alloc()
  call void @gc()
  %yield = getelementptr inbounds %across_call.Promise, ptr %promise, i32 0, i32 3, i64 0
  store ptr addrspace(1) %a, ptr %yield
  %s1 = call i8 @llvm.coro.suspend(token none, i1 false)
  switch i8 %s1, label %ramp.ret [ i8 0, label %resume1
                               i8 1, label %cleanup ]
resume1:
  store ptr addrspace(1) null, ptr %yield
  br label %final"#,
    )
}

/// No GC values: yields the integers below %n.
fn ints(target: Target) -> String {
    coroutine(
        target,
        "ints",
        "i64 %n",
        0,
        "",
        r#"  %value = getelementptr inbounds %ints.Promise, ptr %promise, i32 0, i32 2
  br label %head
head:
  %i = phi i64 [ 0, %body ], [ %i1, %next ]
  %more = icmp slt i64 %i, %n
  br i1 %more, label %yield, label %final
yield:
  store i64 %i, ptr %value
  %s1 = call i8 @llvm.coro.suspend(token none, i1 false)
  switch i8 %s1, label %ramp.ret [ i8 0, label %next
                               i8 1, label %cleanup ]
next:
  %i1 = add i64 %i, 1
  br label %head"#,
    )
}

/// A GC argument used after the initial suspend.
fn argument(target: Target) -> String {
    coroutine(
        target,
        "argument",
        "ptr addrspace(1) %s",
        1,
        "",
        r#"  call void @use(ptr addrspace(1) %s)
  %yield = getelementptr inbounds %argument.Promise, ptr %promise, i32 0, i32 3, i64 0
  store ptr addrspace(1) %s, ptr %yield
  %s1 = call i8 @llvm.coro.suspend(token none, i1 false)
  switch i8 %s1, label %ramp.ret [ i8 0, label %resume1
                               i8 1, label %cleanup ]
resume1:
  store ptr addrspace(1) null, ptr %yield
  br label %final"#,
    )
}

fn coro_module<'c>(ctx: &'c Context, target: Target, ir: &str) -> Module<'c> {
    parse(ctx, target, &format!("{CORO_DECLS}\n{ir}"))
}

/// Runs LLVM's pipeline without the pass (to make violations).
fn pipeline_without_pass(module: &Module, target: Target, level: u8) {
    let machine = optimize::target_machine(target, level).expect("target machine");
    // SAFETY: the module and machine are live for the call; no callback.
    let error = unsafe {
        weft_run_pipeline(
            module.as_mut_ptr(),
            machine.as_mut_ptr(),
            c_uint::from(level),
            None,
            None,
            None,
            std::ptr::null_mut(),
        )
    };
    assert!(error.is_null(), "{}", take_error(error));
    assert_valid(module);
}

/// The root area the pass recorded on a function, as (slots_offset, count).
fn roots_of(module: &Module, name: &str) -> Option<(i64, i64)> {
    let f = module.get_function(name).expect("no such function");
    // SAFETY: the function belongs to the live module.
    unsafe {
        let env = Env::new(f.as_value_ref(), GcConfig::for_module(module));
        RootsMd::of_function(&env, f.as_value_ref()).map(|r| (r.slots_offset, r.count))
    }
}

/// The stores of GC values in a function, as (base, byte offset from it,
/// the store printed).
fn gc_stores(
    module: &Module,
    name: &str,
    config: GcConfig,
) -> Vec<(LLVMValueRef, Option<i64>, String)> {
    let f = module
        .get_function(name)
        .expect("no such function")
        .as_value_ref();
    // SAFETY: the function belongs to the live module; nothing is changed.
    unsafe {
        let env = Env::new(f, config);
        let mut out = Vec::new();
        for block in blocks_of(f) {
            for inst in instructions_of(block) {
                if opcode(inst) == Some(LLVMOpcode::LLVMStore)
                    && env.is_gc_pointer_type(LLVMTypeOf(operand(inst, 0)))
                    && LLVMIsAConstantPointerNull(operand(inst, 0)).is_null()
                {
                    let (base, offset) = strip_offsets(env.data_layout, operand(inst, 1));
                    out.push((base, offset, describe(inst)));
                }
            }
        }
        out
    }
}

fn param0(module: &Module, name: &str) -> LLVMValueRef {
    let f = module
        .get_function(name)
        .expect("no such function")
        .as_value_ref();
    // SAFETY: the function belongs to the live module.
    unsafe { LLVMGetParam(f, 0) }
}

#[test]
fn coroutine_roots_live_in_the_promise() {
    let ctx = Context::create();
    let m = coro_module(&ctx, Target::Native, &keep(Target::Native));
    let outcome = spill(&m, "keep", NATIVE).unwrap();
    assert_eq!(outcome.slots, ["x.addr", "b"]);
    assert_valid(&m);
    let ir = text(&m, "keep");
    // The promise grew by two slots after codegen's one; coro.id names the new one.
    assert!(
        ir.contains("%promise = alloca { %keep.Promise, [2 x ptr addrspace(1)] }, align 8, !weft.coro.roots"),
        "{ir}"
    );
    assert!(
        ir.contains("@llvm.coro.id(i32 16, ptr %promise, ptr null, ptr null)"),
        "{ir}"
    );
    // Initialised right after coro.begin: count 1 + 2, slots at byte 16, three null slots.
    let begin = line_of(&ir, "%hdl = call ptr @llvm.coro.begin");
    let count = line_of(&ir, "store volatile i32 3, ptr %promise.count");
    let offset = line_of(&ir, "store volatile i32 16, ptr %promise.slots_offset");
    let memset = line_of(
        &ir,
        "@llvm.memset.p0.i64(ptr align 8 %promise.slots, i8 0, i64 24, i1 false)",
    );
    assert!(begin < count && count < offset && offset < memset, "{ir}");
    assert!(
        ir.contains(
            "%promise.slots = getelementptr inbounds nuw %keep.Promise, ptr %promise, i32 0, i32 3"
        ),
        "{ir}"
    );
    // The GC alloca is slot 0 of the new array, %b slot 1: stored after its
    // definition, reloaded after the suspend.
    assert!(!ir.contains("alloca ptr addrspace(1)"), "{ir}");
    assert!(
        ir.contains("%x.addr = getelementptr inbounds { %keep.Promise, [2 x ptr addrspace(1)] }, ptr %promise, i32 0, i32 1, i64 0"),
        "{ir}"
    );
    let def = line_of(&ir, "%b = call ptr addrspace(1) @alloc()");
    let spill_store = line_of(&ir, "store ptr addrspace(1) %b, ptr %root.1");
    assert_eq!(def + 1, spill_store, "{ir}");
    let suspend = line_of(&ir, "%s1 = call i8 @llvm.coro.suspend");
    let reload = line_of(&ir, "%gc.reload = load ptr addrspace(1), ptr %root.1");
    let use_ = line_of(
        &ir,
        "call void @use2(ptr addrspace(1) %x1, ptr addrspace(1) %gc.reload)",
    );
    assert!(suspend < reload && reload + 1 == use_, "{ir}");
    // No shadow-stack frame in a coroutine.
    assert!(
        !ir.contains("frame.roots") && !ir.contains("weft_shadow_top"),
        "{ir}"
    );
    assert_eq!(roots_of(&m, "keep"), Some((16, 3)));
    assert_eq!(verify_gc(&m), Ok(()));
    assert_idempotent(&m, NATIVE);
}

/// The four coroutines through the whole pipeline, so CoroSplit really
/// runs (-O0: the pass before CoroEarly; -O1..-O3: after it, in the CGSCC
/// walk): (slots_offset, count) each gets, and the GC values it stores.
/// `--nocapture` prints each `.resume` clone and ramp.
#[test]
fn coroutines_through_coro_split_at_o0_to_o3() {
    type Make = fn(Target) -> String;
    let cases: [(&str, Make, i64); 4] = [
        ("keep", keep, 3),
        ("across_call", across_call, 2),
        ("ints", ints, 0),
        ("argument", argument, 2),
    ];
    for level in 0..=3u8 {
        for (name, make, count) in cases {
            let ctx = Context::create();
            let m = coro_module(&ctx, Target::Native, &make(Target::Native));
            pipeline(&m, Target::Native, level);
            let resume = format!("{name}.resume");
            let ir = text(&m, &resume);
            println!("O{level} {name}:\n{ir}\n{}", text(&m, name));
            // (a) The root area is recorded on the ramp and the clones;
            // the ramp initialises it (a volatile store of count).
            assert_eq!(roots_of(&m, name), Some((16, count)), "O{level} {name}");
            assert_eq!(roots_of(&m, &resume), Some((16, count)), "O{level} {name}");
            let ramp = text(&m, name);
            assert!(
                ramp.contains(&format!("store volatile i32 {count}, ptr")),
                "O{level}: {ramp}"
            );
            // (b) Every GC value `.resume` stores goes to the root area of
            // its frame: bytes [16 + 16, 16 + 16 + 8 * count).
            let frame = param0(&m, &resume);
            for (base, offset, store) in gc_stores(&m, &resume, NATIVE) {
                assert!(base == frame, "O{level}: not into the frame: {store}\n{ir}");
                let offset = offset.unwrap_or_else(|| panic!("O{level}: {store}"));
                assert!(
                    (32..32 + 8 * count).contains(&offset),
                    "O{level}: frame byte {offset} is outside the root area: {store}\n{ir}"
                );
            }
            // At O0 LLVM's frame type shows the promise, grown, at field 2.
            if level == 0 && count > 1 {
                let module_text = m.print_to_string().to_string();
                let frame_ty = format!(
                    "%{name}.Frame = type {{ ptr, ptr, {{ %{name}.Promise, [{} x ptr addrspace(1)] }}",
                    count - 1
                );
                assert!(module_text.contains(&frame_ty), "{module_text}");
            }
            // (c) and (d).
            assert_eq!(verify_gc(&m), Ok(()), "O{level} {name}");
            assert_idempotent(&m, NATIVE);
        }
    }
}

#[test]
fn verifier_rejects_gc_values_that_coro_split_spills() {
    for level in [0u8, 2] {
        let ctx = Context::create();
        let m = coro_module(&ctx, Target::Native, &keep(Target::Native));
        pipeline_without_pass(&m, Target::Native, level);
        let problems = verify_gc(&m).unwrap_err();
        println!("O{level}: {problems:#?}");
        assert!(
            problems
                .iter()
                .any(|p| p.contains("function `keep.resume`") && p.contains("is stored outside")),
            "O{level}: {problems:?}"
        );
    }
    // Before CoroSplit: the value is live across the suspend, and there is no root area.
    let ctx = Context::create();
    let m = coro_module(&ctx, Target::Native, &keep(Target::Native));
    let problems = verify_gc(&m).unwrap_err();
    assert!(
        problems.iter().any(|p| p.contains("without a root area")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("%b = call") && p.contains("@llvm.coro.suspend")),
        "{problems:?}"
    );
    // A GC argument CoroSplit spills in the ramp is caught there.
    let ctx = Context::create();
    let m = coro_module(&ctx, Target::Native, &argument(Target::Native));
    pipeline_without_pass(&m, Target::Native, 0);
    let problems = verify_gc(&m).unwrap_err();
    assert!(
        problems.iter().any(|p| p.contains("function `argument`")
            && p.contains(
                "GC value `s` is stored into the coroutine frame `mem`, which has no root area"
            )),
        "{problems:?}"
    );
}

#[test]
fn verifier_checks_the_root_area_of_split_clones() {
    // A clone as CoroSplit makes it, of a coroutine whose root area is 3
    // slots at byte 16 of the promise, i.e. frame bytes [32, 56).
    let ir = r#"
define internal fastcc void @g.resume(ptr %hdl) !weft.coro.roots !0 {
entry:
  %a = call ptr addrspace(1) @alloc()
  %in = getelementptr inbounds i8, ptr %hdl, i64 48
  store ptr addrspace(1) %a, ptr %in
  %last = getelementptr inbounds i8, ptr %hdl, i64 56
  store ptr addrspace(1) %a, ptr %last
  %spill = getelementptr inbounds i8, ptr %hdl, i64 24
  store ptr addrspace(1) %a, ptr %spill
  %first = getelementptr inbounds i8, ptr %hdl, i64 32
  %c = icmp eq ptr addrspace(1) %a, null
  br i1 %c, label %one, label %loop
one:
  %either = phi ptr [ %first, %entry ], [ %in, %one ]
  store ptr addrspace(1) %a, ptr %either
  br i1 %c, label %one, label %loop
loop:
  %p = phi ptr [ %first, %one ], [ %next, %loop ]
  store ptr addrspace(1) %a, ptr %p
  %next = getelementptr inbounds i8, ptr %p, i64 8
  br label %loop
}
!0 = !{!"g", i64 16, i64 3}
"#;
    let ctx = Context::create();
    let m = native(&ctx, ir);
    let problems = verify_gc(&m).unwrap_err();
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert!(
        problems[0]
            .contains("byte 56 of the coroutine frame `hdl`, outside its root area [32, 56)"),
        "{problems:?}"
    );
    assert!(
        problems[1].contains("byte 24 of the coroutine frame `hdl`"),
        "{problems:?}"
    );
    // A phi of two root slots is fine; a pointer walking the frame is not.
    assert!(
        problems[2].contains("at an unknown offset of the coroutine frame `hdl`")
            && problems[2].contains("ptr %p"),
        "{problems:?}"
    );
    // A pre-split coroutine the pass processed, then broken by hand: a GC
    // value live across a suspend is found.
    let ctx = Context::create();
    let m = coro_module(&ctx, Target::Native, &keep(Target::Native));
    spill(&m, "keep", NATIVE).unwrap();
    let broken = m.print_to_string().to_string().replace(
        "call void @use2(ptr addrspace(1) %x1, ptr addrspace(1) %gc.reload)",
        "call void @use2(ptr addrspace(1) %x1, ptr addrspace(1) %b)",
    );
    let ctx = Context::create();
    let buf = MemoryBuffer::create_from_memory_range_copy(broken.as_bytes(), "broken");
    let m = ctx.create_module_from_ir(buf).unwrap();
    let problems = verify_gc(&m).unwrap_err();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("`%b = call ptr addrspace(1) @alloc()` is live across the safepoint `%s1 = call i8 @llvm.coro.suspend"), "{problems:?}");
}

#[test]
fn new_values_in_a_processed_coroutine_extend_its_root_area() {
    // A first run, then code that leaves a new value live across the
    // suspend (as later passes could), then a second run.
    let ctx = Context::create();
    let m = coro_module(&ctx, Target::Native, &keep(Target::Native));
    spill(&m, "keep", NATIVE).unwrap();
    let grown = m
        .print_to_string()
        .to_string()
        .replace(
            "  %s1 = call i8 @llvm.coro.suspend",
            "  %late = call ptr addrspace(1) @alloc()\n  %s1 = call i8 @llvm.coro.suspend",
        )
        .replace(
            "  br label %final",
            "  call void @use(ptr addrspace(1) %late)\n  br label %final",
        );
    let ctx = Context::create();
    let buf = MemoryBuffer::create_from_memory_range_copy(grown.as_bytes(), "grown");
    let m = ctx.create_module_from_ir(buf).unwrap();
    assert_eq!(verify_gc(&m).unwrap_err().len(), 1);
    let outcome = spill(&m, "keep", NATIVE).unwrap();
    assert_eq!(outcome.slots, ["late"]);
    assert_valid(&m);
    let ir = text(&m, "keep");
    assert!(
        ir.contains("%promise = alloca { %keep.Promise, [3 x ptr addrspace(1)] }"),
        "{ir}"
    );
    // One initialisation, for all four slots; the new slot is the last.
    assert_eq!(ir.matches("%promise.count").count(), 2, "{ir}");
    assert!(
        ir.contains("store volatile i32 4, ptr %promise.count"),
        "{ir}"
    );
    assert!(ir.contains("i64 32, i1 false)"), "{ir}");
    assert!(ir.contains("ptr %promise, i32 0, i32 1, i64 2"), "{ir}");
    assert_eq!(roots_of(&m, "keep"), Some((16, 4)));
    assert_eq!(verify_gc(&m), Ok(()));
    assert_idempotent(&m, NATIVE);
    pipeline(&m, Target::Native, 0);
    assert_eq!(verify_gc(&m), Ok(()));
}

#[test]
fn wasm32_coroutines() {
    type Make = fn(Target) -> String;
    let cases: [(&str, Make); 4] = [
        ("keep", keep),
        ("across_call", across_call),
        ("ints", ints),
        ("argument", argument),
    ];
    for (name, make) in cases {
        let ctx = Context::create();
        let m = coro_module(&ctx, Target::Wasm32, &make(Target::Wasm32));
        spill(&m, name, WASM).unwrap();
        assert_valid(&m);
        let ir = text(&m, name);
        // The handle is not a reference: it gets no slot.
        assert!(!ir.contains("store ptr %hdl"), "{ir}");
        assert_eq!(verify_gc(&m), Ok(()), "{name}");
        assert_idempotent(&m, WASM);
        for level in [0u8, 2] {
            let ctx = Context::create();
            let m = coro_module(&ctx, Target::Wasm32, &make(Target::Wasm32));
            pipeline(&m, Target::Wasm32, level);
            let resume = format!("{name}.resume");
            // The frame pointer is not rooted in a shadow-stack frame.
            assert!(
                !text(&m, &resume).contains("frame.roots"),
                "O{level}: {}",
                text(&m, &resume)
            );
            let frame = param0(&m, &resume);
            let (slots_offset, count) = roots_of(&m, name).unwrap();
            for (base, offset, store) in gc_stores(&m, &resume, WASM) {
                if base == frame {
                    let offset = offset.unwrap_or_else(|| panic!("O{level}: {store}"));
                    let start = 8 + slots_offset;
                    assert!(
                        (start..start + 4 * count).contains(&offset),
                        "O{level}: {store}"
                    );
                }
            }
            assert_eq!(verify_gc(&m), Ok(()), "O{level} {name}");
            assert_idempotent(&m, WASM);
        }
    }
}

/// Keeps only a plain `ptr` made from a reference (`addrspacecast`, as
/// codegen does for a generator's handle) across the suspend: CoroSplit
/// would rematerialise the cast after it and spill the reference itself.
fn derived(target: Target) -> String {
    coroutine(
        target,
        "derived",
        "",
        0,
        "",
        r#"  %a = call ptr addrspace(1) @alloc()
  %raw = addrspacecast ptr addrspace(1) %a to ptr
  %field = getelementptr inbounds i8, ptr %raw, i64 16
  %s1 = call i8 @llvm.coro.suspend(token none, i1 false)
  switch i8 %s1, label %ramp.ret [ i8 0, label %resume1
                               i8 1, label %cleanup ]
resume1:
  %v = load i64, ptr %field
  %value = getelementptr inbounds %derived.Promise, ptr %promise, i32 0, i32 2
  store i64 %v, ptr %value
  br label %final"#,
    )
}

#[test]
fn pointers_derived_from_references_are_interior_references() {
    let ctx = Context::create();
    let m = coro_module(&ctx, Target::Native, &derived(Target::Native));
    let outcome = spill(&m, "derived", NATIVE).unwrap();
    assert_eq!(outcome.slots, ["field"]);
    assert_valid(&m);
    let ir = text(&m, "derived");
    assert!(
        ir.contains("%gc.spill = addrspacecast ptr %field to ptr addrspace(1)"),
        "{ir}"
    );
    assert!(
        ir.contains("%gc.reload.ptr = addrspacecast ptr addrspace(1) %gc.reload to ptr"),
        "{ir}"
    );
    assert!(ir.contains("load i64, ptr %gc.reload.ptr"), "{ir}");
    assert_eq!(verify_gc(&m), Ok(()));
    assert_idempotent(&m, NATIVE);
    for level in [0u8, 2] {
        // With the pass: nothing but the root area is written in the frame.
        let ctx = Context::create();
        let m = coro_module(&ctx, Target::Native, &derived(Target::Native));
        pipeline(&m, Target::Native, level);
        assert_eq!(verify_gc(&m), Ok(()), "O{level}");
        assert_idempotent(&m, NATIVE);
        // Without it, the reference ends up in a frame field.
        let ctx = Context::create();
        let m = coro_module(&ctx, Target::Native, &derived(Target::Native));
        pipeline_without_pass(&m, Target::Native, level);
        let problems = verify_gc(&m).unwrap_err();
        assert!(
            problems.iter().any(|p| p.contains(
                "function `derived.resume`: GC value `a` is stored outside a root slot or heap object"
            )),
            "O{level}: {problems:?}"
        );
    }
}

#[test]
fn coroutine_frames_and_resumes_in_ordinary_functions() {
    // A frame from @weft_coro_alloc is a GC object (here: a ramp inlined
    // into its caller); resuming a coroutine runs its code, so
    // llvm.coro.resume is a safepoint (the pass runs before CoroEarly at -O0).
    let ctx = Context::create();
    let m = coro_module(
        &ctx,
        Target::Native,
        r#"
define void @caller() {
entry:
  %mem = call ptr @weft_coro_alloc(i64 64)
  %g = call ptr addrspace(1) @alloc()
  %handle = addrspacecast ptr addrspace(1) %g to ptr
  call void @llvm.coro.resume(ptr %handle)
  store i32 1, ptr %mem
  call void @llvm.coro.destroy(ptr %handle)
  call void @use(ptr addrspace(1) %g)
  ret void
}
"#,
    );
    let problems = verify_gc(&m).unwrap_err();
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert!(
        problems[0].contains("%mem = call ptr @weft_coro_alloc"),
        "{problems:?}"
    );
    assert!(
        problems[1].contains("%g = call") && problems[1].contains("@llvm.coro.resume"),
        "{problems:?}"
    );
    assert!(
        problems[2].contains("%handle = addrspacecast")
            && problems[2].contains("@llvm.coro.resume"),
        "{problems:?}"
    );
    let outcome = spill(&m, "caller", NATIVE).unwrap();
    assert_eq!(outcome.slots, ["mem", "g", "handle"]);
    assert_valid(&m);
    assert_eq!(verify_gc(&m), Ok(()));
    assert_idempotent(&m, NATIVE);
}

#[test]
fn coroutine_without_a_promise_gets_one() {
    // No promise (the runtime still reads a header at frame + 16), and a
    // value defined before llvm.coro.begin that is used after a suspend.
    let ir = coroutine(
        Target::Native,
        "bare",
        "ptr addrspace(1) %s",
        0,
        "  %f = getelementptr inbounds i8, ptr addrspace(1) %s, i64 16",
        r#"  call void @use(ptr addrspace(1) %f)
  br label %final"#,
    )
    .replace("i32 16, ptr %promise,", "i32 16, ptr null,");
    let ctx = Context::create();
    let m = coro_module(&ctx, Target::Native, &ir);
    let outcome = spill(&m, "bare", NATIVE).unwrap();
    assert_eq!(outcome.slots, ["f"]);
    assert_valid(&m);
    let text_ = text(&m, "bare");
    assert!(
        text_.contains(
            "%promise1 = alloca { { i32, i32, [0 x ptr addrspace(1)] }, [1 x ptr addrspace(1)] }, align 8, !weft.coro.roots"
        ),
        "{text_}"
    );
    assert!(
        text_.contains("@llvm.coro.id(i32 16, ptr %promise1, ptr null, ptr null)"),
        "{text_}"
    );
    let memset = line_of(&text_, "@llvm.memset");
    let store = line_of(&text_, "store ptr addrspace(1) %f, ptr %root.0");
    assert!(memset < store, "{text_}");
    assert!(
        text_.contains("store volatile i32 1, ptr %promise.count"),
        "{text_}"
    );
    assert!(
        text_.contains("store volatile i32 8, ptr %promise.slots_offset"),
        "{text_}"
    );
    assert_eq!(verify_gc(&m), Ok(()));
    assert_idempotent(&m, NATIVE);
    for level in [0u8, 2] {
        let ctx = Context::create();
        let m = coro_module(&ctx, Target::Native, &ir);
        pipeline(&m, Target::Native, level);
        assert_eq!(roots_of(&m, "bare"), Some((8, 1)), "O{level}");
        assert_eq!(verify_gc(&m), Ok(()), "O{level}");
        assert_idempotent(&m, NATIVE);
    }
}

#[test]
fn unsupported_coroutines_are_errors() {
    let ctx = Context::create();
    let m = native(
        &ctx,
        r#"
define void @co() presplitcoroutine {
entry:
  %id = call token @llvm.coro.id(i32 0, ptr null, ptr null, ptr null)
  %a = call ptr addrspace(1) @alloc()
  call void @gc()
  call void @use(ptr addrspace(1) %a)
  ret void
}
"#,
    );
    let e = spill(&m, "co", NATIVE).unwrap_err();
    assert!(e.contains("`co`") && e.contains("llvm.coro.begin"), "{e}");
}

/// Where the pass sits in each pipeline: printed (run the test with
/// `--nocapture` to see it) and checked.
#[test]
fn pipeline_placement() {
    const PASS: &str = "weft-gc-frame-spill";
    for level in 0..=3u8 {
        let machine = optimize::target_machine(Target::Native, level).unwrap();
        let text = describe_pipeline(&machine, level);
        println!("O{level}: {text}\n");
        assert!(!text.starts_with("error"), "{text}");
        assert_eq!(text.matches(PASS).count(), 1, "O{level}: {text}");
        let pass = text.find(PASS).unwrap();
        let coro_split = text.find("coro-split").expect("coro-split");
        assert!(pass < coro_split, "O{level}: runs after CoroSplit: {text}");
        if level == 0 {
            // buildO0DefaultPipeline: always-inline, then one function(...)
            // group with every function extension point, then the coroutine passes.
            let always_inline = text.find("always-inline").unwrap();
            let coro_early = text.find("coro-early").unwrap();
            assert!(always_inline < pass && pass < coro_early, "{text}");
        } else {
            // ScalarOptimizerLate: the end of the function simplification
            // pipeline, inside the CGSCC walk, after the inliner and before
            // coro-split of the same SCC.
            let inliner = text.find("cgscc(devirt<4>(inline").expect("inliner");
            assert!(inliner < pass, "O{level}: {text}");
            let between = &text[pass..coro_split];
            assert!(
                !between.contains("cgscc("),
                "O{level}: other CGSCC walk: {text}"
            );
            for late in ["sroa", "instcombine"] {
                let last = text[..pass].rfind(late);
                assert!(
                    last.is_some_and(|l| l > inliner),
                    "O{level}: {late} before: {text}"
                );
            }
        }
    }
}
