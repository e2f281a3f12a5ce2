import { describe, expect, it } from 'vitest';
import {
  CHINCHILLA_SURFACE,
  chinchillaExponents,
  chinchillaLoss,
  chinchillaOptimum,
  coverage,
  simulateIsoflopSweep,
  simulateScheduleCurves,
  simulateSurgeGrid,
  surgeCurve,
  surgeEpsOpt,
  surgeSteps,
  tissueCurve,
} from '../../src/analysis/simulate.ts';
import { createRng } from '../../src/util/rng.ts';

const sd = (xs: number[]) => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
};

describe('isoFLOP surface', () => {
  it("Chinchilla's published surface gives N_opt ∝ C^0.45, D_opt ∝ C^0.55", () => {
    // a = β/(α+β) = 0.28/0.62, b = 0.34/0.62 (Hoffmann et al. report 0.46 / 0.54 for approach 3)
    const { a, b } = chinchillaExponents(CHINCHILLA_SURFACE);
    expect(a).toBeCloseTo(0.28 / 0.62, 12);
    expect(b).toBeCloseTo(0.34 / 0.62, 12);
    expect(a + b).toBeCloseTo(1, 12);
  });

  it('the closed-form optimum is the minimum along the isoFLOP line (brute force) and scales as C^a', () => {
    for (const C of [1e18, 1e21, 5.76e23]) {
      const opt = chinchillaOptimum(CHINCHILLA_SURFACE, C);
      expect(6 * opt.N * opt.D).toBeCloseTo(C, -Math.floor(Math.log10(C)) + 9);
      let best = { N: 0, loss: Infinity };
      for (let lnN = Math.log(opt.N) - 2; lnN <= Math.log(opt.N) + 2; lnN += 1e-4) {
        const N = Math.exp(lnN);
        const loss = chinchillaLoss(CHINCHILLA_SURFACE, N, C / (6 * N));
        if (loss < best.loss) best = { N, loss };
      }
      expect(best.N / opt.N).toBeGreaterThan(0.999);
      expect(best.N / opt.N).toBeLessThan(1.001);
      expect(opt.loss).toBeCloseTo(best.loss, 9);
    }
    const r = chinchillaOptimum(CHINCHILLA_SURFACE, 1e22).N / chinchillaOptimum(CHINCHILLA_SURFACE, 1e20).N;
    expect(Math.log(r) / Math.log(100)).toBeCloseTo(chinchillaExponents(CHINCHILLA_SURFACE).a, 12);
    // Chinchilla's own budget (5.76e23 FLOPs): tens of billions of parameters, ~20 tokens each
    const chinchilla = chinchillaOptimum(CHINCHILLA_SURFACE, 5.76e23);
    expect(chinchilla.N).toBeGreaterThan(2e10);
    expect(chinchilla.N).toBeLessThan(6e10);
  });

  it('simulates every cell in the D/N window, once per seed, with noise of the stated size', () => {
    const opts = {
      surface: CHINCHILLA_SURFACE,
      budgets: [1e18, 1e19],
      sizes: [1e7, 3e7, 1e8, 3e8, 1e9],
      seeds: [0, 1, 2],
      noise: { seedSd: 0.02, evalSd: 0.004 },
      tokensPerParam: { min: 1, max: 1000 },
    };
    const runs = simulateIsoflopSweep(opts, createRng(1));
    // D/N = C/(6N²) must lie in the window (e.g. 1e7 at 1e18 has 1667 tokens per parameter: left out)
    for (const r of runs) {
      expect(r.D / r.N).toBeGreaterThanOrEqual(1);
      expect(r.D / r.N).toBeLessThanOrEqual(1000);
      expect(r.trueLoss).toBeCloseTo(chinchillaLoss(CHINCHILLA_SURFACE, r.N, r.C / (6 * r.N)), 12);
      expect(r.lossStderr).toBe(0.004);
    }
    expect(runs.some((r) => r.N === 1e7 && r.C === 1e18)).toBe(false);
    expect(runs.length % 3).toBe(0);
    expect(new Set(runs.map((r) => `${r.C}-${r.N}`)).size).toBe(runs.length / 3);
    // same rng seed, same sweep; another seed, another draw
    expect(simulateIsoflopSweep(opts, createRng(1))).toEqual(runs);
    expect(simulateIsoflopSweep(opts, createRng(2))[0].loss).not.toBe(runs[0].loss);
    // residual SD = √(seedSd² + evalSd²) over many draws
    const many = simulateIsoflopSweep({ ...opts, seeds: Array.from({ length: 400 }, (_, i) => i) }, createRng(3));
    const resid = many.map((r) => r.loss - r.trueLoss);
    expect(sd(resid)).toBeGreaterThan(Math.hypot(0.02, 0.004) * 0.95);
    expect(sd(resid)).toBeLessThan(Math.hypot(0.02, 0.004) * 1.05);
    // no noise: the law itself
    const exact = simulateIsoflopSweep({ ...opts, noise: { seedSd: 0, evalSd: 0 } }, createRng(1));
    for (const r of exact) expect(r.loss).toBe(r.trueLoss);
  });
});

describe('LR × batch (surge)', () => {
  const law = { epsMax: 0.06, bNoise: 500, sMin: 180, curvature: 0.3 };

  it('the optimal LR peaks at ε_max at B = B_noise and is symmetric in ln(B/B_noise)', () => {
    expect(surgeEpsOpt(500, 0.06, 500)).toBeCloseTo(0.06, 12);
    expect(surgeEpsOpt(125, 0.06, 500)).toBeCloseTo(surgeEpsOpt(2000, 0.06, 500), 12);
    // B = B_noise/4: 2ε/(2 + 1/2) = 0.8 ε_max
    expect(surgeEpsOpt(125, 0.06, 500)).toBeCloseTo(0.048, 12);
  });

  it('steps to target: S_min(1 + B_noise/B) at the best LR, more on either side', () => {
    for (const B of [128, 512, 8192]) {
      const best = surgeEpsOpt(B, law.epsMax, law.bNoise);
      expect(surgeSteps(law, B, best)).toBeCloseTo(180 * (1 + 500 / B), 9);
      // one e-fold off the best LR costs a factor 1 + κ
      expect(surgeSteps(law, B, best * Math.E)).toBeCloseTo(surgeSteps(law, B, best) * 1.3, 9);
      expect(surgeSteps(law, B, best / Math.E)).toBeCloseTo(surgeSteps(law, B, best) * 1.3, 9);
    }
  });

  it('simulates the grid with log-normal seed noise and refuses mismatched LR rows', () => {
    const batches = [128, 512, 2048];
    const lrs = batches.map((B) => [0.5, 1, 2].map((f) => f * surgeEpsOpt(B, law.epsMax, law.bNoise)));
    const seeds = Array.from({ length: 300 }, (_, i) => i);
    const runs = simulateSurgeGrid({ law, batches, lrs, seeds, noise: { seedSd: 0.1 } }, createRng(4));
    expect(runs).toHaveLength(3 * 3 * 300);
    const logRatio = runs.map((r) => Math.log(r.steps / r.trueSteps));
    expect(sd(logRatio)).toBeGreaterThan(0.095);
    expect(sd(logRatio)).toBeLessThan(0.105);
    expect(() => simulateSurgeGrid({ law, batches, lrs: lrs.slice(1), seeds, noise: { seedSd: 0 } }, createRng(1))).toThrow(/lrs has 2 rows for 3 batches/);
  });

  it('a simulated curve crosses the target at the given step', () => {
    const rows = surgeCurve({ target: 2.35, stepsToTarget: 400, totalSteps: 800, logEvery: 10 }, createRng(1));
    expect(rows).toHaveLength(80);
    expect(rows.find((r) => r.step === 400)!.loss).toBeCloseTo(2.35, 12);
    expect(rows.find((r) => r.step === 390)!.loss).toBeGreaterThan(2.35);
    expect(rows.find((r) => r.step === 410)!.loss).toBeLessThan(2.35);
  });
});

describe('schedule law (Tissue et al. momentum form)', () => {
  const law = { L0: 2, A: 1, alpha: 0.5, C: 0.3, lambda: 0.5 };

  it('hand-worked: η = 0, 1, 1, 0.5', () => {
    // S1 = 1, 2, 2.5; m = −1, −0.5, 0.25; S2 = −1, −1.5, −1.25
    const L = tissueCurve(law, [0, 1, 1, 0.5]);
    expect(L[0]).toBeCloseTo(2 + 1 - 0.3 * -1, 12);
    expect(L[1]).toBeCloseTo(2 + 2 ** -0.5 - 0.3 * -1.5, 12);
    expect(L[2]).toBeCloseTo(2 + 2.5 ** -0.5 - 0.3 * -1.25, 12);
  });

  it('annealing lowers the loss below a constant LR of the same start', () => {
    const T = 1000;
    const constant = [0, ...Array.from({ length: T }, () => 1e-2)];
    const decay = [0, ...Array.from({ length: T }, (_, i) => (i < 800 ? 1e-2 : 1e-2 * (1 - (i - 799) / 250)))];
    const p = { L0: 2, A: 0.5, alpha: 0.4, C: 20, lambda: 0.999 };
    const a = tissueCurve(p, constant);
    const b = tissueCurve(p, decay);
    expect(b[799]).toBe(a[799]);
    expect(b[T - 1]).toBeLessThan(a[T - 1]);
  });

  it('simulates logged curves: one seed offset per curve, evaluation noise per point', () => {
    const T = 200;
    const lrs = [0, ...Array.from({ length: T }, () => 1e-2)];
    const curves = simulateScheduleCurves(
      { law: { ...law, lambda: 0.999 }, schedules: [{ name: 'const', lrs }], logEvery: 30, seeds: [0, 1], noise: { seedSd: 0.05, evalSd: 0 } },
      createRng(9),
    );
    expect(curves).toHaveLength(2);
    expect(curves[0].steps).toEqual([30, 60, 90, 120, 150, 180, 200]);
    expect(curves[0].lrs.every((v) => v === 1e-2)).toBe(true);
    // no eval noise: every point is shifted by the same seed offset
    const shifts = curves[0].losses.map((l, i) => l - curves[0].trueLosses[i]);
    for (const s of shifts) expect(s).toBeCloseTo(shifts[0], 12);
    expect(curves[1].losses[0] - curves[1].trueLosses[0]).not.toBeCloseTo(shifts[0], 6);
  });
});

describe('coverage', () => {
  it('counts intervals containing the truth; non-finite bounds are misses', () => {
    expect(coverage([[0, 2], [1.5, 3], [-1, 0.5], [NaN, 4]], 1)).toEqual({ coverage: 0.25, n: 4 });
    expect(coverage([], 1).coverage).toBeNaN();
  });

  it('a correct 95% interval of a simulated mean covers at the nominal rate', () => {
    const rng = createRng(21);
    const intervals: [number, number][] = [];
    for (let i = 0; i < 1000; i++) {
      const x = Array.from({ length: 30 }, () => 1 + 0.2 * rng.normal());
      const m = x.reduce((a, b) => a + b, 0) / 30;
      const se = 0.2 / Math.sqrt(30);
      intervals.push([m - 1.96 * se, m + 1.96 * se]);
    }
    const c = coverage(intervals, 1).coverage;
    expect(c).toBeGreaterThan(0.93);
    expect(c).toBeLessThan(0.97);
  });
});
