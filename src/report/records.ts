// Per-run accessors the report's figures and tables read (pure). The records themselves come from
// the one loader, loadSweep (src/io/load.ts); what a run belongs to comes from its run tags.
import type { MetricRow } from '../io/results.ts';
import type { RunState, Sweep, SweepRun } from '../io/load.ts';

/** One run as the report sees it: the loader's record. */
export type RunRecord = SweepRun;
/** A loaded sweep as the report sees it. */
export type SweepRecords = Sweep;
export type { RunState };

export function runState(run: RunRecord): RunState {
  return run.state;
}

/** The compute budget (FLOPs) of the isoFLOP cell the run belongs to, if it belongs to one. */
export function runBudget(run: RunRecord): number | undefined {
  // Runs of other studies (an LR grid or a schedule comparison at one budget) are not isoFLOP
  // cells: counting them would add off-optimum points to a budget's parabola.
  return run.tags?.study === 'isoflop' ? run.tags.budgetFlops : undefined;
}

/** Study kind of the run's tags (isoflop | lr-batch | schedules | arm | grid), if it has tags. */
export function runStudyKind(run: RunRecord): string | undefined {
  return run.tags?.study;
}

/** A label for the run's LR schedule: the schedule tag's label, else the schedule kind. */
export function runScheduleLabel(run: RunRecord): string {
  return run.tags?.study === 'schedules' ? run.tags.label : run.config.config.train.schedule.kind;
}

/** Tokens per optimiser step (batchSize sequences × seqLen). */
export function runBatchTokens(run: RunRecord): number {
  return run.config.derived.tokensPerStep ?? run.config.config.train.batchSize * run.config.config.model.seqLen;
}

/** Metric rows that carry a finite validation loss (eval steps), in step order. */
export function evalRows(run: RunRecord): (MetricRow & { valLoss: number })[] {
  return run.metrics.filter((m): m is MetricRow & { valLoss: number } => typeof m.valLoss === 'number' && Number.isFinite(m.valLoss));
}

/** Final validation loss of a finished, non-diverged run (undefined otherwise). */
export function runFinalLoss(run: RunRecord): number | undefined {
  if (run.summary?.status !== 'done') return undefined;
  const v = run.summary.finalValLoss;
  return Number.isFinite(v) ? v : undefined;
}

/** Distinct budgets of the runs, ascending. */
export function budgetsOf(runs: RunRecord[]): number[] {
  return [...new Set(runs.map(runBudget).filter((b): b is number => b !== undefined))].sort((a, b) => a - b);
}
