#!/usr/bin/env bash
# The main job on a fresh machine: install, then reproduce the paper's analyses on the embedded
# corpus with the quick preset (sweep → fit → report), and print where the report is.
# Extra arguments go to `moelab reproduce` (e.g. --workers 1, --png, --out DIR).
set -euo pipefail
cd "$(dirname "$0")/.."

# npm packages, plus OpenBLAS for the native matmul kernel (≈2× faster training) when apt works;
# without it moelab trains on pure wasm.
if ! bash scripts/setup.sh --blas; then
  echo "[demo] OpenBLAS could not be installed; continuing with pure wasm" >&2
  bash scripts/setup.sh
fi

start=$(date +%s)
node bin/moelab.js env
node bin/moelab.js reproduce experiments/hunyuan-small.ts --preset quick "$@"
echo "[demo] finished in $(( $(date +%s) - start )) s"
