// Parametric fit options: the four objectives, tied and fixed parameters, predictions at given rows
// and the identifiability refusals — each against a known law the fit did not see.
import { describe, expect, it } from 'vitest';
import { DataError } from '../../src/errors.ts';
import { chinchillaLoss, fitParametric, type ChinchillaParams } from '../../src/fit/index.ts';
import { createRng } from '../../src/util/rng.ts';

const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

/** isoFLOP-like slices of a known law; `noise(rng, L)` returns the observed loss. */
function synthetic(p: ChinchillaParams, seed: number, noise: (rng: ReturnType<typeof createRng>, L: number) => number = (_, L) => L) {
  const rng = createRng(seed);
  const pts: { N: number; D: number; loss: number; budget: number }[] = [];
  for (const C of [1e17, 3e17, 1e18, 3e18, 1e19, 3e19]) {
    for (let k = -4; k <= 4; k++) {
      const N = Math.sqrt(C / 120) * Math.pow(10, k / 4);
      const D = C / (6 * N);
      pts.push({ N, D, budget: C, loss: noise(rng, chinchillaLoss(p, N, D)) });
    }
  }
  return pts;
}

const truth: ChinchillaParams = { E: 1.8, A: 480, B: 2100, alpha: 0.35, beta: 0.37 };

describe('fitParametric objectives', () => {
  for (const objective of ['huber-log', 'lsq-log', 'lsq', 'huber'] as const) {
    it(`${objective}: recovers the law from noise-free runs`, () => {
      const fit = fitParametric(synthetic(truth, 1), { grid: 'coarse', holdout: 'none', objective });
      expect(fit.diagnostics.loss).toBe(objective);
      expect(rel(fit.params.E.value, truth.E)).toBeLessThan(1e-3);
      expect(fit.params.alpha.value).toBeCloseTo(truth.alpha, 3);
      expect(fit.params.beta.value).toBeCloseTo(truth.beta, 3);
      expect(fit.options.objective).toBe(objective);
    });
  }

  it('lsq on additive noise of constant size recovers the law; the robust objectives resist one outlier that pulls lsq', () => {
    const pts = synthetic(truth, 2, (rng, L) => L + 0.004 * rng.normal());
    const lsq = fitParametric(pts, { grid: 'coarse', holdout: 'none', objective: 'lsq' });
    expect(Math.abs(lsq.params.alpha.value - truth.alpha)).toBeLessThan(0.03);
    expect(Math.abs(lsq.params.E.value - truth.E)).toBeLessThan(0.05);
    // One wild row (a diverged-looking run at +30%).
    const bad = synthetic(truth, 3);
    bad[20] = { ...bad[20], loss: bad[20].loss * 1.3 };
    const robust = fitParametric(bad, { grid: 'coarse', holdout: 'none', objective: 'huber-log' });
    const pulled = fitParametric(bad, { grid: 'coarse', holdout: 'none', objective: 'lsq' });
    const errRobust = Math.abs(robust.params.E.value - truth.E);
    const errPulled = Math.abs(pulled.params.E.value - truth.E);
    expect(errRobust).toBeLessThan(0.01);
    expect(errPulled).toBeGreaterThan(3 * errRobust);
  });
});

describe('fitParametric tie and fix', () => {
  it('tie alpha=beta fits one exponent and recovers a law with equal exponents', () => {
    const t: ChinchillaParams = { E: 1.7, A: 400, B: 900, alpha: 0.3, beta: 0.3 };
    const fit = fitParametric(synthetic(t, 4, (rng, L) => L * Math.exp(0.002 * rng.normal())), { grid: 'coarse', holdout: 'none', tie: [['alpha', 'beta']], bootstrap: 20 });
    expect(fit.params.alpha.value).toBe(fit.params.beta.value);
    expect(fit.params.alpha.value).toBeCloseTo(0.3, 2);
    expect(Object.keys(fit.diagnostics.startPoint)).toEqual(['e', 'a', 'b', 'alpha']);
    expect(fit.params.alpha.ci95).toEqual(fit.params.beta.ci95);
    expect(fit.options.tie).toEqual(['alpha=beta']);
  });

  it('fix E recovers the other four parameters and reports E exactly, without an interval', () => {
    const fit = fitParametric(synthetic(truth, 5, (rng, L) => L * Math.exp(0.002 * rng.normal())), { grid: 'coarse', holdout: 'none', fix: { E: 1.8 }, bootstrap: 20 });
    expect(fit.params.E.value).toBe(1.8);
    expect(fit.params.E.ci95).toBeNull();
    expect(fit.params.alpha.value).toBeCloseTo(truth.alpha, 1);
    expect(fit.params.beta.value).toBeCloseTo(truth.beta, 1);
    expect(fit.params.alpha.ci95).not.toBeNull();
    expect(fit.notes.join(' ')).toMatch(/E fixed at 1\.8/);
  });

  it('refuses unknown names, ties across scales and fixing everything', () => {
    const pts = synthetic(truth, 6);
    expect(() => fitParametric(pts, { grid: 'coarse', fix: { G: 1 } })).toThrow(/fix G: not a parameter/);
    expect(() => fitParametric(pts, { grid: 'coarse', tie: [['A', 'alpha']] })).toThrow(/different scales/);
    expect(() => fitParametric(pts, { grid: 'coarse', fix: { E: -1 } })).toThrow(/fix E=-1/);
    expect(() => fitParametric(pts, { grid: 'coarse', fix: { E: 1, A: 1, B: 1, alpha: 1, beta: 1 } })).toThrow(/nothing is left to fit/);
  });
});

describe('fitParametric predictions', () => {
  it('predicts given rows with bootstrap intervals that cover the true law', () => {
    const fit = fitParametric(synthetic(truth, 7, (rng, L) => L * Math.exp(0.005 * rng.normal())), {
      grid: 'coarse',
      holdout: 'none',
      bootstrap: 60,
      seed: 1,
      predict: [
        { N: 1e8, D: 2e9, label: 'small' },
        { N: 1e9, D: 2e10 },
      ],
    });
    expect(fit.predictions).toHaveLength(2);
    expect(fit.predictions![0].label).toBe('small');
    expect(fit.predictions![1].label).toBe('prediction 2');
    for (const p of fit.predictions!) {
      const actual = chinchillaLoss(truth, p.inputs.N, p.inputs.D);
      expect(rel(p.values.loss.value, actual)).toBeLessThan(0.01);
      const [lo, hi] = p.values.loss.ci95!;
      expect(lo).toBeLessThan(actual * 1.003);
      expect(hi).toBeGreaterThan(actual * 0.997);
    }
  });
});

describe('fitParametric identifiability', () => {
  it('all-equal losses: a DataError naming the problem, not a converged fit', () => {
    const pts = synthetic(truth, 8).map((p) => ({ ...p, loss: 3.2 }));
    expect(() => fitParametric(pts, { grid: 'coarse' })).toThrow(DataError);
    expect(() => fitParametric(pts, { grid: 'coarse' })).toThrow(/all equal/);
  });

  it('a single budget (ln D = c − ln N): refused; with allowUnidentified the record is marked unidentified', () => {
    const pts = synthetic(truth, 9, (rng, L) => L * Math.exp(0.002 * rng.normal())).filter((p) => p.budget === 1e19);
    expect(() => fitParametric(pts, { grid: 'coarse', holdout: 'none' })).toThrow(/lock-step/);
    const fit = fitParametric(pts, { grid: 'coarse', holdout: 'none', allowUnidentified: true });
    expect(fit.identifiability?.identified).toBe(false);
    expect(fit.identifiability?.problems.join(' ')).toMatch(/lock-step/);
    expect(fit.notes.join(' ')).toMatch(/NOT IDENTIFIED/);
  });

  it('well-posed data are marked identified', () => {
    const fit = fitParametric(synthetic(truth, 10), { grid: 'coarse', holdout: 'none' });
    expect(fit.identifiability).toEqual({ identified: true, problems: [] });
  });
});
