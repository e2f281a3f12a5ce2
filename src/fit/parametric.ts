// Approach 3 (Hoffmann et al. 2022 §3.3, App. D.2; docs/references.md#chinchilla-approach-3): the parametric loss
//   L(N, D) = E + A/N^alpha + B/D^beta
// fitted by Σ Huber_δ(LSE(a − alpha·ln N, b − beta·ln D, e) − ln L), δ = 1e-3, L-BFGS from each of
// the 4,500 grid points, best kept; then the compute-optimal allocation in closed form (Eq. 4):
//   N_opt(C) = G·(C/6)^a,  D_opt(C) = G^−1·(C/6)^b,  G = (alpha·A/(beta·B))^(1/(alpha+beta)),
//   a = beta/(alpha+beta), b = alpha/(alpha+beta)
// Symbols: N parameters (activated for MoE runs), D tokens, C training FLOPs, L loss (nats/token).
import { DataError } from '../errors.ts';
import { bootstrap } from './bootstrap.ts';
import { COMPUTE_6ND, computeFlops, type ComputeFormula } from './compute-formula.ts';
import { constrainForm, hasConstraints, type ConstrainedForm, type ParamConstraints } from './constrain.ts';
import { leverages, refitRows, refitTargets, fitForm, type FormFit, type FitDiagnostics } from './fit-form.ts';
import { chinchillaForm, type Form } from './forms.ts';
import { CHINCHILLA_HUBER_DELTA } from './huber.ts';
import { constantProblem, correlation, settle } from './identify.ts';
import { gridStarts } from './multistart.ts';
import { describeObjective, type LossKind } from './objective.ts';
import { fmt, groupIndices, requireCount, requirePositive, roundSignificant } from './points.ts';
import {
  bootstrapSummary,
  HELD_INTERVAL_ROWS,
  predictionDraws,
  predictionRows,
  prefixKeys,
  relError,
  withIntervals,
  type FitResultBase,
  type HeldOutRow,
} from './record.ts';

export interface ChinchillaParams {
  E: number;
  A: number;
  B: number;
  alpha: number;
  beta: number;
}

/** Hoffmann et al.'s published fit, rounded as in the paper body (docs/references.md#chinchilla-approach-3). */
export const CHINCHILLA_PAPER_ROUNDED: ChinchillaParams = Object.freeze({ E: 1.69, A: 406.4, B: 410.7, alpha: 0.34, beta: 0.28 });
/** The same fit unrounded, from the paper's TeX source (as used by Epoch; docs/references.md#chinchilla-approach-3). */
export const CHINCHILLA_PAPER_UNROUNDED: ChinchillaParams = Object.freeze({
  E: Math.exp(0.5267228),
  A: Math.exp(6.0073404),
  B: Math.exp(6.0179186),
  alpha: 0.33917084,
  beta: 0.2849083,
});

export function chinchillaLoss(p: ChinchillaParams, N: number, D: number): number {
  return p.E + p.A / Math.pow(N, p.alpha) + p.B / Math.pow(D, p.beta);
}

/**
 * The initialisation grid of Hoffmann et al. App. D.2 (as replicated by Epoch, docs/references.md#chinchilla-approach-3),
 * in fit order (e, a, b, alpha, beta): e ∈ {−1, −.5, 0, .5, 1}, a, b ∈ {0, 5, …, 25},
 * alpha, beta ∈ {0, .5, 1, 1.5, 2} → 4,500 starts.
 */
export const CHINCHILLA_GRID: readonly (readonly number[])[] = Object.freeze(
  gridStarts([
    [-1, -0.5, 0, 0.5, 1],
    [0, 5, 10, 15, 20, 25],
    [0, 5, 10, 15, 20, 25],
    [0, 0.5, 1, 1.5, 2],
    [0, 0.5, 1, 1.5, 2],
  ]),
);

/** A 3^5 = 243-point grid spanning the same box (held-out refits, quick checks). */
export const CHINCHILLA_COARSE_GRID: readonly (readonly number[])[] = Object.freeze(
  gridStarts([
    [-1, 0, 1],
    [0, 10, 20],
    [0, 10, 20],
    [0, 1, 2],
    [0, 1, 2],
  ]),
);

export interface ComputeOptimal {
  C: number;
  N: number;
  D: number;
  /** L̂ at (N, D). */
  loss: number;
  tokensPerParam: number;
}

/** Exponents and coefficient of the closed form (Eq. 4). */
export function chinchillaAllocationExponents(p: ChinchillaParams): { a: number; b: number; G: number } {
  const s = p.alpha + p.beta;
  return { a: p.beta / s, b: p.alpha / s, G: Math.pow((p.alpha * p.A) / (p.beta * p.B), 1 / s) };
}

/**
 * argmin over N of L̂(N, D) subject to C = a·N·D + b·D. Closed form (Eq. 4, with C/a in place of
 * C/6) when b = 0; otherwise a golden-section search on ln N (L̂ along the constraint is unimodal in
 * ln N: one term falls with N, the other rises).
 */
export function chinchillaOptimal(p: ChinchillaParams, C: number, formula: ComputeFormula = COMPUTE_6ND): ComputeOptimal {
  let N: number;
  if (formula.b === 0) {
    const { a, G } = chinchillaAllocationExponents(p);
    N = G * Math.pow(C / formula.a, a);
  } else {
    const lossAt = (lnN: number) => {
      const n = Math.exp(lnN);
      return chinchillaLoss(p, n, C / (formula.a * n + formula.b));
    };
    // Bracket: from N = 1 to the N that leaves a single training token (D = 1 ⇒ a·N + b = C).
    let lo = 0;
    let hi = Math.max(Math.log(C / formula.a), 1);
    const phi = (Math.sqrt(5) - 1) / 2;
    let x1 = hi - phi * (hi - lo);
    let x2 = lo + phi * (hi - lo);
    let f1 = lossAt(x1);
    let f2 = lossAt(x2);
    for (let i = 0; i < 200 && hi - lo > 1e-12 * Math.max(1, Math.abs(hi)); i++) {
      if (f1 < f2) {
        hi = x2;
        x2 = x1;
        f2 = f1;
        x1 = hi - phi * (hi - lo);
        f1 = lossAt(x1);
      } else {
        lo = x1;
        x1 = x2;
        f1 = f2;
        x2 = lo + phi * (hi - lo);
        f2 = lossAt(x2);
      }
    }
    N = Math.exp((lo + hi) / 2);
  }
  const D = C / (formula.a * N + formula.b);
  return { C, N, D, loss: chinchillaLoss(p, N, D), tokensPerParam: D / N };
}

// ---------------------------------------------------------------------------------------------

export interface ParametricPoint {
  /** Parameters (activated, for MoE runs). */
  N: number;
  /** Training tokens. */
  D: number;
  loss: number;
  /** Training FLOPs; default from the compute formula. */
  C?: number;
  /** Compute budget the run belongs to (groups rows for the held-out check); default C to 1 s.f. */
  budget?: number;
  label?: string;
}

export interface ParametricOptions {
  /** Start grid: the 4,500-point Chinchilla grid (default), the 243-point coarse grid, or explicit starts (fit order e, a, b, alpha, beta). */
  grid?: 'chinchilla' | 'coarse' | readonly (readonly number[])[];
  delta?: number;
  /** C = a·N·D + b·D, for C when rows lack it and for the compute-optimal allocation. */
  computeFormula?: ComputeFormula;
  /** Budgets at which to report N_opt, D_opt, L̂ (derived, with intervals). */
  targetFlops?: readonly number[];
  /** Bootstrap resamples (0 = none); each refits from the full-data optimum, as Epoch does. */
  bootstrap?: number;
  /** What the bootstrap redraws (default 'residuals'); see ParametricIntervalMethod. */
  interval?: ParametricIntervalMethod;
  seed?: number;
  /** 'largest-budget': refit without the largest budget group, predict its losses. */
  holdout?: 'largest-budget' | 'none';
  /** Objective (default 'huber-log'); see objective.ts and docs/fit.md. */
  objective?: LossKind;
  /** Iteration cap of each start (default: the optimiser's, L-BFGS 2000). */
  maxIterations?: number;
  /** Hold parameters at given values, e.g. { E: 1.69 } (natural units). */
  fix?: Readonly<Record<string, number>>;
  /** Tie parameters: [['alpha', 'beta']] fits one exponent for both. */
  tie?: readonly (readonly [string, string])[];
  /** Rows at which to predict the loss (with bootstrap intervals). */
  predict?: readonly { N: number; D: number; label?: string }[];
  /** Write a record marked unidentified instead of refusing degenerate data. */
  allowUnidentified?: boolean;
}

/**
 * How the parametric fit's bootstrap makes a resample:
 * - 'residuals' (default): the design kept, each run's ln L redrawn as its fitted ln L̂ plus a log residual
 *   drawn with replacement from the fit's (each divided by √(1 − leverage), then centred on their
 *   median: the Huber-log fit with a small δ estimates a median);
 * - 'rows': runs drawn with replacement (Epoch's re-fit, arXiv 2404.10102). On simulated sweeps its
 *   interval for E covered the truth 99.5% of the time (too wide): a resample that loses the
 *   largest budgets' runs loses what pins E.
 * docs/fit.md "How intervals are computed and checked" has both methods' measured coverage.
 */
export type ParametricIntervalMethod = 'rows' | 'residuals';

export const PARAMETRIC_INTERVAL_SCHEMES: Readonly<Record<ParametricIntervalMethod, string>> = Object.freeze({
  rows: 'rows with replacement; each resample refitted by L-BFGS from the full-data optimum',
  residuals: 'design kept; log residuals (÷√(1 − leverage), median-centred) redrawn with replacement onto the fitted ln L; each resample refitted by L-BFGS from the full-data optimum',
});

export interface ParametricFit extends FitResultBase {
  kind: 'parametric';
  diagnostics: FitDiagnostics;
  /** The full-data fit in the optimiser's parameterisation (for refits and reports). */
  theta: Record<string, number>;
  /** The held-out refit's diagnostics, when a held-out check ran. */
  heldOutDiagnostics: FormFit['diagnostics'] | null;
}

function targetKey(C: number): string {
  return fmt(C, 3);
}

function derivedValues(p: ChinchillaParams, targets: readonly number[], formula: ComputeFormula): Record<string, number> {
  const { a, b, G } = chinchillaAllocationExponents(p);
  const out: Record<string, number> = { a, b, G };
  for (const C of targets) {
    const opt = chinchillaOptimal(p, C, formula);
    const k = targetKey(C);
    out[`N_opt@${k}`] = opt.N;
    out[`D_opt@${k}`] = opt.D;
    out[`L_opt@${k}`] = opt.loss;
    out[`tokensPerParam@${k}`] = opt.tokensPerParam;
  }
  return out;
}

export function fitParametric(points: readonly ParametricPoint[], options: ParametricOptions = {}): ParametricFit {
  const label = (p: ParametricPoint, i: number) => p.label ?? `row ${i + 1}`;
  requirePositive(points, ['N', 'D', 'loss'], label, 'The parametric fit needs N, D and loss > 0 in every row.');
  requireCount(points.length, 6, 'parametric fit: rows', 'L(N, D) has 5 parameters; give at least 6 runs (dozens for a stable fit).');
  const formula = options.computeFormula ?? COMPUTE_6ND;
  const delta = options.delta ?? CHINCHILLA_HUBER_DELTA;
  const grid = options.grid ?? 'chinchilla';
  const starts = grid === 'chinchilla' ? CHINCHILLA_GRID : grid === 'coarse' ? CHINCHILLA_COARSE_GRID : grid;
  const targets = options.targetFlops ?? [];
  const nBoot = options.bootstrap ?? 0;
  const seed = options.seed ?? 0;

  const objective = options.objective ?? 'huber-log';
  const constraints: ParamConstraints = { fix: options.fix, tie: options.tie };
  const constrained: ConstrainedForm | null = hasConstraints(constraints) ? constrainForm(chinchillaForm, constraints) : null;
  const form: Form = constrained ?? chinchillaForm;
  // Full natural parameters from the optimiser's vector (fixed and tied ones filled in).
  const natural = (theta: ArrayLike<number>): ChinchillaParams => {
    const p = chinchillaForm.toNatural(constrained ? constrained.expand(theta) : theta);
    return { E: p[0], A: p[1], B: p[2], alpha: p[3], beta: p[4] };
  };
  const fitStarts = constrained ? uniqueStarts(starts.map((s) => constrained.reduce(s))) : starts;
  const formOptions = { delta, loss: objective, maxIterations: options.maxIterations };
  const freeExponents = form.params.includes('alpha') && form.params.includes('beta');

  const columns = [Float64Array.from(points, (p) => p.N), Float64Array.from(points, (p) => p.D)];
  const losses = Float64Array.from(points, (p) => p.loss);
  const lnN = columns[0].map(Math.log);
  const lnD = columns[1].map(Math.log);
  const corr = correlation(lnN, lnD);
  const before = [
    constantProblem(losses, 'the loss'),
    new Set(columns[0]).size < 2 ? `every row has the same N (${fmt(columns[0][0])}): A/N^alpha cannot be separated from E` : null,
    new Set(columns[1]).size < 2 ? `every row has the same D (${fmt(columns[1][0])}): B/D^beta cannot be separated from E` : null,
    freeExponents && Math.abs(corr) > 0.9999
      ? `ln N and ln D move in lock-step (correlation ${corr.toFixed(5)}; e.g. every row on one compute budget), so A/N^alpha and B/D^beta cannot be told apart: give runs at several budgets`
      : null,
  ];
  if (before.some((p) => p !== null) && !options.allowUnidentified) settle(before, 'parametric fit', false);
  const fit = fitForm(form, columns, losses, { starts: fitStarts, ...formOptions });
  if (!Number.isFinite(fit.diagnostics.objective)) {
    throw new DataError('parametric fit: the objective is not finite at any start point. Check the data for zero or negative values.');
  }
  const params = natural(fit.theta);
  const minLoss = Math.min(...losses);
  // Parameters at the edge of the space mean something only at a converged optimum (an iteration
  // cap reached is reported as not converged instead).
  const free = fit.diagnostics.converged ? new Set(form.params) : new Set<string>();
  const identifiability = settle(
    [
      ...before,
      free.has('E') && params.E < 1e-6 * minLoss ? `E ran to 0 (E = ${fmt(params.E)}): the data do not determine an irreducible loss` : null,
      ...(['alpha', 'beta'] as const).map((x) =>
        free.has(x) && !(params[x] > 1e-4) ? `${x} ran to ${fmt(params[x])}: its term is a constant, indistinguishable from E` : null,
      ),
      ...(['A', 'B'] as const).map((x) => (free.has(x) && params[x] > Math.exp(30) ? `${x} ran off to ${fmt(params[x])} (at the edge of the parameter space)` : null)),
    ],
    'parametric fit',
    options.allowUnidentified,
  );
  const values = derivedValues(params, targets, formula);
  const predictRows = (options.predict ?? []).map((r, i) => ({ label: r.label ?? `prediction ${i + 1}`, inputs: { N: r.N, D: r.D } }));
  const predictValues = (p: ChinchillaParams) => predictRows.map((r) => ({ loss: chinchillaLoss(p, r.inputs.N, r.inputs.D) }));

  const interval = options.interval ?? 'residuals';
  const draw = (x: ArrayLike<number>) => {
    const named = natural(x);
    return {
      ...prefixKeys({ ...named }, 'params.'),
      ...prefixKeys(derivedValues(named, targets, formula), 'derived.'),
      ...predictionDraws(predictValues(named)),
    };
  };
  const redraw = residualRedraw(points, fit, params);
  const boot =
    nBoot > 0
      ? bootstrap(
          points.length,
          (rows) => {
            const r = interval === 'residuals' ? refitTargets(fit, redraw(rows)) : refitRows(fit, rows);
            return r ? draw(r.x) : null;
          },
          { samples: nBoot, seed },
        )
      : null;

  // Held-out check: the largest compute budget.
  const holdout = options.holdout ?? 'largest-budget';
  const budgets = points.map((p) => p.budget ?? roundSignificant(p.C ?? computeFlops(p.N, p.D, formula), 1));
  const groups = groupIndices(budgets);
  // The largest budget; when it has fewer than 3 rows (scattered C, as in the Chinchilla CSV), the
  // next largest budgets join it until at least 3 rows are held out.
  const heldRows: number[] = [];
  let heldBudgets = 0;
  if (holdout === 'largest-budget' && groups.length >= 2) {
    for (let g = groups.length - 1; g >= 1 && heldRows.length < 3; g--) {
      heldRows.push(...groups[g].rows);
      heldBudgets++;
    }
  }
  const heldOut: HeldOutRow[] = [];
  let heldOutDiagnostics: FormFit['diagnostics'] | null = null;
  if (heldRows.length > 0) {
    const held = new Set(heldRows);
    const train = points.map((_, i) => i).filter((i) => !held.has(i));
    if (train.length < 6) {
      throw new DataError(`parametric fit: only ${train.length} rows remain after holding out the largest budget. Use --holdout none or add runs.`);
    }
    const sub = (arr: Float64Array) => Float64Array.from(train, (i) => arr[i]);
    const coarse = constrained ? uniqueStarts(CHINCHILLA_COARSE_GRID.map((s) => constrained.reduce(s))) : CHINCHILLA_COARSE_GRID;
    const heldFit = fitForm(form, columns.map(sub), sub(losses), { starts: [fit.theta, ...coarse], ...formOptions });
    heldOutDiagnostics = heldFit.diagnostics;
    const predictHeld = (p: ChinchillaParams) => heldRows.map((i) => chinchillaLoss(p, points[i].N, points[i].D));
    const heldRedraw = residualRedraw(train.map((i) => points[i]), heldFit, natural(heldFit.theta));
    const heldBoot =
      nBoot > 0
        ? bootstrap(
            train.length,
            (rows) => {
              const r = interval === 'residuals' ? refitTargets(heldFit, heldRedraw(rows)) : refitRows(heldFit, rows);
              if (!r) return null;
              const preds = predictHeld(natural(r.x));
              return Object.fromEntries(preds.slice(0, HELD_INTERVAL_ROWS).map((v, j) => [`held.${j}`, v]));
            },
            { samples: nBoot, seed: seed + 1 },
          )
        : null;
    const preds = predictHeld(natural(heldFit.theta));
    heldRows.forEach((i, j) => {
      const p = points[i];
      heldOut.push({
        label: `loss of ${label(p, i)} (N=${fmt(p.N)}, D=${fmt(p.D)})`,
        actual: p.loss,
        predicted: preds[j],
        ci95: heldBoot?.intervals[`held.${j}`] ?? null,
        relError: relError(preds[j], p.loss),
      });
    });
  }

  return {
    kind: 'parametric',
    form: chinchillaForm.expression,
    params: withFixed(withIntervals({ ...params }, boot, 'params.'), constrained),
    derived: withIntervals(values, boot, 'derived.'),
    diagnostics: fit.diagnostics,
    data: {
      n: points.length,
      rowsGiven: points.length,
      columns: {},
      dropped: [],
      heldOutRows: heldRows.map((i) => label(points[i], i)),
    },
    heldOut,
    bootstrap: bootstrapSummary(boot, PARAMETRIC_INTERVAL_SCHEMES[interval]),
    options: {
      grid: typeof grid === 'string' ? grid : `${grid.length} explicit starts`,
      delta,
      computeFormula: formula,
      targetFlops: targets,
      bootstrap: nBoot,
      interval,
      seed,
      holdout,
      objective,
      maxIterations: options.maxIterations ?? null,
      fix: options.fix ?? {},
      tie: (options.tie ?? []).map(([a, b]) => `${a}=${b}`),
    },
    notes: [
      objective === 'huber-log'
        ? `Objective: Σ Huber_δ(LSE(a − alpha·ln N, b − beta·ln D, e) − ln L), δ = ${delta}, summed (not averaged), A = e^a, B = e^b, E = e^e.`
        : `Objective: ${describeObjective(objective, delta)}; fitted in (e, a, b, alpha, beta) with A = e^a, B = e^b, E = e^e.`,
      ...(constrained
        ? [`Constrained form: ${Object.entries(constrained.roles).filter(([, r]) => r !== 'free').map(([p, r]) => (r === 'fixed' ? `${p} fixed at ${fmt(params[p as keyof ChinchillaParams], 6)}` : `${p} ${r}`)).join(', ')}; ${constrained.params.length} free parameters from ${fitStarts.length} starts.`]
        : []),
      ...(identifiability.identified ? [] : [`NOT IDENTIFIED: ${identifiability.problems.join('; ')}.`]),
      `N_opt(C), D_opt(C) under C = ${formula.a}·N·D + ${formula.b}·D; a = beta/(alpha+beta), b = alpha/(alpha+beta) are the exponents of N_opt ∝ C^a, D_opt ∝ C^b.`,
      heldRows.length > 0
        ? `Held-out check: refitted without the largest budget${heldBudgets > 1 ? `s (${heldBudgets} budget groups from ${fmt(groups[groups.length - heldBudgets].key)} FLOPs up` : ` (${fmt(groups[groups.length - 1].key)} FLOPs`}, ${heldRows.length} rows; budget = C to 1 significant figure unless given) from the full-data optimum and a 243-point grid.`
        : 'No held-out check (one budget group only, or --holdout none).',
    ],
    theta: Object.fromEntries(chinchillaForm.fitParams.map((n, i) => [n, (constrained ? constrained.expand(fit.theta) : fit.theta)[i]])),
    heldOutDiagnostics,
    ...(predictRows.length ? { predictions: predictionRows(predictRows, predictValues(params), boot) } : {}),
    identifiability,
  };
}

/** Distinct start points (a constrained grid repeats projections of the full grid). */
function uniqueStarts(starts: readonly (readonly number[])[]): number[][] {
  const seen = new Set<string>();
  const out: number[][] = [];
  for (const s of starts) {
    const key = s.join(',');
    if (seen.has(key)) continue;
    seen.add(key);
    out.push([...s]);
  }
  return out;
}

/** Fixed parameters carry no interval: their ci95 is [v, v] by construction, reported as null. */
function withFixed<T extends Record<string, { value: number; ci95: [number, number] | null }>>(params: T, constrained: ConstrainedForm | null): T {
  if (!constrained) return params;
  for (const [p, role] of Object.entries(constrained.roles)) if (role === 'fixed' && params[p]) params[p].ci95 = null;
  return params;
}

/**
 * The residual bootstrap's resample maker: each row's fitted ln L̂ plus the log residual of the row
 * the resample drew. The residuals are the fit's, each divided by √(1 − h_i) for its leverage h_i
 * (modified residuals, docs/references.md#bootstrap-intervals: the fit bends towards a
 * high-leverage run, so its residual understates the noise), then centred on their median (the
 * Huber-log fit with a small δ estimates a median). Returns the resample's losses.
 */
function residualRedraw(points: readonly ParametricPoint[], fit: FormFit, p: ChinchillaParams): (rows: ArrayLike<number>) => Float64Array {
  const lnFitted = Float64Array.from(points, (r) => Math.log(chinchillaLoss(p, r.N, r.D)));
  const h = leverages(fit);
  const modified = Float64Array.from(points, (r, i) => (Math.log(r.loss) - lnFitted[i]) / Math.sqrt(Math.max(1e-3, 1 - h[i])));
  const centre = median(modified);
  const residuals = modified.map((r) => r - centre);
  return (rows) => Float64Array.from(lnFitted, (f, i) => Math.exp(f + residuals[rows[i]]));
}

function median(xs: ArrayLike<number>): number {
  const s = Float64Array.from(xs).sort();
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
