// The compute formula C = a·N·D + b·D: parsing the named formulas, recovering planted (a, b) from
// exact-FLOP rows of a model family, and refusing rows that cannot separate a from b.
import { describe, expect, it } from 'vitest';
import { ConfigError, DataError } from '../../src/errors.ts';
import { COMPUTE_HUNYUAN, computeFlops, fitComputeFormula, parseComputeFormula, tokensForCompute, type ComputePoint } from '../../src/fit/index.ts';
import { createRng } from '../../src/util/rng.ts';

describe('compute formulas', () => {
  it('parses 6nd, hunyuan and a,b', () => {
    expect(parseComputeFormula('6ND')).toMatchObject({ a: 6, b: 0 });
    expect(parseComputeFormula('hunyuan')).toMatchObject({ a: 9.59, b: 2.3e8 });
    expect(parseComputeFormula('7.5, 1e8')).toMatchObject({ a: 7.5, b: 1e8 });
    expect(parseComputeFormula('a=8,b=2e8')).toMatchObject({ a: 8, b: 2e8 });
    expect(() => parseComputeFormula('fast')).toThrow(ConfigError);
    expect(() => parseComputeFormula('fast')).toThrow(/computeFormula: not a compute formula \(got "fast"\)\. Use 6nd, hunyuan/);
  });

  it('evaluates the paper formula at its optimum (docs/references.md#compute-formula: 3.12e24 at 58.1B, 5.6T)', () => {
    expect(computeFlops(58.1e9, 5.6e12, COMPUTE_HUNYUAN) / 1e24).toBeCloseTo(3.12, 2);
    expect(tokensForCompute(3.12e24, 58.1e9, COMPUTE_HUNYUAN) / 1e12).toBeCloseTo(5.6, 1);
  });
});

describe('fitComputeFormula', () => {
  /** Runs of 6 sizes × 3 token budgets whose exact C follows a planted (a, b) up to 0.5% noise. */
  function rows(noise: number): ComputePoint[] {
    const rng = createRng(4);
    const out: ComputePoint[] = [];
    for (const N of [1e7, 3e7, 1e8, 3e8, 1e9, 3e9]) {
      for (const D of [1e9, 1e10, 1e11]) out.push({ N, D, C: (9.59 * N * D + 2.3e8 * D) * (1 + noise * rng.normal()), label: `N${N}-D${D}` });
    }
    return out;
  }

  it('recovers a = 9.59, b = 2.3e8 exactly from exact FLOPs', () => {
    const fit = fitComputeFormula(rows(0));
    expect(fit.params.a.value).toBeCloseTo(9.59, 9);
    expect(fit.params.b.value / 2.3e8).toBeCloseTo(1, 9);
    expect(fit.comparison[0].maxAbsRelError).toBeLessThan(1e-12);
    // 6ND misses the attention term: at N = 1e7 it under-counts by ~ (9.59 + 23)/6.
    expect(fit.comparison.find((c) => c.formula === '6ND')?.maxAbsRelError).toBeGreaterThan(0.8);
    expect(fit.heldOut).toHaveLength(3);
    for (const h of fit.heldOut) expect(Math.abs(h.relError)).toBeLessThan(1e-9);
  });

  it('gives intervals that cover the truth from noisy rows, reproducibly', () => {
    const fit = fitComputeFormula(rows(0.005), { bootstrap: 300, seed: 5 });
    const [lo, hi] = fit.params.a.ci95 as [number, number];
    expect(lo).toBeLessThan(9.59);
    expect(hi).toBeGreaterThan(9.59);
    expect(fitComputeFormula(rows(0.005), { bootstrap: 300, seed: 5 }).params.b.ci95).toEqual(fit.params.b.ci95);
    expect(fit.heldOut[0].ci95).not.toBeNull();
  });

  it('refuses a single model size and non-positive FLOPs', () => {
    const one = rows(0).filter((r) => r.N === 1e8);
    expect(() => fitComputeFormula(one)).toThrow(DataError);
    expect(() => fitComputeFormula(one)).toThrow(/all 3 rows have the same N \(1\.00e8\)/);
    const bad = rows(0);
    bad[0] = { ...bad[0], C: 0 };
    expect(() => fitComputeFormula(bad)).toThrow(/N10000000-D1000000000: C must be a positive finite number \(got 0\)/);
  });
});
