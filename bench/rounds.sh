#!/usr/bin/env bash
# Interleaved speed rounds: for each workload, moelab in an older checkout ("before"), moelab here
# ("after") and PyTorch (bench/torch_step.py) back to back, so each round's ratios share one load.
# Prints one line per (round, workload) with median wall ms and CPU ms per step and the ratios
# PyTorch / moelab (> 1: moelab faster). Repeat rounds and take medians on a shared machine.
#
#   bash bench/rounds.sh BEFORE_DIR [ROUNDS]
#
# BEFORE_DIR: a checkout of the older commit with its own node_modules (a symlink is fine) and its
# native addon built (bash scripts/build-native.sh there), e.g.
#   mkdir /tmp/before && git archive a184ef6 | tar -x -C /tmp/before && \
#     ln -s "$PWD/node_modules" /tmp/before/node_modules && (cd /tmp/before && bash scripts/build-native.sh)
# Workloads: ref (the reference step, native matmul), refwasm (the same, --no-native), k9 and k104
# (the quick family's 9.8k- and 104k-activated models, bench/configs/; PyTorch builds the same
# model from moelab's resolved workload, and many warm-up steps reach the JIT's steady state).
# WORKLOADS="ref k9" limits the list. Results (JSON per run) stay in $OUT (default a temp folder).
set -euo pipefail
cd "$(dirname "$0")/.."
before="${1:?usage: bench/rounds.sh BEFORE_DIR [ROUNDS]}"
rounds="${2:-3}"
before="$(cd "$before" && pwd)"
here="$PWD"
py="${PYTHON:-/usr/bin/python3}"
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-2}"
out="${OUT:-$(mktemp -d)}"
mkdir -p "$out" "$before/bench/configs"
cp bench/configs/*.json "$before/bench/configs/"

bench() { # dir tag args…
  local dir=$1 tag=$2
  shift 2
  (cd "$dir" && node bin/moelab.js bench --json --no-fit "$@" > "$out/$tag.json" 2>/dev/null)
}

for r in $(seq 1 "$rounds"); do
  for w in ${WORKLOADS:-ref refwasm k9 k104}; do
    config=()
    case $w in
      ref) steps=(--steps 7 --warmup 3); extra=() ;;
      refwasm) steps=(--steps 5 --warmup 2); extra=(--no-native) ;;
      k9) steps=(--steps 40 --warmup 30); extra=(); config=(--config bench/configs/quick-9.8k.json) ;;
      k104) steps=(--steps 20 --warmup 15); extra=(); config=(--config bench/configs/quick-104k.json) ;;
      *) echo "rounds.sh: unknown workload $w" >&2; exit 2 ;;
    esac
    args=("${config[@]}" "${steps[@]}" "${extra[@]}")
    load=$(cut -d' ' -f1 /proc/loadavg)
    bench "$before" "$r-$w-before" "${args[@]}"
    bench "$here" "$r-$w-after" "${args[@]}"
    # PyTorch: the same step counts; for a run config, the model moelab resolved.
    wl=()
    [ ${#config[@]} -gt 0 ] && wl=(--workload "$out/$r-$w-after.json")
    "$py" bench/torch_step.py --json "${steps[@]}" "${wl[@]}" > "$out/$r-$w-torch.json"
    node -e '
      const fs = require("fs");
      const [o, r, w, load] = process.argv.slice(1);
      const read = (s) => JSON.parse(fs.readFileSync(`${o}/${r}-${w}-${s}.json`, "utf8"));
      const b = read("before"), a = read("after"), t = read("torch");
      const f = (x) => x.toFixed(1);
      const same = a.step.flopsPerToken === t.flopsPerToken ? "" : "  (FLOPs per token differ: not the same model)";
      console.log(`${r} ${w.padEnd(7)} load ${load} | wall ms before ${f(b.step.medianStepMs)} after ${f(a.step.medianStepMs)} torch ${f(t.medianStepMs)}` +
        ` | CPU ms before ${f(b.step.cpuMsPerStep)} after ${f(a.step.cpuMsPerStep)} torch ${f(t.cpuMsPerStep)}` +
        ` | torch/after wall ${(t.medianStepMs / a.step.medianStepMs).toFixed(2)} CPU ${(t.cpuMsPerStep / a.step.cpuMsPerStep).toFixed(2)}` +
        ` | torch/before wall ${(t.medianStepMs / b.step.medianStepMs).toFixed(2)} CPU ${(t.cpuMsPerStep / b.step.cpuMsPerStep).toFixed(2)}${same}`);
    ' "$out" "$r" "$w" "$load"
  done
done
echo "[rounds] JSON per run in $out" >&2
