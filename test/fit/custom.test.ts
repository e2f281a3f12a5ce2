// Fitting a user-defined form: recovery of a planted law from a grid of --init starts, bootstrap
// intervals, the held-out check, and the refusals.
import { describe, expect, it } from 'vitest';
import { DataError } from '../../src/errors.ts';
import { createExpressionForm, fitCustom, type CustomRow } from '../../src/fit/index.ts';
import { createRng } from '../../src/util/rng.ts';

describe('fitCustom', () => {
  it('recovers a planted saturating power law L(C) = L0 + A·C^(−alpha)', async () => {
    const form = await createExpressionForm('L0 + A * (C / 1e18)^(-alpha)', ['C']);
    const rng = createRng(2);
    const rows: CustomRow[] = Array.from({ length: 30 }, (_, i) => {
      const C = 1e17 * Math.pow(10, i / 7);
      return { x: { C }, y: (1.6 + 1.9 * Math.pow(C / 1e18, -0.09)) * Math.exp(0.0005 * rng.normal()) };
    });
    const fit = fitCustom(form, rows, { init: { L0: [1, 2], A: 1, alpha: [0.05, 0.2] }, bootstrap: 50, seed: 1 });
    expect(fit.params.L0.value).toBeCloseTo(1.6, 1);
    expect(fit.params.alpha.value).toBeCloseTo(0.09, 2);
    expect(fit.diagnostics.starts).toBe(4);
    expect(fit.params.alpha.ci95).not.toBeNull();
    expect(fit.heldOut.length).toBeGreaterThan(0);
    for (const h of fit.heldOut) expect(Math.abs(h.relError)).toBeLessThan(0.01);
  });

  it('refuses unknown --init names and too few rows', async () => {
    const form = await createExpressionForm('k * x^a', ['x']);
    const rows = [1, 2, 3, 4].map((x) => ({ x: { x }, y: 2 * x }));
    expect(() => fitCustom(form, rows, { init: { q: 1 } })).toThrow(/--init q: not a parameter of k \* x\^a \(parameters: k, a\)/);
    expect(() => fitCustom(form, rows.slice(0, 2))).toThrow(DataError);
  });
});
