// AdamW's device options: segments split under a buffer limit, and the norm / clip scale / finite
// check kept on the device. Each must give the same parameters as the plain update (the
// hand-checked one of optimizer.test.ts), on the cpu backend.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import type { NamedParam, ParamGroup } from '../../src/model/types.ts';
import { createAdamW, splitSegment, type AdamWOptions } from '../../src/train/optimizer.ts';
import { createRng } from '../../src/util/rng.ts';

const ARGS = { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, gradClip: 1 };
const SHAPES: [string, ParamGroup, number[], boolean][] = [
  ['a', 'attention', [3, 4], true],
  ['b', 'attention', [5], true],
  ['c', 'attention', [2, 2], true],
  ['n', 'norm', [4], false],
  ['e0', 'specializedExperts', [4, 3], true],
  ['e1', 'specializedExperts', [4, 3], true],
];
const lrOf = (g: ParamGroup) => (g === 'specializedExperts' ? 0.02 : 0.05);

function run(options: AdamWOptions, gradScale: number[]): { params: Float32Array[]; norms: number[] } {
  const rng = createRng(5);
  const params: NamedParam[] = SHAPES.map(([name, group, shape, decay]) => ({
    name,
    group,
    decay,
    variable: tf.variable(tf.tensor(Float32Array.from({ length: shape.reduce((x, y) => x * y, 1) }, () => rng.normal()), shape)),
  }));
  const opt = createAdamW(params, ARGS, options);
  const norms: number[] = [];
  for (const s of gradScale) {
    const grads = params.map((p) => tf.mul(tf.randomNormal(p.variable.shape, 0, 1, 'float32', 17 + norms.length), s));
    const r = opt.applyGradients(grads, lrOf);
    norms.push(r.gradNormTensor ? r.gradNormTensor.dataSync()[0] : r.gradNorm);
    r.gradNormTensor?.dispose();
    tf.dispose(grads);
  }
  const out = params.map((p) => p.variable.dataSync() as Float32Array);
  opt.dispose();
  for (const p of params) p.variable.dispose();
  return { params: out, norms };
}

const maxDiff = (a: Float32Array[], b: Float32Array[]) =>
  Math.max(...a.map((x, i) => Math.max(...Array.from(x, (v, j) => Math.abs(v - b[i][j])))));

describe('AdamW device options', () => {
  it('splitSegment cuts consecutive runs under the limit and names a parameter over it', () => {
    expect(splitSegment([12, 5, 4], 17, ['a', 'b', 'c'])).toEqual([[0, 1], [2]]);
    expect(splitSegment([12, 5, 4], 100, ['a', 'b', 'c'])).toEqual([[0, 1, 2]]);
    expect(splitSegment([3, 3, 3], 3, ['a', 'b', 'c'])).toEqual([[0], [1], [2]]);
    expect(() => splitSegment([3, 30], 10, ['a', 'big.w'])).toThrow(/big\.w has 30 elements.*10 float32/);
  });

  it('segments split under a small limit (13 elements) give the same parameters', () => {
    const scales = [0.1, 3, 0.5]; // the second step is clipped
    const plain = run({ maxSegmentElements: Infinity, deviceNorm: false }, scales);
    const split = run({ maxSegmentElements: 13, deviceNorm: false }, scales);
    expect(maxDiff(split.params, plain.params)).toBeLessThan(1e-6);
    expect(split.norms[1]).toBeGreaterThan(1);
  });

  it('device norm: same parameters and norms as the host norm, clipping included', () => {
    const scales = [0.1, 3, 0.5];
    const host = run({ deviceNorm: false }, scales);
    const dev = run({ deviceNorm: true, maxSegmentElements: 13 }, scales);
    expect(maxDiff(dev.params, host.params)).toBeLessThan(1e-6);
    dev.norms.forEach((n, i) => expect(n).toBeCloseTo(host.norms[i], 5));
  });

  it('device norm: a non-finite gradient leaves parameters unchanged', () => {
    const before = run({ deviceNorm: true }, [0.1]);
    const after = run({ deviceNorm: true }, [0.1, Infinity]);
    expect(Number.isFinite(after.norms[1])).toBe(false);
    expect(maxDiff(after.params, before.params)).toBe(0);
  });
});
