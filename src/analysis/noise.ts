// The noise floor of a sweep (pure): per cell — an isoFLOP (budget, size[, LR]) point, an LR × batch
// point, a schedule, an arm — the seed-to-seed SD of the final validation loss and the evaluation's
// standard error (summary.json finalValLossStderr), and the study-wide pooled seed SD. A cell with one
// seed has no seed SD ("not measured"), never a zero.
import { fmt } from '../fit/points.ts';
import type { SweepRun } from '../io/load.ts';
import { armTagsOf, isoflopLrOf } from './arm-tags.ts';
import { finalLoss } from './select.ts';
import { trainingIdentity } from '../sweep/share.ts';

export interface NoiseCell {
  /** The run-tag study kind of the cell's runs. */
  study: string;
  /** The cell as tables print it (e.g. "budget 1e+10 · N 9.8e+3"). */
  cell: string;
  /** Seeds of the finished runs, ascending. */
  seeds: number[];
  losses: number[];
  meanLoss: number;
  /** Sample SD (n − 1) of the final loss over seeds; null with one seed (not measured). */
  seedSd: number | null;
  /** Root-mean-square of the runs' finalValLossStderr; null when no summary records it. */
  evalStderr: number | null;
  /**
   * The cell whose runs these are, when every run here is a run counted earlier (a study's shared
   * baseline arm, e.g. the ablations' base model in each comparison: planned once, or trained once
   * per name with the same configuration and seed): shown, but left out of the pooled SD so one
   * set of seeds counts once.
   */
  duplicateOf?: string;
}

export interface NoiseFloor {
  cells: NoiseCell[];
  /** √(Σ (n_i − 1)·s_i² / Σ (n_i − 1)) over cells with ≥ 2 seeds; null when no cell has 2. */
  pooledSeedSd: { value: number; df: number; cells: number } | null;
  /** RMS of every finished run's eval stderr; null when none records it. */
  pooledEvalStderr: number | null;
}

/** The cell a run belongs to (study kind and printable label), or undefined for an untagged run. */
export function cellOf(run: SweepRun): { study: string; cell: string } | undefined {
  const t = run.tags;
  if (!t) return undefined;
  switch (t.study) {
    case 'isoflop': {
      const lr = isoflopLrOf(t);
      return { study: 'isoflop', cell: `budget ${fmt(t.budgetFlops)} · N ${fmt(t.size)}${lr !== undefined ? ` · lr ${fmt(lr)}` : ''}` };
    }
    case 'lr-batch':
      return { study: 'lr-batch', cell: `lr ${fmt(t.lr)} · batch ${fmt(t.batchTokens)} tokens${t.budgetFlops !== undefined ? ` · budget ${fmt(t.budgetFlops)}` : ''}` };
    case 'schedules':
      return { study: 'schedules', cell: t.label };
    case 'arm': {
      const a = armTagsOf(t);
      if (!a) return { study: 'arm', cell: t.name };
      const parts = [a.group, ...(a.comparison !== undefined ? [a.comparison] : []), a.name, ...(a.factor !== undefined ? [`×${fmt(a.factor)}`] : [])];
      return { study: 'arm', cell: parts.join(' · ') };
    }
    case 'grid':
      return { study: 'grid', cell: Object.entries(t.point).map(([k, v]) => `${k}=${String(v)}`).join(' · ') };
  }
}

export function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Sample SD (n − 1 denominator); null for fewer than two values. */
export function sampleSd(xs: readonly number[]): number | null {
  if (xs.length < 2) return null;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1));
}

function rms(xs: readonly number[]): number | null {
  return xs.length ? Math.sqrt(xs.reduce((s, x) => s + x * x, 0) / xs.length) : null;
}


/**
 * What a run trains (src/sweep/share.ts trainingIdentity: the config without its name, trivially
 * different encodings made equal): two runs with the same identity are the same experiment.
 */
function runIdentity(r: SweepRun): string {
  return trainingIdentity(r.config.config);
}

/** Per-cell noise of the finished runs (diverged and unfinished runs left out), in first-seen order. */
export function noiseFloor(runs: readonly SweepRun[]): NoiseFloor {
  const cells = new Map<string, { study: string; cell: string; rows: { seed: number; loss: number; stderr?: number; duplicateOf?: string }[] }>();
  const firstCell = new Map<string, string>();
  for (const r of runs) {
    const c = cellOf(r);
    const loss = finalLoss(r);
    if (!c || loss === undefined || !r.tags) continue;
    // Grouped by the tags without the seed (exact values; the printed label rounds).
    const { seed: _seed, ...rest } = r.tags as { seed: number } & Record<string, unknown>;
    const key = JSON.stringify(Object.entries(rest).sort(([x], [y]) => x.localeCompare(y)));
    const entry = cells.get(key) ?? { ...c, rows: [] };
    const se = r.summary?.finalValLossStderr;
    // A study names one run several times (a baseline per comparison, factor ×1 of two sweeps, an
    // isoFLOP cell at an LR its scan trained): trained once, the other names loaded as that run
    // (sameRunAs, src/sweep/share.ts); in folders planned before, arms were trained once per name
    // and are recognised by their configuration (other cells differ by construction).
    const ids = [`run ${r.sameRunAs ?? r.runId}`, ...(r.tags.study === 'arm' ? [runIdentity(r)] : [])];
    const seenIn = ids.map((k) => firstCell.get(k)).find((x) => x !== undefined);
    for (const k of ids) if (!firstCell.has(k)) firstCell.set(k, c.cell);
    entry.rows.push({
      seed: r.tags.seed,
      loss,
      ...(typeof se === 'number' && Number.isFinite(se) ? { stderr: se } : {}),
      ...(seenIn !== undefined && seenIn !== c.cell ? { duplicateOf: seenIn } : {}),
    });
    cells.set(key, entry);
  }
  const out: NoiseCell[] = [];
  let ss = 0;
  let df = 0;
  let pooledCells = 0;
  const allStderr: number[] = [];
  for (const { study, cell, rows } of cells.values()) {
    rows.sort((a, b) => a.seed - b.seed);
    const losses = rows.map((r) => r.loss);
    const sd = sampleSd(losses);
    const stderrs = rows.flatMap((r) => (r.stderr !== undefined ? [r.stderr] : []));
    // Only runs not counted in an earlier cell enter the pooled figures.
    const own = rows.filter((r) => r.duplicateOf === undefined);
    allStderr.push(...own.flatMap((r) => (r.stderr !== undefined ? [r.stderr] : [])));
    const ownSd = sampleSd(own.map((r) => r.loss));
    if (ownSd !== null) {
      ss += (own.length - 1) * ownSd * ownSd;
      df += own.length - 1;
      pooledCells++;
    }
    const duplicateOf = own.length === 0 ? rows[0].duplicateOf : undefined;
    out.push({ study, cell, seeds: rows.map((r) => r.seed), losses, meanLoss: mean(losses), seedSd: sd, evalStderr: rms(stderrs), ...(duplicateOf ? { duplicateOf } : {}) });
  }
  return {
    cells: out,
    pooledSeedSd: df > 0 ? { value: Math.sqrt(ss / df), df, cells: pooledCells } : null,
    pooledEvalStderr: rms(allStderr),
  };
}
