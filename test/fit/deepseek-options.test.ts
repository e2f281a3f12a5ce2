// DeepSeek-style hyperparameter laws beyond C: a group column separate from the regressor, labels
// from the regressor's name, R² per law, the two-variable laws η = k·N^a·D^b and B = k·N^a·D^b,
// predictions with intervals and the constant-loss refusal — each on grids from a planted law.
import { describe, expect, it } from 'vitest';
import { DataError } from '../../src/errors.ts';
import { fitDeepseek, type HyperparamPoint } from '../../src/fit/index.ts';
import { createRng } from '../../src/util/rng.ts';

const lrTrue = (N: number, D: number) => 0.5 * Math.pow(N, -0.3) * Math.pow(D, 0.1);
const bTrue = (N: number, D: number) => 2 * Math.pow(N, 0.2) * Math.pow(D, 0.4);

/** (lr, batch) grids in every (N, D) cell; the loss level falls with N and D; optional noise on the loss. */
function cells(noise = 0, seed = 1): (HyperparamPoint & { N: number; D: number })[] {
  const rng = createRng(seed);
  const pts: (HyperparamPoint & { N: number; D: number })[] = [];
  for (const N of [1e7, 3e7, 1e8, 3e8]) {
    for (const D of [1e9, 3e9, 1e10, 3e10]) {
      const level = 2 + 300 * Math.pow(N, -0.3) + 900 * Math.pow(D, -0.3);
      for (let i = -3; i <= 3; i++) {
        for (let j = -3; j <= 3; j++) {
          const lr = lrTrue(N, D) * Math.pow(2, i / 2);
          const B = bTrue(N, D) * Math.pow(2, j);
          const dev = Math.log(lr / lrTrue(N, D)) ** 2 + 0.5 * Math.log(B / bTrue(N, D)) ** 2;
          pts.push({ N, D, budget: N, x2: D, lr, batchTokens: B, loss: level * (1 + 0.01 * dev) * (1 + noise * rng.normal()), label: `N${N}-D${D}-${i}-${j}` });
        }
      }
    }
  }
  return pts;
}

describe('fitDeepseek two-variable laws', () => {
  it('recovers η = k·N^a·D^b and B = k·N^a·D^b exactly from the cells\' best runs, with labels from the names', () => {
    const fit = fitDeepseek(cells(), { selection: 'best', xName: 'N', x2Name: 'D' });
    expect(fit.params.aLr.value).toBeCloseTo(-0.3, 9);
    expect(fit.params.bLr.value).toBeCloseTo(0.1, 9);
    expect(fit.params.kLr.value / 0.5).toBeCloseTo(1, 7);
    expect(fit.params.aBatch.value).toBeCloseTo(0.2, 9);
    expect(fit.params.bBatch.value).toBeCloseTo(0.4, 9);
    expect(fit.form).toBe('lr_opt = kLr * N^aLr * D^bLr; batch_opt = kBatch * N^aBatch * D^bBatch');
    expect(fit.laws.lr.r2).toBeCloseTo(1, 9);
    expect(fit.perBudget).toHaveLength(16);
    expect(fit.heldOut[0].label).toMatch(/^lr_opt at N = 3\.00e8, D = /);
    for (const h of fit.heldOut) expect(Math.abs(h.relError)).toBeLessThan(1e-9);
  });

  it('predicts rows with intervals covering the planted law', () => {
    const fit = fitDeepseek(cells(0.002, 2), { xName: 'N', x2Name: 'D', bootstrap: 100, seed: 1, predict: [{ x: 1e9, x2: 1e11 }] });
    const p = fit.predictions![0];
    expect(p.label).toBe('N = 1.00e9, D = 1.00e11');
    expect(p.inputs).toEqual({ N: 1e9, D: 1e11 });
    const [lo, hi] = p.values.lr_opt.ci95!;
    expect(lo).toBeLessThan(lrTrue(1e9, 1e11));
    expect(hi).toBeGreaterThan(lrTrue(1e9, 1e11));
  });
});

describe('fitDeepseek group separate from the regressor', () => {
  it('with D as the regressor, grouping by D merges sizes (biased); grouping by the (N, D) cell does not', () => {
    // One-variable law in D, with lr_opt also depending on N: DeepSeek's fit across sizes.
    const oneVar = cells().map(({ x2, ...p }) => ({ ...p, budget: p.D, group: `${p.N}|${p.D}` }));
    const merged = fitDeepseek(oneVar.map(({ group, ...p }) => p), { selection: 'best', xName: 'D', holdout: 'none' });
    const grouped = fitDeepseek(oneVar, { selection: 'best', xName: 'D', groupName: '(N, D)', holdout: 'none' });
    // Merged: only the largest N wins each D group (4 groups); grouped: all 16 cells.
    expect(merged.perBudget).toHaveLength(4);
    expect(grouped.perBudget).toHaveLength(16);
    // Averaged over the sizes, the grouped fit's exponent in D is the planted 0.1; the merged one is too,
    // but its level is the largest model's (lr falls with N): k off by the factor (3e8 / mean N)^0.3.
    expect(grouped.params.aLr.value).toBeCloseTo(0.1, 9);
    const gmN = Math.exp((Math.log(1e7) + Math.log(3e7) + Math.log(1e8) + Math.log(3e8)) / 4);
    expect(grouped.params.kLr.value / (0.5 * Math.pow(gmN, -0.3))).toBeCloseTo(1, 6);
    expect(merged.params.kLr.value / (0.5 * Math.pow(3e8, -0.3))).toBeCloseTo(1, 6);
    expect(grouped.form).toBe('lr_opt = kLr * D^aLr; batch_opt = kBatch * D^aBatch');
    expect(grouped.notes[0]).toMatch(/Each \(N, D\) group's single best run/);
  });

  it('reports R² for each law (noise on the loss moves the band differently per law)', () => {
    const fit = fitDeepseek(cells(0.004, 3), { xName: 'N', x2Name: 'D' });
    expect(fit.laws.lr.r2).toBeGreaterThan(0.5);
    expect(fit.laws.batch.r2).toBeGreaterThan(0.5);
    expect(fit.laws.lr.r2).not.toBe(fit.laws.batch.r2);
    expect((fit.diagnostics as { r2: number }).r2).toBe(Math.min(fit.laws.lr.r2, fit.laws.batch.r2));
    expect(fit.notes.join(' ')).toMatch(/R²: lr law 0\.\d{4}, batch law 0\.\d{4}/);
  });

  it('refuses all-equal losses and a single value of a regressor', () => {
    expect(() => fitDeepseek(cells().map((p) => ({ ...p, loss: 3 })), { xName: 'N', x2Name: 'D' })).toThrow(/all equal/);
    expect(() => fitDeepseek(cells().filter((p) => p.D === 1e9), { xName: 'N', x2Name: 'D' })).toThrow(DataError);
    expect(() => fitDeepseek(cells().filter((p) => p.D === 1e9), { xName: 'N', x2Name: 'D' })).toThrow(/one value of D/);
  });
});
