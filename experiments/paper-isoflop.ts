// paper-isoflop: the paper's scaling study at its own scale (PAPER.md §2.1: activated sizes
// 10M–1B, up to 100B tokens) — for GPU machines (tfjs-node-gpu) or a Slurm cluster:
//   moelab plan experiments/paper-isoflop.ts
//   moelab sweep experiments/paper-isoflop.ts --executor slurm --partition gpu --gres gpu:1 --time 3-00:00:00
//
// Set data.corpus to a large corpus of your own (a .jsonl with `text`, a .txt, or a folder of
// .txt): the embedded default corpus holds ~17M tokens, far below these budgets, and `plan`
// refuses runs that would need more tokens than the corpus has.
//
// D from the paper's compute formula C = 9.59·N·D + 2.3e8·D (PAPER.md §1.1, UNCONFIRMED) on
// activated N; e.g. C = 1e19 at N = 1e8: D = 1e19 / (9.59e8 + 2.3e8) ≈ 8.4e9 tokens (84 per param).
// Cells outside 5–1000 tokens per parameter are left out; D is capped at 100B as in the paper.
// Cost (from `moelab plan --no-corpus-check`): 20 runs, 307B tokens, ≈ 3.4e20 FLOPs in total
// — about 4 days of 8 A100s at 40% utilisation (1e15 FLOP/s); tfjs-node-gpu reaches much less, so
// budget several times that. Far beyond a CPU.
import { defineSweep } from '../src/sweep/define.ts';

export default defineSweep({
  name: 'paper-isoflop',
  kind: 'isoflop',
  description: "Hunyuan-Large's isoFLOP study at paper scale (10M–1B activated, 1e18–1e20 FLOPs)",
  family: { builder: 'hunyuan', seqLen: 2048, vocabSize: 32768, numExperts: 16, topK: 1, aspectRatio: 100 },
  budgets: [1e18, 3e18, 1e19, 3e19, 1e20],
  activatedParams: [1e7, 2e7, 5e7, 1e8, 2e8, 5e8, 1e9],
  tokensPerParam: { min: 5, max: 1000 },
  computeFormula: 'hunyuan',
  checks: { activatedTolerance: 0.05, maxTokens: 100_000_000_000 },
  base: {
    model: { capacityFactor: 'inf', overflowPolicy: 'none' },
    // 512 sequences × 2048 = 1M tokens per step (a typical LLM batch at these sizes).
    train: { batchSize: 512, lr: 3e-4, evalEvery: 1000, evalBatches: 8, checkpointEvery: 500, logEvery: 50 },
    data: { corpus: 'data/pretrain.jsonl', tokenizer: { kind: 'bpe', vocabSize: 32768 }, valTokens: 4_194_304 },
  },
});
