// The Multi-Power Law's drop-shape prior (fitScheduleLaw option prior: 'drop-shape'; docs/fit.md
// "Drop-shape prior for the Multi-Power Law"): the (…, ln beta, ln gamma) fit space and its
// derivatives, the prior residuals (objective and gradient by hand), a prior so wide it is no prior
// (the fit equals the unpenalised one), recovery of a known law from noisy synthetic curves, and the
// option's refusals and record.
import { describe, expect, it } from 'vitest';
import {
  fitScheduleLaw,
  gaussianPriorPenalty,
  meanSquaredLogResidual,
  minimizeLevenbergMarquardt,
  MPL_DROP_SHAPE_PRIOR,
  MPL_OFFICIAL_PARAMS,
  multiPowerLaw,
  multiPowerLogShapeLaw,
  predictCurve,
  prepareCurve,
  scheduleObjective,
  scheduleResiduals,
  withGaussianPrior,
} from '../../src/fit/index.ts';
import { planted, schedules } from './mpl-fixtures.ts';



const TRUTH = MPL_OFFICIAL_PARAMS['100M'];
const natural = (p: Record<string, number>) => multiPowerLaw.params.map((k) => p[k]);

describe('the (…, ln beta, ln gamma) fit space', () => {
  it('predicts what multiPowerLaw predicts, with ∂L̂/∂θ matching central differences', () => {
    const c = prepareCurve(schedules()[2]);
    const n = c.steps.length;
    const th = multiPowerLogShapeLaw.fromNatural(natural(TRUTH));
    expect(multiPowerLogShapeLaw.toNatural(th).map((v, i) => v / natural(TRUTH)[i])).toEqual(natural(TRUTH).map(() => expect.closeTo(1, 12)));
    const [pred, ref, grad] = [new Float64Array(n), new Float64Array(n), new Float64Array(n * 7)];
    multiPowerLogShapeLaw.evaluate(th, c, pred, grad);
    multiPowerLaw.evaluate(multiPowerLaw.fromNatural(natural(TRUTH)), c, ref, null);
    pred.forEach((v, j) => expect(v).toBeCloseTo(ref[j], 12));
    const [up, down] = [new Float64Array(n), new Float64Array(n)];
    for (let k = 0; k < 7; k++) {
      const h = 1e-6;
      multiPowerLogShapeLaw.evaluate(th.map((v, i) => (i === k ? v + h : v)), c, up, null);
      multiPowerLogShapeLaw.evaluate(th.map((v, i) => (i === k ? v - h : v)), c, down, null);
      for (let j = 0; j < n; j++) {
        const num = (up[j] - down[j]) / (2 * h);
        expect(Math.abs(num - grad[j * 7 + k])).toBeLessThan(1e-6 * Math.max(1, Math.abs(num)));
      }
    }
  });

  it('refuses natural parameters with beta ≤ 0 (outside the space)', () => {
    expect(() => multiPowerLogShapeLaw.fromNatural(natural({ ...TRUTH, beta: -0.01, B: -3e4 }))).toThrow(/beta > 0 and gamma > 0/);
  });
});

describe('prior residuals', () => {
  it('the prior is the one fixed in advance: ln C ~ N(0, 1), ln beta ~ N(ln 0.5, 1), ln gamma ~ N(ln 0.5, 1)', () => {
    expect(MPL_DROP_SHAPE_PRIOR.map(({ param, index, mean, sd }) => [param, multiPowerLogShapeLaw.fitParams[index], mean, sd])).toEqual([
      ['lnC', 'lnC', 0, 1],
      ['lnBeta', 'lnBeta', Math.log(0.5), 1],
      ['lnGamma', 'lnGamma', Math.log(0.5), 1],
    ]);
  });

  it('give ½·Σψ² = data objective + σ²·Σ((θ − μ)/s)²/2 and Jᵀψ its gradient, worked by hand', () => {
    const curves = planted(TRUTH, 2e-3).slice(0, 2).map((s) => prepareCurve(s));
    const m = curves.reduce((s, c) => s + c.steps.length, 0);
    // θ away from the prior's centre: C = 3, beta = 0.2, gamma = 0.9.
    const th = Float64Array.from(multiPowerLogShapeLaw.fromNatural(natural({ ...TRUTH, C: 3, beta: 0.2, gamma: 0.9 })));
    const sigma = 7e-4;
    const g = new Float64Array(7);
    const fData = scheduleObjective(multiPowerLogShapeLaw, curves, 1e-3)(th, g);
    const z = [Math.log(3) / 1, (Math.log(0.2) - Math.log(0.5)) / 1, (Math.log(0.9) - Math.log(0.5)) / 1];
    const fPrior = (sigma * sigma * (z[0] ** 2 + z[1] ** 2 + z[2] ** 2)) / 2;
    expect(gaussianPriorPenalty(th, MPL_DROP_SHAPE_PRIOR, sigma)).toBeCloseTo(fPrior, 15);
    const r = new Float64Array(m + 3);
    const J = new Float64Array((m + 3) * 7).fill(NaN); // every entry must be written
    withGaussianPrior(scheduleResiduals(multiPowerLogShapeLaw, curves, 1e-3), m, 7, MPL_DROP_SHAPE_PRIOR, sigma)(th, r, J);
    expect(J.every(Number.isFinite)).toBe(true);
    expect(0.5 * r.reduce((s, v) => s + v * v, 0)).toBeCloseTo(fData + fPrior, 14);
    // ∂/∂θ of σ²·z²/2 is σ²·z/s on ln C, ln beta, ln gamma; zero elsewhere.
    const gPrior = [0, 0, 0, 0, sigma * sigma * z[0], sigma * sigma * z[1], sigma * sigma * z[2]];
    for (let k = 0; k < 7; k++) {
      let jr = 0;
      for (let i = 0; i < m + 3; i++) jr += J[i * 7 + k] * r[i];
      expect(Math.abs(jr - (g[k] + gPrior[k]))).toBeLessThan(1e-9 * Math.max(1e-6, Math.abs(g[k] + gPrior[k])));
    }
  });

  it('a prior 1e8 e-folds wide is no prior: Levenberg–Marquardt lands where the unpenalised fit does', () => {
    const curves = planted(TRUTH, 1e-3).slice(0, 3).map((s) => prepareCurve(s));
    const m = curves.reduce((s, c) => s + c.steps.length, 0);
    const start = multiPowerLogShapeLaw.fromNatural(natural({ ...TRUTH, C: 1, beta: 0.5, gamma: 0.5 }));
    const base = scheduleResiduals(multiPowerLogShapeLaw, curves, 1e-3);
    const wide = MPL_DROP_SHAPE_PRIOR.map((p) => ({ ...p, sd: 1e8 }));
    const plain = minimizeLevenbergMarquardt(base, start, m, { maxIterations: 3000 });
    const map = minimizeLevenbergMarquardt(withGaussianPrior(base, m, 7, wide, 1e-3), start, m + 3, { maxIterations: 3000 });
    const narrow = minimizeLevenbergMarquardt(withGaussianPrior(base, m, 7, MPL_DROP_SHAPE_PRIOR, 0.05), start, m + 3, { maxIterations: 3000 });
    expect(plain.converged && map.converged && narrow.converged).toBe(true);
    for (let k = 0; k < 7; k++) expect(Math.abs(map.x[k] - plain.x[k])).toBeLessThan(1e-6 * Math.max(1, Math.abs(plain.x[k])));
    // A strong prior (σ = 0.05, i.e. each pseudo-observation 50× the noise) pulls the shape toward the centre.
    expect(Math.abs(narrow.x[4])).toBeLessThan(Math.abs(plain.x[4]));
  }, 60_000);
});

describe("fitScheduleLaw with prior: 'drop-shape'", () => {
  it('recovers a known law from constant + cosine alone with 0.1% noise, and predicts the held-out step drop and WSD', () => {
    // The case the prior is for: two schedule shapes (docs/BENCHMARKS.md "Multi-Power Law fit: convergence and held-out errors (400M curves)").
    const noise = 1e-3; // the bundled 400M curves' σ̂ is 7.4e-4
    const [constant, cosine, step, wsd] = planted(TRUTH, noise, 7);
    const fit = fitScheduleLaw([constant, cosine], { law: 'multipower', predict: [step, wsd], prior: 'drop-shape' });
    expect(fit.diagnostics.converged).toBe(true);
    expect(fit.diagnostics.startsAgreeing).toBeGreaterThanOrEqual(2);
    expect(fit.identifiability?.identified).toBe(true);
    expect(fit.options).toMatchObject({ prior: 'drop-shape' });
    // σ̂: the RMS log residual of the unpenalised fit, close to the planted noise.
    expect(fit.options.priorNoise as number).toBeGreaterThan(0.8 * noise);
    expect(fit.options.priorNoise as number).toBeLessThan(1.1 * noise);
    expect(fit.notes.join('\n')).toMatch(/Drop-shape prior \(MAP\): ln C ~ N\(0, 1²\).*σ̂ = /);
    for (const k of ['L0', 'A', 'alpha']) expect(Math.abs(fit.params[k].value / TRUTH[k] - 1), k).toBeLessThan(0.02);
    // The drop's shape is weakly determined by two shapes: within one prior SD (an e-fold) of the truth.
    for (const k of ['C', 'beta', 'gamma']) expect(Math.abs(Math.log(fit.params[k].value / TRUTH[k])), k).toBeLessThan(1);
    // Held out, against the noise-free truth: the largest relative error along each curve.
    const clean = planted(TRUTH);
    const worst = (name: string) => {
      const c = fit.curves.find((x) => x.name === name)!;
      const t = clean.find((x) => x.name === name)!;
      return Math.max(...c.predicted.map((p, j) => Math.abs(p / (t.losses[j] as number) - 1)));
    };
    expect(worst('wsd')).toBeLessThan(3e-3);
    expect(worst('step')).toBeLessThan(5e-3); // an abrupt 10× drop, the shape furthest from the fit curves
  }, 180_000);

  it('refuses the prior on the Tissue law and an unknown prior; the default leaves the record as it was', () => {
    const curves = planted(TRUTH).slice(0, 2);
    expect(() => fitScheduleLaw(curves, { law: 'tissue', prior: 'drop-shape' })).toThrow(/drop-shape prior is a prior on the Multi-Power Law/);
    expect(() => fitScheduleLaw(curves, { law: 'multipower', prior: 'flat' as 'none' })).toThrow(/prior "flat" is unknown/);
    const fit = fitScheduleLaw(curves, { law: 'tissue' });
    expect(fit.options).not.toHaveProperty('prior');
  });

  it('σ̂² is the mean squared log residual (a hand sum on two points)', () => {
    const c = prepareCurve({ name: 'x', steps: [100, 200], lrs: [3e-4, 3e-4], losses: [3, 3] });
    const th = multiPowerLaw.fromNatural(natural(TRUTH));
    const pred = predictCurve(multiPowerLaw, TRUTH, c);
    expect(meanSquaredLogResidual(multiPowerLaw, th, [c])).toBeCloseTo((Math.log(pred[0] / 3) ** 2 + Math.log(pred[1] / 3) ** 2) / 2, 15);
  });
});
