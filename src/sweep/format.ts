// Text tables for `moelab plan` and `moelab status` (pure: data in, lines out).
import { formatDuration } from '../train/progress.ts';
import { formatCount, formatSci } from './run-id.ts';
import type { PlanProblem, RunPlan } from './plan.ts';
import type { SweepProgress } from './runner.ts';
import type { SweepStatus } from './state.ts';

export { formatDuration };

function table(header: string[], rows: string[][], rightAligned: Set<number>): string[] {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) =>
    cells.map((cell, c) => (rightAligned.has(c) ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

const sci = (x: number) => (x > 0 ? formatSci(x) : '0');

export function formatPlan(plan: RunPlan): string[] {
  const header = ['#', 'run id', 'N total', 'N act', 'FLOPs/tok', 'tokens', 'tok/N', 'steps', 'batch', 'LR', 'schedule', 'C (FLOPs)', 'est'];
  const rows = plan.runs.map((r) => [
    String(r.index),
    r.runId,
    formatCount(r.derived.totalParams),
    formatCount(r.derived.activatedParams),
    sci(r.derived.flopsPerToken),
    formatCount(r.derived.tokens),
    r.tokensPerParam.toFixed(1),
    String(r.derived.steps),
    `${r.batchSize}×${r.batchTokens / r.batchSize}`,
    sci(r.lr),
    r.schedule,
    sci(r.derived.computeFlops),
    r.estSeconds === null ? '-' : formatDuration(r.estSeconds),
  ]);
  const lines = [
    `sweep ${JSON.stringify(plan.sweep)} (${plan.kind}${plan.description ? `: ${plan.description}` : ''})`,
    `compute formula ${plan.computeFormula} on ${plan.computeParams} parameters; C column = exact FLOPs of the trained tokens`,
    '',
    ...table(header, rows, new Set([0, 2, 3, 4, 5, 6, 7, 11, 12])),
    '',
    `total: ${plan.totals.runs} runs, ${formatCount(plan.totals.tokens)} tokens, ${sci(plan.totals.computeFlops)} FLOPs` +
      (plan.totals.estSeconds !== null && plan.estimate
        ? `, ≈ ${formatDuration(plan.totals.estSeconds)} of training on ${plan.estimate.backend} (one worker; divide by --workers)`
        : ', time not estimated (no probe)'),
  ];
  if (plan.skipped.length > 0) {
    lines.push(`left out on purpose: ${plan.skipped.length}`);
    for (const s of plan.skipped) lines.push(`  - ${s.label}: ${s.reason}`);
  }
  return lines;
}

export function formatProblems(problems: PlanProblem[]): string[] {
  return problems.map(
    (p) =>
      `${p.level === 'error' ? 'error' : 'warning'}: ${p.runId ? `${p.runId}: ` : ''}${p.field}: ${p.message}` +
      `${p.where && !p.runId ? ` (${p.where})` : ''}. ${p.fix}`,
  );
}

export function formatStatus(status: SweepStatus): string[] {
  const header = ['#', 'run id', 'state', 'step', 'loss', 'val', 'detail'];
  const rows = status.rows.map((r) => [
    String(r.index),
    r.runId,
    r.state,
    r.step === null ? '-' : `${r.step}/${r.steps}`,
    r.trainLoss === null || !Number.isFinite(r.trainLoss) ? '-' : r.trainLoss.toFixed(3),
    r.finalValLoss === null || !Number.isFinite(r.finalValLoss) ? '-' : r.finalValLoss.toFixed(3),
    r.detail,
  ]);
  const c = status.counts;
  return [
    ...table(header, rows, new Set([0, 3, 4, 5])),
    '',
    `${status.plan.runs.length} runs: ${c.done} done, ${c.running} running, ${c.failed} failed, ${c.diverged} diverged, ${c.pending} pending${c.corrupt ? `, ${c.corrupt} corrupt` : ''}`,
  ];
}

/** The sweep's overall line: `runs 7/20 (1 failed) [######..........] 41% 3m10s ETA 4m02s`. */
export function formatOverall(p: SweepProgress, width = 16): string {
  const filled = Math.round(p.fraction * width);
  return (
    `runs ${p.finished}/${p.total}${p.failed ? ` (${p.failed} failed)` : ''} ` +
    `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${Math.floor(p.fraction * 100)}% ` +
    `${formatDuration(p.elapsedSeconds)} ETA ${p.etaSeconds === null ? '?' : formatDuration(p.etaSeconds)}`
  );
}

/** The live run's line: `<runId> step 40/160 loss 3.210` (several workers: one per line, joined). */
export function formatActive(p: SweepProgress): string[] {
  return p.active.map(
    (a) =>
      `  ${a.run.runId}  ${a.step === null ? 'starting' : `step ${a.step}/${a.run.derived.steps}`}` +
      (a.trainLoss !== null && Number.isFinite(a.trainLoss) ? `  loss ${a.trainLoss.toFixed(3)}` : '') +
      (a.attempt > 1 ? `  (attempt ${a.attempt})` : ''),
  );
}
