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

use crate::ast::{
    BinOp, Block, EnumDecl, Expr, ExprId, ExprKind, ExternFn, Field, FnDecl, FnKind, Ident,
    ImplDecl, Import, Item, MatchArm, Module, Param, Pattern, SelectArm, Span, Stmt, StrPart,
    StructDecl, TypeExpr, UnOp, Variant,
};
use crate::diagnostics::Diagnostic;
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
    let mut parser = Parser {
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
    };
    let module = parser.module();
    (module, parser.next_id, parser.diags)
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

impl Parser {
    // ----- token access -------------------------------------------------

    fn halted(&self) -> bool {
        self.aborted || self.spec_failed
    }

    fn tok(&self) -> &Tok {
        if self.halted() {
            return &EOF;
        }
        self.tokens.get(self.pos).map_or(&EOF, |t| &t.tok)
    }

    fn peek_at(&self, n: usize) -> &Tok {
        if self.halted() {
            return &EOF;
        }
        self.tokens.get(self.pos + n).map_or(&EOF, |t| &t.tok)
    }

    fn span(&self) -> Span {
        self.tokens.get(self.pos).map_or(self.prev_span, |t| t.span)
    }

    fn newline_before(&self) -> bool {
        self.tokens.get(self.pos).is_none_or(|t| t.newline_before)
    }

    /// Whether an infix or postfix operator at the current token extends the
    /// expression: not when it starts a new line where newlines end statements.
    fn continues(&self) -> bool {
        !self.newlines_significant || !self.newline_before()
    }

    fn at(&self, t: &Tok) -> bool {
        self.tok() == t
    }

    fn at_eof(&self) -> bool {
        matches!(self.tok(), Tok::Eof)
    }

    fn bump(&mut self) {
        if !self.halted() && self.pos + 1 < self.tokens.len() {
            self.prev_span = self.span();
            self.pos += 1;
        }
    }

    fn eat(&mut self, t: &Tok) -> bool {
        if self.at(t) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn set_ctx(&mut self, newlines_significant: bool, no_struct: bool) -> Ctx {
        let old = Ctx {
            newlines_significant: self.newlines_significant,
            no_struct: self.no_struct,
        };
        self.newlines_significant = newlines_significant;
        self.no_struct = no_struct;
        old
    }

    fn restore(&mut self, ctx: Ctx) {
        self.newlines_significant = ctx.newlines_significant;
        self.no_struct = ctx.no_struct;
    }

    fn mk(&mut self, kind: ExprKind, span: Span) -> Expr {
        let id = self.next_id;
        self.next_id = self.next_id.saturating_add(1);
        Expr { id, kind, span }
    }

    fn error_expr(&mut self) -> Expr {
        let span = self.span();
        self.mk(ExprKind::Error, span)
    }

    // ----- errors and nesting -------------------------------------------

    /// Records an error at the current token, unless one was already reported
    /// here or later (a cascade from the same mistake).
    fn report(&mut self, diag: Diagnostic) {
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
    fn expected(&mut self, what: &str) {
        if self.halted() {
            return;
        }
        let found = describe(self.tok());
        let span = self.span();
        self.report(
            Diagnostic::error("expected-token", format!("expected {what}, found {found}"))
                .with_label(span, format!("expected {what} here")),
        );
    }

    fn expect(&mut self, t: &Tok) -> bool {
        if self.eat(t) {
            return true;
        }
        self.expected(&describe(t));
        false
    }

    /// Expects the closer of a bracket opened at `open`, pointing at both.
    fn expect_close(&mut self, close: &Tok, open: Span) -> bool {
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
            Diagnostic::error("expected-token", format!("expected {want}, found {found}"))
                .with_label(span, format!("expected {want} here"))
                .with_label(open, format!("to close this {opener}")),
        );
        false
    }

    fn expect_ident(&mut self, what: &str) -> Option<Ident> {
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

    fn placeholder_ident(&self) -> Ident {
        Ident {
            name: "<error>".to_string(),
            span: self.span(),
        }
    }

    /// Goes one level deeper, or reports `nesting-too-deep` and stops the parse.
    fn enter(&mut self) -> bool {
        self.enter_with(self.depth >= MAX_DEPTH, MAX_DEPTH, 1)
    }

    /// One more link of a flat chain: deepens the tree but not the nesting
    /// a reader sees, so it counts only towards `MAX_TREE_DEPTH`.
    fn enter_link(&mut self) -> bool {
        let full = self.depth + self.links >= MAX_TREE_DEPTH;
        self.enter_with(full, MAX_TREE_DEPTH, 0)
    }

    fn enter_with(&mut self, full: bool, limit: u32, nesting: u32) -> bool {
        if self.halted() {
            return false;
        }
        if full {
            if self.speculating {
                self.spec_failed = true;
            } else {
                let span = self.span();
                self.diags.push(
                    Diagnostic::error("nesting-too-deep", "expression or block nested too deeply")
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

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// Undoes the `enter_link`s of an operator or postfix chain.
    fn leave_chain(&mut self, links: u32) {
        self.links = self.links.saturating_sub(links);
    }

    // ----- recovery -----------------------------------------------------

    /// Skips the rest of a broken statement or list element, keeping brackets
    /// balanced. Stops before: a `}` that closes an enclosing block, `close` or
    /// `;` at the starting level, a `,` when `at_comma`, a new line when
    /// newlines are significant, and a statement keyword that begins a line.
    fn skip(&mut self, close: &Tok, at_comma: bool) {
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
    fn skip_to_item(&mut self, in_impl: bool) {
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
    fn item_starts_here(&self) -> bool {
        if self.halted() || !self.newline_before() {
            return false;
        }
        match self.tok() {
            Tok::Fn | Tok::Struct | Tok::Enum | Tok::Impl | Tok::Import => {
                matches!(self.peek_at(1), Tok::Ident(_))
            }
            Tok::Async | Tok::Gen => matches!(self.peek_at(1), Tok::Fn),
            _ => false,
        }
    }

    /// A comma-separated list up to `close`, whose opener (at `open`) has been
    /// consumed. Newlines are insignificant inside; a trailing comma is fine.
    fn delimited<T>(
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
    fn brace_list<T>(
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

    // ----- items --------------------------------------------------------

    fn module(&mut self) -> Module {
        let mut items = Vec::new();
        while !self.at_eof() {
            if self.eat(&Tok::Semi) {
                continue;
            }
            let start = self.pos;
            match self.item() {
                Some(item) => items.push(item),
                None => {
                    if self.pos == start {
                        self.bump();
                    }
                    self.skip_to_item(false);
                }
            }
        }
        Module { items }
    }

    fn item(&mut self) -> Option<Item> {
        match self.tok() {
            Tok::Import => self.import().map(Item::Import),
            Tok::Fn | Tok::Async | Tok::Gen => self.fn_decl(false).map(Item::Fn),
            Tok::Struct => self.struct_decl().map(Item::Struct),
            Tok::Enum => self.enum_decl().map(Item::Enum),
            Tok::Impl => self.impl_decl().map(Item::Impl),
            Tok::Ident(word) if word == "extern" && self.peek_at(1) == &Tok::Fn => {
                self.extern_fn().map(Item::Extern)
            }
            _ => {
                let found = describe(self.tok());
                let span = self.span();
                self.report(
                    Diagnostic::error(
                        "expected-item",
                        format!("expected an item such as `fn`, found {found}"),
                    )
                    .with_label(span, "expected `fn`, `struct`, `enum`, `impl` or `import`"),
                );
                None
            }
        }
    }

    /// `extern fn name(params) -> T`, without a body.
    fn extern_fn(&mut self) -> Option<ExternFn> {
        let start = self.span();
        self.bump();
        self.bump();
        let name = self.expect_ident("a function name")?;
        if !self.at(&Tok::LParen) {
            self.expected("`(`");
            return None;
        }
        let params = self.param_list(false);
        let ret = if self.eat(&Tok::Arrow) {
            Some(self.ty())
        } else {
            None
        };
        let end = self.prev_span;
        Some(ExternFn {
            name,
            params,
            ret,
            span: start.to(end),
        })
    }

    fn import(&mut self) -> Option<Import> {
        let start = self.span();
        self.bump();
        let name = self.expect_ident("a module name")?;
        Some(Import {
            span: start.to(name.span),
            name,
        })
    }

    /// `fn`, `async fn` or `gen fn`; `self` without a type is allowed as the
    /// first parameter of a method.
    fn fn_decl(&mut self, method: bool) -> Option<FnDecl> {
        let start = self.span();
        let kind = match self.tok() {
            Tok::Async => FnKind::Async,
            Tok::Gen => FnKind::Gen,
            _ => FnKind::Plain,
        };
        if kind != FnKind::Plain {
            self.bump();
        }
        if !self.expect(&Tok::Fn) {
            return None;
        }
        let name = self.expect_ident("a function name")?;
        // `fn f[T, U](...)`: type parameters.
        let mut type_params = Vec::new();
        if self.at(&Tok::LBracket) {
            let open = self.span();
            self.bump();
            type_params = self.delimited(open, Tok::RBracket, |p| {
                p.expect_ident("a type parameter name")
            });
        }
        if !self.at(&Tok::LParen) {
            self.expected("`(`");
            return None;
        }
        let params = self.param_list(method);
        let ret = if self.eat(&Tok::Arrow) {
            Some(self.ty())
        } else {
            None
        };
        if !self.at(&Tok::LBrace) {
            self.expected("`{`");
            return None;
        }
        let body = self.block();
        Some(FnDecl {
            kind,
            name,
            type_params,
            params,
            ret,
            body,
            span: start.to(self.prev_span),
        })
    }

    fn param_list(&mut self, allow_self: bool) -> Vec<Param> {
        let open = self.span();
        if !self.expect(&Tok::LParen) {
            return Vec::new();
        }
        let mut index = 0;
        self.delimited(open, Tok::RParen, |p| {
            let first = index == 0;
            index += 1;
            p.param(allow_self && first)
        })
    }

    fn param(&mut self, self_ok: bool) -> Option<Param> {
        let name = self.expect_ident("a parameter name")?;
        if self_ok && name.name == "self" && !self.at(&Tok::Colon) {
            return Some(Param {
                span: name.span,
                name,
                ty: None,
            });
        }
        if !self.expect(&Tok::Colon) {
            return None;
        }
        let ty = self.ty();
        Some(Param {
            span: name.span.to(ty.span()),
            name,
            ty: Some(ty),
        })
    }

    fn struct_decl(&mut self) -> Option<StructDecl> {
        let start = self.span();
        self.bump();
        let name = self.expect_ident("a struct name")?;
        let open = self.span();
        if !self.expect(&Tok::LBrace) {
            return None;
        }
        let fields = self.brace_list(open, |p| {
            let name = p.expect_ident("a field name")?;
            if !p.expect(&Tok::Colon) {
                return None;
            }
            let ty = p.ty();
            Some(Field { name, ty })
        });
        Some(StructDecl {
            name,
            fields,
            span: start.to(self.prev_span),
        })
    }

    fn enum_decl(&mut self) -> Option<EnumDecl> {
        let start = self.span();
        self.bump();
        let name = self.expect_ident("an enum name")?;
        let open = self.span();
        if !self.expect(&Tok::LBrace) {
            return None;
        }
        let variants = self.brace_list(open, |p| {
            let name = p.expect_ident("a variant name")?;
            let payload = if p.at(&Tok::LParen) && p.continues() {
                let open = p.span();
                p.bump();
                p.delimited(open, Tok::RParen, |q| Some(q.ty()))
            } else {
                Vec::new()
            };
            Some(Variant {
                span: name.span.to(p.prev_span),
                name,
                payload,
            })
        });
        Some(EnumDecl {
            name,
            variants,
            span: start.to(self.prev_span),
        })
    }

    fn impl_decl(&mut self) -> Option<ImplDecl> {
        let start = self.span();
        self.bump();
        let target = self.expect_ident("a type name")?;
        let open = self.span();
        if !self.expect(&Tok::LBrace) {
            return None;
        }
        let ctx = self.set_ctx(true, false);
        let mut methods = Vec::new();
        loop {
            while self.eat(&Tok::Semi) {}
            if self.at(&Tok::RBrace) || self.at_eof() {
                break;
            }
            let is_fn = matches!(self.tok(), Tok::Fn | Tok::Async | Tok::Gen);
            if !is_fn && self.item_starts_here() {
                break;
            }
            let before = self.pos;
            let method = if is_fn {
                self.fn_decl(true)
            } else {
                self.expected("`fn` or `}`");
                None
            };
            match method {
                Some(m) => methods.push(m),
                None => {
                    if self.pos == before {
                        self.bump();
                    }
                    self.skip_to_item(true);
                }
            }
        }
        self.restore(ctx);
        self.expect_close(&Tok::RBrace, open);
        Some(ImplDecl {
            target,
            methods,
            span: start.to(self.prev_span),
        })
    }

    // ----- types --------------------------------------------------------
    //
    // From here on, functions are on the recursive path of nested input.
    // Each keeps its own frame small (building nodes and diagnostics in
    // separate helpers), because debug builds give every temporary its own
    // stack slot and `MAX_DEPTH` levels must fit comfortably in a thread's stack.

    fn ty(&mut self) -> TypeExpr {
        let start = self.span();
        if !self.enter() {
            return error_type(start);
        }
        let base = match self.tok() {
            Tok::Ident(_) => self.named_type(),
            Tok::LBracket => self.array_type(),
            Tok::Fn => self.fn_type(),
            _ => self.expected_type(),
        };
        let t = self.optional_suffixes(base, start);
        self.leave();
        t
    }

    fn expected_type(&mut self) -> TypeExpr {
        let span = self.span();
        if !self.halted() {
            let found = describe(self.tok());
            self.report(
                Diagnostic::error("expected-type", format!("expected a type, found {found}"))
                    .with_label(span, "expected a type here"),
            );
        }
        error_type(span)
    }

    /// `T?`, `T??`: each `?` is one more level of the tree.
    fn optional_suffixes(&mut self, mut t: TypeExpr, start: Span) -> TypeExpr {
        let mut links = 0;
        while self.at(&Tok::Question) && self.continues() {
            if !self.enter() {
                break;
            }
            links += 1;
            self.bump();
            t = TypeExpr::Optional(Box::new(t), start.to(self.prev_span));
        }
        self.leave_chain(links);
        t
    }

    /// `[T]`
    fn array_type(&mut self) -> TypeExpr {
        let open = self.span();
        self.bump();
        let ctx = self.set_ctx(false, false);
        let inner = Box::new(self.ty());
        self.restore(ctx);
        self.expect_close(&Tok::RBracket, open);
        TypeExpr::Array(inner, open.to(self.prev_span))
    }

    /// `fn(int, int) -> int`
    fn fn_type(&mut self) -> TypeExpr {
        let start = self.span();
        self.bump();
        let open = self.span();
        let params = if self.expect(&Tok::LParen) {
            self.delimited(open, Tok::RParen, |p| Some(p.ty()))
        } else {
            Vec::new()
        };
        let ret = if self.eat(&Tok::Arrow) {
            Some(Box::new(self.ty()))
        } else {
            None
        };
        TypeExpr::Func {
            params,
            ret,
            span: start.to(self.prev_span),
        }
    }

    /// `int`, `time.Timer`, `Map[string, int]`.
    fn named_type(&mut self) -> TypeExpr {
        let start = self.span();
        let mut path = Vec::new();
        path.extend(self.expect_ident("a type"));
        while self.at(&Tok::Dot) && matches!(self.peek_at(1), Tok::Ident(_)) {
            self.bump();
            path.extend(self.expect_ident("a type name"));
        }
        let args = if self.at(&Tok::LBracket) && self.continues() {
            let open = self.span();
            self.bump();
            self.delimited(open, Tok::RBracket, |p| Some(p.ty()))
        } else {
            Vec::new()
        };
        TypeExpr::Named {
            path,
            args,
            span: start.to(self.prev_span),
        }
    }

    /// Tries to read a type followed by `(`, the head of a constructor such as
    /// `Map[string, int]()`. Errors are silent; on failure nothing is consumed.
    fn speculate_type(&mut self) -> Option<TypeExpr> {
        let (pos, prev, depth, links) = (self.pos, self.prev_span, self.depth, self.links);
        let ctx = Ctx {
            newlines_significant: self.newlines_significant,
            no_struct: self.no_struct,
        };
        self.speculating = true;
        let ty = self.ty();
        let ok = !self.spec_failed && self.at(&Tok::LParen) && self.continues();
        self.speculating = false;
        self.spec_failed = false;
        self.depth = depth;
        self.links = links;
        self.restore(ctx);
        if ok {
            Some(ty)
        } else {
            self.pos = pos;
            self.prev_span = prev;
            None
        }
    }

    /// Whether the `[` at `bracket` closes with `]` immediately followed by `(`.
    fn constructor_ahead(&self, bracket: usize) -> bool {
        let Some(&close) = self.bracket_close.get(bracket) else {
            return false;
        };
        if close == u32::MAX {
            return false;
        }
        match self.tokens.get(close as usize + 1) {
            Some(t) => t.tok == Tok::LParen && (!self.newlines_significant || !t.newline_before),
            None => false,
        }
    }

    // ----- patterns -----------------------------------------------------

    fn pattern(&mut self) -> Option<Pattern> {
        if !self.enter() {
            return None;
        }
        let p = match self.tok() {
            Tok::Ident(name) if name != "_" => self.path_pattern(),
            _ => self.simple_pattern(),
        };
        self.leave();
        p
    }

    /// Literal patterns and `_`.
    fn simple_pattern(&mut self) -> Option<Pattern> {
        let span = self.span();
        let pattern = match self.tok() {
            Tok::Ident(_) => Pattern::Wildcard(span),
            Tok::Int(v) => Pattern::Int(*v, span),
            Tok::IntMinMagnitude => {
                self.int_too_large(span);
                Pattern::Int(0, span)
            }
            Tok::Minus => match self.peek_at(1) {
                Tok::Int(v) => {
                    let v = v.wrapping_neg();
                    self.bump();
                    Pattern::Int(v, span.to(self.span()))
                }
                Tok::IntMinMagnitude => {
                    self.bump();
                    Pattern::Int(i64::MIN, span.to(self.span()))
                }
                _ => return self.expected_pattern(),
            },
            Tok::Str(parts) => match parts.as_slice() {
                [StrTok::Lit(text)] => Pattern::Str(text.clone(), span),
                _ => {
                    self.report(
                        Diagnostic::error(
                            "expected-pattern",
                            "a string pattern cannot contain interpolation",
                        )
                        .with_label(span, "use a plain string literal here"),
                    );
                    self.bump();
                    return None;
                }
            },
            Tok::True => Pattern::Bool(true, span),
            Tok::False => Pattern::Bool(false, span),
            Tok::Nil => Pattern::Nil(span),
            _ => return self.expected_pattern(),
        };
        self.bump();
        Some(pattern)
    }

    fn expected_pattern(&mut self) -> Option<Pattern> {
        if !self.halted() {
            let found = describe(self.tok());
            let span = self.span();
            self.report(
                Diagnostic::error(
                    "expected-pattern",
                    format!("expected a pattern, found {found}"),
                )
                .with_label(span, "expected a pattern here"),
            );
        }
        None
    }

    /// `x`, `Circle(r)`, `Shape.Circle(r)`, `Shape.Empty`.
    fn path_pattern(&mut self) -> Option<Pattern> {
        let start = self.span();
        let mut path = vec![self.expect_ident("a pattern")?];
        while self.at(&Tok::Dot) && matches!(self.peek_at(1), Tok::Ident(_)) {
            self.bump();
            path.extend(self.expect_ident("a variant name"));
        }
        let args = if self.at(&Tok::LParen) {
            let open = self.span();
            self.bump();
            self.delimited(open, Tok::RParen, |p| p.pattern())
        } else if path.len() == 1 {
            return path.pop().map(Pattern::Binding);
        } else {
            Vec::new()
        };
        Some(Pattern::Variant {
            path,
            args,
            span: start.to(self.prev_span),
        })
    }

    // ----- blocks and statements ----------------------------------------

    fn block(&mut self) -> Block {
        let open = self.span();
        if !self.at(&Tok::LBrace) {
            self.expected("`{`");
            return Block {
                stmts: Vec::new(),
                span: open,
            };
        }
        if !self.enter() {
            return Block {
                stmts: Vec::new(),
                span: open,
            };
        }
        self.bump();
        let ctx = self.set_ctx(true, false);
        let mut stmts = Vec::new();
        self.stmts(&mut stmts);
        self.restore(ctx);
        self.leave();
        self.expect_close(&Tok::RBrace, open);
        Block {
            stmts,
            span: open.to(self.prev_span),
        }
    }

    /// The statements of a block, up to (not including) its `}`.
    fn stmts(&mut self, out: &mut Vec<Stmt>) {
        loop {
            while self.eat(&Tok::Semi) {}
            if self.at(&Tok::RBrace) || self.at_eof() || self.item_starts_here() {
                return;
            }
            let start = self.pos;
            self.stmt(out);
            let ended =
                matches!(self.tok(), Tok::Semi | Tok::RBrace | Tok::Eof) || self.newline_before();
            if self.pos != start && ended {
                continue;
            }
            self.expected_newline();
            self.skip(&Tok::RBrace, false);
            if self.pos == start && !self.at(&Tok::RBrace) {
                self.bump();
            }
        }
    }

    fn expected_newline(&mut self) {
        if self.halted() {
            return;
        }
        let found = describe(self.tok());
        let span = self.span();
        self.report(
            Diagnostic::error(
                "expected-newline",
                format!("expected `;` or a line break after the statement, found {found}"),
            )
            .with_label(span, "start a new line or add `;` before this"),
        );
    }

    /// Parses one statement into `out`; nothing is added when its head was
    /// too broken to build a node (the error is reported and the caller skips).
    fn stmt(&mut self, out: &mut Vec<Stmt>) {
        let stmt = match self.tok() {
            Tok::Let | Tok::Var => self.let_stmt(),
            Tok::While => self.while_stmt(),
            Tok::For => self.for_stmt(),
            Tok::Loop => self.loop_stmt(),
            Tok::Return => self.return_stmt(),
            Tok::Break | Tok::Continue | Tok::Yield | Tok::Defer => self.keyword_stmt(),
            Tok::LBrace | Tok::If | Tok::Match | Tok::Select => self.block_like_stmt(),
            _ => self.expr_stmt(),
        };
        out.extend(stmt);
    }

    fn let_stmt(&mut self) -> Option<Stmt> {
        let start = self.span();
        let mutable = self.at(&Tok::Var);
        self.bump();
        let name = self.expect_ident("a variable name")?;
        let ty = if self.eat(&Tok::Colon) {
            Some(self.ty())
        } else {
            None
        };
        if !self.expect(&Tok::Assign) {
            return None;
        }
        let value = self.expr();
        Some(Stmt::Let {
            mutable,
            name,
            ty,
            value,
            span: start.to(self.prev_span),
        })
    }

    fn while_stmt(&mut self) -> Option<Stmt> {
        let start = self.span();
        self.bump();
        if self.eat(&Tok::Let) {
            return self.while_let_rest(start);
        }
        let cond = self.cond_expr();
        let body = self.block();
        Some(Stmt::While {
            cond,
            body,
            span: start.to(self.prev_span),
        })
    }

    /// `while let name = value { }` after `while let`.
    fn while_let_rest(&mut self, start: Span) -> Option<Stmt> {
        let name = self.expect_ident("a name to bind")?;
        if !self.expect(&Tok::Assign) {
            return None;
        }
        let value = self.cond_expr();
        let body = self.block();
        Some(Stmt::WhileLet {
            name,
            value,
            body,
            span: start.to(self.prev_span),
        })
    }

    fn for_stmt(&mut self) -> Option<Stmt> {
        let start = self.span();
        self.bump();
        let var = self.expect_ident("a loop variable")?;
        if !self.expect(&Tok::In) {
            return None;
        }
        let iter = self.cond_expr();
        let body = self.block();
        Some(Stmt::For {
            var,
            iter,
            body,
            span: start.to(self.prev_span),
        })
    }

    fn loop_stmt(&mut self) -> Option<Stmt> {
        let start = self.span();
        self.bump();
        let body = self.block();
        Some(Stmt::Loop {
            body,
            span: start.to(self.prev_span),
        })
    }

    /// `return` takes a value unless the statement ends right after it.
    fn return_stmt(&mut self) -> Option<Stmt> {
        let start = self.span();
        self.bump();
        let bare =
            matches!(self.tok(), Tok::RBrace | Tok::Semi | Tok::Eof) || self.newline_before();
        let value = if bare { None } else { Some(self.expr()) };
        Some(Stmt::Return(value, start.to(self.prev_span)))
    }

    /// `break`, `continue`, `yield e`, `defer e` (also `defer { ... }`).
    fn keyword_stmt(&mut self) -> Option<Stmt> {
        let start = self.span();
        let kw = self.tok().clone();
        self.bump();
        let make: fn(Expr, Span) -> Stmt = match kw {
            Tok::Break => return Some(Stmt::Break(start)),
            Tok::Continue => return Some(Stmt::Continue(start)),
            Tok::Yield => Stmt::Yield,
            _ => Stmt::Defer,
        };
        let value = if kw == Tok::Defer && self.at(&Tok::LBrace) {
            self.block_expr()
        } else {
            self.expr()
        };
        Some(make(value, start.to(self.prev_span)))
    }

    /// A block, `if`, `match` or `select` statement: it ends at its `}`
    /// rather than going on with operators.
    fn block_like_stmt(&mut self) -> Option<Stmt> {
        let e = if self.at(&Tok::LBrace) {
            self.block_expr()
        } else {
            self.primary()
        };
        Some(Stmt::Expr(e))
    }

    /// An expression statement, or an assignment `target = e` / `target op= e`.
    fn expr_stmt(&mut self) -> Option<Stmt> {
        let target = self.expr();
        let op = match self.tok() {
            Tok::Assign => None,
            Tok::PlusEq => Some(BinOp::Add),
            Tok::MinusEq => Some(BinOp::Sub),
            Tok::StarEq => Some(BinOp::Mul),
            Tok::SlashEq => Some(BinOp::Div),
            _ => return Some(Stmt::Expr(target)),
        };
        if !self.continues() {
            return Some(Stmt::Expr(target));
        }
        self.bump();
        let value = self.expr();
        Some(Stmt::Assign {
            span: target.span.to(value.span),
            target,
            op,
            value,
        })
    }

    fn block_expr(&mut self) -> Expr {
        let start = self.span();
        let block = self.block();
        let span = start.to(self.prev_span);
        self.mk(ExprKind::Block(block), span)
    }

    // ----- expressions --------------------------------------------------

    /// An expression, including a range `a..b` / `a..=b` at the lowest level.
    fn expr(&mut self) -> Expr {
        if !self.enter() {
            return self.error_expr();
        }
        let e = self.binary(1);
        let e = if matches!(self.tok(), Tok::DotDot | Tok::DotDotEq) && self.continues() {
            self.range_rest(Box::new(e))
        } else {
            e
        };
        self.leave();
        e
    }

    fn range_rest(&mut self, start: Box<Expr>) -> Expr {
        let inclusive = self.at(&Tok::DotDotEq);
        self.bump();
        let end = Box::new(self.binary(1));
        let span = start.span.to(end.span);
        self.mk(
            ExprKind::Range {
                start,
                end,
                inclusive,
            },
            span,
        )
    }

    /// The head of `if`, `while`, `for` or `match`, where `{` opens the body.
    fn cond_expr(&mut self) -> Expr {
        let ctx = self.set_ctx(self.newlines_significant, true);
        let e = self.expr();
        self.restore(ctx);
        e
    }

    /// Binary operators of precedence `min` and above, left-associative.
    fn binary(&mut self, min: u8) -> Expr {
        let mut lhs = Box::new(self.unary());
        let mut links = 0;
        while let Some((op, prec)) = binop(self.tok()) {
            if prec < min || !self.continues() || !self.enter_link() {
                break;
            }
            links += 1;
            self.bump();
            let rhs = Box::new(self.binary(prec + 1));
            lhs = self.make_binary(op, lhs, rhs);
        }
        self.leave_chain(links);
        *lhs
    }

    fn make_binary(&mut self, op: BinOp, lhs: Box<Expr>, rhs: Box<Expr>) -> Box<Expr> {
        let span = lhs.span.to(rhs.span);
        Box::new(self.mk(ExprKind::Binary(op, lhs, rhs), span))
    }

    /// Prefix `-`, `!`, `await` and `spawn`, which apply to a postfix expression.
    fn unary(&mut self) -> Expr {
        let start = self.span();
        let wrap: fn(Box<Expr>) -> ExprKind = match self.tok() {
            Tok::Minus => |e| ExprKind::Unary(UnOp::Neg, e),
            Tok::Bang => |e| ExprKind::Unary(UnOp::Not, e),
            Tok::Await => ExprKind::Await,
            Tok::Spawn => ExprKind::Spawn,
            _ => return self.postfix(),
        };
        if matches!(self.tok(), Tok::Minus) && matches!(self.peek_at(1), Tok::IntMinMagnitude) {
            // `-9223372036854775808`: the one literal whose magnitude is not an `int`.
            self.bump();
            let span = start.to(self.span());
            self.bump();
            return self.mk(ExprKind::Int(i64::MIN), span);
        }
        if !self.enter() {
            return self.error_expr();
        }
        self.bump();
        let operand = Box::new(self.unary());
        self.leave();
        let span = start.to(operand.span);
        self.mk(wrap(operand), span)
    }

    /// Calls, field access, indexing and unwrap `!`.
    fn postfix(&mut self) -> Expr {
        let mut e = Box::new(self.primary());
        let mut links = 0;
        loop {
            let op = match self.tok() {
                Tok::Dot => Postfix::Field,
                Tok::LParen => Postfix::Call,
                Tok::LBracket => Postfix::Index,
                Tok::Bang => Postfix::Unwrap,
                _ => break,
            };
            // Only `.` may continue an expression onto a new line.
            if (op != Postfix::Field && !self.continues()) || !self.enter_link() {
                break;
            }
            links += 1;
            e = match op {
                Postfix::Call => self.call_suffix(e),
                Postfix::Index => self.index_suffix(e),
                _ => match self.simple_suffix(op, e) {
                    Ok(e) => e,
                    Err(e) => {
                        self.leave_chain(links);
                        return *e;
                    }
                },
            };
        }
        self.leave_chain(links);
        *e
    }

    fn call_suffix(&mut self, callee: Box<Expr>) -> Box<Expr> {
        let open = self.span();
        self.bump();
        let args = self.delimited(open, Tok::RParen, |p| Some(p.expr()));
        let span = callee.span.to(self.prev_span);
        Box::new(self.mk(ExprKind::Call(callee, args), span))
    }

    fn index_suffix(&mut self, target: Box<Expr>) -> Box<Expr> {
        let open = self.span();
        self.bump();
        let ctx = self.set_ctx(false, false);
        let index = Box::new(self.expr());
        self.restore(ctx);
        self.expect_close(&Tok::RBracket, open);
        let span = target.span.to(self.prev_span);
        Box::new(self.mk(ExprKind::Index(target, index), span))
    }

    /// `.name` or `!`; a `.` without a name gives the operand back in `Err`.
    fn simple_suffix(&mut self, op: Postfix, e: Box<Expr>) -> Result<Box<Expr>, Box<Expr>> {
        let at = self.span();
        self.bump();
        if op == Postfix::Unwrap {
            let span = e.span.to(at);
            return Ok(Box::new(self.mk(ExprKind::Unwrap(e), span)));
        }
        match self.expect_ident("a field or method name") {
            Some(name) => {
                let span = e.span.to(name.span);
                Ok(Box::new(self.mk(ExprKind::Field(e, name), span)))
            }
            None => Err(e),
        }
    }

    fn primary(&mut self) -> Expr {
        match self.tok() {
            Tok::Int(_)
            | Tok::IntMinMagnitude
            | Tok::Float(_)
            | Tok::True
            | Tok::False
            | Tok::Nil => self.literal(),
            Tok::Str(_) => self.string_lit(),
            Tok::Ident(_) => self.ident_primary(),
            Tok::LParen => self.paren_expr(),
            Tok::LBracket => self.bracket_primary(),
            Tok::Fn => self.closure(),
            Tok::If => self.if_expr(false),
            Tok::Match => self.match_expr(),
            Tok::Select => self.select_expr(),
            _ => self.expected_expression(),
        }
    }

    /// 2^63 without a minus sign in front.
    fn int_too_large(&mut self, span: Span) {
        self.report(
            Diagnostic::error(
                "integer-too-large",
                "integer literal is too large for `int`",
            )
            .with_label(
                span,
                "does not fit in 64 bits (only `-9223372036854775808` may use it)",
            ),
        );
    }

    fn literal(&mut self) -> Expr {
        let span = self.span();
        let kind = match self.tok() {
            Tok::Int(v) => ExprKind::Int(*v),
            Tok::IntMinMagnitude => {
                self.int_too_large(span);
                ExprKind::Int(0)
            }
            Tok::Float(v) => ExprKind::Float(*v),
            Tok::True => ExprKind::Bool(true),
            Tok::False => ExprKind::Bool(false),
            _ => ExprKind::Nil,
        };
        self.bump();
        self.mk(kind, span)
    }

    fn expected_expression(&mut self) -> Expr {
        if !self.halted() {
            let found = describe(self.tok());
            let span = self.span();
            self.report(
                Diagnostic::error(
                    "expected-expression",
                    format!("expected an expression, found {found}"),
                )
                .with_label(span, "expected an expression here"),
            );
        }
        self.error_expr()
    }

    fn ident_primary(&mut self) -> Expr {
        // `Map[string, int]()`, `Chan[int](0)`: an uppercase name applied to
        // type arguments and then called is a constructor.
        if self.generic_constructor_ahead() {
            if let Some(e) = self.try_construct() {
                return e;
            }
        }
        if self.struct_lit_ahead() {
            return self.struct_lit();
        }
        let span = self.span();
        let name = match self.tok() {
            Tok::Ident(name) => name.clone(),
            _ => String::new(),
        };
        self.bump();
        self.mk(ExprKind::Name(name), span)
    }

    fn generic_constructor_ahead(&self) -> bool {
        let upper = match self.tok() {
            Tok::Ident(name) => name.starts_with(|c: char| c.is_ascii_uppercase()),
            _ => false,
        };
        upper
            && self.tokens.get(self.pos + 1).is_some_and(|t| {
                t.tok == Tok::LBracket && (!self.newlines_significant || !t.newline_before)
            })
            && self.constructor_ahead(self.pos + 1)
    }

    /// `[`: a constructor `[int]()` if a type and `(` follow, else an array literal.
    fn bracket_primary(&mut self) -> Expr {
        if self.constructor_ahead(self.pos) {
            if let Some(e) = self.try_construct() {
                return e;
            }
        }
        let open = self.span();
        self.bump();
        let elems = self.delimited(open, Tok::RBracket, |p| Some(p.expr()));
        self.mk(ExprKind::Array(elems), open.to(self.prev_span))
    }

    /// A constructor at the current token, or `None` with nothing consumed.
    fn try_construct(&mut self) -> Option<Expr> {
        let start = self.span();
        let ty = self.speculate_type()?;
        let open = self.span();
        self.bump();
        let args = self.delimited(open, Tok::RParen, |p| Some(p.expr()));
        Some(self.mk(ExprKind::Construct(ty, args), start.to(self.prev_span)))
    }

    /// `Name {` or `a.b.Name {` followed by `}` or `field:`.
    fn struct_lit_ahead(&self) -> bool {
        if self.no_struct || self.halted() {
            return false;
        }
        let tok_at = |i: usize| self.tokens.get(i).map(|t| &t.tok);
        let mut i = self.pos;
        if !matches!(tok_at(i), Some(Tok::Ident(_))) {
            return false;
        }
        i += 1;
        while matches!(tok_at(i), Some(Tok::Dot)) && matches!(tok_at(i + 1), Some(Tok::Ident(_))) {
            i += 2;
        }
        match self.tokens.get(i) {
            Some(t) if t.tok == Tok::LBrace => {
                if self.newlines_significant && t.newline_before {
                    return false;
                }
            }
            _ => return false,
        }
        match tok_at(i + 1) {
            Some(Tok::RBrace) => true,
            Some(Tok::Ident(_)) => matches!(tok_at(i + 2), Some(Tok::Colon)),
            _ => false,
        }
    }

    fn struct_lit(&mut self) -> Expr {
        let start = self.span();
        let mut name = Vec::new();
        while let Some(part) = self.expect_ident("a struct name") {
            name.push(part);
            if !(self.at(&Tok::Dot) && matches!(self.peek_at(1), Tok::Ident(_))) {
                break;
            }
            self.bump();
        }
        let open = self.span();
        if !self.expect(&Tok::LBrace) {
            return self.mk(ExprKind::Error, start);
        }
        let fields = self.brace_list(open, Self::struct_lit_field);
        self.mk(
            ExprKind::StructLit { name, fields },
            start.to(self.prev_span),
        )
    }

    fn struct_lit_field(&mut self) -> Option<(Ident, Expr)> {
        let field = self.expect_ident("a field name")?;
        if !self.expect(&Tok::Colon) {
            return None;
        }
        Some((field, self.expr()))
    }

    fn paren_expr(&mut self) -> Expr {
        let open = self.span();
        self.bump();
        let ctx = self.set_ctx(false, false);
        let mut e = self.expr();
        self.restore(ctx);
        self.expect_close(&Tok::RParen, open);
        e.span = open.to(self.prev_span);
        e
    }

    fn string_lit(&mut self) -> Expr {
        let start = self.span();
        // Each string token is parsed exactly once (type speculation never
        // consumes one), so its parts can be moved out instead of cloned.
        let parts = match self.tokens.get_mut(self.pos).map(|t| &mut t.tok) {
            Some(Tok::Str(parts)) => std::mem::take(parts),
            _ => Vec::new(),
        };
        self.bump();
        let mut out = Vec::with_capacity(parts.len().max(1));
        for part in parts {
            out.push(match part {
                StrTok::Lit(text) => StrPart::Lit(text),
                StrTok::Expr(tokens, span) => StrPart::Expr(self.interpolation(tokens, span)),
            });
        }
        if out.is_empty() {
            out.push(StrPart::Lit(String::new()));
        }
        self.mk(ExprKind::Str(out), start)
    }

    /// Parses the tokens of one `{expr}` by swapping them in as the current
    /// token list, so ids, depth and diagnostics carry on seamlessly.
    fn interpolation(&mut self, mut tokens: Vec<Token>, span: Span) -> Expr {
        if matches!(tokens.first(), None | Some(Token { tok: Tok::Eof, .. })) {
            // The lexer has already reported the empty interpolation.
            return self.mk(ExprKind::Error, span);
        }
        ensure_eof(&mut tokens, span.file, span.end);
        let close = match_brackets(&tokens);
        let outer_tokens = std::mem::replace(&mut self.tokens, tokens);
        let outer_close = std::mem::replace(&mut self.bracket_close, close);
        let outer_pos = std::mem::replace(&mut self.pos, 0);
        let outer_prev = self.prev_span;
        let ctx = self.set_ctx(false, false);
        let e = self.expr();
        if !self.at_eof() {
            self.invalid_interpolation(span);
        }
        self.restore(ctx);
        self.tokens = outer_tokens;
        self.bracket_close = outer_close;
        self.pos = outer_pos;
        self.prev_span = outer_prev;
        e
    }

    fn invalid_interpolation(&mut self, interpolation: Span) {
        let found = describe(self.tok());
        let at = self.span();
        self.report(
            Diagnostic::error(
                "invalid-interpolation",
                format!("expected `}}` after the interpolated expression, found {found}"),
            )
            .with_label(at, "an interpolation holds a single expression")
            .with_label(interpolation, "in this interpolation"),
        );
    }

    /// `fn(x: int) -> int { ... }`
    fn closure(&mut self) -> Expr {
        let start = self.span();
        self.bump();
        let params = if self.at(&Tok::LParen) {
            self.param_list(false)
        } else {
            self.expected("`(`");
            Vec::new()
        };
        let ret = if self.eat(&Tok::Arrow) {
            Some(self.ty())
        } else {
            None
        };
        let body = self.block();
        self.mk(
            ExprKind::Closure { params, ret, body },
            start.to(self.prev_span),
        )
    }

    /// `if c { } else if d { } else { }` and `if let x = e { } else { }`.
    /// `else_if`: an arm of an `else if` chain, a link rather than nesting.
    fn if_expr(&mut self, else_if: bool) -> Expr {
        let start = self.span();
        let entered = if else_if {
            self.enter_link()
        } else {
            self.enter()
        };
        if !entered {
            return self.error_expr();
        }
        self.bump();
        let e = if self.eat(&Tok::Let) {
            self.if_let_rest(start)
        } else {
            self.if_rest(start)
        };
        if else_if {
            self.leave_chain(1);
        } else {
            self.leave();
        }
        e
    }

    fn if_rest(&mut self, start: Span) -> Expr {
        let cond = Box::new(self.cond_expr());
        let then = self.block();
        let els = self.else_branch();
        self.mk(ExprKind::If { cond, then, els }, start.to(self.prev_span))
    }

    fn if_let_rest(&mut self, start: Span) -> Expr {
        let name = match self.expect_ident("a name to bind") {
            Some(name) => name,
            None => self.placeholder_ident(),
        };
        self.expect(&Tok::Assign);
        let value = Box::new(self.cond_expr());
        let then = self.block();
        let els = self.else_branch();
        self.mk(
            ExprKind::IfLet {
                name,
                value,
                then,
                els,
            },
            start.to(self.prev_span),
        )
    }

    /// `else` may start a new line: it can never begin a statement, so
    /// there is nothing else it could mean.
    fn else_branch(&mut self) -> Option<Box<Expr>> {
        if !self.eat(&Tok::Else) {
            return None;
        }
        if self.at(&Tok::If) {
            return Some(Box::new(self.if_expr(true)));
        }
        if !self.at(&Tok::LBrace) {
            self.expected("`{` or `if`");
            return None;
        }
        Some(Box::new(self.block_expr()))
    }

    /// `match e { pattern => expr, ... }`
    fn match_expr(&mut self) -> Expr {
        let start = self.span();
        self.bump();
        let scrutinee = Box::new(self.cond_expr());
        let open = self.span();
        let arms = if self.expect(&Tok::LBrace) {
            self.brace_list(open, Self::match_arm)
        } else {
            Vec::new()
        };
        self.mk(ExprKind::Match(scrutinee, arms), start.to(self.prev_span))
    }

    fn match_arm(&mut self) -> Option<MatchArm> {
        let pattern = self.pattern()?;
        if !self.expect(&Tok::FatArrow) {
            return None;
        }
        let body = if self.at(&Tok::LBrace) {
            self.block_expr()
        } else {
            self.expr()
        };
        Some(MatchArm {
            span: pattern_span(&pattern).to(body.span),
            pattern,
            body,
        })
    }

    /// `select { v = ch.recv() => { } ch2.send(3) => { } }`
    fn select_expr(&mut self) -> Expr {
        let start = self.span();
        self.bump();
        let open = self.span();
        let arms = if self.expect(&Tok::LBrace) {
            self.brace_list(open, Self::select_arm)
        } else {
            Vec::new()
        };
        self.mk(ExprKind::Select(arms), start.to(self.prev_span))
    }

    fn select_arm(&mut self) -> Option<SelectArm> {
        let start = self.span();
        let binding =
            if matches!(self.tok(), Tok::Ident(_)) && matches!(self.peek_at(1), Tok::Assign) {
                let name = self.expect_ident("a name")?;
                self.bump();
                Some(name)
            } else {
                None
            };
        let op = self.expr();
        if !self.expect(&Tok::FatArrow) {
            return None;
        }
        let body = self.block();
        Some(SelectArm {
            binding,
            op,
            body,
            span: start.to(self.prev_span),
        })
    }
}

#[cfg(test)]
mod tests {
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
                    Stmt::Break(_) | Stmt::Continue(_) => {}
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
                        if let StrPart::Expr(e) = p {
                            self.expr(e, d);
                        }
                    }
                }
                ExprKind::Array(es) | ExprKind::Construct(_, es) => {
                    es.iter().for_each(|e| self.expr(e, d))
                }
                ExprKind::StructLit { fields, .. } => {
                    fields.iter().for_each(|(_, e)| self.expr(e, d))
                }
                ExprKind::Unary(_, a)
                | ExprKind::Field(a, _)
                | ExprKind::Unwrap(a)
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
        assert!(
            matches!(value(0), ExprKind::Construct(TypeExpr::Array(..), args) if args.is_empty())
        );
        assert!(matches!(value(1), ExprKind::Array(es) if es.len() == 1));
        assert!(matches!(value(2), ExprKind::Index(..)));
        assert!(
            matches!(value(3), ExprKind::Construct(TypeExpr::Named { args, .. }, a)
            if args.len() == 2 && a.len() == 1)
        );
        assert!(matches!(value(4), ExprKind::StructLit { name, .. } if name.len() == 2));
        // No struct literals in conditions: `{` opens the body.
        let m = ok(
            "fn main() {\n if x == S { }\n for v in xs { }\n while p { }\n if f(S { a: 1 }) { }\n}",
        );
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
let top = 1
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
}
