// scripts/compare-reports.ts (the before/after check): numbers equal to printed precision, labels
// exact, where/when fields ignored, CSV cells parsed with quotes.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compareJson, compareReports, parseCsvCells, samePrinted } from '../../scripts/compare-reports.ts';

const root = mkdtempSync(join(tmpdir(), 'moelab-compare-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function report(dir: string, fitsAt: 'fits' | 'report/fits', fit: unknown, table: string, figure: unknown): string {
  mkdirSync(join(root, dir, fitsAt), { recursive: true });
  mkdirSync(join(root, dir, 'report', 'tables'), { recursive: true });
  mkdirSync(join(root, dir, 'report', 'figures'), { recursive: true });
  writeFileSync(join(root, dir, fitsAt, 'isoflop.json'), JSON.stringify(fit));
  writeFileSync(join(root, dir, 'report', 'tables', 'fit-params.csv'), table);
  writeFileSync(join(root, dir, 'report', 'figures', 'isoflop.json'), JSON.stringify(figure));
  return join(root, dir);
}

describe('compare-reports', () => {
  it('numbers agree when they print the same to the digits asked', () => {
    expect(samePrinted(0.123456, 0.1234561, 4)).toBe(true);
    expect(samePrinted(0.1234, 0.1236, 4)).toBe(false);
    expect(samePrinted(NaN, NaN, 4)).toBe(true);
    expect(samePrinted(Infinity, 1e308, 4)).toBe(false);
  });

  it('finds a changed number, a changed label, a missing key and a changed length; ignores provenance', () => {
    const { differences, numbers } = compareJson(
      { a: 1.5, b: [1, 2], name: 'x', provenance: { at: 1 }, gone: 1 },
      { a: 1.6, b: [1, 2, 3], name: 'y', provenance: { at: 2 } },
      4,
    );
    expect(numbers).toBe(3);
    expect(differences.map((d) => d.path).sort()).toEqual(['a', 'b.length', 'gone', 'name']);
  });

  it('parses quoted CSV cells and numbers', () => {
    expect(parseCsvCells('fit,value\n"iso, ""a""",1e3\nx,\n')).toEqual([['fit', 'value'], ['iso, "a"', 1000], ['x', '']]);
  });

  it('compares old (report/fits) and new (fits) layouts file by file', () => {
    const before = report('b', 'report/fits', { params: { a: { value: 0.49404768 } }, source: '/x' }, 'fit,v\niso (report),0.494047\n', { data: [{ x: [1, 2], y: [2.8581, 2.7866] }] });
    const after = report('a', 'fits', { params: { a: { value: 0.49404771 } }, source: '/y' }, 'fit,v\niso (fits/isoflop.json),0.494048\n', { data: [{ x: [1, 2], y: [2.8581, 2.7901] }] });
    const byFile = Object.fromEntries(compareReports(before, after, 4).map((r) => [r.file, r.status]));
    expect(byFile).toEqual({ 'fits/isoflop.json': 'same', 'tables/fit-params.csv': 'text', 'figures/isoflop.json': 'differs' });
  });
});
