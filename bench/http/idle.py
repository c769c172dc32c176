#!/usr/bin/env python3
"""Holds N idle keep-alive connections to a hello server: `idle.py PORT N`.
Each connection makes one request and reads its response, then stays open
and silent. Prints `ready` when all N are open, then waits for a line on
stdin (the benchmark reads the server's memory meanwhile) and exits,
closing them."""
import socket
import sys

port, n = int(sys.argv[1]), int(sys.argv[2])
conns = []
request = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.sendall(request)
    conns.append(s)
    # Read the responses in batches so the server's send buffers drain.
    if len(conns) % 500 == 0 or i == n - 1:
        for c in conns[-500:]:
            got = b""
            while b"hello, world" not in got:
                chunk = c.recv(4096)
                if not chunk:
                    sys.exit(f"idle.py: connection {i} closed early")
                got += chunk
print("ready", flush=True)
sys.stdin.readline()
for s in conns:
    s.close()
