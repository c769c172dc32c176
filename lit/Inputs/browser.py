#!/usr/bin/env python3
"""Serves a folder on a loopback port and prints the DOM of one of its pages
after headless Chromium has run it: `browser.py DIR PAGE`. The server and the
browser both stop by themselves (Chromium's virtual time budget, a timeout)."""
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
with tempfile.TemporaryDirectory() as profile:
    result = subprocess.run(
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
server.shutdown()
sys.stdout.write(result.stdout)
sys.exit(result.returncode)
