// Seeded non-parametric bootstrap (Efron 1979; the Chinchilla re-fit of Besiroglu et al. 2024
// uses 4,000 resamples with a fixed seed): resample rows with replacement, re-estimate every named
// quantity (parameters, derived quantities, predictions), report percentile intervals.
// Reproducible: the same seed gives the same resamples and the same intervals.
import { createRng, type Rng } from '../util/rng.ts';
import { startTask } from '../util/progress.ts';

export interface BootstrapOptions {
  /** Number of resamples (0 = no intervals). */
  samples: number;
  seed: number;
  /** Central interval level (default 0.95 → the 2.5th and 97.5th percentiles). */
  level?: number;
  /**
   * Stratify: rows with the same group id are resampled among themselves, keeping each group's
   * size (e.g. runs within one isoFLOP budget, so every resample still has every budget).
   */
  groups?: ArrayLike<number>;
}

export interface BootstrapResult {
  samples: number;
  /** Resamples whose re-estimate succeeded (the others are skipped, not imputed). */
  succeeded: number;
  seed: number;
  level: number;
  /** Percentile interval per quantity name; null when fewer than 10 finite draws exist. */
  intervals: Record<string, [number, number] | null>;
  /** Standard deviation of the draws per quantity (Epoch reports bootstrap SEs). */
  standardErrors: Record<string, number>;
}

/** Linear-interpolated percentile of an ascending array (numpy's default "linear" method). */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = (n - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
}

/** One resample of row indices 0..n−1 (stratified when groups are given). */
export function resampleRows(n: number, rng: Rng, groups?: ArrayLike<number>): Int32Array {
  const out = new Int32Array(n);
  if (!groups) {
    for (let i = 0; i < n; i++) out[i] = rng.int(n);
    return out;
  }
  const members = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const g = groups[i];
    const list = members.get(g);
    if (list) list.push(i);
    else members.set(g, [i]);
  }
  let k = 0;
  for (const list of members.values()) for (let j = 0; j < list.length; j++) out[k++] = list[rng.int(list.length)];
  return out;
}

/**
 * Run `estimate` on `samples` resamples of n rows. `estimate` returns named values, or null when
 * the resample cannot be fitted (e.g. a budget lost its interior minimum).
 */
export function bootstrap(
  n: number,
  estimate: (rows: Int32Array) => Record<string, number> | null,
  options: BootstrapOptions,
): BootstrapResult {
  const level = options.level ?? 0.95;
  const rng = createRng(options.seed);
  const draws = new Map<string, number[]>();
  let succeeded = 0;
  const task = startTask('fit: bootstrap', options.samples); // progress + ETA where a sink is installed (src/util/progress.ts)
  try {
    for (let s = 0; s < options.samples; s++) {
      const rows = resampleRows(n, rng, options.groups);
      const values = estimate(rows);
      task.tick();
      if (!values) continue;
      succeeded++;
      for (const [name, v] of Object.entries(values)) {
        if (!Number.isFinite(v)) continue;
        const list = draws.get(name);
        if (list) list.push(v);
        else draws.set(name, [v]);
      }
    }
  } finally {
    task.end();
  }
  const intervals: Record<string, [number, number] | null> = {};
  const standardErrors: Record<string, number> = {};
  const tail = (1 - level) / 2;
  for (const [name, list] of draws) {
    const sorted = Float64Array.from(list).sort();
    intervals[name] = sorted.length >= 10 ? [percentile(sorted, tail), percentile(sorted, 1 - tail)] : null;
    let mean = 0;
    for (const v of sorted) mean += v / sorted.length;
    let ss = 0;
    for (const v of sorted) ss += (v - mean) ** 2;
    standardErrors[name] = sorted.length > 1 ? Math.sqrt(ss / (sorted.length - 1)) : NaN;
  }
  return { samples: options.samples, succeeded, seed: options.seed, level, intervals, standardErrors };
}
