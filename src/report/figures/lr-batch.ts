// The LR × batch grid (Li et al. 2024 "Surge"; METHODS.md §4.2; PAPER.md §3): final loss of every
// (batch tokens, peak LR) run as a heatmap, diverged runs crossed out, the best LR per batch (vertex
// of a parabola in ln lr) with its bootstrap interval, the fitted surge curve
//   ε_opt(B) = 2·ε_max / (sqrt(B_noise/B) + sqrt(B/B_noise)),
// B_noise marked, and the derived expert-specific LR (PAPER.md §3.2): specialized experts of a
// top-k-of-E MoE see B·k/E tokens, so their LR is ε_opt(B·k/E).
import type { SurgeFit } from '../../fit/surge.ts';
import type { FigureSpec, Trace } from '../figure.ts';
import { PAPER_COLOR, baseLayout, formatNumber } from '../figure.ts';
import { LOG_AXIS } from './shared.ts';

export interface GridCell {
  batchTokens: number;
  lr: number;
  /** Final validation loss; undefined for diverged or unfinished runs. */
  loss?: number;
  diverged: boolean;
  label: string;
}

export function lrBatchFigure(cells: GridCell[], fit?: Pick<SurgeFit, 'perBatch' | 'curve' | 'params' | 'derived' | 'options'>): FigureSpec {
  const batches = [...new Set(cells.map((c) => c.batchTokens))].sort((a, b) => a - b);
  const lrs = [...new Set(cells.map((c) => c.lr))].sort((a, b) => a - b);
  const cell = (b: number, lr: number) => cells.find((c) => c.batchTokens === b && c.lr === lr);
  // z[lr index][batch index]: the final loss, null where the run diverged or has not finished.
  const z = lrs.map((lr) => batches.map((b) => cell(b, lr)?.loss ?? null));
  const text = lrs.map((lr) => batches.map((b) => cell(b, lr)?.label ?? 'no run'));
  const finite = cells.map((c) => c.loss).filter((v): v is number => v !== undefined);
  const data: Trace[] = [
    {
      type: 'heatmap',
      name: 'final loss',
      x: batches,
      y: lrs,
      z,
      text,
      colorscale: 'Viridis',
      reversescale: true,
      zmin: Math.min(...finite),
      zmax: Math.min(Math.max(...finite), Math.min(...finite) + 3 * (median(finite) - Math.min(...finite)) + 1e-9),
      colorbar: { title: { text: 'final loss' }, thickness: 12, x: 1.02 },
      hovertemplate: '%{text}<br>batch %{x:.3s} tokens<br>lr %{y:.2e}<br>loss %{z:.4f}<extra></extra>',
      hoverongaps: false,
    },
  ];
  const diverged = cells.filter((c) => c.diverged);
  if (diverged.length > 0) {
    data.push({
      type: 'scatter',
      mode: 'markers',
      name: 'diverged',
      x: diverged.map((c) => c.batchTokens),
      y: diverged.map((c) => c.lr),
      marker: { symbol: 'x', size: 11, color: '#c0392b' },
      text: diverged.map((c) => c.label),
      hovertemplate: '%{text}<br>diverged<extra></extra>',
    });
  }
  const annotations: NonNullable<FigureSpec['layout']['annotations']> = [];
  const shapes: NonNullable<FigureSpec['layout']['shapes']> = [];
  if (fit) {
    const best = fit.perBatch;
    data.push(
      {
        type: 'scatter',
        mode: 'markers',
        name: 'best LR per batch (parabola in ln lr)',
        x: best.map((b) => b.batchTokens),
        y: best.map((b) => b.bestLr.value),
        marker: { color: '#fff', size: 10, symbol: best.map((b) => (b.heldOut ? 'circle-open' : 'circle')), line: { color: '#000', width: 1.5 } },
        error_y: best.every((b) => b.bestLr.ci95)
          ? { type: 'data', symmetric: false, array: best.map((b) => b.bestLr.ci95![1] - b.bestLr.value), arrayminus: best.map((b) => b.bestLr.value - b.bestLr.ci95![0]), color: '#000', thickness: 1.2, width: 4 }
          : undefined,
        hovertemplate: 'best lr %{y:.3e}<br>batch %{x:.3s}<extra></extra>',
      },
      {
        type: 'scatter',
        mode: 'lines',
        name: `surge fit: ε_max ${formatNumber(fit.params.epsMax.value, 3)}, B_noise ${formatNumber(fit.params.Bnoise.value, 3)} tokens`,
        x: fit.curve.map((p) => p.batchTokens),
        y: fit.curve.map((p) => p.lr),
        line: { color: '#000', width: 2.5 },
        hovertemplate: 'ε_opt(B)<br>batch %{x:.3s}<br>lr %{y:.3e}<extra></extra>',
      },
    );
    const bNoise = fit.params.Bnoise.value;
    shapes.push({ type: 'line', xref: 'x', yref: 'paper', x0: bNoise, x1: bNoise, y0: 0, y1: 1, line: { color: PAPER_COLOR, width: 1.5, dash: 'dash' } });
    annotations.push({ xref: 'x', yref: 'paper', x: Math.log10(bNoise), y: 1.02, text: `B_noise = ${formatNumber(bNoise, 3)}`, showarrow: false, font: { color: PAPER_COLOR, size: 11 } });
    const ratio = fit.derived.expertLrRatio;
    const q = fit.options.expertLr as { numExperts: number; topK: number; batchTokens: number } | null | undefined;
    if (ratio && q && fit.derived.lrShared && fit.derived.lrSpecialized) {
      const bSpec = (q.batchTokens * q.topK) / q.numExperts;
      data.push({
        type: 'scatter',
        mode: 'lines+markers',
        name: `expert LR: ε_opt(B·k/E)/ε_opt(B) = ${ratio.value.toFixed(3)}${ratio.ci95 ? ` [${ratio.ci95[0].toFixed(3)}, ${ratio.ci95[1].toFixed(3)}]` : ''} (E=${q.numExperts}, k=${q.topK}, B=${formatNumber(q.batchTokens)})`,
        x: [q.batchTokens, bSpec],
        y: [fit.derived.lrShared.value, fit.derived.lrSpecialized.value],
        line: { color: '#f28e2b', width: 2, dash: 'dot' },
        marker: { color: '#f28e2b', size: 11, symbol: ['square', 'triangle-down'] },
        text: ['shared LR ε_opt(B)', 'specialized-expert LR ε_opt(B·k/E)'],
        hovertemplate: '%{text}<br>batch %{x:.3s}<br>lr %{y:.3e}<extra></extra>',
      });
    }
  }
  return {
    id: 'lr-batch',
    title: 'LR × batch grid with the surge fit',
    caption:
      'Final validation loss of every (batch, peak LR) run (brighter is lower; the colour scale is capped to show the region near the optimum; blank with a red × = diverged). White circles: best LR per batch with bootstrap 95% intervals; black line: the fitted surge curve ε_opt(B); dashed red line: B_noise, where ε_opt peaks. Orange: the expert-specific LR rule of PAPER.md §3.2 evaluated at the best run’s batch.',
    data,
    layout: baseLayout('batch size (tokens per step)', 'peak learning rate', {
      xaxis: LOG_AXIS,
      yaxis: LOG_AXIS,
      shapes,
      annotations,
      legend: { orientation: 'h', x: 0, y: -0.18, font: { size: 10 } },
      margin: { l: 70, r: 20, t: 30, b: 120 },
    }),
  };
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
