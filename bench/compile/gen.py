#!/usr/bin/env python3
"""Writes the `compile` workload: a generated Weft program and the same program in C.

    python3 bench/compile/gen.py --lines 10000 --out DIR

writes DIR/compile.weft (about --lines lines) and DIR/compile.c. Both print
the same lines: one result per generated function and a total, so the built
programs can be cross-checked. The program is many functions with loops,
integer and float arithmetic, bit operations, structs with methods, strings
(interpolation, concatenation, comparison), growable arrays and calls between
functions: only what Weft compiles today. Every value stays non-negative and
far from overflow, so C's signed arithmetic and Weft's wrapping agree. The
output is deterministic for a given --seed and --lines.
"""
import argparse
import os
import random
import sys

M = 1000003  # every accumulator is reduced modulo this prime
HCAP = 16  # most `add` calls on one struct value (the C struct's history capacity)


class Out:
    """Two parallel texts, Weft and C, with matching indentation."""

    def __init__(self):
        self.weft = []
        self.c = []

    def both(self, weft, c, depth=0, cdepth=None):
        if weft is not None:
            self.weft.append("    " * depth + weft)
        if c is not None:
            self.c.append("    " * (depth if cdepth is None else cdepth) + c)


class Func:
    """Generates the statements of one function `f{k}`."""

    def __init__(self, rnd, k, extras, nhelpers, out):
        self.rnd = rnd
        self.k = k
        self.out = out
        self.nhelpers = nhelpers
        self.u = 0  # unique suffix for local names
        self.pushes = 0  # elements pushed onto xs, for the C array's size
        self.adds = 0  # p.add calls, bounded by HCAP
        self.struct = rnd.randrange(len(extras))
        self.extra = extras[self.struct]

    def fresh(self):
        self.u += 1
        return self.u

    def c(self, lo=2, hi=97):
        return self.rnd.randint(lo, hi)

    def stmt(self, d):
        """One random statement (often a block) at depth d."""
        r, o = self.rnd, self.out
        kind = r.randrange(16)
        u = self.fresh()
        a, b = self.c(), self.c()
        if kind == 0:
            o.both(f"acc = (acc * {a} + {b}) % {M}", f"acc = (acc * {a} + {b}) % {M};", d)
        elif kind == 1:
            n = r.randint(3, 8)
            self.pushes += n
            o.both(f"for i{u} in 0..{n} {{", f"for (int64_t i{u} = 0; i{u} < {n}; i{u}++) {{", d)
            o.both(f"let t{u} = (acc + i{u} * {a}) % {M}", f"int64_t t{u} = (acc + i{u} * {a}) % {M};", d + 1)
            o.both(f"xs.push(t{u})", f"xs[xs_len++] = t{u};", d + 1)
            o.both(f"acc = (acc + t{u} / {b}) % {M}", f"acc = (acc + t{u} / {b}) % {M};", d + 1)
            o.both("}", "}", d)
        elif kind == 2:
            o.both(f"for x{u} in xs {{", f"for (int64_t j{u} = 0; j{u} < xs_len; j{u}++) {{", d)
            o.both(None, f"int64_t x{u} = xs[j{u}];", d + 1)
            o.both(f"acc = (acc + x{u} * {a}) % {M}", f"acc = (acc + x{u} * {a}) % {M};", d + 1)
            o.both("}", "}", d)
            o.both(
                f"if len(xs) > 2 {{ acc = (acc + xs[1] * {b} + xs[len(xs) - 1]) % {M} }}",
                f"if (xs_len > 2) {{ acc = (acc + xs[1] * {b} + xs[xs_len - 1]) % {M}; }}",
                d,
            )
        elif kind == 3:
            o.both(f"var w{u} = acc % 40", f"int64_t w{u} = acc % 40;", d)
            o.both(f"while w{u} > 0 {{", f"while (w{u} > 0) {{", d)
            o.both(f"if w{u} % 3 == 0 {{", f"if (w{u} % 3 == 0) {{", d + 1)
            o.both(f"acc = (acc + w{u} * {a}) % {M}", f"acc = (acc + w{u} * {a}) % {M};", d + 2)
            o.both(f"}} else if w{u} % 3 == 1 {{", f"}} else if (w{u} % 3 == 1) {{", d + 1)
            o.both(f"acc = (acc * {b} + 1) % {M}", f"acc = (acc * {b} + 1) % {M};", d + 2)
            o.both("} else {", "} else {", d + 1)
            o.both(f"acc = acc / 2 + w{u}", f"acc = acc / 2 + w{u};", d + 2)
            o.both("}", "}", d + 1)
            o.both(f"w{u} -= 1 + w{u} / 5", f"w{u} -= 1 + w{u} / 5;", d + 1)
            o.both("}", "}", d)
        elif kind == 4:
            m = self.c(5, 31)
            o.both(
                f'name = "k{{acc % 97}}-{{n % {m}}}"',
                f'snprintf(name, sizeof name, "k%lld-%lld", (long long)(acc % 97), (long long)(n % {m}));',
                d,
            )
            o.both(f"acc = (acc + len(name) * {a}) % {M}", f"acc = (acc + (int64_t)strlen(name) * {a}) % {M};", d)
        elif kind == 5:
            lit = f"k{r.randrange(97)}-{r.randrange(5)}"
            op = r.choice(["==", "!=", "<", ">"])
            o.both(
                f'if name {op} "{lit}" {{ acc = (acc + {a}) % {M} }} else {{ acc = (acc + {b}) % {M} }}',
                f'if (strcmp(name, "{lit}") {op} 0) {{ acc = (acc + {a}) % {M}; }} else {{ acc = (acc + {b}) % {M}; }}',
                d,
            )
        elif kind == 6:
            n = r.randint(3, 8)
            o.both(f'var sb{u} = ""', f'char sb{u}[64] = "";', d)
            o.both(f"for i{u} in 0..{n} {{", f"for (int64_t i{u} = 0; i{u} < {n}; i{u}++) {{", d)
            o.both(
                f"sb{u} = sb{u} + str(i{u} * {a} % 10)",
                f'snprintf(sb{u} + strlen(sb{u}), sizeof sb{u} - strlen(sb{u}), "%lld", (long long)(i{u} * {a} % 10));',
                d + 1,
            )
            o.both("}", "}", d)
            o.both(
                f'let g{u} = "<" + sb{u} + "|" + name + ">"',
                f'char g{u}[160]; snprintf(g{u}, sizeof g{u}, "<%s|%s>", sb{u}, name);',
                d,
            )
            o.both(f"acc = (acc + len(g{u}) * {b}) % {M}", f"acc = (acc + (int64_t)strlen(g{u}) * {b}) % {M};", d)
        elif kind == 7:
            if self.adds < HCAP:
                self.adds += 1
                o.both(f"p.add(acc % {a})", f"S{self.struct}_add(&p, acc % {a});", d)
            o.both(f"acc = (acc + p.score()) % {M}", f"acc = (acc + S{self.struct}_score(&p)) % {M};", d)
            o.both(f"p.a = (p.a + acc) % {M}", f"p.a = (p.a + acc) % {M};", d)
        elif kind == 8:
            h = r.randrange(self.nhelpers)
            o.both(f"acc = (acc + h{h}(acc, {a})) % {M}", f"acc = (acc + h{h}(acc, {a})) % {M};", d)
        elif kind == 9:
            o.both(
                f"let fl{u} = float(acc % 1000) * 0.5 + float({a}) / 4.0",
                f"double fl{u} = (double)(acc % 1000) * 0.5 + (double){a} / 4.0;",
                d,
            )
            o.both(f"acc = (acc + int(fl{u} * 1.5)) % {M}", f"acc = (acc + (int64_t)(fl{u} * 1.5)) % {M};", d)
        elif kind == 10:
            o.both(
                f"let b{u} = (acc % 2 == 0 && acc % 3 != 1) || acc > {a * 10}",
                f"int b{u} = (acc % 2 == 0 && acc % 3 != 1) || acc > {a * 10};",
                d,
            )
            o.both(
                f"if b{u} {{ acc = (acc + {a}) % {M} }} else {{ acc = (acc + {b}) % {M} }}",
                f"if (b{u}) {{ acc = (acc + {a}) % {M}; }} else {{ acc = (acc + {b}) % {M}; }}",
                d,
            )
        elif kind == 11:
            n1, n2 = r.randint(2, 6), r.randint(2, 6)
            o.both(f"for i{u} in 0..{n1} {{", f"for (int64_t i{u} = 0; i{u} < {n1}; i{u}++) {{", d)
            o.both(f"for j{u} in 0..{n2} {{", f"for (int64_t j{u} = 0; j{u} < {n2}; j{u}++) {{", d + 1)
            o.both(f"if (i{u} + j{u}) % 3 == 0 {{ continue }}", f"if ((i{u} + j{u}) % 3 == 0) {{ continue; }}", d + 2)
            o.both(f"acc = (acc + i{u} * j{u} + {a}) % {M}", f"acc = (acc + i{u} * j{u} + {a}) % {M};", d + 2)
            o.both("}", "}", d + 1)
            o.both("}", "}", d)
        elif kind == 12:
            o.both(
                f"acc = ((acc << 3) ^ (acc >> 2) ^ {a}) & 0xfffff",
                f"acc = ((acc << 3) ^ (acc >> 2) ^ {a}) & 0xfffff;",
                d,
            )
            o.both(f"acc = (acc | {b}) - (acc & {a})", f"acc = (acc | {b}) - (acc & {a});", d)
        elif kind == 13:
            o.both(
                f"if len(xs) > 0 {{ xs[0] = (xs[0] + acc) % {M} }}",
                f"if (xs_len > 0) {{ xs[0] = (xs[0] + acc) % {M}; }}",
                d,
            )
            o.both(
                f"acc = if acc % 2 == 0 {{ acc / 2 + {a} }} else {{ (acc * 3 + 1) % {M} }}",
                f"acc = acc % 2 == 0 ? acc / 2 + {a} : (acc * 3 + 1) % {M};",
                d,
            )
        elif kind == 14:
            n = r.randint(3, 12)
            q = self.c(5, 13)
            o.both(f"var q{u} = 0", f"int64_t q{u} = 0;", d)
            o.both("loop {", "for (;;) {", d)
            o.both(f"q{u} += 1", f"q{u} += 1;", d + 1)
            o.both(f"acc = (acc * {a} + q{u}) % {M}", f"acc = (acc * {a} + q{u}) % {M};", d + 1)
            o.both(f"if q{u} >= {n} || acc % {q} == 0 {{ break }}", f"if (q{u} >= {n} || acc % {q} == 0) {{ break; }}", d + 1)
            o.both("}", "}", d)
        else:
            cond = f"acc % {self.c(2, 5)} == 0"
            o.both(f"if {cond} {{", f"if ({cond}) {{", d)
            if d < 3:
                self.stmt(d + 1)
            o.both("} else {", "} else {", d)
            o.both(f"acc = (acc + {a} * {b}) % {M}", f"acc = (acc + {a} * {b}) % {M};", d + 1)
            o.both("}", "}", d)

    def emit(self, nstmts):
        """The whole function: header, locals, statements, result."""
        k, s = self.k, self.struct
        body = Out()
        saved, self.out = self.out, body
        if k % 5 != 0:
            body.both(f"acc = (acc + f{k - 1}(acc % 100)) % {M}", f"acc = (acc + f{k - 1}(acc % 100)) % {M};", 1)
        for _ in range(nstmts):
            self.stmt(1)
        self.out = saved
        o = self.out
        o.both(f"fn f{k}(n: int) -> int {{", f"static int64_t f{k}(int64_t n) {{")
        o.both(f"var acc = n % 1000 + {k}", f"int64_t acc = n % 1000 + {k};", 1)
        o.both("var xs = [int]()", f"int64_t xs[{max(4, self.pushes)}]; int64_t xs_len = 0;", 1)
        o.both(f'var name = "f{k}"', f'char name[64] = "f{k}";', 1)
        ew = "".join(f", e{e}: {k % (e + 3)}" for e in range(self.extra))
        ec = "".join(f", {k % (e + 3)}" for e in range(self.extra))
        o.both(
            f'let p = S{s} {{ a: {k % 7}, b: {k % 11}, tag: "t{k}", hist: []{ew} }}',
            f'S{s} p = {{ {k % 7}, {k % 11}, "t{k}", {{0}}, 0{ec} }};',
            1,
        )
        o.weft.extend(body.weft)
        o.c.extend(body.c)
        o.both(
            f"return (acc + p.score() + len(xs) + len(name)) % {M}",
            f"return (acc + S{s}_score(&p) + xs_len + (int64_t)strlen(name)) % {M};",
            1,
        )
        o.both("}", "}")
        o.both("", "")


def struct(rnd, i, o):
    """Struct S{i}: a, b, tag, hist and 0 to 3 extra int fields; returns the extras' count."""
    a, b, c, d = (rnd.randint(2, 97) for _ in range(4))
    extra = rnd.randrange(4)
    o.both(f"struct S{i} {{", "typedef struct {")
    o.both("a: int,", "int64_t a;", 1)
    o.both("b: int,", "int64_t b;", 1)
    o.both("tag: string,", "const char *tag;", 1)
    o.both("hist: [int],", f"int64_t hist[{HCAP}];", 1)
    o.both(None, "int64_t hist_len;", 1)
    for e in range(extra):
        o.both(f"e{e}: int,", f"int64_t e{e};", 1)
    o.both("}", f"}} S{i};")
    o.both("", "")
    o.both(f"impl S{i} {{", None)
    o.both("fn add(self, k: int) {", f"static void S{i}_add(S{i} *self, int64_t k) {{", 1, 0)
    o.both(f"self.a = (self.a + k * {a}) % {M}", f"self->a = (self->a + k * {a}) % {M};", 2, 1)
    o.both(f"self.b = (self.b * {b} + self.a) % {M}", f"self->b = (self->b * {b} + self->a) % {M};", 2, 1)
    for e in range(extra):
        o.both(f"self.e{e} = (self.e{e} + self.b) % {M}", f"self->e{e} = (self->e{e} + self->b) % {M};", 2, 1)
    o.both("self.hist.push(k % 10)", "self->hist[self->hist_len++] = k % 10;", 2, 1)
    o.both("}", "}", 1, 0)
    o.both("", "")
    o.both("fn score(self) -> int {", f"static int64_t S{i}_score(S{i} *self) {{", 1, 0)
    sum_w = " + ".join([f"self.b * {c}"] + [f"self.e{e}" for e in range(extra)])
    sum_c = " + ".join([f"self->b * {c}"] + [f"self->e{e}" for e in range(extra)])
    o.both(f"var t = self.a + {sum_w}", f"int64_t t = self->a + {sum_c};", 2, 1)
    o.both("for h in self.hist {", "for (int64_t j = 0; j < self->hist_len; j++) {", 2, 1)
    o.both(None, "int64_t h = self->hist[j];", 3, 2)
    o.both(f"t = (t + h * {d}) % {M}", f"t = (t + h * {d}) % {M};", 3, 2)
    o.both("}", "}", 2, 1)
    o.both("return t + len(self.tag)", "return t + (int64_t)strlen(self->tag);", 2, 1)
    o.both("}", "}", 1, 0)
    o.both("}", None)
    o.both("", "")
    return extra


def helper(rnd, i, o):
    a, b, c = (rnd.randint(2, 97) for _ in range(3))
    o.both(f"fn h{i}(x: int, y: int) -> int {{", f"static int64_t h{i}(int64_t x, int64_t y) {{")
    o.both(f"var r = (x * {a} + y) % {M}", f"int64_t r = (x * {a} + y) % {M};", 1)
    if rnd.randrange(2):
        o.both("if r % 2 == 0 {", "if (r % 2 == 0) {", 1)
        o.both(f"r = r / 2 + {b}", f"r = r / 2 + {b};", 2)
        o.both("} else {", "} else {", 1)
        o.both(f"r = (r * 3 + {c}) % {M}", f"r = (r * 3 + {c}) % {M};", 2)
        o.both("}", "}", 1)
    else:
        n = rnd.randint(2, 6)
        o.both(f"for i in 0..{n} {{", f"for (int64_t i = 0; i < {n}; i++) {{", 1)
        o.both(f"r = (r + i * {b} + y % {c}) % {M}", f"r = (r + i * {b} + y % {c}) % {M};", 2)
        o.both("}", "}", 1)
    o.both("return r", "return r;", 1)
    o.both("}", "}")
    o.both("", "")


def generate(lines, seed):
    rnd = random.Random(seed)
    nstructs = max(2, lines // 500)
    nhelpers = max(4, lines // 150)
    o = Out()
    o.both(
        f"// Generated by bench/compile/gen.py --lines {lines} --seed {seed}: do not edit.",
        f"/* Generated by bench/compile/gen.py --lines {lines} --seed {seed}: do not edit. */",
    )
    o.both(None, "#include <stdint.h>")
    o.both(None, "#include <stdio.h>")
    o.both(None, "#include <string.h>")
    o.both("", "")
    extras = [struct(rnd, i, o) for i in range(nstructs)]
    for i in range(nhelpers):
        helper(rnd, i, o)
    nfuncs = 0
    # main takes 3 lines per function, 1 per helper, 3 per struct and 6 more;
    # stop once the total reaches `lines`.
    while len(o.weft) + 3 * nfuncs + nhelpers + 3 * nstructs + 6 < lines:
        Func(rnd, nfuncs, extras, nhelpers, o).emit(rnd.randint(6, 12))
        nfuncs += 1
    o.both("fn main() {", "int main(void) {")
    o.both("var total = 0", "int64_t total = 0;", 1)
    o.both("var r = 0", "int64_t r = 0;", 1)
    for k in range(nfuncs):
        arg = (k * 7919) % 1000
        o.both(f"r = f{k}({arg})", f"r = f{k}({arg});", 1)
        o.both(f'println("f{k} {{r}}")', f'printf("f{k} %lld\\n", (long long)r);', 1)
        o.both(f"total = (total + r) % {M}", f"total = (total + r) % {M};", 1)
    # Every helper and method is called at least once, so that clang (which
    # emits no unused static function) compiles all the code Weft does.
    for i in range(nhelpers):
        o.both(f"total = (total + h{i}(total, {i})) % {M}", f"total = (total + h{i}(total, {i})) % {M};", 1)
    for i, extra in enumerate(extras):
        ew = "".join(f", e{e}: {e}" for e in range(extra))
        ec = "".join(f", {e}" for e in range(extra))
        o.both(
            f'let s{i} = S{i} {{ a: {i}, b: total, tag: "s", hist: []{ew} }}',
            f'S{i} s{i} = {{ {i}, total, "s", {{0}}, 0{ec} }};',
            1,
        )
        o.both(f"s{i}.add(total % 10)", f"S{i}_add(&s{i}, total % 10);", 1)
        o.both(f"total = (total + s{i}.score()) % {M}", f"total = (total + S{i}_score(&s{i})) % {M};", 1)
    o.both('println("total {total}")', 'printf("total %lld\\n", (long long)total);', 1)
    o.both(None, "return 0;", 1)
    o.both("}", "}")
    return "\n".join(o.weft) + "\n", "\n".join(o.c) + "\n", nfuncs


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, default=10000, help="about how many lines of Weft to write")
    ap.add_argument("--seed", type=int, default=6)
    ap.add_argument("--out", default=".", help="folder for compile.weft and compile.c")
    args = ap.parse_args()
    weft, c, nfuncs = generate(args.lines, args.seed)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "compile.weft"), "w") as f:
        f.write(weft)
    with open(os.path.join(args.out, "compile.c"), "w") as f:
        f.write(c)
    print(
        f"gen.py: {weft.count(chr(10))} lines of Weft, {c.count(chr(10))} lines of C, {nfuncs} functions",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
