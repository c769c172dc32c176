#!/usr/bin/env python3
"""Side-by-side benchmarks: Weft against its peers, interleaved, in one run.

Each workload lives in its own folder with the Weft program and the peers'
sources. Every system is built with release settings, then the runs are
interleaved (weft, peer, weft, peer, ...) so that machine noise hits all
systems alike. The table reports min and median wall time per system and the
ratio Weft/peer of the medians, and is written to BENCHMARKS.md with the goal
of each row. `--quick` runs every workload once, as a smoke check.
"""
import argparse
import datetime
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
BUILD = os.path.join(BENCH, "build")
WEFT = os.path.join(ROOT, "target", "release", "weft")

# Each workload: the Weft program, its peers (name, build command or None,
# run command), the goal as text and as the highest acceptable Weft/peer
# ratio of median times ("rss" goals compare peak memory instead).
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


def build(workload):
    os.makedirs(BUILD, exist_ok=True)
    systems = []
    weft_out = os.path.join(BUILD, workload["name"] + "-weft")
    sh([WEFT, "build", "-O2", workload["weft"], "-o", weft_out])
    systems.append(("Weft (-O2)", [weft_out]))
    for i, (peer, build_cmd, run_cmd) in enumerate(workload["peers"]):
        out = os.path.join(BUILD, f"{workload['name']}-peer{i}")
        if build_cmd:
            sh([c.replace("{out}", out) for c in build_cmd])
        systems.append((peer, [c.replace("{out}", out) for c in run_cmd]))
    return systems


def time_once(cmd):
    """Runs once; returns (seconds, stdout). A failing run stops the suite."""
    start = time.perf_counter()
    result = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"bench: {cmd[0]} exited with {result.returncode}: {result.stderr[:500]}")
    return elapsed, result.stdout


def peak_rss_mib(cmd):
    """Peak resident memory of one run, from GNU time's %M (KiB)."""
    if not os.path.exists("/usr/bin/time"):
        return None
    result = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, capture_output=True, text=True)
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
    )
    for line in result.stderr.splitlines():
        if "Collected :" in line:
            return int(line.split(":")[-1].strip())
    return None


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
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="one run of each, no BENCHMARKS.md")
    ap.add_argument("--runs", type=int, default=11)
    ap.add_argument("--only", help="run only this workload")
    args = ap.parse_args()
    ensure_tools()
    rows = []
    losses = []
    notes = []
    for w in WORKLOADS:
        if args.only and w["name"] != args.only:
            continue
        runs = 1 if args.quick else w.get("runs", args.runs)
        systems = build(w)
        times = {name: [] for name, _ in systems}
        outputs = {}
        for _ in range(runs):
            for name, cmd in systems:
                t, out = time_once(cmd)
                times[name].append(t)
                outputs.setdefault(name, out)
        weft_name = systems[0][0]
        for name, _ in systems[1:]:
            if outputs[name] != outputs[weft_name]:
                raise SystemExit(f"bench: {w['name']}: {name} printed something else than Weft")
        count = w.get("instructions", True) and not args.quick
        counts = {name: (instructions(cmd) if count else None) for name, cmd in systems}
        rss = {name: (None if args.quick else peak_rss_mib(cmd)) for name, cmd in systems}
        weft_med = statistics.median(times[weft_name])
        goal_text, goal_ratio = w.get("goal", ("", None))
        for name, _ in systems:
            t = times[name]
            med = statistics.median(t)
            ratio = "" if name == weft_name else f"{weft_med / med:.3f}"
            ir = counts[name]
            ir_ratio = ""
            if name != weft_name and ir and counts[weft_name]:
                ir_ratio = f"{counts[weft_name] / ir:.3f}"
            ir_text = f"{ir / 1e6:.1f}M" if ir else "n/a"
            mem = f"{rss[name]:.1f}" if rss[name] is not None else "n/a"
            verdict = ""
            if name != weft_name and goal_ratio is not None and name in w.get("goal_peers", [name]):
                met = float(ratio) <= goal_ratio
                verdict = f"{goal_text}: {'met' if met else 'missed'}"
                if not met:
                    losses.append(f"- `{w['name']}` vs {name}: {ratio}x the time, goal {goal_text}.")
            if name == weft_name and "rss_goal_mib" in w and rss[name] is not None:
                met = rss[name] < w["rss_goal_mib"]
                verdict = f"peak RSS under {w['rss_goal_mib']} MiB: {'met' if met else 'missed'}"
                if not met:
                    losses.append(f"- `{w['name']}`: peak RSS {rss[name]:.1f} MiB, goal under {w['rss_goal_mib']} MiB.")
            rows.append(
                f"| {w['name']} ({w['what']}) | {name} | {min(t):.4f} | {med:.4f} | {ratio} | {ir_text} | {ir_ratio} | {mem} | {verdict} |"
            )
        if w.get("note"):
            notes.append(f"- `{w['name']}`: {w['note']}")
    header = (
        "| workload | system | min (s) | median (s) | Weft/peer (time) | instructions | Weft/peer (instr.) | peak RSS (MiB) | goal |\n"
        "|---|---|---|---|---|---|---|---|---|\n"
    )
    table = header + "\n".join(rows) + "\n"
    if notes:
        table += "\nNotes:\n\n" + "\n".join(notes) + "\n"
    print(table)
    if args.quick or args.only:
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

{table}
## Where we lose

{chr(10).join(losses) if losses else "Nowhere, in the workloads that run so far."}
"""
    with open(os.path.join(ROOT, "BENCHMARKS.md"), "w") as f:
        f.write(doc)
    print("bench: wrote BENCHMARKS.md")


if __name__ == "__main__":
    main()
