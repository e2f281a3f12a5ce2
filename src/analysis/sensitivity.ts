// How fragile the headline isoFLOP exponents are (pure): the N_opt ∝ C^a and D_opt ∝ C^b exponents
// refitted under each analysis choice a reader could question —
//   N with and without embedding parameters (activatedParams vs activatedNonEmbeddingParams),
//   the parabola window (3, 4, 6, auto, all),
//   leaving out each budget in turn,
//   attention FLOPs counted causally ((T+1)/2 attended positions, moelab's default) or over the full
//     context (T): each budget is rescaled by its runs' geometric-mean ratio of full to causal
//     training FLOPs per token (src/model/count.ts flopBreakdown), the slices kept as planned —
// and the held-out check of the largest budget: its N_opt and D_opt predicted by the laws fitted
// on the other budgets, against its own parabola's. A variant the fit refuses is a row with the reason.
import { resolveModelConfig } from '../config/resolve.ts';
import { fitIsoflop, type IsoflopOptions, type IsoflopPoint } from '../fit/isoflop.ts';
import { fmt } from '../fit/points.ts';
import type { Estimate, HeldOutRow } from '../fit/record.ts';
import type { SweepRun } from '../io/load.ts';
import { flopsPerToken } from '../model/count.ts';
import { ANALYSIS_DEFAULTS } from './defaults.ts';
import { finalLoss } from './select.ts';

export type SensitivityGroup = 'baseline' | 'parameters' | 'window' | 'leave-one-budget-out' | 'attention FLOPs';

export interface SensitivityRow {
  group: SensitivityGroup;
  variant: string;
  /** N_opt exponent a and D_opt exponent b (null when the fit refused). */
  a: Estimate | null;
  b: Estimate | null;
  /** Budgets the power laws used. */
  budgets: number;
  /** succeeded / samples of the variant's bootstrap (null without bootstrap). */
  successFraction: number | null;
  /** Why the fit refused the variant. */
  error?: string;
}

export interface IsoflopSensitivity {
  rows: SensitivityRow[];
  /** Smallest and largest a and b over the variants that fitted. */
  spread: { a: [number, number]; b: [number, number] } | null;
  /** N_opt and D_opt of the largest budget predicted from the others (baseline choices). */
  heldOut: { N_opt: HeldOutRow; D_opt: HeldOutRow } | null;
}

export interface SensitivityOptions {
  /** The baseline fit's options (window, edges, …); default window 'auto', edges as ANALYSIS_DEFAULTS. */
  base?: IsoflopOptions;
  /** Bootstrap resamples per variant (default 200: the table shows how the point estimates move). */
  bootstrap?: number;
}

type Pt = IsoflopPoint & { Nne: number; fullRatio: number };

/**
 * Isoflop points of finished runs. Where a study scanned the LR per size (tags with lr), each
 * (budget, size, seed) contributes its best LR's run: the isoFLOP curve is of tuned models.
 */
function points(runs: readonly SweepRun[]): Pt[] {
  const best = new Map<string, Pt>();
  for (const r of runs) {
    const t = r.tags;
    const loss = finalLoss(r);
    if (t?.study !== 'isoflop' || loss === undefined) continue;
    const model = resolveModelConfig(r.config.config.model);
    const fullRatio = flopsPerToken(model, { causal: false }) / flopsPerToken(model, { causal: true });
    const d = r.config.derived;
    const p: Pt = { budget: t.budgetFlops, N: d.activatedParams, Nne: d.activatedNonEmbeddingParams, D: d.tokens, loss, label: r.runId, fullRatio };
    const key = `${t.budgetFlops}|${t.size}|${t.seed}`;
    const prev = best.get(key);
    if (!prev || loss < prev.loss) best.set(key, p);
  }
  return [...best.values()];
}

function variant(group: SensitivityGroup, name: string, pts: readonly IsoflopPoint[], options: IsoflopOptions): { row: SensitivityRow; fit?: ReturnType<typeof fitIsoflop> } {
  try {
    const fit = fitIsoflop(pts, options);
    const used = fit.budgets.filter((b) => !b.heldOut).length;
    return {
      row: {
        group,
        variant: name,
        a: fit.powerLaws.N_opt.exponent,
        b: fit.powerLaws.D_opt.exponent,
        budgets: used,
        successFraction: fit.bootstrap && fit.bootstrap.samples > 0 ? fit.bootstrap.succeeded / fit.bootstrap.samples : null,
      },
      fit,
    };
  } catch (err) {
    if (!(err instanceof Error)) throw err;
    return { row: { group, variant: name, a: null, b: null, budgets: 0, successFraction: null, error: err.message } };
  }
}

export function isoflopSensitivity(runs: readonly SweepRun[], options: SensitivityOptions = {}): IsoflopSensitivity {
  const pts = points(runs);
  const base: IsoflopOptions = { window: 'auto', edges: ANALYSIS_DEFAULTS.edges, seed: ANALYSIS_DEFAULTS.seed, ...options.base, bootstrap: options.bootstrap ?? 200, holdout: 'none', predict: [], targetFlops: [] };
  const rows: SensitivityRow[] = [];
  const baseWindow = base.window ?? 'auto';
  const baseline = variant('baseline', `N = activated parameters (with embeddings), window ${String(baseWindow)}, causal attention FLOPs`, pts, base);
  rows.push(baseline.row);
  rows.push(variant('parameters', 'N = activated non-embedding parameters', pts.map((p) => ({ ...p, N: p.Nne })), base).row);
  for (const w of [3, 4, 6, 'auto', 'all'] as const) {
    if (w === baseWindow) continue;
    rows.push(variant('window', `window ${w === 'auto' || w === 'all' ? w : `${w}× of the best run`}`, pts, { ...base, window: w }).row);
  }
  const budgets = [...new Set(pts.map((p) => p.budget))].sort((x, y) => x - y);
  if (budgets.length >= 3) {
    for (const b of budgets) rows.push(variant('leave-one-budget-out', `without budget ${fmt(b)} FLOPs`, pts.filter((p) => p.budget !== b), base).row);
  }
  // Full-context attention: every budget rescaled by its runs' mean (geometric) full/causal FLOP ratio.
  const scale = new Map(budgets.map((b) => {
    const rs = pts.filter((p) => p.budget === b).map((p) => Math.log(p.fullRatio));
    return [b, Math.exp(rs.reduce((s, x) => s + x, 0) / rs.length)];
  }));
  rows.push(variant('attention FLOPs', 'full-context attention FLOPs (T attended positions, not (T+1)/2)', pts.map((p) => ({ ...p, budget: p.budget * scale.get(p.budget)! })), base).row);

  const fitted = rows.filter((r) => r.a && r.b);
  const spread = fitted.length
    ? {
        a: [Math.min(...fitted.map((r) => r.a!.value)), Math.max(...fitted.map((r) => r.a!.value))] as [number, number],
        b: [Math.min(...fitted.map((r) => r.b!.value)), Math.max(...fitted.map((r) => r.b!.value))] as [number, number],
      }
    : null;

  let heldOut: IsoflopSensitivity['heldOut'] = null;
  if (budgets.length >= 3) {
    const h = variant('baseline', 'held out', pts, { ...base, holdout: 'largest' }).fit;
    const n = h?.heldOut.find((r) => r.label.startsWith('N_opt'));
    const d = h?.heldOut.find((r) => r.label.startsWith('D_opt'));
    if (n && d) heldOut = { N_opt: n, D_opt: d };
  }
  return { rows, spread, heldOut };
}
