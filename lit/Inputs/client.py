#!/usr/bin/env python3
"""Drives an example server over loopback: `client.py echo|http -- CMD...`.
Starts CMD, reads its first stdout line (`listening on PORT`), then
- echo: three concurrent connections each send two lines and read the two
  echoes (CMD should stop after three connections: its exit is awaited);
- http: one keep-alive connection makes three requests; the server is then
  stopped.
Prints what came back, sorted where connections race. Bounded: 30 s."""
import http.client
import socket
import subprocess
import sys
import threading

mode = sys.argv[1]
cmd = sys.argv[sys.argv.index("--") + 1 :]
server = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
timer = threading.Timer(30, server.kill)
timer.start()
port = int(server.stdout.readline().split()[-1])
print(f"port is a number: {port > 0}")

if mode == "echo":
    results = []

    def client(i):
        with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
            f = s.makefile("rw", newline="")
            for k in range(2):
                f.write(f"client {i} line {k}\n")
                f.flush()
                results.append(f.readline().rstrip("\n"))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in sorted(results):
        print(r)
    print(f"server exit status: {server.wait()}")
else:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    for path in ["/", "/add?a=2&b=40", "/nope"]:
        conn.request("GET", path)
        r = conn.getresponse()
        print(r.status, r.getheader("content-type"), r.read().decode().strip())
    conn.close()
    server.terminate()
    server.wait()
timer.cancel()
