#!/usr/bin/env bash
# The JIT against C (gcc -O2), LuaJIT, Node and Python 3 on the programs in
# benches/compare/ (one algorithm per program, written once per language; every version
# must print the same result), side by side in one hyperfine run per program. Writes a
# table of medians and ratios to benches/results-jit.md.
#   benches/compare.sh                 every program
#   benches/compare.sh fib sieve       a selection
#   RUNS=10 benches/compare.sh         runs per command (default 3)
#   SKIP="python3 node" benches/compare.sh   leave peers out (Python takes minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-3}
skip=" ${SKIP:-} "

. benches/peers.sh
need_tools luajit hyperfine
cargo build --release --quiet
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(fib loop nbody sieve mandelbrot binary_trees dispatch strings)

results=benches/results-jit.md
out=$tmp/table.md
{
    echo "# Kiln's JIT against C, LuaJIT, Node and Python"
    echo
    echo "$(date -u +%Y-%m-%d), $(nproc) cores, gcc -O2 ($(gcc -dumpversion)), $(luajit -v | cut -d' ' -f1-2), node $(node --version), $(python3 --version)."
    echo "hyperfine, ${runs} runs + 1 warm-up, whole process; median seconds. \`auto\` is vmrun's default tier."
    echo "Regenerate with \`benches/compare.sh\`."
    echo
    echo "| program | kiln interp | kiln jit | kiln auto | C | LuaJIT | Node | Python | auto/C | auto/LuaJIT | interp/auto |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|"
} > "$out"
for name in "${names[@]}"; do
    src=benches/compare/$name
    ./target/release/vmc build "$src.kiln" -o "$tmp/$name.bc"
    gcc -O2 -o "$tmp/$name" "$src.c" -lm
    declare -A cmds=(
        [interp]="./target/release/vmrun --tier interp $tmp/$name.bc"
        [jit]="./target/release/vmrun --tier jit $tmp/$name.bc"
        [auto]="./target/release/vmrun $tmp/$name.bc"
        [c]="$tmp/$name"
        [luajit]="luajit $src.lua"
        [node]="node $src.js"
        [python3]="python3 $src.py"
    )
    order=(interp jit auto c luajit node python3)
    want=$(${cmds[c]})
    args=()
    for k in "${order[@]}"; do
        [[ "$skip" == *" $k "* ]] && continue
        got=$(${cmds[$k]})
        if [ "$got" != "$want" ]; then
            echo "$name: $k printed '$got', C printed '$want'" >&2
            exit 1
        fi
        args+=(-n "$k" "${cmds[$k]}")
    done
    hyperfine -N --warmup 1 --runs "$runs" --export-json "$tmp/$name.json" "${args[@]}" >/dev/null
    python3 - "$tmp/$name.json" "$name" >> "$out" <<'PY'
import json, sys
m = {r["command"]: r["median"] for r in json.load(open(sys.argv[1]))["results"]}
cell = lambda k: f"{m[k]:.3f}" if k in m else "-"
ratio = lambda a, b: f"{m[a] / m[b]:.2f}" if a in m and b in m else "-"
cols = [cell(k) for k in ["interp", "jit", "auto", "c", "luajit", "node", "python3"]]
print(f"| {sys.argv[2]} | " + " | ".join(cols) + f" | {ratio('auto', 'c')} | {ratio('auto', 'luajit')} | {ratio('interp', 'auto')} |")
PY
done
python3 - "$out" >> "$out" <<'PY'
import math, sys
rows = [l.split("|")[1:-1] for l in open(sys.argv[1]) if l.startswith("| ") and not l.startswith("| program")]
def geo(col):
    vals = [float(r[col]) for r in rows if r[col].strip() not in ("-", "")]
    return math.exp(sum(map(math.log, vals)) / len(vals)) if vals else float("nan")
print(f"\nGeometric means: auto/C {geo(8):.2f}, auto/LuaJIT {geo(9):.2f}, interp/auto {geo(10):.2f}.")
PY
# The table replaces the file's first section; later sections (Are-We-Fast-Yet, compile
# times: written by hand from benches/awfy.sh and `vmrun --stats`) stay.
python3 - "$out" "$results" <<'PY'
import sys, os
table = open(sys.argv[1]).read().rstrip() + "\n"
rest = ""
if os.path.exists(sys.argv[2]):
    old = open(sys.argv[2]).read()
    at = old.find("\n## ")
    rest = old[at:] if at >= 0 else ""
open(sys.argv[2], "w").write(table + rest)
PY
cat "$results"
