// Limited-memory BFGS (Nocedal & Wright 2nd ed., Algorithm 7.4 two-loop recursion + Algorithm 7.5)
// with the strong-Wolfe line search of ./line-search.ts. Unconstrained: forms that need positive
// parameters are fitted in log space (src/fit/forms.ts), which is how the Chinchilla procedure
// parameterises A, B, E anyway.
//
// Stopping (all reported): ‖∇f‖∞ ≤ gradTol ("gradient"); the objective changed by less than
// fTol·max(|f|, fScale) over `stallIterations` consecutive iterations ("stationary"); a line
// search that fails twice in a row, once after dropping the curvature memory: "stationary" when
// ‖∇f‖∞ ≤ stuckGradTol (f cannot decrease at working precision), "line-search" otherwise.
import { strongWolfeLineSearch, type LineSearchOptions } from './line-search.ts';
import { dot, infNorm, isConvergedReason, type ObjectiveWithGradient, type OptimizeResult, type StopReason } from './types.ts';

export interface LbfgsOptions {
  /** Curvature pairs kept (m). */
  memory?: number;
  maxIterations?: number;
  maxEvaluations?: number;
  /** Absolute tolerance on ‖∇f‖∞. */
  gradTol?: number;
  /** Relative tolerance on the per-iteration decrease of f. */
  fTol?: number;
  /** Floor of |f| in the relative test (objectives near 0, e.g. a Huber sum of a perfect fit). */
  fScale?: number;
  /** Consecutive iterations below fTol before stopping as "stationary". */
  stallIterations?: number;
  /** A line search that cannot decrease f along −g counts as "stationary" when ‖∇f‖∞ ≤ this. */
  stuckGradTol?: number;
  lineSearch?: LineSearchOptions;
}

export function minimizeLbfgs(
  fg: ObjectiveWithGradient,
  x0: ArrayLike<number>,
  options: LbfgsOptions = {},
): OptimizeResult {
  const n = x0.length;
  const m = options.memory ?? 10;
  const maxIter = options.maxIterations ?? 2000;
  const maxEvals = options.maxEvaluations ?? 20 * maxIter;
  const gradTol = options.gradTol ?? 1e-10;
  const fTol = options.fTol ?? 1e-13;
  const fScale = options.fScale ?? 1e-300;
  const stallIterations = options.stallIterations ?? 3;
  const stuckGradTol = options.stuckGradTol ?? 1e-6;

  const x = Float64Array.from(x0);
  const g = new Float64Array(n);
  let f = fg(x, g);
  let evaluations = 1;
  const result = (reason: StopReason, iterations: number): OptimizeResult => ({
    x,
    f,
    gradNorm: infNorm(g),
    iterations,
    evaluations,
    converged: isConvergedReason(reason),
    reason,
  });
  if (!Number.isFinite(f) || !g.every(Number.isFinite)) return result('non-finite', 0);
  if (infNorm(g) <= gradTol) return result('gradient', 0);

  // Ring buffer of curvature pairs s_k = x_{k+1} − x_k, y_k = g_{k+1} − g_k, rho_k = 1/(y_k·s_k).
  const S = Array.from({ length: m }, () => new Float64Array(n));
  const Y = Array.from({ length: m }, () => new Float64Array(n));
  const rho = new Float64Array(m);
  const alphaBuf = new Float64Array(m);
  let stored = 0;
  let head = 0; // index of the oldest pair

  const d = new Float64Array(n);
  const xTrial = new Float64Array(n);
  const gTrial = new Float64Array(n);
  const xPrev = new Float64Array(n);
  const gPrev = new Float64Array(n);
  const sNew = new Float64Array(n);
  const yNew = new Float64Array(n);
  let stall = 0;
  let failedOnce = false;

  for (let iter = 1; iter <= maxIter; iter++) {
    // Two-loop recursion: d = −H·g.
    for (let i = 0; i < n; i++) d[i] = -g[i];
    for (let k = stored - 1; k >= 0; k--) {
      const j = (head + k) % m;
      const a = rho[j] * dot(S[j], d);
      alphaBuf[j] = a;
      const y = Y[j];
      for (let i = 0; i < n; i++) d[i] -= a * y[i];
    }
    if (stored > 0) {
      const j = (head + stored - 1) % m;
      const gamma = dot(S[j], Y[j]) / dot(Y[j], Y[j]); // H0 = γ·I (N&W eq. 7.20)
      for (let i = 0; i < n; i++) d[i] *= gamma;
    }
    for (let k = 0; k < stored; k++) {
      const j = (head + k) % m;
      const b = rho[j] * dot(Y[j], d);
      const s = S[j];
      const coef = alphaBuf[j] - b;
      for (let i = 0; i < n; i++) d[i] += coef * s[i];
    }
    let dphi0 = dot(g, d);
    if (!(dphi0 < 0)) {
      // Not a descent direction (lost positive definiteness): restart from steepest descent.
      stored = 0;
      for (let i = 0; i < n; i++) d[i] = -g[i];
      dphi0 = dot(g, d);
    }
    // First step from steepest descent is scaled to a unit move, as in SciPy's L-BFGS-B.
    const alpha1 = stored === 0 ? Math.min(1, 1 / Math.max(infNorm(d), 1e-300)) : 1;

    xPrev.set(x);
    gPrev.set(g);
    const fPrev = f;
    const phi = (alpha: number) => {
      for (let i = 0; i < n; i++) xTrial[i] = x[i] + alpha * d[i];
      const fv = fg(xTrial, gTrial);
      return { f: fv, dphi: Number.isFinite(fv) ? dot(gTrial, d) : NaN };
    };
    const ls = strongWolfeLineSearch(phi, f, dphi0, alpha1, options.lineSearch);
    evaluations += ls.evaluations;

    if (ls.alpha > 0 && Number.isFinite(ls.f) && ls.f <= f) {
      if (ls.isLastEvaluated) {
        x.set(xTrial);
        g.set(gTrial);
        f = ls.f;
      } else {
        for (let i = 0; i < n; i++) x[i] = xPrev[i] + ls.alpha * d[i];
        f = fg(x, g);
        evaluations++;
      }
    }
    const moved = f < fPrev;
    if (!ls.ok && !moved) {
      // No decrease even along −g: the point is stationary to working precision when the
      // gradient is already small (typical at the optimum of a Huber sum), a failure otherwise.
      if (failedOnce || stored === 0) return result(infNorm(g) <= stuckGradTol ? 'stationary' : 'line-search', iter);
      failedOnce = true;
      stored = 0; // drop the curvature memory and retry along −g
      continue;
    }
    failedOnce = false;

    // Curvature pair (skipped when yᵀs is not safely positive, keeping H positive definite).
    for (let i = 0; i < n; i++) {
      sNew[i] = x[i] - xPrev[i];
      yNew[i] = g[i] - gPrev[i];
    }
    const ys = dot(yNew, sNew);
    if (ys > 1e-16 * dot(yNew, yNew)) {
      const slot = stored < m ? (head + stored) % m : head;
      S[slot].set(sNew);
      Y[slot].set(yNew);
      rho[slot] = 1 / ys;
      if (stored < m) stored++;
      else head = (head + 1) % m;
    }

    if (infNorm(g) <= gradTol) return result('gradient', iter);
    if (fPrev - f <= fTol * Math.max(Math.abs(f), Math.abs(fPrev), fScale)) {
      if (++stall >= stallIterations) return result('stationary', iter);
    } else {
      stall = 0;
    }
    if (evaluations >= maxEvals) return result('max-evaluations', iter);
  }
  return result('max-iterations', maxIter);
}
