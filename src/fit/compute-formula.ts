// Training-compute formulas C = a·N·D + b·D and the fit of (a, b) from (N, D, C) rows.
//   N  activated parameters, D training tokens, C training FLOPs
//   6ND:      a = 6, b = 0                     (Kaplan et al. 2020; Chinchilla App. F)
//   hunyuan:  a = 9.59, b = 2.3e8              (Hunyuan-Large, docs/references.md#compute-formula; UNCONFIRMED constants)
// docs/references.md#compute-formula argues the paper's (a, b) is a linear fit of exact per-token FLOPs across its model
// family; fitComputeFormula re-derives (a, b) for moelab's own family from runs whose exact
// computeFlops are known. (The per-token `flopsPerToken ≈ a·N + b` fit over a model family without
// runs is src/model/count.ts's fitComputeCoefficients.)
import { ConfigError, DataError } from '../errors.ts';
import { bootstrap, failed } from './bootstrap.ts';
import { leastSquares } from './linear.ts';
import { fmt, groupIndices, requireCount, requirePositive, roundSignificant } from './points.ts';
import { constantProblem } from './identify.ts';
import { HELD_INTERVAL_ROWS, bootstrapSummary, predictionDraws, predictionRows, prefixKeys, relError, withIntervals, type FitResultBase, type HeldOutRow } from './record.ts';

export interface ComputeFormula {
  name: string;
  /** FLOPs per parameter per token. */
  a: number;
  /** FLOPs per token independent of N (attention, router, …). */
  b: number;
}

export const COMPUTE_6ND: ComputeFormula = Object.freeze({ name: '6ND', a: 6, b: 0 });
export const COMPUTE_HUNYUAN: ComputeFormula = Object.freeze({ name: 'hunyuan', a: 9.59, b: 2.3e8 });

/**
 * Parse `6nd`, `hunyuan`, `a,b` (e.g. `9.59,2.3e8`) or `a=9.59,b=2.3e8`. `field` names the flag
 * in errors.
 */
export function parseComputeFormula(spec: string, field = 'computeFormula'): ComputeFormula {
  const s = spec.trim().toLowerCase();
  if (s === '6nd') return COMPUTE_6ND;
  if (s === 'hunyuan') return COMPUTE_HUNYUAN;
  const parts = s.split(',').map((p) => p.trim().replace(/^[ab]\s*=\s*/, ''));
  const nums = parts.map(Number);
  if (parts.length === 2 && nums.every((v) => Number.isFinite(v)) && nums[0] > 0 && nums[1] >= 0) {
    return { name: `${nums[0]}ND+${nums[1]}D`, a: nums[0], b: nums[1] };
  }
  throw new ConfigError(field, spec, 'Use 6nd, hunyuan, or "a,b" for C = a·N·D + b·D (e.g. 9.59,2.3e8), with a > 0 and b ≥ 0.', 'not a compute formula');
}

export function computeFlops(N: number, D: number, f: ComputeFormula): number {
  return f.a * N * D + f.b * D;
}

/** D = C / (a·N + b). */
export function tokensForCompute(C: number, N: number, f: ComputeFormula): number {
  return C / (f.a * N + f.b);
}

// ---------------------------------------------------------------------------------------------
// Fitting (a, b)

export interface ComputePoint {
  N: number;
  D: number;
  C: number;
  label?: string;
}

export interface ComputeFitOptions {
  /** Bootstrap resamples (0 = none). */
  bootstrap?: number;
  seed?: number;
  /** 'largest-n': refit without the rows of the largest model size and predict their C. */
  holdout?: 'largest-n' | 'none';
  /** Rows (N, D) at which to predict C, with intervals. */
  predict?: readonly { N: number; D: number; label?: string }[];
}

export interface ComputeFit extends FitResultBase {
  kind: 'compute';
  /** Relative error of each named formula on the rows used (fitted, 6ND, hunyuan). */
  comparison: { formula: string; a: number; b: number; meanAbsRelError: number; maxAbsRelError: number }[];
}

/**
 * min over (a, b) of Σ ((a·N + b)·D/C − 1)²: least squares on RELATIVE error, so a 1e15 run and
 * a 1e20 run count equally.
 */
function solveAB(points: readonly ComputePoint[], rows: ArrayLike<number>): { a: number; b: number; rss: number; r2: number } {
  const X: number[][] = [];
  const y: number[] = [];
  for (let j = 0; j < rows.length; j++) {
    const p = points[rows[j]];
    X.push([(p.N * p.D) / p.C, p.D / p.C]);
    y.push(1);
  }
  const r = leastSquares(X, y);
  return { a: r.coef[0], b: r.coef[1], rss: r.rss, r2: r.r2 };
}

/**
 * solveAB for bootstrap resamples: the 2×2 normal equations of the same least squares, on columns
 * scaled to unit RMS (D/C is ~1e-9 of N·D/C), summed over the resample's rows without building a
 * matrix — O(rows) per resample instead of a QR of the whole design (100,000-row inputs).
 */
function fastAB(points: readonly ComputePoint[]): (rows: ArrayLike<number>) => { a: number; b: number } {
  const x1 = Float64Array.from(points, (p) => (p.N * p.D) / p.C);
  const x2 = Float64Array.from(points, (p) => p.D / p.C);
  const rms = (x: Float64Array) => Math.sqrt(x.reduce((s, v) => s + v * v, 0) / x.length);
  const k1 = 1 / rms(x1);
  const k2 = 1 / rms(x2);
  for (let i = 0; i < x1.length; i++) {
    x1[i] *= k1;
    x2[i] *= k2;
  }
  return (rows) => {
    let s11 = 0, s12 = 0, s22 = 0, b1 = 0, b2 = 0;
    for (let j = 0; j < rows.length; j++) {
      const i = rows[j];
      s11 += x1[i] * x1[i];
      s12 += x1[i] * x2[i];
      s22 += x2[i] * x2[i];
      b1 += x1[i];
      b2 += x2[i];
    }
    const det = s11 * s22 - s12 * s12;
    return { a: ((b1 * s22 - b2 * s12) / det) * k1, b: ((s11 * b2 - s12 * b1) / det) * k2 };
  };
}

function errorStats(points: readonly ComputePoint[], f: { a: number; b: number }) {
  const errs = points.map((p) => Math.abs(relError(f.a * p.N * p.D + f.b * p.D, p.C)));
  return { mean: errs.reduce((s, e) => s + e, 0) / errs.length, max: Math.max(...errs) };
}

export function fitComputeFormula(points: readonly ComputePoint[], options: ComputeFitOptions = {}): ComputeFit {
  const label = (p: ComputePoint, i: number) => p.label ?? `row ${i + 1}`;
  requirePositive(points, ['N', 'D', 'C'], label, 'Compute-formula rows need N (activated parameters), D (tokens) and C (FLOPs) > 0.');
  requireCount(points.length, 3, 'compute formula: rows', 'Give runs of at least 2 different model sizes.');
  const sizes = groupIndices(points.map((p) => roundSignificant(p.N, 3)));
  if (sizes.length < 2) {
    throw new DataError(
      `compute formula: all ${points.length} rows have the same N (${fmt(points[0].N)}), so a and b cannot be separated. Add runs of other model sizes.`,
    );
  }
  const flatD = constantProblem(points.map((p) => p.D), 'D');
  if (flatD) throw new DataError(`compute formula: ${flatD} — a·N·D and b·D then differ only by N; give runs with different token counts or fix b.`);
  const holdout = options.holdout ?? 'largest-n';
  const heldRows = holdout === 'largest-n' && sizes.length >= 3 ? sizes[sizes.length - 1].rows : [];
  const all = points.map((_, i) => i);
  const main = solveAB(points, all);
  const values = { a: main.a, b: main.b };
  const predictRows = (options.predict ?? []).map((r, i) => ({ label: r.label ?? `prediction ${i + 1}`, inputs: { N: r.N, D: r.D } }));
  const predictValues = (f: { a: number; b: number }) => predictRows.map((r) => ({ C: f.a * r.inputs.N * r.inputs.D + f.b * r.inputs.D }));

  const heldOut: HeldOutRow[] = [];
  let heldFit: { a: number; b: number } | null = null;
  if (heldRows.length > 0) {
    const held = new Set(heldRows);
    heldFit = solveAB(points, all.filter((i) => !held.has(i)));
  }
  const predictHeld = (f: { a: number; b: number }) => heldRows.map((i) => f.a * points[i].N * points[i].D + f.b * points[i].D);

  const nBoot = options.bootstrap ?? 0;
  const fast = fastAB(points);
  // Size keys once (not per resample): a resample needs ≥ 2 sizes to separate a and b.
  const sizeKey = points.map((p) => roundSignificant(p.N, 3));
  const twoSizes = (rows: ArrayLike<number>) => {
    for (let j = 1; j < rows.length; j++) if (sizeKey[rows[j]] !== sizeKey[rows[0]]) return true;
    return false;
  };
  const boot =
    nBoot > 0
      ? bootstrap(
          points.length,
          (rows) => {
            if (!twoSizes(rows)) return failed('the resample holds one model size (a and b need two)');
            const f = fast(rows);
            if (!Number.isFinite(f.a) || !Number.isFinite(f.b)) return failed('the least squares gave a non-finite a or b');
            return { ...prefixKeys({ a: f.a, b: f.b }, 'params.'), ...predictionDraws(predictValues(f)) };
          },
          { samples: nBoot, seed: options.seed ?? 0 },
        )
      : null;
  if (heldFit) {
    const held = new Set(heldRows);
    const train = all.filter((i) => !held.has(i));
    // Interval of each held-out prediction: bootstrap of the training rows only.
    const heldBoot =
      nBoot > 0
        ? bootstrap(
            train.length,
            (rows) => {
              const sub = Array.from(rows, (j) => train[j]);
              if (!twoSizes(sub)) return failed('the resample holds one model size (a and b need two)');
              const preds = predictHeld(fast(sub));
              return Object.fromEntries(preds.slice(0, HELD_INTERVAL_ROWS).map((v, j) => [`held.${j}`, v]));
            },
            { samples: nBoot, seed: (options.seed ?? 0) + 1 },
          )
        : null;
    const preds = predictHeld(heldFit);
    heldRows.forEach((i, j) => {
      heldOut.push({
        label: `C of ${label(points[i], i)} (N=${fmt(points[i].N)})`,
        actual: points[i].C,
        predicted: preds[j],
        ci95: heldBoot?.intervals[`held.${j}`] ?? null,
        relError: relError(preds[j], points[i].C),
      });
    });
  }

  const comparison = [
    { formula: 'fitted', ...values },
    { formula: COMPUTE_6ND.name, a: COMPUTE_6ND.a, b: COMPUTE_6ND.b },
    { formula: COMPUTE_HUNYUAN.name, a: COMPUTE_HUNYUAN.a, b: COMPUTE_HUNYUAN.b },
  ].map((f) => {
    const s = errorStats(points, f);
    return { formula: f.formula, a: f.a, b: f.b, meanAbsRelError: s.mean, maxAbsRelError: s.max };
  });

  return {
    kind: 'compute',
    form: 'C = a * N * D + b * D',
    params: withIntervals(values, boot, 'params.'),
    derived: {
      meanAbsRelError: { value: comparison[0].meanAbsRelError, ci95: null },
      maxAbsRelError: { value: comparison[0].maxAbsRelError, ci95: null },
    },
    diagnostics: { optimizer: 'least-squares', objective: main.rss, r2: main.r2, converged: true, iterations: 0 },
    data: {
      n: points.length,
      rowsGiven: points.length,
      columns: {},
      dropped: [],
      heldOutRows: heldRows.map((i) => label(points[i], i)),
    },
    heldOut,
    bootstrap: bootstrapSummary(boot, 'rows with replacement'),
    options: { holdout, bootstrap: nBoot, seed: options.seed ?? 0 },
    notes: [
      'Least squares on relative error: min Σ ((a·N + b)·D / C − 1)².',
      heldRows.length > 0
        ? 'Held-out check: (a, b) refitted without the largest model size, then its C predicted.'
        : 'No held-out check (needs at least 3 model sizes, or --holdout none was given).',
    ],
    comparison,
    ...(predictRows.length ? { predictions: predictionRows(predictRows, predictValues(main), boot) } : {}),
  };
}
