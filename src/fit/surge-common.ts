// The pieces both surge methods share (surge.ts: final-loss, surge-steps.ts: steps-to-target):
// per-batch slices, the free surge-curve fit of their best LRs, the expert-LR rule's derived values.
// Internal to src/fit (the fit barrel does not export it).
import { DataError } from '../errors.ts';
import { fitForm, type FormFit } from './fit-form.ts';
import { epsOpt, surgeExpertLrRatio, surgeForm } from './forms.ts';
import type { Parabola } from './linear.ts';
import { fmt } from './points.ts';

/** Where to evaluate the expert-specific LR rule. */
export interface ExpertLrQuery {
  numExperts: number;
  topK: number;
  batchTokens: number;
}

/** Batch sizes and token counts as written: exact below 1e5 (256, 4096), else fmt (8.00e6). */
export function fmtTokens(x: number): string {
  return Number.isInteger(x) && Math.abs(x) < 1e5 ? String(x) : fmt(x);
}

/** lr_specialized / lr_shared = ε_opt(B/n)/ε_opt(B) = sqrt(n)(1+u)/(n+u) with u = B/B_noise (docs/references.md#expert-lr). */
export function expertLrRatio(batchTokens: number, bNoise: number, numExperts: number, topK: number): number {
  return surgeExpertLrRatio(batchTokens / bNoise, numExperts / topK);
}

/** One batch size's best LR (and, steps-to-target, its S_min). */
export interface BatchSlice {
  batchTokens: number;
  parabola: Parabola;
  bestLr: number;
  /** steps-to-target only: exp(vertex of ln S). */
  stepsMin?: number;
}

// ---------------------------------------------------------------------------------------------
// Across batch sizes

/** Start grid for (ln ε_max, ln B_noise): around the largest best LR and across the batch range. */
export function surgeStarts(slices: readonly BatchSlice[]): number[][] {
  const lnMax = Math.log(Math.max(...slices.map((s) => s.bestLr)));
  const out: number[][] = [];
  for (const de of [0, Math.log(2), Math.log(5)]) for (const b of batchStarts(slices)) out.push([lnMax + de, b]);
  return out;
}

/** ln B_noise starts: every sampled batch and a decade beyond either end. */
export function batchStarts(slices: readonly BatchSlice[]): number[] {
  const lnB = slices.map((s) => Math.log(s.batchTokens));
  return [Math.min(...lnB) - Math.log(10), ...lnB, Math.max(...lnB) + Math.log(10)];
}

export function fitCurve(slices: readonly BatchSlice[]): FormFit {
  return fitForm(
    surgeForm,
    [Float64Array.from(slices, (s) => s.batchTokens)],
    slices.map((s) => s.bestLr),
    { starts: surgeStarts(slices), loss: 'lsq-log' },
  );
}

export function derivedOf(epsMax: number, bNoise: number, q: ExpertLrQuery | undefined): Record<string, number> {
  const out: Record<string, number> = { B_peak: bNoise, lnEpsMaxOverSqrtBnoise: Math.log(epsMax) - 0.5 * Math.log(bNoise) };
  if (q) {
    const shared = epsOpt(q.batchTokens, epsMax, bNoise);
    out.lrShared = shared;
    out.lrSpecialized = epsOpt((q.batchTokens * q.topK) / q.numExperts, epsMax, bNoise);
    out.expertLrRatio = expertLrRatio(q.batchTokens, bNoise, q.numExperts, q.topK);
    out.u = q.batchTokens / bNoise;
  }
  return out;
}

export function checkExpertQuery(q: ExpertLrQuery | undefined): void {
  if (q && !(q.numExperts >= 1 && q.topK >= 1 && q.topK <= q.numExperts && q.batchTokens > 0)) {
    throw new DataError(`surge: expert LR query needs 1 ≤ topK ≤ numExperts and batchTokens > 0 (got E=${q.numExperts}, k=${q.topK}, B=${q.batchTokens}).`);
  }
}

/** n log-spaced batch sizes from half the smallest to twice the largest sampled batch. */
export function batchGrid(slices: readonly BatchSlice[], n: number): number[] {
  const bMin = slices[0].batchTokens;
  const bMax = slices[slices.length - 1].batchTokens;
  return Array.from({ length: n }, (_, i) => Math.exp(Math.log(bMin / 2) + (i / (n - 1)) * Math.log((4 * bMax) / bMin)));
}

/**
 * Refit the surge curve to a resample's per-batch optima, starting from a previous optimum
 * (the optima themselves change with every resample, so this is not a row-level refit);
 * returns [ε_max, B_noise].
 */
export function refitSlices(base: FormFit, slices: readonly BatchSlice[]): [number, number] | null {
  const fit = fitForm(surgeForm, [Float64Array.from(slices, (s) => s.batchTokens)], slices.map((s) => s.bestLr), {
    starts: [base.theta],
    loss: 'lsq-log',
  });
  return Number.isFinite(fit.diagnostics.objective) ? [fit.params.epsMax, fit.params.Bnoise] : null;
}

