#!/usr/bin/env python3
"""Writes the `wc` workload's input: `gen.py OUT MB`, text lines of varied
length (up to 120 bytes), MB megabytes, the same on every run (kept: a
second call with the file in place does nothing)."""
import os
import random
import sys

out, mb = sys.argv[1], int(sys.argv[2])
if os.path.exists(out) and os.path.getsize(out) >= mb * 1024 * 1024:
    sys.exit(0)  # Made by an earlier run (the same bytes).
rng = random.Random(42)
words = [("".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9)))) for _ in range(5000)]
target = mb * 1024 * 1024
with open(out, "w") as f:
    written = 0
    block = []
    while written < target:
        line = " ".join(rng.choice(words) for _ in range(rng.randint(2, 20)))[:120] + "\n"
        block.append(line)
        written += len(line)
        if len(block) == 10000:
            f.write("".join(block))
            block = []
    f.write("".join(block))
