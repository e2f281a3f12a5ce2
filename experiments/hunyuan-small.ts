// hunyuan-small: the Hunyuan-Large paper's scaling and learning-rate analyses (docs/references.md#isoflop-design, #surge, #expert-lr, #lr-schedule) on
// a family of tiny Hunyuan-like MoE models — 1 shared + 16 specialized SwiGLU experts, top-1,
// recycle routing, GQA, CLA share factor 2, QK-norm (docs/references.md#configuration) — sized by
// activated parameters. Run it with `moelab reproduce experiments/hunyuan-small.ts --preset quick`
// (`npm run demo` does that on a fresh machine).
//
// The study, top to bottom (src/study/run.ts): plan → train → analyse → plan → train → … → report,
// one results folder, one report ending with the side-by-side table:
//   1. planned from the definitions: an LR scan per size (each isoFLOP size at 3 LRs at its
//      smallest budget), the LR × batch grid, the schedules (3 seeds, one final LR floor of 0.1×
//      peak for every shape) and the ablations (recycle vs drop, CLA on vs off, 1 vs 2 KV heads at
//      equal exact compute, paired by seed);
//   2. after the scan: the isoFLOP cells, each size at the LR the scan picked (pickLrPerSize) →
//      N_opt ∝ C^a, D_opt ∝ C^b, tokens per parameter, the family's compute formula;
//   3. after the surge fit of the grid (ε_max, B_noise): the expert-LR experiment — the specialized
//      experts' LR × each factor beside a control that scales every group's LR by the same factors,
//      at the grid's best LR for that batch, ≥ 3 seeds;
//   4. every fit, the report with the study design (departures, LR per size) and the comparison.
// Presets: quick (the demo, ≤ 15 min on 2 cores; its departures are listed and printed in the
// report), standard (sized to resolve the claims: hours on 2 cores), full (paper scale).
//
// Calibration (this machine, wasm + native matmul, byte-level default corpus): with batch 16 × 64
// tokens and lr 5e-3 the isoFLOP minimum at C = 1e11 sat inside the range (9.8k activated), but at
// 3e10 and below the smallest model won; batch 8 and lr 1e-2 train the larger models much better
// in few steps (17k at 3e10: val 2.88 → 2.35), which moves the optimum to larger N. Compute-optimal
// byte-level models this small want ~100–500 tokens per activated parameter — the same direction as
// the paper's ~100–150 (docs/references.md#power-laws), far above Chinchilla's 20. At 1e10 FLOPs the best model
// is the 3.2k one: the sub-head 1.6k model (d4) is needed below it for an interior minimum.
import { defineStudy } from '../src/study/define.ts';

// The family of every study: tiny widths step by the 8-wide heads (src/model/builder.ts).
const family = { builder: 'hunyuan', seqLen: 64, aspectRatio: 16, headDim: 8, claShareFactor: 2 } as const;
// Routing as in the paper's training code path with dropping enabled (docs/references.md#recycle-routing).
const moe = { capacityFactor: 1.25, overflowPolicy: 'recycle', auxLossCoef: 0.01 } as const;
// One validation set for every run of the three studies (src/data/validation.ts): the last 4 MiB
// of the corpus held out (174 whole documents of the default corpus), 4096 windows of 64 bytes
// evenly spaced across it. Measured on quick-family runs (docs/BENCHMARKS.md "Validation set
// size"): the standard error of a final loss against the whole held-out split is ≈ 0.004 nats
// (2048 windows gave ≈ 0.0054, above the 0.005 target); evaluating the set costs ~262k forward
// tokens per run, once, at the end (intermediate evaluations read 64 of the windows).
const data = { valTokens: 4_194_304, valWindows: 4096 };
// The standard family: the quick family's widths with GQA where widths allow (kvRatio 2: 2 KV heads
// at d32, 3 at d48, 4 at d64) and at least 2 layers at every size (the smallest, d16, has 2).
const standardFamily = { ...family, kvRatio: 2 } as const;
// The full preset: the paper's range (docs/references.md#isoflop-design) on a corpus of your own, BPE 32k, context 2048.
const paperFamily = { builder: 'hunyuan', seqLen: 2048, vocabSize: 32768, claShareFactor: 2 } as const;

/**
 * The three schedules compared at equal budget, with a warmup of `warmupFraction` of the run, all
 * ending at 0.1× peak (one floor for every shape, so the comparison is of shapes, not of floors).
 */
const compared = (warmupFraction: number) =>
  ({
    // Chinchilla: cosine to 10% of peak.
    cosine: { kind: 'cosine', warmupFraction, minLrRatio: 0.1 },
    // MiniCPM / Hägele et al.: constant, then a (1 − sqrt) cooldown over the last 20%, here to 0.1×
    // peak (their runs decay to 0; the common floor is the design's choice).
    wsd: { kind: 'wsd', warmupFraction, cooldownFraction: 0.2, cooldownShape: '1-sqrt', minLrRatio: 0.1 },
    // docs/references.md#lr-schedule: decay shape and depth unreported; anneal the last 5% to 0.1× peak.
    hunyuan: { kind: 'hunyuan', warmupFraction, decayShape: 'cosine', decayToRatio: 0.3, annealFraction: 0.05, annealToRatio: 0.1 },
  }) as const;

// The --dry-run time model (src/study/time-model.ts): seconds per step, per layer-step, per token
// and layer, per training FLOP and per final-evaluation FLOP, fitted by
// `npx tsx scripts/fit-time-model.ts <folder>` to the 106 runs of the idle fresh-clone demo at
// b1bb9eb (docs/BENCHMARKS.md "The paper reproduction, quick preset"). Held out (docs/BENCHMARKS.md
// "Study time estimates (`moelab reproduce --dry-run`)"): each quick size predicted by a fit without
// it, and the standard study's first 61 runs, which the fit never saw (sizes up to 255k, on this
// machine shared with other jobs): together they took 1.43× the model's time, the `loaded` factor.
// The native kernels of 4796c70 have made training faster since (the standard study's 255k scan
// runs: ≈ 5,300 tokens/s before, ≈ 9,600 after), so on an idle machine this errs high.
const twoCores = {
  coefficients: { step: 0.00257, layerStep: 0.00228, layerToken: 0.00000413, flop: 4.61e-11, evalFlop: 2.54e-10 },
  workers: 2,
  basis: 'fitted to the 106 runs of the idle quick demo at b1bb9eb, docs/BENCHMARKS.md "Study time estimates"',
  heldOut: 'quick sizes left out of the fit: median |error| 11%, total +1%; the standard study\'s first 61 runs (not fitted; loaded machine): median 31%, total −30%',
  loaded: { factor: 1.43, basis: "the standard study's first 61 runs, 2 workers beside other jobs on 2 cores" },
} as const;

export default defineStudy({
  name: 'hunyuan-small',
  description: "Hunyuan-Large's isoFLOP, LR × batch, expert-LR and schedule analyses with ablations, on tiny Hunyuan-like MoE models",
  presets: {
    quick: {
      description: 'the demo: 1.6k–50.9k activated parameters, 1e10–1e11 FLOPs, ≤ 15 min on 2 cores',
      departures: [
        'one-layer models at 1.6k, 3.2k, 9.8k and 17.4k activated (the standard preset has ≥ 2 layers at every size, at larger budgets), and one KV head at every size (standard: 2 KV heads from d32)',
        'isoFLOP: 3 budgets (1e10, 3e10, 1e11) instead of 4, one seed; the LR scan has 4 LRs a factor 2 apart, one seed, at each size\'s smallest budget, and a 1024-window final evaluation',
        'LR × batch grid: 3 batches (2, 8, 32 sequences) × 4 LRs, 2 seeds (standard: 4 batches × 5 LRs × 3 seeds)',
        'expert LR: at batch 8 (u = B/B_noise ≈ 1, not the paper\'s ≈ 0.26), 131k tokens (standard: batch 2, 524k tokens)',
        'ablations: 2 seeds at 2e10 FLOPs on the 15.2k model (≈ 380 steps; standard: 3 seeds at 1e12 on 51.4k)',
        'LR × batch grid: a 512-window final evaluation (its fit reads the train loss; every other stage uses the 4096-window set)',
        'schedules at 3e10 FLOPs on the 15.2k model (568 steps)',
      ],
      // Each size's LR from the scan: 0.5×, 1×, 2× and 4× the old single LR 1e-2 (picked by
      // pickLrPerSize). 4e-2 was added after the first demo with this scan found the best LR at the
      // scan's top (2e-2) for 4 of the 7 sizes
      // (docs/BENCHMARKS.md "The paper reproduction, quick preset").
      // 1024 final-evaluation windows (standard error ≈ 0.008 nats): neighbouring LRs a factor 2
      // apart differed by more in the previous demo's runs. The widened scan still finds 3 of 7
      // sizes at its top (4e-2). Extending it there (lrScan.extendAtEdges: 2) was tried: 5.5k
      // moved inside (0.068), 17.4k and 28.2k stayed at the new top (0.16), and the isoFLOP fit got
      // worse (the 3e10 budget lost its interior minimum, bootstrap success 63% → 53%): at the
      // shortest cell a scan favours high LRs, and following it further out carries that bias to
      // the longer cells (docs/BENCHMARKS.md "The paper reproduction, quick preset"). So no
      // extension here; the report flags the edge sizes.
      lrScan: { lrs: [5e-3, 1e-2, 2e-2, 4e-2], valWindows: 1024 },
      isoflop: {
        kind: 'isoflop',
        family,
        // Reachable sizes of the family (±5%): d4 L1 (one 4-wide head), d8 L1, d8 L3, d16 L1, d24 L1,
        // d24 L2, d32 L2. Without d4 the smallest budget's best run was the smallest model.
        activatedParams: [1556, 3240, 5480, 9792, 17368, 28184, 50880],
        budgets: [1e10, 3e10, 1e11],
        // Keep the cells around each budget's optimum: D/N from 4 to 600 (the cells outside sat
        // beyond the 4× window of every budget's best run in the previous demo).
        tokensPerParam: { min: 4, max: 600 },
        computeFormula: 'exact',
        base: {
          model: moe,
          // 8 × 64 = 512 tokens per step (≈ the grid's B_noise, 464 tokens); cosine to 10%
          // (Chinchilla), 5% warmup (stated, not scanned); the LR comes from the scan.
          train: { batchSize: 8, lr: 1e-2, evalEvery: 250, evalBatches: 8, checkpointEvery: 250, logEvery: 25 },
          data,
        },
      },
      lrBatch: {
        kind: 'lr-batch',
        family,
        activatedParams: 9792,
        // Li et al.'s protocol (docs/references.md#surge-estimation): constant LR, and the steps each (batch, LR) needs to
        // reach a target loss. At a fixed token budget instead, large batches get few steps and their
        // best LR keeps rising, so B_noise was not identified. Measured here (target 2.35 nats): the
        // best LR rises about as sqrt(B) from 128 to 31k tokens, so each batch's LRs are scaled by
        // sqrt(B) around it (lrScaling) and a surge shows as the optimum moving inside the grid;
        // each batch runs about 1.5× the steps its best LR needs. Too large an LR leaves small
        // batches on the unigram plateau (≈ 3.0 nats).
        lrs: [4e-3, 8e-3, 1.6e-2, 3.2e-2],
        lrScaling: 'sqrt',
        batchSizes: [2, 8, 32],
        steps: [1300, 600, 400],
        // Two seeds per cell: single-seed steps-to-target differ by ±20% between neighbouring LRs.
        seeds: [0, 1],
        base: {
          model: moe,
          train: { schedule: { kind: 'constant', warmupSteps: 20 }, evalEvery: 100000, evalBatches: 4, checkpointEvery: 250, logEvery: 5 },
          // The steps-to-target fit reads the logged train loss, not the final validation loss: a
          // 512-window final evaluation (1/8 of the cost) is enough for the table. The expert-LR
          // arms are scored on the full set (src/study/run.ts expertLrPlan).
          data: { ...data, valWindows: 512 },
        },
      },
      schedules: {
        kind: 'schedules',
        family,
        // d16, 2 layers, CLA 2.
        activatedParams: 15216,
        budget: 3e10,
        schedules: compared(0.05),
        seeds: [0, 1, 2],
        base: { model: moe, train: { batchSize: 8, lr: 1e-2, evalEvery: 100, evalBatches: 8, checkpointEvery: 250, logEvery: 10 }, data },
      },
      // d16, 2 layers, 2 query heads: CLA and 1 vs 2 KV heads both apply.
      ablations: { activatedParams: 15216, budget: 2e10, batchSize: 8, lr: 1e-2, seeds: [0, 1], comparisons: ['routing', 'cla', 'kv-heads'] },
      expertLr: { batchSize: 8, tokens: 131072, factors: [0.125, 0.25, 0.5, 1, 2], seeds: [0, 1, 2] },
      timeModel: twoCores,
    },
    standard: {
      description: 'sized to resolve the claims: 15k–256k activated, ≥ 2 layers and GQA, 3e11–1e13 FLOPs; hours on 2 cores, minutes on a GPU',
      // The scan's first run found 73.5k best at its top (3.2e-2) and 255k at its bottom (4e-3);
      // no extension (see the quick preset's lrScan for why), the report flags them.
      lrScan: { lrs: [4e-3, 8e-3, 1.6e-2, 3.2e-2] },
      // The embedded corpus's train split holds 12.5M tokens; the small sizes at the top budgets
      // need more (28.2k at 3e12: 1.28 passes; at 1e13: 73.5k 1.67, 109k 1.14, 51.4k 2.40). Up to 2
      // passes they repeat the data (Muennighoff et al. 2023, arXiv 2305.16264: up to ~4 passes
      // cost about as much as unique data); beyond, the cell is left out and listed.
      maxEpochs: 2,
      isoflop: {
        kind: 'isoflop',
        family: standardFamily,
        // d8 L3, d16 L2, d24 L2, d32 L2, d32 L3, d40 L3, d48 L3, d64 L3 (src/model/builder.ts at
        // aspect 16); the 3e11 budget's optimum (≈ 17k at ~136 tokens per parameter) needs d8 L3 below it.
        activatedParams: [5480, 15216, 28184, 51392, 73488, 108560, 157824, 255472],
        budgets: [3e11, 1e12, 3e12, 1e13],
        tokensPerParam: { min: 8, max: 1500 },
        computeFormula: 'exact',
        base: {
          model: moe,
          // 16 × 64 = 1,024 tokens per step: ≈ 2× the quick grid's B_noise (464 tokens at loss 2.36),
          // which grows as the loss falls; this preset's own grid measures it. Cosine to 0.1×, 5% warmup.
          train: { batchSize: 16, lr: 1e-2, evalEvery: 500, evalBatches: 8, checkpointEvery: 500, logEvery: 25 },
          data,
        },
      },
      lrBatch: {
        kind: 'lr-batch',
        family: standardFamily,
        // d32, 2 layers, 4 query heads / 2 KV heads.
        activatedParams: 51392,
        lrs: [3e-3, 6e-3, 1.2e-2, 2.4e-2, 4.8e-2],
        lrScaling: 'sqrt',
        batchSizes: [2, 8, 32, 128],
        steps: [2600, 1200, 800, 500],
        seeds: [0, 1, 2],
        base: {
          model: moe,
          train: { schedule: { kind: 'constant', warmupSteps: 20 }, evalEvery: 100000, evalBatches: 4, checkpointEvery: 500, logEvery: 5 },
          data,
        },
      },
      schedules: {
        kind: 'schedules',
        family: standardFamily,
        activatedParams: 51392,
        budget: 1e12,
        schedules: compared(0.05),
        seeds: [0, 1, 2],
        base: { model: moe, train: { batchSize: 16, lr: 1e-2, evalEvery: 250, evalBatches: 8, checkpointEvery: 500, logEvery: 10 }, data },
      },
      ablations: { activatedParams: 51392, budget: 1e12, batchSize: 16, lr: 1e-2, seeds: [0, 1, 2], comparisons: ['routing', 'cla', 'kv-heads'] },
      // At 2 sequences (128 tokens) u = B/B_noise ≈ 0.3 on the quick grid: the paper's regime.
      expertLr: { batchSize: 2, tokens: 524288, factors: [0.125, 0.25, 0.5, 1, 2], seeds: [0, 1, 2] },
      timeModel: twoCores,
    },
    full: {
      description: 'paper scale (10M–1B activated, 1e18–1e20 FLOPs): a GPU box or a Slurm cluster and a large corpus',
      departures: ['no ablations (add them at paper scale once the standard preset has shown which matter)'],
      lrScan: { lrs: [1.5e-4, 3e-4, 6e-4] },
      isoflop: {
        kind: 'isoflop',
        family: paperFamily,
        activatedParams: [1e7, 2e7, 3e7, 5e7, 1e8, 2e8, 3e8, 5e8, 1e9],
        budgets: [1e18, 3e18, 1e19, 3e19, 1e20],
        tokensPerParam: { min: 5, max: 1000 },
        // The family's own exact FLOPs, so every slice is iso-compute; the paper's constants
        // (computeFormula 'hunyuan') only for comparison (moelab fit compute, the report).
        computeFormula: 'exact',
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
        seeds: [0, 1, 2],
        base: {
          model: moe,
          train: { batchSize: 256, lr: 3e-4, evalEvery: 1000, evalBatches: 20, checkpointEvery: 500 },
          data: { corpus: 'data/pretrain.jsonl', tokenizer: { kind: 'bpe', vocabSize: 32768 }, valTokens: 10_000_000 },
        },
      },
      expertLr: { batchSize: 32, tokens: 2e9, factors: [0.125, 0.25, 0.5, 1, 2], seeds: [0, 1, 2] },
    },
  },
});
