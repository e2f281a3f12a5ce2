// Approach 1: the envelope of synthetic training curves of a known L(N, D) recovers the
// compute-optimal exponent a = beta/(alpha+beta); refusals name the curve.
import { describe, expect, it } from 'vitest';
import { DataError } from '../../src/errors.ts';
import { CHINCHILLA_PAPER_UNROUNDED, chinchillaLoss, fitEnvelope, type TrainingCurve } from '../../src/fit/index.ts';

/** 16 model sizes, each trained to 2,000 tokens/param, logged at 60 points (D log-spaced). */
function curves(): TrainingCurve[] {
  const p = CHINCHILLA_PAPER_UNROUNDED;
  return Array.from({ length: 16 }, (_, i) => {
    const N = 1e7 * Math.pow(10, i / 5);
    const points = Array.from({ length: 60 }, (_, j) => {
      const D = N * Math.pow(10, (j / 59) * Math.log10(2000));
      return { flops: 6 * N * D, loss: chinchillaLoss(p, N, D), tokens: D };
    });
    return { label: `N${N.toExponential(1)}`, N, points };
  });
}

describe('fitEnvelope', () => {
  it('recovers N_opt ∝ C^0.4565 and D_opt ∝ C^0.5435 (docs/references.md#chinchilla-approach-3) from the lowest-loss curve per FLOP value', () => {
    const fit = fitEnvelope(curves(), { bootstrap: 40, seed: 2, targetFlops: [1e21] });
    expect(fit.params.a.value).toBeCloseTo(0.4565, 1);
    expect(fit.params.b.value).toBeCloseTo(0.5435, 1);
    expect(fit.envelope.length).toBeGreaterThan(500);
    expect(new Set(fit.envelope.map((e) => e.curve)).size).toBeGreaterThan(8);
    // Tokens along the winning curve: C = 6·N·D exactly.
    for (const e of fit.envelope.slice(0, 50)) expect(6 * e.N * e.D).toBeCloseTo(e.C, -e.C.toExponential().length);
    expect(fit.params.a.ci95).not.toBeNull();
    expect(fit.heldOut.map((h) => h.label[0])).toEqual(['N', 'D']);
    expect(Math.abs(fit.heldOut[0].relError)).toBeLessThan(0.5);
  });

  it('refuses an envelope won everywhere by one size, and curves with too few points', () => {
    const two = curves().slice(0, 2);
    two[1] = { ...two[1], points: two[1].points.map((q) => ({ ...q, loss: q.loss + 5 })) };
    expect(() => fitEnvelope(two)).toThrow(DataError);
    expect(() => fitEnvelope(two)).toThrow(/only one model size .* is ever the lowest-loss run/);
    const short = curves().slice(0, 3);
    short[2] = { ...short[2], points: short[2].points.slice(0, 1) };
    expect(() => fitEnvelope(short)).toThrow(/curve N2\.5e\+7 has fewer than 2 points/);
  });
});
