// DeepSeek hyperparameter scaling laws (DeepSeek-AI 2024, arXiv:2401.02954 §3.1; docs/references.md#deepseek):
//   η_opt(C) = kLr·C^aLr,   B_opt(C) = kBatch·C^aBatch      (B in tokens, C in FLOPs)
// Procedure: at each budget, a grid of (batch, lr) runs; every run whose loss is within 0.25% of
// the budget's minimum is "near-optimal"; both power laws are fitted (least squares in log space)
// to all near-optimal runs. `selection: 'best'` uses only each budget's best run instead.
// Published (dense, AdamW): η_opt = 0.3118·C^−0.1250, B_opt = 0.2920·C^0.3271.
// Generalised: the regressor need not be C (its name comes from `xName`), the groups whose best
// runs are found need not be its values (`group`, e.g. one (N, D) cell per model size and token
// count), and a second regressor gives the two-variable laws of the literature
//   η_opt = kLr·x^aLr·x2^bLr,   B_opt = kBatch·x^aBatch·x2^bBatch   (e.g. x = N, x2 = D)
// fitted by least squares in log space (ln y = ln k + a·ln x + b·ln x2), R² reported per law.
import { DataError } from '../errors.ts';
import { bootstrap, cellIds, failedWith } from './bootstrap.ts';
import { constantProblem, settle } from './identify.ts';
import { leastSquares } from './linear.ts';
import { fmt, groupIds, requirePositive } from './points.ts';
import {
  bootstrapSummary,
  predictionDraws,
  predictionRows,
  prefixKeys,
  relError,
  withIntervals,
  type FitResultBase,
  type HeldOutRow,
} from './record.ts';

/** DeepSeek LLM's published laws (docs/references.md#deepseek; secondary sources agree). */
export const DEEPSEEK_PUBLISHED = Object.freeze({
  lr: Object.freeze({ k: 0.3118, a: -0.125 }),
  batch: Object.freeze({ k: 0.292, a: 0.3271 }),
});

export function deepseekLr(C: number, law: { k: number; a: number } = DEEPSEEK_PUBLISHED.lr): number {
  return law.k * Math.pow(C, law.a);
}

export function deepseekBatch(C: number, law: { k: number; a: number } = DEEPSEEK_PUBLISHED.batch): number {
  return law.k * Math.pow(C, law.a);
}

export interface HyperparamPoint {
  /** The regressor of the laws: the compute budget in FLOPs unless `xName` says otherwise. */
  budget: number;
  /** Second regressor (two-variable laws), e.g. D when `budget` holds N. */
  x2?: number;
  /** Group whose runs are compared for the near-optimal band (default: the regressor value(s)). */
  group?: string | number;
  batchTokens: number;
  lr: number;
  loss: number;
  label?: string;
}

export interface DeepseekOptions {
  /** Relative loss band of "near-optimal" runs (DeepSeek: 0.25% → 0.0025). */
  bandTolerance?: number;
  selection?: 'band' | 'best';
  /** Regressor values (one-variable laws) at which to report lr_opt and batch_opt. */
  targetFlops?: readonly number[];
  bootstrap?: number;
  seed?: number;
  holdout?: 'largest' | 'none';
  /** Name of the regressor in labels and forms (default 'C'). */
  xName?: string;
  /** Name of the second regressor (default 'x2'); the laws are two-variable when rows have x2. */
  x2Name?: string;
  /** Name of the group column, for notes (default: the regressor). */
  groupName?: string;
  /** Rows at which to predict lr_opt and batch_opt (x2 required for two-variable laws). */
  predict?: readonly { x: number; x2?: number; label?: string }[];
  /** Write a record marked unidentified instead of refusing degenerate data. */
  allowUnidentified?: boolean;
}

/** One fitted law ln y = ln k + a·ln x (+ b·ln x2). */
export interface HyperLaw {
  k: number;
  a: number;
  /** Exponent of x2 (two-variable laws). */
  b?: number;
  r2: number;
}

export interface DeepseekFit extends FitResultBase {
  kind: 'deepseek';
  /** Per group (one budget in DeepSeek's procedure). */
  perBudget: {
    /** The group's regressor value (its budget in DeepSeek's procedure). */
    budget: number;
    x2?: number;
    group: string;
    minLoss: number;
    best: { lr: number; batchTokens: number; loss: number };
    nearOptimal: { lr: number; batchTokens: number; loss: number; label: string }[];
    heldOut: boolean;
  }[];
  /** Each law with its own R² (in log space). */
  laws: {
    lr: { expression: string; r2: number };
    batch: { expression: string; r2: number };
  };
}

const groupKey = (p: HyperparamPoint): string => (p.group !== undefined ? String(p.group) : p.x2 !== undefined ? `${p.budget}|${p.x2}` : String(p.budget));

/** Indices of the near-optimal runs of each group. */
function selectBand(points: readonly HyperparamPoint[], rows: ArrayLike<number>, tol: number, selection: 'band' | 'best'): number[] {
  const by = new Map<string, number[]>();
  for (let j = 0; j < rows.length; j++) {
    const i = rows[j];
    const key = groupKey(points[i]);
    const list = by.get(key);
    if (list) list.push(i);
    else by.set(key, [i]);
  }
  const out: number[] = [];
  for (const list of by.values()) {
    const min = Math.min(...list.map((i) => points[i].loss));
    if (selection === 'best') out.push(list.find((i) => points[i].loss === min) as number);
    else out.push(...list.filter((i) => points[i].loss <= min * (1 + tol)));
  }
  return out;
}

function fitLaw(x: readonly number[], x2: readonly number[] | null, y: readonly number[]): HyperLaw {
  const X = x.map((v, i) => (x2 ? [1, Math.log(v), Math.log(x2[i])] : [1, Math.log(v)]));
  const r = leastSquares(X, y.map(Math.log));
  return { k: Math.exp(r.coef[0]), a: r.coef[1], ...(x2 ? { b: r.coef[2] } : {}), r2: r.r2 };
}

export function evalHyperLaw(l: HyperLaw, x: number, x2?: number): number {
  return l.k * Math.pow(x, l.a) * (l.b !== undefined ? Math.pow(x2 as number, l.b) : 1);
}

export function fitDeepseek(points: readonly HyperparamPoint[], options: DeepseekOptions = {}): DeepseekFit {
  const label = (p: HyperparamPoint, i: number) => p.label ?? `row ${i + 1}`;
  requirePositive(points, ['budget', 'batchTokens', 'lr', 'loss'], label, 'Rows need the regressor (budget), batchTokens, lr and a finite loss > 0 (drop diverged runs).');
  const twoVar = points.length > 0 && points.every((p) => p.x2 !== undefined);
  if (!twoVar && points.some((p) => p.x2 !== undefined)) {
    throw new DataError('deepseek: some rows have a second regressor (x2) and some do not. Give it in every row or in none.');
  }
  if (twoVar) requirePositive(points, ['x2'], label, 'The second regressor must be > 0 in every row.');
  const tol = options.bandTolerance ?? 0.0025;
  const selection = options.selection ?? 'band';
  const targets = options.targetFlops ?? [];
  if (twoVar && targets.length) throw new DataError('deepseek: --target-flops gives one regressor value, but the laws are two-variable. Use predict rows with both values instead.');
  const nBoot = options.bootstrap ?? 0;
  const seed = options.seed ?? 0;
  const holdout = options.holdout ?? 'largest';
  const xName = options.xName ?? 'C';
  const x2Name = options.x2Name ?? 'x2';
  const groupName = options.groupName ?? (twoVar ? `(${xName}, ${x2Name})` : xName);
  const at = (x: number, x2?: number) => (twoVar ? `${xName} = ${fmt(x)}, ${x2Name} = ${fmt(x2 as number)}` : `${xName} = ${fmt(x)}`);

  const flat = constantProblem(points.map((p) => p.loss), 'the loss');
  const keys = [...new Set(points.map(groupKey))];
  const xs = new Set(points.map((p) => p.budget));
  const x2s = new Set(points.map((p) => p.x2));
  const before = [
    flat,
    keys.length < 2 ? `${keys.length} ${groupName} group${keys.length === 1 ? '' : 's'}: the laws need near-optimal runs in ≥ 2 groups` : null,
    xs.size < 2 ? `one value of ${xName} (${fmt([...xs][0])}): its exponent cannot be fitted` : null,
    twoVar && x2s.size < 2 ? `one value of ${x2Name}: its exponent cannot be fitted` : null,
  ];
  if (before.some((p) => p !== null)) {
    if (keys.length < 2 && !twoVar && !flat) {
      throw new DataError(`deepseek: η_opt(C) and B_opt(C) need grids at ≥ 2 budgets, got ${keys.length}. Add (batch, lr) grids at other budgets.`);
    }
    settle(before, 'deepseek fit', false);
  }

  const fitLaws = (band: readonly number[]): { lr: HyperLaw; batch: HyperLaw } => {
    const x = band.map((i) => points[i].budget);
    const x2 = twoVar ? band.map((i) => points[i].x2 as number) : null;
    if (new Set(x).size < 2) throw new DataError(`deepseek: the laws need near-optimal runs at ≥ 2 values of ${xName}.`);
    if (x2 && new Set(x2).size < 2) throw new DataError(`deepseek: the laws need near-optimal runs at ≥ 2 values of ${x2Name}.`);
    return { lr: fitLaw(x, x2, band.map((i) => points[i].lr)), batch: fitLaw(x, x2, band.map((i) => points[i].batchTokens)) };
  };
  const predictRows = (options.predict ?? []).map((r, i) => {
    if (twoVar && r.x2 === undefined) throw new DataError(`deepseek predict row ${i + 1}: the laws are two-variable; give ${x2Name} too.`);
    return { label: r.label ?? at(r.x, r.x2), inputs: twoVar ? { [xName]: r.x, [x2Name]: r.x2 as number } : { [xName]: r.x } };
  });
  const predictValues = (l: { lr: HyperLaw; batch: HyperLaw }) =>
    (options.predict ?? []).map((r) => ({ lr_opt: evalHyperLaw(l.lr, r.x, r.x2), batch_opt: evalHyperLaw(l.batch, r.x, r.x2) }));
  const valuesOf = (l: { lr: HyperLaw; batch: HyperLaw }) => {
    const params: Record<string, number> = { kLr: l.lr.k, aLr: l.lr.a, ...(twoVar ? { bLr: l.lr.b as number } : {}), kBatch: l.batch.k, aBatch: l.batch.a, ...(twoVar ? { bBatch: l.batch.b as number } : {}) };
    const derived: Record<string, number> = {};
    const key = (C: number) => (xName === 'C' ? fmt(C) : `${xName}=${fmt(C)}`);
    for (const C of targets) {
      derived[`lr_opt@${key(C)}`] = evalHyperLaw(l.lr, C);
      derived[`batch_opt@${key(C)}`] = evalHyperLaw(l.batch, C);
    }
    return { params, derived };
  };
  const all = points.map((_, i) => i);
  const band = selectBand(points, all, tol, selection);
  const laws = fitLaws(band);
  const values = valuesOf(laws);
  const groupOf = groupIds(points.map((p) => keys.indexOf(groupKey(p))));
  // (lr, batch) cells within a group; runs of one cell with different seeds are its replicates.
  const cellOf = cellIds(points.map((p) => `${groupKey(p)}|${p.lr}|${p.batchTokens}`));
  const boot =
    nBoot > 0
      ? bootstrap(
          points.length,
          (rows) => {
            try {
              const l = fitLaws(selectBand(points, rows, tol, selection));
              const v = valuesOf(l);
              return { ...prefixKeys(v.params, 'params.'), ...prefixKeys(v.derived, 'derived.'), ...predictionDraws(predictValues(l)) };
            } catch (err) {
              return failedWith(err);
            }
          },
          { samples: nBoot, seed, groups: groupOf, cells: cellOf },
        )
      : null;

  // Held-out check: the groups at the largest regressor value.
  const heldOut: HeldOutRow[] = [];
  const xsSorted = [...xs].sort((a, b) => a - b);
  const heldX = holdout === 'largest' && xsSorted.length >= 3 ? xsSorted[xsSorted.length - 1] : null;
  if (heldX !== null) {
    const train = all.filter((i) => points[i].budget !== heldX);
    const heldLaws = fitLaws(selectBand(points, train, tol, selection));
    const heldBand = selectBand(points, all.filter((i) => points[i].budget === heldX), tol, selection);
    // "Actual" = geometric mean of the held-out groups' near-optimal runs (what the law targets),
    // predicted at the geometric mean of their second regressor.
    const gm = (v: number[]) => Math.exp(v.reduce((s, x) => s + Math.log(x), 0) / v.length);
    const actualLr = gm(heldBand.map((i) => points[i].lr));
    const actualBatch = gm(heldBand.map((i) => points[i].batchTokens));
    const heldX2 = twoVar ? gm(heldBand.map((i) => points[i].x2 as number)) : undefined;
    const heldBoot =
      nBoot > 0
        ? bootstrap(
            train.length,
            (rows) => {
              try {
                const l = fitLaws(selectBand(points, Array.from(rows, (j) => train[j]), tol, selection));
                return { lr: evalHyperLaw(l.lr, heldX, heldX2), batch: evalHyperLaw(l.batch, heldX, heldX2) };
              } catch (err) {
                return failedWith(err);
              }
            },
            { samples: nBoot, seed: seed + 1, groups: groupIds(train.map((i) => keys.indexOf(groupKey(points[i])))), cells: Int32Array.from(train, (i) => cellOf[i]) },
          )
        : null;
    const pLr = evalHyperLaw(heldLaws.lr, heldX, heldX2);
    const pB = evalHyperLaw(heldLaws.batch, heldX, heldX2);
    heldOut.push(
      { label: `lr_opt at ${at(heldX, heldX2)}`, actual: actualLr, predicted: pLr, ci95: heldBoot?.intervals.lr ?? null, relError: relError(pLr, actualLr) },
      { label: `batch_opt at ${at(heldX, heldX2)}`, actual: actualBatch, predicted: pB, ci95: heldBoot?.intervals.batch ?? null, relError: relError(pB, actualBatch) },
    );
  }

  const bandSet = new Set(band);
  const lawExpr = (y: string, s: string) => (twoVar ? `${y} = k${s} * ${xName}^a${s} * ${x2Name}^b${s}` : `${y} = k${s} * ${xName}^a${s}`);
  const groups = keys
    .map((key) => ({ key, rows: all.filter((i) => groupKey(points[i]) === key) }))
    .sort((g, h) => points[g.rows[0]].budget - points[h.rows[0]].budget || (points[g.rows[0]].x2 ?? 0) - (points[h.rows[0]].x2 ?? 0));
  return {
    kind: 'deepseek',
    form: `${lawExpr('lr_opt', 'Lr')}; ${lawExpr('batch_opt', 'Batch')}`,
    params: withIntervals(values.params, boot, 'params.'),
    derived: withIntervals(values.derived, boot, 'derived.'),
    // r2: the worse of the two laws (each law's own R² is in `laws`).
    diagnostics: { optimizer: 'least-squares', objective: null, r2: Math.min(laws.lr.r2, laws.batch.r2), converged: true, iterations: 0 },
    data: {
      n: points.length,
      rowsGiven: points.length,
      columns: {},
      dropped: [],
      heldOutRows: heldX !== null ? all.filter((i) => points[i].budget === heldX).map((i) => label(points[i], i)) : [],
    },
    heldOut,
    bootstrap: bootstrapSummary(boot, `(lr, batch) cells with replacement within each ${groupName} group, then seeds within each drawn cell; bands and laws recomputed`),
    options: { bandTolerance: tol, selection, targetFlops: targets, bootstrap: nBoot, seed, holdout, xName, x2Name: twoVar ? x2Name : null, groupName },
    notes: [
      selection === 'band'
        ? `Near-optimal band: runs within ${(tol * 100).toFixed(2)}% of each ${groupName} group's lowest loss; laws fitted by least squares in log space to all band runs.`
        : `Each ${groupName} group's single best run; laws fitted by least squares in log space.`,
      `R²: lr law ${laws.lr.r2.toFixed(4)}, batch law ${laws.batch.r2.toFixed(4)} (log space).`,
      ...(xName === 'C' && !twoVar
        ? [`Published DeepSeek LLM laws for comparison: lr_opt = ${DEEPSEEK_PUBLISHED.lr.k}·C^${DEEPSEEK_PUBLISHED.lr.a}, batch_opt = ${DEEPSEEK_PUBLISHED.batch.k}·C^${DEEPSEEK_PUBLISHED.batch.a}.`]
        : []),
      heldX !== null
        ? `Held-out check: laws refitted without the largest ${xName} (${fmt(heldX)}); "actual" is the geometric mean of its near-optimal runs.`
        : `No held-out check (needs ≥ 3 values of ${xName}, or --holdout none).`,
    ],
    perBudget: groups.map((g) => {
      const min = Math.min(...g.rows.map((i) => points[i].loss));
      const bestIdx = g.rows.find((i) => points[i].loss === min) as number;
      const first = points[g.rows[0]];
      return {
        budget: first.budget,
        ...(twoVar ? { x2: first.x2 } : {}),
        group: g.key,
        minLoss: min,
        best: { lr: points[bestIdx].lr, batchTokens: points[bestIdx].batchTokens, loss: min },
        nearOptimal: g.rows.filter((i) => bandSet.has(i)).map((i) => ({ lr: points[i].lr, batchTokens: points[i].batchTokens, loss: points[i].loss, label: label(points[i], i) })),
        heldOut: first.budget === heldX,
      };
    }),
    laws: { lr: { expression: lawExpr('lr_opt', 'Lr'), r2: laws.lr.r2 }, batch: { expression: lawExpr('batch_opt', 'Batch'), r2: laws.batch.r2 } },
    ...(predictRows.length ? { predictions: predictionRows(predictRows, predictValues(laws), boot) } : {}),
    identifiability: { identified: true, problems: [] },
  };
}
