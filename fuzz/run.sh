#!/usr/bin/env bash
# Runs the fuzz targets with cargo-fuzz (libFuzzer) on the nightly
# toolchain, each for SECONDS (default 60), growing fuzz/corpus/<target>.
#
#   fuzz/run.sh                 # every target, 60 s each
#   fuzz/run.sh 900 load wave   # those two, 15 min each
#
# Installs the nightly toolchain and cargo-fuzz from the registries if they
# are missing. Stable CI never needs this: `cargo test` replays the corpus
# (tests/e2e/fuzz_corpus.rs). A crash leaves its input in
# fuzz/artifacts/<target>/; add it to fuzz/corpus/<target>/ once fixed.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(load policy wave call)
fi

if ! rustup toolchain list | grep -q '^nightly'; then
    rustup toolchain install nightly --profile minimal
fi
if ! command -v cargo-fuzz >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

# The call and wave targets load the `type-probe` example plugin, built
# here with the project's pinned stable toolchain (the nightly one has no
# wasm32-wasip2 standard library).
cargo build -p example-plugins
probe=$(find target/debug/build -path '*wasm32-wasip2/release/type_probe.wasm' -newer Cargo.toml | head -n 1)
if [ -z "$probe" ]; then
    probe=$(find target/debug/build -path '*wasm32-wasip2/release/type_probe.wasm' | head -n 1)
fi
export WASM_SANDBOX_TYPE_PROBE="$PWD/$probe"

for target in "${targets[@]}"; do
    echo "==> fuzz target $target for ${seconds}s"
    # -rss_limit_mb: a target that grows past 4 GiB is a finding, not a
    # machine that runs out of memory; -timeout: one input may take 30 s.
    cargo +nightly fuzz run -O "$target" "fuzz/corpus/$target" -- \
        -max_total_time="$seconds" -rss_limit_mb=4096 -timeout=30 -print_final_stats=1
done
