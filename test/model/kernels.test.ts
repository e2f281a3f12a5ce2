// Every fast-path kernel against its stock tf.js equivalent, in value and gradient, on wasm; plus
// leak checks (tf.memory().numTensors before/after).
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  blockAttention,
  embeddingLookup,
  gatherRows,
  gatherRowsHost,
  linear,
  oneHotFloat,
  rmsNorm,
  scatterAddRows,
  scatterAddRowsHost,
  softmaxCrossEntropy,
  swiglu,
  swigluActivation,
  weightGrad,
  wideWeightGrad,
} from '../../src/model/kernels.ts';
import { isNativeMatmulRegistered, loadNativeAddon, registerNativeMatmul, unregisterNativeMatmul } from '../../src/engine/native-matmul.ts';
import { expectClose, randn, tensorLeak, useWasm, valueAndGrads } from './tensor-helpers.ts';

beforeAll(useWasm);

/** Compare f and its stock reference in value and in all input gradients. */
function expectSameAsStock(f: (...xs: tf.Tensor[]) => tf.Tensor, ref: (...xs: tf.Tensor[]) => tf.Tensor, xs: tf.Tensor[], tol = 1e-5): void {
  const a = valueAndGrads(f, xs);
  const b = valueAndGrads(ref, xs);
  expectClose(a.value, b.value, tol);
  a.grads.forEach((g, i) => expectClose(g, b.grads[i], tol));
  tf.dispose([a.value, b.value, ...a.grads, ...b.grads]);
}

describe('products', () => {
  for (const [n, k, m] of [[5, 3, 4], [64, 32, 48]]) {
    it(`linear [${n},${k}]·[${k},${m}] = tf.matMul, value and gradients`, () => {
      const x = randn([n, k], 1);
      const w = randn([k, m], 2);
      expectSameAsStock((a, b) => linear(a as tf.Tensor2D, b as tf.Tensor2D), (a, b) => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D), [x, w]);
      tf.dispose([x, w]);
    });
  }
});

describe('products on stock wasm (XNNPACK, no native matmul)', () => {
  /** Run f with the stock wasm BatchMatMul (the pure-wasm path), then restore the native kernel. */
  function withStockProducts<T>(f: () => T): T {
    const native = isNativeMatmulRegistered();
    unregisterNativeMatmul();
    try {
      return f();
    } finally {
      const addon = loadNativeAddon().addon;
      if (native && addon) registerNativeMatmul(addon);
    }
  }
  const bits = (t: tf.Tensor) => new Int32Array((t.dataSync() as Float32Array).slice().buffer);

  it('wideWeightGrad: only wide gradients over many rows take the (dyᵀ·x)ᵀ form', () => {
    expect(wideWeightGrad(2048, 128, 512)).toBe(true);
    expect(wideWeightGrad(947, 128, 512)).toBe(true);
    expect(wideWeightGrad(2048, 128, 256)).toBe(true);
    expect(wideWeightGrad(500, 128, 512)).toBe(false);
    expect(wideWeightGrad(2048, 512, 128)).toBe(false);
    expect(wideWeightGrad(2048, 128, 128)).toBe(false);
    expect(wideWeightGrad(2048, 128, 4)).toBe(false);
  });

  // The reference step's wide shapes (shared expert, a busy expert, tied logits) and two that keep xᵀ·dy.
  for (const [rows, inDim, outDim] of [[2048, 128, 512], [947, 128, 512], [2048, 128, 256], [500, 128, 512], [300, 64, 16]]) {
    it(`weightGrad over ${rows} rows, [${inDim}, ${outDim}]: the bits of xᵀ·dy; linear's gradient takes it`, () => {
      withStockProducts(() => {
        const x = randn([rows, inDim], 40, 0.5) as tf.Tensor2D;
        const dy = randn([rows, outDim], 41, 0.1) as tf.Tensor2D;
        const w = randn([inDim, outDim], 42, 0.1) as tf.Tensor2D;
        const stock = tf.tidy(() => bits(tf.matMul(tf.transpose(x), dy)));
        const before = tf.memory().numTensors;
        const dw = tf.tidy(() => weightGrad(x, dy));
        expect(tf.memory().numTensors - before).toBe(1);
        expect(dw.shape).toEqual([inDim, outDim]);
        expect(bits(dw)).toEqual(stock);
        // linear's dW on the pure-wasm path is this weightGrad: the same bits.
        const [, dwLinear] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(linear(a as tf.Tensor2D, b as tf.Tensor2D), dy)))([x, w]);
        expect(bits(dwLinear)).toEqual(stock);
        tf.dispose([x, dy, w, dw, dwLinear]);
      });
    });
  }
});

describe('attention core', () => {
  it('blockAttention = softmax(q·kT + bias)·v with batched stock ops, value and gradients', () => {
    const [blocks, rows, dh, T] = [3, 10, 4, 5];
    const q = randn([blocks, rows, dh], 30);
    const kT = randn([blocks, dh, T], 31);
    const v = randn([blocks, T, dh], 32);
    const bias = randn([blocks, rows, T], 33, 2) as tf.Tensor3D;
    expectSameAsStock(
      (a, b, c) => blockAttention(a as tf.Tensor3D, b as tf.Tensor3D, c as tf.Tensor3D, bias),
      (a, b, c) => tf.matMul(tf.softmax(tf.add(tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D), bias)), c as tf.Tensor3D),
      [q, kT, v],
    );
    tf.dispose([q, kT, v, bias]);
  });
});

describe('row gathers', () => {
  const index = Int32Array.from([3, 0, 3, 1, 3, 4]); // repeats, and row 2 unused

  it('host helpers gather and scatter-add rows', () => {
    const v = Float32Array.from([0, 1, 10, 11, 20, 21]);
    expect(Array.from(gatherRowsHost(v, 2, Int32Array.from([2, 0, 2])))).toEqual([20, 21, 0, 1, 20, 21]);
    expect(Array.from(scatterAddRowsHost(v, 2, Int32Array.from([1, 1, 0]), 3))).toEqual([20, 21, 10, 12, 0, 0]);
  });

  it('gatherRows = oneHot(index)·x, value and gradient (fan-in 3, unused rows)', () => {
    const x = randn([5, 4], 5);
    expectSameAsStock((t) => gatherRows(t as tf.Tensor2D, index), (t) => tf.matMul(oneHotFloat(index, 5), t as tf.Tensor2D), [x]);
    x.dispose();
  });

  it('scatterAddRows = oneHot(index)ᵀ·y, value and gradient', () => {
    const y = randn([6, 4], 6);
    expectSameAsStock(
      (t) => scatterAddRows(t as tf.Tensor2D, index, 5),
      (t) => tf.matMul(tf.transpose(oneHotFloat(index, 5)), t as tf.Tensor2D),
      [y],
    );
    y.dispose();
  });

  it('embeddingLookup gathers table rows and scatter-adds their gradient', () => {
    const table = randn([7, 3], 7);
    const ids = Int32Array.from([6, 6, 0, 2]);
    expectSameAsStock((t) => embeddingLookup(t as tf.Tensor2D, ids), (t) => tf.matMul(oneHotFloat(ids, 7), t as tf.Tensor2D), [table]);
    table.dispose();
  });

  it('oneHotFloat is 1.0, not an int32 bit pattern, on wasm', () => {
    const oh = oneHotFloat(Int32Array.from([1, 0]), 3);
    expect(Array.from(oh.dataSync())).toEqual([0, 1, 0, 1, 0, 0]);
    oh.dispose();
  });
});

describe('fused elementwise ops', () => {
  it('rmsNorm = x·rsqrt(mean(x²)+eps)·g, value and gradients', () => {
    const x = randn([9, 6], 8);
    const g = randn([6], 9, 0.5).add(1);
    const stock = (a: tf.Tensor, b: tf.Tensor) => tf.mul(tf.mul(a, tf.rsqrt(tf.add(tf.mean(tf.square(a), 1, true), 1e-5))), b);
    expectSameAsStock((a, b) => rmsNorm(a as tf.Tensor2D, b as tf.Tensor1D, 1e-5), stock, [x, g], 1e-4);
    tf.dispose([x, g]);
  });

  it('swigluActivation = silu(a)⊙b, value and gradients; swiglu = down(silu(x·wg)⊙(x·wu))', () => {
    const a = randn([7, 5], 10, 2);
    const b = randn([7, 5], 11);
    expectSameAsStock(
      (p, q) => swigluActivation(p as tf.Tensor2D, q as tf.Tensor2D),
      (p, q) => tf.mul(tf.mul(p, tf.sigmoid(p)), q),
      [a, b],
    );
    const x = randn([7, 4], 12);
    const [wg, wu, wd] = [randn([4, 5], 13), randn([4, 5], 14), randn([5, 4], 15)];
    expectSameAsStock(
      (...t) => swiglu(...(t as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D])),
      (xx, g1, u1, d1) => {
        const h = tf.matMul(xx as tf.Tensor2D, g1 as tf.Tensor2D);
        return tf.matMul(tf.mul(tf.mul(h, tf.sigmoid(h)), tf.matMul(xx as tf.Tensor2D, u1 as tf.Tensor2D)), d1 as tf.Tensor2D);
      },
      [x, wg, wu, wd],
    );
    tf.dispose([a, b, x, wg, wu, wd]);
  });

  it('softmaxCrossEntropy matches a hand value and −mean(Σ oneHot ⊙ logSoftmax) with its gradient', () => {
    const logits = tf.tensor2d([[1, 2, 3], [0, 0, 0]]);
    const targets = Int32Array.from([2, 0]);
    const ce = softmaxCrossEntropy(logits, targets);
    const hand = (Math.log(Math.E + Math.E ** 2 + Math.E ** 3) - 3 + Math.log(3)) / 2;
    expect(ce.dataSync()[0]).toBeCloseTo(hand, 6);
    const z = randn([6, 11], 16, 3);
    const t = Int32Array.from([0, 10, 5, 5, 2, 7]);
    expectSameAsStock(
      (x) => softmaxCrossEntropy(x as tf.Tensor2D, t),
      (x) => tf.neg(tf.mean(tf.sum(tf.mul(oneHotFloat(t, 11), tf.logSoftmax(x as tf.Tensor2D)), 1))),
      [z],
    );
    tf.dispose([logits, ce, z]);
  });
});

describe('leaks', () => {
  it('every kernel returns exactly its output and its gradients leave nothing behind', () => {
    const x = tf.variable(randn([6, 4], 20)) as tf.Variable<tf.Rank.R2>;
    const w = tf.variable(randn([4, 4], 21)) as tf.Variable<tf.Rank.R2>;
    const g = tf.variable(tf.ones([4])) as tf.Variable<tf.Rank.R1>;
    const a3 = tf.variable(randn([2, 3, 4], 22)) as tf.Variable<tf.Rank.R3>;
    const bias3 = tf.zeros([2, 3, 3]) as tf.Tensor3D;
    const idx = Int32Array.from([0, 0, 5, 2]);
    const fns: [string, () => tf.Tensor][] = [
      ['linear', () => linear(x, w)],
      ['blockAttention', () => blockAttention(a3, tf.transpose(a3, [0, 2, 1]) as tf.Tensor3D, a3, bias3)],
      ['gatherRows', () => gatherRows(x, idx)],
      ['scatterAddRows', () => scatterAddRows(x, Int32Array.from([1, 1, 0, 2, 2, 2]), 3)],
      ['embeddingLookup', () => embeddingLookup(x, idx)],
      ['rmsNorm', () => rmsNorm(x, g, 1e-5)],
      ['swigluActivation', () => swigluActivation(x, linear(x, w))],
      ['softmaxCrossEntropy', () => softmaxCrossEntropy(linear(x, w), Int32Array.from([0, 1, 2, 3, 0, 1]))],
    ];
    for (const [name, fn] of fns) {
      const before = tf.memory().numTensors;
      const out = tf.tidy(fn);
      expect(tf.memory().numTensors - before, `${name} forward`).toBe(1);
      out.dispose();
      expect(
        tensorLeak(() => tf.variableGrads(() => tf.sum(fn()) as tf.Scalar)),
        `${name} forward + backward`,
      ).toBe(0);
    }
    tf.dispose([x, w, g, a3, bias3]);
  });
});
