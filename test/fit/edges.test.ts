// Groups a fit cannot use (its own per-group fit finds no interior minimum) are the fit's decision: edges 'refuse' (default) throws the per-group
// error, 'drop' leaves the group out and lists its rows in data.dropped with the reason.
import { describe, expect, it } from 'vitest';
import { CHINCHILLA_PAPER_UNROUNDED, chinchillaLoss, epsOpt, fitIsoflop, fitSurge, type IsoflopPoint, type SurgePoint } from '../../src/fit/index.ts';

describe('isoflop edges', () => {
  // Chinchilla's law at three budgets around each optimum, and a fourth budget sampled only below its
  // optimum (loss still falling at the largest size).
  const p = CHINCHILLA_PAPER_UNROUNDED;
  const cell = (C: number, k: number): IsoflopPoint => {
    const N = Math.sqrt(C / 6 / 20) * Math.pow(10, k / 4);
    const D = C / (6 * N);
    return { budget: C, N, D, loss: chinchillaLoss(p, N, D), label: `C${C}-k${k}` };
  };
  const good = [1e18, 1e19, 1e20].flatMap((C) => [-2, -1, 0, 1, 2].map((k) => cell(C, k)));
  const edge = [-6, -5, -4].map((k) => cell(1e21, k));

  it("refuses by default, naming the budget", () => {
    expect(() => fitIsoflop([...good, ...edge])).toThrow(/isoFLOP budget 1\.00e21 FLOPs has no interior minimum/);
  });

  it("'drop' fits the rest exactly as without the budget and lists its runs with the reason", () => {
    const dropped = fitIsoflop([...good, ...edge], { edges: 'drop' });
    const without = fitIsoflop(good);
    expect(dropped.params).toEqual(without.params);
    expect(dropped.budgets.map((b) => b.budget)).toEqual([1e18, 1e19, 1e20]);
    expect(dropped.data.dropped.map((d) => d.row)).toEqual(edge.map((e) => e.label));
    expect(dropped.data.dropped[0].reason).toMatch(/^isoFLOP budget 1\.00e21 FLOPs has no interior minimum: .*add larger models at this budget/);
    expect(dropped.data.rowsGiven).toBe(18);
    expect(dropped.data.n).toBe(15);
    expect(dropped.notes[0]).toMatch(/^Left out \(edges: drop\): isoFLOP budget 1\.00e21/);
  });

  it("'drop' still says when too few budgets remain", () => {
    expect(() => fitIsoflop([...good.filter((q) => q.budget === 1e18), ...edge], { edges: 'drop' })).toThrow(/need at least 2 budgets, got 1 .* after leaving out 1 without an interior minimum/);
  });
});

describe('surge (final-loss) edges', () => {
  // Loss parabolas in ln lr around ε_opt(B) (ε_max 2e-3, B_noise 8192), and one batch whose LRs all
  // lie above its best LR (loss rising from the smallest LR).
  const point = (B: number, f: number): SurgePoint => {
    const best = epsOpt(B, 2e-3, 8192);
    const lr = best * f;
    return { batchTokens: B, lr, loss: 2 + 0.05 * Math.log(f) ** 2, label: `B${B}-f${f}` };
  };
  const factors = [0.25, 0.5, 1, 2, 4];
  const good = [1024, 4096, 16384, 65536].flatMap((B) => factors.map((f) => point(B, f)));
  const edge = [2, 4, 8].map((f) => point(2048, f));

  it("refuses by default, drops with 'drop' and matches the fit without the batch", () => {
    expect(() => fitSurge([...good, ...edge])).toThrow(/surge: batch .* tokens has no interior best learning rate/);
    const dropped = fitSurge([...good, ...edge], { edges: 'drop' });
    const without = fitSurge(good);
    expect(dropped.params).toEqual(without.params);
    expect(dropped.perBatch.map((b) => b.batchTokens)).toEqual([1024, 4096, 16384, 65536]);
    expect(dropped.data.dropped.map((d) => d.row)).toEqual(edge.map((e) => e.label));
    expect(dropped.data.dropped[0].reason).toMatch(/^surge: batch .* tokens has no interior best learning rate/);
  });
});
