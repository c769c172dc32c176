//! Unit tests of the pass and the verifier on IR fixtures.

use super::*;
use crate::optimize::{self, describe_pipeline, run_pipeline, take_error, weft_run_pipeline};
use inkwell::context::Context;
use inkwell::memory_buffer::MemoryBuffer;
use inkwell::values::AnyValue;

const NATIVE: GcConfig = GcConfig { gc_addrspace: 1 };
const WASM: GcConfig = GcConfig { gc_addrspace: 0 };

/// Declarations the native test functions call: `@alloc` and `@gc` may
/// collect, `@log` is `"weft-nogc"`, `@peek` only reads memory.
const DECLS: &str = r#"
declare ptr addrspace(1) @alloc()
declare void @gc()
declare void @use(ptr addrspace(1))
declare void @use2(ptr addrspace(1), ptr addrspace(1))
declare void @log(ptr addrspace(1)) "weft-nogc"
declare i64 @peek(ptr addrspace(1)) memory(read)
"#;

fn demotion(lo: usize, hi: usize) -> Demotion {
    Demotion {
        value: std::ptr::null_mut(),
        uses: Vec::new(),
        hull: (lo, hi),
    }
}

/// Values whose hulls are disjoint share a slot; values that meet, even
/// at one position (the call that uses one and defines the next), do not.
#[test]
fn slots_are_shared_only_between_disjoint_live_ranges() {
    let chain = [
        demotion(0, 5),
        demotion(5, 9),
        demotion(9, 12),
        demotion(13, 20),
    ];
    let (colors, count) = color_slots(&chain);
    assert_ne!(colors[0], colors[1]);
    assert_ne!(colors[1], colors[2]);
    assert_eq!(colors[0], colors[2]);
    assert_eq!(count, 2);
    let nested = [
        demotion(0, 100),
        demotion(10, 20),
        demotion(30, 40),
        demotion(50, 200),
    ];
    let (colors, count) = color_slots(&nested);
    assert_eq!(count, 2);
    assert!(colors[1..].iter().all(|&c| c != colors[0]));
    assert_eq!(colors[1], colors[2]);
    assert_eq!(colors[2], colors[3]);
    let (_, none) = color_slots(&[]);
    assert_eq!(none, 0);
}

fn parse<'c>(ctx: &'c Context, target: Target, ir: &str) -> Module<'c> {
    let text = format!("{DECLS}\n{ir}");
    let buf = MemoryBuffer::create_from_memory_range_copy(text.as_bytes(), "test");
    let module = ctx
        .create_module_from_ir(buf)
        .unwrap_or_else(|e| panic!("bad test IR: {}", e.to_string_lossy()));
    let machine = optimize::target_machine(target, 2).expect("target machine");
    optimize::configure(&module, &machine);
    module
}

fn native<'c>(ctx: &'c Context, ir: &str) -> Module<'c> {
    parse(ctx, Target::Native, ir)
}

fn spill(module: &Module, name: &str, config: GcConfig) -> Result<Outcome, String> {
    let f = module.get_function(name).expect("no such function");
    // SAFETY: the function belongs to the live module.
    unsafe { spill_function(f.as_value_ref(), config, true) }
}

fn text(module: &Module, name: &str) -> String {
    let f = module.get_function(name).expect("no such function");
    f.print_to_string().to_string()
}

fn assert_valid(module: &Module) {
    if let Err(e) = module.verify() {
        panic!(
            "invalid IR: {}\n{}",
            e.to_string_lossy(),
            module.print_to_string().to_string()
        );
    }
}

fn pipeline(module: &Module, target: Target, level: u8) {
    let machine = optimize::target_machine(target, level).expect("target machine");
    run_pipeline(module, &machine, level, GcConfig::for_target(target), true)
        .unwrap_or_else(|e| panic!("pipeline failed: {e}"));
    assert_valid(module);
}

/// Runs the pass a second time on every function: nothing may change.
fn assert_idempotent(module: &Module, config: GcConfig) {
    let before = module.print_to_string().to_string();
    for f in module.get_functions() {
        let name = f.get_name().to_string_lossy().into_owned();
        let outcome = spill(module, &name, config).expect("second run");
        assert!(!outcome.changed, "second run changed `{name}`: {outcome:?}");
    }
    assert_eq!(before, module.print_to_string().to_string());
}

/// Line of the first line of `haystack` containing `needle`.
fn line_of(haystack: &str, needle: &str) -> usize {
    haystack
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("`{needle}` not found in:\n{haystack}"))
}

const LIVE_ACROSS: &str = r#"
define void @f() {
entry:
  %a = call ptr addrspace(1) @alloc()
  call void @gc()
  call void @use(ptr addrspace(1) %a)
  ret void
}
"#;

#[test]
fn spilled_through_the_pipeline_at_o0_and_o2() {
    for level in [0, 2] {
        let ctx = Context::create();
        let m = native(&ctx, LIVE_ACROSS);
        pipeline(&m, Target::Native, level);
        let ir = text(&m, "f");
        assert!(ir.contains("%frame.roots = alloca"), "O{level}: {ir}");
        assert!(
            ir.contains("%gc.reload = load ptr addrspace(1)"),
            "O{level}: {ir}"
        );
        assert!(
            ir.contains("store ptr %frame.roots, ptr @weft_shadow_top"),
            "O{level}: {ir}"
        );
        assert_eq!(verify_gc(&m), Ok(()), "O{level}");
        assert_idempotent(&m, NATIVE);
    }
}

#[test]
fn no_frame_when_nothing_is_live_across_a_safepoint() {
    let ctx = Context::create();
    let m = native(
        &ctx,
        r#"
define void @f(i64 %n, ptr addrspace(1) %arg) {
entry:
  call void @use(ptr addrspace(1) %arg)
  br label %head
head:
  %p = phi ptr addrspace(1) [ null, %entry ], [ %q, %body ]
  %i = phi i64 [ 0, %entry ], [ %i1, %body ]
  %c = icmp slt i64 %i, %n
  br i1 %c, label %body, label %exit
body:
  call void @log(ptr addrspace(1) %p)
  %q = call ptr addrspace(1) @alloc()
  %i1 = add i64 %i, 1
  br label %head
exit:
  ret void
}
"#,
    );
    let outcome = spill(&m, "f", NATIVE).unwrap();
    assert!(!outcome.changed, "{outcome:?}");
    assert!(!text(&m, "f").contains("frame.roots"));
    assert!(m.get_global("weft_shadow_top").is_none());
    for level in [0, 2] {
        let ctx = Context::create();
        let m = native(&ctx, &text(&m, "f"));
        pipeline(&m, Target::Native, level);
        assert!(!text(&m, "f").contains("frame.roots"), "O{level}");
        assert_eq!(verify_gc(&m), Ok(()));
    }
}

#[test]
fn arguments_are_spilled_at_entry_and_every_return_pops() {
    let ctx = Context::create();
    let m = native(
        &ctx,
        r#"
define void @f(ptr addrspace(1) %x, i1 %c) {
entry:
  br i1 %c, label %a, label %b
a:
  tail call void @gc()
  call void @use(ptr addrspace(1) %x)
  ret void
b:
  call void @gc()
  br i1 %c, label %dead, label %out
dead:
  unreachable
out:
  call void @use(ptr addrspace(1) %x)
  ret void
}
"#,
    );
    let outcome = spill(&m, "f", NATIVE).unwrap();
    assert_eq!(outcome.slots, ["x"]);
    assert_valid(&m);
    let ir = text(&m, "f");
    let push = line_of(&ir, "store ptr %frame.roots, ptr @weft_shadow_top");
    let spill_store = line_of(&ir, "store ptr addrspace(1) %x, ptr %root.0");
    assert!(
        push < spill_store && spill_store < line_of(&ir, "br i1 %c"),
        "{ir}"
    );
    assert_eq!(
        ir.matches("store ptr %frame.prev, ptr @weft_shadow_top")
            .count(),
        2,
        "{ir}"
    );
    // A `tail` marker would let LLVM assume the callee cannot read the frame.
    assert!(!ir.contains("tail call"), "{ir}");
    assert_eq!(verify_gc(&m), Ok(()));
    assert_idempotent(&m, NATIVE);
}

#[test]
fn pointer_turned_integer_keeps_its_object_rooted() {
    let ctx = Context::create();
    let m = native(
        &ctx,
        r#"
define i64 @f() {
entry:
  %s = call ptr addrspace(1) @alloc()
  %k = ptrtoint ptr addrspace(1) %s to i64
  call void @gc()
  ret i64 %k
}
"#,
    );
    let outcome = spill(&m, "f", NATIVE).unwrap();
    assert_eq!(outcome.slots, ["k"]);
    assert_valid(&m);
    let ir = text(&m, "f");
    assert!(
        ir.contains("%gc.spill = inttoptr i64 %k to ptr addrspace(1)"),
        "{ir}"
    );
    assert!(
        ir.contains("%gc.reload.int = ptrtoint ptr addrspace(1) %gc.reload to i64"),
        "{ir}"
    );
    assert_eq!(verify_gc(&m), Ok(()));
    assert_idempotent(&m, NATIVE);
}

#[test]
fn the_pass_runs_after_inlining_at_o2() {
    // @wrap may collect (it calls an unknown function) until it is inlined:
    // then only the "weft-nogc" @log is left between the definition and the use.
    let ir = r#"
define internal void @wrap(ptr addrspace(1) %x) {
entry:
  call void @log(ptr addrspace(1) %x)
  ret void
}
define void @f() {
entry:
  %a = call ptr addrspace(1) @alloc()
  call void @wrap(ptr addrspace(1) %a)
  call void @use(ptr addrspace(1) %a)
  ret void
}
"#;
    let ctx = Context::create();
    let m = native(&ctx, ir);
    pipeline(&m, Target::Native, 0);
    assert!(text(&m, "f").contains("frame.roots"), "O0 does not inline");
    assert_eq!(verify_gc(&m), Ok(()));
    let ctx = Context::create();
    let m = native(&ctx, ir);
    pipeline(&m, Target::Native, 2);
    let f = text(&m, "f");
    assert!(!f.contains("@wrap") && !f.contains("frame.roots"), "{f}");
    assert_eq!(verify_gc(&m), Ok(()));
}

#[test]
fn inlined_frames_stay_intact_and_are_not_spilled_again() {
    // @callee keeps its own frame; once inlined into @caller at O2 the
    // caller's pass must leave that frame alone and root only its own values.
    let ctx = Context::create();
    let m = native(
        &ctx,
        r#"
define internal ptr addrspace(1) @callee(ptr addrspace(1) %x) {
entry:
  %y = call ptr addrspace(1) @alloc()
  call void @gc()
  call void @use2(ptr addrspace(1) %x, ptr addrspace(1) %y)
  ret ptr addrspace(1) %y
}
define void @caller() {
entry:
  %a = call ptr addrspace(1) @alloc()
  %b = call ptr addrspace(1) @callee(ptr addrspace(1) %a)
  call void @gc()
  call void @use2(ptr addrspace(1) %a, ptr addrspace(1) %b)
  ret void
}
"#,
    );
    pipeline(&m, Target::Native, 2);
    let ir = text(&m, "caller");
    assert!(!ir.contains("@callee"), "not inlined: {ir}");
    assert_eq!(ir.matches("!weft.root.frame").count(), 2, "{ir}");
    assert_eq!(verify_gc(&m), Ok(()));
    assert_idempotent(&m, NATIVE);
}

#[test]
fn new_values_in_a_function_with_a_frame_get_a_nested_frame() {
    // A frame made by an earlier run keeps working; a value that later
    // code motion left live across a call gets a second frame, pushed
    // before and popped after the first, so the shadow stack stays nested.
    let ctx = Context::create();
    let m = native(
        &ctx,
        r#"
@weft_shadow_top = external global ptr
define void @f() {
entry:
  %frame.roots = alloca { ptr, i64, [1 x ptr addrspace(1)] }, align 8, !weft.root.frame !0
  %frame.prev = load ptr, ptr @weft_shadow_top
  store ptr %frame.prev, ptr %frame.roots
  %frame.count = getelementptr inbounds { ptr, i64, [1 x ptr addrspace(1)] }, ptr %frame.roots, i32 0, i32 1
  store i64 1, ptr %frame.count
  %root.0 = getelementptr inbounds { ptr, i64, [1 x ptr addrspace(1)] }, ptr %frame.roots, i32 0, i32 2, i64 0
  store ptr addrspace(1) null, ptr %root.0
  store ptr %frame.roots, ptr @weft_shadow_top
  %a = call ptr addrspace(1) @alloc()
  store ptr addrspace(1) %a, ptr %root.0
  %b = call ptr addrspace(1) @alloc()
  call void @gc()
  %r = load ptr addrspace(1), ptr %root.0
  call void @use2(ptr addrspace(1) %r, ptr addrspace(1) %b)
  store ptr %frame.prev, ptr @weft_shadow_top
  ret void
}
!0 = !{}
"#,
    );
    assert_eq!(verify_gc(&m).unwrap_err().len(), 1);
    let outcome = spill(&m, "f", NATIVE).unwrap();
    assert_eq!(outcome.slots, ["b"]);
    assert_valid(&m);
    let ir = text(&m, "f");
    let new_push = line_of(&ir, "store ptr %frame.roots1, ptr @weft_shadow_top");
    let old_push = line_of(&ir, "store ptr %frame.roots, ptr @weft_shadow_top");
    let old_pop = line_of(&ir, "store ptr %frame.prev, ptr @weft_shadow_top");
    // The new frame's saved top is the first load of @weft_shadow_top.
    let load = ir
        .lines()
        .find(|l| l.contains("= load ptr, ptr @weft_shadow_top"));
    let new_prev = load.unwrap().trim().split(' ').next().unwrap();
    assert_ne!(new_prev, "%frame.prev", "{ir}");
    let new_pop = line_of(&ir, &format!("store ptr {new_prev}, ptr @weft_shadow_top"));
    assert!(
        new_push < old_push && old_push < old_pop && old_pop < new_pop,
        "{ir}"
    );
    assert_eq!(verify_gc(&m), Ok(()));
    assert_idempotent(&m, NATIVE);
}

#[test]
fn wasm32_treats_pointers_not_derived_from_allocas_as_references() {
    let ir = r#"
declare ptr @walloc()
declare void @wuse(ptr, ptr)
@table = global [4 x ptr] zeroinitializer
define void @w(ptr %arg) {
entry:
  %buf = alloca [16 x i8], align 4
  %p = getelementptr i8, ptr %buf, i32 4
  %g = getelementptr i8, ptr @table, i32 4
  %s = call ptr @walloc()
  %t = getelementptr i8, ptr %s, i32 8
  call void @gc()
  call void @wuse(ptr %p, ptr %g)
  call void @wuse(ptr %t, ptr %arg)
  ret void
}
"#;
    let ctx = Context::create();
    let m = parse(&ctx, Target::Wasm32, ir);
    let outcome = spill(&m, "w", WASM).unwrap();
    assert_eq!(outcome.slots, ["arg", "t"]);
    assert_valid(&m);
    let w = text(&m, "w");
    assert!(
        w.contains("%frame.roots = alloca { ptr, i64, [2 x ptr] }"),
        "{w}"
    );
    assert_eq!(GcConfig::for_module(&m), WASM);
    assert_eq!(verify_gc(&m), Ok(()));
    // The saved shadow-stack top is a `ptr` load, but not a GC reference.
    assert_idempotent(&m, WASM);
    for level in [0, 2] {
        let ctx = Context::create();
        let m = parse(&ctx, Target::Wasm32, ir);
        pipeline(&m, Target::Wasm32, level);
        assert_eq!(verify_gc(&m), Ok(()), "O{level}");
        assert_idempotent(&m, WASM);
    }
}

#[test]
fn verifier_rejects_a_value_live_across_a_safepoint() {
    let ctx = Context::create();
    let m = native(&ctx, LIVE_ACROSS);
    let problems = verify_gc(&m).unwrap_err();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("function `f`"), "{problems:?}");
    assert!(
        problems[0].contains("%a = call ptr addrspace(1) @alloc()"),
        "{problems:?}"
    );
    assert!(problems[0].contains("call void @gc()"), "{problems:?}");
}

#[test]
fn unsupported_code_is_an_error_not_a_crash() {
    let ir = r#"
define void @dyn(i64 %n) {
entry:
  br label %more
more:
  %x = alloca ptr addrspace(1), i64 %n
  store ptr addrspace(1) null, ptr %x
  ret void
}
"#;
    let ctx = Context::create();
    let m = native(&ctx, ir);
    let e = spill(&m, "dyn", NATIVE).unwrap_err();
    assert!(e.contains("`dyn`") && e.contains("unsupported"), "{e}");
    // Through the pipeline: an error, and the module stays valid.
    let ctx = Context::create();
    let m = native(&ctx, ir);
    let machine = optimize::target_machine(Target::Native, 0).unwrap();
    let e = run_pipeline(&m, &machine, 0, NATIVE, true).unwrap_err();
    assert!(e.contains("dynamic GC alloca"), "{e}");
    assert_valid(&m);
}

mod coroutine;
