// Which runs of a loaded sweep belong to which analysis, read from their run tags (pure). The
// report's figures use the same selections as the fits, so a figure shows the runs its fit saw.
import type { Sweep, SweepRun } from '../io/load.ts';

/** Runs whose tags have study kind `study`; untagged runs count when the whole sweep is of that kind. */
function ofStudy(sweep: Pick<Sweep, 'runs' | 'kind'>, study: 'isoflop' | 'lr-batch' | 'schedules'): SweepRun[] {
  return sweep.runs.filter((r) => r.tags?.study === study || (r.tags === undefined && sweep.kind === study && study !== 'isoflop'));
}

/** The isoFLOP family: runs tagged as cells of an isoFLOP budget. */
export function isoflopRuns(sweep: Pick<Sweep, 'runs'>): SweepRun[] {
  return sweep.runs.filter((r) => r.tags?.study === 'isoflop');
}

/** The LR × batch grid: runs tagged lr-batch (every untagged run of an lr-batch sweep). */
export function lrBatchRuns(sweep: Pick<Sweep, 'runs' | 'kind'>): SweepRun[] {
  return ofStudy(sweep, 'lr-batch');
}

/** Logged rows of a run's train-loss curve (step ≥ 1, finite positive train loss). */
export function trainCurveRows(run: SweepRun) {
  return run.metrics.filter((m) => m.step >= 1 && Number.isFinite(m.trainLoss) && m.trainLoss > 0);
}

/** The schedule comparison: finished runs tagged schedules with a logged curve of ≥ 2 rows. */
export function scheduleRuns(sweep: Pick<Sweep, 'runs' | 'kind'>): SweepRun[] {
  return ofStudy(sweep, 'schedules').filter((r) => r.state === 'done' && trainCurveRows(r).length >= 2);
}

/** A schedule run's label: its tag, else its schedule kind. */
export function scheduleLabel(run: SweepRun): string {
  return run.tags?.study === 'schedules' ? run.tags.label : run.config.config.train.schedule.kind;
}

/**
 * Which schedule runs are predicted rather than fitted: those of the paper's three-phase schedule
 * (label or kind "hunyuan") when present and not the only schedule, else the last schedule label.
 */
export function heldOutSchedule(runs: SweepRun[]): string | undefined {
  const labels = [...new Set(runs.map(scheduleLabel))];
  if (labels.length < 2) return undefined;
  const paperRun = runs.find((r) => r.config.config.train.schedule.kind === 'hunyuan');
  return labels.find((l) => l === 'hunyuan') ?? (paperRun ? scheduleLabel(paperRun) : labels[labels.length - 1]);
}

/** The budgets of the isoFLOP family, ascending. */
export function isoflopBudgets(sweep: Pick<Sweep, 'runs'>): number[] {
  return [...new Set(isoflopRuns(sweep).flatMap((r) => (r.tags?.study === 'isoflop' ? [r.tags.budgetFlops] : [])))].sort((a, b) => a - b);
}

/** Final validation loss of a finished, non-diverged run (undefined otherwise). */
export function finalLoss(run: SweepRun): number | undefined {
  if (run.summary?.status !== 'done') return undefined;
  const v = run.summary.finalValLoss;
  return Number.isFinite(v) ? v : undefined;
}
