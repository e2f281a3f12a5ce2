#!/usr/bin/env bash
# GPU check: `moelab env` and `moelab bench --json` on the webgpu backend, for the reference step
# and the large config (d_model 512, 4 layers, 8 experts + 1 shared, batch 64 × 256 tokens), then a
# short table: tokens/s, achieved TFLOP/s (model FLOPs), share of the fp32 peak, host reads per step.
#
# Needs nothing but this repository with its node_modules installed (`npm install`: the optional
# packages @tensorflow/tfjs-backend-webgpu and webgpu carry a prebuilt Dawn), node ≥ 20, a Vulkan
# loader (libvulkan.so.1) and the GPU's Vulkan driver. No network.
#
#   scripts/gpu-check.sh                       # from the repository
#   MOELAB="node bundle/moelab.mjs" scripts/gpu-check.sh   # a bundled moelab (no tsx)
#
# Environment: MOELAB (how to run moelab; default `npx --no-install tsx src/cli/main.ts`),
# OUT_DIR (JSON and logs; default results/gpu-check), STEPS / WARMUP (timed / untimed steps;
# default 7 / 3), PEAK_GFLOPS (the GPU's fp32 peak; default 67000, the H100/H200 SXM datasheet),
# WORKLOADS (default "reference large"), BENCH_TIMEOUT_S (each bench's time limit; default 900).
set -uo pipefail
cd "$(dirname "$0")/.."

MOELAB=${MOELAB:-npx --no-install tsx src/cli/main.ts}
OUT_DIR=${OUT_DIR:-results/gpu-check}
STEPS=${STEPS:-7}
WARMUP=${WARMUP:-3}
PEAK_GFLOPS=${PEAK_GFLOPS:-67000}
WORKLOADS=${WORKLOADS:-reference large}
BENCH_TIMEOUT_S=${BENCH_TIMEOUT_S:-900}
mkdir -p "$OUT_DIR"

# NVIDIA containers ship the Vulkan ICD outside the loader's search path.
if [ -z "${VK_DRIVER_FILES:-}" ]; then
  for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
    if [ -f "$icd" ]; then export VK_DRIVER_FILES=$icd; break; fi
  done
fi
echo "[gpu-check] VK_DRIVER_FILES=${VK_DRIVER_FILES:-<loader default>}"
if command -v nvidia-smi >/dev/null; then
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm --format=csv,noheader | sed 's/^/[gpu-check] /'
fi

status=0
echo "[gpu-check] moelab env --backend webgpu"
$MOELAB env --backend webgpu 2>&1 | tee "$OUT_DIR/env.txt" || status=1

for w in $WORKLOADS; do
  echo "[gpu-check] moelab bench --backend webgpu --workload $w (steps $STEPS, warm-up $WARMUP)"
  t0=$(date +%s)
  if timeout "$BENCH_TIMEOUT_S" $MOELAB bench --backend webgpu --json --no-fit --workload "$w" --steps "$STEPS" --warmup "$WARMUP" \
      --peak-gflops "$PEAK_GFLOPS" >"$OUT_DIR/bench-$w.json" 2>"$OUT_DIR/bench-$w.log"; then
    echo "[gpu-check]   done in $(( $(date +%s) - t0 )) s"
  else
    echo "[gpu-check]   FAILED after $(( $(date +%s) - t0 )) s; last lines of its log:"; tail -n 15 "$OUT_DIR/bench-$w.log"; status=1
  fi
done

OUT_DIR=$OUT_DIR WORKLOADS=$WORKLOADS node -e '
const fs = require("fs");
const dir = process.env.OUT_DIR;
const rows = [];
for (const w of process.env.WORKLOADS.split(/\s+/).filter(Boolean)) {
  let r;
  try { r = JSON.parse(fs.readFileSync(`${dir}/bench-${w}.json`, "utf8")); } catch { rows.push(`${w.padEnd(10)} no result`); continue; }
  const s = r.step;
  rows.push(
    `${w.padEnd(10)} ${s.tokensPerSec.toFixed(0).padStart(9)} tok/s  ${(s.gflops / 1000).toFixed(3).padStart(7)} TFLOP/s  ` +
    `${(100 * r.peakShare).toFixed(2).padStart(6)}% of ${(r.peakGflops / 1000).toFixed(0)} TFLOP/s  ` +
    `${String(s.hostReadsPerStep ?? "?").padStart(3)} host reads/step  median step ${s.medianStepMs.toFixed(1)} ms  ` +
    `loss ${s.firstLoss.toFixed(4)} → ${s.lastLoss.toFixed(4)}  leak ${s.tensorLeakPerStep}/step  impl ${s.impl}`,
  );
}
console.log("[gpu-check] workload     tokens/s   achieved        share of peak           reads      time");
for (const row of rows) console.log(`[gpu-check] ${row}`);
'
exit $status
