// smoke: four tiny runs through the whole machinery in well under a minute on 2 cores — what the
// tests and quick checks use (`moelab sweep experiments/smoke.ts --out /tmp/smoke`).
//
// An isoFLOP cell of 2 budgets × 2 activated sizes of the Hunyuan-like family at seqLen 32:
//   N = 30k: 1.9e5 FLOPs/token (exact), so C = 1e9 buys ≈ 5.2k tokens = 41 steps of 4 × 32;
//   N = 50k: 3.2e5 FLOPs/token → 24 steps at 1e9, 71 at 3e9.
import { defineSweep } from '../src/sweep/define.ts';

export default defineSweep({
  name: 'smoke',
  kind: 'isoflop',
  description: 'four tiny runs: plan, train, resume and report in under a minute',
  family: { builder: 'hunyuan', seqLen: 32 },
  budgets: [1e9, 3e9],
  activatedParams: [3e4, 5e4],
  computeFormula: 'exact',
  base: {
    train: { batchSize: 4, lr: 3e-3, evalEvery: 50, evalBatches: 2, checkpointEvery: 20, logEvery: 5 },
    data: { valTokens: 16384 },
  },
});
