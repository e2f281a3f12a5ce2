// The fast attention (batched blocks, constant bias, RoPE by a permutation product) against the
// stock-op reference, for MHA / GQA / MQA, QK-norm on and off, CLA sharing; causality; leaks.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  attentionFast,
  attentionReference,
  createConstantCache,
  type AttentionShape,
  type AttentionWeights,
} from '../../src/model/attention.ts';
import { ropeBase } from '../../src/model/rope.ts';
import { expectClose, randn, tensorLeak, useWasm, valueAndGrads } from './tensor-helpers.ts';

beforeAll(useWasm);
const consts = createConstantCache();
afterAll(() => consts.dispose());

const D = 16;
const HEAD = 4;

function weightList(h: number, g: number, qkNorm: boolean, seed: number): tf.Tensor[] {
  const ws = [randn([D, h * HEAD], seed, 0.3), randn([D, g * HEAD], seed + 1, 0.3), randn([D, g * HEAD], seed + 2, 0.3), randn([h * HEAD, D], seed + 3, 0.3)];
  if (qkNorm) ws.push(randn([HEAD], seed + 4, 0.2).add(1), randn([HEAD], seed + 5, 0.2).add(1));
  return ws;
}

function toWeights(ws: tf.Tensor[], owner = true): AttentionWeights {
  return {
    wq: ws[0] as tf.Tensor2D,
    wk: owner ? (ws[1] as tf.Tensor2D) : undefined,
    wv: owner ? (ws[2] as tf.Tensor2D) : undefined,
    wo: ws[3] as tf.Tensor2D,
    qNorm: ws[4] as tf.Tensor1D | undefined,
    kNorm: ws[5] as tf.Tensor1D | undefined,
  };
}

const shapeOf = (h: number, g: number, batch = 2, seqLen = 6): AttentionShape => ({
  batch,
  seqLen,
  numHeads: h,
  numKvHeads: g,
  headDim: HEAD,
  ropeBase: ropeBase(10000, 4, HEAD),
  normEps: 1e-5,
});

describe('fast attention = reference attention (outputs and gradients)', () => {
  for (const [h, g] of [[4, 4], [4, 2], [4, 1]]) {
    for (const qkNorm of [false, true]) {
      it(`h=${h} kv=${g} qkNorm=${qkNorm}`, () => {
        const s = shapeOf(h, g);
        const x = randn([s.batch * s.seqLen, D], 1);
        const ws = weightList(h, g, qkNorm, 10);
        const fast = valueAndGrads((xx, ...w) => attentionFast(xx as tf.Tensor2D, toWeights(w), s, consts).output, [x, ...ws]);
        const ref = valueAndGrads((xx, ...w) => attentionReference(xx as tf.Tensor2D, toWeights(w), s, consts).output, [x, ...ws]);
        expectClose(fast.value, ref.value, 2e-5);
        fast.grads.forEach((gr, i) => expectClose(gr, ref.grads[i], 2e-4));
        tf.dispose([x, ...ws, fast.value, ref.value, ...fast.grads, ...ref.grads]);
      });
    }
  }

  for (const qkNorm of [false, true]) {
    it(`CLA: a layer reusing its owner's K/V matches, gradients flow into the owner's wk/wv (qkNorm=${qkNorm})`, () => {
      const s = shapeOf(4, 2);
      const x = randn([s.batch * s.seqLen, D], 2);
      const owner = weightList(4, 2, qkNorm, 20);
      const [uq, uk, uv, ...uRest] = weightList(4, 2, qkNorm, 30);
      const user = [uq, ...uRest]; // a CLA consumer has no wk / wv
      const twoLayers = (impl: typeof attentionFast) => (xx: tf.Tensor, ...w: tf.Tensor[]) => {
        const n = owner.length;
        const a = impl(xx as tf.Tensor2D, toWeights(w.slice(0, n)), s, consts);
        const [q, ...rest] = w.slice(n);
        const b = impl(tf.add(xx, a.output) as tf.Tensor2D, toWeights([q, uk, uv, ...rest], false), s, consts, a.kv);
        return b.output;
      };
      const fast = valueAndGrads(twoLayers(attentionFast), [x, ...owner, ...user]);
      const ref = valueAndGrads(twoLayers(attentionReference), [x, ...owner, ...user]);
      expectClose(fast.value, ref.value, 2e-5);
      fast.grads.forEach((gr, i) => expectClose(gr, ref.grads[i], 2e-4));
      expect(tf.sum(tf.abs(fast.grads[2])).dataSync()[0]).toBeGreaterThan(0); // owner's wk
      tf.dispose([x, ...owner, uq, uk, uv, ...uRest, fast.value, ref.value, ...fast.grads, ...ref.grads]);
    });
  }
});

describe('causality', () => {
  it('changing token t+1.. leaves the outputs at positions ≤ t unchanged', () => {
    const s = shapeOf(4, 2, 1, 8);
    const ws = weightList(4, 2, true, 40);
    const x = randn([8, D], 3);
    const changed = tf.concat([x.slice([0, 0], [5, D]), randn([3, D], 4)], 0);
    const y1 = attentionFast(x as tf.Tensor2D, toWeights(ws), s, consts).output;
    const y2 = attentionFast(changed as tf.Tensor2D, toWeights(ws), s, consts).output;
    expectClose(y2.slice([0, 0], [5, D]), y1.slice([0, 0], [5, D]), 1e-6);
    expect(tf.max(tf.abs(tf.sub(y2.slice([5, 0], [3, D]), y1.slice([5, 0], [3, D])))).dataSync()[0]).toBeGreaterThan(1e-3);
    tf.dispose([x, changed, y1, y2, ...ws]);
  });
});

describe('leaks', () => {
  it('forward and backward leave no tensors once the shape constants are cached', () => {
    const s = shapeOf(4, 2);
    const x = tf.variable(randn([s.batch * s.seqLen, D], 5));
    const ws = weightList(4, 2, true, 50).map((w) => tf.variable(w));
    for (const impl of [attentionFast, attentionReference]) {
      const run = () => tf.sum(impl(x as tf.Tensor2D, toWeights(ws), s, consts).output) as tf.Scalar;
      tf.tidy(run); // caches this shape's RoPE tables and mask
      expect(tensorLeak(() => tf.tidy(run))).toBe(0);
      expect(tensorLeak(() => tf.variableGrads(run))).toBe(0);
    }
    tf.dispose([x, ...ws]);
  });
});
