// `moelab fit`: the two example commands exactly as written, the JSON record they write,
// and errors that name the bad flag or column (exit code 1, message on stderr).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url).pathname;
const out = mkdtempSync(join(tmpdir(), 'moelab-cli-fit-'));

function moelab(args: string[]) {
  const r = spawnSync('node', ['bin/moelab.js', ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('moelab fit', () => {
  it('parametric on the Chinchilla CSV, exactly as in the issue', () => {
    const file = join(out, 'fit.json');
    const r = moelab([
      'fit', 'parametric', '--csv', 'data/reference/chinchilla_svg_extracted_data.csv',
      '--n-col', 'Model Size', '--c-col', 'Training FLOP', '--loss-col', 'loss',
      '--tokens-from-flops', '6', '--drop-highest', '5', '--out', file,
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/parametric fit\s+E \+ A \/ N\^alpha \+ B \/ D\^beta/);
    expect(r.stdout).toMatch(/240 rows used of 245/);
    const rec = JSON.parse(readFileSync(file, 'utf8'));
    expect(rec.schema).toBe('moelab.fit/1');
    expect(Object.keys(rec.params)).toEqual(['E', 'A', 'B', 'alpha', 'beta']);
    for (const p of Object.values(rec.params) as { value: number; ci95: [number, number] }[]) {
      expect(p.ci95[0]).toBeLessThan(p.value);
      expect(p.ci95[1]).toBeGreaterThan(p.value);
    }
    expect(rec.params.E.value).toBeCloseTo(1.8172, 3);
    expect(rec.diagnostics).toMatchObject({ starts: 4500, converged: true, loss: 'huber-log', delta: 1e-3 });
    expect(rec.heldOut.length).toBeGreaterThan(0);
    expect(rec.data.dropped).toHaveLength(5);
    expect(rec.provenance.moelabVersion).toBeTypeOf('string');
  }, 180_000);

  it('schedule with the Tissue law on curve CSVs, exactly as in the issue', () => {
    const d = 'data/reference/multipowerlaw_loss_curves/csv_100';
    const file = join(out, 'f.json');
    const r = moelab(['fit', 'schedule', '--law', 'tissue', '--fit', `${d}/cosine_24000.csv`, `${d}/constant_24000.csv`, '--predict', `${d}/wsd_20000_24000.csv`, `${d}/wsdcon_3.csv`, '--out', file]);
    expect(r.code).toBe(0);
    const rec = JSON.parse(readFileSync(file, 'utf8'));
    expect(rec.kind).toBe('schedule');
    expect(rec.law).toBe('tissue');
    const predicted = rec.curves.filter((c: { role: string }) => c.role === 'predict');
    expect(predicted.map((c: { name: string }) => c.name)).toEqual(['wsd_20000_24000', 'wsdcon_3']);
    for (const c of predicted) expect(c.meanAbsRelError).toBeLessThan(0.01);
    expect(rec.derived['predicted.wsdcon_3.meanAbsRelError'].value).toBe(predicted[1].meanAbsRelError);
    expect(r.stdout).toMatch(/wsdcon_3\s+predict\s+109/);
  }, 120_000);

  it('names a missing column, a bad flag value and a missing data source', () => {
    const csv = 'data/reference/chinchilla_svg_extracted_data.csv';
    const missing = moelab(['fit', 'parametric', '--csv', csv, '--n-col', 'params', '--bootstrap', '0']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/ConfigError: --n-col: no such column \(got "params"\)\. Pick one of the columns of .*"Model Size"/);
    const badFormula = moelab(['fit', 'isoflop', '--csv', csv, '--compute-formula', 'fast']);
    expect(badFormula.stderr).toMatch(/--compute-formula: not a compute formula \(got "fast"\)/);
    const none = moelab(['fit', 'surge']);
    expect(none.stderr).toMatch(/Give exactly one data source: --runs DIR or --csv FILE/);
    const kind = moelab(['fit', 'chinchilla', '--csv', csv]);
    expect(kind.stderr).toMatch(/kind: not an allowed value \(got "chinchilla"\)\. Use one of: parametric, isoflop/);
  }, 120_000);

  it('surge: --surge-method and --target-loss are checked, and steps-to-target needs run records', () => {
    const grid = join(out, 'grid.csv');
    writeFileSync(grid, 'batchTokens,lr,loss\n256,1e-3,3.1\n256,2e-3,3.0\n256,4e-3,3.2\n');
    const bad = moelab(['fit', 'surge', '--csv', grid, '--surge-method', 'fastest']);
    expect(bad.stderr).toMatch(/--surge-method: not an allowed value \(got "fastest"\)\. Use one of: auto, steps-to-target, final-loss/);
    const target = moelab(['fit', 'surge', '--csv', grid, '--target-loss', '-2']);
    expect(target.stderr).toMatch(/--target-loss: not a valid value \(got "-2"\)\. Give a train loss > 0/);
    const csv = moelab(['fit', 'surge', '--csv', grid, '--target-loss', '2.35']);
    expect(csv.code).toBe(1);
    expect(csv.stderr).toMatch(/--target-loss: needs training curves \(got 2\.35\)\. Steps-to-target reads training curves from run records: fit the runs of a sweep/);
  }, 60_000);
});
