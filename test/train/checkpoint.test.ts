import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { CorruptFileError } from '../../src/errors.ts';
import type { NamedParam } from '../../src/model/types.ts';
import { loadCheckpoint, readCheckpointState, saveCheckpoint, type CheckpointState } from '../../src/train/checkpoint.ts';
import { emptyInterval } from '../../src/train/metrics.ts';
import { createAdamW } from '../../src/train/optimizer.ts';

const root = mkdtempSync(join(tmpdir(), 'moelab-ckpt-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const ARGS = { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, gradClip: 1 };

function makeParams(seed: number, extra = false): NamedParam[] {
  const params: NamedParam[] = [
    { name: 'a', group: 'embedding', variable: tf.variable(tf.randomNormal([3, 4], 0, 1, 'float32', seed)), decay: true },
    { name: 'b', group: 'norm', variable: tf.variable(tf.randomNormal([5], 0, 1, 'float32', seed + 1)), decay: false },
  ];
  if (extra) params.push({ name: 'c', group: 'router', variable: tf.variable(tf.zeros([2])), decay: true });
  return params;
}

function state(step: number): CheckpointState {
  return {
    step,
    tokens: step * 64,
    dataCursor: { step, epoch: 0 },
    rngState: 12345 + step,
    firstLoss: 5.5,
    bestValLoss: 3.2,
    lastValLoss: 3.3,
    wallSeconds: 1.5,
    interval: { ...emptyInterval(), steps: 2, trainLoss: 7, expertUsage: [0.5, 1.5] },
  };
}

describe('checkpoint', () => {
  it('round-trips weights, AdamW state and loop state exactly', () => {
    const dir = join(mkdtempSync(join(root, 'case-')), 'checkpoint');
    const src = makeParams(1);
    const opt = createAdamW(src, ARGS);
    const grads = src.map((p) => tf.randomNormal(p.variable.shape, 0, 1, 'float32', 9));
    opt.applyGradients(grads, () => 0.01);
    saveCheckpoint(dir, src, opt, state(10));

    const dst = makeParams(2);
    const opt2 = createAdamW(dst, ARGS);
    const loaded = loadCheckpoint(dir, dst, opt2)!;
    expect(loaded.state).toEqual(state(10));
    dst.forEach((p, i) => expect(Array.from(p.variable.dataSync())).toEqual(Array.from(src[i].variable.dataSync())));
    expect(opt2.getState()).toEqual(opt.getState());
    for (const t of grads) t.dispose();
  });

  it('keeps the committed step folder and the previous one; a torn write is invisible', () => {
    const dir = join(mkdtempSync(join(root, 'case-')), 'checkpoint');
    const params = makeParams(1);
    const opt = createAdamW(params, ARGS);
    saveCheckpoint(dir, params, opt, state(10));
    saveCheckpoint(dir, params, opt, state(20));
    expect(readdirSync(dir).sort()).toEqual(['latest.json', 'step-000010', 'step-000020']);
    // A writer killed mid-way leaves a temp folder (and maybe a step folder) but no new latest.json.
    mkdirSync(join(dir, 'step-000030.tmp-99999'));
    writeFileSync(join(dir, 'step-000030.tmp-99999', 'weights.bin'), 'torn');
    expect(readCheckpointState(dir)!.state.step).toBe(20);
    saveCheckpoint(dir, params, opt, state(40));
    expect(readdirSync(dir).sort()).toEqual(['latest.json', 'step-000020', 'step-000040']);
  });

  it('returns undefined without a checkpoint, and refuses a different model', () => {
    const dir = join(mkdtempSync(join(root, 'case-')), 'checkpoint');
    const params = makeParams(1);
    const opt = createAdamW(params, ARGS);
    expect(loadCheckpoint(dir, params, opt)).toBeUndefined();
    expect(existsSync(dir)).toBe(false);
    saveCheckpoint(dir, params, opt, state(5));
    const other = makeParams(1, true);
    expect(() => loadCheckpoint(dir, other, createAdamW(other, ARGS))).toThrow(/holds parameters a\[3,4\] b\[5\].*but the model has a\[3,4\] b\[5\] c\[2\].*new output folder/);
  });
});

describe('checkpoint checksums', () => {
  function saved(): { dir: string; params: NamedParam[] } {
    const dir = join(mkdtempSync(join(root, 'sum-')), 'checkpoint');
    const params = makeParams(1);
    const opt = createAdamW(params, ARGS);
    saveCheckpoint(dir, params, opt, state(10));
    saveCheckpoint(dir, params, opt, state(20));
    return { dir, params };
  }
  const corrupt = (path: string, edit: (b: Buffer) => void) => {
    const b = readFileSync(path);
    edit(b);
    writeFileSync(path, b);
  };
  const resume = (dir: string) => {
    const params = makeParams(3);
    return loadCheckpoint(dir, params, createAdamW(params, ARGS));
  };

  it('records the size and sha256 of every file in the manifest', () => {
    const { dir } = saved();
    const file = JSON.parse(readFileSync(join(dir, 'step-000020', 'state.json'), 'utf8'));
    expect(file.format).toBe(2);
    expect(file.files['weights.bin'].bytes).toBe(17 * 4);
    expect(file.files['optimizer.bin'].bytes).toBe(2 * 17 * 4);
    expect(file.files['weights.bin'].sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.parse(readFileSync(join(dir, 'latest.json'), 'utf8')).stateSha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses flipped bytes in weights.bin (size unchanged), naming the file and the previous checkpoint', () => {
    const { dir } = saved();
    const path = join(dir, 'step-000020', 'weights.bin');
    corrupt(path, (b) => {
      for (let i = 0; i < b.length; i += 7) b[i] ^= 0xff;
    });
    expect(() => resume(dir)).toThrow(CorruptFileError);
    expect(() => resume(dir)).toThrow(/weights\.bin: does not match the sha256 recorded in its manifest.*previous checkpoint \(step-000010\)/s);
  });

  it('refuses one NaN written into the weights, a changed optimizer.bin, a truncated file and an edited state.json', () => {
    let { dir } = saved();
    corrupt(join(dir, 'step-000020', 'weights.bin'), (b) => b.writeFloatLE(NaN, 8));
    expect(() => resume(dir)).toThrow(/step-000020\/weights\.bin: does not match/);
    ({ dir } = saved());
    corrupt(join(dir, 'step-000020', 'optimizer.bin'), (b) => b.writeFloatLE(1e-3, 0));
    expect(() => resume(dir)).toThrow(/optimizer\.bin: does not match/);
    ({ dir } = saved());
    writeFileSync(join(dir, 'step-000020', 'optimizer.bin'), readFileSync(join(dir, 'step-000020', 'optimizer.bin')).subarray(0, 20));
    expect(() => resume(dir)).toThrow(/optimizer\.bin: has 20 bytes but its manifest \(state\.json\) records 136/);
    ({ dir } = saved());
    const statePath = join(dir, 'step-000020', 'state.json');
    writeFileSync(statePath, readFileSync(statePath, 'utf8').replace('"rngState": 12365', '"rngState": 12366'));
    expect(() => resume(dir)).toThrow(/state\.json: does not match the sha256 recorded in .*latest\.json/);
  });

  it('resumes from the previous checkpoint once the damaged one and latest.json are deleted, as the message says', () => {
    const { dir } = saved();
    corrupt(join(dir, 'step-000020', 'weights.bin'), (b) => (b[0] ^= 1));
    expect(() => resume(dir)).toThrow(CorruptFileError);
    rmSync(join(dir, 'step-000020'), { recursive: true });
    rmSync(join(dir, 'latest.json'));
    expect(resume(dir)!.state.step).toBe(10);
  });

  it('names a truncated latest.json', () => {
    const { dir } = saved();
    writeFileSync(join(dir, 'latest.json'), '{"dir": "step-0');
    expect(() => resume(dir)).toThrow(/latest\.json: not valid JSON at line 1, column \d+.*Delete .*latest\.json/);
  });
});
