// The local runner against a fake trainer (fixtures/fake-train.ts) that honours the real
// trainer's contract — skip on summary.json, per-run lock with exit 75, checkpoint/resume,
// SIGTERM → checkpoint and exit, divergence in summary.json — but "trains" by sleeping, so
// these tests exercise the pool, resume/skip logic, locks and signals in seconds.
// test/sweep/cli.test.ts repeats the essentials with the real `moelab train`.
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readJsonIfExists } from '../../src/io/atomic.ts';
import { runPaths, sweepPaths } from '../../src/io/results.ts';
import { runSweep, startSweep, type RunnerEvent } from '../../src/sweep/runner.ts';
import { inspectSweep, readRunLock, type FailureRecord } from '../../src/sweep/state.ts';
import { completions, fakeCommand, makeTinySweep, readSessions } from '../helpers/sweep.ts';

const NAME = `it's a "test"; echo pwned`;
const dirs: string[] = [];
function sweep(options: Parameters<typeof makeTinySweep>[0] = {}) {
  const made = makeTinySweep({ name: NAME, ...options });
  dirs.push(dirname(made.dir));
  return made;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const env = (extra: Record<string, string> = {}) => ({ ...process.env, ...extra });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('local runner', () => {
  it('trains every run once; a rerun skips them all', async () => {
    const { dir, plan } = sweep();
    const first = await runSweep({ sweepDir: dir, workers: 2, command: fakeCommand, pollMs: 100 });
    expect(first.done.sort()).toEqual(plan.runs.map((r) => r.runId).sort());
    expect(first.failed).toEqual([]);
    expect([...completions(dir).values()]).toEqual([1, 1, 1, 1]);
    const status = inspectSweep(dir);
    expect(status.counts).toEqual({ done: 4, diverged: 0, running: 0, failed: 0, pending: 0, corrupt: 0 });

    const second = await runSweep({ sweepDir: dir, workers: 2, command: fakeCommand, pollMs: 100 });
    expect(second.alreadyFinished).toHaveLength(4);
    expect(second.done).toEqual([]);
    expect(readSessions(dir).filter((s) => s.event === 'start')).toHaveLength(4);
  });

  it('records diverged runs as results, not failures', async () => {
    const { dir } = sweep();
    const out = await runSweep({ sweepDir: dir, workers: 2, command: fakeCommand, pollMs: 100, env: env({ FAKE_DIVERGE_LR: '3e-3' }) });
    expect(out.diverged.sort()).toEqual([`${NAME}-8.27k-D160-lr3e-3-bs1-s0`, `${NAME}-8.27k-D160-lr4e-3-bs1-s0`]);
    expect(out.done).toHaveLength(2);
    expect(out.failed).toEqual([]);
    const status = inspectSweep(dir);
    expect(status.counts.diverged).toBe(2);
    expect(status.rows.find((r) => r.state === 'diverged')?.detail).toMatch(/simulated/);
  });

  it('restarts a crashed worker, which resumes from its checkpoint', async () => {
    const { dir } = sweep();
    const events: RunnerEvent[] = [];
    const out = await runSweep({
      sweepDir: dir,
      workers: 2,
      command: fakeCommand,
      pollMs: 100,
      env: env({ FAKE_CRASH: 'lr2e-3:7:once', FAKE_CKPT_EVERY: '5' }),
      onEvent: (e) => events.push(e),
    });
    expect(out.done).toHaveLength(4);
    const retry = events.find((e) => e.type === 'retry');
    expect(retry).toMatchObject({ type: 'retry', attempt: 2, reason: 'exit code 3' });
    const starts = readSessions(dir).filter((s) => s.event === 'start' && s.runId.includes('lr2e-3'));
    expect(starts.map((s) => s.from)).toEqual([0, 5]);
  });

  it('records a run that keeps crashing as failed, and a later sweep retries it', async () => {
    const { dir } = sweep();
    const out = await runSweep({
      sweepDir: dir,
      workers: 2,
      command: fakeCommand,
      pollMs: 100,
      retries: 1,
      env: env({ FAKE_CRASH: 'lr1e-3:3:always' }),
    });
    const id = `${NAME}-8.27k-D160-lr1e-3-bs1-s0`;
    expect(out.failed).toEqual([id]);
    const failed = readJsonIfExists<FailureRecord>(runPaths(sweepPaths(dir).run(id)).failed);
    expect(failed).toMatchObject({ runId: id, executor: 'local', exitCode: 3, attempts: 2 });
    expect(failed?.logTail).toMatch(/simulated crash at step 3/);
    const status = inspectSweep(dir);
    expect(status.counts).toMatchObject({ done: 3, failed: 1 });
    expect(status.rows[0]).toMatchObject({ state: 'failed', detail: 'exit code 3 (local, 2 attempt(s))', resumable: false });

    const again = await runSweep({ sweepDir: dir, workers: 2, command: fakeCommand, pollMs: 100 });
    expect(again.done).toEqual([id]);
    expect(existsSync(runPaths(sweepPaths(dir).run(id)).failed)).toBe(false);
    expect(inspectSweep(dir).counts.done).toBe(4);
  });

  it('two sweeps on one folder never train the same run twice', async () => {
    const { dir, plan } = sweep({ lrs: [1e-3, 2e-3, 3e-3, 4e-3, 5e-3, 6e-3] });
    const [a, b] = await Promise.all([
      runSweep({ sweepDir: dir, workers: 2, command: fakeCommand, pollMs: 100 }),
      runSweep({ sweepDir: dir, workers: 2, command: fakeCommand, pollMs: 100 }),
    ]);
    const ends = completions(dir);
    expect([...ends.keys()].sort()).toEqual(plan.runs.map((r) => r.runId).sort());
    expect([...ends.values()].every((n) => n === 1)).toBe(true);
    // Each sweep saw every run finish (by itself or by the other).
    for (const o of [a, b]) {
      expect(o.done.length + o.alreadyFinished.length).toBe(6);
      expect(o.failed).toEqual([]);
      expect(o.unfinished).toEqual([]);
    }
  });

  it('stop() sends SIGTERM: workers checkpoint and exit; the next sweep resumes them', async () => {
    const { dir } = sweep({ steps: 60 });
    const slow = env({ FAKE_STEP_MS: '40' });
    const ctl = startSweep({ sweepDir: dir, workers: 2, command: fakeCommand, pollMs: 100, env: slow });
    await sleep(2500);
    ctl.stop();
    const out = await ctl.done;
    expect(out.interrupted).toBe(true);
    expect(out.unfinished.length).toBeGreaterThanOrEqual(2);
    const terms = readSessions(dir).filter((s) => s.event === 'term');
    expect(terms.length).toBeGreaterThanOrEqual(1);
    for (const row of inspectSweep(dir).rows) expect(row.state === 'done' || row.state === 'pending').toBe(true);

    const rest = await runSweep({ sweepDir: dir, workers: 2, command: fakeCommand, pollMs: 100 });
    expect(rest.interrupted).toBe(false);
    expect(inspectSweep(dir).counts.done).toBe(4);
    // The interrupted runs went on from where they stopped, not from 0.
    for (const t of terms) {
      const resumed = readSessions(dir).filter((s) => s.event === 'start' && s.runId === t.runId);
      expect(resumed[resumed.length - 1].from).toBe(t.to);
    }
    expect([...completions(dir).values()].every((n) => n === 1)).toBe(true);
  });

  it('kill -9 of a worker: the runner restarts the run from its checkpoint', async () => {
    const { dir } = sweep({ lrs: [1e-3, 2e-3], steps: 40 });
    let killed = false;
    const out = await runSweep({
      sweepDir: dir,
      workers: 2,
      command: fakeCommand,
      pollMs: 100,
      env: env({ FAKE_STEP_MS: '40', FAKE_CKPT_EVERY: '5' }),
      onEvent: (e) => {
        if (e.type === 'tick' && !killed) {
          const victim = e.progress.active.find((a) => (a.step ?? 0) >= 12);
          if (victim?.pid) {
            killed = true;
            process.kill(-victim.pid, 'SIGKILL');
          }
        }
      },
    });
    expect(killed).toBe(true);
    expect(out.done).toHaveLength(2);
    const resumed = readSessions(dir).filter((s) => s.event === 'start' && (s.from ?? 0) > 0);
    expect(resumed).toHaveLength(1);
    expect(resumed[0].from! % 5).toBe(0);
  });

  it('kill -9 of the runner process: its workers finish their runs and the next sweep completes the rest', async () => {
    const { dir, plan } = sweep({ lrs: [1e-3, 2e-3, 3e-3, 4e-3, 5e-3], steps: 40 });
    const parentScript = resolve(import.meta.dirname, 'fixtures/sweep-parent.ts');
    const parent = spawn(process.execPath, ['--import', 'tsx', parentScript, dir, '2'], {
      env: env({ FAKE_STEP_MS: '40' }),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let started = 0;
    await new Promise<void>((resolveStarted) => {
      parent.stdout.on('data', (chunk: Buffer) => {
        started += chunk.toString().split('\n').filter((l) => l.includes('"start"')).length;
        if (started >= 2) resolveStarted();
      });
    });
    // Kill the runner once two workers hold their locks and are training (session rows).
    while (readSessions(dir).filter((r) => r.event === 'start').length < 2) await sleep(50);
    parent.kill('SIGKILL');
    await new Promise((r) => parent.once('exit', r));

    // The orphaned workers still hold their runs; a new sweep waits for them and does the rest.
    const held = plan.runs.filter((r) => readRunLock(runPaths(sweepPaths(dir).run(r.runId)).lock)?.alive);
    const events: RunnerEvent[] = [];
    const out = await runSweep({ sweepDir: dir, workers: 2, command: fakeCommand, pollMs: 100, onEvent: (e) => events.push(e) });
    expect(out.failed).toEqual([]);
    expect(out.unfinished).toEqual([]);
    expect(inspectSweep(dir).counts.done).toBe(5);
    expect([...completions(dir).values()].every((n) => n === 1)).toBe(true);
    expect(held.length).toBeGreaterThan(0);
    expect(events.filter((e) => e.type === 'held').map((e) => ('run' in e ? e.run.runId : ''))).toEqual(
      expect.arrayContaining(held.map((r) => r.runId)),
    );
  });
});

describe('failure records', () => {
  it('a worker command that cannot start is a failure with the reason', async () => {
    const { dir } = sweep({ lrs: [1e-3] });
    const events: RunnerEvent[] = [];
    const out = await runSweep({
      sweepDir: dir,
      workers: 1,
      retries: 0,
      command: () => [join(dir, 'no-such-binary')],
      pollMs: 100,
      onEvent: (e) => events.push(e),
    });
    expect(out.failed).toHaveLength(1);
    const failed = events.find((e) => e.type === 'failed');
    expect(failed && 'reason' in failed ? failed.reason : '').toMatch(/could not start: .*ENOENT/);
  });
});
