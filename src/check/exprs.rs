//! Expressions: names, literals, struct literals, fields, operators, closures.

use super::generic_types::TypeDecl;
use super::*;

impl<'a> Checker<'a, '_> {
    /// The `T` of a `T?`, or an error.
    pub(super) fn optional_inner(&mut self, t: &Type, span: Span) -> Type {
        match t {
            Type::Optional(inner) => (**inner).clone(),
            Type::Error | Type::Never => Type::Error,
            other => {
                self.error(
                    Diagnostic::error(
                        DiagId::NotOptional,
                        format!("expected an optional, found `{other}`"),
                    )
                    .with_label(span, "`if let` and `while let` unwrap a `T?`"),
                );
                Type::Error
            }
        }
    }

    pub(super) fn expect(&mut self, actual: &Type, expected: &Type, span: Span) {
        if !fits(actual, expected) {
            self.mismatch(actual, expected, span);
        }
    }

    pub(super) fn mismatch(&mut self, actual: &Type, expected: &Type, span: Span) {
        let mut d = Diagnostic::error(
            DiagId::TypeMismatch,
            format!("expected `{expected}`, found `{actual}`"),
        )
        .with_label(span, format!("this is a `{actual}`"));
        if let Type::Optional(inner) = actual {
            if fits(inner, expected) {
                d = d.with_note("unwrap the optional with `x!` or `if let v = x { ... }`");
            }
        }
        self.error(d);
    }

    /// Like `expect`, but a `T` where `T?` is wanted is wrapped (recorded for codegen).
    pub(super) fn coerce(&mut self, e: &Expr, actual: &Type, expected: &Type) {
        if fits(actual, expected) {
            return;
        }
        if let Type::Optional(inner) = expected {
            if fits(actual, inner) && *actual != Type::Nil {
                self.out.coercions.insert(e.id, Coercion::WrapOptional);
                return;
            }
        }
        if let Some(c) = self.interface_coercion(actual, expected) {
            self.out.coercions.insert(e.id, c);
            return;
        }
        if let Some(note) = self.not_implemented_note(actual, expected) {
            self.error(
                Diagnostic::error(
                    DiagId::TypeMismatch,
                    format!("expected `{expected}`, found `{actual}`"),
                )
                .with_label(e.span, format!("this is a `{actual}`"))
                .with_note(note),
            );
            return;
        }
        self.mismatch(actual, expected, e.span);
    }

    pub(super) fn set(&mut self, e: &Expr, t: Type) -> Type {
        self.out.expr_types[e.id as usize] = t.clone();
        t
    }

    // ----- expressions ------------------------------------------------------

    /// `want`: the type the context expects, if any. It guides `[]`, `nil`
    /// and closures, and says the value is used (an `if` then needs an `else`).
    pub(super) fn check_expr(&mut self, e: &'a Expr, want: Option<&Type>) -> Type {
        let t = self.expr_type(e, want);
        self.set(e, t)
    }

    pub(super) fn expr_type(&mut self, e: &'a Expr, want: Option<&Type>) -> Type {
        match &e.kind {
            ExprKind::Int(_) => Type::Int,
            ExprKind::Float(_) => Type::Float,
            ExprKind::Bool(_) => Type::Bool,
            ExprKind::Nil => Type::Nil,
            ExprKind::Str(parts) => {
                for p in parts {
                    if let StrPart::Expr(inner) | StrPart::Format(inner, _) = p {
                        let t = self.check_expr(inner, ANY);
                        if let StrPart::Format(_, spec) = p {
                            self.check_format_spec(spec, &t);
                        }
                        if matches!(t, Type::Unit) {
                            self.error(
                                Diagnostic::error(
                                    DiagId::NoValue,
                                    "this expression has no value to interpolate",
                                )
                                .with_label(inner.span, "produces no value"),
                            );
                        }
                    }
                }
                Type::Str
            }
            ExprKind::Name(name) => self.check_name(e, name),
            ExprKind::Repeat(value, count) => {
                let want_elem = match want {
                    Some(Type::Array(t)) if !t.is_error() => Some((**t).clone()),
                    _ => None,
                };
                let t = self.check_expr(value, want_elem.as_ref().or(ANY));
                let n = self.check_expr(count, Some(&Type::Int));
                self.expect(&n, &Type::Int, count.span);
                match want_elem {
                    Some(w) => {
                        self.coerce(value, &t, &w);
                        Type::Array(Box::new(w))
                    }
                    None if t == Type::Nil => {
                        self.error(
                            Diagnostic::error(
                                DiagId::CannotInfer,
                                "cannot infer the type of `nil`",
                            )
                            .with_label(
                                value.span,
                                "write the array's type: `let a: [T?] = [nil; n]`",
                            ),
                        );
                        Type::Error
                    }
                    None if t == Type::Unit => {
                        self.error(
                            Diagnostic::error(DiagId::NoValue, "this expression has no value")
                                .with_label(value.span, "an array element must be a value"),
                        );
                        Type::Error
                    }
                    None => Type::Array(Box::new(t)),
                }
            }
            ExprKind::Array(items) => {
                let want_elem = match want {
                    Some(Type::Array(t)) => Some((**t).clone()),
                    _ => None,
                };
                let mut elem: Option<Type> = want_elem.clone();
                for item in items {
                    let t = self.check_expr(item, elem.as_ref().or(ANY));
                    if t == Type::Unit {
                        self.error(
                            Diagnostic::error(DiagId::NoValue, "this expression has no value")
                                .with_label(item.span, "an array element must be a value"),
                        );
                        self.set(item, Type::Error);
                        continue;
                    }
                    match &elem {
                        None if !matches!(t, Type::Never | Type::Nil | Type::Error) => {
                            elem = Some(t)
                        }
                        Some(expected) => {
                            let expected = expected.clone();
                            self.coerce(item, &t, &expected);
                        }
                        None => {}
                    }
                }
                match elem {
                    Some(t) => Type::Array(Box::new(t)),
                    None if items
                        .iter()
                        .any(|i| self.out.expr_types[i.id as usize].is_error()) =>
                    {
                        Type::Error
                    }
                    None => {
                        self.error(
                            Diagnostic::error(
                                DiagId::CannotInfer,
                                "cannot infer the element type of this array",
                            )
                            .with_label(e.span, "write `[T]()` for an empty array"),
                        );
                        Type::Error
                    }
                }
            }
            ExprKind::Construct(ty, args) => {
                let t = self.resolve_type(ty);
                match &t {
                    Type::Array(_) | Type::Map(..) => {
                        if !args.is_empty() {
                            self.error(
                                Diagnostic::error(
                                    DiagId::WrongArgumentCount,
                                    format!("`{t}()` takes no arguments"),
                                )
                                .with_label(e.span, "remove the arguments"),
                            );
                        }
                        t
                    }
                    Type::Chan(_) => {
                        match args.as_slice() {
                            [cap] => {
                                let c = self.check_expr(cap, Some(&Type::Int));
                                self.coerce(cap, &c, &Type::Int);
                            }
                            _ => {
                                for a in args {
                                    self.check_expr(a, ANY);
                                }
                                self.error(
                                    Diagnostic::error(
                                        DiagId::WrongArgumentCount,
                                        format!("`{t}(capacity)` takes one argument"),
                                    )
                                    .with_label(
                                        e.span,
                                        "write `Chan[T](0)` for an unbuffered channel",
                                    ),
                                );
                            }
                        }
                        t
                    }
                    Type::Error => Type::Error,
                    Type::Struct(s) if self.has_method(*s, "new") => {
                        let s = *s;
                        self.generic_constructor(e, s, args)
                    }
                    _ => {
                        self.error(
                            Diagnostic::error(
                                DiagId::InvalidConstructor,
                                format!("`{t}` cannot be constructed this way"),
                            )
                            .with_label(
                                e.span,
                                "only `[T]()`, `Map[K, V]()`, `Chan[T](n)` and structs with a static `new` construct like this",
                            ),
                        );
                        Type::Error
                    }
                }
            }
            ExprKind::StructLit {
                name,
                type_args,
                fields,
            } => self.check_struct_lit(e, name, type_args, fields, want),
            ExprKind::Unary(op, inner) => {
                let t = self.check_expr(inner, ANY);
                match (op, &t) {
                    (_, Type::Error | Type::Never) => t,
                    (UnOp::Neg, Type::Int | Type::Float) => t,
                    (UnOp::Not, Type::Bool | Type::Int) => t,
                    _ => {
                        let sym = if *op == UnOp::Neg { "-" } else { "!" };
                        self.error(
                            Diagnostic::error(
                                DiagId::InvalidOperand,
                                format!("cannot apply unary `{sym}` to `{t}`"),
                            )
                            .with_label(inner.span, format!("this is a `{t}`")),
                        );
                        Type::Error
                    }
                }
            }
            ExprKind::Binary(op, l, r) => {
                let lt = self.check_expr(l, ANY);
                let hint = if matches!(lt, Type::Nil | Type::Error | Type::Never) {
                    None
                } else {
                    Some(lt.clone())
                };
                let rt = self.check_expr(r, hint.as_ref().or(ANY));
                self.binary_type(*op, &lt, &rt, e.span, l.span, r.span)
            }
            ExprKind::Call(callee, args) => self.check_call(e, callee, args, want),
            ExprKind::Field(base, field) => self.check_field(e, base, field, want),
            ExprKind::Index(base, index) => {
                let bt = self.check_expr(base, ANY);
                if let ExprKind::Range { start, end, .. } = &index.kind {
                    return self.check_slice(e, &bt, index, start, end);
                }
                match bt {
                    Type::Array(elem) => {
                        let it = self.check_expr(index, Some(&Type::Int));
                        self.expect(&it, &Type::Int, index.span);
                        *elem
                    }
                    Type::Map(k, v) => {
                        let it = self.check_expr(index, Some(&k));
                        self.expect(&it, &k, index.span);
                        *v
                    }
                    // `b[i]`: a byte, as an int 0..255.
                    Type::Bytes => {
                        let it = self.check_expr(index, Some(&Type::Int));
                        self.expect(&it, &Type::Int, index.span);
                        Type::Int
                    }
                    Type::Error | Type::Never => {
                        self.check_expr(index, ANY);
                        Type::Error
                    }
                    other => {
                        self.check_expr(index, ANY);
                        self.error(
                            Diagnostic::error(
                                DiagId::NotIndexable,
                                format!("cannot index a `{other}`"),
                            )
                            .with_label(base.span, "only arrays, maps and `Bytes` can be indexed"),
                        );
                        Type::Error
                    }
                }
            }
            ExprKind::Try(inner) => self.check_try(e, inner),
            ExprKind::Unwrap(inner) => {
                let t = self.check_expr(inner, ANY);
                if let Some((id, ok, err)) = self.result_parts(&t) {
                    let (ok_l, err_l) = (
                        self.hidden_local("ok", ok.clone()),
                        self.hidden_local("err", err),
                    );
                    let d = Desugar::UnwrapResult {
                        result: id,
                        ok: ok_l,
                        err: err_l,
                    };
                    self.out.desugars.insert(e.id, d);
                    return ok;
                }
                match t {
                    Type::Optional(inner) => *inner,
                    Type::Error | Type::Never => Type::Error,
                    other => {
                        self.error(
                            Diagnostic::error(
                                DiagId::NotOptional,
                                format!("cannot unwrap a `{other}` with `!`"),
                            )
                            .with_label(e.span, "`!` unwraps an optional `T?` or a `Result`"),
                        );
                        Type::Error
                    }
                }
            }
            ExprKind::Range { .. } => {
                self.error(
                    Diagnostic::error(
                        DiagId::RangeOutsideFor,
                        "a range can only be used in a `for` loop",
                    )
                    .with_label(e.span, "write `for i in a..b { }`"),
                );
                Type::Error
            }
            ExprKind::If { cond, then, els } => {
                let c = self.check_expr(cond, Some(&Type::Bool));
                self.expect(&c, &Type::Bool, cond.span);
                self.check_if_arms(e, then, els.as_deref(), want)
            }
            ExprKind::IfLet {
                name,
                value,
                then,
                els,
            } => {
                let t = self.check_expr(value, ANY);
                let inner = self.optional_inner(&t, value.span);
                self.push_scope();
                self.new_local(name, inner, false);
                let result = self.check_if_arms(e, then, els.as_deref(), want);
                self.pop_scope();
                result
            }
            ExprKind::Block(b) => self.check_block(b, want).0,
            ExprKind::Closure {
                is_async,
                params,
                ret,
                body,
            } => self.check_closure(e, *is_async, params, ret.as_ref(), body),
            ExprKind::Error => Type::Error,
            ExprKind::Match(scrutinee, arms) => self.check_match(e, scrutinee, arms, want),
            ExprKind::Await(inner) => self.check_await(e, inner),
            ExprKind::Spawn(inner) => self.check_spawn(e, inner),
            ExprKind::Select(arms) => self.check_select(e, arms),
        }
    }

    /// The arms of `if` / `if let` (the `then` block is checked here, the
    /// condition by the caller).
    pub(super) fn check_if_arms(
        &mut self,
        e: &Expr,
        then: &'a Block,
        els: Option<&'a Expr>,
        want: Option<&Type>,
    ) -> Type {
        let (tt, tdiv) = self.check_block(then, want);
        match els {
            None => {
                if want.is_some() && !matches!(tt, Type::Unit | Type::Never | Type::Error) {
                    self.error(
                        Diagnostic::error(
                            DiagId::IfWithoutElse,
                            "`if` used as a value needs an `else`",
                        )
                        .with_label(e.span, "this `if` has no `else` branch"),
                    );
                    // Reported once: the value it lacks is an error, not a unit.
                    return Type::Error;
                }
                Type::Unit
            }
            Some(els) => {
                // An optional is expected: each arm is checked against it
                // (`if c { "a" } else { nil }` is a `string?`).
                let optional = want.filter(|w| matches!(w, Type::Optional(_)));
                let hint = match (&tt, want) {
                    _ if optional.is_some() => optional.cloned(),
                    (Type::Never | Type::Nil | Type::Error, w) => w.cloned(),
                    (t, Some(_)) => Some(t.clone()),
                    (_, None) => None,
                };
                let et = self.check_expr(els, hint.as_ref().or(want));
                if let Some(w) = optional {
                    if fits_optional(&tt, w) && fits_optional(&et, w) {
                        if let Some(tail) = block_tail(then) {
                            self.coerce(tail, &tt, w);
                        }
                        self.coerce(els, &et, w);
                        return w.clone();
                    }
                }
                if want.is_none() {
                    return if tdiv && et == Type::Never {
                        Type::Never
                    } else {
                        Type::Unit
                    };
                }
                match (&tt, &et) {
                    (Type::Never, _) => et,
                    (_, Type::Never) => tt,
                    (Type::Nil, Type::Optional(_)) => et,
                    (Type::Optional(_), Type::Nil) => tt,
                    _ if fits(&et, &tt) => tt,
                    _ => {
                        self.error(
                            Diagnostic::error(
                                DiagId::BranchTypeMismatch,
                                "`if` and `else` have different types",
                            )
                            .with_label(els.span, format!("this is a `{et}`"))
                            .with_label(then.span, format!("this is a `{tt}`")),
                        );
                        Type::Error
                    }
                }
            }
        }
    }

    pub(super) fn check_name(&mut self, e: &Expr, name: &str) -> Type {
        if let Some(id) = self.lookup_local(name) {
            self.out.names.insert(e.id, Res::Local(id));
            return self.out.locals[id as usize].ty.clone();
        }
        let ident = Ident {
            name: name.to_string(),
            span: e.span,
        };
        match self.lookup_item(std::slice::from_ref(&ident)) {
            Some(ItemRef::Fn(f)) => self.fn_value(e, f),
            Some(ItemRef::Generic(g)) => self.generic_as_value(e, g),
            Some(ItemRef::Global(g)) => self.global_use(e, g),
            Some(ItemRef::Const(c)) => self.const_use(e, c),
            Some(ItemRef::Struct(_) | ItemRef::GenericType(_)) => {
                self.error(
                    Diagnostic::error(
                        DiagId::TypeAsValue,
                        format!("`{name}` is a type, not a value"),
                    )
                    .with_label(e.span, format!("build one with `{name} {{ ... }}`")),
                );
                Type::Error
            }
            Some(ItemRef::Interface(_)) => {
                self.error(
                    Diagnostic::error(
                        DiagId::TypeAsValue,
                        format!("`{name}` is an interface, not a value"),
                    )
                    .with_label(e.span, "not a value"),
                );
                Type::Error
            }
            None => {
                let d = if self.modules[self.module as usize]
                    .imports
                    .contains_key(name)
                {
                    Diagnostic::error(
                        DiagId::ModuleAsValue,
                        format!("`{name}` is a module, not a value"),
                    )
                    .with_label(e.span, format!("use its items as `{name}.item`"))
                } else {
                    Diagnostic::error(
                        DiagId::UnknownName,
                        format!("cannot find `{name}` in this scope"),
                    )
                    .with_label(e.span, "not found")
                };
                self.error(d);
                Type::Error
            }
        }
    }

    pub(super) fn fn_value(&mut self, e: &Expr, f: FnId) -> Type {
        self.out.names.insert(e.id, Res::Fn(f));
        let info = &self.out.fns[f as usize];
        let (params, ret) = (info.param_types.clone(), Box::new(info.ret.clone()));
        if info.is_async {
            return Type::AsyncFn(params, ret);
        }
        Type::Func(params, ret)
    }

    pub(super) fn check_struct_lit(
        &mut self,
        e: &Expr,
        path: &[Ident],
        type_args: &[TypeExpr],
        fields: &'a [(Ident, Expr)],
        want: Option<&Type>,
    ) -> Type {
        let name = || {
            path.iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
                .join(".")
        };
        let (id, mut prechecked) = match self.lookup_item(path) {
            Some(ItemRef::Struct(i)) if !self.out.structs[i as usize].is_enum => {
                if let Some(a) = type_args.first() {
                    self.error(
                        Diagnostic::error(
                            DiagId::WrongTypeArguments,
                            format!("`{}` takes no type arguments", name()),
                        )
                        .with_label(a.span(), "not a generic type"),
                    );
                }
                (i, None)
            }
            Some(ItemRef::GenericType(g))
                if matches!(self.generic_types[g as usize].decl, TypeDecl::Struct(_)) =>
            {
                // On failure it has checked the fields already.
                match self.generic_struct_lit(e, g, type_args, fields, want) {
                    Some(found) => found,
                    None => return Type::Error,
                }
            }
            _ => {
                self.error(
                    Diagnostic::error(DiagId::UnknownType, format!("unknown struct `{}`", name()))
                        .with_label(e.span, "not a struct in scope"),
                );
                for (_, v) in fields {
                    self.check_expr(v, ANY);
                }
                return Type::Error;
            }
        };
        self.out.struct_lits.insert(e.id, id);
        let decl: Vec<(String, Type)> = self.out.structs[id as usize].fields.clone();
        let sname = self.out.structs[id as usize].name.clone();
        let mut seen = vec![false; decl.len()];
        for (name, value) in fields {
            match decl.iter().position(|(n, _)| *n == name.name) {
                Some(i) => {
                    let expected = decl[i].1.clone();
                    let t = match prechecked.as_mut().and_then(|p| p.remove(&value.id)) {
                        Some(t) => t,
                        None => self.check_expr(value, Some(&expected)),
                    };
                    self.coerce(value, &t, &expected);
                    if seen[i] {
                        self.error(
                            Diagnostic::error(
                                DiagId::DuplicateField,
                                format!("the field `{}` is given twice", name.name),
                            )
                            .with_label(name.span, "given again here"),
                        );
                    }
                    seen[i] = true;
                }
                None => {
                    if prechecked
                        .as_mut()
                        .and_then(|p| p.remove(&value.id))
                        .is_none()
                    {
                        self.check_expr(value, ANY);
                    }
                    self.error(
                        Diagnostic::error(
                            DiagId::UnknownField,
                            format!("`{sname}` has no field `{}`", name.name),
                        )
                        .with_label(name.span, "unknown field"),
                    );
                }
            }
        }
        let missing: Vec<&str> = decl
            .iter()
            .zip(&seen)
            .filter(|(_, s)| !**s)
            .map(|((n, _), _)| n.as_str())
            .collect();
        if !missing.is_empty() {
            self.error(
                Diagnostic::error(
                    DiagId::MissingField,
                    format!(
                        "missing field{} {} in `{sname}`",
                        plural(missing.len()),
                        missing
                            .iter()
                            .map(|m| format!("`{m}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
                .with_label(e.span, "every field needs a value"),
            );
        }
        Type::Struct(id)
    }

    pub(super) fn check_field(
        &mut self,
        e: &'a Expr,
        base: &'a Expr,
        field: &Ident,
        want: Option<&Type>,
    ) -> Type {
        // `module.item` used as a value.
        if let ExprKind::Name(m) = &base.kind {
            if self.lookup_local_quiet(m).is_none()
                && self.modules[self.module as usize].imports.contains_key(m)
            {
                let path = [
                    Ident {
                        name: m.clone(),
                        span: base.span,
                    },
                    field.clone(),
                ];
                return match self.lookup_item(&path) {
                    Some(ItemRef::Fn(f)) => self.fn_value(e, f),
                    Some(ItemRef::Generic(g)) => self.generic_as_value(e, g),
                    Some(ItemRef::Global(g)) => self.global_use(e, g),
                    Some(ItemRef::Const(c)) => self.const_use(e, c),
                    _ => {
                        self.error(
                            Diagnostic::error(
                                DiagId::UnknownName,
                                format!("module `{m}` has no public item `{}`", field.name),
                            )
                            .with_label(field.span, "not found"),
                        );
                        Type::Error
                    }
                };
            }
        }
        if let Some(t) = self.enum_variant(e, base, field, None, want) {
            return t;
        }
        let bt = self.check_expr(base, ANY);
        match &bt {
            Type::Struct(id) => {
                let info = &self.out.structs[*id as usize];
                if let Some((index, t)) = info.field(&field.name) {
                    let t = t.clone();
                    self.out.fields.insert(e.id, index);
                    return t;
                }
                let d = if self.has_method(*id, &field.name) {
                    Diagnostic::error(
                        DiagId::MethodAsValue,
                        format!("`{}` is a method; call it", field.name),
                    )
                    .with_label(field.span, format!("write `.{}(...)`", field.name))
                } else {
                    Diagnostic::error(
                        DiagId::UnknownField,
                        format!("`{}` has no field `{}`", info.name, field.name),
                    )
                    .with_label(field.span, "unknown field")
                };
                self.error(d);
                Type::Error
            }
            Type::Error | Type::Never => Type::Error,
            other => {
                self.error(
                    Diagnostic::error(
                        DiagId::UnknownField,
                        format!("`{other}` has no field `{}`", field.name),
                    )
                    .with_label(field.span, "unknown field"),
                );
                Type::Error
            }
        }
    }

    /// `E.V` (unit variant, `args` None) or `E.V(args)` when `base` names an
    /// enum `E` (not shadowed by a local). `None` when `base` is not an enum.
    pub(super) fn enum_variant(
        &mut self,
        e: &Expr,
        base: &Expr,
        variant: &Ident,
        args: Option<&'a [Expr]>,
        want: Option<&Type>,
    ) -> Option<Type> {
        let path = self.type_path(base)?;
        let name = &path_text(&path);
        let id = match self.lookup_item(&path)? {
            ItemRef::Struct(id) => id,
            ItemRef::GenericType(g) => return self.generic_variant(e, g, variant, args, want),
            _ => return None,
        };
        let info = &self.out.structs[id as usize];
        if !info.is_enum {
            return None;
        }
        let Some(tag) = info.variant(&variant.name) else {
            if args.is_some() && self.has_method(id, &variant.name) {
                return None; // a static method of the enum
            }
            self.unknown_variant(name, variant, args);
            return Some(Type::Error);
        };
        Some(self.variant_of(e, id, tag, name, variant, args))
    }

    /// `E` or `module.E` when `base` can name a type: names that no local
    /// shadows, the first one an import if there are two.
    pub(super) fn type_path(&self, base: &Expr) -> Option<Vec<Ident>> {
        let ident = |name: &String, span| Ident {
            name: name.clone(),
            span,
        };
        match &base.kind {
            ExprKind::Name(name) if self.lookup_local_quiet(name).is_none() => {
                Some(vec![ident(name, base.span)])
            }
            ExprKind::Field(m, t) => match &m.kind {
                ExprKind::Name(name)
                    if self.lookup_local_quiet(name).is_none()
                        && self.modules[self.module as usize]
                            .imports
                            .contains_key(name) =>
                {
                    Some(vec![ident(name, m.span), t.clone()])
                }
                _ => None,
            },
            _ => None,
        }
    }

    pub(super) fn unknown_variant(
        &mut self,
        name: &str,
        variant: &Ident,
        args: Option<&'a [Expr]>,
    ) {
        for a in args.unwrap_or_default() {
            self.check_expr(a, ANY);
        }
        self.error(
            Diagnostic::error(
                DiagId::UnknownVariant,
                format!("`{name}` has no variant `{}`", variant.name),
            )
            .with_label(variant.span, "not a variant of this enum"),
        );
    }

    /// Variant `tag` of enum `id` built with `args` (which may have been
    /// checked already: `prechecked`).
    pub(super) fn variant_of(
        &mut self,
        e: &Expr,
        id: StructId,
        tag: usize,
        name: &str,
        variant: &Ident,
        args: Option<&'a [Expr]>,
    ) -> Type {
        let payload = self.out.structs[id as usize].variants[tag].1.clone();
        self.out.variants.insert(e.id, (id, tag));
        match args {
            Some(args) => {
                self.check_args(
                    e,
                    &variant.name,
                    &payload,
                    args,
                    Some(info_span(&self.out.structs[id as usize])),
                );
            }
            None if !payload.is_empty() => {
                self.error(
                    Diagnostic::error(
                        DiagId::WrongArgumentCount,
                        format!(
                            "the variant `{name}.{}` holds {} value{}",
                            variant.name,
                            payload.len(),
                            plural(payload.len())
                        ),
                    )
                    .with_label(e.span, format!("write `{name}.{}(...)`", variant.name)),
                );
            }
            None => {}
        }
        Type::Enum(id)
    }

    pub(super) fn binary_type(
        &mut self,
        op: BinOp,
        lt: &Type,
        rt: &Type,
        span: Span,
        lspan: Span,
        rspan: Span,
    ) -> Type {
        use BinOp::*;
        if lt.contains_error() || rt.contains_error() {
            return match op {
                Eq | Ne | Lt | Le | Gt | Ge | And | Or => Type::Bool,
                _ => Type::Error,
            };
        }
        let mismatch = |cx: &mut Self, what: &str| {
            cx.error(
                Diagnostic::error(
                    DiagId::InvalidOperand,
                    format!("cannot apply `{}` to `{lt}` and `{rt}`", op.symbol()),
                )
                .with_label(span, what.to_string())
                .with_label(lspan, format!("`{lt}`"))
                .with_label(rspan, format!("`{rt}`")),
            );
            Type::Error
        };
        let same = lt == rt || *lt == Type::Never || *rt == Type::Never;
        let operand = if *lt == Type::Never { rt } else { lt };
        match op {
            Add if same && *operand == Type::Str => Type::Str,
            Add | Sub | Mul | Div | Rem => {
                if same && operand.is_numeric() {
                    operand.clone()
                } else {
                    mismatch(self, "both sides must be `int` or both `float` (convert with `float(x)` or `int(x)`)")
                }
            }
            Lt | Le | Gt | Ge => {
                if same && (operand.is_numeric() || *operand == Type::Str) {
                    Type::Bool
                } else {
                    mismatch(self, "both sides must be `int`, `float` or `string`")
                }
            }
            Eq | Ne => {
                let nil_check = (matches!(lt, Type::Optional(_)) && *rt == Type::Nil)
                    || (*lt == Type::Nil && matches!(rt, Type::Optional(_)));
                if same && !matches!(operand, Type::Unit | Type::Nil) || nil_check {
                    Type::Bool
                } else if *lt == Type::Nil || *rt == Type::Nil {
                    mismatch(self, "only an optional `T?` can be compared with `nil`")
                } else {
                    mismatch(self, "both sides must have the same type")
                }
            }
            And | Or => {
                if same && matches!(operand, Type::Bool | Type::Never) {
                    Type::Bool
                } else {
                    mismatch(self, "both sides must be `bool`")
                }
            }
            BitAnd | BitOr | BitXor => {
                if same && matches!(operand, Type::Int | Type::Bool | Type::Never) {
                    operand.clone()
                } else {
                    mismatch(self, "both sides must be `int` or both `bool`")
                }
            }
            Shl | Shr | UShr => {
                if same && matches!(operand, Type::Int | Type::Never) {
                    Type::Int
                } else {
                    mismatch(self, "both sides must be `int`")
                }
            }
        }
    }

    /// `a[i..j]` (a copy, as `a.slice(i, j)`) or `s[i..j]` (by byte index).
    fn check_slice(
        &mut self,
        e: &Expr,
        bt: &Type,
        range: &Expr,
        start: &'a Expr,
        end: &'a Expr,
    ) -> Type {
        for bound in [start, end] {
            let t = self.check_expr(bound, Some(&Type::Int));
            self.expect(&t, &Type::Int, bound.span);
        }
        self.out.expr_types[range.id as usize] = Type::Unit;
        match bt {
            Type::Str => {
                self.out.calls.insert(e.id, Callee::StrSlice);
                Type::Str
            }
            Type::Array(elem) => {
                if let Some(f) = self.prelude_fn_at("__array_slice", elem) {
                    self.out.calls.insert(e.id, Callee::Method(f));
                }
                bt.clone()
            }
            t if t.contains_error() => Type::Error,
            other => {
                self.error(
                    Diagnostic::error(DiagId::NotIndexable, format!("cannot slice a `{other}`"))
                        .with_label(e.span, "only arrays and strings can be sliced"),
                );
                Type::Error
            }
        }
    }

    /// A spec must suit the value: `x`, `X`, `b`, `o` take an `int`, `e`
    /// and zero-padding a number, a precision a `float` or a `string`.
    fn check_format_spec(&mut self, spec: &FormatSpec, t: &Type) {
        if t.contains_error() || *t == Type::Never {
            return;
        }
        let s = &spec.spec;
        let why = match (s.kind, t) {
            (Some('x' | 'X' | 'b' | 'o'), Type::Int) => None,
            (Some('x' | 'X' | 'b' | 'o'), _) => Some("`x`, `X`, `b` and `o` format an `int`"),
            (Some('e'), Type::Float) => None,
            (Some('e'), _) => Some("`e` formats a `float`"),
            _ if s.precision.is_some() && !matches!(t, Type::Float | Type::Str) => {
                Some("a precision applies to a `float` (decimals) or a `string` (characters)")
            }
            _ if s.zero && !matches!(t, Type::Int | Type::Float) => {
                Some("zero-padding applies to numbers")
            }
            _ => None,
        };
        if let Some(why) = why {
            self.error(
                Diagnostic::error(
                    DiagId::InvalidFormatSpec,
                    format!("the spec `{}` does not apply to a `{t}`", spec.text),
                )
                .with_label(spec.span, why),
            );
        }
    }

    pub(super) fn check_closure(
        &mut self,
        e: &'a Expr,
        is_async: bool,
        params: &'a [Param],
        ret: Option<&TypeExpr>,
        body: &'a Block,
    ) -> Type {
        self.check_unique_names(
            params.iter().map(|p| &p.name),
            "parameter",
            DiagId::DuplicateParameter,
        );
        let mut param_types = Vec::new();
        for p in params {
            match &p.ty {
                Some(t) => param_types.push(self.resolve_type(t)),
                // The parser reports a typeless `self` here (`misplaced-self`).
                None => {
                    param_types.push(Type::Error);
                }
            }
        }
        let ret = match ret {
            Some(t) => self.resolve_type(t),
            None => Type::Unit,
        };
        let parent = self.cx().fn_id;
        let id = self.out.fns.len() as FnId;
        let symbol = format!("{}.closure{}", self.out.fns[parent as usize].symbol, e.id);
        self.out.fns.push(FnInfo {
            symbol,
            name: "closure".into(),
            params: Vec::new(),
            param_types: param_types.clone(),
            ret: ret.clone(),
            span: e.span,
            source: FnSource::Closure(e),
            captures: Vec::new(),
            is_closure: true,
            yields: None,
            is_async,
        });
        self.out.names.insert(e.id, Res::Fn(id));
        self.ctx.push(FnContext {
            fn_id: id,
            scopes: vec![HashMap::new()],
            ret: ret.clone(),
            yields: None,
            is_async,
            loops: Vec::new(),
            in_defer: false,
        });
        self.body(id, params, &param_types, body, &ret, e.span);
        self.ctx.pop();
        if is_async {
            return Type::AsyncFn(param_types, Box::new(ret));
        }
        Type::Func(param_types, Box::new(ret))
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::expect_ids;

    #[test]
    fn expressions() {
        expect_ids(&[
            (
                "struct P { x: int }\nfn main() { let p = P { x: 1 }\n let y = p.x + 1 }",
                &[],
            ),
            (
                "struct P { x: int }\nfn main() { let p = P { }\n }",
                &["missing-field"],
            ),
            (
                "struct P { x: int }\nfn main() { let p = P { x: 1 }\n let y = p.z }",
                &["unknown-field"],
            ),
            ("fn main() { let x = 1 + \"a\" }", &["invalid-operand"]),
            ("fn main() { let x = if true { 1 } }", &["if-without-else"]),
            ("fn main() { let x = []\n }", &["cannot-infer"]),
            ("fn main() { let x = 1\n let y = x! }", &["not-optional"]),
            ("fn main() { let x = 1\n let y = x[0] }", &["not-indexable"]),
        ]);
    }
}
