import { describe, expect, it } from 'vitest';
import { noiseFloor } from '../../src/analysis/noise.ts';
import { pairedComparisons, pairedDifference, pairedVerdict, tInterval } from '../../src/analysis/paired.ts';
import { incompleteBeta, studentTCdf, studentTQuantile } from '../../src/analysis/student-t.ts';
import { createRng } from '../../src/util/rng.ts';
import { synthRun } from './synthetic-runs.ts';

describe('Student t', () => {
  it('matches tabulated quantiles and closed forms', () => {
    // Tabulated two-sided 95% and one-sided 80% points (any statistics table).
    expect(studentTQuantile(0.975, 1)).toBeCloseTo(12.7062047, 5);
    expect(studentTQuantile(0.975, 2)).toBeCloseTo(4.30265273, 6);
    expect(studentTQuantile(0.975, 4)).toBeCloseTo(2.77644511, 6);
    expect(studentTQuantile(0.975, 10)).toBeCloseTo(2.22813885, 6);
    expect(studentTQuantile(0.975, 30)).toBeCloseTo(2.04227246, 6);
    expect(studentTQuantile(0.8, 2)).toBeCloseTo(1.06066017, 6);
    expect(studentTQuantile(0.8, 4)).toBeCloseTo(0.94096457, 6);
    expect(studentTQuantile(0.025, 4)).toBeCloseTo(-2.77644511, 6);
    // df = 1 is Cauchy: F(t) = 1/2 + atan(t)/π; df = 2: F(t) = 1/2 + t/(2√(2 + t²)).
    for (const t of [-3, -0.5, 0.7, 4]) {
      expect(studentTCdf(t, 1)).toBeCloseTo(0.5 + Math.atan(t) / Math.PI, 12);
      expect(studentTCdf(t, 2)).toBeCloseTo(0.5 + t / (2 * Math.sqrt(2 + t * t)), 12);
    }
    // I_x(1, 1) = x; I_x(a, 1) = x^a.
    expect(incompleteBeta(0.3, 1, 1)).toBeCloseTo(0.3, 13);
    expect(incompleteBeta(0.6, 2.5, 1)).toBeCloseTo(0.6 ** 2.5, 12);
  });
});

describe('paired differences', () => {
  it('cover a known mean difference at the nominal 95% (simulated seeds, shared seed effect)', () => {
    const rng = createRng(7);
    const trueDiff = -0.01;
    for (const n of [3, 5]) {
      let covered = 0;
      let resolvedWrongSign = 0;
      const draws = 4000;
      for (let k = 0; k < draws; k++) {
        // Seed effect (large, common to both arms) + independent run noise.
        const seeds = Array.from({ length: n }, (_, i) => i);
        const common = seeds.map(() => 0.05 * rng.normal());
        const a = seeds.map((s) => ({ seed: s, loss: 2 + trueDiff + common[s] + 0.008 * rng.normal() }));
        const b = seeds.map((s) => ({ seed: s, loss: 2 + common[s] + 0.008 * rng.normal() }));
        const d = pairedDifference('test', { name: 'a', runs: a }, { name: 'b', runs: b });
        if (d.ci95![0] <= trueDiff && trueDiff <= d.ci95![1]) covered++;
        if (d.winner === 'b') resolvedWrongSign++;
      }
      const cov = covered / draws;
      // Binomial SD of the coverage at 4000 draws is 0.0034: ±0.015 is over 4 SD.
      expect(cov).toBeGreaterThan(0.935);
      expect(cov).toBeLessThan(0.965);
      expect(resolvedWrongSign / draws).toBeLessThan(0.01);
    }
  });

  it('resolves a detectable effect and declines one below the noise, with the minimum detectable difference', () => {
    const seeds = [0, 1, 2];
    const big = pairedDifference('x', { name: 'wsd', runs: seeds.map((s) => ({ seed: s, loss: 2.0 + 0.01 * s })) }, { name: 'cosine', runs: seeds.map((s, i) => ({ seed: s, loss: 2.05 + 0.01 * s + [0.001, -0.001, 0][i] })) });
    expect(big.resolved).toBe(true);
    expect(big.winner).toBe('wsd');
    expect(pairedVerdict(big)).toMatch(/^wsd lower than cosine by 0\.05 nats/);
    const small = pairedDifference('x', { name: 'a', runs: seeds.map((s, i) => ({ seed: s, loss: 2 + [0.01, -0.01, 0.002][i] })) }, { name: 'b', runs: seeds.map((s) => ({ seed: s, loss: 2 })) });
    expect(small.resolved).toBe(false);
    expect(small.winner).toBeNull();
    // MDD = (t.975,2 + t.80,2)·sd/√3.
    const sd = small.sd!;
    expect(small.minDetectable).toBeCloseTo(((4.30265273 + 1.06066017) * sd) / Math.sqrt(3), 6);
    expect(pairedVerdict(small)).toMatch(/not resolved at this noise level.*resolvable at 80% power with this n: \|difference\| ≥/);
  });

  it('pairs by seed only, and says so when a seed is missing or only one pair exists', () => {
    const d = pairedDifference('x', { name: 'a', runs: [{ seed: 1, loss: 2 }, { seed: 2, loss: 2.1 }] }, { name: 'b', runs: [{ seed: 2, loss: 2.2 }, { seed: 3, loss: 2 }] });
    expect(d.seeds).toEqual([2]);
    expect(d.unpairedSeeds).toEqual([1, 3]);
    expect(d.ci95).toBeNull();
    expect(pairedVerdict(d)).toMatch(/one paired seed/);
    expect(tInterval([0.1]).ci).toBeNull();
  });
});

describe('pairedComparisons from run tags', () => {
  it('pairs schedules, confirmation arms, ablations and LR factors against factor 1', () => {
    const runs = [];
    for (const seed of [0, 1, 2]) {
      for (const [label, off] of [['wsd', 0], ['cosine', 0.03], ['hunyuan', 0.01]] as const) runs.push(synthRun({ runId: `s-${label}-${seed}`, tags: { study: 'schedules', label, seed }, finalValLoss: 2 + off + 0.01 * seed + 0.001 * ((seed * 7) % 3) }));
      for (const f of [0.25, 0.5, 1, 2]) runs.push(synthRun({ runId: `e-${f}-${seed}`, tags: { study: 'arm', group: 'expert-lr', name: `expert ×${f}`, seed, factor: f }, finalValLoss: 2 + 0.02 * Math.log(f) ** 2 + 0.01 * seed }));
      for (const f of [0.5, 2]) runs.push(synthRun({ runId: `c-${f}-${seed}`, tags: { study: 'arm', group: 'lr-control', name: `all ×${f}`, seed, factor: f }, finalValLoss: 2.01 + 0.01 * seed }));
      for (const name of ['recycle', 'drop']) runs.push(synthRun({ runId: `r-${name}-${seed}`, tags: { study: 'arm', group: 'ablation', comparison: 'routing', name, seed }, finalValLoss: 2 + (name === 'drop' ? 0.004 * (seed - 1) : 0) }));
    }
    runs.push(synthRun({ runId: 'diverged', tags: { study: 'schedules', label: 'wsd', seed: 9 }, finalValLoss: NaN, status: 'diverged' }));
    const all = pairedComparisons(runs);
    const sched = all.filter((d) => d.comparison === 'schedules');
    expect(sched.map((d) => `${d.a}/${d.b}`)).toEqual(['cosine/hunyuan', 'cosine/wsd', 'hunyuan/wsd']);
    expect(sched.find((d) => d.a === 'cosine' && d.b === 'wsd')!.winner).toBe('wsd');
    const e = all.filter((d) => d.comparison === 'expert-lr');
    expect(e.map((d) => d.a)).toEqual(['expert-lr ×0.25', 'expert-lr ×0.5', 'expert-lr ×2']);
    expect(e[0].mean).toBeCloseTo(0.02 * Math.log(0.25) ** 2, 10);
    // lr-control has no factor-1 arm of its own: it is paired with expert-lr ×1 (the same base configuration).
    const c = all.filter((d) => d.comparison === 'lr-control');
    expect(c.map((d) => d.a)).toEqual(['lr-control ×0.5', 'lr-control ×2']);
    expect(c[0].mean).toBeCloseTo(0.01, 10);
    const routing = all.find((d) => d.comparison === 'ablation: routing')!;
    expect(routing.resolved).toBe(false);
    expect(routing.n).toBe(3);
  });
});

describe('noiseFloor', () => {
  it('recovers a known seed SD and says "not measured" for one seed', () => {
    const rng = createRng(3);
    const sigma = 0.02;
    const runs = [];
    for (let cell = 0; cell < 40; cell++) {
      for (let seed = 0; seed < 4; seed++) {
        runs.push(synthRun({ runId: `c${cell}-s${seed}`, tags: { study: 'isoflop', budgetFlops: 1e10, size: 1000 + cell, seed }, finalValLoss: 2 + 0.1 * cell + sigma * rng.normal(), finalValLossStderr: 0.004 }));
      }
    }
    runs.push(synthRun({ runId: 'lonely', tags: { study: 'schedules', label: 'wsd', seed: 0 }, finalValLoss: 2.5, finalValLossStderr: 0.003 }));
    const nf = noiseFloor(runs);
    expect(nf.cells).toHaveLength(41);
    // 120 df: the pooled SD's relative SE is ≈ 1/√240 ≈ 6.5%.
    expect(nf.pooledSeedSd!.df).toBe(120);
    expect(nf.pooledSeedSd!.value).toBeGreaterThan(sigma * 0.85);
    expect(nf.pooledSeedSd!.value).toBeLessThan(sigma * 1.15);
    const lonely = nf.cells.find((c) => c.study === 'schedules')!;
    expect(lonely.seedSd).toBeNull();
    expect(lonely.evalStderr).toBeCloseTo(0.003, 12);
    expect(nf.cells[0].cell).toBe('budget 1.00e10 · N 1000');
    expect(nf.cells.every((c) => c.duplicateOf === undefined)).toBe(true);
  });

  it('counts a baseline shared by several comparisons once (same configuration and seeds, other tags)', () => {
    const arm = (comparison: string, name: string, seed: number, loss: number, model?: { numKvHeads: number }) =>
      synthRun({
        runId: `${comparison}-${name}-s${seed}`,
        tags: { study: 'arm', group: 'ablation', comparison, name, seed },
        finalValLoss: loss,
        finalValLossStderr: 0.003,
        ...(model ? { model: { dModel: 32, numLayers: 2, numHeads: 2, numKvHeads: model.numKvHeads, dFf: 64, numExperts: 4, numSharedExperts: 1, topK: 1, seqLen: 64 } } : {}),
      });
    const runs = [
      arm('routing', 'recycle', 0, 2.5), arm('routing', 'recycle', 1, 2.6),
      arm('kv-heads', '1 KV head', 0, 2.5), arm('kv-heads', '1 KV head', 1, 2.6),
      arm('kv-heads', '2 KV heads', 0, 2.3, { numKvHeads: 2 }), arm('kv-heads', '2 KV heads', 1, 2.5, { numKvHeads: 2 }),
    ];
    const nf = noiseFloor(runs);
    expect(nf.cells.map((c) => c.duplicateOf ?? null)).toEqual([null, 'ablation · routing · recycle', null]);
    // Two distinct cells of 2 seeds: 2 df, pooled over (0.1²/2 + 0.2²/2) / 2.
    expect(nf.pooledSeedSd).toMatchObject({ df: 2, cells: 2 });
    expect(nf.pooledSeedSd!.value).toBeCloseTo(Math.sqrt((0.005 + 0.02) / 2), 10);
  });

  it('counts an isoFLOP cell planned as its scan run once (the loader\'s sameRunAs), whatever its tags', () => {
    const scan = [0, 1].map((seed) => synthRun({ runId: `scan-s${seed}`, tags: { study: 'grid', point: { stage: 'lr-scan', size: 1000, lr: 0.01 }, seed }, finalValLoss: 2.5 + 0.1 * seed }));
    const iso = scan.map((r, seed) => ({ ...synthRun({ runId: `iso-s${seed}`, tags: { study: 'isoflop', budgetFlops: 1e10, size: 1000, lr: 0.01, seed }, finalValLoss: 2.5 + 0.1 * seed }), sameRunAs: r.runId }));
    const other = [0, 1].map((seed) => synthRun({ runId: `iso2-s${seed}`, tags: { study: 'isoflop', budgetFlops: 3e10, size: 1000, lr: 0.01, seed }, finalValLoss: 2.4 + 0.3 * seed }));
    const nf = noiseFloor([...iso, ...other, ...scan]);
    expect(nf.cells.map((c) => c.duplicateOf ?? null)).toEqual([null, null, 'budget 1.00e10 · N 1000 · lr 0.01']);
    // Two cells count: (0.1² / 2 + 0.3² / 2) / 2.
    expect(nf.pooledSeedSd).toMatchObject({ df: 2, cells: 2 });
    expect(nf.pooledSeedSd!.value).toBeCloseTo(Math.sqrt((0.005 + 0.045) / 2), 10);
  });
});
