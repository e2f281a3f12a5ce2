// Closed-form least squares: exact recovery on exact data, the parabola vertex, power laws.
import { describe, expect, it } from 'vitest';
import { DataError } from '../../src/errors.ts';
import { evalParabola, fitLine, fitParabola, fitPowerLaw, leastSquares } from '../../src/fit/index.ts';

describe('linear least squares', () => {
  it('recovers a plane exactly', () => {
    const X = [
      [1, 0, 0],
      [1, 1, 0],
      [1, 0, 1],
      [1, 2, 3],
    ];
    const y = X.map((r) => 2 + 3 * r[1] - r[2]);
    const r = leastSquares(X, y);
    expect(r.coef[0]).toBeCloseTo(2, 12);
    expect(r.coef[1]).toBeCloseTo(3, 12);
    expect(r.coef[2]).toBeCloseTo(-1, 12);
    expect(r.rss).toBeLessThan(1e-20);
  });

  it('fits a parabola in ln N around u ≈ 20 (conditioning) and finds its vertex', () => {
    const u = [17, 18, 19, 20, 21, 22].map((v) => v + 0.3);
    const y = u.map((v) => 2.5 + 0.04 * (v - 19.7) ** 2);
    const p = fitParabola(u, y);
    expect(p.vertexU).toBeCloseTo(19.7, 9);
    expect(p.vertexY).toBeCloseTo(2.5, 10);
    expect(evalParabola(p, 21)).toBeCloseTo(2.5 + 0.04 * 1.3 ** 2, 9);
  });

  it('fits y = k·x^a exactly and a line with weights', () => {
    const x = [1e18, 1e19, 1e20, 1e21];
    const p = fitPowerLaw(x, x.map((c) => 5.9e-3 * Math.pow(c, 0.5305)));
    expect(p.k).toBeCloseTo(5.9e-3, 10);
    expect(p.a).toBeCloseTo(0.5305, 12);
    const l = fitLine([0, 1, 2], [1, 3, 5], [1, 1, 1]);
    expect(l.slope).toBeCloseTo(2, 12);
  });

  it('refuses rank-deficient designs and non-positive power-law data', () => {
    expect(() => leastSquares([[1, 2], [2, 4], [3, 6]], [1, 2, 3])).toThrow(/rank-deficient/);
    expect(() => fitPowerLaw([1, 2], [1, -1])).toThrow(DataError);
    expect(() => fitPowerLaw([3, 3], [1, 2])).toThrow(/2 distinct x/);
  });
});
