// Objectives on log residuals r_i = ln L̂_i − ln L_i for any Form (pure; no I/O).
//   huber-log:  Σ_i w_i·Huber_δ(r_i)          (Chinchilla / Epoch procedure, δ = 1e-3)
//   lsq-log:    ½·Σ_i w_i·r_i²               (Levenberg–Marquardt)
import type { Form } from './forms.ts';
import { huber, huberDerivative } from './huber.ts';
import type { ResidualFunction } from './optimize/levenberg-marquardt.ts';
import type { ObjectiveWithGradient } from './optimize/types.ts';

export type LossKind = 'huber-log' | 'lsq-log';

/** A data set bound to a form: prepared inputs, ln targets and weights. */
export interface BoundData {
  prepared: Float64Array[];
  lnY: Float64Array;
  weights: Float64Array | null;
  /** Row indices into the prepared columns (a bootstrap resample repeats some). */
  rows: Int32Array;
}

export function bindData(form: Form, columns: readonly Float64Array[], y: ArrayLike<number>, weights?: ArrayLike<number>): BoundData {
  const n = y.length;
  return {
    prepared: form.prepare(columns),
    lnY: Float64Array.from(y, Math.log),
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
