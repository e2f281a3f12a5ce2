// AdamW with per-coordinate learning rates and early stopping, as a fitting procedure (pure
// numerics). Used to replicate the Multi-Power Law authors' released fitting code
// (docs/references.md#multi-power): their official parameters are where ≤ 200 such steps stop, not
// an optimum, so the result reports reason 'early-stop' and never claims convergence.
import { infNorm, type ObjectiveWithGradient, type OptimizeResult } from './types.ts';

export interface AdamWOptions {
  /** Learning rate per coordinate. */
  lrs: readonly number[];
  /** Most steps (default 200). */
  maxSteps?: number;
  /** Stop after this many steps without a new best objective (default 20). */
  patience?: number;
  /** Decoupled weight decay (default 0.01, PyTorch's AdamW default). */
  weightDecay?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
}

/**
 * PyTorch's AdamW update (decoupled decay x ← x − lr·(m̂/(√v̂ + ε) + wd·x), bias-corrected moments)
 * on f from x0; returns the best point seen. Each step evaluates f at the current point first, so
 * the best is over the points visited, as the released code keeps it.
 */
export function minimizeAdamW(fg: ObjectiveWithGradient, x0: readonly number[], options: AdamWOptions): OptimizeResult {
  const n = x0.length;
  if (options.lrs.length !== n) throw new Error(`minimizeAdamW: ${options.lrs.length} learning rates for ${n} coordinates.`);
  const { maxSteps = 200, patience = 20, weightDecay = 0.01, beta1 = 0.9, beta2 = 0.999, eps = 1e-8 } = options;
  const x = Float64Array.from(x0);
  const g = new Float64Array(n);
  const m = new Float64Array(n);
  const v = new Float64Array(n);
  let best = { x: Float64Array.from(x0), f: Infinity, grad: new Float64Array(n) };
  let since = 0;
  let evaluations = 0;
  let step = 0;
  for (step = 1; step <= maxSteps; step++) {
    const f = fg(x, g);
    evaluations++;
    if (!Number.isFinite(f)) break;
    if (f < best.f) {
      best = { x: Float64Array.from(x), f, grad: Float64Array.from(g) };
      since = 0;
    } else if (++since >= patience) break;
    for (let i = 0; i < n; i++) {
      m[i] = beta1 * m[i] + (1 - beta1) * g[i];
      v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i];
      const mh = m[i] / (1 - beta1 ** step);
      const vh = v[i] / (1 - beta2 ** step);
      x[i] -= options.lrs[i] * (mh / (Math.sqrt(vh) + eps) + weightDecay * x[i]);
    }
  }
  if (!Number.isFinite(best.f)) return { x: best.x, f: NaN, gradNorm: NaN, iterations: step, evaluations, converged: false, reason: 'non-finite' };
  return { x: best.x, f: best.f, gradNorm: infNorm(best.grad), iterations: Math.min(step, maxSteps), evaluations, converged: false, reason: 'early-stop' };
}
