// Reading fit inputs: CSV tables (src/io/csv.ts) and sweep folders of run records. Paths inside
// a sweep come from src/io/results.ts; this module only parses what is there.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ConfigError, DataError } from '../errors.ts';
import { readJson, readJsonIfExists, readJsonl } from '../io/atomic.ts';
import { isMissing, parseCsvText, parseDecimal, readCsvFile, type CsvReadOptions } from '../io/csv.ts';
import { runPaths, sweepPaths, type MetricRow, type RunConfigRecord, type RunSummary } from '../io/results.ts';

export interface Table {
  source: string;
  columns: string[];
  rows: string[][];
  /** 1-based file line of each row (default: row i on line i + 2). */
  lines?: number[];
  /** Rows removed while reading (--dropna, --dedupe) and why. */
  dropped?: { row: string; reason: string }[];
}

/** Parse CSV text through the one CSV reader (src/io/csv.ts): delimiter detected, quotes, BOM. */
export function parseCsv(text: string, source: string, options: CsvReadOptions = {}): Table {
  return parseCsvText(text, source, options);
}

export function readCsv(path: string, options: CsvReadOptions = {}): Table {
  return readCsvFile(path, options);
}

/**
 * The numbers of column `name`. `flag` names the option that chose it, for the error when the
 * column is missing (the message lists the columns that exist).
 */
export function numericColumn(t: Table, name: string, flag: string): number[] {
  const idx = t.columns.indexOf(name);
  if (idx < 0) {
    throw new ConfigError(flag, name, `Pick one of the columns of ${t.source}: ${t.columns.map((c) => JSON.stringify(c)).join(', ')}.`, 'no such column');
  }
  return t.rows.map((r, i) => {
    const v = parseDecimal(r[idx]);
    if (v === null) {
      const line = t.lines?.[i] ?? i + 2;
      const fix = isMissing(r[idx])
        ? 'a missing value. Pass --dropna to drop such rows (they are listed in the record), or fill it in'
        : 'only plain decimal numbers are read (digits, point, exponent; 0x10, 1_000, 1,5 and Infinity are refused). Fix or remove the row';
      throw new DataError(`${t.source}, line ${line}: column ${JSON.stringify(name)} holds ${JSON.stringify(r[idx])}, not a number: ${fix}.`);
    }
    return v;
  });
}

export function hasColumn(t: Table, name: string): boolean {
  return t.columns.includes(name);
}

export function stringColumn(t: Table, name: string, flag: string): string[] {
  const idx = t.columns.indexOf(name);
  if (idx < 0) {
    throw new ConfigError(flag, name, `Pick one of the columns of ${t.source}: ${t.columns.map((c) => JSON.stringify(c)).join(', ')}.`, 'no such column');
  }
  return t.rows.map((r) => r[idx]);
}

// ---------------------------------------------------------------------------------------------
// Sweep folders

/** One run folder as the fits see it. */
export interface RunRecordLite {
  runId: string;
  dir: string;
  config: RunConfigRecord;
  /** null while the run has not finished. */
  summary: RunSummary | null;
}

/**
 * The runs of a sweep folder (DIR/runs/<id>/) or of a folder whose subfolders are runs. Folders
 * without config.json are skipped; runs are returned sorted by id.
 */
export function readSweepRuns(dir: string): RunRecordLite[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new ConfigError('--runs', dir, 'Give a sweep folder (with runs/) or a folder of run folders.', 'not a directory');
  }
  const sp = sweepPaths(dir);
  const runsDir = existsSync(sp.runs) ? sp.runs : dir;
  const out: RunRecordLite[] = [];
  // A sweep's plan.json lists its runs; folders left from an earlier plan are not part of it.
  const plan = existsSync(sp.runs) ? readJsonIfExists<{ runs?: { runId: string }[] }>(sp.plan) : undefined;
  const inPlan = new Set((plan?.runs ?? []).map((r) => r.runId));
  for (const name of readdirSync(runsDir).sort()) {
    if (inPlan.size > 0 && !inPlan.has(name)) continue;
    const rp = runPaths(join(runsDir, name));
    if (!existsSync(rp.config)) continue;
    const config = readJson<RunConfigRecord>(rp.config);
    out.push({ runId: config.runId ?? config.config?.name ?? basename(rp.dir), dir: rp.dir, config, summary: readJsonIfExists<RunSummary>(rp.summary) ?? null });
  }
  if (out.length === 0) {
    throw new DataError(`${dir}: no run folders with config.json found (looked in ${runsDir}). Run the sweep first, or point --runs at the sweep folder.`);
  }
  return out;
}

export function readRunMetrics(run: RunRecordLite): MetricRow[] {
  return readJsonl<MetricRow>(runPaths(run.dir).metrics);
}
