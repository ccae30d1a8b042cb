#!/usr/bin/env bash
# Builds the Python example plugins into OUT_DIR/<plugin>.wasm with
# componentize-py (install it with setup.sh).
#
#   build.sh OUT_DIR
#
# A plugin is rebuilt only when one of its inputs (its Python sources, its WIT
# files, this script, toolchain.env) is newer than its .wasm. Outputs are
# written to a temporary file in OUT_DIR and then renamed. Nothing is written
# in the source tree: the sources are copied to a scratch directory under
# OUT_DIR/work/ first, because the build imports them and Python would leave
# __pycache__ directories next to them.
#
# Exit status: 0 on success, 3 if componentize-py (at the pinned version) is
# missing, anything else if a build failed (the tool's errors on stderr).
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 OUT_DIR" >&2
    exit 2
fi

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
wit_root=$(cd "$here/../../wit/example-interfaces" && pwd)
# shellcheck source=toolchain.env
source "$here/toolchain.env"

# plugin name (= WIT world = WIT directory) -> Python package directory
plugins=(text-filter:text_filter file-reader:file_reader tallies:tallies)

if ! found=$(componentize-py --version 2>/dev/null); then
    echo "componentize-py $COMPONENTIZE_PY_VERSION (PyPI) is not installed" >&2
    exit 3
fi
if [ "$found" != "componentize-py $COMPONENTIZE_PY_VERSION" ]; then
    echo "componentize-py $COMPONENTIZE_PY_VERSION (PyPI) is needed, found $found" >&2
    exit 3
fi

mkdir -p "$1/work"
out=$(cd "$1" && pwd)
scratch=$(mktemp -d "$out/work/python.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

# build_one PLUGIN PACKAGE_DIR: builds OUT_DIR/PLUGIN.wasm if it is out of date.
build_one() {
    local plugin=$1 src="$here/$2" wit="$wit_root/$1"
    local wasm="$out/$plugin.wasm"
    if [ -f "$wasm" ] && [ -z "$(find "$src" "$wit" "$here/build.sh" "$here/toolchain.env" \
            -newer "$wasm" -print -quit)" ]; then
        return 0
    fi
    local work="$scratch/$plugin"
    mkdir -p "$work"
    cp -R "$src/." "$work/"
    local tmp="$out/.$plugin.wasm.tmp.$$"
    # componentize-py imports `app` (running its top level) and snapshots the
    # initialised interpreter into the component. Without RUST_BACKTRACE its
    # errors are the Python error, not a page of Rust stack frames.
    if ! (cd "$work" && env -u RUST_BACKTRACE -u RUST_LIB_BACKTRACE \
            componentize-py -q -d "$wit/$plugin.wit" -w "$plugin" \
            componentize -p "$work" app -o "$tmp"); then
        rm -f "$tmp"
        echo "build.sh: building $plugin.wasm failed" >&2
        return 1
    fi
    mv -f "$tmp" "$wasm"
}

# Each build is mostly single-threaded and takes several seconds: run them
# side by side.
pids=()
for entry in "${plugins[@]}"; do
    build_one "${entry%%:*}" "${entry#*:}" &
    pids+=($!)
done
status=0
for pid in "${pids[@]}"; do
    wait "$pid" || status=1
done
exit "$status"
