// The fit-based part of the report: which standard fits a sweep supports, running those fits/
// lacks (src/fit does the maths), and turning fit records into figures, tables and headline
// numbers. Fit records are read as written by `moelab fit` (src/fit/record.ts); the report's own
// fits use the same functions and produce the same records.
import { DataError } from '../errors.ts';
import type { ComputeFit, ComputeFormula, ComputePoint } from '../fit/compute-formula.ts';
import type { RunRecordLite } from '../fit/data.ts';
import type { IsoflopFit, IsoflopPoint } from '../fit/isoflop.ts';
import type { ParametricFit, ParametricPoint } from '../fit/parametric.ts';
import { fmt } from '../fit/points.ts';
import { FIT_RECORD_SCHEMA, type Estimate, type FitKind, type FitResultBase } from '../fit/record.ts';
import { fitRuns, fitScheduleRuns } from '../fit/run-fit.ts';
import type { ScheduleFit, ScheduleLawName } from '../fit/schedule-laws.ts';
import type { SurgeFit, SurgeMethod, SurgePoint } from '../fit/surge.ts';
import { sweepPaths } from '../io/results.ts';
import { provenance } from '../util/provenance.ts';
import { formatNumber, logspace } from './figure.ts';
import { isoflopFigure, isoflopSlices } from './figures/isoflop.ts';
import { lrBatchFigure, lrBatchStepsFigure, surgeMethodText, type GridCell } from './figures/lr-batch.ts';
import { parametricFigure } from './figures/parametric.ts';
import { powerLawFigure } from './figures/power-laws.ts';
import { scheduleCurveRows, scheduleFigure } from './figures/schedules.ts';
import type { ReportSection } from './page.ts';
import type { RunRecord, SweepRecords } from './records.ts';
import { runBatchTokens, runBudget, runFinalLoss, runScheduleLabel, runState, runStudyKind } from './records.ts';
import type { Cell, TableSpec } from './tables.ts';

export interface FitSections {
  headline: { label: string; value: string }[];
  /** Sections in page order; the one with id `schedules-fit` is merged into the schedules section. */
  sections: ReportSection[];
  /** Fitted parameters with CIs, held-out errors (shown in the Tables section and report.md). */
  tables: TableSpec[];
}

/** A fit record as loaded (fits/*.json) or computed here; `fitFile` names its source file. */
export type LoadedFit = FitResultBase & { fitFile?: string; source?: string; schema?: string } & Record<string, unknown>;

export interface StandardFitOptions {
  /** Budget (FLOPs) the compute-optimal laws are extrapolated to (default 100 × the largest budget). */
  targetFlops?: number;
  /** Bootstrap resamples of the cheap fits (isoFLOP, surge, compute formula). */
  bootstrap?: number;
  /** Bootstrap resamples of the parametric fit (each an L-BFGS refit). */
  parametricBootstrap?: number;
  /** Bootstrap resamples of the schedule-law fit (each an L-BFGS refit over every logged point). */
  scheduleBootstrap?: number;
  /** Schedule-aware loss law of the schedule comparison (default tissue: ~1 s; multipower takes minutes). */
  scheduleLaw?: ScheduleLawName;
  seed?: number;
  /** isoFLOP parabolas use only sizes within this factor of each budget's best run (default: all). */
  isoflopWindow?: number;
  /** Surge method (default auto: steps-to-target for constant-LR grids with logged train loss). */
  surgeMethod?: 'auto' | SurgeMethod;
  /** Surge steps-to-target: the target train loss (default: auto). */
  targetLoss?: number;
  /** Batch (tokens) the expert-LR rule is evaluated at (default: the batch of the lowest-loss run). */
  expertLrBatchTokens?: number;
}

export const STANDARD_FIT_DEFAULTS = { bootstrap: 1000, parametricBootstrap: 200, scheduleBootstrap: 0, scheduleLaw: 'tissue', seed: 0 } as const;

// ---------------------------------------------------------------------------------------------
// Runs → fit rows (pure). N is activated parameters (the paper's N, PAPER.md §1.1); D the tokens
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

export function computePoints(runs: RunRecord[]): ComputePoint[] {
  return runs.map((r) => ({ N: r.config.derived.activatedParams, D: r.config.derived.tokens, C: r.config.derived.computeFlops, label: r.runId }));
}

/** The LR × batch study: runs the plan marks lr-batch (every run when the sweep kind is lr-batch). */
export function lrBatchRuns(records: SweepRecords): RunRecord[] {
  return records.runs.filter((r) => runStudyKind(r) === 'lr-batch' || (runStudyKind(r) === undefined && records.kind === 'lr-batch'));
}

/**
 * Final-loss rows of the LR × batch runs (the final-loss surge method's input; the report also
 * takes the expert-LR query batch from the best of them). The steps-to-target method reads the
 * runs' train-loss curves through fitRuns (src/fit/run-fit.ts), as `moelab fit surge --runs` does.
 */
export function surgePoints(runs: RunRecord[]): SurgePoint[] {
  return finished(runs).map((r) => ({ batchTokens: runBatchTokens(r), lr: r.config.config.train.lr, loss: r.loss, label: r.runId }));
}

/** The schedule study: finished runs the plan marks `schedules` (every run of a schedules sweep). */
export function scheduleRuns(records: SweepRecords): RunRecord[] {
  return records.runs.filter(
    (r) => runState(r) === 'done' && (runStudyKind(r) === 'schedules' || (runStudyKind(r) === undefined && records.kind === 'schedules')) && scheduleCurveRows(r).length >= 2,
  );
}

/**
 * Which schedule runs are predicted rather than fitted: those of the paper's three-phase schedule
 * (label or kind "hunyuan") when present and not the only schedule, else the last schedule label.
 */
export function heldOutSchedule(runs: RunRecord[]): string | undefined {
  const labels = [...new Set(runs.map(runScheduleLabel))];
  if (labels.length < 2) return undefined;
  const paperRun = runs.find((r) => r.config.config.train.schedule.kind === 'hunyuan');
  return labels.find((l) => l === 'hunyuan') ?? (paperRun ? runScheduleLabel(paperRun) : labels[labels.length - 1]);
}

export function gridCells(runs: RunRecord[]): GridCell[] {
  return runs.map((r) => ({ batchTokens: runBatchTokens(r), lr: r.config.config.train.lr, loss: runFinalLoss(r), diverged: runState(r) === 'diverged', label: r.runId }));
}

// ---------------------------------------------------------------------------------------------
// Running the standard fits

function asRecord<R extends FitResultBase>(result: R, source: string): LoadedFit {
  return { ...result, schema: FIT_RECORD_SCHEMA, source, provenance: provenance() } as unknown as LoadedFit;
}

function has(fits: LoadedFit[], kind: FitKind): boolean {
  return fits.some((f) => f.kind === kind);
}

/** Default extrapolation target: 100 × the largest budget of the isoFLOP family. */
export function defaultTargetFlops(records: SweepRecords): number | undefined {
  const budgets = records.runs.map(runBudget).filter((b): b is number => b !== undefined);
  return budgets.length ? 100 * Math.max(...budgets) : undefined;
}

/** The run as src/fit's sweep readers see it (RunRecordLite), so fits match `moelab fit --runs`. */
function liteRun(records: SweepRecords, run: RunRecord): RunRecordLite {
  return { runId: run.runId, dir: sweepPaths(records.dir).run(run.runId), config: run.config, summary: run.summary ?? null };
}

/**
 * Run the standard fits the sweep's data supports and `fits/` lacks, through the same entry points
 * as `moelab fit --runs` (src/fit/run-fit.ts), each on its study's runs: compute formula (all runs,
 * ≥ 2 model sizes), isoFLOP + power laws and parametric L(N, D) (the runs with a budget), surge
 * (the LR × batch study), schedule law (the schedules study). A fit the data refuses (DataError:
 * e.g. a budget without an interior minimum) becomes a warning and its figures are left out.
 */
export async function standardFits(
  records: SweepRecords,
  existing: LoadedFit[],
  options: StandardFitOptions = {},
): Promise<{ fits: LoadedFit[]; computed: string[]; warnings: string[] }> {
  const d = STANDARD_FIT_DEFAULTS;
  const o = {
    bootstrap: options.bootstrap ?? d.bootstrap,
    parametricBootstrap: options.parametricBootstrap ?? d.parametricBootstrap,
    scheduleBootstrap: options.scheduleBootstrap ?? d.scheduleBootstrap,
    scheduleLaw: options.scheduleLaw ?? d.scheduleLaw,
    seed: options.seed ?? d.seed,
  };
  const target = options.targetFlops ?? defaultTargetFlops(records);
  const fits: LoadedFit[] = [];
  const computed: string[] = [];
  const warnings: string[] = [];
  const attempt = async (kind: FitKind, run: () => Promise<FitResultBase> | FitResultBase) => {
    try {
      fits.push(asRecord(await run(), records.dir));
      computed.push(kind);
    } catch (err) {
      if (!(err instanceof DataError)) throw err;
      warnings.push(`${kind} fit skipped: ${err.message}`);
    }
  };
  const lite = (runs: RunRecord[]) => runs.map((r) => liteRun(records, r));

  const sizes = new Set(records.runs.map((r) => r.config.derived.activatedParams));
  const existingCompute = existing.find((f) => f.kind === 'compute') as unknown as ComputeFit | undefined;
  let formula = existingCompute?.params ? computeFormulaOf(existingCompute) : undefined;
  if (!existingCompute && sizes.size >= 2) {
    await attempt('compute', () => fitRuns(lite(records.runs), { kind: 'compute', bootstrap: o.bootstrap, seed: o.seed }));
    const c = fits.find((f) => f.kind === 'compute') as unknown as ComputeFit | undefined;
    if (c) formula = computeFormulaOf(c);
  }

  const family = records.runs.filter((r) => runBudget(r) !== undefined);
  const budgets = [...new Set(isoflopPoints(family).map((p) => p.budget))].sort((a, b) => a - b);
  if (budgets.length >= 2) {
    const bandTargets = target ? [...logspace(budgets[0] / 1.5, target * 1.5, 24), target] : [];
    if (!has(existing, 'isoflop')) {
      await attempt('isoflop', () =>
        fitRuns(lite(family), { kind: 'isoflop', computeFormula: formula, targetFlops: bandTargets, bootstrap: o.bootstrap, seed: o.seed, isoflopWindow: options.isoflopWindow }),
      );
    }
    if (!has(existing, 'parametric')) {
      await attempt('parametric', () =>
        fitRuns(lite(family), { kind: 'parametric', computeFormula: formula, targetFlops: target ? [target] : [], bootstrap: o.parametricBootstrap, seed: o.seed }),
      );
    }
  }

  const grid = lrBatchRuns(records);
  if (grid.length > 0 && !has(existing, 'surge')) {
    const best = surgePoints(grid).reduce<SurgePoint | undefined>((b, p) => (!b || p.loss < b.loss ? p : b), undefined);
    const model = grid[0].config.config.model;
    await attempt('surge', () =>
      fitRuns(lite(grid), {
        kind: 'surge',
        bootstrap: o.bootstrap,
        seed: o.seed,
        expertLr:
          model.numExperts > 0 && (options.expertLrBatchTokens ?? best)
            ? { numExperts: model.numExperts, topK: model.topK, batchTokens: options.expertLrBatchTokens ?? best!.batchTokens }
            : undefined,
        surgeMethod: options.surgeMethod,
        targetLoss: options.targetLoss,
      }),
    );
  }

  const sched = scheduleRuns(records);
  const held = heldOutSchedule(sched);
  if (held !== undefined && !has(existing, 'schedule')) {
    const fitIds = sched.filter((r) => runScheduleLabel(r) !== held).map((r) => r.runId);
    const predictIds = sched.filter((r) => runScheduleLabel(r) === held).map((r) => r.runId);
    await attempt('schedule', () =>
      fitScheduleRuns(lite(sched), fitIds, predictIds, { kind: 'schedule', law: o.scheduleLaw, curveLoss: 'trainLoss', bootstrap: o.scheduleBootstrap, seed: o.seed }),
    );
  }
  return { fits, computed, warnings };
}

function computeFormulaOf(fit: Pick<ComputeFit, 'params'>): ComputeFormula | undefined {
  const a = fit.params.a?.value;
  const b = fit.params.b?.value;
  // A negative intercept (possible from least squares on a narrow family) is not a usable formula.
  return a > 0 && b >= 0 ? { name: `fitted ${a.toPrecision(4)}·N·D + ${b.toPrecision(3)}·D`, a, b } : undefined;
}

// ---------------------------------------------------------------------------------------------
// Records → sections, tables, headline

function latest<T extends LoadedFit>(fits: LoadedFit[], kind: FitKind): T | undefined {
  return fits.filter((f) => f.kind === kind).at(-1) as T | undefined;
}

/** " at B = 4096 tokens (E = 4, k = 1)": where the expert-LR rule was evaluated. */
function expertQueryText(fit: Pick<SurgeFit, 'options'>): string {
  const q = fit.options.expertLr as { numExperts: number; topK: number; batchTokens: number } | null | undefined;
  return q ? ` at B = ${formatNumber(q.batchTokens)} tokens (E = ${q.numExperts}, k = ${q.topK})` : '';
}

function ciText(e: Estimate | undefined, digits = 3): string {
  if (!e) return '';
  return e.ci95 ? `${formatNumber(e.value, digits)} [${formatNumber(e.ci95[0], digits)}, ${formatNumber(e.ci95[1], digits)}]` : formatNumber(e.value, digits);
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
    for (const [name, e] of Object.entries(f.params ?? {})) rows.push([fitName(f), name, e.value, e.ci95?.[0] ?? null, e.ci95?.[1] ?? null]);
    for (const [name, e] of Object.entries(f.derived ?? {})) {
      if (name.includes('@') && !(targetKey && name.endsWith(targetKey))) continue;
      rows.push([fitName(f), name, e.value, e.ci95?.[0] ?? null, e.ci95?.[1] ?? null]);
    }
  }
  return {
    id: 'fit-params',
    title: 'Fitted parameters and derived quantities',
    caption: 'Point estimates with bootstrap 95% percentile intervals (empty where a fit ran without bootstrap). name@C is a prediction at budget C (the extrapolation target); records in fits/ were written by `moelab fit`, the others by the report.',
    columns: ['fit', 'quantity', 'value', 'ci95 low', 'ci95 high'],
    rows,
  };
}

export function heldOutTable(fits: LoadedFit[]): TableSpec {
  const rows: Cell[][] = [];
  for (const f of fits) for (const h of f.heldOut ?? []) rows.push([fitName(f), h.label, h.actual, h.predicted, h.ci95?.[0] ?? null, h.ci95?.[1] ?? null, h.relError]);
  return {
    id: 'held-out',
    title: 'Held-out checks',
    caption: 'Each fit refitted without its largest budget / batch / model size (or a held-out schedule), predicting what it did not see.',
    columns: ['fit', 'prediction', 'actual', 'predicted', 'ci95 low', 'ci95 high', 'relative error'],
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

  const iso = latest<IsoflopFit & LoadedFit>(fits, 'isoflop');
  const para = latest<ParametricFit & LoadedFit>(fits, 'parametric');
  const compute = latest<ComputeFit & LoadedFit>(fits, 'compute');
  if (iso) {
    guard('isoflop', () => {
      const t = target;
      const figures = [isoflopFigure(iso), powerLawFigure(iso, 'N_opt', t), powerLawFigure(iso, 'D_opt', t), powerLawFigure(iso, 'L_min', t)];
      const notes = [
        `Power laws (isoFLOP, Approach 2): N_opt ∝ C^${ciText(iso.powerLaws.N_opt.exponent)}, D_opt ∝ C^${ciText(iso.powerLaws.D_opt.exponent)}, L_min ∝ C^${ciText(iso.powerLaws.L_min.exponent)}.`,
        'Reference: Chinchilla’s exponents are ≈ 0.50 / 0.50 (METHODS.md §1.5); the paper reports N_opt = 5.9e-3·C^0.5305 and D_opt = 3.2·C^0.50 (PAPER.md §2.3, UNCONFIRMED, low reliability).',
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
          `L̂(N, D) = E + A/N^α + B/D^β with E = ${ciText(p.E, 4)}, A = ${ciText(p.A)}, α = ${ciText(p.alpha)}, B = ${ciText(p.B)}, β = ${ciText(p.beta)} (Huber δ = 1e-3 on log loss, L-BFGS multi-start; METHODS.md §1.4).`,
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
  const surge = latest<SurgeFit & LoadedFit>(fits, 'surge');
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
            ...(surge.derived.expertLrRatio ? [`Expert-specific LR ratio ε_opt(B·k/E)/ε_opt(B) = ${ciText(surge.derived.expertLrRatio)}${expertQueryText(surge)} (the paper reports ≈ 0.31 for 16 experts, top-1, i.e. B ≈ 0.26·B_noise; PAPER.md §3.2, UNCONFIRMED).`] : []),
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
  const schedule = latest<ScheduleFit & LoadedFit>(fits, 'schedule');
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
  return out;
}
