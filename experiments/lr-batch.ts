// lr-batch: peak LR × batch size at a fixed token budget, for the surge fit
// ε_opt(B) = 2·ε_max / (sqrt(B_noise/B) + sqrt(B/B_noise)) (PAPER.md §3.1, METHODS.md §4.2).
//   N = 50k activated; 131,072 tokens per run = 2^17, so every batch (4…32 × 64 tokens) divides it:
//   512 steps at batch 4, 64 at batch 32. 5 LRs × 4 batches = 20 runs, ~10 minutes on 2 cores.
// LRs are spaced 2× apart around the quick sweep's 3e-3 so each batch size has an interior best LR.
import { defineSweep } from '../src/sweep/define.ts';

export default defineSweep({
  name: 'lr-batch',
  kind: 'lr-batch',
  description: 'peak LR × batch size grid at 131k tokens (surge fit: ε_max, B_noise)',
  family: { builder: 'hunyuan', seqLen: 64 },
  activatedParams: 5e4,
  lrs: [7.5e-4, 1.5e-3, 3e-3, 6e-3, 1.2e-2],
  batchSizes: [4, 8, 16, 32],
  base: {
    train: { tokens: 131072, evalEvery: 100, evalBatches: 4, checkpointEvery: 100 },
    data: { valTokens: 65536 },
  },
});
