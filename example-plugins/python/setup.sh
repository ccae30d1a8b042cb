#!/usr/bin/env bash
# Installs the toolchain for the Python example plugins: componentize-py
# (from PyPI), which bundles a CPython interpreter built for WASI and turns a
# Python module into a WebAssembly component for a WIT world.
#
# It installs into the current `python3`'s environment (the active virtualenv,
# if any). Quick when the pinned version is already installed.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=toolchain.env
source "$here/toolchain.env"

if ! command -v python3 >/dev/null 2>&1; then
    echo "setup.sh: python3 is not installed (componentize-py needs Python 3.9 or newer with pip)" >&2
    exit 1
fi

installed=$(python3 -c 'import importlib.metadata as m; print(m.version("componentize-py"))' 2>/dev/null || true)
if [ "$installed" = "$COMPONENTIZE_PY_VERSION" ]; then
    echo "componentize-py $COMPONENTIZE_PY_VERSION is already installed"
    exit 0
fi

python3 -m pip install --disable-pip-version-check --root-user-action=ignore --quiet \
    "componentize-py==$COMPONENTIZE_PY_VERSION"
# pyenv only exposes a new console script after a rehash.
if command -v pyenv >/dev/null 2>&1; then
    pyenv rehash || true
fi
echo "installed componentize-py $COMPONENTIZE_PY_VERSION"
