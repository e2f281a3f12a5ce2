// `moelab report` as a user runs it: the files it writes for a sweep folder, the standard fits it
// runs when fits/ lacks them (written to fits/), and clear errors (exit 1, flag and fix named).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/util/provenance.ts';
import { writeSyntheticSweep } from '../report/synthetic-sweep.ts';

const BIN = join(PROJECT_ROOT, 'bin', 'moelab.js');
const root = mkdtempSync(join(tmpdir(), 'moelab-cli-report-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: root, env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('moelab report', () => {
  it('writes the HTML, report.md, figure JSON, CSV tables, and the fit records fits/ lacked into fits/', async () => {
    const info = writeSyntheticSweep(join(root, 'iso sweep'), { studies: ['isoflop'], name: 'iso' });
    const out = join(root, 'out', 'page.html');
    const res = await runCli(['report', info.dir, '--out', out, '--bootstrap', '30', '--target-flops', '1e15']);
    expect(res.stderr).toMatch(/ran the fits fits\/ lacked: compute, isoflop, parametric \(.* s\), wrote them to fits\//);
    expect(res.code).toBe(0);
    expect(res.stdout.trim().split('\n')).toEqual([out, join(root, 'out', 'report.md')]);
    const dir = join(root, 'out');
    for (const f of ['figures/isoflop.json', 'figures/scaling-n-opt.json', 'figures/loss-vs-flops.json', 'tables/runs.csv', 'tables/fit-params.csv']) {
      expect(existsSync(join(dir, f)), f).toBe(true);
    }
    for (const f of ['compute.json', 'isoflop.json', 'parametric.json']) expect(existsSync(join(info.dir, 'fits', f)), f).toBe(true);
    expect(existsSync(join(dir, 'fits'))).toBe(false);
    const md = readFileSync(join(dir, 'report.md'), 'utf8');
    expect(md).toMatch(/^# moelab report: iso$/m);
    expect(md).toContain('**extrapolated to C = 1e15**');
    const html = readFileSync(out, 'utf8');
    expect(html.length).toBeGreaterThan(4_000_000); // Plotly inlined
    expect(html).not.toMatch(/<script[^>]+src=/);
    const spec = JSON.parse(readFileSync(join(dir, 'figures/isoflop.json'), 'utf8')) as { id: string; data: unknown[] };
    expect(spec.id).toBe('isoflop');
    expect(spec.data).toHaveLength(9);
  }, 120_000);

  it('names the folder and the fix when DIR is not a sweep folder', async () => {
    const res = await runCli(['report', join(root, 'nope')]);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/ConfigError: dir: not a directory \(got ".*nope"\)\. Give a sweep folder \(results\/<sweep name>, with runs\/\)/);
  }, 60_000);

  it('rejects bad flag values naming the flag, the value and the fix', async () => {
    const info = writeSyntheticSweep(join(root, 'small'), { studies: ['xss'] });
    const bad = await runCli(['report', info.dir, '--bootstrap', 'many']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--bootstrap: not a valid value (got "many"). Give a whole number ≥ 0, e.g. 1000.');
    const law = await runCli(['report', info.dir, '--schedule-law', 'cosine']);
    expect(law.code).toBe(1);
    expect(law.stderr).toContain('--schedule-law: not an allowed value (got "cosine"). Use one of: tissue, multipower.');
    const edges = await runCli(['report', info.dir, '--edges', 'keep']);
    expect(edges.code).toBe(1);
    expect(edges.stderr).toContain('--edges: not an allowed value (got "keep"). Use one of: refuse, drop.');
  }, 60_000);
});
