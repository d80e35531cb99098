#!/usr/bin/env bash
# The whole test suite: formatting, lints, and every test of every crate.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
cargo clippy --workspace --exclude kiln-aot-rt --all-targets --quiet -- -D warnings
# The ahead-of-time runtime library alone: a build with the other packages would unify
# the runtime's features and give it the JIT.
cargo clippy -p kiln-aot-rt --quiet -- -D warnings
# It goes beside the test build's vmc, where `vmc aot` finds it (tests/programs.rs).
cargo build --profile test -p kiln-aot-rt
cargo test --workspace --exclude kiln-aot-rt --all-targets
cargo test --workspace --exclude kiln-aot-rt --doc
# The corpus again with the interpreter re-checking what it trusts the verifier for
# (its own tier: the compiled tiers barely interpret).
cargo test --test programs --features checked -- ::interp::
# The unsafe code under valgrind memcheck (Miri needs a nightly toolchain).
scripts/memcheck.sh
# Compiled code in the shipped profile (LTO, no debug assertions): stack depth and
# inlining differ from the test profile's, and a release-only stack overflow once got
# past CI (issue 7's closing note).
cargo test --release --quiet --test jit
