// fitForm: the same power law with offset fitted by L-BFGS on Huber, by Levenberg–Marquardt on
// least squares and by Nelder–Mead, all recovering the planted parameters; refits on resampled rows.
import { describe, expect, it } from 'vitest';
import { fitForm, powerLawOffsetForm, refitRows } from '../../src/fit/index.ts';

// L_min(C) = 1.6 + 72.6·C^−0.0897 (the marin interim law, docs/references.md).
const C = Float64Array.from({ length: 12 }, (_, i) => 1e17 * Math.pow(10, i / 2));
const L = Float64Array.from(C, (c) => 1.6 + 72.6 * Math.pow(c, -0.0897));
const starts = [powerLawOffsetForm.fromNatural([1, 10, 0.05]), powerLawOffsetForm.fromNatural([2, 100, 0.2])];

describe('fitForm', () => {
  for (const [loss, optimizer] of [
    ['huber-log', 'lbfgs'],
    ['lsq-log', 'levenberg-marquardt'],
    ['lsq-log', 'nelder-mead'],
  ] as const) {
    it(`${optimizer} on ${loss} recovers E = 1.6, A = 72.6, alpha = 0.0897`, () => {
      const fit = fitForm(powerLawOffsetForm, [C], L, { starts, loss, optimizer });
      expect(fit.diagnostics.optimizer).toBe(optimizer);
      expect(fit.params.E).toBeCloseTo(1.6, optimizer === 'nelder-mead' ? 3 : 5);
      expect(fit.params.A / 72.6).toBeCloseTo(1, optimizer === 'nelder-mead' ? 2 : 4);
      expect(fit.params.alpha).toBeCloseTo(0.0897, optimizer === 'nelder-mead' ? 4 : 6);
      expect(fit.diagnostics.startPoint).toHaveProperty('alpha');
    });
  }

  it('refits a resample from the optimum', () => {
    const fit = fitForm(powerLawOffsetForm, [C], L, { starts });
    const r = refitRows(fit, [0, 0, 2, 3, 5, 7, 8, 9, 11, 11]);
    expect(r).not.toBeNull();
    expect(powerLawOffsetForm.toNatural(r!.x)[2]).toBeCloseTo(0.0897, 5);
  });

  it('refuses Levenberg–Marquardt on a Huber objective', () => {
    expect(() => fitForm(powerLawOffsetForm, [C], L, { starts, optimizer: 'levenberg-marquardt' })).toThrow(/use loss "lsq-log"/);
  });
});
