#!/usr/bin/env bash
# Installs what Kiln needs (a Rust toolchain, a C compiler), builds the tools and the
# runtime library of ahead-of-time executables, compiles the sample app to bytecode and
# runs it, then compiles it ahead of time to an executable and runs that.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
echo "building Kiln (release, link-time optimised: the first build takes a few minutes)" >&2
cargo build --release
# On its own: built with the tools, Cargo would unify features and give it the JIT.
cargo build --release -p kiln-aot-rt
mkdir -p target/sample
./target/release/vmc build examples/sample/app.kiln -o target/sample/app.bc
./target/release/vmrun --stats target/sample/app.bc from the quick start
./target/release/vmc aot target/sample/app.bc -o target/sample/app
KILN_FUEL=1000000 ./target/sample/app ahead of time
