// Joining the side-by-side tables of two presets (src/study/side-by-side.ts) and the
// `moelab compare` command over two study folders.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ComparisonRow } from '../../src/study/compare.ts';
import { joinComparisons, sideBySideCell, sideBySideMarkdown, type PresetComparison } from '../../src/study/side-by-side.ts';
import { PROJECT_ROOT } from '../../src/util/provenance.ts';

const row = (key: string, quantity: string, moelab: string, extra: Partial<ComparisonRow> = {}): ComparisonRow => ({
  key,
  quantity,
  moelab,
  ci95: '—',
  paper: `paper ${key}`,
  reliability: 'UNCONFIRMED',
  note: '',
  bootstrapSuccess: '—',
  status: 'not resolved',
  reason: 'why',
  ...extra,
});

const quick: PresetComparison = {
  study: 'hunyuan-small',
  preset: 'quick',
  rows: [
    row('isoflop.a', 'N_opt ∝ C^a: exponent a', '0.592', { ci95: '[0.379, 0.827] unreliable: 63% of resamples fitted; failed: 193 …', bootstrapSuccess: '0.632 (unreliable)' }),
    row('heldout.L_min', 'held-out: L_min at C = 1.00e11 (parabola)', 'predicted 1.969, actual 1.83'),
    row('ablation: kv-heads: 1 KV head vs 2 KV heads', 'ablation: kv-heads: 1 KV head vs 2 KV heads (equal compute, paired by seed)', '1 KV head − 2 KV heads = 0.198 nats', { status: 'resolved', reason: '2 KV heads lower' }),
  ],
};
const standard: PresetComparison = {
  study: 'hunyuan-small',
  preset: 'standard',
  rows: [
    row('heldout.L_min', 'held-out: L_min at C = 1.00e13 (parabola)', 'predicted 1.40, actual 1.41'),
    row('isoflop.a', 'N_opt ∝ C^a: exponent a', '0.51', { ci95: '[0.47, 0.55]', bootstrapSuccess: '0.991', status: 'resolved', reason: 'agrees' }),
    row('ablation: routing: drop vs recycle', 'ablation: routing: drop vs recycle (equal compute, paired by seed)', 'drop − recycle = 0.01 nats'),
  ],
};

describe('joinComparisons', () => {
  it('joins on the key, not the quantity text, in first-appearance order; a row one table lacks is null there', () => {
    const j = joinComparisons([quick, standard]);
    expect(j.map((r) => r.key)).toEqual(['isoflop.a', 'heldout.L_min', 'ablation: kv-heads: 1 KV head vs 2 KV heads', 'ablation: routing: drop vs recycle']);
    // The held-out rows name different budgets and still join; the quantity is the first table's.
    const held = j[1];
    expect(held.quantity).toBe('held-out: L_min at C = 1.00e11 (parabola)');
    expect(held.cells.map((c) => c?.moelab)).toEqual(['predicted 1.969, actual 1.83', 'predicted 1.40, actual 1.41']);
    expect(j[2].cells[1]).toBeNull();
    expect(j[3].cells[0]).toBeNull();
    expect(j[3].quantity).toBe('ablation: routing: drop vs recycle (equal compute, paired by seed)');
  });

  it('a cell: value, interval without the failure list, bootstrap success, verdict', () => {
    expect(sideBySideCell(quick.rows[0])).toBe('0.592 [0.379, 0.827], bootstrap 0.632 (unreliable): **not resolved** (why)');
    expect(sideBySideCell(standard.rows[1])).toBe('0.51 [0.47, 0.55], bootstrap 0.991: **resolved** (agrees)');
    expect(sideBySideCell(null)).toBe('not in this study');
    // A quantity that names another budget is stated in the cell.
    expect(sideBySideCell(standard.rows[0], true, quick.rows[1].quantity)).toBe('(held-out: L_min at C = 1.00e13 (parabola)) predicted 1.40, actual 1.41: **not resolved**');
    expect(sideBySideCell(quick.rows[1], true, quick.rows[1].quantity)).toBe('predicted 1.969, actual 1.83: **not resolved**');
    expect(sideBySideCell(standard.rows[1], true)).toBe('0.51 [0.47, 0.55], bootstrap 0.991: **resolved**');
  });

  it('markdown: one column per study, pipes in cells escaped', () => {
    const md = sideBySideMarkdown([quick, { ...standard, rows: [row('x', 'a | b', 'v')] }]).split('\n');
    expect(md[0]).toBe('| quantity | paper | hunyuan-small quick | hunyuan-small standard |');
    expect(md).toHaveLength(2 + 4);
    expect(md[5]).toBe('| a \\| b | paper x | not in this study | v: **not resolved** (why) |');
  });
});

describe('moelab compare', () => {
  const root = mkdtempSync(join(tmpdir(), 'moelab-compare-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const study = (name: string, body: unknown) => {
    mkdirSync(join(root, name, 'fits'), { recursive: true });
    writeFileSync(join(root, name, 'fits', 'paper-comparison.json'), JSON.stringify(body));
    return join(root, name);
  };
  const moelab = (...args: string[]) => spawnSync(process.execPath, [join(PROJECT_ROOT, 'bin', 'moelab.js'), ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

  it('prints the joined table and writes it with --out; --json gives the joined rows', () => {
    const a = study('q', { kind: 'paper-comparison', ...quick });
    const b = study('s', { kind: 'paper-comparison', ...standard });
    const out = join(root, 'table.md');
    const r = moelab('compare', a, b, '--out', out);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${sideBySideMarkdown([quick, standard])}\n`);
    expect(readFileSync(out, 'utf8')).toBe(r.stdout);
    expect(moelab('compare', a, b, '--brief').stdout).toBe(`${sideBySideMarkdown([quick, standard], true)}\n`);
    const j = moelab('compare', a, b, '--json');
    expect(j.status).toBe(0);
    const parsed = JSON.parse(j.stdout) as { studies: unknown; rows: { key: string }[] };
    expect(parsed.studies).toEqual([{ study: 'hunyuan-small', preset: 'quick' }, { study: 'hunyuan-small', preset: 'standard' }]);
    expect(parsed.rows.map((x) => x.key)).toEqual(joinComparisons([quick, standard]).map((x) => x.key));
  });

  it('a folder without the table, or a table written before rows had keys: one error naming the file and the fix', () => {
    const none = join(root, 'empty');
    mkdirSync(none, { recursive: true });
    const r = moelab('compare', none);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/DIR: no .*paper-comparison\.json .*`moelab reproduce`/);
    const old = study('old', { kind: 'paper-comparison', study: 'x', preset: 'quick', rows: [{ quantity: 'q' }] });
    const o = moelab('compare', old);
    expect(o.status).toBe(1);
    expect(o.stderr).toMatch(/paper-comparison\.json: row 1 has no key .* Run `moelab reproduce` on that study again/);
    expect(o.stderr.trim().split('\n')).toHaveLength(1);
  });
});
