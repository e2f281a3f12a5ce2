import { describe, expect, it } from 'vitest';
import { isoflopSensitivity } from '../../src/analysis/sensitivity.ts';
import { synthRun } from './synthetic-runs.ts';

// Chinchilla-like truth with D = C/(6N): N_opt ∝ C^(β/(α+β)), D_opt ∝ C^(α/(α+β)).
const LAW = { E: 1.7, A: 400, alpha: 0.34, B: 410, beta: 0.28 };
const A_TRUE = LAW.beta / (LAW.alpha + LAW.beta);
const loss = (N: number, D: number) => LAW.E + LAW.A / N ** LAW.alpha + LAW.B / D ** LAW.beta;
const nOpt = (C: number) => {
  const g = ((LAW.alpha * LAW.A) / (LAW.beta * LAW.B)) ** (1 / (LAW.alpha + LAW.beta));
  return g * (C / 6) ** A_TRUE;
};
const BUDGETS = [1e15, 1e16, 1e17, 1e18];

function runs(embedding: (N: number) => number, model: (N: number) => { dModel: number; numLayers: number } = () => ({ dModel: 32, numLayers: 2 })) {
  const out = [];
  for (const C of BUDGETS) {
    for (let i = -4; i <= 4; i++) {
      const N = nOpt(C) * 2 ** (i / 2);
      const D = C / (6 * N);
      const m = model(N);
      out.push(synthRun({
        runId: `c${C}-${i}`,
        tags: { study: 'isoflop', budgetFlops: C, size: N, seed: 0 },
        finalValLoss: loss(N, D),
        derived: { activatedParams: N, activatedNonEmbeddingParams: N - embedding(N), tokens: D },
        model: { dModel: m.dModel, numLayers: m.numLayers, numHeads: 2, dFf: 2 * m.dModel, numExperts: 4, numSharedExperts: 1, topK: 1, seqLen: 256 },
      }));
    }
  }
  return out;
}

describe('isoflopSensitivity', () => {
  it('recovers the true exponent, is unchanged where the truth says so, and lists every variant', () => {
    const s = isoflopSensitivity(runs((N) => 0.2 * N), { bootstrap: 50 });
    const base = s.rows[0];
    expect(base.group).toBe('baseline');
    expect(base.a!.value).toBeGreaterThan(A_TRUE - 0.02);
    expect(base.a!.value).toBeLessThan(A_TRUE + 0.02);
    expect(base.a!.value + base.b!.value).toBeCloseTo(1, 6); // D = C/(6N): a + b = 1 exactly
    // A constant non-embedding fraction rescales N: the exponent does not move.
    const ne = s.rows.find((r) => r.group === 'parameters')!;
    expect(ne.a!.value).toBeCloseTo(base.a!.value, 8);
    // Identical models: full-context FLOPs rescale every budget by one factor, the exponent stays.
    const att = s.rows.find((r) => r.group === 'attention FLOPs')!;
    expect(att.a!.value).toBeCloseTo(base.a!.value, 8);
    expect(s.rows.filter((r) => r.group === 'window').map((r) => r.variant)).toEqual(['window 3× of the best run', 'window 4× of the best run', 'window 6× of the best run', 'window all']);
    expect(s.rows.filter((r) => r.group === 'leave-one-budget-out')).toHaveLength(4);
    expect(base.successFraction).toBeGreaterThan(0);
    // Held out: the largest budget's N_opt and D_opt predicted by the other three (noiseless: small error).
    expect(Math.abs(s.heldOut!.N_opt.relError)).toBeLessThan(0.05);
    expect(Math.abs(s.heldOut!.D_opt.relError)).toBeLessThan(0.05);
    expect(s.heldOut!.N_opt.actual).toBeGreaterThan(nOpt(1e18) * 0.9);
    expect(s.spread!.a[0]).toBeLessThanOrEqual(base.a!.value);
  });

  it('leaves out each of three budgets (the quick preset has three): two-budget laws', () => {
    const three = runs((N) => 0.2 * N).filter((r) => r.tags?.study === 'isoflop' && r.tags.budgetFlops < 1e18);
    const s = isoflopSensitivity(three, { bootstrap: 20 });
    const loo = s.rows.filter((r) => r.group === 'leave-one-budget-out');
    expect(loo).toHaveLength(3);
    for (const r of loo) {
      expect(r.error).toBeUndefined();
      expect(r.budgets).toBe(2);
    }
    expect(s.heldOut).not.toBeNull();
  });

  it('moves the exponent the way a fixed embedding and size-dependent attention FLOPs must', () => {
    // A fixed embedding count: N_ne = N − E0 grows faster with C than N, so its exponent is larger.
    const s = isoflopSensitivity(runs(() => 2e5), { bootstrap: 0 });
    const base = s.rows[0].a!.value;
    expect(s.rows.find((r) => r.group === 'parameters')!.a!.value).toBeGreaterThan(base + 0.005);
    // Wider models at larger N: attention is a smaller share of their FLOPs, so full-context counting
    // inflates small budgets' (small models') compute more: C's range shrinks and the exponent grows.
    const width = (N: number) => (N < 3e6 ? 16 : N < 1e7 ? 24 : N < 3e7 ? 32 : N < 1e8 ? 48 : 64);
    const w = isoflopSensitivity(runs((N) => 0.2 * N, (N) => ({ dModel: width(N), numLayers: 2 })), { bootstrap: 0 });
    const att = w.rows.find((r) => r.group === 'attention FLOPs')!;
    expect(att.error).toBeUndefined();
    expect(att.a!.value).toBeGreaterThan(w.rows[0].a!.value + 1e-4);
  });
});
