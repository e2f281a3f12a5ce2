// Sweep-level tracking tables, kept current while a sweep runs so other tools read a running
// sweep (pandas: `pd.read_csv("results/smoke/runs.csv")`):
//
//   runs.csv     one row per plan run: state, progress, losses, ETA, and the study fields
//   metrics.csv  every logged metric row of every run, with its runId (expert usage as columns)
//
// Both are derived from the run folders alone (summary.json, metrics.jsonl, .lock, failed.json:
// src/sweep/state.ts inspectRun), so they are right whoever trains the runs (this runner, another
// sweep on the same folder, Slurm tasks), and written atomically (src/io/atomic.ts).
// Non-finite numbers: NaN is an empty cell (pandas reads NaN), ±Infinity is `inf`/`-inf`.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { readJsonl, writeFileAtomic } from '../io/atomic.ts';
import { runPaths, sweepPaths, type MetricRow } from '../io/results.ts';
import type { PlanRun, RunPlan } from './plan.ts';
import { inspectRun, type RunState } from './state.ts';

export const RUNS_CSV = 'runs.csv';
export const METRICS_CSV = 'metrics.csv';

/** One row of runs.csv. */
export interface TrackedRun {
  runId: string;
  index: number;
  state: RunState;
  step: number | null;
  steps: number;
  /** Tokens trained so far (the last metric row's, or the summary's). */
  tokens: number | null;
  trainLoss: number | null;
  /** Last validation loss logged (running runs) or the final one (finished runs). */
  valLoss: number | null;
  /** Training throughput of the last metric row. */
  tokensPerSec: number | null;
  /** Seconds left for a running run at its last throughput; 0 when finished; null otherwise. */
  etaSeconds: number | null;
  kind: string;
  budgetFlops: number | null;
  activatedParams: number;
  totalParams: number;
  computeFlops: number;
  lr: number;
  batchSize: number;
  schedule: string;
  seed: number;
  detail: string;
}

export const RUN_CSV_COLUMNS: readonly (keyof TrackedRun)[] = [
  'runId',
  'index',
  'state',
  'step',
  'steps',
  'tokens',
  'trainLoss',
  'valLoss',
  'tokensPerSec',
  'etaSeconds',
  'kind',
  'budgetFlops',
  'activatedParams',
  'totalParams',
  'computeFlops',
  'lr',
  'batchSize',
  'schedule',
  'seed',
  'detail',
];

const METRIC_COLUMNS: readonly (keyof MetricRow)[] = [
  'step',
  'tokens',
  'computeFlops',
  'learningRate',
  'expertLearningRate',
  'trainLoss',
  'valLoss',
  'loadBalancingLoss',
  'routerZLoss',
  'droppedTokenFraction',
  'recycledTokenFraction',
  'gradNorm',
  'wallSeconds',
  'tokensPerSec',
];

/**
 * A number as stored in metrics.jsonl: non-finite numbers are null (src/io/nonfinite.ts), or the
 * strings "nan"/"inf"/"-inf" in folders written before; null (like a missing field) gives null.
 */
export function numberOf(v: unknown): number | null {
  if (typeof v === 'number') return v;
  if (v === 'nan') return NaN;
  if (v === 'inf') return Infinity;
  if (v === '-inf') return -Infinity;
  return null;
}

/** One CSV cell (RFC 4180 quoting; NaN and null empty; ±Infinity as inf/-inf). */
export function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return '';
    if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
    return String(v);
  }
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(columns: readonly string[], rows: readonly (readonly unknown[])[]): string {
  return [columns.map(csvCell).join(','), ...rows.map((r) => r.map(csvCell).join(','))].join('\n') + '\n';
}

/**
 * Reads runs' metrics.jsonl, re-reading a file only when its size or mtime changed (a sweep's
 * tables are refreshed every few seconds; finished runs' files never change).
 */
export class MetricsCache {
  private cache = new Map<string, { size: number; mtimeMs: number; rows: MetricRow[] }>();

  rows(path: string): MetricRow[] {
    let st;
    try {
      st = statSync(path);
    } catch {
      this.cache.delete(path);
      return [];
    }
    const hit = this.cache.get(path);
    if (hit && hit.size === st.size && hit.mtimeMs === st.mtimeMs) return hit.rows;
    const rows = readJsonl<MetricRow>(path);
    this.cache.set(path, { size: st.size, mtimeMs: st.mtimeMs, rows });
    return rows;
  }
}

/** The runs.csv row of one plan run, from its folder and its metric rows. */
export function trackedRun(sweepDir: string, run: PlanRun, metrics: MetricRow[]): TrackedRun {
  const status = inspectRun(sweepDir, run);
  const last = metrics.at(-1);
  let lastVal: number | null = null;
  for (let i = metrics.length - 1; i >= 0; i--) {
    const v = numberOf(metrics[i].valLoss);
    if (v !== null) {
      lastVal = v;
      break;
    }
  }
  const finished = status.state === 'done' || status.state === 'diverged';
  const tps = last ? numberOf(last.tokensPerSec) : null;
  const step = status.step;
  const eta =
    finished ? 0
    : status.state === 'running' && step !== null && tps !== null && tps > 0 ? ((run.derived.steps - step) * run.derived.tokensPerStep) / tps
    : null;
  return {
    runId: run.runId,
    index: run.index,
    state: status.state,
    step,
    steps: run.derived.steps,
    tokens: last ? numberOf(last.tokens) : null,
    trainLoss: status.trainLoss === null ? null : numberOf(status.trainLoss),
    valLoss: finished && status.finalValLoss !== null ? numberOf(status.finalValLoss) : lastVal,
    tokensPerSec: tps,
    etaSeconds: eta,
    kind: run.kind,
    budgetFlops: run.budgetFlops ?? null,
    activatedParams: run.derived.activatedParams,
    totalParams: run.derived.totalParams,
    computeFlops: run.derived.computeFlops,
    lr: run.lr,
    batchSize: run.batchSize,
    schedule: run.schedule,
    seed: run.seed,
    detail: status.detail,
  };
}

export interface TrackingSnapshot {
  runs: TrackedRun[];
  /** Metric rows per runId, in plan order. */
  metrics: Map<string, MetricRow[]>;
}

export function trackSweep(sweepDir: string, plan: RunPlan, cache = new MetricsCache()): TrackingSnapshot {
  const metrics = new Map<string, MetricRow[]>();
  const runs = plan.runs.map((run) => {
    const rows = cache.rows(runPaths(sweepPaths(sweepDir).run(run.runId)).metrics);
    metrics.set(run.runId, rows);
    return trackedRun(sweepDir, run, rows);
  });
  return { runs, metrics };
}

export function runsCsv(runs: TrackedRun[]): string {
  return toCsv(RUN_CSV_COLUMNS, runs.map((r) => RUN_CSV_COLUMNS.map((c) => r[c])));
}

export function metricsCsv(metrics: Map<string, MetricRow[]>): string {
  let experts = 0;
  for (const rows of metrics.values()) for (const r of rows) experts = Math.max(experts, r.expertUsage?.length ?? 0);
  const usageCols = Array.from({ length: experts }, (_, i) => `expertUsage${i}`);
  const rows: unknown[][] = [];
  for (const [runId, list] of metrics) {
    for (const r of list) {
      rows.push([
        runId,
        ...METRIC_COLUMNS.map((c) => numberOf(r[c]) ?? null),
        ...usageCols.map((_, i) => (r.expertUsage ? (numberOf(r.expertUsage[i]) ?? null) : null)),
      ]);
    }
  }
  return toCsv(['runId', ...METRIC_COLUMNS, ...usageCols], rows);
}

/** Write runs.csv and metrics.csv into the sweep folder (atomically); returns the snapshot. */
export function writeTrackingTables(sweepDir: string, plan: RunPlan, cache?: MetricsCache): TrackingSnapshot {
  const snap = trackSweep(sweepDir, plan, cache);
  const dir = sweepPaths(sweepDir).dir;
  writeFileAtomic(join(dir, RUNS_CSV), runsCsv(snap.runs));
  writeFileAtomic(join(dir, METRICS_CSV), metricsCsv(snap.metrics));
  return snap;
}
