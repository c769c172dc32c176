//! Expressions: precedence climbing, postfix chains, literals, string
//! interpolation, struct literals, closures, `if`, `match` and `select`.

use super::*;

impl Parser {
    // ----- expressions --------------------------------------------------

    /// An expression, including a range `a..b` / `a..=b` at the lowest level.
    pub(super) fn expr(&mut self) -> Expr {
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

    pub(super) fn range_rest(&mut self, start: Box<Expr>) -> Expr {
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
    pub(super) fn cond_expr(&mut self) -> Expr {
        let ctx = self.set_ctx(self.newlines_significant, true);
        let e = self.expr();
        self.restore(ctx);
        e
    }

    /// Binary operators of precedence `min` and above, left-associative.
    pub(super) fn binary(&mut self, min: u8) -> Expr {
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

    pub(super) fn make_binary(&mut self, op: BinOp, lhs: Box<Expr>, rhs: Box<Expr>) -> Box<Expr> {
        let span = lhs.span.to(rhs.span);
        Box::new(self.mk(ExprKind::Binary(op, lhs, rhs), span))
    }

    /// Prefix `-`, `!`, `await` and `spawn`, which apply to a postfix expression.
    pub(super) fn unary(&mut self) -> Expr {
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

    /// Calls, field access, indexing, unwrap `!` and try `?`.
    pub(super) fn postfix(&mut self) -> Expr {
        let mut e = Box::new(self.primary());
        let mut links = 0;
        loop {
            let op = match self.tok() {
                Tok::Dot => Postfix::Field,
                Tok::LParen => Postfix::Call,
                Tok::LBracket => Postfix::Index,
                Tok::Bang => Postfix::Unwrap,
                Tok::Question => Postfix::Try,
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

    pub(super) fn call_suffix(&mut self, callee: Box<Expr>) -> Box<Expr> {
        let open = self.span();
        self.bump();
        let args = self.delimited(open, Tok::RParen, |p| Some(p.expr()));
        let span = callee.span.to(self.prev_span);
        Box::new(self.mk(ExprKind::Call(callee, args), span))
    }

    pub(super) fn index_suffix(&mut self, target: Box<Expr>) -> Box<Expr> {
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
    pub(super) fn simple_suffix(
        &mut self,
        op: Postfix,
        e: Box<Expr>,
    ) -> Result<Box<Expr>, Box<Expr>> {
        let at = self.span();
        self.bump();
        if op == Postfix::Unwrap {
            let span = e.span.to(at);
            return Ok(Box::new(self.mk(ExprKind::Unwrap(e), span)));
        }
        if op == Postfix::Try {
            let span = e.span.to(at);
            return Ok(Box::new(self.mk(ExprKind::Try(e), span)));
        }
        match self.expect_member_name("a field or method name") {
            Some(name) => {
                let span = e.span.to(name.span);
                Ok(Box::new(self.mk(ExprKind::Field(e, name), span)))
            }
            None => Err(e),
        }
    }

    pub(super) fn primary(&mut self) -> Expr {
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
            Tok::Async if self.peek_at(1) == &Tok::Fn => self.closure(),
            Tok::If => self.if_expr(false),
            Tok::Match => self.match_expr(),
            Tok::Select => self.select_expr(),
            _ => self.expected_expression(),
        }
    }

    /// 2^63 without a minus sign in front.
    pub(super) fn int_too_large(&mut self, span: Span) {
        self.report(
            Diagnostic::error(
                DiagId::IntegerTooLarge,
                "integer literal is too large for `int`",
            )
            .with_label(
                span,
                "does not fit in 64 bits (only `-9223372036854775808` may use it)",
            ),
        );
    }

    pub(super) fn literal(&mut self) -> Expr {
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

    pub(super) fn expected_expression(&mut self) -> Expr {
        if !self.halted() {
            let found = describe(self.tok());
            let span = self.span();
            self.report(
                Diagnostic::error(
                    DiagId::ExpectedExpression,
                    format!("expected an expression, found {found}"),
                )
                .with_label(span, "expected an expression here"),
            );
        }
        self.error_expr()
    }

    pub(super) fn ident_primary(&mut self) -> Expr {
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

    /// `Name[...](` or `module.Name[...](` (`tasks.Group[int]()`), the name
    /// capitalised: a generic type's constructor.
    pub(super) fn generic_constructor_ahead(&self) -> bool {
        let tok_at = |i: usize| self.tokens.get(i).map(|t| &t.tok);
        let mut i = self.pos;
        while matches!(tok_at(i), Some(Tok::Ident(_)))
            && matches!(tok_at(i + 1), Some(Tok::Dot))
            && matches!(tok_at(i + 2), Some(Tok::Ident(_)))
        {
            i += 2;
        }
        let upper = match tok_at(i) {
            Some(Tok::Ident(name)) => name.starts_with(|c: char| c.is_ascii_uppercase()),
            _ => false,
        };
        upper
            && self.tokens.get(i + 1).is_some_and(|t| {
                t.tok == Tok::LBracket && (!self.newlines_significant || !t.newline_before)
            })
            && self.constructor_ahead(i + 1)
    }

    /// `[`: a constructor `[int]()` if a type and `(` follow, else an array literal.
    pub(super) fn bracket_primary(&mut self) -> Expr {
        if self.constructor_ahead(self.pos) {
            if let Some(e) = self.try_construct() {
                return e;
            }
        }
        let open = self.span();
        if self.repeat_ahead() {
            self.bump();
            let ctx = self.set_ctx(false, false);
            let value = Box::new(self.expr());
            self.bump();
            let count = Box::new(self.expr());
            self.restore(ctx);
            self.expect_close(&Tok::RBracket, open);
            return self.mk(ExprKind::Repeat(value, count), open.to(self.prev_span));
        }
        self.bump();
        let elems = self.delimited(open, Tok::RBracket, |p| Some(p.expr()));
        self.mk(ExprKind::Array(elems), open.to(self.prev_span))
    }

    /// `[v; n]`: a `;` inside this `[`, outside any nested bracket.
    fn repeat_ahead(&self) -> bool {
        let Some(&close) = self.bracket_close.get(self.pos) else {
            return false;
        };
        if close == u32::MAX {
            return false;
        }
        let mut depth = 0usize;
        for t in &self.tokens[self.pos + 1..close as usize] {
            match t.tok {
                Tok::LParen | Tok::LBracket | Tok::LBrace => depth += 1,
                Tok::RParen | Tok::RBracket | Tok::RBrace => depth = depth.saturating_sub(1),
                Tok::Semi if depth == 0 => return true,
                _ => {}
            }
        }
        false
    }

    /// A constructor at the current token, or `None` with nothing consumed.
    pub(super) fn try_construct(&mut self) -> Option<Expr> {
        let start = self.span();
        let ty = self.speculate_type()?;
        let open = self.span();
        self.bump();
        let args = self.delimited(open, Tok::RParen, |p| Some(p.expr()));
        Some(self.mk(ExprKind::Construct(ty, args), start.to(self.prev_span)))
    }

    /// `Name {` or `a.b.Name {` followed by `}` or `field:`.
    pub(super) fn struct_lit_ahead(&self) -> bool {
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
        // `Pair[int, string] {`: type arguments, after a type's (capitalised) name.
        let upper = matches!(tok_at(i - 1), Some(Tok::Ident(n)) if n.starts_with(|c: char| c.is_ascii_uppercase()));
        if upper && matches!(tok_at(i), Some(Tok::LBracket)) {
            match self.bracket_close.get(i) {
                Some(&close) if close != u32::MAX => i = close as usize + 1,
                _ => return false,
            }
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

    pub(super) fn struct_lit(&mut self) -> Expr {
        let start = self.span();
        let mut name = Vec::new();
        while let Some(part) = self.expect_ident("a struct name") {
            name.push(part);
            if !(self.at(&Tok::Dot) && matches!(self.peek_at(1), Tok::Ident(_))) {
                break;
            }
            self.bump();
        }
        let type_args = self.type_args();
        let open = self.span();
        if !self.expect(&Tok::LBrace) {
            return self.mk(ExprKind::Error, start);
        }
        let fields = self.brace_list(open, Self::struct_lit_field);
        self.mk(
            ExprKind::StructLit {
                name,
                type_args,
                fields,
            },
            start.to(self.prev_span),
        )
    }

    pub(super) fn struct_lit_field(&mut self) -> Option<(Ident, Expr)> {
        let field = self.expect_ident("a field name")?;
        if !self.expect(&Tok::Colon) {
            return None;
        }
        Some((field, self.expr()))
    }

    pub(super) fn paren_expr(&mut self) -> Expr {
        let open = self.span();
        self.bump();
        let ctx = self.set_ctx(false, false);
        let mut e = self.expr();
        self.restore(ctx);
        self.expect_close(&Tok::RParen, open);
        e.span = open.to(self.prev_span);
        e
    }

    pub(super) fn string_lit(&mut self) -> Expr {
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
                StrTok::Expr(tokens, span, None) => StrPart::Expr(self.interpolation(tokens, span)),
                StrTok::Expr(tokens, span, Some((text, at))) => {
                    let e = self.interpolation(tokens, span);
                    match weft_abi::format::Spec::parse(&text) {
                        Ok(spec) => StrPart::Format(
                            e,
                            FormatSpec {
                                text,
                                spec,
                                span: at,
                            },
                        ),
                        Err(why) => {
                            self.report(
                                Diagnostic::error(
                                    DiagId::InvalidFormatSpec,
                                    format!("`{text}` is not a format spec"),
                                )
                                .with_label(at, why),
                            );
                            StrPart::Expr(e)
                        }
                    }
                }
            });
        }
        if out.is_empty() {
            out.push(StrPart::Lit(String::new()));
        }
        self.mk(ExprKind::Str(out), start)
    }

    /// Parses the tokens of one `{expr}` by swapping them in as the current
    /// token list, so ids, depth and diagnostics carry on seamlessly.
    pub(super) fn interpolation(&mut self, mut tokens: Vec<Token>, span: Span) -> Expr {
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

    pub(super) fn invalid_interpolation(&mut self, interpolation: Span) {
        let found = describe(self.tok());
        let at = self.span();
        self.report(
            Diagnostic::error(
                DiagId::InvalidInterpolation,
                format!("expected `}}` after the interpolated expression, found {found}"),
            )
            .with_label(at, "an interpolation holds a single expression")
            .with_label(interpolation, "in this interpolation"),
        );
    }

    /// `fn(x: int) -> int { ... }`
    pub(super) fn closure(&mut self) -> Expr {
        let start = self.span();
        let is_async = self.eat(&Tok::Async);
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
            ExprKind::Closure {
                is_async,
                params,
                ret,
                body,
            },
            start.to(self.prev_span),
        )
    }

    /// `if c { } else if d { } else { }` and `if let x = e { } else { }`.
    /// `else_if`: an arm of an `else if` chain, a link rather than nesting.
    pub(super) fn if_expr(&mut self, else_if: bool) -> Expr {
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

    pub(super) fn if_rest(&mut self, start: Span) -> Expr {
        let cond = Box::new(self.cond_expr());
        let then = self.block();
        let els = self.else_branch();
        self.mk(ExprKind::If { cond, then, els }, start.to(self.prev_span))
    }

    pub(super) fn if_let_rest(&mut self, start: Span) -> Expr {
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
    pub(super) fn else_branch(&mut self) -> Option<Box<Expr>> {
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
    pub(super) fn match_expr(&mut self) -> Expr {
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

    pub(super) fn match_arm(&mut self) -> Option<MatchArm> {
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
    pub(super) fn select_expr(&mut self) -> Expr {
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

    pub(super) fn select_arm(&mut self) -> Option<SelectArm> {
        let start = self.span();
        if matches!(self.tok(), Tok::Ident(w) if w == "default")
            && self.peek_at(1) == &Tok::FatArrow
        {
            self.bump();
            self.bump();
            let op = self.mk(ExprKind::Error, start);
            let body = self.block();
            return Some(SelectArm {
                is_default: true,
                binding: None,
                op,
                body,
                span: start.to(self.prev_span),
            });
        }
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
            is_default: false,
            binding,
            op,
            body,
            span: start.to(self.prev_span),
        })
    }
}
