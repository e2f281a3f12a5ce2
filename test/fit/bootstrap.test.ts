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

  it('skips failed resamples and reports how many succeeded', () => {
    let k = 0;
    const r = bootstrap(10, () => (k++ % 2 === 0 ? null : { x: k }), { samples: 40, seed: 0 });
    expect(r.succeeded).toBe(20);
    expect(r.intervals.x).not.toBeNull();
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
  it('reports every resample to the reporter, then stops when unset; the terminal line shows count and ETA', async () => {
    const { bootstrap, setBootstrapProgress, bootstrapProgressLine } = await import('../../src/fit/index.ts');
    const seen: [number, number][] = [];
    setBootstrapProgress((done, total) => seen.push([done, total]));
    try {
      bootstrap(5, (rows) => ({ m: rows[0] }), { samples: 4, seed: 1 });
    } finally {
      setBootstrapProgress(null);
    }
    expect(seen).toEqual([[1, 4], [2, 4], [3, 4], [4, 4]]);
    bootstrap(5, (rows) => ({ m: rows[0] }), { samples: 4, seed: 1 });
    expect(seen).toHaveLength(4);
    const lines: string[] = [];
    const line = bootstrapProgressLine((s) => lines.push(s));
    line(10, 1000, 1); // under 2 s: silent
    line(100, 1000, 10);
    line(101, 1000, 11); // under 2 s since the last line: silent
    line(1000, 1000, 100);
    expect(lines).toEqual(['\rbootstrap 100/1000 resamples, 10 s so far, ETA 1m30s   ', `\rbootstrap 1000/1000 resamples in 1m40s${' '.repeat(20)}\n`]);
  });
});
