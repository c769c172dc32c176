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
            let params = sig
                .params
                .iter()
                .map(|p| match &p.ty {
                    Some(t) => self.resolve_type(t),
                    None => Type::Error,
                })
                .collect();
            let ret = match &sig.ret {
                Some(t) => self.resolve_type(t),
                None => Type::Unit,
            };
            methods.push(IfaceMethod {
                name: sig.name.name.clone(),
                params,
                ret,
                span: sig.name.span,
            });
        }
        self.out.interfaces[id as usize].methods = methods;
    }

    /// `impl I for S`, once every method is declared: every method of `I`
    /// (from this block, or else from another `impl` of `S`, so one method
    /// serves every interface that names it, as in Go), with `I`'s
    /// signature, and nothing in the block that `I` lacks.
    pub(super) fn check_impl(&mut self, target: StructId, imp: &'a ImplDecl, path: &[Ident]) {
        let at = path.last().map(|p| p.span).unwrap_or(imp.span);
        let iface = match self.lookup_item(path) {
            Some(ItemRef::Interface(i)) => i,
            _ => {
                self.error(
                    Diagnostic::error(
                        DiagId::UnknownInterface,
                        format!("unknown interface `{}`", path_text(path)),
                    )
                    .with_label(at, "not an interface in scope"),
                );
                return;
            }
        };
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
            let declared = match decl {
                Some(f) => self.out.structs[target as usize]
                    .methods
                    .get(&f.name.name)
                    .copied()
                    .filter(|&id| self.out.fns[id as usize].span == f.name.span)
                    .map(|id| (f, id)),
                None => self.out.structs[target as usize]
                    .methods
                    .get(&m.name)
                    .copied()
                    .and_then(|id| match self.out.fns[id as usize].source {
                        FnSource::Decl(f) => Some((f, id)),
                        _ => None,
                    }),
            };
            let Some((f, id)) = declared else {
                if decl.is_none()
                    && !self.out.structs[target as usize]
                        .methods
                        .contains_key(&m.name)
                {
                    self.error(
                        Diagnostic::error(
                            DiagId::MissingInterfaceMethod,
                            format!("`{sname}` does not implement `{}.{}`", info.name, m.name),
                        )
                        .with_label(imp.target.span, format!("`{}` is missing", m.name))
                        .with_label(m.span, "declared in the interface here"),
                    );
                }
                ok = false;
                continue;
            };
            let fi = &self.out.fns[id as usize];
            let takes_self = f.params.first().is_some_and(|p| p.ty.is_none());
            let params = fi.param_types.get(1..).unwrap_or_default();
            let same = takes_self
                && f.kind == FnKind::Plain
                && params.len() == m.params.len()
                && params
                    .iter()
                    .zip(&m.params)
                    .all(|(a, b)| a == b || a.is_error() || b.is_error())
                && (fi.ret == m.ret || fi.ret.is_error() || m.ret.is_error());
            if !same {
                let want = Type::Func(m.params.clone(), Box::new(m.ret.clone()));
                self.error(
                    Diagnostic::error(
                        DiagId::InterfaceSignatureMismatch,
                        format!(
                            "`{sname}.{}` does not have the signature `{}` wants",
                            m.name, info.name
                        ),
                    )
                    .with_label(
                        f.name.span,
                        format!("`{}` wants `{want}` after `self`", info.name),
                    )
                    .with_label(m.span, "declared in the interface here"),
                );
                ok = false;
                continue;
            }
            table.push(id);
        }
        for f in &imp.methods {
            if !info.methods.iter().any(|m| m.name == f.name.name) {
                self.error(
                    Diagnostic::error(
                        DiagId::MethodNotInInterface,
                        format!("`{}` is not a method of `{}`", f.name.name, info.name),
                    )
                    .with_label(f.name.span, "not in the interface")
                    .with_note(format!("put it in a separate `impl {sname} {{ ... }}`")),
                );
                ok = false;
            }
        }
        if ok {
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
        let at = path.last().map(|p| p.span).unwrap_or(imp.span);
        let iface = match self.lookup_item(path) {
            Some(ItemRef::Interface(i)) => i,
            _ => {
                self.error(
                    Diagnostic::error(
                        DiagId::UnknownInterface,
                        format!("unknown interface `{}`", path_text(path)),
                    )
                    .with_label(at, "not an interface in scope"),
                );
                return None;
            }
        };
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
                self.error(
                    Diagnostic::error(
                        DiagId::MissingInterfaceMethod,
                        format!("`{tname}` does not implement `{}.{}`", info.name, m.name),
                    )
                    .with_label(imp.target.span, format!("`{}` is missing", m.name))
                    .with_label(m.span, "declared in the interface here"),
                );
                ok = false;
            }
        }
        for f in &imp.methods {
            if !info.methods.iter().any(|m| m.name == f.name.name) {
                self.error(
                    Diagnostic::error(
                        DiagId::MethodNotInInterface,
                        format!("`{}` is not a method of `{}`", f.name.name, info.name),
                    )
                    .with_label(f.name.span, "not in the interface"),
                );
                ok = false;
            }
        }
        ok.then_some(iface)
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
                let Some(MethodRef::Fn(f)) = self.method_of(s, &m.name) else {
                    break;
                };
                let fi = &self.out.fns[f as usize];
                let takes_self = matches!(fi.source, FnSource::Decl(d) if d.params.first().is_some_and(|p| p.ty.is_none()));
                let params = fi.param_types.get(1..).unwrap_or_default();
                let same = takes_self
                    && !fi.is_async
                    && fi.yields.is_none()
                    && params == m.params.as_slice()
                    && fi.ret == m.ret;
                if !same {
                    let at = imp
                        .methods
                        .iter()
                        .find(|d| d.name.name == m.name)
                        .map(|d| d.name.span)
                        .unwrap_or(imp.target.span);
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
                    break;
                }
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
        let iface = match expected {
            Type::Interface(i) => *i,
            Type::Optional(inner) => match **inner {
                Type::Interface(i) => i,
                _ => return None,
            },
            _ => return None,
        };
        match actual {
            Type::Struct(s) | Type::Enum(s) if self.implements(actual, iface) => {
                Some(Coercion::ToInterface { iface, from: *s })
            }
            _ => None,
        }
    }

    /// The note for a value that does not implement the interface wanted.
    pub(super) fn not_implemented_note(&self, actual: &Type, expected: &Type) -> Option<String> {
        let iface = match expected {
            Type::Interface(i) => *i,
            Type::Optional(inner) => match **inner {
                Type::Interface(i) => i,
                _ => return None,
            },
            _ => return None,
        };
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
                let iface = match self.lookup_item(path) {
                    Some(ItemRef::Interface(i)) => i,
                    _ => {
                        let span = path.last().map(|p| p.span).unwrap_or(at);
                        self.error(
                            Diagnostic::error(
                                DiagId::UnknownInterface,
                                format!("unknown interface `{}`", path_text(path)),
                            )
                            .with_label(span, "not an interface in scope"),
                        );
                        ok = false;
                        continue;
                    }
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
