// Calibration case "parametric": does the 95% interval of the parametric fit L(N, D) = E + A/N^α +
// B/D^β (docs/references.md#chinchilla-approach-3) cover the law it was drawn from?
//
// Each trial simulates one isoFLOP sweep from a Chinchilla-like surface (src/analysis/simulate.ts)
// on the hunyuan-small study's paper-scale grid — 5 budgets 1e18…1e20 FLOPs × 9 activated sizes
// 1e7…1e9, cells with 5 ≤ D/N ≤ 2000, 2 seeds per cell (56 runs) — with the quick study's noise,
// fits it with fitParametric (what `moelab fit parametric` runs: Huber-log objective, δ = 1e-3, its
// default bootstrap), and returns E, α, β with their intervals. The start grid is the 243-point one
// by default: on these sweeps it reaches the 4,500-point grid's optimum (largest difference of E, α,
// β ≤ 2e-8 over 20 sweeps; docs/BENCHMARKS.md "Interval calibration") at a tenth of the time, and the
// bootstrap refits from that optimum, so the intervals are the standard fit's.
//
// What "truth" is. The fit minimises Σ Huber_δ(ln L̂ − ln L) with δ = 1e-3; the simulated residuals
// in ln L are ≈ 0.02/2.5 ≈ 0.008 ≫ δ, so the objective is in effect least absolute deviations in
// ln L: it estimates the conditional median of ln L_obs. The noise is symmetric around the law's
// loss and ln is monotone, so that median is ln L(N, D) of the surface itself: the Huber-fitted law
// and the generating law coincide, and the truth of E, α, β is the surface's (up to the O(δ) pull
// of the quadratic core towards the mean, which is below 1e-4 in ln L here).
import { fitParametric, type ParametricOptions } from '../../fit/parametric.ts';
import { createRng, deriveSeed } from '../../util/rng.ts';
import { CHINCHILLA_SURFACE, simulateIsoflopSweep, type ChinchillaSurface, type IsoflopSimRun, type NoiseModel } from '../simulate.ts';
import type { CalibrationCase, CalibrationTrial } from './types.ts';

/**
 * The quick study's noise: evaluation stderr 0.004 nats (4096-window validation set, measured
 * 0.0038–0.0047; docs/BENCHMARKS.md "Validation set size") and a seed-to-seed SD of 0.02 nats.
 */
export const QUICK_STUDY_NOISE: Readonly<NoiseModel> = Object.freeze({ seedSd: 0.02, evalSd: 0.004 });

export interface ParametricCalibrationOptions {
  surface?: ChinchillaSurface;
  budgets?: readonly number[];
  sizes?: readonly number[];
  seeds?: readonly number[];
  tokensPerParam?: { min: number; max: number };
  noise?: NoiseModel;
  /** Start grid of the fit: 'coarse' (243 points, default; same optimum here) or 'chinchilla' (4,500, the CLI's). */
  grid?: ParametricOptions['grid'];
  /** Interval method of the fit (its default when absent). */
  interval?: ParametricOptions['interval'];
  /** Base seed: trial i draws from deriveSeed(seed, 'parametric', i). */
  seed?: number;
}

export const PARAMETRIC_QUANTITIES = ['E', 'alpha', 'beta'] as const;

function designOf(o: ParametricCalibrationOptions) {
  return {
    surface: o.surface ?? CHINCHILLA_SURFACE,
    budgets: o.budgets ?? [1e18, 3e18, 1e19, 3e19, 1e20],
    sizes: o.sizes ?? [1e7, 2e7, 3e7, 5e7, 1e8, 2e8, 3e8, 5e8, 1e9],
    seeds: o.seeds ?? [0, 1],
    tokensPerParam: o.tokensPerParam ?? { min: 5, max: 2000 },
    noise: o.noise ?? QUICK_STUDY_NOISE,
  };
}

/** Trial `index`'s simulated sweep: one run per (budget, size, seed) cell. */
export function simulateParametricCalibrationSweep(o: ParametricCalibrationOptions, index: number): IsoflopSimRun[] {
  return simulateIsoflopSweep(designOf(o), createRng(deriveSeed(o.seed ?? 0, 'parametric', index)));
}

export function parametricCase(o: ParametricCalibrationOptions = {}): CalibrationCase {
  const { surface } = designOf(o);
  const base = o.seed ?? 0;
  return {
    name: 'parametric',
    quantities: PARAMETRIC_QUANTITIES,
    trial(index, { bootstrap }) {
      const runs = simulateParametricCalibrationSweep(o, index);
      const fit = fitParametric(
        runs.map((r) => ({ N: r.N, D: r.D, C: r.C, loss: r.loss })),
        { bootstrap, seed: deriveSeed(base, 'parametric-boot', index), holdout: 'none', grid: o.grid ?? 'coarse', interval: o.interval },
      );
      const b = fit.bootstrap;
      const successFraction = b && b.samples > 0 ? b.succeeded / b.samples : 0;
      const out: Record<string, CalibrationTrial> = {};
      for (const q of PARAMETRIC_QUANTITIES) out[q] = { truth: surface[q], ci: fit.params[q].ci95, successFraction };
      return out;
    },
  };
}
