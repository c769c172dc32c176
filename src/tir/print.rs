//! The TIR as text (`weft build --emit tir`): a line per struct or enum
//! (each instance of a generic one too), then one block per function,
//! locals as `name#id`, functions by symbol, and every expression that is
//! not a literal or a local followed by its type (`: T`).

use super::*;
use crate::check::Typed;
use std::fmt::Write;

pub fn print(p: &Program, typed: &Typed) -> String {
    let mut out = Printer {
        typed,
        text: String::new(),
        depth: 0,
    };
    for (id, info) in typed.structs.iter().enumerate() {
        out.type_def(id, info);
    }
    for f in &p.fns {
        out.function(f);
    }
    out.text
}

struct Printer<'t, 'a> {
    typed: &'t Typed<'a>,
    text: String,
    depth: usize,
}

impl Printer<'_, '_> {
    fn local(&self, l: LocalId) -> String {
        match self.typed.locals.get(l as usize) {
            Some(info) => format!("{}#{l}", info.name),
            None => format!("?#{l}"),
        }
    }

    fn line(&mut self, s: &str) {
        for _ in 0..self.depth {
            self.text.push_str("  ");
        }
        self.text.push_str(s);
        self.text.push('\n');
    }

    /// `struct Pair[int, string] #0 { first: int, second: string }`, or an
    /// enum with its variants' payloads: one line per type (instances of
    /// generic types are types of their own).
    fn type_def(&mut self, id: usize, info: &crate::check::StructInfo) {
        let body: Vec<String> = if info.is_enum {
            let variant = |(name, payload): &(String, Vec<Type>)| {
                let ts: Vec<String> = payload.iter().map(|t| t.to_string()).collect();
                match ts.is_empty() {
                    true => name.clone(),
                    false => format!("{name}({})", ts.join(", ")),
                }
            };
            info.variants.iter().map(variant).collect()
        } else {
            let field = |(name, t): &(String, Type)| format!("{name}: {t}");
            info.fields.iter().map(field).collect()
        };
        let kind = if info.is_enum { "enum" } else { "struct" };
        self.line(&format!(
            "{kind} {} #{id} {{ {} }}\n",
            info.name,
            body.join(", ")
        ));
    }

    fn function(&mut self, f: &Function) {
        let kind = match f.kind {
            FnKind::Plain => "fn",
            FnKind::Closure => "closure",
            FnKind::Async => "async fn",
            FnKind::Gen => "gen fn",
        };
        let params: Vec<String> = f
            .params
            .iter()
            .zip(&f.param_types)
            .map(|(&l, t)| format!("{}: {t}", self.local(l)))
            .collect();
        let ret = if f.kind == FnKind::Gen {
            "yields"
        } else {
            "->"
        };
        let mut head = format!(
            "{kind} {} #{}({}) {ret} {}",
            f.symbol,
            f.id,
            params.join(", "),
            f.ret
        );
        if !f.captures.is_empty() {
            let caps: Vec<String> = f.captures.iter().map(|&l| self.local(l)).collect();
            let _ = write!(head, " captures [{}]", caps.join(", "));
        }
        self.line(&format!("{head} {{"));
        self.stmts(&f.body);
        self.line("}");
        self.text.push('\n');
    }

    fn stmts(&mut self, b: &Block) {
        self.depth += 1;
        for s in &b.stmts {
            self.stmt(s);
        }
        self.depth -= 1;
    }

    fn braced(&mut self, head: &str, b: &Block) {
        self.line(&format!("{head} {{"));
        self.stmts(b);
        self.line("}");
    }

    fn stmt(&mut self, s: &Stmt) {
        match s {
            Stmt::Let { local, value } => {
                let v = self.expr(value);
                self.line(&format!("let {} = {v}", self.local(*local)));
            }
            Stmt::Assign { target, op, value } => {
                let op = op.map_or("=".to_string(), |o| format!("{}=", o.symbol()));
                let (t, v) = (self.expr(target), self.expr(value));
                self.line(&format!("{t} {op} {v}"));
            }
            Stmt::Expr(e) => {
                let e = self.expr(e);
                self.line(&e);
            }
            Stmt::While { cond, body } => {
                let c = self.expr(cond);
                self.braced(&format!("while {c}"), body);
            }
            Stmt::WhileLet { local, value, body } => {
                let v = self.expr(value);
                self.braced(&format!("while let {} = {v}", self.local(*local)), body);
            }
            Stmt::Loop(body) => self.braced("loop", body),
            Stmt::For { local, iter, body } => {
                let it = match iter {
                    Iter::Range {
                        start,
                        end,
                        inclusive,
                    } => {
                        let dots = if *inclusive { "..=" } else { ".." };
                        format!("range {}{dots}{}", self.expr(start), self.expr(end))
                    }
                    Iter::Array(a) => format!("array {}", self.expr(a)),
                    Iter::Gen(g) => format!("generator {}", self.expr(g)),
                };
                self.braced(&format!("for {} in {it}", self.local(*local)), body);
            }
            Stmt::Break(0) => self.line("break"),
            Stmt::Continue(0) => self.line("continue"),
            Stmt::Break(n) => self.line(&format!("break {n}")),
            Stmt::Continue(n) => self.line(&format!("continue {n}")),
            Stmt::Return(None) => self.line("return"),
            Stmt::Return(Some(v)) => {
                let v = self.expr(v);
                self.line(&format!("return {v}"));
            }
            Stmt::Yield(v) => {
                let v = self.expr(v);
                self.line(&format!("yield {v}"));
            }
            Stmt::Defer(e) => {
                let e = self.expr(e);
                self.line(&format!("defer {e}"));
            }
        }
    }

    fn block_text(&mut self, b: &Block) -> String {
        let saved = std::mem::take(&mut self.text);
        let depth = self.depth;
        self.depth = 0;
        self.stmts(b);
        self.depth = depth;
        let inner = std::mem::replace(&mut self.text, saved);
        let body: Vec<&str> = inner.lines().collect();
        format!(
            "{{ {} }}",
            body.iter().map(|l| l.trim()).collect::<Vec<_>>().join("; ")
        )
    }

    fn exprs(&mut self, es: &[Expr]) -> String {
        es.iter()
            .map(|e| self.expr(e))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn pattern(&self, p: &Pattern) -> String {
        match p {
            Pattern::Wildcard => "_".into(),
            Pattern::Binding(l) => self.local(*l),
            Pattern::Int(n) => n.to_string(),
            Pattern::Str(s) => format!("{s:?}"),
            Pattern::Bool(b) => b.to_string(),
            Pattern::Nil => "nil".into(),
            Pattern::Variant { enum_id, tag, args } if args.is_empty() => {
                self.variant(*enum_id, *tag)
            }
            Pattern::Variant { enum_id, tag, args } => {
                let args: Vec<String> = args.iter().map(|a| self.pattern(a)).collect();
                format!("{}({})", self.variant(*enum_id, *tag), args.join(", "))
            }
        }
    }

    fn variant(&self, enum_id: StructId, tag: usize) -> String {
        let info = &self.typed.structs[enum_id as usize];
        let v = info.variants.get(tag).map_or("?", |(n, _)| n.as_str());
        format!("{}.{v}", info.name)
    }

    fn expr(&mut self, e: &Expr) -> String {
        let typed = |s: String, t: &Type| format!("({s} : {t})");
        match &e.kind {
            ExprKind::Repeat(v, n) => typed(format!("[{}; {}]", self.expr(v), self.expr(n)), &e.ty),
            ExprKind::Global(g) => self.typed.globals[*g as usize].symbol.clone(),
            ExprKind::Int(v) => v.to_string(),
            ExprKind::Float(v) => format!("{v:?}"),
            ExprKind::Bool(v) => v.to_string(),
            ExprKind::Nil => typed("nil".into(), &e.ty),
            ExprKind::Str(parts) => {
                let mut s = String::from("\"");
                for p in parts {
                    match p {
                        StrPart::Lit(l) => s.push_str(&l.escape_debug().to_string()),
                        StrPart::Expr(x) => {
                            let x = self.expr(x);
                            let _ = write!(s, "{{{x}}}");
                        }
                        StrPart::Format(x, spec) => {
                            let x = self.expr(x);
                            let _ = write!(s, "{{{x}:{spec}}}");
                        }
                    }
                }
                s.push('"');
                s
            }
            ExprKind::Local(l) => self.local(*l),
            ExprKind::FnRef(f) => {
                typed(format!("fn {}", self.typed.fns[*f as usize].symbol), &e.ty)
            }
            ExprKind::Array(items) => typed(format!("[{}]", self.exprs(items)), &e.ty),
            ExprKind::Construct(args) => typed(format!("new({})", self.exprs(args)), &e.ty),
            ExprKind::StructLit { struct_id, fields } => {
                let info = &self.typed.structs[*struct_id as usize];
                let name = info.name.clone();
                let names: Vec<String> = fields
                    .iter()
                    .map(|(i, _)| info.fields.get(*i).map_or("?".into(), |(n, _)| n.clone()))
                    .collect();
                let values: Vec<String> = fields.iter().map(|(_, v)| self.expr(v)).collect();
                let body: Vec<String> = names
                    .iter()
                    .zip(values)
                    .map(|(n, v)| format!("{n}: {v}"))
                    .collect();
                format!("{name} {{ {} }}", body.join(", "))
            }
            ExprKind::Variant { enum_id, tag, args } => {
                let v = self.variant(*enum_id, *tag);
                if args.is_empty() {
                    v
                } else {
                    format!("{v}({})", self.exprs(args))
                }
            }
            ExprKind::Unary(op, x) => {
                let op = match op {
                    UnOp::Neg => "-",
                    UnOp::Not => "!",
                };
                typed(format!("{op}{}", self.expr(x)), &e.ty)
            }
            ExprKind::Binary(op, l, r) => {
                let (l, r) = (self.expr(l), self.expr(r));
                typed(format!("{l} {} {r}", op.symbol()), &e.ty)
            }
            ExprKind::Call {
                callee,
                receiver,
                callee_expr,
                args,
            } => {
                let target = match callee {
                    Callee::Fn(f) | Callee::Method(f) => self.typed.fns[*f as usize].symbol.clone(),
                    Callee::Indirect => {
                        let c = callee_expr.as_ref().map_or(String::new(), |c| self.expr(c));
                        format!("indirect {c}")
                    }
                    other => format!("{other:?}").to_lowercase(),
                };
                let mut all = Vec::new();
                if let Some(r) = receiver {
                    all.push(self.expr(r));
                }
                all.extend(args.iter().map(|a| self.expr(a)));
                typed(format!("call {target}({})", all.join(", ")), &e.ty)
            }
            ExprKind::Field { base, index } => {
                let b = self.expr(base);
                typed(format!("{b}.{index}"), &e.ty)
            }
            ExprKind::Index(b, i) => {
                let (b, i) = (self.expr(b), self.expr(i));
                typed(format!("{b}[{i}]"), &e.ty)
            }
            ExprKind::Unwrap(x) => typed(format!("{}!", self.expr(x)), &e.ty),
            ExprKind::If { cond, then, els } => {
                let c = self.expr(cond);
                let t = self.block_text(then);
                let els = els
                    .as_ref()
                    .map(|x| format!(" else {}", self.expr(x)))
                    .unwrap_or_default();
                typed(format!("if {c} {t}{els}"), &e.ty)
            }
            ExprKind::IfLet {
                local,
                value,
                then,
                els,
            } => {
                let v = self.expr(value);
                let t = self.block_text(then);
                let els = els
                    .as_ref()
                    .map(|x| format!(" else {}", self.expr(x)))
                    .unwrap_or_default();
                typed(
                    format!("if let {} = {v} {t}{els}", self.local(*local)),
                    &e.ty,
                )
            }
            ExprKind::Block(b) => self.block_text(b),
            ExprKind::Match(s, arms) => {
                let s = self.expr(s);
                let arms: Vec<String> = arms
                    .iter()
                    .map(|a| format!("{} => {}", self.pattern(&a.pattern), self.expr(&a.body)))
                    .collect();
                typed(format!("match {s} {{ {} }}", arms.join(", ")), &e.ty)
            }
            ExprKind::Closure(f) => typed(
                format!("closure {}", self.typed.fns[*f as usize].symbol),
                &e.ty,
            ),
            ExprKind::Await(_, x) => typed(format!("await {}", self.expr(x)), &e.ty),
            ExprKind::Spawn(x) => typed(format!("spawn {}", self.expr(x)), &e.ty),
            ExprKind::Select(arms, default) => {
                let mut arms: Vec<String> = arms
                    .iter()
                    .map(|a| {
                        let bind = a
                            .binding
                            .map(|b| format!("{} = ", self.local(b)))
                            .unwrap_or_default();
                        format!("{bind}{} => {}", self.expr(&a.op), self.block_text(&a.body))
                    })
                    .collect();
                if let Some(d) = default {
                    arms.push(format!("default => {}", self.block_text(d)));
                }
                format!("select {{ {} }}", arms.join(", "))
            }
            ExprKind::WrapOptional(x) => typed(format!("some {}", self.expr(x)), &e.ty),
            ExprKind::ToInterface(value) => {
                typed(format!("as {} {}", e.ty, self.expr(value)), &e.ty)
            }
            ExprKind::Error => "<error>".into(),
        }
    }
}
