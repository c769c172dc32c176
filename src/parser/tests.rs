//! Parser tests: the language's examples, shapes, recovery, hostile inputs.

use super::*;
use crate::lexer::lex;

fn parse_src(src: &str) -> (Module, u32, Vec<Diagnostic>) {
    let (tokens, _) = lex(src, 0);
    parse(tokens, 0)
}

/// Parses a program that must be free of errors, checking that its ids are
/// exactly `0..count`.
fn ok(src: &str) -> Module {
    let (lex_tokens, lex_diags) = lex(src, 0);
    assert!(lex_diags.is_empty(), "lexer errors: {lex_diags:?}");
    let (module, count, diags) = parse(lex_tokens, 0);
    assert!(diags.is_empty(), "unexpected errors: {diags:#?}");
    let mut walk = Walk::default();
    walk.module(&module);
    walk.ids.sort_unstable();
    let expected: Vec<u32> = (0..count).collect();
    assert_eq!(walk.ids, expected, "ids are not dense");
    module
}

fn error_ids(src: &str) -> Vec<&'static str> {
    parse_src(src).2.iter().map(|d| d.id).collect()
}

/// Collects expression ids and measures how deep the tree goes, as a
/// recursive later phase would.
#[derive(Default)]
struct Walk {
    ids: Vec<u32>,
    max_depth: usize,
}

impl Walk {
    fn module(&mut self, m: &Module) {
        for item in &m.items {
            match item {
                Item::Fn(f) => self.block(&f.body, 1),
                Item::Impl(i) => i.methods.iter().for_each(|f| self.block(&f.body, 1)),
                _ => {}
            }
        }
    }
    fn block(&mut self, b: &Block, d: usize) {
        self.max_depth = self.max_depth.max(d);
        for s in &b.stmts {
            self.stmt(s, d);
        }
    }
    fn stmt(&mut self, s: &Stmt, d: usize) {
        {
            match s {
                Stmt::Let { value, .. } | Stmt::Yield(value, _) | Stmt::Defer(value, _) => {
                    self.expr(value, d + 1)
                }
                Stmt::Assign { target, value, .. } => {
                    self.expr(target, d + 1);
                    self.expr(value, d + 1);
                }
                Stmt::Expr(e) => self.expr(e, d + 1),
                Stmt::While { cond, body, .. } => {
                    self.expr(cond, d + 1);
                    self.block(body, d + 1);
                }
                Stmt::WhileLet { value, body, .. } => {
                    self.expr(value, d + 1);
                    self.block(body, d + 1);
                }
                Stmt::For { iter, body, .. } => {
                    self.expr(iter, d + 1);
                    self.block(body, d + 1);
                }
                Stmt::Loop { body, .. } => self.block(body, d + 1),
                Stmt::Return(v, _) => v.iter().for_each(|e| self.expr(e, d + 1)),
                Stmt::Break(..) | Stmt::Continue(..) => {}
                Stmt::Labeled { body, .. } => self.stmt(body, d),
            }
        }
    }
    fn expr(&mut self, e: &Expr, d: usize) {
        self.ids.push(e.id);
        self.max_depth = self.max_depth.max(d);
        let d = d + 1;
        match &e.kind {
            ExprKind::Str(parts) => {
                for p in parts {
                    if let StrPart::Expr(e) | StrPart::Format(e, _) = p {
                        self.expr(e, d);
                    }
                }
            }
            ExprKind::Array(es) | ExprKind::Construct(_, es) => {
                es.iter().for_each(|e| self.expr(e, d))
            }
            ExprKind::Repeat(v, n) => {
                self.expr(v, d);
                self.expr(n, d);
            }
            ExprKind::StructLit { fields, .. } => fields.iter().for_each(|(_, e)| self.expr(e, d)),
            ExprKind::Unary(_, a)
            | ExprKind::Field(a, _)
            | ExprKind::Unwrap(a)
            | ExprKind::Try(a)
            | ExprKind::Await(a)
            | ExprKind::Spawn(a) => self.expr(a, d),
            ExprKind::Binary(_, a, b)
            | ExprKind::Index(a, b)
            | ExprKind::Range {
                start: a, end: b, ..
            } => {
                self.expr(a, d);
                self.expr(b, d);
            }
            ExprKind::Call(f, args) => {
                self.expr(f, d);
                args.iter().for_each(|e| self.expr(e, d));
            }
            ExprKind::If { cond, then, els } => {
                self.expr(cond, d);
                self.block(then, d);
                els.iter().for_each(|e| self.expr(e, d));
            }
            ExprKind::IfLet {
                value, then, els, ..
            } => {
                self.expr(value, d);
                self.block(then, d);
                els.iter().for_each(|e| self.expr(e, d));
            }
            ExprKind::Block(b) | ExprKind::Closure { body: b, .. } => self.block(b, d),
            ExprKind::Match(s, arms) => {
                self.expr(s, d);
                arms.iter().for_each(|a| self.expr(&a.body, d));
            }
            ExprKind::Select(arms) => {
                for a in arms {
                    self.expr(&a.op, d);
                    self.block(&a.body, d);
                }
            }
            ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Bool(_)
            | ExprKind::Nil
            | ExprKind::Name(_)
            | ExprKind::Error => {}
        }
    }
}

fn main_body(m: &Module) -> &[Stmt] {
    for item in &m.items {
        if let Item::Fn(f) = item {
            if f.name.name == "main" {
                return &f.body.stmts;
            }
        }
    }
    panic!("no main")
}

#[test]
fn language_examples_parse() {
    ok(r#"
gen fn count(from: int, to: int) -> int {
var i = from
while i < to { yield i; i += 1 }
}
fn main() {
var sum = 0
for x in count(0, 10) { sum += x }
let g = count(0, 3)
println(g.next())        // 0   (next() returns int?; nil once finished)
}
"#);
    ok(r#"
import time

async fn fetch(id: int) -> string {
await time.sleep(10 * id)      // milliseconds
return "item {id}"
}

async fn main() {
let t = spawn fetch(2)         // Task[string], starts concurrently
let a = await fetch(1)         // call and wait
let b = await t                // join; re-raises the task's panic
println(a + " " + b)
}
"#);
    ok(r#"
import time
async fn main() {
let ch = Chan[int](0)            // capacity 0: unbuffered (rendezvous)
let ch2 = Chan[int](1)
await ch.send(1)                 // waits while the channel is full
let v = await ch.recv()          // int?; nil once closed and drained
ch.close()
select {
    v = ch.recv() => { println(v) }
    ch2.send(3) => { }
    time.after(100) => { println("timeout") }
}
}
"#);
    ok(r#"
struct Node { value: int, children: [Node] }
struct P {
x: float,
y: float,
}
impl P {
fn len(self) -> float { return math.sqrt(self.x * self.x + self.y * self.y) }
async fn later(self, ms: int) { await time.sleep(ms) }
gen fn coords(self) -> float { yield self.x; yield self.y }
}
fn main() {
let p = P { x: 3.0, y: 4.0 }
let n = Node { value: 1, children: [] }
let q = geo.Point { x: 1 }
println(p.len())
p.x = 2.5
n.children.push(Node {
    value: 2,
    children: [],
})
}
"#);
    ok(r#"
enum Shape { Circle(float), Rect(float, float), Empty }
enum Dir {
North
South,
}
fn area(s: Shape) -> float {
return match s {
    Circle(r) => 3.14 * r * r
    Shape.Rect(w, h) => w * h,
    Shape.Empty => 0.0
    _ => { panic("?") }
}
}
fn describe(n: int, s: string, b: bool, o: int?) -> string {
match n { 0 => "zero", -1 => "minus one", x => "other" }
match s { "a" => 1, _ => 2 }
match b { true => 1, false => 2 }
match o { nil => 0, v => v }
return ""
}
fn main() {}
"#);
    ok(r#"
fn apply(f: fn(int) -> int, x: int) -> int { return f(x) }
fn make() -> fn(int, int) -> int? { return fn(a: int, b: int) -> int? { return nil } }
fn main() {
var k = 3
let add = fn(x: int) -> int { return x * k }
println(apply(add, 4))
fn() { println("now") }()
let m = Map[string, int]()
m["a"] = 1
let xs = [int]()
let xss = [[int]]()
let os = [int?]()
let t: Task[int]? = nil
let g: Gen[string] = words()
let arr = [1, 2, 3,]
let grid = [
    [1, 2],
    [3, 4],
]
println(xs.len() + arr[0] + grid[1][0])
let name = "Ann"
println("hello {name}, {1 + 2} and {m.get("a")!} {"nested {name}"}")
if let v = m.get("b") { println(v) } else if k > 2 { println("k") } else { println("none") }
while let v = it.next() { println(v) }
defer println("bye")
defer { cleanup() }
for i in 0..10 { }
for i in 0..=k * 2 { }
let r = 1..n
let parts = text
    .split(",")
    .map(trim)
let total = (1 +
    2)
let e: float = -2.5
let big = -9223372036854775808
let bits = 1 << 3 | 4 & 5 ^ 6 >> 1
let c = !(a && b || c) != false
x -= 1; x *= 2; x /= 3;;
loop { break }
let u = o!.field!
return
}
"#);
}

#[test]
fn tests_programs_shapes_parse() {
    ok(r#"
fn abs(x: int) -> int {
let r = if x < 0 { -x } else { x }
return r
}
fn sign(x: float) -> float {
return if x < 0.0 { -1.0 } else if x > 0.0 { 1.0 } else { 0.0 }
}
fn main() {
if n < 2 { return false }
if n % 2 == 0 { n = n / 2 } else { n = 3 * n + 1 }
if a {
}
else {
}
for k in 1..=3 { print(k); print(" ") }
println()
}
"#);
}

#[test]
fn precedence_and_structure() {
    let m = ok("fn main() { x = 1 + 2 * 3 - 4\n await ch.recv()\n a..b + 1 }");
    let body = main_body(&m);
    let Stmt::Assign {
        value, op: None, ..
    } = &body[0]
    else {
        panic!("{:?}", body[0])
    };
    // (1 + (2 * 3)) - 4
    let ExprKind::Binary(BinOp::Sub, lhs, _) = &value.kind else {
        panic!("{value:?}")
    };
    assert!(matches!(&lhs.kind, ExprKind::Binary(BinOp::Add, _, r)
        if matches!(r.kind, ExprKind::Binary(BinOp::Mul, _, _))));
    let Stmt::Expr(aw) = &body[1] else { panic!() };
    let ExprKind::Await(inner) = &aw.kind else {
        panic!("{aw:?}")
    };
    assert!(matches!(inner.kind, ExprKind::Call(..)));
    let Stmt::Expr(r) = &body[2] else { panic!() };
    assert!(
        matches!(&r.kind, ExprKind::Range { inclusive: false, end, .. }
        if matches!(end.kind, ExprKind::Binary(BinOp::Add, ..)))
    );
}

#[test]
fn newlines_end_statements() {
    let m = ok("fn main() {\n f\n (x)\n a\n - b\n c\n .d()\n return\n x\n}");
    let body = main_body(&m);
    assert_eq!(body.len(), 7, "{body:#?}");
    assert!(matches!(&body[4], Stmt::Expr(e) if matches!(e.kind, ExprKind::Call(..))));
    assert!(matches!(body[5], Stmt::Return(None, _)));
    // Inside parentheses, newlines do not matter.
    let m = ok("fn main() {\n f(a\n , b\n )\n let x = (a\n - b)\n}");
    assert_eq!(main_body(&m).len(), 2);
    assert_eq!(error_ids("fn main() { a b }"), vec!["expected-newline"]);
    assert_eq!(
        error_ids("fn main() { let x = 1 2; y = 3 }"),
        vec!["expected-newline"]
    );
}

#[test]
fn constructors_and_struct_literals() {
    let m = ok("fn main() {\n let a = [int]()\n let b = [x]\n let c = Foo[i]\n let d = Map[string, [int?]](8)\n let s = geo.P { x: 1 }\n}");
    let body = main_body(&m);
    let value = |i: usize| match &body[i] {
        Stmt::Let { value, .. } => &value.kind,
        s => panic!("{s:?}"),
    };
    assert!(matches!(value(0), ExprKind::Construct(TypeExpr::Array(..), args) if args.is_empty()));
    assert!(matches!(value(1), ExprKind::Array(es) if es.len() == 1));
    assert!(matches!(value(2), ExprKind::Index(..)));
    assert!(
        matches!(value(3), ExprKind::Construct(TypeExpr::Named { args, .. }, a)
        if args.len() == 2 && a.len() == 1)
    );
    assert!(matches!(value(4), ExprKind::StructLit { name, .. } if name.len() == 2));
    // No struct literals in conditions: `{` opens the body.
    let m =
        ok("fn main() {\n if x == S { }\n for v in xs { }\n while p { }\n if f(S { a: 1 }) { }\n}");
    assert_eq!(main_body(&m).len(), 4);
}

#[test]
fn many_errors_reported_in_one_run() {
    let src = "
fn main() {
let x =
let y = (1 + 2
foo(1 2)
z = 3 4
if { }
let ok = 1
}
fn g( { }
struct S { a int, b: float }
while top { }
fn h() -> { }
enum E { A(, B }
fn last() { println(\"{1 2}\") }
";
    let (module, _, diags) = parse_src(src);
    let ids: Vec<_> = diags.iter().map(|d| d.id).collect();
    assert!(diags.len() >= 9, "{diags:#?}");
    assert!(ids.contains(&"expected-expression"));
    assert!(ids.contains(&"expected-token"));
    assert!(ids.contains(&"expected-newline"));
    assert!(ids.contains(&"expected-item"));
    assert!(ids.contains(&"expected-type"));
    assert!(ids.contains(&"invalid-interpolation"));
    // Distinct positions: no cascades on one token.
    let mut starts: Vec<_> = diags.iter().map(|d| d.labels[0].0.start).collect();
    starts.dedup();
    assert_eq!(starts.len(), diags.len());
    // Recovery keeps the good parts.
    let names: Vec<_> = module
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Fn(f) => Some(f.name.name.as_str()),
            _ => None,
        })
        .collect();
    assert!(
        names.contains(&"main") && names.contains(&"last"),
        "{names:?}"
    );
}

#[test]
fn unclosed_block_ends_at_next_item() {
    let (module, _, diags) =
        parse_src("fn a() {\n let x = f(1\n}\nfn b() {\n if x {\n}\nfn c() {}\n");
    assert_eq!(module.items.len(), 3);
    assert!(diags.iter().all(|d| d.id == "expected-token"), "{diags:#?}");
    let close = &diags.last().unwrap();
    assert!(close.message.contains("expected `}`"), "{close:?}");
    assert_eq!(close.labels[1].1, "to close this `{`");
}

#[test]
fn error_messages() {
    let (_, _, d) = parse_src("fn main() { f(1, 2 }");
    assert_eq!(d[0].message, "expected `,` or `)`, found `}`");
    let (_, _, d) = parse_src("fn main() { let x = (1 + 2 }");
    assert_eq!(d[0].message, "expected `)`, found `}`");
    assert_eq!(d[0].labels[1].1, "to close this `(`");
    let (_, _, d) = parse_src("}");
    assert_eq!(d[0].id, "expected-item");
    assert_eq!(d[0].message, "expected an item such as `fn`, found `}`");
}

#[test]
fn interpolation_ids_are_shared() {
    let m = ok("fn main() { println(\"{a} and {b + \"{c}\"}\") }");
    let Stmt::Expr(call) = &main_body(&m)[0] else {
        panic!()
    };
    assert!(matches!(&call.kind, ExprKind::Call(_, args)
        if matches!(&args[0].kind, ExprKind::Str(parts) if parts.len() == 3)));
}

#[test]
fn deep_but_legal_nesting_parses() {
    let n = 200;
    let src = format!(
        "fn main() {{ let x = {}1{} }}",
        "(".repeat(n),
        ")".repeat(n)
    );
    ok(&src);
    let src = format!("fn main() {{ let x = {}1 }}", "-".repeat(n));
    ok(&src);
    let src = format!("fn main() {{ {}{} }}", "{".repeat(n), "}".repeat(n));
    ok(&src);
    let src = format!("fn main() {{ let x = {}{} }}", "[".repeat(n), "]".repeat(n));
    ok(&src);
    let src = format!("fn main() {{ let x = 1{} }}", "+1".repeat(n));
    ok(&src);
    let src = format!("fn main() {{ let x = a{} }}", ".b".repeat(n));
    ok(&src);
    let src = format!(
        "fn main() {{ let x = [{}int{}]() }}",
        "[".repeat(n),
        "]".repeat(n)
    );
    ok(&src);
    let src = format!("fn main() {{ let x: int{} = nil }}", "?".repeat(n));
    ok(&src);
    let src = format!(
        "fn main() {{ let x = {}1{} }}",
        "f(".repeat(n / 2),
        ")".repeat(n / 2)
    );
    ok(&src);
}

/// Hostile inputs: each must end with errors (one `nesting-too-deep` where
/// nesting is the problem), no panic, and a tree of bounded depth.
#[test]
fn hostile_inputs() {
    // The compiler parses on a 256 MiB stack (main.rs); so does this test.
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(hostile_inputs_on_a_big_stack)
        .unwrap()
        .join()
        .unwrap();
}

fn hostile_inputs_on_a_big_stack() {
    let cases: Vec<(String, bool)> = vec![
        (String::new(), false),
        ("}".into(), false),
        ("(".repeat(1_000_000), false),
        (format!("fn main() {{ {} }}", "(".repeat(1_000_000)), true),
        (
            format!("fn main() {{ x = {}1 }}", "-".repeat(100_000)),
            true,
        ),
        (
            format!("fn main() {{ x = {}1 }}", "!".repeat(100_000)),
            true,
        ),
        (
            format!("fn main() {{ x = {}1 }}", "await ".repeat(100_000)),
            true,
        ),
        (format!("fn main() {{ a{} }}", ".b".repeat(100_000)), true),
        (format!("fn main() {{ a{} }}", "()".repeat(100_000)), true),
        (format!("fn main() {{ a{} }}", "[0]".repeat(100_000)), true),
        (format!("fn main() {{ a{} }}", "!".repeat(100_000)), true),
        (
            format!("fn main() {{ x = 1{} }}", "+1".repeat(1_000_000)),
            true,
        ),
        (
            format!(
                "fn main() {{ x = 1{} }}",
                " || 1 && 1 == 1 | 1 ^ 1 & 1 << 1 + 1 * 1".repeat(20_000)
            ),
            true,
        ),
        (format!("fn main() {{ {} }}", "{".repeat(100_000)), true),
        (format!("fn main() {{ x = {} }}", "[".repeat(100_000)), true),
        (
            format!(
                "fn main() {{ x = {}1{} }}",
                "[".repeat(100_000),
                "]".repeat(100_000)
            ),
            true,
        ),
        (
            format!(
                "fn main() {{ x = {}int{}() }}",
                "[".repeat(100_000),
                "]".repeat(100_000)
            ),
            true,
        ),
        (
            format!("fn main() {{ x = Map{}() }}", "[Map".repeat(100_000)),
            true,
        ),
        (
            format!("fn f(x: {}int) {{ }}", "fn() -> ".repeat(100_000)),
            true,
        ),
        (format!("fn f(x: int{}) {{ }}", "?".repeat(100_000)), true),
        (
            format!(
                "fn main() {{ if a {{ }} {} }}",
                "else if a { } ".repeat(10_000)
            ),
            true,
        ),
        (
            format!("fn main() {{ match x {{ {} }} }}", "A(".repeat(100_000)),
            true,
        ),
        (
            format!("fn main() {{ x = {} }}", "fn() { ".repeat(100_000)),
            true,
        ),
        (
            format!("fn main() {{ x = {} }}", "S { a: ".repeat(100_000)),
            true,
        ),
        (
            format!("fn main() {{ x = {} }}", "match a { _ => ".repeat(100_000)),
            true,
        ),
        (
            format!("fn main() {{ x = {} }}", "if a { ".repeat(100_000)),
            true,
        ),
        (format!("fn main() {{ x = {} }}", "\"{".repeat(100)), false),
        ("fn main() { x = \"{(((((((((((\" }".into(), false),
        ("fn main() { x = [int]( }".into(), false),
        ("fn main() { x = Map[string, int] }".into(), false),
        ("fn fn fn struct enum impl import async gen".into(), false),
        ("fn main() { match }".into(), false),
        ("fn main() { select { v = => } }".into(), false),
        ("impl { fn }".into(), false),
        ("impl S { x fn a(self) {} ) }".into(), false),
        ("struct S { a: }".into(), false),
        ("enum E { A(int }".into(), false),
        (")]}>".repeat(1000), false),
        ("fn main() { ".to_string() + &")]".repeat(1000), false),
    ];
    for (src, deep) in &cases {
        let (module, count, diags) = parse_src(src);
        let nesting = diags.iter().filter(|d| d.id == "nesting-too-deep").count();
        if *deep {
            assert_eq!(nesting, 1, "{}: {diags:#?}", &src[..src.len().min(60)]);
        } else {
            assert_eq!(nesting, 0, "{}: {diags:#?}", &src[..src.len().min(60)]);
        }
        if !src.is_empty() {
            let (_, lex_diags) = lex(src, 0);
            assert!(
                !diags.is_empty() || !lex_diags.is_empty(),
                "no error for {src:.60}"
            );
        }
        let mut walk = Walk::default();
        walk.module(&module);
        assert!(walk.ids.iter().all(|&id| id < count));
        assert!(
            walk.max_depth <= 2 * MAX_TREE_DEPTH as usize + 4,
            "depth {}",
            walk.max_depth
        );
    }
}

/// Random byte soup and random token soup: no panics, no hangs.
#[test]
fn random_inputs_never_panic() {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let fragments = [
        "fn",
        "main",
        "(",
        ")",
        "{",
        "}",
        "[",
        "]",
        "let",
        "var",
        "x",
        "=",
        "1",
        "2.5",
        "\n",
        ",",
        ":",
        ";",
        ".",
        "..",
        "..=",
        "+",
        "-",
        "*",
        "!",
        "?",
        "==",
        "&&",
        "if",
        "else",
        "while",
        "for",
        "in",
        "match",
        "=>",
        "select",
        "struct",
        "enum",
        "impl",
        "S",
        "Map",
        "int",
        "->",
        "\"a{x}b\"",
        "\"{",
        "}\"",
        "return",
        "await",
        "spawn",
        "yield",
        "defer",
        "async",
        "gen",
        "import",
        "_",
        "nil",
        "true",
        "loop",
        "break",
        "+=",
        "Chan",
        " ",
    ];
    for round in 0..3000 {
        let src = if round % 3 == 0 {
            let bytes: Vec<u8> = (0..200).map(|_| (next() % 128) as u8).collect();
            String::from_utf8_lossy(&bytes).into_owned()
        } else {
            let mut s = String::new();
            for _ in 0..(next() % 80) {
                s.push_str(fragments[(next() % fragments.len() as u64) as usize]);
                s.push(' ');
            }
            s
        };
        let (module, count, _) = parse_src(&src);
        let mut walk = Walk::default();
        walk.module(&module);
        assert!(walk.ids.iter().all(|&id| id < count), "{src}");
        let mut ids = walk.ids.clone();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), walk.ids.len(), "duplicate ids for {src}");
    }
}
