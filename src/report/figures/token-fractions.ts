// MoE capacity diagnostics over training: the fraction of routed assignments dropped (beyond an
// expert's capacity, not recycled) and recycled (reassigned by recycle routing, docs/references.md#recycle-routing),
// per MoE run. Two panels sharing the x axis; colours by budget.
import type { FigureSpec, Trace } from '../figure.ts';
import { baseLayout } from '../figure.ts';
import type { RunRecord } from '../records.ts';
import { LOG_AXIS, legendFields, sortedWithGroups } from './shared.ts';

export function tokenFractionsFigure(runs: RunRecord[]): FigureSpec | undefined {
  const { runs: moe, groups } = sortedWithGroups(runs.filter((r) => r.config.config.model.numExperts > 0 && r.metrics.length > 0));
  if (moe.length === 0) return undefined;
  const data: Trace[] = [];
  const seen = new Set<string>();
  moe.forEach((run, i) => {
    const color = groups[i].color;
    const legend = legendFields(moe, groups, i, !seen.has(groups[i].key));
    seen.add(groups[i].key);
    const x = run.metrics.map((m) => m.tokens);
    const text = x.map(() => run.runId);
    data.push(
      {
        type: 'scatter',
        mode: 'lines',
        ...legend,
        x,
        y: run.metrics.map((m) => m.droppedTokenFraction),
        line: { color, width: 1.5 },
        text,
        hovertemplate: '%{text}<br>tokens %{x:.3s}<br>dropped %{y:.4f}<extra></extra>',
        xaxis: 'x',
        yaxis: 'y',
      },
      {
        type: 'scatter',
        mode: 'lines',
        ...legend,
        showlegend: false,
        x,
        y: run.metrics.map((m) => m.recycledTokenFraction),
        line: { color, width: 1.5 },
        text,
        hovertemplate: '%{text}<br>tokens %{x:.3s}<br>recycled %{y:.4f}<extra></extra>',
        xaxis: 'x',
        yaxis: 'y2',
      },
    );
  });
  // Unlimited capacity (capacityFactor "inf") drops and recycles nothing: say so on the plot.
  const anyNonZero = moe.some((r) => r.metrics.some((m) => m.droppedTokenFraction > 0 || m.recycledTokenFraction > 0));
  const factors = [...new Set(moe.map((r) => String(r.config.config.model.capacityFactor)))].map((f) => (f === 'Infinity' ? 'inf' : f));
  const layout = baseLayout('training tokens', 'dropped fraction', {
    xaxis: { ...LOG_AXIS, anchor: 'y2' },
    yaxis: { domain: [0.55, 1], rangemode: 'tozero', ...(anyNonZero ? {} : { range: [0, 0.05] }) },
    yaxis2: { domain: [0, 0.45], title: { text: 'recycled fraction' }, rangemode: 'tozero', showgrid: true, gridcolor: '#e5e5e5', ...(anyNonZero ? {} : { range: [0, 0.05] }) },
    annotations: anyNonZero
      ? []
      : [{ text: `no run dropped or recycled any token (capacity factor ${factors.join(', ')})`, xref: 'paper', yref: 'paper', x: 0.5, y: 0.5, showarrow: false, font: { size: 13, color: '#555' } }],
  });
  return {
    id: 'token-fractions',
    title: 'MoE diagnostics: dropped and recycled tokens',
    caption:
      'Fraction of routed assignments dropped (top) and recycled to another expert (bottom) at each logged step, per MoE run, coloured by budget.',
    data,
    layout,
  };
}
