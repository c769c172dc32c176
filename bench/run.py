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

# name: (folder, weft source, [(peer name, build command, binary)], goal text, goal ratio)
WORKLOADS = [
    {
        "name": "fib",
        "what": "fib(35), naive recursion",
        "weft": "fib/fib.weft",
        "peers": [
            ("C (clang-22 -O2)", ["clang-22", "-O2", "-o", "{out}", "fib/fib.c"]),
        ],
        "goal": ("within 1.05x of C", 1.05),
        "expect": "9227465\n",
        "note": "fib(35) runs in about 50 ms, so wall time is mostly noise and process start-up; "
        "the instruction counts are the steadier comparison.",
    },
]


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, cwd=BENCH, **kw)


def ensure_tools():
    if shutil.which("clang-22") is None:
        print("bench: installing clang-22", file=sys.stderr)
        sudo = [] if os.geteuid() == 0 else ["sudo"]
        sh(sudo + ["apt-get", "install", "-y", "-q", "clang-22"])


def build(workload):
    os.makedirs(BUILD, exist_ok=True)
    systems = []
    weft_out = os.path.join(BUILD, workload["name"] + "-weft")
    sh([WEFT, "build", "-O2", workload["weft"], "-o", weft_out])
    systems.append(("Weft (-O2)", [weft_out]))
    for i, (peer, cmd) in enumerate(workload["peers"]):
        out = os.path.join(BUILD, f"{workload['name']}-peer{i}")
        sh([c.replace("{out}", out) for c in cmd])
        systems.append((peer, [out]))
    return systems


def time_once(cmd, expect):
    start = time.perf_counter()
    result = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0 or (expect is not None and result.stdout != expect):
        raise SystemExit(f"bench: {cmd[0]} gave status {result.returncode} and output {result.stdout[:200]!r}")
    return elapsed


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
    args = ap.parse_args()
    ensure_tools()
    runs = 1 if args.quick else args.runs
    rows = []
    for w in WORKLOADS:
        systems = build(w)
        times = {name: [] for name, _ in systems}
        for _ in range(runs):
            for name, cmd in systems:
                times[name].append(time_once(cmd, w.get("expect")))
        weft_name = systems[0][0]
        weft_med = statistics.median(times[weft_name])
        counts = {name: (None if args.quick else instructions(cmd)) for name, cmd in systems}
        for name, _ in systems:
            t = times[name]
            ratio = "" if name == weft_name else f"{weft_med / statistics.median(t):.3f}"
            ir = counts[name]
            ir_ratio = ""
            if name != weft_name and ir and counts[weft_name]:
                ir_ratio = f"{counts[weft_name] / ir:.3f}"
            ir_text = f"{ir / 1e6:.1f}M" if ir else "n/a"
            rows.append((w["name"], w["what"], name, min(t), statistics.median(t), ratio, ir_text, ir_ratio, w["goal"]))
    header = (
        "| workload | system | min (s) | median (s) | Weft/peer (time) | instructions | Weft/peer (instr.) | goal |\n"
        "|---|---|---|---|---|---|---|---|\n"
    )
    lines = []
    losses = []
    for name, what, system, mn, med, ratio, ir_text, ir_ratio, (goal, goal_ratio) in rows:
        verdict = ""
        if ratio:
            met = float(ratio) <= goal_ratio
            verdict = f"{goal}: {'met' if met else 'missed'}"
            if not met:
                losses.append(f"- `{name}` vs {system}: {ratio}x, goal {goal}.")
        lines.append(
            f"| {name} ({what}) | {system} | {mn:.4f} | {med:.4f} | {ratio} | {ir_text} | {ir_ratio} | {verdict} |"
        )
    table = header + "\n".join(lines) + "\n"
    notes = "".join(f"- `{w['name']}`: {w['note']}\n" for w in WORKLOADS if w.get("note"))
    if notes:
        table += "\nNotes:\n\n" + notes
    print(table)
    if args.quick:
        return
    today = datetime.date.today().isoformat()
    doc = f"""# Benchmarks

Written by `make bench` (`python3 bench/run.py --runs {runs}`); do not edit by hand.

- Date: {today}
- Machine: {os.cpu_count()} cores (`nproc`), {cpu_model()}
- Method: each system built with release settings; runs interleaved, {runs} of each;
  wall time of the whole process; ratio = Weft median / peer median (lower is better for Weft);
  instructions: whole-process count from `valgrind --tool=callgrind`, one run each.
  The goal verdict uses the wall-time ratio.

{table}
## Where we lose

{chr(10).join(losses) if losses else "Nowhere, in the workloads that run so far."}
"""
    with open(os.path.join(ROOT, "BENCHMARKS.md"), "w") as f:
        f.write(doc)
    print("bench: wrote BENCHMARKS.md")


if __name__ == "__main__":
    main()
