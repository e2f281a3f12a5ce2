// hunyuan-small: the Hunyuan-Large paper's scaling and learning-rate analyses (PAPER.md §1–4) on
// a family of tiny Hunyuan-like MoE models — 1 shared + 16 specialized SwiGLU experts, top-1,
// recycle routing, GQA, CLA share factor 2, QK-norm (PAPER.md §9 "Reference configs") — sized by
// activated parameters. Run it with `moelab reproduce experiments/hunyuan-small.ts --preset quick`
// (`npm run demo` does that on a fresh machine).
//
// Three studies, one results folder, one report ending with the side-by-side table:
//   1. isoFLOP: budgets ≥ 3× apart × activated sizes → N_opt ∝ C^a, D_opt ∝ C^b with CIs, tokens
//      per parameter at the optimum, the compute formula's (a, b) for this family, and the largest
//      budget's best loss predicted from the others;
//   2. LR × batch: a grid at one token budget → ε_max, B_noise (surge fit) and the derived
//      specialized/shared expert-LR ratio; then two confirmation runs: one LR vs expert-specific LRs;
//   3. schedules: cosine vs WSD vs the paper's warmup → decay → anneal (last 5% to 0.1×) at equal
//      budget, with a schedule-aware loss law fitted on two and predicting the third.
//
// Calibration (this machine, wasm + native matmul, byte-level default corpus): with batch 16 × 64
// tokens and lr 5e-3 the isoFLOP minimum at C = 1e11 sat inside the range (9.8k activated), but at
// 3e10 and below the smallest model won; batch 8 and lr 1e-2 train the larger models much better
// in few steps (17k at 3e10: val 2.88 → 2.35), which moves the optimum to larger N. Compute-optimal
// byte-level models this small want ~100–500 tokens per activated parameter — the same direction as
// the paper's ~100–150 (PAPER.md §2.4), far above Chinchilla's 20. At 1e10 FLOPs the best model
// is the 3.2k one: the sub-head 1.6k model (d4) is needed below it for an interior minimum.
import { defineStudy } from '../src/study/define.ts';

// The family of every study: tiny widths step by the 8-wide heads (src/model/builder.ts).
const family = { builder: 'hunyuan', seqLen: 64, aspectRatio: 16, headDim: 8, claShareFactor: 2 } as const;
// Routing as in the paper's training code path with dropping enabled (PAPER.md §5.2–5.3).
const moe = { capacityFactor: 1.25, overflowPolicy: 'recycle', auxLossCoef: 0.01 } as const;
// One validation set for every run of the three studies (src/data/validation.ts): the last 4 MiB
// of the corpus held out (174 whole documents of the default corpus), 4096 windows of 64 bytes
// evenly spaced across it. Measured on quick-family runs (docs/BENCHMARKS.md "Validation set
// size"): the standard error of a final loss against the whole held-out split is ≈ 0.004 nats
// (2048 windows gave ≈ 0.0054, above the 0.005 target); evaluating the set costs ~262k forward
// tokens per run, once, at the end (intermediate evaluations read 64 of the windows).
const data = { valTokens: 4_194_304, valWindows: 4096 };
// The full preset: the paper's range (PAPER.md §2.1) on a corpus of your own, BPE 32k, context 2048.
const paperFamily = { builder: 'hunyuan', seqLen: 2048, vocabSize: 32768, claShareFactor: 2 } as const;

/** The three schedules compared at equal budget, with a warmup of `warmupFraction` of the run. */
const compared = (warmupFraction: number) =>
  ({
    // Chinchilla: cosine to 10% of peak.
    cosine: { kind: 'cosine', warmupFraction, minLrRatio: 0.1 },
    // MiniCPM / Hägele et al.: constant, then a (1 − sqrt) cooldown over the last 20%.
    wsd: { kind: 'wsd', warmupFraction, cooldownFraction: 0.2, cooldownShape: '1-sqrt', minLrRatio: 0 },
    // PAPER.md §4.1: decay shape and depth unreported; anneal the last 5% to 0.1× peak.
    hunyuan: { kind: 'hunyuan', warmupFraction, decayShape: 'cosine', decayToRatio: 0.3, annealFraction: 0.05, annealToRatio: 0.1 },
  }) as const;

export default defineStudy({
  name: 'hunyuan-small',
  description: "Hunyuan-Large's isoFLOP, LR × batch and schedule analyses on tiny Hunyuan-like MoE models",
  presets: {
    quick: {
      description: 'laptop scale: 1.6k–100k activated parameters, 1e10–3e11 FLOPs, ~11 min on 2 cores',
      isoflop: {
        kind: 'isoflop',
        family,
        // Reachable sizes of the family (±5%): d4 L1 (one 4-wide head), d8 L1, d8 L3, d16 L1, d24 L1,
        // d24 L2, d32 L2, d40 L3. Without d4 the smallest budget's best run was the smallest model.
        activatedParams: [1556, 3240, 5480, 9792, 17368, 28184, 50880, 104008],
        budgets: [1e10, 3e10, 1e11, 3e11],
        // Keep the cells around each budget's optimum: D/N from 1.5 (a model seeing barely more
        // tokens than it has weights) to 800.
        tokensPerParam: { min: 1.5, max: 800 },
        computeFormula: 'exact',
        base: {
          model: moe,
          // 8 × 64 = 512 tokens per step; cosine to 10% (Chinchilla), 5% warmup.
          train: { batchSize: 8, lr: 1e-2, evalEvery: 250, evalBatches: 8, checkpointEvery: 250, logEvery: 25 },
          data,
        },
      },
      lrBatch: {
        kind: 'lr-batch',
        family,
        activatedParams: 9792,
        // Li et al.'s protocol (METHODS.md §4.2): constant LR, and the steps each (batch, LR) needs to
        // reach a target loss. At a fixed token budget instead, large batches get few steps and their
        // best LR keeps rising, so B_noise was not identified. Measured here (target 2.35 nats): the
        // best LR rises about as sqrt(B) from 128 to 31k tokens, so each batch's LRs are scaled by
        // sqrt(B) around it (lrScaling) and a surge shows as the optimum moving inside the grid;
        // the batches span 2–128 sequences (128–8192 tokens) and each runs about 1.5× the steps its
        // best LR needs. Too large an LR leaves small batches on the unigram plateau (≈ 3.0 nats).
        lrs: [2e-3, 4e-3, 8e-3, 1.6e-2, 3.2e-2],
        lrScaling: 'sqrt',
        batchSizes: [2, 8, 32, 128],
        steps: [1300, 600, 400, 250],
        // Two seeds per cell: single-seed steps-to-target differ by ±20% between neighbouring LRs
        // here, and the bootstrap (runs resampled within a batch) then sees seed noise too. The
        // confirmation pair inherits both seeds.
        seeds: [0, 1],
        base: {
          model: moe,
          train: { schedule: { kind: 'constant', warmupSteps: 20 }, evalEvery: 100000, evalBatches: 4, checkpointEvery: 250, logEvery: 5 },
          data,
        },
      },
      schedules: {
        kind: 'schedules',
        family,
        activatedParams: 9792,
        budget: 3e10,
        schedules: compared(0.05),
        base: { model: moe, train: { batchSize: 8, lr: 1e-2, evalEvery: 100, evalBatches: 8, checkpointEvery: 250, logEvery: 10 }, data },
      },
      // At 2 sequences (128 tokens) the grid's B / B_noise ≈ 0.3: the paper's regime (its ratio 0.31
      // implies u ≈ 0.26, PAPER.md §3.2).
      confirm: { batchSize: 2, tokens: 262144 },
    },
    full: {
      description: 'paper scale (10M–1B activated, 1e18–1e20 FLOPs): a GPU box or a Slurm cluster and a large corpus',
      isoflop: {
        kind: 'isoflop',
        family: paperFamily,
        activatedParams: [1e7, 2e7, 3e7, 5e7, 1e8, 2e8, 3e8, 5e8, 1e9],
        budgets: [1e18, 3e18, 1e19, 3e19, 1e20],
        tokensPerParam: { min: 5, max: 2000 },
        computeFormula: 'hunyuan',
        checks: { activatedTolerance: 0.05, maxTokens: 1e11 },
        base: {
          model: moe,
          train: { batchSize: 256, lr: 3e-4, evalEvery: 1000, evalBatches: 20, checkpointEvery: 500, logEvery: 50 },
          data: { corpus: 'data/pretrain.jsonl', tokenizer: { kind: 'bpe', vocabSize: 32768 }, valTokens: 10_000_000 },
        },
      },
      lrBatch: {
        kind: 'lr-batch',
        family: paperFamily,
        activatedParams: 1e8,
        // The quick preset's protocol at paper scale: constant LR, steps to a target loss, LRs
        // scaled by sqrt(B) around 2e-4 at 32 × 2048 tokens; batches 65k–1M tokens.
        lrs: [5e-5, 1e-4, 2e-4, 4e-4, 8e-4],
        lrScaling: 'sqrt',
        batchSizes: [32, 64, 128, 256, 512],
        steps: [30000, 16000, 9000, 6000, 4500],
        base: {
          model: moe,
          train: { schedule: { kind: 'constant', warmupSteps: 500 }, evalEvery: 1000, evalBatches: 20, checkpointEvery: 500, logEvery: 20 },
          data: { corpus: 'data/pretrain.jsonl', tokenizer: { kind: 'bpe', vocabSize: 32768 }, valTokens: 10_000_000 },
        },
      },
      schedules: {
        kind: 'schedules',
        family: paperFamily,
        activatedParams: 1e8,
        budget: 1e19,
        schedules: compared(0.01),
        base: {
          model: moe,
          train: { batchSize: 256, lr: 3e-4, evalEvery: 1000, evalBatches: 20, checkpointEvery: 500 },
          data: { corpus: 'data/pretrain.jsonl', tokenizer: { kind: 'bpe', vocabSize: 32768 }, valTokens: 10_000_000 },
        },
      },
      confirm: { batchSize: 32, tokens: 2e9 },
    },
  },
});
