// MoE routing balance: (left) the share of routed assignments each specialized expert received
// over training, for one representative run (the largest finished MoE run); (right) the imbalance
// max_e(usage_e) × E of every MoE run over training (1 = perfectly balanced, E = all tokens to
// one expert). expertUsage is logged layer-averaged and sums to 1 (src/io/results.ts MetricRow).
import type { FigureSpec, Trace } from '../figure.ts';
import { baseLayout } from '../figure.ts';
import { LOG_AXIS, legendFields, sortedWithGroups } from './shared.ts';
import type { RunRecord } from '../records.ts';
import { runState } from '../records.ts';

function usageRows(run: RunRecord) {
  return run.metrics.filter((m) => Array.isArray(m.expertUsage) && m.expertUsage.length > 0);
}

/** The run whose usage is drawn as a heatmap: the largest-compute finished run that logged usage. */
export function representativeMoeRun(runs: RunRecord[]): RunRecord | undefined {
  const moe = runs.filter((r) => usageRows(r).length > 0);
  const done = moe.filter((r) => runState(r) === 'done');
  const pool = done.length > 0 ? done : moe;
  return pool.reduce<RunRecord | undefined>((best, r) => (!best || r.config.derived.computeFlops > best.config.derived.computeFlops ? r : best), undefined);
}

/** max_e usage_e × E: 1 when balanced. */
export function usageImbalance(usage: number[]): number {
  const total = usage.reduce((s, u) => s + u, 0);
  return total > 0 ? (Math.max(...usage) / total) * usage.length : NaN;
}

export function expertUsageFigure(runs: RunRecord[]): FigureSpec | undefined {
  const rep = representativeMoeRun(runs);
  if (!rep) return undefined;
  const rows = usageRows(rep);
  const numExperts = Math.max(...rows.map((m) => m.expertUsage!.length));
  const data: Trace[] = [
    {
      type: 'heatmap',
      name: rep.runId,
      x: rows.map((m) => m.tokens),
      y: Array.from({ length: numExperts }, (_, e) => e),
      // z[expert][logged step]: share of assignments routed to the expert.
      z: Array.from({ length: numExperts }, (_, e) => rows.map((m) => m.expertUsage![e] ?? 0)),
      zmin: 0,
      zmax: Math.max(2 / numExperts, ...rows.flatMap((m) => m.expertUsage!)),
      colorscale: 'Viridis',
      colorbar: { title: { text: 'share' }, x: 0.39, xanchor: 'left', len: 0.9, thickness: 12 },
      hovertemplate: 'tokens %{x:.3s}<br>expert %{y}<br>share %{z:.3f}<extra></extra>',
      xaxis: 'x',
      yaxis: 'y',
    },
  ];
  const { runs: moe, groups } = sortedWithGroups(runs.filter((r) => usageRows(r).length > 0));
  const seen = new Set<string>();
  moe.forEach((run, i) => {
    const ur = usageRows(run);
    const legend = legendFields(moe, groups, i, !seen.has(groups[i].key));
    seen.add(groups[i].key);
    data.push({
      type: 'scatter',
      mode: 'lines',
      ...legend,
      x: ur.map((m) => m.tokens),
      y: ur.map((m) => usageImbalance(m.expertUsage!)),
      line: { color: groups[i].color, width: 1.5 },
      text: ur.map(() => run.runId),
      hovertemplate: '%{text}<br>tokens %{x:.3s}<br>max share × E %{y:.3f}<extra></extra>',
      xaxis: 'x2',
      yaxis: 'y2',
    });
  });
  const layout = baseLayout('training tokens', 'specialized expert', {
    xaxis: { domain: [0, 0.38], exponentformat: 'SI' },
    yaxis: { dtick: 1 },
    xaxis2: { ...LOG_AXIS, domain: [0.6, 1], title: { text: 'training tokens' }, showgrid: true, gridcolor: '#e5e5e5' },
    yaxis2: { anchor: 'x2', title: { text: 'max share × E (1 = balanced)' }, showgrid: true, gridcolor: '#e5e5e5', rangemode: 'tozero' },
    annotations: [
      { text: `expert usage of ${rep.runId}`, xref: 'paper', yref: 'paper', x: 0.19, y: 1.04, showarrow: false, xanchor: 'center', font: { size: 12 } },
      { text: 'imbalance, every MoE run', xref: 'paper', yref: 'paper', x: 0.8, y: 1.04, showarrow: false, xanchor: 'center', font: { size: 12 } },
    ],
    legend: { x: 1.02, font: { size: 10 } },
  });
  return {
    id: 'expert-usage',
    title: 'MoE diagnostics: expert usage',
    caption:
      'Left: share of routed assignments per specialized expert over training (layer-averaged) for the largest finished MoE run. Right: max share × number of experts for every MoE run (1 = perfectly balanced), coloured by budget.',
    data,
    layout,
  };
}
