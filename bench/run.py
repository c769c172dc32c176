#!/usr/bin/env python3
"""Side-by-side benchmarks: Weft against its peers, interleaved, in one run.

Each workload lives in its own folder with the Weft program and the peers'
sources. Every system is built with release settings, then the runs are
interleaved (weft, peer, weft, peer, ...) so that machine noise hits all
systems alike. The table reports min and median wall time per system and the
ratio Weft/peer of the medians, and is written to BENCHMARKS.md with the goal
of each row. `--quick` runs every workload once, as a smoke check.

A workload of kind "compile" times builds instead of runs: its sources are
generated, each system's build is timed (interleaved, like runs), and the
built programs' outputs are cross-checked. A workload with a "pending" field
waits for the issue it names: it is skipped and listed as not runnable yet;
`--pending` builds and runs its peers alone, to check them.
"""
import argparse
import datetime
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


# Each workload: the Weft program, its peers (name, build command or None,
# run command), the goal as text and as the highest acceptable Weft/peer
# ratio of median times ("rss" goals compare peak memory instead). In
# commands, {out} is the peer's binary in bench/build and {bench} is bench/.
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
        "allocated once, on the heap), but LLVM's rotation of the yield loop computes one xorshift step twice per "
        "iteration (off the critical path), which is where the gap to the C loop comes from.",
        "goal_peers": ["C plain loop (clang-22 -O2)"],
        "runs": 5,
        "instructions": False,
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
        "pending": "issue 5",
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
]


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, cwd=BENCH, **kw)


def ensure_tools():
    """Installs the peers' toolchains from Debian when they are missing."""
    missing = [pkg for tool, pkg in [("clang-22", "clang-22"), ("go", "golang"), ("valgrind", "valgrind")] if shutil.which(tool) is None]
    if missing:
        print(f"bench: installing {' '.join(missing)}", file=sys.stderr)
        sudo = [] if os.geteuid() == 0 else ["sudo"]
        sh(sudo + ["apt-get", "update", "-q"])
        sh(sudo + ["apt-get", "install", "-y", "-q"] + missing)


def fill(cmd, **subst):
    """Replaces {out}, {bench}, {src}, ... in each word of a command."""
    subst.setdefault("bench", BENCH)
    out = []
    for word in cmd:
        for key, value in subst.items():
            word = word.replace("{" + key + "}", str(value))
        out.append(word)
    return out


def build(workload, with_weft=True):
    """Builds Weft and the peers; returns [(system, run command)], Weft first."""
    os.makedirs(BUILD, exist_ok=True)
    systems = []
    if with_weft:
        weft_out = os.path.join(BUILD, workload["name"] + "-weft")
        sh([WEFT, "build", "-O2", workload["weft"], "-o", weft_out])
        systems.append(("Weft (-O2)", [weft_out]))
    for i, (peer, build_cmd, run_cmd) in enumerate(workload["peers"]):
        out = os.path.join(BUILD, f"{workload['name']}-peer{i}")
        if build_cmd:
            sh(fill(build_cmd, out=out))
        systems.append((peer, fill(run_cmd, out=out)))
    return systems


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
    systems = build(w, with_weft)
    times = {name: [] for name, _ in systems}
    outputs = {}
    for _ in range(runs):
        for name, cmd in systems:
            t, out = time_once(cmd)
            times[name].append(t)
            outputs.setdefault(name, out)
    first = systems[0][0]
    for name, _ in systems[1:]:
        if outputs[name] != outputs[first]:
            raise SystemExit(f"bench: {w['name']}: {name} printed something else than {first}")
    count = w.get("instructions", True) and not args.quick
    results = []
    for name, cmd in systems:
        results.append(
            {
                "system": name,
                "weft": with_weft and name == first,
                "base": first if with_weft and name != first else None,
                "times": times[name],
                "instr": instructions(cmd) if count else None,
                "rss": None if args.quick else peak_rss_mib(cmd),
            }
        )
    return results


def weft_timings(cmd):
    """The phases that `weft build --timings` reports, as text: 'codegen 0.60 s, ...'."""
    result = subprocess.run(cmd + ["--timings"], capture_output=True, text=True, cwd=BENCH)
    phases = re.findall(r"([\d.]+) ms\s+(\S+)", result.stderr)
    return ", ".join(f"{name} {float(ms) / 1000:.2f} s" for ms, name in phases if float(ms) >= 10)


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
        if w.get("kind") == "compile":
            results, lines, extra = measure_builds(w, args)
            what = what.replace("{lines}", f"{lines:,}")
            note = f"{w['note']} {extra}." if w.get("note") else extra
        else:
            results = measure_runs(w, args, with_weft=not args.pending)
            note = w.get("note")
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
