// The one CSV reader: csv-parse (RFC 4180 quoting, quoted newlines, a UTF-8 BOM) plus what fits
// need from other people's files — the delimiter detected from the header (comma, tab, semicolon
// or bar), missing cells (empty, nan, NA, null, None, …) dropped with `dropna` and listed, numeric
// cells read as plain decimal numbers only (`0x10`, `1_000`, `Infinity` refused with the cell
// named), duplicate column names refused, duplicate rows refused unless `dedupe` drops them.
import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { ConfigError, DataError } from '../errors.ts';

export interface CsvReadOptions {
  /** Field delimiter, or 'auto' (default): the most frequent of , \t ; | in the header line. */
  delimiter?: string | 'auto';
  /** Drop rows with a missing cell (MISSING_MARKERS) instead of refusing them later (pandas' dropna). */
  dropna?: boolean;
  /** Only these columns count for dropna (default: every column). */
  dropnaColumns?: readonly string[];
  /** Keep the first of identical rows and list the others as dropped (default: refuse duplicates). */
  dedupe?: boolean;
}

export interface CsvTable {
  source: string;
  columns: string[];
  rows: string[][];
  /** 1-based line of each row in the file (header = line 1). */
  lines: number[];
  delimiter: string;
  /** Rows removed while reading and why ("line 7", "missing value in column loss (\"nan\")"). */
  dropped: { row: string; reason: string }[];
}

/** Cells read as missing (case-insensitive, after trimming), as pandas writes and reads them. */
export const MISSING_MARKERS: readonly string[] = Object.freeze(['', 'nan', 'na', 'n/a', '#n/a', 'null', 'none', '-nan', '<na>']);

export function isMissing(cell: string): boolean {
  return MISSING_MARKERS.includes(cell.trim().toLowerCase());
}

const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** A plain decimal number (optional sign, digits, point, exponent), or null for anything else. */
export function parseDecimal(cell: string): number | null {
  const s = cell.trim();
  if (!DECIMAL.test(s)) return null;
  const v = Number(s);
  return Number.isFinite(v) ? v : null;
}

const CANDIDATES = [',', '\t', ';', '|'] as const;

/** The most frequent candidate delimiter outside quotes in the first line (comma on a tie or none). */
export function detectDelimiter(text: string): string {
  const counts = new Map<string, number>(CANDIDATES.map((c) => [c, 0]));
  let inQuotes = false;
  for (let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') inQuotes = !inQuotes;
    else if (!inQuotes && (ch === '\n' || ch === '\r')) break;
    else if (!inQuotes && counts.has(ch)) counts.set(ch, (counts.get(ch) as number) + 1);
  }
  let best = ',';
  for (const c of CANDIDATES) if ((counts.get(c) as number) > (counts.get(best) as number)) best = c;
  return best;
}

const show = (d: string) => (d === '\t' ? 'tab' : JSON.stringify(d));

export function parseCsvText(text: string, source: string, options: CsvReadOptions = {}): CsvTable {
  const delimiter = !options.delimiter || options.delimiter === 'auto' ? detectDelimiter(text) : options.delimiter;
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, { bom: true, delimiter, relax_column_count: true, skip_empty_lines: true, info: true }) as unknown as { record: string[]; info: { lines: number } }[];
  } catch (err) {
    const e = err as Error & { lines?: number };
    throw new DataError(`${source}${e.lines ? `, line ${e.lines}` : ''}: not a readable CSV file (${e.message}). Check the quoting of that line (a field with the delimiter ${show(delimiter)} or a quote must be quoted, quotes doubled inside).`);
  }
  if (records.length === 0) throw new DataError(`${source}: the CSV file is empty. Give a header row and data rows.`);
  const columns = records[0].record.map((c) => c.trim());
  const seen = new Map<string, number>();
  columns.forEach((c, i) => {
    const j = seen.get(c);
    if (j !== undefined) {
      throw new DataError(`${source}: the header names column ${JSON.stringify(c)} twice (columns ${j + 1} and ${i + 1}). Rename one of them: which one a fit should read is ambiguous.`);
    }
    seen.set(c, i);
  });
  const naCols = (options.dropnaColumns ?? columns).map((c) => columns.indexOf(c)).filter((i) => i >= 0);
  const rows: string[][] = [];
  const lines: number[] = [];
  const dropped: CsvTable['dropped'] = [];
  const firstSeen = new Map<string, number>();
  const duplicates: string[] = [];
  for (let r = 1; r < records.length; r++) {
    const { record, info } = records[r];
    const line = info.lines;
    if (record.length !== columns.length) {
      throw new DataError(
        `${source}, line ${line}: ${record.length} fields, but the header has ${columns.length} (delimiter ${show(delimiter)}). Fix the row or quote fields that contain the delimiter.`,
      );
    }
    if (options.dropna) {
      const miss = naCols.find((i) => isMissing(record[i]));
      if (miss !== undefined) {
        dropped.push({ row: `${source}:${line}`, reason: `missing value in column ${JSON.stringify(columns[miss])} (${JSON.stringify(record[miss])})` });
        continue;
      }
    }
    const key = JSON.stringify(record.map((c) => c.trim()));
    const first = firstSeen.get(key);
    if (first !== undefined) {
      if (options.dedupe) {
        dropped.push({ row: `${source}:${line}`, reason: `duplicate of line ${first}` });
        continue;
      }
      duplicates.push(`line ${line} repeats line ${first}`);
      continue;
    }
    firstSeen.set(key, line);
    rows.push(record);
    lines.push(line);
  }
  if (duplicates.length > 0) {
    throw new DataError(
      `${source}: ${duplicates.length} duplicate row${duplicates.length === 1 ? '' : 's'} (${duplicates.slice(0, 5).join('; ')}${duplicates.length > 5 ? '; …' : ''}). Identical rows would count as independent runs and narrow the intervals; pass --dedupe to keep the first of each, or remove them.`,
    );
  }
  return { source, columns, rows, lines, delimiter, dropped };
}

export function readCsvFile(path: string, options: CsvReadOptions = {}, flag = '--csv'): CsvTable {
  if (!existsSync(path)) throw new ConfigError(flag, path, 'Give the path of an existing CSV file.', 'file not found');
  return parseCsvText(readFileSync(path, 'utf8'), path, options);
}
