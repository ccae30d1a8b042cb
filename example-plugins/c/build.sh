#!/usr/bin/env bash
# Builds the C example plugins into components: OUT_DIR/text-filter.wasm and
# OUT_DIR/file-reader.wasm.
#
#   example-plugins/c/build.sh OUT_DIR
#
# For each plugin: the build tool (tool/, Rust) writes the C bindings of the
# plugin's WIT world, clang 19 compiles the plugin and the bindings for
# wasm32-wasi (WASI preview 1, reactor), and the tool turns the core module
# into a component with wasmtime 48's WASI preview 1 reactor adapter.
#
# Skips a plugin whose component is newer than all its inputs. Intermediate
# files go to OUT_DIR/work and OUT_DIR/tool-target.
#
# Exit status 3: the toolchain is missing (run example-plugins/c/setup.sh).
set -euo pipefail

if [ "$#" -ne 1 ]; then
    echo "usage: $0 OUT_DIR" >&2
    exit 2
fi

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
wit_root="$here/../../wit/example-interfaces"
mkdir -p "$1"
out_dir=$(cd "$1" && pwd)

# The toolchain: Debian's clang 19 and wasi-libc (see setup.sh).
clang=clang-19
wasi_include=/usr/include/wasm32-wasi
wasi_lib=/usr/lib/wasm32-wasi
missing() {
    echo "C toolchain missing: $1 (run example-plugins/c/setup.sh)" >&2
    exit 3
}
command -v "$clang" >/dev/null || missing "clang-19"
command -v wasm-ld-19 >/dev/null || missing "wasm-ld-19 (package lld-19)"
[ -f "$wasi_include/stdio.h" ] && [ -f "$wasi_lib/libc.a" ] &&
    [ -f "$wasi_lib/crt1-reactor.o" ] || missing "the wasi-libc sysroot ($wasi_include, $wasi_lib)"
resource_dir=$("$clang" -print-resource-dir)
[ -f "$resource_dir/lib/wasi/libclang_rt.builtins-wasm32.a" ] ||
    missing "the wasm32 compiler runtime (package libclang-rt-19-dev-wasm32)"
command -v cargo >/dev/null || missing "cargo"

# Runs a command; a failure exits with its status, never with 3 (which means
# "toolchain missing" to the caller).
run() {
    local status=0
    "$@" || status=$?
    if [ "$status" -ne 0 ]; then
        [ "$status" -eq 3 ] && status=1
        exit "$status"
    fi
}

# One build at a time per OUT_DIR.
exec 9>"$out_dir/.c-build.lock"
flock 9

tool="$out_dir/tool-target/release/c-plugin-tool"
tool_inputs=("$here/tool/Cargo.toml" "$here/tool/Cargo.lock" "$here/tool/src")
tool_built=false
build_tool() {
    if [ "$tool_built" = false ]; then
        run cargo build --quiet --release --locked \
            --manifest-path "$here/tool/Cargo.toml" \
            --target-dir "$out_dir/tool-target"
        tool_built=true
    fi
}

# build_plugin NAME WORLD SOURCE: builds OUT_DIR/NAME.wasm from SOURCE
# (in this directory) and the WIT world WORLD.
build_plugin() {
    local name=$1 world=$2 source="$here/$3"
    local wit="$wit_root/$name/$name.wit"
    local out="$out_dir/$name.wasm"
    local inputs=("$source" "$wit" "$here/build.sh" "${tool_inputs[@]}")
    if [ -f "$out" ] && [ -z "$(find "${inputs[@]}" -newer "$out" -print -quit)" ]; then
        echo "$name.wasm is up to date"
        return
    fi
    build_tool

    local work="$out_dir/work/$name"
    local bindings="$work/bindings"
    local c_world=${world//-/_}
    mkdir -p "$work"
    # ANCHOR: steps
    run "$tool" bindgen --wit "$wit" --world "$world" --out "$bindings" >/dev/null

    # Only the wasi-libc headers, never the host's /usr/include.
    local cflags=(--target=wasm32-wasi -O2 -std=c11 -nostdlibinc
        -isystem "$wasi_include" -I "$bindings")
    run "$clang" "${cflags[@]}" -Wall -Wextra -Werror -c "$source" -o "$work/plugin.o"
    run "$clang" "${cflags[@]}" -c "$bindings/$c_world.c" -o "$work/bindings.o"
    run "$clang" --target=wasm32-wasi -mexec-model=reactor -L "$wasi_lib" \
        -Wl,--strip-debug \
        "$work/plugin.o" "$work/bindings.o" "$bindings/${c_world}_component_type.o" \
        -o "$work/core.wasm"

    local tmp="$out_dir/.$name.wasm.tmp.$$"
    run "$tool" componentize --module "$work/core.wasm" --wit "$wit" --world "$world" \
        -o "$tmp" >/dev/null
    # ANCHOR_END: steps
    mv -f "$tmp" "$out"
    echo "built $out ($(wc -c <"$out") bytes)"
}

build_plugin text-filter text-filter text_filter.c
build_plugin file-reader file-reader file_reader.c
