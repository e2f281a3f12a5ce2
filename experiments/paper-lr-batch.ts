// paper-lr-batch: the surge study at a size where it matters (PAPER.md §3: the expert-LR rule
// lr_specialized / lr_shared = ε_opt(B/16) / ε_opt(B) ≈ 0.31 needs ε_max and B_noise) — a
// 100M-activated model at C = 1e19 (paper formula: ≈ 8.4B tokens), 6 LRs × 5 batch sizes.
// For GPUs / Slurm; set data.corpus to your own large corpus (see paper-isoflop.ts).
//   moelab sweep experiments/paper-lr-batch.ts --executor slurm --gres gpu:1
import { defineSweep } from '../src/sweep/define.ts';

export default defineSweep({
  name: 'paper-lr-batch',
  kind: 'lr-batch',
  description: 'LR × batch grid for the surge fit at 100M activated, C = 1e19',
  family: { builder: 'hunyuan', seqLen: 2048, vocabSize: 32768, aspectRatio: 100 },
  activatedParams: 1e8,
  budgets: [1e19],
  computeFormula: 'hunyuan',
  lrs: [1e-4, 2e-4, 4e-4, 8e-4, 1.6e-3, 3.2e-3],
  batchSizes: [64, 128, 256, 512, 1024],
  base: {
    train: { evalEvery: 1000, evalBatches: 8, checkpointEvery: 500, logEvery: 50 },
    data: { corpus: 'data/pretrain.jsonl', tokenizer: { kind: 'bpe', vocabSize: 32768 }, valTokens: 4_194_304 },
  },
});
