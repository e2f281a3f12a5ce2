// Approach 2: exact recovery of planted power laws (the docs/references.md#power-laws fixture), recovery of the
// Chinchilla optimum from runs of a known L(N, D), the flat-optimum range, held-out prediction,
// bootstrap reproducibility and the refusals (one size, no interior minimum, one budget).
import { describe, expect, it } from 'vitest';
import { DataError } from '../../src/errors.ts';
import {
  CHINCHILLA_PAPER_UNROUNDED,
  chinchillaLoss,
  chinchillaOptimal,
  COMPUTE_HUNYUAN,
  fitIsoflop,
  isoflopLossAt,
  type IsoflopPoint,
} from '../../src/fit/index.ts';
import { createRng } from '../../src/util/rng.ts';

const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
const BUDGETS = [1e18, 3e18, 1e19, 3e19, 1e20];
const kappa = 0.03; // curvature of every slice: L = L*(C) + κ·(ln N − ln N*)²

/** Slices that are exact parabolas with vertices on N* = 5.9e-3·C^0.5305, D* = 3.2·C^0.5 (docs/references.md#power-laws). */
function plantedSlices(): IsoflopPoint[] {
  const pts: IsoflopPoint[] = [];
  for (const C of BUDGETS) {
    const Nstar = 5.9e-3 * Math.pow(C, 0.5305);
    const Dstar = 3.2 * Math.pow(C, 0.5);
    const Lstar = 30 * Math.pow(C, -0.05);
    for (const k of [-3, -2, -1, 0, 1, 2, 3]) {
      const N = Nstar * Math.exp(0.45 * k + 0.1);
      pts.push({ budget: C, N, D: (Dstar * Nstar) / N, loss: Lstar + kappa * Math.log(N / Nstar) ** 2, label: `C${C}-k${k}` });
    }
  }
  return pts;
}

describe('fitIsoflop', () => {
  it('recovers planted N_opt, D_opt and L_min power laws exactly and reproduces 58.1B / 5.6T at 3.12e24', () => {
    const fit = fitIsoflop(plantedSlices(), { targetFlops: [3.12e24], flatDeltaL: 0.01 });
    expect(fit.params.kN.value).toBeCloseTo(5.9e-3, 8);
    expect(fit.params.a.value).toBeCloseTo(0.5305, 9);
    expect(fit.params.kD.value).toBeCloseTo(3.2, 7);
    expect(fit.params.b.value).toBeCloseTo(0.5, 9);
    expect(fit.params.c.value).toBeCloseTo(-0.05, 9);
    // docs/references.md#power-laws: ≈ 58.1B activated parameters and 5.6T tokens at the paper's budget.
    expect(fit.derived['N_opt@3.12e24'].value / 1e9).toBeCloseTo(58.2, 0);
    expect(fit.derived['D_opt@3.12e24'].value / 1e12).toBeCloseTo(5.65, 1);
    for (const b of fit.budgets) {
      expect(b.dFrom).toBe('runs');
      // Flat range: ln N within ±sqrt(ΔL/κ) of the optimum.
      const half = Math.sqrt(0.01 / kappa);
      expect(Math.log(b.flatRange.N[1] / b.N_opt.value)).toBeCloseTo(half, 9);
      expect(Math.log(b.N_opt.value / b.flatRange.N[0])).toBeCloseTo(half, 9);
      expect(b.flatRange.D[0]).toBeLessThan(b.D_opt.value);
      expect(isoflopLossAt(b, b.N_opt.value)).toBeCloseTo(b.L_min.value, 12);
    }
    // The flat range at the target follows the (constant) curvature too.
    expect(Math.log(fit.derived['N_flat_hi@3.12e24'].value / fit.derived['N_opt@3.12e24'].value)).toBeCloseTo(Math.sqrt(0.01 / kappa), 6);
    // Held out: the largest budget, predicted exactly from the other four.
    expect(fit.heldOut.map((h) => h.label)).toEqual([
      'N_opt at C = 1.00e20',
      'D_opt at C = 1.00e20',
      'L_min at C = 1.00e20 (parabola)',
      'best observed loss at C = 1.00e20',
    ]);
    for (const h of fit.heldOut.slice(0, 3)) expect(Math.abs(h.relError)).toBeLessThan(1e-9);
    expect(fit.budgets.at(-1)?.heldOut).toBe(true);
  });

  it('finds the compute-optimal N of a known L(N, D) from runs on D = C/(6N)', () => {
    const p = CHINCHILLA_PAPER_UNROUNDED;
    const rng = createRng(9);
    const budgets = [1e19, 1e20, 1e21, 1e22];
    const pts: IsoflopPoint[] = [];
    for (const C of budgets) {
      const opt = chinchillaOptimal(p, C);
      for (let k = -3; k <= 3; k++) {
        const N = opt.N * Math.pow(10, k / 6);
        const D = C / (6 * N);
        pts.push({ budget: C, N, D, loss: chinchillaLoss(p, N, D) * Math.exp(0.001 * rng.normal()) });
      }
    }
    const fit = fitIsoflop(pts, { bootstrap: 200, seed: 1 });
    fit.budgets.forEach((b, i) => expect(rel(b.N_opt.value, chinchillaOptimal(p, budgets[i]).N)).toBeLessThan(0.08));
    // N_opt ∝ C^a with a = beta/(alpha+beta) = 0.4565 (docs/references.md#chinchilla-approach-3); D_opt ∝ C^(1−a).
    expect(fit.params.a.value).toBeCloseTo(0.4565, 1);
    expect(fit.params.a.value + fit.params.b.value).toBeCloseTo(1, 6);
    const [lo, hi] = fit.params.a.ci95 as [number, number];
    expect(lo).toBeLessThan(fit.params.a.value);
    expect(hi).toBeGreaterThan(fit.params.a.value);
    expect(fit.budgets[0].N_opt.ci95).not.toBeNull();
    const again = fitIsoflop(pts, { bootstrap: 200, seed: 1 });
    expect(again.params.a.ci95).toEqual(fit.params.a.ci95);
  });

  it('uses the compute formula for D_opt when runs lack tokens', () => {
    const pts = plantedSlices().map(({ D: _D, ...p }) => p);
    const fit = fitIsoflop(pts, { computeFormula: COMPUTE_HUNYUAN, holdout: 'none' });
    for (const b of fit.budgets) {
      expect(b.dFrom).toBe('formula');
      expect(b.D_opt.value).toBeCloseTo(b.budget / (9.59 * b.N_opt.value + 2.3e8), -3);
    }
    expect(fit.heldOut).toHaveLength(0);
  });

  it('refuses a budget with one model size, naming the budget and the size', () => {
    const pts = plantedSlices().filter((p) => p.budget !== 3e18 || p.label === 'C3000000000000000000-k0');
    expect(() => fitIsoflop(pts)).toThrow(DataError);
    expect(() => fitIsoflop(pts)).toThrow(/budget 3\.00e18 FLOPs has 1 distinct model size .*at least 3/);
  });

  it('refuses a budget whose loss is still falling at the largest size (no interior minimum)', () => {
    const pts = plantedSlices().filter((p) => !(p.budget === 1e19 && /k[0-3]$/.test(p.label as string)));
    const e = (() => {
      try {
        fitIsoflop(pts);
      } catch (err) {
        return err as Error;
      }
      return null;
    })();
    expect(e).toBeInstanceOf(DataError);
    expect(e?.message).toMatch(/budget 1\.00e19 FLOPs has no interior minimum/);
    expect(e?.message).toMatch(/Loss is still falling with size: add larger models at this budget/);
  });

  it('refuses a single budget and non-positive inputs', () => {
    expect(() => fitIsoflop(plantedSlices().filter((p) => p.budget === 1e18))).toThrow(/need at least 2 budgets, got 1/);
    const bad = plantedSlices();
    bad[2] = { ...bad[2], loss: 0 };
    expect(() => fitIsoflop(bad)).toThrow(/C1000000000000000000-k-1: loss must be a positive finite number \(got 0\)/);
  });
});

describe('fitIsoflop window (sizes near each budget\'s best run)', () => {
  // Planted parabolas plus, per budget, one far-too-large model stuck on a loss plateau (it saw
  // fewer tokens than it has weights): it drags the full-range parabola's vertex off the data.
  const withPlateau = (): IsoflopPoint[] => {
    const pts = plantedSlices();
    for (const C of BUDGETS) {
      const Nstar = 5.9e-3 * Math.pow(C, 0.5305);
      pts.push({ budget: C, N: Nstar * 60, D: 1e3, loss: 30 * Math.pow(C, -0.05) + 0.02, label: `C${C}-plateau` });
    }
    return pts;
  };

  it("with window 'all' the plateau point bends the parabolas; with window 4 the planted exponent is recovered", () => {
    const all = withPlateau();
    let plain: number | undefined;
    try {
      plain = fitIsoflop(all, { bootstrap: 0, window: 'all' }).powerLaws.N_opt.exponent.value;
    } catch (err) {
      expect(err).toBeInstanceOf(DataError); // the whole-range parabola may lose its interior vertex
    }
    if (plain !== undefined) expect(Math.abs(plain - 0.5305)).toBeGreaterThan(0.01);
    const fit = fitIsoflop(all, { bootstrap: 0, window: 4 });
    expect(fit.powerLaws.N_opt.exponent.value).toBeCloseTo(0.5305, 6);
    expect(fit.options.window).toBe(4);
    expect(fit.notes.join(' ')).toMatch(/within 4× of its best run/);
  });
});
