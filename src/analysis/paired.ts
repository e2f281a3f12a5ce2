// Paired differences across seeds (pure). Two arms trained with the same seeds (same data order and
// initialisation) differ per seed by d_i = loss_a(seed i) − loss_b(seed i); the seed-to-seed noise
// common to both arms cancels in d_i. The 95% interval is Student-t on the per-seed differences with
// n − 1 degrees of freedom: mean(d) ± t_{0.975, n−1}·sd(d)/√n (exact when the d_i are independent
// normal draws; test/analysis/paired.test.ts checks its coverage on simulated pairs). Each d_i
// already contains both runs' evaluation error, so the eval stderr is reported beside it, not added.
// A winner is stated only when the interval excludes 0; otherwise the comparison is "not resolved"
// with the minimum detectable difference at 80% power: (t_{0.975, n−1} + t_{0.80, n−1})·sd(d)/√n.
import { fmt } from '../fit/points.ts';
import type { SweepRun } from '../io/load.ts';
import { armTagsOf } from './arm-tags.ts';
import { mean, sampleSd } from './noise.ts';
import { finalLoss } from './select.ts';
import { studentTQuantile } from './student-t.ts';

/** One run's final loss and evaluation stderr, keyed by seed. */
export interface SeedLoss {
  seed: number;
  loss: number;
  stderr?: number;
}

export const PAIRED_LEVEL = 0.95;
export const PAIRED_POWER = 0.8;
export const PAIRED_METHOD = 'Student-t on the per-seed differences (n − 1 df), seeds paired by tags.seed';

export interface PairedDifference {
  /** What is compared (e.g. "schedules", "expert-lr", "ablation: routing"). */
  comparison: string;
  a: string;
  b: string;
  /** Seeds both arms have, ascending. */
  seeds: number[];
  /** loss_a − loss_b per paired seed (negative: a is lower). */
  differences: number[];
  n: number;
  /** mean(loss_a − loss_b). NaN when no seed pairs. */
  mean: number;
  /** SD of the differences; null below 2 pairs. */
  sd: number | null;
  df: number | null;
  ci95: [number, number] | null;
  /** Smallest |mean difference| this n and SD resolve with 80% power (two-sided 5% test); null below 2 pairs. */
  minDetectable: number | null;
  /** RMS over pairs of √(stderr_a² + stderr_b²): the evaluation's share of one d_i; null when not recorded. */
  evalStderr: number | null;
  /** Seeds only one arm has (not used). */
  unpairedSeeds: number[];
  /** The lower-loss arm when the interval excludes 0; null otherwise. */
  winner: string | null;
  resolved: boolean;
}

/** Collapse repeated seeds of one arm to their mean (a rerun of the same seed is not a new pair). */
function bySeed(rows: readonly SeedLoss[]): Map<number, SeedLoss> {
  const groups = new Map<number, SeedLoss[]>();
  for (const r of rows) groups.set(r.seed, [...(groups.get(r.seed) ?? []), r]);
  const out = new Map<number, SeedLoss>();
  for (const [seed, rs] of groups) {
    const se = rs.flatMap((r) => (r.stderr !== undefined ? [r.stderr] : []));
    out.set(seed, { seed, loss: mean(rs.map((r) => r.loss)), ...(se.length ? { stderr: mean(se) } : {}) });
  }
  return out;
}

/** The t-interval and minimum detectable difference of per-seed differences. */
export function tInterval(differences: readonly number[], level = PAIRED_LEVEL): { mean: number; sd: number | null; df: number | null; ci: [number, number] | null; minDetectable: number | null } {
  const n = differences.length;
  const m = n ? mean(differences) : NaN;
  const sd = sampleSd(differences);
  if (sd === null) return { mean: m, sd: null, df: null, ci: null, minDetectable: null };
  const df = n - 1;
  const se = sd / Math.sqrt(n);
  const t = studentTQuantile(0.5 + level / 2, df);
  return { mean: m, sd, df, ci: [m - t * se, m + t * se], minDetectable: (t + studentTQuantile(PAIRED_POWER, df)) * se };
}

export function pairedDifference(comparison: string, a: { name: string; runs: readonly SeedLoss[] }, b: { name: string; runs: readonly SeedLoss[] }): PairedDifference {
  const A = bySeed(a.runs);
  const B = bySeed(b.runs);
  const seeds = [...A.keys()].filter((s) => B.has(s)).sort((x, y) => x - y);
  const unpairedSeeds = [...new Set([...A.keys(), ...B.keys()])].filter((s) => !(A.has(s) && B.has(s))).sort((x, y) => x - y);
  const differences = seeds.map((s) => A.get(s)!.loss - B.get(s)!.loss);
  const t = tInterval(differences);
  const se2 = seeds.flatMap((s) => {
    const x = A.get(s)!.stderr;
    const y = B.get(s)!.stderr;
    return x !== undefined && y !== undefined ? [x * x + y * y] : [];
  });
  const resolved = t.ci !== null && (t.ci[0] > 0 || t.ci[1] < 0);
  return {
    comparison,
    a: a.name,
    b: b.name,
    seeds,
    differences,
    n: seeds.length,
    mean: t.mean,
    sd: t.sd,
    df: t.df,
    ci95: t.ci,
    minDetectable: t.minDetectable,
    evalStderr: se2.length ? Math.sqrt(mean(se2)) : null,
    unpairedSeeds,
    winner: resolved ? (t.mean < 0 ? a.name : b.name) : null,
    resolved,
  };
}

/** One sentence: the winner with its interval, or "not resolved" with the resolvable effect size. */
export function pairedVerdict(d: PairedDifference, digits = 3): string {
  const f = (x: number) => fmt(x, digits);
  if (d.n === 0) return `not measured: ${d.a} and ${d.b} share no seed`;
  if (d.ci95 === null) return `not resolved: one paired seed (difference ${f(d.mean)} nats); a paired interval needs ≥ 2 seeds`;
  const ci = `[${f(d.ci95[0])}, ${f(d.ci95[1])}]`;
  if (d.resolved) {
    const loser = d.winner === d.a ? d.b : d.a;
    return `${d.winner} lower than ${loser} by ${f(Math.abs(d.mean))} nats (${d.a} − ${d.b} = ${f(d.mean)}, 95% CI ${ci}, n = ${d.n} seeds)`;
  }
  return `not resolved at this noise level: ${d.a} − ${d.b} = ${f(d.mean)} nats, 95% CI ${ci} (n = ${d.n} seeds); resolvable at 80% power with this n: |difference| ≥ ${f(d.minDetectable!)} nats`;
}

// ---------------------------------------------------------------------------------------------
// Every comparison of a sweep, read from the run tags

function seedLoss(run: SweepRun): SeedLoss | undefined {
  const loss = finalLoss(run);
  if (loss === undefined || !run.tags) return undefined;
  const se = run.summary?.finalValLossStderr;
  return { seed: run.tags.seed, loss, ...(typeof se === 'number' && Number.isFinite(se) ? { stderr: se } : {}) };
}

function allPairs(comparison: string, arms: Map<string, SeedLoss[]>): PairedDifference[] {
  const names = [...arms.keys()].sort();
  const out: PairedDifference[] = [];
  for (let i = 0; i < names.length; i++) {
    for (let j = i + 1; j < names.length; j++) out.push(pairedDifference(comparison, { name: names[i], runs: arms.get(names[i])! }, { name: names[j], runs: arms.get(names[j])! }));
  }
  return out;
}

function push<K>(m: Map<K, SeedLoss[]>, k: K, v: SeedLoss): void {
  m.set(k, [...(m.get(k) ?? []), v]);
}

/**
 * Every paired comparison the tags define: schedules (every pair of labels), confirmation arms
 * (every pair of names), ablations (the arms of each `comparison`), and the expert-LR and LR-control
 * factors (each factor against factor 1 of the same group, else of the other group: at factor 1 both
 * groups train the base configuration).
 */
export function pairedComparisons(runs: readonly SweepRun[]): PairedDifference[] {
  const schedules = new Map<string, SeedLoss[]>();
  const confirmation = new Map<string, SeedLoss[]>();
  const ablations = new Map<string, Map<string, SeedLoss[]>>();
  const factors = { 'expert-lr': new Map<number, SeedLoss[]>(), 'lr-control': new Map<number, SeedLoss[]>() };
  for (const r of runs) {
    const s = seedLoss(r);
    if (!s) continue;
    if (r.tags?.study === 'schedules') push(schedules, r.tags.label, s);
    const a = armTagsOf(r.tags);
    if (!a) continue;
    if (a.group === 'confirmation') push(confirmation, a.name, s);
    else if (a.group === 'ablation') {
      const key = a.comparison ?? 'ablation';
      const m = ablations.get(key) ?? new Map<string, SeedLoss[]>();
      push(m, a.name, s);
      ablations.set(key, m);
    } else if (a.factor !== undefined) push(factors[a.group], a.factor, s);
  }
  const out: PairedDifference[] = [...allPairs('schedules', schedules), ...allPairs('confirmation', confirmation)];
  for (const [key, arms] of [...ablations].sort(([x], [y]) => x.localeCompare(y))) out.push(...allPairs(`ablation: ${key}`, arms));
  for (const group of ['expert-lr', 'lr-control'] as const) {
    const other = group === 'expert-lr' ? 'lr-control' : 'expert-lr';
    const base = factors[group].get(1) ?? factors[other].get(1);
    if (!base) continue;
    for (const f of [...factors[group].keys()].filter((x) => x !== 1).sort((x, y) => x - y)) {
      out.push(pairedDifference(group, { name: `${group} ×${fmt(f)}`, runs: factors[group].get(f)! }, { name: '×1 (base LR)', runs: base }));
    }
  }
  return out;
}
