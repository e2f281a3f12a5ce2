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
  return resampleWith(n, rng, groups ? groupMembers(n, groups) : null);
}

/** Rows of each group in first-seen order (computed once per bootstrap, not per resample). */
function groupMembers(n: number, groups: ArrayLike<number>): Int32Array[] {
  const members = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const g = groups[i];
    const list = members.get(g);
    if (list) list.push(i);
    else members.set(g, [i]);
  }
  return [...members.values()].map((l) => Int32Array.from(l));
}

function resampleWith(n: number, rng: Rng, members: Int32Array[] | null, out = new Int32Array(n)): Int32Array {
  if (!members) {
    for (let i = 0; i < n; i++) out[i] = rng.int(n);
    return out;
  }
  let k = 0;
  for (const list of members) for (let j = 0; j < list.length; j++) out[k++] = list[rng.int(list.length)];
  return out;
}

/** Progress of a running bootstrap: resamples done of total, seconds so far. */
export type BootstrapProgress = (done: number, total: number, seconds: number) => void;

let progressReporter: BootstrapProgress | null = null;

/**
 * Report the progress of every bootstrap from now on (null: stop). The CLI sets one that prints
 * the count and an ETA to stderr for long fits (e.g. 100,000 rows); fits themselves stay silent.
 */
export function setBootstrapProgress(reporter: BootstrapProgress | null): void {
  progressReporter = reporter;
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
  const t0 = performance.now();
  const report = progressReporter;
  const members = options.groups ? groupMembers(n, options.groups) : null;
  const task = startTask('fit: bootstrap', options.samples); // progress + ETA where a sink is installed (src/util/progress.ts)
  try {
    for (let s = 0; s < options.samples; s++) {
      if (report && s > 0) report(s, options.samples, (performance.now() - t0) / 1000);
      const rows = resampleWith(n, rng, members);
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
  if (report) report(options.samples, options.samples, (performance.now() - t0) / 1000);
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
