// schedules: cosine vs WSD vs the paper's three phases at one compute budget (PAPER.md §4.1,
// METHODS.md §5). Same model, data order and token count; only the LR shape differs.
//   N = 50k activated (3.3e5 FLOPs/token at seqLen 64), C = 2e11 → ≈ 603k tokens = 1177 steps.
// ~6 minutes on 2 cores. Two seeds would show the seed noise against the schedule gaps.
import { defineSweep } from '../src/sweep/define.ts';

export default defineSweep({
  name: 'schedules',
  kind: 'schedules',
  description: 'cosine vs WSD vs Hunyuan 3-phase (warmup → decay → anneal last 5% to 0.1×) at equal budget',
  family: { builder: 'hunyuan', seqLen: 64 },
  activatedParams: 5e4,
  budget: 2e11,
  schedules: {
    // Chinchilla: decay to 10% of peak.
    cosine: { kind: 'cosine', warmupFraction: 0.05, minLrRatio: 0.1 },
    // MiniCPM WSD: constant, then a 1−sqrt cooldown over the last 20%.
    wsd: { kind: 'wsd', warmupFraction: 0.05, cooldownFraction: 0.2, cooldownShape: '1-sqrt', minLrRatio: 0 },
    // PAPER.md §4.1: anneal over the last 5% of tokens to 0.1× peak; decay shape and depth not reported.
    hunyuan: { kind: 'hunyuan', warmupFraction: 0.05, decayShape: 'cosine', decayToRatio: 0.3, annealFraction: 0.05, annealToRatio: 0.1 },
  },
  base: {
    train: { batchSize: 8, lr: 3e-3, evalEvery: 100, evalBatches: 4, checkpointEvery: 100 },
    data: { valTokens: 65536 },
  },
});
