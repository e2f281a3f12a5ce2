// The fit-based part of the report: turning fit records (src/analysis runs the fits) and the runs
// they were fitted on into figures, tables and headline numbers. Renders only: no fitting here.
import { defaultTargetFlops, latestFit, lrBatchRuns, scheduleRuns, type AnalysisFit } from '../analysis/index.ts';
import type { IsoflopFit, IsoflopPoint } from '../fit/isoflop.ts';
import type { ParametricPoint } from '../fit/parametric.ts';
import { fmt } from '../fit/points.ts';
import { unreliableNote, type Estimate } from '../fit/record.ts';
import type { SurgeFit } from '../fit/surge.ts';
import { formatNumber } from './figure.ts';
import { isoflopFigure, isoflopSlices } from './figures/isoflop.ts';
import { lrBatchFigure, lrBatchStepsFigure, surgeMethodText, type GridCell } from './figures/lr-batch.ts';
import { parametricFigure } from './figures/parametric.ts';
import { powerLawFigure } from './figures/power-laws.ts';
import { scheduleFigure } from './figures/schedules.ts';
import type { ReportSection } from './page.ts';
import type { RunRecord, SweepRecords } from './records.ts';
import { runBatchTokens, runBudget, runFinalLoss, runState } from './records.ts';
import type { Cell, TableSpec } from './tables.ts';

export { heldOutSchedule, lrBatchRuns, scheduleRuns } from '../analysis/index.ts';

export interface FitSections {
  headline: { label: string; value: string }[];
  /** Sections in page order; the one with id `schedules-fit` is merged into the schedules section. */
  sections: ReportSection[];
  /** Fitted parameters with CIs, held-out errors (shown in the Tables section and report.md). */
  tables: TableSpec[];
}

/** A fit record as the report reads it (src/analysis); `fitFile` names its file in fits/. */
export type LoadedFit = AnalysisFit;


// ---------------------------------------------------------------------------------------------
// Runs → fit rows (pure). N is activated parameters (the paper's N, docs/references.md#compute-formula); D the tokens
// trained; loss the final validation loss of finished runs (diverged and unfinished runs left out).

function finished(runs: RunRecord[]): (RunRecord & { loss: number })[] {
  return runs.flatMap((r) => {
    const loss = runFinalLoss(r);
    return loss === undefined ? [] : [{ ...r, loss }];
  });
}

/** The isoFLOP family: finished runs that belong to a compute budget. */
export function isoflopPoints(runs: RunRecord[]): IsoflopPoint[] {
  return finished(runs)
    .filter((r) => runBudget(r) !== undefined)
    .map((r) => ({ budget: runBudget(r)!, N: r.config.derived.activatedParams, D: r.config.derived.tokens, loss: r.loss, label: r.runId }));
}

export function parametricPoints(runs: RunRecord[]): ParametricPoint[] {
  return finished(runs)
    .filter((r) => runBudget(r) !== undefined)
    .map((r) => ({ N: r.config.derived.activatedParams, D: r.config.derived.tokens, C: r.config.derived.computeFlops, budget: runBudget(r), loss: r.loss, label: r.runId }));
}

export function gridCells(runs: RunRecord[]): GridCell[] {
  return runs.map((r) => ({ batchTokens: runBatchTokens(r), lr: r.config.config.train.lr, loss: runFinalLoss(r), diverged: runState(r) === 'diverged', label: r.runId }));
}

// ---------------------------------------------------------------------------------------------
// Records → sections, tables, headline


/** " at B = 4096 tokens (E = 4, k = 1)": where the expert-LR rule was evaluated. */
function expertQueryText(fit: Pick<SurgeFit, 'options'>): string {
  const q = fit.options.expertLr;
  if (q === null || typeof q !== 'object') return '';
  const { numExperts, topK, batchTokens } = q as Record<string, unknown>;
  return typeof batchTokens === 'number' ? ` at B = ${formatNumber(batchTokens)} tokens (E = ${numExperts}, k = ${topK})` : '';
}

function ciText(e: Estimate | undefined, digits = 3): string {
  if (!e) return '';
  return e.ci95
    ? `${formatNumber(e.value, digits)} [${formatNumber(e.ci95[0], digits)}, ${formatNumber(e.ci95[1], digits)}]${e.unreliable ? ` (interval unreliable: ${e.unreliable})` : ''}`
    : formatNumber(e.value, digits);
}

/** "isoflop (fits/isoflop-quick.json)" for records from fits/, "isoflop (report)" for the report's own. */
function fitName(f: LoadedFit): string {
  return `${f.kind} (${f.fitFile ? `fits/${f.fitFile}` : 'report'})`;
}

/**
 * Every parameter of every fit, and its derived quantities except per-budget predictions
 * (`name@C`) at budgets other than the extrapolation target (the band grid would swamp the table).
 */
export function fitParamsTable(fits: LoadedFit[], targetFlops?: number): TableSpec {
  const rows: Cell[][] = [];
  const targetKey = targetFlops !== undefined ? `@${fmt(targetFlops)}` : undefined;
  for (const f of fits) {
    // An interval from an unreliable bootstrap says so in its row (records before the mark: from the fit's summary).
    const fitMark = unreliableNote(f.bootstrap) ?? '';
    const mark = (e: Estimate) => (e.ci95 ? (e.unreliable ? `unreliable: ${e.unreliable}` : fitMark) : '');
    for (const [name, e] of Object.entries(f.params ?? {})) rows.push([fitName(f), name, e.value, e.ci95?.[0] ?? null, e.ci95?.[1] ?? null, mark(e)]);
    for (const [name, e] of Object.entries(f.derived ?? {})) {
      if (name.includes('@') && !(targetKey && name.endsWith(targetKey))) continue;
      rows.push([fitName(f), name, e.value, e.ci95?.[0] ?? null, e.ci95?.[1] ?? null, mark(e)]);
    }
  }
  return {
    id: 'fit-params',
    title: 'Fitted parameters and derived quantities',
    caption:
      "Point estimates with bootstrap 95% percentile intervals (empty where a fit ran without bootstrap). An interval whose bootstrap fitted under 95% of its resamples is marked unreliable, with the failures by reason: it is conditional on the resamples that fitted. name@C is a prediction at budget C (the extrapolation target); records in fits/ were written by `moelab fit`, the others by the report.",
    columns: ['fit', 'quantity', 'value', 'ci95 low', 'ci95 high', 'interval'],
    rows,
  };
}

export function heldOutTable(fits: LoadedFit[]): TableSpec {
  const rows: Cell[][] = [];
  for (const f of fits) {
    const mark = unreliableNote(f.bootstrap) ?? '';
    for (const h of f.heldOut ?? []) rows.push([fitName(f), h.label, h.actual, h.predicted, h.ci95?.[0] ?? null, h.ci95?.[1] ?? null, h.ci95 ? mark : '', h.relError]);
  }
  return {
    id: 'held-out',
    title: 'Held-out checks',
    caption: 'Each fit refitted without its largest budget / batch / model size (or a held-out schedule), predicting what it did not see.',
    columns: ['fit', 'prediction', 'actual', 'predicted', 'ci95 low', 'ci95 high', 'interval', 'relative error'],
    rows,
  };
}

/** Every fit's bootstrap: how many resamples fitted, whether its intervals are reliable, why not, what was resampled. */
export function bootstrapTable(fits: LoadedFit[]): TableSpec {
  const rows: Cell[][] = fits.flatMap((f) => {
    const b = f.bootstrap;
    if (!b) return [];
    const fraction = b.successFraction ?? b.succeeded / Math.max(1, b.samples);
    const reliable = unreliableNote(b) === null;
    const failures = (b.failures ?? []).map((x) => `${x.count} ${x.reason}`).join('; ');
    return [[fitName(f), b.samples, b.succeeded, fraction, reliable ? 'yes' : 'NO: intervals conditional on the fitted resamples', failures, b.scheme]];
  });
  return {
    id: 'bootstrap',
    title: 'Bootstrap resamples behind the intervals',
    caption: 'Intervals are percentiles of the resamples that fitted. Under 95% fitted, every interval of that fit is marked unreliable (the failures say why); docs/fit.md "How intervals are computed and checked".',
    columns: ['fit', 'resamples', 'fitted', 'success fraction', 'reliable', 'failures', 'what was resampled'],
    rows,
  };
}

export function isoflopBudgetTable(fit: IsoflopFit): TableSpec {
  return {
    id: 'isoflop-budgets',
    title: 'isoFLOP optimum per budget',
    columns: ['budget (FLOPs)', 'runs', 'N_opt', 'N_opt ci95 low', 'N_opt ci95 high', 'D_opt', 'L_min', 'best run N', 'best run loss', 'flat N low', 'flat N high', 'held out'],
    rows: fit.budgets.map((b) => [
      b.budget,
      b.points.length,
      b.N_opt.value,
      b.N_opt.ci95?.[0] ?? null,
      b.N_opt.ci95?.[1] ?? null,
      b.D_opt.value,
      b.L_min.value,
      b.bestObserved.N,
      b.bestObserved.loss,
      b.flatRange.N[0],
      b.flatRange.N[1],
      b.heldOut ? 'yes' : '',
    ]),
  };
}

/** Sections of the page built from the fits (newest record per kind for figures). */
export function buildFitSections(records: SweepRecords, fits: LoadedFit[], warnings: string[], targetFlops?: number): FitSections {
  const out: FitSections = { headline: [], sections: [], tables: [] };
  const target = targetFlops ?? defaultTargetFlops(records);
  const guard = (kind: string, build: () => void) => {
    try {
      build();
    } catch (err) {
      // A record of another schema version (missing fields) must not take the report down.
      warnings.push(`${kind} figures left out: ${(err as Error).message}`);
    }
  };

  const iso = latestFit(fits, 'isoflop');
  const para = latestFit(fits, 'parametric');
  const compute = latestFit(fits, 'compute');
  if (iso) {
    guard('isoflop', () => {
      const t = target;
      const figures = [isoflopFigure(iso), powerLawFigure(iso, 'N_opt', t), powerLawFigure(iso, 'D_opt', t), powerLawFigure(iso, 'L_min', t)];
      const notes = [
        `Power laws (isoFLOP, Approach 2): N_opt ∝ C^${ciText(iso.powerLaws.N_opt.exponent)}, D_opt ∝ C^${ciText(iso.powerLaws.D_opt.exponent)}, L_min ∝ C^${ciText(iso.powerLaws.L_min.exponent)}.`,
        'Reference: Chinchilla’s exponents are ≈ 0.50 / 0.50 (docs/references.md#chinchilla-approach-2); the paper reports N_opt = 5.9e-3·C^0.5305 and D_opt = 3.2·C^0.50 (docs/references.md#power-laws, UNCONFIRMED, low reliability).',
      ];
      out.sections.push({ id: 'isoflop', title: 'Compute-optimal scaling (isoFLOP)', notes, figures, tables: [isoflopBudgetTable(iso)] });
      out.headline.push({ label: 'N_opt ∝ C^a', value: `a = ${ciText(iso.powerLaws.N_opt.exponent)} (isoFLOP)` });
      out.headline.push({ label: 'D_opt ∝ C^b', value: `b = ${ciText(iso.powerLaws.D_opt.exponent)}` });
      if (t !== undefined) {
        // The record's own prediction (with its interval) when it has one at t, else the law's value.
        const law = (q: 'N_opt' | 'D_opt' | 'L_min'): Estimate =>
          iso.derived[`${q}@${fmt(t)}`] ?? { value: iso.powerLaws[q].k.value * t ** iso.powerLaws[q].exponent.value, ci95: null };
        const n = law('N_opt');
        const d = law('D_opt');
        const l = law('L_min');
        out.headline.push({
          label: `extrapolated to C = ${formatNumber(t)}`,
          value: `N_opt ${ciText(n)}, D_opt ${ciText(d)}, D/N ${(d.value / n.value).toFixed(1)}, L_min ${ciText(l, 4)}`,
        });
      }
    });
  }
  const isoPoints = isoflopPoints(records.runs);
  if (!iso && new Set(isoPoints.map((p) => p.budget)).size >= 1 && isoPoints.length > 0) {
    // No isoFLOP fit (refused, or too few budgets): the profiles still show where the optimum lies.
    guard('isoflop', () => {
      const why = warnings.filter((w) => w.startsWith('isoflop fit skipped')).map((w) => w.replace(/^isoflop fit skipped: /, ''));
      out.sections.push({
        id: 'isoflop',
        title: 'Compute-optimal scaling (isoFLOP)',
        notes: [`No isoFLOP fit, so no power laws: ${why.length ? why.join(' ') : 'the sweep needs at least 2 budgets with 3 sizes each.'}`],
        figures: [
          isoflopFigure(
            { budgets: isoflopSlices(isoPoints) },
            'Final validation loss against activated parameters per compute budget, with each budget’s least-squares parabola in ln N (dotted where it has no interior minimum, so no N_opt) and its minimum (star) where it has one.',
          ),
        ],
        tables: [],
      });
    });
  }
  if (para) {
    guard('parametric', () => {
      const points = parametricPoints(records.runs);
      if (points.length === 0) throw new Error('no finished budgeted runs to draw beside the fit');
      const figure = parametricFigure(para, points, target);
      const p = para.params;
      out.sections.push({
        id: 'parametric',
        title: 'Parametric loss L(N, D)',
        notes: [
          `L̂(N, D) = E + A/N^α + B/D^β with E = ${ciText(p.E, 4)}, A = ${ciText(p.A)}, α = ${ciText(p.alpha)}, B = ${ciText(p.B)}, β = ${ciText(p.beta)} (Huber δ = 1e-3 on log loss, L-BFGS multi-start; docs/references.md#chinchilla-approach-3).`,
        ],
        figures: [figure],
        tables: [],
      });
      out.headline.push({ label: 'parametric L(N, D)', value: `E ${ciText(p.E, 4)}, α ${ciText(p.alpha)}, β ${ciText(p.beta)}; N_opt ∝ C^${ciText(para.derived.a)}` });
    });
  }
  if (compute) {
    guard('compute', () => {
      out.headline.push({
        label: 'compute formula',
        value: `C ≈ a·N·D + b·D with a = ${ciText(compute.params.a, 4)}, b = ${ciText(compute.params.b)} (mean |error| ${(100 * compute.derived.meanAbsRelError.value).toFixed(2)}%; the paper: a = 9.59, b = 2.3e8)`,
      });
    });
  }
  const surge = latestFit(fits, 'surge');
  const grid = lrBatchRuns(records);
  if (grid.length > 0 || surge) {
    guard('surge', () => {
      const figures = [lrBatchFigure(gridCells(grid.length > 0 ? grid : []), surge)];
      const steps = surge?.method === 'steps-to-target' && surge.stepsCurve ? surge : undefined;
      if (steps) figures.push(lrBatchStepsFigure(steps));
      const notes = surge
        ? [
            `Surge fit (Li et al. 2024, ${surgeMethodText(surge)}): ε_max = ${ciText(surge.params.epsMax)}, B_noise = ${ciText(surge.params.Bnoise)} tokens${steps ? `, S_min = ${ciText(steps.params.Smin)} steps` : ''}.`,
            ...(steps
              ? [
                  `Free surge-curve fit of the best LRs (diagnostic): ε_max = ${ciText(steps.derived.freeEpsMax)}, B_noise = ${ciText(steps.derived.freeBnoise)} tokens.`,
                ]
              : []),
            ...(surge.derived.expertLrRatio ? [`Expert-specific LR ratio ε_opt(B·k/E)/ε_opt(B) = ${ciText(surge.derived.expertLrRatio)}${expertQueryText(surge)} (the paper reports ≈ 0.31 for 16 experts, top-1, i.e. B ≈ 0.26·B_noise; docs/references.md#expert-lr, UNCONFIRMED).`] : []),
            ...surge.notes.filter((n) => (n.includes('B_noise =') && !n.startsWith('Free surge-curve')) || n.startsWith('Target train loss') || n.startsWith('Only ')),
          ]
        : [];
      if (grid.length > 0) out.sections.push({ id: 'lr-batch', title: 'Learning rate × batch size', notes, figures, tables: [] });
      if (surge) {
        out.headline.push({ label: 'surge fit', value: `ε_max ${ciText(surge.params.epsMax)}, B_noise ${ciText(surge.params.Bnoise)} tokens (${surgeMethodText(surge)})` });
        if (surge.derived.expertLrRatio) out.headline.push({ label: 'expert LR ratio', value: `${ciText(surge.derived.expertLrRatio)}${expertQueryText(surge)}` });
      }
    });
  }
  const schedule = latestFit(fits, 'schedule');
  const sched = scheduleRuns(records);
  if (!schedule && sched.length > 0) {
    // No law fitted (one schedule only, or the fit was refused): the curves side by side still compare.
    out.sections.push({ id: 'schedules-fit', title: 'Schedule comparison', figures: [scheduleFigure(sched)], tables: [] });
  }
  if (schedule && sched.length > 0) {
    guard('schedule', () => {
      const predicted = schedule.curves.filter((c) => c.role === 'predict');
      out.sections.push({
        id: 'schedules-fit',
        title: 'Schedule comparison',
        notes: [
          `${schedule.law === 'multipower' ? 'Multi-Power Law' : 'Tissue et al. law'} fitted on ${schedule.curves.filter((c) => c.role === 'fit').length} curve(s); ${predicted.map((c) => `${c.name} predicted with mean |error| ${(100 * c.meanAbsRelError).toFixed(2)}%, final-loss error ${(100 * c.finalRelError).toFixed(2)}%`).join('; ') || 'no held-out curve'}.`,
        ],
        figures: [scheduleFigure(sched, schedule)],
        tables: [],
      });
      for (const c of predicted) out.headline.push({ label: `held-out schedule ${c.name}`, value: `mean |error| ${(100 * c.meanAbsRelError).toFixed(2)}% (${schedule.law})` });
    });
  }
  for (const f of fits) {
    for (const h of f.heldOut ?? []) {
      if (/^(N_opt|best lr|S_min|mean)/.test(h.label)) out.headline.push({ label: `held-out ${f.kind}: ${h.label}`, value: `${(100 * h.relError).toFixed(1)}% error` });
    }
  }
  if (fits.length > 0) out.tables.push(fitParamsTable(fits, target));
  if (fits.some((f) => (f.heldOut ?? []).length > 0)) out.tables.push(heldOutTable(fits));
  if (fits.some((f) => f.bootstrap)) out.tables.push(bootstrapTable(fits));
  return out;
}
