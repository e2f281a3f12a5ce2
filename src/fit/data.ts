// Reading fit inputs from CSV tables (src/io/csv.ts). Sweep folders are read by the one loader,
// loadSweep (src/io/load.ts).
import { existsSync } from 'node:fs';
import { ConfigError, DataError } from '../errors.ts';
import { isMissing, parseCsvText, parseDecimal, readCsvFile, type CsvReadOptions } from '../io/csv.ts';

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
 * The numbers of column `name`. `field` names the request field that chose it (e.g. columns.N),
 * for the error when the column is missing (the message lists the columns that exist).
 */
export function numericColumn(t: Table, name: string, field: string): number[] {
  const idx = t.columns.indexOf(name);
  if (idx < 0) {
    throw new ConfigError(field, name, `Pick one of the columns of ${t.source}: ${t.columns.map((c) => JSON.stringify(c)).join(', ')}.`, 'no such column');
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

export function stringColumn(t: Table, name: string, field: string): string[] {
  const idx = t.columns.indexOf(name);
  if (idx < 0) {
    throw new ConfigError(field, name, `Pick one of the columns of ${t.source}: ${t.columns.map((c) => JSON.stringify(c)).join(', ')}.`, 'no such column');
  }
  return t.rows.map((r) => r[idx]);
}
