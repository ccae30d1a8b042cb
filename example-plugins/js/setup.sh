#!/usr/bin/env bash
# Installs the toolchain for the JavaScript example plugins from npm, at the
# exact versions recorded in package-lock.json, into
# example-plugins/js/node_modules:
#
# - @bytecodealliance/jco: the command-line tool (`jco componentize`);
# - componentize-qjs: the QuickJS engine build jco uses with
#   `--backend quickjs` (text-filter, file-reader);
# - @bytecodealliance/componentize-js: the StarlingMonkey (SpiderMonkey)
#   engine build, jco's default backend (fetcher, which needs `fetch()`).
#
# Node.js 20 or newer with npm must already be installed (Debian 12's own
# `nodejs` package is Node 18, which this toolchain was not tested with).
# Quick when node_modules already matches package-lock.json.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "setup.sh: Node.js 20 or newer with npm is not installed; install it (for example from your distribution or nodejs.org) and run this again" >&2
    exit 1
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
    echo "setup.sh: Node.js $(node --version) is too old; the JavaScript plugin toolchain needs Node.js 20 or newer" >&2
    exit 1
fi

# Does node_modules hold exactly what package-lock.json lists (ignoring the
# optional packages for other platforms)?
installed_matches_lock() {
    [ -f "$here/node_modules/.package-lock.json" ] || return 1
    node - "$here" <<'JS'
const fs = require('fs');
const path = require('path');
const dir = process.argv[2];
const lock = JSON.parse(fs.readFileSync(path.join(dir, 'package-lock.json'), 'utf8'));
for (const [key, entry] of Object.entries(lock.packages)) {
  if (key === '' || !entry.version) continue;
  let installed;
  try {
    installed = JSON.parse(fs.readFileSync(path.join(dir, key, 'package.json'), 'utf8')).version;
  } catch {
    if (entry.optional) continue; // for another platform
    process.exit(1);
  }
  if (installed !== entry.version) process.exit(1);
}
JS
}

if installed_matches_lock; then
    # build.sh compares this file's age with package-lock.json's.
    touch "$here/node_modules/.package-lock.json"
    echo "the JavaScript plugin toolchain is already installed ($here/node_modules)"
    exit 0
fi

cd "$here"
npm ci --no-audit --no-fund
echo "installed the JavaScript plugin toolchain into $here/node_modules"
