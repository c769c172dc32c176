#!/usr/bin/env python3
"""Serves a folder on a loopback port and prints the DOM of one of its pages
after headless Chromium has run it: `browser.py DIR PAGE [UNTIL]`. The server
and the browser both stop by themselves (Chromium's virtual time budget, a
timeout).

`--dump-dom` takes the DOM when the virtual time budget is spent, and virtual
time does not always wait for real I/O (a `fetch`'s body, the local server
under load): the page may not have got as far as the test expects. With
UNTIL, a dump that does not contain that text is taken again, up to five
times, and the last one is printed either way (the FileCheck that reads it
fails if the page never gets there)."""
import functools
import http.server
import os
import subprocess
import sys
import tempfile
import threading

directory, page = sys.argv[1], sys.argv[2]
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=directory)
handler.log_message = lambda *args: None
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
url = f"http://127.0.0.1:{server.server_address[1]}/{page}"
until = sys.argv[3] if len(sys.argv) > 3 else None


def dump():
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [
                os.environ.get("CHROMIUM", "chromium"),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={profile}",
                "--virtual-time-budget=10000",
                "--dump-dom",
                url,
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )


for attempt in range(5):
    result = dump()
    if until is None or until in result.stdout:
        break
server.shutdown()
sys.stdout.write(result.stdout)
sys.exit(result.returncode)
