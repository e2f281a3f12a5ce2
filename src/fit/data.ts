// Reading fit inputs: CSV tables (RFC 4180 quoting) and sweep folders of run records. Paths inside
// a sweep come from src/io/results.ts; this module only parses what is there.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ConfigError, CorruptFileError, DataError } from '../errors.ts';
import { readJson, readJsonIfExists, readJsonl } from '../io/atomic.ts';
import { runPaths, sweepPaths, type MetricRow, type RunConfigRecord, type RunSummary } from '../io/results.ts';

export interface Table {
  source: string;
  columns: string[];
  rows: string[][];
}

/** Parse CSV text: comma-separated, double-quoted fields may hold commas, quotes ("") and newlines. */
export function parseCsv(text: string, source: string): Table {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let inQuotes = false;
  const s = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text; // drop a UTF-8 BOM
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (inQuotes) {
      if (ch === '"') {
        if (s[i + 1] === '"') {
          field += '"';
          i++;
        } else inQuotes = false;
      } else field += ch;
    } else if (ch === '"') inQuotes = true;
    else if (ch === ',') {
      record.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && s[i + 1] === '\n') i++;
      record.push(field);
      field = '';
      if (record.length > 1 || record[0] !== '') records.push(record);
      record = [];
    } else field += ch;
  }
  if (field !== '' || record.length > 0) {
    record.push(field);
    records.push(record);
  }
  if (records.length === 0) throw new DataError(`${source}: the CSV file is empty. Give a header row and data rows.`);
  const columns = records[0].map((c) => c.trim());
  const rows = records.slice(1);
  rows.forEach((r, i) => {
    if (r.length !== columns.length) {
      throw new DataError(`${source}, line ${i + 2}: ${r.length} fields, but the header has ${columns.length}. Fix the row or quote fields that contain commas.`);
    }
  });
  return { source, columns, rows };
}

export function readCsv(path: string): Table {
  if (!existsSync(path)) throw new ConfigError('--csv', path, 'Give the path of an existing CSV file.', 'file not found');
  return parseCsv(readFileSync(path, 'utf8'), path);
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
    const cell = r[idx].trim();
    const v = Number(cell);
    if (cell === '' || !Number.isFinite(v)) {
      throw new DataError(`${t.source}, line ${i + 2}: column ${JSON.stringify(name)} holds ${JSON.stringify(r[idx])}, not a number. Fix or remove the row.`);
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
    // A damaged run is left out with a warning naming the file; the fit goes on with the others.
    try {
      const config = readJson<RunConfigRecord>(rp.config);
      out.push({ runId: config.runId ?? config.config?.name ?? basename(rp.dir), dir: rp.dir, config, summary: readJsonIfExists<RunSummary>(rp.summary) ?? null });
    } catch (err) {
      if (!(err instanceof CorruptFileError)) throw err;
      process.emitWarning(`run ${name} left out (corrupt): ${err.message}`, 'CorruptRunWarning');
    }
  }
  if (out.length === 0) {
    throw new DataError(`${dir}: no run folders with config.json found (looked in ${runsDir}). Run the sweep first, or point --runs at the sweep folder.`);
  }
  return out;
}

export function readRunMetrics(run: RunRecordLite): MetricRow[] {
  return readJsonl<MetricRow>(runPaths(run.dir).metrics);
}
