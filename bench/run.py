#!/usr/bin/env python3
"""Side-by-side benchmarks: Weft against its peers, interleaved, in one run.

Each workload lives in its own folder with the Weft program and the peers'
sources. Every system is built with release settings, then the runs are
interleaved (weft, peer, weft, peer, ...) so that machine noise hits all
systems alike. The table reports min and median wall time per system and the
ratio Weft/peer of the medians, and is written to BENCHMARKS.md with the goal
of each row. `--quick` runs every workload once, as a smoke check.

A workload of kind "server" starts each system's server on a free port and
measures it from outside: `wrk` (requests/s and p99 latency, reported as
seconds per 100,000 requests so that lower is better as elsewhere), or
"idle" (the server's memory growth while `bench/http/idle.py` holds many
keep-alive connections open).

A workload of kind "compile" times builds instead of runs: its sources are
generated, each system's build is timed (interleaved, like runs), and the
built programs' outputs are cross-checked. A workload with a "pending" field
waits for the issue it names: it is skipped and listed as not runnable yet;
`--pending` builds and runs its peers alone, to check them.
"""
import argparse
import datetime
import socket
import functools
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
BUILD = os.path.join(BENCH, "build")
WEFT = os.path.join(ROOT, "target", "release", "weft")

# The standalone crate of the Rust peers (bench/rust, outside the compiler's
# workspace), built into bench/target. After one `cargo fetch` (or one build
# online) it builds offline.
CARGO_PEER = ["cargo", "build", "--release", "--locked", "--quiet", "--manifest-path", "rust/Cargo.toml", "--target-dir", "target"]


def cargo_bin(name):
    return CARGO_PEER + ["--bin", name], ["{bench}/target/release/" + name]


def fasta_reader(name, **rest):
    """A Benchmarks Game program that reads fasta's output (bench/fasta's C
    program, n = {n}, made once per n) on stdin: NAME/NAME.weft against the
    single-threaded C and Go programs beside it, goal within 1.2x of C."""
    on_input = ["sh", "-c", "{out} < {bench}/build/fasta-{n}.txt"]
    return {
        "name": name,
        "n": 2500000,
        "quick_n": 250000,
        "weft_build": [
            ["clang-22", "-O2", "-o", "{bench}/build/fasta-input", "fasta/fasta.c"],
            ["sh", "-c", "test -s {bench}/build/fasta-{n}.txt || {bench}/build/fasta-input {n} > {bench}/build/fasta-{n}.txt"],
            [WEFT, "build", "-O2", f"{name}/{name}.weft", "-o", "{out}"],
        ],
        "weft_run": on_input,
        "peers": [
            ("C (clang-22 -O2)", ["clang-22", "-O2", "-o", "{out}", f"{name}/{name}.c"], on_input),
            ("Go (go build)", ["go", "build", "-o", "{out}", f"{name}/{name}.go"], on_input),
        ],
        "goal": ("within 1.2x of C", 1.2),
        "goal_peers": ["C (clang-22 -O2)"],
        "instructions": False,
        **rest,
    }


# The wasm workload's C builds: freestanding wasm32, no libc, exports named in
# the sources. --no-wasm-opt: clang would otherwise run binaryen's wasm-opt
# -O2 by itself wherever one is on PATH (and inline what Asyncify must see);
# the commands run it explicitly instead, as {wasm_opt}: Debian's binaryen, or
# npm's (bench/wasm/package.json) where Debian's lacks the Asyncify pass.
WASM_CC = ["clang-22", "--target=wasm32", "-O2", "-nostdlib", "-Wl,--no-entry", "--no-wasm-opt"]
WASM_OPT_NPM = os.path.join(BENCH, "wasm", "node_modules", ".bin", "wasm-opt")


# Each workload: the Weft program, its peers (name, build command or None,
# run command), the goal as text and as the highest acceptable Weft/peer
# ratio of median times ("rss" goals compare peak memory instead). In
# commands, {out} is the peer's binary in bench/build and {bench} is bench/;
# a build may be a list of commands, and a workload with "n" fills {n} (its
# size, "quick_n" in --quick) and may give Weft's own build and run commands.
WORKLOADS = [
    {
        "name": "fib",
        "what": "fib(35), naive recursion",
        "weft": "fib/fib.weft",
        "peers": [
            ("C (clang-22 -O2)", ["clang-22", "-O2", "-o", "{out}", "fib/fib.c"], ["{out}"]),
        ],
        "goal": ("within 1.05x of C", 1.05),
        "note": "fib(35) runs in a few tens of ms, so wall time is mostly noise and process start-up; "
        "the instruction counts are the steadier comparison.",
    },
    {
        "name": "binary",
        "what": "binary-trees, depth 18",
        "weft": "binary/binary.weft",
        "peers": [
            ("Go (go build)", ["go", "build", "-o", "{out}", "binary/binary.go"], ["{out}"]),
            ("C (malloc/free, clang-22 -O2)", ["clang-22", "-O2", "-o", "{out}", "binary/binary.c"], ["{out}"]),
        ],
        "goal": ("faster than Go", 1.0),
        "goal_peers": ["Go (go build)"],
        "runs": 5,
        "instructions": False,
    },
    {
        "name": "gc_churn",
        "what": "allocates ~100x what it keeps (2M short-lived strings, structs, arrays)",
        "weft": "gc_churn/gc_churn.weft",
        "peers": [],
        "rss_goal_mib": 64,
        "runs": 3,
        "instructions": False,
    },
    {
        # Times builds, not runs: compile/gen.py writes the same program in
        # Weft and in C; {src} is the folder it writes to.
        "name": "compile",
        "kind": "compile",
        "what": "generated program of ~{lines} lines, seconds per build",
        "generate": ["python3", "compile/gen.py", "--lines", "{lines}", "--out", "{src}"],
        "lines": 10000,
        "quick_lines": 1000,
        "builds": [
            # (system, build command, the Weft build it is compared with)
            ("Weft -O0", [WEFT, "build", "-O0", "{src}/compile.weft", "-o", "{out}"], None),
            ("C (clang-22 -O0)", ["clang-22", "-O0", "-o", "{out}", "{src}/compile.c"], "Weft -O0"),
            ("Weft -O2", [WEFT, "build", "-O2", "{src}/compile.weft", "-o", "{out}"], None),
            ("C (clang-22 -O2)", ["clang-22", "-O2", "-o", "{out}", "{src}/compile.c"], "Weft -O2"),
        ],
        "goal_text": "report only (issue 6 sets no goal)",
        "runs": 5,
        "note": "seconds per build of a whole executable (compile and link), builds interleaved; peak RSS is the "
        "compiler's (with its children), from an untimed warm-up build of each; each C row's ratio is against the "
        "Weft build at the same -O level. Issue 6 sets no goal for compile time, so these rows are report only.",
    },
    # Issue 10's adversarial compile-time shapes (compile/stress.py): one huge
    # function each, Weft only.
    {
        "name": "compile_awaits",
        "kind": "compile",
        "what": "one async fn of {lines} `s += await f()` lines, seconds per build",
        "generate": ["python3", "compile/stress.py", "--shape", "awaits", "--lines", "{lines}", "--out", "{src}"],
        "lines": 4000,
        "quick_lines": 200,
        "builds": [
            ("Weft -O0", [WEFT, "build", "-O0", "{src}/compile.weft", "-o", "{out}"], None),
            ("Weft -O2", [WEFT, "build", "-O2", "{src}/compile.weft", "-o", "{out}"], None),
        ],
        "goal_text": "a few seconds (issue 10)",
        "runs": 3,
        "note": "seconds per build of a whole executable; one coroutine with that many suspends. Issue 10 measured "
        "39 s at -O2 before its fixes.",
    },
    {
        "name": "compile_interp",
        "kind": "compile",
        "what": "one string literal of {lines} `{...}` parts, seconds per build",
        "generate": ["python3", "compile/stress.py", "--shape", "interp", "--lines", "{lines}", "--out", "{src}"],
        "lines": 16000,
        "quick_lines": 1000,
        "builds": [
            ("Weft -O0", [WEFT, "build", "-O0", "{src}/compile.weft", "-o", "{out}"], None),
            ("Weft -O2", [WEFT, "build", "-O2", "{src}/compile.weft", "-o", "{out}"], None),
        ],
        "goal_text": "a few seconds (issue 10)",
        "runs": 3,
        "note": "seconds per build of a whole executable. Issue 10 measured 34 s at -O2 before its fixes.",
    },
    # Generators and tasks (issue 4). Workloads with a "pending" field wait
    # for the issue it names and are skipped; `--pending` checks their peers.
    {
        "name": "gen",
        "what": "a generator yields 100M xorshift64 values, the consumer sums them",
        "weft": "gen/gen.weft",
        "peers": [
            ("C plain loop (clang-22 -O2)", ["clang-22", "-O2", "-o", "{out}", "gen/gen_loop.c"], ["{out}"]),
            (
                "C++20 coroutine (clang++-22 -O2)",
                ["clang++-22", "-O2", "-std=c++20", "-o", "{out}", "gen/gen_coro.cpp"],
                ["{out}"],
            ),
            (
                "C++20 coroutine, noinline (clang++-22 -O2)",
                ["clang++-22", "-O2", "-std=c++20", "-DCORO_NOINLINE", "-o", "{out}", "gen/gen_coro.cpp"],
                ["{out}"],
            ),
            ("Rust iterator (cargo --release)", *cargo_bin("gen")),
        ],
        "goal": ("within 1.1x of the plain C loop", 1.1),
        "note": "Weft's loop over the generator is inlined into a plain loop (no resume calls; the frame is "
        "allocated once, on the heap) that takes one xorshift step per value. It used to take two: CoroSplit "
        "recomputed the step after each resume from the old `x` instead of keeping the new one, so gc-frame-spill "
        "now freezes arithmetic that lives across a suspend (lit/coro/generator_keep.weft). With a trip count "
        "known only at run time LLVM can still rotate the loop into two steps per value; C++20 coroutines get "
        "the same code as Weft did.",
        "goal_peers": ["C plain loop (clang-22 -O2)"],
        "runs": 5,
        "instructions": False,
    },
    {
        # `gen` on wasm32 under node (issue 6's `wasm`; its `ping` half waits
        # for channels, issue 5): Weft against the same generator in C made
        # resumable with binaryen's Asyncify, and the plain C loop. {n} is the
        # number of values, each program's argument (quick_n in --quick);
        # "size" names each system's .wasm, whose bytes the note reports and
        # "size_goal" bounds (Weft's over the goal peer's); "startup" is timed
        # alone, for the note.
        "name": "wasm",
        "what": "gen on wasm32 under node: {n} xorshift64 values from a generator, summed",
        "n": 100_000_000,
        "quick_n": 1_000_000,
        "weft_build": [WEFT, "build", "--target", "wasm32", "-O2", "wasm/gen.weft", "-o", "{out}"],
        "weft_run": ["node", "{out}.js", "{n}"],
        "size": "{out}.wasm",
        "startup": ["node", "-e", "0"],
        "peers": [
            (
                "C plain loop (clang-22 --target=wasm32 -O2, wasm-opt -O2)",
                [
                    WASM_CC + ["-o", "{out}.wasm", "wasm/gen_loop.c"],
                    ["{wasm_opt}", "-O2", "{out}.wasm", "-o", "{out}.wasm"],
                ],
                ["node", "wasm/driver.mjs", "sum", "{out}.wasm", "{n}"],
            ),
            (
                "C + Asyncify, consumer in C (clang-22, wasm-opt --asyncify -O2)",
                [
                    WASM_CC + ["-o", "{out}.pre.wasm", "wasm/gen_asyncify.c"],
                    ["{wasm_opt}", "--asyncify", "-O2", "{out}.pre.wasm", "-o", "{out}.wasm"],
                ],
                ["node", "wasm/driver.mjs", "sum", "{out}.wasm", "{n}"],
            ),
            (
                "C + Asyncify, JS driver (clang-22, wasm-opt --asyncify -O2)",
                [
                    WASM_CC + ["-DJS_DRIVER", "-o", "{out}.pre.wasm", "wasm/gen_asyncify.c"],
                    ["{wasm_opt}", "--asyncify", "-O2", "{out}.pre.wasm", "-o", "{out}.wasm"],
                ],
                ["node", "wasm/driver.mjs", "asyncify-js", "{out}.wasm", "{n}"],
            ),
        ],
        "goal": (
            "within 1.5x of the plain C loop in time and .wasm size "
            "(asyncify's authors report about 50% overhead in size and speed)",
            1.5,
        ),
        "goal_peers": ["C plain loop (clang-22 --target=wasm32 -O2, wasm-opt -O2)"],
        "size_goal": 1.5,
        "runs": 5,
        "instructions": False,
        "note": "wall time of `node` running the whole program, its start-up and the wasm compilation included "
        "(`node -e 0` alone: {startup}). The C programs are freestanding (no libc): `wasm/driver.mjs` calls their "
        "exports and prints the sum. Both Asyncify builds are `wasm/gen_asyncify.c`: the generator calls "
        "yield_value, which unwinds the stack to the consumer, which reads the value and rewinds. \"Consumer in "
        "C\" keeps that loop in the module (binaryen's asyncify.* intrinsics, no JS per value: Asyncify's own "
        "cost); \"JS driver\" is the standard pattern, yield_value imported from JS and the loop in JS (the value "
        "crosses as two i32 halves: as an i64 it would be a BigInt). Asyncify's 50% is its authors' figure for "
        "whole programs that unwind now and then; here every value is an unwind and a rewind. Weft's .wasm holds "
        "its runtime (GC, scheduler, printing) and a name section (its custom sections; debug info is stripped at "
        "link time); the C ones hold no "
        "runtime at all, so the size goal compares a runtime with none.",
    },
    {
        # The `ping` half of issue 6's `wasm`, waiting for channels (issue 5):
        # {n} is the rounds, 2 messages each.
        "name": "wasm-ping",
        "what": "ping on wasm32 under node: {n} round trips between two tasks over unbuffered channels",
        "n": 500_000,
        "quick_n": 10_000,
        "weft_build": [WEFT, "build", "--target", "wasm32", "-O2", "wasm/ping.weft", "-o", "{out}"],
        "weft_run": ["node", "{out}.js", "{n}"],
        "size": "{out}.wasm",
        "startup": ["node", "-e", "0"],
        "peers": [
            (
                "C plain calls (clang-22 --target=wasm32 -O2, wasm-opt -O2)",
                [
                    WASM_CC + ["-o", "{out}.wasm", "wasm/ping_loop.c"],
                    ["{wasm_opt}", "-O2", "{out}.wasm", "-o", "{out}.wasm"],
                ],
                ["node", "wasm/driver.mjs", "ping", "{out}.wasm", "{n}"],
            ),
            (
                "C + Asyncify tasks (clang-22, wasm-opt --asyncify -O2)",
                [
                    WASM_CC + ["-o", "{out}.pre.wasm", "wasm/ping_asyncify.c"],
                    ["{wasm_opt}", "--asyncify", "-O2", "{out}.pre.wasm", "-o", "{out}.wasm"],
                ],
                ["node", "wasm/driver.mjs", "ping", "{out}.wasm", "{n}"],
            ),
        ],
        "goal": (
            "within 1.5x of the plain C calls in time and .wasm size "
            "(asyncify's authors report about 50% overhead in size and speed)",
            1.5,
        ),
        "goal_peers": ["C plain calls (clang-22 --target=wasm32 -O2, wasm-opt -O2)"],
        "size_goal": 1.5,
        "runs": 5,
        "instructions": False,
        "note": "wall time of `node` running the whole program, its start-up and the wasm compilation included "
        "(`node -e 0` alone: {startup}). The C programs are freestanding (no libc): `wasm/driver.mjs` calls their "
        "export and prints the sum. `wasm/ping_asyncify.c` is two tasks, a scheduler and rendezvous channels: a "
        "task that must wait unwinds its stack into its own Asyncify buffer, back to the scheduler, which resumes "
        "it later by rewinding; `wasm/ping_loop.c`, the limit, makes each round trip a direct call.",
    },
    {
        "name": "spawn",
        "what": "spawn and await 1M trivial tasks",
        "weft": "spawn/spawn.weft",
        "peers": [
            ("Tokio current_thread (cargo --release)", *cargo_bin("spawn")),
            ("Go, WaitGroup (go build)", ["go", "build", "-o", "{out}", "spawn/spawn.go"], ["{out}"]),
        ],
        "goal": ("faster than Tokio and Go", 1.0),
        "runs": 5,
        "instructions": False,
    },
    {
        "name": "ping",
        "what": "1M messages between two tasks over unbuffered channels, 500k each way",
        "weft": "ping/ping.weft",
        "peers": [
            ("Tokio mpsc(1), current_thread (cargo --release)", *cargo_bin("ping")),
            ("Go, unbuffered chan (go build)", ["go", "build", "-o", "{out}", "ping/ping.go"], ["{out}"]),
        ],
        "goal": ("faster than Tokio and Go", 1.0),
        "runs": 5,
        "instructions": False,
    },
    {
        "name": "sieve",
        "what": "the concurrent prime sieve to the 5,000th prime: a task per prime, unbuffered channels",
        "weft": "sieve/sieve.weft",
        "peers": [
            ("Go, unbuffered chans (go build)", ["go", "build", "-o", "{out}", "sieve/sieve.go"], ["{out}"]),
            (
                "Go, GOMAXPROCS=1 (go build)",
                ["go", "build", "-o", "{out}", "sieve/sieve.go"],
                ["env", "GOMAXPROCS=1", "{out}"],
            ),
        ],
        "runs": 3,
        "instructions": False,
        "note": "Go runs its goroutines on both cores by default (its CPU time is about twice its wall time "
        "here); Weft runs every task on one thread, so the GOMAXPROCS=1 row is the like-for-like one.",
    },
    {
        "name": "sleepers",
        "what": "1M tasks parked at once in a sleep, peak RSS",
        "weft": "sleepers/sleepers.weft",
        "peers": [
            ("Tokio current_thread (cargo --release)", *cargo_bin("sleepers")),
            ("Go (go build)", ["go", "build", "-o", "{out}", "sleepers/sleepers.go"], ["{out}"]),
        ],
        "rss_goal_per_task": (200, 1_000_000),  # bytes per task, tasks
        "runs": 1,
        "instructions": False,
    },
    # The language issue (12): a builder-heavy program and interface calls.
    {
        "name": "fasta",
        "what": "fasta of the Benchmarks Game, n = 2,500,000 (25 MB of output), lines built with strings.Builder",
        "weft": "fasta/fasta.weft",
        "peers": [
            ("C (clang-22 -O2)", ["clang-22", "-O2", "-o", "{out}", "fasta/fasta.c"], ["{out}"]),
            ("Go (go build)", ["go", "build", "-o", "{out}", "fasta/fasta.go"], ["{out}"]),
        ],
        "goal": ("within 1.1x of C", 1.1),
        "goal_peers": ["C (clang-22 -O2)"],
        "runs": 5,
        "instructions": False,
        "note": "All three build each section in one growing buffer and write it at once, with the same LCG and "
        "the same floating-point order (outputs are compared). Weft's per-character work is inline (`codes.byte(j)` "
        "and `sb.add_byte(x)` are a bounds check and a byte load or store; the runtime is called only to grow the "
        "buffer); of what remains over C, about 0.03 s is `sb.str()` (UTF-8 validation and a copy of each section "
        "into a string, which C and Go do not make) and the rest the inlined `add_byte`'s own root frame, pushed "
        "and popped per character (see issue 16's liveness work).",
    },
    {
        "name": "iface",
        "what": "100M interface method calls: 1,000 values of two types behind an interface, summed 100,000 times",
        "weft": "iface/iface.weft",
        "peers": [
            ("Go interface (go build)", ["go", "build", "-o", "{out}", "iface/iface.go"], ["{out}"]),
            ("Rust Box<dyn Trait> (cargo --release)", *cargo_bin("iface")),
        ],
        "goal": ("no slower than Go and Rust", 1.0),
        "runs": 5,
        "instructions": False,
        "note": "The program is compiled whole, so the call site knows both types behind `Shape`: it compares the "
        "element's descriptor with each and calls that type's method directly, inlined here (lit/ir/interface_call.weft); "
        "a descriptor it did not expect would still go through the method table. Go (without PGO) and Rust make an "
        "indirect call. Measured here with C programs (2026-12-06): an indirect call whose target is loaded through the "
        "object (Weft's one-word interface values, the table found from the header) runs this loop in 0.66 s, one whose "
        "target sits in the two-word value beside the data pointer (Go, Rust) in 0.18 s, and the same compares on the "
        "loaded table in 0.10 s: the alternating targets are mispredicted, and the misprediction costs the whole chain "
        "of loads. With one type only, all three take 0.12-0.15 s. `iface_many` shows the table path.",
    },
    {
        "name": "iface_many",
        "what": "100M interface method calls: 1,000 values of ten types behind an interface, summed 100,000 times",
        "weft": "iface/iface_many.weft",
        "peers": [
            ("Go interface (go build)", ["go", "build", "-o", "{out}", "iface/iface_many.go"], ["{out}"]),
            ("Rust Box<dyn Trait> (cargo --release)", *cargo_bin("iface_many")),
        ],
        "goal": ("no slower than Go and Rust", 1.0),
        "runs": 5,
        "instructions": False,
        "note": "Ten types are more descriptors than a call compares (eight), so each call loads the element, its "
        "descriptor, the method table before the descriptor and the method, and makes one indirect call "
        "(lit/ir/interface_table_call.weft). Go and Rust load the method from the table pointer held in the two-word "
        "interface value. The targets cycle through ten methods, so every system mispredicts some calls, and Weft's "
        "target waits on one or two loads more.",
    },
    # The I/O issue (13): servers measured from outside.
    {
        "name": "http",
        "kind": "server",
        "mode": "wrk",
        "what": "HTTP/1.1 hello world, keep-alive, 64 connections, `wrk -t1 -c64 -d5s`; seconds per 100,000 requests",
        "weft": "http/hello.weft",
        "peers": [
            ("Go net/http, GOMAXPROCS=1 (go build)", ["go", "build", "-o", "{out}", "http/hello.go"], ["env", "GOMAXPROCS=1", "{out}"]),
            ("Rust Tokio current_thread + hyper (cargo --release)", *cargo_bin("http_hello")),
        ],
        "goal": ("more requests/s than both, p99 no worse", 1.0),
        "runs": 3,
        "note": "One core's worth of server: Weft's scheduler is single-threaded, Go runs with GOMAXPROCS=1, Tokio with its "
        "current_thread runtime; wrk (one thread) shares the machine's cores with the server. Weft's server is the "
        "standard library's `http` (Weft over `net`), each connection a task parked in the reactor (edge-triggered epoll) "
        "between requests. p99 latency per system, median of the runs: {p99}.",
    },
    {
        "name": "wc",
        "what": "`wc -l` of a {n} MB text file on stdin (bench/wc/gen.py), lines read with `io.read_line`",
        "n": 1024,
        "quick_n": 20,
        "weft_build": [
            ["python3", "wc/gen.py", "{bench}/build/wc-{n}.txt", "{n}"],
            [WEFT, "build", "-O2", "wc/wc_l.weft", "-o", "{out}"],
        ],
        "weft_run": ["sh", "-c", "{out} < {bench}/build/wc-{n}.txt"],
        "peers": [
            ("GNU wc -l", None, ["sh", "-c", "wc -l < {bench}/build/wc-{n}.txt"]),
            ("Go bufio.Scanner (go build)", ["go", "build", "-o", "{out}", "wc/wc_l.go"], ["sh", "-c", "{out} < {bench}/build/wc-{n}.txt"]),
        ],
        "goal": ("within 2x of GNU wc, faster than Go", 2.0),
        "goal_peers": ["GNU wc -l"],
        "runs": 5,
        "instructions": False,
        "note": "The file is read from the page cache (after the first run). Weft's stdin is a regular file here, read in "
        "1 MB pieces by the reactor's thread pool; each line becomes a Weft string (a GC allocation and a copy), which "
        "neither wc nor Go's Scanner (whose loop never calls `Text()`) makes: that, the UTF-8 check of each line and the "
        "line search are most of Weft's time. The goal's second half, faster than Go, is judged in the ratio column.",
    },
    fasta_reader(
        "knucleotide",
        what="k-nucleotide of the Benchmarks Game on fasta n = {n} (its section THREE: 5n nucleotides) on stdin",
        runs=3,
        note="Single-threaded, the same algorithm in all three: each nucleotide a 2-bit code, and for each k (1, 2, 3, 4, 6, "
        "12, 18) one hash table from the k-mer's key to its count, updated as the window slides (7 passes, 12.5M updates each). "
        "Weft's is the language's `Map[int, int]`, a CPython-style ordered table: two runtime calls per update (`get`, then "
        "`m[k] = ...`, which finds the key `get` just found without hashing again); a lookup in a table bigger than the cache "
        "(k = 12 and 18) reads three cache lines (the index, with 32 bits of each entry's hash, then the key and the value). "
        "Most of Weft's time is the calls on the small tables (k = 1 to 6, about 12 ns per update). C's table is open "
        "addressing over key-count pairs written for this program, one probe per update, inline; Go's is its built-in map.",
    ),
    fasta_reader(
        "revcomp",
        what="reverse-complement of the Benchmarks Game on fasta n = {n} (10n bytes) on stdin",
        runs=5,
        note="Single-threaded, the same algorithm in all three: all of stdin in one buffer (Weft: `await io.read_all()`, a "
        "`Bytes`), each section's sequence walked backwards through a complement table into one output buffer (Weft: `Bytes` "
        "with `push`), 60 characters a line, written at once (`io.stdout.write`). Alias tags (src/tbaa.rs) keep a byte store "
        "from forcing reloads, but the loop's slow paths (`push` into a full buffer, an index out of range) are calls that may "
        "collect, so its roots are still reloaded on every iteration, not only after such a call.",
    ),
    {
        "name": "http_idle",
        "kind": "server",
        "mode": "idle",
        "connections": 10000,
        "what": "10,000 idle keep-alive connections held open (bench/http/idle.py); server memory per connection",
        "weft": "http/hello.weft",
        "peers": [
            ("Go net/http, GOMAXPROCS=1 (go build)", ["go", "build", "-o", "{out}", "http/hello.go"], ["env", "GOMAXPROCS=1", "{out}"]),
            ("Rust Tokio current_thread + hyper (cargo --release)", *cargo_bin("http_hello")),
        ],
        "runs": 1,
        "note": "Memory is the growth of the server's resident set (VmRSS) from one connection to all of them, divided by "
        "their number; the time column is the seconds the client took to open them all. Per connection: {per_conn}. "
        "CPU time each server used in 2 s of holding them idle (no polling: the reactor sleeps in epoll_wait): {idle_cpu}.",
    },
]


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, cwd=BENCH, **kw)


def has_asyncify(wasm_opt_path):
    """Whether this wasm-opt has binaryen's Asyncify pass."""
    try:
        result = subprocess.run([wasm_opt_path, "--help"], capture_output=True, text=True)
    except OSError:
        return False
    return "--asyncify" in result.stdout


@functools.lru_cache(maxsize=None)
def wasm_opt():
    """binaryen's wasm-opt with Asyncify: Debian's, else npm's (bench/wasm/node_modules)."""
    system = shutil.which("wasm-opt")
    if system and has_asyncify(system):
        return system
    return WASM_OPT_NPM


def ensure_tools():
    """Installs the peers' toolchains from Debian when they are missing, and
    binaryen from npm (bench/wasm/package.json) if Debian's lacks Asyncify."""
    tools = [("clang-22", "clang-22"), ("go", "golang"), ("valgrind", "valgrind"), ("node", "nodejs"), ("wasm-opt", "binaryen"), ("wrk", "wrk")]
    missing = [pkg for tool, pkg in tools if shutil.which(tool) is None]
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    if missing:
        print(f"bench: installing {' '.join(missing)}", file=sys.stderr)
        sh(sudo + ["apt-get", "update", "-q"])
        sh(sudo + ["apt-get", "install", "-y", "-q"] + missing)
    if not has_asyncify(wasm_opt()):
        print("bench: Debian's binaryen lacks --asyncify; installing binaryen from npm into bench/wasm", file=sys.stderr)
        if shutil.which("npm") is None:
            sh(sudo + ["apt-get", "install", "-y", "-q", "npm"])
        sh(["npm", "install", "--prefix", os.path.join(BENCH, "wasm"), "--no-audit", "--no-fund", "--no-package-lock"])
        wasm_opt.cache_clear()


def fill(cmd, **subst):
    """Replaces {out}, {bench}, {src}, {n}, {wasm_opt}, ... in each word of a command."""
    subst.setdefault("bench", BENCH)
    if any("{wasm_opt}" in word for word in cmd):
        subst.setdefault("wasm_opt", wasm_opt())
    out = []
    for word in cmd:
        for key, value in subst.items():
            word = word.replace("{" + key + "}", str(value))
        out.append(word)
    return out


def workload_n(w, args):
    """The workload's size {n} (quick_n in --quick), or None where it has none."""
    return w.get("quick_n", w.get("n")) if args.quick else w.get("n")


def build(workload, with_weft=True, n=None):
    """Builds Weft and the peers; returns [(system, run command, out)], Weft
    first. A workload may give Weft's build and run commands ("weft_build",
    "weft_run"); a peer's build may be a list of commands, run in order."""
    os.makedirs(BUILD, exist_ok=True)
    extra = {} if n is None else {"n": n}
    systems = []
    if with_weft:
        weft_out = os.path.join(BUILD, workload["name"] + "-weft")
        weft_build = workload.get("weft_build", [WEFT, "build", "-O2", workload.get("weft", ""), "-o", "{out}"])
        for cmd in weft_build if isinstance(weft_build[0], list) else [weft_build]:
            sh(fill(cmd, out=weft_out, **extra))
        systems.append(("Weft (-O2)", fill(workload.get("weft_run", ["{out}"]), out=weft_out, **extra), weft_out))
    for i, (peer, build_cmd, run_cmd) in enumerate(workload["peers"]):
        out = os.path.join(BUILD, f"{workload['name']}-peer{i}")
        if build_cmd:
            for cmd in build_cmd if isinstance(build_cmd[0], list) else [build_cmd]:
                sh(fill(cmd, out=out, **extra))
        systems.append((peer, fill(run_cmd, out=out, **extra), out))
    return systems


def wasm_sizes(path):
    """Bytes of a .wasm file: the whole file, and without its custom sections
    (names, DWARF debug info, producers): code, data and the rest."""
    with open(path, "rb") as f:
        data = f.read()
    pos, custom = 8, 0
    while pos < len(data):
        start = pos
        section_id = data[pos]
        pos += 1
        size = shift = 0
        while True:
            byte = data[pos]
            pos += 1
            size |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        pos += size
        if section_id == 0:
            custom += pos - start
    return len(data), len(data) - custom


def time_once(cmd, what="run"):
    """Runs once; returns (seconds, stdout). A failing command stops the suite."""
    start = time.perf_counter()
    result = subprocess.run(cmd, capture_output=True, text=True, cwd=BENCH)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"bench: {what} {cmd[0]} exited with {result.returncode}: {result.stderr[:500]}")
    return elapsed, result.stdout


def peak_rss_mib(cmd, check=False):
    """Peak resident memory of one run, from GNU time's %M (KiB). With check,
    a failing command stops the suite (and the command runs even without GNU time)."""
    if not os.path.exists("/usr/bin/time"):
        if check:
            time_once(cmd, "build")
        return None
    result = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, capture_output=True, text=True, cwd=BENCH)
    if check and result.returncode != 0:
        raise SystemExit(f"bench: {cmd[0]} exited with {result.returncode}: {result.stderr[:500]}")
    try:
        return int(result.stderr.strip().splitlines()[-1]) / 1024
    except (ValueError, IndexError):
        return None


def instructions(cmd):
    """Instructions executed, counted by callgrind: repeatable where wall time is noisy."""
    if shutil.which("valgrind") is None:
        return None
    result = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"] + cmd,
        capture_output=True,
        text=True,
        cwd=BENCH,
    )
    for line in result.stderr.splitlines():
        if "Collected :" in line:
            return int(line.split(":")[-1].strip())
    return None


def measure_runs(w, args, with_weft=True):
    """Builds, then times runs interleaved; returns one result per system, Weft first."""
    runs = 1 if args.quick else w.get("runs", args.runs)
    systems = build(w, with_weft, workload_n(w, args))
    times = {name: [] for name, _, _ in systems}
    outputs = {}
    for _ in range(runs):
        for name, cmd, _ in systems:
            t, out = time_once(cmd)
            times[name].append(t)
            outputs.setdefault(name, out)
    first = systems[0][0]
    for name, _, _ in systems[1:]:
        if outputs[name] != outputs[first]:
            raise SystemExit(f"bench: {w['name']}: {name} printed something else than {first}")
    count = w.get("instructions", True) and not args.quick
    results = []
    for name, cmd, out in systems:
        results.append(
            {
                "system": name,
                "weft": with_weft and name == first,
                "base": first if with_weft and name != first else None,
                "times": times[name],
                "instr": instructions(cmd) if count else None,
                "rss": None if args.quick else peak_rss_mib(cmd),
                "size": wasm_sizes(fill([w["size"]], out=out)[0]) if "size" in w else None,
            }
        )
    return results


def runs_note(w, results, args):
    """The note of a workload of runs: its "note", with {startup} (the median
    time of the "startup" command alone) and, where the workload has "size",
    each system's .wasm bytes."""
    note = w.get("note", "")
    if "startup" in w:
        runs = 1 if args.quick else w.get("runs", args.runs)
        startup = statistics.median(time_once(w["startup"])[0] for _ in range(runs))
        note = note.replace("{startup}", f"{startup * 1000:.0f} ms")
    if "size" in w:
        sizes = "; ".join(f"{r['system']}: {r['size'][0]:,} ({r['size'][1]:,})" for r in results if r["size"])
        note += f" `.wasm` bytes, whole file (without custom sections: names, DWARF, producers): {sizes}."
    return note


def weft_timings(cmd):
    """The phases that `weft build --timings` reports, as text: 'codegen 0.60 s, ...'."""
    result = subprocess.run(cmd + ["--timings"], capture_output=True, text=True, cwd=BENCH)
    phases = re.findall(r"([\d.]+) ms\s+(\S+)", result.stderr)
    return ", ".join(f"{name} {float(ms) / 1000:.2f} s" for ms, name in phases if float(ms) >= 10)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(cmd):
    """Starts a server on a free port (the port is its last argument) and
    waits until it accepts connections; returns (process, port)."""
    port = free_port()
    proc = subprocess.Popen(cmd + [str(port)], cwd=BENCH, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(f"bench: server {cmd[0]} exited: {proc.stderr.read().decode()[:500]}")
            time.sleep(0.05)
    proc.kill()
    raise SystemExit(f"bench: server {cmd[0]} did not start listening")


def rss_kib(pid, field="VmRSS"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid):
    """User and system CPU time a process has used so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk_once(port, seconds, connections):
    """One wrk run: (requests/s, p99 latency in ms)."""
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", f"http://127.0.0.1:{port}/"],
        capture_output=True, text=True, check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", out).groups()
    p99 = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    if "Non-2xx" in out or "Socket errors" in out:
        raise SystemExit(f"bench: wrk saw errors:\n{out}")
    return rps, p99


def measure_server(w, args):
    """Builds, then measures each system's server, interleaved: wrk's
    throughput (as seconds per 100,000 requests) and p99, or the memory per
    idle connection. Returns the results and the note."""
    runs = 1 if args.quick else w.get("runs", args.runs)
    systems = build(w)
    times = {name: [] for name, _, _ in systems}
    extra = {name: [] for name, _, _ in systems}
    idle_cpu = {}
    peak = {}
    for _ in range(runs):
        for name, cmd, _ in systems:
            proc, port = start_server(cmd)
            try:
                if w["mode"] == "wrk":
                    rps, p99 = wrk_once(port, 1 if args.quick else 5, 64)
                    times[name].append(100_000 / rps)
                    extra[name].append(p99)
                else:
                    n = 500 if args.quick else w["connections"]
                    client = subprocess.Popen(
                        ["python3", os.path.join(BENCH, "http", "idle.py"), str(port), "1"],
                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                    )
                    client.stdout.readline()
                    before = rss_kib(proc.pid)
                    start = time.perf_counter()
                    many = subprocess.Popen(
                        ["python3", os.path.join(BENCH, "http", "idle.py"), str(port), str(n)],
                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                    )
                    if many.stdout.readline().strip() != "ready":
                        raise SystemExit(f"bench: {w['name']}: the idle client failed against {name}")
                    times[name].append(time.perf_counter() - start)
                    time.sleep(0.5)
                    extra[name].append((rss_kib(proc.pid) - before) * 1024 / n)
                    # Idle: what the server burns holding them, over 2 s.
                    cpu_before = cpu_seconds(proc.pid)
                    time.sleep(2)
                    idle_cpu.setdefault(name, []).append(cpu_seconds(proc.pid) - cpu_before)
                    for c in (many, client):
                        c.stdin.write("\n")
                        c.stdin.flush()
                        c.wait()
                peak[name] = rss_kib(proc.pid, "VmHWM") / 1024
            finally:
                proc.kill()
                proc.wait()
    first = systems[0][0]
    results = []
    for name, _, _ in systems:
        results.append({"system": name, "weft": name == first, "base": first if name != first else None,
                        "times": times[name], "instr": None, "rss": peak.get(name), "size": None})
    med = {name: statistics.median(v) for name, v in extra.items()}
    if w["mode"] == "wrk":
        note = w["note"].replace("{p99}", "; ".join(f"{n}: {v:.2f} ms" for n, v in med.items()))
        for r in results[1:]:
            worse = med[first] > med[r["system"]]
            r["p99_worse"] = worse
    else:
        note = w["note"].replace("{per_conn}", "; ".join(f"{n}: {v:,.0f} bytes" for n, v in med.items()))
        note = note.replace(
            "{idle_cpu}", "; ".join(f"{n}: {statistics.median(v) * 1000:.0f} ms" for n, v in idle_cpu.items())
        )
        for r in results[1:]:
            r["per_conn_ratio"] = med[first] / med[r["system"]] if med[r["system"]] > 0 else float("inf")
    return results, note


def measure_builds(w, args):
    """Generates the sources, then times each system's build interleaved and
    cross-checks what the built programs print."""
    lines = w["quick_lines"] if args.quick else w["lines"]
    src = os.path.join(BUILD, w["name"])
    sh(fill(w["generate"], src=src, lines=lines))
    systems = []
    for i, (name, cmd, base) in enumerate(w["builds"]):
        out = os.path.join(BUILD, f"{w['name']}-{i}")
        systems.append((name, fill(cmd, src=src, out=out), out, base))
    runs = 1 if args.quick else w.get("runs", args.runs)
    # One untimed build each (not in --quick): warms the caches, stops on a
    # failing build before any timing, and measures the compiler's peak RSS.
    rss = {name: None if args.quick else peak_rss_mib(cmd, check=True) for name, cmd, _, _ in systems}
    times = {name: [] for name, _, _, _ in systems}
    for _ in range(runs):
        for name, cmd, _, _ in systems:
            times[name].append(time_once(cmd, "build")[0])
    outputs = {name: time_once([out])[1] for name, _, out, _ in systems}
    first = systems[0][0]
    for name, _, _, _ in systems[1:]:
        if outputs[name] != outputs[first]:
            raise SystemExit(f"bench: {w['name']}: the program built by {name} printed something else than {first}'s")
    phases = []
    if not args.quick:
        phases = [f"{name}: {weft_timings(cmd)}" for name, cmd, _, base in systems if base is None]
    with open(os.path.join(src, "compile.weft")) as f:
        weft_lines = sum(1 for _ in f)
    results = [
        {
            "system": name,
            "weft": base is None,
            "base": base,
            "times": times[name],
            "instr": None,
            "rss": rss[name],
            "goal": w.get("goal_text", ""),
        }
        for name, _, _, base in systems
    ]
    extra = f"{weft_lines} lines of Weft"
    if phases:
        extra += "; phases of one `weft build --timings` (over 10 ms): " + "; ".join(phases)
    return results, lines, extra


def rows_for(w, results, what):
    """Table rows for one workload, and the lost goals."""
    rows, losses = [], []
    medians = {r["system"]: statistics.median(r["times"]) for r in results}
    counts = {r["system"]: r["instr"] for r in results}
    sizes = {r["system"]: r.get("size") for r in results}
    goal_text, goal_ratio = w.get("goal", ("", None))
    for r in results:
        name, t, base = r["system"], r["times"], r["base"]
        med = medians[name]
        ratio = f"{medians[base] / med:.3f}" if base else ""
        ir = r["instr"]
        ir_ratio = f"{counts[base] / ir:.3f}" if base and ir and counts[base] else ""
        ir_text = f"{ir / 1e6:.1f}M" if ir else "n/a"
        mem = f"{r['rss']:.1f}" if r["rss"] is not None else "n/a"
        verdict = r.get("goal", "")
        if base and goal_ratio is not None and name in w.get("goal_peers", [name]):
            met = float(ratio) <= goal_ratio
            verdict = f"{goal_text}: {'met' if met else 'missed'}"
            if not met:
                losses.append(f"- `{w['name']}` vs {name}: {ratio}x the time, goal {goal_text}.")
            if "size_goal" in w and r["size"] and sizes[base]:
                # A goal on both time and .wasm size (whole files).
                size_ratio = sizes[base][0] / r["size"][0]
                size_met = size_ratio <= w["size_goal"]
                verdict = (
                    f"{goal_text}: time {'met' if met else 'missed'}, "
                    f".wasm size {'met' if size_met else 'missed'} ({size_ratio:,.1f}x)"
                )
                if not size_met:
                    losses.append(
                        f"- `{w['name']}` vs {name}: {size_ratio:,.1f}x the .wasm size "
                        f"({sizes[base][0]:,} bytes against {r['size'][0]:,}), goal {goal_text}."
                    )
        elif base and float(ratio) > 1.0 and "rss_goal_per_task" not in w and w["name"] != "compile" and w.get("mode") != "idle":
            # Slower than a peer that no goal names: said all the same.
            losses.append(f"- `{w['name']}` vs {name}: {ratio}x the time (no goal against this peer).")
        if r.get("p99_worse"):
            verdict += " (p99 worse)"
            losses.append(f"- `{w['name']}` vs {name}: Weft's p99 latency is higher.")
        if "per_conn_ratio" in r:
            quarter = name.startswith("Go")
            met = r["per_conn_ratio"] < 0.25
            verdict = f"{r['per_conn_ratio']:.2f}x the memory per connection"
            if quarter:
                verdict += f"; under a quarter of Go's: {'met' if met else 'missed'}"
                if not met:
                    losses.append(f"- `{w['name']}` vs {name}: {r['per_conn_ratio']:.2f}x the memory per idle connection, goal under 0.25x.")
        if r["weft"] and "rss_goal_mib" in w and r["rss"] is not None:
            met = r["rss"] < w["rss_goal_mib"]
            verdict = f"peak RSS under {w['rss_goal_mib']} MiB: {'met' if met else 'missed'}"
            if not met:
                losses.append(f"- `{w['name']}`: peak RSS {r['rss']:.1f} MiB, goal under {w['rss_goal_mib']} MiB.")
        if "rss_goal_per_task" in w and r["rss"] is not None:
            limit, tasks = w["rss_goal_per_task"]
            per_task = r["rss"] * 1024 * 1024 / tasks
            verdict = f"{per_task:.0f} bytes/task"
            if r["weft"]:
                met = per_task < limit
                verdict += f"; under {limit} bytes/task: {'met' if met else 'missed'}"
                if not met:
                    losses.append(f"- `{w['name']}`: {per_task:.0f} bytes of peak RSS per task, goal under {limit}.")
        rows.append(
            f"| {w['name']} ({what}) | {name} | {min(t):.4f} | {med:.4f} | {ratio} | {ir_text} | {ir_ratio} | {mem} | {verdict} |"
        )
    return rows, losses


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="one run of each (compile: one build each, smaller), no BENCHMARKS.md")
    ap.add_argument("--runs", type=int, default=11)
    ap.add_argument("--only", help="run only this workload")
    ap.add_argument("--pending", action="store_true", help="only the pending workloads' peers, to check them; no BENCHMARKS.md")
    args = ap.parse_args()
    names = [w["name"] for w in WORKLOADS]
    if args.only and args.only not in names:
        raise SystemExit(f"bench: no workload {args.only!r}; there are: {', '.join(names)}")
    ensure_tools()
    rows = []
    losses = []
    notes = []
    pending = []
    for w in WORKLOADS:
        if args.only and w["name"] != args.only:
            continue
        if bool(w.get("pending")) != args.pending:
            if w.get("pending"):
                pending.append(f"`{w['name']}` ({w['pending']})")
                print(f"bench: {w['name']}: skipped, waits for {w['pending']} (--pending runs its peers)", file=sys.stderr)
            continue
        what = w["what"]
        if w.get("kind") == "server":
            results, note = measure_server(w, args)
        elif w.get("kind") == "compile":
            results, lines, extra = measure_builds(w, args)
            what = what.replace("{lines}", f"{lines:,}")
            note = f"{w['note']} {extra}." if w.get("note") else extra
        else:
            results = measure_runs(w, args, with_weft=not args.pending)
            note = runs_note(w, results, args)
            n = workload_n(w, args)
            if n is not None:
                what = what.replace("{n}", f"{n:,}")
        w_rows, w_losses = rows_for(w, results, what)
        rows += w_rows
        losses += w_losses
        if note:
            notes.append(f"- `{w['name']}`: {note}")
    header = (
        "| workload | system | min (s) | median (s) | Weft/peer (time) | instructions | Weft/peer (instr.) | peak RSS (MiB) | goal |\n"
        "|---|---|---|---|---|---|---|---|---|\n"
    )
    table = header + "\n".join(rows) + "\n"
    if notes:
        table += "\nNotes:\n\n" + "\n".join(notes) + "\n"
    not_runnable = ""
    if pending:
        not_runnable = (
            f"Not runnable yet: {', '.join(pending)}; their Weft programs and peers are in `bench/`, "
            "and `python3 bench/run.py --pending` runs the peers alone.\n"
        )
    print(table)
    if not_runnable:
        print(not_runnable)
    if args.quick or args.only or args.pending:
        return
    today = datetime.date.today().isoformat()
    doc = f"""# Benchmarks

Written by `make bench` (`python3 bench/run.py`); do not edit by hand.

- Date: {today}
- Machine: {os.cpu_count()} cores (`nproc`), {cpu_model()}
- Method: each system built with release settings; runs interleaved (weft, peer, weft, ...),
  {args.runs} of each unless the workload says fewer; wall time of the whole process;
  ratio = Weft median / peer median (lower is better for Weft); instructions: whole-process
  count from `valgrind --tool=callgrind`, one run each; peak RSS from GNU time, one run each.
  The goal verdict uses the wall-time ratio (or peak RSS where the goal is memory).
  `compile` times builds rather than runs (see its note).

{table}
{not_runnable}
## Where we lose

{chr(10).join(losses) if losses else "Nowhere, in the workloads that run so far."}
"""
    with open(os.path.join(ROOT, "BENCHMARKS.md"), "w") as f:
        f.write(doc)
    print("bench: wrote BENCHMARKS.md")


if __name__ == "__main__":
    main()
