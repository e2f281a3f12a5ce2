// CSV parsing (quotes, CRLF, BOM), column errors that list the columns, and sweep-folder reading.
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, DataError } from '../../src/errors.ts';
import { numericColumn, parseCsv, readSweepRuns, stringColumn } from '../../src/fit/index.ts';

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

describe('readSweepRuns', () => {
  it('reads runs/<id>/ folders (with or without a summary) and refuses an empty folder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'moelab-fit-data-'));
    for (const id of ['b-run', 'a-run']) {
      mkdirSync(join(dir, 'runs', id), { recursive: true });
      writeFileSync(join(dir, 'runs', id, 'config.json'), JSON.stringify({ runId: id, config: { name: id }, derived: {} }));
    }
    writeFileSync(join(dir, 'runs', 'a-run', 'summary.json'), JSON.stringify({ runId: 'a-run', status: 'done' }));
    mkdirSync(join(dir, 'runs', 'not-a-run'));
    const runs = readSweepRuns(dir);
    expect(runs.map((r) => r.runId)).toEqual(['a-run', 'b-run']);
    expect(runs[0].summary?.status).toBe('done');
    expect(runs[1].summary).toBeNull();
    const empty = mkdtempSync(join(tmpdir(), 'moelab-fit-empty-'));
    expect(() => readSweepRuns(empty)).toThrow(/no run folders with config\.json found/);
    expect(() => readSweepRuns(join(empty, 'missing'))).toThrow(/--runs: not a directory/);
  });
});
