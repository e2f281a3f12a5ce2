// A light calibration of the parametric fit's 95% intervals (the full one, 200 sweeps, is in
// docs/BENCHMARKS.md "Interval calibration"): 24 simulated sweeps from a known surface with the
// quick study's noise, fitted with the 243-point start grid (docs/BENCHMARKS.md: same optimum as
// the 4,500-point grid on these sweeps) and a small bootstrap. Coverage must be high; the same
// trials, scored against a wrong truth or with intervals shrunk 4×, must be seen to fail.
import { describe, expect, it } from 'vitest';
import { parametricCase, PARAMETRIC_QUANTITIES } from '../../../src/analysis/calibration/parametric.ts';
import { covered } from './coverage.ts';
import { CHINCHILLA_SURFACE } from '../../../src/analysis/simulate.ts';


describe('parametric calibration case (light)', () => {
  const c = parametricCase({ grid: 'coarse', seed: 11 });
  const trials = Array.from({ length: 24 }, (_, i) => c.trial(i, { bootstrap: 60 }));

  it('returns E, alpha, beta with the surface as truth and every resample fitted', () => {
    expect(c.name).toBe('parametric');
    expect(c.quantities).toEqual(PARAMETRIC_QUANTITIES);
    for (const t of trials) {
      expect(t.E.truth).toBe(CHINCHILLA_SURFACE.E);
      expect(t.alpha.truth).toBe(CHINCHILLA_SURFACE.alpha);
      expect(t.beta.truth).toBe(CHINCHILLA_SURFACE.beta);
      for (const q of PARAMETRIC_QUANTITIES) expect(t[q].successFraction).toBe(1);
    }
  });

  it('covers the truth in most sweeps (95% intervals; wide tolerance for 24 sweeps)', () => {
    for (const q of PARAMETRIC_QUANTITIES) expect(covered(trials.map((t) => t[q]))).toBeGreaterThanOrEqual(0.75);
  });

  it('detects intervals that are too narrow and a truth that is off', () => {
    for (const q of PARAMETRIC_QUANTITIES) expect(covered(trials.map((t) => t[q]), undefined, 0.25)).toBeLessThan(0.7);
    // α off by 0.04 (about two interval half-widths)
    expect(covered(trials.map((t) => t.alpha), (t) => t.truth + 0.04)).toBeLessThan(0.5);
  });

  it('draws the same sweep for the same index and seed', () => {
    expect(c.trial(3, { bootstrap: 10 })).toEqual(parametricCase({ grid: 'coarse', seed: 11 }).trial(3, { bootstrap: 10 }));
  });
});
