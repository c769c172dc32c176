#!/usr/bin/env python3
"""The frontend fuzzer (`make fuzz`), in two modes.

`mutate` (the default) takes the test programs (tests/programs, lit, the
standard library) and breaks them: deletes, duplicates and swaps tokens and
lines, truncates, inserts random bytes and random tokens. Each mutant is
compiled through code generation and LLVM (`weft build --emit obj`). The
compiler must answer every input with success or diagnostics (status 0 or
1): status 101 (an internal error), a Rust panic, a signal or a hang is a
finding, saved under target/fuzz/findings with the command that shows it.

`diff` generates valid programs (functions, integer arithmetic, strings,
arrays, maps, structs, optionals, generators, async tasks and channels,
allocating all the time) and compiles each at -O0, -O2 and for wasm32,
runs them, also under WEFT_GC_STRESS=1, and compares the outputs: any
difference, or a status other than 0, is a finding.

    python3 tests/fuzz/fuzz.py [--mode mutate|diff|both] [--seconds N | --cases N] [--seed S] [--jobs J]

`make test` runs a fixed set (`--cases 200 --seed 1`); `make fuzz` runs for
FUZZ_SECONDS (default 600) from a fresh seed.

It prints how many cases it ran and exits 1 if it found anything.
"""
import argparse
import concurrent.futures
import glob
import os
import random
import re
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WEFT = os.environ.get("WEFT", os.path.join(ROOT, "target", "release", "weft"))
OUT = os.path.join(ROOT, "target", "fuzz")
FINDINGS = os.path.join(OUT, "findings")
NODE = os.environ.get("WEFT_NODE", "node")
TIMEOUT_S = 20

TOKEN = re.compile(
    r'"(?:\\.|[^"\\\n])*"?|[A-Za-z_][A-Za-z0-9_]*|0x[0-9a-fA-F_]+|[0-9][0-9_.e]*'
    r"|==|!=|<=|>=|&&|\|\||<<|>>|\+=|-=|\*=|/=|->|=>|\.\.=?|\S"
)
DICTIONARY = [
    "fn", "async", "await", "spawn", "gen", "yield", "let", "var", "if", "else", "while",
    "for", "in", "loop", "break", "continue", "return", "defer", "match", "select", "struct",
    "enum", "impl", "import", "self", "nil", "true", "false", "{", "}", "(", ")", "[", "]",
    ",", ":", ";", ".", "!", "?", "=", "==", "+", "-", "*", "/", "%", "<<", ">>", "&", "|",
    "^", "..", "=>", "->", "int", "string", "float", "bool", "Chan", "Map", "Task", "Gen",
    "0", "1", "-1", "9223372036854775807", "\"{x}\"", "\"\"", "x", "main", "panic", "str",
    "len", "println", "time.after(1)", "ch.recv()", "ch.send(1)", "[int]()", "\n",
]


def corpus():
    files = glob.glob(os.path.join(ROOT, "tests", "programs", "*.weft"))
    files += glob.glob(os.path.join(ROOT, "tests", "gc_matrix", "*.weft"))
    files += glob.glob(os.path.join(ROOT, "lit", "**", "*.weft"), recursive=True)
    files += glob.glob(os.path.join(ROOT, "stdlib", "*.weft"))
    texts = []
    for f in sorted(set(files)):
        if "/Output/" in f:
            continue
        with open(f, encoding="utf-8", errors="replace") as fh:
            texts.append(fh.read())
    return texts


def mutate(text, rng):
    """One to four random edits of the program text."""
    for _ in range(rng.randint(1, 4)):
        kind = rng.randrange(9)
        if kind <= 3:
            toks = [m.group(0) for m in TOKEN.finditer(text)]
            spans = [m.span() for m in TOKEN.finditer(text)]
            if not spans:
                continue
            i = rng.randrange(len(spans))
            a, b = spans[i]
            if kind == 0:  # delete a token
                text = text[:a] + text[b:]
            elif kind == 1:  # duplicate a token
                text = text[:b] + " " + toks[i] + text[b:]
            elif kind == 2:  # swap two tokens
                j = rng.randrange(len(spans))
                (a, b), (c, d) = sorted([spans[i], spans[j]])
                if b <= c:
                    text = text[:a] + text[c:d] + text[b:c] + text[a:b] + text[d:]
            else:  # insert a token from the dictionary
                text = text[:a] + " " + rng.choice(DICTIONARY) + " " + text[a:]
        elif kind <= 6:
            lines = text.split("\n")
            i = rng.randrange(len(lines))
            if kind == 4:  # delete a line
                del lines[i]
            elif kind == 5:  # duplicate a line
                lines.insert(i, lines[i])
            else:  # swap two lines
                j = rng.randrange(len(lines))
                lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
        elif kind == 7:  # truncate
            text = text[: rng.randrange(len(text) + 1)]
        else:  # random bytes
            at = rng.randrange(len(text) + 1)
            junk = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
            text = text[:at] + junk.decode("latin-1") + text[at:]
    return text


def save_finding(name, source, why, command):
    os.makedirs(FINDINGS, exist_ok=True)
    path = os.path.join(FINDINGS, name)
    with open(path + ".weft", "w", encoding="utf-8", errors="surrogateescape") as f:
        f.write(source)
    with open(path + ".txt", "w") as f:
        f.write(f"{why}\n$ {command}\n")
    return path


def run(cmd, env=None):
    try:
        p = subprocess.run(cmd, capture_output=True, timeout=TIMEOUT_S, env=env)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        return "timeout", b"", b""


def mutate_case(seed, texts, work):
    rng = random.Random(seed)
    source = mutate(rng.choice(texts), rng)
    path = os.path.join(work, f"m{seed}.weft")
    with open(path, "w", encoding="latin-1", errors="replace") as f:
        f.write(source)
    level = rng.choice(["-O0", "-O2"])
    target = rng.choice(["native", "native", "wasm32"])
    cmd = [WEFT, "build", path, level, "--target", target, "--emit", "obj", "-o", path + ".o"]
    status, _, err = run(cmd)
    os.remove(path)
    if os.path.exists(path + ".o"):
        os.remove(path + ".o")
    # The message's own lines, not the source snippets it quotes.
    internal = re.search(rb"^(error: internal compiler error|thread '.*' panicked)", err, re.M)
    if status in (0, 1) and not internal:
        return None
    why = f"status {status}: {err.decode(errors='replace')[-2000:]}"
    return save_finding(f"mutate-{seed}", source, why, " ".join(cmd[:2] + ["FILE"] + cmd[3:7]))


# ----- differential: generated valid programs ----------------------------------


class Gen:
    """A random valid Weft program. Every value it prints is computed the
    same way at every level, target and GC setting; nothing divides by zero,
    indexes out of range or runs unbounded."""

    def __init__(self, rng):
        self.rng = rng
        self.fns = []

    def int_expr(self, names, depth=0):
        r = self.rng
        if depth > 3 or r.random() < 0.3:
            return r.choice(names) if names and r.random() < 0.7 else str(r.randint(-50, 50))
        a, b = self.int_expr(names, depth + 1), self.int_expr(names, depth + 1)
        op = r.choice(["+", "-", "*", "&", "|", "^"])
        if r.random() < 0.15:
            return f"(({a}) << ({b} & 7))"
        if r.random() < 0.1:
            return f"(({a}) % (({b} & 15) + 1))"
        return f"({a} {op} {b})"

    def stmt_block(self, names, depth, lines, indent, mutable=("acc",)):
        r = self.rng
        pad = "    " * indent
        mutable = list(mutable)
        for _ in range(r.randint(1, 4)):
            k = r.randrange(8)
            if k == 0 and depth < 2:
                v = f"v{len(names)}_{indent}"
                lines.append(f"{pad}var {v} = {self.int_expr(names)}")
                names = names + [v]
                mutable.append(v)
            elif k == 1:
                lines.append(f"{pad}{r.choice(mutable)} = {self.int_expr(names)}")
            elif k == 2 and depth < 2:
                lines.append(f"{pad}if {self.int_expr(names)} > {self.int_expr(names)} {{")
                self.stmt_block(names, depth + 1, lines, indent + 1, mutable)
                lines.append(f"{pad}}} else {{")
                self.stmt_block(names, depth + 1, lines, indent + 1, mutable)
                lines.append(f"{pad}}}")
            elif k == 3 and depth < 2:
                i = f"i{indent}"
                lines.append(f"{pad}for {i} in 0..{r.randint(0, 6)} {{")
                self.stmt_block(names + [i], depth + 1, lines, indent + 1, mutable)
                lines.append(f"{pad}}}")
            elif k == 4:
                lines.append(f'{pad}texts.push("t" + str({self.int_expr(names)}))')
            elif k == 5:
                lines.append(f"{pad}nums.push({self.int_expr(names)})")
            elif k == 6:
                lines.append(f"{pad}table[{self.int_expr(names)} & 7] = Cell {{ n: {self.int_expr(names)}, s: str({self.int_expr(names)}) }}")
            else:
                lines.append(f"{pad}acc = acc * 31 + {self.int_expr(names)}")
        return names

    def function(self, i):
        lines = [f"fn f{i}(a: int, b: int) -> int {{", "    var acc = a", "    var texts = [string]()",
                 "    var nums = [int]()", "    let table = Map[int, Cell]()"]
        self.stmt_block(["a", "b", "acc"], 0, lines, 1)
        lines += [
            "    for t in texts { acc = acc + len(t) }",
            "    for n in nums { acc = acc ^ n }",
            "    for k in table.keys() { acc = acc + table[k].n + len(table[k].s) }",
            "    return acc",
            "}",
        ]
        return "\n".join(lines)

    def program(self):
        r = self.rng
        n = r.randint(1, 4)
        parts = ["import time", "struct Cell { n: int, s: string }", "enum Shape { Dot, Line(int, string) }"]
        parts += [self.function(i) for i in range(n)]
        parts.append(
            "gen fn stream(n: int, k: int) -> Cell {\n"
            "    for i in 0..n {\n"
            "        let c = Cell { n: f0(i, k), s: \"s\" + str(i) }\n"
            "        yield c\n"
            "    }\n"
            "}"
        )
        parts.append(
            "async fn worker(id: int, inbox: Chan[Cell], out: Chan[string]) {\n"
            "    while let c = await inbox.recv() {\n"
            "        await time.sleep(0)\n"
            "        let shape = if c.n % 2 == 0 { Shape.Dot } else { Shape.Line(c.n, c.s) }\n"
            "        await out.send(\"w\" + str(id) + \":\" + str(shape) + \":\" + str([c.n, len(c.s)]))\n"
            "    }\n"
            "}"
        )
        parts.append(
            "async fn compute(x: int) -> Cell {\n"
            "    await time.sleep(0)\n"
            f"    return Cell {{ n: f{r.randrange(n)}(x, {r.randint(-9, 9)}), s: str(x) }}\n"
            "}"
        )
        calls = "\n".join(
            f"    println(f{r.randrange(n)}({r.randint(-100, 100)}, {r.randint(-100, 100)}))"
            for _ in range(r.randint(1, 4))
        )
        workers = r.randint(1, 3)
        parts.append(
            "async fn main() {\n"
            f"{calls}\n"
            "    var total = 0\n"
            f"    for c in stream({r.randint(0, 20)}, {r.randint(-5, 5)}) {{ total = total * 7 + c.n + len(c.s) }}\n"
            "    println(total)\n"
            f"    let inbox = Chan[Cell]({r.randint(0, 3)})\n"
            "    let out = Chan[string](100)\n"
            f"    for w in 0..{workers} {{ spawn worker(w, inbox, out) }}\n"
            f"    let jobs = {r.randint(0, 12)}\n"
            "    for j in 0..jobs { await inbox.send(await compute(j)) }\n"
            "    inbox.close()\n"
            "    var got = [string]()\n"
            "    for j in 0..jobs { got.push((await out.recv())!) }\n"
            "    var sum = 0\n"
            "    for g in got { sum += len(g) }\n"
            "    println(\"results {len(got)} {sum}\")\n"
            f"    let t = spawn compute({r.randint(0, 50)})\n"
            "    let c = await t\n"
            "    println(c)\n"
            "}"
        )
        return "\n\n".join(parts) + "\n"


def diff_case(seed, work):
    source = Gen(random.Random(seed)).program()
    path = os.path.join(work, f"d{seed}.weft")
    with open(path, "w") as f:
        f.write(source)
    outputs = {}
    modes = [("native-O0", ["-O0"], None), ("native-O2", ["-O2"], None), ("wasm32-O2", ["-O2", "--target", "wasm32"], None)]
    for name, flags, _ in modes:
        exe = os.path.join(work, f"d{seed}-{name}")
        cmd = [WEFT, "build", path, "--verify-gc", "-o", exe] + flags
        status, _, err = run(cmd)
        if status != 0:
            return save_finding(f"diff-{seed}", source, f"{name}: build status {status}: {err.decode(errors='replace')[-2000:]}", " ".join(cmd))
        runner = [NODE, exe + ".js"] if "wasm" in name else [exe]
        for stress in (False, True):
            env = dict(os.environ)
            if stress:
                env["WEFT_GC_STRESS"] = "1"
            status, out, err = run(runner, env)
            label = name + (" gc-stress" if stress else "")
            if status != 0:
                return save_finding(f"diff-{seed}", source, f"{label}: status {status}: {err.decode(errors='replace')[-2000:]}", " ".join(runner))
            outputs[label] = out
    for f in glob.glob(os.path.join(work, f"d{seed}-*")) + [path]:
        os.remove(f)
    first = next(iter(outputs.values()))
    for label, out in outputs.items():
        if out != first:
            return save_finding(f"diff-{seed}", source, f"output of {label} differs from native-O0", "")
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mode", choices=["mutate", "diff", "both"], default="both")
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--cases", type=int, default=None,
                    help="stop after this many cases instead (with --seed: the same cases every time)")
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    # One folder per run: runs side by side never touch each other's files.
    work = os.path.join(OUT, f"work-{os.getpid()}")
    os.makedirs(work, exist_ok=True)
    texts = corpus()
    deadline = time.time() + args.seconds
    counts = {"mutate": 0, "diff": 0}
    findings = []
    seed = args.seed
    modes = ["mutate", "diff"] if args.mode == "both" else [args.mode]
    turn = 0

    def more():
        if args.cases is not None:
            return turn < args.cases
        return time.time() < deadline

    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        pending = set()

        while more() or pending:
            while more() and len(pending) < args.jobs:
                # Mutants are cheap; a differential program costs three builds
                # and six runs: one per seven mutants.
                mode = modes[0] if len(modes) == 1 else ("diff" if turn % 8 == 0 else "mutate")
                turn += 1
                seed += 1
                if mode == "mutate":
                    fut = pool.submit(mutate_case, seed, texts, work)
                else:
                    fut = pool.submit(diff_case, seed, work)
                fut.mode = mode
                pending.add(fut)
            done, pending = concurrent.futures.wait(pending, timeout=1, return_when=concurrent.futures.FIRST_COMPLETED)
            for fut in done:
                counts[fut.mode] += 1
                found = fut.result()
                if found:
                    findings.append(found)
                    print(f"finding: {found}.weft ({found}.txt)", flush=True)
    shutil.rmtree(work, ignore_errors=True)
    print(f"fuzz: {counts['mutate']} mutants, {counts['diff']} differential programs "
          f"(seeds from {args.seed}), {len(findings)} findings", flush=True)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
