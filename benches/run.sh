#!/usr/bin/env bash
# Runs each benchmark under Kiln's interpreter and Lua 5.4, side by side, with hyperfine,
# and writes a table of medians and ratios to benches/results.md.
#   benches/run.sh            all benchmarks
#   benches/run.sh fib sieve  a selection
#   RUNS=10 benches/run.sh    more runs per command (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-5}

. benches/peers.sh
need_tools lua5.4 hyperfine

cargo build --release --quiet
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(fib loop nbody sieve binary_trees string_ops fannkuch_redux spectral_norm k_nucleotide)

out=benches/results.md
{
    echo "# Benchmark results"
    echo
    echo "$(date -u +%Y-%m-%d), $(nproc) cores, $(lua5.4 -v 2>&1 | head -1), hyperfine ${runs} runs + 1 warm-up; median seconds."
    echo "Ratio = Kiln / Lua (below 1: Kiln is faster). Regenerate with \`benches/run.sh\`."
    echo
    echo "| benchmark | kiln interp (s) | lua 5.4 (s) | ratio |"
    echo "|---|---|---|---|"
} > "$out"
for name in "${names[@]}"; do
    src=benches/programs/$name.kiln
    ./target/release/vmc build "$src" -o "$tmp/$name.bc"
    # Both must print the same thing before timing means anything.
    kiln_out=$(./target/release/vmrun "$tmp/$name.bc")
    lua_out=$(lua5.4 "benches/programs/$name.lua")
    if [ "$name" != nbody ] && [ "$kiln_out" != "$lua_out" ]; then
        echo "output of $name differs between Kiln and Lua" >&2
        exit 1
    fi
    hyperfine -N --warmup 1 --runs "$runs" --export-json "$tmp/$name.json" \
        -n kiln "./target/release/vmrun $tmp/$name.bc" \
        -n lua "lua5.4 benches/programs/$name.lua" >/dev/null
    python3 - "$tmp/$name.json" "$name" >> "$out" <<'PY'
import json, sys
results = {r["command"]: r["median"] for r in json.load(open(sys.argv[1]))["results"]}
k, l = results["kiln"], results["lua"]
print(f"| {sys.argv[2]} | {k:.3f} | {l:.3f} | {k / l:.2f} |")
PY
done
cat "$out"
