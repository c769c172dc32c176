//! Scopes and locals: declaring, looking up, and which module a span is in.

use super::*;

impl<'a> Checker<'a, '_> {
    pub(super) fn cx(&mut self) -> &mut FnContext {
        self.ctx.last_mut().expect("inside a function")
    }

    pub(super) fn new_local(&mut self, name: &Ident, ty: Type, mutable: bool) -> LocalId {
        self.new_local_by(
            name,
            ty,
            mutable,
            if mutable {
                "a `var`"
            } else {
                "a `let` binding"
            },
        )
    }

    pub(super) fn new_local_by(
        &mut self,
        name: &Ident,
        ty: Type,
        mutable: bool,
        declared_by: &'static str,
    ) -> LocalId {
        let id = self.out.locals.len() as LocalId;
        self.out.locals.push(LocalInfo {
            name: name.name.clone(),
            ty,
            mutable,
            declared_by,
            captured: false,
        });
        self.out.decls.insert(name.span, id);
        if let Some(scope) = self.cx().scopes.last_mut() {
            scope.insert(name.name.clone(), id);
        }
        id
    }

    /// A local the program does not name, bound by a desugaring.
    pub(super) fn hidden_local(&mut self, name: &str, ty: Type) -> LocalId {
        let id = self.out.locals.len() as LocalId;
        self.out.locals.push(LocalInfo {
            name: name.to_string(),
            ty,
            mutable: false,
            declared_by: "a desugaring",
            captured: false,
        });
        id
    }

    /// Where a local was declared (only for diagnostics: a linear search).
    pub(super) fn local_span(&self, id: LocalId) -> Option<Span> {
        self.out
            .decls
            .iter()
            .find_map(|(span, &l)| (l == id).then_some(*span))
    }

    /// Finds a local, capturing it into every closure between its function and here.
    pub(super) fn lookup_local(&mut self, name: &str) -> Option<LocalId> {
        let depth = self.ctx.len();
        for level in (0..depth).rev() {
            let found = self.ctx[level]
                .scopes
                .iter()
                .rev()
                .find_map(|s| s.get(name).copied());
            if let Some(id) = found {
                if level + 1 < depth {
                    self.out.locals[id as usize].captured = true;
                    for inner in level + 1..depth {
                        let f = self.ctx[inner].fn_id as usize;
                        if !self.out.fns[f].captures.contains(&id) {
                            self.out.fns[f].captures.push(id);
                        }
                    }
                }
                return Some(id);
            }
        }
        None
    }

    pub(super) fn push_scope(&mut self) {
        self.cx().scopes.push(HashMap::new());
    }

    pub(super) fn pop_scope(&mut self) {
        self.cx().scopes.pop();
    }

    // ----- functions and statements --------------------------------------

    pub(super) fn module_of(&self, span: Span) -> ModId {
        self.modules
            .iter()
            .position(|m| m.file == span.file)
            .unwrap_or(0) as ModId
    }

    /// Looks a local up without capturing it.
    pub(super) fn lookup_local_quiet(&self, name: &str) -> Option<LocalId> {
        self.ctx
            .iter()
            .rev()
            .find_map(|c| c.scopes.iter().rev().find_map(|s| s.get(name).copied()))
    }
}
