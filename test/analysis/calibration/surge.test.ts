// A light calibration of the surge fit's 95% intervals (steps-to-target, the auto target, the default
// residual bootstrap; the full one, 1,000 sweeps, is in docs/BENCHMARKS.md "Interval calibration:
// every headline quantity"): 30 simulated LR × batch grids
// of the quick study's shape from a known law. Coverage must be high; the same trials, scored
// against a wrong truth or with intervals shrunk 4×, must be seen to fail.
import { describe, expect, it } from 'vitest';
import { fitSurgeCalibrationGrid, QUICK_SURGE_LAW, surgeCase, SURGE_QUANTITIES } from '../../../src/analysis/calibration/surge.ts';
import { covered } from './coverage.ts';


describe('surge calibration case (light)', () => {
  const c = surgeCase({ seed: 5 });
  const trials = Array.from({ length: 30 }, (_, i) => c.trial(i, { bootstrap: 100 }));

  it('returns B_noise and ε_max with the law as truth', () => {
    expect(c.quantities).toEqual(SURGE_QUANTITIES);
    for (const t of trials) {
      expect(t.Bnoise.truth).toBe(QUICK_SURGE_LAW.bNoise);
      expect(t.epsMax.truth).toBe(QUICK_SURGE_LAW.epsMax);
      expect(t.Bnoise.successFraction).toBeGreaterThan(0.9);
    }
  });

  it('fits the grid with the steps-to-target method at the auto target, recovering the law without noise', () => {
    const fit = fitSurgeCalibrationGrid({ seedSd: 0, curveNoise: 0 }, 0, 0);
    expect(fit.method).toBe('steps-to-target');
    expect(fit.options.targetLoss).toBe('auto');
    // The fit's default interval: the residual bootstrap (design kept, ln S redrawn).
    expect(fit.options.interval).toBe('residuals');
    expect(Math.abs(fit.params.Bnoise.value / QUICK_SURGE_LAW.bNoise - 1)).toBeLessThan(0.03);
    expect(Math.abs(fit.params.epsMax.value / QUICK_SURGE_LAW.epsMax - 1)).toBeLessThan(0.03);
  });

  it('covers the truth in most sweeps (95% intervals; wide tolerance for 30 sweeps)', () => {
    for (const q of SURGE_QUANTITIES) expect(covered(trials.map((t) => t[q]))).toBeGreaterThanOrEqual(0.8);
  });

  it('detects intervals that are too narrow and a truth that is off', () => {
    for (const q of SURGE_QUANTITIES) expect(covered(trials.map((t) => t[q]), undefined, 0.25)).toBeLessThan(0.7);
    expect(covered(trials.map((t) => t.Bnoise), (t) => t.truth * 1.6)).toBeLessThan(0.5);
  });
});
