# lit configuration for Weft: IR shape (--emit llvm-ir), diagnostics and run
# output. Run with `lit -sv lit/` after `cargo build --release` (make lit).
import os

import lit.formats

config.name = "weft"
config.test_format = lit.formats.ShTest(execute_external=True)
config.suffixes = [".weft", ".ll"]
config.excludes = ["Inputs", "Output"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.test_source_root, "Output")

root = os.path.dirname(config.test_source_root)
weft = os.environ.get("WEFT", os.path.join(root, "target", "release", "weft"))
config.substitutions.append(("%weft", weft))

llvm_bin = "/usr/lib/llvm-22/bin"
config.environment["PATH"] = os.pathsep.join([llvm_bin, os.environ.get("PATH", "")])
for var in ["HOME", "WEFT_CACHE_DIR", "XDG_CACHE_HOME"]:
    if var in os.environ:
        config.environment[var] = os.environ[var]

# `ipv6`: the loopback has an IPv6 address (containers may have IPv6 off);
# tests of IPv6 sockets say `REQUIRES: ipv6` and are reported unsupported
# without it.
import socket

try:
    with socket.socket(socket.AF_INET6) as s:
        s.bind(("::1", 0))
    config.available_features.add("ipv6")
except OSError:
    pass
