#!/usr/bin/env bash
# Are-We-Fast-Yet: Kiln against Lua running the suite's own Lua ports (Lua 5.4, or
# LuaJIT with LUA=luajit), and Node running its JavaScript ports when NODE=1.
# Usage: benches/awfy.sh [PATH-TO-are-we-fast-yet] [OUTER] [BENCHMARK[=INNER]...]
# KILN_TIER=interp|jit|auto picks Kiln's tier (default: vmrun's, auto).
# With benchmark names only those run (`Havlak=15` also overrides the inner size: the
# standard Havlak 1500 takes minutes per iteration in both columns).
# Without the suite's path (or without lua5.4) the Lua column is left out. Prints, per
# benchmark, the median runtime of an outer iteration at the standard inner size
# (rebench.conf) and the ratio Kiln / Lua, then the geometric mean of the ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
suite=${1:-}
outer=${2:-5}
cargo build --release --quiet
sizes=("Sieve 3000" "Towers 600" "Queens 1000" "Permute 1000" "List 1500" "Bounce 1500" "Storage 1000" "Mandelbrot 500" "NBody 250000" "Richards 100" "DeltaBlue 12000" "Json 100" "Havlak 1500" "CD 250")
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
runtimes() { sed -n 's/.*iterations=1 runtime: \([0-9]*\)us.*/\1/p' | median; }
lua=""
want_lua=${LUA:-lua5.4}
tier=${KILN_TIER:-auto}
if [[ -n "$suite" && -d "$suite/benchmarks/Lua" ]] && command -v "$want_lua" >/dev/null; then lua=$want_lua; fi
node=""
if [[ "${NODE:-0}" == 1 && -n "$suite" && -d "$suite/benchmarks/JavaScript" ]] && command -v node >/dev/null; then node=node; fi
echo "| benchmark | inner | kiln $tier (us) | $want_lua (us) | kiln / lua | node (us) |"
echo "|---|---|---|---|---|---|"
logsum=0; n=0
shift $(( $# < 2 ? $# : 2 ))
declare -A chosen=()
for arg in "$@"; do chosen[${arg%%=*}]=${arg#*=}; done
for row in "${sizes[@]}"; do
    read -r name inner <<<"$row"
    if [[ ${#chosen[@]} -gt 0 ]]; then
        [[ -v chosen[$name] ]] || continue
        [[ ${chosen[$name]} != "$name" ]] && inner=${chosen[$name]}
    fi
    k=$(target/release/vmrun --tier "$tier" benches/awfy/harness.kiln "$name" "$outer" "$inner" | runtimes)
    js=-
    if [[ -n "$node" ]]; then
        js=$(cd "$suite/benchmarks/JavaScript" && node harness.js "$name" "$outer" "$inner" | runtimes)
    fi
    if [[ -n "$lua" ]]; then
        l=$(cd "$suite/benchmarks/Lua" && "$lua" harness.lua "$name" "$outer" "$inner" | runtimes)
        ratio=$(awk -v k="$k" -v l="$l" 'BEGIN {printf "%.2f", k / l}')
        logsum=$(awk -v s="$logsum" -v r="$ratio" 'BEGIN {print s + log(r)}'); n=$((n + 1))
        echo "| $name | $inner | $k | $l | $ratio | $js |"
    else
        echo "| $name | $inner | $k | - | - | $js |"
    fi
done
if [[ $n -gt 0 ]]; then
    awk -v s="$logsum" -v n="$n" 'BEGIN {printf "\ngeomean kiln / lua: %.2f\n", exp(s / n)}'
fi
