# Sourced by the benchmark scripts: installs the peers and tools they compare against.
# need_tools TOOL...: installs each missing TOOL from Debian (each tool here is named
# like its package: lua5.4, luajit, hyperfine).
need_tools() {
    local missing=()
    for tool in "$@"; do
        command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "installing ${missing[*]} from Debian" >&2
    apt-get install -y "${missing[@]}" >/dev/null 2>&1 ||
        { apt-get update >/dev/null && apt-get install -y "${missing[@]}" >/dev/null; }
}
