# Weft: `make run` builds the compiler and runs the showcase; `make test` runs
# every test suite. Both install what is missing first and are quick when it
# is there already.
SHELL := /bin/bash
export LLVM_SYS_221_PREFIX := /usr/lib/llvm-22
export PATH := /usr/lib/llvm-22/bin:$(HOME)/.cargo/bin:$(PATH)

WEFT := $(CURDIR)/target/release/weft
APT_PACKAGES := llvm-22-dev lld-22 llvm-22-tools clang-22 libzstd-dev zlib1g-dev libxml2-dev libpolly-22-dev chromium
SHOWCASE := examples/showcase.weft

.PHONY: all setup build run test test-cargo test-programs lit fuzz fuzz-smoke clippy fmt-check bench bench-quick clean

all: build

# Installs only what is missing; each check is a file test, so this is instant
# on a machine that has everything.
setup:
	@missing=""; \
	for f in /usr/lib/llvm-22/bin/llvm-config /usr/bin/wasm-ld-22 /usr/lib/llvm-22/bin/FileCheck \
	         /usr/lib/llvm-22/bin/lit /usr/bin/clang-22 /usr/include/zstd.h /usr/lib/llvm-22/lib/libPolly.a \
	         /usr/bin/chromium; do \
	  [ -e $$f ] || missing=1; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "setup: installing $(APT_PACKAGES)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q $(APT_PACKAGES); \
	fi
	@command -v node >/dev/null || { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q nodejs; }
	@rustup target list --installed 2>/dev/null | grep -q '^wasm32-unknown-unknown$$' || rustup target add wasm32-unknown-unknown

build: setup
	cargo build --release

run: build
	$(WEFT) run $(SHOWCASE)

LOGS := target/test-logs

test: build
	@mkdir -p $(LOGS)
	$(MAKE) --no-print-directory fmt-check clippy
	set -o pipefail; $(MAKE) --no-print-directory test-cargo 2>&1 | tee $(LOGS)/cargo.log
	set -o pipefail; $(MAKE) --no-print-directory lit 2>&1 | tee $(LOGS)/lit.log
	$(MAKE) --no-print-directory fuzz-smoke
	@python3 tests/summary.py $(LOGS)/cargo.log $(LOGS)/lit.log

fmt-check:
	cargo fmt --all -- --check

clippy:
	cargo clippy --release --workspace --all-targets -- -D warnings

# Unit tests and the program tests (tests/programs, both targets, GC stress).
test-cargo:
	cargo test --release --workspace

lit: build
	lit -sv lit/

# The frontend fuzzer (tests/fuzz/fuzz.py): mutated test programs must get
# a diagnostic or compile, never an internal error, a panic or a hang; and
# generated programs must print the same at -O0, -O2, on wasm32 and under
# GC stress. Findings go to target/fuzz/findings.
FUZZ_SECONDS ?= 600
fuzz: build
	python3 tests/fuzz/fuzz.py --seconds $(FUZZ_SECONDS)

# A fixed set of fuzz cases (the same every run), part of `make test`.
fuzz-smoke: build
	python3 tests/fuzz/fuzz.py --cases 200 --seed 1

bench: build
	python3 bench/run.py

bench-quick: build
	python3 bench/run.py --quick

clean:
	cargo clean
