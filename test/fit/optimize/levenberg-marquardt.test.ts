// Levenberg–Marquardt on exact nonlinear least-squares problems.
import { describe, expect, it } from 'vitest';
import { minimizeLevenbergMarquardt } from '../../../src/fit/index.ts';

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
