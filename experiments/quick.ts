// quick: a small isoFLOP sweep that finishes in about 10 minutes on 2 cores (wasm backend,
// `moelab sweep experiments/quick.ts --workers 2`). What tests and first-time users run to see the
// whole pipeline — plan, sweep, fit, report — on the embedded corpus.
//
// Budgets × sizes: 3 budgets 3.3× apart × 4 activated sizes 30k–200k of the Hunyuan-like family
// (1 shared + 16 specialized experts, top-1, GQA, CLA 2, QK-norm; src/model/builder.ts) at
// seqLen 64. D per run = C / exact FLOPs per token (PAPER.md §9 "Cexact"). Cells below 0.5 tokens
// per activated parameter (a model that sees less data than it has weights) are left out.
//   e.g. C = 1e11 at N = 50k: 3.3e5 FLOPs/token → D ≈ 301k tokens = 588 steps of 8 × 64.
import { defineSweep } from '../src/sweep/define.ts';

export default defineSweep({
  name: 'quick',
  kind: 'isoflop',
  description: 'isoFLOP scan of a tiny Hunyuan-like MoE family (~10 min on 2 cores)',
  family: { builder: 'hunyuan', seqLen: 64 },
  budgets: [3e10, 1e11, 3.3e11],
  activatedParams: [3e4, 5e4, 1e5, 2e5],
  tokensPerParam: { min: 0.5 },
  computeFormula: 'exact',
  base: {
    // 8 sequences × 64 tokens = 512 tokens per step; LR from a coarse scan at these sizes.
    train: { batchSize: 8, lr: 3e-3, evalEvery: 200, evalBatches: 4, checkpointEvery: 100 },
    data: { valTokens: 65536 },
  },
});
