// Surge fit: the expert-LR ratio table of PAPER.md §3.2, recovery of planted (ε_max, B_noise) from
// an LR × batch grid, held-out prediction of the largest batch, reproducible intervals, refusals.
import { describe, expect, it } from 'vitest';
import { DataError } from '../../src/errors.ts';
import { epsOpt, expertLrRatio, fitSurge, type SurgePoint } from '../../src/fit/index.ts';
import { createRng } from '../../src/util/rng.ts';

const EPS_MAX = 3e-3;
const B_NOISE = 2e6;

/** LR × batch grid: loss = 3 + 0.02·(ln lr − ln ε_opt(B))² + noise. */
function grid(noise: number, batches = [2.5e5, 5e5, 1e6, 2e6, 4e6, 8e6]): SurgePoint[] {
  const rng = createRng(12);
  const pts: SurgePoint[] = [];
  for (const B of batches) {
    const best = epsOpt(B, EPS_MAX, B_NOISE);
    for (let k = -3; k <= 3; k++) {
      const lr = best * Math.exp(0.5 * k + 0.13);
      pts.push({ batchTokens: B, lr, loss: 3 + 0.02 * Math.log(lr / best) ** 2 + noise * rng.normal(), label: `B${B}-k${k}` });
    }
  }
  return pts;
}

describe('expertLrRatio (PAPER.md §3.2 table, n = 16)', () => {
  const table: [number, number][] = [
    [0.01, 0.252],
    [0.1, 0.273],
    [0.26, 0.31],
    [0.5, 0.364],
    [1, 0.471],
    [2, 0.667],
    [16, 2.125],
  ];
  for (const [u, r] of table) {
    it(`u = B/B_noise = ${u} → r = ${r}`, () => {
      expect(expertLrRatio(u * 1e6, 1e6, 16, 1)).toBeCloseTo(r, 3);
      // Same as ε_opt(B/n)/ε_opt(B) directly.
      expect(expertLrRatio(u * 1e6, 1e6, 16, 1)).toBeCloseTo(epsOpt((u * 1e6) / 16, 1, 1e6) / epsOpt(u * 1e6, 1, 1e6), 12);
    });
  }
  it('top-k of E uses n = E/k', () => {
    expect(expertLrRatio(2e5, 1e6, 32, 2)).toBeCloseTo(expertLrRatio(2e5, 1e6, 16, 1), 12);
  });
});

describe('fitSurge', () => {
  it('recovers ε_max and B_noise exactly from a noise-free grid', () => {
    const fit = fitSurge(grid(0), { expertLr: { numExperts: 16, topK: 1, batchTokens: 0.26 * B_NOISE } });
    expect(fit.params.epsMax.value / EPS_MAX).toBeCloseTo(1, 8);
    expect(fit.params.Bnoise.value / B_NOISE).toBeCloseTo(1, 8);
    expect(fit.derived.expertLrRatio.value).toBeCloseTo(0.31, 3);
    fit.perBatch.forEach((b) => expect(b.bestLr.value / epsOpt(b.batchTokens, EPS_MAX, B_NOISE)).toBeCloseTo(1, 9));
    expect(fit.heldOut[0].label).toBe('best lr at B = 8.00e6 tokens');
    expect(Math.abs(fit.heldOut[0].relError)).toBeLessThan(1e-8);
    expect(fit.curve.length).toBe(50);
    expect(fit.notes.join(' ')).toMatch(/surge peak is observed/);
  });

  it('gives reproducible intervals covering the truth from a noisy grid', () => {
    const a = fitSurge(grid(0.002), { bootstrap: 150, seed: 4 });
    const b = fitSurge(grid(0.002), { bootstrap: 150, seed: 4 });
    expect(a.params.Bnoise.ci95).toEqual(b.params.Bnoise.ci95);
    const [lo, hi] = a.params.Bnoise.ci95 as [number, number];
    expect(lo).toBeLessThan(B_NOISE);
    expect(hi).toBeGreaterThan(B_NOISE);
    expect(a.params.epsMax.value / EPS_MAX).toBeCloseTo(1, 1);
  });

  it('flags a grid that sees only the rising side of the surge', () => {
    const fit = fitSurge(grid(0, [1e4, 2e4, 4e4]), { holdout: 'none' });
    expect(fit.notes.join(' ')).toMatch(/only one side of the surge is observed/);
  });

  it('refuses a batch whose best LR is at the edge of the grid, and a single batch size', () => {
    const pts = grid(0).filter((p) => !(p.batchTokens === 1e6 && /k-[123]$/.test(p.label as string)));
    expect(() => fitSurge(pts)).toThrow(DataError);
    expect(() => fitSurge(pts)).toThrow(/batch 1\.00e6 tokens has no interior best learning rate .*Extend the LR grid/);
    expect(() => fitSurge(grid(0).filter((p) => p.batchTokens === 1e6))).toThrow(/need best learning rates at ≥ 2 batch sizes, got 1/);
    const bad = grid(0);
    bad[0] = { ...bad[0], loss: NaN };
    expect(() => fitSurge(bad)).toThrow(/B250000-k-3: loss must be a positive finite number \(got NaN\)/);
  });
});
