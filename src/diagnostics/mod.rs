//! Diagnostics as data, rendered in one place.
//!
//! Every phase returns `Diagnostic`s with a stable kebab-case id
//! (`error[await-outside-async]`) and labelled spans; only `render` knows about
//! codespan-reporting and the terminal. Ids are what lit tests check for;
//! `catalogue.rs` is the closed set of them.

mod catalogue;

pub use catalogue::DiagId;

use crate::ast::Span;
use codespan_reporting::diagnostic::{Diagnostic as CsDiagnostic, Label};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::{self, termcolor::StandardStream};

#[derive(Clone, Debug)]
pub struct Diagnostic {
    pub id: &'static str,
    pub message: String,
    /// The first label is the primary one.
    pub labels: Vec<(Span, String)>,
    pub notes: Vec<String>,
}

impl Diagnostic {
    pub fn error(id: DiagId, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            id: id.name(),
            message: message.into(),
            labels: Vec::new(),
            notes: Vec::new(),
        }
    }
    pub fn with_label(mut self, span: Span, label: impl Into<String>) -> Diagnostic {
        self.labels.push((span, label.into()));
        self
    }
    pub fn with_note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }
}

/// The source files of one compilation, indexed by `Span::file`.
pub struct SourceMap {
    pub files: SimpleFiles<String, String>,
    pub paths: Vec<String>,
}

impl Default for SourceMap {
    fn default() -> Self {
        SourceMap {
            files: SimpleFiles::new(),
            paths: Vec::new(),
        }
    }
}

impl SourceMap {
    pub fn add(&mut self, name: String, text: String) -> u32 {
        self.paths.push(name.clone());
        self.files.add(name, text) as u32
    }
    pub fn source(&self, file: u32) -> &str {
        self.files
            .get(file as usize)
            .map(|f| f.source().as_str())
            .unwrap_or("")
    }
    pub fn name(&self, file: u32) -> &str {
        self.paths
            .get(file as usize)
            .map(|s| s.as_str())
            .unwrap_or("<unknown>")
    }
    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, file: u32, offset: u32) -> (u32, u32) {
        let src = self.source(file);
        let offset = (offset as usize).min(src.len());
        let before = &src[..floor_char_boundary(src, offset)];
        let line = before.matches('\n').count() as u32 + 1;
        let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
        let col = before[line_start..].chars().count() as u32 + 1;
        (line, col)
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Most errors shown for one file; hostile input can otherwise produce millions.
const MAX_SHOWN: usize = 50;

/// Writes diagnostics to stderr, the first `MAX_SHOWN` of them in full.
pub fn render(sources: &SourceMap, diags: &[Diagnostic]) {
    let writer = StandardStream::stderr(term::termcolor::ColorChoice::Never);
    let config = term::Config::default();
    let mut out = writer.lock();
    for d in diags.iter().take(MAX_SHOWN) {
        let labels = d
            .labels
            .iter()
            .enumerate()
            .map(|(i, (span, msg))| {
                let src = sources.source(span.file);
                let start = floor_char_boundary(src, (span.start as usize).min(src.len()));
                let end = floor_char_boundary(src, (span.end as usize).min(src.len())).max(start);
                let label = if i == 0 {
                    Label::primary(span.file as usize, start..end)
                } else {
                    Label::secondary(span.file as usize, start..end)
                };
                label.with_message(msg.clone())
            })
            .collect();
        let cs = CsDiagnostic::error()
            .with_code(d.id)
            .with_message(d.message.clone())
            .with_labels(labels)
            .with_notes(d.notes.clone());
        let _ = term::emit(&mut out, &config, &sources.files, &cs);
    }
    if diags.len() > MAX_SHOWN {
        stderr_line(&format!("... and {} more errors", diags.len() - MAX_SHOWN));
    }
    let n = diags.len();
    stderr_line(&format!(
        "error: could not compile due to {} previous error{}",
        n,
        if n == 1 { "" } else { "s" }
    ));
}

/// An error with no source location (missing file, failed link).
pub fn plain_error(message: &str) {
    stderr_line(&format!("error: {message}"));
}

/// One line to stderr. A closed pipe or a full device must not turn a
/// diagnostic into a crash (`eprintln!` panics then): the error is dropped
/// and the exit status still says what happened.
pub fn stderr_line(line: &str) {
    use std::io::Write;
    let mut err = std::io::stderr().lock();
    let _ = err
        .write_all(line.as_bytes())
        .and_then(|_| err.write_all(b"\n"));
}
