// How long a study takes (pure): a model of one run's wall seconds from what its plan fixes, fitted
// to measured runs, and the stage's wall time on W workers. The fit, its held-out errors and the
// check against a running study are in
// docs/BENCHMARKS.md "Study time estimates (`moelab reproduce --dry-run`)";
// scripts/fit-time-model.ts refits it from finished study folders.
//
// One run's seconds are a sum of five terms, each a count the plan fixes times a cost per unit:
//   step        steps                                 fixed cost of a step (optimizer, data, logging)
//   layerStep   steps × layers                        per-layer cost of a step (kernel launches per block)
//   layerToken  steps × tokens per step × layers      per-token work outside the matmuls (norms,
//                                                     routing, elementwise ops), per layer
//   flop        exact training FLOPs                  the matmuls
//   evalFlop    final-evaluation tokens × FLOPs per token / 3   the forward passes of the final evaluation
// At the quick preset's sizes the first three dominate (a 3-layer d8 model costs ~2.5× a 1-layer d8
// one per step at the same FLOPs), at the standard preset's largest the FLOP term does: a single
// FLOPs-per-second rate with one cost per step cannot fit both.
import { resolveModelConfig } from '../config/resolve.ts';
import { DataConfigSchema, ModelConfigSchema, type UserRunConfig } from '../config/schema.ts';
import { resolveValWindows } from '../data/validation.ts';
import { nonNegativeLeastSquares } from '../fit/linear.ts';
import type { DerivedCounts } from '../io/results.ts';

/** What the time model reads of a run (from a plan entry or a finished run's config.json). */
export interface RunWork {
  steps: number;
  /** Transformer blocks. */
  layers: number;
  /** Tokens per optimiser step (batch × sequence length). */
  tokensPerStep: number;
  /** Exact FLOPs of the trained tokens. */
  computeFlops: number;
  /** Exact training FLOPs per token (forward + backward). */
  flopsPerToken: number;
  /** Tokens of the final evaluation (validation windows × sequence length). */
  evalTokens: number;
}

export const TIME_TERMS = ['step', 'layerStep', 'layerToken', 'flop', 'evalFlop'] as const;
export type TimeTerm = (typeof TIME_TERMS)[number];

/** Seconds per unit of each term, for one worker. */
export type TimeCoefficients = Record<TimeTerm, number>;

/** Each term's count for one run. */
export function timeTerms(w: RunWork): TimeCoefficients {
  return {
    step: w.steps,
    layerStep: w.steps * w.layers,
    layerToken: w.steps * w.tokensPerStep * w.layers,
    flop: w.computeFlops,
    evalFlop: (w.evalTokens * w.flopsPerToken) / 3,
  };
}

/** Predicted wall seconds of one run on one worker. */
export function predictRunSeconds(w: RunWork, c: TimeCoefficients): number {
  const t = timeTerms(w);
  return TIME_TERMS.reduce((s, k) => s + t[k] * c[k], 0);
}

/** One measured run: its work and its wall seconds (summary.json wallSeconds). */
export interface TimeSample {
  work: RunWork;
  seconds: number;
  /** What held-out checks leave out together (e.g. the model size: runs of one size are near-copies). */
  group: string;
}

/**
 * The coefficients that minimise the squared relative error Σ ((predicted − measured) / measured)²
 * over the samples, each coefficient ≥ 0 (non-negative least squares with weights 1/seconds²: a
 * 30 s run and a 900 s run count alike).
 */
export function fitTimeModel(samples: readonly Pick<TimeSample, 'work' | 'seconds'>[]): TimeCoefficients {
  const X = samples.map((s) => TIME_TERMS.map((k) => timeTerms(s.work)[k]));
  const fit = nonNegativeLeastSquares(
    X,
    samples.map((s) => s.seconds),
    samples.map((s) => 1 / s.seconds ** 2),
  );
  return Object.fromEntries(TIME_TERMS.map((k, j) => [k, fit.coef[j]])) as TimeCoefficients;
}

/** How far predictions are from measurements, as relative errors (predicted / measured − 1). */
export interface PredictionError {
  n: number;
  /** Median of |relative error|. */
  medianAbs: number;
  maxAbs: number;
  /** Σ predicted / Σ measured − 1: the error of a total. */
  total: number;
}

export function predictionError(pairs: readonly { predicted: number; measured: number }[]): PredictionError {
  const abs = pairs.map((p) => Math.abs(p.predicted / p.measured - 1)).sort((a, b) => a - b);
  const n = abs.length;
  const median = n === 0 ? NaN : n % 2 ? abs[(n - 1) / 2] : (abs[n / 2 - 1] + abs[n / 2]) / 2;
  const sum = (f: (p: { predicted: number; measured: number }) => number) => pairs.reduce((s, p) => s + f(p), 0);
  return { n, medianAbs: median, maxAbs: n ? abs[n - 1] : NaN, total: n ? sum((p) => p.predicted) / sum((p) => p.measured) - 1 : NaN };
}

/**
 * Leave-one-group-out: each group's runs predicted by the model fitted on every other group's
 * (runs of one size at other LRs or seeds would otherwise vouch for themselves).
 */
export function heldOutPredictions(samples: readonly TimeSample[]): { sample: TimeSample; predicted: number }[] {
  const groups = [...new Set(samples.map((s) => s.group))];
  return groups.flatMap((g) => {
    const coef = fitTimeModel(samples.filter((s) => s.group !== g));
    return samples.filter((s) => s.group === g).map((sample) => ({ sample, predicted: predictRunSeconds(sample.work, coef) }));
  });
}

/**
 * Wall seconds of runs taken in order by `workers` workers, each run going to the first worker
 * free (how the local runner and a Slurm array without limits take a plan): the makespan, so a
 * stage's long last runs count instead of being spread evenly over the workers.
 */
export function makespan(seconds: readonly number[], workers: number): number {
  if (!(workers >= 1)) throw new RangeError(`makespan: workers must be ≥ 1, got ${workers}`);
  const free = new Array<number>(Math.min(workers, Math.max(1, seconds.length))).fill(0);
  for (const s of seconds) {
    let i = 0;
    for (let j = 1; j < free.length; j++) if (free[j] < free[i]) i = j;
    free[i] += s;
  }
  return Math.max(...free);
}

/** A run's work from its configuration (a plan entry's user form or config.json's) and derived counts. */
export function runWorkOf(config: UserRunConfig, derived: Pick<DerivedCounts, 'steps' | 'tokensPerStep' | 'computeFlops' | 'flopsPerToken'>): RunWork {
  const model = resolveModelConfig(ModelConfigSchema.parse(config.model));
  const data = DataConfigSchema.parse(config.data ?? {});
  return {
    steps: derived.steps,
    layers: model.numLayers,
    tokensPerStep: derived.tokensPerStep,
    computeFlops: derived.computeFlops,
    flopsPerToken: derived.flopsPerToken,
    evalTokens: resolveValWindows(data.valTokens, model.seqLen, data.valWindows) * model.seqLen,
  };
}
