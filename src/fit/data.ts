// Reading fit inputs from CSV tables (RFC 4180 quoting). Sweep folders are read by the one loader,
// loadSweep (src/io/load.ts).
import { existsSync, readFileSync } from 'node:fs';
import { ConfigError, DataError } from '../errors.ts';

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
  if (!existsSync(path)) throw new ConfigError('path', path, 'Give the path of an existing CSV file.', 'file not found');
  return parseCsv(readFileSync(path, 'utf8'), path);
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

export function stringColumn(t: Table, name: string, field: string): string[] {
  const idx = t.columns.indexOf(name);
  if (idx < 0) {
    throw new ConfigError(field, name, `Pick one of the columns of ${t.source}: ${t.columns.map((c) => JSON.stringify(c)).join(', ')}.`, 'no such column');
  }
  return t.rows.map((r) => r[idx]);
}
