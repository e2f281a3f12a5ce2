import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
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

  it('keeps only the committed step folder; a torn write is invisible', () => {
    const dir = join(mkdtempSync(join(root, 'case-')), 'checkpoint');
    const params = makeParams(1);
    const opt = createAdamW(params, ARGS);
    saveCheckpoint(dir, params, opt, state(10));
    saveCheckpoint(dir, params, opt, state(20));
    expect(readdirSync(dir).sort()).toEqual(['latest.json', 'step-000020']);
    // A writer killed mid-way leaves a temp folder (and maybe a step folder) but no new latest.json.
    mkdirSync(join(dir, 'step-000030.tmp-99999'));
    writeFileSync(join(dir, 'step-000030.tmp-99999', 'weights.bin'), 'torn');
    expect(readCheckpointState(dir)!.state.step).toBe(20);
    saveCheckpoint(dir, params, opt, state(40));
    expect(readdirSync(dir).sort()).toEqual(['latest.json', 'step-000040']);
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
