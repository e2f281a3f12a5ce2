import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { accumulate, emptyInterval, expertUsageOf, metricRow, truncateMetrics } from '../../src/train/metrics.ts';

const layer = (tokensPerExpert: number[], dropped = 0, recycled = 0) => ({ tokensPerExpert, droppedTokenFraction: dropped, recycledTokenFraction: recycled });

describe('metrics', () => {
  it('expertUsageOf averages per-layer usage fractions', () => {
    // layer 1: [0.75, 0.25], layer 2: [0.25, 0.75] → [0.5, 0.5]
    expect(expertUsageOf([layer([3, 1]), layer([1, 3])])).toEqual([0.5, 0.5]);
    expect(expertUsageOf([layer([2, 2]), layer([0, 0])])).toEqual([0.5, 0.5]);
    expect(expertUsageOf([])).toBeUndefined();
  });

  it('a row holds interval means and the context of its last step', () => {
    let interval = emptyInterval();
    interval = accumulate(interval, { trainLoss: 3, loadBalancingLoss: 1, routerZLoss: 0.5, gradNorm: 2, moeLayers: [layer([3, 1], 0.1, 0.2)] });
    interval = accumulate(interval, { trainLoss: 2, loadBalancingLoss: 1.2, routerZLoss: 0.7, gradNorm: 1, moeLayers: [layer([1, 1], 0.3, 0)] });
    const row = metricRow(interval, {
      step: 10,
      tokens: 2560,
      flopsPerToken: 1000,
      learningRate: 1e-3,
      expertLearningRate: 5e-4,
      valLoss: 2.4,
      wallSeconds: 3,
      tokensPerSec: 800,
    });
    expect(row).toEqual({
      step: 10,
      tokens: 2560,
      computeFlops: 2_560_000,
      learningRate: 1e-3,
      expertLearningRate: 5e-4,
      trainLoss: 2.5,
      valLoss: 2.4,
      loadBalancingLoss: 1.1,
      routerZLoss: 0.6,
      droppedTokenFraction: 0.2,
      recycledTokenFraction: 0.1,
      expertUsage: [0.625, 0.375],
      gradNorm: 1.5,
      wallSeconds: 3,
      tokensPerSec: 800,
    });
    // Dense models: no expertUsage field, zero routing fractions.
    const dense = metricRow(accumulate(emptyInterval(), { trainLoss: 1, loadBalancingLoss: 0, routerZLoss: 0, gradNorm: 1, moeLayers: [] }), {
      step: 1, tokens: 1, flopsPerToken: 1, learningRate: 1, expertLearningRate: 1, wallSeconds: 1, tokensPerSec: 1,
    });
    expect(dense.expertUsage).toBeUndefined();
    expect(dense.valLoss).toBeUndefined();
    expect(dense.droppedTokenFraction).toBe(0);
  });

  it('truncateMetrics drops rows past the checkpoint and a torn last line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'moelab-metrics-'));
    const path = join(dir, 'metrics.jsonl');
    writeFileSync(path, '{"step":5}\n{"step":10}\n{"step":15}\n{"step":2');
    truncateMetrics(path, 10);
    expect(readFileSync(path, 'utf8')).toBe('{"step":5}\n{"step":10}\n');
    truncateMetrics(path, 0);
    expect(readFileSync(path, 'utf8')).toBe('');
    rmSync(dir, { recursive: true, force: true });
  });
});
