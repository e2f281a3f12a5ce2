// Time estimates: the interpolation and per-run arithmetic (pure), and one real probe.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readJson } from '../../src/io/atomic.ts';
import {
  estimateRunSeconds,
  interpolateThroughput,
  probePlan,
  probeTargets,
  RUN_OVERHEAD_SECONDS,
  type ThroughputCache,
  type ThroughputPoint,
} from '../../src/sweep/probe.ts';
import { makeTinySweep } from '../helpers/sweep.ts';

const tmp = mkdtempSync(join(tmpdir(), 'moelab-probe-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const point = (flopsPerStep: number, flopsPerSecond: number): ThroughputPoint => ({
  key: String(flopsPerStep),
  flopsPerToken: flopsPerStep / 100,
  tokensPerStep: 100,
  secondsPerStep: flopsPerStep / flopsPerSecond,
  flopsPerSecond,
  measuredAt: '',
});

describe('estimates (pure)', () => {
  const pts = [point(1e8, 1e9), point(1e10, 1e10)];
  it('interpolates throughput log-linearly in work per step and clamps beyond the points', () => {
    const rel = (x: number, y: number) => expect(x / y).toBeCloseTo(1, 12);
    rel(interpolateThroughput(pts, 1e9), Math.sqrt(1e9 * 1e10)); // halfway in log work → geometric mean
    rel(interpolateThroughput(pts, 1e6), 1e9);
    rel(interpolateThroughput(pts, 1e12), 1e10);
    rel(interpolateThroughput([point(1e8, 5e9)], 3e11), 5e9);
  });

  it('a run costs overhead + steps + evaluations (a third of a step per batch of windows)', () => {
    const { plan } = makeTinySweep({ parent: join(tmp, 'a'), steps: 20 });
    const run = plan.runs[0];
    // TINY_MODEL: 50208 FLOPs/token × 8 tokens/step; flat 1e6 FLOP/s → 0.401664 s per step.
    const flat = [point(1, 1e6)];
    const perStep = (50208 * 8) / 1e6;
    // 20 steps, evalEvery 50 (default) → only the final evaluation, on the whole validation set:
    // valTokens 1000, seqLen 8 → ⌊999/8⌋ = 124 windows, at batch 1 a third of a step each.
    expect(estimateRunSeconds(run, flat)).toBeCloseTo(RUN_OVERHEAD_SECONDS + 20 * perStep + (124 * perStep) / 3, 9);
    // evaluations every 5 steps add 3 intermediate ones of evalBatches (4) × batchSize (1) windows
    const every5 = { ...run, config: { ...run.config, train: { ...run.config.train, evalEvery: 5 } } };
    expect(estimateRunSeconds(every5, flat)).toBeCloseTo(RUN_OVERHEAD_SECONDS + 20 * perStep + ((124 + 3 * 4) * perStep) / 3, 9);
  });
});

describe('probe', () => {
  it('measures the plan\'s cheapest and dearest step once, then reads them from the cache', async () => {
    const { initEngine } = await import('../../src/engine/backend.ts');
    const info = await initEngine({ backend: 'wasm', log: () => {} });
    const { plan } = makeTinySweep({ parent: join(tmp, 'b'), steps: 20 });
    expect(probeTargets(plan)).toHaveLength(1); // every run has the same shape
    const cachePath = join(tmp, 'cache', `throughput-${info.backend}.json`);
    const logs: string[] = [];
    const first = await probePlan(plan, { backend: info.backend, cachePath, steps: 3, log: (l) => logs.push(l) });
    expect(logs).toHaveLength(1);
    expect(first).toHaveLength(1);
    expect(first[0].secondsPerStep).toBeGreaterThan(0);
    expect(first[0].flopsPerSecond).toBeCloseTo((50208 * 8) / first[0].secondsPerStep, 3);
    const again = await probePlan(plan, { backend: info.backend, cachePath, log: (l) => logs.push(l) });
    expect(logs).toHaveLength(1);
    expect(again).toEqual(first);
    expect(readJson<ThroughputCache>(cachePath).points).toHaveLength(1);
  }, 60_000);
});
