//! The first pass: every module's items declared, and type expressions resolved.

use super::generic_types::{MethodTemplate, TypeDecl};
use super::*;

impl<'a> Checker<'a, '_> {
    /// A struct or enum may not take a built-in type's name: every use of
    /// the name would mean the built-in, and messages would read "expected
    /// `string`, found `string`".
    pub(super) fn builtin_type_name(&mut self, name: &Ident) -> bool {
        if !BUILTIN_TYPE_NAMES.contains(&name.name.as_str()) {
            return false;
        }
        self.error(
            Diagnostic::error(
                DiagId::BuiltinTypeName,
                format!("`{}` is the name of a built-in type", name.name),
            )
            .with_label(name.span, "choose another name for this type"),
        );
        true
    }

    /// Pass 1: the names of every module's structs, enums and generic
    /// types, so that any type expression can name them.
    pub(super) fn declare_types(&mut self, modules: &[SourceModule<'a>]) {
        for (m, module) in modules.iter().enumerate() {
            for item in &module.ast.items {
                match item {
                    Item::Struct(s) if !s.type_params.is_empty() => {
                        self.declare_generic_type(m, TypeDecl::Struct(s))
                    }
                    Item::Enum(e) if !e.type_params.is_empty() => {
                        self.declare_generic_type(m, TypeDecl::Enum(e))
                    }
                    Item::Struct(s) if self.builtin_type_name(&s.name) => {}
                    Item::Enum(e) if self.builtin_type_name(&e.name) => {}
                    Item::Struct(s) => {
                        if self.redefined(m, &s.name) {
                            continue;
                        }
                        let id = self.push_struct(StructInfo {
                            name: s.name.name.clone(),
                            base_name: s.name.name.clone(),
                            fields: Vec::new(),
                            span: s.name.span,
                            methods: HashMap::new(),
                            is_enum: false,
                            variants: Vec::new(),
                            type_args: Vec::new(),
                        });
                        self.items[m].insert(s.name.name.clone(), ItemRef::Struct(id));
                    }
                    Item::Enum(e) => {
                        if self.redefined(m, &e.name) {
                            continue;
                        }
                        let id = self.push_struct(StructInfo {
                            name: e.name.name.clone(),
                            base_name: e.name.name.clone(),
                            fields: Vec::new(),
                            span: e.name.span,
                            methods: HashMap::new(),
                            is_enum: true,
                            variants: Vec::new(),
                            type_args: Vec::new(),
                        });
                        self.items[m].insert(e.name.name.clone(), ItemRef::Struct(id));
                    }
                    Item::Interface(d) => self.declare_interface(m, d),
                    _ => {}
                }
            }
        }
    }

    /// Pass 3: the fields and variants of the structs and enums (a generic
    /// one's resolved once with its parameters as errors, to report).
    pub(super) fn resolve_type_bodies(&mut self, modules: &[SourceModule<'a>]) {
        for (m, module) in modules.iter().enumerate() {
            self.module = m as ModId;
            for item in &module.ast.items {
                let (name, span) = match item {
                    Item::Struct(s) => (&s.name, s.name.span),
                    Item::Enum(e) => (&e.name, e.name.span),
                    Item::Interface(d) => {
                        self.resolve_interface(m, d);
                        continue;
                    }
                    _ => continue,
                };
                match self.items[m].get(&name.name).copied() {
                    Some(ItemRef::Struct(id)) if self.out.structs[id as usize].span == span => {
                        match item {
                            Item::Struct(s) => {
                                self.out.structs[id as usize].fields = self.struct_fields(s)
                            }
                            Item::Enum(e) => {
                                self.out.structs[id as usize].variants = self.enum_variants(e)
                            }
                            _ => {}
                        }
                    }
                    Some(ItemRef::GenericType(g))
                        if self.generic_types[g as usize].decl.name().span == span =>
                    {
                        self.validate_generic_type(g)
                    }
                    _ => {}
                }
            }
        }
    }

    /// Pass 5: every function's, method's and `extern fn`'s signature, and
    /// `main`.
    pub(super) fn declare_functions(&mut self, modules: &[SourceModule<'a>]) {
        for module in modules.iter() {
            for item in &module.ast.items {
                match item {
                    Item::Fn(f) => self.check_unique_names_of(f),
                    Item::Impl(imp) => imp
                        .methods
                        .iter()
                        .for_each(|f| self.check_unique_names_of(f)),
                    _ => {}
                }
            }
        }
        for (m, module) in modules.iter().enumerate() {
            self.module = m as ModId;
            for item in &module.ast.items {
                match item {
                    Item::Fn(f) if !f.type_params.is_empty() => {
                        if self.redefined(m, &f.name) {
                            continue;
                        }
                        let g = self.generics.len() as u32;
                        self.generics.push(Generic {
                            decl: f,
                            module: m as ModId,
                        });
                        self.items[m].insert(f.name.name.clone(), ItemRef::Generic(g));
                    }
                    Item::Fn(f) => {
                        if self.redefined(m, &f.name) {
                            continue;
                        }
                        let id = self.declare_fn(f, None);
                        self.items[m].insert(f.name.name.clone(), ItemRef::Fn(id));
                        if m == 0 && f.name.name == "main" {
                            self.out.main = Some(id);
                            let info = &self.out.fns[id as usize];
                            if !f.params.is_empty() || info.ret != Type::Unit {
                                self.error(
                                    Diagnostic::error(DiagId::InvalidMain, "`main` takes no parameters and returns nothing")
                                        .with_label(f.name.span, "declared here")
                                        .with_note("use `args()` for command-line arguments and `exit(n)` for the status"),
                                );
                            }
                        }
                    }
                    Item::Impl(imp) => {
                        let target = match self.items[m].get(&imp.target.name) {
                            Some(ItemRef::GenericType(g)) => {
                                self.declare_generic_impl(*g, imp);
                                continue;
                            }
                            Some(ItemRef::Struct(id)) => *id,
                            _ => {
                                self.error(
                                    Diagnostic::error(
                                        DiagId::UnknownType,
                                        format!("unknown struct or enum `{}`", imp.target.name),
                                    )
                                    .with_label(
                                        imp.target.span,
                                        "`impl` needs a struct or enum declared in this file",
                                    ),
                                );
                                continue;
                            }
                        };
                        if let Some(t) = imp.type_params.first() {
                            let name = &imp.target.name;
                            self.error(
                                Diagnostic::error(
                                    DiagId::WrongTypeArguments,
                                    format!("`{name}` is not generic"),
                                )
                                .with_label(t.span, "this `impl` has type parameters")
                                .with_note(format!("write `impl {name} {{ ... }}`")),
                            );
                            continue;
                        }
                        if let Some(a) = imp.target_args.first() {
                            let name = &imp.target.name;
                            self.error(
                                Diagnostic::error(
                                    DiagId::WrongTypeArguments,
                                    format!("`{name}` takes no type arguments"),
                                )
                                .with_label(a.span(), "not a generic type"),
                            );
                            continue;
                        }
                        for method in &imp.methods {
                            if self.has_method(target, &method.name.name)
                                || self.out.structs[target as usize]
                                    .field(&method.name.name)
                                    .is_some()
                            {
                                self.error(
                                    Diagnostic::error(
                                        DiagId::DuplicateDefinition,
                                        format!(
                                            "`{}` already has a field or method `{}`",
                                            imp.target.name, method.name.name
                                        ),
                                    )
                                    .with_label(method.name.span, "defined again here"),
                                );
                                continue;
                            }
                            if !method.type_params.is_empty() {
                                // A generic method: instantiated per call.
                                let template = MethodTemplate {
                                    decl: method,
                                    module: m as ModId,
                                    impl_params: Vec::new(),
                                };
                                let key = (target, method.name.name.clone());
                                self.generic_methods.insert(key, template);
                                continue;
                            }
                            let id = self.declare_fn(method, Some(target));
                            self.out.structs[target as usize]
                                .methods
                                .insert(method.name.name.clone(), id);
                        }
                        if imp.interface.is_some() {
                            self.pending_impls.push((self.module, target, imp));
                        }
                    }
                    Item::Extern(x) => self.declare_extern(m, x),
                    Item::Import(_)
                    | Item::Struct(_)
                    | Item::Enum(_)
                    | Item::Global(_)
                    | Item::Interface(_) => {}
                }
            }
        }
        // Once every method is declared: a method an interface needs may
        // come from any `impl` of the type.
        for (m, target, imp) in std::mem::take(&mut self.pending_impls) {
            self.module = m;
            if let Some(path) = &imp.interface {
                self.check_impl(target, imp, path);
            }
        }
        for (m, g, imp) in std::mem::take(&mut self.pending_generic_impls) {
            self.module = m;
            if let Some(path) = &imp.interface {
                if let Some(iface) = self.generic_impl_names(g, imp, path) {
                    self.generic_types[g as usize].interfaces.push((iface, imp));
                }
            }
        }
        if self.out.main.is_none() {
            let file = modules.first().map(|m| m.file).unwrap_or(0);
            self.error(
                Diagnostic::error(DiagId::MissingMain, "this program has no `main` function")
                    .with_label(Span::new(file, 0, 0), "expected `fn main()` in this file"),
            );
        }
    }

    /// `extern fn`: only in the standard library, only a function of the
    /// runtime's table, and only with Weft types whose ABI kinds are the
    /// table's (so codegen can pass the values as they are).
    pub(super) fn declare_extern(&mut self, m: usize, x: &ExternFn) {
        if !self.modules[m].is_stdlib {
            self.error(
                Diagnostic::error(
                    DiagId::ExternOutsideStdlib,
                    "`extern fn` declares a runtime function, which only the standard library may call",
                )
                .with_label(x.span, "not allowed in a program"),
            );
            return;
        }
        if self.redefined(m, &x.name) || self.externs[m].contains_key(&x.name.name) {
            return;
        }
        let (params, ret) = self.signature_types(&x.params, x.ret.as_ref());
        let Some(&rf) = RuntimeFn::ALL
            .iter()
            .find(|f| f.signature().name == x.name.name)
        else {
            self.error(
                Diagnostic::error(
                    DiagId::UnknownRuntimeFunction,
                    format!("the runtime has no function `{}`", x.name.name),
                )
                .with_label(x.name.span, "not in weft_abi's table"),
            );
            return;
        };
        let sig = rf.signature();
        // A Weft type with no ABI kind cannot cross; the rest is weft_abi's
        // own comparison (the one the runtime's build runs on its exports).
        let kinds: Option<Vec<AbiType>> = params.iter().map(abi_kind).collect();
        // A located function's call location is codegen's to pass.
        let kinds = kinds.map(|mut k| {
            if rf.located() {
                k.extend([AbiType::Ptr, AbiType::I64]);
            }
            k
        });
        let same = match (kinds, abi_kind(&ret)) {
            (Some(kinds), Some(ret)) => weft_abi::signature_matches(
                rf,
                &x.name.name,
                &kinds,
                kinds.len(),
                ret,
                sig.noreturn,
            ),
            _ => false,
        };
        if !same {
            let show = |k: &AbiType| format!("{k:?}");
            self.error(
                Diagnostic::error(
                    DiagId::ExternSignatureMismatch,
                    format!(
                        "`{}` does not have the runtime's signature ({}) -> {:?}",
                        x.name.name,
                        sig.params.iter().map(show).collect::<Vec<_>>().join(", "),
                        sig.ret
                    ),
                )
                .with_label(x.span, "these types pass other ABI kinds"),
            );
            return;
        }
        self.externs[m].insert(x.name.name.clone(), ExternSig { rf, params, ret });
    }

    pub(super) fn redefined(&mut self, m: usize, name: &Ident) -> bool {
        if let Some(prev) = self.items[m].get(&name.name).copied() {
            let prev_span = match prev {
                ItemRef::Fn(f) => self.out.fns[f as usize].span,
                ItemRef::Struct(s) => self.out.structs[s as usize].span,
                ItemRef::Generic(g) => self.generics[g as usize].decl.name.span,
                ItemRef::GenericType(g) => self.generic_types[g as usize].decl.name().span,
                ItemRef::Global(g) => self.global_decls[g as usize].0.name.span,
                ItemRef::Const(c) => self.consts[c as usize].decl.name.span,
                ItemRef::Interface(i) => self.out.interfaces[i as usize].span,
            };
            self.error(
                Diagnostic::error(
                    DiagId::DuplicateDefinition,
                    format!("`{}` is defined twice", name.name),
                )
                .with_label(name.span, "redefined here")
                .with_label(prev_span, "first defined here"),
            );
            return true;
        }
        if self.modules[m].imports.contains_key(&name.name) {
            self.error(
                Diagnostic::error(
                    DiagId::DuplicateDefinition,
                    format!("`{}` is also the name of an imported module", name.name),
                )
                .with_label(name.span, "rename this item"),
            );
            return true;
        }
        false
    }

    /// Parameters and type parameters of one function have distinct names.
    pub(super) fn check_unique_names_of(&mut self, f: &FnDecl) {
        let params = f.params.iter().map(|p| &p.name);
        self.check_unique_names(params, "parameter", DiagId::DuplicateParameter);
        let type_params = f.type_params.iter();
        self.check_unique_names(
            type_params,
            "type parameter",
            DiagId::DuplicateTypeParameter,
        );
    }

    /// Reports every name that `names` repeats, under the diagnostic `id`.
    pub(super) fn check_unique_names<'i>(
        &mut self,
        names: impl Iterator<Item = &'i Ident>,
        what: &str,
        id: DiagId,
    ) {
        let mut seen: HashMap<&str, Span> = HashMap::new();
        for name in names {
            match seen.get(name.name.as_str()) {
                Some(&first) => {
                    self.error(
                        Diagnostic::error(
                            id,
                            format!("the {what} `{}` is declared twice", name.name),
                        )
                        .with_label(name.span, "declared again here")
                        .with_label(first, "first declared here"),
                    );
                }
                None => {
                    seen.insert(&name.name, name.span);
                }
            }
        }
    }

    /// A struct's fields, their types resolved (duplicates reported).
    pub(super) fn struct_fields(&mut self, s: &StructDecl) -> Vec<(String, Type)> {
        let mut fields: Vec<(String, Type)> = Vec::new();
        for f in &s.fields {
            if fields.iter().any(|(n, _)| *n == f.name.name) {
                self.error(
                    Diagnostic::error(
                        DiagId::DuplicateField,
                        format!("the field `{}` is declared twice", f.name.name),
                    )
                    .with_label(f.name.span, "declared again here"),
                );
                continue;
            }
            let t = self.resolve_type(&f.ty);
            fields.push((f.name.name.clone(), t));
        }
        fields
    }

    /// An enum's variants with their payload types resolved.
    pub(super) fn enum_variants(&mut self, e: &EnumDecl) -> Vec<(String, Vec<Type>)> {
        let mut variants: Vec<(String, Vec<Type>)> = Vec::new();
        for v in &e.variants {
            if variants.iter().any(|(n, _)| *n == v.name.name) {
                self.error(
                    Diagnostic::error(
                        DiagId::DuplicateVariant,
                        format!("the variant `{}` is declared twice", v.name.name),
                    )
                    .with_label(v.name.span, "declared again here"),
                );
                continue;
            }
            let payload = v.payload.iter().map(|t| self.resolve_type(t)).collect();
            variants.push((v.name.name.clone(), payload));
        }
        if variants.is_empty() {
            self.error(
                Diagnostic::error(
                    DiagId::EmptyEnum,
                    format!("the enum `{}` has no variants", e.name.name),
                )
                .with_label(e.name.span, "an enum needs at least one variant"),
            );
        }
        variants
    }

    pub(super) fn declare_fn(&mut self, f: &'a FnDecl, owner: Option<StructId>) -> FnId {
        let mut param_types = Vec::new();
        for (i, p) in f.params.iter().enumerate() {
            let t = match (&p.ty, owner) {
                (Some(t), _) => self.resolve_type(t),
                (None, Some(s)) if i == 0 => self.out.structs[s as usize].ty(s),
                // The parser gives a typeless parameter only to a method's
                // first `self` (elsewhere it reports `misplaced-self`).
                (None, _) => Type::Error,
            };
            param_types.push(t);
        }
        let mut ret = match &f.ret {
            Some(t) => self.resolve_type(t),
            None => Type::Unit,
        };
        // A generator's `-> T` is what it yields; calling it gives a `Gen[T]`.
        let yields = if f.kind == FnKind::Gen {
            if ret == Type::Unit {
                self.error(
                    Diagnostic::error(
                        DiagId::GenWithoutType,
                        "a `gen fn` must declare what it yields",
                    )
                    .with_label(f.name.span, "write `gen fn name(...) -> T`"),
                );
                ret = Type::Error;
            }
            let y = ret.clone();
            ret = Type::Gen(Box::new(y.clone()));
            Some(y)
        } else {
            None
        };
        let module = &self.modules[self.module as usize].name;
        let symbol = match owner {
            Some(s) => format!(
                "{module}.{}.{}",
                self.out.structs[s as usize].name, f.name.name
            ),
            None => format!("{module}.{}", f.name.name),
        };
        let id = self.out.fns.len() as FnId;
        self.out.fns.push(FnInfo {
            symbol,
            name: f.name.name.clone(),
            params: Vec::new(),
            param_types,
            ret,
            span: f.name.span,
            source: FnSource::Decl(f),
            captures: Vec::new(),
            is_closure: false,
            yields,
            is_async: f.kind == FnKind::Async,
        });
        id
    }

    /// A bodiless signature's parameter and result types (an `extern fn`,
    /// an interface method after `self`); a parameter without a type is an
    /// error the parser reported.
    pub(super) fn signature_types(
        &mut self,
        params: &[Param],
        ret: Option<&TypeExpr>,
    ) -> (Vec<Type>, Type) {
        let params = params
            .iter()
            .map(|p| match &p.ty {
                Some(t) => self.resolve_type(t),
                None => Type::Error,
            })
            .collect();
        let ret = ret.map_or(Type::Unit, |t| self.resolve_type(t));
        (params, ret)
    }

    pub(super) fn resolve_type(&mut self, t: &TypeExpr) -> Type {
        match t {
            TypeExpr::Named { path, args, span } => {
                let name = path
                    .iter()
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join(".");
                if name == "<error>" {
                    return Type::Error;
                }
                if let (true, Some(t)) = (args.is_empty(), self.type_args.get(&name)) {
                    return t.clone();
                }
                let arity = |cx: &mut Self, n: usize| {
                    if args.len() != n {
                        cx.error(
                            Diagnostic::error(
                                DiagId::WrongTypeArguments,
                                format!(
                                    "`{name}` takes {n} type argument{} but {} {} given",
                                    plural(n),
                                    args.len(),
                                    if args.len() == 1 { "was" } else { "were" }
                                ),
                            )
                            .with_label(*span, "wrong number of type arguments"),
                        );
                        false
                    } else {
                        true
                    }
                };
                // Every name here is in `BUILTIN_TYPE_NAMES`.
                match name.as_str() {
                    "int" | "float" | "bool" | "string" | "Bytes" if !arity(self, 0) => Type::Error,
                    "int" => Type::Int,
                    "Bytes" => Type::Bytes,
                    "float" => Type::Float,
                    "bool" => Type::Bool,
                    "string" => Type::Str,
                    "Map" => {
                        if !arity(self, 2) {
                            return Type::Error;
                        }
                        let k = self.resolve_type(&args[0]);
                        let v = self.resolve_type(&args[1]);
                        if !matches!(k, Type::Int | Type::Str | Type::Error) {
                            self.error(
                                Diagnostic::error(
                                    DiagId::InvalidMapKey,
                                    format!("map keys must be `int` or `string`, not `{k}`"),
                                )
                                .with_label(args[0].span(), "not a valid key type"),
                            );
                        }
                        Type::Map(Box::new(k), Box::new(v))
                    }
                    "Gen" => {
                        if !arity(self, 1) {
                            return Type::Error;
                        }
                        Type::Gen(Box::new(self.resolve_type(&args[0])))
                    }
                    "Task" => {
                        if !arity(self, 1) {
                            return Type::Error;
                        }
                        Type::Task(Box::new(self.resolve_type(&args[0])))
                    }
                    "Chan" => {
                        if !arity(self, 1) {
                            return Type::Error;
                        }
                        Type::Chan(Box::new(self.resolve_type(&args[0])))
                    }
                    _ => match self.lookup_item(path) {
                        Some(ItemRef::Struct(id)) if args.is_empty() => {
                            self.out.structs[id as usize].ty(id)
                        }
                        Some(ItemRef::GenericType(g)) => self.generic_type_ref(g, args, *span),
                        Some(ItemRef::Interface(i)) if args.is_empty() => Type::Interface(i),
                        _ => {
                            self.error(
                                Diagnostic::error(
                                    DiagId::UnknownType,
                                    format!("unknown type `{name}`"),
                                )
                                .with_label(*span, "not a type in scope"),
                            );
                            Type::Error
                        }
                    },
                }
            }
            TypeExpr::Array(inner, _) => Type::Array(Box::new(self.resolve_type(inner))),
            TypeExpr::Optional(inner, _) => Type::Optional(Box::new(self.resolve_type(inner))),
            TypeExpr::Func {
                is_async,
                params,
                ret,
                ..
            } => {
                let params = params.iter().map(|p| self.resolve_type(p)).collect();
                let ret = match ret {
                    Some(r) => self.resolve_type(r),
                    None => Type::Unit,
                };
                if *is_async {
                    Type::AsyncFn(params, Box::new(ret))
                } else {
                    Type::Func(params, Box::new(ret))
                }
            }
        }
    }

    /// `name` in this module, or `module.name` through an import.
    pub(super) fn lookup_item(&self, path: &[Ident]) -> Option<ItemRef> {
        self.lookup_item_in(self.module, path)
    }

    /// `name` in `module`, or `m.name` through one of its imports.
    pub(super) fn lookup_item_in(&self, module: ModId, path: &[Ident]) -> Option<ItemRef> {
        match path {
            [one] => {
                let found = self.items[module as usize].get(&one.name).copied();
                // The prelude's public items, unless the module has its own.
                let prelude = self
                    .prelude
                    .filter(|&p| p != module && !one.name.starts_with('_'));
                found.or_else(|| self.items[prelude? as usize].get(&one.name).copied())
            }
            [m, one] => {
                let target = *self.modules[module as usize].imports.get(&m.name)?;
                let item = self.items[target as usize].get(&one.name).copied()?;
                // Names starting with `_` are private to their module; the
                // standard modules share theirs (`net` builds `io`'s errors).
                let shared = self.modules[module as usize].is_stdlib
                    && self.modules[target as usize].is_stdlib;
                (shared || !one.name.starts_with('_')).then_some(item)
            }
            _ => None,
        }
    }

    // ----- scopes ---------------------------------------------------------
}

#[cfg(test)]
mod tests {
    use super::super::tests::expect_ids;

    #[test]
    fn declarations() {
        expect_ids(&[
            ("struct P { x: int }\nenum E { A, B }\nfn main() {}", &[]),
            (
                "fn f() {}\nfn f() {}\nfn main() {}",
                &["duplicate-definition"],
            ),
            (
                "fn f(a: int, a: int) {}\nfn main() {}",
                &["duplicate-parameter"],
            ),
            (
                "struct string { x: int }\nfn main() {}",
                &["builtin-type-name"],
            ),
            ("fn f(x: Nope) {}\nfn main() {}", &["unknown-type"]),
            (
                "fn f(m: Map[[int], int]) {}\nfn main() {}",
                &["invalid-map-key"],
            ),
            ("fn f() {}", &["missing-main"]),
            ("fn main(x: int) {}", &["invalid-main"]),
        ]);
    }
}
