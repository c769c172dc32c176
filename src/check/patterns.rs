//! `match`: patterns, their bindings, and exhaustiveness.

use super::*;

impl<'a> Checker<'a, '_> {
    pub(super) fn check_match(
        &mut self,
        e: &'a Expr,
        scrutinee: &'a Expr,
        arms: &'a [MatchArm],
        want: Option<&Type>,
    ) -> Type {
        let st = self.check_expr(scrutinee, ANY);
        // Arms of a match whose value must be an optional each fit it on
        // their own (`Ok(v) => v, Err(_) => nil` for a `T?`).
        if let Some(w @ Type::Optional(_)) = want.filter(|w| !w.contains_error()) {
            let mut all_diverge = true;
            for arm in arms {
                self.push_scope();
                self.check_pattern(&arm.pattern, &st);
                let t = self.check_expr(&arm.body, Some(w));
                self.coerce(&arm.body, &t, w);
                self.pop_scope();
                all_diverge &= t == Type::Never;
            }
            self.check_exhaustive(e, &st, arms);
            if all_diverge && !arms.is_empty() {
                return Type::Never;
            }
            return w.clone();
        }
        let mut result: Option<Type> = None;
        let mut all_diverge = true;
        for arm in arms {
            self.push_scope();
            self.check_pattern(&arm.pattern, &st);
            let hint = match (&result, want) {
                (Some(t), Some(_)) if !matches!(t, Type::Nil | Type::Never) => Some(t.clone()),
                _ => want.cloned(),
            };
            let t = self.check_expr(&arm.body, hint.as_ref());
            self.pop_scope();
            all_diverge &= t == Type::Never;
            if want.is_none() || t == Type::Never {
                continue;
            }
            match &result {
                None => result = Some(t),
                Some(Type::Nil) if matches!(t, Type::Optional(_)) => result = Some(t),
                Some(r) if fits(&t, r) => {}
                Some(r) => {
                    let r = r.clone();
                    self.error(
                        Diagnostic::error(
                            DiagId::BranchTypeMismatch,
                            "`match` arms have different types",
                        )
                        .with_label(arm.body.span, format!("this is a `{t}`"))
                        .with_label(arms[0].body.span, format!("the first arm is a `{r}`")),
                    );
                    result = Some(Type::Error);
                }
            }
        }
        self.check_exhaustive(e, &st, arms);
        if all_diverge && !arms.is_empty() {
            return Type::Never;
        }
        match want {
            None => Type::Unit,
            Some(_) => result.unwrap_or(Type::Unit),
        }
    }

    /// Checks a pattern against the type it matches, declaring its bindings.
    pub(super) fn check_pattern(&mut self, pat: &'a Pattern, ty: &Type) {
        let mismatch = |cx: &mut Self, span: Span, what: &str| {
            if !ty.contains_error() {
                cx.error(
                    Diagnostic::error(
                        DiagId::PatternTypeMismatch,
                        format!("a {what} pattern cannot match a `{ty}`"),
                    )
                    .with_label(span, "this pattern"),
                );
            }
        };
        match pat {
            Pattern::Wildcard(_) => {}
            Pattern::Binding(name) => {
                if let Type::Enum(id) = ty {
                    if let Some(tag) = self.out.structs[*id as usize].variant(&name.name) {
                        if self.out.structs[*id as usize].variants[tag].1.is_empty() {
                            self.out.pattern_variants.insert(name.span, (*id, tag));
                            return;
                        }
                    }
                }
                // The arm's scope holds only what its pattern binds so far.
                let first = self
                    .cx()
                    .scopes
                    .last()
                    .and_then(|scope| scope.get(&name.name))
                    .copied();
                if let Some(first) = first {
                    let mut d = Diagnostic::error(
                        DiagId::DuplicateBinding,
                        format!("the pattern binds `{}` twice", name.name),
                    )
                    .with_label(name.span, "bound again here");
                    if let Some(at) = self.local_span(first) {
                        d = d.with_label(at, "first bound here");
                    }
                    self.error(d);
                }
                self.new_local_by(name, ty.clone(), false, "a pattern binding");
            }
            Pattern::Int(_, span) => {
                if !matches!(ty, Type::Int | Type::Error) {
                    mismatch(self, *span, "integer");
                }
            }
            Pattern::Str(_, span) => {
                if !matches!(ty, Type::Str | Type::Error) {
                    mismatch(self, *span, "string");
                }
            }
            Pattern::Bool(_, span) => {
                if !matches!(ty, Type::Bool | Type::Error) {
                    mismatch(self, *span, "bool");
                }
            }
            Pattern::Nil(span) => {
                if !matches!(ty, Type::Optional(_) | Type::Error) {
                    mismatch(self, *span, "`nil`");
                }
            }
            Pattern::Variant { path, args, span } => {
                let Type::Enum(id) = ty else {
                    mismatch(self, *span, "variant");
                    for a in args {
                        self.check_pattern(a, &Type::Error);
                    }
                    return;
                };
                let id = *id;
                let last = path.last().map(|p| p.name.as_str()).unwrap_or("");
                // `V`, `E.V` or `module.E.V`, where `E` names the matched enum.
                let qualifier_ok = match &path[..path.len().saturating_sub(1)] {
                    [] => true,
                    q => match self.lookup_item(q) {
                        Some(ItemRef::Struct(s)) => s == id,
                        Some(ItemRef::GenericType(g)) => self.instance_of.get(&id) == Some(&g),
                        _ => false,
                    },
                };
                let info = &self.out.structs[id as usize];
                let Some(tag) = info.variant(last).filter(|_| qualifier_ok) else {
                    let ename = info.name.clone();
                    self.error(
                        Diagnostic::error(
                            DiagId::UnknownVariant,
                            format!("`{ename}` has no variant `{last}`"),
                        )
                        .with_label(*span, "not a variant of the matched enum"),
                    );
                    for a in args {
                        self.check_pattern(a, &Type::Error);
                    }
                    return;
                };
                let payload = info.variants[tag].1.clone();
                if payload.len() != args.len() {
                    self.error(
                        Diagnostic::error(
                            DiagId::WrongPatternArity,
                            format!(
                                "the variant `{last}` holds {} value{}, the pattern has {}",
                                payload.len(),
                                plural(payload.len()),
                                args.len()
                            ),
                        )
                        .with_label(*span, "wrong number of sub-patterns"),
                    );
                }
                self.out.pattern_variants.insert(*span, (id, tag));
                for (i, a) in args.iter().enumerate() {
                    let t = payload.get(i).cloned().unwrap_or(Type::Error);
                    self.check_pattern(a, &t);
                }
            }
        }
    }

    /// Every value of the scrutinee's type must be matched by some arm whose
    /// pattern cannot fail (nested refutable patterns do not count).
    pub(super) fn check_exhaustive(&mut self, e: &Expr, ty: &Type, arms: &[MatchArm]) {
        if ty.contains_error() {
            return;
        }
        let irrefutable = |cx: &Self, p: &Pattern| -> bool {
            fn go(cx_variants: &HashMap<Span, (StructId, usize)>, p: &Pattern) -> bool {
                match p {
                    Pattern::Wildcard(_) => true,
                    Pattern::Binding(n) => !cx_variants.contains_key(&n.span),
                    _ => false,
                }
            }
            go(&cx.out.pattern_variants, p)
        };
        if arms.iter().any(|a| irrefutable(self, &a.pattern)) {
            return;
        }
        let missing: Vec<String> = match ty {
            Type::Enum(id) => {
                let info = &self.out.structs[*id as usize];
                let mut covered = vec![false; info.variants.len()];
                for arm in arms {
                    let (span, args): (Span, &[Pattern]) = match &arm.pattern {
                        Pattern::Variant { span, args, .. } => (*span, args),
                        Pattern::Binding(n) => (n.span, &[]),
                        _ => continue,
                    };
                    if let Some(&(_, tag)) = self.out.pattern_variants.get(&span) {
                        if args.iter().all(|a| irrefutable(self, a)) {
                            covered[tag] = true;
                        }
                    }
                }
                info.variants
                    .iter()
                    .zip(&covered)
                    .filter(|(_, c)| !**c)
                    .map(|((n, p), _)| {
                        if p.is_empty() {
                            n.clone()
                        } else {
                            format!("{n}(..)")
                        }
                    })
                    .collect()
            }
            Type::Bool => {
                let has = |b: bool| {
                    arms.iter()
                        .any(|a| matches!(a.pattern, Pattern::Bool(v, _) if v == b))
                };
                [true, false]
                    .iter()
                    .filter(|b| !has(**b))
                    .map(|b| b.to_string())
                    .collect()
            }
            Type::Optional(_) if arms.iter().any(|a| matches!(a.pattern, Pattern::Nil(_))) => {
                vec!["a non-nil value".into()]
            }
            _ => vec!["`_`".into()],
        };
        if !missing.is_empty() {
            self.error(
                Diagnostic::error(
                    DiagId::NonExhaustiveMatch,
                    format!("this `match` does not cover {}", missing.join(", ")),
                )
                .with_label(e.span, "some values match no arm")
                .with_note("add the missing arms, or a `_ => ...` arm"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::expect_ids;

    #[test]
    fn exhaustiveness_and_bindings() {
        let e = "enum E { A(int), B, C }\n";
        expect_ids(&[
            (&format!("{e}fn f(x: E) -> int {{ return match x {{ E.A(n) => n, E.B => 1, E.C => 2 }} }}\nfn main() {{}}"), &[]),
            (&format!("{e}fn f(x: E) -> int {{ return match x {{ E.A(n) => n, _ => 0 }} }}\nfn main() {{}}"), &[]),
            (&format!("{e}fn f(x: E) -> int {{ return match x {{ E.A(n) => n, E.B => 1 }} }}\nfn main() {{}}"), &["non-exhaustive-match"]),
            (&format!("{e}fn f(x: E) -> int {{ return match x {{ E.A(n, m) => n, _ => 0 }} }}\nfn main() {{}}"), &["wrong-pattern-arity"]),
            ("fn f(x: int) -> int { return match x { \"a\" => 1, _ => 0 } }\nfn main() {}", &["pattern-type-mismatch"]),
            ("fn f(x: int) -> int { return match x { 1 => 1 } }\nfn main() {}", &["non-exhaustive-match"]),
        ]);
    }
}
