//! Tidy checks over the sources: no file over 1,500 lines, module docs name only files that exist,
//! and nothing silences dead-code warnings with `allow` (`expect(dead_code)`
//! is the form to use: the compiler then reports it once the item is used).

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn sources() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in ["src", "runtime/src", "abi/src"] {
        rust_files(&root().join(dir), &mut files);
    }
    files.push(root().join("build.rs"));
    files.sort();
    files
}

/// The backticked names in `text` that look like files: `x.rs`, `a/b.weft`.
fn file_names(text: &str) -> Vec<String> {
    const EXTENSIONS: [&str; 9] = [
        ".rs", ".weft", ".ll", ".py", ".md", ".js", ".cpp", ".html", ".toml",
    ];
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter(|t| !t.contains(' ') && !t.contains('*') && !t.contains('<'))
        .filter(|t| !t.starts_with('.') && EXTENSIONS.iter().any(|e| t.ends_with(e)))
        .map(str::to_string)
        .collect()
}

/// Where a name in a module doc may be relative to: the file's folder and
/// its parents up to the repository (and the shared folder beside it).
fn exists(name: &str, file: &Path) -> bool {
    let name = name.trim_start_matches("../shared/");
    let mut dir = file.parent();
    while let Some(d) = dir {
        for base in [d.to_path_buf(), d.join("src")] {
            if base.join(name).exists() {
                return true;
            }
        }
        if d == root() {
            break;
        }
        dir = d.parent();
    }
    root().join("../shared").join(name).exists()
}

#[test]
fn module_docs_name_only_files_that_exist() {
    let mut missing = Vec::new();
    for file in sources() {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        let docs: String = text
            .lines()
            .filter_map(|l| l.trim_start().strip_prefix("//!"))
            .collect::<Vec<_>>()
            .join("\n");
        for name in file_names(&docs) {
            if !exists(&name, &file) {
                missing.push(format!("{}: `{name}`", file.display()));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "module docs name missing files:\n{}",
        missing.join("\n")
    );
}

/// Every file of the repository (not `target/`, `.git/` or lit's output),
/// relative to its root, with `/` separators.
fn repository_files() -> Vec<String> {
    fn walk(dir: &Path, base: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                if !matches!(name.as_str(), "target" | ".git" | "Output" | "node_modules") {
                    walk(&path, base, out);
                }
            } else if let Ok(rel) = path.strip_prefix(base) {
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let mut out = Vec::new();
    walk(&root(), &root(), &mut out);
    out
}

/// ARCHITECTURE.md names files by their path or, inside a folder's
/// section, by their name: each must be some file of the repository.
#[test]
fn architecture_names_only_files_that_exist() {
    let text = std::fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap_or_default();
    let files = repository_files();
    let missing: Vec<String> = file_names(&text)
        .into_iter()
        .filter(|name| {
            !files
                .iter()
                .any(|f| f == name || f.ends_with(&format!("/{name}")))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md names missing files: {missing:?}"
    );
}

#[test]
fn no_allow_dead_code() {
    let offenders: Vec<String> = sources()
        .into_iter()
        .filter(|f| {
            std::fs::read_to_string(f)
                .unwrap_or_default()
                .contains(concat!("allow(", "dead_code)"))
        })
        .map(|f| f.display().to_string())
        .collect();
    assert!(offenders.is_empty(), "use expect(dead_code): {offenders:?}");
}

/// Issue 11: every source file of the compiler and the runtime stays short
/// enough to read in one sitting.
#[test]
fn no_source_file_over_1500_lines() {
    const LIMIT: usize = 1500;
    let long: Vec<String> = sources()
        .into_iter()
        .filter_map(|file| {
            let lines = std::fs::read_to_string(&file).ok()?.lines().count();
            (lines > LIMIT).then(|| format!("{} ({lines} lines)", file.display()))
        })
        .collect();
    assert!(long.is_empty(), "over {LIMIT} lines, split them: {long:?}");
}
