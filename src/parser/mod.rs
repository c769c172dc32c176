//! Recursive-descent parser: turns one file's tokens into an `ast::Module`.
//!
//! The parser recovers from syntax errors instead of stopping at the first one:
//! it reports the problem, skips to a likely boundary (the end of the statement,
//! list element or item, keeping brackets balanced) and goes on, so one run
//! shows every mistake. At most one error is reported per token position, which
//! keeps follow-on errors from burying the real one.
//!
//! Newlines end statements. There is no newline token; each token knows whether
//! a line break precedes it. An expression therefore only continues onto a new
//! line through `.` (method chains), or anywhere inside `(...)` and `[...]`,
//! where line breaks carry no meaning.
//!
//! Later phases walk the tree recursively, and hostile input must not overflow
//! anyone's stack, so the parser bounds the depth of what it builds: every
//! recursive descent counts towards `MAX_DEPTH`, and the links of operator
//! and postfix chains and `else if` arms, which are flat in the source but
//! deep in the tree, count towards the much larger `MAX_TREE_DEPTH` (the
//! later phases recurse about 10 KB per level on the compiler's 256 MiB
//! stack). Past either, one `nesting-too-deep` error ends the parse.
//!
//! This file has the entry points, token access, errors, the nesting limits
//! and recovery; `items.rs`, `stmts.rs` (patterns too) and `exprs.rs` the
//! grammar.

use crate::ast::{
    BinOp, Block, EnumDecl, Expr, ExprId, ExprKind, ExternFn, Field, FnDecl, FnKind, FormatSpec,
    GlobalDecl, GlobalKind, Ident, ImplDecl, Import, Item, MatchArm, Module, Param, Pattern,
    SelectArm, Span, Stmt, StrPart, StructDecl, TypeExpr, UnOp, Variant,
};
use crate::diagnostics::{DiagId, Diagnostic};
use crate::lexer::{describe, StrTok, Tok, Token};

/// Deepest nesting of expressions, blocks, types and patterns the parser builds.
pub const MAX_DEPTH: u32 = 256;
/// Deepest tree the parser builds, counting the links of flat chains
/// (`1 + 1 + ...`, `a.b().c()`, `else if`) too.
pub const MAX_TREE_DEPTH: u32 = 8192;

/// What `tok()` shows once the parse has stopped, so that every loop ends.
static EOF: Tok = Tok::Eof;

/// Parses one file. Returns the module, the number of `ExprId`s handed out
/// (ids are dense, `0..count`, when there are no errors), and the syntax errors.
#[cfg(test)]
pub fn parse(tokens: Vec<Token>, file: u32) -> (Module, u32, Vec<Diagnostic>) {
    parse_from(tokens, file, 0)
}

/// Like `parse`, numbering expressions from `first_id` so that the ids of
/// several files of one program never collide; returns the next free id.
pub fn parse_from(
    mut tokens: Vec<Token>,
    file: u32,
    first_id: ExprId,
) -> (Module, u32, Vec<Diagnostic>) {
    ensure_eof(&mut tokens, file, 0);
    let bracket_close = match_brackets(&tokens);
    let mut parser = Parser::new(tokens, bracket_close, file, first_id);
    let module = parser.module();
    (module, parser.next_id, parser.diags)
}

/// One function declaration from `tokens` (a generic function's or
/// method's text, parsed again for an instance); `method` allows a typeless
/// `self` first parameter.
pub fn parse_fn_from(
    mut tokens: Vec<Token>,
    file: u32,
    first_id: ExprId,
    method: bool,
) -> (Option<FnDecl>, u32, Vec<Diagnostic>) {
    ensure_eof(&mut tokens, file, 0);
    let bracket_close = match_brackets(&tokens);
    let mut parser = Parser::new(tokens, bracket_close, file, first_id);
    let decl = parser.fn_decl(method);
    (decl, parser.next_id, parser.diags)
}

/// The parser relies on a final `Eof` so that it never reads past the end.
fn ensure_eof(tokens: &mut Vec<Token>, file: u32, default_end: u32) {
    if !matches!(tokens.last(), Some(Token { tok: Tok::Eof, .. })) {
        let end = tokens.last().map_or(default_end, |t| t.span.end);
        tokens.push(Token {
            tok: Tok::Eof,
            span: Span {
                file,
                start: end,
                end,
                instance: tokens.last().map_or(0, |t| t.span.instance),
            },
            newline_before: true,
        });
    }
}

/// For each `[`, the index of its matching `]` (`u32::MAX` when unmatched).
/// A constructor such as `[int]()` needs `(` right after the matching `]`, so
/// this rules out speculative type parsing for almost every array literal and
/// keeps nested literals linear.
fn match_brackets(tokens: &[Token]) -> Vec<u32> {
    let mut close = vec![u32::MAX; tokens.len()];
    let mut open = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        match t.tok {
            Tok::LBracket => open.push(i),
            Tok::RBracket => {
                if let Some(o) = open.pop() {
                    close[o] = i as u32;
                }
            }
            _ => {}
        }
    }
    close
}

fn binop(tok: &Tok) -> Option<(BinOp, u8)> {
    Some(match tok {
        Tok::OrOr => (BinOp::Or, 1),
        Tok::AndAnd => (BinOp::And, 2),
        Tok::EqEq => (BinOp::Eq, 3),
        Tok::NotEq => (BinOp::Ne, 3),
        Tok::Lt => (BinOp::Lt, 3),
        Tok::Le => (BinOp::Le, 3),
        Tok::Gt => (BinOp::Gt, 3),
        Tok::Ge => (BinOp::Ge, 3),
        Tok::Pipe => (BinOp::BitOr, 4),
        Tok::Caret => (BinOp::BitXor, 5),
        Tok::Amp => (BinOp::BitAnd, 6),
        Tok::Shl => (BinOp::Shl, 7),
        Tok::Shr => (BinOp::Shr, 7),
        Tok::UShr => (BinOp::UShr, 7),
        Tok::Plus => (BinOp::Add, 8),
        Tok::Minus => (BinOp::Sub, 8),
        Tok::Star => (BinOp::Mul, 9),
        Tok::Slash => (BinOp::Div, 9),
        Tok::Percent => (BinOp::Rem, 9),
        _ => return None,
    })
}

/// Tokens that can only begin a statement or an item. Recovery stops at one
/// that begins a line even inside unclosed parentheses, so a missing `)` does
/// not swallow the rest of the block.
fn starts_statement(tok: &Tok) -> bool {
    matches!(
        tok,
        Tok::Let
            | Tok::Var
            | Tok::While
            | Tok::For
            | Tok::Loop
            | Tok::Return
            | Tok::Break
            | Tok::Continue
            | Tok::Yield
            | Tok::Defer
            | Tok::Struct
            | Tok::Enum
            | Tok::Impl
            | Tok::Import
            | Tok::Async
            | Tok::Gen
    )
}

fn pattern_span(p: &Pattern) -> Span {
    match p {
        Pattern::Wildcard(s)
        | Pattern::Int(_, s)
        | Pattern::Str(_, s)
        | Pattern::Bool(_, s)
        | Pattern::Nil(s)
        | Pattern::Variant { span: s, .. } => *s,
        Pattern::Binding(id) => id.span,
    }
}

/// Stands in for a type that failed to parse; an error has been reported.
fn error_type(span: Span) -> TypeExpr {
    TypeExpr::Named {
        path: vec![Ident {
            name: "<error>".to_string(),
            span,
        }],
        args: Vec::new(),
        span,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Postfix {
    Field,
    Call,
    Index,
    Unwrap,
    Try,
}

/// The context flags that change with nesting; saved and restored around
/// brackets, blocks and conditions.
#[derive(Clone, Copy)]
struct Ctx {
    newlines_significant: bool,
    no_struct: bool,
}

struct Parser {
    tokens: Vec<Token>,
    bracket_close: Vec<u32>,
    pos: usize,
    /// Span of the last consumed token: where the current node ends.
    prev_span: Span,
    next_id: ExprId,
    diags: Vec<Diagnostic>,
    depth: u32,
    /// Links of flat chains open around the current node (see `enter_link`).
    links: u32,
    /// Set by `nesting-too-deep`: from then on every read sees `Eof`.
    aborted: bool,
    /// Inside a speculative type parse: errors are not reported but make it fail.
    speculating: bool,
    spec_failed: bool,
    newlines_significant: bool,
    /// In the head of `if`/`while`/`for`/`match`, `{` opens the body, not a struct literal.
    no_struct: bool,
    /// Start offset of the last reported error; nothing at or before it is reported again.
    last_error: Option<u32>,
}

mod exprs;
mod items;
mod stmts;
#[cfg(test)]
mod tests;

impl Parser {
    fn new(tokens: Vec<Token>, bracket_close: Vec<u32>, file: u32, first_id: ExprId) -> Parser {
        Parser {
            tokens,
            bracket_close,
            pos: 0,
            prev_span: Span::new(file, 0, 0),
            next_id: first_id,
            diags: Vec::new(),
            depth: 0,
            links: 0,
            aborted: false,
            speculating: false,
            spec_failed: false,
            newlines_significant: true,
            no_struct: false,
            last_error: None,
        }
    }

    // ----- token access -------------------------------------------------

    pub(super) fn halted(&self) -> bool {
        self.aborted || self.spec_failed
    }

    pub(super) fn tok(&self) -> &Tok {
        if self.halted() {
            return &EOF;
        }
        self.tokens.get(self.pos).map_or(&EOF, |t| &t.tok)
    }

    pub(super) fn peek_at(&self, n: usize) -> &Tok {
        if self.halted() {
            return &EOF;
        }
        self.tokens.get(self.pos + n).map_or(&EOF, |t| &t.tok)
    }

    pub(super) fn span(&self) -> Span {
        self.tokens.get(self.pos).map_or(self.prev_span, |t| t.span)
    }

    pub(super) fn newline_before(&self) -> bool {
        self.tokens.get(self.pos).is_none_or(|t| t.newline_before)
    }

    /// Whether an infix or postfix operator at the current token extends the
    /// expression: not when it starts a new line where newlines end statements.
    pub(super) fn continues(&self) -> bool {
        !self.newlines_significant || !self.newline_before()
    }

    pub(super) fn at(&self, t: &Tok) -> bool {
        self.tok() == t
    }

    pub(super) fn at_eof(&self) -> bool {
        matches!(self.tok(), Tok::Eof)
    }

    pub(super) fn bump(&mut self) {
        if !self.halted() && self.pos + 1 < self.tokens.len() {
            self.prev_span = self.span();
            self.pos += 1;
        }
    }

    pub(super) fn eat(&mut self, t: &Tok) -> bool {
        if self.at(t) {
            self.bump();
            true
        } else {
            false
        }
    }

    pub(super) fn set_ctx(&mut self, newlines_significant: bool, no_struct: bool) -> Ctx {
        let old = Ctx {
            newlines_significant: self.newlines_significant,
            no_struct: self.no_struct,
        };
        self.newlines_significant = newlines_significant;
        self.no_struct = no_struct;
        old
    }

    pub(super) fn restore(&mut self, ctx: Ctx) {
        self.newlines_significant = ctx.newlines_significant;
        self.no_struct = ctx.no_struct;
    }

    pub(super) fn mk(&mut self, kind: ExprKind, span: Span) -> Expr {
        let id = self.next_id;
        self.next_id = self.next_id.saturating_add(1);
        Expr { id, kind, span }
    }

    pub(super) fn error_expr(&mut self) -> Expr {
        let span = self.span();
        self.mk(ExprKind::Error, span)
    }

    // ----- errors and nesting -------------------------------------------

    /// Records an error at the current token, unless one was already reported
    /// here or later (a cascade from the same mistake).
    pub(super) fn report(&mut self, diag: Diagnostic) {
        if self.speculating {
            self.spec_failed = true;
            return;
        }
        if self.aborted {
            return;
        }
        let at = self.span().start;
        if self.last_error.is_some_and(|last| at <= last) {
            return;
        }
        self.last_error = Some(at);
        self.diags.push(diag);
    }

    /// "expected X, found Y" at the current token.
    pub(super) fn expected(&mut self, what: &str) {
        if self.halted() {
            return;
        }
        let found = describe(self.tok());
        let span = self.span();
        self.report(
            Diagnostic::error(
                DiagId::ExpectedToken,
                format!("expected {what}, found {found}"),
            )
            .with_label(span, format!("expected {what} here")),
        );
    }

    pub(super) fn expect(&mut self, t: &Tok) -> bool {
        if self.eat(t) {
            return true;
        }
        self.expected(&describe(t));
        false
    }

    /// Expects the closer of a bracket opened at `open`, pointing at both.
    pub(super) fn expect_close(&mut self, close: &Tok, open: Span) -> bool {
        if self.eat(close) {
            return true;
        }
        if self.halted() {
            return false;
        }
        let want = describe(close);
        let opener = match close {
            Tok::RParen => "`(`",
            Tok::RBracket => "`[`",
            _ => "`{`",
        };
        let found = describe(self.tok());
        let span = self.span();
        self.report(
            Diagnostic::error(
                DiagId::ExpectedToken,
                format!("expected {want}, found {found}"),
            )
            .with_label(span, format!("expected {want} here"))
            .with_label(open, format!("to close this {opener}")),
        );
        false
    }

    pub(super) fn expect_ident(&mut self, what: &str) -> Option<Ident> {
        if let Tok::Ident(name) = self.tok() {
            let ident = Ident {
                name: name.clone(),
                span: self.span(),
            };
            self.bump();
            Some(ident)
        } else {
            self.expected(what);
            None
        }
    }

    /// A field or method name: an identifier, or `spawn`, which is a
    /// keyword only where an expression starts (`g.spawn(f)` on a
    /// `tasks.Group`, and methods of that name in an `impl`).
    pub(super) fn expect_member_name(&mut self, what: &str) -> Option<Ident> {
        if self.at(&Tok::Spawn) {
            let ident = Ident {
                name: "spawn".into(),
                span: self.span(),
            };
            self.bump();
            return Some(ident);
        }
        self.expect_ident(what)
    }

    pub(super) fn placeholder_ident(&self) -> Ident {
        Ident {
            name: "<error>".to_string(),
            span: self.span(),
        }
    }

    /// Goes one level deeper, or reports `nesting-too-deep` and stops the parse.
    pub(super) fn enter(&mut self) -> bool {
        self.enter_with(self.depth >= MAX_DEPTH, MAX_DEPTH, 1)
    }

    /// One more link of a flat chain: deepens the tree but not the nesting
    /// a reader sees, so it counts only towards `MAX_TREE_DEPTH`.
    pub(super) fn enter_link(&mut self) -> bool {
        let full = self.depth + self.links >= MAX_TREE_DEPTH;
        self.enter_with(full, MAX_TREE_DEPTH, 0)
    }

    pub(super) fn enter_with(&mut self, full: bool, limit: u32, nesting: u32) -> bool {
        if self.halted() {
            return false;
        }
        if full {
            if self.speculating {
                self.spec_failed = true;
            } else {
                let span = self.span();
                self.diags.push(
                    Diagnostic::error(
                        DiagId::NestingTooDeep,
                        "expression or block nested too deeply",
                    )
                    .with_label(span, format!("nesting limit of {limit} reached here")),
                );
                self.aborted = true;
                self.pos = self.tokens.len().saturating_sub(1);
            }
            return false;
        }
        self.depth += nesting;
        self.links += 1 - nesting;
        true
    }

    pub(super) fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// Undoes the `enter_link`s of an operator or postfix chain.
    pub(super) fn leave_chain(&mut self, links: u32) {
        self.links = self.links.saturating_sub(links);
    }

    // ----- recovery -----------------------------------------------------

    /// Skips the rest of a broken statement or list element, keeping brackets
    /// balanced. Stops before: a `}` that closes an enclosing block, `close` or
    /// `;` at the starting level, a `,` when `at_comma`, a new line when
    /// newlines are significant, and a statement keyword that begins a line.
    pub(super) fn skip(&mut self, close: &Tok, at_comma: bool) {
        let start = self.pos;
        let (mut parens, mut brackets, mut braces) = (0u32, 0u32, 0u32);
        loop {
            let tok = self.tok();
            if matches!(tok, Tok::Eof) {
                return;
            }
            if braces == 0 {
                if matches!(tok, Tok::RBrace) {
                    return;
                }
                if self.newline_before() && starts_statement(tok) {
                    return;
                }
            }
            if parens == 0 && brackets == 0 && braces == 0 {
                if tok == close || matches!(tok, Tok::Semi) {
                    return;
                }
                if at_comma && matches!(tok, Tok::Comma) {
                    return;
                }
                // In a bracketed list, a `{` is most likely a body after a
                // forgotten `)`, as in `fn f(a {`.
                if *close != Tok::RBrace && matches!(tok, Tok::LBrace) {
                    return;
                }
                if self.pos != start && self.newlines_significant && self.newline_before() {
                    return;
                }
            }
            match tok {
                Tok::LParen => parens += 1,
                Tok::LBracket => brackets += 1,
                Tok::LBrace => braces += 1,
                Tok::RParen => parens = parens.saturating_sub(1),
                Tok::RBracket => brackets = brackets.saturating_sub(1),
                Tok::RBrace => braces = braces.saturating_sub(1),
                _ => {}
            }
            self.bump();
        }
    }

    /// Skips to the next token that can begin an item at brace depth 0 (or,
    /// inside an `impl`, to the `}` that closes it).
    pub(super) fn skip_to_item(&mut self, in_impl: bool) {
        let mut braces = 0u32;
        loop {
            match self.tok() {
                Tok::Eof => return,
                Tok::LBrace => braces += 1,
                // At top level a stray `}` is skipped; in an `impl` it ends the body.
                Tok::RBrace if braces == 0 && in_impl => return,
                Tok::RBrace => braces = braces.saturating_sub(1),
                Tok::Fn if braces == 0 && matches!(self.peek_at(1), Tok::Ident(_)) => return,
                Tok::Async | Tok::Gen | Tok::Struct | Tok::Enum | Tok::Impl | Tok::Import
                    if braces == 0 =>
                {
                    return
                }
                _ => {}
            }
            self.bump();
        }
    }

    /// An item keyword at the start of a line inside a block means the block
    /// was never closed; ending the block there lets the item parse normally.
    pub(super) fn item_starts_here(&self) -> bool {
        if self.halted() || !self.newline_before() {
            return false;
        }
        match self.tok() {
            Tok::Fn | Tok::Struct | Tok::Enum | Tok::Impl | Tok::Import => {
                matches!(self.peek_at(1), Tok::Ident(_))
            }
            Tok::Async | Tok::Gen => matches!(self.peek_at(1), Tok::Fn),
            Tok::Ident(w) if w == "const" || w == "interface" => {
                matches!(self.peek_at(1), Tok::Ident(_))
            }
            _ => false,
        }
    }

    /// A comma-separated list up to `close`, whose opener (at `open`) has been
    /// consumed. Newlines are insignificant inside; a trailing comma is fine.
    pub(super) fn delimited<T>(
        &mut self,
        open: Span,
        close: Tok,
        mut elem: impl FnMut(&mut Self) -> Option<T>,
    ) -> Vec<T> {
        let ctx = self.set_ctx(false, false);
        let mut out = Vec::new();
        loop {
            if self.at(&close) || self.at_eof() {
                break;
            }
            if let Some(x) = elem(self) {
                out.push(x);
            }
            if self.eat(&Tok::Comma) {
                continue;
            }
            if self.at(&close) {
                break;
            }
            self.expected(&format!("`,` or {}", describe(&close)));
            self.skip(&close, true);
            if !self.eat(&Tok::Comma) {
                break;
            }
        }
        self.restore(ctx);
        self.expect_close(&close, open);
        out
    }

    /// A list inside `{ }` (opener consumed) whose elements are separated by
    /// commas and/or newlines: fields, variants, arms.
    pub(super) fn brace_list<T>(
        &mut self,
        open: Span,
        mut elem: impl FnMut(&mut Self) -> Option<T>,
    ) -> Vec<T> {
        let ctx = self.set_ctx(true, false);
        let mut out = Vec::new();
        loop {
            while self.eat(&Tok::Comma) {}
            if self.at(&Tok::RBrace) || self.at_eof() || self.item_starts_here() {
                break;
            }
            let start = self.pos;
            if let Some(x) = elem(self) {
                out.push(x);
            }
            if self.eat(&Tok::Comma) || self.at(&Tok::RBrace) {
                continue;
            }
            // An element ending in `}` (an arm's block) needs no separator.
            let after_block = self.pos > 0
                && self
                    .tokens
                    .get(self.pos - 1)
                    .is_some_and(|t| t.tok == Tok::RBrace);
            if self.pos != start && (self.newline_before() || after_block) {
                continue;
            }
            self.expected("`,` or `}`");
            self.skip(&Tok::RBrace, true);
            if self.pos == start && !self.at(&Tok::RBrace) {
                self.bump();
            }
        }
        self.restore(ctx);
        self.expect_close(&Tok::RBrace, open);
        out
    }
}
