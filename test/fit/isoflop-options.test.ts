// isoFLOP options against known laws: the 'auto' window on a wide, lopsided grid (the full-range
// parabola biases the exponent and undercuts the best run, and says so), the saturating L_min law,
// predictions at given budgets, and the refusal of constant losses.
import { describe, expect, it } from 'vitest';
import { DataError } from '../../src/errors.ts';
import { CHINCHILLA_PAPER_UNROUNDED as P, chinchillaLoss, chinchillaOptimal, fitIsoflop, windowed, type IsoflopPoint } from '../../src/fit/index.ts';
import { createRng } from '../../src/util/rng.ts';

const BUDGETS = [1e18, 3e18, 1e19, 3e19, 1e20, 3e20];
/** The true exponent of N_opt ∝ C^a for the unrounded Chinchilla law (6ND). */
const A_TRUE = Math.log(chinchillaOptimal(P, 1e21).N / chinchillaOptimal(P, 1e19).N) / Math.log(100);

/** Runs of the Chinchilla law, 11 sizes per budget over 100× (×10^0.2 apart), lopsided to small sizes. */
function lopsided(sigma: number, seed: number): IsoflopPoint[] {
  const rng = createRng(seed);
  const pts: IsoflopPoint[] = [];
  BUDGETS.forEach((C, j) => {
    const Nopt = chinchillaOptimal(P, C).N;
    for (let k = -8; k <= 2; k++) {
      const N = Nopt * Math.pow(10, k / 5 + 0.03 * j);
      const D = C / (6 * N);
      pts.push({ budget: C, N, D, loss: chinchillaLoss(P, N, D) * Math.exp(sigma * rng.normal()), label: `C${C}-k${k}` });
    }
  });
  return pts;
}

describe("fitIsoflop window rule 'auto' (the default)", () => {
  it('keeps every size when a budget has ≤ 5, else widens from 2× by √2 until 5 are in', () => {
    const five = [1, 2, 4, 8, 16].map((N) => ({ N, loss: Math.abs(Math.log(N / 4)) }));
    expect(windowed(five, 'auto')).toEqual({ points: five, factor: null });
    const eleven = Array.from({ length: 11 }, (_, k) => ({ N: Math.pow(10, k / 5), loss: Math.abs(k - 3) }));
    const w = windowed(eleven, 'auto');
    // ×10^0.2 = 1.585 apart: 2× keeps 3, 2.83× keeps 5 (best at k = 3: k = 1 … 5).
    expect(w.factor).toBeCloseTo(2 * Math.SQRT2, 12);
    expect(w.points.map((p) => Math.round(5 * Math.log10(p.N)))).toEqual([1, 2, 3, 4, 5]);
  });

  it('on a 100× lopsided grid: every size biases a and undercuts the best runs with a warning; auto recovers a with no warning', () => {
    const pts = lopsided(3e-4, 1);
    const all = fitIsoflop(pts, { window: 'all', bootstrap: 0 });
    const auto = fitIsoflop(pts, { bootstrap: 0 });
    expect(all.params.a.value - A_TRUE).toBeGreaterThan(0.008);
    expect(Math.abs(auto.params.a.value - A_TRUE)).toBeLessThan(0.002);
    expect(auto.options.window).toBe('auto');
    expect(all.budgets.filter((b) => b.undercut !== null).length).toBeGreaterThanOrEqual(4);
    expect(all.notes.some((n) => /^WARNING: budget .* below the best observed loss/.test(n))).toBe(true);
    expect(auto.budgets.every((b) => b.undercut === null)).toBe(true);
    expect(auto.notes.some((n) => n.startsWith('WARNING'))).toBe(false);
    for (const b of auto.budgets) expect(b.window).toEqual({ factor: 2 * Math.SQRT2, sizesUsed: 5, sizesGiven: 11 });
  });
});

describe('fitIsoflop L_min laws', () => {
  // Exact parabolas whose minima follow a saturating law L* = E + A·C^(−alpha).
  const truth = { E: 1.7, A: 400, alpha: 0.15 };
  const planted = (): IsoflopPoint[] => {
    const pts: IsoflopPoint[] = [];
    for (const C of BUDGETS) {
      const Nstar = 0.1 * Math.pow(C, 0.5);
      const Lstar = truth.E + truth.A * Math.pow(C, -truth.alpha);
      for (const k of [-2, -1, 0, 1, 2]) {
        const N = Nstar * Math.exp(0.5 * k + 0.1);
        pts.push({ budget: C, N, D: C / (6 * N), loss: Lstar + 0.03 * Math.log(N / Nstar) ** 2 });
      }
    }
    return pts;
  };

  it('saturating recovers E, A, alpha; the power law cannot (its fit leaves a visible residual)', () => {
    const sat = fitIsoflop(planted(), { lminLaw: 'saturating', targetFlops: [1e24], bootstrap: 0 });
    expect(sat.params.E.value).toBeCloseTo(truth.E, 6);
    expect(sat.params.A.value / truth.A).toBeCloseTo(1, 5);
    expect(sat.params.alpha.value).toBeCloseTo(truth.alpha, 7);
    expect(sat.derived['L_min@1.00e24'].value).toBeCloseTo(truth.E + truth.A * Math.pow(1e24, -truth.alpha), 6);
    expect(sat.powerLaws.L_min.expression).toBe('L_min = E + A * C^(-alpha)');
    expect(sat.lminConvergence?.converged).toBe(true);
    const pow = fitIsoflop(planted(), { bootstrap: 0, targetFlops: [1e24] });
    expect(pow.params.kL).toBeDefined();
    // Extrapolated five decades, the power law misses the saturating truth.
    expect(Math.abs(pow.derived['L_min@1.00e24'].value - sat.derived['L_min@1.00e24'].value)).toBeGreaterThan(0.05);
  });

  it('saturating needs ≥ 3 budgets', () => {
    expect(() => fitIsoflop(planted().filter((p) => p.budget <= 3e18), { lminLaw: 'saturating' })).toThrow(/needs ≥ 3 budgets, got 2/);
  });
});

describe('fitIsoflop predictions and identifiability', () => {
  it('predicts N_opt, D_opt, L_min at given budgets with intervals covering the truth', () => {
    const pts = lopsided(1e-3, 2);
    const fit = fitIsoflop(pts, { bootstrap: 100, seed: 3, predict: [{ C: 1e21 }, { C: 1e22, label: 'next' }] });
    expect(fit.predictions?.map((p) => p.label)).toEqual(['C = 1.00e21', 'next']);
    for (const p of fit.predictions!) {
      const truthN = chinchillaOptimal(P, p.inputs.C).N;
      const [lo, hi] = p.values.N_opt.ci95!;
      expect(lo).toBeLessThan(truthN);
      expect(hi).toBeGreaterThan(truthN);
      expect(p.values.D_opt.value).toBeGreaterThan(0);
    }
  });

  it('all-equal losses are refused (no "R² 1" fit)', () => {
    const pts = lopsided(0, 3).map((p) => ({ ...p, loss: 3 }));
    expect(() => fitIsoflop(pts)).toThrow(DataError);
    expect(() => fitIsoflop(pts)).toThrow(/all equal/);
    // One flat budget among good ones: named.
    const one = lopsided(0, 3).map((p) => (p.budget === 1e19 ? { ...p, loss: 3 } : p));
    expect(() => fitIsoflop(one)).toThrow(/budget 1\.00e19 FLOPs: the .* values of the loss at budget 1\.00e19 FLOPs are all equal/);
  });
});

describe('fitIsoflop bootstrap on row counts (fastSlice)', () => {
  it('gives the same vertex, N_opt, D_opt and L_min as a parabola fitted through the materialised resample', async () => {
    const { prepareFast, fastSlice, fitParabola, fitLine } = await import('../../src/fit/index.ts');
    const pts = lopsided(2e-3, 9);
    const fast = prepareFast(pts);
    const rng = createRng(5);
    for (const window of ['auto', 'all', 3] as const) {
      const counts = new Int32Array(pts.length);
      for (let d = 0; d < pts.length; d++) counts[rng.int(pts.length)]++;
      for (const g of fast) {
        const sample: IsoflopPoint[] = [];
        for (const i of g.rows) for (let c = 0; c < counts[i]; c++) sample.push(pts[i]);
        const s = fastSlice(g, counts, window, { name: '6nd', a: 6, b: 0 });
        const kept = windowed(sample, window).points;
        if (new Set(kept.map((p) => p.N)).size < 3) {
          expect(s).toBeNull();
          continue;
        }
        const par = fitParabola(kept.map((p) => Math.log(p.N)), kept.map((p) => p.loss));
        const u = kept.map((p) => Math.log(p.N));
        const inside = par.p2 > 0 && par.vertexU >= Math.min(...u) && par.vertexU <= Math.max(...u) && new Set(kept.map((p) => p.N)).size >= 3;
        if (!inside) {
          expect(s).toBeNull();
          continue;
        }
        expect(s).toBeTruthy();
        expect(s!.N_opt / Math.exp(par.vertexU)).toBeCloseTo(1, 9);
        expect(s!.L_min).toBeCloseTo(par.vertexY, 10);
        const line = fitLine(u, kept.map((p) => Math.log(p.D!)));
        expect(s!.D_opt / Math.exp(line.intercept + line.slope * par.vertexU)).toBeCloseTo(1, 9);
      }
    }
  });
});
