#!/usr/bin/env python3
"""Adds up the test counts in the logs of `make test` (cargo's `test result:`
lines and lit's summary) and prints one closing line: `N passed, M failed`
(and how many lit tests this machine could not run, if any)."""
import re
import sys

passed = failed = unsupported = 0
for path in sys.argv[1:]:
    with open(path, errors="replace") as f:
        text = f.read()
    for m in re.finditer(r"test result: \w+\. (\d+) passed; (\d+) failed", text):
        passed += int(m.group(1))
        failed += int(m.group(2))
    m = re.search(r"^\s*Passed\s*:\s*(\d+)", text, re.M)
    if m:
        passed += int(m.group(1))
    for m in re.finditer(r"^\s*(Failed|Unresolved|Timed Out)\s*:\s*(\d+)", text, re.M):
        failed += int(m.group(2))
    # lit's UNSUPPORTED: a test whose REQUIRES names a capability this
    # machine lacks (an IPv6 loopback); said, never counted as passed.
    m = re.search(r"^\s*Unsupported\s*:\s*(\d+)", text, re.M)
    if m:
        unsupported += int(m.group(1))
note = f" ({unsupported} unsupported here: lit lists them, with the capability each needs)" if unsupported else ""
print(f"make test: {passed} passed, {failed} failed{note}")
sys.exit(1 if failed else 0)
