//! Items (functions, `extern fn`, structs, enums, interfaces, `impl`, imports) and type expressions.

use super::*;
use crate::ast::{Bound, InterfaceDecl, MethodSig};

impl Parser {
    // ----- items --------------------------------------------------------

    pub(super) fn module(&mut self) -> Module {
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

    pub(super) fn item(&mut self) -> Option<Item> {
        match self.tok() {
            Tok::Import => self.import().map(Item::Import),
            Tok::Fn | Tok::Async | Tok::Gen => self.fn_decl(false).map(Item::Fn),
            Tok::Struct => self.struct_decl().map(Item::Struct),
            Tok::Enum => self.enum_decl().map(Item::Enum),
            Tok::Impl => self.impl_decl().map(Item::Impl),
            Tok::Ident(word) if word == "interface" && matches!(self.peek_at(1), Tok::Ident(_)) => {
                self.interface_decl().map(Item::Interface)
            }
            Tok::Ident(word) if word == "extern" && self.peek_at(1) == &Tok::Fn => {
                self.extern_fn().map(Item::Extern)
            }
            Tok::Let | Tok::Var => self.global().map(Item::Global),
            Tok::Ident(word) if word == "const" && matches!(self.peek_at(1), Tok::Ident(_)) => {
                self.global().map(Item::Global)
            }
            _ => {
                let found = describe(self.tok());
                let span = self.span();
                self.report(
                    Diagnostic::error(
                        DiagId::ExpectedItem,
                        format!("expected an item such as `fn`, found {found}"),
                    )
                    .with_label(span, "expected `fn`, `struct`, `enum`, `impl`, `import`, `const`, `let` or `var`"),
                );
                None
            }
        }
    }

    /// `const NAME [: T] = e`, `let name [: T] = e`, `var name [: T] = e`.
    pub(super) fn global(&mut self) -> Option<GlobalDecl> {
        let start = self.span();
        let kind = match self.tok() {
            Tok::Let => GlobalKind::Let,
            Tok::Var => GlobalKind::Var,
            _ => GlobalKind::Const,
        };
        self.bump();
        let name = self.expect_ident("a name")?;
        let ty = if self.eat(&Tok::Colon) {
            Some(self.ty())
        } else {
            None
        };
        if !self.expect(&Tok::Assign) {
            return None;
        }
        let value = self.expr();
        Some(GlobalDecl {
            kind,
            name,
            ty,
            value,
            span: start.to(self.prev_span),
        })
    }

    /// `extern fn name(params) -> T`, without a body.
    pub(super) fn extern_fn(&mut self) -> Option<ExternFn> {
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

    pub(super) fn import(&mut self) -> Option<Import> {
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
    pub(super) fn fn_decl(&mut self, method: bool) -> Option<FnDecl> {
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
        let name = if method {
            self.expect_member_name("a method name")?
        } else {
            self.expect_ident("a function name")?
        };
        // `fn f[T, U](...)`: type parameters, perhaps bounded (`T: Shape`).
        let (type_params, bounds) = self.bounded_type_params();
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
            bounds,
            params,
            ret,
            body,
            span: start.to(self.prev_span),
        })
    }

    /// `[T, U]` after a generic item's name (or after `impl`), if present.
    pub(super) fn type_params(&mut self) -> Vec<Ident> {
        let (params, bounds) = self.bounded_type_params();
        if let Some(b) = bounds.first() {
            let at = b.interfaces[0][0].span;
            self.report(
                Diagnostic::error(
                    DiagId::Unsupported,
                    "only a function's type parameters can have bounds",
                )
                .with_label(at, "not supported here"),
            );
        }
        params
    }

    /// `[T: Shape + Display, U]`: type parameters and their bounds.
    pub(super) fn bounded_type_params(&mut self) -> (Vec<Ident>, Vec<Bound>) {
        if !self.at(&Tok::LBracket) {
            return (Vec::new(), Vec::new());
        }
        let open = self.span();
        self.bump();
        let mut bounds = Vec::new();
        let mut index = 0;
        let params = self.delimited(open, Tok::RBracket, |p| {
            let name = p.expect_ident("a type parameter name")?;
            if p.eat(&Tok::Colon) {
                let mut interfaces = Vec::new();
                loop {
                    interfaces.push(p.path("an interface name")?);
                    if !p.eat(&Tok::Plus) {
                        break;
                    }
                }
                bounds.push(Bound {
                    param: index,
                    interfaces,
                });
            }
            index += 1;
            Some(name)
        });
        (params, bounds)
    }

    /// `name` or `module.name`.
    pub(super) fn path(&mut self, what: &str) -> Option<Vec<Ident>> {
        let mut path = vec![self.expect_ident(what)?];
        while self.at(&Tok::Dot) && matches!(self.peek_at(1), Tok::Ident(_)) {
            self.bump();
            path.push(self.expect_ident(what)?);
        }
        Some(path)
    }

    /// `interface Name { fn m(self, ...) -> T ... }`.
    pub(super) fn interface_decl(&mut self) -> Option<InterfaceDecl> {
        let start = self.span();
        self.bump();
        let name = self.expect_ident("an interface name")?;
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
            let sig_start = self.span();
            let kind = match self.tok() {
                Tok::Async => FnKind::Async,
                Tok::Gen => FnKind::Gen,
                _ => FnKind::Plain,
            };
            if kind != FnKind::Plain {
                self.bump();
            }
            if !self.at(&Tok::Fn) {
                self.expected("`fn` or `}`");
                break;
            }
            self.bump();
            let Some(mname) = self.expect_member_name("a method name") else {
                break;
            };
            let mut params = self.param_list(true);
            let has_self = params
                .first()
                .is_some_and(|p| p.name.name == "self" && p.ty.is_none());
            if has_self {
                params.remove(0);
            } else {
                self.report(
                    Diagnostic::error(
                        DiagId::Unsupported,
                        "an interface method takes `self` first",
                    )
                    .with_label(mname.span, "write `fn m(self, ...)`"),
                );
            }
            let ret = if self.eat(&Tok::Arrow) {
                Some(self.ty())
            } else {
                None
            };
            methods.push(MethodSig {
                kind,
                name: mname,
                params,
                ret,
                span: sig_start.to(self.prev_span),
            });
        }
        self.restore(ctx);
        self.expect_close(&Tok::RBrace, open);
        Some(InterfaceDecl {
            name,
            methods,
            span: start.to(self.prev_span),
        })
    }

    /// `[int, string]` after a generic type's name, if present.
    pub(super) fn type_args(&mut self) -> Vec<TypeExpr> {
        if !self.at(&Tok::LBracket) {
            return Vec::new();
        }
        let open = self.span();
        self.bump();
        self.delimited(open, Tok::RBracket, |p| Some(p.ty()))
    }

    pub(super) fn param_list(&mut self, allow_self: bool) -> Vec<Param> {
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

    pub(super) fn param(&mut self, self_ok: bool) -> Option<Param> {
        let name = self.expect_ident("a parameter name")?;
        if name.name == "self" && !self.at(&Tok::Colon) {
            if self_ok {
                return Some(Param {
                    span: name.span,
                    name,
                    ty: None,
                });
            }
            // A typeless `self` anywhere else: said once, here; the
            // parameter gets the error type so the checker stays quiet.
            self.report(
                Diagnostic::error(
                    DiagId::MisplacedSelf,
                    "`self` can only be the first parameter of a method",
                )
                .with_label(name.span, "not allowed here"),
            );
            return Some(Param {
                span: name.span,
                ty: Some(error_type(name.span)),
                name,
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

    pub(super) fn struct_decl(&mut self) -> Option<StructDecl> {
        let start = self.span();
        self.bump();
        let name = self.expect_ident("a struct name")?;
        let type_params = self.type_params();
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
            type_params,
            fields,
            span: start.to(self.prev_span),
        })
    }

    pub(super) fn enum_decl(&mut self) -> Option<EnumDecl> {
        let start = self.span();
        self.bump();
        let name = self.expect_ident("an enum name")?;
        let type_params = self.type_params();
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
            type_params,
            variants,
            span: start.to(self.prev_span),
        })
    }

    pub(super) fn impl_decl(&mut self) -> Option<ImplDecl> {
        let start = self.span();
        self.bump();
        let type_params = self.type_params();
        let mut path = self.path("a type name")?;
        let mut target_args = self.type_args();
        // `impl Shape for Circle`: what came first is the interface.
        let interface = if self.eat(&Tok::For) {
            let interface = std::mem::replace(&mut path, vec![self.expect_ident("a type name")?]);
            if let Some(a) = target_args.first() {
                self.report(
                    Diagnostic::error(DiagId::Unsupported, "interfaces are not generic")
                        .with_label(a.span(), "no type arguments here"),
                );
            }
            target_args = self.type_args();
            Some(interface)
        } else {
            None
        };
        if path.len() > 1 {
            self.report(
                Diagnostic::error(
                    DiagId::UnknownType,
                    "`impl` needs a struct or enum declared in this file",
                )
                .with_label(path[1].span, "not a type of this module"),
            );
            return None;
        }
        let target = path.remove(0);
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
            type_params,
            target,
            target_args,
            interface,
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

    pub(super) fn ty(&mut self) -> TypeExpr {
        let start = self.span();
        if !self.enter() {
            return error_type(start);
        }
        let base = match self.tok() {
            Tok::Ident(_) => self.named_type(),
            Tok::LBracket => self.array_type(),
            Tok::Fn => self.fn_type(),
            Tok::Async if self.peek_at(1) == &Tok::Fn => {
                self.bump();
                match self.fn_type() {
                    TypeExpr::Func {
                        params, ret, span, ..
                    } => TypeExpr::Func {
                        is_async: true,
                        params,
                        ret,
                        span: start.to(span),
                    },
                    other => other,
                }
            }
            _ => self.expected_type(),
        };
        let t = self.optional_suffixes(base, start);
        self.leave();
        t
    }

    pub(super) fn expected_type(&mut self) -> TypeExpr {
        let span = self.span();
        if !self.halted() {
            let found = describe(self.tok());
            self.report(
                Diagnostic::error(
                    DiagId::ExpectedType,
                    format!("expected a type, found {found}"),
                )
                .with_label(span, "expected a type here"),
            );
        }
        error_type(span)
    }

    /// `T?`, `T??`: each `?` is one more level of the tree.
    pub(super) fn optional_suffixes(&mut self, mut t: TypeExpr, start: Span) -> TypeExpr {
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
    pub(super) fn array_type(&mut self) -> TypeExpr {
        let open = self.span();
        self.bump();
        let ctx = self.set_ctx(false, false);
        let inner = Box::new(self.ty());
        self.restore(ctx);
        self.expect_close(&Tok::RBracket, open);
        TypeExpr::Array(inner, open.to(self.prev_span))
    }

    /// `fn(int, int) -> int`
    pub(super) fn fn_type(&mut self) -> TypeExpr {
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
            is_async: false,
            params,
            ret,
            span: start.to(self.prev_span),
        }
    }

    /// `int`, `time.Timer`, `Map[string, int]`.
    pub(super) fn named_type(&mut self) -> TypeExpr {
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
    pub(super) fn speculate_type(&mut self) -> Option<TypeExpr> {
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
    pub(super) fn constructor_ahead(&self, bracket: usize) -> bool {
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
}
