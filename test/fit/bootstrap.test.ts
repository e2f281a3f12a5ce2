// Seeded bootstrap: identical under a seed, different under another, stratified resampling keeps
// every group's rows inside the group, percentiles match numpy's linear rule.
import { describe, expect, it } from 'vitest';
import { bootstrap, percentile, resampleRows } from '../../src/fit/index.ts';
import { createRng } from '../../src/util/rng.ts';

const data = Array.from({ length: 40 }, (_, i) => Math.sin(i) * 3 + i / 10);
const mean = (rows: Int32Array) => ({ mean: Array.from(rows, (i) => data[i]).reduce((s, v) => s + v, 0) / rows.length });

describe('bootstrap', () => {
  it('is reproducible under a seed and changes with the seed', () => {
    const a = bootstrap(data.length, mean, { samples: 300, seed: 7 });
    const b = bootstrap(data.length, mean, { samples: 300, seed: 7 });
    const c = bootstrap(data.length, mean, { samples: 300, seed: 8 });
    expect(a.intervals.mean).toEqual(b.intervals.mean);
    expect(a.intervals.mean).not.toEqual(c.intervals.mean);
    expect(a.succeeded).toBe(300);
  });

  it('gives an interval around the sample mean about ±1.96 standard errors wide', () => {
    const r = bootstrap(data.length, mean, { samples: 2000, seed: 1 });
    const m = data.reduce((s, v) => s + v, 0) / data.length;
    const sd = Math.sqrt(data.reduce((s, v) => s + (v - m) ** 2, 0) / data.length);
    const se = sd / Math.sqrt(data.length);
    const [lo, hi] = r.intervals.mean as [number, number];
    expect(lo).toBeLessThan(m);
    expect(hi).toBeGreaterThan(m);
    expect((hi - lo) / (2 * 1.96 * se)).toBeGreaterThan(0.85);
    expect((hi - lo) / (2 * 1.96 * se)).toBeLessThan(1.15);
    expect(r.standardErrors.mean / se).toBeCloseTo(1, 0);
  });

  it('counts failed resamples by reason, never hiding them: successFraction and reliable follow', async () => {
    const { failed } = await import('../../src/fit/index.ts');
    let k = 0;
    const r = bootstrap(10, () => (k++ % 4 === 0 ? failed('budget 1e11 lost its interior minimum') : k % 4 === 2 ? null : { x: k }), { samples: 40, seed: 0 });
    expect(r.succeeded).toBe(20);
    expect(r.successFraction).toBe(0.5);
    expect(r.reliable).toBe(false);
    expect(r.failures).toEqual([
      { reason: 'budget 1e11 lost its interior minimum', count: 10 },
      { reason: 'the estimate failed (no reason given)', count: 10 },
    ]);
    expect(r.intervals.x).not.toBeNull();
    const thrown = bootstrap(10, () => {
      throw new Error('singular system\nmore');
    }, { samples: 5, seed: 0 });
    expect(thrown.failures).toEqual([{ reason: 'singular system', count: 5 }]);
    const ok = bootstrap(10, (rows) => ({ m: rows[0] }), { samples: 20, seed: 0 });
    expect([ok.successFraction, ok.reliable, ok.failures]).toEqual([1, true, []]);
  });

  it('a quantity that is not finite in more than 5% of the fitted resamples makes the intervals unreliable, and says which', () => {
    let k = 0;
    // Every resample fits; y is NaN in 1 of 10 (its interval would be conditional on being finite).
    const r = bootstrap(10, () => ({ x: k, y: k++ % 10 === 0 ? NaN : k }), { samples: 100, seed: 0 });
    expect(r.successFraction).toBe(1);
    expect(r.reliable).toBe(false);
    expect(r.failures).toEqual([{ reason: 'y not finite (its interval uses the other resamples)', count: 10 }]);
    expect(r.intervals.y).not.toBeNull();
    // At 1 in 50 (2%, within the 5% the whole-fit rule allows) the intervals stay reliable.
    k = 0;
    const few = bootstrap(10, () => ({ y: k++ % 50 === 0 ? Infinity : k }), { samples: 100, seed: 0 });
    expect([few.reliable, few.failures]).toEqual([true, []]);
  });

  it('resamples cells within a group, then seeds within each drawn cell; one seed per cell is drawn whole', () => {
    // group 0: cell 10 has seeds at rows 0,1,2; cell 11 one seed at row 3. group 1: cell 20 rows 4,5.
    const groups = [0, 0, 0, 0, 1, 1];
    const cells = [10, 10, 10, 11, 20, 20];
    const rng = createRng(9);
    let sawMixedCell = false;
    let sawCellTwice = false;
    for (let s = 0; s < 200; s++) {
      const rows = Array.from(resampleRows(groups.length, rng, groups, cells));
      const g1 = rows.filter((i) => groups[i] === 1);
      expect(g1.length).toBe(2); // the one cell of group 1, its 2 seeds resampled
      const g0 = rows.filter((i) => groups[i] === 0);
      // two cells drawn: each contributes its own seed count (3 for cell 10, 1 for cell 11)
      const n11 = g0.filter((i) => i === 3).length;
      expect(g0.length).toBe(3 * (2 - n11) + n11);
      if (n11 === 0) sawCellTwice = true;
      if (new Set(g0.filter((i) => i < 3)).size > 1) sawMixedCell = true;
    }
    expect(sawCellTwice && sawMixedCell).toBe(true);
  });

  it('stratified resampling draws each group only from its own rows, keeping group sizes', () => {
    const groups = [0, 0, 0, 1, 1, 2, 2, 2, 2];
    const rng = createRng(3);
    for (let s = 0; s < 50; s++) {
      const rows = resampleRows(groups.length, rng, groups);
      const counts = [0, 0, 0];
      for (const i of rows) counts[groups[i]]++;
      expect(counts).toEqual([3, 2, 4]);
    }
  });

  it('percentile interpolates linearly like numpy', () => {
    const sorted = [1, 2, 3, 4, 10];
    expect(percentile(sorted, 0.5)).toBe(3);
    expect(percentile(sorted, 0.975)).toBeCloseTo(4 + 0.9 * 6, 12);
    expect(percentile(sorted, 0)).toBe(1);
  });
});

describe('bootstrap progress', () => {
  it('reports resamples through the one progress mechanism (src/util/progress.ts startTask)', async () => {
    const { setProgressSink } = await import('../../src/util/progress.ts');
    const seen: [number, number, boolean][] = [];
    const previous = setProgressSink((s) => seen.push([s.done, s.total, s.finished]));
    try {
      bootstrap(5, (rows) => ({ m: rows[0] }), { samples: 4, seed: 1 });
    } finally {
      setProgressSink(previous);
    }
    expect(seen).toEqual([[0, 4, false], [1, 4, false], [2, 4, false], [3, 4, false], [4, 4, false], [4, 4, true]]);
  });
});
