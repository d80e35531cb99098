#!/usr/bin/env bash
# Ahead-of-time executables against the other ways to run a program, with hyperfine:
# start-up of `hello` (AOT executable, C, `vmrun hello.bc`, Lua 5.4), steady-state speed
# of benches/programs (AOT executable against `vmrun --tier jit`), executable sizes.
# Writes benches/results-aot.md.
#   benches/aot.sh            everything
#   RUNS=10 benches/aot.sh    more runs per program (default 5; start-up takes 20x)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-5}

. benches/peers.sh
need_tools lua5.4 hyperfine
cargo build --release --quiet
# Alone: with the tools, Cargo would unify features and give the library the JIT.
cargo build --release --quiet -p kiln-aot-rt
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
vmc=./target/release/vmc
vmrun=./target/release/vmrun

median() { # hyperfine JSON, command name -> median seconds
    python3 -c 'import json,sys; print(next(r["median"] for r in json.load(open(sys.argv[1]))["results"] if r["command"] == sys.argv[2]))' "$1" "$2"
}

out=benches/results-aot.md
{
    echo "# Ahead-of-time executables"
    echo
    echo "$(date -u +%Y-%m-%d), $(nproc) cores, gcc $(gcc -dumpversion), $(lua5.4 -v 2>&1 | head -1 | cut -d' ' -f1-2)."
    echo "hyperfine -N, whole process, median seconds. Regenerate with \`benches/aot.sh\`."
    echo
    echo "## Start-up: hello"
    echo
} > "$out"

printf 'fn main() { println("hello"); }\n' > "$tmp/hello.kiln"
printf '#include <stdio.h>\nint main(void) { puts("hello"); return 0; }\n' > "$tmp/hello.c"
printf 'print("hello")\n' > "$tmp/hello.lua"
gcc -O2 "$tmp/hello.c" -o "$tmp/hello_c"
$vmc build "$tmp/hello.kiln" -o "$tmp/hello.bc"
$vmc aot "$tmp/hello.bc" -o "$tmp/hello_aot"
for exe in "$tmp/hello_aot" "$tmp/hello_c"; do [ "$("$exe")" = hello ] || { echo "$exe is wrong" >&2; exit 1; }; done
hyperfine -N --warmup 20 --runs $((runs * 40)) --export-json "$tmp/hello.json" \
    -n aot "$tmp/hello_aot" -n c "$tmp/hello_c" -n vmrun "$vmrun $tmp/hello.bc" -n lua "lua5.4 $tmp/hello.lua" >/dev/null
aot=$(median "$tmp/hello.json" aot); c=$(median "$tmp/hello.json" c)
vm=$(median "$tmp/hello.json" vmrun); lua=$(median "$tmp/hello.json" lua)
strip -o "$tmp/hello_aot_stripped" "$tmp/hello_aot"
strip -o "$tmp/hello_c_stripped" "$tmp/hello_c"
python3 - "$aot" "$c" "$vm" "$lua" >> "$out" <<'PY'
import sys
aot, c, vm, lua = map(float, sys.argv[1:])
ms = lambda s: f"{s * 1e3:.2f} ms"
print("| AOT executable | C (gcc -O2) | vmrun hello.bc | lua5.4 | AOT / C | vmrun / AOT |")
print("|---|---|---|---|---|---|")
print(f"| {ms(aot)} | {ms(c)} | {ms(vm)} | {ms(lua)} | {aot / c:.2f} | {vm / aot:.2f} |")
PY
{
    echo
    echo "Sizes: AOT hello $(stat -c %s "$tmp/hello_aot") bytes ($(stat -c %s "$tmp/hello_aot_stripped") stripped),"
    echo "C hello $(stat -c %s "$tmp/hello_c") bytes ($(stat -c %s "$tmp/hello_c_stripped") stripped),"
    echo "runtime library libkiln_rt.a $(stat -c %s target/release/libkiln_rt.a) bytes."
    echo
    echo "## Steady state: benches/programs, AOT executable against \`vmrun --tier jit\`"
    echo
    echo "Two passes of $runs runs + 1 warm-up, in both orders; the lower median of each. Ratio ="
    echo "AOT / JIT (below 1: the executable is faster; it also skips compiling at run time)."
    echo
    echo "| program | vmrun --tier jit (s) | AOT executable (s) | ratio | executable bytes |"
    echo "|---|---|---|---|---|"
} >> "$out"
for src in benches/programs/*.kiln; do
    name=$(basename "$src" .kiln)
    $vmc build "$src" -o "$tmp/$name.bc"
    $vmc aot "$tmp/$name.bc" -o "$tmp/$name"
    # Both must print the same thing before timing means anything.
    if [ "$("$tmp/$name")" != "$($vmrun --tier jit "$tmp/$name.bc")" ]; then
        echo "output of $name differs between the executable and vmrun" >&2
        exit 1
    fi
    # Twice, in both orders, keeping each command's lower median: a noisy spell of the
    # shared machine then has to hit both passes of one command to skew the ratio.
    hyperfine -N --warmup 1 --runs "$runs" --export-json "$tmp/$name.1.json" \
        -n jit "$vmrun --tier jit $tmp/$name.bc" -n aot "$tmp/$name" >/dev/null
    hyperfine -N --warmup 1 --runs "$runs" --export-json "$tmp/$name.2.json" \
        -n aot "$tmp/$name" -n jit "$vmrun --tier jit $tmp/$name.bc" >/dev/null
    lower() { python3 -c 'import sys; print(min(map(float, sys.argv[1:])))' "$@"; }
    j=$(lower "$(median "$tmp/$name.1.json" jit)" "$(median "$tmp/$name.2.json" jit)")
    a=$(lower "$(median "$tmp/$name.1.json" aot)" "$(median "$tmp/$name.2.json" aot)")
    python3 -c 'import sys; n,j,a,s=sys.argv[1:]; print(f"| {n} | {float(j):.3f} | {float(a):.3f} | {float(a)/float(j):.2f} | {s} |")' \
        "$name" "$j" "$a" "$(stat -c %s "$tmp/$name")" >> "$out"
done
cat "$out"
