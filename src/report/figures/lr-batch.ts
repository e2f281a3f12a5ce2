// The LR × batch grid (Li et al. 2024 "Surge"; docs/references.md#surge-estimation; docs/references.md#surge): final loss of every
// (batch tokens, peak LR) run as a heatmap, diverged runs crossed out, the best LR per batch with
// its bootstrap interval, the fitted surge curve
//   ε_opt(B) = 2·ε_max / (sqrt(B_noise/B) + sqrt(B/B_noise)),
// B_noise marked, and the derived expert-specific LR (docs/references.md#expert-lr): specialized experts of a
// top-k-of-E MoE see B·k/E tokens, so their LR is ε_opt(B·k/E).
// The best LR per batch is the vertex of a parabola in ln lr of the final loss (method final-loss)
// or of ln S, the steps to a target train loss (method steps-to-target); the second method gets a
// second figure, lrBatchStepsFigure: S against B per LR, S_min(B), and S_min·(1 + B_noise/B).
import { epsOpt } from '../../fit/forms.ts';
import type { Estimate } from '../../fit/record.ts';
import type { SurgeFit } from '../../fit/surge.ts';
import type { FigureSpec, Trace } from '../figure.ts';
import { PAPER_COLOR, REFERENCE_COLOR, baseLayout, formatNumber, orderedColor } from '../figure.ts';
import { LOG_AXIS } from './shared.ts';

export interface GridCell {
  batchTokens: number;
  lr: number;
  /** Final validation loss; undefined for diverged or unfinished runs. */
  loss?: number;
  diverged: boolean;
  label: string;
}

/** Which surge method a record used, in words (records written before `method` existed: final loss). */
export function surgeMethodText(fit: Partial<Pick<SurgeFit, 'method' | 'targetLoss'>>): string {
  return fit.method === 'steps-to-target' ? `steps to train loss ${fit.targetLoss}` : 'final loss';
}

type SurgeRecord = Pick<SurgeFit, 'perBatch' | 'curve' | 'params' | 'derived' | 'options'> & Partial<Pick<SurgeFit, 'method' | 'targetLoss'>>;

export function lrBatchFigure(cells: GridCell[], fit?: SurgeRecord): FigureSpec {
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
        name: fit.method === 'steps-to-target' ? `best LR per batch (fewest steps to loss ${fit.targetLoss}: parabola of ln S in ln lr)` : 'best LR per batch (parabola in ln lr)',
        x: best.map((b) => b.batchTokens),
        y: best.map((b) => b.bestLr.value),
        marker: { color: '#fff', size: 10, symbol: best.map((b) => (b.heldOut ? 'circle-open' : 'circle')), line: { color: '#000', width: 1.5 } },
        error_y: intervalBars(best.map((b) => b.bestLr)),
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
    const freeEps = fit.derived.freeEpsMax?.value;
    const freeBn = fit.derived.freeBnoise?.value;
    if (fit.method === 'steps-to-target' && freeEps !== undefined && freeBn !== undefined) {
      data.push({
        type: 'scatter',
        mode: 'lines',
        name: `free surge fit of the best LRs (diagnostic): ε_max ${formatNumber(freeEps, 3)}, B_noise ${formatNumber(freeBn, 3)}`,
        x: fit.curve.map((p) => p.batchTokens),
        y: fit.curve.map((p) => epsOpt(p.batchTokens, freeEps, freeBn)),
        line: { color: REFERENCE_COLOR, width: 1.5, dash: 'dot' },
        hovertemplate: 'free fit<br>batch %{x:.3s}<br>lr %{y:.3e}<extra></extra>',
      });
    }
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
    caption: `Final validation loss of every (batch, peak LR) run (brighter is lower; the colour scale is capped to show the region near the optimum; blank with a red × = diverged). ${
      fit?.method === 'steps-to-target'
        ? `Method steps-to-target (target train loss ${fit.targetLoss}): white circles are the LRs that reach it in the fewest steps per batch, with bootstrap 95% intervals; B_noise comes from S_min(B) = S_min·(1 + B_noise/B) (next figure) and ε_max from Li et al.’s average of best LR·½(√(B_noise/B) + √(B/B_noise)), which give the black surge curve ε_opt(B); grey dotted: the free 2-parameter surge fit of the white circles, for comparison.`
        : 'Method final-loss: white circles are the best LR per batch (vertex of a parabola of the final loss in ln lr) with bootstrap 95% intervals; black line: the fitted surge curve ε_opt(B).'
    } Dashed red line: B_noise, where ε_opt peaks. Orange: the expert-specific LR rule of docs/references.md#expert-lr at the query batch B (legend; by default the best run’s batch, in a study its confirmation batch).`,
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

/**
 * Steps to the target loss against batch size (method steps-to-target; Li et al. 2024 §3.2,
 * McCandlish et al. 2018): every run that reached the target (one colour per LR), each batch's
 * S_min(B) from the parabola of ln S in ln lr with its bootstrap interval, the fitted
 * S_min·(1 + B_noise/B), its two asymptotes S_min (B → ∞) and E_min/B (B → 0), which cross at B_noise.
 */
export function lrBatchStepsFigure(fit: Pick<SurgeFit, 'perBatch' | 'params' | 'derived' | 'targetLoss' | 'stepsCurve'>): FigureSpec {
  const reached = fit.perBatch.flatMap((b) => b.points.filter((p) => p.steps !== undefined).map((p) => ({ ...p, batchTokens: b.batchTokens, steps: p.steps as number })));
  const missed = fit.perBatch.reduce((n, b) => n + b.points.filter((p) => p.steps === undefined).length, 0);
  const lrs = [...new Set(reached.map((p) => p.lr))].sort((a, b) => a - b);
  const data: Trace[] = [];
  const hover = '%{text}<br>batch %{x:.3s} tokens<br>%{y:.4s} steps<extra></extra>';
  if (lrs.length <= 12) {
    lrs.forEach((lr, i) => {
      const pts = reached.filter((p) => p.lr === lr);
      data.push({
        type: 'scatter',
        mode: 'markers',
        name: `lr ${formatNumber(lr, 3)}`,
        x: pts.map((p) => p.batchTokens),
        y: pts.map((p) => p.steps),
        text: pts.map((p) => `${p.label}<br>lr ${formatNumber(lr, 3)}`),
        marker: { color: orderedColor(i, lrs.length), size: 8, opacity: 0.85 },
        hovertemplate: hover,
      });
    });
  } else {
    // Too many distinct LRs for a legend (per-batch grids): one trace coloured by log10 lr.
    data.push({
      type: 'scatter',
      mode: 'markers',
      name: 'runs (colour: log10 lr)',
      x: reached.map((p) => p.batchTokens),
      y: reached.map((p) => p.steps),
      text: reached.map((p) => `${p.label}<br>lr ${formatNumber(p.lr, 3)}`),
      marker: { color: reached.map((p) => Math.log10(p.lr)), colorscale: 'Viridis', size: 8, opacity: 0.85, colorbar: { title: { text: 'log10 lr' }, thickness: 12 } },
      hovertemplate: hover,
    });
  }
  const best = fit.perBatch.filter((b) => b.stepsMin);
  const sMin = fit.params.Smin.value;
  const bNoise = fit.params.Bnoise.value;
  const curve = fit.stepsCurve ?? [];
  const xs = curve.map((p) => p.batchTokens);
  data.push(
    {
      type: 'scatter',
      mode: 'markers',
      name: 'S_min(B): fewest steps per batch (parabola of ln S in ln lr)',
      x: best.map((b) => b.batchTokens),
      y: best.map((b) => b.stepsMin!.value),
      marker: { color: '#fff', size: 11, symbol: best.map((b) => (b.heldOut ? 'circle-open' : 'circle')), line: { color: '#000', width: 1.5 } },
      error_y: intervalBars(best.map((b) => b.stepsMin!)),
      hovertemplate: 'S_min(B) %{y:.4s} steps<br>batch %{x:.3s}<extra></extra>',
    },
    {
      type: 'scatter',
      mode: 'lines',
      name: `fit S_min·(1 + B_noise/B): S_min ${formatNumber(sMin, 3)} steps, B_noise ${formatNumber(bNoise, 3)} tokens`,
      x: xs,
      y: curve.map((p) => p.steps),
      line: { color: '#000', width: 2.5 },
      hovertemplate: 'S(B)<br>batch %{x:.3s}<br>%{y:.4s} steps<extra></extra>',
    },
    {
      type: 'scatter',
      mode: 'lines',
      name: 'asymptotes S_min and E_min/B (cross at B_noise)',
      // Two segments separated by a gap (null): S = S_min, then S = E_min/B with E_min = S_min·B_noise.
      x: [...xs, null, ...xs],
      y: [...xs.map(() => sMin), null, ...xs.map((b) => (sMin * bNoise) / b)],
      line: { color: REFERENCE_COLOR, width: 1, dash: 'dot' },
      hoverinfo: 'skip',
    },
  );
  return {
    id: 'lr-batch-steps',
    title: `Steps to train loss ${fit.targetLoss} against batch size`,
    caption: `Steps S until the smoothed train loss first reaches ${fit.targetLoss}, for every run that reaches it (colour: peak LR${missed ? `; ${missed} run${missed === 1 ? '' : 's'} never reached it` : ''}). White circles: each batch’s S_min(B), the minimum over LR of a parabola of ln S in ln lr, with bootstrap 95% intervals (open: held out). Black line: the least-squares fit S_min·(1 + B_noise/B) — the S–E trade-off (S/S_min − 1)(E/E_min − 1) = 1 of McCandlish et al. 2018 used by Li et al. 2024 §3.2; dotted grey: its asymptotes S_min and E_min/B, which cross at B_noise (dashed red).`,
    data,
    layout: baseLayout('batch size (tokens per step)', `optimizer steps to train loss ${fit.targetLoss}`, {
      xaxis: LOG_AXIS,
      yaxis: LOG_AXIS,
      shapes: [{ type: 'line', xref: 'x', yref: 'paper', x0: bNoise, x1: bNoise, y0: 0, y1: 1, line: { color: PAPER_COLOR, width: 1.5, dash: 'dash' } }],
      annotations: [{ xref: 'x', yref: 'paper', x: Math.log10(bNoise), y: 1.02, text: `B_noise = ${formatNumber(bNoise, 3)}`, showarrow: false, font: { color: PAPER_COLOR, size: 11 } }],
      legend: { orientation: 'h', x: 0, y: -0.18, font: { size: 10 } },
      margin: { l: 70, r: 20, t: 30, b: 120 },
    }),
  };
}

/** Asymmetric error bars from bootstrap intervals; a point without one (e.g. no bootstrap) gets none. */
function intervalBars(est: readonly Estimate[]) {
  if (!est.some((e) => e.ci95)) return undefined;
  return {
    type: 'data' as const,
    symmetric: false,
    array: est.map((e) => (e.ci95 ? e.ci95[1] - e.value : 0)),
    arrayminus: est.map((e) => (e.ci95 ? e.value - e.ci95[0] : 0)),
    color: '#000',
    thickness: 1.2,
    width: 4,
  };
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
