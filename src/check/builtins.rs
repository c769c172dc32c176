//! The built-in functions, and the intrinsics only the standard library may call.

use super::*;

impl<'a> Checker<'a, '_> {
    pub(super) fn builtin_call(
        &mut self,
        e: &'a Expr,
        callee: &Expr,
        name: &str,
        args: &'a [Expr],
    ) -> Type {
        if let Some(x) = self.externs[self.module as usize].get(name) {
            let ExternSig { rf, params, ret } = x.clone();
            self.out.calls.insert(e.id, Callee::Runtime(rf));
            self.check_args(e, name, &params, args, None);
            return ret;
        }
        if self.modules[self.module as usize].is_stdlib {
            if let Some(t) = self.stdlib_intrinsic(e, name, args) {
                return t;
            }
        }
        let builtin = match name {
            "print" => Builtin::Print,
            "println" => Builtin::Println,
            "eprintln" => Builtin::Eprintln,
            "exit" => Builtin::Exit,
            "int" => Builtin::ToInt,
            "float" => Builtin::ToFloat,
            "str" => Builtin::Str,
            "len" => Builtin::Len,
            "assert" => Builtin::Assert,
            "panic" => Builtin::Panic,
            "args" => Builtin::Args,
            "Bytes" => Builtin::Bytes,
            _ => {
                for a in args {
                    self.check_expr(a, ANY);
                }
                let d = if self.modules[self.module as usize]
                    .imports
                    .contains_key(name)
                {
                    Diagnostic::error(
                        DiagId::ModuleAsValue,
                        format!("`{name}` is a module, not a function"),
                    )
                    .with_label(callee.span, format!("call its functions as `{name}.f()`"))
                } else {
                    Diagnostic::error(
                        DiagId::UnknownName,
                        format!("cannot find function `{name}` in this scope"),
                    )
                    .with_label(callee.span, "not found")
                };
                self.error(d);
                return Type::Error;
            }
        };
        self.out.calls.insert(e.id, Callee::Builtin(builtin));
        let (min, max) = match builtin {
            Builtin::Println | Builtin::Eprintln => (0, 1),
            Builtin::Assert => (1, 2),
            Builtin::Args => (0, 0),
            Builtin::Bytes => (0, 1),
            _ => (1, 1),
        };
        let arg_types: Vec<Type> = args
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let hint = match (builtin, i) {
                    (Builtin::Exit | Builtin::Bytes, _) => Some(Type::Int),
                    (Builtin::Assert, 0) => Some(Type::Bool),
                    (Builtin::Assert, 1) | (Builtin::Panic, _) => Some(Type::Str),
                    _ => None,
                };
                // Every argument is a value (an `if` or `match` too).
                self.check_expr(a, hint.as_ref().or(ANY))
            })
            .collect();
        let result = match builtin {
            Builtin::Exit | Builtin::Panic => Type::Never,
            Builtin::ToInt | Builtin::Len => Type::Int,
            Builtin::ToFloat => Type::Float,
            Builtin::Str => Type::Str,
            Builtin::Args => Type::Array(Box::new(Type::Str)),
            Builtin::Bytes => Type::Bytes,
            _ => Type::Unit,
        };
        if args.len() < min || args.len() > max {
            let n = if min == max {
                format!("{min}")
            } else {
                format!("{min} or {max}")
            };
            self.error(
                Diagnostic::error(
                    DiagId::WrongArgumentCount,
                    format!(
                        "`{name}` takes {n} argument{} but {} {} given",
                        plural(max),
                        args.len(),
                        if args.len() == 1 { "was" } else { "were" }
                    ),
                )
                .with_label(e.span, "wrong number of arguments"),
            );
            return result;
        }
        let no_value = |cx: &mut Self, t: &Type, a: &Expr| {
            if matches!(t, Type::Unit) {
                cx.error(
                    Diagnostic::error(DiagId::NoValue, "this expression has no value")
                        .with_label(a.span, "produces no value"),
                );
            }
        };
        match builtin {
            Builtin::Print | Builtin::Println | Builtin::Eprintln | Builtin::Str => {
                if let (Some(t), Some(a)) = (arg_types.first(), args.first()) {
                    no_value(self, t, a);
                }
            }
            Builtin::Exit => self.expect(&arg_types[0], &Type::Int, args[0].span),
            Builtin::Bytes => {
                if let (Some(t), Some(a)) = (arg_types.first(), args.first()) {
                    self.expect(t, &Type::Int, a.span);
                }
            }
            Builtin::Panic => self.expect(&arg_types[0], &Type::Str, args[0].span),
            Builtin::Assert => {
                self.expect(&arg_types[0], &Type::Bool, args[0].span);
                if let (Some(t), Some(a)) = (arg_types.get(1), args.get(1)) {
                    self.expect(t, &Type::Str, a.span);
                }
            }
            Builtin::ToInt | Builtin::ToFloat => {
                if !matches!(
                    arg_types[0],
                    Type::Int | Type::Float | Type::Error | Type::Never
                ) {
                    let t = &arg_types[0];
                    self.error(
                        Diagnostic::error(
                            DiagId::InvalidConversion,
                            format!("cannot convert `{t}` with `{name}`"),
                        )
                        .with_label(
                            args[0].span,
                            "expected an `int` or a `float` (use strings.parse_int for strings)",
                        ),
                    );
                }
            }
            Builtin::Len => {
                if !matches!(
                    arg_types[0],
                    Type::Str
                        | Type::Bytes
                        | Type::Array(_)
                        | Type::Map(..)
                        | Type::Error
                        | Type::Never
                ) {
                    let t = &arg_types[0];
                    self.error(
                        Diagnostic::error(DiagId::InvalidOperand, format!("`len` of a `{t}`"))
                            .with_label(args[0].span, "expected a string, `Bytes`, array or map"),
                    );
                }
            }
            Builtin::Args => {}
        }
        result
    }

    /// `__sleep`, `__wait` (suspend points) and `__llvm_*` (float intrinsics), which
    /// only standard-library modules may call (runtime functions are `extern fn`).
    pub(super) fn stdlib_intrinsic(
        &mut self,
        e: &'a Expr,
        name: &str,
        args: &'a [Expr],
    ) -> Option<Type> {
        use Type::*;
        let (callee, params, ret) = match name {
            "__sleep" => {
                if !self.in_async() {
                    self.error(
                        Diagnostic::error(
                            DiagId::AwaitOutsideAsync,
                            "`__sleep` outside of an `async fn`",
                        )
                        .with_label(e.span, "only async functions can suspend"),
                    );
                }
                (Callee::Sleep, vec![Int], Unit)
            }
            "__wait" => {
                if !self.in_async() {
                    self.error(
                        Diagnostic::error(
                            DiagId::AwaitOutsideAsync,
                            "`__wait` outside of an `async fn`",
                        )
                        .with_label(e.span, "only async functions can suspend"),
                    );
                }
                (Callee::Wait, vec![Int], Unit)
            }
            "__yield" => {
                if !self.in_async() {
                    self.error(
                        Diagnostic::error(
                            DiagId::AwaitOutsideAsync,
                            "`__yield` outside of an `async fn`",
                        )
                        .with_label(e.span, "only async functions can suspend"),
                    );
                }
                (Callee::Yield, vec![], Unit)
            }
            "__supervise" => {
                if !self.in_async() {
                    self.error(
                        Diagnostic::error(
                            DiagId::AwaitOutsideAsync,
                            "`__supervise` outside of an `async fn`",
                        )
                        .with_label(e.span, "only an async function runs as a task"),
                    );
                }
                (Callee::Supervise, vec![], Unit)
            }
            "__running" => (Callee::Running, vec![], Int),
            _ => {
                let intrinsic: &'static str = match name {
                    "__llvm_sqrt" => "llvm.sqrt",
                    "__llvm_sin" => "llvm.sin",
                    "__llvm_cos" => "llvm.cos",
                    "__llvm_tan" => "llvm.tan",
                    "__llvm_exp" => "llvm.exp",
                    "__llvm_log" => "llvm.log",
                    "__llvm_log10" => "llvm.log10",
                    "__llvm_floor" => "llvm.floor",
                    "__llvm_ceil" => "llvm.ceil",
                    "__llvm_round" => "llvm.round",
                    "__llvm_trunc" => "llvm.trunc",
                    "__llvm_fabs" => "llvm.fabs",
                    "__llvm_pow" => "llvm.pow",
                    "__llvm_atan2" => "llvm.atan2",
                    "__llvm_minnum" => "llvm.minnum",
                    "__llvm_maxnum" => "llvm.maxnum",
                    _ => return None,
                };
                let arity = if matches!(
                    name,
                    "__llvm_pow" | "__llvm_atan2" | "__llvm_minnum" | "__llvm_maxnum"
                ) {
                    2
                } else {
                    1
                };
                (Callee::Intrinsic(intrinsic), vec![Float; arity], Float)
            }
        };
        self.out.calls.insert(e.id, callee);
        self.check_args(e, name, &params, args, None);
        Some(ret)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::expect_ids;

    #[test]
    fn built_in_functions() {
        expect_ids(&[
            ("fn main() { print(\"a\")\n println(1)\n let n = len([1])\n let s = str(1.5)\n let i = int(2.5) }", &[]),
            ("fn main() { let i = int([1]) }", &["invalid-conversion"]),
            ("fn main() { let n = len(1) }", &["invalid-operand"]),
            ("fn main() { __sleep(1) }", &["unknown-name"]),
            ("fn main() { let x = print(1) }", &["no-value"]),
        ]);
    }
}
