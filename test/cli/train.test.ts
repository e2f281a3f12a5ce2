// `moelab train` as a user and the sweep runner call it: bad configs (one clear error, nothing
// written), --set overrides, --plan/--index, "already done", lock contention (exit 75), and
// kill -9 + rerun with the real MoE model ending at the same loss as an uninterrupted run.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readJsonl } from '../../src/io/atomic.ts';
import type { MetricRow, RunConfigRecord, RunSummary } from '../../src/io/results.ts';
import { PROJECT_ROOT } from '../../src/util/provenance.ts';

const BIN = join(PROJECT_ROOT, 'bin', 'moelab.js');
const root = mkdtempSync(join(tmpdir(), 'moelab-cli-train-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const read = <T>(path: string) => JSON.parse(readFileSync(path, 'utf8')) as T;

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function startCli(args: string[]) {
  return spawn(process.execPath, [BIN, ...args], { cwd: root, env: { ...process.env, MOELAB_BACKEND: 'wasm', NO_COLOR: '1' } });
}

function runCli(args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = startCli(args);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A tiny 2-layer MoE (shared + specialized experts, top-1, recycle, CLA) that trains in seconds. */
const tinyMoe = (steps: number) => ({
  seed: 1,
  model: {
    vocabSize: 256,
    seqLen: 32,
    dModel: 32,
    numLayers: 2,
    numHeads: 2,
    dFf: 64,
    numExperts: 4,
    numSharedExperts: 1,
    topK: 1,
    capacityFactor: 1,
    overflowPolicy: 'recycle',
    claShareFactor: 2,
  },
  data: { valTokens: 8192 },
  train: {
    tokens: steps * 4 * 32,
    batchSize: 4,
    lr: 0.01,
    schedule: { kind: 'wsd', warmupSteps: 3, cooldownFraction: 0.3 },
    expertLr: { mode: 'surge', bNoise: 4096 },
    evalEvery: 20,
    evalBatches: 2,
    checkpointEvery: 5,
    logEvery: 5,
  },
});

function writeConfig(name: string, config: unknown): string {
  const path = join(root, `${name}.json`);
  writeFileSync(path, JSON.stringify(config, null, 2));
  return path;
}

describe('moelab train: bad input', () => {
  it('reports every config problem with field, value and fix, and writes nothing', async () => {
    const bad = tinyMoe(10) as Record<string, any>;
    bad.model = { ...bad.model, numHeads: 3, topK: 5, dropout: 0.1 };
    bad.train = { ...bad.train, batchSize: 'eight' };
    const out = join(root, 'bad-run');
    const r = await runCli(['train', '--config', writeConfig('bad', bad), '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bad\.json: 4 problems/);
    expect(r.stderr).toMatch(/model\.dropout: unknown key \(got 0\.1\)\. Remove it/);
    expect(r.stderr).toMatch(/model\.numHeads: numHeads \(3\) must divide dModel \(32\) \(got 3\)\. Choose numHeads among the divisors of 32/);
    expect(r.stderr).toMatch(/model\.topK: topK \(5\) exceeds numExperts \(4\) \(got 5\)\. Use topK <= 4/);
    expect(r.stderr).toMatch(/train\.batchSize: .* \(got "eight"\)\. Give a number/);
    expect(existsSync(out)).toBe(false);
  });

  it('validates --set overrides with the same schema', async () => {
    const out = join(root, 'bad-set');
    const r = await runCli(['train', '--config', writeConfig('ok', tinyMoe(10)), '--out', out, '--set', 'train.lr=-1', '--set', 'train.evalEvry=5']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/train\.lr: .*\(got -1\)/);
    expect(r.stderr).toMatch(/train\.evalEvry: unknown key/);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses a corpus too small for the budget before writing anything', async () => {
    const out = join(root, 'too-big');
    const r = await runCli(['train', '--config', join(root, 'ok.json'), '--out', out, '--set', 'train.tokens=99000000']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/train\.tokens: the run needs .* Use train\.tokens <= \d+, a larger corpus, or data\.repeat: true/);
    expect(existsSync(out)).toBe(false);
  });
});

describe('moelab train: rerunning a finished run', () => {
  it('refuses a changed config naming the fields and values, writes nothing; --force-rerun trains it again; --json reports', async () => {
    const cfg = writeConfig('rerun', tinyMoe(10));
    const out = join(root, 'run3');
    const first = await runCli(['train', '--config', cfg, '--out', out, '--quiet', '--json']);
    expect(first.code).toBe(0);
    const outcome = JSON.parse(first.stdout) as { status: string; runId: string; summary: RunSummary };
    expect(outcome.status).toBe('done');
    expect(outcome.runId).toBe('run3');
    expect(outcome.summary.steps).toBe(10);
    const summaryBefore = readFileSync(join(out, 'summary.json'), 'utf8');

    // `moelab status` on the single run folder.
    const status = await runCli(['status', out]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^run "run3": done, step 10\/10, final val loss \d\.\d{4}\n$/);
    const statusJson = await runCli(['status', out, '--json']);
    expect(JSON.parse(statusJson.stdout).run).toMatchObject({ runId: 'run3', state: 'done', step: 10, steps: 10 });

    const same = await runCli(['train', '--config', cfg, '--out', out, '--quiet']);
    expect(same.code).toBe(0);
    expect(same.stdout).toMatch(/already done \(done\)/);

    const changed = await runCli(['train', '--config', cfg, '--out', out, '--set', 'train.lr=1e-2', '--set', 'seed=7', '--quiet']);
    expect(changed.code).toBe(1);
    expect(changed.stderr).toMatch(/ResumeMismatchError: .*run3 holds a finished run \(done\) trained with a different config: /);
    expect(changed.stderr).toMatch(/seed \(1 → 7\)/);
    expect(changed.stderr).not.toMatch(/train\.lr/); // 1e-2 is the value it was trained with
    expect(changed.stderr).toMatch(/--out NEW_DIR\), or add --force-rerun/);
    expect(readFileSync(join(out, 'summary.json'), 'utf8')).toBe(summaryBefore);

    const lr = await runCli(['train', '--config', cfg, '--out', out, '--set', 'train.lr=3e-2', '--quiet']);
    expect(lr.code).toBe(1);
    expect(lr.stderr).toMatch(/train\.lr \(0\.01 → 0\.03\)/);

    const forced = await runCli(['train', '--config', cfg, '--out', out, '--set', 'train.lr=3e-2', '--quiet', '--force-rerun']);
    expect(forced.code).toBe(0);
    expect(forced.stderr).toMatch(/--force-rerun: deleted the finished run in .*run3 \(config differed: train\.lr \(0\.01 → 0\.03\)\)/);
    expect(read<RunConfigRecord>(join(out, 'config.json')).config.train.lr).toBe(0.03);
    expect(read<RunSummary>(join(out, 'summary.json')).status).toBe('done');
  });
});

describe('moelab train --plan', () => {
  const plan = {
    name: 'cli-test',
    runs: [
      { runId: 'a-s0', index: 0, config: tinyMoe(10), budgetFlops: 1e12, tags: { study: 'isoflop', budgetFlops: 1e12, size: 1000, seed: 0 } },
      { runId: "b it's \"quoted\"", index: 1, config: { ...tinyMoe(20), seed: 2 }, budgetFlops: 2e12, tags: { study: 'isoflop', budgetFlops: 2e12, size: 1000, seed: 2 } },
    ],
  };
  const planDir = join(root, 'sweep');
  mkdirSync(planDir, { recursive: true });
  const planPath = join(planDir, 'plan.json');
  writeFileSync(planPath, JSON.stringify(plan));

  it('trains runs[I] into <plan dir>/runs/<runId>/ with budgetFlops and run tags, then says "already done"', async () => {
    const r = await runCli(['train', '--plan', planPath, '--index', '1', '--quiet']);
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.code).toBe(0);
    const dir = join(planDir, 'runs', plan.runs[1].runId);
    const record = read<RunConfigRecord>(join(dir, 'config.json'));
    expect(record.runId).toBe(plan.runs[1].runId);
    expect(record.config.name).toBe(plan.runs[1].runId);
    expect(record.budgetFlops).toBe(2e12);
    expect(record.tags).toEqual({ study: 'isoflop', budgetFlops: 2e12, size: 1000, seed: 2 });
    // The real model trains: loss falls, routing stats are recorded, the surge rule lowers the expert LR.
    const rows = readJsonl<MetricRow>(join(dir, 'metrics.jsonl'));
    expect(rows.at(-1)!.trainLoss).toBeLessThan(rows[0].trainLoss);
    expect(rows[1].expertUsage).toHaveLength(4);
    expect(rows[1].expertLearningRate / rows[1].learningRate).toBeCloseTo((2 * (1 + 128 / 4096)) / (4 + 128 / 4096), 9);
    expect(read<RunSummary>(join(dir, 'summary.json')).status).toBe('done');
    expect(existsSync(join(planDir, 'runs', 'a-s0'))).toBe(false);

    const again = await runCli(['train', '--plan', planPath, '--index', '1']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/already done \(done\)/);
  });

  it('puts the run under --sweep-dir and rejects an index outside the plan', async () => {
    const other = join(root, 'elsewhere');
    const r = await runCli(['train', '--plan', planPath, '--index', '0', '--sweep-dir', other, '--quiet']);
    expect(r.code).toBe(0);
    expect(existsSync(join(other, 'runs', 'a-s0', 'summary.json'))).toBe(true);
    const bad = await runCli(['train', '--plan', planPath, '--index', '2']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--index: the plan has 2 runs \(got 2\)\. Use an index from 0 to 1/);
  });

  it('exits 75 when another live process holds the run lock', async () => {
    const dir = join(planDir, 'runs', 'a-s0');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, '.lock'), JSON.stringify({ pid: process.pid, host: hostname() }));
    const r = await runCli(['train', '--plan', planPath, '--index', '0']);
    expect(r.code).toBe(75);
    expect(r.stderr).toMatch(new RegExp(`run is locked by pid ${process.pid}`));
    expect(existsSync(join(dir, 'config.json'))).toBe(false);
  });
});

describe('moelab train: kill -9, then the same command again', () => {
  it('continues from the last checkpoint and ends with the same loss as an uninterrupted run', async () => {
    const cfg = writeConfig('resume', tinyMoe(30));
    const killed = join(root, 'killed');
    const child = startCli(['train', '--config', cfg, '--out', killed, '--quiet']);
    const latest = join(killed, 'checkpoint', 'latest.json');
    const deadline = Date.now() + 90_000;
    while (!(existsSync(latest) && read<{ step: number }>(latest).step >= 10)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`child did not reach step 10 (exit ${child.exitCode})`);
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(existsSync(join(killed, 'summary.json'))).toBe(false);

    const resumed = await runCli(['train', '--config', cfg, '--out', killed]);
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toMatch(/resuming at step (1\d|2[0-5])\/30/);
    const reference = await runCli(['train', '--config', cfg, '--out', join(root, 'reference'), '--quiet']);
    expect(reference.code).toBe(0);
    const a = read<RunSummary>(join(killed, 'summary.json'));
    const b = read<RunSummary>(join(root, 'reference', 'summary.json'));
    expect(a.steps).toBe(30);
    expect(a.finalTrainLoss).toBeCloseTo(b.finalTrainLoss, 5);
    expect(a.finalValLoss).toBeCloseTo(b.finalValLoss, 5);
  }, 240_000);
});
