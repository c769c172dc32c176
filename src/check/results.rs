//! `Result` (the prelude's) and the operators on it and on optionals that
//! the TIR desugars: `r!` (the value, or a panic with `str(e)`) and `?`
//! (the value, or return early with the error or nil).

use super::*;

impl<'a> Checker<'a, '_> {
    /// The prelude's `Result` enum, if this program has the prelude.
    fn result_type(&self) -> Option<u32> {
        let p = self.prelude?;
        match self.items[p as usize].get("Result")? {
            ItemRef::GenericType(g) => Some(*g),
            _ => None,
        }
    }

    /// For an instance of `Result[T, E]`: its id, `T` and `E`.
    pub(super) fn result_parts(&self, t: &Type) -> Option<(StructId, Type, Type)> {
        let Type::Enum(id) = t else {
            return None;
        };
        if self.instance_of.get(id) != Some(&self.result_type()?) {
            return None;
        }
        match self.out.structs[*id as usize].type_args.as_slice() {
            [ok, err] => Some((*id, ok.clone(), err.clone())),
            _ => None,
        }
    }

    /// `x?`: on a `Result` in a function returning a `Result` with the same
    /// error type, or on an optional in a function returning an optional.
    pub(super) fn check_try(&mut self, e: &Expr, inner: &'a Expr) -> Type {
        let t = self.check_expr(inner, ANY);
        if t.contains_error() || t == Type::Never {
            return Type::Error;
        }
        let (ret, in_gen, in_defer) = {
            let cx = self.cx();
            (cx.ret.clone(), cx.yields.is_some(), cx.in_defer)
        };
        let fail = |cx: &mut Self, msg: String, label: String| {
            cx.error(Diagnostic::error(DiagId::InvalidTry, msg).with_label(e.span, label));
            Type::Error
        };
        if in_defer {
            return fail(
                self,
                "`?` cannot leave a `defer`".into(),
                "a `defer` runs to its end".into(),
            );
        }
        if in_gen {
            return fail(
                self,
                "`?` cannot return early from a generator".into(),
                "a `gen fn` returns nothing".into(),
            );
        }
        if let Some((result, ok, err)) = self.result_parts(&t) {
            let Some((ret_id, _, ret_err)) = self.result_parts(&ret) else {
                return fail(
                    self,
                    format!("`?` on a `{t}` needs a function that returns a `Result[_, {err}]`"),
                    format!("this function returns `{ret}`"),
                );
            };
            if ret_err != err {
                return fail(
                    self,
                    format!("`?` would return an error `{err}` from a function whose errors are `{ret_err}`"),
                    format!("this is a `{t}`"),
                );
            }
            let (ok_l, err_l) = (
                self.hidden_local("ok", ok.clone()),
                self.hidden_local("err", err),
            );
            let d = Desugar::TryResult {
                result,
                ok: ok_l,
                err: err_l,
                ret: ret_id,
            };
            self.out.desugars.insert(e.id, d);
            return ok;
        }
        match t {
            Type::Optional(value) => {
                if !matches!(ret, Type::Optional(_)) {
                    return fail(
                        self,
                        format!(
                            "`?` on a `{}?` needs a function that returns an optional",
                            value
                        ),
                        format!("this function returns `{ret}`"),
                    );
                }
                let local = self.hidden_local("value", (*value).clone());
                self.out
                    .desugars
                    .insert(e.id, Desugar::TryOptional { value: local });
                *value
            }
            other => {
                self.error(
                    Diagnostic::error(
                        DiagId::NotOptional,
                        format!("cannot use `?` on a `{other}`"),
                    )
                    .with_label(e.span, "`?` takes a `Result` or an optional `T?`"),
                );
                Type::Error
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::expect_ids;

    const PARSE: &str = "fn parse(s: string) -> Result[int, string] { return Ok(1) }\n";

    #[test]
    fn results_try_and_unwrap() {
        let cases: [(&str, &[&str]); 9] = [
            ("fn main() { let r = parse(\"1\")\n let v: int = r!\n let b: bool = r.is_ok() }", &[]),
            ("fn f() -> Result[int, string] { let v = parse(\"1\")?\n return Ok(v) }\nfn main() {}", &[]),
            ("fn f(xs: [int]) -> int? { let v = xs.pop()?\n return v }\nfn main() {}", &[]),
            ("fn main() { let r: Result[int, string] = Err(\"x\")\n match r { Ok(v) => {}, Err(e) => {} } }", &[]),
            ("fn f() -> int { let v = parse(\"1\")?\n return v }\nfn main() {}", &["invalid-try"]),
            ("fn f() -> Result[int, int] { let v = parse(\"1\")?\n return Ok(v) }\nfn main() {}", &["invalid-try"]),
            ("fn f() -> int { let v = [1].pop()?\n return v }\nfn main() {}", &["invalid-try"]),
            ("fn f() -> int? { let v = 1?\n return v }\nfn main() {}", &["not-optional"]),
            ("fn main() { let r = Ok(1) }", &["cannot-infer-type"]),
        ];
        for (src, ids) in cases {
            expect_ids(&[(&format!("{PARSE}{src}"), ids)]);
        }
    }
}
