// Approach 2, isoFLOP profiles (Hoffmann et al. 2022 §3.2; docs/references.md#chinchilla-approach-2; docs/references.md#isoflop-design, docs/references.md#reproduction-needs):
//   per budget C:   L ≈ p0 + p1·u + p2·u²,  u = ln N   →  N_opt = exp(−p1/(2·p2)), L_min = L(N_opt)
//                   D_opt from the budget's own runs (ln D linear in ln N, exact when D = C/(a·N + b))
//                   or from the compute formula when runs lack D
//   across budgets: N_opt = kN·C^a,  D_opt = kD·C^b,  L_min = kL·C^c   (least squares in log space)
//   flat optimum:   sizes whose fitted loss is within ΔL of L_min: u ∈ u* ± sqrt(ΔL/p2)
//                   (the paper picks 52B/7T inside the flat region around 58.1B/5.6T; docs/references.md#isoflop-design)
// Symbols: N activated parameters, D tokens, C the budget in FLOPs, L loss (nats/token).
import { DataError } from '../errors.ts';
import { dropEdgeGroups, NoInteriorMinimumError, type EdgePolicy } from './edges.ts';
import { bootstrap, bootstrapDraws, cellIds, failed, type BootstrapOutcome } from './bootstrap.ts';
import { COMPUTE_6ND, tokensForCompute, type ComputeFormula } from './compute-formula.ts';
import { fitForm } from './fit-form.ts';
import { powerLawOffsetForm } from './forms.ts';
import { constantProblem, settle } from './identify.ts';
import { evalParabola, evalPowerLaw, fitLine, fitParabola, fitPowerLaw, type Parabola, type PowerLaw } from './linear.ts';
import { describeObjective, type LossKind } from './objective.ts';
import { fmt, groupIds, groupIndices, requirePositive } from './points.ts';
import {
  bootstrapSummary,
  predictionDraws,
  predictionRows,
  prefixKeys,
  relError,
  withIntervals,
  type Estimate,
  type FitResultBase,
  type HeldOutRow,
} from './record.ts';

export interface IsoflopPoint {
  /** The run's compute budget (FLOPs); runs of one isoFLOP slice share it exactly. */
  budget: number;
  /** Activated parameters. */
  N: number;
  /** Training tokens (optional; D_opt then comes from the compute formula). */
  D?: number;
  loss: number;
  label?: string;
  /** Training seed of the run (runs of one (budget, N) cell with different seeds are replicates). */
  seed?: number;
  /** Standard error of the loss's evaluation (summary.finalValLossStderr), nats. */
  lossStderr?: number;
}

/**
 * How the bootstrap draws a resample:
 * - 'noise' (default): the design stays fixed; every run's loss is redrawn as its budget's fitted
 *   parabola (the run's own loss outside the window) plus N(0, σ²), σ the measured noise floor:
 *   the pooled SD between seeds of one cell where cells have ≥ 2 seeds, else √(noise² + stderr²)
 *   from the `noise` option and the runs' recorded eval stderr, else the parabolas' pooled
 *   residual SD. An estimated σ is itself redrawn per resample (σ·√(df/χ²_df)). Calibrated in
 *   docs/BENCHMARKS.md "Interval calibration".
 * - 'cells': the runs themselves: within each budget its (budget, N) cells with replacement, then
 *   the seeds of each drawn cell with replacement (one seed: the cell whole). Drawing cells can
 *   drop all sizes on one side of a budget's optimum; such resamples fail and are counted.
 */
export type IsoflopInterval = 'noise' | 'cells';

export interface IsoflopOptions {
  /** For D_opt when runs lack D (default 6ND). */
  computeFormula?: ComputeFormula;
  /** ΔL (nats) of the flat-optimum range (default 0.01). */
  flatDeltaL?: number;
  targetFlops?: readonly number[];
  bootstrap?: number;
  seed?: number;
  /** 'largest': refit the power laws without the largest budget and predict it. */
  holdout?: 'largest' | 'none';
  /**
   * Which sizes each budget's parabola sees. A number: sizes within this factor of the budget's best
   * run (e.g. 4: N_best/4 … 4·N_best). 'auto' (the default): AUTO_WINDOW — within 2× of the best
   * run, widened by √2 at a time until ≥ 5 sizes are in (all sizes when the budget has ≤ 5). 'all':
   * every size. A parabola in ln N is only a local model of the loss: through a wide, lopsided grid
   * it bends, biasing N_opt and undercutting the best run (far-off sizes sit on a plateau).
   */
  window?: number | 'auto' | 'all';
  /**
   * Budgets without an interior minimum (best run at the smallest or largest size, or the fitted
   * vertex outside the sampled sizes): 'refuse' (default) throws; 'drop' leaves them out and lists
   * their runs in data.dropped.
   */
  edges?: EdgePolicy;
  /**
   * Seed-to-seed (or evaluation) noise of one loss, nats. The undercut warning fires when a
   * parabola's minimum lies more than 2·max(noise, residual SD of the parabola) below the budget's
   * best observed loss. Default: the residual SD only (no warning for a 3-size budget).
   */
  noise?: number;
  /** L_min(C): 'power' (default) kL·C^c, or 'saturating' E + A·C^(−alpha) (needs ≥ 3 budgets). */
  lminLaw?: 'power' | 'saturating';
  /** Objective of the saturating L_min law (default 'lsq-log'; the other laws are closed-form least squares). */
  objective?: LossKind;
  /** Budgets at which to predict N_opt, D_opt, L_min, with intervals. */
  predict?: readonly { C: number; label?: string }[];
  /** Write a record marked unidentified instead of refusing degenerate data. */
  allowUnidentified?: boolean;
  /** How bootstrap resamples are drawn (default 'noise'; see IsoflopInterval). */
  interval?: IsoflopInterval;
}

/** The default window rule: start at 2×, widen by √2 until ≥ 5 sizes (or all) are in. */
export const AUTO_WINDOW = Object.freeze({ start: 2, step: Math.SQRT2, minSizes: 5 });

/**
 * The points of one budget within `window`× of its best run's N, and the factor used (null: all).
 * `undefined` keeps every point (the pre-'auto' behaviour of direct callers).
 */
export function windowed<T extends { N: number; loss: number }>(pts: readonly T[], window: number | 'auto' | 'all' | undefined): { points: T[]; factor: number | null } {
  if (window === undefined || window === 'all') return { points: [...pts], factor: null };
  const best = pts.reduce((b, p) => (p.loss < b.loss ? p : b));
  const within = (f: number) => pts.filter((p) => Math.abs(Math.log(p.N / best.N)) <= Math.log(f) + 1e-12);
  if (window !== 'auto') return { points: within(window), factor: window };
  const sizes = new Set(pts.map((p) => p.N)).size;
  if (sizes <= AUTO_WINDOW.minSizes) return { points: [...pts], factor: null };
  for (let f = AUTO_WINDOW.start; ; f *= AUTO_WINDOW.step) {
    const kept = within(f);
    const n = new Set(kept.map((p) => p.N)).size;
    if (n >= AUTO_WINDOW.minSizes) return { points: kept, factor: n === sizes ? null : f };
  }
}

/** The points of one budget within `window`× of its best run's N (all of them without a window). */
export function nearBest<T extends { N: number; loss: number }>(pts: readonly T[], window: number | 'auto' | 'all' | undefined): T[] {
  return windowed(pts, window).points;
}

/** One budget's slice: its parabola, optimum and flat range. */
export interface IsoflopBudget {
  budget: number;
  points: { N: number; D: number | null; loss: number; label: string }[];
  /** Coefficients of L = p0 + p1·ln N + p2·(ln N)². */
  parabola: { p0: number; p1: number; p2: number; r2: number };
  N_opt: Estimate;
  D_opt: Estimate;
  L_min: Estimate;
  /** Smallest observed loss at this budget and the N that reached it. */
  bestObserved: { N: number; loss: number };
  /** Sizes within ΔL of L_min on the parabola, and the matching tokens. */
  flatRange: { deltaL: number; N: [number, number]; D: [number, number] };
  /** How D_opt was obtained. */
  dFrom: 'runs' | 'formula';
  /** Whether this budget was held out of the power-law fits. */
  heldOut: boolean;
  /** The window this budget's parabola used: factor (null = every size) and sizes kept of given. */
  window: { factor: number | null; sizesUsed: number; sizesGiven: number };
  /** Residual SD of the parabola (null with 3 sizes). */
  residualSd: number | null;
  /** best observed − L_min when it exceeds the threshold of undercutCheck (the warning), else null. */
  undercut: { by: number; threshold: number } | null;
}

export interface IsoflopFit extends FitResultBase {
  kind: 'isoflop';
  budgets: IsoflopBudget[];
  powerLaws: {
    N_opt: { k: Estimate; exponent: Estimate; r2: number; expression: string };
    D_opt: { k: Estimate; exponent: Estimate; r2: number; expression: string };
    /** Power: k, exponent. Saturating: k = A, exponent = −alpha, and E. */
    L_min: { k: Estimate; exponent: Estimate; r2: number; expression: string; E?: Estimate };
  };
  /** The saturating L_min law's optimiser outcome (null for the closed-form power law). */
  lminConvergence: { converged: boolean; reason: string; gradNorm: number } | null;
}

interface SliceFit {
  budget: number;
  parabola: Parabola;
  N_opt: number;
  D_opt: number;
  L_min: number;
  dLine: { intercept: number; slope: number } | null;
}

/** Fit one slice; throws a DataError naming the budget when it has no interior minimum. */
function fitSlice(budget: number, pts: readonly IsoflopPoint[], formula: ComputeFormula): SliceFit {
  const flat = constantProblem(pts.map((p) => p.loss), `the loss at budget ${fmt(budget)} FLOPs`);
  if (flat) throw new DataError(`isoFLOP budget ${fmt(budget)} FLOPs: ${flat}. Check the loss column.`);
  const sizes = new Set(pts.map((p) => p.N));
  if (sizes.size < 3) {
    throw new DataError(
      `isoFLOP budget ${fmt(budget)} FLOPs has ${sizes.size} distinct model size${sizes.size === 1 ? '' : 's'} (N = ${[...sizes].map((n) => fmt(n)).join(', ')}): a parabola needs at least 3. Add runs of other sizes at this budget or drop the budget.`,
    );
  }
  const u = pts.map((p) => Math.log(p.N));
  const parabola = fitParabola(u, pts.map((p) => p.loss));
  const uMin = Math.min(...u);
  const uMax = Math.max(...u);
  const best = pts.reduce((b, p) => (p.loss < b.loss ? p : b));
  if (!(parabola.p2 > 0)) {
    throw new NoInteriorMinimumError(
      `isoFLOP budget ${fmt(budget)} FLOPs has no interior minimum: loss against ln N curves downward (p2 = ${fmt(parabola.p2)}), the best run is N = ${fmt(best.N)}. Add sizes on both sides of the best run.`,
    );
  }
  if (parabola.vertexU < uMin || parabola.vertexU > uMax) {
    const above = parabola.vertexU > uMax;
    throw new NoInteriorMinimumError(
      `isoFLOP budget ${fmt(budget)} FLOPs has no interior minimum: the fitted parabola's minimum (N ≈ ${fmt(Math.exp(parabola.vertexU))}) lies ${above ? 'above the largest' : 'below the smallest'} size sampled (N = ${fmt(Math.exp(above ? uMax : uMin))}; best run N = ${fmt(best.N)}, loss ${fmt(best.loss, 4)}). ${above ? 'Loss is still falling with size: add larger models at this budget.' : 'Loss is still falling towards smaller sizes: add smaller models at this budget.'}`,
    );
  }
  const N_opt = Math.exp(parabola.vertexU);
  const haveD = pts.every((p) => p.D !== undefined);
  let dLine: SliceFit['dLine'] = null;
  let D_opt: number;
  if (haveD) {
    dLine = fitLine(u, pts.map((p) => Math.log(p.D as number)));
    D_opt = Math.exp(dLine.intercept + dLine.slope * parabola.vertexU);
  } else {
    D_opt = tokensForCompute(budget, N_opt, formula);
  }
  return { budget, parabola, N_opt, D_opt, L_min: parabola.vertexY, dLine };
}

/** One budget's rows, precomputed once for the counts-based bootstrap (fastSlice). */
export interface FastBudget {
  budget: number;
  rows: Int32Array;
  /** ln N − centre per row (centred: the 3×3 normal equations stay well conditioned). */
  v: Float64Array;
  centre: number;
  loss: Float64Array;
  lnD: Float64Array | null;
  /** Index of each row's size in lnSizes (ascending). */
  sizeIdx: Int32Array;
  lnSizes: Float64Array;
}

export function prepareFast(points: readonly IsoflopPoint[]): FastBudget[] {
  const haveD = points.every((p) => p.D !== undefined);
  return groupIndices(points.map((p) => p.budget)).map((g) => {
    const rows = Int32Array.from(g.rows);
    const u = Float64Array.from(g.rows, (i) => Math.log(points[i].N));
    let centre = 0;
    for (const x of u) centre += x / u.length;
    const sizes = [...new Set(g.rows.map((i) => points[i].N))].sort((a, b) => a - b);
    const index = new Map(sizes.map((n, k) => [n, k]));
    return {
      budget: g.key,
      rows,
      v: u.map((x) => x - centre),
      centre,
      loss: Float64Array.from(g.rows, (i) => points[i].loss),
      lnD: haveD ? Float64Array.from(g.rows, (i) => Math.log(points[i].D as number)) : null,
      sizeIdx: Int32Array.from(g.rows, (i) => index.get(points[i].N) as number),
      lnSizes: Float64Array.from(sizes, Math.log),
    };
  });
}

/**
 * fitSlice on a resample given as row multiplicities (counts[i] = times row i was drawn): the same
 * window rule and least squares (repeated rows = weights), in O(rows) with no copies. Returns
 * undefined when the budget is absent from the resample, null when it cannot be fitted (fewer
 * than 3 sizes, no interior minimum), like fitSlice's refusals.
 */
export function fastSlice(
  g: FastBudget,
  counts: Int32Array,
  window: number | 'auto' | 'all' | undefined,
  formula: ComputeFormula,
  why?: { reason: string },
): SliceFit | null | undefined {
  const nSizes = g.lnSizes.length;
  const present = new Uint8Array(nSizes);
  let best = -1;
  for (let j = 0; j < g.rows.length; j++) {
    if (counts[g.rows[j]] === 0) continue;
    present[g.sizeIdx[j]] = 1;
    if (best < 0 || g.loss[j] < g.loss[best]) best = j;
  }
  if (best < 0) return undefined;
  const bestLn = g.lnSizes[g.sizeIdx[best]];
  const include = new Uint8Array(nSizes);
  const within = (f: number) => {
    let n = 0;
    for (let k = 0; k < nSizes; k++) {
      include[k] = present[k] && Math.abs(g.lnSizes[k] - bestLn) <= Math.log(f) + 1e-12 ? 1 : 0;
      n += include[k];
    }
    return n;
  };
  let nPresent = 0;
  for (let k = 0; k < nSizes; k++) nPresent += present[k];
  if (window === undefined || window === 'all' || (window === 'auto' && nPresent <= AUTO_WINDOW.minSizes)) include.set(present);
  else if (window === 'auto') for (let f = AUTO_WINDOW.start; within(f) < AUTO_WINDOW.minSizes; f *= AUTO_WINDOW.step);
  else within(window);
  let used = 0;
  let vMin = Infinity;
  let vMax = -Infinity;
  for (let k = 0; k < nSizes; k++) {
    if (!include[k]) continue;
    used++;
    vMin = Math.min(vMin, g.lnSizes[k] - g.centre);
    vMax = Math.max(vMax, g.lnSizes[k] - g.centre);
  }
  if (used < 3) {
    if (why) why.reason = `budget ${fmt(g.budget)} kept ${used} size${used === 1 ? '' : 's'} (a parabola needs 3)`;
    return null;
  }
  // Weighted sums for the parabola y = q0 + q1·v + q2·v² and the line ln D = d0 + d1·v.
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, t0 = 0, t1 = 0, t2 = 0, e0 = 0, e1 = 0;
  for (let j = 0; j < g.rows.length; j++) {
    const c = counts[g.rows[j]];
    if (c === 0 || !include[g.sizeIdx[j]]) continue;
    const v = g.v[j];
    const v2 = v * v;
    const y = g.loss[j];
    s0 += c;
    s1 += c * v;
    s2 += c * v2;
    s3 += c * v2 * v;
    s4 += c * v2 * v2;
    t0 += c * y;
    t1 += c * v * y;
    t2 += c * v2 * y;
    if (g.lnD) {
      e0 += c * g.lnD[j];
      e1 += c * v * g.lnD[j];
    }
  }
  const q = solve3([s0, s1, s2, s1, s2, s3, s2, s3, s4], [t0, t1, t2]);
  if (!q || !(q[2] > 0) || !(-q[1] / (2 * q[2]) >= vMin && -q[1] / (2 * q[2]) <= vMax)) {
    if (why) why.reason = `budget ${fmt(g.budget)} lost its interior minimum`;
    return null;
  }
  const vStar = -q[1] / (2 * q[2]);
  const uStar = vStar + g.centre;
  const L_min = q[0] + q[1] * vStar + q[2] * vStar * vStar;
  const N_opt = Math.exp(uStar);
  let D_opt: number;
  let dLine: SliceFit['dLine'] = null;
  if (g.lnD) {
    const slope = (e1 - (s1 * e0) / s0) / (s2 - (s1 * s1) / s0);
    const icpt = e0 / s0 - slope * (s1 / s0);
    D_opt = Math.exp(icpt + slope * vStar);
    dLine = { intercept: icpt - slope * g.centre, slope };
  } else D_opt = tokensForCompute(g.budget, N_opt, formula);
  const p2 = q[2];
  const p1 = q[1] - 2 * q[2] * g.centre;
  const p0 = q[0] - q[1] * g.centre + q[2] * g.centre * g.centre;
  return { budget: g.budget, parabola: { p0, p1, p2, vertexU: uStar, vertexY: L_min, rss: NaN, r2: NaN }, N_opt, D_opt, L_min, dLine };
}

/** Solve a 3×3 system (row-major) by Gaussian elimination with partial pivoting; null if singular. */
function solve3(a: number[], b: number[]): number[] | null {
  const m = [a.slice(0, 3).concat(b[0]), a.slice(3, 6).concat(b[1]), a.slice(6, 9).concat(b[2])];
  for (let c = 0; c < 3; c++) {
    let p = c;
    for (let r = c + 1; r < 3; r++) if (Math.abs(m[r][c]) > Math.abs(m[p][c])) p = r;
    if (!(Math.abs(m[p][c]) > 1e-300)) return null;
    [m[c], m[p]] = [m[p], m[c]];
    for (let r = c + 1; r < 3; r++) {
      const f = m[r][c] / m[c][c];
      for (let k = c; k < 4; k++) m[r][k] -= f * m[c][k];
    }
  }
  const x = [0, 0, 0];
  for (let r = 2; r >= 0; r--) {
    let s = m[r][3];
    for (let k = r + 1; k < 3; k++) s -= m[r][k] * x[k];
    x[r] = s / m[r][r];
  }
  return x;
}

function flatRange(s: SliceFit, deltaL: number, budget: number, formula: ComputeFormula): { N: [number, number]; D: [number, number] } {
  const half = Math.sqrt(deltaL / s.parabola.p2);
  const uLo = s.parabola.vertexU - half;
  const uHi = s.parabola.vertexU + half;
  const dAt = (uu: number) => (s.dLine ? Math.exp(s.dLine.intercept + s.dLine.slope * uu) : tokensForCompute(budget, Math.exp(uu), formula));
  // More parameters at a fixed budget means fewer tokens, so D's range runs the other way.
  return { N: [Math.exp(uLo), Math.exp(uHi)], D: [dAt(uHi), dAt(uLo)] };
}

/** L_min(C): a power law kL·C^c, or saturating E + A·C^(−alpha) (theta: its fit-space optimum). */
type LminLaw =
  | { kind: 'power'; law: PowerLaw }
  | { kind: 'saturating'; E: number; A: number; alpha: number; r2: number; theta: number[]; converged: boolean; reason: string; gradNorm: number };

interface Laws {
  N: PowerLaw;
  D: PowerLaw;
  L: LminLaw;
  /** Curvature p2 across budgets (for flat ranges at target budgets). */
  curvature: PowerLaw;
}

function evalLmin(l: LminLaw, C: number): number {
  return l.kind === 'power' ? evalPowerLaw(l.law, C) : l.E + l.A * Math.pow(C, -l.alpha);
}

/** E + A·C^(−alpha) by the chosen objective; from `warm` (a resample) or a small grid of starts. */
function fitSaturating(C: readonly number[], L: readonly number[], objective: LossKind, warm?: readonly number[]): LminLaw {
  if (new Set(C).size < 3) {
    throw new DataError(`isoFLOP --lmin-law saturating: E + A·C^(−alpha) has 3 parameters and needs ≥ 3 budgets, got ${new Set(C).size}. Use the power law or add budgets.`);
  }
  const minL = Math.min(...L);
  const iFirst = C.indexOf(Math.min(...C));
  const starts: number[][] = [];
  if (warm) starts.push([...warm]);
  else {
    for (const fE of [0.3, 0.6, 0.85, 0.95]) {
      for (const alpha of [0.05, 0.15, 0.3, 0.6]) {
        const E = fE * minL;
        starts.push([Math.log(E), Math.log(Math.max(L[iFirst] - E, 1e-6 * minL)) + alpha * Math.log(C[iFirst]), alpha]);
      }
    }
  }
  const fit = fitForm(powerLawOffsetForm, [Float64Array.from(C)], Float64Array.from(L), { starts, loss: objective });
  const [E, A, alpha] = powerLawOffsetForm.toNatural(fit.theta);
  const mean = L.reduce((a, b) => a + b, 0) / L.length;
  let ssRes = 0;
  let ssTot = 0;
  L.forEach((y, i) => {
    ssRes += (y - (E + A * Math.pow(C[i], -alpha))) ** 2;
    ssTot += (y - mean) ** 2;
  });
  const d = fit.diagnostics;
  return { kind: 'saturating', E, A, alpha, r2: ssTot > 0 ? 1 - ssRes / ssTot : NaN, theta: fit.theta, converged: d.converged, reason: d.reason, gradNorm: d.gradNorm };
}

function fitLaws(slices: readonly SliceFit[], lmin: 'power' | 'saturating' = 'power', objective: LossKind = 'lsq-log', warm?: LminLaw): Laws {
  const C = slices.map((s) => s.budget);
  const Lm = slices.map((s) => s.L_min);
  return {
    N: fitPowerLaw(C, slices.map((s) => s.N_opt)),
    D: fitPowerLaw(C, slices.map((s) => s.D_opt)),
    L: lmin === 'power' ? { kind: 'power', law: fitPowerLaw(C, Lm) } : fitSaturating(C, Lm, objective, warm?.kind === 'saturating' ? warm.theta : undefined),
    curvature: fitPowerLaw(C, slices.map((s) => s.parabola.p2)),
  };
}

function lawValues(l: Laws, targets: readonly number[], deltaL: number): { params: Record<string, number>; derived: Record<string, number> } {
  const lParams: Record<string, number> = l.L.kind === 'power' ? { kL: l.L.law.k, c: l.L.law.a } : { E: l.L.E, A: l.L.A, alpha: l.L.alpha };
  const params = { kN: l.N.k, a: l.N.a, kD: l.D.k, b: l.D.a, ...lParams };
  const derived: Record<string, number> = { 'a+b': l.N.a + l.D.a };
  for (const C of targets) {
    const k = fmt(C);
    const N = evalPowerLaw(l.N, C);
    const D = evalPowerLaw(l.D, C);
    const half = Math.sqrt(deltaL / evalPowerLaw(l.curvature, C));
    derived[`N_opt@${k}`] = N;
    derived[`D_opt@${k}`] = D;
    derived[`L_min@${k}`] = evalLmin(l.L, C);
    derived[`tokensPerParam@${k}`] = D / N;
    derived[`N_flat_lo@${k}`] = N * Math.exp(-half);
    derived[`N_flat_hi@${k}`] = N * Math.exp(half);
  }
  return { params, derived };
}

export function fitIsoflop(given: readonly IsoflopPoint[], options: IsoflopOptions = {}): IsoflopFit {
  const label = (p: IsoflopPoint, i: number) => p.label ?? `row ${i + 1}`;
  requirePositive(given, ['budget', 'N', 'loss'], label, 'isoFLOP rows need budget (FLOPs), N (activated parameters) and loss > 0.');
  given.forEach((p, i) => {
    if (p.D !== undefined && !(p.D > 0 && Number.isFinite(p.D))) {
      throw new DataError(`${label(p, i)}: D must be a positive finite number when given (got ${p.D}). Fix the tokens column or leave it out.`);
    }
  });
  const formula = options.computeFormula ?? COMPUTE_6ND;
  const edges = options.edges ?? 'refuse';
  const split =
    edges === 'drop'
      ? dropEdgeGroups(
          given.map((p, i) => ({ ...p, label: label(p, i) })),
          (p) => p.budget,
          (budget, pts) => void fitSlice(budget, nearBest(pts, options.window), formula),
        )
      : { kept: given, dropped: [], groups: [] };
  const points: readonly IsoflopPoint[] = split.kept;
  const deltaL = options.flatDeltaL ?? 0.01;
  const targets = options.targetFlops ?? [];
  const nBoot = options.bootstrap ?? 0;
  const seed = options.seed ?? 0;
  const holdout = options.holdout ?? 'largest';
  const window = options.window ?? 'auto';
  if (typeof window === 'number' && !(window > 1)) throw new DataError(`isoFLOP window ${window}: give a factor > 1 (e.g. 2: sizes from N_best/2 to 2·N_best), 'auto' or 'all'.`);
  const lminLaw = options.lminLaw ?? 'power';
  const objective = options.objective ?? 'lsq-log';
  const flatAll = constantProblem(points.map((p) => p.loss), 'the loss');
  if (flatAll) settle([flatAll], 'isoFLOP fit', false);

  const groups = groupIndices(points.map((p) => p.budget));
  if (groups.length < 2) {
    throw new DataError(
      `isoFLOP: the power laws need at least 2 budgets, got ${groups.length}${groups.length ? ` (${groups.map((g) => fmt(g.key)).join(', ')} FLOPs)` : ''}${split.groups.length ? ` after leaving out ${split.groups.length} without an interior minimum (${split.groups.join(' ')})` : ''}. Add runs at other budgets.`,
    );
  }
  const slicesOf = (rows: ArrayLike<number>): SliceFit[] => {
    const sample = Array.from(rows, (j) => points[j]);
    return groupIndices(sample.map((p) => p.budget)).map((g) => fitSlice(g.key, nearBest(g.rows.map((k) => sample[k]), window), formula));
  };
  const all = points.map((_, i) => i);
  const slices = slicesOf(all); // throws the clear per-budget errors
  const laws = fitLaws(slices, lminLaw, objective);
  const values = lawValues(laws, targets, deltaL);
  const predictRows = (options.predict ?? []).map((r, i) => ({ label: r.label ?? `C = ${fmt(r.C)}`, inputs: { C: r.C } }));
  const predictValues = (l: Laws) => predictRows.map((r) => ({ N_opt: evalPowerLaw(l.N, r.inputs.C), D_opt: evalPowerLaw(l.D, r.inputs.C), L_min: evalLmin(l.L, r.inputs.C) }));
  const identifiability = settle(
    [
      laws.L.kind === 'saturating' && laws.L.E < 1e-6 * Math.min(...slices.map((x) => x.L_min)) ? `the saturating L_min law's E ran to 0 (E = ${fmt(laws.L.E)}): use the power law` : null,
      laws.L.kind === 'saturating' && !(laws.L.alpha > 1e-4) ? `the saturating L_min law's alpha ran to ${fmt(laws.L.alpha)}: L_min does not fall with C in these budgets` : null,
    ],
    'isoFLOP fit',
    options.allowUnidentified,
  );

  const budgetKeys = points.map((p) => p.budget);
  // Bootstrap resamples as row counts through fastSlice: the same fits as slicesOf without copying
  // rows (100,000-row grids; docs/BENCHMARKS.md).
  const fast = nBoot > 0 ? prepareFast(points) : [];
  const counts = new Int32Array(points.length);
  const why = { reason: '' };
  /** Slices of a resample (rows drawn, or null: every row once) over `from` (budgets with redrawn losses in 'noise'). */
  const fastSlices = (rows: Int32Array | null, map: readonly number[] | null, from: readonly FastBudget[]): SliceFit[] | ReturnType<typeof failed> => {
    counts.fill(0);
    if (rows) for (let j = 0; j < rows.length; j++) counts[map ? map[rows[j]] : rows[j]]++;
    else for (const i of map ?? all) counts[i] = 1;
    const out: SliceFit[] = [];
    for (const g of from) {
      const sl = fastSlice(g, counts, window, formula, why);
      if (sl === null) return failed(why.reason);
      if (sl !== undefined) out.push(sl);
    }
    return out;
  };
  const noise = nBoot > 0 ? noiseFloor(points, slices, window, options.noise) : null;
  const interval: IsoflopInterval = options.interval ?? 'noise';
  const useNoise = interval === 'noise' && noise !== null;
  /** 'noise': every budget's losses redrawn as fitted mean + N(0, σ²) (design fixed). */
  const redraw = (rng: { normal(): number }, from: readonly FastBudget[]): FastBudget[] => {
    const nf = noise as NoiseFloor;
    const scale = nf.df === null ? 1 : sigmaScale(nf.df, rng); // σ's own uncertainty (NoiseFloor.df)
    return from.map((g) => ({ ...g, loss: Float64Array.from(g.rows, (i) => nf.mean[i] + scale * nf.sigma[i] * rng.normal()) }));
  };
  // (budget, N) cells; runs of one cell with different seeds are its replicates.
  const cells = cellIds(points.map((p) => `${p.budget}|${p.N}`));
  const estimateLaws = (ss: SliceFit[] | ReturnType<typeof failed>): BootstrapOutcome => {
    if (!Array.isArray(ss)) return ss; // a resample lost a budget's interior minimum: counted by reason
    const l = fitLaws(ss, lminLaw, objective, laws.L);
    const v = lawValues(l, targets, deltaL);
    const perBudget: Record<string, number> = {};
    ss.forEach((x, i) => {
      perBudget[`budget.${i}.N_opt`] = x.N_opt;
      perBudget[`budget.${i}.D_opt`] = x.D_opt;
      perBudget[`budget.${i}.L_min`] = x.L_min;
    });
    return { ...prefixKeys(v.params, 'params.'), ...prefixKeys(v.derived, 'derived.'), ...perBudget, ...predictionDraws(predictValues(l)) };
  };
  const boot =
    nBoot === 0
      ? null
      : useNoise
        ? bootstrapDraws((rng) => estimateLaws(fastSlices(null, null, redraw(rng, fast))), { samples: nBoot, seed })
        : bootstrap(points.length, (rows) => estimateLaws(fastSlices(rows, null, fast)), { samples: nBoot, seed, groups: groupIds(budgetKeys), cells });

  // Held-out check: the power laws without the largest budget, evaluated at it.
  const heldOut: HeldOutRow[] = [];
  const heldBudget = holdout === 'largest' && slices.length >= 3 ? slices[slices.length - 1] : null;
  if (heldBudget) {
    const trainRows = all.filter((i) => points[i].budget !== heldBudget.budget);
    const heldPts = points.filter((p) => p.budget === heldBudget.budget);
    const bestLoss = Math.min(...heldPts.map((p) => p.loss));
    const predict = (l: Laws) => ({
      N: evalPowerLaw(l.N, heldBudget.budget),
      D: evalPowerLaw(l.D, heldBudget.budget),
      L: evalLmin(l.L, heldBudget.budget),
    });
    const heldLaws = lminLaw === 'saturating' && slices.length - 1 < 3 ? null : fitLaws(slices.slice(0, -1), lminLaw, objective);
    const pred = heldLaws ? predict(heldLaws) : { N: NaN, D: NaN, L: NaN };
    const heldFast = fast.filter((g) => g.budget !== heldBudget.budget);
    const heldEstimate = (ss: SliceFit[] | ReturnType<typeof failed>): BootstrapOutcome => {
      if (!heldLaws) return failed(`the saturating L_min law needs ≥ 3 budgets without the held-out one`);
      if (!Array.isArray(ss)) return ss;
      const p = predict(fitLaws(ss, lminLaw, objective, heldLaws.L));
      return { N: p.N, D: p.D, L: p.L };
    };
    const heldBoot =
      nBoot === 0
        ? null
        : useNoise
          ? bootstrapDraws((rng) => heldEstimate(fastSlices(null, trainRows, redraw(rng, heldFast))), { samples: nBoot, seed: seed + 1 })
          : bootstrap(trainRows.length, (rows) => heldEstimate(fastSlices(rows, trainRows, heldFast)), {
              samples: nBoot,
              seed: seed + 1,
              groups: groupIds(trainRows.map((i) => points[i].budget)),
              cells: Int32Array.from(trainRows, (i) => cells[i]),
            });
    const at = `at C = ${fmt(heldBudget.budget)}`;
    heldOut.push(
      { label: `N_opt ${at}`, actual: heldBudget.N_opt, predicted: pred.N, ci95: heldBoot?.intervals.N ?? null, relError: relError(pred.N, heldBudget.N_opt) },
      { label: `D_opt ${at}`, actual: heldBudget.D_opt, predicted: pred.D, ci95: heldBoot?.intervals.D ?? null, relError: relError(pred.D, heldBudget.D_opt) },
      { label: `L_min ${at} (parabola)`, actual: heldBudget.L_min, predicted: pred.L, ci95: heldBoot?.intervals.L ?? null, relError: relError(pred.L, heldBudget.L_min) },
      { label: `best observed loss ${at}`, actual: bestLoss, predicted: pred.L, ci95: heldBoot?.intervals.L ?? null, relError: relError(pred.L, bestLoss) },
    );
  }

  const budgets: IsoflopBudget[] = slices.map((s, i) => {
    const pts = points.map((p, j) => ({ p, j })).filter(({ p }) => p.budget === s.budget);
    const best = pts.reduce((b, x) => (x.p.loss < b.p.loss ? x : b));
    const range = flatRange(s, deltaL, s.budget, formula);
    const est = (q: 'N_opt' | 'D_opt' | 'L_min', value: number): Estimate => withIntervals({ [`${i}.${q}`]: value }, boot, 'budget.')[`${i}.${q}`];
    const win = windowed(pts.map(({ p }) => p), window);
    const used = win.points.length;
    const residualSd = used > 3 ? Math.sqrt(s.parabola.rss / (used - 3)) : null;
    const undercut = undercutCheck(pts.map(({ p }) => p), s.L_min, options.noise ?? 0);
    return {
      budget: s.budget,
      points: pts.map(({ p, j }) => ({ N: p.N, D: p.D ?? null, loss: p.loss, label: label(p, j) })),
      parabola: { p0: s.parabola.p0, p1: s.parabola.p1, p2: s.parabola.p2, r2: s.parabola.r2 },
      N_opt: est('N_opt', s.N_opt),
      D_opt: est('D_opt', s.D_opt),
      L_min: est('L_min', s.L_min),
      bestObserved: { N: best.p.N, loss: best.p.loss },
      flatRange: { deltaL, ...range },
      dFrom: s.dLine ? 'runs' : 'formula',
      heldOut: heldBudget !== null && s.budget === heldBudget.budget,
      window: { factor: win.factor, sizesUsed: new Set(win.points.map((p) => p.N)).size, sizesGiven: new Set(pts.map(({ p }) => p.N)).size },
      residualSd,
      undercut,
    };
  });
  const undercuts = budgets.filter((b) => b.undercut !== null);

  const params = withIntervals(values.params, boot, 'params.');
  const minR2 = Math.min(laws.N.r2, laws.D.r2);
  return {
    kind: 'isoflop',
    form: `L = p0 + p1*ln(N) + p2*ln(N)^2 per budget; N_opt = kN * C^a; D_opt = kD * C^b; ${lminLaw === 'power' ? 'L_min = kL * C^c' : 'L_min = E + A * C^(-alpha)'}`,
    params,
    derived: withIntervals(values.derived, boot, 'derived.'),
    // objective: total residual sum of squares of the per-budget parabolas; r2: the worse of the N_opt, D_opt laws.
    diagnostics: { optimizer: 'least-squares', objective: slices.reduce((s, x) => s + x.parabola.rss, 0), r2: minR2, converged: true, iterations: 0 },
    data: {
      n: points.length,
      rowsGiven: given.length,
      columns: {},
      dropped: split.dropped,
      heldOutRows: heldBudget ? points.filter((p) => p.budget === heldBudget.budget).map((p) => label(p, points.indexOf(p))) : [],
    },
    heldOut,
    bootstrap: bootstrapSummary(
      boot,
      useNoise
        ? `design fixed; every run's loss redrawn as its budget's fitted parabola + N(0, σ²), σ = ${(noise as NoiseFloor).describe}${(noise as NoiseFloor).df !== null ? ', redrawn per resample from its χ² distribution' : ''}; parabolas and power laws refitted`
        : 'cells (model sizes) with replacement within each budget, then seeds within each drawn cell; parabolas and power laws refitted',
    ),
    options: {
      computeFormula: formula,
      flatDeltaL: deltaL,
      targetFlops: targets,
      bootstrap: nBoot,
      seed,
      holdout,
      window,
      noise: options.noise ?? null,
      lminLaw,
      objective: lminLaw === 'saturating' ? objective : null,
      edges,
      interval: nBoot > 0 ? (useNoise ? 'noise' : 'cells') : interval,
    },
    notes: [
      ...(nBoot > 0 && interval === 'noise' && !useNoise
        ? ["Bootstrap: no noise floor could be measured (one seed per cell, no --noise, every parabola exact through 3 sizes), so runs were resampled by cells instead of redrawing losses."]
        : []),
      ...split.groups.map((g) => `Left out (edges: drop): ${g}`),
      'Each budget: least-squares parabola of loss in ln N; its vertex must lie inside the sampled sizes.',
      window === 'auto'
        ? `Window rule 'auto': each budget's parabola uses the sizes within ${AUTO_WINDOW.start}× of its best run, widened by √2 until ≥ ${AUTO_WINDOW.minSizes} sizes are in (every size when a budget has ≤ ${AUTO_WINDOW.minSizes}); ${budgets.filter((b) => b.window.factor !== null).length} of ${budgets.length} budgets were narrowed.`
        : window === 'all'
          ? "Window 'all': each budget's parabola uses every size."
          : `Each budget's parabola uses only the sizes within ${window}× of its best run.`,
      ...undercuts.map(
        (b) =>
          `WARNING: budget ${fmt(b.budget)} FLOPs: the parabola's minimum L_min = ${fmt(b.L_min.value, 5)} lies ${fmt(b.undercut!.by, 3)} nats below the best observed loss ${fmt(b.bestObserved.loss, 5)}, more than grid spacing and noise allow (${fmt(b.undercut!.threshold, 3)}): the parabola is bent by far-off sizes. Narrow the window (e.g. --window 2).`,
      ),
      ...(lminLaw === 'saturating' && laws.L.kind === 'saturating'
        ? [
            `L_min(C) = E + A·C^(−alpha) fitted to the ${slices.length} budgets' parabola minima by ${describeObjective(objective, 1e-3)}${slices.length === 3 ? ' (3 budgets for 3 parameters: an exact fit, no residual check)' : ''}; ${laws.L.converged ? 'converged' : `NOT converged (${laws.L.reason})`}.`,
          ]
        : []),
      ...(identifiability.identified ? [] : [`NOT IDENTIFIED: ${identifiability.problems.join('; ')}.`]),
      budgets.every((b) => b.dFrom === 'runs')
        ? 'D_opt: ln D interpolated linearly in ln N through each budget\'s own runs.'
        : `D_opt: D = C / (${formula.a}·N + ${formula.b}) (compute formula ${formula.name}) where runs lack D.`,
      'Power laws: ordinary least squares of ln N_opt, ln D_opt, ln L_min on ln C (budgets weighted equally); the held-out budget is included in the reported laws.',
      `Flat optimum: ΔL = ${deltaL} nats on the fitted parabola; at target budgets the curvature p2 is extrapolated by a power law in C.`,
      heldBudget ? `Held-out check: power laws refitted without the largest budget (${fmt(heldBudget.budget)} FLOPs).` : 'No held-out check (needs ≥ 3 budgets, or --holdout none).',
    ],
    budgets,
    powerLaws: {
      N_opt: { k: params.kN, exponent: params.a, r2: laws.N.r2, expression: 'N_opt = kN * C^a' },
      D_opt: { k: params.kD, exponent: params.b, r2: laws.D.r2, expression: 'D_opt = kD * C^b' },
      L_min:
        laws.L.kind === 'power'
          ? { k: params.kL, exponent: params.c, r2: laws.L.law.r2, expression: 'L_min = kL * C^c' }
          : { k: params.A, exponent: { ...params.alpha, value: -params.alpha.value, ci95: params.alpha.ci95 ? [-params.alpha.ci95[1], -params.alpha.ci95[0]] : null }, r2: laws.L.r2, expression: 'L_min = E + A * C^(-alpha)', E: params.E },
    },
    lminConvergence: laws.L.kind === 'saturating' ? { converged: laws.L.converged, reason: laws.L.reason, gradNorm: laws.L.gradNorm } : null,
    ...(predictRows.length ? { predictions: predictionRows(predictRows, predictValues(laws), boot) } : {}),
    identifiability,
  };
}

/** √(df/χ²_df): the factor of one σ draw given σ̂ with df degrees of freedom (χ² as a sum of squared normals). */
export function sigmaScale(df: number, rng: { normal(): number }): number {
  let chi2 = 0;
  for (let k = 0; k < df; k++) chi2 += rng.normal() ** 2;
  return Math.sqrt(df / Math.max(chi2, 1e-12));
}

/** The per-run mean and noise SD the 'noise' bootstrap redraws losses from. */
export interface NoiseFloor {
  /** Fitted parabola value (the run's own loss outside its budget's window), per run. */
  mean: Float64Array;
  /** σ per run (nats). */
  sigma: Float64Array;
  /** Where σ came from, for the record. */
  describe: string;
  /**
   * Degrees of freedom of an estimated σ (pooled seeds or residuals); null when σ was given. Each
   * resample then draws its own σ* = σ·√(df/χ²_df), so the interval carries σ's own uncertainty
   * (with ≈ 8 df a fixed σ̂ under-covers).
   */
  df: number | null;
}

/**
 * The noise floor of an isoFLOP sweep: the pooled SD between seeds of one (budget, N) cell when
 * some cell has ≥ 2 seeds; else √(noise² + stderr²) with `noise` the given seed SD and stderr
 * each run's recorded evaluation stderr; else the pooled residual SD of the windowed parabolas
 * (which includes their misfit). Null when none can be measured (every parabola exact, no noise).
 */
export function noiseFloor(
  points: readonly IsoflopPoint[],
  slices: readonly { budget: number; parabola: Parabola }[],
  window: number | 'auto' | 'all',
  noise: number | undefined,
): NoiseFloor | null {
  const mean = Float64Array.from(points, (p) => p.loss);
  let rss = 0;
  let df = 0;
  for (const s of slices) {
    const pts = points.filter((p) => p.budget === s.budget);
    const kept = new Set(windowed(pts, window).points);
    points.forEach((p, i) => {
      if (p.budget === s.budget && kept.has(p)) mean[i] = evalParabola(s.parabola, Math.log(p.N));
    });
    if (kept.size > 3) {
      rss += s.parabola.rss;
      df += kept.size - 3;
    }
  }
  const cells = new Map<string, number[]>();
  for (const p of points) {
    const key = `${p.budget}|${p.N}`;
    const list = cells.get(key);
    if (list) list.push(p.loss);
    else cells.set(key, [p.loss]);
  }
  let ssSeeds = 0;
  let dfSeeds = 0;
  for (const list of cells.values()) {
    if (list.length < 2) continue;
    const m = list.reduce((a, b) => a + b, 0) / list.length;
    ssSeeds += list.reduce((a, b) => a + (b - m) ** 2, 0);
    dfSeeds += list.length - 1;
  }
  if (dfSeeds > 0) {
    const sd = Math.sqrt(ssSeeds / dfSeeds);
    return { mean, sigma: new Float64Array(points.length).fill(sd), describe: `${fmt(sd, 3)} nats, the pooled SD between seeds of one cell (${dfSeeds} df)`, df: dfSeeds };
  }
  if (noise !== undefined && (noise > 0 || points.some((p) => (p.lossStderr ?? 0) > 0))) {
    const sigma = Float64Array.from(points, (p) => Math.sqrt(noise ** 2 + (p.lossStderr ?? 0) ** 2));
    return { mean, sigma, describe: `√(noise² + stderr²): noise ${fmt(noise, 3)} nats (given), each run's recorded eval stderr`, df: null };
  }
  if (df > 0) {
    const sd = Math.sqrt(rss / df);
    return { mean, sigma: new Float64Array(points.length).fill(sd), describe: `${fmt(sd, 3)} nats, the pooled residual SD of the windowed parabolas (${df} df; one seed per cell and no --noise)`, df };
  }
  return null;
}

/**
 * The undercut warning. The true minimum of a budget lies below its best run by up to
 * p2·(h/2)² (h: the ln-N gap from the best run to its farther neighbour; the optimum is nearer the
 * best run than half that gap); noise adds 2·max(noise, σ), σ the residual SD of a local parabola
 * (the 'auto' window, ≥ 4 sizes; a wide parabola's own residuals grow with its misfit, so they
 * cannot measure the noise). A minimum further below the best run than that is a bent parabola.
 */
export function undercutCheck(pts: readonly { N: number; loss: number }[], lMin: number, noise: number): { by: number; threshold: number } | null {
  const local = windowed(pts, 'auto').points;
  const sizes = [...new Set(local.map((p) => p.N))].sort((a, b) => a - b);
  if (sizes.length < 3) return null;
  const u = local.map((p) => Math.log(p.N));
  const par = fitParabola(u, local.map((p) => p.loss));
  if (!(par.p2 > 0)) return null;
  const sigma = local.length > 3 ? Math.sqrt(par.rss / (local.length - 3)) : 0;
  const best = local.reduce((b, p) => (p.loss < b.loss ? p : b));
  const i = sizes.indexOf(best.N);
  const gaps = [i > 0 ? Math.log(sizes[i] / sizes[i - 1]) : 0, i < sizes.length - 1 ? Math.log(sizes[i + 1] / sizes[i]) : 0];
  const h = Math.max(...gaps);
  const threshold = par.p2 * (h / 2) ** 2 + 2 * Math.max(noise, sigma);
  const by = best.loss - lMin;
  return by > threshold ? { by, threshold } : null;
}

/** Fitted loss of a budget's parabola at N (for plots and checks). */
export function isoflopLossAt(b: Pick<IsoflopBudget, 'parabola'>, N: number): number {
  const u = Math.log(N);
  return evalParabola({ ...b.parabola, vertexU: NaN, vertexY: NaN, rss: NaN }, u);
}
