#!/usr/bin/env python3
"""Writes an adversarial `compile` workload: one huge function of one shape.

    python3 bench/compile/stress.py --shape awaits --lines 4000 --out DIR
    python3 bench/compile/stress.py --shape interp --lines 16000 --out DIR

writes DIR/compile.weft. `awaits`: one async function of --lines
`s += await f()` statements (a coroutine with that many suspends, each one
a resume point of one huge resume function). `interp`: one string literal
with --lines `{...}` parts. Both print one number, the same at every -O
level. Issue 10 found both superlinear in compile time.
"""
import argparse
import os


def awaits(n):
    body = ["    s += await f()"] * n
    return "\n".join(["async fn f() -> int { return 1 }", "async fn main() {", "    var s = 0", *body, '    print("{s}")', "}"])


def interp(n):
    parts = "".join("{i}-" for _ in range(n))
    return "\n".join(["fn main() {", "    let i = 7", f'    let s = "{parts}"', '    print("{s.len()}")', "}"])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shape", choices=["awaits", "interp"], required=True)
    ap.add_argument("--lines", type=int, required=True, help="statements (awaits) or `{...}` parts (interp)")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    text = (awaits if args.shape == "awaits" else interp)(args.lines)
    with open(os.path.join(args.out, "compile.weft"), "w") as f:
        f.write(text + "\n")


if __name__ == "__main__":
    main()
