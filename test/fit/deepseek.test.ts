// DeepSeek hyperparameter laws: docs/references.md#deepseek check values, recovery of planted laws from
// (batch, lr) grids at several budgets via the 0.25% near-optimal band, and refusals.
import { describe, expect, it } from 'vitest';
import { DataError } from '../../src/errors.ts';
import { deepseekBatch, deepseekLr, fitDeepseek, type HyperparamPoint } from '../../src/fit/index.ts';

describe('published DeepSeek laws (docs/references.md#deepseek)', () => {
  const table: [number, number, number][] = [
    [1e20, 9.86e-4, 1.017e6],
    [1e18, 1.753e-3, 2.255e5],
    [1e22, 5.545e-4, 4.588e6],
  ];
  for (const [C, lr, B] of table) {
    it(`C = ${C.toExponential()} → η_opt ${lr}, B_opt ${B}`, () => {
      expect(deepseekLr(C) / lr).toBeCloseTo(1, 3);
      expect(deepseekBatch(C) / B).toBeCloseTo(1, 3);
    });
  }
});

/** Grid per budget: loss = L(C)·(1 + 0.01·[(ln lr − ln η*)² + 0.5·(ln B − ln B*)²]). */
function grid(): HyperparamPoint[] {
  const pts: HyperparamPoint[] = [];
  for (const C of [1e17, 1e18, 1e19, 1e20]) {
    const lrStar = deepseekLr(C);
    const bStar = deepseekBatch(C);
    for (let i = -3; i <= 3; i++) {
      for (let j = -3; j <= 3; j++) {
        const lr = lrStar * Math.pow(2, i / 2);
        const B = bStar * Math.pow(2, j);
        const dev = Math.log(lr / lrStar) ** 2 + 0.5 * Math.log(B / bStar) ** 2;
        pts.push({ budget: C, lr, batchTokens: B, loss: 5 * Math.pow(C, -0.03) * (1 + 0.01 * dev), label: `C${C}-${i}-${j}` });
      }
    }
  }
  return pts;
}

describe('fitDeepseek', () => {
  it('recovers the planted η_opt(C) and B_opt(C) from the near-optimal band (symmetric grids)', () => {
    const fit = fitDeepseek(grid(), { targetFlops: [1e21], bootstrap: 100, seed: 3 });
    expect(fit.params.aLr.value).toBeCloseTo(-0.125, 6);
    expect(fit.params.kLr.value / 0.3118).toBeCloseTo(1, 4);
    expect(fit.params.aBatch.value).toBeCloseTo(0.3271, 6);
    expect(fit.params.kBatch.value / 0.292).toBeCloseTo(1, 4);
    expect(fit.derived['lr_opt@1.00e21'].value / deepseekLr(1e21)).toBeCloseTo(1, 4);
    // The band holds the runs within 0.25% of the minimum: the centre and its nearest neighbours.
    for (const b of fit.perBudget) expect(b.nearOptimal.length).toBeGreaterThanOrEqual(3);
    expect(fit.heldOut.map((h) => h.label)).toEqual(['lr_opt at C = 1.00e20', 'batch_opt at C = 1.00e20']);
    for (const h of fit.heldOut) expect(Math.abs(h.relError)).toBeLessThan(1e-6);
  });

  it("'best' selection uses one run per budget", () => {
    const fit = fitDeepseek(grid(), { selection: 'best', holdout: 'none' });
    expect(fit.params.aLr.value).toBeCloseTo(-0.125, 6);
    for (const b of fit.perBudget) expect(b.nearOptimal).toHaveLength(1);
  });

  it('refuses a single budget and diverged (non-finite) runs', () => {
    expect(() => fitDeepseek(grid().filter((p) => p.budget === 1e18))).toThrow(DataError);
    expect(() => fitDeepseek(grid().filter((p) => p.budget === 1e18))).toThrow(/≥ 2 budgets, got 1/);
    const bad = grid();
    bad[5] = { ...bad[5], loss: Infinity };
    expect(() => fitDeepseek(bad)).toThrow(/C100000000000000000--3-2: loss must be a positive finite number \(got Infinity\)/);
  });
});
