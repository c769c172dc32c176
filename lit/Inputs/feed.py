#!/usr/bin/env python3
"""Runs a program and types into its stdin as its output asks for it:
`feed.py 'WHEN=>SEND' ... -- CMD...`. Each time a line of the program's
stdout contains WHEN, SEND (with `\\n` for a newline) is written to its stdin;
SEND `EOF` closes stdin. Prints the program's stdout and ends with its
status. A program that does not flush what it printed before waiting for
input never gets the input: the run ends after 30 s with status 124."""
import subprocess
import sys
import threading

split = sys.argv.index("--")
rules = [r.split("=>", 1) for r in sys.argv[1:split]]
proc = subprocess.Popen(sys.argv[split + 1 :], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
timer = threading.Timer(30, proc.kill)
timer.start()
for raw in proc.stdout:
    line = raw.decode("utf-8", "replace")
    sys.stdout.write(line)
    sys.stdout.flush()
    for when, send in rules:
        if when in line:
            if send == "EOF":
                proc.stdin.close()
            else:
                proc.stdin.write(send.replace("\\n", "\n").encode())
                proc.stdin.flush()
status = proc.wait()
timer.cancel()
sys.exit(124 if status < 0 else status)
