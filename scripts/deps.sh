# Sourced by quickstart.sh and test.sh: installs what they need on a fresh machine and
# leaves an existing installation alone. `needs_tests=1` before sourcing adds what the
# test suite needs. Debian packages are installed with apt-get (as root, as in CI).

# Cranelift 0.135 needs rustc 1.95 (Cargo.toml's rust-version).
if ! command -v cargo >/dev/null 2>&1; then
    echo "installing the Rust toolchain with rustup" >&2
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
    # shellcheck disable=SC1091
    . "$HOME/.cargo/env"
fi
if command -v rustup >/dev/null 2>&1 && ! rustc --version | awk '{split($2, v, "."); exit !(v[1] > 1 || v[2] >= 95)}'; then
    rustup toolchain install stable --profile minimal >/dev/null && rustup default stable >/dev/null
fi

# apt_install COMMAND PACKAGE...: installs the packages when COMMAND is missing.
apt_install() {
    local command=$1
    shift
    command -v "$command" >/dev/null 2>&1 && return 0
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "$command is missing: install $* (no apt-get here)" >&2
        return 1
    fi
    echo "installing $* from Debian" >&2
    apt-get install -y "$@" >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y "$@" >/dev/null; }
}

# A C compiler: mimalloc (the tools' allocator) is built from C, and it links vmc aot's
# executables.
apt_install cc gcc
if [ "${needs_tests:-0}" = 1 ]; then
    rustup component add rustfmt clippy >/dev/null 2>&1 || true
    # valgrind: scripts/memcheck.sh and the C API test (tests/c_api.rs) run under it.
    apt_install valgrind valgrind
    # The aarch64 cross test (tests/aot_cross.rs) links with the cross gcc, runs under qemu.
    apt_install aarch64-linux-gnu-gcc gcc-aarch64-linux-gnu
    apt_install qemu-aarch64 qemu-user
fi
