// Learning-rate schedules as trained: the logged LR of the base group (solid) and of the
// specialized experts (dashed, only where it differs) against the fraction of the run. Runs that
// share schedule, peak LR and expert-LR rule draw the same curve, so one of each is shown.
import type { FigureSpec, Trace } from '../figure.ts';
import { baseLayout, categoryColor } from '../figure.ts';
import type { RunRecord } from '../records.ts';
import { runScheduleLabel } from '../records.ts';

/** Runs whose LR curves differ (same schedule config, LR and expert-LR rule → same curve). */
export function distinctScheduleRuns(runs: RunRecord[]): RunRecord[] {
  const seen = new Set<string>();
  const out: RunRecord[] = [];
  for (const run of runs) {
    if (run.metrics.length === 0) continue;
    const t = run.config.config.train;
    const key = JSON.stringify([t.schedule, t.lr, t.expertLr]);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(run);
  }
  return out;
}

export function lrCurvesFigure(runs: RunRecord[]): FigureSpec {
  const data: Trace[] = [];
  const shown = distinctScheduleRuns(runs);
  const peaks = shown.map((r) => r.config.config.train.lr);
  // A grid of peak LRs spanning decades is only readable on a log axis.
  const logY = peaks.length > 0 && Math.max(...peaks) / Math.min(...peaks) > 10;
  shown.forEach((run, i) => {
    const steps = run.config.derived.steps || Math.max(1, run.metrics.at(-1)?.step ?? 1);
    const x = run.metrics.map((m) => m.step / steps);
    const color = categoryColor(i);
    const label = `${runScheduleLabel(run)} · peak ${run.config.config.train.lr}`;
    data.push({
      type: 'scatter',
      mode: 'lines',
      name: label,
      legendgroup: run.runId,
      x,
      y: run.metrics.map((m) => m.learningRate),
      line: { color, width: 2 },
      text: x.map(() => `${run.runId} (base LR)`),
      hovertemplate: '%{text}<br>fraction %{x:.3f}<br>LR %{y:.3e}<extra></extra>',
    });
    if (run.metrics.some((m) => Math.abs(m.expertLearningRate - m.learningRate) > 1e-12 * Math.abs(m.learningRate))) {
      data.push({
        type: 'scatter',
        mode: 'lines',
        name: `${label} · specialized experts`,
        legendgroup: run.runId,
        x,
        y: run.metrics.map((m) => m.expertLearningRate),
        line: { color, width: 2, dash: 'dash' },
        text: x.map(() => `${run.runId} (expert LR)`),
        hovertemplate: '%{text}<br>fraction %{x:.3f}<br>LR %{y:.3e}<extra></extra>',
      });
    }
  });
  return {
    id: 'lr-curves',
    title: 'Learning-rate schedules',
    caption:
      'Logged learning rate against the fraction of training, one curve per distinct (schedule, peak LR, expert-LR rule). Dashed: the specialized experts’ LR where expert-specific scaling is on (docs/references.md#expert-lr).',
    data,
    layout: baseLayout('fraction of training', 'learning rate', logY ? { yaxis: { type: 'log', exponentformat: 'power' } } : {}),
  };
}
