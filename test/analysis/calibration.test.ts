// Interval calibration (src/analysis/calibration): the harness counts coverage, widths and failed
// fits correctly on a case whose intervals are known; the isoFLOP case's default interval covers in
// a light run (30 sweeps, 100 resamples; the full numbers are in docs/BENCHMARKS.md "Interval
// calibration"), and the cell-resampling bootstrap on the same sweeps is caught: unreliable in
// every sweep and under-covering tokens per parameter.
import { describe, expect, it } from 'vitest';
import { CALIBRATION_CASES, calibrationCase, runCalibration, type CalibrationCase } from '../../src/analysis/calibration/index.ts';
import { createRng } from '../../src/util/rng.ts';

/** Mean of 25 N(truth, 1) draws with the z interval at `z`; every 10th trial fails (ci null). */
function zCase(z: number): CalibrationCase {
  return {
    name: 'z',
    quantities: ['z.mean'],
    trial(index) {
      const rng = createRng(1000 + index);
      let m = 0;
      for (let i = 0; i < 25; i++) m += (3 + rng.normal()) / 25;
      const half = z / 5;
      return { 'z.mean': { truth: 3, ci: index % 10 === 9 ? null : [m - half, m + half], successFraction: index % 10 === 9 ? 0 : 1 } };
    },
  };
}

describe('runCalibration', () => {
  it('recovers the coverage of known intervals, counting failed fits as misses', () => {
    const exact = runCalibration([zCase(1.96)], { sweeps: 400, bootstrap: 0 })['z.mean'];
    // 90% of trials have a 95% interval: coverage ≈ 0.855 (binomial SD over 400 ≈ 0.018).
    expect(exact.n).toBe(400);
    expect(exact.failedTrials).toBe(40);
    expect(exact.coverage).toBeGreaterThan(0.8);
    expect(exact.coverage).toBeLessThan(0.91);
    expect(exact.meanWidth).toBeCloseTo((2 * 1.96) / 5, 10);
    expect(exact.meanSuccessFraction).toBeCloseTo(0.9, 10);
    // A 68% interval is seen as one: ≈ 0.9 × 0.68.
    const narrow = runCalibration([zCase(1)], { sweeps: 400, bootstrap: 0 })['z.mean'];
    expect(narrow.coverage).toBeGreaterThan(0.55);
    expect(narrow.coverage).toBeLessThan(0.69);
  });
});

describe('the registry', () => {
  it('runs the isoFLOP, parametric and surge cases by default, every quantity keyed by its case', () => {
    expect(CALIBRATION_CASES.map((c) => c.name)).toEqual(['isoflop', 'parametric', 'surge']);
    expect(CALIBRATION_CASES.flatMap((c) => c.quantities)).toEqual([
      'isoflop.N_opt exponent',
      'isoflop.D_opt exponent',
      'isoflop.tokensPerParam@3e11',
      'parametric.E',
      'parametric.alpha',
      'parametric.beta',
      'surge.Bnoise',
      'surge.epsMax',
    ]);
    // A variant's trial returns the keys it lists.
    const surge = calibrationCase('surge') as CalibrationCase;
    expect(Object.keys(surge.trial(0, { bootstrap: 10 }))).toEqual([...surge.quantities]);
  });
});

describe('the isoFLOP calibration case (light: 30 sweeps × 100 resamples)', () => {
  it('the default interval (losses redrawn from the noise floor) covers the exponents and tokens per parameter', () => {
    expect(CALIBRATION_CASES.map((c) => c.name)).toContain('isoflop');
    const r = runCalibration([calibrationCase('isoflop') as CalibrationCase], { sweeps: 30, bootstrap: 100 });
    expect(Object.keys(r)).toEqual(['isoflop.N_opt exponent', 'isoflop.D_opt exponent', 'isoflop.tokensPerParam@3e11']);
    for (const c of Object.values(r)) {
      expect(c.n).toBe(30);
      expect(c.coverage).toBeGreaterThanOrEqual(0.75);
      expect(c.failedTrials).toBe(0);
      expect(c.meanSuccessFraction).toBeGreaterThan(0.95);
    }
  });

  it('resampling runs by cells on the same sweeps is caught: unreliable (most resamples lose a minimum) and under-covering', () => {
    const r = runCalibration([calibrationCase('isoflop-cells') as CalibrationCase], { sweeps: 30, bootstrap: 100 });
    for (const c of Object.values(r)) expect(c.meanSuccessFraction).toBeLessThan(0.5);
    expect(r['isoflop-cells.tokensPerParam@3e11'].coverage).toBeLessThan(0.75);
  });
});
