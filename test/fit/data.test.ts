// CSV parsing (quotes, CRLF, BOM) and column errors that list the columns. Sweep folders: test/io/load.test.ts.
import { describe, expect, it } from 'vitest';
import { ConfigError, DataError } from '../../src/errors.ts';
import { numericColumn, parseCsv, stringColumn } from '../../src/fit/index.ts';

describe('parseCsv', () => {
  it('handles quoted commas, doubled quotes, CRLF and a BOM', () => {
    const t = parseCsv('\ufeffname,"Model Size",loss\r\n"a, b",1e9,2.5\r\n"say ""hi""",2e9,2.4\r\n', 'x.csv');
    expect(t.columns).toEqual(['name', 'Model Size', 'loss']);
    expect(stringColumn(t, 'name', '--label-col')).toEqual(['a, b', 'say "hi"']);
    expect(numericColumn(t, 'Model Size', '--n-col')).toEqual([1e9, 2e9]);
  });

  it('names the flag, the missing column and the columns that exist', () => {
    const t = parseCsv('N,loss\n1,2\n', 'runs.csv');
    expect(() => numericColumn(t, 'D', '--d-col')).toThrow(ConfigError);
    expect(() => numericColumn(t, 'D', '--d-col')).toThrow(/--d-col: no such column \(got "D"\)\. Pick one of the columns of runs\.csv: "N", "loss"/);
  });

  it('names the line and column of a non-numeric cell, and ragged rows', () => {
    const t = parseCsv('N,loss\n1,2\n3,oops\n', 'runs.csv');
    expect(() => numericColumn(t, 'loss', '--loss-col')).toThrow(DataError);
    expect(() => numericColumn(t, 'loss', '--loss-col')).toThrow(/runs\.csv, line 3: column "loss" holds "oops", not a number/);
    expect(() => parseCsv('a,b\n1,2,3\n', 'r.csv')).toThrow(/r\.csv, line 2: 3 fields, but the header has 2/);
  });
});
