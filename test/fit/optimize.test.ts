// The minimisers on textbook problems with known minima (Rosenbrock, Powell's singular function,
// a badly scaled quadratic, a nonlinear least-squares curve), plus the line search alone.
import { describe, expect, it } from 'vitest';
import {
  minimizeLbfgs,
  minimizeLevenbergMarquardt,
  minimizeNelderMead,
  strongWolfeLineSearch,
} from '../../src/fit/index.ts';

/** Rosenbrock in n dimensions (minimum 0 at x = 1). */
function rosenbrock(x: Float64Array, g: Float64Array): number {
  let f = 0;
  g.fill(0);
  for (let i = 0; i < x.length - 1; i++) {
    const a = x[i + 1] - x[i] * x[i];
    const b = 1 - x[i];
    f += 100 * a * a + b * b;
    g[i] += -400 * x[i] * a - 2 * b;
    g[i + 1] += 200 * a;
  }
  return f;
}

/** Powell's singular function: minimum 0 at the origin with a singular Hessian there. */
function powell(x: Float64Array, g: Float64Array): number {
  const [a, b, c, d] = x;
  const t1 = a + 10 * b;
  const t2 = c - d;
  const t3 = b - 2 * c;
  const t4 = a - d;
  g[0] = 2 * t1 + 40 * t4 ** 3;
  g[1] = 20 * t1 + 4 * t3 ** 3;
  g[2] = 10 * t2 - 8 * t3 ** 3;
  g[3] = -10 * t2 - 40 * t4 ** 3;
  return t1 ** 2 + 5 * t2 ** 2 + t3 ** 4 + 10 * t4 ** 4;
}

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

describe('minimizeLevenbergMarquardt', () => {
  it('fits y = a·exp(−b·t) + c to exact data', () => {
    const truth = [2.5, 1.3, 0.5];
    const t = Array.from({ length: 30 }, (_, i) => i * 0.2);
    const y = t.map((ti) => truth[0] * Math.exp(-truth[1] * ti) + truth[2]);
    const r = minimizeLevenbergMarquardt(
      (x, res, J) => {
        t.forEach((ti, i) => {
          const e = Math.exp(-x[1] * ti);
          res[i] = x[0] * e + x[2] - y[i];
          if (J) {
            J[i * 3] = e;
            J[i * 3 + 1] = -x[0] * ti * e;
            J[i * 3 + 2] = 1;
          }
        });
      },
      [1, 0.5, 0],
      t.length,
    );
    expect(r.converged).toBe(true);
    r.x.forEach((v, i) => expect(v).toBeCloseTo(truth[i], 8));
    expect(r.f).toBeLessThan(1e-20);
  });

  it('solves the Rosenbrock problem written as residuals (10(x2 − x1²), 1 − x1)', () => {
    const r = minimizeLevenbergMarquardt(
      (x, res, J) => {
        res[0] = 10 * (x[1] - x[0] * x[0]);
        res[1] = 1 - x[0];
        if (J) {
          J[0] = -20 * x[0];
          J[1] = 10;
          J[2] = -1;
          J[3] = 0;
        }
      },
      [-1.2, 1],
      2,
    );
    expect(r.x[0]).toBeCloseTo(1, 8);
    expect(r.x[1]).toBeCloseTo(1, 8);
  });
});
