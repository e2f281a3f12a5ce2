// The Multi-Power Law fit (docs/references.md#multi-power): the (ln(B·beta), beta) parameterisation
// that keeps the β → 0 limit inside the space, its derivatives, the square-root Huber residuals
// that Levenberg–Marquardt minimises, recovery of planted laws (one near the β → 0 edge) and the
// edge checks a fit on too few schedule shapes trips.
import { describe, expect, it } from 'vitest';
import { DataError } from '../../src/errors.ts';
import {
  evaluateMultiPower,
  fitScheduleLaw,
  MPL_OFFICIAL_PARAMS,
  multiPowerH,
  multiPowerLaw,
  multiPowerProblems,
  predictCurve,
  prepareCurve,
  scheduleObjective,
  scheduleResiduals,
} from '../../src/fit/index.ts';
import { planted, schedules } from './mpl-fixtures.ts';



describe('h_β(l) = (1 − e^(−β·l))/β', () => {
  it('is l at β = 0, continuous across the series switch, with ∂h/∂β matching central differences', () => {
    const out = new Float64Array(2);
    multiPowerH(0, 2.5, out);
    expect(out[0]).toBe(2.5);
    expect(out[1]).toBeCloseTo(-(2.5 * 2.5) / 2, 14);
    const exact = (b: number, l: number) => -Math.expm1(-b * l) / b;
    for (const l of [0.01, 1, 7]) {
      for (const b of [-0.3, -1e-3 / l, -2e-4, 1e-7, 0.9999e-3 / l, 1.0001e-3 / l, 0.05, 0.6]) {
        multiPowerH(b, l, out);
        expect(Math.abs(out[0] - exact(b, l)) / exact(b, l)).toBeLessThan(1e-13);
        const e = 1e-6;
        const num = (exact(b + e, l) - exact(b - e, l)) / (2 * e);
        expect(Math.abs(out[1] - num)).toBeLessThan(1e-6 * Math.max(1, Math.abs(num)));
      }
    }
  });
});

describe('evaluateMultiPower in (L0, ln A, alpha, ln(B·beta), ln C, beta, gamma)', () => {
  const c = prepareCurve(schedules()[2]);
  const n = c.steps.length;
  for (const beta of [0.59, 1e-6, 0, -0.02]) {
    it(`has ∂L̂/∂θ matching central differences at beta = ${beta}`, () => {
      const th = [2.5, Math.log(0.6), 0.45, Math.log(300), Math.log(2), beta, 0.64];
      const pred = new Float64Array(n);
      const grad = new Float64Array(n * 7);
      evaluateMultiPower(th, c, pred, grad, true);
      expect(pred.every(Number.isFinite)).toBe(true);
      const [up, down] = [new Float64Array(n), new Float64Array(n)];
      for (let k = 0; k < 7; k++) {
        const h = 1e-6;
        evaluateMultiPower(th.map((v, i) => (i === k ? v + h : v)), c, up, null, true);
        evaluateMultiPower(th.map((v, i) => (i === k ? v - h : v)), c, down, null, true);
        for (let j = 0; j < n; j++) {
          const num = (up[j] - down[j]) / (2 * h);
          expect(Math.abs(num - grad[j * 7 + k])).toBeLessThan(1e-6 * Math.max(1, Math.abs(num)));
        }
      }
    });
  }

  it('at beta → 0 tends to the log form B·beta·ln(1 + C·x) (natural parameters with B = (B·beta)/beta)', () => {
    const p = { ...MPL_OFFICIAL_PARAMS['100M'] };
    const edge = (beta: number) => predictCurve(multiPowerLaw, { ...p, beta, B: 300 / beta }, c);
    const [a, b] = [edge(1e-9), edge(1e-12)];
    a.forEach((v, j) => expect(Math.abs(v - b[j])).toBeLessThan(1e-8)); // the O(β) correction, 300·β·Σ w·l²/2
    expect(Math.abs(a[n - 1] - edge(0.01)[n - 1])).toBeGreaterThan(1e-4); // β matters away from the edge
  });
});

describe('square-root Huber residuals for Levenberg–Marquardt', () => {
  it('give ½·Σψ² = the Huber objective and Jᵀψ = its gradient, for Huber and least squares', () => {
    const curves = planted(MPL_OFFICIAL_PARAMS['25M']).slice(0, 3).map((s, i) => prepareCurve({ ...s, losses: s.losses.map((v, j) => v * (1 + 0.004 * Math.sin(7 * j + i))) }));
    const m = curves.reduce((s, c) => s + c.steps.length, 0);
    const th = Float64Array.from(multiPowerLaw.fromNatural(multiPowerLaw.params.map((p) => MPL_OFFICIAL_PARAMS['100M'][p])));
    for (const delta of [1e-3, Infinity]) {
      const g = new Float64Array(7);
      const f = scheduleObjective(multiPowerLaw, curves, delta)(th, g);
      const r = new Float64Array(m);
      const J = new Float64Array(m * 7);
      scheduleResiduals(multiPowerLaw, curves, delta)(th, r, J);
      expect(0.5 * r.reduce((s, v) => s + v * v, 0)).toBeCloseTo(f, 12);
      for (let k = 0; k < 7; k++) {
        let jr = 0;
        for (let i = 0; i < m; i++) jr += J[i * 7 + k] * r[i];
        expect(Math.abs(jr - g[k])).toBeLessThan(1e-9 * Math.max(1, Math.abs(g[k])));
      }
    }
  });
});

describe('recovering planted Multi-Power laws', () => {
  it('recovers the official 100M law from constant + cosine + step drop, converged, and predicts the WSD', () => {
    const truth = MPL_OFFICIAL_PARAMS['100M'];
    const [constant, cosine, step, wsd] = planted(truth);
    const fit = fitScheduleLaw([constant, cosine, step], { law: 'multipower', predict: [wsd] });
    expect(fit.diagnostics.converged).toBe(true);
    expect(fit.diagnostics.startsConverged).toBeGreaterThanOrEqual(2);
    expect(fit.diagnostics.objective).toBeLessThan(1e-18); // noise-free: the truth's objective is 0
    expect(fit.identifiability?.identified).toBe(true);
    for (const k of ['L0', 'A', 'alpha', 'B', 'C', 'beta', 'gamma']) expect(Math.abs(fit.params[k].value / truth[k] - 1)).toBeLessThan(1e-3);
    expect(fit.curves[3].meanAbsRelError).toBeLessThan(1e-6);
  }, 120_000);

  it('recovers a law near the β → 0 edge (beta = 0.003, B = 1e5): B·beta and beta converge inside the space', () => {
    const truth: Record<string, number> = { ...MPL_OFFICIAL_PARAMS['100M'], beta: 0.003, B: 1e5 };
    const [constant, cosine, step, wsd] = planted(truth);
    const fit = fitScheduleLaw([constant, cosine, step], { law: 'multipower', predict: [wsd] });
    expect(fit.diagnostics.converged).toBe(true);
    expect(fit.diagnostics.objective).toBeLessThan(1e-18);
    expect(fit.identifiability?.identified).toBe(true);
    expect(Math.abs(fit.derived['B*beta'].value / 300 - 1)).toBeLessThan(1e-3);
    expect(Math.abs(fit.params.beta.value - 0.003)).toBeLessThan(1e-4);
    expect(Math.abs(fit.params.gamma.value / truth.gamma - 1)).toBeLessThan(1e-3);
    expect(fit.curves[3].meanAbsRelError).toBeLessThan(1e-6);
  }, 120_000);
});

describe('edges of the MPL space', () => {
  it('names beta at the β → 0 edge, C run off and gamma run off; the official parameters trip none', () => {
    for (const size of ['25M', '100M', '400M'] as const) expect(multiPowerProblems(MPL_OFFICIAL_PARAMS[size])).toEqual([]);
    const p = MPL_OFFICIAL_PARAMS['400M'];
    expect(multiPowerProblems({ ...p, beta: -0.003, B: -1e5 }).join()).toMatch(/beta ran to -0\.003.*B·beta = 300/);
    expect(multiPowerProblems({ ...p, C: 6e167 }).join()).toMatch(/C ran off to 6\.00e167/);
    expect(multiPowerProblems({ ...p, gamma: 44.8 }).join()).toMatch(/gamma ran to 44\.8/);
  });

  it('a fit that runs to an edge is marked NOT IDENTIFIED in the record, or with refuseUnidentified refused with the problem named', () => {
    // One start on the far side of the β → 0 edge, stopped there (no iterations).
    const [constant] = planted(MPL_OFFICIAL_PARAMS['25M']);
    const edge: Record<string, number> = { ...MPL_OFFICIAL_PARAMS['25M'], beta: -0.01, B: -3e4 };
    const starts = [multiPowerLaw.fromNatural(multiPowerLaw.params.map((k) => edge[k]))];
    let err: unknown;
    try {
      fitScheduleLaw([constant], { law: 'multipower', starts, maxIterations: 0, refuseUnidentified: true });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DataError);
    expect(String((err as Error).message)).toMatch(/not identifiable — .*beta ran to/);
    const fit = fitScheduleLaw([constant], { law: 'multipower', starts, maxIterations: 0 });
    expect(fit.identifiability?.identified).toBe(false);
    expect(fit.notes.join('\n')).toMatch(/NOT IDENTIFIED: beta ran to/);
  }, 60_000);
});
