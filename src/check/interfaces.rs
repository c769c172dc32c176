//! Interfaces: their declarations (names in pass 1, method signatures in
//! pass 3), `impl I for S` (checked against `I` once `S`'s methods are
//! declared, giving the method table in `I`'s order), the coercion of a
//! struct or enum value to an interface it implements, calls of an
//! interface value's methods (dynamic: through the value's table), and the
//! bounds of generic functions' type parameters (`T: Shape`), checked per
//! instance.

use super::generic_types::MethodRef;
use super::*;

/// The name of the prelude's interface that `str` and printing use.
pub const DISPLAY: &str = "Display";

impl<'a> Checker<'a, '_> {
    /// Pass 1: an interface's name, so type expressions can use it.
    pub(super) fn declare_interface(&mut self, m: usize, d: &'a InterfaceDecl) {
        if self.builtin_type_name(&d.name) || self.redefined(m, &d.name) {
            return;
        }
        let id = self.out.interfaces.len() as IfaceId;
        self.out.interfaces.push(InterfaceInfo {
            name: d.name.name.clone(),
            methods: Vec::new(),
            span: d.name.span,
        });
        IFACE_NAMES.with(|n| n.borrow_mut().push(d.name.name.clone()));
        self.items[m].insert(d.name.name.clone(), ItemRef::Interface(id));
        if self.prelude == Some(m as ModId) && d.name.name == DISPLAY {
            self.out.display = Some(id);
        }
    }

    /// Pass 3: an interface's method signatures.
    pub(super) fn resolve_interface(&mut self, m: usize, d: &'a InterfaceDecl) {
        let id = match self.items[m].get(&d.name.name) {
            Some(&ItemRef::Interface(id))
                if self.out.interfaces[id as usize].span == d.name.span =>
            {
                id
            }
            _ => return,
        };
        let mut methods: Vec<IfaceMethod> = Vec::new();
        for sig in &d.methods {
            if sig.kind != FnKind::Plain {
                self.error(unsupported(
                    "an `async` or `gen` method in an interface",
                    sig.span,
                ));
                continue;
            }
            if let Some(prev) = methods.iter().find(|x| x.name == sig.name.name) {
                let prev = prev.span;
                self.error(
                    Diagnostic::error(
                        DiagId::DuplicateDefinition,
                        format!("`{}` is declared twice in `{}`", sig.name.name, d.name.name),
                    )
                    .with_label(sig.name.span, "declared again here")
                    .with_label(prev, "first declared here"),
                );
                continue;
            }
            let (params, ret) = self.signature_types(&sig.params, sig.ret.as_ref());
            methods.push(IfaceMethod {
                name: sig.name.name.clone(),
                params,
                ret,
                span: sig.name.span,
            });
        }
        self.out.interfaces[id as usize].methods = methods;
    }

    /// The interface `path` names, or `error[unknown-interface]` at it
    /// (at `at` when the path is empty).
    fn interface_named(&mut self, path: &[Ident], at: Span) -> Option<IfaceId> {
        if let Some(ItemRef::Interface(i)) = self.lookup_item(path) {
            return Some(i);
        }
        let at = path.last().map(|p| p.span).unwrap_or(at);
        self.error(
            Diagnostic::error(
                DiagId::UnknownInterface,
                format!("unknown interface `{}`", path_text(path)),
            )
            .with_label(at, "not an interface in scope"),
        );
        None
    }

    /// Whether method `f` has `m`'s signature: a plain method taking
    /// `self`, then `m`'s parameters and result (an error type fits, as it
    /// was reported already).
    fn fits_interface(&self, f: FnId, m: &IfaceMethod) -> bool {
        let fi = &self.out.fns[f as usize];
        let takes_self = matches!(fi.source,
            FnSource::Decl(d) if d.params.first().is_some_and(|p| p.ty.is_none()));
        let same = |a: &Type, b: &Type| a == b || a.is_error() || b.is_error();
        let params = fi.param_types.get(1..).unwrap_or_default();
        takes_self
            && !fi.is_async
            && fi.yields.is_none()
            && params.len() == m.params.len()
            && params.iter().zip(&m.params).all(|(a, b)| same(a, b))
            && same(&fi.ret, &m.ret)
    }

    fn signature_mismatch(&mut self, sname: &str, info: &InterfaceInfo, m: &IfaceMethod, at: Span) {
        let want = Type::Func(m.params.clone(), Box::new(m.ret.clone()));
        self.error(
            Diagnostic::error(
                DiagId::InterfaceSignatureMismatch,
                format!(
                    "`{sname}.{}` does not have the signature `{}` wants",
                    m.name, info.name
                ),
            )
            .with_label(at, format!("`{}` wants `{want}` after `self`", info.name))
            .with_label(m.span, "declared in the interface here"),
        );
    }

    fn missing_method(
        &mut self,
        tname: &str,
        info: &InterfaceInfo,
        m: &IfaceMethod,
        imp: &ImplDecl,
    ) {
        self.error(
            Diagnostic::error(
                DiagId::MissingInterfaceMethod,
                format!("`{tname}` does not implement `{}.{}`", info.name, m.name),
            )
            .with_label(imp.target.span, format!("`{}` is missing", m.name))
            .with_label(m.span, "declared in the interface here"),
        );
    }

    /// The block's methods that `info` does not declare, each an error;
    /// whether there were none.
    fn no_extra_methods(&mut self, tname: &str, info: &InterfaceInfo, imp: &ImplDecl) -> bool {
        let mut ok = true;
        for f in &imp.methods {
            if !info.methods.iter().any(|m| m.name == f.name.name) {
                self.error(
                    Diagnostic::error(
                        DiagId::MethodNotInInterface,
                        format!("`{}` is not a method of `{}`", f.name.name, info.name),
                    )
                    .with_label(f.name.span, "not in the interface")
                    .with_note(format!("put it in a separate `impl {tname} {{ ... }}`")),
                );
                ok = false;
            }
        }
        ok
    }

    /// `impl I for S`, once every method is declared: every method of `I`
    /// (from this block, or else from another `impl` of `S`, so one method
    /// serves every interface that names it, as in Go), with `I`'s
    /// signature, and nothing in the block that `I` lacks.
    pub(super) fn check_impl(&mut self, target: StructId, imp: &'a ImplDecl, path: &[Ident]) {
        let Some(iface) = self.interface_named(path, imp.span) else {
            return;
        };
        let at = path.last().map(|p| p.span).unwrap_or(imp.span);
        let sname = self.out.structs[target as usize].name.clone();
        let info = self.out.interfaces[iface as usize].clone();
        if self.out.impls.contains_key(&(target, iface)) {
            self.error(
                Diagnostic::error(
                    DiagId::DuplicateDefinition,
                    format!("`{sname}` implements `{}` twice", info.name),
                )
                .with_label(at, "implemented again here"),
            );
            return;
        }
        let mut table = Vec::new();
        let mut ok = true;
        for m in &info.methods {
            // In this block, or else a method of `S` from another `impl`.
            let decl = imp.methods.iter().find(|f| f.name.name == m.name);
            let found = self.out.structs[target as usize]
                .methods
                .get(&m.name)
                .copied();
            let Some(id) = found else {
                self.missing_method(&sname, &info, m, imp);
                ok = false;
                continue;
            };
            // Declared in this block, but not as this method (a duplicate).
            if decl.is_some_and(|f| self.out.fns[id as usize].span != f.name.span) {
                ok = false;
                continue;
            }
            if !self.fits_interface(id, m) {
                let at = self.out.fns[id as usize].span;
                self.signature_mismatch(&sname, &info, m, at);
                ok = false;
                continue;
            }
            table.push(id);
        }
        if self.no_extra_methods(&sname, &info, imp) && ok {
            self.out.impls.insert((target, iface), table);
        }
    }

    /// `impl[T] I for S[T]`, checked once every `impl` is declared: the
    /// interface exists, the type has each of its methods (in this block or
    /// another) and the block no other (their signatures depend on the
    /// instance: `instance_impls` compares them).
    pub(super) fn generic_impl_names(
        &mut self,
        g: u32,
        imp: &'a ImplDecl,
        path: &[Ident],
    ) -> Option<IfaceId> {
        let iface = self.interface_named(path, imp.span)?;
        let info = self.out.interfaces[iface as usize].clone();
        let tname = imp.target.name.clone();
        let mut ok = true;
        for m in &info.methods {
            // In this block, or in another `impl` of the type.
            let elsewhere = self.generic_types[g as usize]
                .methods
                .iter()
                .any(|t| t.decl.name.name == m.name);
            if !imp.methods.iter().any(|f| f.name.name == m.name) && !elsewhere {
                self.missing_method(&tname, &info, m, imp);
                ok = false;
            }
        }
        (self.no_extra_methods(&tname, &info, imp) && ok).then_some(iface)
    }

    /// An instance of a generic type that implements interfaces: its
    /// methods for them instantiated and compared with the interfaces'
    /// signatures, once per instance.
    pub(super) fn instance_impls(&mut self, s: StructId) {
        if !self.impls_done.insert(s) {
            return;
        }
        let Some(&g) = self.instance_of.get(&s) else {
            return;
        };
        if self.out.structs[s as usize]
            .type_args
            .iter()
            .any(|t| t.contains_error())
        {
            return;
        }
        let blocks = self.generic_types[g as usize].interfaces.clone();
        for (iface, imp) in blocks {
            let info = self.out.interfaces[iface as usize].clone();
            let sname = self.out.structs[s as usize].name.clone();
            let mut table = Vec::new();
            for m in &info.methods {
                let f = match self.method_of(s, &m.name) {
                    Some(MethodRef::Fn(f)) if self.fits_interface(f, m) => f,
                    // A method with type parameters of its own, or another signature.
                    _ => {
                        let at = imp
                            .methods
                            .iter()
                            .find(|d| d.name.name == m.name)
                            .map(|d| d.name.span)
                            .unwrap_or(imp.target.span);
                        self.signature_mismatch(&sname, &info, m, at);
                        break;
                    }
                };
                table.push(f);
            }
            if table.len() == info.methods.len() {
                self.out.impls.insert((s, iface), table);
            }
        }
    }

    /// Whether a value of type `t` can be used as interface `iface`.
    pub(super) fn implements(&mut self, t: &Type, iface: IfaceId) -> bool {
        if let Type::Struct(s) | Type::Enum(s) = t {
            self.instance_impls(*s);
        }
        match t {
            Type::Struct(s) | Type::Enum(s) => self.out.impls.contains_key(&(*s, iface)),
            Type::Interface(i) => *i == iface,
            Type::Error | Type::Never => true,
            _ => false,
        }
    }

    /// `actual` where `expected` (an interface, or an optional of one) is
    /// wanted: the coercion, if `actual` implements it.
    pub(super) fn interface_coercion(
        &mut self,
        actual: &Type,
        expected: &Type,
    ) -> Option<Coercion> {
        let iface = wanted_interface(expected)?;
        match actual {
            Type::Struct(_) | Type::Enum(_) if self.implements(actual, iface) => {
                Some(Coercion::ToInterface(iface))
            }
            _ => None,
        }
    }

    /// The note for a value that does not implement the interface wanted.
    pub(super) fn not_implemented_note(&self, actual: &Type, expected: &Type) -> Option<String> {
        let iface = wanted_interface(expected)?;
        let name = &self.out.interfaces[iface as usize].name;
        match actual {
            Type::Struct(_) | Type::Enum(_) => Some(format!(
                "`{actual}` does not implement `{name}`: add `impl {name} for {actual} {{ ... }}`"
            )),
            _ => Some(format!(
                "only structs and enums implement interfaces such as `{name}`"
            )),
        }
    }

    /// `v.m(args)` on a value of interface `iface`.
    pub(super) fn dynamic_call(
        &mut self,
        e: &'a Expr,
        iface: IfaceId,
        method: &Ident,
        args: &'a [Expr],
    ) -> Type {
        let info = &self.out.interfaces[iface as usize];
        let Some(index) = info.methods.iter().position(|m| m.name == method.name) else {
            let name = info.name.clone();
            for a in args {
                self.check_expr(a, ANY);
            }
            self.error(
                Diagnostic::error(
                    DiagId::UnknownMethod,
                    format!("`{name}` has no method `{}`", method.name),
                )
                .with_label(method.span, "not in the interface"),
            );
            return Type::Error;
        };
        let m = info.methods[index].clone();
        self.out
            .calls
            .insert(e.id, Callee::Dynamic { iface, index });
        self.check_args(e, &m.name, &m.params, args, Some(m.span));
        m.ret
    }

    /// A generic function's bounds, for the type arguments of one instance.
    pub(super) fn check_bounds(
        &mut self,
        decl: &'a FnDecl,
        module: ModId,
        targs: &[Type],
        at: Span,
    ) -> bool {
        let saved = self.module;
        self.module = module;
        let mut ok = true;
        for b in &decl.bounds {
            let Some(t) = targs.get(b.param) else {
                continue;
            };
            for path in &b.interfaces {
                let Some(iface) = self.interface_named(path, at) else {
                    ok = false;
                    continue;
                };
                if !self.implements(t, iface) {
                    let (p, name) = (
                        &decl.type_params[b.param].name,
                        self.out.interfaces[iface as usize].name.clone(),
                    );
                    self.error(
                        Diagnostic::error(
                            DiagId::UnsatisfiedBound,
                            format!("`{t}` does not implement `{name}`"),
                        )
                        .with_label(at, format!("`{p}` is `{t}` here"))
                        .with_label(
                            path[0].span,
                            format!("`{}` needs `{p}: {name}`", decl.name.name),
                        ),
                    );
                    ok = false;
                }
            }
        }
        self.module = saved;
        ok
    }
}

/// The interface an expected type asks for: an interface, or an optional of one.
fn wanted_interface(expected: &Type) -> Option<IfaceId> {
    match expected {
        Type::Interface(i) => Some(*i),
        Type::Optional(inner) => match **inner {
            Type::Interface(i) => Some(i),
            _ => None,
        },
        _ => None,
    }
}
