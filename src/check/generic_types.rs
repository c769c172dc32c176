//! Generic structs and enums, their methods, and the inference of type
//! arguments for them and for generic functions.
//!
//! A generic type is declared once (`GenericType`) and becomes one ordinary
//! `StructInfo` per set of type arguments it is used with (`Pair[int,
//! string]`), made on first use with its fields resolved under those
//! arguments, so codegen only ever sees monomorphic structs. The methods of
//! its `impl[T] Name[T]` blocks are instantiated per instance on their first
//! call (`method_of`); a method with type parameters of its own (`fn
//! map[U](self, ...)`, on any struct) stays a template and is instantiated
//! per call's type arguments, like a generic function.
//!
//! Inference (`infer_args`) checks a call's arguments, a variant's payload
//! or a literal's fields against their declared types, binding type
//! parameters as it goes: an argument whose declared type is already known
//! is checked against it (so `Tree.Leaf` and `[]` get their type from a
//! sibling argument), and the type the context expects supplies the
//! arguments it can first (`let t: Tree[int] = Tree.Leaf`).

use super::*;

/// A generic struct or enum as declared.
#[derive(Clone, Copy)]
pub(super) enum TypeDecl<'a> {
    Struct(&'a StructDecl),
    Enum(&'a EnumDecl),
}

impl<'a> TypeDecl<'a> {
    pub(super) fn name(&self) -> &'a Ident {
        match self {
            TypeDecl::Struct(s) => &s.name,
            TypeDecl::Enum(e) => &e.name,
        }
    }
    pub(super) fn type_params(&self) -> &'a [Ident] {
        match self {
            TypeDecl::Struct(s) => &s.type_params,
            TypeDecl::Enum(e) => &e.type_params,
        }
    }
}

pub(super) struct GenericType<'a> {
    pub(super) decl: TypeDecl<'a>,
    pub(super) module: ModId,
    /// The methods of its `impl[..]` blocks.
    pub(super) methods: Vec<MethodTemplate<'a>>,
    /// Its `impl[..] I for Name[..]` blocks: the interface and the module
    /// that names it; each instance implements `I` once its methods from
    /// the block are instantiated (`interfaces::instance_impls`).
    pub(super) interfaces: Vec<(IfaceId, &'a ImplDecl)>,
}

/// A method not instantiated yet.
#[derive(Clone)]
pub(super) struct MethodTemplate<'a> {
    pub(super) decl: &'a FnDecl,
    pub(super) module: ModId,
    /// The impl's names for the type's parameters, in the type's order.
    pub(super) impl_params: Vec<String>,
}

/// What a method name of a struct or enum refers to.
pub(super) enum MethodRef<'a> {
    Fn(FnId),
    /// A method with type parameters of its own, and the arguments of the
    /// instance it belongs to.
    Generic(MethodTemplate<'a>, HashMap<String, Type>),
}

impl<'a> Checker<'a, '_> {
    /// The first pass's part for one generic struct or enum: its name.
    pub(super) fn declare_generic_type(&mut self, m: usize, decl: TypeDecl<'a>) {
        let name = decl.name();
        if self.builtin_type_name(name) || self.redefined(m, name) {
            return;
        }
        self.check_unique_names(
            decl.type_params().iter(),
            "type parameter",
            DiagId::DuplicateTypeParameter,
        );
        let g = self.generic_types.len() as u32;
        self.generic_types.push(GenericType {
            decl,
            module: m as ModId,
            methods: Vec::new(),
            interfaces: Vec::new(),
        });
        self.items[m].insert(name.name.clone(), ItemRef::GenericType(g));
    }

    /// Resolves a generic type's fields once with its parameters standing
    /// for errors, so that mistakes in a type nobody uses are reported too
    /// (instances resolve the same text again; `error` drops repeats).
    pub(super) fn validate_generic_type(&mut self, g: u32) {
        let GenericType { decl, module, .. } = self.generic_types[g as usize];
        let params = decl.type_params().iter();
        let errors = params.map(|p| (p.name.clone(), Type::Error)).collect();
        self.in_scope(module, errors, |cx| match decl {
            TypeDecl::Struct(s) => {
                cx.struct_fields(s);
            }
            TypeDecl::Enum(e) => {
                cx.enum_variants(e);
            }
        });
    }

    /// Runs `f` resolving names in `module` with the type parameters `args`.
    pub(super) fn in_scope<T>(
        &mut self,
        module: ModId,
        args: HashMap<String, Type>,
        f: impl FnOnce(&mut Self) -> T,
    ) -> T {
        let saved_module = std::mem::replace(&mut self.module, module);
        let saved_args = std::mem::replace(&mut self.type_args, args);
        let out = f(self);
        self.type_args = saved_args;
        self.module = saved_module;
        out
    }

    /// `impl[A, B] Pair[A, B] { ... }`: the methods become templates of the
    /// generic type. The target's arguments must be the impl's parameters,
    /// each once (an impl for one instance, `impl Pair[int, int]`, is not
    /// supported).
    pub(super) fn declare_generic_impl(&mut self, g: u32, imp: &'a ImplDecl) {
        let decl = self.generic_types[g as usize].decl;
        let tname = decl.name().name.clone();
        let want = decl.type_params().len();
        let mut impl_params = Vec::new();
        for a in &imp.target_args {
            match a {
                TypeExpr::Named { path, args, .. }
                    if path.len() == 1
                        && args.is_empty()
                        && imp.type_params.iter().any(|p| p.name == path[0].name)
                        && !impl_params.contains(&path[0].name) =>
                {
                    impl_params.push(path[0].name.clone())
                }
                other => {
                    self.error(unsupported(
                        "an `impl` for some instances of a generic type only",
                        other.span(),
                    ));
                    return;
                }
            }
        }
        if impl_params.len() != want || imp.type_params.len() != want {
            let ps: Vec<&str> = decl.type_params().iter().map(|p| p.name.as_str()).collect();
            let shown = ps.join(", ");
            self.error(
                Diagnostic::error(
                    DiagId::WrongTypeArguments,
                    format!("`{tname}` takes {want} type argument{}", plural(want)),
                )
                .with_label(imp.target.span, "the impl must name each of them")
                .with_note(format!("write `impl[{shown}] {tname}[{shown}] {{ ... }}`")),
            );
            return;
        }
        self.check_unique_names(
            imp.type_params.iter(),
            "type parameter",
            DiagId::DuplicateTypeParameter,
        );
        let module = self.module;
        for method in &imp.methods {
            let taken = self.generic_types[g as usize]
                .methods
                .iter()
                .any(|t| t.decl.name.name == method.name.name);
            let is_field = match decl {
                TypeDecl::Struct(s) => s.fields.iter().any(|f| f.name.name == method.name.name),
                TypeDecl::Enum(_) => false,
            };
            if taken || is_field {
                self.error(
                    Diagnostic::error(
                        DiagId::DuplicateDefinition,
                        format!(
                            "`{tname}` already has a field or method `{}`",
                            method.name.name
                        ),
                    )
                    .with_label(method.name.span, "defined again here"),
                );
                continue;
            }
            let template = MethodTemplate {
                decl: method,
                module,
                impl_params: impl_params.clone(),
            };
            self.generic_types[g as usize].methods.push(template);
        }
        if imp.interface.is_some() {
            self.pending_generic_impls.push((module, g, imp));
        }
    }

    /// `Name[args]` in a type: the instance, made on first use.
    pub(super) fn generic_type_ref(&mut self, g: u32, args: &[TypeExpr], span: Span) -> Type {
        let decl = self.generic_types[g as usize].decl;
        let want = decl.type_params().len();
        if args.len() != want {
            let name = &decl.name().name;
            self.error(
                Diagnostic::error(
                    DiagId::WrongTypeArguments,
                    format!(
                        "`{name}` takes {want} type argument{} but {} {} given",
                        plural(want),
                        args.len(),
                        if args.len() == 1 { "was" } else { "were" }
                    ),
                )
                .with_label(span, "wrong number of type arguments"),
            );
            return Type::Error;
        }
        let targs: Vec<Type> = args.iter().map(|a| self.resolve_type(a)).collect();
        self.type_instance(g, targs, span)
    }

    /// The instance of generic type `g` for `targs`: one `StructInfo`, its
    /// fields or variants resolved with the parameters bound, its methods
    /// pending until called.
    pub(super) fn type_instance(&mut self, g: u32, targs: Vec<Type>, span: Span) -> Type {
        if targs.iter().any(|t| t.contains_error()) {
            return Type::Error;
        }
        let GenericType { decl, module, .. } = self.generic_types[g as usize];
        let is_enum = matches!(decl, TypeDecl::Enum(_));
        let key = format!("{g}:{targs:?}");
        if let Some(&id) = self.type_instances.get(&key) {
            return if is_enum {
                Type::Enum(id)
            } else {
                Type::Struct(id)
            };
        }
        let base = decl.name().name.clone();
        let shown: Vec<String> = targs.iter().map(|t| t.to_string()).collect();
        let name = format!("{base}[{}]", shown.join(", "));
        if self.type_depth >= MAX_INSTANCE_DEPTH {
            self.error(
                Diagnostic::error(
                    DiagId::InstantiationTooDeep,
                    format!(
                        "instantiating the type `{base}` goes {MAX_INSTANCE_DEPTH} generic instances deep"
                    ),
                )
                .with_label(span, "this type asks for yet another instance")
                .with_note("a generic type must not contain itself at a type built from its own type parameter"),
            );
            return Type::Error;
        }
        let id = self.push_struct(StructInfo {
            name,
            base_name: base,
            fields: Vec::new(),
            span: decl.name().span,
            methods: HashMap::new(),
            is_enum,
            variants: Vec::new(),
            type_args: targs.clone(),
        });
        self.type_instances.insert(key, id);
        self.instance_of.insert(id, g);
        let names: Vec<String> = decl.type_params().iter().map(|p| p.name.clone()).collect();
        let args: HashMap<String, Type> = names.into_iter().zip(targs.iter().cloned()).collect();
        self.type_depth += 1;
        self.in_scope(module, args, |cx| match decl {
            TypeDecl::Struct(s) => cx.out.structs[id as usize].fields = cx.struct_fields(s),
            TypeDecl::Enum(e) => cx.out.structs[id as usize].variants = cx.enum_variants(e),
        });
        self.type_depth -= 1;
        self.out.structs[id as usize].ty(id)
    }

    /// A new struct or enum, named in messages from now on.
    pub(super) fn push_struct(&mut self, info: StructInfo) -> StructId {
        let id = self.out.structs.len() as StructId;
        STRUCT_NAMES.with(|n| n.borrow_mut().push(info.name.clone()));
        self.out.structs.push(info);
        id
    }

    /// The method `name` of `s` not instantiated yet: a method of its
    /// generic type's `impl`, or a method with type parameters of its own;
    /// with the type arguments it is instantiated with.
    fn method_template(
        &self,
        s: StructId,
        name: &str,
    ) -> Option<(MethodTemplate<'a>, HashMap<String, Type>)> {
        if let Some(&g) = self.instance_of.get(&s) {
            let t = self.generic_types[g as usize]
                .methods
                .iter()
                .find(|t| t.decl.name.name == name)?;
            let args = &self.out.structs[s as usize].type_args;
            let bound = t.impl_params.iter().cloned().zip(args.iter().cloned());
            return Some((t.clone(), bound.collect()));
        }
        let t = self.generic_methods.get(&(s, name.to_string()))?;
        Some((t.clone(), HashMap::new()))
    }

    /// Whether struct or enum `s` has a method `name` (declared, or to be
    /// instantiated on its first call).
    pub(super) fn has_method(&self, s: StructId, name: &str) -> bool {
        self.out.structs[s as usize].methods.contains_key(name)
            || self.method_template(s, name).is_some()
    }

    /// The method `name` of `s`, instantiating it now if it is the first
    /// call of a generic type's method.
    pub(super) fn method_of(&mut self, s: StructId, name: &str) -> Option<MethodRef<'a>> {
        if let Some(&f) = self.out.structs[s as usize].methods.get(name) {
            return Some(MethodRef::Fn(f));
        }
        let (template, bound) = self.method_template(s, name)?;
        if !template.decl.type_params.is_empty() {
            return Some(MethodRef::Generic(template, bound));
        }
        let f = self.instantiate_decl(template.decl, template.module, bound, Some(s), None)?;
        self.out.structs[s as usize]
            .methods
            .insert(name.to_string(), f);
        Some(MethodRef::Fn(f))
    }

    /// The instance of a generic method for one call: its own type
    /// parameters inferred from `args` (the receiver's are `bound`).
    /// Returns the function and the arguments' types, checked already.
    pub(super) fn generic_method_instance(
        &mut self,
        e: &Expr,
        s: StructId,
        template: &MethodTemplate<'a>,
        mut bound: HashMap<String, Type>,
        args: &'a [Expr],
    ) -> Option<(FnId, Vec<Type>)> {
        let decl = template.decl;
        let skip = usize::from(decl.params.first().is_some_and(|p| p.ty.is_none()));
        let params: Vec<&TypeExpr> = decl.params[skip..]
            .iter()
            .filter_map(|p| p.ty.as_ref())
            .collect();
        if params.len() != args.len() {
            for a in args {
                self.check_expr(a, ANY);
            }
            let span = Some(decl.name.span);
            self.wrong_argument_count(e.span, &decl.name.name, params.len(), args.len(), span);
            return None;
        }
        let names: Vec<String> = decl.type_params.iter().map(|t| t.name.clone()).collect();
        let arg_refs: Vec<&'a Expr> = args.iter().collect();
        let types = self.infer_args(template.module, &names, &mut bound, &params, &arg_refs);
        if types.iter().any(|t| t.contains_error()) {
            return None;
        }
        let what = format!("this call of `{}`", decl.name.name);
        let targs = self.inferred(e, &names, &bound, &what, "argument")?;
        let key = format!("{s}.{}:{targs:?}", decl.name.name);
        if let Some(&f) = self.instances.get(&key) {
            return Some((f, types));
        }
        let parent = self.ctx.first().map(|c| c.fn_id);
        let parent = parent.filter(|p| self.instance_parent.contains_key(p));
        if self.instance_chain(parent).len() >= MAX_INSTANCE_DEPTH {
            self.runaway_instantiation(e, &decl.name.name, &targs, parent);
            return None;
        }
        let f = self.instantiate_decl(decl, template.module, bound, Some(s), Some(&targs))?;
        self.instances.insert(key, f);
        self.instance_parent.insert(f, parent);
        Some((f, types))
    }

    /// `Pair { ... }` or `Pair[int, string] { ... }`: the instance it
    /// builds, from the written arguments, the type the context expects, or
    /// else the fields' types (then returned by expression, checked). On
    /// `None` every field has been checked.
    pub(super) fn generic_struct_lit(
        &mut self,
        e: &Expr,
        g: u32,
        type_args: &[TypeExpr],
        fields: &'a [(Ident, Expr)],
        want: Option<&Type>,
    ) -> Option<(StructId, Option<HashMap<ExprId, Type>>)> {
        let instance = if type_args.is_empty() {
            self.wanted_instance(g, want)
        } else {
            Some(self.generic_type_ref(g, type_args, e.span))
        };
        match instance {
            Some(Type::Struct(id)) => return Some((id, None)),
            Some(_) => {
                for (_, v) in fields {
                    self.check_expr(v, ANY);
                }
                return None;
            }
            None => {}
        }
        let GenericType {
            decl: TypeDecl::Struct(decl),
            module,
            ..
        } = self.generic_types[g as usize]
        else {
            return None;
        };
        let names: Vec<String> = decl.type_params.iter().map(|t| t.name.clone()).collect();
        let mut params: Vec<&TypeExpr> = Vec::new();
        let (mut args, mut rest) = (Vec::new(), Vec::new());
        for (name, v) in fields {
            let field = decl.fields.iter().find(|f| f.name.name == name.name);
            match field {
                Some(f) if !params.iter().any(|&p| std::ptr::eq(p, &f.ty)) => {
                    params.push(&f.ty);
                    args.push(v);
                }
                _ => rest.push(v),
            }
        }
        let mut bound = HashMap::new();
        let types = self.infer_args(module, &names, &mut bound, &params, &args);
        let mut checked: HashMap<ExprId, Type> = args.iter().map(|a| a.id).zip(types).collect();
        for v in rest {
            let t = self.check_expr(v, ANY);
            checked.insert(v.id, t);
        }
        if checked.values().any(|t| t.contains_error()) {
            return None;
        }
        let what = format!("this `{}` literal", decl.name.name);
        let targs = self.inferred(e, &names, &bound, &what, "field")?;
        match self.type_instance(g, targs, e.span) {
            Type::Struct(id) => Some((id, Some(checked))),
            _ => None,
        }
    }

    /// `E.V` or `E.V(args)` of a generic enum `E` (`g`): the instance the
    /// context expects, or the one the payload's types say. `None` when `g`
    /// is a struct, or `V` is a static method.
    pub(super) fn generic_variant(
        &mut self,
        e: &Expr,
        g: u32,
        variant: &Ident,
        args: Option<&'a [Expr]>,
        want: Option<&Type>,
    ) -> Option<Type> {
        let GenericType {
            decl: TypeDecl::Enum(decl),
            module,
            ..
        } = self.generic_types[g as usize]
        else {
            return None;
        };
        let name = decl.name.name.as_str();
        let Some(tag) = decl
            .variants
            .iter()
            .position(|v| v.name.name == variant.name)
        else {
            let is_method = self.generic_types[g as usize]
                .methods
                .iter()
                .any(|m| m.decl.name.name == variant.name);
            if args.is_some() && is_method {
                return None;
            }
            self.unknown_variant(name, variant, args);
            return Some(Type::Error);
        };
        if let Some(Type::Enum(id)) = self.wanted_instance(g, want) {
            return Some(self.variant_of(e, id, tag, name, variant, args));
        }
        let names: Vec<String> = decl.type_params.iter().map(|t| t.name.clone()).collect();
        let payload: Vec<&TypeExpr> = decl.variants[tag].payload.iter().collect();
        let mut bound = HashMap::new();
        let mut types = Vec::new();
        if let Some(args) = args {
            if args.len() != payload.len() {
                for a in args {
                    self.check_expr(a, ANY);
                }
                let span = Some(decl.name.span);
                self.wrong_argument_count(e.span, &variant.name, payload.len(), args.len(), span);
                return Some(Type::Error);
            }
            let arg_refs: Vec<&'a Expr> = args.iter().collect();
            types = self.infer_args(module, &names, &mut bound, &payload, &arg_refs);
            if types.iter().any(|t| t.contains_error()) {
                return Some(Type::Error);
            }
        }
        let what = format!("`{name}.{}`", variant.name);
        let Some(targs) = self.inferred(e, &names, &bound, &what, "value") else {
            return Some(Type::Error);
        };
        let Type::Enum(id) = self.type_instance(g, targs, e.span) else {
            return Some(Type::Error);
        };
        if args.is_some() {
            self.prechecked = Some(types);
        }
        Some(self.variant_of(e, id, tag, name, variant, args))
    }

    /// `Stack.new(args)`: a static method of generic type `g`, of the
    /// instance the context expects (its arguments are not inferred from the
    /// call's).
    pub(super) fn generic_static_call(
        &mut self,
        e: &Expr,
        callee: &Expr,
        g: u32,
        method: &Ident,
        args: &'a [Expr],
        want: Option<&Type>,
    ) -> Type {
        let tname = self.generic_types[g as usize].decl.name().name.clone();
        let known = self.generic_types[g as usize]
            .methods
            .iter()
            .any(|m| m.decl.name.name == method.name);
        let instance = self.wanted_instance(g, want);
        let found = match instance {
            Some(Type::Struct(s) | Type::Enum(s)) if known => self.method_of(s, &method.name),
            _ => None,
        };
        match (found, known) {
            (Some(MethodRef::Fn(f)), _) => self.direct_call(e, callee, f, args),
            (_, true) => {
                for a in args {
                    self.check_expr(a, ANY);
                }
                let params = self.generic_types[g as usize].decl.type_params();
                let shown: Vec<&str> = params.iter().map(|p| p.name.as_str()).collect();
                let d = Diagnostic::error(
                    DiagId::CannotInferType,
                    format!(
                        "cannot infer the type arguments of `{tname}.{}`",
                        method.name
                    ),
                )
                .with_label(
                    e.span,
                    format!("which `{tname}[{}]` is this?", shown.join(", ")),
                )
                .with_note(format!(
                    "say the type it returns, for example `let s: {tname}[int] = {tname}.{}(...)`",
                    method.name
                ));
                self.error(d);
                Type::Error
            }
            (_, false) => {
                for a in args {
                    self.check_expr(a, ANY);
                }
                self.error(
                    Diagnostic::error(
                        DiagId::UnknownMethod,
                        format!("`{tname}` has no method `{}`", method.name),
                    )
                    .with_label(method.span, "not found"),
                );
                Type::Error
            }
        }
    }

    /// The generic enum of the prelude with a variant `name` (`Ok`, `Err`):
    /// its variants are in scope as bare names.
    pub(super) fn prelude_variant(&self, name: &str) -> Option<u32> {
        let p = self.prelude?;
        self.items[p as usize]
            .values()
            .find_map(|item| match *item {
                ItemRef::GenericType(g) => match self.generic_types[g as usize].decl {
                    TypeDecl::Enum(e) if e.variants.iter().any(|v| v.name.name == name) => Some(g),
                    _ => None,
                },
                _ => None,
            })
    }

    /// The bound values of `names`, in order, or a `cannot-infer-type` error.
    pub(super) fn inferred(
        &mut self,
        e: &Expr,
        names: &[String],
        bound: &HashMap<String, Type>,
        what: &str,
        from: &str,
    ) -> Option<Vec<Type>> {
        let mut targs = Vec::new();
        for n in names {
            match bound.get(n) {
                Some(t) => targs.push(t.clone()),
                None => {
                    let d = Diagnostic::error(
                        DiagId::CannotInferType,
                        format!("cannot infer the type `{n}` of {what}"),
                    )
                    .with_label(e.span, format!("no {from} says what `{n}` is"));
                    let d = if from == "argument" {
                        d
                    } else {
                        d.with_note("write the type out, for example on the `let` it is bound to")
                    };
                    self.error(d);
                    return None;
                }
            }
        }
        Some(targs)
    }

    /// The instance of generic type `g` that the context expects (`want`,
    /// or the value inside an expected optional), if it is one.
    pub(super) fn wanted_instance(&self, g: u32, want: Option<&Type>) -> Option<Type> {
        let t = match want? {
            Type::Optional(inner) => &**inner,
            t => t,
        };
        let (Type::Struct(id) | Type::Enum(id)) = t else {
            return None;
        };
        (self.instance_of.get(id) == Some(&g)).then(|| t.clone())
    }

    /// Checks each of `args` against its declared type in `params` (type
    /// expressions of a declaration in `module` naming the type parameters
    /// `names`), binding them in `bound` from the types found. Arguments are
    /// checked in an order that lets later ones be told their type: first
    /// any whose declared type is fully known, then one whose declared type
    /// is a plain parameter (`T`, `[T]`, `T?`), then the rest in order.
    /// Returns each argument's type, in the arguments' order.
    pub(super) fn infer_args(
        &mut self,
        module: ModId,
        names: &[String],
        bound: &mut HashMap<String, Type>,
        params: &[&TypeExpr],
        args: &[&'a Expr],
    ) -> Vec<Type> {
        let mut types: Vec<Option<Type>> = vec![None; args.len()];
        for _ in 0..args.len() {
            let open = (0..args.len()).filter(|&i| types[i].is_none());
            let open: Vec<usize> = open.collect();
            let pick = open
                .iter()
                .copied()
                .find(|&i| unbound(params[i], names, bound).is_empty())
                .or_else(|| open.iter().copied().find(|&i| plain(params[i], names)))
                .unwrap_or(open[0]);
            let known = if unbound(params[pick], names, bound).is_empty() {
                let (p, scope) = (params[pick], bound.clone());
                Some(self.in_scope(module, scope, |cx| cx.resolve_type(p)))
            } else {
                None
            };
            let t = self.check_expr(args[pick], Some(known.as_ref().unwrap_or(&Type::Error)));
            self.unify(module, params[pick], &t, names, bound);
            types[pick] = Some(t);
        }
        types
            .into_iter()
            .map(|t| t.unwrap_or(Type::Error))
            .collect()
    }

    /// Binds the type parameters `names` that `te` (a declared type in
    /// `module`) mentions to the parts of `actual` in their place; the
    /// first binding wins, and the use's own check reports any mismatch.
    pub(super) fn unify(
        &self,
        module: ModId,
        te: &TypeExpr,
        actual: &Type,
        names: &[String],
        bound: &mut HashMap<String, Type>,
    ) {
        match (te, actual) {
            (_, Type::Nil | Type::Never | Type::Error) => {}
            (TypeExpr::Named { path, args, .. }, _) => {
                let head = path[0].name.as_str();
                match (path.len(), args.as_slice(), actual) {
                    (1, [], _) if names.iter().any(|n| n == head) => {
                        bound
                            .entry(head.to_string())
                            .or_insert_with(|| actual.clone());
                    }
                    (1, [a], Type::Task(t) | Type::Gen(t) | Type::Chan(t))
                        if matches!(head, "Task" | "Gen" | "Chan") =>
                    {
                        self.unify(module, a, t, names, bound)
                    }
                    (1, [k, v], Type::Map(tk, tv)) if head == "Map" => {
                        self.unify(module, k, tk, names, bound);
                        self.unify(module, v, tv, names, bound);
                    }
                    (_, [_, ..], Type::Struct(id) | Type::Enum(id)) => {
                        let info = &self.out.structs[*id as usize];
                        let Some(ItemRef::GenericType(g)) = self.lookup_item_in(module, path)
                        else {
                            return;
                        };
                        if self.instance_of.get(id) == Some(&g) {
                            for (a, t) in args.iter().zip(&info.type_args) {
                                self.unify(module, a, t, names, bound);
                            }
                        }
                    }
                    _ => {}
                }
            }
            (TypeExpr::Array(inner, _), Type::Array(t)) => {
                self.unify(module, inner, t, names, bound)
            }
            (TypeExpr::Optional(inner, _), Type::Optional(t)) => {
                self.unify(module, inner, t, names, bound)
            }
            (TypeExpr::Optional(inner, _), t) => self.unify(module, inner, t, names, bound),
            (TypeExpr::Func { params, ret, .. }, Type::Func(ps, r) | Type::AsyncFn(ps, r)) => {
                for (p, t) in params.iter().zip(ps) {
                    self.unify(module, p, t, names, bound);
                }
                if let Some(ret) = ret {
                    self.unify(module, ret, r, names, bound);
                }
            }
            _ => {}
        }
    }
}

/// The type parameters among `names` that `te` mentions and `bound` lacks.
fn unbound<'n>(te: &TypeExpr, names: &'n [String], bound: &HashMap<String, Type>) -> Vec<&'n str> {
    let mut out = Vec::new();
    mentioned(te, names, &mut out);
    out.retain(|n| !bound.contains_key(*n));
    out
}

fn mentioned<'n>(te: &TypeExpr, names: &'n [String], out: &mut Vec<&'n str>) {
    match te {
        TypeExpr::Named { path, args, .. } => {
            if let (1, Some(n)) = (path.len(), names.iter().find(|n| **n == path[0].name)) {
                out.push(n);
            }
            args.iter().for_each(|a| mentioned(a, names, out));
        }
        TypeExpr::Array(inner, _) | TypeExpr::Optional(inner, _) => mentioned(inner, names, out),
        TypeExpr::Func { params, ret, .. } => {
            params.iter().for_each(|p| mentioned(p, names, out));
            if let Some(r) = ret {
                mentioned(r, names, out);
            }
        }
    }
}

/// A declared type whose argument's type binds its parameter directly.
fn plain(te: &TypeExpr, names: &[String]) -> bool {
    match te {
        TypeExpr::Named { path, args, .. } => {
            path.len() == 1 && args.is_empty() && names.contains(&path[0].name)
        }
        TypeExpr::Array(inner, _) | TypeExpr::Optional(inner, _) => plain(inner, names),
        TypeExpr::Func { .. } => false,
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::expect_ids;

    const DECLS: &str = "struct Pair[A, B] { a: A, b: B }\nenum Tree[T] { Leaf, Node(Tree[T], T, Tree[T]) }\nstruct S[T] { items: [T] }\nimpl[T] S[T] {\n fn push(self, v: T) { self.items.push(v) }\n fn map[U](self, f: fn(T) -> U) -> S[U] { return S { items: [f(self.items[0])] } }\n fn new() -> S[T] { return S[T] { items: [] } }\n}\n";

    fn with_decls(body: &str) -> String {
        format!("{DECLS}fn main() {{\n{body}\n}}")
    }

    #[test]
    fn instances_inference_and_methods() {
        let ok = [
            "let p = Pair { a: 1, b: \"x\" }\nlet q: int = p.a",
            "let p = Pair[int, [string]] { a: 1, b: [] }",
            "let t = Tree.Node(Tree.Leaf, 1, Tree.Leaf)",
            "let t: Tree[string] = Tree.Leaf",
            "let s: S[int] = S.new()\ns.push(1)\nlet m: S[string] = s.map(fn(x: int) -> string { return \"\" })",
            "let t: Tree[int]? = Tree.Leaf",
        ];
        for body in ok {
            expect_ids(&[(&with_decls(body), &[])]);
        }
        let bad: [(&str, &[&str]); 9] = [
            ("let t = Tree.Leaf", &["cannot-infer-type"]),
            ("let s = S.new()", &["cannot-infer-type"]),
            ("let p = Pair { a: nil, b: 1 }", &["cannot-infer-type"]),
            ("let p = Pair { a: nope, b: 1 }", &["unknown-name"]),
            (
                "let p = Pair[int, int] { a: 1, b: \"x\" }",
                &["type-mismatch"],
            ),
            (
                "let p: Pair[int] = Pair { a: 1, b: 2 }",
                &["wrong-type-arguments"],
            ),
            ("let s: S[int] = S.new()\ns.push(\"x\")", &["type-mismatch"]),
            ("let s: S[int] = S.new()\ns.pop()", &["unknown-method"]),
            ("let t = Tree.Node(1)", &["wrong-argument-count"]),
        ];
        for (body, ids) in bad {
            expect_ids(&[(&with_decls(body), ids)]);
        }
    }

    #[test]
    fn declarations_of_generic_types() {
        expect_ids(&[
            (
                "struct P[T, T] { a: T }\nfn main() {}",
                &["duplicate-type-parameter"],
            ),
            ("struct P[T] { a: Nope }\nfn main() {}", &["unknown-type"]),
            (
                "struct P[T] { a: T }\nimpl P { fn f(self) {} }\nfn main() {}",
                &["wrong-type-arguments"],
            ),
            (
                "struct P[T] { a: T }\nimpl P[int] { fn f(self) {} }\nfn main() {}",
                &["unsupported"],
            ),
            (
                "struct Q { a: int }\nimpl[T] Q { fn f(self) {} }\nfn main() {}",
                &["wrong-type-arguments"],
            ),
            (
                "struct D[T] { next: D[[T]]? }\nfn main() { let d = D[int] { next: nil } }",
                &["instantiation-too-deep"],
            ),
            (
                "enum E[T] { A(T) }\nfn main() { let e = E.A(1)\n match e { E.A(x) => {} } }",
                &[],
            ),
            (
                "enum E[T] { A(T), B }\nfn main() { let e = E.A(1)\n match e { E.A(x) => {} } }",
                &["non-exhaustive-match"],
            ),
        ]);
    }
}
