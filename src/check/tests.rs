//! Unit tests of the checker on small programs.

use super::*;
use crate::{lexer, parser};

/// The diagnostics of checking `main` (a program) importing `lib`, a
/// standard-library module named `lib`.
fn check_with_stdlib(lib: &str, main: &str) -> Vec<Diagnostic> {
    let (lib_tokens, _) = lexer::lex(lib, 1);
    let (lib_ast, next, lib_diags) = parser::parse_from(lib_tokens, 1, 0);
    let (main_tokens, _) = lexer::lex(main, 0);
    let (main_ast, count, main_diags) = parser::parse_from(main_tokens, 0, next);
    assert!(lib_diags.is_empty() && main_diags.is_empty());
    let modules = [
        SourceModule {
            name: "main".into(),
            file: 0,
            source: main,
            ast: &main_ast,
            is_stdlib: false,
            imports: HashMap::from([("lib".to_string(), 1)]),
        },
        SourceModule {
            name: "std.lib".into(),
            file: 1,
            source: lib,
            ast: &lib_ast,
            is_stdlib: true,
            imports: HashMap::new(),
        },
    ];
    check(&modules, count).1
}

/// The ids of the diagnostics of checking one program file (no imports).
/// (Like a real program, it has the prelude.)
pub(super) fn check_ids(src: &str) -> Vec<&'static str> {
    let (tokens, _) = lexer::lex(src, 0);
    let (ast, next, diags) = parser::parse_from(tokens, 0, 0);
    assert!(diags.is_empty(), "{src}: parse errors {:?}", ids(&diags));
    let prelude = crate::modules::PRELUDE_TEXT;
    let (tokens, _) = lexer::lex(prelude, 1);
    let (prelude_ast, count, _) = parser::parse_from(tokens, 1, next);
    let modules = [
        SourceModule {
            name: "main".into(),
            file: 0,
            source: src,
            ast: &ast,
            is_stdlib: false,
            imports: HashMap::new(),
        },
        SourceModule {
            name: format!("std.{}", crate::modules::PRELUDE),
            file: 1,
            source: prelude,
            ast: &prelude_ast,
            is_stdlib: true,
            imports: HashMap::new(),
        },
    ];
    ids(&check(&modules, count).1)
}

/// Each program checks with exactly these diagnostic ids, in order.
pub(super) fn expect_ids(cases: &[(&str, &[&str])]) {
    for (src, want) in cases {
        assert_eq!(check_ids(src), *want, "{src}");
    }
}

fn ids(diags: &[Diagnostic]) -> Vec<&'static str> {
    diags.iter().map(|d| d.id).collect()
}

const MAIN: &str = "import lib\nfn main() { print(\"{lib.f()}\") }\n";

#[test]
fn extern_fn_calls_a_runtime_function() {
    let lib = "extern fn weft_now_ms() -> int\nfn f() -> int { return weft_now_ms() }\n";
    assert_eq!(ids(&check_with_stdlib(lib, MAIN)), Vec::<&str>::new());
}

#[test]
fn extern_fn_must_name_a_runtime_function() {
    let lib = "extern fn weft_no_such() -> int\nfn f() -> int { return 1 }\n";
    assert_eq!(
        ids(&check_with_stdlib(lib, MAIN)),
        ["unknown-runtime-function"]
    );
}

#[test]
fn extern_fn_must_have_the_runtime_signature() {
    for decl in [
        "extern fn weft_now_ms() -> float",
        "extern fn weft_now_ms(x: int) -> int",
        "extern fn weft_strings_find(s: string, sub: int) -> int",
    ] {
        let lib = format!("{decl}\nfn f() -> int {{ return 1 }}\n");
        let diags = check_with_stdlib(&lib, MAIN);
        assert_eq!(ids(&diags), ["extern-signature-mismatch"], "{decl}");
    }
}

#[test]
fn extern_fn_is_private_to_its_module() {
    let lib = "extern fn weft_now_ms() -> int\nfn f() -> int { return 1 }\n";
    let main = "import lib\nfn main() { print(\"{lib.weft_now_ms()}\") }\n";
    assert_eq!(ids(&check_with_stdlib(lib, main)), ["unknown-name"]);
}
