// Loss curves of every run against training tokens (training and validation loss in two panels)
// and against training FLOPs (log–log), coloured
// by compute budget (viridis, smallest budget darkest) and, inside a budget, one shade per run by
// model size (lightest = smallest; src/report/figures/shared.ts runColors), with the lower envelope over all runs on
// the FLOPs plot (Chinchilla Approach 1: at each FLOP count, the lowest loss any run reached).
import type { FigureSpec, Trace } from '../figure.ts';
import { ENVELOPE_COLOR, baseLayout, formatNumber, logspace } from '../figure.ts';
import type { RunRecord } from '../records.ts';
import { evalRows, runBudget, runState } from '../records.ts';
import { LOG_AXIS, legendFields, runColors, sortedWithGroups } from './shared.ts';

export interface Curve {
  x: number[];
  y: number[];
}

/** Evaluations a run needs for its validation loss to be drawn as its curve. */
export const MIN_EVAL_POINTS = 3;

/**
 * The plotted curve of a run: validation loss at its evaluations when it has at least
 * MIN_EVAL_POINTS of them, else its (denser) logged training loss — a short run evaluated once or
 * twice would otherwise be a dot.
 */
export function runLossCurve(run: RunRecord, axis: 'tokens' | 'computeFlops'): Curve & { kind: 'val' | 'train' } {
  const evals = evalRows(run);
  if (evals.length >= MIN_EVAL_POINTS) return { x: evals.map((m) => m[axis]), y: evals.map((m) => m.valLoss), kind: 'val' };
  const rows = run.metrics.filter((m) => Number.isFinite(m.trainLoss));
  return { x: rows.map((m) => m[axis]), y: rows.map((m) => m.trainLoss), kind: 'train' };
}

/**
 * Lower envelope of curves on a log-spaced grid of `points` x values spanning all curves: at each
 * x, the minimum over curves whose x-range covers it of the curve's value, interpolated linearly in
 * (ln x, ln y); grid points no curve covers are left out. With `cumulative` (the default) it is
 * then the running minimum along x: the lowest loss reached with at most x FLOPs, which does not
 * jump up where the best run of a budget stops just short of the next grid point.
 */
export function lowerEnvelope(curves: Curve[], points = 80, cumulative = true): Curve {
  const usable = curves
    .map((c) => {
      const idx = c.x.map((_, i) => i).filter((i) => c.x[i] > 0 && c.y[i] > 0 && Number.isFinite(c.y[i]));
      idx.sort((a, b) => c.x[a] - c.x[b]);
      return { x: idx.map((i) => c.x[i]), y: idx.map((i) => c.y[i]) };
    })
    .filter((c) => c.x.length >= 2);
  if (usable.length === 0) return { x: [], y: [] };
  const lo = Math.min(...usable.map((c) => c.x[0]));
  const hi = Math.max(...usable.map((c) => c.x[c.x.length - 1]));
  const out: Curve = { x: [], y: [] };
  for (const x of logspace(lo, hi, points)) {
    let best = Infinity;
    for (const c of usable) {
      const n = c.x.length;
      // Tolerance for the grid's first/last points, which logspace computes through exp(ln x).
      if (x < c.x[0] * (1 - 1e-9) || x > c.x[n - 1] * (1 + 1e-9)) continue;
      let j = 1;
      while (j < n - 1 && c.x[j] < x) j++;
      const x0 = Math.log(c.x[j - 1]);
      const x1 = Math.log(c.x[j]);
      const t = x1 === x0 ? 0 : Math.min(1, Math.max(0, (Math.log(x) - x0) / (x1 - x0)));
      const y = Math.exp(Math.log(c.y[j - 1]) + t * (Math.log(c.y[j]) - Math.log(c.y[j - 1])));
      if (y < best) best = y;
    }
    if (Number.isFinite(best)) {
      out.x.push(x);
      out.y.push(cumulative && out.y.length > 0 ? Math.min(best, out.y[out.y.length - 1]) : best);
    }
  }
  return out;
}

function runTraces(all: RunRecord[], axis: 'tokens' | 'computeFlops'): Trace[] {
  const { runs, groups } = sortedWithGroups(all.filter((r) => runLossCurve(r, axis).x.length > 0));
  const colors = runColors(runs, groups);
  const seen = new Set<string>();
  return runs.map((run, i) => {
    const curve = runLossCurve(run, axis);
    const color = colors[i];
    const state = runState(run);
    const n = run.config.derived.activatedParams;
    const first = !seen.has(groups[i].key);
    seen.add(groups[i].key);
    return {
      type: 'scatter',
      mode: curve.x.length > 1 ? 'lines' : 'markers',
      ...legendFields(runs, groups, i, first),
      x: curve.x,
      y: curve.y,
      line: { color, width: 1.6, dash: state === 'diverged' ? 'dot' : 'solid' },
      marker: { color, size: 5 },
      text: curve.x.map(() => `${run.runId} · N_act ${formatNumber(n)} · ${curve.kind} loss${state === 'done' ? '' : ` · ${state}`}`),
      hovertemplate: `%{text}<br>${axis === 'tokens' ? 'tokens' : 'FLOPs'} %{x:.3s}<br>loss %{y:.4f}<extra></extra>`,
    } as Trace;
  });
}

/** A run's curve of one kind against tokens: its logged training loss, or its evaluations. */
function kindCurve(run: RunRecord, kind: 'train' | 'val'): Curve {
  if (kind === 'val') {
    const evals = evalRows(run);
    return { x: evals.map((m) => m.tokens), y: evals.map((m) => m.valLoss) };
  }
  const rows = run.metrics.filter((m) => Number.isFinite(m.trainLoss));
  return { x: rows.map((m) => m.tokens), y: rows.map((m) => m.trainLoss) };
}

/**
 * Training and validation loss against tokens in two panels side by side (left: training loss at
 * every logged step; right: validation loss at each evaluation), never mixed in one plot. Each run
 * has one colour in both panels; its legend entry toggles both.
 */
export function lossVsTokensFigure(all: RunRecord[]): FigureSpec {
  const { runs, groups } = sortedWithGroups(all.filter((r) => kindCurve(r, 'train').x.length > 0 || kindCurve(r, 'val').x.length > 0));
  const colors = runColors(runs, groups);
  const data: Trace[] = [];
  for (const kind of ['train', 'val'] as const) {
    const seen = new Set<string>();
    runs.forEach((run, i) => {
      const curve = kindCurve(run, kind);
      const first = !seen.has(groups[i].key);
      seen.add(groups[i].key);
      if (curve.x.length === 0) return;
      const state = runState(run);
      const legend = legendFields(runs, groups, i, first);
      data.push({
        type: 'scatter',
        mode: curve.x.length > 1 ? 'lines' : 'markers',
        ...legend,
        // The legend lists each run (or group) once, from the validation panel when it has evaluations.
        showlegend: kind === 'val' || kindCurve(run, 'val').x.length === 0 ? legend.showlegend : false,
        xaxis: kind === 'train' ? 'x' : 'x2',
        yaxis: kind === 'train' ? 'y' : 'y2',
        x: curve.x,
        y: curve.y,
        line: { color: colors[i], width: 1.6, dash: state === 'diverged' ? 'dot' : 'solid' },
        marker: { color: colors[i], size: 5 },
        text: curve.x.map(() => `${run.runId} · N_act ${formatNumber(run.config.derived.activatedParams)} · ${kind === 'train' ? 'training' : 'validation'} loss${state === 'done' ? '' : ` · ${state}`}`),
        hovertemplate: '%{text}<br>tokens %{x:.3s}<br>loss %{y:.4f}<extra></extra>',
      } as Trace);
    });
  }
  const axis = { showgrid: true, gridcolor: '#e5e5e5', zeroline: false };
  return {
    id: 'loss-vs-tokens',
    title: 'Training and validation loss vs training tokens',
    caption:
      'Left: training loss at every logged step; right: validation loss at each evaluation (fixed held-out batches). One line per run in both panels, coloured by compute budget and shaded by model size within it (lighter = fewer activated parameters); dotted lines are diverged runs.',
    data,
    layout: baseLayout('training tokens', 'training loss (nats/token)', {
      xaxis: { ...LOG_AXIS, domain: [0, 0.47] },
      yaxis: { type: 'log' },
      xaxis2: { ...LOG_AXIS, ...axis, domain: [0.55, 1], anchor: 'y2', title: { text: 'training tokens' } },
      yaxis2: { type: 'log', ...axis, anchor: 'x2', title: { text: 'validation loss (nats/token)' } },
    }),
  };
}

export function lossVsFlopsFigure(runs: RunRecord[]): FigureSpec {
  const data = runTraces(runs, 'computeFlops');
  // Approach 1's envelope is over the isoFLOP family: the budgeted runs when there are any.
  const budgeted = runs.filter((r) => runBudget(r) !== undefined);
  const family = budgeted.length > 0 ? budgeted : runs;
  const healthy = family.filter((r) => runState(r) !== 'diverged').map((r) => runLossCurve(r, 'computeFlops'));
  const env = lowerEnvelope(healthy);
  if (env.x.length > 0) {
    data.push({
      type: 'scatter',
      mode: 'lines',
      name: 'envelope (lowest loss reached by C)',
      x: env.x,
      y: env.y,
      line: { color: ENVELOPE_COLOR, width: 3, dash: 'dash' },
      hovertemplate: 'envelope<br>FLOPs %{x:.3s}<br>loss %{y:.4f}<extra></extra>',
    });
  }
  return {
    id: 'loss-vs-flops',
    title: 'Loss curves vs training FLOPs, with the envelope',
    caption:
      'The same curves against compute (exact FLOPs per token × tokens). The dashed black line is the lower envelope over the non-diverged runs of the isoFLOP family (all runs when none has a budget): the lowest loss any run reached with at most C FLOPs (Chinchilla Approach 1).',
    data,
    layout: baseLayout('training FLOPs', 'loss (nats/token)', { xaxis: LOG_AXIS, yaxis: { type: 'log' } }),
  };
}
