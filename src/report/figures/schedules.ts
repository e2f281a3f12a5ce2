// Schedule comparison (docs/references.md#tissue): the loss curve of each LR schedule trained at the same
// budget, with a schedule-aware loss law (Multi-Power or Tissue et al.) fitted on some schedules
// (solid) and predicting the held-out ones (dashed). Without a fit record, only the logged curves.
import type { ScheduleFit } from '../../fit/schedule-laws.ts';
import type { FigureSpec, Trace } from '../figure.ts';
import { baseLayout, categoryColor } from '../figure.ts';
import type { RunRecord } from '../records.ts';
import { runScheduleLabel } from '../records.ts';

/** The curve a schedule law is fitted to: training loss at every logged step (`step` ≥ 1). */
export function scheduleCurveRows(run: RunRecord) {
  return run.metrics.filter((m) => m.step >= 1 && Number.isFinite(m.trainLoss) && m.trainLoss > 0);
}

export function scheduleFigure(runs: RunRecord[], fit?: Pick<ScheduleFit, 'curves' | 'law' | 'params'>): FigureSpec {
  const data: Trace[] = [];
  runs.forEach((run, i) => {
    const color = categoryColor(i);
    const rows = scheduleCurveRows(run);
    const label = runScheduleLabel(run);
    const fitted = fit?.curves.find((c) => c.name === run.runId);
    const role = fitted ? (fitted.role === 'fit' ? 'fitted on' : 'held out') : undefined;
    data.push({
      type: 'scatter',
      mode: 'markers',
      name: `${label}${role ? ` (${role})` : ''}`,
      legendgroup: run.runId,
      x: rows.map((m) => m.step),
      y: rows.map((m) => m.trainLoss),
      marker: { color, size: 4, opacity: 0.55 },
      text: rows.map(() => run.runId),
      hovertemplate: '%{text}<br>step %{x}<br>train loss %{y:.4f}<extra></extra>',
    });
    if (fitted) {
      data.push({
        type: 'scatter',
        mode: 'lines',
        name: `${label}: ${fitted.role === 'fit' ? 'fit' : 'prediction'} (mean |error| ${(100 * fitted.meanAbsRelError).toFixed(2)}%)`,
        legendgroup: run.runId,
        x: fitted.steps,
        y: fitted.predicted,
        line: { color, width: 2.5, dash: fitted.role === 'fit' ? 'solid' : 'dash' },
        text: fitted.steps.map(() => `${run.runId} ${fitted.role === 'fit' ? 'fit' : 'prediction'}`),
        hovertemplate: '%{text}<br>step %{x}<br>law %{y:.4f}<extra></extra>',
      });
    }
  });
  const allLoss = runs.flatMap((r) => scheduleCurveRows(r).map((m) => m.trainLoss)).sort((a, b) => a - b);
  // Early steps sit far above the rest: the y axis spans the lowest loss to the 95th percentile.
  const lo = allLoss[0];
  const hi = allLoss[Math.floor(0.95 * (allLoss.length - 1))];
  const lawName = fit ? (fit.law === 'multipower' ? 'Multi-Power Law (Luo et al. 2025)' : 'Tissue et al. 2024 LR-annealing law') : '';
  return {
    id: 'schedule-loss',
    title: 'Schedule comparison: loss curves, fitted and predicted',
    caption: fit
      ? `Training loss of each schedule (dots) and the ${lawName} fitted on the schedules marked “fitted on” (solid), predicting the held-out schedule from its learning rates alone (dashed).`
      : 'Training loss of each schedule at the same budget.',
    data,
    layout: baseLayout('step', 'training loss (nats/token)', {
      yaxis: allLoss.length ? { range: [lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo)] } : {},
    }),
  };
}
