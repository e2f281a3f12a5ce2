// `--json` on every moelab command: each command's --json prints exactly one JSON object
// on stdout (progress and notes stay on stderr), with null, never "nan"/"inf" strings, for non-finite
// numbers. The command list comes from the real definitions (`moelab completion bash --json`), so
// a new command without --json fails here. Commands whose --json is parsed in their own test files:
// env (test/engine/backend.test.ts), inspect (test/cli/inspect.test.ts), train (test/cli/train.test.ts),
// plan (test/cli/conventions.test.ts), fit (test/analysis/agree.test.ts), bench (test/engine/bench.test.ts).
// The rest are parsed here: sweep, status, dashboard, report, reproduce, completion.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/util/provenance.ts';
import { writeSyntheticSweep } from '../report/synthetic-sweep.ts';

const BIN = join(PROJECT_ROOT, 'bin', 'moelab.js');
const SMOKE = join(PROJECT_ROOT, 'experiments', 'smoke.ts');
const root = mkdtempSync(join(tmpdir(), 'moelab-json-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const env = { ...process.env, NO_COLOR: '1', MOELAB_BACKEND: 'wasm', MOELAB_PROGRESS: '1' };
delete (env as Record<string, string | undefined>).MOELAB_RESULTS;

function moelab(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: root, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** stdout is one JSON value and nothing else; no non-finite number was written as a string. */
function parseOnly(stdout: string): Record<string, unknown> {
  expect(stdout).not.toMatch(/"(nan|inf|-inf|NaN|Infinity)"/);
  const value = JSON.parse(stdout) as unknown;
  expect(typeof value).toBe('object');
  return value as Record<string, unknown>;
}

describe('--json on every command', () => {
  it('every command, as the command line defines it, has a --json option', async () => {
    const r = await moelab(['completion', 'bash', '--json']);
    expect(r.code).toBe(0);
    const spec = parseOnly(r.stdout) as unknown as { commands: { name: string; options: { flag: string }[] }[] };
    const names = spec.commands.map((c) => c.name);
    for (const name of ['env', 'inspect', 'train', 'plan', 'sweep', 'status', 'dashboard', 'fit', 'report', 'reproduce', 'compare', 'bench', 'completion']) expect(names).toContain(name);
    const without = spec.commands.filter((c) => !c.options.some((o) => o.flag === '--json')).map((c) => c.name);
    expect(without).toEqual([]);
  });

  it('sweep --json prints the outcome; status --json the runs; both after the progress on stderr', async () => {
    const out = join(root, 'smoke');
    const r = await moelab(['sweep', SMOKE, '--set', 'budgets=[1e9]', '--set', 'activatedParams=[3e4]', '--out', out, '--workers', '1', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const outcome = parseOnly(r.stdout);
    expect(outcome.sweepDir).toBe(out);
    expect(outcome.total).toBe(1);
    expect(outcome.done).toHaveLength(1);
    expect(outcome.failed).toEqual([]);
    const status = await moelab(['status', out, '--json']);
    expect(status.code).toBe(0);
    const s = parseOnly(status.stdout);
    expect(JSON.stringify(s)).toMatch(/"done"/);
    // One run folder (what `moelab train --config F --out DIR` makes): status and report take it too.
    const runDir = join(out, 'runs', (outcome.done as string[])[0]);
    const one = await moelab(['status', runDir, '--json']);
    expect(one.code, one.stderr).toBe(0);
    expect(parseOnly(one.stdout).run).toMatchObject({ state: 'done' });
    const report = await moelab(['report', runDir, '--json', '--no-fits']);
    expect(report.code, report.stderr).toBe(0);
    const rj = parseOnly(report.stdout);
    expect(rj.htmlPath).toBe(join(runDir, 'report', 'index.html'));
    expect(existsSync(String(rj.htmlPath))).toBe(true);
  }, 300_000);

  it('sweep --executor slurm --dry-run --json prints the script that would be submitted', async () => {
    const r = await moelab(['sweep', SMOKE, '--executor', 'slurm', '--dry-run', '--out', join(root, 'slurm'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = parseOnly(r.stdout);
    expect(j.dryRun).toBe(true);
    expect(j.indices).toEqual([0, 1, 2, 3]);
    expect(String(j.script)).toMatch(/#SBATCH --array=/);
  }, 60_000);

  it('report --json prints the paths, files, fits run and seconds; a diverged run does not put "nan" in it', async () => {
    const info = writeSyntheticSweep(join(root, 'synthetic'), { studies: ['isoflop', 'lr-batch'], name: 'iso' });
    expect(info.divergedRunIds.length).toBeGreaterThan(0);
    const r = await moelab(['report', info.dir, '--json', '--bootstrap', '0']);
    expect(r.code, r.stderr).toBe(0);
    const j = parseOnly(r.stdout);
    expect(j.htmlPath).toBe(join(info.dir, 'report', 'index.html'));
    expect(existsSync(String(j.htmlPath))).toBe(true);
    expect(existsSync(String(j.markdownPath))).toBe(true);
    expect(j.fitsComputed).toEqual(expect.arrayContaining(['isoflop']));
    expect((j.files as string[]).some((f) => f.endsWith('runs.csv'))).toBe(true);
    expect((j.seconds as { total: number }).total).toBeGreaterThan(0);
    expect(r.stderr).toMatch(/\[report\] done in/);
    // Again: the fit records just written (null for non-finite numbers) are read back and reused.
    const again = await moelab(['report', info.dir, '--json', '--bootstrap', '0']);
    expect(again.code, again.stderr).toBe(0);
    expect(parseOnly(again.stdout).fitsComputed).toEqual([]);
  }, 240_000);

  it('reproduce --dry-run --json prints every stage and planned run', async () => {
    const r = await moelab(['reproduce', join(PROJECT_ROOT, 'experiments', 'hunyuan-small.ts'), '--dry-run', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = parseOnly(r.stdout) as { dryRun: boolean; stages: { runs: number }[]; runs: unknown[]; totals: { runs: number } };
    expect(j.dryRun).toBe(true);
    expect(j.runs.length).toBeGreaterThan(10);
    expect(j.totals.runs).toBe(j.runs.length);
  }, 120_000);

  it('dashboard --json prints {"url"} once listening, and the page answers', async () => {
    const dir = join(root, 'dash');
    expect((await moelab(['plan', SMOKE, '--no-estimate', '--out', dir])).code).toBe(0);
    const child = spawn(process.execPath, [BIN, 'dashboard', dir, '--port', '0', '--json'], { cwd: root, env });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let buf = '';
        child.stdout.on('data', (d) => {
          buf += d;
          if (buf.includes('\n')) resolve(buf.split('\n')[0]);
        });
        child.on('exit', (code) => reject(new Error(`dashboard exited ${code}`)));
      });
      const j = parseOnly(line) as { url: string };
      expect(j.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      expect((await fetch(j.url)).status).toBe(200);
    } finally {
      child.kill('SIGINT');
    }
  }, 60_000);

  it('reproduce --json: the outcome object and exit codes (pure)', async () => {
    const { reproduceJson } = await import('../../src/cli/reproduce.ts');
    const base = { sweepDir: '/s', warnings: ['w'], seconds: 3 };
    expect(reproduceJson({ ...base, status: 'done', reportPath: '/s/report/index.html' })).toEqual({
      dryRun: false,
      status: 'done',
      sweepDir: '/s',
      reportPath: '/s/report/index.html',
      warnings: ['w'],
      seconds: 3,
      exitCode: 0,
    });
    expect(reproduceJson({ ...base, status: 'interrupted' })).toMatchObject({ reportPath: null, exitCode: 130 });
    expect(reproduceJson({ ...base, status: 'failed-runs' }).exitCode).toBe(1);
    expect(reproduceJson({ ...base, status: 'submitted' }).exitCode).toBe(0);
  });
});
