// Objectives for any Form (pure; no I/O). Log residuals r_i = ln L̂_i − ln L_i, raw residuals
// ρ_i = L̂_i − L_i (same units as the loss, nats):
//   huber-log:  Σ_i w_i·Huber_δ(r_i)     (Chinchilla / Epoch procedure, δ = 1e-3; robust to outliers,
//                                          close to least absolute deviations when δ ≪ the noise)
//   lsq-log:    ½·Σ_i w_i·r_i²          (Gaussian noise proportional to L; Levenberg–Marquardt)
//   lsq:        ½·Σ_i w_i·ρ_i²          (Gaussian noise of constant size on L, as several published
//                                          fits use; Levenberg–Marquardt)
//   huber:      Σ_i w_i·Huber_δ(ρ_i)     (robust version of lsq; δ in nats)
// docs/fit.md (Objectives) says when to use which.
import type { Form } from './forms.ts';
import { huber, huberDerivative } from './huber.ts';
import type { ResidualFunction } from './optimize/levenberg-marquardt.ts';
import type { ObjectiveWithGradient } from './optimize/types.ts';

export type LossKind = 'huber-log' | 'lsq-log' | 'lsq' | 'huber';
/** The objective names the API and the CLI (`--objective`) share. */
export type ObjectiveName = LossKind;
export const OBJECTIVES: readonly ObjectiveName[] = Object.freeze(['huber-log', 'lsq-log', 'lsq', 'huber']);
/** Whether the objective is a least-squares sum (Levenberg–Marquardt applies). */
export const isLeastSquares = (o: LossKind): boolean => o === 'lsq-log' || o === 'lsq';
/** Whether the objective works on log residuals. */
export const isLogObjective = (o: LossKind): boolean => o === 'huber-log' || o === 'lsq-log';

/** One-line description of an objective, for notes. */
export function describeObjective(o: LossKind, delta: number): string {
  switch (o) {
    case 'huber-log':
      return `Σ Huber_δ(ln L̂ − ln L), δ = ${delta}, summed (not averaged)`;
    case 'lsq-log':
      return '½·Σ (ln L̂ − ln L)² (least squares on log residuals)';
    case 'lsq':
      return '½·Σ (L̂ − L)² (least squares on the raw values)';
    case 'huber':
      return `Σ Huber_δ(L̂ − L), δ = ${delta} (in the units of the target), summed`;
  }
}

/** A data set bound to a form: prepared inputs, ln targets and weights. */
export interface BoundData {
  prepared: Float64Array[];
  lnY: Float64Array;
  /** The targets themselves (raw-residual objectives). */
  y: Float64Array;
  weights: Float64Array | null;
  /** Row indices into the prepared columns (a bootstrap resample repeats some). */
  rows: Int32Array;
}

export function bindData(form: Form, columns: readonly Float64Array[], y: ArrayLike<number>, weights?: ArrayLike<number>): BoundData {
  const n = y.length;
  return {
    prepared: form.prepare(columns),
    lnY: Float64Array.from(y, Math.log),
    y: Float64Array.from(y),
    weights: weights ? Float64Array.from(weights) : null,
    rows: Int32Array.from({ length: n }, (_, i) => i),
  };
}

/** The same data with a different row multiset (bootstrap). */
export function withRows(data: BoundData, rows: ArrayLike<number>): BoundData {
  return { ...data, rows: Int32Array.from(rows) };
}

export function huberLogObjective(form: Form, data: BoundData, delta: number): ObjectiveWithGradient {
  const k = form.fitParams.length;
  const gi = new Float64Array(k);
  const { prepared, lnY, weights, rows } = data;
  const kernel = form.huberLogKernel;
  if (kernel) return (theta, grad) => kernel(theta, grad, prepared, lnY, weights, rows, delta);
  return (theta, grad) => {
    grad.fill(0);
    let f = 0;
    for (let j = 0; j < rows.length; j++) {
      const i = rows[j];
      const lp = form.logPredict(theta, prepared, i, gi);
      if (!Number.isFinite(lp)) return NaN;
      const r = lp - lnY[i];
      const w = weights ? weights[i] : 1;
      f += w * huber(r, delta);
      const dr = w * huberDerivative(r, delta);
      for (let p = 0; p < k; p++) grad[p] += dr * gi[p];
    }
    return f;
  };
}

export function lsqLogObjective(form: Form, data: BoundData): ObjectiveWithGradient {
  const k = form.fitParams.length;
  const gi = new Float64Array(k);
  const { prepared, lnY, weights, rows } = data;
  return (theta, grad) => {
    grad.fill(0);
    let f = 0;
    for (let j = 0; j < rows.length; j++) {
      const i = rows[j];
      const lp = form.logPredict(theta, prepared, i, gi);
      if (!Number.isFinite(lp)) return NaN;
      const r = lp - lnY[i];
      const w = weights ? weights[i] : 1;
      f += 0.5 * w * r * r;
      for (let p = 0; p < k; p++) grad[p] += w * r * gi[p];
    }
    return f;
  };
}

/** Weighted log residuals √w_i·r_i and their Jacobian, for Levenberg–Marquardt. */
export function logResidualFunction(form: Form, data: BoundData): ResidualFunction {
  const k = form.fitParams.length;
  const gi = new Float64Array(k);
  const { prepared, lnY, weights, rows } = data;
  return (theta, r, J) => {
    for (let j = 0; j < rows.length; j++) {
      const i = rows[j];
      const lp = form.logPredict(theta, prepared, i, gi);
      const sw = weights ? Math.sqrt(weights[i]) : 1;
      r[j] = Number.isFinite(lp) ? sw * (lp - lnY[i]) : Infinity;
      if (J) for (let p = 0; p < k; p++) J[j * k + p] = sw * gi[p];
    }
  };
}

/**
 * Objectives on raw residuals ρ_i = L̂_i − L_i: ½·Σ w·ρ² ('lsq') or Σ w·Huber_δ(ρ) ('huber').
 * ∂L̂/∂θ = L̂·∂ln L̂/∂θ from the form's log-gradient.
 */
export function rawObjective(form: Form, data: BoundData, kind: 'lsq' | 'huber', delta: number): ObjectiveWithGradient {
  const k = form.fitParams.length;
  const gi = new Float64Array(k);
  const { prepared, y, weights, rows } = data;
  return (theta, grad) => {
    grad.fill(0);
    let f = 0;
    for (let j = 0; j < rows.length; j++) {
      const i = rows[j];
      const lp = form.logPredict(theta, prepared, i, gi);
      if (!Number.isFinite(lp)) return NaN;
      const pred = Math.exp(lp);
      const r = pred - y[i];
      const w = weights ? weights[i] : 1;
      let dr: number;
      if (kind === 'lsq') {
        f += 0.5 * w * r * r;
        dr = w * r;
      } else {
        f += w * huber(r, delta);
        dr = w * huberDerivative(r, delta);
      }
      dr *= pred;
      for (let p = 0; p < k; p++) grad[p] += dr * gi[p];
    }
    return f;
  };
}

/** Weighted raw residuals √w_i·(L̂_i − L_i) and their Jacobian, for Levenberg–Marquardt ('lsq'). */
export function rawResidualFunction(form: Form, data: BoundData): ResidualFunction {
  const k = form.fitParams.length;
  const gi = new Float64Array(k);
  const { prepared, y, weights, rows } = data;
  return (theta, r, J) => {
    for (let j = 0; j < rows.length; j++) {
      const i = rows[j];
      const lp = form.logPredict(theta, prepared, i, gi);
      const sw = weights ? Math.sqrt(weights[i]) : 1;
      const pred = Math.exp(lp);
      r[j] = Number.isFinite(pred) ? sw * (pred - y[i]) : Infinity;
      if (J) for (let p = 0; p < k; p++) J[j * k + p] = sw * pred * gi[p];
    }
  };
}

/** The objective `kind` on `data`, with its gradient. */
export function objectiveFor(form: Form, data: BoundData, kind: LossKind, delta: number): ObjectiveWithGradient {
  if (kind === 'huber-log') return huberLogObjective(form, data, delta);
  if (kind === 'lsq-log') return lsqLogObjective(form, data);
  return rawObjective(form, data, kind, delta);
}
