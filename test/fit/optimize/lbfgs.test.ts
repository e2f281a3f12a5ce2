// L-BFGS on textbook problems with known minima (Rosenbrock, Powell's singular function, a badly
// scaled quadratic) and its refusal of non-finite starts.
import { describe, expect, it } from 'vitest';
import { minimizeLbfgs } from '../../../src/fit/index.ts';
import { powell, rosenbrock } from './problems.ts';

describe('minimizeLbfgs', () => {
  for (const n of [2, 5, 10]) {
    it(`finds the Rosenbrock minimum in ${n} dimensions from (−1.2, 1, …)`, () => {
      const x0 = Array.from({ length: n }, (_, i) => (i % 2 === 0 ? -1.2 : 1));
      const r = minimizeLbfgs(rosenbrock, x0, { gradTol: 1e-9 });
      expect(r.converged).toBe(true);
      expect(r.f).toBeLessThan(1e-14);
      for (const v of r.x) expect(v).toBeCloseTo(1, 6);
      expect(r.iterations).toBeLessThan(200);
    });
  }

  it("solves Powell's singular function (singular Hessian at the optimum)", () => {
    const r = minimizeLbfgs(powell, [3, -1, 0, 1], { gradTol: 1e-12 });
    expect(r.f).toBeLessThan(1e-10);
    for (const v of r.x) expect(Math.abs(v)).toBeLessThan(2e-3);
  });

  it('handles a quadratic scaled over six orders of magnitude', () => {
    const scales = [1, 1e2, 1e4, 1e6];
    const fg = (x: Float64Array, g: Float64Array) => {
      let f = 0;
      for (let i = 0; i < x.length; i++) {
        const d = x[i] - (i + 1);
        f += 0.5 * scales[i] * d * d;
        g[i] = scales[i] * d;
      }
      return f;
    };
    const r = minimizeLbfgs(fg, [0, 0, 0, 0], { gradTol: 1e-8 });
    expect(r.reason).toBe('gradient');
    r.x.forEach((v, i) => expect(v).toBeCloseTo(i + 1, 8));
  });

  it('reports non-finite starts instead of iterating', () => {
    const r = minimizeLbfgs((x, g) => {
      g[0] = 0;
      return Math.log(x[0]);
    }, [-1]);
    expect(r.reason).toBe('non-finite');
    expect(r.converged).toBe(false);
  });
});
