// Compute-optimal power laws across budgets (Chinchilla Approach 2, second stage): the per-budget
// optima of the isoFLOP fit with their bootstrap intervals, the fitted law y = k·C^e, its bootstrap
// band, and its extrapolation to a target budget, beside reference lines:
//   Chinchilla's 20 tokens per parameter under C = 6ND:  N = sqrt(C/120),  D = 20·N
//   the paper's fitted laws (docs/references.md#power-laws, UNCONFIRMED, low reliability: one secondary source):
//     N_opt = 5.9e-3 · C^0.5305,  D_opt = 3.2 · C^0.50
import type { IsoflopFit } from '../../fit/isoflop.ts';
import { fmt } from '../../fit/points.ts';
import type { FigureSpec, Trace } from '../figure.ts';
import { PAPER_COLOR, REFERENCE_COLOR, baseLayout, categoryColor, formatNumber, logspace, withAlpha } from '../figure.ts';
import { LOG_AXIS, degenerateReason } from './shared.ts';

export type OptimumQuantity = 'N_opt' | 'D_opt' | 'L_min';

export const TOKENS_PER_PARAM_CHINCHILLA = 20;

/** Reference laws per quantity: label (saying UNCONFIRMED where it is), y(C), line style. */
export interface ReferenceLaw {
  name: string;
  at: (c: number) => number;
  color: string;
  dash: 'dot' | 'dashdot';
}

export function referenceLaws(q: OptimumQuantity): ReferenceLaw[] {
  const chinchillaN = (c: number) => Math.sqrt(c / (6 * TOKENS_PER_PARAM_CHINCHILLA));
  switch (q) {
    case 'N_opt':
      return [
        { name: 'Chinchilla 20 tokens/param (C = 6ND)', at: chinchillaN, color: REFERENCE_COLOR, dash: 'dot' },
        { name: 'paper: 5.9e-3·C^0.5305 (UNCONFIRMED, low reliability)', at: (c) => 5.9e-3 * c ** 0.5305, color: PAPER_COLOR, dash: 'dashdot' },
      ];
    case 'D_opt':
      return [
        { name: 'Chinchilla 20 tokens/param (C = 6ND)', at: (c) => TOKENS_PER_PARAM_CHINCHILLA * chinchillaN(c), color: REFERENCE_COLOR, dash: 'dot' },
        { name: 'paper: 3.2·C^0.50 (UNCONFIRMED, low reliability)', at: (c) => 3.2 * c ** 0.5, color: PAPER_COLOR, dash: 'dashdot' },
      ];
    case 'L_min':
      return [];
  }
}

const AXIS_TITLE: Record<OptimumQuantity, string> = {
  N_opt: 'optimal activated parameters N_opt',
  D_opt: 'optimal training tokens D_opt',
  L_min: 'minimum loss L_min (nats/token)',
};

const FIGURE_ID: Record<OptimumQuantity, string> = { N_opt: 'scaling-n-opt', D_opt: 'scaling-d-opt', L_min: 'scaling-l-min' };

/** Band of the law from the fit's derived `<q>@<C>` intervals, at the fit's target budgets. */
export function lawBand(fit: Pick<IsoflopFit, 'derived' | 'options'>, q: OptimumQuantity): { c: number[]; lo: number[]; hi: number[] } {
  const targets = ((fit.options.targetFlops as number[] | undefined) ?? []).slice().sort((a, b) => a - b);
  const band = { c: [] as number[], lo: [] as number[], hi: [] as number[] };
  for (const c of targets) {
    const ci = fit.derived[`${q}@${fmt(c)}`]?.ci95;
    if (!ci) continue;
    band.c.push(c);
    band.lo.push(ci[0]);
    band.hi.push(ci[1]);
  }
  return band;
}

export function powerLawFigure(fit: Pick<IsoflopFit, 'budgets' | 'powerLaws' | 'derived' | 'options'>, q: OptimumQuantity, targetFlops?: number): FigureSpec {
  const law = fit.powerLaws[q];
  const k = law.k.value;
  const e = law.exponent.value;
  const y = (c: number) => k * c ** e;
  const budgets = fit.budgets.map((b) => b.budget);
  const cMin = Math.min(...budgets);
  const cMax = Math.max(...budgets);
  const cEnd = Math.max(cMax, targetFlops ?? cMax) * 1.5;
  const color = categoryColor(0);
  const data: Trace[] = [];

  const band = lawBand(fit, q);
  if (band.c.length >= 2) {
    data.push(
      { type: 'scatter', mode: 'lines', x: band.c, y: band.lo, line: { width: 0, color }, showlegend: false, hoverinfo: 'skip', name: 'band low' },
      {
        type: 'scatter',
        mode: 'lines',
        name: 'bootstrap 95% band',
        x: band.c,
        y: band.hi,
        fill: 'tonexty',
        fillcolor: withAlpha(color, 0.18),
        line: { width: 0, color },
        hoverinfo: 'skip',
      },
    );
  }
  const inside = logspace(cMin / 1.5, cMax, 40);
  const beyond = logspace(cMax, cEnd, 40);
  const degenerate = degenerateReason(law.exponent) ?? degenerateReason(law.k);
  if (degenerate) {
    // Not a result: drawn grey and dotted over the data range only, named as failed, no extrapolation.
    data.push({
      type: 'scatter',
      mode: 'lines',
      name: `fit FAILED (degenerate: ${degenerate}); not a result`,
      x: inside,
      y: inside.map(y),
      line: { color: REFERENCE_COLOR, width: 1.5, dash: 'dot' },
      hovertemplate: `degenerate fit<br>C %{x:.3s}<br>${q} %{y:.4s}<extra></extra>`,
    });
  }
  const lawName = `fit: ${formatNumber(k, 3)}·C^${e.toFixed(4)}${law.exponent.ci95 ? ` (exponent 95% CI ${law.exponent.ci95[0].toFixed(3)}–${law.exponent.ci95[1].toFixed(3)})` : ''}`;
  if (!degenerate) {
    data.push(
      { type: 'scatter', mode: 'lines', name: lawName, legendgroup: 'fit', x: inside, y: inside.map(y), line: { color, width: 2.5 }, hovertemplate: `fit<br>C %{x:.3s}<br>${q} %{y:.4s}<extra></extra>` },
      {
        type: 'scatter',
        mode: 'lines',
        name: 'extrapolation',
        legendgroup: 'fit',
        x: beyond,
        y: beyond.map(y),
        line: { color, width: 2.5, dash: 'dash' },
        hovertemplate: `extrapolation<br>C %{x:.3s}<br>${q} %{y:.4s}<extra></extra>`,
      },
    );
  }
  const pts = fit.budgets.map((b) => b[q]);
  data.push({
    type: 'scatter',
    mode: 'markers',
    name: 'per-budget optimum (isoFLOP parabola)',
    x: budgets,
    y: pts.map((p) => p.value),
    marker: { color: '#000', size: 9, symbol: fit.budgets.map((b) => (b.heldOut ? 'circle-open' : 'circle')) },
    error_y: pts.every((p) => p.ci95)
      ? { type: 'data', symmetric: false, array: pts.map((p) => p.ci95![1] - p.value), arrayminus: pts.map((p) => p.value - p.ci95![0]), color: '#000', thickness: 1.2, width: 4 }
      : undefined,
    hovertemplate: `C %{x:.3s}<br>${q} %{y:.4s}<extra></extra>`,
  });
  if (targetFlops !== undefined && !degenerate) {
    const est = fit.derived[`${q}@${fmt(targetFlops)}`];
    const v = est?.value ?? y(targetFlops);
    const ci = est?.ci95 ?? null;
    data.push({
      type: 'scatter',
      mode: 'markers',
      name: `target C = ${formatNumber(targetFlops)}: ${formatNumber(v, 3)}${ci ? ` [${formatNumber(ci[0], 3)}, ${formatNumber(ci[1], 3)}]` : ''}`,
      x: [targetFlops],
      y: [v],
      marker: { color, size: 13, symbol: 'diamond', line: { width: 1, color: '#000' } },
      ...(ci ? { error_y: { type: 'data', symmetric: false, array: [ci[1] - v], arrayminus: [v - ci[0]], color, thickness: 1.5, width: 6 } } : {}),
      hovertemplate: `target<br>C %{x:.3s}<br>${q} %{y:.4s}<extra></extra>`,
    });
  }
  const refC = logspace(cMin / 1.5, cEnd, 40);
  for (const ref of referenceLaws(q)) {
    data.push({ type: 'scatter', mode: 'lines', name: ref.name, x: refC, y: refC.map(ref.at), line: { color: ref.color, width: 1.5, dash: ref.dash }, hovertemplate: `reference<br>C %{x:.3s}<br>%{y:.4s}<extra></extra>` });
  }
  const titles: Record<OptimumQuantity, string> = {
    N_opt: 'Compute-optimal model size N_opt(C)',
    D_opt: 'Compute-optimal training tokens D_opt(C)',
    L_min: 'Minimum loss L_min(C)',
  };
  return {
    id: FIGURE_ID[q],
    title: titles[q],
    caption:
      `Per-budget optima from the isoFLOP parabolas (bootstrap 95% intervals), the least-squares power law in log space, ${
        band.c.length >= 2 ? 'its bootstrap band' : 'no band (the fit record has no bootstrap predictions across budgets: `moelab fit isoflop --runs DIR --target-flops …` adds them, or delete the record and let the report fit)'
      }, and its extrapolation${targetFlops ? ` to C = ${formatNumber(targetFlops)} FLOPs` : ''} (dashed).` +
      (q === 'L_min' ? '' : ' Reference lines: Chinchilla’s 20 tokens per parameter, and the paper’s fitted law (docs/references.md#power-laws; UNCONFIRMED, from a single low-reliability secondary source, in the paper’s own compute units).'),
    data,
    layout: baseLayout('compute budget C (FLOPs)', AXIS_TITLE[q], { xaxis: LOG_AXIS, yaxis: q === 'L_min' ? { type: 'log' } : LOG_AXIS, legend: { x: 0.01, y: 0.99, bgcolor: 'rgba(255,255,255,0.8)', font: { size: 10 } } }),
  };
}
