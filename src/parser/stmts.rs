//! Patterns, blocks and statements.

use super::*;

impl Parser {
    // ----- patterns -----------------------------------------------------

    pub(super) fn pattern(&mut self) -> Option<Pattern> {
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
    pub(super) fn simple_pattern(&mut self) -> Option<Pattern> {
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
                            DiagId::ExpectedPattern,
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

    pub(super) fn expected_pattern(&mut self) -> Option<Pattern> {
        if !self.halted() {
            let found = describe(self.tok());
            let span = self.span();
            self.report(
                Diagnostic::error(
                    DiagId::ExpectedPattern,
                    format!("expected a pattern, found {found}"),
                )
                .with_label(span, "expected a pattern here"),
            );
        }
        None
    }

    /// `x`, `Circle(r)`, `Shape.Circle(r)`, `Shape.Empty`.
    pub(super) fn path_pattern(&mut self) -> Option<Pattern> {
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

    pub(super) fn block(&mut self) -> Block {
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
    pub(super) fn stmts(&mut self, out: &mut Vec<Stmt>) {
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

    pub(super) fn expected_newline(&mut self) {
        if self.halted() {
            return;
        }
        let found = describe(self.tok());
        let span = self.span();
        self.report(
            Diagnostic::error(
                DiagId::ExpectedNewline,
                format!("expected `;` or a line break after the statement, found {found}"),
            )
            .with_label(span, "start a new line or add `;` before this"),
        );
    }

    /// Parses one statement into `out`; nothing is added when its head was
    /// too broken to build a node (the error is reported and the caller skips).
    pub(super) fn stmt(&mut self, out: &mut Vec<Stmt>) {
        let stmt = match self.tok() {
            Tok::Let | Tok::Var => self.let_stmt(),
            Tok::While => self.while_stmt(),
            Tok::For => self.for_stmt(),
            Tok::Loop => self.loop_stmt(),
            Tok::Return => self.return_stmt(),
            Tok::Break | Tok::Continue | Tok::Yield | Tok::Defer => self.keyword_stmt(),
            Tok::LBrace | Tok::If | Tok::Match | Tok::Select => self.block_like_stmt(),
            Tok::Ident(_) if self.peek_at(1) == &Tok::Colon => self.labeled_stmt(),
            _ => self.expr_stmt(),
        };
        out.extend(stmt);
    }

    pub(super) fn let_stmt(&mut self) -> Option<Stmt> {
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

    pub(super) fn while_stmt(&mut self) -> Option<Stmt> {
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
    pub(super) fn while_let_rest(&mut self, start: Span) -> Option<Stmt> {
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

    pub(super) fn for_stmt(&mut self) -> Option<Stmt> {
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

    pub(super) fn loop_stmt(&mut self) -> Option<Stmt> {
        let start = self.span();
        self.bump();
        let body = self.block();
        Some(Stmt::Loop {
            body,
            span: start.to(self.prev_span),
        })
    }

    /// `return` takes a value unless the statement ends right after it.
    pub(super) fn return_stmt(&mut self) -> Option<Stmt> {
        let start = self.span();
        self.bump();
        let bare =
            matches!(self.tok(), Tok::RBrace | Tok::Semi | Tok::Eof) || self.newline_before();
        let value = if bare { None } else { Some(self.expr()) };
        Some(Stmt::Return(value, start.to(self.prev_span)))
    }

    /// `label: for ...`, `label: while ...`, `label: loop ...`.
    pub(super) fn labeled_stmt(&mut self) -> Option<Stmt> {
        let label = self.expect_ident("a label")?;
        self.bump();
        let body = match self.tok() {
            Tok::While => self.while_stmt(),
            Tok::For => self.for_stmt(),
            Tok::Loop => self.loop_stmt(),
            _ => {
                let found = describe(self.tok());
                let span = self.span();
                self.report(
                    Diagnostic::error(
                        DiagId::LabelWithoutLoop,
                        format!(
                            "a label names a loop, but {found} follows `{}:`",
                            label.name
                        ),
                    )
                    .with_label(span, "expected `for`, `while` or `loop` here"),
                );
                return None;
            }
        }?;
        let span = label.span.to(body.span());
        Some(Stmt::Labeled {
            label,
            body: Box::new(body),
            span,
        })
    }

    /// `break`, `continue`, `yield e`, `defer e` (also `defer { ... }`).
    pub(super) fn keyword_stmt(&mut self) -> Option<Stmt> {
        let start = self.span();
        let kw = self.tok().clone();
        self.bump();
        let make: fn(Expr, Span) -> Stmt = match kw {
            Tok::Break | Tok::Continue => {
                // `break label`: a name on the same line.
                let label = match self.tok() {
                    Tok::Ident(_) if !self.newline_before() => self.expect_ident("a label"),
                    _ => None,
                };
                let span = start.to(self.prev_span);
                return Some(if kw == Tok::Break {
                    Stmt::Break(label, span)
                } else {
                    Stmt::Continue(label, span)
                });
            }
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
    pub(super) fn block_like_stmt(&mut self) -> Option<Stmt> {
        let e = if self.at(&Tok::LBrace) {
            self.block_expr()
        } else {
            self.primary()
        };
        Some(Stmt::Expr(e))
    }

    /// An expression statement, or an assignment `target = e` / `target op= e`.
    pub(super) fn expr_stmt(&mut self) -> Option<Stmt> {
        let target = self.expr();
        let op = match self.tok() {
            Tok::Assign => None,
            Tok::PlusEq => Some(BinOp::Add),
            Tok::MinusEq => Some(BinOp::Sub),
            Tok::StarEq => Some(BinOp::Mul),
            Tok::SlashEq => Some(BinOp::Div),
            Tok::PercentEq => Some(BinOp::Rem),
            Tok::AmpEq => Some(BinOp::BitAnd),
            Tok::PipeEq => Some(BinOp::BitOr),
            Tok::CaretEq => Some(BinOp::BitXor),
            Tok::ShlEq => Some(BinOp::Shl),
            Tok::ShrEq => Some(BinOp::Shr),
            Tok::UShrEq => Some(BinOp::UShr),
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

    pub(super) fn block_expr(&mut self) -> Expr {
        let start = self.span();
        let block = self.block();
        let span = start.to(self.prev_span);
        self.mk(ExprKind::Block(block), span)
    }
}
