// End to end through the real CLI and the real trainer (`moelab train`): plan, sweep, Ctrl-C
// mid-way, rerun to completion without retraining finished runs, status, and a bad file.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readJson } from '../../src/io/atomic.ts';
import { runPaths, sweepPaths, type RunSummary } from '../../src/io/results.ts';
import type { RunPlan } from '../../src/sweep/plan.ts';
import { inspectSweep } from '../../src/sweep/state.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const MOELAB = join(ROOT, 'bin/moelab.js');
const tmp = mkdtempSync(join(tmpdir(), 'moelab-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const moelab = (...args: string[]) => spawnSync(process.execPath, [MOELAB, ...args], { cwd: ROOT, encoding: 'utf8' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const NAME = `it's a "test"; echo pwned`;

describe('moelab plan | sweep | status', () => {
  const out = join(tmp, NAME);
  // experiments/smoke.ts under a name full of shell metacharacters (a JSON sweep file).
  const file = join(tmp, 'smoke-renamed.json');

  it('plan lists every run of experiments/smoke.ts with its counts and writes plan.json', async () => {
    const r = moelab('plan', 'experiments/smoke.ts', '--out', join(tmp, 'smoke'), '--no-estimate');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    for (const id of ['smoke-30k-C1e9-s0', 'smoke-50k-C1e9-s0', 'smoke-30k-C3e9-s0', 'smoke-50k-C3e9-s0']) expect(r.stdout).toContain(id);
    expect(r.stdout).toMatch(/total: 4 runs/);
    const plan = readJson<RunPlan>(sweepPaths(join(tmp, 'smoke')).plan);
    expect(plan.runs).toHaveLength(4);
    expect(plan.runs[0].config.name).toBe(plan.runs[0].runId);

    const { default: smoke } = await import('../../experiments/smoke.ts');
    writeFileSync(file, JSON.stringify({ ...smoke, name: NAME }));
    const renamed = moelab('plan', file, '--out', out, '--no-estimate');
    expect(renamed.status).toBe(0);
    expect(renamed.stdout).toContain(`${NAME}-30k-C1e9-s0`);
  });

  it('Ctrl-C stops the sweep cleanly; rerunning finishes it without retraining finished runs', async () => {
    const child = spawn(process.execPath, [MOELAB, 'sweep', file, '--out', out, '--workers', '2'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    // Interrupt once one run has finished and another is mid-way: past step 0 (it has logged
    // metrics: on a loaded machine a worker can still be starting when the first run ends) and in
    // the first half of its steps (so it cannot finish between this check and the signal).
    while (!/^done /m.test(stderr) && child.exitCode === null) await sleep(100);
    const midway = () =>
      inspectSweep(out).plan.runs.some((run) => {
        const p = runPaths(sweepPaths(out).run(run.runId));
        if (existsSync(p.summary) || !existsSync(p.metrics)) return false;
        const rows = readFileSync(p.metrics, 'utf8').trim().split('\n').filter(Boolean);
        return rows.length > 0 && (JSON.parse(rows[rows.length - 1]) as { step: number }).step <= run.derived.steps / 2;
      });
    for (let i = 0; i < 600 && !midway() && child.exitCode === null; i++) await sleep(100);
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    expect(stderr).toMatch(/stopping: workers checkpoint and exit/);
    expect(code).toBe(130);
    const first = inspectSweep(out);
    const finished = first.rows.filter((r) => r.state === 'done').map((r) => r.runId);
    expect(finished.length).toBeGreaterThanOrEqual(1);
    expect(finished.length).toBeLessThan(4);
    const mtimes = new Map(finished.map((id) => [id, statSync(runPaths(sweepPaths(out).run(id)).summary).mtimeMs]));

    const again = moelab('sweep', file, '--out', out, '--workers', '2');
    expect(again.status).toBe(0);
    expect(again.stderr).toMatch(new RegExp(`sweep: 4/4 runs finished \\(${finished.length} before`));
    const status = inspectSweep(out);
    expect(status.counts).toMatchObject({ done: 4, failed: 0, pending: 0 });
    for (const [id, mtime] of mtimes) expect(statSync(runPaths(sweepPaths(out).run(id)).summary).mtimeMs).toBe(mtime);
    // Every run trained to its planned step count, and learned something.
    for (const run of status.plan.runs) {
      const summary = readJson<RunSummary>(runPaths(sweepPaths(out).run(run.runId)).summary);
      expect(summary.steps).toBe(run.derived.steps);
      expect(summary.finalValLoss).toBeLessThan(Math.log(256));
    }
    // The run(s) still training at Ctrl-C checkpointed on SIGTERM, and the rerun continued them.
    const stopped = [...stderr.matchAll(/^stop {3}(.*): interrupted/gm)].map((m) => m[1]);
    expect(stopped.length).toBeGreaterThanOrEqual(1);
    const resumed = stopped.filter((id) => /resuming at step [1-9]/.test(readFileSync(runPaths(sweepPaths(out).run(id)).log, 'utf8')));
    expect(resumed.length).toBeGreaterThanOrEqual(1);
  }, 120_000);

  it('status shows every run done', () => {
    const r = moelab('status', out);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/4 runs: 4 done, 0 running, 0 failed, 0 diverged, 0 pending/);
    // The `echo pwned` in the name was never run by anything the sweep started.
    for (const run of inspectSweep(out).plan.runs) {
      expect(readFileSync(runPaths(sweepPaths(out).run(run.runId)).workerLog, 'utf8')).not.toMatch(/^pwned$/m);
    }
  });

  it('a bad experiment file fails naming the field, the value and the fix, and writes nothing', () => {
    const bad = join(tmp, 'bad.json');
    writeFileSync(bad, JSON.stringify({ name: 'bad', kind: 'isoflop', budgets: [1e9], activatedParams: [3e4], family: { builder: 'hunyuan', sqeLen: 32 } }));
    const r = moelab('plan', bad, '--out', join(tmp, 'bad'), '--no-estimate');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/family\.sqeLen: unknown key \(got 32\)\. Remove it or check its spelling/);
    expect(existsSync(join(tmp, 'bad'))).toBe(false);
  });
});
