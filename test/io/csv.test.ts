// The CSV reader on the files other people write: TSV and semicolons detected, quoted fields with
// delimiters and newlines, a BOM, pandas' NaN/empty cells dropped with dropna and listed, strict
// decimal cells (0x10, 1_000 refused, naming the cell), duplicate columns refused, duplicate rows
// refused or deduplicated — and the fit table records what was dropped.
import { describe, expect, it } from 'vitest';
import { DataError } from '../../src/errors.ts';
import { fitTable, numericColumn, parseCsv } from '../../src/fit/index.ts';
import { detectDelimiter, parseCsvText, parseDecimal } from '../../src/io/csv.ts';

describe('parseCsvText', () => {
  it('detects tab, semicolon, bar and comma from the header (quoted delimiters do not count)', () => {
    expect(detectDelimiter('N\tD\tloss\n1\t2\t3\n')).toBe('\t');
    expect(detectDelimiter('N;D;loss\n')).toBe(';');
    expect(detectDelimiter('"a,b"|c\n')).toBe('|');
    expect(detectDelimiter('single\n1\n')).toBe(',');
    const t = parseCsvText('\uFEFFModel Size\tloss\n1e9\t2.5\n2e9\t2.4\n', 'pandas.tsv');
    expect(t.delimiter).toBe('\t');
    expect(t.columns).toEqual(['Model Size', 'loss']);
    expect(numericColumn(t, 'Model Size', '--n-col')).toEqual([1e9, 2e9]);
  });

  it('reads quoted fields holding the delimiter, doubled quotes and newlines; lines stay the file lines', () => {
    const t = parseCsvText('name,loss\n"a, b",1.5\n"say ""hi""\nthere",2\n\nc,3\n', 'q.csv');
    expect(t.rows.map((r) => r[0])).toEqual(['a, b', 'say "hi"\nthere', 'c']);
    expect(t.lines).toEqual([2, 4, 6]);
  });

  it('dropna drops rows with empty or NaN-like cells and lists them; without it the cell is named with the fix', () => {
    const text = 'N,loss\n1,2.0\n2,nan\n3,\n4,NA\n5,2.5\n';
    const kept = parseCsvText(text, 'p.csv', { dropna: true });
    expect(kept.rows.map((r) => r[0])).toEqual(['1', '5']);
    expect(kept.dropped).toEqual([
      { row: 'p.csv:3', reason: 'missing value in column "loss" ("nan")' },
      { row: 'p.csv:4', reason: 'missing value in column "loss" ("")' },
      { row: 'p.csv:5', reason: 'missing value in column "loss" ("NA")' },
    ]);
    const strict = parseCsvText(text, 'p.csv');
    expect(() => numericColumn(strict, 'loss', '--loss-col')).toThrow(/p\.csv, line 3: column "loss" holds "nan", not a number: a missing value\. Pass --dropna/);
    // dropnaColumns: a NaN in a column the fit does not read keeps the row.
    expect(parseCsvText('N,note,loss\n1,nan,2\n', 'x.csv', { dropna: true, dropnaColumns: ['N', 'loss'] }).rows).toHaveLength(1);
  });

  it('reads plain decimals only: 0x10, 1_000, 1,5 (in a TSV), Infinity and 1e are refused with the cell named', () => {
    expect(parseDecimal(' -1.5e-3 ')).toBe(-1.5e-3);
    expect(parseDecimal('.5')).toBe(0.5);
    expect(parseDecimal('7.')).toBe(7);
    for (const bad of ['0x10', '1_000', '1,5', 'Infinity', '1e', '0b11', '']) expect(parseDecimal(bad)).toBeNull();
    const t = parseCsv('N,loss\n0x10,2\n', 'hex.csv');
    expect(() => numericColumn(t, 'N', '--n-col')).toThrow(DataError);
    expect(() => numericColumn(t, 'N', '--n-col')).toThrow(/hex\.csv, line 2: column "N" holds "0x10", not a number: only plain decimal numbers/);
    expect(() => numericColumn(parseCsv('N\n1_000\n', 'u.csv'), 'N', '--n-col')).toThrow(/"1_000"/);
  });

  it('refuses duplicate column names and duplicate rows; dedupe keeps the first and lists the rest', () => {
    expect(() => parseCsvText('N,loss,N\n1,2,3\n', 'd.csv')).toThrow(/names column "N" twice \(columns 1 and 3\)/);
    const text = 'N,loss\n1,2\n3,4\n1,2\n1, 2\n';
    expect(() => parseCsvText(text, 'r.csv')).toThrow(/2 duplicate rows \(line 4 repeats line 2; line 5 repeats line 2\)\. .* --dedupe/);
    const t = parseCsvText(text, 'r.csv', { dedupe: true });
    expect(t.rows).toHaveLength(2);
    expect(t.dropped).toEqual([
      { row: 'r.csv:4', reason: 'duplicate of line 2' },
      { row: 'r.csv:5', reason: 'duplicate of line 2' },
    ]);
  });

  it('names the line of a ragged row and of broken quoting', () => {
    expect(() => parseCsvText('a,b\n1,2,3\n', 'r.csv')).toThrow(/r\.csv, line 2: 3 fields, but the header has 2 \(delimiter ","\)/);
    expect(() => parseCsvText('a,b\n"1,2\n', 'q.csv')).toThrow(DataError);
  });
});

describe('fitTable with a dropna table', () => {
  it('fits the kept rows and lists the dropped ones in data.dropped', async () => {
    const lines = ['N\tD\tC\tnote'];
    for (const N of [1e7, 3e7, 1e8, 3e8]) for (const D of [1e9, 1e10]) lines.push(`${N}\t${D}\t${6 * N * D + 1e8 * D}\tok`);
    lines.push('1e9\tnan\t\tpandas gap');
    const t = parseCsvText(`${lines.join('\n')}\n`, 'gaps.tsv', { dropna: true });
    const fit = await fitTable(t, { kind: 'compute', bootstrap: 0, holdout: 'none' });
    expect(fit.data.n).toBe(8);
    expect(fit.data.rowsGiven).toBe(9);
    expect(fit.data.dropped).toEqual([{ row: 'gaps.tsv:10', reason: 'missing value in column "D" ("nan")' }]);
    expect(fit.params.a.value).toBeCloseTo(6, 6);
  });
});
