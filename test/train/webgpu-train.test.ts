// Training runs (src/train/loop.ts trainRun and `moelab train`) on the webgpu backend, on whatever
// Vulkan driver the machine has (Mesa's lavapipe in CI, from `scripts/setup.sh --gpu`): a tiny run
// equals the same run on the cpu backend step by step (loss and gradient norm within 1e-5
// relative, routing statistics equal), a step reads the device once, an interrupted run and a
// `kill -9`ed CLI run resume to the uninterrupted run's numbers (exactly on a deterministic device;
// see the note above the resume tests). Skips, with the reason in the test
// name, only when no Vulkan adapter can be had at all (as test/engine/webgpu.test.ts does).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { RunConfigSchema, type UserRunConfig } from '../../src/config/schema.ts';
import { isBackendInstalled } from '../../src/engine/backend.ts';
import { assertDeviceHealthy, startWebGpu, stopWebGpu, webgpuAdapter } from '../../src/engine/webgpu.ts';
import { readJsonl } from '../../src/io/atomic.ts';
import type { MetricRow, RunConfigRecord, RunSummary } from '../../src/io/results.ts';
import type { Impl } from '../../src/model/mlp.ts';
import { createMoeLm } from '../../src/model/transformer.ts';
import { trainRun, type TrainRunOptions } from '../../src/train/loop.ts';

let unavailable: string | undefined;
if (!isBackendInstalled('webgpu')) {
  unavailable = 'the optional packages @tensorflow/tfjs-backend-webgpu / webgpu are not installed (npm install)';
} else {
  try {
    await startWebGpu({ allowSoftware: true });
  } catch (err) {
    unavailable = (err as Error).message;
  }
}
if (unavailable) process.stderr.write(`test/train/webgpu-train.test.ts SKIPPED: ${unavailable}\n`);
const headline = unavailable ? `training on webgpu (SKIPPED: ${unavailable})` : 'training on webgpu';

const root = mkdtempSync(join(tmpdir(), 'moelab-webgpu-train-'));
afterAll(() => {
  stopWebGpu();
  rmSync(root, { recursive: true, force: true });
});

const STEPS = 10;
/** 10 steps of 4 × 16 tokens; an evaluation every 4 steps, a checkpoint every 3, a row every step. */
const USER: UserRunConfig = {
  name: 'gpu-tiny',
  seed: 5,
  model: {
    vocabSize: 256, seqLen: 16, dModel: 32, numLayers: 2, numHeads: 4, numKvHeads: 2, dFf: 48,
    numExperts: 4, numSharedExperts: 1, topK: 1, capacityFactor: 1, overflowPolicy: 'drop', claShareFactor: 2, qkNorm: true,
  },
  data: { valTokens: 4096, valWindows: 32 },
  train: {
    tokens: STEPS * 4 * 16,
    batchSize: 4,
    lr: 3e-3,
    schedule: { kind: 'cosine', warmupSteps: 2 },
    evalEvery: 4,
    evalBatches: 2,
    checkpointEvery: 3,
    logEvery: 1,
  },
};
const config = (patch: (u: UserRunConfig) => void = () => {}) => {
  const u = structuredClone(USER);
  patch(u);
  return RunConfigSchema.parse(u);
};
const read = <T>(path: string) => JSON.parse(readFileSync(path, 'utf8')) as T;
/** Metric rows without the timing fields, which legitimately differ between sessions. */
const rowsOf = (dir: string) => readJsonl<MetricRow>(join(dir, 'metrics.jsonl')).map(({ wallSeconds, tokensPerSec, evalSeconds, ...r }) => r);
type Row = ReturnType<typeof rowsOf>[number];
const canonicalRows = (dir: string) => JSON.stringify(rowsOf(dir));

/** trainRun on a backend; `impl` forces the model's implementation (default: the backend's). */
async function train(backend: 'webgpu' | 'cpu', dir: string, cfg = config(), impl?: Impl, extra: Partial<TrainRunOptions> = {}) {
  await tf.setBackend(backend);
  const result = await trainRun(cfg, dir, {
    createModel: (m, seed) => createMoeLm(m, seed, impl ? { impl } : {}),
    checkDevice: assertDeviceHealthy,
    ...extra,
  });
  assertDeviceHealthy();
  return result;
}

const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

/** Per-step training loss and gradient norm within `tol` relative, evaluations too; routing statistics equal. */
function expectSameRows(gpu: Row[], cpu: Row[], tol: number): void {
  expect(gpu.map((r) => r.step)).toEqual(cpu.map((r) => r.step));
  gpu.forEach((g, i) => {
    const c = cpu[i];
    expect(rel(g.trainLoss, c.trainLoss), `step ${g.step} loss ${g.trainLoss} vs ${c.trainLoss}`).toBeLessThan(tol);
    expect(rel(g.gradNorm, c.gradNorm), `step ${g.step} grad norm ${g.gradNorm} vs ${c.gradNorm}`).toBeLessThan(tol);
    expect(g.valLoss === undefined).toBe(c.valLoss === undefined);
    if (c.valLoss !== undefined) expect(rel(g.valLoss!, c.valLoss), `step ${g.step} val loss`).toBeLessThan(tol);
    expect(g.expertUsage, `step ${g.step} expert usage`).toEqual(c.expertUsage);
    expect(g.droppedTokenFraction).toBe(c.droppedTokenFraction);
    expect(g.recycledTokenFraction).toBe(c.recycledTokenFraction);
  });
}

describe.skipIf(unavailable !== undefined)(headline, () => {
  const gpuDir = join(root, 'gpu');
  // Device reads per completed step: trainRun's onStep sees the count after each step.
  const readsPerStep: number[] = [];

  it('top-1 drop: a run on webgpu (device path) = the same run on cpu (host kernels), step by step; one device read per plain step', async () => {
    const backend = tf.findBackend('webgpu') as unknown as { read: (id: object) => Promise<unknown> };
    const original = backend.read;
    let reads = 0;
    backend.read = function (this: unknown, id: object) {
      reads++;
      return original.call(this, id);
    };
    let before = 0;
    try {
      const gpu = await train('webgpu', gpuDir, config(), undefined, {
        onStep: () => {
          readsPerStep.push(reads - before);
          before = reads;
        },
      });
      expect(gpu.status).toBe('done');
    } finally {
      backend.read = original;
    }
    const cpuDir = join(root, 'cpu');
    expect((await train('cpu', cpuDir)).status).toBe('done');
    expectSameRows(rowsOf(gpuDir), rowsOf(cpuDir), 1e-5);
    const [g, c] = [read<RunSummary>(join(gpuDir, 'summary.json')), read<RunSummary>(join(cpuDir, 'summary.json'))];
    expect(rel(g.finalValLoss, c.finalValLoss)).toBeLessThan(1e-5);
    expect(read<RunConfigRecord>(join(gpuDir, 'config.json')).backend).toBe('webgpu');
    expect(read<{ step: number }>(join(gpuDir, 'checkpoint', 'latest.json')).step).toBe(STEPS);
    // Steps without an evaluation (every 4) or a checkpoint (every 3) read once: loss, aux losses,
    // gradient norm and routing statistics together. Steps 1, 2, 5, 7, 10 (the last evaluates and checkpoints).
    expect(readsPerStep.length).toBe(STEPS);
    expect([1, 2, 5, 7].map((s) => readsPerStep[s - 1])).toEqual([1, 1, 1, 1]);
    // An evaluation step adds one read per forward pass (here one), a checkpoint step the weights and moments.
    expect(readsPerStep[4 - 1]).toBe(2);
    expect(readsPerStep[3 - 1]).toBeGreaterThan(1);
  }, 60_000);

  it('top-1 recycle: webgpu = cpu on the same device path (the same random slot order), step by step', async () => {
    const cfg = config((u) => (u.model.overflowPolicy = 'recycle'));
    await train('webgpu', join(root, 'gpu-recycle'), cfg);
    await train('cpu', join(root, 'cpu-recycle'), cfg, 'device');
    const gpu = rowsOf(join(root, 'gpu-recycle'));
    expect(gpu.some((r) => r.recycledTokenFraction > 0)).toBe(true);
    expectSameRows(gpu, rowsOf(join(root, 'cpu-recycle')), 1e-5);
  }, 60_000);

  // What a resume guarantees on webgpu: the checkpoint restores weights, moments, step, data cursor
  // and RNG bit for bit, so the resumed run equals the uninterrupted one exactly when the device
  // computes the same step the same way twice. TF.js's WebGPU UnsortedSegmentSum (the gradient of
  // the device path's row gathers) and split-K matmul add floats with atomics in the order threads
  // arrive, which a GPU need not repeat; lavapipe did in every run here. So: a second uninterrupted
  // run tells whether this device is deterministic; if it is, the resumed rows must equal the
  // uninterrupted ones exactly, otherwise within 1e-5 relative (the spread between two plain runs).
  let deterministic = false;
  const expectResumedRows = (dir: string) => {
    if (deterministic) expect(rowsOf(dir)).toEqual(rowsOf(gpuDir));
    else expectSameRows(rowsOf(dir), rowsOf(gpuDir), 1e-5);
  };

  it('an interrupted webgpu run resumes from its checkpoint to the uninterrupted run\'s rows and losses (exactly where the device is deterministic: lavapipe is)', async () => {
    await train('webgpu', join(root, 'gpu-again'));
    deterministic = canonicalRows(join(root, 'gpu-again')) === canonicalRows(gpuDir);
    if (webgpuAdapter()!.software) expect(deterministic, 'lavapipe repeats a run bit for bit').toBe(true);
    const dir = join(root, 'gpu-interrupted');
    const ac = new AbortController();
    const first = await train('webgpu', dir, config(), undefined, { signal: ac.signal, onStep: (s) => s === 5 && ac.abort() });
    expect(first).toMatchObject({ status: 'interrupted', endStep: 5 });
    const second = await train('webgpu', dir);
    expect(second).toMatchObject({ status: 'done', startStep: 5, endStep: STEPS });
    expectResumedRows(dir);
    const reference = read<RunSummary>(join(gpuDir, 'summary.json'));
    if (deterministic) expect(second.summary!.finalValLoss).toBe(reference.finalValLoss);
    else expect(rel(second.summary!.finalValLoss, reference.finalValLoss)).toBeLessThan(1e-5);
  }, 60_000);

  it('`moelab train --backend webgpu` killed with kill -9 resumes, with the same command, to the uninterrupted run\'s final loss', async () => {
    const cfgPath = join(root, 'tiny.json');
    writeFileSync(cfgPath, JSON.stringify(USER));
    const dir = join(root, 'cli-killed');
    const bin = resolve(import.meta.dirname, '../../bin/moelab.js');
    const cli = () => spawn(process.execPath, [bin, 'train', '--config', cfgPath, '--out', dir, '--backend', 'webgpu', '--quiet'], { stdio: 'ignore' });
    const child = cli();
    // Kill it once a checkpoint before the last step is committed.
    const latest = join(dir, 'checkpoint', 'latest.json');
    const deadline = Date.now() + 30_000;
    while (!existsSync(latest)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the CLI did not write a checkpoint (exit ${child.exitCode})`);
      await new Promise((r) => setTimeout(r, 10));
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const killedAt = read<{ step: number }>(latest).step;
    expect(killedAt).toBeLessThan(STEPS);
    expect(existsSync(join(dir, 'summary.json'))).toBe(false);
    const again = cli();
    expect(await new Promise((r) => again.once('exit', r))).toBe(0);
    const resumed = read<RunSummary>(join(dir, 'summary.json'));
    const reference = read<RunSummary>(join(gpuDir, 'summary.json'));
    expect(resumed.status).toBe('done');
    expect(readFileSync(join(dir, 'train.log'), 'utf8')).toMatch(new RegExp(`resuming at step ${killedAt}/${STEPS}`));
    expectResumedRows(dir);
    if (deterministic) expect(resumed.finalValLoss).toBe(reference.finalValLoss);
    else expect(rel(resumed.finalValLoss, reference.finalValLoss)).toBeLessThan(1e-5);
  }, 60_000);
});
