// Huber loss: hand-computed values on both branches, continuity at ±δ, and the SUM convention.
import { describe, expect, it } from 'vitest';
import { huber, huberDerivative, huberSum } from '../../src/fit/index.ts';

describe('huber', () => {
  it('is r²/2 inside ±δ and δ(|r| − δ/2) outside (δ = 1e-3)', () => {
    expect(huber(5e-4, 1e-3)).toBeCloseTo(1.25e-7, 20);
    expect(huber(-2e-3, 1e-3)).toBeCloseTo(1e-3 * (2e-3 - 5e-4), 20);
    expect(huberDerivative(5e-4, 1e-3)).toBe(5e-4);
    expect(huberDerivative(-0.3, 1e-3)).toBe(-1e-3);
  });

  it('is continuous with a continuous derivative at r = δ', () => {
    const d = 0.1;
    expect(huber(d - 1e-12, d)).toBeCloseTo(huber(d + 1e-12, d), 10);
    expect(huberDerivative(d - 1e-12, d)).toBeCloseTo(huberDerivative(d + 1e-12, d), 10);
  });

  it('sums (never averages) over points', () => {
    const r = [0.01, -0.02, 0.0005];
    expect(huberSum(r, 1e-3)).toBeCloseTo(huber(0.01, 1e-3) + huber(-0.02, 1e-3) + huber(0.0005, 1e-3), 18);
    expect(huberSum([...r, ...r], 1e-3)).toBeCloseTo(2 * huberSum(r, 1e-3), 18);
  });
});
