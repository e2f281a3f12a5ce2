// Nelder–Mead simplex search (Nelder & Mead 1965) with the dimension-adaptive coefficients of
// Gao & Han 2012 (reflection 1, expansion 1+2/n, contraction 0.75−1/(2n), shrink 1−1/n), which
// keep it useful beyond 2–3 parameters. Derivative-free: used for user forms whose derivatives
// do not exist everywhere and as a polishing cross-check of gradient methods.
import type { Objective, OptimizeResult, StopReason } from './types.ts';
import { isConvergedReason } from './types.ts';

export interface NelderMeadOptions {
  maxIterations?: number;
  maxEvaluations?: number;
  /** Stop when max_i |f_i − f_best| ≤ fTol and the simplex diameter (∞-norm) ≤ xTol. */
  fTol?: number;
  xTol?: number;
  /** Initial simplex edge per coordinate; default 5% of |x0_i| (0.00025 when x0_i = 0), as SciPy. */
  initialStep?: ArrayLike<number>;
  /** Use the Gao–Han adaptive coefficients (default true). */
  adaptive?: boolean;
}

export function minimizeNelderMead(f: Objective, x0: ArrayLike<number>, options: NelderMeadOptions = {}): OptimizeResult {
  const n = x0.length;
  const maxIter = options.maxIterations ?? 400 * n;
  const maxEvals = options.maxEvaluations ?? 800 * n;
  const fTol = options.fTol ?? 1e-12;
  const xTol = options.xTol ?? 1e-10;
  const adaptive = options.adaptive ?? true;
  const rho = 1;
  const chi = adaptive ? 1 + 2 / n : 2;
  const psi = adaptive ? 0.75 - 1 / (2 * n) : 0.5;
  const sigma = adaptive ? 1 - 1 / n : 0.5;

  let evaluations = 0;
  const evalF = (x: Float64Array) => {
    evaluations++;
    const v = f(x);
    return Number.isNaN(v) ? Infinity : v;
  };

  const pts: Float64Array[] = [Float64Array.from(x0)];
  for (let i = 0; i < n; i++) {
    const p = Float64Array.from(x0);
    const step = options.initialStep ? options.initialStep[i] : p[i] !== 0 ? 0.05 * p[i] : 0.00025;
    p[i] += step;
    pts.push(p);
  }
  const vals = pts.map(evalF);
  const order = () => {
    const idx = pts.map((_, i) => i).sort((a, b) => vals[a] - vals[b]);
    const p2 = idx.map((i) => pts[i]);
    const v2 = idx.map((i) => vals[i]);
    for (let i = 0; i <= n; i++) {
      pts[i] = p2[i];
      vals[i] = v2[i];
    }
  };
  const centroid = new Float64Array(n);
  const combine = (t: number) => {
    // centroid + t·(centroid − worst)
    const out = new Float64Array(n);
    const worst = pts[n];
    for (let i = 0; i < n; i++) out[i] = centroid[i] + t * (centroid[i] - worst[i]);
    return out;
  };

  let reason: StopReason = 'max-iterations';
  let iter = 0;
  order();
  if (!Number.isFinite(vals[0])) reason = 'non-finite';
  else
    for (iter = 1; iter <= maxIter; iter++) {
      let fSpread = 0;
      let xSpread = 0;
      for (let k = 1; k <= n; k++) {
        fSpread = Math.max(fSpread, Math.abs(vals[k] - vals[0]));
        for (let i = 0; i < n; i++) xSpread = Math.max(xSpread, Math.abs(pts[k][i] - pts[0][i]));
      }
      if (fSpread <= fTol && xSpread <= xTol) {
        reason = 'stationary';
        break;
      }
      if (evaluations >= maxEvals) {
        reason = 'max-evaluations';
        break;
      }
      centroid.fill(0);
      for (let k = 0; k < n; k++) for (let i = 0; i < n; i++) centroid[i] += pts[k][i] / n;

      const xr = combine(rho);
      const fr = evalF(xr);
      if (fr < vals[0]) {
        const xe = combine(rho * chi);
        const fe = evalF(xe);
        if (fe < fr) {
          pts[n] = xe;
          vals[n] = fe;
        } else {
          pts[n] = xr;
          vals[n] = fr;
        }
      } else if (fr < vals[n - 1]) {
        pts[n] = xr;
        vals[n] = fr;
      } else {
        // Outside contraction when the reflection beat the worst point, inside otherwise.
        const outside = fr < vals[n];
        const xc = combine(outside ? psi * rho : -psi);
        const fc = evalF(xc);
        if (outside ? fc <= fr : fc < vals[n]) {
          pts[n] = xc;
          vals[n] = fc;
        } else {
          for (let k = 1; k <= n; k++) {
            for (let i = 0; i < n; i++) pts[k][i] = pts[0][i] + sigma * (pts[k][i] - pts[0][i]);
            vals[k] = evalF(pts[k]);
          }
        }
      }
      order();
    }
  return {
    x: pts[0],
    f: vals[0],
    gradNorm: NaN,
    iterations: Math.min(iter, maxIter),
    evaluations,
    converged: isConvergedReason(reason),
    reason,
  };
}
