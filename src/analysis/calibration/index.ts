// Interval calibration: simulate sweeps from known laws, fit each with the
// standard fit functions (the ones `moelab fit` runs), and count how often the 95% interval covers
// the truth. A case simulates and fits one sweep per index; runCalibration aggregates coverage per
// quantity. Pure: seeded from the sweep index, no I/O, no tensors (src/analysis/simulate.ts).
import { startTask } from '../../util/progress.ts';
import { isoflopCase, isoflopCellsCase, isoflopKnownNoiseCase, isoflopQuickRunCase } from './isoflop.ts';
import { parametricCase } from './parametric.ts';
import { surgeCase } from './surge.ts';
import type { CalibrationCase } from './types.ts';

export type { CalibrationCase, CalibrationTrial } from './types.ts';

export interface QuantityCoverage {
  /** Fraction of sweeps whose interval contains the truth (failed sweeps count as misses). */
  coverage: number;
  /** Simulated sweeps. */
  n: number;
  /** Mean interval width over the sweeps with an interval. */
  meanWidth: number;
  /** Sweeps without an interval (the fit or its bootstrap failed). */
  failedTrials: number;
  /** Mean bootstrap success fraction over the sweeps. */
  meanSuccessFraction: number;
  /** The case the quantity belongs to. */
  case: string;
}

export interface CalibrationOptions {
  sweeps: number;
  bootstrap: number;
  /** Called after every sweep (done of total over all cases). */
  onProgress?: (done: number, total: number) => void;
}

// The registry: the cases `moelab bench --calibration` runs by default.
// The parametric case fits from the 243-point start grid: on these sweeps it reaches the same optimum
// as the CLI's 4,500-point grid (scripts/calibrate-fits.ts --compare-grids; docs/BENCHMARKS.md) at a
// tenth of the time, and the bootstrap refits from that optimum.
// Every quantity key starts with its case's name ('isoflop.N_opt exponent', 'parametric.E', 'surge.Bnoise').
export const CALIBRATION_CASES: readonly CalibrationCase[] = [isoflopCase, variant(parametricCase({ grid: 'coarse' }), 'parametric'), variant(surgeCase(), 'surge')];

/** A case under another name, its quantities prefixed with it (so two variants never share a key). */
function variant(c: CalibrationCase, name: string): CalibrationCase {
  const key = (q: string) => `${name}.${q}`;
  return {
    name,
    quantities: c.quantities.map(key),
    trial(index, options) {
      return Object.fromEntries(Object.entries(c.trial(index, options)).map(([q, t]) => [key(q), t]));
    },
  };
}

/**
 * Cases run only when named (--case): alternative interval methods kept for comparison, e.g.
 * 'isoflop-cells', the isoFLOP fit with runs resampled by cells (it under-covers: docs/fit.md), and
 * 'isoflop-known-noise', losses redrawn from the seed SD given instead of the residual SD;
 * 'isoflop-quick-run', the default method at the design and noise the redesigned quick study ran with;
 * 'parametric-rows', the parametric fit's row bootstrap (over-covers), and 'surge-seeds', the surge
 * fit resampling seeds within each (batch, LR) cell (under-covers; docs/BENCHMARKS.md);
 * 'surge-runs', the surge fit resampling runs within each batch (its default before the residual
 * bootstrap: ε_max over-covers), and 'surge-seed1', the default surge case on base seed 1.
 */
export const CALIBRATION_EXTRA_CASES: readonly CalibrationCase[] = [
  isoflopCellsCase,
  isoflopKnownNoiseCase,
  isoflopQuickRunCase,
  variant(parametricCase({ grid: 'coarse', interval: 'rows' }), 'parametric-rows'),
  variant(surgeCase({ interval: 'seeds' }), 'surge-seeds'),
  variant(surgeCase({ interval: 'runs' }), 'surge-runs'),
  variant(surgeCase({ seed: 1 }), 'surge-seed1'),
];

export function calibrationCase(name: string): CalibrationCase | undefined {
  return [...CALIBRATION_CASES, ...CALIBRATION_EXTRA_CASES].find((c) => c.name === name);
}

/** Target coverage band of a 95% interval over the simulated sweeps. */
export const COVERAGE_TARGET: readonly [number, number] = [0.9, 0.98];

/** Run every case for `sweeps` sweeps: coverage per quantity (keys: the cases' quantities). */
export function runCalibration(cases: readonly CalibrationCase[], options: CalibrationOptions): Record<string, QuantityCoverage> {
  const total = cases.length * options.sweeps;
  const out: Record<string, QuantityCoverage> = {};
  const task = startTask('calibration: sweeps', total);
  let done = 0;
  try {
    for (const c of cases) {
      const acc = new Map<string, { hit: number; n: number; width: number; withCi: number; failed: number; success: number }>();
      for (const q of c.quantities) acc.set(q, { hit: 0, n: 0, width: 0, withCi: 0, failed: 0, success: 0 });
      for (let i = 0; i < options.sweeps; i++) {
        const trial = c.trial(i, { bootstrap: options.bootstrap });
        for (const q of c.quantities) {
          const a = acc.get(q) as NonNullable<ReturnType<typeof acc.get>>;
          const t = trial[q];
          a.n++;
          a.success += t ? t.successFraction : 0;
          if (!t || !t.ci || !Number.isFinite(t.ci[0]) || !Number.isFinite(t.ci[1])) {
            a.failed++;
            continue;
          }
          a.withCi++;
          a.width += t.ci[1] - t.ci[0];
          if (t.ci[0] <= t.truth && t.truth <= t.ci[1]) a.hit++;
        }
        done++;
        task.tick();
        options.onProgress?.(done, total);
      }
      for (const [q, a] of acc) {
        out[q] = {
          coverage: a.n ? a.hit / a.n : NaN,
          n: a.n,
          meanWidth: a.withCi ? a.width / a.withCi : NaN,
          failedTrials: a.failed,
          meanSuccessFraction: a.n ? a.success / a.n : NaN,
          case: c.name,
        };
      }
    }
  } finally {
    task.end();
  }
  return out;
}
