#!/usr/bin/env bash
# Are-We-Fast-Yet: Kiln's interpreter against Lua 5.4 running the suite's own Lua ports.
# Usage: benches/awfy.sh [PATH-TO-are-we-fast-yet] [OUTER] [BENCHMARK[=INNER]...]
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
if [[ -n "$suite" && -d "$suite/benchmarks/Lua" ]] && command -v lua5.4 >/dev/null; then lua=lua5.4; fi
echo "| benchmark | inner | kiln (us) | lua 5.4 (us) | kiln / lua |"
echo "|---|---|---|---|---|"
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
    k=$(target/release/vmrun benches/awfy/harness.kiln "$name" "$outer" "$inner" | runtimes)
    if [[ -n "$lua" ]]; then
        l=$(cd "$suite/benchmarks/Lua" && lua5.4 harness.lua "$name" "$outer" "$inner" | runtimes)
        ratio=$(awk -v k="$k" -v l="$l" 'BEGIN {printf "%.2f", k / l}')
        logsum=$(awk -v s="$logsum" -v r="$ratio" 'BEGIN {print s + log(r)}'); n=$((n + 1))
        echo "| $name | $inner | $k | $l | $ratio |"
    else
        echo "| $name | $inner | $k | - | - |"
    fi
done
if [[ $n -gt 0 ]]; then
    awk -v s="$logsum" -v n="$n" 'BEGIN {printf "\ngeomean kiln / lua: %.2f\n", exp(s / n)}'
fi
