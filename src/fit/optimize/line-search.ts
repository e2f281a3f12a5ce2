// Strong-Wolfe line search (Nocedal & Wright, "Numerical Optimization", 2nd ed., Algorithms 3.5
// and 3.6): bracket a step, then zoom with safeguarded cubic interpolation. Used by L-BFGS.
//
//   φ(α) = f(x + α·d),  φ'(α) = ∇f(x + α·d)·d
//   sufficient decrease:  φ(α) ≤ φ(0) + c1·α·φ'(0)
//   curvature (strong):   |φ'(α)| ≤ c2·|φ'(0)|

export interface LineSearchOptions {
  /** Sufficient-decrease constant (N&W default 1e-4). */
  c1?: number;
  /** Curvature constant (0.9 suits quasi-Newton directions). */
  c2?: number;
  /** Function evaluations allowed in one search. */
  maxEvaluations?: number;
  /** Largest step tried while bracketing. */
  alphaMax?: number;
}

/** One evaluation of φ: the caller evaluates f and its gradient at x + α·d and keeps them. */
export type LinePhi = (alpha: number) => { f: number; dphi: number };

export interface LineSearchResult {
  /** Accepted step (or the best sufficient-decrease step found when `ok` is false). */
  alpha: number;
  f: number;
  dphi: number;
  evaluations: number;
  /** Both strong-Wolfe conditions hold at `alpha`. */
  ok: boolean;
  /** `alpha` was the last point passed to φ (so the caller's buffers hold its x and gradient). */
  isLastEvaluated: boolean;
}

/** Minimiser of the cubic through (a, fa, da) and (b, fb, db); NaN when it does not exist. */
function cubicMin(a: number, fa: number, da: number, b: number, fb: number, db: number): number {
  const d1 = da + db - (3 * (fa - fb)) / (a - b);
  const disc = d1 * d1 - da * db;
  if (!(disc >= 0)) return NaN;
  const d2 = Math.sign(b - a) * Math.sqrt(disc);
  return b - ((b - a) * (db + d2 - d1)) / (db - da + 2 * d2);
}

export function strongWolfeLineSearch(
  phi: LinePhi,
  f0: number,
  dphi0: number,
  alpha1: number,
  options: LineSearchOptions = {},
): LineSearchResult {
  const c1 = options.c1 ?? 1e-4;
  const c2 = options.c2 ?? 0.9;
  const maxEvals = options.maxEvaluations ?? 30;
  const alphaMax = options.alphaMax ?? 1e20;
  let evaluations = 0;
  let last = NaN;
  const evalAt = (alpha: number) => {
    evaluations++;
    last = alpha;
    const r = phi(alpha);
    return r;
  };
  // Best point satisfying sufficient decrease, returned if the search runs out of evaluations.
  let best = { alpha: 0, f: f0, dphi: dphi0 };
  const note = (alpha: number, f: number, dphi: number) => {
    if (Number.isFinite(f) && f < best.f && f <= f0 + c1 * alpha * dphi0) best = { alpha, f, dphi };
  };
  const done = (alpha: number, f: number, dphi: number, ok: boolean): LineSearchResult => ({
    alpha,
    f,
    dphi,
    evaluations,
    ok,
    isLastEvaluated: alpha === last,
  });

  const zoom = (
    lo: { a: number; f: number; d: number },
    hi: { a: number; f: number; d: number },
  ): LineSearchResult => {
    while (evaluations < maxEvals) {
      const width = hi.a - lo.a;
      let a = Number.isFinite(hi.f) && Number.isFinite(hi.d) ? cubicMin(lo.a, lo.f, lo.d, hi.a, hi.f, hi.d) : NaN;
      // Safeguard: stay inside the middle 80% of the bracket, else bisect.
      const lower = Math.min(lo.a, hi.a) + 0.1 * Math.abs(width);
      const upper = Math.max(lo.a, hi.a) - 0.1 * Math.abs(width);
      if (!Number.isFinite(a) || a < lower || a > upper) a = lo.a + 0.5 * width;
      if (Math.abs(width) <= 1e-16 * Math.max(1, Math.abs(lo.a))) break;
      const { f, dphi } = evalAt(a);
      note(a, f, dphi);
      if (!Number.isFinite(f) || f > f0 + c1 * a * dphi0 || f >= lo.f) {
        hi = { a, f, d: dphi };
      } else {
        if (Math.abs(dphi) <= -c2 * dphi0) return done(a, f, dphi, true);
        if (dphi * (hi.a - lo.a) >= 0) hi = lo;
        lo = { a, f, d: dphi };
      }
    }
    return done(best.alpha, best.f, best.dphi, false);
  };

  let prev = { a: 0, f: f0, d: dphi0 };
  let alpha = Math.min(alpha1, alphaMax);
  for (let i = 0; evaluations < maxEvals; i++) {
    const { f, dphi } = evalAt(alpha);
    note(alpha, f, dphi);
    if (!Number.isFinite(f)) {
      // Stepped outside the domain (e.g. a negative prediction under a log): shrink towards prev.
      return zoom(prev, { a: alpha, f: Infinity, d: NaN });
    }
    if (f > f0 + c1 * alpha * dphi0 || (i > 0 && f >= prev.f)) {
      return zoom(prev, { a: alpha, f, d: dphi });
    }
    if (Math.abs(dphi) <= -c2 * dphi0) return done(alpha, f, dphi, true);
    if (dphi >= 0) return zoom({ a: alpha, f, d: dphi }, prev);
    prev = { a: alpha, f, d: dphi };
    if (alpha >= alphaMax) break;
    alpha = Math.min(alpha * 2.5, alphaMax);
  }
  return done(best.alpha, best.f, best.dphi, false);
}
