//! Loading a program: the root file and every module it imports, parsed.
//!
//! `import name` means the standard module `name` (from `stdlib/`, embedded in
//! the compiler) when there is one, else `<name>.weft` beside the importing
//! file. Every program also loads the prelude (module 1), whose items the
//! checker puts in scope everywhere. Each file is read and parsed once, however many modules import it;
//! import cycles are harmless because every name is used qualified.
//! Expression ids run on across files so the checker's tables never collide.

use crate::ast::{Item, Module, Span};
use crate::diagnostics::{DiagId, Diagnostic, SourceMap};
use crate::{lexer, parser};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The standard library, compiled into the binary.
const STDLIB: &[(&str, &str)] = &[
    ("math", include_str!("../stdlib/math.weft")),
    ("strings", include_str!("../stdlib/strings.weft")),
    ("time", include_str!("../stdlib/time.weft")),
    ("tasks", include_str!("../stdlib/tasks.weft")),
    ("iter", include_str!("../stdlib/iter.weft")),
    ("io", include_str!("../stdlib/io.weft")),
    ("net", include_str!("../stdlib/net.weft")),
    ("http", include_str!("../stdlib/http.weft")),
];

/// Standard modules only native targets have (sockets).
const NATIVE_ONLY: &[&str] = &["net"];

/// For a wasm32 build: an error at each import, in the program's own files,
/// of a module only native targets have (`net`; `http`, which uses it
/// natively, is fine: its `get` goes through the host's `fetch` there, and
/// its server needs a listener only `net` makes).
pub fn wasm_import_errors(program: &Program) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    for m in program.modules.iter().filter(|m| !m.is_stdlib) {
        for item in &m.ast.items {
            let Item::Import(import) = item else {
                continue;
            };
            let name = import.name.name.as_str();
            let Some(&target) = m.imports.get(name) else {
                continue;
            };
            let target = &program.modules[target as usize];
            let native = |module: &LoadedModule| {
                module.is_stdlib
                    && NATIVE_ONLY
                        .iter()
                        .any(|n| module.name == format!("std.{n}"))
            };
            // Only a direct import: `http` imports `net` but works on
            // wasm32 as far as a program can reach it (`http.get`).
            let needs_native = native(target);
            if needs_native {
                diags.push(
                    Diagnostic::error(
                        DiagId::Unsupported,
                        format!("`{name}` is not available on wasm32"),
                    )
                    .with_label(import.span, "needs sockets, which only native targets have")
                    .with_note(
                        "build for the native target, or leave this module out of the wasm32 build",
                    ),
                );
            }
        }
    }
    diags
}

/// The standard modules' names, sorted, for messages.
fn standard_names() -> String {
    let mut names: Vec<&str> = STDLIB.iter().map(|(n, _)| *n).collect();
    names.sort_unstable();
    names.join(", ")
}

/// The module every program loads as module 1, whose items every module
/// sees unqualified (`Result`, `Ok`, `Err`).
pub const PRELUDE: &str = "prelude";
pub const PRELUDE_TEXT: &str = include_str!("../stdlib/prelude.weft");

pub struct LoadedModule {
    /// The symbol prefix: the file stem, or `std.name` for the standard library.
    pub name: String,
    pub file: u32,
    pub ast: Module,
    pub is_stdlib: bool,
    /// Imported name → index into the loaded modules.
    pub imports: HashMap<String, u32>,
}

pub struct Program {
    pub modules: Vec<LoadedModule>,
    /// Expression ids used across all files.
    pub expr_count: u32,
}

enum Source {
    Std(&'static str, &'static str),
    File(PathBuf),
}

/// Loads the program rooted at `root` (already added to `sources` as `root_file`).
/// Returns the program and every lexing, parsing and import diagnostic.
pub fn load(
    sources: &mut SourceMap,
    root_file: u32,
    root: &Path,
    root_name: String,
) -> (Program, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let mut next_id = 0;
    let mut modules: Vec<LoadedModule> = Vec::new();
    let mut by_key: HashMap<String, u32> = HashMap::new();
    let mut dirs: Vec<PathBuf> = Vec::new();

    let root_key = std::fs::canonicalize(root)
        .unwrap_or_else(|_| root.to_path_buf())
        .display()
        .to_string();
    by_key.insert(root_key, 0);
    let (ast, next, d) = parse_file(sources, root_file, next_id);
    next_id = next;
    diags.extend(d);
    modules.push(LoadedModule {
        name: root_name,
        file: root_file,
        ast,
        is_stdlib: false,
        imports: HashMap::new(),
    });
    dirs.push(root.parent().map(Path::to_path_buf).unwrap_or_default());
    // The prelude, module 1 of every program: in scope everywhere unqualified.
    let file = sources.add(format!("<stdlib>/{PRELUDE}.weft"), PRELUDE_TEXT.to_string());
    let (ast, next, d) = parse_file(sources, file, next_id);
    next_id = next;
    diags.extend(d);
    modules.push(LoadedModule {
        name: format!("std.{PRELUDE}"),
        file,
        ast,
        is_stdlib: true,
        imports: HashMap::new(),
    });
    dirs.push(PathBuf::new());

    let mut i = 0;
    while i < modules.len() {
        let imports: Vec<(String, Span)> = modules[i]
            .ast
            .items
            .iter()
            .filter_map(|item| match item {
                Item::Import(imp) => Some((imp.name.name.clone(), imp.span)),
                _ => None,
            })
            .collect();
        for (name, span) in imports {
            if modules[i].imports.contains_key(&name) {
                diags.push(
                    Diagnostic::error(
                        DiagId::DuplicateImport,
                        format!("`{name}` is imported twice"),
                    )
                    .with_label(span, "imported again here"),
                );
                continue;
            }
            let source = match STDLIB.iter().find(|(n, _)| *n == name) {
                Some((n, text)) => Source::Std(n, text),
                None => Source::File(dirs[i].join(format!("{name}.weft"))),
            };
            let key = match &source {
                Source::Std(n, _) => format!("std:{n}"),
                Source::File(p) => match std::fs::canonicalize(p) {
                    Ok(p) => p.display().to_string(),
                    Err(_) => {
                        diags.push(
                            Diagnostic::error(
                                DiagId::UnknownModule,
                                format!("cannot find module `{name}`"),
                            )
                            .with_label(
                                span,
                                format!("not a standard module, and there is no `{}`", p.display()),
                            )
                            .with_note(format!("standard modules: {}", standard_names())),
                        );
                        continue;
                    }
                },
            };
            if let Some(&id) = by_key.get(&key) {
                modules[i].imports.insert(name, id);
                continue;
            }
            let (file, module_name, is_stdlib, dir) = match source {
                Source::Std(n, text) => (
                    sources.add(format!("<stdlib>/{n}.weft"), text.to_string()),
                    format!("std.{n}"),
                    true,
                    PathBuf::new(),
                ),
                Source::File(path) => match std::fs::read(&path).map(String::from_utf8) {
                    Ok(Ok(text)) => (
                        sources.add(path.display().to_string(), text),
                        name.clone(),
                        false,
                        path.parent().map(Path::to_path_buf).unwrap_or_default(),
                    ),
                    _ => {
                        diags.push(
                            Diagnostic::error(
                                DiagId::UnknownModule,
                                format!("cannot read module `{name}`"),
                            )
                            .with_label(
                                span,
                                format!("`{}` is not a readable UTF-8 file", path.display()),
                            ),
                        );
                        continue;
                    }
                },
            };
            let (ast, next, d) = parse_file(sources, file, next_id);
            next_id = next;
            diags.extend(d);
            let id = modules.len() as u32;
            by_key.insert(key, id);
            modules.push(LoadedModule {
                name: module_name,
                file,
                ast,
                is_stdlib,
                imports: HashMap::new(),
            });
            dirs.push(dir);
            modules[i].imports.insert(name, id);
        }
        i += 1;
    }
    (
        Program {
            modules,
            expr_count: next_id,
        },
        diags,
    )
}

fn parse_file(sources: &SourceMap, file: u32, first_id: u32) -> (Module, u32, Vec<Diagnostic>) {
    let (tokens, mut diags) = lexer::lex(sources.source(file), file);
    let (ast, next, parse_diags) = parser::parse_from(tokens, file, first_id);
    diags.extend(parse_diags);
    (ast, next, diags)
}

#[cfg(test)]
mod tests {
    /// `io.ErrorKind`'s variants are in the order whose index plus one is
    /// the runtime's status (`weft_abi::io::ERROR_KINDS`).
    #[test]
    fn io_error_kinds_follow_the_abi() {
        let io = super::STDLIB
            .iter()
            .find(|(name, _)| *name == "io")
            .expect("the io module")
            .1;
        let start = io.find("enum ErrorKind {").expect("io.ErrorKind") + "enum ErrorKind {".len();
        let body = &io[start..start + io[start..].find('}').expect("the enum's end")];
        let variants: Vec<&str> = body
            .split(',')
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .collect();
        assert_eq!(variants, weft_abi::io::ERROR_KINDS);
    }
}
