// planFits: which standard fits a loaded sweep supports, each as a typed request on the runs it
// concerns (pure). runFits (src/analysis/run.ts) executes the plan.
//
//   compute     every run (needs ≥ 2 model sizes)
//   isoflop     the isoFLOP family (≥ 2 budgets); the compute fit's formula when there is one
//   parametric  the isoFLOP family, L(N, D) = E + A/N^α + B/D^β
//   surge       the LR × batch grid; the expert-LR rule at the given batch (else the best run's)
//   schedule    the schedule comparison: fitted on all schedules but one, which it predicts
import type { Sweep } from '../io/load.ts';
import type { EdgePolicy } from '../fit/edges.ts';
import type { FitKind } from '../fit/record.ts';
import type { ScheduleLawName } from '../fit/schedule-laws.ts';
import type { ExpertLrQuery, SurgeMethod } from '../fit/surge.ts';
import { ANALYSIS_DEFAULTS, bootstrapFor } from './defaults.ts';
import { finalLoss, heldOutSchedule, isoflopBudgets, isoflopRuns, lrBatchRuns, scheduleLabel, scheduleRuns } from './select.ts';

/** The fits the standard analysis runs, in order (the compute formula first: the others use it). */
export const FIT_KINDS_STANDARD: readonly FitKind[] = Object.freeze(['compute', 'isoflop', 'parametric', 'surge', 'schedule'] as const);

export interface AnalysisOptions {
  /** Budget (FLOPs) the compute-optimal laws are extrapolated to (default targetFactor × the largest budget). */
  targetFlops?: number;
  /** Bootstrap resamples: one number for every fit (capped for the expensive kinds), or per kind (default: ANALYSIS_DEFAULTS). */
  bootstrap?: number | Partial<Record<FitKind, number>>;
  seed?: number;
  /** Schedule-aware loss law of the schedule fit. */
  scheduleLaw?: ScheduleLawName;
  /**
   * Which sizes each isoFLOP parabola sees (IsoflopOptions.window): a factor around each budget's
   * best run, 'auto' (the isoFLOP fit's default) or 'all'.
   */
  isoflopWindow?: number | 'auto' | 'all';
  /** Budgets / batches without an interior minimum: dropped and listed, or refused. */
  edges?: EdgePolicy;
  /** Surge method (default auto: steps-to-target for constant-LR grids with logged train loss). */
  surgeMethod?: 'auto' | SurgeMethod;
  /** Surge steps-to-target: the target train loss (default: auto). */
  targetLoss?: number;
  /** Batch (tokens) the expert-LR rule is evaluated at (default: the batch of the lowest-loss grid run). */
  expertLrBatchTokens?: number;
  /** Only these kinds (default: every kind the sweep supports). */
  kinds?: readonly FitKind[];
}

interface Common {
  bootstrap: number;
  seed: number;
}

/** One planned fit: the kind, the runs it reads, and the request it runs with. */
export type PlannedFit =
  | { kind: 'compute'; runIds: string[]; request: Common }
  | { kind: 'isoflop'; runIds: string[]; request: Common & { targetFlops: number[]; window?: number | 'auto' | 'all'; edges: EdgePolicy }; useComputeFit: boolean }
  | { kind: 'parametric'; runIds: string[]; request: Common & { targetFlops: number[] }; useComputeFit: boolean }
  | { kind: 'surge'; runIds: string[]; request: Common & { expertLr?: ExpertLrQuery; surgeMethod?: 'auto' | SurgeMethod; targetLoss?: number; edges: EdgePolicy } }
  | { kind: 'schedule'; runIds: string[]; fitIds: string[]; predictIds: string[]; request: Common & { law: ScheduleLawName; curveLoss: 'trainLoss' } };

export interface FitPlan {
  /** Budget the compute-optimal laws are extrapolated to (undefined without an isoFLOP family). */
  targetFlops?: number;
  fits: PlannedFit[];
  /** Kinds the sweep does not support, and why. */
  unsupported: { kind: FitKind; reason: string }[];
}

/** n log-spaced values from lo to hi inclusive. */
function logspace(lo: number, hi: number, n: number): number[] {
  const a = Math.log(lo);
  const b = Math.log(hi);
  return Array.from({ length: n }, (_, i) => Math.exp(a + ((b - a) * i) / (n - 1)));
}

/** Default extrapolation target: targetFactor × the largest isoFLOP budget. */
export function defaultTargetFlops(sweep: Pick<Sweep, 'runs'>): number | undefined {
  const budgets = isoflopBudgets(sweep);
  return budgets.length ? ANALYSIS_DEFAULTS.targetFactor * budgets[budgets.length - 1] : undefined;
}

export function planFits(sweep: Pick<Sweep, 'runs' | 'kind'>, options: AnalysisOptions = {}): FitPlan {
  const d = ANALYSIS_DEFAULTS;
  const seed = options.seed ?? d.seed;
  const edges = options.edges ?? d.edges;
  const common = (kind: FitKind): Common => ({ bootstrap: bootstrapFor(kind, options.bootstrap), seed });
  const wanted = (kind: FitKind) => options.kinds === undefined || options.kinds.includes(kind);
  const fits: PlannedFit[] = [];
  const unsupported: FitPlan['unsupported'] = [];
  const target = options.targetFlops ?? defaultTargetFlops(sweep);

  const sizes = new Set(sweep.runs.map((r) => r.config.derived.activatedParams));
  if (wanted('compute')) {
    if (sizes.size >= 2) fits.push({ kind: 'compute', runIds: sweep.runs.map((r) => r.runId), request: common('compute') });
    else unsupported.push({ kind: 'compute', reason: `the compute formula needs ≥ 2 model sizes, the sweep has ${sizes.size}` });
  }

  const family = isoflopRuns(sweep);
  const finishedBudgets = [...new Set(family.filter((r) => finalLoss(r) !== undefined).flatMap((r) => (r.tags?.study === 'isoflop' ? [r.tags.budgetFlops] : [])))].sort((a, b) => a - b);
  const useComputeFit = fits.some((f) => f.kind === 'compute');
  if (finishedBudgets.length >= 2) {
    const band = target ? [...logspace(finishedBudgets[0] / 1.5, target * 1.5, d.bandPoints), target] : [];
    const runIds = family.map((r) => r.runId);
    if (wanted('isoflop')) {
      fits.push({ kind: 'isoflop', runIds, request: { ...common('isoflop'), targetFlops: band, ...(options.isoflopWindow !== undefined ? { window: options.isoflopWindow } : {}), edges }, useComputeFit });
    }
    if (wanted('parametric')) fits.push({ kind: 'parametric', runIds, request: { ...common('parametric'), targetFlops: target ? [target] : [] }, useComputeFit });
  } else {
    const reason = `the isoFLOP fits need finished runs at ≥ 2 budgets, the sweep has ${finishedBudgets.length}`;
    if (wanted('isoflop')) unsupported.push({ kind: 'isoflop', reason });
    if (wanted('parametric')) unsupported.push({ kind: 'parametric', reason });
  }

  const grid = lrBatchRuns(sweep);
  if (wanted('surge')) {
    if (grid.length > 0) {
      const best = grid.reduce<{ loss: number; batchTokens: number } | undefined>((b, r) => {
        const loss = finalLoss(r);
        return loss !== undefined && (!b || loss < b.loss) ? { loss, batchTokens: r.config.derived.tokensPerStep } : b;
      }, undefined);
      const model = grid[0].config.config.model;
      const at = options.expertLrBatchTokens ?? best?.batchTokens;
      fits.push({
        kind: 'surge',
        runIds: grid.map((r) => r.runId),
        request: {
          ...common('surge'),
          ...(model.numExperts > 0 && at !== undefined ? { expertLr: { numExperts: model.numExperts, topK: model.topK, batchTokens: at } } : {}),
          ...(options.surgeMethod !== undefined ? { surgeMethod: options.surgeMethod } : {}),
          ...(options.targetLoss !== undefined ? { targetLoss: options.targetLoss } : {}),
          edges,
        },
      });
    } else unsupported.push({ kind: 'surge', reason: 'no LR × batch runs' });
  }

  const sched = scheduleRuns(sweep);
  const held = heldOutSchedule(sched);
  if (wanted('schedule')) {
    if (held !== undefined) {
      fits.push({
        kind: 'schedule',
        runIds: sched.map((r) => r.runId),
        fitIds: sched.filter((r) => scheduleLabel(r) !== held).map((r) => r.runId),
        predictIds: sched.filter((r) => scheduleLabel(r) === held).map((r) => r.runId),
        request: { ...common('schedule'), law: options.scheduleLaw ?? d.scheduleLaw, curveLoss: 'trainLoss' },
      });
    } else unsupported.push({ kind: 'schedule', reason: 'the schedule fit needs finished runs of ≥ 2 schedules with logged curves' });
  }
  return { ...(target !== undefined ? { targetFlops: target } : {}), fits, unsupported };
}
