// The isoFLOP calibration case: a quick-study-like sweep (4 budgets 3× apart, 8 sizes, cells kept
// by a tokens-per-parameter window, one seed per cell) drawn from a Chinchilla-shaped surface
// (docs/references.md#chinchilla-approach-3: Hoffmann et al.'s exponents; A and B scaled so the
// isoFLOP curvature is of the quick study's size) with the quick study's seed and eval noise,
// fitted by fitIsoflop (what `moelab fit isoflop` runs: 'auto' window, 6ND, runs' own D).
// Quantities: the N_opt and D_opt exponents and tokens per parameter at the optimum of the
// largest budget.
import { fitIsoflop, type IsoflopInterval } from '../../fit/isoflop.ts';
import { fmt } from '../../fit/points.ts';
import { createRng } from '../../util/rng.ts';
import { CHINCHILLA_SURFACE, chinchillaExponents, chinchillaOptimum, simulateIsoflopSweep, type ChinchillaSurface, type NoiseModel } from '../simulate.ts';
import type { CalibrationCase, CalibrationTrial } from './types.ts';

/**
 * The quick study's noise (docs/BENCHMARKS.md "Interval calibration"): seed SD 0.024 nats (6 seeds
 * of the quick preset's 3.24k model at 1e10 FLOPs), eval stderr 0.004 nats (the 4096-window set).
 */
export const QUICK_NOISE: Readonly<NoiseModel> = Object.freeze({ seedSd: 0.024, evalSd: 0.004 });

/**
 * Hoffmann et al.'s surface with A and B scaled by 0.2: the same optimum and exponents, and an
 * isoFLOP curvature p2 ≈ 0.2–0.3 nats per (ln N)² over these budgets, the quick study's order
 * (its budgets' second differences give ≈ 0.2–0.8).
 */
export const CALIBRATION_SURFACE: Readonly<ChinchillaSurface> = Object.freeze({ ...CHINCHILLA_SURFACE, A: CHINCHILLA_SURFACE.A * 0.2, B: CHINCHILLA_SURFACE.B * 0.2 });

export interface IsoflopDesign {
  budgets: readonly number[];
  sizes: readonly number[];
  seeds: readonly number[];
  tokensPerParam: { min: number; max: number };
  noise: NoiseModel;
  surface: ChinchillaSurface;
  /** Budget at which tokens per parameter is reported. */
  at: number;
}

/**
 * The quick preset's design moved onto the surface: its 8 sizes (1.6k–104k, experiments/hunyuan-small.ts)
 * × 6 so each budget's optimum sits near the small end of its sizes as in the quick study (second
 * of 5–6 kept sizes), and its D/N window 1.5–800 around an optimum of ≈ 136 becomes 0.05–30
 * around ≈ 5 (this surface's tokens per parameter at the optimum).
 */
export const QUICK_DESIGN: Readonly<IsoflopDesign> = Object.freeze({
  budgets: [1e10, 3e10, 1e11, 3e11],
  sizes: [1556, 3240, 5480, 9792, 17368, 28184, 50880, 104008].map((n) => n * 6),
  seeds: [0],
  tokensPerParam: { min: 0.05, max: 30 },
  noise: QUICK_NOISE,
  surface: CALIBRATION_SURFACE,
  at: 3e11,
});

/** The isoFLOP case for a design and interval method (the registry uses QUICK_DESIGN and the fit's default). */
export function makeIsoflopCase(design: IsoflopDesign = QUICK_DESIGN, fitOptions: { interval?: IsoflopInterval; noise?: number } = {}, name = 'isoflop'): CalibrationCase {
  const { a, b } = chinchillaExponents(design.surface);
  const tpp = chinchillaOptimum(design.surface, design.at).tokensPerParam;
  const tppKey = `tokensPerParam@${fmt(design.at)}`; // the fit's derived key
  const quantities = [`${name}.N_opt exponent`, `${name}.D_opt exponent`, `${name}.tokensPerParam@${design.at.toExponential().replace('+', '')}`];
  return {
    name,
    quantities,
    trial(index, options) {
      const rng = createRng(0x150000 + index);
      const runs = simulateIsoflopSweep({ surface: design.surface, budgets: design.budgets, sizes: design.sizes, seeds: design.seeds, noise: design.noise, tokensPerParam: design.tokensPerParam }, rng);
      const truths = [a, b, tpp];
      const miss = (): Record<string, CalibrationTrial> => Object.fromEntries(quantities.map((q, i) => [q, { truth: truths[i], ci: null, successFraction: 0 }]));
      let fit;
      try {
        fit = fitIsoflop(
          runs.map((r) => ({ budget: r.C, N: r.N, D: r.D, loss: r.loss, seed: r.seed, lossStderr: r.lossStderr })),
          { bootstrap: options.bootstrap, seed: index, holdout: 'none', targetFlops: [design.at], edges: 'refuse', ...fitOptions },
        );
      } catch {
        return miss(); // the full-data fit refused the sweep (a budget without an interior minimum)
      }
      const sf = fit.bootstrap?.successFraction ?? 0;
      const cis = [fit.params.a.ci95, fit.params.b.ci95, fit.derived[tppKey]?.ci95 ?? null];
      return Object.fromEntries(quantities.map((q, i) => [q, { truth: truths[i], ci: cis[i], successFraction: sf }]));
    },
  };
}

export const isoflopCase: CalibrationCase = makeIsoflopCase();

/** The same sweeps with runs resampled by cells within each budget (the method 'noise' replaced). */
export const isoflopCellsCase: CalibrationCase = makeIsoflopCase(QUICK_DESIGN, { interval: 'cells' }, 'isoflop-cells');

/** The same sweeps with the seed SD given (--noise 0.024), as when the noise floor was measured on other runs. */
export const isoflopKnownNoiseCase: CalibrationCase = makeIsoflopCase(QUICK_DESIGN, { noise: QUICK_NOISE.seedSd }, 'isoflop-known-noise');

/**
 * The redesigned quick study as it ran on 2026-12-04
 * (docs/BENCHMARKS.md "The paper reproduction, quick preset"):
 * 3 budgets (1e10, 3e10, 1e11), 7 sizes (1.6k–50.9k ×6), one seed per cell, and
 * the noise its report measured — pooled seed SD 0.085 nats, eval stderr 0.007 — about 3.5× the
 * noise QUICK_DESIGN assumes. Its real isoFLOP fit kept 63% of resamples; this case asks whether
 * the interval still covers at that noise.
 */
export const QUICK_RUN_DESIGN: Readonly<IsoflopDesign> = Object.freeze({
  ...QUICK_DESIGN,
  budgets: [1e10, 3e10, 1e11],
  sizes: [1556, 3240, 5480, 9792, 17368, 28184, 50880].map((n) => n * 6),
  noise: { seedSd: 0.085, evalSd: 0.007 },
  at: 1e11,
});

export const isoflopQuickRunCase: CalibrationCase = makeIsoflopCase(QUICK_RUN_DESIGN, {}, 'isoflop-quick-run');
