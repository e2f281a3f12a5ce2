// Nelder–Mead on a smooth and a non-smooth problem with known minima.
import { describe, expect, it } from 'vitest';
import { minimizeNelderMead } from '../../../src/fit/index.ts';
import { rosenbrock } from './problems.ts';

describe('minimizeNelderMead', () => {
  it('finds the 2-D Rosenbrock minimum', () => {
    const g = new Float64Array(2);
    const r = minimizeNelderMead((x) => rosenbrock(x, g), [-1.2, 1], { xTol: 1e-10, fTol: 1e-16 });
    expect(r.converged).toBe(true);
    expect(r.x[0]).toBeCloseTo(1, 6);
    expect(r.x[1]).toBeCloseTo(1, 6);
  });

  it('minimises a non-smooth function (sum of absolute values) in 4 dimensions', () => {
    const r = minimizeNelderMead((x) => x.reduce((s, v, i) => s + Math.abs(v - i), 0), [5, 5, 5, 5], {
      maxEvaluations: 20000,
    });
    r.x.forEach((v, i) => expect(v).toBeCloseTo(i, 4));
  });
});
