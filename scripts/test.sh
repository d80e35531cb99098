#!/usr/bin/env bash
# The whole test suite: formatting, lints, and every test of every crate. Installs what
# it needs first (scripts/deps.sh) when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
needs_tests=1
. scripts/deps.sh
# Each step says when it starts, so a slow CI run shows where its time went.
run() { echo "== test.sh ${SECONDS}s: $*" >&2; "$@"; }
run cargo fmt --all -- --check
run cargo clippy --workspace --exclude kiln-aot-rt --all-targets --quiet -- -D warnings
# The ahead-of-time runtime library alone: a build with the other packages would unify
# the runtime's features and give it the JIT.
run cargo clippy -p kiln-aot-rt --quiet -- -D warnings
# It goes beside the test build's vmc, where `vmc aot` finds it (tests/programs.rs).
run cargo build --profile test -p kiln-aot-rt
run cargo test --workspace --exclude kiln-aot-rt --all-targets
run cargo test --workspace --exclude kiln-aot-rt --doc
# The corpus again with the interpreter re-checking what it trusts the verifier for
# (its own tier: the compiled tiers barely interpret).
run cargo test --test programs --features checked -- ::interp::
# Compiled code in the shipped profile (LTO, no debug assertions): stack depth and
# inlining differ from the test profile's, and a release-only stack overflow once got
# past CI (issue 7's closing note).
run cargo test --release --quiet --test jit
# The unsafe code under valgrind memcheck (Miri needs a nightly toolchain);
# its vmrun is the release step's.
run scripts/memcheck.sh
echo "== test.sh ${SECONDS}s: done" >&2
