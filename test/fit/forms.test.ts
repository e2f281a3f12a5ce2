// The registered forms: values at known points, analytic gradients of ln L̂ against central
// differences, and the fused Chinchilla kernel against the generic objective loop.
import { describe, expect, it } from 'vitest';
import {
  bindData,
  chinchillaForm,
  computeLinearForm,
  epsOpt,
  FORMS,
  huberLogObjective,
  logSumExp,
  powerLawForm,
  powerLawOffsetForm,
  stepsAtBatch,
  stepsBatchForm,
  surgeForm,
  type Form,
} from '../../src/fit/index.ts';

/** Max relative error between the analytic ∂ln L̂/∂θ and central differences at θ, row 0. */
function gradientError(form: Form, theta: number[], x: number[]): number {
  const cols = form.prepare(x.map((v) => Float64Array.of(v)));
  const g = new Float64Array(theta.length);
  form.logPredict(Float64Array.from(theta), cols, 0, g);
  let worst = 0;
  theta.forEach((_, k) => {
    const h = 1e-6 * Math.max(1, Math.abs(theta[k]));
    const up = Float64Array.from(theta);
    const down = Float64Array.from(theta);
    up[k] += h;
    down[k] -= h;
    const tmp = new Float64Array(theta.length);
    const num = (form.logPredict(up, cols, 0, tmp) - form.logPredict(down, cols, 0, tmp)) / (2 * h);
    worst = Math.max(worst, Math.abs(num - g[k]) / Math.max(1e-8, Math.abs(num)));
  });
  return worst;
}

describe('forms', () => {
  it('chinchilla: the rounded published law at N = 1e9, D = 2e10 (hand computation)', () => {
    // 1.69 + 406.4/10^3.06 + 410.7/10^(0.28·10.30103) = 1.69 + 0.35396 + 0.53609 = 2.58005
    const p = [1.69, 406.4, 410.7, 0.34, 0.28];
    const expected = 1.69 + 406.4 / Math.pow(1e9, 0.34) + 410.7 / Math.pow(2e10, 0.28);
    expect(chinchillaForm.predict(p, [1e9, 2e10])).toBeCloseTo(expected, 12);
    expect(expected).toBeCloseTo(2.58005, 4);
    const th = chinchillaForm.fromNatural(p);
    const cols = chinchillaForm.prepare([Float64Array.of(1e9), Float64Array.of(2e10)]);
    expect(Math.exp(chinchillaForm.logPredict(Float64Array.from(th), cols, 0, new Float64Array(5)))).toBeCloseTo(expected, 12);
  });

  it('log-sum-exp stays finite where exp overflows', () => {
    const w = new Float64Array(3);
    expect(logSumExp([1000, 999, -5], w)).toBeCloseTo(1000 + Math.log(1 + Math.exp(-1)), 10);
    expect(w[0] + w[1] + w[2]).toBeCloseTo(1, 12);
  });

  const cases: [Form, number[], number[]][] = [
    [chinchillaForm, [0.5, 6.0, 6.1, 0.34, 0.28], [3e8, 6e9]],
    [chinchillaForm, [-1, 25, 0, 2, 0], [5.7e7, 2.5e8]], // a corner of the Chinchilla grid
    [powerLawOffsetForm, [0.6, 3.0, 0.1], [1e19]],
    [powerLawForm, [-5.1, 0.53], [1e20]],
    [surgeForm, [Math.log(3e-4), Math.log(2e6)], [5e5]],
    [surgeForm, [Math.log(3e-4), Math.log(2e6)], [8e7]],
    [computeLinearForm, [9.59, 2.3e8], [1e8, 1e10]],
    [stepsBatchForm, [Math.log(200), Math.log(500)], [64]],
    [stepsBatchForm, [Math.log(200), Math.log(500)], [1e6]],
  ];
  for (const [form, theta, x] of cases) {
    it(`${form.name}: analytic gradient matches central differences at θ = [${theta.join(', ')}]`, () => {
      expect(gradientError(form, theta, x)).toBeLessThan(1e-6);
    });
  }

  it('surge: ε_opt/ε_max = 0.8 at B_noise/4 and 4·B_noise, 1 at B_noise (docs/references.md#surge-estimation)', () => {
    expect(epsOpt(0.25e6, 1, 1e6)).toBeCloseTo(0.8, 12);
    expect(epsOpt(4e6, 1, 1e6)).toBeCloseTo(0.8, 12);
    expect(epsOpt(1e6, 1, 1e6)).toBeCloseTo(1, 12);
    expect(surgeForm.predict([3e-4, 1e6], [0.25e6])).toBeCloseTo(0.8 * 3e-4, 15);
  });

  it('steps-batch: S = S_min·(1 + B_noise/B), 2·S_min at B = B_noise (McCandlish et al. 2018)', () => {
    expect(stepsAtBatch(256, 200, 512)).toBe(600);
    expect(stepsAtBatch(500, 200, 500)).toBe(400);
    const th = Float64Array.from(stepsBatchForm.fromNatural([200, 512]));
    const cols = stepsBatchForm.prepare([Float64Array.of(256)]);
    expect(Math.exp(stepsBatchForm.logPredict(th, cols, 0, new Float64Array(2)))).toBeCloseTo(600, 10);
    // Far beyond B_noise and far below it the log stays finite (softplus, no overflow).
    const far = stepsBatchForm.prepare([Float64Array.of(1e-300), Float64Array.of(1e300)]);
    expect(stepsBatchForm.logPredict(th, [far[0]], 0, new Float64Array(2))).toBeCloseTo(Math.log(200) + Math.log(512) + 300 * Math.LN10, 6);
    expect(stepsBatchForm.logPredict(th, [far[1]], 0, new Float64Array(2))).toBeCloseTo(Math.log(200), 12);
  });

  it('every form round-trips natural ↔ fit parameters', () => {
    const natural: Record<string, number[]> = {
      chinchilla: [1.8, 480, 2100, 0.35, 0.37],
      'power-law-offset': [1.6, 72.6, 0.09],
      'power-law': [5.9e-3, 0.53],
      surge: [3e-4, 2e6],
      'compute-linear': [9.59, 2.3e8],
      'steps-batch': [200, 500],
    };
    for (const [name, p] of Object.entries(natural)) {
      const back = FORMS[name].toNatural(FORMS[name].fromNatural(p));
      back.forEach((v, i) => expect(Math.abs(v - p[i]) / Math.abs(p[i])).toBeLessThan(1e-12));
    }
  });

  it('the fused Chinchilla kernel equals the generic Huber loop (value and gradient)', () => {
    const N = Float64Array.from([1e8, 3e8, 1e9, 3e9, 1e10]);
    const D = Float64Array.from([2e9, 5e9, 2e10, 6e10, 2e11]);
    const L = Float64Array.from([3.1, 2.8, 2.5, 2.3, 2.1]);
    const data = bindData(chinchillaForm, [N, D], L, [1, 2, 1, 1, 0.5]);
    const fused = huberLogObjective(chinchillaForm, data, 1e-3);
    const generic = huberLogObjective({ ...chinchillaForm, huberLogKernel: undefined }, data, 1e-3);
    for (const th of [
      [0.5, 6, 6, 0.34, 0.28],
      [1, 25, 0, 0, 2],
      [0.6, 5, 7, 0.3, 0.35],
    ]) {
      const g1 = new Float64Array(5);
      const g2 = new Float64Array(5);
      const f1 = fused(Float64Array.from(th), g1);
      const f2 = generic(Float64Array.from(th), g2);
      expect(f1).toBeCloseTo(f2, 12);
      g1.forEach((v, i) => expect(v).toBeCloseTo(g2[i], 10));
    }
  });
});
