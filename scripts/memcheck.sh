#!/usr/bin/env bash
# Memory-safety check of the unsafe code (heap, register file, dispatch loop) under
# valgrind memcheck, standing in for Miri, which needs a nightly toolchain: the runtime's
# unit tests (gc, register file), the hand-made sandbox modules, random programs with
# and without GC stress (in-process, on the system allocator), and a slice of the golden
# corpus through `vmrun --gc-stress`. Any memcheck error fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "memcheck: valgrind is needed (apt-get install valgrind)" >&2; exit 1; }
vg=(valgrind --quiet --error-exitcode=99 --leak-check=no --track-origins=no)

# The test executables of the workspace build test.sh has just made (the same features,
# so nothing is rebuilt): target name -> path.
built=$(cargo test --workspace --exclude kiln-aot-rt --all-targets --no-run --message-format=json 2>/dev/null)
test_binary() {
    grep "\"name\":\"$1\"" <<<"$built" | grep '"test":true' |
        sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -1
}

runtime_lib=$(test_binary kiln_runtime)
sandbox=$(test_binary sandbox)
random=$(test_binary random_programs)
echo "memcheck ${SECONDS}s: runtime unit tests"
"${vg[@]}" "$runtime_lib" --test-threads=1 -q >/dev/null
echo "memcheck ${SECONDS}s: sandbox modules"
"${vg[@]}" "$sandbox" --test-threads=1 -q >/dev/null
echo "memcheck ${SECONDS}s: 40 random programs (module, bytes, GC stress)"
KILN_RANDOM_PROGRAMS=40 KILN_RANDOM_AOT=0 "${vg[@]}" "$random" --test-threads=1 -q >/dev/null
# The shipped profile's vmrun, from the build of test.sh's release step (a fat-LTO build
# takes minutes; this one is shared).
cargo test --release --quiet --test jit --no-run
echo "memcheck ${SECONDS}s: corpus slice under vmrun --gc-stress"
for p in tests/programs/gc/*.kiln tests/programs/structs/*.kiln tests/programs/strings/*.kiln; do
    flags=$(sed -n 's|^// flags: ||p' "$p")
    # shellcheck disable=SC2086
    "${vg[@]}" target/release/vmrun --gc-stress $flags "$p" >/dev/null 2>&1 || {
        status=$?
        if [ "$status" = 99 ]; then echo "memcheck: errors in $p" >&2; exit 1; fi
    }
done
echo "memcheck ${SECONDS}s: clean"
