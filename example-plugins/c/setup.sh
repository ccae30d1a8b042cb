#!/usr/bin/env bash
# Installs the toolchain for the C example plugins from Debian's packages:
# clang 19, its wasm linker (wasm-ld-19), the wasm32 compiler runtime and the
# wasi-libc sysroot (wasm32-wasi, WASI preview 1). Does nothing when the
# pinned versions are already installed.
#
# The Rust build tool under tool/ (bindings and componentizing) needs only the
# Rust toolchain the workspace already uses; build.sh compiles it on demand.
set -euo pipefail

# Pinned to the versions Debian 12 (bookworm) ships. If Debian replaces one of
# them in a point release, apt-get fails naming the version: update the pin.
llvm_version='1:19.1.7-3~deb12u1'
wasi_libc_version='0.0~git20220510.9886d3d-2'
packages=(
    "clang-19=$llvm_version"
    "lld-19=$llvm_version"
    "libclang-rt-19-dev-wasm32=$llvm_version"
    "wasi-libc=$wasi_libc_version"
)

missing=()
for spec in "${packages[@]}"; do
    name=${spec%%=*}
    want=${spec#*=}
    have=$(dpkg-query -W -f='${Status} ${Version}' "$name" 2>/dev/null || true)
    if [ "$have" != "install ok installed $want" ]; then
        missing+=("$spec")
    fi
done

if [ "${#missing[@]}" -eq 0 ]; then
    echo "C toolchain already installed (clang-19 $llvm_version, wasi-libc $wasi_libc_version)"
    exit 0
fi

echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"
