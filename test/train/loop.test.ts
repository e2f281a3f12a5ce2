// The training loop end to end on the default corpus with a tiny real TF.js model (the bigram MoE
// test double in helpers/): run folder contents, skip, divergence, resume equivalence (in-process
// abort and a real `kill -9` of a child process), config mismatch, data budget, lock.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunConfigSchema, type UserRunConfig } from '../../src/config/schema.ts';
import { initEngine } from '../../src/engine/backend.ts';
import { readJsonl } from '../../src/io/atomic.ts';
import type { MetricRow, RunConfigRecord, RunSummary } from '../../src/io/results.ts';
import { RunLockedError } from '../../src/train/lock.ts';
import { configDifferences, divergenceReason, trainRun, type TrainRunOptions } from '../../src/train/loop.ts';
import { createBigramMoe } from './helpers/bigram-moe.ts';

const STEPS = 60;
const USER: UserRunConfig = {
  name: 'bigram',
  seed: 3,
  model: { vocabSize: 256, seqLen: 32, dModel: 16, numLayers: 1, numHeads: 1, dFf: 32, numExperts: 2, numSharedExperts: 1 },
  data: { valTokens: 4096 },
  train: {
    tokens: 32 * 8 * STEPS + 100, // not a multiple of a step: the budget rounds down to 60 steps
    batchSize: 8,
    lr: 0.03,
    schedule: { kind: 'cosine', warmupSteps: 5 },
    expertLr: { mode: 'multiplier', multiplier: 0.5 },
    evalEvery: 20,
    evalBatches: 2,
    checkpointEvery: 10,
    logEvery: 5,
  },
};
const config = (patch: (u: UserRunConfig) => void = () => {}) => {
  const u = structuredClone(USER);
  patch(u);
  return RunConfigSchema.parse(u);
};
const OPTS: TrainRunOptions = { createModel: createBigramMoe };
const root = mkdtempSync(join(tmpdir(), 'moelab-loop-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const read = <T>(path: string) => JSON.parse(readFileSync(path, 'utf8')) as T;
/** Metric rows without the timing fields, which legitimately differ between sessions. */
const rowsOf = (dir: string) => readJsonl<MetricRow>(join(dir, 'metrics.jsonl')).map(({ wallSeconds, tokensPerSec, evalSeconds, ...r }) => r);

beforeAll(async () => {
  await initEngine({ backend: 'wasm', log: () => {} });
});

describe('trainRun', () => {
  const dir = join(root, 'full');
  let result: Awaited<ReturnType<typeof trainRun>>;
  const tensorCounts: number[] = [];

  beforeAll(async () => {
    result = await trainRun(config(), dir, { ...OPTS, onStep: () => tensorCounts.push(tf.memory().numTensors) });
  });

  it('trains: validation loss ends well below the unigram entropy of the corpus', () => {
    expect(result.status).toBe('done');
    const record = read<RunConfigRecord>(join(dir, 'config.json'));
    const summary = read<RunSummary>(join(dir, 'summary.json'));
    expect(summary.status).toBe('done');
    expect(summary.steps).toBe(STEPS);
    expect(summary.finalValLoss).toBeLessThan(record.dataset!.unigramEntropy - 0.15);
    expect(summary.bestValLoss).toBeLessThanOrEqual(summary.finalValLoss);
  });

  it('writes config.json with derived counts, dataset and provenance, and tokenizer.json', () => {
    const record = read<RunConfigRecord>(join(dir, 'config.json'));
    expect(record.runId).toBe('bigram');
    expect(record.backend).toBe('wasm');
    expect(record.derived).toMatchObject({ steps: STEPS, tokensPerStep: 256, tokens: STEPS * 256 });
    expect(record.derived.computeFlops).toBe(record.derived.flopsPerToken * STEPS * 256);
    expect(record.dataset!.corpus).toBe('default');
    expect(record.dataset!.unigramEntropy).toBeGreaterThan(2.5);
    expect(record.provenance.moelabVersion).toMatch(/\d+\.\d+\.\d+/);
    expect(record.config.train.lr).toBe(0.03);
    expect(read(join(dir, 'tokenizer.json'))).toEqual({ kind: 'byte', vocabSize: 256 });
  });

  it('logs metric rows every logEvery steps with validation on eval steps', () => {
    const rows = readJsonl<MetricRow>(join(dir, 'metrics.jsonl'));
    expect(rows.map((r) => r.step)).toEqual([1, ...Array.from({ length: 12 }, (_, i) => 5 * (i + 1))]);
    expect(rows.filter((r) => r.valLoss !== undefined).map((r) => r.step)).toEqual([20, 40, 60]);
    const r = rows[4]; // step 20
    expect(r.tokens).toBe(20 * 256);
    expect(r.expertLearningRate).toBeCloseTo(0.5 * r.learningRate, 12);
    expect(r.expertUsage!.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
    expect(r.gradNorm).toBeGreaterThan(0);
    expect(rows[0].learningRate).toBeCloseTo(0.03 / 5, 12); // warmup step 0
    expect(rows.at(-1)!.learningRate).toBeCloseTo(0.003, 12); // cosine floor 0.1 on the last step
    expect(rows.at(-1)!.trainLoss).toBeLessThan(rows[0].trainLoss - 1);
  });

  it('keeps the tensor count flat from step to step', () => {
    expect(tensorCounts.length).toBe(STEPS);
    expect(new Set(tensorCounts.slice(1)).size).toBe(1);
  });

  it('skips a finished run without touching it', async () => {
    const before = readFileSync(join(dir, 'summary.json'), 'utf8');
    const again = await trainRun(config(), dir, OPTS);
    expect(again.status).toBe('skipped');
    expect(readFileSync(join(dir, 'summary.json'), 'utf8')).toBe(before);
  });

  it('resumes after an in-process interruption and ends exactly like the uninterrupted run', async () => {
    const resumed = join(root, 'abort');
    const ac = new AbortController();
    const first = await trainRun(config(), resumed, { ...OPTS, signal: ac.signal, onStep: (s) => s === 27 && ac.abort() });
    expect(first).toMatchObject({ status: 'interrupted', endStep: 27 });
    expect(existsSync(join(resumed, 'summary.json'))).toBe(false);
    const second = await trainRun(config(), resumed, OPTS);
    expect(second).toMatchObject({ status: 'done', startStep: 27, endStep: STEPS });
    expect(second.summary!.finalTrainLoss).toBe(result.summary!.finalTrainLoss);
    expect(second.summary!.finalValLoss).toBe(result.summary!.finalValLoss);
    expect(rowsOf(resumed)).toEqual(rowsOf(dir));
  });

  it('refuses to resume with a config that changes training, naming the fields', async () => {
    const changed = join(root, 'mismatch');
    const ac = new AbortController();
    await trainRun(config(), changed, { ...OPTS, signal: ac.signal, onStep: (s) => s === 3 && ac.abort() });
    await expect(trainRun(config((u) => (u.train.lr = 0.02)), changed, OPTS)).rejects.toThrow(
      /different config \(train\.lr differ\).*new output folder/,
    );
    // Cadence fields may change.
    const ac2 = new AbortController();
    const ok = await trainRun(config((u) => (u.train.logEvery = 7)), changed, { ...OPTS, signal: ac2.signal, onStep: (s) => s === 6 && ac2.abort() });
    expect(ok).toMatchObject({ status: 'interrupted', startStep: 3, endStep: 6 });
  });
});

describe('resume after kill -9', () => {
  it('a killed child process resumes to the same final loss as an uninterrupted run', async () => {
    const cfg = config((u) => (u.seed = 11));
    const cfgPath = join(root, 'kill-config.json');
    writeFileSync(cfgPath, JSON.stringify({ ...USER, seed: 11 }));
    const killed = join(root, 'killed');
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'train-child.ts'), cfgPath, killed], {
      stdio: 'ignore',
    });
    // Wait until the child has committed a checkpoint past step 20, then kill it hard.
    const latest = join(killed, 'checkpoint', 'latest.json');
    const deadline = Date.now() + 60_000;
    while (!(existsSync(latest) && read<{ step: number }>(latest).step >= 20)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`child did not reach step 20 (exit ${child.exitCode})`);
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(existsSync(join(killed, 'summary.json'))).toBe(false);
    const killedAt = read<{ step: number }>(latest).step;
    expect(killedAt).toBeLessThan(STEPS);
    // The stale lock of the dead child is taken over; the run continues from its checkpoint.
    const resumed = await trainRun(cfg, killed, OPTS);
    expect(resumed.startStep).toBe(killedAt);
    const reference = await trainRun(cfg, join(root, 'kill-reference'), OPTS);
    expect(resumed.summary!.finalTrainLoss).toBeCloseTo(reference.summary!.finalTrainLoss, 6);
    expect(resumed.summary!.finalValLoss).toBeCloseTo(reference.summary!.finalValLoss, 6);
    expect(rowsOf(killed).map((r) => r.step)).toEqual(rowsOf(join(root, 'kill-reference')).map((r) => r.step));
  }, 240_000);
});

describe('divergence', () => {
  it('ends a run whose loss explodes with status "diverged" in summary.json', async () => {
    const dir = join(root, 'diverged');
    const cfg = config((u) => {
      u.train.lr = 200;
      u.train.optimizer = { gradClip: 0, weightDecay: 0 };
      u.train.schedule = { kind: 'constant' };
    });
    const r = await trainRun(cfg, dir, OPTS);
    expect(r.status).toBe('diverged');
    const summary = read<RunSummary>(join(dir, 'summary.json'));
    expect(summary.status).toBe('diverged');
    expect(summary.reason).toMatch(/training loss (is NaN|.* exceeds divergenceFactor 3)/);
    expect(summary.steps).toBeLessThan(STEPS);
    // No final evaluation: null in the file (never the string "nan"), NaN once read back.
    expect(summary.finalValLoss).toBeNull();
    expect(readFileSync(join(dir, 'summary.json'), 'utf8')).not.toMatch(/"nan"|"inf"/);
    const again = await trainRun(cfg, dir, OPTS);
    expect(again.status).toBe('skipped');
    expect(again.summary!.finalValLoss).toBeNaN();
  });

  it('divergenceReason: NaN/Inf, or above factor × first loss', () => {
    expect(divergenceReason(NaN, 5, 3)).toMatch(/NaN/);
    expect(divergenceReason(Infinity, 5, 3)).toMatch(/Infinity/);
    expect(divergenceReason(15.1, 5, 3)).toMatch(/exceeds divergenceFactor 3/);
    expect(divergenceReason(14.9, 5, 3)).toBeUndefined();
  });
});

describe('refusals that write nothing', () => {
  it('a budget beyond the corpus (without data.repeat) names train.tokens and the fix', async () => {
    const dir = join(root, 'too-big');
    const cfg = config((u) => (u.train.tokens = 40_000_000));
    await expect(trainRun(cfg, dir, OPTS)).rejects.toThrow(/train\.tokens: the run needs .* windows .*data\.repeat: true/);
    expect(existsSync(dir)).toBe(false);
  });

  it('a model the backend cannot build (recycle top-2 on the device path) is refused before config.json', async () => {
    const dir = join(root, 'device-recycle');
    const { createMoeLm } = await import('../../src/model/transformer.ts');
    const cfg = config((u) => Object.assign(u.model, { numExperts: 4, topK: 2, capacityFactor: 1, overflowPolicy: 'recycle' }));
    await expect(trainRun(cfg, dir, { createModel: (m, seed) => createMoeLm(m, seed, { impl: 'device' }) })).rejects.toThrow(
      /model\.overflowPolicy: recycle routing with topK 2 > 1 has no device implementation/,
    );
    expect(existsSync(join(dir, 'config.json'))).toBe(false);
    expect(existsSync(join(dir, 'metrics.jsonl'))).toBe(false);
  });

  it('a run locked by a live process throws RunLockedError', async () => {
    const dir = join(root, 'locked');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir);
    writeFileSync(join(dir, '.lock'), JSON.stringify({ pid: process.pid, host: hostname() }));
    await expect(trainRun(config(), dir, OPTS)).rejects.toThrow(RunLockedError);
    expect(existsSync(join(dir, 'config.json'))).toBe(false);
  });

  it('refuses to resume when the corpus changed since the run started', async () => {
    const dir = join(root, 'corpus-changed');
    const corpus = join(root, 'corpus.txt');
    writeFileSync(corpus, 'The quick brown fox jumps over the lazy dog. '.repeat(2000));
    const cfg = config((u) => (u.data = { corpus, valTokens: 4096 }));
    const ac = new AbortController();
    await trainRun(cfg, dir, { ...OPTS, signal: ac.signal, onStep: (s) => s === 2 && ac.abort() });
    writeFileSync(corpus, 'A different text entirely, so other batches. '.repeat(2000));
    await expect(trainRun(cfg, dir, OPTS)).rejects.toThrow(/corpus .*corpus\.txt changed since this run started .*batches would differ/);
  });

  it('configDifferences lists changed training fields and ignores cadence fields', () => {
    expect(configDifferences(config(), config((u) => (u.train.logEvery = 1)))).toEqual([]);
    expect(configDifferences(config(), config((u) => (u.model.dModel = 32)))).toEqual(['model.dModel']);
    expect(configDifferences(config(), config((u) => (u.train.schedule = { kind: 'constant' })))).toEqual(['train.schedule']);
  });
});
