// Wall-time estimates for a plan from a measured probe on the current backend: a few real
// training steps (src/train/loop.ts trainRun, in a temp folder) of the plan's cheapest and
// dearest step, cached per backend in results/.cache. Tiny models use the hardware far less well
// than large ones (fixed per-op costs), so throughput is interpolated in log-log between the
// probed points by work per step (flopsPerToken × tokensPerStep) rather than taken as one number.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveValWindows } from '../data/validation.ts';
import { RunConfigSchema, type RunConfig } from '../config/schema.ts';
import { readJsonIfExists, readJsonl, writeJsonAtomic } from '../io/atomic.ts';
import { runPaths, type MetricRow } from '../io/results.ts';
import type { PlanRun, RunPlan } from './plan.ts';
import { totalsOf } from './plan.ts';

export interface ThroughputPoint {
  /** Identifies the probed shape: model + batch (runs of the same shape share a point). */
  key: string;
  flopsPerToken: number;
  tokensPerStep: number;
  /** Median wall seconds of a training step after warm-up. */
  secondsPerStep: number;
  flopsPerSecond: number;
  measuredAt: string;
}

export interface ThroughputCache {
  backend: string;
  points: ThroughputPoint[];
}

/** Fixed costs of a worker: process start, TF.js init, corpus load, model build (seconds). */
export const RUN_OVERHEAD_SECONDS = 5;

export function probeKey(config: RunConfig): string {
  return JSON.stringify({ model: config.model, batchSize: config.train.batchSize });
}

/**
 * Training FLOP/s at a given work per step, interpolated linearly in (log work, log FLOP/s)
 * between measured points and held constant beyond them (pure).
 */
export function interpolateThroughput(points: ThroughputPoint[], flopsPerStep: number): number {
  if (points.length === 0) throw new RangeError('interpolateThroughput: no measured points');
  const pts = points
    .map((p) => ({ x: Math.log(p.flopsPerToken * p.tokensPerStep), y: Math.log(p.flopsPerSecond) }))
    .sort((a, b) => a.x - b.x);
  const x = Math.log(flopsPerStep);
  if (x <= pts[0].x) return Math.exp(pts[0].y);
  const last = pts[pts.length - 1];
  if (x >= last.x) return Math.exp(last.y);
  for (let i = 1; i < pts.length; i++) {
    if (x <= pts[i].x) {
      const a = pts[i - 1];
      const b = pts[i];
      const t = b.x === a.x ? 0 : (x - a.x) / (b.x - a.x);
      return Math.exp(a.y + t * (b.y - a.y));
    }
  }
  return Math.exp(last.y);
}

/**
 * Seconds one run takes (pure): fixed overhead + steps + evaluations, where evaluating a window
 * costs a forward pass (a third of a training step's cost per sequence): intermediate evaluations
 * read evalBatches × batchSize windows of the validation set, the final one all of them.
 */
export function estimateRunSeconds(run: PlanRun, points: ThroughputPoint[], overheadSeconds = RUN_OVERHEAD_SECONDS): number {
  const { steps, flopsPerToken, tokensPerStep } = run.derived;
  const secondsPerStep = (flopsPerToken * tokensPerStep) / interpolateThroughput(points, flopsPerToken * tokensPerStep);
  const config = RunConfigSchema.parse(run.config);
  const train = config.train;
  const valWindows = resolveValWindows(config.data.valTokens, config.model.seqLen, config.data.valWindows);
  const intermediate = Math.floor((steps - 1) / train.evalEvery);
  const windows = intermediate * Math.min(valWindows, train.evalBatches * train.batchSize) + valWindows;
  return overheadSeconds + steps * secondsPerStep + (windows / train.batchSize) * (secondsPerStep / 3);
}

export function withRunEstimates(plan: RunPlan, backend: string, points: ThroughputPoint[]): RunPlan {
  const runs = plan.runs.map((r) => ({ ...r, estSeconds: estimateRunSeconds(r, points) }));
  const work = runs.reduce((s, r) => s + r.derived.computeFlops, 0);
  const seconds = runs.reduce((s, r) => s + (r.estSeconds ?? 0), 0);
  return {
    ...plan,
    estimate: { backend, flopsPerSecond: seconds > 0 ? work / seconds : 0 },
    runs,
    totals: totalsOf(runs),
  };
}

/** The plan's runs to probe: the cheapest and the dearest step (one when they share a shape). */
export function probeTargets(plan: RunPlan): PlanRun[] {
  if (plan.runs.length === 0) return [];
  const byWork = [...plan.runs].sort(
    (a, b) => a.derived.flopsPerToken * a.derived.tokensPerStep - b.derived.flopsPerToken * b.derived.tokensPerStep,
  );
  const lo = byWork[0];
  const hi = byWork[byWork.length - 1];
  const keyOf = (r: PlanRun) => probeKey(RunConfigSchema.parse(r.config));
  return keyOf(lo) === keyOf(hi) ? [lo] : [lo, hi];
}

export interface ProbeOptions {
  /** Active backend name (the cache key). */
  backend: string;
  cachePath: string;
  /** Timed steps after 2 warm-up steps (default 4). */
  steps?: number;
  /** Measure even when cached. */
  refresh?: boolean;
  log?: (line: string) => void;
}

/**
 * Throughput points for a plan's probe targets on the active backend: read from the cache, or
 * measured by training a few real steps (needs initEngine() first) and added to the cache.
 */
export async function probePlan(plan: RunPlan, options: ProbeOptions): Promise<ThroughputPoint[]> {
  const cache: ThroughputCache = readJsonIfExists<ThroughputCache>(options.cachePath) ?? { backend: options.backend, points: [] };
  const points: ThroughputPoint[] = [];
  for (const run of probeTargets(plan)) {
    const config = RunConfigSchema.parse(run.config);
    const key = probeKey(config);
    const cached = options.refresh ? undefined : cache.points.find((p) => p.key === key);
    if (cached) {
      points.push(cached);
      continue;
    }
    options.log?.(`probing ${run.runId} on ${options.backend} (a few training steps)…`);
    const point = await measureThroughput(config, options.steps ?? 4);
    cache.points = [...cache.points.filter((p) => p.key !== key), point];
    points.push(point);
  }
  writeJsonAtomic(options.cachePath, cache);
  return points;
}

/** Train 2 + `steps` steps of `config` in a temp folder and time them (median step). */
export async function measureThroughput(config: RunConfig, steps: number): Promise<ThroughputPoint> {
  const { trainRun } = await import('../train/loop.ts');
  const { createMoeLm } = await import('../model/transformer.ts');
  const { resolveModelConfig } = await import('../config/resolve.ts');
  const { flopsPerToken } = await import('../model/count.ts');
  const tokensPerStep = config.train.batchSize * config.model.seqLen;
  const total = steps + 2;
  const probeConfig: RunConfig = {
    ...config,
    name: 'probe',
    // a one-window validation set: the probe times training steps, not evaluation
    data: { ...config.data, valWindows: 1 },
    train: {
      ...config.train,
      tokens: total * tokensPerStep,
      logEvery: 1,
      evalEvery: 1_000_000,
      evalBatches: 1,
      checkpointEvery: 1_000_000,
      schedule: { kind: 'constant' },
      // A probe must not stop early: it measures speed, not learning.
      divergenceFactor: 1e9,
    },
  };
  const dir = mkdtempSync(join(tmpdir(), 'moelab-probe-'));
  try {
    await trainRun(probeConfig, dir, { createModel: (m, seed) => createMoeLm(m, seed) });
    const rows = readJsonl<MetricRow>(runPaths(dir).metrics).filter((r) => r.step >= 1);
    const walls = rows.map((r) => r.wallSeconds);
    const deltas = walls.slice(2).map((w, i) => w - walls[i + 1]).sort((a, b) => a - b);
    const secondsPerStep = deltas.length > 0 ? deltas[Math.floor(deltas.length / 2)] : walls[walls.length - 1] / total;
    const perToken = flopsPerToken(resolveModelConfig(config.model), { seqLen: config.model.seqLen });
    return {
      key: probeKey(config),
      flopsPerToken: perToken,
      tokensPerStep,
      secondsPerStep,
      flopsPerSecond: (perToken * tokensPerStep) / secondsPerStep,
      measuredAt: new Date().toISOString(),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
