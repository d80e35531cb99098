#!/usr/bin/env bash
# Instruction counts (valgrind --tool=callgrind) for Kiln and Lua 5.4 on smaller sizes
# of each benchmark: stable across runs on a shared machine, unlike wall time.
# Appends a table to benches/results.md.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "valgrind is needed" >&2; exit 1; }
cargo build --release --quiet
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# name | substitution applied to both sources to shrink the problem
shrink=(
    "fib|s/fib(35)/fib(25)/"
    "loop|s/60000000/2000000/"
    "nbody|s/0\.\.1000000/0..20000/; s/1, 1000000/1, 20000/"
    "sieve|s/0\.\.100 /0..5 /; s/1, 100 /1, 5 /"
    "binary_trees|s/max_depth = 16/max_depth = 12/; s/else { 16 }/else { 12 }/"
    "string_ops|s/300000/30000/; s/299999/29999/"
)
count() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null | sed -n 's/.*refs: *//p' | tr -d ,; }
{
    echo
    echo "## Instructions executed (callgrind, smaller sizes: see benches/callgrind.sh)"
    echo
    echo "| benchmark | kiln interp | lua 5.4 | ratio |"
    echo "|---|---|---|---|"
} >> benches/results.md
for row in "${shrink[@]}"; do
    name=${row%%|*}
    expr=${row#*|}
    sed "$expr" "benches/programs/$name.kiln" > "$tmp/$name.kiln"
    sed "$expr" "benches/programs/$name.lua" > "$tmp/$name.lua"
    ./target/release/vmc build "$tmp/$name.kiln" -o "$tmp/$name.bc"
    k=$(count ./target/release/vmrun "$tmp/$name.bc")
    l=$(count lua5.4 "$tmp/$name.lua")
    python3 -c "import sys; k, l = int(sys.argv[1]), int(sys.argv[2]); print(f'| $name | {k:,} | {l:,} | {k / l:.2f} |')" "$k" "$l" >> benches/results.md
done
cat benches/results.md
