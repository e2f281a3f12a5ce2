// isoFLOP profiles (Chinchilla Approach 2; docs/references.md#chinchilla-approach-2): final loss against activated
// parameters for each compute budget, the fitted parabola in ln N, and its minimum (N_opt, L_min)
// with the bootstrap interval of N_opt as a horizontal error bar. The held-out budget (fitted per
// slice, but left out of the power laws' held-out refit) is drawn with open markers.
import type { IsoflopPoint } from '../../fit/isoflop.ts';
import { fitParabola } from '../../fit/linear.ts';
import type { Estimate } from '../../fit/record.ts';
import type { FigureSpec, Trace } from '../figure.ts';
import { baseLayout, formatNumber, logspace, orderedColor } from '../figure.ts';
import { LOG_AXIS, budgetLabel } from './shared.ts';

/** Loss of a budget's parabola L = p0 + p1·ln N + p2·(ln N)² at N. */
export function parabolaLoss(p: { p0: number; p1: number; p2: number }, n: number): number {
  const u = Math.log(n);
  return p.p0 + p.p1 * u + p.p2 * u * u;
}

/**
 * One budget's slice as drawn: its runs, and (when fitted) its parabola and minimum. IsoflopFit's
 * budgets have this shape; isoflopSlices() builds it from runs when the fit was refused.
 */
export interface IsoflopSliceView {
  budget: number;
  points: { N: number; loss: number; label: string }[];
  parabola?: { p0: number; p1: number; p2: number };
  N_opt?: Estimate;
  L_min?: Estimate;
  heldOut?: boolean;
}

/**
 * Slices straight from isoFLOP points, for the figure when the isoFLOP fit refused the data: each
 * budget with ≥ 3 sizes gets its least-squares parabola in ln N, and a minimum only when the
 * parabola opens upward with its vertex inside the sampled sizes (what the fit requires).
 */
export function isoflopSlices(points: IsoflopPoint[]): IsoflopSliceView[] {
  const budgets = [...new Set(points.map((p) => p.budget))].sort((a, b) => a - b);
  return budgets.map((budget) => {
    const pts = points.filter((p) => p.budget === budget).map((p, i) => ({ N: p.N, loss: p.loss, label: p.label ?? `run ${i + 1}` }));
    const view: IsoflopSliceView = { budget, points: pts };
    if (new Set(pts.map((p) => p.N)).size >= 3) {
      const u = pts.map((p) => Math.log(p.N));
      const par = fitParabola(u, pts.map((p) => p.loss));
      view.parabola = { p0: par.p0, p1: par.p1, p2: par.p2 };
      if (par.p2 > 0 && par.vertexU >= Math.min(...u) && par.vertexU <= Math.max(...u)) {
        view.N_opt = { value: Math.exp(par.vertexU), ci95: null };
        view.L_min = { value: par.vertexY, ci95: null };
      }
    }
    return view;
  });
}

export function isoflopFigure(fit: { budgets: IsoflopSliceView[] }, caption?: string): FigureSpec {
  const data: Trace[] = [];
  const nb = fit.budgets.length;
  fit.budgets.forEach((b, i) => {
    const color = orderedColor(i, nb);
    const group = budgetLabel(b.budget);
    const ns = b.points.map((p) => p.N);
    const lo = Math.min(...ns, b.N_opt?.value ?? Infinity) / 1.25;
    const hi = Math.max(...ns, b.N_opt?.value ?? 0) * 1.25;
    const curveN = logspace(lo, hi, 60);
    data.push(
      {
        type: 'scatter',
        mode: 'markers',
        name: `${group}${b.heldOut ? ' (held out)' : ''}`,
        legendgroup: group,
        x: ns,
        y: b.points.map((p) => p.loss),
        marker: { color, size: 8, symbol: b.heldOut ? 'circle-open' : 'circle', line: { width: 1.5, color } },
        text: b.points.map((p) => p.label),
        hovertemplate: '%{text}<br>N %{x:.3s}<br>loss %{y:.4f}<extra></extra>',
      },
    );
    const parabola = b.parabola;
    if (parabola) {
      data.push({
        type: 'scatter',
        mode: 'lines',
        name: `parabola, ${group}`,
        legendgroup: group,
        showlegend: false,
        x: curveN,
        y: curveN.map((n) => parabolaLoss(parabola, n)),
        line: { color, width: 1.5, dash: b.N_opt ? 'solid' : 'dot' },
        hoverinfo: 'skip',
      });
    }
    if (!b.N_opt || !b.L_min) return;
    const ci = b.N_opt.ci95;
    data.push({
      type: 'scatter',
      mode: 'markers',
      name: `minimum, ${group}`,
      legendgroup: group,
      showlegend: false,
      x: [b.N_opt.value],
      y: [b.L_min.value],
      marker: { color, size: 14, symbol: 'star', line: { width: 1, color: '#000' } },
      ...(ci
        ? { error_x: { type: 'data', symmetric: false, array: [ci[1] - b.N_opt.value], arrayminus: [b.N_opt.value - ci[0]], color, thickness: 1.5, width: 4 } }
        : {}),
      text: [`N_opt ${formatNumber(b.N_opt.value, 3)}${ci ? ` [${formatNumber(ci[0], 3)}, ${formatNumber(ci[1], 3)}]` : ''} · L_min ${b.L_min.value.toFixed(4)}`],
      hovertemplate: `${group}<br>%{text}<extra></extra>`,
    });
  });
  return {
    id: 'isoflop',
    title: 'isoFLOP profiles with fitted parabolas',
    caption:
      caption ??
      'Final validation loss against activated parameters, one colour per compute budget; lines are least-squares parabolas in ln N, stars their minima (N_opt, L_min) with the bootstrap 95% interval of N_opt. Open markers: the budget held out of the power laws for the held-out check.',
    data,
    layout: baseLayout('activated parameters N', 'final validation loss (nats/token)', { xaxis: { ...LOG_AXIS, tickangle: 0, dtick: 'D2' } }),
  };
}
