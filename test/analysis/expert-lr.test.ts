import { describe, expect, it } from 'vitest';
import { analyseExpertLr, expertN, fiellerVertex, fitBestFactor, predictedRatio, runRouting, type FactorLoss } from '../../src/analysis/expert-lr.ts';
import { fCdf } from '../../src/analysis/student-t.ts';
import { createRng, type Rng } from '../../src/util/rng.ts';
import { synthRun } from './synthetic-runs.ts';

const GRID = [0.125, 0.25, 0.5, 1, 2];

/** L = 2 + seed effect + κ·(ln f − ln f*)² + noise: the best factor is f* by construction. */
function sweep(rng: Rng, fStar: number, seeds: number, kappa = 0.02, sigma = 0.004): FactorLoss[] {
  const out: FactorLoss[] = [];
  for (let s = 0; s < seeds; s++) {
    const seedEffect = 0.05 * rng.normal();
    for (const f of GRID) out.push({ factor: f, seed: s, loss: 2 + seedEffect + kappa * Math.log(f / fStar) ** 2 + sigma * rng.normal() });
  }
  return out;
}

describe('fitBestFactor', () => {
  it('recovers a known optimum and its Fieller interval covers it at ≈ 95%', () => {
    const rng = createRng(11);
    const fStar = 0.4;
    let covered = 0;
    let bounded = 0;
    const draws = 1500;
    for (let k = 0; k < draws; k++) {
      const b = fitBestFactor(sweep(rng, fStar, 3))!;
      expect(b.residualDf).toBe(15 - 3 - 2);
      if (b.optimum?.ci95) {
        bounded++;
        if (b.optimum.ci95[0] <= fStar && fStar <= b.optimum.ci95[1]) covered++;
      }
    }
    expect(bounded).toBe(draws);
    // Binomial SD at 1500 draws ≈ 0.0056.
    expect(covered / draws).toBeGreaterThan(0.93);
    expect(covered / draws).toBeLessThan(0.97);
    const noiseless = fitBestFactor(sweep(createRng(1), fStar, 3, 0.02, 1e-9))!;
    expect(noiseless.optimum!.value).toBeCloseTo(fStar, 5);
    expect(noiseless.bestGridFactor).toBe(0.5);
    expect(noiseless.edge).toBeNull();
  });

  it('says when the optimum lies beyond the grid, and when there is no minimum', () => {
    const edge = fitBestFactor(sweep(createRng(2), 0.05, 3, 0.02, 1e-4))!;
    expect(edge.edge).toBe('low');
    expect(edge.notes.join(' ')).toMatch(/below the smallest factor fitted/);
    const flat: FactorLoss[] = GRID.flatMap((f) => [0, 1, 2].map((s) => ({ factor: f, seed: s, loss: 2 - 0.01 * Math.log(f) ** 2 + 0.001 * s })));
    const none = fitBestFactor(flat)!;
    expect(none.optimum).toBeNull();
    expect(none.notes[0]).toMatch(/No minimum/);
    expect(fitBestFactor(flat.filter((p) => p.factor <= 0.25))).toBeUndefined();
  });

  it('Fieller: a resolved curvature gives the delta-method interval in the limit, an unresolved one none', () => {
    // Tiny variances: the interval shrinks to the vertex −c1/(2c2) = 0.5.
    const ci = fiellerVertex(-1, 1, 1e-10, 0, 1e-10, 2)!;
    expect(ci[0]).toBeCloseTo(0.5, 4);
    expect(ci[1]).toBeCloseTo(0.5, 4);
    expect(fiellerVertex(-1, 0.1, 0.01, 0, 0.01, 2)).toBeNull();
  });
});

describe('lack of fit', () => {
  it('flags a sweep whose loss is not a parabola in ln factor, and not a parabolic one', () => {
    const rng = createRng(4);
    const cubic: FactorLoss[] = [];
    for (let s = 0; s < 3; s++) {
      const e = 0.05 * rng.normal();
      for (const f of GRID) {
        const x = Math.log(f / 0.4);
        cubic.push({ factor: f, seed: s, loss: 2 + e + 0.02 * x * x + 0.01 * x ** 3 + 0.002 * rng.normal() });
      }
    }
    const bad = fitBestFactor(cubic)!;
    expect(bad.lackOfFit!.df1).toBe(2);
    expect(bad.lackOfFit!.df2).toBe(8);
    expect(bad.lackOfFit!.p).toBeLessThan(0.01);
    expect(bad.notes.join(' ')).toMatch(/not a parabola in ln factor/);
    const good = fitBestFactor(sweep(createRng(12), 0.4, 3))!;
    expect(good.lackOfFit!.p).toBeGreaterThan(0.05);
  });

  it('a 3-factor window around the best factor removes most of the asymmetry bias', () => {
    const pts: FactorLoss[] = [];
    for (let s = 0; s < 3; s++) for (const f of GRID) {
      const x = Math.log(f / 0.4);
      pts.push({ factor: f, seed: s, loss: 2 + 0.01 * s + 0.02 * x * x + 0.004 * x ** 3 });
    }
    const all = fitBestFactor(pts)!;
    const local = fitBestFactor(pts, 0.95, 3)!;
    expect(local.factors).toEqual([0.25, 0.5, 1]);
    expect(local.grid).toEqual(GRID);
    expect(Math.abs(Math.log(local.optimum!.value / 0.4))).toBeLessThan(0.5 * Math.abs(Math.log(all.optimum!.value / 0.4)));
  });

  it('F distribution: golden values', () => {
    expect(fCdf(1, 1, 1)).toBeCloseTo(0.5, 12);
    // Tabulated 95th percentiles: F(2, 10) = 4.1028, F(4, 20) = 2.8661.
    expect(fCdf(4.102821, 2, 10)).toBeCloseTo(0.95, 5);
    expect(fCdf(2.866081, 4, 20)).toBeCloseTo(0.95, 5);
  });
});

describe('predictedRatio', () => {
  it('is the paper ratio at n = E/k and widens over the B_noise interval and the measured n', () => {
    // docs/references.md#expert-lr: n = 16, u = 0.26 → 0.310.
    const p = predictedRatio({ batchTokens: 260, bNoise: { value: 1000, ci95: null }, numExperts: 16, topK: 1 });
    expect(p.value).toBeCloseTo(0.3098, 3);
    expect(p.range[0]).toBeCloseTo(p.value, 12);
    const w = predictedRatio({ batchTokens: 260, bNoise: { value: 1000, ci95: [500, 2000] }, numExperts: 16, topK: 1, measuredN: [9.8, 52.6] });
    expect(w.u.range[0]).toBeCloseTo(0.13, 12);
    expect(w.u.range[1]).toBeCloseTo(0.52, 12);
    // Increasing in u (n > 1); √n(1+u)/(n+u) falls with n here, so the corners bound it.
    const r = (u: number, n: number) => (Math.sqrt(n) * (1 + u)) / (n + u);
    expect(w.range[0]).toBeCloseTo(r(0.13, 52.6), 6);
    expect(w.range[1]).toBeCloseTo(r(0.52, 9.8), 6);
    expect(expertN(1 / 16, 1)).toBeCloseTo(16, 12);
    expect(expertN(1 / 8, 2)).toBeCloseTo(4, 12);
  });
});

describe('runRouting', () => {
  it('weights each logged interval by the steps it covers', () => {
    const run = synthRun({
      runId: 'r',
      tags: { study: 'arm', group: 'expert-lr', name: 'x', seed: 0, factor: 1 },
      finalValLoss: 2,
      metrics: [
        { step: 10, expertUsage: [0.4, 0.2, 0.2, 0.2], recycledTokenFraction: 0.1 },
        { step: 40, expertUsage: [0.1, 0.3, 0.3, 0.3], recycledTokenFraction: 0.2 },
        { step: 41 },
      ],
    });
    const r = runRouting(run)!;
    expect(r.shares[0]).toBeCloseTo((10 * 0.4 + 30 * 0.1) / 40, 12);
    expect(r.recycledFraction).toBeCloseTo((10 * 0.1 + 30 * 0.2) / 40, 12);
    expect(r.numExperts).toBe(4);
    expect(runRouting(synthRun({ runId: 'd', tags: { study: 'schedules', label: 'x', seed: 0 }, finalValLoss: 2 }))).toBeUndefined();
  });
});

describe('analyseExpertLr', () => {
  function arms(expertStar: number, controlStar: number) {
    const rng = createRng(5);
    const runs = [];
    // Factor 1 is the same base run for both groups: the control's curve passes through the expert curve's value there.
    const baseShift = 0.02 * Math.log(1 / expertStar) ** 2 - 0.02 * Math.log(1 / controlStar) ** 2;
    for (const seed of [0, 1, 2]) {
      const s = 0.03 * rng.normal();
      for (const f of GRID) {
        runs.push(synthRun({
          runId: `e${f}-${seed}`, tags: { study: 'arm', group: 'expert-lr', name: `expert ×${f}`, seed, factor: f },
          finalValLoss: 2 + s + 0.02 * Math.log(f / expertStar) ** 2 + 0.002 * rng.normal(),
          metrics: [{ step: 100, expertUsage: [0.4, 0.3, 0.2, 0.1], recycledTokenFraction: 0.1 }],
        }));
        if (f !== 1) runs.push(synthRun({ runId: `c${f}-${seed}`, tags: { study: 'arm', group: 'lr-control', name: `all ×${f}`, seed, factor: f }, finalValLoss: 2 + s + 0.02 * Math.log(f / controlStar) ** 2 + baseShift + 0.002 * rng.normal() }));
      }
    }
    return runs;
  }

  it('calls an expert optimum below 1 evidence only when the control does not also prefer a cut', () => {
    const bNoise = { value: 4 * 512, ci95: [1000, 4000] as [number, number] };
    // Control best at 1 (its factor-1 point is the shared base run).
    const good = analyseExpertLr(arms(0.3, 1), bNoise);
    expect(good.expert!.optimum!.ci95![1]).toBeLessThan(1);
    expect(good.judgement).toBe('supported');
    expect(good.routing.share).toEqual({ min: 0.1, max: 0.4, uniform: 0.25 });
    // n per expert = 1/share (k = 1): 2.5 … 10.
    expect(good.predicted!.n.measured).toEqual([2.5, 10]);
    expect(good.predicted!.batchTokens).toBe(512);
    const bad = analyseExpertLr(arms(0.3, 0.5), bNoise);
    expect(bad.judgement).toBe('confounded');
    expect(bad.verdict.join(' ')).toMatch(/a cut to every LR helps/);
    const noControl = analyseExpertLr(arms(0.3, 1).filter((r) => r.tags?.study === 'arm' && (r.tags as { group: string }).group === 'expert-lr'), bNoise);
    expect(noControl.judgement).toBe('no control');
    expect(analyseExpertLr(arms(1, 1), bNoise).judgement).toBe('not supported');
  });
});
