// The strong-Wolfe line search on 1-D functions with known minimisers.
import { describe, expect, it } from 'vitest';
import { strongWolfeLineSearch } from '../../../src/fit/index.ts';

describe('strongWolfeLineSearch', () => {
  it('returns a step satisfying both strong-Wolfe conditions on φ(α) = (α − 3)²', () => {
    const phi = (a: number) => ({ f: (a - 3) ** 2, dphi: 2 * (a - 3) });
    const r = strongWolfeLineSearch(phi, 9, -6, 1, { c1: 1e-4, c2: 0.1 });
    expect(r.ok).toBe(true);
    expect(r.f).toBeLessThanOrEqual(9 + 1e-4 * r.alpha * -6);
    expect(Math.abs(r.dphi)).toBeLessThanOrEqual(0.1 * 6);
    expect(r.alpha).toBeCloseTo(3, 0);
  });

  it('backs off from a region where the objective is undefined', () => {
    // φ is NaN beyond α = 0.5 (a prediction going negative under a log).
    const phi = (a: number) => (a > 0.5 ? { f: NaN, dphi: NaN } : { f: (a - 0.4) ** 2, dphi: 2 * (a - 0.4) });
    const r = strongWolfeLineSearch(phi, 0.16, -0.8, 1);
    expect(r.alpha).toBeGreaterThan(0);
    expect(r.alpha).toBeLessThanOrEqual(0.5);
    expect(r.f).toBeLessThan(0.16);
  });
});
