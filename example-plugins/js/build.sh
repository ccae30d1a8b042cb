#!/usr/bin/env bash
# Builds the JavaScript example plugins into OUT_DIR:
#   text-filter.wasm  (QuickJS engine, WASI stubbed out)
#   file-reader.wasm  (QuickJS engine, imports wasi:filesystem)
#   fetcher.wasm      (StarlingMonkey engine, for fetch() over wasi:http)
#
# Usage: example-plugins/js/build.sh OUT_DIR
#
# A component is rebuilt only when one of its inputs (its source, its WIT
# files, package-lock.json or this script) is newer than it. Outputs are
# written to a temporary file in OUT_DIR and then renamed; intermediate files
# go in OUT_DIR/work. Exit status 3: the toolchain is missing (run setup.sh).
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 OUT_DIR" >&2
    exit 2
fi

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
wit="$here/../../wit/example-interfaces"
self="$here/build.sh"

missing() {
    echo "$1" >&2
    exit 3
}
setup="run example-plugins/js/setup.sh"
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 ||
    missing "Node.js (node and npm) is not installed; install Node.js 20 or newer, then $setup"
jco="$here/node_modules/.bin/jco"
[ -x "$jco" ] || missing "jco is not installed (no example-plugins/js/node_modules/.bin/jco); $setup"
[ "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ] &&
    missing "example-plugins/js/node_modules is older than package-lock.json; $setup"
# The WASI packages (WIT) that ship with jco, matching the WASI version the
# QuickJS engine imports.
wasi_wit="$here/node_modules/@bytecodealliance/jco/lib/wit/builtin/0.2.12"
[ -d "$wasi_wit" ] || missing "jco's WASI 0.2.12 WIT files are missing ($wasi_wit); $setup"

mkdir -p "$1"
out=$(cd "$1" && pwd)
mkdir -p "$out/work"
work=$(mktemp -d "$out/work/build.XXXXXX")
tmp=""
cleanup() {
    rm -rf "$work"
    if [ -n "$tmp" ]; then rm -f "$tmp"; fi
}
trap cleanup EXIT

# up_to_date OUTPUT INPUT...: OUTPUT exists and no INPUT is newer.
up_to_date() {
    local output=$1
    shift
    [ -f "$output" ] || return 1
    local input
    for input in "$@"; do
        [ "$input" -nt "$output" ] && return 1
    done
    return 0
}

# build NAME WIT_PATH WORLD SOURCE [JCO_OPTION...]
build() {
    local name=$1 wit_path=$2 world=$3 source=$4
    shift 4
    local output="$out/$name.wasm"
    tmp="$out/.$name.wasm.$$.tmp"
    echo "building $name.wasm" >&2
    # jco prints its progress on stdout: keep stdout for nothing else.
    "$jco" componentize "$source" --wit "$wit_path" --world-name "$world" \
        --out "$tmp" "$@" >&2
    mv -f "$tmp" "$output"
    tmp=""
}

common_inputs=("$self" "$here/package-lock.json")

# text-filter: QuickJS. It uses no WASI, and `--backend-qjs-stub-wasi`
# replaces the engine's own WASI imports with traps, so the component imports
# only the key-value interface (a host refuses to load a plugin importing
# wasi:filesystem without a file grant). The non-async QuickJS runtime, since
# the host does not enable the component model's async support.
src="$here/text-filter.js"
w="$wit/text-filter/text-filter.wit"
if ! up_to_date "$out/text-filter.wasm" "$src" "$w" "${common_inputs[@]}"; then
    build text-filter "$w" text-filter "$src" \
        --backend quickjs --backend-qjs-disable-async --backend-qjs-stub-wasi
fi

# file-reader: QuickJS with its WASI imports, built against the local world
# (golden world + wasi:filesystem) assembled in a WIT folder with deps.
src="$here/file-reader.js"
w="$wit/file-reader/file-reader.wit"
local_w="$here/wit/file-reader.wit"
if ! up_to_date "$out/file-reader.wasm" "$src" "$w" "$local_w" "${common_inputs[@]}"; then
    d="$work/file-reader-wit"
    mkdir -p "$d/deps/example-interfaces-file-reader"
    cp "$local_w" "$d/"
    cp "$w" "$d/deps/example-interfaces-file-reader/"
    for pkg in filesystem io clocks; do
        mkdir -p "$d/deps/wasi-$pkg"
        cp "$wasi_wit/wasi-$pkg/package.wit" "$d/deps/wasi-$pkg/"
    done
    build file-reader "$d" file-reader "$src" \
        --backend quickjs --backend-qjs-disable-async
fi

# fetcher: StarlingMonkey, whose fetch() uses wasi:http. Everything but the
# http feature is disabled, so the component imports only wasi:http and
# wasi:io (no filesystem, clocks, random or stdio).
src="$here/fetcher.js"
w="$wit/fetcher/fetcher.wit"
if ! up_to_date "$out/fetcher.wasm" "$src" "$w" "${common_inputs[@]}"; then
    build fetcher "$w" fetcher "$src" \
        --disable fetch-event stdio clocks random
fi
