// DeepSeek hyperparameter scaling laws (DeepSeek-AI 2024, arXiv:2401.02954 §3.1; docs/references.md#deepseek):
//   η_opt(C) = kLr·C^aLr,   B_opt(C) = kBatch·C^aBatch      (B in tokens, C in FLOPs)
// Procedure: at each budget, a grid of (batch, lr) runs; every run whose loss is within 0.25% of
// the budget's minimum is "near-optimal"; both power laws are fitted (least squares in log space)
// to all near-optimal runs. `selection: 'best'` uses only each budget's best run instead.
// Published (dense, AdamW): η_opt = 0.3118·C^−0.1250, B_opt = 0.2920·C^0.3271.
import { DataError } from '../errors.ts';
import { bootstrap } from './bootstrap.ts';
import { fitPowerLaw, evalPowerLaw, type PowerLaw } from './linear.ts';
import { fmt, groupIds, groupIndices, requirePositive } from './points.ts';
import { bootstrapSummary, prefixKeys, relError, withIntervals, type FitResultBase, type HeldOutRow } from './record.ts';

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
  /** Compute budget in FLOPs. */
  budget: number;
  batchTokens: number;
  lr: number;
  loss: number;
  label?: string;
}

export interface DeepseekOptions {
  /** Relative loss band of "near-optimal" runs (DeepSeek: 0.25% → 0.0025). */
  bandTolerance?: number;
  selection?: 'band' | 'best';
  targetFlops?: readonly number[];
  bootstrap?: number;
  seed?: number;
  holdout?: 'largest' | 'none';
}

export interface DeepseekFit extends FitResultBase {
  kind: 'deepseek';
  perBudget: {
    budget: number;
    minLoss: number;
    best: { lr: number; batchTokens: number; loss: number };
    nearOptimal: { lr: number; batchTokens: number; loss: number; label: string }[];
    heldOut: boolean;
  }[];
}

/** Indices of the near-optimal runs of each budget. */
function selectBand(points: readonly HyperparamPoint[], rows: ArrayLike<number>, tol: number, selection: 'band' | 'best'): number[] {
  const by = new Map<number, number[]>();
  for (let j = 0; j < rows.length; j++) {
    const i = rows[j];
    const list = by.get(points[i].budget);
    if (list) list.push(i);
    else by.set(points[i].budget, [i]);
  }
  const out: number[] = [];
  for (const list of by.values()) {
    const min = Math.min(...list.map((i) => points[i].loss));
    if (selection === 'best') out.push(list.find((i) => points[i].loss === min) as number);
    else out.push(...list.filter((i) => points[i].loss <= min * (1 + tol)));
  }
  return out;
}

function fitLaws(points: readonly HyperparamPoint[], band: readonly number[]): { lr: PowerLaw; batch: PowerLaw } {
  const C = band.map((i) => points[i].budget);
  if (new Set(C).size < 2) throw new DataError('deepseek: the power laws need near-optimal runs at ≥ 2 budgets.');
  return { lr: fitPowerLaw(C, band.map((i) => points[i].lr)), batch: fitPowerLaw(C, band.map((i) => points[i].batchTokens)) };
}

export function fitDeepseek(points: readonly HyperparamPoint[], options: DeepseekOptions = {}): DeepseekFit {
  const label = (p: HyperparamPoint, i: number) => p.label ?? `row ${i + 1}`;
  requirePositive(points, ['budget', 'batchTokens', 'lr', 'loss'], label, 'Rows need budget (FLOPs), batchTokens, lr and a finite loss > 0 (drop diverged runs).');
  const tol = options.bandTolerance ?? 0.0025;
  const selection = options.selection ?? 'band';
  const targets = options.targetFlops ?? [];
  const nBoot = options.bootstrap ?? 0;
  const seed = options.seed ?? 0;
  const holdout = options.holdout ?? 'largest';
  const groups = groupIndices(points.map((p) => p.budget));
  if (groups.length < 2) {
    throw new DataError(`deepseek: η_opt(C) and B_opt(C) need grids at ≥ 2 budgets, got ${groups.length}. Add (batch, lr) grids at other budgets.`);
  }

  const valuesOf = (l: { lr: PowerLaw; batch: PowerLaw }) => {
    const params = { kLr: l.lr.k, aLr: l.lr.a, kBatch: l.batch.k, aBatch: l.batch.a };
    const derived: Record<string, number> = {};
    for (const C of targets) {
      derived[`lr_opt@${fmt(C)}`] = evalPowerLaw(l.lr, C);
      derived[`batch_opt@${fmt(C)}`] = evalPowerLaw(l.batch, C);
    }
    return { params, derived };
  };
  const all = points.map((_, i) => i);
  const band = selectBand(points, all, tol, selection);
  const laws = fitLaws(points, band);
  const values = valuesOf(laws);
  const budgetIds = groupIds(points.map((p) => p.budget));
  const boot =
    nBoot > 0
      ? bootstrap(
          points.length,
          (rows) => {
            try {
              const v = valuesOf(fitLaws(points, selectBand(points, rows, tol, selection)));
              return { ...prefixKeys(v.params, 'params.'), ...prefixKeys(v.derived, 'derived.') };
            } catch {
              return null;
            }
          },
          { samples: nBoot, seed, groups: budgetIds },
        )
      : null;

  const heldOut: HeldOutRow[] = [];
  const heldBudget = holdout === 'largest' && groups.length >= 3 ? groups[groups.length - 1].key : null;
  if (heldBudget !== null) {
    const train = all.filter((i) => points[i].budget !== heldBudget);
    const heldLaws = fitLaws(points, selectBand(points, train, tol, selection));
    const heldBand = selectBand(points, all.filter((i) => points[i].budget === heldBudget), tol, selection);
    // "Actual" = geometric mean of the held-out budget's near-optimal runs (what the law targets).
    const gm = (xs: number[]) => Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length);
    const actualLr = gm(heldBand.map((i) => points[i].lr));
    const actualBatch = gm(heldBand.map((i) => points[i].batchTokens));
    const heldBoot =
      nBoot > 0
        ? bootstrap(
            train.length,
            (rows) => {
              try {
                const l = fitLaws(points, selectBand(points, Array.from(rows, (j) => train[j]), tol, selection));
                return { lr: evalPowerLaw(l.lr, heldBudget), batch: evalPowerLaw(l.batch, heldBudget) };
              } catch {
                return null;
              }
            },
            { samples: nBoot, seed: seed + 1, groups: groupIds(train.map((i) => points[i].budget)) },
          )
        : null;
    const pLr = evalPowerLaw(heldLaws.lr, heldBudget);
    const pB = evalPowerLaw(heldLaws.batch, heldBudget);
    heldOut.push(
      { label: `lr_opt at C = ${fmt(heldBudget)}`, actual: actualLr, predicted: pLr, ci95: heldBoot?.intervals.lr ?? null, relError: relError(pLr, actualLr) },
      { label: `batch_opt at C = ${fmt(heldBudget)}`, actual: actualBatch, predicted: pB, ci95: heldBoot?.intervals.batch ?? null, relError: relError(pB, actualBatch) },
    );
  }

  const bandSet = new Set(band);
  return {
    kind: 'deepseek',
    form: 'lr_opt = kLr * C^aLr; batch_opt = kBatch * C^aBatch',
    params: withIntervals(values.params, boot, 'params.'),
    derived: withIntervals(values.derived, boot, 'derived.'),
    diagnostics: { optimizer: 'least-squares', objective: null, r2: Math.min(laws.lr.r2, laws.batch.r2), converged: true, iterations: 0 },
    data: {
      n: points.length,
      rowsGiven: points.length,
      columns: {},
      dropped: [],
      heldOutRows: heldBudget !== null ? all.filter((i) => points[i].budget === heldBudget).map((i) => label(points[i], i)) : [],
    },
    heldOut,
    bootstrap: bootstrapSummary(boot, 'runs resampled with replacement within each budget; bands and laws recomputed'),
    options: { bandTolerance: tol, selection, targetFlops: targets, bootstrap: nBoot, seed, holdout },
    notes: [
      selection === 'band'
        ? `Near-optimal band: runs within ${(tol * 100).toFixed(2)}% of each budget's lowest loss; laws fitted by least squares in log space to all band runs.`
        : "Each budget's single best run; laws fitted by least squares in log space.",
      `Published DeepSeek LLM laws for comparison: lr_opt = ${DEEPSEEK_PUBLISHED.lr.k}·C^${DEEPSEEK_PUBLISHED.lr.a}, batch_opt = ${DEEPSEEK_PUBLISHED.batch.k}·C^${DEEPSEEK_PUBLISHED.batch.a}.`,
      heldBudget !== null ? `Held-out check: laws refitted without the largest budget (${fmt(heldBudget)} FLOPs); "actual" is the geometric mean of its near-optimal runs.` : 'No held-out check (needs ≥ 3 budgets, or --holdout none).',
    ],
    perBudget: groups.map((g) => {
      const min = Math.min(...g.rows.map((i) => points[i].loss));
      const bestIdx = g.rows.find((i) => points[i].loss === min) as number;
      return {
        budget: g.key,
        minLoss: min,
        best: { lr: points[bestIdx].lr, batchTokens: points[bestIdx].batchTokens, loss: min },
        nearOptimal: g.rows.filter((i) => bandSet.has(i)).map((i) => ({ lr: points[i].lr, batchTokens: points[i].batchTokens, loss: points[i].loss, label: label(points[i], i) })),
        heldOut: g.key === heldBudget,
      };
    }),
  };
}
