// The parametric loss L̂(N, D) = E + A/N^α + B/D^β (Chinchilla Approach 3; docs/references.md#chinchilla-approach-3) as
// filled contours over (N, D), the compute-optimal frontier argmin_{N, D : C(N, D) = C} L̂ for a
// range of budgets, the iso-compute lines of the sweep's budgets, and the runs it was fitted on.
import type { ComputeFormula } from '../../fit/compute-formula.ts';
import type { ChinchillaParams, ParametricFit } from '../../fit/parametric.ts';
import { chinchillaLoss, chinchillaOptimal } from '../../fit/parametric.ts';
import type { FigureSpec, Trace } from '../figure.ts';
import { ENVELOPE_COLOR, REFERENCE_COLOR, baseLayout, formatNumber, logspace } from '../figure.ts';
import { LOG_AXIS } from './shared.ts';

export interface ParametricDataPoint {
  N: number;
  D: number;
  loss: number;
  label?: string;
  budget?: number;
}

export function parametricParams(fit: Pick<ParametricFit, 'params'>): ChinchillaParams {
  const v = (k: string) => fit.params[k].value;
  return { E: v('E'), A: v('A'), B: v('B'), alpha: v('alpha'), beta: v('beta') };
}

export function parametricFormula(fit: Pick<ParametricFit, 'options'>): ComputeFormula {
  const f = fit.options.computeFormula as ComputeFormula | undefined;
  return f && typeof f.a === 'number' && typeof f.b === 'number' ? f : { name: '6ND', a: 6, b: 0 };
}

export function parametricFigure(fit: Pick<ParametricFit, 'params' | 'options'>, points: ParametricDataPoint[], targetFlops?: number): FigureSpec {
  const p = parametricParams(fit);
  const formula = parametricFormula(fit);
  const ns = points.map((x) => x.N);
  const ds = points.map((x) => x.D);
  const cs = points.map((x) => formula.a * x.N * x.D + formula.b * x.D);
  const cLo = Math.min(...cs) / 3;
  const cHi = Math.max(Math.max(...cs) * 3, targetFlops ?? 0);
  const frontier = logspace(cLo, cHi, 40).map((c) => chinchillaOptimal(p, c, formula));
  const nLo = Math.min(...ns, ...frontier.map((f) => f.N)) / 2;
  const nHi = Math.max(...ns, ...frontier.map((f) => f.N)) * 2;
  const dLo = Math.min(...ds, ...frontier.map((f) => f.D)) / 2;
  const dHi = Math.max(...ds, ...frontier.map((f) => f.D)) * 2;
  const gridN = logspace(nLo, nHi, 70);
  const gridD = logspace(dLo, dHi, 70);
  // z[row = D index][column = N index], as Plotly's contour expects.
  const z = gridD.map((d) => gridN.map((n) => chinchillaLoss(p, n, d)));
  const lMin = Math.min(...z.flat());
  const lCap = Math.min(Math.max(...points.map((x) => x.loss)) * 1.15, Math.max(...z.flat()));

  const data: Trace[] = [
    {
      type: 'contour',
      name: 'L̂(N, D)',
      x: gridN,
      y: gridD,
      z,
      zmin: lMin,
      zmax: lCap,
      colorscale: 'Viridis',
      reversescale: true,
      contours: { coloring: 'heatmap', showlabels: true, labelfont: { size: 9, color: '#fff' } },
      ncontours: 14,
      line: { width: 0.5, color: 'rgba(255,255,255,0.6)' },
      colorbar: { title: { text: 'L̂' }, thickness: 12 },
      hovertemplate: 'N %{x:.3s}<br>D %{y:.3s}<br>L̂ %{z:.4f}<extra></extra>',
      showscale: true,
    },
  ];
  const budgets = [...new Set(points.map((x) => x.budget).filter((b): b is number => b !== undefined))].sort((a, b) => a - b);
  budgets.forEach((c, i) => {
    // D = C / (a·N + b): the runs one budget allows.
    const n = gridN.filter((v) => c / (formula.a * v + formula.b) >= dLo && c / (formula.a * v + formula.b) <= dHi);
    data.push({
      type: 'scatter',
      mode: 'lines',
      name: 'iso-compute lines of the budgets',
      legendgroup: 'iso',
      showlegend: i === 0,
      x: n,
      y: n.map((v) => c / (formula.a * v + formula.b)),
      line: { color: REFERENCE_COLOR, width: 1, dash: 'dot' },
      text: n.map(() => `C = ${formatNumber(c)} FLOPs`),
      hovertemplate: '%{text}<extra></extra>',
    });
  });
  data.push(
    {
      type: 'scatter',
      mode: 'lines',
      name: `compute-optimal frontier (C = ${formatNumber(formula.a, 3)}·N·D + ${formatNumber(formula.b, 3)}·D)`,
      x: frontier.map((f) => f.N),
      y: frontier.map((f) => f.D),
      line: { color: ENVELOPE_COLOR, width: 2.5 },
      text: frontier.map((f) => `C ${formatNumber(f.C)} · D/N ${f.tokensPerParam.toFixed(1)} · L̂ ${f.loss.toFixed(4)}`),
      hovertemplate: 'N_opt %{x:.3s}<br>D_opt %{y:.3s}<br>%{text}<extra></extra>',
    },
    {
      type: 'scatter',
      mode: 'markers',
      name: 'runs',
      x: ns,
      y: ds,
      marker: { color: '#fff', size: 8, line: { color: '#000', width: 1.5 } },
      text: points.map((x, i) => `${x.label ?? `run ${i + 1}`} · loss ${x.loss.toFixed(4)} · L̂ ${chinchillaLoss(p, x.N, x.D).toFixed(4)}`),
      hovertemplate: '%{text}<br>N %{x:.3s}<br>D %{y:.3s}<extra></extra>',
    },
  );
  if (targetFlops !== undefined) {
    const t = chinchillaOptimal(p, targetFlops, formula);
    data.push({
      type: 'scatter',
      mode: 'markers',
      name: `optimum at C = ${formatNumber(targetFlops)}: N ${formatNumber(t.N, 3)}, D ${formatNumber(t.D, 3)}`,
      x: [t.N],
      y: [t.D],
      marker: { color: '#e15759', size: 13, symbol: 'diamond', line: { color: '#000', width: 1 } },
      hovertemplate: 'target<br>N %{x:.3s}<br>D %{y:.3s}<extra></extra>',
    });
  }
  return {
    id: 'parametric',
    title: 'Parametric fit L̂(N, D) = E + A/N^α + B/D^β',
    caption: `Contours of the fitted loss (E = ${p.E.toFixed(3)}, A = ${formatNumber(p.A, 3)}, α = ${p.alpha.toFixed(3)}, B = ${formatNumber(p.B, 3)}, β = ${p.beta.toFixed(3)}), the compute-optimal frontier under the compute formula, dotted iso-compute lines of the budgets, and the runs (white). Brighter is lower loss.`,
    data,
    layout: baseLayout('activated parameters N', 'training tokens D', {
      xaxis: LOG_AXIS,
      yaxis: LOG_AXIS,
      legend: { orientation: 'h', x: 0, y: -0.2, font: { size: 10 } },
      margin: { l: 70, r: 20, t: 30, b: 110 },
    }),
  };
}
