// Identifiability checks shared by the fits: data that cannot determine a law (all losses equal, one
// budget where several are needed, N and D moving in lock-step) and optima that sit at a boundary
// of the parameter space (E → 0, an exponent → 0, a coefficient running off to infinity). A
// problem found is a DataError naming it; with `allowUnidentified` the fit goes on and its record
// carries `identifiability: { identified: false, problems }` instead of a "converged" headline.
import { DataError } from '../errors.ts';
import { fmt } from './points.ts';

export interface Identifiability {
  identified: boolean;
  /** Plain-language problems (empty when identified). */
  problems: string[];
}

/** Relative spread below which a set of losses counts as constant. */
export const CONSTANT_SPREAD = 1e-6;

/** Problem text when `values` hardly vary (sd / |mean| below CONSTANT_SPREAD), else null. */
export function constantProblem(values: ArrayLike<number>, what: string): string | null {
  const n = values.length;
  if (n < 2) return null;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += values[i] / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (values[i] - mean) ** 2;
  const sd = Math.sqrt(ss / (n - 1));
  if (!Number.isFinite(mean)) return null; // non-finite values are refused by the fits' own checks
  if (!(sd > CONSTANT_SPREAD * Math.max(Math.abs(mean), 1e-300))) {
    return `the ${n} values of ${what} are all equal (${fmt(mean, 6)}, relative spread ${sd === 0 ? 0 : fmt(sd / Math.abs(mean))} < ${CONSTANT_SPREAD}): no law can be identified from them`;
  }
  return null;
}

/** |correlation| of two series (NaN when either is constant). */
export function correlation(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i] / n;
    my += y[i] / n;
  }
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : NaN;
}

/** Throws the problems as one DataError unless allowed; returns the record's field. */
export function settle(problems: readonly (string | null)[], what: string, allowUnidentified: boolean | undefined): Identifiability {
  const list = problems.filter((p): p is string => p !== null);
  if (list.length > 0 && !allowUnidentified) {
    throw new DataError(
      `${what}: not identifiable — ${list.join('; ')}. Fix the data (more budgets, sizes or spread), constrain the law (fix or tie parameters), or pass --allow-unidentified to write a record marked unidentified.`,
    );
  }
  return { identified: list.length === 0, problems: list };
}
