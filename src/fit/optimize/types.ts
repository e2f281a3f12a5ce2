// Shared shapes of the minimisers in src/fit/optimize (pure numerics; no TF.js, no I/O).

/** f(x); fills `grad` with ∇f(x). Returns NaN/±Infinity where f is undefined (the caller backs off). */
export type ObjectiveWithGradient = (x: Float64Array, grad: Float64Array) => number;

/** f(x) alone (derivative-free methods). */
export type Objective = (x: Float64Array) => number;

/** Why a minimiser stopped. The first two count as converged. */
export type StopReason =
  | 'gradient' // ‖∇f‖∞ ≤ gradTol
  | 'stationary' // the objective (or the simplex / step) stopped changing within tolerance
  | 'max-iterations'
  | 'max-evaluations'
  | 'line-search' // no step satisfying the Wolfe conditions even after a restart
  | 'non-finite' // the objective is not finite at the start point
  | 'early-stop'; // a fixed-budget procedure stopped by its own rule (adamw.ts): not a convergence claim

export interface OptimizeResult {
  x: Float64Array;
  f: number;
  /** ‖∇f(x)‖∞ at the returned point (NaN for derivative-free methods). */
  gradNorm: number;
  iterations: number;
  evaluations: number;
  converged: boolean;
  reason: StopReason;
}

export function isConvergedReason(reason: StopReason): boolean {
  return reason === 'gradient' || reason === 'stationary';
}

export function infNorm(v: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < v.length; i++) {
    const a = Math.abs(v[i]);
    if (a > m || Number.isNaN(a)) m = a;
  }
  return m;
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}
