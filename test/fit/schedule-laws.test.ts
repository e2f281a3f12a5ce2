// Schedule-aware laws on the bundled Multi-Power-Law curves (27 real loss curves; docs/references.md#multi-power):
// the LR reconstruction convention, the official MPL parameters reproducing every curve, the
// quadrature of the drop term, the Tissue reference fit (§5.4), an MPL fit on three schedules
// predicting the other six, synthetic recovery, and input refusals.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataError } from '../../src/errors.ts';
import {
  evaluateMultiPower,
  fitScheduleLaw,
  meanAbsRelError,
  MPL_OFFICIAL_PARAMS,
  multiPowerLaw,
  predictCurve,
  prepareCurve,
  reconstructLr,
  scheduleObjective,
  tissueLaw,
  type LossCurve,
} from '../../src/fit/index.ts';
import { PROJECT_ROOT } from '../../src/util/provenance.ts';

const ROOT = join(PROJECT_ROOT, 'data', 'reference', 'multipowerlaw_loss_curves');
const SIZES = ['25', '100', '400'] as const;
const FIT = ['cosine_24000', 'constant_24000', 'wsdcon_9'];
const PREDICT = ['constant_72000', 'cosine_72000', 'wsd_20000_24000', 'wsdld_20000_24000', 'wsdcon_3', 'wsdcon_18'];

function load(size: string, name: string): LossCurve {
  const rows = readFileSync(join(ROOT, `csv_${size}`, `${name}.csv`), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
  return { name, steps: rows.map((r) => r[0]), lrs: rows.map((r) => r[1]), losses: rows.map((r) => r[2]) };
}

describe('reconstructLr (per-step LR from logged points)', () => {
  it('matches the generating cosine schedule at every step (400M cosine_24000: warmup 2160, 3e-4 → 3e-5)', () => {
    const lr = reconstructLr(load('400', 'cosine_24000'));
    expect(lr[0]).toBe(0);
    expect(lr[1080]).toBeCloseTo(1.5e-4, 15); // linear warmup from 0 at step 0 to the first logged point
    let worst = 0;
    for (let s = 2160; s < lr.length; s++) {
      const truth = 3e-5 + 0.5 * 2.7e-4 * (1 + Math.cos((Math.PI * (s - 2160)) / (24000 - 2160)));
      worst = Math.max(worst, Math.abs(lr[s] - truth));
    }
    expect(worst).toBeLessThan(1e-7); // linear interpolation of a cosine sampled every 128 steps
  });

  it('linear ramps a step change between logged points; "step" holds the last logged value', () => {
    const c = load('400', 'wsdcon_3'); // 3e-4 until 8000, then 3e-5; logged at 7936 and 8000
    const linear = reconstructLr(c);
    const step = reconstructLr(c, { interpolation: 'step' });
    expect(linear[7968]).toBeCloseTo((3e-4 + 3e-5) / 2, 12);
    expect(step[7999]).toBe(3e-4);
    expect(step[8000]).toBeCloseTo(3e-5, 15);
    expect(linear[8000]).toBeCloseTo(3e-5, 15);
  });

  it('honours an explicit warmup length shorter than the first logged step', () => {
    const lr = reconstructLr(load('25', 'constant_24000'), { warmupSteps: 2160 }); // first logged step 2176
    expect(lr[2160]).toBe(3e-4);
    expect(lr[1080]).toBeCloseTo(1.5e-4, 15);
    expect(lr[2170]).toBe(3e-4);
  });
});

describe('Multi-Power Law with the official parameters (docs/references.md#multi-power)', () => {
  it('reproduces each of the 27 bundled curves to 0.04–0.28% mean relative error', () => {
    const errors: Record<string, number> = {};
    for (const size of SIZES) {
      for (const file of readdirSync(join(ROOT, `csv_${size}`))) {
        const name = file.replace('.csv', '');
        const c = prepareCurve(load(size, name));
        errors[`${size}M/${name}`] = meanAbsRelError(predictCurve(multiPowerLaw, MPL_OFFICIAL_PARAMS[`${size}M` as '25M'], c), c.losses);
      }
    }
    expect(Object.keys(errors)).toHaveLength(27);
    for (const [curve, e] of Object.entries(errors)) {
      expect(e, curve).toBeGreaterThan(0.0004);
      expect(e, curve).toBeLessThan(0.0028);
    }
  });

  it('gives the docs/references.md check values at the last logged steps', () => {
    const last = (size: '100' | '400', name: string) => {
      const c = prepareCurve(load(size, name));
      return predictCurve(multiPowerLaw, MPL_OFFICIAL_PARAMS[`${size}M`], c).at(-1) as number;
    };
    expect(last('400', 'cosine_24000')).toBeCloseTo(2.7572, 3);
    expect(last('400', 'wsd_20000_24000')).toBeCloseTo(2.7005, 3);
    expect(last('100', 'constant_72000')).toBeCloseTo(2.933, 3);
  });

  it('sums the drop term by quadrature to within 1e-8 of the exact sum, gradients included', () => {
    const th = multiPowerLaw.fromNatural(multiPowerLaw.params.map((n) => MPL_OFFICIAL_PARAMS['25M'][n]));
    for (const name of ['cosine_24000', 'wsd_20000_24000', 'wsdcon_3']) {
      const c = prepareCurve(load('25', name));
      const [pe, pq] = [new Float64Array(c.steps.length), new Float64Array(c.steps.length)];
      const [ge, gq] = [new Float64Array(c.steps.length * 7), new Float64Array(c.steps.length * 7)];
      evaluateMultiPower(th, c, pe, ge, true);
      evaluateMultiPower(th, c, pq, gq, false);
      pe.forEach((v, j) => expect(Math.abs(v - pq[j]) / v).toBeLessThan(1e-8));
      ge.forEach((v, j) => expect(Math.abs(v - gq[j])).toBeLessThan(1e-5 * Math.max(1, Math.abs(v))));
    }
  });

  it('has an analytic gradient of the Huber objective that matches central differences', () => {
    const curves = FIT.map((n) => prepareCurve(load('100', n)));
    const f = scheduleObjective(multiPowerLaw, curves, 1e-3);
    const th = Float64Array.from(multiPowerLaw.fromNatural(multiPowerLaw.params.map((n) => MPL_OFFICIAL_PARAMS['100M'][n])));
    const g = new Float64Array(7);
    f(th, g);
    const tmp = new Float64Array(7);
    for (let k = 0; k < 7; k++) {
      const up = Float64Array.from(th);
      const down = Float64Array.from(th);
      up[k] += 1e-6;
      down[k] -= 1e-6;
      const num = (f(up, tmp) - f(down, tmp)) / 2e-6;
      expect(Math.abs(num - g[k])).toBeLessThan(1e-6 * Math.max(1, Math.abs(num)) + 1e-9);
    }
  });
});

describe('Tissue et al. law (docs/references.md#tissue reference fit)', () => {
  // Fit cosine_24000 + constant_24000 + wsdcon_9 with λ = 0.999; docs/references.md's own reference values.
  const reference = {
    '25': { L0: 3.068, A: 0.4912, alpha: 0.5715, C: 0.4, held: [0.0008, 0.0023] },
    '100': { L0: 2.6934, A: 0.5533, alpha: 0.5245, C: 0.48, held: [0.0007, 0.0021] },
    '400': { L0: 2.4183, A: 0.6007, alpha: 0.4982, C: 0.56, held: [0.0007, 0.0037] },
  } as const;
  for (const size of SIZES) {
    it(`${size}M: parameters and held-out errors agree with the reference`, () => {
      const fit = fitScheduleLaw(FIT.map((n) => load(size, n)), { law: 'tissue', predict: PREDICT.map((n) => load(size, n)) });
      const ref = reference[size];
      expect(fit.params.L0.value).toBeCloseTo(ref.L0, 2);
      expect(fit.params.A.value).toBeCloseTo(ref.A, 2);
      expect(fit.params.alpha.value).toBeCloseTo(ref.alpha, 1);
      expect(Math.abs(fit.params.C.value - ref.C)).toBeLessThan(0.02);
      expect(fit.diagnostics.converged).toBe(true);
      const held = fit.curves.filter((c) => c.role === 'predict').map((c) => c.meanAbsRelError);
      expect(held).toHaveLength(6);
      expect(Math.min(...held)).toBeGreaterThan(ref.held[0] * 0.8);
      expect(Math.max(...held)).toBeLessThan(ref.held[1] * 1.2);
      expect(fit.heldOut).toHaveLength(6);
    });
  }

  it('recovers planted parameters exactly from noise-free synthetic curves', () => {
    const truth = { L0: 2.5, A: 0.6, alpha: 0.5, C: 0.45 };
    const schedules = synthSchedules();
    const curves = schedules.map((s) => {
      const c = prepareCurve(s);
      const losses = Array.from(predictCurve(tissueLaw, truth, c));
      return { ...s, losses };
    });
    const fit = fitScheduleLaw(curves.slice(0, 2), { law: 'tissue', predict: curves.slice(2) });
    for (const [k, v] of Object.entries(truth)) expect(fit.params[k].value).toBeCloseTo(v, 5);
    expect(fit.curves[2].meanAbsRelError).toBeLessThan(1e-7);
  });
});

/** Three 3,000-step schedules logged every 50 steps: cosine, constant, and a WSD with linear decay. */
function synthSchedules(): LossCurve[] {
  const steps = Array.from({ length: 60 }, (_, i) => 50 * (i + 1));
  const peak = 3e-4;
  const shapes: Record<string, (s: number) => number> = {
    cosine: (s) => (s <= 200 ? (peak * s) / 200 : 3e-5 + 0.5 * (peak - 3e-5) * (1 + Math.cos((Math.PI * (s - 200)) / 2800))),
    constant: (s) => (s <= 200 ? (peak * s) / 200 : peak),
    wsd: (s) => (s <= 200 ? (peak * s) / 200 : s <= 2400 ? peak : peak - ((peak - 1e-5) * (s - 2400)) / 600),
  };
  return Object.entries(shapes).map(([name, f]) => ({ name, steps, lrs: steps.map(f), losses: steps.map(() => 3) }));
}

describe('Multi-Power Law fits', () => {
  it('fitted on three real schedules (25M), predicts the other six to < 0.6% mean relative error', () => {
    const fit = fitScheduleLaw(FIT.map((n) => load('25', n)), { law: 'multipower', predict: PREDICT.map((n) => load('25', n)) });
    expect(fit.diagnostics.converged).toBe(true);
    expect(fit.diagnostics.startsAgreeing).toBeGreaterThanOrEqual(2);
    for (const c of fit.curves) {
      expect(c.meanAbsRelError, c.name).toBeLessThan(c.role === 'fit' ? 0.0015 : 0.006);
    }
    // The fit reaches a lower objective on its training curves than the official parameters do.
    const curves = FIT.map((n) => prepareCurve(load('25', n)));
    const f = scheduleObjective(multiPowerLaw, curves, 1e-3);
    const official = Float64Array.from(multiPowerLaw.fromNatural(multiPowerLaw.params.map((n) => MPL_OFFICIAL_PARAMS['25M'][n])));
    expect(fit.diagnostics.objective).toBeLessThan(f(official, new Float64Array(7)));
  }, 120_000);

  it('reproduces a planted law on synthetic schedules (fit two, predict the third)', () => {
    const truth = MPL_OFFICIAL_PARAMS['100M'];
    const curves = synthSchedules().map((s) => ({ ...s, losses: Array.from(predictCurve(multiPowerLaw, truth, prepareCurve(s))) }));
    const fit = fitScheduleLaw([curves[0], curves[2]], { law: 'multipower', predict: [curves[1]] });
    expect(fit.curves.every((c) => c.meanAbsRelError < 2e-4)).toBe(true);
    expect(fit.params.L0.value).toBeCloseTo(truth.L0, 1);
    expect(fit.params.alpha.value).toBeCloseTo(truth.alpha, 1);
  }, 60_000);
});

describe('schedules that decay to zero (WSD with minLrRatio 0)', () => {
  it('keep the MPL finite (G(∞) = 1 where η = 0) and the quadrature equal to the exact sum', () => {
    const steps = Array.from({ length: 60 }, (_, i) => 50 * (i + 1));
    const lrs = steps.map((s) => (s <= 200 ? (3e-4 * s) / 200 : s <= 2400 ? 3e-4 : Math.max(0, 3e-4 * (1 - (s - 2400) / 600))));
    const c = prepareCurve({ name: 'wsd-to-zero', steps, lrs, losses: steps.map(() => 3) });
    expect(c.lr.at(-1)).toBe(0);
    const th = multiPowerLaw.fromNatural(multiPowerLaw.params.map((n) => MPL_OFFICIAL_PARAMS['25M'][n]));
    const [pe, pq] = [new Float64Array(60), new Float64Array(60)];
    const g = new Float64Array(60 * 7);
    evaluateMultiPower(th, c, pe, g, true);
    evaluateMultiPower(th, c, pq, null, false);
    expect(pe.every(Number.isFinite) && g.every(Number.isFinite)).toBe(true);
    pe.forEach((v, j) => expect(Math.abs(v - pq[j]) / v).toBeLessThan(1e-8));
    // The cooldown lowers the loss below the constant-LR prediction.
    const flat = prepareCurve({ name: 'flat', steps, lrs: steps.map((s) => (s <= 200 ? (3e-4 * s) / 200 : 3e-4)), losses: steps.map(() => 3) });
    expect(pe[59]).toBeLessThan(predictCurve(multiPowerLaw, MPL_OFFICIAL_PARAMS['25M'], flat)[59]);
  });
});

describe('input checks', () => {
  const good = load('25', 'wsdcon_9');
  it('refuses unsorted steps, negative LRs and non-positive losses, naming curve and step', () => {
    const unsorted = { ...good, steps: [...Array.from(good.steps)].map((s, i) => (i === 3 ? 2176 : s)) };
    expect(() => prepareCurve(unsorted)).toThrow(DataError);
    expect(() => prepareCurve(unsorted)).toThrow(/wsdcon_9, row 4: step must be an integer ≥ 1 and increasing/);
    const negLr = { ...good, lrs: Array.from(good.lrs).map((v, i) => (i === 5 ? -1 : v)) };
    expect(() => prepareCurve(negLr)).toThrow(/wsdcon_9, step 2816: lr must be a finite number ≥ 0 \(got -1\)/);
    const zero = { ...good, losses: Array.from(good.losses).map((v, i) => (i === 0 ? 0 : v)) };
    expect(() => prepareCurve(zero)).toThrow(/loss must be a finite number > 0/);
    expect(() => prepareCurve(good, { warmupSteps: 5000 })).toThrow(/--warmup-steps 5000 must lie in 1 … the first logged step of wsdcon_9 \(2176\)/);
    expect(() => fitScheduleLaw([], { law: 'tissue' })).toThrow(/no curves to fit/);
  });
});
