//! Turns source text into tokens.
//!
//! Newlines are not tokens: each token records whether a line break precedes
//! it, which is all the parser needs to end statements without semicolons.
//! String literals are lexed into parts; an interpolated `{expr}` is lexed
//! recursively into its own token list, so the parser sees ordinary tokens.
//! The lexer never fails: bad characters become `Error` diagnostics and lexing
//! goes on, so one run reports every problem in a file.

use crate::ast::Span;
use crate::diagnostics::{DiagId, Diagnostic};

#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    Int(i64),
    /// `9223372036854775808` (2^63): an `int` only right after a unary
    /// minus, so that `-9223372036854775808` can be written.
    IntMinMagnitude,
    Float(f64),
    /// A string literal, split into literal text and interpolated token lists.
    Str(Vec<StrTok>),
    Ident(String),
    // Keywords.
    Fn,
    Async,
    Gen,
    Let,
    Var,
    If,
    Else,
    While,
    Loop,
    For,
    In,
    Break,
    Continue,
    Return,
    Yield,
    Await,
    Spawn,
    Select,
    Defer,
    Struct,
    Enum,
    Impl,
    Match,
    Import,
    True,
    False,
    Nil,
    // Punctuation.
    LParen,
    RParen,
    LBrace,
    RBrace,
    LBracket,
    RBracket,
    Comma,
    Colon,
    Semi,
    Dot,
    DotDot,
    DotDotEq,
    Arrow,
    FatArrow,
    Question,
    Bang,
    Assign,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    PlusEq,
    MinusEq,
    StarEq,
    SlashEq,
    EqEq,
    NotEq,
    Lt,
    Le,
    Gt,
    Ge,
    AndAnd,
    OrOr,
    Amp,
    Pipe,
    Caret,
    Shl,
    Shr,
    /// `>>>`: the logical shift right.
    UShr,
    PercentEq,
    AmpEq,
    PipeEq,
    CaretEq,
    ShlEq,
    ShrEq,
    UShrEq,
    Eof,
}

#[derive(Clone, Debug, PartialEq)]
pub enum StrTok {
    Lit(String),
    /// The tokens of `{expr}`, ending with `Eof`, the span of the braces'
    /// content, and the format spec after a `:` (`{x:.3}`) with its span.
    Expr(Vec<Token>, Span, Option<(String, Span)>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub span: Span,
    /// A line break comes between the previous token and this one.
    pub newline_before: bool,
}

/// A human name for a token, for "expected X, found Y" messages.
pub fn describe(tok: &Tok) -> String {
    let s = match tok {
        Tok::Int(_) | Tok::IntMinMagnitude => "an integer literal",
        Tok::Float(_) => "a float literal",
        Tok::Str(_) => "a string literal",
        Tok::Ident(name) => return format!("`{name}`"),
        Tok::Eof => "end of file",
        other => return format!("`{}`", symbol(other)),
    };
    s.to_string()
}

fn symbol(tok: &Tok) -> &'static str {
    match tok {
        Tok::Fn => "fn",
        Tok::Async => "async",
        Tok::Gen => "gen",
        Tok::Let => "let",
        Tok::Var => "var",
        Tok::If => "if",
        Tok::Else => "else",
        Tok::While => "while",
        Tok::Loop => "loop",
        Tok::For => "for",
        Tok::In => "in",
        Tok::Break => "break",
        Tok::Continue => "continue",
        Tok::Return => "return",
        Tok::Yield => "yield",
        Tok::Await => "await",
        Tok::Spawn => "spawn",
        Tok::Select => "select",
        Tok::Defer => "defer",
        Tok::Struct => "struct",
        Tok::Enum => "enum",
        Tok::Impl => "impl",
        Tok::Match => "match",
        Tok::Import => "import",
        Tok::True => "true",
        Tok::False => "false",
        Tok::Nil => "nil",
        Tok::LParen => "(",
        Tok::RParen => ")",
        Tok::LBrace => "{",
        Tok::RBrace => "}",
        Tok::LBracket => "[",
        Tok::RBracket => "]",
        Tok::Comma => ",",
        Tok::Colon => ":",
        Tok::Semi => ";",
        Tok::Dot => ".",
        Tok::DotDot => "..",
        Tok::DotDotEq => "..=",
        Tok::Arrow => "->",
        Tok::FatArrow => "=>",
        Tok::Question => "?",
        Tok::Bang => "!",
        Tok::Assign => "=",
        Tok::Plus => "+",
        Tok::Minus => "-",
        Tok::Star => "*",
        Tok::Slash => "/",
        Tok::Percent => "%",
        Tok::PlusEq => "+=",
        Tok::MinusEq => "-=",
        Tok::StarEq => "*=",
        Tok::SlashEq => "/=",
        Tok::EqEq => "==",
        Tok::NotEq => "!=",
        Tok::Lt => "<",
        Tok::Le => "<=",
        Tok::Gt => ">",
        Tok::Ge => ">=",
        Tok::AndAnd => "&&",
        Tok::OrOr => "||",
        Tok::Amp => "&",
        Tok::Pipe => "|",
        Tok::Caret => "^",
        Tok::Shl => "<<",
        Tok::Shr => ">>",
        Tok::UShr => ">>>",
        Tok::PercentEq => "%=",
        Tok::AmpEq => "&=",
        Tok::PipeEq => "|=",
        Tok::CaretEq => "^=",
        Tok::ShlEq => "<<=",
        Tok::ShrEq => ">>=",
        Tok::UShrEq => ">>>=",
        Tok::Int(_)
        | Tok::IntMinMagnitude
        | Tok::Float(_)
        | Tok::Str(_)
        | Tok::Ident(_)
        | Tok::Eof => "",
    }
}

fn keyword(word: &str) -> Option<Tok> {
    Some(match word {
        "fn" => Tok::Fn,
        "async" => Tok::Async,
        "gen" => Tok::Gen,
        "let" => Tok::Let,
        "var" => Tok::Var,
        "if" => Tok::If,
        "else" => Tok::Else,
        "while" => Tok::While,
        "loop" => Tok::Loop,
        "for" => Tok::For,
        "in" => Tok::In,
        "break" => Tok::Break,
        "continue" => Tok::Continue,
        "return" => Tok::Return,
        "yield" => Tok::Yield,
        "await" => Tok::Await,
        "spawn" => Tok::Spawn,
        "select" => Tok::Select,
        "defer" => Tok::Defer,
        "struct" => Tok::Struct,
        "enum" => Tok::Enum,
        "impl" => Tok::Impl,
        "match" => Tok::Match,
        "import" => Tok::Import,
        "true" => Tok::True,
        "false" => Tok::False,
        "nil" => Tok::Nil,
        _ => return None,
    })
}

/// Deepest nesting of `{` inside string interpolations, so hostile input cannot
/// overflow the lexer's recursion.
const MAX_INTERPOLATION_DEPTH: usize = 32;

pub struct Lexer<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    file: u32,
    pub diags: Vec<Diagnostic>,
    depth: usize,
}

/// Lexes a whole file. The token list always ends with `Eof`.
pub fn lex(src: &str, file: u32) -> (Vec<Token>, Vec<Diagnostic>) {
    let mut lexer = Lexer {
        src,
        bytes: src.as_bytes(),
        pos: 0,
        file,
        diags: Vec::new(),
        depth: 0,
    };
    let tokens = lexer.tokens(src.len(), false);
    (tokens, lexer.diags)
}

impl<'a> Lexer<'a> {
    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.file, start, end)
    }

    fn error(&mut self, id: DiagId, msg: String, start: usize, end: usize, label: &str) {
        let span = self.span(start, end);
        self.diags
            .push(Diagnostic::error(id, msg).with_label(span, label.to_string()));
    }

    fn peek(&self, ahead: usize) -> u8 {
        *self.bytes.get(self.pos + ahead).unwrap_or(&0)
    }

    /// Lexes until `end` (a byte offset) or, inside an interpolation, the `}`
    /// that closes it.
    fn tokens(&mut self, end: usize, in_interp: bool) -> Vec<Token> {
        let mut out = Vec::new();
        let mut newline = false;
        let mut brace_depth = 0usize;
        // `(` and `[` too: a `:` outside all three starts a format spec.
        let mut nesting = 0usize;
        loop {
            newline |= self.skip_trivia(end);
            if self.pos >= end {
                out.push(Token {
                    tok: Tok::Eof,
                    span: self.span(end, end),
                    newline_before: true,
                });
                return out;
            }
            let at_spec = self.bytes[self.pos] == b':' && nesting == 0;
            if in_interp && (self.bytes[self.pos] == b'}' || at_spec) && brace_depth == 0 {
                out.push(Token {
                    tok: Tok::Eof,
                    span: self.span(self.pos, self.pos),
                    newline_before: true,
                });
                return out;
            }
            let start = self.pos;
            let tok = self.token(end);
            match tok {
                Some(Tok::LBrace) => brace_depth += 1,
                Some(Tok::RBrace) => brace_depth = brace_depth.saturating_sub(1),
                Some(Tok::LParen | Tok::LBracket) => nesting += 1,
                Some(Tok::RParen | Tok::RBracket) => nesting = nesting.saturating_sub(1),
                _ => {}
            }
            if let Some(tok) = tok {
                out.push(Token {
                    tok,
                    span: self.span(start, self.pos),
                    newline_before: newline,
                });
                newline = false;
            }
        }
    }

    /// Skips spaces and comments; says whether a newline was among them.
    fn skip_trivia(&mut self, end: usize) -> bool {
        let mut newline = false;
        while self.pos < end {
            match self.bytes[self.pos] {
                b'\n' => {
                    newline = true;
                    self.pos += 1;
                }
                b' ' | b'\t' | b'\r' => self.pos += 1,
                b'/' if self.peek(1) == b'/' => {
                    while self.pos < end && self.bytes[self.pos] != b'\n' {
                        self.pos += 1;
                    }
                }
                b'/' if self.peek(1) == b'*' => {
                    let start = self.pos;
                    self.pos += 2;
                    let mut depth = 1;
                    while self.pos < end && depth > 0 {
                        if self.bytes[self.pos] == b'*' && self.peek(1) == b'/' {
                            depth -= 1;
                            self.pos += 2;
                        } else if self.bytes[self.pos] == b'/' && self.peek(1) == b'*' {
                            depth += 1;
                            self.pos += 2;
                        } else {
                            if self.bytes[self.pos] == b'\n' {
                                newline = true;
                            }
                            self.pos += 1;
                        }
                    }
                    if depth > 0 {
                        self.error(
                            DiagId::UnterminatedComment,
                            "unterminated block comment".into(),
                            start,
                            start + 2,
                            "this comment is never closed",
                        );
                        self.pos = end;
                    }
                }
                _ => break,
            }
        }
        newline
    }

    fn token(&mut self, end: usize) -> Option<Tok> {
        let start = self.pos;
        let c = self.bytes[self.pos];
        if c.is_ascii_digit() {
            return Some(self.number(end));
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            while self.pos < end
                && (self.bytes[self.pos].is_ascii_alphanumeric() || self.bytes[self.pos] == b'_')
            {
                self.pos += 1;
            }
            let word = &self.src[start..self.pos];
            return Some(keyword(word).unwrap_or_else(|| Tok::Ident(word.to_string())));
        }
        if c == b'"' {
            return Some(self.string(end));
        }
        let two = (c, self.peek(1));
        let (tok, len) = match two {
            (b'.', b'.') if self.peek(2) == b'=' => (Tok::DotDotEq, 3),
            (b'.', b'.') => (Tok::DotDot, 2),
            (b'-', b'>') => (Tok::Arrow, 2),
            (b'=', b'>') => (Tok::FatArrow, 2),
            (b'=', b'=') => (Tok::EqEq, 2),
            (b'!', b'=') => (Tok::NotEq, 2),
            (b'>', b'>') if self.peek(2) == b'>' && self.peek(3) == b'=' => (Tok::UShrEq, 4),
            (b'>', b'>') if self.peek(2) == b'>' => (Tok::UShr, 3),
            (b'>', b'>') if self.peek(2) == b'=' => (Tok::ShrEq, 3),
            (b'<', b'<') if self.peek(2) == b'=' => (Tok::ShlEq, 3),
            (b'%', b'=') => (Tok::PercentEq, 2),
            (b'&', b'=') => (Tok::AmpEq, 2),
            (b'|', b'=') => (Tok::PipeEq, 2),
            (b'^', b'=') => (Tok::CaretEq, 2),
            (b'<', b'=') => (Tok::Le, 2),
            (b'>', b'=') => (Tok::Ge, 2),
            (b'<', b'<') => (Tok::Shl, 2),
            (b'>', b'>') => (Tok::Shr, 2),
            (b'&', b'&') => (Tok::AndAnd, 2),
            (b'|', b'|') => (Tok::OrOr, 2),
            (b'+', b'=') => (Tok::PlusEq, 2),
            (b'-', b'=') => (Tok::MinusEq, 2),
            (b'*', b'=') => (Tok::StarEq, 2),
            (b'/', b'=') => (Tok::SlashEq, 2),
            (b'(', _) => (Tok::LParen, 1),
            (b')', _) => (Tok::RParen, 1),
            (b'{', _) => (Tok::LBrace, 1),
            (b'}', _) => (Tok::RBrace, 1),
            (b'[', _) => (Tok::LBracket, 1),
            (b']', _) => (Tok::RBracket, 1),
            (b',', _) => (Tok::Comma, 1),
            (b':', _) => (Tok::Colon, 1),
            (b';', _) => (Tok::Semi, 1),
            (b'.', _) => (Tok::Dot, 1),
            (b'?', _) => (Tok::Question, 1),
            (b'!', _) => (Tok::Bang, 1),
            (b'=', _) => (Tok::Assign, 1),
            (b'+', _) => (Tok::Plus, 1),
            (b'-', _) => (Tok::Minus, 1),
            (b'*', _) => (Tok::Star, 1),
            (b'/', _) => (Tok::Slash, 1),
            (b'%', _) => (Tok::Percent, 1),
            (b'<', _) => (Tok::Lt, 1),
            (b'>', _) => (Tok::Gt, 1),
            (b'&', _) => (Tok::Amp, 1),
            (b'|', _) => (Tok::Pipe, 1),
            (b'^', _) => (Tok::Caret, 1),
            _ => {
                // Skip one whole UTF-8 character so the span is on a char boundary.
                let ch = self.src[start..].chars().next().unwrap_or('\u{fffd}');
                self.pos += ch.len_utf8().max(1);
                let shown = if ch.is_control() {
                    format!("{:?}", ch)
                } else {
                    format!("`{ch}`")
                };
                self.error(
                    DiagId::UnexpectedCharacter,
                    format!("unexpected character {shown}"),
                    start,
                    self.pos,
                    "not valid here",
                );
                return None;
            }
        };
        self.pos += len;
        Some(tok)
    }

    fn number(&mut self, end: usize) -> Tok {
        let start = self.pos;
        let is_digit = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
        if self.bytes[self.pos] == b'0' && matches!(self.peek(1), b'x' | b'b' | b'o') {
            let radix = match self.peek(1) {
                b'x' => 16,
                b'b' => 2,
                _ => 8,
            };
            self.pos += 2;
            while self.pos < end && is_digit(self.bytes[self.pos]) {
                self.pos += 1;
            }
            let digits: String = self.src[start + 2..self.pos]
                .chars()
                .filter(|&c| c != '_')
                .collect();
            return match u64::from_str_radix(&digits, radix) {
                Ok(v) => Tok::Int(v as i64),
                Err(_) => {
                    self.error(
                        DiagId::InvalidNumber,
                        "invalid integer literal".into(),
                        start,
                        self.pos,
                        "not a valid number",
                    );
                    Tok::Int(0)
                }
            };
        }
        while self.pos < end
            && (self.bytes[self.pos].is_ascii_digit() || self.bytes[self.pos] == b'_')
        {
            self.pos += 1;
        }
        let mut is_float = false;
        if self.pos < end && self.bytes[self.pos] == b'.' && self.peek(1).is_ascii_digit() {
            is_float = true;
            self.pos += 1;
            while self.pos < end
                && (self.bytes[self.pos].is_ascii_digit() || self.bytes[self.pos] == b'_')
            {
                self.pos += 1;
            }
        }
        if self.pos < end && matches!(self.bytes[self.pos], b'e' | b'E') {
            let save = self.pos;
            self.pos += 1;
            if matches!(self.peek(0), b'+' | b'-') {
                self.pos += 1;
            }
            if self.peek(0).is_ascii_digit() {
                is_float = true;
                while self.pos < end && self.bytes[self.pos].is_ascii_digit() {
                    self.pos += 1;
                }
            } else {
                self.pos = save;
            }
        }
        // A letter straight after a number is a typo such as `12abc`.
        if self.pos < end
            && (self.bytes[self.pos].is_ascii_alphabetic() || self.bytes[self.pos] == b'_')
        {
            while self.pos < end && is_digit(self.bytes[self.pos]) {
                self.pos += 1;
            }
            self.error(
                DiagId::InvalidNumber,
                "invalid number literal".into(),
                start,
                self.pos,
                "not a valid number",
            );
            return Tok::Int(0);
        }
        let text: String = self.src[start..self.pos]
            .chars()
            .filter(|&c| c != '_')
            .collect();
        if is_float {
            Tok::Float(text.parse().unwrap_or(0.0))
        } else {
            match text.parse::<i64>() {
                Ok(v) => Tok::Int(v),
                // `9223372036854775808` is allowed so that `-9223372036854775808` can be written.
                Err(_) if text == "9223372036854775808" => Tok::IntMinMagnitude,
                Err(_) => {
                    self.error(
                        DiagId::IntegerTooLarge,
                        "integer literal is too large for `int`".into(),
                        start,
                        self.pos,
                        "does not fit in 64 bits",
                    );
                    Tok::Int(0)
                }
            }
        }
    }

    fn string(&mut self, end: usize) -> Tok {
        let start = self.pos;
        self.pos += 1;
        let mut parts = Vec::new();
        let mut text = String::new();
        loop {
            if self.pos >= end || self.bytes[self.pos] == b'\n' {
                self.error(
                    DiagId::UnterminatedString,
                    "unterminated string literal".into(),
                    start,
                    start + 1,
                    "this string is never closed",
                );
                break;
            }
            let c = self.bytes[self.pos];
            match c {
                b'"' => {
                    self.pos += 1;
                    break;
                }
                b'\\' => {
                    let esc_start = self.pos;
                    self.pos += 1;
                    let e = self.peek(0);
                    self.pos += 1;
                    match e {
                        b'n' => text.push('\n'),
                        b't' => text.push('\t'),
                        b'r' => text.push('\r'),
                        b'0' => text.push('\0'),
                        b'\\' => text.push('\\'),
                        b'"' => text.push('"'),
                        b'{' => text.push('{'),
                        b'}' => text.push('}'),
                        b'u' if self.peek(0) == b'{' => {
                            let digits_start = self.pos + 1;
                            let mut p = digits_start;
                            while p < end && self.bytes[p].is_ascii_hexdigit() {
                                p += 1;
                            }
                            let ch = if p < end && self.bytes[p] == b'}' {
                                u32::from_str_radix(&self.src[digits_start..p], 16)
                                    .ok()
                                    .and_then(char::from_u32)
                            } else {
                                None
                            };
                            match ch {
                                Some(ch) => {
                                    text.push(ch);
                                    self.pos = p + 1;
                                }
                                None => {
                                    self.error(
                                        DiagId::InvalidEscape,
                                        "invalid unicode escape".into(),
                                        esc_start,
                                        p.min(end),
                                        "expected `\\u{HEX}` naming a character",
                                    );
                                    self.pos = p.min(end);
                                }
                            }
                        }
                        _ => {
                            // Step back over a multi-byte char so spans stay on boundaries.
                            self.pos = esc_start + 1;
                            let ch = self.src[self.pos..].chars().next().unwrap_or(' ');
                            self.pos += ch.len_utf8();
                            self.error(
                                DiagId::InvalidEscape,
                                format!("unknown escape sequence `\\{ch}`"),
                                esc_start,
                                self.pos,
                                "use one of \\n \\t \\r \\0 \\\\ \\\" \\{ \\} \\u{..}",
                            );
                        }
                    }
                }
                b'{' => {
                    if !text.is_empty() {
                        parts.push(StrTok::Lit(std::mem::take(&mut text)));
                    }
                    let open = self.pos;
                    self.pos += 1;
                    if self.depth >= MAX_INTERPOLATION_DEPTH {
                        self.error(
                            DiagId::NestingTooDeep,
                            "string interpolation nested too deeply".into(),
                            open,
                            open + 1,
                            "too deep",
                        );
                        self.pos = end;
                        break;
                    }
                    self.depth += 1;
                    let toks = self.tokens(end, true);
                    self.depth -= 1;
                    let inner = self.span(open + 1, self.pos);
                    // `{expr:spec}`: the spec is raw text up to the `}`.
                    let mut spec = None;
                    if self.pos < end && self.bytes[self.pos] == b':' {
                        let from = self.pos + 1;
                        let to = (from..end).find(|&i| self.bytes[i] == b'}').unwrap_or(end);
                        spec = Some((self.src[from..to].to_string(), self.span(from, to)));
                        self.pos = to;
                    }
                    if self.pos < end && self.bytes[self.pos] == b'}' {
                        self.pos += 1;
                    } else {
                        self.error(
                            DiagId::UnterminatedString,
                            "unterminated interpolation in string literal".into(),
                            open,
                            open + 1,
                            "this `{` is never closed",
                        );
                        break;
                    }
                    if toks.len() == 1 {
                        self.error(
                            DiagId::EmptyInterpolation,
                            "empty interpolation in string literal".into(),
                            open,
                            self.pos,
                            "write an expression inside the braces, or `\\{` for a brace",
                        );
                    }
                    parts.push(StrTok::Expr(toks, inner, spec));
                }
                _ => {
                    let ch = self.src[self.pos..].chars().next().unwrap_or(' ');
                    text.push(ch);
                    self.pos += ch.len_utf8();
                }
            }
        }
        if !text.is_empty() || parts.is_empty() {
            parts.push(StrTok::Lit(text));
        }
        Tok::Str(parts)
    }
}
