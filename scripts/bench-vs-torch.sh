#!/usr/bin/env bash
# moelab vs PyTorch on the reference training step (issue #10), in one run: `moelab bench --json`
# and bench/torch_step.py --json back to back, then the ratio of their tokens/s.
#
#   scripts/bench-vs-torch.sh                  defaults (engine auto, native matmul if built)
#   scripts/bench-vs-torch.sh --no-native      moelab's pure-wasm fallback
#   STEPS=9 OPENBLAS_NUM_THREADS=2 scripts/bench-vs-torch.sh
#   scripts/bench-vs-torch.sh --config bench/configs/quick-9.8k.json
#                                              that run config's model and batch on both sides:
#                                              moelab resolves it, bench/torch_step.py builds the
#                                              same model from moelab's resolved workload
#   WARMUP=10 STEPS=30 ...                     more steps (tiny models: steady state after JIT warm-up)
#
# Extra arguments go to `moelab bench`. PyTorch comes from Debian (`apt-get install -y
# python3-torch`) and runs under /usr/bin/python3 (the pyenv python first on PATH has no torch).
# Compare on an idle machine: both sides use both cores, and load makes either side look worse.
set -euo pipefail
cd "$(dirname "$0")/.."

steps="${STEPS:-7}"
warmup="${WARMUP:-3}"
config=""
prev=""
for arg in "$@"; do
  if [ "$prev" = "--config" ]; then config="$arg"; fi
  case "$arg" in --config=*) config="${arg#--config=}" ;; esac
  prev="$arg"
done
py="${PYTHON:-/usr/bin/python3}"
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-2}"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

if ! "$py" -c 'import torch' 2>/dev/null; then
  echo "bench-vs-torch: $py cannot import torch. Install it: apt-get install -y python3-torch" >&2
  exit 3
fi

echo "[bench-vs-torch] load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
if [ -n "$config" ]; then
  # moelab first: its JSON carries the resolved workload the PyTorch side builds.
  node bin/moelab.js bench --json --no-fit --steps "$steps" --warmup "$warmup" "$@" > "$out/moelab.json"
  "$py" bench/torch_step.py --json --steps "$steps" --warmup "$warmup" --workload "$out/moelab.json" > "$out/torch.json"
else
  "$py" bench/torch_step.py --json --steps "$steps" --warmup "$warmup" > "$out/torch.json"
  node bin/moelab.js bench --json --no-fit --steps "$steps" --warmup "$warmup" "$@" > "$out/moelab.json"
fi
echo "[bench-vs-torch] load average after:  $(cut -d' ' -f1-3 /proc/loadavg)" >&2

node -e '
  const fs = require("fs");
  const m = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
  const t = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
  const k = m.kernels;
  const engine = `${k.backend}` + (k.backend === "wasm"
    ? `, ${k.wasmThreads} wasm thread(s), native matmul ${k.nativeMatmul ? `on (${k.blasThreads} BLAS threads)` : "off"}, heap kernels ${k.heapKernels ? "on" : "off"}`
    : "");
  console.log(`moelab   ${m.tokensPerSec.toFixed(0).padStart(6)} tokens/s  ${m.gflops.toFixed(1).padStart(5)} GFLOP/s  (${engine})`);
  console.log(`PyTorch  ${t.tokensPerSec.toFixed(0).padStart(6)} tokens/s  ${t.gflops.toFixed(1).padStart(5)} GFLOP/s  (torch ${t.torch}, ${t.threads} torch thread(s), OPENBLAS_NUM_THREADS ${t.openblasThreads})`);
  if (m.step.flopsPerToken !== t.flopsPerToken) console.log(`note: FLOPs per token differ (moelab ${m.step.flopsPerToken}, PyTorch ${t.flopsPerToken}): not the same model`);
  console.log(`moelab / PyTorch = ${(m.tokensPerSec / t.tokensPerSec).toFixed(2)}` +
    `   (CPU ms per step: moelab ${m.step.cpuMsPerStep.toFixed(0)}, PyTorch ${t.cpuMsPerStep.toFixed(0)}; ratio of tokens per CPU-second ${(t.cpuMsPerStep / m.step.cpuMsPerStep).toFixed(2)})`);
' "$out/moelab.json" "$out/torch.json"
