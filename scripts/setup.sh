#!/usr/bin/env bash
# Installs what the project needs on this machine: Node 24 (when the machine's Node is older), the npm packages,
# bubblewrap (the Python sandbox), the Temporal CLI (dev server + Web UI), gofakes3 (the S3-compatible server of
# the object-store tests) and the tiny GGUF model of the embedded inference server.
# Source it (`. scripts/setup.sh`) to keep Node 24 on PATH in your shell; running it with bash also works.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

CACHE="${PROMPTCOT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/promptcot}"
mkdir -p "$CACHE"

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(node_major)" -lt 24 ]; then
  NODE24="$CACHE/node24"
  if [ ! -x "$NODE24/node_modules/node/bin/node" ]; then
    echo "installing Node 24 into $NODE24"
    mkdir -p "$NODE24"
    npm install --prefix "$NODE24" --no-save --no-audit --no-fund node@24
  fi
  export PATH="$NODE24/node_modules/node/bin:$PATH"
fi
echo "node $(node --version), npm $(npm --version)"

# node-llama-cpp's prebuilt CPU binary is used as shipped: skip its postinstall, which may try to compile
# llama.cpp from source when its self-test cannot fork.
# `npm install` (which keeps the lock file's versions) rather than `npm ci`: with this machine's npm settings
# (omit-lockfile-registry-resolved) the lock file leaves out other platforms' optional packages, and `npm ci`
# refuses such a lock file as out of sync.
NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm install --no-audit --no-fund

# bubblewrap (Debian) isolates the Python sandbox of code rewards.
if ! command -v bwrap >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq bubblewrap
fi

# chromium (Debian) is the headless browser the Web UI test drives through puppeteer-core, which downloads none.
if ! command -v chromium >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq chromium
fi

npx tsx scripts/temporal-cli.ts
# gofakes3, the S3-compatible server the object-store tests start (built with Go into the same cache)
npx tsx scripts/object-store-server.ts
npm run model:tiny

# Python venv of the independent checks (Hugging Face's Rust `tokenizers` counts tokens against ours; pyarrow and
# `datasets` read the SFT Parquet export), pinned, in the cache; rebuilt only when missing or at other versions.
PY_TOOLS="$CACHE/python"
PY_PINS="tokenizers==0.23.3 pyarrow==26.0.1 datasets==5.2.0"
py_tools_ok() {
  "$PY_TOOLS/bin/python" - "$PY_PINS" <<'PY' >/dev/null 2>&1
import sys
from importlib.metadata import version
sys.exit(any(version(n) != v for n, v in (p.split("==") for p in sys.argv[1].split())))
PY
}
if ! py_tools_ok; then
  echo "installing $PY_PINS into $PY_TOOLS"
  python3 -m venv "$PY_TOOLS"
  # shellcheck disable=SC2086
  "$PY_TOOLS/bin/python" -m pip install --quiet --disable-pip-version-check $PY_PINS
  py_tools_ok
fi
