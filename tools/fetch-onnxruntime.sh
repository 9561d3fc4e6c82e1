#!/usr/bin/env bash
# Installs ONNX Runtime for node (npm onnxruntime-node, which bundles the ONNX Runtime CPU library) into
# artifacts/models/onnxruntime (or $KERNELS_MODELS_DIR/onnxruntime), where the export tests look for it to run
# exported models in a second runtime. Needs npm; idempotent. Not fetched by CI, so those tests skip there.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${KERNELS_MODELS_DIR:-$root/artifacts/models}/onnxruntime"
if [ -f "$dir/node_modules/onnxruntime-node/package.json" ]; then
  echo "onnxruntime: present in $dir"
  exit 0
fi
command -v npm >/dev/null || { echo "onnxruntime: npm not found (apt-get install npm)"; exit 1; }
mkdir -p "$dir"
# The package's install script only downloads optional GPU providers; the CPU library ships in the tarball.
ONNXRUNTIME_NODE_INSTALL=skip npm install --silent --prefix "$dir" onnxruntime-node@1.30.0 >/dev/null
echo "onnxruntime: onnxruntime-node $(node -p "require('$dir/node_modules/onnxruntime-node/package.json').version") -> $dir"
