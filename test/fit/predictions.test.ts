// Predictions at user-given rows for the compute formula and custom laws (parametric, isoflop and
// deepseek have their own tests): values from the planted law, intervals that cover it, and the
// objectives and constant-target refusal of custom fits.
import { describe, expect, it } from 'vitest';
import { createExpressionForm, fitComputeFormula, fitCustom, type ComputePoint, type CustomRow } from '../../src/fit/index.ts';
import { createRng } from '../../src/util/rng.ts';

const trueC = (N: number, D: number) => 9.59 * N * D + 2.3e8 * D;

describe('fitComputeFormula predictions', () => {
  it('predicts C at new (N, D) with an interval covering the planted formula', () => {
    const rng = createRng(4);
    const rows: ComputePoint[] = [];
    for (const N of [1e7, 3e7, 1e8, 3e8, 1e9]) for (const D of [1e9, 1e10, 1e11]) rows.push({ N, D, C: trueC(N, D) * (1 + 0.005 * rng.normal()) });
    const fit = fitComputeFormula(rows, { bootstrap: 200, seed: 2, predict: [{ N: 5e6, D: 1e12, label: 'tiny model, many tokens' }] });
    const p = fit.predictions![0];
    expect(p.label).toBe('tiny model, many tokens');
    const t = trueC(5e6, 1e12);
    expect(Math.abs(p.values.C.value / t - 1)).toBeLessThan(0.05);
    expect(p.values.C.ci95![0]).toBeLessThan(t);
    expect(p.values.C.ci95![1]).toBeGreaterThan(t);
  });

  it('refuses rows that all share one D (a·N·D and b·D not separable by D)', () => {
    const rows = [1e7, 3e7, 1e8].map((N) => ({ N, D: 1e10, C: trueC(N, 1e10) }));
    expect(() => fitComputeFormula(rows)).toThrow(/all equal/);
  });
});

describe('fitCustom predictions and objectives', () => {
  const rowsOf = (noise: (rng: ReturnType<typeof createRng>, y: number) => number): CustomRow[] => {
    const rng = createRng(7);
    return Array.from({ length: 30 }, (_, i) => {
      const C = 1e17 * Math.pow(10, i / 7);
      return { x: { C }, y: noise(rng, 1.6 + 1.9 * Math.pow(C / 1e18, -0.09)) };
    });
  };

  it('predicts at an extrapolated C with an interval covering the truth; lsq on additive noise recovers the law', async () => {
    const form = await createExpressionForm('L0 + A * (C / 1e18)^(-alpha)', ['C']);
    const fit = fitCustom(form, rowsOf((rng, y) => y + 0.002 * rng.normal()), {
      init: { L0: [1, 2], A: 1, alpha: [0.05, 0.2] },
      objective: 'lsq',
      bootstrap: 60,
      seed: 1,
      predict: [{ x: { C: 1e23 } }],
    });
    expect(fit.diagnostics.loss).toBe('lsq');
    expect(fit.params.alpha.value).toBeCloseTo(0.09, 2);
    const t = 1.6 + 1.9 * Math.pow(1e5, -0.09);
    const p = fit.predictions![0];
    expect(p.inputs).toEqual({ C: 1e23 });
    expect(p.values.y.ci95![0]).toBeLessThan(t);
    expect(p.values.y.ci95![1]).toBeGreaterThan(t);
  });

  it('refuses a constant target instead of returning intervals of [1, 1]', async () => {
    const form = await createExpressionForm('E + A * C^(-alpha)', ['C']);
    expect(() => fitCustom(form, rowsOf(() => 1))).toThrow(/all equal/);
  });
});

describe('predictInputFromTable (the rows of --predict FILE.csv)', () => {
  it('maps each kind\'s columns, labels rows file:line, and refuses kinds without a per-row law', async () => {
    const { predictInputFromTable, parseCsv, DEFAULT_COLUMNS } = await import('../../src/fit/index.ts');
    const cols = { ...DEFAULT_COLUMNS };
    const t = parseCsv('N,D,budget,G\n1e9,2e10,1e21,4\n', '/some/dir/next.csv');
    expect(predictInputFromTable(t, 'parametric', cols).rows).toEqual([{ label: 'next.csv:2', N: 1e9, D: 2e10, vars: {} }]);
    expect(predictInputFromTable(t, 'isoflop', cols).rows[0].C).toBe(1e21);
    expect(predictInputFromTable(t, 'deepseek', { ...cols, budget: 'N', x2: 'D' }).rows[0]).toMatchObject({ x: 1e9, x2: 2e10 });
    expect(predictInputFromTable(t, 'custom', cols).rows[0].vars).toEqual({ N: 1e9, D: 2e10, budget: 1e21, G: 4 });
    // parametric from C with --tokens-from-flops when the file has no D column
    const c = parseCsv('N,C\n1e9,1.2e20\n', 'c.csv');
    expect(predictInputFromTable(c, 'parametric', cols, 6).rows[0].D).toBeCloseTo(2e10, 0);
    expect(() => predictInputFromTable(t, 'surge', cols)).toThrow(/not supported for surge/);
    expect(() => predictInputFromTable(parseCsv('N\n1e9\n', 'x.csv'), 'compute', cols)).toThrow(/--predict \(--d-col\): no such column/);
  });
});
