//! Calls: arguments, direct calls, methods of built-in and user types.

use super::generic_types::MethodRef;
use super::*;

impl<'a> Checker<'a, '_> {
    pub(super) fn check_args(
        &mut self,
        call: &Expr,
        name: &str,
        params: &[Type],
        args: &'a [Expr],
        decl: Option<Span>,
    ) {
        if let Some(types) = self.prechecked.take() {
            if params.len() == args.len() {
                for ((p, a), t) in params.iter().zip(args).zip(&types) {
                    self.coerce(a, t, p);
                }
                return;
            }
        }
        if params.len() != args.len() {
            for a in args {
                self.check_expr(a, ANY);
            }
            self.wrong_argument_count(call.span, name, params.len(), args.len(), decl);
            return;
        }
        for (p, a) in params.iter().zip(args) {
            let t = self.check_expr(a, Some(p));
            self.coerce(a, &t, p);
        }
    }

    pub(super) fn wrong_argument_count(
        &mut self,
        call: Span,
        name: &str,
        expected: usize,
        given: usize,
        decl: Option<Span>,
    ) {
        let mut d = Diagnostic::error(
            DiagId::WrongArgumentCount,
            format!(
                "`{name}` takes {expected} argument{} but {given} {} given",
                plural(expected),
                if given == 1 { "was" } else { "were" }
            ),
        )
        .with_label(call, "wrong number of arguments");
        if let Some(decl) = decl {
            d = d.with_label(decl, "defined here");
        }
        self.error(d);
    }

    pub(super) fn check_call(
        &mut self,
        e: &'a Expr,
        callee: &'a Expr,
        args: &'a [Expr],
        want: Option<&Type>,
    ) -> Type {
        match &callee.kind {
            ExprKind::Name(name) if self.lookup_local_quiet(name).is_none() => {
                let ident = Ident {
                    name: name.clone(),
                    span: callee.span,
                };
                match self.lookup_item(std::slice::from_ref(&ident)) {
                    Some(ItemRef::Fn(f)) => return self.direct_call(e, callee, f, args),
                    Some(ItemRef::Generic(g)) => return self.generic_call(e, callee, g, args),
                    Some(ItemRef::Struct(s)) if self.has_method(s, "new") => {
                        return self.constructor_call(e, callee, s, args);
                    }
                    Some(ItemRef::Interface(_)) => {
                        for a in args {
                            self.check_expr(a, ANY);
                        }
                        self.error(
                            Diagnostic::error(DiagId::TypeAsValue, format!("`{name}` is an interface, not a function"))
                                .with_label(callee.span, "a value of a type that implements it converts where it is expected"),
                        );
                        return Type::Error;
                    }
                    Some(ItemRef::Struct(_) | ItemRef::GenericType(_)) => {
                        self.error(
                            Diagnostic::error(DiagId::TypeAsValue, format!("`{name}` is a struct; build it with `{name} {{ field: value }}`"))
                                .with_label(callee.span, "not a function"),
                        );
                        return Type::Error;
                    }
                    // A module variable holding a function value: an indirect call.
                    Some(ItemRef::Global(_) | ItemRef::Const(_)) => {}
                    None => {
                        if let Some(g) = self.prelude_variant(name) {
                            let v = Ident {
                                name: name.clone(),
                                span: callee.span,
                            };
                            if let Some(t) = self.generic_variant(e, g, &v, Some(args), want) {
                                return t;
                            }
                        }
                        return self.builtin_call(e, callee, name, args);
                    }
                }
            }
            ExprKind::Field(base, method) => {
                if let Some(t) = self.method_call(e, callee, base, method, args, want) {
                    return t;
                }
            }
            _ => {}
        }
        let ft = self.check_expr(callee, ANY);
        match ft {
            Type::Func(params, ret) => {
                self.out.calls.insert(e.id, Callee::Indirect);
                self.check_args(e, "this function", &params, args, None);
                *ret
            }
            Type::AsyncFn(params, ret) => {
                self.out.calls.insert(e.id, Callee::Indirect);
                if self.async_call_ok != Some(e.id) {
                    self.error(
                        Diagnostic::error(
                            DiagId::AsyncCallWithoutAwait,
                            "this is an async function value: call it with `await` or `spawn`",
                        )
                        .with_label(e.span, "write `await f(...)` to wait for it, or `spawn f(...)` to run it as a task"),
                    );
                }
                self.check_args(e, "this function", &params, args, None);
                *ret
            }
            Type::Error | Type::Never => {
                for a in args {
                    self.check_expr(a, ANY);
                }
                Type::Error
            }
            other => {
                for a in args {
                    self.check_expr(a, ANY);
                }
                self.error(
                    Diagnostic::error(DiagId::NotCallable, format!("a `{other}` cannot be called"))
                        .with_label(callee.span, "not a function"),
                );
                Type::Error
            }
        }
    }

    /// `S(args)` for a struct with a static `new`: a call of `S.new(args)`
    /// (how `strings.Builder()` is made).
    fn constructor_call(&mut self, e: &Expr, callee: &Expr, s: StructId, args: &'a [Expr]) -> Type {
        match self.method_of(s, "new") {
            Some(MethodRef::Fn(f)) => self.direct_call(e, callee, f, args),
            _ => {
                for a in args {
                    self.check_expr(a, ANY);
                }
                Type::Error
            }
        }
    }

    pub(super) fn direct_call(
        &mut self,
        e: &Expr,
        callee: &Expr,
        f: FnId,
        args: &'a [Expr],
    ) -> Type {
        self.out.names.insert(callee.id, Res::Fn(f));
        self.out.calls.insert(e.id, Callee::Fn(f));
        if self.out.fns[f as usize].is_async && self.async_call_ok != Some(e.id) {
            let name = self.out.fns[f as usize].name.clone();
            self.error(
                Diagnostic::error(DiagId::AsyncCallWithoutAwait, format!("`{name}` is an `async fn`: call it with `await` or `spawn`"))
                    .with_label(e.span, format!("write `await {name}(...)` to wait for it, or `spawn {name}(...)` to run it as a task")),
            );
        }
        if self.out.fns[f as usize].symbol == AFTER_SYMBOL && self.after_ok != Some(e.id) {
            self.error(
                Diagnostic::error(DiagId::AfterOutsideSelect, "`time.after(ms)` is a `select` arm")
                    .with_label(e.span, "use it as `time.after(ms) => { ... }` in a `select`; to wait, `await time.sleep(ms)`"),
            );
        }
        self.fn_args(e, f, args)
    }

    /// The arguments of a call of `f` checked against its parameters; its result type.
    fn fn_args(&mut self, e: &Expr, f: FnId, args: &'a [Expr]) -> Type {
        let info = &self.out.fns[f as usize];
        let (params, ret, decl, name) = (
            info.param_types.clone(),
            info.ret.clone(),
            info.span,
            info.name.clone(),
        );
        self.check_args(e, &name, &params, args, Some(decl));
        ret
    }

    /// `Group[int]()`, `tasks.Group[int]()`: an instance of a generic
    /// struct with a static `new`, built as `Group[int].new()`.
    pub(super) fn generic_constructor(&mut self, e: &Expr, s: StructId, args: &'a [Expr]) -> Type {
        match self.method_of(s, "new") {
            Some(MethodRef::Fn(f)) if !self.out.fns[f as usize].is_async => {
                self.out.calls.insert(e.id, Callee::Fn(f));
                self.fn_args(e, f, args)
            }
            _ => {
                for a in args {
                    self.check_expr(a, ANY);
                }
                Type::Error
            }
        }
    }

    /// `base.method(args)`: a module function, a struct method or static
    /// method, or a built-in method of arrays, maps and strings. `None` when
    /// `base.method` is a field holding a function value.
    pub(super) fn method_call(
        &mut self,
        e: &'a Expr,
        callee: &'a Expr,
        base: &'a Expr,
        method: &Ident,
        args: &'a [Expr],
        want: Option<&Type>,
    ) -> Option<Type> {
        if let ExprKind::Name(m) = &base.kind {
            if self.lookup_local_quiet(m).is_none()
                && self.modules[self.module as usize].imports.contains_key(m)
            {
                let path = [
                    Ident {
                        name: m.clone(),
                        span: base.span,
                    },
                    method.clone(),
                ];
                return Some(match self.lookup_item(&path) {
                    Some(ItemRef::Struct(s)) if self.has_method(s, "new") => {
                        self.constructor_call(e, callee, s, args)
                    }
                    Some(ItemRef::Fn(f)) => self.direct_call(e, callee, f, args),
                    Some(ItemRef::Generic(g)) => self.generic_call(e, callee, g, args),
                    _ => {
                        for a in args {
                            self.check_expr(a, ANY);
                        }
                        self.error(
                            Diagnostic::error(
                                DiagId::UnknownName,
                                format!("module `{m}` has no public function `{}`", method.name),
                            )
                            .with_label(method.span, "not found"),
                        );
                        Type::Error
                    }
                });
            }
        }
        if let Some(path) = self.type_path(base) {
            if let Some(t) = self.enum_variant(e, base, method, Some(args), want) {
                return Some(t);
            }
            let shown = path_text(&path);
            match self.lookup_item(&path) {
                Some(ItemRef::GenericType(g)) => {
                    return Some(self.generic_static_call(e, callee, g, method, args, want));
                }
                Some(ItemRef::Struct(s)) => {
                    return Some(match self.method_of(s, &method.name) {
                        Some(MethodRef::Fn(f)) => self.direct_call(e, callee, f, args),
                        Some(MethodRef::Generic(t, bound)) => {
                            match self.generic_method_instance(e, s, &t, bound, args) {
                                Some((f, types)) => {
                                    self.prechecked = Some(types);
                                    self.direct_call(e, callee, f, args)
                                }
                                None => Type::Error,
                            }
                        }
                        None => {
                            for a in args {
                                self.check_expr(a, ANY);
                            }
                            self.error(
                                Diagnostic::error(
                                    DiagId::UnknownMethod,
                                    format!("`{shown}` has no method `{}`", method.name),
                                )
                                .with_label(method.span, "not found"),
                            );
                            Type::Error
                        }
                    });
                }
                _ => {}
            }
        }
        let bt = self.check_expr(base, ANY);
        let name = method.name.as_str();
        let arg_count_error = |cx: &mut Self, n: usize| {
            cx.error(
                Diagnostic::error(
                    DiagId::WrongArgumentCount,
                    format!(
                        "`{name}` takes {n} argument{} but {} {} given",
                        plural(n),
                        args.len(),
                        if args.len() == 1 { "was" } else { "were" }
                    ),
                )
                .with_label(e.span, "wrong number of arguments"),
            );
        };
        let result = match &bt {
            Type::Interface(i) => {
                let i = *i;
                self.dynamic_call(e, i, method, args)
            }
            Type::Struct(s) | Type::Enum(s) => {
                let s = *s;
                let takes_self = |d: &FnDecl| d.params.first().is_some_and(|p| p.ty.is_none());
                let found = match self.method_of(s, name) {
                    Some(MethodRef::Fn(f)) => match self.out.fns[f as usize].source {
                        FnSource::Decl(d) if takes_self(d) => Some(Ok((f, None))),
                        _ => Some(Err(())),
                    },
                    Some(MethodRef::Generic(t, bound)) if takes_self(t.decl) => {
                        match self.generic_method_instance(e, s, &t, bound, args) {
                            Some((f, types)) => Some(Ok((f, Some(types)))),
                            None => return Some(Type::Error),
                        }
                    }
                    Some(MethodRef::Generic(..)) => Some(Err(())),
                    None => None,
                };
                let info = &self.out.structs[s as usize];
                match found {
                    Some(Err(())) => {
                        let sname = info.name.clone();
                        self.error(
                            Diagnostic::error(
                                DiagId::StaticMethodOnValue,
                                format!("`{name}` has no `self`; call it as `{sname}.{name}(...)`"),
                            )
                            .with_label(method.span, "not a method of values"),
                        );
                        return Some(Type::Error);
                    }
                    Some(Ok((f, types))) => {
                        self.prechecked = types;
                        let fi = &self.out.fns[f as usize];
                        let params = fi.param_types[1..].to_vec();
                        let (ret, decl, is_async) = (fi.ret.clone(), fi.span, fi.is_async);
                        if is_async && self.async_call_ok != Some(e.id) {
                            self.error(
                                Diagnostic::error(DiagId::AsyncCallWithoutAwait, format!("`{name}` is an `async` method: call it with `await` or `spawn`"))
                                    .with_label(e.span, format!("write `await x.{name}(...)` to wait for it, or `spawn x.{name}(...)` to run it as a task")),
                            );
                        }
                        self.out.calls.insert(e.id, Callee::Method(f));
                        self.check_args(e, name, &params, args, Some(decl));
                        return Some(ret);
                    }
                    None => {}
                }
                if info.field(name).is_some() {
                    return None;
                }
                let sname = info.name.clone();
                self.error(
                    Diagnostic::error(
                        DiagId::UnknownMethod,
                        format!("`{sname}` has no method `{name}`"),
                    )
                    .with_label(method.span, "not found"),
                );
                Type::Error
            }
            Type::Array(elem) if !matches!(name, "len" | "push" | "pop") => {
                let elem = (**elem).clone();
                match self.prelude_array_method(e, name, &elem, args, method.span) {
                    Some(t) => t,
                    None => {
                        for a in args {
                            self.check_expr(a, ANY);
                        }
                        self.error(
                            Diagnostic::error(
                                DiagId::UnknownMethod,
                                format!("arrays have no method `{name}`"),
                            )
                            .with_label(method.span, "not an array method"),
                        );
                        Type::Error
                    }
                }
            }
            Type::Array(elem) => {
                let elem = (**elem).clone();
                let (m, params, ret) = match name {
                    "len" => (ArrayMethod::Len, vec![], Type::Int),
                    "push" => (ArrayMethod::Push, vec![elem.clone()], Type::Unit),
                    "pop" => (
                        ArrayMethod::Pop,
                        vec![],
                        Type::Optional(Box::new(elem.clone())),
                    ),
                    _ => {
                        self.error(
                            Diagnostic::error(
                                DiagId::UnknownMethod,
                                format!("arrays have no method `{name}`"),
                            )
                            .with_label(method.span, "arrays have `len`, `push` and `pop`"),
                        );
                        return Some(Type::Error);
                    }
                };
                if params.len() != args.len() {
                    arg_count_error(self, params.len());
                    return Some(ret);
                }
                self.check_args(e, name, &params, args, None);
                self.out.calls.insert(e.id, Callee::Array(m));
                ret
            }
            Type::Map(k, v) => {
                let (k, v) = ((**k).clone(), (**v).clone());
                let (m, params, ret) = match name {
                    "get" => (
                        MapMethod::Get,
                        vec![k.clone()],
                        Type::Optional(Box::new(v.clone())),
                    ),
                    "has" => (MapMethod::Has, vec![k.clone()], Type::Bool),
                    "remove" => (MapMethod::Remove, vec![k.clone()], Type::Bool),
                    "len" => (MapMethod::Len, vec![], Type::Int),
                    "keys" => (MapMethod::Keys, vec![], Type::Array(Box::new(k.clone()))),
                    "values" => (MapMethod::Values, vec![], Type::Array(Box::new(v.clone()))),
                    "clear" => (MapMethod::Clear, vec![], Type::Unit),
                    _ => {
                        self.error(
                            Diagnostic::error(
                                DiagId::UnknownMethod,
                                format!("maps have no method `{name}`"),
                            )
                            .with_label(
                                method.span,
                                "maps have `get`, `has`, `remove`, `len`, `keys`, `values` and `clear`",
                            ),
                        );
                        return Some(Type::Error);
                    }
                };
                if params.len() != args.len() {
                    arg_count_error(self, params.len());
                    return Some(ret);
                }
                self.check_args(e, name, &params, args, None);
                self.out.calls.insert(e.id, Callee::Map(m));
                ret
            }
            Type::Task(_) if name == "done" => {
                if !args.is_empty() {
                    arg_count_error(self, 0);
                }
                self.out.calls.insert(e.id, Callee::TaskDone);
                Type::Bool
            }
            Type::Task(_) if name == "cancel" => {
                if !args.is_empty() {
                    arg_count_error(self, 0);
                }
                self.out.calls.insert(e.id, Callee::TaskCancel);
                Type::Unit
            }
            // A `select` arm on a `Chan[T]?`: a nil channel's arm never fires.
            Type::Optional(ch)
                if self.after_ok == Some(e.id)
                    && matches!(**ch, Type::Chan(_))
                    && matches!(name, "send" | "recv") =>
            {
                let Type::Chan(elem) = &**ch else {
                    return Some(Type::Error);
                };
                let elem = (**elem).clone();
                let (params, result, callee) = match name {
                    "send" => (vec![elem.clone()], Type::Unit, Callee::ChanSend),
                    _ => (vec![], Type::Optional(Box::new(elem)), Callee::ChanRecv),
                };
                if params.len() != args.len() {
                    arg_count_error(self, params.len());
                    for a in args {
                        self.check_expr(a, ANY);
                    }
                } else {
                    self.check_args(e, name, &params, args, None);
                }
                self.out.calls.insert(e.id, callee);
                result
            }
            Type::Chan(elem) if matches!(name, "send" | "recv" | "close") => {
                let elem = (**elem).clone();
                let waits = name != "close";
                if waits && self.async_call_ok != Some(e.id) {
                    self.error(
                        Diagnostic::error(
                            DiagId::ChanOpWithoutAwait,
                            format!("`{name}` waits for the channel: write `await ch.{name}(...)`"),
                        )
                        .with_label(e.span, "this channel operation is not awaited"),
                    );
                }
                let (params, result, callee) = match name {
                    "send" => (vec![elem.clone()], Type::Unit, Callee::ChanSend),
                    "recv" => (vec![], Type::Optional(Box::new(elem)), Callee::ChanRecv),
                    _ => (vec![], Type::Unit, Callee::ChanClose),
                };
                if params.len() != args.len() {
                    arg_count_error(self, params.len());
                    for a in args {
                        self.check_expr(a, ANY);
                    }
                } else {
                    self.check_args(e, name, &params, args, None);
                }
                self.out.calls.insert(e.id, callee);
                result
            }
            Type::Chan(_) if matches!(name, "len" | "cap") => {
                if !args.is_empty() {
                    arg_count_error(self, 0);
                }
                let callee = if name == "len" {
                    Callee::ChanLen
                } else {
                    Callee::ChanCap
                };
                self.out.calls.insert(e.id, callee);
                Type::Int
            }
            Type::Gen(elem) if name == "next" => {
                if !args.is_empty() {
                    arg_count_error(self, 0);
                }
                self.out.calls.insert(e.id, Callee::GenNext);
                Type::Optional(elem.clone())
            }
            Type::Bytes => {
                use Type::{Bytes, Int, Str};
                let (rf, params, result, located) = match name {
                    "len" => (None, vec![], Int, false),
                    "push" => (Some(RuntimeFn::BytesPush), vec![Int], Type::Unit, true),
                    "extend" => (Some(RuntimeFn::BytesExtend), vec![Bytes], Type::Unit, false),
                    "push_str" => (Some(RuntimeFn::BytesPushStr), vec![Str], Type::Unit, false),
                    "slice" => (Some(RuntimeFn::BytesSlice), vec![Int, Int], Bytes, true),
                    "str" => (
                        Some(RuntimeFn::BytesStr),
                        vec![],
                        Type::Optional(Box::new(Str)),
                        false,
                    ),
                    _ => {
                        for a in args {
                            self.check_expr(a, ANY);
                        }
                        self.error(
                            Diagnostic::error(
                                DiagId::UnknownMethod,
                                format!("`Bytes` has no method `{name}`"),
                            )
                            .with_label(method.span, "not found")
                            .with_note("`Bytes` has len, push, extend, push_str, slice and str"),
                        );
                        return Some(Type::Error);
                    }
                };
                self.check_args(e, name, &params, args, None);
                if let ("push", [x]) = (name, args) {
                    self.check_byte(x);
                }
                let callee = match rf {
                    Some(rf) => Callee::RtMethod { rf, located },
                    // Its length is the object's first word, as a string's is.
                    None => Callee::StrLen,
                };
                self.out.calls.insert(e.id, callee);
                result
            }
            Type::Str if name == "bytes" => {
                self.check_args(e, name, &[], args, None);
                self.out.calls.insert(
                    e.id,
                    Callee::RtMethod {
                        rf: RuntimeFn::StringBytes,
                        located: false,
                    },
                );
                Type::Bytes
            }
            Type::Str if name == "byte" => {
                self.check_args(e, name, &[Type::Int], args, None);
                self.out.calls.insert(e.id, Callee::StrByte);
                Type::Int
            }
            Type::Str if name == "len" => {
                if !args.is_empty() {
                    arg_count_error(self, 0);
                }
                self.out.calls.insert(e.id, Callee::StrLen);
                Type::Int
            }
            Type::Error | Type::Never => Type::Error,
            other => {
                self.error(
                    Diagnostic::error(
                        DiagId::UnknownMethod,
                        format!("`{other}` has no method `{name}`"),
                    )
                    .with_label(method.span, "not found"),
                );
                Type::Error
            }
        };
        Some(result)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::expect_ids;

    #[test]
    fn calls_and_methods() {
        expect_ids(&[
            (
                "fn f(a: int) -> int { return a }\nfn main() { let x = f(1) }",
                &[],
            ),
            (
                "fn f(a: int) -> int { return a }\nfn main() { let x = f(1, 2) }",
                &["wrong-argument-count"],
            ),
            (
                "fn f(a: int) -> int { return a }\nfn main() { let x = f(\"s\") }",
                &["type-mismatch"],
            ),
            ("fn main() { let x = 1\n let y = x(2) }", &["not-callable"]),
            (
                "fn main() { let xs = [1]\n xs.nope() }",
                &["unknown-method"],
            ),
            ("fn main() { let y = nope(2) }", &["unknown-name"]),
        ]);
    }
}
