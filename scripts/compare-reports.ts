// Compare two reports of the same sweep to printed precision: the fit records, the CSV tables and
// the figures' data. Written for the before/after check of the analysis-layer refactor
// (docs/architecture.md#beforeafter-check): the old code wrote its fit records to
// <dir>/report/fits/, the new one to <dir>/fits/; both write report/tables/*.csv and
// report/figures/*.json.
//
//   npx tsx scripts/compare-reports.ts BEFORE_DIR AFTER_DIR [--digits 4] [--show 8] [--json] [--numbers-only]
//
// Numbers are equal when they agree to `digits` significant figures (the report prints 3–4);
// strings must match exactly, except the fields that name where or when a file was written
// (provenance, source, paths, timestamps). Exit 0 when everything agrees (with --numbers-only: when
// every number agrees, text differences listed but allowed), 1 when something differs.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface Difference {
  path: string;
  before: unknown;
  after: unknown;
}

interface FileResult {
  file: string;
  /** differs: a number (or an array's length) differs; text: only strings, keys present in one. */
  status: 'same' | 'differs' | 'text' | 'only before' | 'only after';
  /** Numbers compared (leaves). */
  numbers: number;
  differences: Difference[];
}

/** A difference in a number (or in how many numbers there are), not in a label. */
export function isNumeric(d: Difference): boolean {
  return (typeof d.before === 'number' && typeof d.after === 'number') || d.path.endsWith('.length');
}

/** Keys whose values say where or when, not what: never compared. */
const IGNORED_KEYS = new Set(['provenance', 'source', 'createdAt', 'writtenAt', 'generatedAt', 'fitFile', 'seconds', 'elapsedSeconds']);

export function samePrinted(a: number, b: number, digits: number): boolean {
  if (Object.is(a, b)) return true;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  return a.toPrecision(digits) === b.toPrecision(digits);
}

/** Walk two JSON values in step, collecting the leaves that differ at printed precision. */
export function compareJson(before: unknown, after: unknown, digits: number, path = '', out: Difference[] = [], counter = { numbers: 0 }): { differences: Difference[]; numbers: number } {
  if (typeof before === 'number' && typeof after === 'number') {
    counter.numbers++;
    if (!samePrinted(before, after, digits)) out.push({ path, before, after });
  } else if (Array.isArray(before) && Array.isArray(after)) {
    if (before.length !== after.length) out.push({ path: `${path}.length`, before: before.length, after: after.length });
    for (let i = 0; i < Math.min(before.length, after.length); i++) compareJson(before[i], after[i], digits, `${path}[${i}]`, out, counter);
  } else if (before !== null && after !== null && typeof before === 'object' && typeof after === 'object' && !Array.isArray(before) && !Array.isArray(after)) {
    const b = before as Record<string, unknown>;
    const a = after as Record<string, unknown>;
    for (const k of new Set([...Object.keys(b), ...Object.keys(a)])) {
      if (IGNORED_KEYS.has(k)) continue;
      const p = path ? `${path}.${k}` : k;
      if (!(k in a)) out.push({ path: p, before: b[k], after: '(absent)' });
      else if (!(k in b)) out.push({ path: p, before: '(absent)', after: a[k] });
      else compareJson(b[k], a[k], digits, p, out, counter);
    }
  } else if (before !== after) {
    out.push({ path, before, after });
  }
  return { differences: out, numbers: counter.numbers };
}

/** A CSV of the report's tables as rows of cells, numbers parsed (quoted cells kept as text). */
export function parseCsvCells(text: string): (string | number)[][] {
  const rows: (string | number)[][] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const cells: (string | number)[] = [];
    let i = 0;
    while (i <= line.length) {
      if (line[i] === '"') {
        let j = i + 1;
        let cell = '';
        while (j < line.length) {
          if (line[j] === '"' && line[j + 1] === '"') {
            cell += '"';
            j += 2;
          } else if (line[j] === '"') break;
          else cell += line[j++];
        }
        cells.push(cell);
        i = j + 2;
      } else {
        const j = line.indexOf(',', i) === -1 ? line.length : line.indexOf(',', i);
        const cell = line.slice(i, j);
        cells.push(cell !== '' && Number.isFinite(Number(cell)) ? Number(cell) : cell);
        i = j + 1;
      }
    }
    rows.push(cells);
  }
  return rows;
}

function listJson(dir: string, ext: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(ext)).sort() : [];
}

/** The folder holding a report's fit records: fits/ (new code), else report/fits/ (old code). */
function fitsDir(dir: string): string {
  const reportFits = join(dir, 'report', 'fits');
  const fits = join(dir, 'fits');
  return existsSync(fits) && listJson(fits, '.json').length ? fits : reportFits;
}

function compareFolder(label: string, beforeDir: string, afterDir: string, ext: string, read: (path: string) => unknown, digits: number): FileResult[] {
  const names = [...new Set([...listJson(beforeDir, ext), ...listJson(afterDir, ext)])].sort();
  return names.map((name) => {
    const b = join(beforeDir, name);
    const a = join(afterDir, name);
    const file = `${label}/${name}`;
    if (!existsSync(a)) return { file, status: 'only before', numbers: 0, differences: [] };
    if (!existsSync(b)) return { file, status: 'only after', numbers: 0, differences: [] };
    const { differences, numbers } = compareJson(read(b), read(a), digits);
    return { file, status: differences.some(isNumeric) ? 'differs' : differences.length ? 'text' : 'same', numbers, differences };
  });
}

/** A table row's identity: its text cells, the first word of each (so 'isoflop (report)' matches 'isoflop (fits/isoflop.json)'). */
function rowKey(row: readonly (string | number)[]): string {
  return row
    .filter((c) => typeof c === 'string' && c !== '')
    .map((c) => String(c).split(' ')[0])
    .join('|');
}

/**
 * A table with its data rows in a canonical order (stable sort by rowKey), plus that order as a
 * pseudo-row, so rows that moved (e.g. fits listed in another order) are compared with their
 * counterpart and the move still shows as one text difference.
 */
export function canonicalTable(rows: (string | number)[][]): { rows: (string | number)[][]; order: string[] } {
  const [header, ...data] = rows;
  const sorted = data.map((r, i) => ({ r, i, k: rowKey(r) })).sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : a.i - b.i));
  return { rows: [header, ...sorted.map((x) => x.r)], order: [data.map(rowKey).join(' / ')] };
}

export function compareReports(beforeDir: string, afterDir: string, digits = 4): FileResult[] {
  const json = (p: string) => JSON.parse(readFileSync(p, 'utf8')) as unknown;
  const csv = (p: string) => canonicalTable(parseCsvCells(readFileSync(p, 'utf8')));
  return [
    ...compareFolder('fits', fitsDir(beforeDir), fitsDir(afterDir), '.json', json, digits),
    ...compareFolder('tables', join(beforeDir, 'report', 'tables'), join(afterDir, 'report', 'tables'), '.csv', csv, digits),
    ...compareFolder('figures', join(beforeDir, 'report', 'figures'), join(afterDir, 'report', 'figures'), '.json', json, digits),
  ];
}

function show(v: unknown): string {
  const s = typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v) ?? String(v);
  return s.length > 100 ? `${s.slice(0, 97)}...` : s;
}

function main(argv: string[]): number {
  const args = argv.filter((a, i) => !a.startsWith('--') && !(argv[i - 1] === '--digits' || argv[i - 1] === '--show'));
  const opt = (name: string, d: number) => (argv.includes(name) ? Number(argv[argv.indexOf(name) + 1]) : d);
  if (args.length !== 2) {
    process.stderr.write('usage: npx tsx scripts/compare-reports.ts BEFORE_DIR AFTER_DIR [--digits 4] [--show 8] [--json] [--numbers-only]\n');
    return 2;
  }
  const digits = opt('--digits', 4);
  const showN = opt('--show', 8);
  const results = compareReports(args[0], args[1], digits);
  if (argv.includes('--json')) {
    process.stdout.write(`${JSON.stringify({ before: args[0], after: args[1], digits, results }, null, 2)}\n`);
  } else {
    process.stdout.write(`before ${args[0]}\nafter  ${args[1]}\nnumbers compared to ${digits} significant figures\n\n`);
    for (const r of results) {
      const numeric = r.differences.filter(isNumeric).length;
      const tag = { same: 'same   ', differs: 'DIFFERS', text: 'text   ', 'only before': 'ONLY BEFORE', 'only after': 'ONLY AFTER' }[r.status];
      process.stdout.write(`${tag}  ${r.file}  (${r.numbers} numbers${r.differences.length ? `; ${numeric} numeric, ${r.differences.length - numeric} text differences` : ''})\n`);
      // numeric differences first
      const ordered = [...r.differences.filter(isNumeric), ...r.differences.filter((d) => !isNumeric(d))];
      for (const d of ordered.slice(0, showN)) {
        // Two long texts: show them from a little before where they part.
        const [b, a] = [d.before, d.after];
        const at = typeof b === 'string' && typeof a === 'string' ? Math.max(0, [...b].findIndex((c, i) => c !== a[i]) - 20) : 0;
        const cut = (v: unknown) => (at > 0 && typeof v === 'string' ? `…${v.slice(at)}` : v);
        process.stdout.write(`    ${d.path}: ${show(cut(d.before))} → ${show(cut(d.after))}\n`);
      }
      if (r.differences.length > showN) process.stdout.write(`    … ${r.differences.length - showN} more\n`);
    }
    const count = (st: FileResult['status']) => results.filter((r) => r.status === st).length;
    process.stdout.write(
      `\n${count('same')} of ${results.length} files agree to printed precision; ${count('text')} differ only in text (labels, field names); ${count('differs')} differ in numbers; ${count('only before') + count('only after')} exist on one side only\n`,
    );
  }
  return results.every((r) => r.status === 'same' || (r.status === 'text' && argv.includes('--numbers-only'))) ? 0 : 1;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = main(process.argv.slice(2));
