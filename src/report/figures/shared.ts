// How run-based figures group and colour runs. A run belongs to its compute budget's group when it
// has one (isoFLOP cells, viridis from the smallest budget), else to its batch size's group in an
// LR × batch grid (viridis from the smallest batch), else to its schedule's group (qualitative).
// With many runs the legend lists groups, not runs; the run id stays in every hover label.
import { categoryColor, formatNumber, orderedColor } from '../figure.ts';
import type { RunRecord } from '../records.ts';
import { runBatchTokens, runBudget, runScheduleLabel, runStudyKind } from '../records.ts';

/** Above this many runs a figure's legend shows one entry per group instead of per run. */
export const LEGEND_RUN_LIMIT = 12;

export interface RunGroup {
  key: string;
  label: string;
  color: string;
  /** Position of the group in legend order. */
  order: number;
}

export function budgetLabel(budgetFlops: number | undefined): string {
  return budgetFlops === undefined ? 'no budget' : `C = ${formatNumber(budgetFlops)} FLOPs`;
}

type GroupKind = 'budget' | 'batch' | 'schedule';

function groupKind(run: RunRecord): GroupKind {
  if (runBudget(run) !== undefined) return 'budget';
  if (runStudyKind(run) === 'lr-batch') return 'batch';
  return 'schedule';
}

/** The group of every run (same order as `runs`). */
export function runGroups(runs: RunRecord[]): RunGroup[] {
  const budgets = [...new Set(runs.filter((r) => groupKind(r) === 'budget').map((r) => runBudget(r)!))].sort((a, b) => a - b);
  const batches = [...new Set(runs.filter((r) => groupKind(r) === 'batch').map(runBatchTokens))].sort((a, b) => a - b);
  const schedules = [...new Set(runs.filter((r) => groupKind(r) === 'schedule').map(runScheduleLabel))];
  return runs.map((run) => {
    switch (groupKind(run)) {
      case 'budget': {
        const b = runBudget(run)!;
        const i = budgets.indexOf(b);
        return { key: `budget:${b}`, label: budgetLabel(b), color: orderedColor(i, budgets.length), order: i };
      }
      case 'batch': {
        const bt = runBatchTokens(run);
        const i = batches.indexOf(bt);
        return { key: `batch:${bt}`, label: `batch ${formatNumber(bt)} tokens`, color: orderedColor(i, batches.length), order: budgets.length + i };
      }
      case 'schedule': {
        const s = runScheduleLabel(run);
        const i = schedules.indexOf(s);
        return { key: `schedule:${s}`, label: `schedule ${s}`, color: categoryColor(i), order: budgets.length + batches.length + i };
      }
    }
  });
}

/**
 * Legend fields for the trace of run `i`: per-run entries (name = run id, grouped under the group's
 * title) for small sweeps, else one entry per group (its first run's trace carries the group name).
 */
export interface LegendFields {
  name: string;
  legendgroup: string;
  legendgrouptitle?: { text: string };
  showlegend?: boolean;
  legendrank: number;
}

export function legendFields(runs: RunRecord[], groups: RunGroup[], i: number, firstOfGroup: boolean): LegendFields {
  const g = groups[i];
  if (runs.length <= LEGEND_RUN_LIMIT) {
    return { name: runs[i].runId, legendgroup: g.key, legendgrouptitle: { text: g.label }, legendrank: g.order + 1 };
  }
  return { name: g.label, legendgroup: g.key, showlegend: firstOfGroup, legendrank: g.order + 1 };
}

/** Runs sorted by group order then activated parameters, with their groups. */
export function sortedWithGroups(runs: RunRecord[]): { runs: RunRecord[]; groups: RunGroup[] } {
  const groups = runGroups(runs);
  const idx = runs.map((_, i) => i);
  idx.sort((a, b) => groups[a].order - groups[b].order || runs[a].config.derived.activatedParams - runs[b].config.derived.activatedParams || (runs[a].runId < runs[b].runId ? -1 : 1));
  return { runs: idx.map((i) => runs[i]), groups: idx.map((i) => groups[i]) };
}

/**
 * One colour per run inside its group, sequential by model size: the group's colour for the
 * largest activated-parameter count of the group, mixed towards white (up to `maxLighten`) for
 * smaller ones, on a log scale. Runs of one size in one group (seeds) share a colour.
 */
export function runColors(runs: RunRecord[], groups: RunGroup[], maxLighten = 0.6): string[] {
  const sizes = new Map<string, number[]>();
  runs.forEach((r, i) => sizes.set(groups[i].key, [...(sizes.get(groups[i].key) ?? []), r.config.derived.activatedParams]));
  return runs.map((r, i) => {
    const list = sizes.get(groups[i].key)!;
    const lo = Math.log(Math.min(...list));
    const hi = Math.log(Math.max(...list));
    const t = hi > lo ? (Math.log(r.config.derived.activatedParams) - lo) / (hi - lo) : 1;
    return mixWithWhite(groups[i].color, (1 - t) * maxLighten);
  });
}

/** `rgb()` of a `#rrggbb` or `rgb(r,g,b)` colour mixed with white (`amount` 0: unchanged, 1: white). */
export function mixWithWhite(color: string, amount: number): string {
  const rgb = color.startsWith('#')
    ? [1, 3, 5].map((k) => parseInt(color.slice(k, k + 2), 16))
    : (color.match(/\d+/g) ?? ['0', '0', '0']).slice(0, 3).map(Number);
  const c = rgb.map((v) => Math.round(v + (255 - v) * Math.min(1, Math.max(0, amount))));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

/**
 * Why a fitted estimate is not a result, or undefined when it is one: a non-finite value, or a
 * bootstrap interval that collapsed to a point (every resample gave the same value: the fit is
 * pinned, e.g. at a bound) or does not contain the estimate. Figures draw such fits as failed.
 */
export function degenerateReason(est: { value: number; ci95: [number, number] | null }): string | undefined {
  if (!Number.isFinite(est.value)) return `the estimate is ${est.value}`;
  if (!est.ci95) return undefined;
  const [lo, hi] = est.ci95;
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return `its 95% interval [${lo}, ${hi}] is not finite`;
  const scale = Math.max(Math.abs(est.value), 1e-300);
  if (hi - lo <= 1e-9 * scale) return `its 95% interval collapsed to a point (${formatNumber(lo)})`;
  if (est.value < lo - 1e-9 * scale || est.value > hi + 1e-9 * scale) return `the estimate ${formatNumber(est.value)} lies outside its 95% interval [${formatNumber(lo)}, ${formatNumber(hi)}]`;
  return undefined;
}

/** Log-axis settings: powers of ten as 10^k tick labels. */
export const LOG_AXIS = { type: 'log', exponentformat: 'power' } as const;
