// A synthetic sweep folder written from known laws, so report tests need no training. Layout and
// records follow src/io/results.ts exactly (config.json, metrics.jsonl, summary.json per run).
//
// Truth used (all deterministic under the seed):
//   isoFLOP study   L(N, D) = E + A/N^α + B/D^β with SYNTH_LAW; D = C / (6N); during training the
//                   validation loss follows the same law at the tokens seen so far.
//   LR × batch grid final loss = L* + κ·(ln lr − ln ε_opt(B))², ε_opt from the surge formula
//                   (docs/references.md#surge) with SYNTH_SURGE; runs with lr > 4·ε_opt(B) diverge.
//   schedules       L(s) = L0 + A·S1^(−α) − C·S2 (Tissue et al., docs/references.md#tissue) with SYNTH_TISSUE.
//   LR × batch grid at a constant LR (study 'lr-batch-steps', not in the default set): train loss
//                   after n steps = target·(S/n)^0.3 with S = S_min·(1 + B_noise/B)·(1 + κ·ln²(lr/ε_opt(B)))
//                   (SYNTH_STEPS; McCandlish et al. 2018, Li et al. 2024 §3.2), so each run reaches
//                   the target after exactly S steps; runs last 2.5 × the batch's fewest steps.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { RunConfigSchema } from '../../src/config/schema.ts';
import type { UserRunConfig } from '../../src/config/schema.ts';
import { appendJsonl, writeJsonAtomic } from '../../src/io/atomic.ts';
import type { MetricRow, RunConfigRecord, RunSummary } from '../../src/io/results.ts';
import { runPaths, sweepPaths } from '../../src/io/results.ts';
import { provenance } from '../../src/util/provenance.ts';
import type { RunTags } from '../../src/io/tags.ts';
import { createRng } from '../../src/util/rng.ts';

export const SYNTH_LAW = { E: 1.5, A: 30, alpha: 0.3, B: 60, beta: 0.3 };
export const SYNTH_SURGE = { epsMax: 3e-3, bNoise: 2048, lStar: 2.4, kappa: 0.05 };
export const SYNTH_STEPS = { sMin: 150, bNoise: 1024, epsMax: 3e-3, kappa: 0.2, target: 2.6 };
export const SYNTH_STEPS_LRS = [6e-4, 1.2e-3, 2.4e-3, 4.8e-3, 9.6e-3];
export const SYNTH_TISSUE = { L0: 1.9, A: 8, alpha: 0.45, C: 4e-4, lambda: 0.999 };
export const SYNTH_BUDGETS = [1e13, 3e13, 1e14];
export const XSS_RUN_ID = '<img src=x onerror=alert(1)>';
export const XSS_SWEEP_NAME = '<script>alert("sweep")</script> quick & dirty';
const SEQ_LEN = 128;
const NUM_EXPERTS = 4;

export function lossLaw(n: number, d: number): number {
  const { E, A, alpha, B, beta } = SYNTH_LAW;
  return E + A / n ** alpha + B / d ** beta;
}

/** Compute-optimal N under C = 6ND (Chinchilla Eq. 4 closed form) for SYNTH_LAW. */
export function synthNOpt(c: number): number {
  const { A, alpha, B, beta } = SYNTH_LAW;
  const g = ((alpha * A) / (beta * B)) ** (1 / (alpha + beta));
  return g * (c / 6) ** (beta / (alpha + beta));
}

export function surgeLr(batchTokens: number): number {
  const { epsMax, bNoise } = SYNTH_SURGE;
  return (2 * epsMax) / (Math.sqrt(bNoise / batchTokens) + Math.sqrt(batchTokens / bNoise));
}

function scheduleLr(kind: 'cosine' | 'wsd' | 'hunyuan' | 'constant', peak: number, step: number, steps: number): number {
  const warm = Math.max(1, Math.round(0.05 * steps));
  if (step < warm) return (peak * (step + 1)) / warm;
  const p = (step - warm) / Math.max(1, steps - warm);
  switch (kind) {
    case 'constant':
      return peak;
    case 'cosine':
      return peak * (0.1 + 0.45 * (1 + Math.cos(Math.PI * p)));
    case 'wsd': {
      const cd = 0.2; // cooldown fraction, linear to 0
      return p < 1 - cd ? peak : peak * Math.max(0, (1 - p) / cd);
    }
    case 'hunyuan': {
      const anneal = 0.05; // last 5% anneals to 0.1 × peak (docs/references.md#lr-schedule)
      if (p < 1 - anneal) return peak * (0.3 + 0.35 * (1 + Math.cos((Math.PI * p) / (1 - anneal))));
      const q = (p - (1 - anneal)) / anneal;
      return peak * (0.3 + (0.1 - 0.3) * q);
    }
  }
}

interface RunSpecLite {
  runId: string;
  activatedParams: number;
  tokens: number;
  batchSize: number;
  lr: number;
  schedule: 'cosine' | 'wsd' | 'hunyuan' | 'constant';
  tags: RunTags;
  budgetFlops?: number;
  /** Validation loss as a function of (step, tokens seen, LR so far) → value. */
  loss: (ctx: { step: number; tokens: number; lrs: number[] }) => number;
  diverge?: boolean;
}

function writeRun(sweepDir: string, spec: RunSpecLite, seed: number): void {
  const rng = createRng(seed);
  const dir = sweepPaths(sweepDir).run(spec.runId);
  mkdirSync(dir, { recursive: true });
  const rp = runPaths(dir);
  const user: UserRunConfig = {
    name: spec.runId,
    seed: 0,
    model: { dModel: 64, numLayers: 2, numHeads: 4, dFf: 128, numExperts: NUM_EXPERTS, numSharedExperts: 1, topK: 1, seqLen: SEQ_LEN, capacityFactor: 1.25 },
    train: {
      tokens: spec.tokens,
      batchSize: spec.batchSize,
      lr: spec.lr,
      schedule: spec.schedule === 'cosine' ? { kind: 'cosine' } : spec.schedule === 'wsd' ? { kind: 'wsd', cooldownShape: 'linear' } : spec.schedule === 'hunyuan' ? { kind: 'hunyuan' } : { kind: 'constant' },
      expertLr: spec.tags.study === 'schedules' ? { mode: 'surge', bNoise: 8192 } : { mode: 'same' },
    },
  };
  const config = RunConfigSchema.parse(user);
  const tokensPerStep = spec.batchSize * SEQ_LEN;
  const steps = Math.floor(spec.tokens / tokensPerStep);
  const flopsPerToken = 6 * spec.activatedParams;
  const record: RunConfigRecord = {
    runId: spec.runId,
    config,
    derived: {
      totalParams: Math.round(spec.activatedParams * 2.5),
      activatedParams: spec.activatedParams,
      nonEmbeddingParams: Math.round(spec.activatedParams * 2.2),
      activatedNonEmbeddingParams: Math.round(spec.activatedParams * 0.8),
      flopsPerToken,
      tokensPerStep,
      steps,
      tokens: steps * tokensPerStep,
      computeFlops: flopsPerToken * steps * tokensPerStep,
    },
    backend: 'synthetic',
    provenance: provenance(),
    budgetFlops: spec.budgetFlops,
    tags: spec.tags,
  };
  writeJsonAtomic(rp.config, record);

  const logEvery = Math.max(1, Math.ceil(steps / 60));
  const evalEvery = logEvery * 4;
  const lrs: number[] = [];
  const expertRatio = spec.tags.study === 'schedules' ? 0.55 : 1;
  let best = Infinity;
  let last: MetricRow | undefined;
  const divergeAt = spec.diverge ? Math.floor(steps * 0.3) : Infinity;
  for (let step = 0; step < steps; step++) {
    const lr = scheduleLr(spec.schedule, spec.lr, step, steps);
    lrs.push(lr);
    const isLast = step === steps - 1 || step === divergeAt;
    if (step !== 0 && (step + 1) % logEvery !== 0 && !isLast) continue;
    // As src/train/loop.ts logs: `step` counts completed steps (1-based), tokens = step × tokensPerStep.
    const tokens = (step + 1) * tokensPerStep;
    const clean = spec.loss({ step, tokens, lrs });
    const trainLoss = step >= divergeAt ? NaN : clean * (1 + 0.01 * rng.normal());
    const frac = step / steps;
    // Usage drifts from skewed towards expert 0 to uniform as the balancing loss acts.
    const skew = 0.6 * Math.exp(-5 * frac);
    const usage = Array.from({ length: NUM_EXPERTS }, (_, e) => (e === 0 ? 1 / NUM_EXPERTS + skew * (1 - 1 / NUM_EXPERTS) : (1 - (1 / NUM_EXPERTS + skew * (1 - 1 / NUM_EXPERTS))) / (NUM_EXPERTS - 1)));
    const row: MetricRow = {
      step: step + 1,
      tokens,
      computeFlops: tokens * flopsPerToken,
      learningRate: lr,
      expertLearningRate: lr * expertRatio,
      trainLoss,
      loadBalancingLoss: 1 + skew,
      routerZLoss: 0,
      droppedTokenFraction: 0.02 * Math.exp(-3 * frac) + 0.002,
      recycledTokenFraction: 0.15 * Math.exp(-4 * frac) + 0.01,
      expertUsage: usage,
      gradNorm: 1,
      wallSeconds: step * 0.01,
      tokensPerSec: 1e5,
    };
    if (((step + 1) % evalEvery === 0 || isLast) && step < divergeAt) {
      row.valLoss = clean * (1 + 0.002 * rng.normal());
      best = Math.min(best, row.valLoss);
    }
    appendJsonl(rp.metrics, row);
    last = row;
    if (step >= divergeAt) break;
  }
  const summary: RunSummary = {
    runId: spec.runId,
    status: spec.diverge ? 'diverged' : 'done',
    reason: spec.diverge ? 'loss is NaN' : undefined,
    steps: last?.step ?? 0,
    tokens: last?.tokens ?? 0,
    computeFlops: last?.computeFlops ?? 0,
    finalTrainLoss: last?.trainLoss ?? NaN,
    finalValLoss: spec.diverge ? NaN : (last?.valLoss ?? NaN),
    bestValLoss: spec.diverge ? NaN : best,
    wallSeconds: last?.wallSeconds ?? 0,
    provenance: provenance(),
  };
  writeJsonAtomic(rp.summary, summary);
}

export interface SyntheticSweepOptions {
  /** Which studies to include (default all). */
  studies?: ('isoflop' | 'lr-batch' | 'lr-batch-steps' | 'schedule' | 'xss')[];
  name?: string;
  seed?: number;
}

export interface SyntheticSweepInfo {
  dir: string;
  runIds: string[];
  isoflopRunIds: string[];
  lrBatchRunIds: string[];
  scheduleRunIds: string[];
  divergedRunIds: string[];
}

/** Tissue et al.'s law on the LR sequence so far: S1 = Σ lr, S2 with momentum λ (docs/references.md#tissue). */
export function tissueLoss(lrs: number[]): number {
  const { L0, A, alpha, C, lambda } = SYNTH_TISSUE;
  // S1 and S2 in units of the peak LR × steps, so A and C do not depend on the peak LR.
  const peak = Math.max(...lrs);
  let s1 = 0;
  let s2 = 0;
  let m = 0;
  for (let i = 0; i < lrs.length; i++) {
    const eta = lrs[i] / peak;
    const prev = i === 0 ? eta : lrs[i - 1] / peak;
    s1 += eta;
    // Only decreases count: warmup increases are not annealing (they would push the loss up).
    m = lambda * m + Math.max(0, prev - eta);
    s2 += m;
  }
  return L0 + A * s1 ** -alpha - C * s2;
}

export function writeSyntheticSweep(dir: string, options: SyntheticSweepOptions = {}): SyntheticSweepInfo {
  const studies = options.studies ?? ['isoflop', 'lr-batch', 'schedule', 'xss'];
  const seed = options.seed ?? 7;
  const rng = createRng(seed);
  const info: SyntheticSweepInfo = { dir, runIds: [], isoflopRunIds: [], lrBatchRunIds: [], scheduleRunIds: [], divergedRunIds: [] };
  const specs: RunSpecLite[] = [];

  if (studies.includes('isoflop')) {
    for (const c of SYNTH_BUDGETS) {
      const nOpt = synthNOpt(c);
      for (const k of [-2, -1, 0, 1, 2]) {
        // Sizes straddle the optimum by factors of 2, jittered so no size sits exactly on it.
        const n = Math.round(nOpt * 2 ** (k + 0.15 * (rng.next() - 0.5)));
        const d = c / (6 * n);
        const runId = `synth-iso-C${c.toExponential(0).replace('+', '')}-N${n}`;
        specs.push({ runId, activatedParams: n, tokens: Math.round(d), batchSize: 8, lr: 3e-3, schedule: 'cosine', budgetFlops: c, tags: { study: 'isoflop', budgetFlops: c, size: n, seed: 0 }, loss: ({ tokens }) => lossLaw(n, tokens) });
        info.isoflopRunIds.push(runId);
      }
    }
  }
  if (studies.includes('lr-batch')) {
    const n = 2e5;
    for (const bs of [4, 8, 16, 32, 64]) {
      const bTok = bs * SEQ_LEN;
      for (const lr of [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2]) {
        const runId = `synth-lrb-bs${bs}-lr${lr}`;
        const opt = surgeLr(bTok);
        const diverge = lr > 4 * opt;
        const final = SYNTH_SURGE.lStar + SYNTH_SURGE.kappa * Math.log(lr / opt) ** 2;
        const tokens = 2e6;
        specs.push({
          runId,
          activatedParams: n,
          tokens,
          batchSize: bs,
          lr,
          schedule: 'cosine',
          tags: { study: 'lr-batch', lr, batchTokens: bTok, seed: 0 },
          // Scale the law's training curve so it ends at the grid's final loss.
          loss: ({ tokens: t }) => (final * lossLaw(n, t)) / lossLaw(n, tokens),
          diverge,
        });
        info.lrBatchRunIds.push(runId);
        if (diverge) info.divergedRunIds.push(runId);
      }
    }
  }
  if (studies.includes('lr-batch-steps')) {
    const { sMin, bNoise, epsMax, kappa, target } = SYNTH_STEPS;
    for (const bs of [1, 4, 16, 64]) {
      const bTok = bs * SEQ_LEN;
      const fewest = sMin * (1 + bNoise / bTok);
      for (const lr of SYNTH_STEPS_LRS) {
        const runId = `synth-lrs-bs${bs}-lr${lr}`;
        const opt = (2 * epsMax) / (Math.sqrt(bNoise / bTok) + Math.sqrt(bTok / bNoise));
        const S = fewest * (1 + kappa * Math.log(lr / opt) ** 2);
        specs.push({
          runId,
          activatedParams: 2e5,
          tokens: Math.ceil(2.5 * fewest) * bTok,
          batchSize: bs,
          lr,
          schedule: 'constant',
          tags: { study: 'lr-batch', lr, batchTokens: bTok, seed: 0 },
          loss: ({ step }) => Math.min(5, target * (S / Math.max(step, 0.5)) ** 0.3),
        });
        info.lrBatchRunIds.push(runId);
      }
    }
  }
  if (studies.includes('schedule')) {
    for (const kind of ['cosine', 'wsd', 'hunyuan'] as const) {
      const runId = `synth-sched-${kind}`;
      specs.push({ runId, activatedParams: 3e5, tokens: 4e6, batchSize: 16, lr: 2e-3, schedule: kind, tags: { study: 'schedules', label: kind, seed: 0 }, loss: ({ lrs }) => tissueLoss(lrs) });
      info.scheduleRunIds.push(runId);
    }
  }
  if (studies.includes('xss')) {
    specs.push({ runId: XSS_RUN_ID, activatedParams: 1e5, tokens: 5e5, batchSize: 8, lr: 1e-3, schedule: 'constant', tags: { study: 'grid', point: {}, seed: 0 }, loss: ({ tokens }) => lossLaw(1e5, tokens) });
  }

  const sp = sweepPaths(dir);
  mkdirSync(sp.runs, { recursive: true });
  // sweep.json and plan.json in the shapes src/sweep/state.ts and src/sweep/plan.ts write.
  const name = options.name ?? XSS_SWEEP_NAME;
  const kind = studies.length === 1 ? ({ isoflop: 'isoflop', 'lr-batch': 'lr-batch', 'lr-batch-steps': 'lr-batch', schedule: 'schedules', xss: 'grid' } as const)[studies[0]] : 'grid';
  writeJsonAtomic(sp.sweep, { sweep: name, source: 'synthetic', definition: { name, kind }, provenance: provenance() });
  writeJsonAtomic(sp.plan, { sweep: name, kind, runs: specs.map((s, index) => ({ runId: s.runId, index, budgetFlops: s.budgetFlops, tags: s.tags })) });
  specs.forEach((s, i) => {
    writeRun(dir, s, seed * 1000 + i);
    info.runIds.push(s.runId);
  });
  return info;
}

/** Where the synthetic sweep lives when a test wants a stable path. */
export function syntheticDir(root: string, name = 'synthetic'): string {
  return join(root, name);
}
