// Seeded non-parametric bootstrap (Efron 1979; the Chinchilla re-fit of Besiroglu et al. 2024
// uses 4,000 resamples with a fixed seed): resample with replacement, re-estimate every named
// quantity (parameters, derived quantities, predictions), report percentile intervals.
// Reproducible: the same seed gives the same resamples and the same intervals.
//
// Seed level: rows are runs, and runs sit in cells (an isoFLOP (budget, size) cell, a surge
// (batch, LR) point) inside strata (a budget, a batch). A resample keeps every stratum, draws the
// stratum's cells with replacement, then the seeds (rows) of each drawn cell with replacement; with
// one seed per cell a cell is resampled whole. Without cells every row is its own cell.
//
// Failures are counted, never hidden: the estimate returns values or failed(reason); the result
// holds successFraction, the failures by reason, and `reliable` (successFraction ≥ 0.95). An
// interval computed from the successful resamples alone is conditional on success; below 0.95 the
// record, the CLI table and the report mark it unreliable with the reasons.
import { createRng, type Rng } from '../util/rng.ts';
import { startTask } from '../util/progress.ts';

/** Success fraction below which an interval is marked unreliable. */
export const RELIABLE_FRACTION = 0.95;

/** A resample that could not be fitted, and why (e.g. "budget 1e11 lost its interior minimum"). */
export interface BootstrapFailure {
  failed: string;
}

export function failed(reason: string): BootstrapFailure {
  return { failed: reason };
}

/** A failure from a thrown error: its message's first line is the reason. */
export function failedWith(err: unknown): BootstrapFailure {
  return failed(err instanceof Error ? err.message.split('\n')[0] : String(err));
}

/** What an estimate returns: named values, or a failure with its reason (null: reason unknown). */
export type BootstrapOutcome = Record<string, number> | BootstrapFailure | null;

export interface BootstrapOptions {
  /** Number of resamples (0 = no intervals). */
  samples: number;
  seed: number;
  /** Central interval level (default 0.95 → the 2.5th and 97.5th percentiles). */
  level?: number;
  /**
   * Strata: rows with the same group id are resampled among themselves, so every resample has
   * every group (e.g. runs within one isoFLOP budget).
   */
  groups?: ArrayLike<number>;
  /**
   * Cells within a group (e.g. the model size within a budget): the group's cells are drawn with
   * replacement, then each drawn cell's rows (its seeds) with replacement. Absent: every row is a
   * cell of one seed (plain stratified row resampling).
   */
  cells?: ArrayLike<number>;
}

export interface BootstrapFailureCount {
  reason: string;
  count: number;
}

export interface BootstrapResult {
  samples: number;
  /** Resamples whose re-estimate succeeded; the others are counted in `failures`, not imputed. */
  succeeded: number;
  /** succeeded / samples (1 when samples is 0). */
  successFraction: number;
  /**
   * successFraction ≥ RELIABLE_FRACTION, and every quantity finite in at least that fraction of the
   * samples: otherwise the intervals are conditional on success (the failures say which).
   */
  reliable: boolean;
  /** Failed resamples by reason, most frequent first. */
  failures: BootstrapFailureCount[];
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

/** Rows by group, and within each group by cell, in first-seen order (computed once per bootstrap). */
type Design = Int32Array[][];

function designOf(n: number, groups?: ArrayLike<number>, cells?: ArrayLike<number>): Design {
  const byGroup = new Map<number, Map<number, number[]>>();
  for (let i = 0; i < n; i++) {
    const g = groups ? groups[i] : 0;
    const c = cells ? cells[i] : i;
    let cellsOf = byGroup.get(g);
    if (!cellsOf) byGroup.set(g, (cellsOf = new Map()));
    const list = cellsOf.get(c);
    if (list) list.push(i);
    else cellsOf.set(c, [i]);
  }
  return [...byGroup.values()].map((m) => [...m.values()].map((l) => Int32Array.from(l)));
}

function resampleDesign(design: Design, rng: Rng): Int32Array {
  const out: number[] = [];
  for (const cellList of design) {
    for (let k = 0; k < cellList.length; k++) {
      const cell = cellList[rng.int(cellList.length)];
      if (cell.length === 1) out.push(cell[0]);
      else for (let j = 0; j < cell.length; j++) out.push(cell[rng.int(cell.length)]);
    }
  }
  return Int32Array.from(out);
}

/**
 * One resample of row indices 0..n−1: within each group (all rows one group when absent), its
 * cells with replacement, then each drawn cell's rows with replacement (every row its own cell
 * when cells are absent). The length is n when cells are absent or all of one size.
 */
export function resampleRows(n: number, rng: Rng, groups?: ArrayLike<number>, cells?: ArrayLike<number>): Int32Array {
  return resampleDesign(designOf(n, groups, cells), rng);
}

/** Cell ids for `cells` from string keys (e.g. "budget|N"), numbered in first-seen order. */
export function cellIds(keys: readonly string[]): Int32Array {
  const ids = new Map<string, number>();
  return Int32Array.from(keys, (k) => {
    let id = ids.get(k);
    if (id === undefined) ids.set(k, (id = ids.size));
    return id;
  });
}

/**
 * Run `estimate` on `samples` resamples of n rows (see resampleRows). `estimate` returns named
 * values, or failed(reason) when the resample cannot be fitted (e.g. a budget lost its interior
 * minimum); every failure is counted by reason in the result.
 */
export function bootstrap(n: number, estimate: (rows: Int32Array) => BootstrapOutcome, options: BootstrapOptions): BootstrapResult {
  const design = designOf(n, options.groups, options.cells);
  return bootstrapDraws((rng) => estimate(resampleDesign(design, rng)), options);
}

/**
 * The bootstrap driver: `draw` makes one resample from the rng (rows, simulated losses, …) and
 * returns its estimate. Used directly by parametric bootstraps (a fixed design with simulated
 * noise); progress goes to src/util/progress.ts's task sink.
 */
export function bootstrapDraws(draw: (rng: Rng, index: number) => BootstrapOutcome, options: Pick<BootstrapOptions, 'samples' | 'seed' | 'level'>): BootstrapResult {
  const level = options.level ?? 0.95;
  const rng = createRng(options.seed);
  const draws = new Map<string, number[]>();
  const failureCounts = new Map<string, number>();
  let succeeded = 0;
  const task = startTask('fit: bootstrap', options.samples); // progress + ETA where a sink is installed
  try {
    for (let s = 0; s < options.samples; s++) {
      let values: BootstrapOutcome;
      try {
        values = draw(rng, s);
      } catch (err) {
        values = failedWith(err);
      }
      task.tick();
      if (values === null || isFailure(values)) {
        const reason = values === null ? 'the estimate failed (no reason given)' : values.failed;
        failureCounts.set(reason, (failureCounts.get(reason) ?? 0) + 1);
        continue;
      }
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
  const successFraction = options.samples > 0 ? succeeded / options.samples : 1;
  // A quantity that is not finite in some fitted resamples has an interval from the others only:
  // conditional on its being finite. Beyond the same 5% the whole-fit rule allows, that is stated
  // as a failure of that quantity and the intervals are marked unreliable.
  let quantitiesReliable = true;
  for (const [name, list] of draws) {
    const missing = succeeded - list.length;
    if (missing > 0 && options.samples > 0 && list.length / options.samples < RELIABLE_FRACTION) {
      failureCounts.set(`${name} not finite (its interval uses the other resamples)`, missing);
      quantitiesReliable = false;
    }
  }
  const failures = [...failureCounts].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count || (a.reason < b.reason ? -1 : 1));
  return { samples: options.samples, succeeded, successFraction, reliable: successFraction >= RELIABLE_FRACTION && quantitiesReliable, failures, seed: options.seed, level, intervals, standardErrors };
}

function isFailure(v: Record<string, number> | BootstrapFailure): v is BootstrapFailure {
  return typeof (v as BootstrapFailure).failed === 'string';
}
