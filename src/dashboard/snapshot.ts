// What `moelab dashboard` shows at one moment, as plain JSON: the runs with their states and ETAs
// (src/sweep/tracking.ts, from the run folders alone), each run's loss curves (train and
// validation apart, thinned to at most MAX_POINTS points), the latest expert usage of MoE runs,
// and the isoFLOP fit once there are enough finished runs. No TF.js; nothing is written.
import { readJsonIfExists } from '../io/atomic.ts';
import { sweepPaths, type MetricRow } from '../io/results.ts';
import { fitIsoflop } from '../fit/isoflop.ts';
import type { RunPlan } from '../sweep/plan.ts';
import { readPlan, RUN_STATES, type RunState, type SweepRecord } from '../sweep/state.ts';
import { MetricsCache, numberOf, trackSweep, type TrackedRun } from '../sweep/tracking.ts';

export const MAX_POINTS = 400;
/** An isoFLOP fit needs this many finished sizes in each of at least two budgets. */
export const MIN_SIZES_PER_BUDGET = 3;

export interface RunCurve {
  runId: string;
  activatedParams: number;
  budgetFlops: number | null;
  /** [tokens, loss] pairs. */
  train: [number, number][];
  val: [number, number][];
}

export interface DashboardFit {
  status: 'waiting' | 'fitted' | 'failed';
  message: string;
  budgets?: { budget: number; sizes: number; N_opt: number; L_min: number }[];
  /** N_opt ∝ C^a, D_opt ∝ C^b (null with fewer than two budgets). */
  a?: number | null;
  b?: number | null;
}

export interface DashboardSnapshot {
  sweep: string;
  dir: string;
  kind: string;
  generatedAt: string;
  counts: Record<RunState, number>;
  total: number;
  /** Seconds left for the whole sweep at the running runs' current throughput (null when unknown). */
  etaSeconds: number | null;
  runs: TrackedRun[];
  curves: RunCurve[];
  usage: { runId: string; usage: number[] }[];
  fit: DashboardFit;
}

/** Every k-th element (k chosen so at most `max` remain), always keeping the last. */
export function thin<T>(items: T[], max = MAX_POINTS): T[] {
  if (items.length <= max) return items;
  const stride = Math.ceil(items.length / max);
  const out = items.filter((_, i) => i % stride === 0);
  if (out.at(-1) !== items.at(-1)) out.push(items.at(-1) as T);
  return out;
}

function curveOf(run: TrackedRun, rows: MetricRow[]): RunCurve {
  const train: [number, number][] = [];
  const val: [number, number][] = [];
  for (const r of rows) {
    const tokens = numberOf(r.tokens);
    const loss = numberOf(r.trainLoss);
    if (tokens === null) continue;
    if (loss !== null && Number.isFinite(loss)) train.push([tokens, loss]);
    const v = numberOf(r.valLoss);
    if (v !== null && Number.isFinite(v)) val.push([tokens, v]);
  }
  return { runId: run.runId, activatedParams: run.activatedParams, budgetFlops: run.budgetFlops, train: thin(train), val: thin(val) };
}

/** Sweep ETA: unfinished tokens over the summed throughput of the runs training now. */
export function sweepEta(runs: TrackedRun[], plan: RunPlan): number | null {
  const rate = runs.filter((r) => r.state === 'running' && r.tokensPerSec !== null).reduce((s, r) => s + (r.tokensPerSec as number), 0);
  let remaining = 0;
  runs.forEach((r, i) => {
    if (r.state === 'done' || r.state === 'diverged') return;
    remaining += (r.steps - (r.step ?? 0)) * plan.runs[i].derived.tokensPerStep;
  });
  if (remaining === 0) return 0;
  return rate > 0 ? remaining / rate : null;
}

/** The isoFLOP fit of the finished runs, once each of two budgets has MIN_SIZES_PER_BUDGET sizes. */
export function dashboardFit(runs: TrackedRun[], kind: string): DashboardFit {
  if (kind !== 'isoflop') return { status: 'waiting', message: `no live fit for a ${kind} sweep (moelab report fits it when it ends)` };
  const done = runs.filter((r) => r.state === 'done' && r.budgetFlops !== null && r.valLoss !== null && Number.isFinite(r.valLoss));
  const byBudget = new Map<number, TrackedRun[]>();
  for (const r of done) byBudget.set(r.budgetFlops as number, [...(byBudget.get(r.budgetFlops as number) ?? []), r]);
  const ready = [...byBudget.entries()].filter(([, rs]) => new Set(rs.map((r) => r.activatedParams)).size >= MIN_SIZES_PER_BUDGET);
  if (ready.length < 2) {
    return {
      status: 'waiting',
      message: `the isoFLOP fit needs ${MIN_SIZES_PER_BUDGET} finished sizes in each of 2 budgets (${ready.length} budget(s) ready, ${done.length} run(s) done)`,
    };
  }
  try {
    const points = ready.flatMap(([budget, rs]) => rs.map((r) => ({ budget, N: r.activatedParams, D: r.tokens ?? undefined, loss: r.valLoss as number, label: r.runId })));
    const fit = fitIsoflop(points, { holdout: 'none', bootstrap: 0 });
    return {
      status: 'fitted',
      message: `isoFLOP fit of ${points.length} finished runs in ${ready.length} budgets (final validation loss; no bootstrap)`,
      budgets: fit.budgets.map((b) => ({ budget: b.budget, sizes: b.points.length, N_opt: b.N_opt.value, L_min: b.L_min.value })),
      a: fit.powerLaws.N_opt.exponent.value,
      b: fit.powerLaws.D_opt.exponent.value,
    };
  } catch (err) {
    return { status: 'failed', message: `isoFLOP fit failed: ${(err as Error).message.split('\n')[0]}` };
  }
}

export function dashboardSnapshot(sweepDir: string, cache: MetricsCache = new MetricsCache()): DashboardSnapshot {
  const paths = sweepPaths(sweepDir);
  const plan = readPlan(paths.plan);
  const record = readJsonIfExists<SweepRecord>(paths.sweep);
  const { runs, metrics } = trackSweep(sweepDir, plan, cache);
  const counts = Object.fromEntries(RUN_STATES.map((s) => [s, 0])) as Record<RunState, number>;
  for (const r of runs) counts[r.state]++;
  const usage: { runId: string; usage: number[] }[] = [];
  for (const r of runs) {
    const rows = metrics.get(r.runId) ?? [];
    for (let i = rows.length - 1; i >= 0; i--) {
      const u = rows[i].expertUsage;
      if (u && u.length > 0) {
        usage.push({ runId: r.runId, usage: u.map((x) => numberOf(x) ?? NaN) });
        break;
      }
    }
  }
  const kind: string = plan.kind;
  return {
    sweep: record?.sweep ?? plan.sweep,
    dir: paths.dir,
    kind,
    generatedAt: new Date().toISOString(),
    counts,
    total: runs.length,
    etaSeconds: sweepEta(runs, plan),
    runs,
    curves: runs.map((r) => curveOf(r, metrics.get(r.runId) ?? [])),
    usage,
    fit: dashboardFit(runs, kind),
  };
}
