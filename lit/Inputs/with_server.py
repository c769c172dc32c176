#!/usr/bin/env python3
"""Serves DIR over HTTP on a free loopback port while CMD runs:
`with_server.py DIR -- CMD...`, with `{port}` in CMD's words replaced by
the port. Prints CMD's output and ends with its status (bounded: 60 s)."""
import functools
import http.server
import subprocess
import sys
import threading

directory = sys.argv[1]
cmd = sys.argv[sys.argv.index("--") + 1 :]
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=directory)
handler.log_message = lambda *args: None
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
port = str(server.server_address[1])
result = subprocess.run([w.replace("{port}", port) for w in cmd], capture_output=True, text=True, timeout=60)
server.shutdown()
sys.stdout.write(result.stdout)
sys.stderr.write(result.stderr)
sys.exit(result.returncode)
