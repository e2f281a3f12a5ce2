// Calibration case "surge": does the 95% interval of the surge fit (docs/references.md#surge-estimation)
// cover the B_noise and ε_max of the law its LR × batch grid was drawn from?
//
// Each trial simulates the quick study's LR × batch grid (experiments/hunyuan-small.ts: batches of
// 2, 8, 32, 128 sequences × 64 = 128 … 8192 tokens, 5 constant LRs a factor 2 apart per batch,
// 2 seeds per cell) from the steps-to-target law of src/analysis/simulate.ts,
//   S(B, ε) = S_min·(1 + B_noise/B)·(1 + κ·ln²(ε/ε_opt(B))),  ε_opt(B) = 2ε_max/(√(B_noise/B) + √(B/B_noise)),
// with the measured scale (B_noise 464 tokens, S_min 181 steps; docs/BENCHMARKS.md) and
// seed noise on ln S; turns every run's S into a logged train-loss curve (surgeCurve, logged every
// 5 steps as the study logs, with the batch-to-batch noise of a logged mean: 1.5 nats per token /
// √(tokens per row)); and fits it with fitSurgeStepsToTarget — what the standard pipeline's auto
// method chooses for constant-LR curves — at the auto target.
//
// The grid's LRs. The study scales one LR list by √B; a grid that the law's ε_opt(B) leaves at
// some batch has no interior best LR there and measures the edge policy, not the interval. Here each
// batch's 5 LRs (×2 apart) are centred near ε_opt(B), off-centre by a fixed factor per batch
// (1.25, 0.8, 1.2, 0.85), as a grid laid out from a pilot would be.
//
// Truth: the law's B_noise and ε_max. The auto target is one loss for every run and each curve
// L(s) = target + h·((S/s)^p − 1) crosses any other level t at S·(1 + (t − target)/h)^(−1/p), the
// same factor for every run: the fitted S_min scales with the target, B_noise and ε_opt(B) do not.
// (surgeCurve logs the loss at a step, the fit reads a row as the mean of the steps before it: S
// comes out ≈ 3 steps short, −1% at the largest batch, which nudges B_noise up by about as much.)
import { fitSurgeStepsToTarget, type SurgeCurvePoint } from '../../fit/surge-steps.ts';
import type { SurgeIntervalMethod } from '../../fit/surge.ts';
import { createRng, deriveSeed } from '../../util/rng.ts';
import { simulateSurgeGrid, surgeCurve, surgeEpsOpt, surgeSteps, type SurgeLaw } from '../simulate.ts';
import type { CalibrationCase, CalibrationTrial } from './types.ts';

/** The quick study's scale (docs/BENCHMARKS.md, the demo's surge fit): B_noise 464 tokens, S_min 181 steps. */
export const QUICK_SURGE_LAW: Readonly<SurgeLaw> = Object.freeze({ epsMax: 0.05, bNoise: 464, sMin: 181, curvature: 0.4 });

export interface SurgeCalibrationOptions {
  law?: SurgeLaw;
  /** Batches in tokens. */
  batches?: readonly number[];
  /** Each batch's LR grid is ε_opt(B) × offset × these factors. */
  lrFactors?: readonly number[];
  /** Off-centre factor of each batch's grid (one per batch). */
  offsets?: readonly number[];
  seeds?: readonly number[];
  /** SD of ln S between seeds (single-seed steps differ by ≈ ±20% between neighbouring LRs). */
  seedSd?: number;
  /** Each run is trained for this multiple of its batch's fewest steps S_min(B). */
  trainFactor?: number;
  logEvery?: number;
  /** Multiplies the logged train loss's batch-to-batch noise (1.5 nats per token / √(tokens per row)); 0 = none. */
  curveNoise?: number;
  /** Interval method of the fit (its default when absent). */
  interval?: SurgeIntervalMethod;
  /** Base seed: trial i draws from deriveSeed(seed, 'surge', i). */
  seed?: number;
}

export const SURGE_QUANTITIES = ['Bnoise', 'epsMax'] as const;

/** The grid design of a calibration case, every option resolved. */
function design(o: SurgeCalibrationOptions) {
  const law = o.law ?? QUICK_SURGE_LAW;
  const batches = o.batches ?? [128, 512, 2048, 8192];
  const factors = o.lrFactors ?? [0.25, 0.5, 1, 2, 4];
  const offsets = o.offsets ?? [1.25, 0.8, 1.2, 0.85];
  return {
    law,
    batches,
    lrs: batches.map((B, i) => factors.map((f) => surgeEpsOpt(B, law.epsMax, law.bNoise) * (offsets[i] ?? 1) * f)),
    seeds: o.seeds ?? [0, 1],
    seedSd: o.seedSd ?? 0.12,
    trainFactor: o.trainFactor ?? 2.5,
    logEvery: o.logEvery ?? 5,
    curveNoise: o.curveNoise ?? 1,
  };
}

/** Trial `index`'s simulated grid: one run per (batch, LR, seed) with its logged train-loss curve. */
export function simulateSurgeCalibrationGrid(o: SurgeCalibrationOptions, index: number): SurgeCurvePoint[] {
  const { law, batches, lrs, seeds, seedSd, trainFactor, logEvery, curveNoise } = design(o);
  const rng = createRng(deriveSeed(o.seed ?? 0, 'surge', index));
  const runs = simulateSurgeGrid({ law, batches, lrs, seeds, noise: { seedSd } }, rng);
  return runs.map((r) => {
    const fewest = surgeSteps(law, r.batchTokens, surgeEpsOpt(r.batchTokens, law.epsMax, law.bNoise));
    const totalSteps = Math.ceil((trainFactor * fewest) / logEvery) * logEvery;
    const rows = surgeCurve({ target: 2.36, stepsToTarget: r.steps, totalSteps, logEvery, noiseSd: (curveNoise * 1.5) / Math.sqrt(logEvery * r.batchTokens) }, rng);
    return {
      batchTokens: r.batchTokens,
      lr: r.lr,
      seed: r.seed,
      curve: rows.map((x) => ({ step: x.step, tokens: x.step * r.batchTokens, loss: x.loss })),
      label: `B${r.batchTokens}-lr${r.lr.toPrecision(3)}-s${r.seed}`,
    };
  });
}

/** Trial `index`'s fit, as the standard pipeline makes it (held-out check off: it does not change the intervals). */
export function fitSurgeCalibrationGrid(o: SurgeCalibrationOptions, index: number, bootstrap: number) {
  return fitSurgeStepsToTarget(simulateSurgeCalibrationGrid(o, index), {
    bootstrap,
    seed: deriveSeed(o.seed ?? 0, 'surge-boot', index),
    holdout: 'none',
    targetLoss: 'auto',
    interval: o.interval,
  });
}

export function surgeCase(o: SurgeCalibrationOptions = {}): CalibrationCase {
  const { law } = design(o);
  const truth = { Bnoise: law.bNoise, epsMax: law.epsMax };
  return {
    name: 'surge',
    quantities: SURGE_QUANTITIES,
    trial(index, { bootstrap }) {
      const fit = fitSurgeCalibrationGrid(o, index, bootstrap);
      const b = fit.bootstrap;
      const successFraction = b && b.samples > 0 ? b.succeeded / b.samples : 0;
      const out: Record<string, CalibrationTrial> = {};
      for (const q of SURGE_QUANTITIES) out[q] = { truth: truth[q], ci: fit.params[q].ci95, successFraction };
      return out;
    },
  };
}
