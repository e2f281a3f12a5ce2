// Slurm job arrays: the script (pure), the script run by bash as a Slurm task would run it, and
// the whole path through a private single-node Slurm cluster (test/helpers/slurm-cluster.ts).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readJsonl } from '../../src/io/atomic.ts';
import { runPaths, sweepPaths } from '../../src/io/results.ts';
import { arraySpec, buildSbatchScript, checkSlurmOption, jobName, submitSlurmSweep, type SlurmSubmission } from '../../src/sweep/slurm.ts';
import { inspectSweep, type FailureRecord } from '../../src/sweep/state.ts';
import { slurmUnavailable, startSlurmCluster, type SlurmCluster } from '../helpers/slurm-cluster.ts';
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
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('sbatch script (pure)', () => {
  it('compresses indices into Slurm array syntax', () => {
    expect(arraySpec([0, 1, 2, 3, 5, 7, 8, 9])).toBe('0-3,5,7-9');
    expect(arraySpec([4])).toBe('4');
    expect(arraySpec([3, 1, 2, 2])).toBe('1-3');
  });

  it('accepts Slurm-shaped option values and rejects shell metacharacters', () => {
    expect(checkSlurmOption('--gres', 'gpu:a100:1')).toBe('gpu:a100:1');
    expect(checkSlurmOption('--time', '1-02:00:00')).toBe('1-02:00:00');
    for (const bad of ['gpu:1; rm -rf /', 'a b', '$(id)', "x'y", 'a\nb']) {
      expect(() => checkSlurmOption('--partition', bad)).toThrow(/--partition: contains characters Slurm options do not use/);
    }
  });

  it('writes one array index per plan entry, quoted words, and a sanitized job name', () => {
    const { dir, plan } = sweep();
    const script = buildSbatchScript({
      plan,
      sweepDir: dir,
      indices: [0, 2, 3],
      options: { partition: 'gpu', gres: 'gpu:1', time: '02:00:00', cpusPerTask: 2 },
    });
    const lines = script.split('\n');
    expect(lines).toContain('#SBATCH --array=0,2-3');
    expect(lines).toContain('#SBATCH --output=slurm/%A_%a.out');
    expect(lines).toContain('#SBATCH --partition=gpu');
    expect(lines).toContain('#SBATCH --gres=gpu:1');
    expect(lines).toContain('#SBATCH --time=02:00:00');
    expect(lines).toContain('#SBATCH --cpus-per-task=2');
    expect(lines).toContain(`#SBATCH --job-name=${jobName(NAME)}`);
    expect(jobName(NAME)).toBe('moelab-it_s_a__test___echo_pwned');
    // Nothing from the sweep name appears outside single quotes in a line bash executes.
    const train = lines.find((l) => l.includes(' train --plan '))!;
    expect(train).toContain(`--plan '${dir.replace(/'/g, `'\\''`)}/plan.json' --index "$SLURM_ARRAY_TASK_ID"`);
    expect(execFileSync('bash', ['-n'], { input: script }).toString()).toBe('');
  });

  it('bash runs the script as a Slurm task would: the run trains; a crash leaves a valid failed.json', () => {
    const { dir, plan } = sweep({ lrs: [1e-3, 2e-3] });
    const script = buildSbatchScript({ plan, sweepDir: dir, indices: [0, 1], command: fakeCommand });
    const file = join(mkdtempSync(join(tmpdir(), 'moelab-sbatch-')), 'task.sh');
    dirs.push(dirname(file));
    writeFileSync(file, script);
    const run = (index: number, extra: Record<string, string> = {}) =>
      spawnSync('bash', [file], { env: { ...process.env, SLURM_ARRAY_TASK_ID: String(index), SLURM_ARRAY_JOB_ID: '42', ...extra } });
    expect(run(0).status).toBe(0);
    expect(existsSync(runPaths(sweepPaths(dir).run(plan.runs[0].runId)).summary)).toBe(true);
    const crashed = run(1, { FAKE_CRASH: 'lr2e-3:2:always' });
    expect(crashed.status).toBe(3);
    const record = JSON.parse(readFileSync(runPaths(sweepPaths(dir).run(plan.runs[1].runId)).failed, 'utf8')) as FailureRecord;
    expect(record).toMatchObject({ runId: plan.runs[1].runId, index: 1, executor: 'slurm', exitCode: 3, jobId: '42' });
    expect(inspectSweep(dir).rows.map((r) => r.state)).toEqual(['done', 'failed']);
    // The `echo pwned` inside the sweep name never ran as a command.
    for (const out of [run(0), crashed]) expect(`${out.stdout}${out.stderr}`).not.toMatch(/^pwned$/m);
  });
});

const unavailable = slurmUnavailable();

describe('through a private Slurm cluster', () => {
  let cluster: SlurmCluster | undefined;
  beforeAll(async () => {
    if (!unavailable) cluster = await startSlurmCluster();
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  const waitUntil = async (what: () => boolean, ms = 60_000) => {
    const deadline = Date.now() + ms;
    while (!what()) {
      if (Date.now() > deadline) throw new Error(`timed out; cluster logs:\n${cluster?.logs()}`);
      await sleep(250);
    }
  };

  it.skipIf(unavailable)(
    `runs a sweep named ${JSON.stringify(NAME)} as a job array; reruns submit only unfinished indices${unavailable ? ` — SKIPPED: ${unavailable}` : ''}`,
    async () => {
      const c = cluster!;
      const { dir, plan } = sweep({ lrs: [1e-3, 2e-3, 3e-3, 4e-3] });
      // One run crashes on its first (and only, Slurm never retries) attempt.
      const first = submitSlurmSweep(dir, { env: { ...c.env, FAKE_CRASH: 'lr3e-3:2:once', FAKE_STEP_MS: '30' }, command: fakeCommand });
      expect(first.indices).toEqual([0, 1, 2, 3]);
      expect(first.jobId).toMatch(/^\d+$/);

      // While the array runs, a second submission finds everything queued, running or finished.
      const again = submitSlurmSweep(dir, { env: c.env, command: fakeCommand });
      expect(again.indices).toEqual([]);
      expect(again.queued.length + again.running.length + again.finished.length).toBe(4);

      await waitUntil(() => {
        const s = inspectSweep(dir).counts;
        return s.done + s.failed === 4 && s.running === 0;
      });
      const status = inspectSweep(dir);
      expect(status.counts).toMatchObject({ done: 3, failed: 1 });
      expect(status.rows[2]).toMatchObject({ state: 'failed', detail: 'exit code 3 (slurm, 1 attempt(s))' });

      // Rerun: only the failed index goes out, and it resumes and finishes.
      const retry = submitSlurmSweep(dir, { env: { ...c.env, FAKE_STEP_MS: '30' }, command: fakeCommand });
      expect(retry.indices).toEqual([2]);
      expect(retry.finished).toEqual([0, 1, 3]);
      await waitUntil(() => inspectSweep(dir).counts.done === 4);
      expect([...completions(dir).values()].every((n) => n === 1)).toBe(true);
      expect(readSessions(dir).filter((s) => s.runId === plan.runs[2].runId && s.event === 'start').map((s) => s.from)).toEqual([0, 0]);
      const jobs = readJsonl<SlurmSubmission>(join(sweepPaths(dir).slurm, 'jobs.jsonl'));
      expect(jobs.map((j) => j.indices)).toEqual([[0, 1, 2, 3], [2]]);
      // Task logs landed in slurm/ relative to the sweep folder.
      expect(existsSync(join(sweepPaths(dir).slurm, `${first.jobId}_0.out`))).toBe(true);
      // The `echo pwned` inside the sweep name never ran as a command in any task.
      for (const f of readdirSync(sweepPaths(dir).slurm).filter((n) => n.endsWith('.out'))) {
        expect(readFileSync(join(sweepPaths(dir).slurm, f), 'utf8')).not.toMatch(/^pwned$/m);
      }
    },
    120_000,
  );

  it.skipIf(unavailable)(
    `moelab sweep --executor slurm trains a smoke sweep named ${JSON.stringify(NAME)} with the real trainer${unavailable ? ` — SKIPPED: ${unavailable}` : ''}`,
    async () => {
      const c = cluster!;
      const root = resolve(import.meta.dirname, '../..');
      const work = mkdtempSync(join(tmpdir(), 'moelab-slurm-cli-'));
      dirs.push(work);
      const { default: smoke } = await import('../../experiments/smoke.ts');
      const file = join(work, 'sweep.json');
      writeFileSync(file, JSON.stringify({ ...smoke, name: NAME, budgets: [1e9] }));
      const out = join(work, NAME);
      const moelab = (...args: string[]) =>
        spawnSync(process.execPath, [join(root, 'bin/moelab.js'), ...args], { cwd: root, env: c.env, encoding: 'utf8' });

      const dry = moelab('sweep', file, '--out', out, '--executor', 'slurm', '--dry-run', '--time', '00:10:00');
      expect(dry.status).toBe(0);
      expect(dry.stdout).toMatch(/^#SBATCH --array=0-1$/m);
      expect(dry.stdout).toMatch(/^#SBATCH --time=00:10:00$/m);
      expect(existsSync(out)).toBe(false);

      const sub = moelab('sweep', file, '--out', out, '--executor', 'slurm', '--partition', c.partition);
      expect(sub.stderr).toBe('');
      expect(sub.status).toBe(0);
      expect(sub.stdout).toMatch(/submitted job \d+: 2 array task\(s\)/);
      await waitUntil(() => inspectSweep(out).counts.done === 2, 90_000);
      const status = moelab('status', out);
      expect(status.stdout).toMatch(/2 runs: 2 done, 0 running, 0 failed, 0 diverged, 0 pending/);
      expect(status.stdout).toMatch(/slurm: 0 task\(s\) queued or running/);
      const again = moelab('sweep', file, '--out', out, '--executor', 'slurm');
      expect(again.stdout).toMatch(/nothing to submit \(2 finished/);
      for (const f of readdirSync(sweepPaths(out).slurm).filter((n) => n.endsWith('.out'))) {
        expect(readFileSync(join(sweepPaths(out).slurm, f), 'utf8')).not.toMatch(/^pwned$/m);
      }
    },
    120_000,
  );
});
