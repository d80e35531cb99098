#!/usr/bin/env bash
# Installs vmc and vmrun with `cargo install`, and the runtime library of ahead-of-time
# executables (libkiln_rt.a) beside them, where `vmc aot` looks for it: Cargo installs
# binaries only. Usage: scripts/install.sh [ROOT] (default: Cargo's, ~/.cargo).
set -euo pipefail
cd "$(dirname "$0")/.."
root="${1:-${CARGO_INSTALL_ROOT:-${CARGO_HOME:-$HOME/.cargo}}}"
cargo install --locked --path . --root "$root"
# On its own: built with the tools, Cargo would unify features and give it the JIT.
cargo build --release --locked -p kiln-aot-rt
install -m 644 target/release/libkiln_rt.a "$root/bin/libkiln_rt.a"
echo "installed vmc, vmrun and libkiln_rt.a in $root/bin" >&2
