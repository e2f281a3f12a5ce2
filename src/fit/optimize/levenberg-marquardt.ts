// Levenberg–Marquardt for nonlinear least squares, F(x) = ½·Σ r_i(x)².
// Step: (JᵀJ + λ·diag(JᵀJ))·δ = −Jᵀr (Marquardt's scaling), solved by Cholesky (ml-matrix), with
// Nielsen's damping update (Madsen, Nielsen & Tingleff, "Methods for Non-Linear Least Squares
// Problems", 2004, §3.2): on a good step λ ← λ·max(1/3, 1 − (2ρ − 1)³), on a bad one λ ← λ·ν, ν ← 2ν.
import { CholeskyDecomposition, Matrix, solve } from 'ml-matrix';
import { infNorm, isConvergedReason, type OptimizeResult, type StopReason } from './types.ts';

/**
 * Fills `r` (length m) with the residuals at x and, when `J` is not null, the Jacobian
 * ∂r_i/∂x_j row-major in `J` (length m·n).
 */
export type ResidualFunction = (x: Float64Array, r: Float64Array, J: Float64Array | null) => void;

export interface LevenbergMarquardtOptions {
  maxIterations?: number;
  /** Absolute tolerance on ‖Jᵀr‖∞. */
  gradTol?: number;
  /** Relative step tolerance: ‖δ‖ ≤ xTol·(‖x‖ + xTol). */
  xTol?: number;
  /** Relative tolerance on the decrease of F. */
  fTol?: number;
  /** Initial λ relative to max diag(JᵀJ). */
  tau?: number;
}

export function minimizeLevenbergMarquardt(
  fn: ResidualFunction,
  x0: ArrayLike<number>,
  m: number,
  options: LevenbergMarquardtOptions = {},
): OptimizeResult {
  const n = x0.length;
  const maxIter = options.maxIterations ?? 500;
  const gradTol = options.gradTol ?? 1e-12;
  const xTol = options.xTol ?? 1e-12;
  const fTol = options.fTol ?? 1e-15;
  const tau = options.tau ?? 1e-3;

  const x = Float64Array.from(x0);
  const r = new Float64Array(m);
  const J = new Float64Array(m * n);
  const rTrial = new Float64Array(m);
  const xTrial = new Float64Array(n);
  const JtJ = new Float64Array(n * n);
  const g = new Float64Array(n); // Jᵀr, the gradient of F
  let evaluations = 0;

  const sumSq = (v: Float64Array) => {
    let s = 0;
    for (let i = 0; i < v.length; i++) s += v[i] * v[i];
    return 0.5 * s;
  };
  const linearise = () => {
    fn(x, r, J);
    evaluations++;
    JtJ.fill(0);
    g.fill(0);
    for (let i = 0; i < m; i++) {
      const row = i * n;
      for (let a = 0; a < n; a++) {
        const ja = J[row + a];
        g[a] += ja * r[i];
        for (let b = a; b < n; b++) JtJ[a * n + b] += ja * J[row + b];
      }
    }
    for (let a = 0; a < n; a++) for (let b = 0; b < a; b++) JtJ[a * n + b] = JtJ[b * n + a];
  };

  linearise();
  let F = sumSq(r);
  const done = (reason: StopReason, iterations: number): OptimizeResult => ({
    x,
    f: F,
    gradNorm: infNorm(g),
    iterations,
    evaluations,
    converged: isConvergedReason(reason),
    reason,
  });
  if (!Number.isFinite(F)) return done('non-finite', 0);
  let maxDiag = 0;
  for (let a = 0; a < n; a++) maxDiag = Math.max(maxDiag, JtJ[a * n + a]);
  let lambda = tau * (maxDiag || 1);
  let nu = 2;

  for (let iter = 1; iter <= maxIter; iter++) {
    if (infNorm(g) <= gradTol) return done('gradient', iter - 1);
    // Damped normal equations; diag(JᵀJ) floored so a parameter with no influence stays put.
    const A = new Matrix(n, n);
    for (let a = 0; a < n; a++) {
      for (let b = 0; b < n; b++) A.set(a, b, JtJ[a * n + b]);
      A.set(a, a, JtJ[a * n + a] + lambda * Math.max(JtJ[a * n + a], 1e-12 * (maxDiag || 1)));
    }
    const rhs = Matrix.columnVector(Array.from(g, (v) => -v));
    const chol = new CholeskyDecomposition(A);
    const delta = (chol.isPositiveDefinite() ? chol.solve(rhs) : solve(A, rhs, true)).to1DArray();

    let stepNorm = 0;
    let xNorm = 0;
    for (let a = 0; a < n; a++) {
      xTrial[a] = x[a] + delta[a];
      stepNorm += delta[a] * delta[a];
      xNorm += x[a] * x[a];
    }
    if (Math.sqrt(stepNorm) <= xTol * (Math.sqrt(xNorm) + xTol)) return done('stationary', iter);

    fn(xTrial, rTrial, null);
    evaluations++;
    const Ftrial = sumSq(rTrial);
    // Predicted decrease of the linear model: ½·δᵀ(λ·D·δ − g).
    let predicted = 0;
    for (let a = 0; a < n; a++) {
      const damp = lambda * Math.max(JtJ[a * n + a], 1e-12 * (maxDiag || 1));
      predicted += 0.5 * delta[a] * (damp * delta[a] - g[a]);
    }
    const rhoGain = Number.isFinite(Ftrial) ? (F - Ftrial) / predicted : -1;
    if (rhoGain > 0) {
      const Fold = F;
      x.set(xTrial);
      linearise();
      F = sumSq(r);
      lambda *= Math.max(1 / 3, 1 - Math.pow(2 * rhoGain - 1, 3));
      nu = 2;
      if (Fold - F <= fTol * Math.max(F, 1e-300)) return done('stationary', iter);
    } else {
      lambda *= nu;
      nu *= 2;
      if (!Number.isFinite(lambda) || lambda > 1e300) return done('stationary', iter);
    }
  }
  return done('max-iterations', maxIter);
}
