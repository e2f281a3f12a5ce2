// Shared helpers for the tensor tests of test/model (not a test file itself).
import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import { initEngine } from '../../src/engine/backend.ts';
import { createRng } from '../../src/util/rng.ts';

/** The wasm backend, quietly (the backend every model test targets). */
export async function useWasm(): Promise<void> {
  await initEngine({ backend: 'wasm', log: () => {} });
}

/** A seeded standard-normal tensor (× scale). */
export function randn(shape: number[], seed: number, scale = 1): tf.Tensor {
  const rng = createRng(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: size }, () => rng.normal() * scale), shape);
}

/** max |a − b| / (max |b| + tiny) over all elements. */
export function relMaxDiff(a: tf.Tensor, b: tf.Tensor): number {
  expect(a.shape).toEqual(b.shape);
  const x = a.dataSync();
  const y = b.dataSync();
  let diff = 0;
  let scale = 1e-12;
  for (let i = 0; i < x.length; i++) {
    diff = Math.max(diff, Math.abs(x[i] - y[i]));
    scale = Math.max(scale, Math.abs(y[i]));
  }
  return diff / scale;
}

export function expectClose(a: tf.Tensor, b: tf.Tensor, tol = 1e-5): void {
  expect(relMaxDiff(a, b)).toBeLessThan(tol);
}

/** Value and gradients of sum(f(...xs) ⊙ probe) w.r.t. every x (probe: a fixed random cotangent). */
export function valueAndGrads(f: (...xs: tf.Tensor[]) => tf.Tensor, xs: tf.Tensor[], probeSeed = 99): { value: tf.Tensor; grads: tf.Tensor[] } {
  const value = tf.tidy(() => f(...xs));
  const probe = randn(value.shape, probeSeed);
  const grads = tf.grads((...args: tf.Tensor[]) => tf.sum(tf.mul(f(...args), probe)))(xs);
  probe.dispose();
  return { value, grads };
}

/** Runs fn, disposes what it returns, and returns the change in live tensors (expect 0). */
export function tensorLeak(fn: () => tf.TensorContainer): number {
  const before = tf.memory().numTensors;
  tf.dispose(fn());
  return tf.memory().numTensors - before;
}
