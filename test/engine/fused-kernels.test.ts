// The engine's fused elementwise kernels (src/engine/fused-kernels.ts) and the flagged-product path
// of src/model/kernels.ts: each model op under the engine kernels (C in the addon, and the
// JavaScript fallback without it) against the stock tf.js composition, in value and gradients;
// AdamW against a hand computation and against the stock composition step by step; C against
// JavaScript on the same inputs; the registry switches them on and off with the heap kernels
// (without the addon only the JavaScript kernels that beat the stock ops).
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adamWJs,
  areFusedKernelsRegistered,
  gatherRowsJs,
  ropeGradJs,
  ropeJs,
  scatterAddRowsJs,
  fusedAddon,
  fusedKernelCounters,
  rmsNormGradJs,
  rmsNormJs,
  softmaxGradJs,
  softmaxXentJs,
  sumSquaresJs,
  swigluGradJs,
  swigluJs,
} from '../../src/engine/fused-kernels.ts';
import { registerHeapKernels, unregisterHeapKernels } from '../../src/engine/heap-kernels.ts';
import { loadNativeAddon, registerNativeMatmul, unregisterNativeMatmul } from '../../src/engine/native-matmul.ts';
import {
  blockAttention,
  flaggedProducts,
  fusedRope,
  gatherRows,
  gatherRowsHost,
  groupedLinear,
  groupedProducts,
  linear,
  linearT,
  oneHotFloat,
  rmsNorm,
  ropeRows,
  scatterAddRows,
  scatterAddRowsHost,
  softmaxCrossEntropy,
  swigluActivation,
} from '../../src/model/kernels.ts';
import { rotateHalfMatrix } from '../../src/model/rope.ts';
import type { NamedParam } from '../../src/model/types.ts';
import { expertMlps, mlp } from '../../src/model/mlp.ts';
import { createAdamW, globalNorm } from '../../src/train/optimizer.ts';
import { createRng } from '../../src/util/rng.ts';
import { expectClose, randn, useWasm, valueAndGrads } from '../model/tensor-helpers.ts';

const addon = loadNativeAddon().addon;
const native = fusedAddon(addon);

type Setting = 'stock' | 'js' | 'native';
function use(setting: Setting): void {
  unregisterNativeMatmul();
  unregisterHeapKernels();
  if (setting === 'js') registerHeapKernels();
  if (setting === 'native' && addon) {
    registerHeapKernels(addon);
    registerNativeMatmul(addon);
  }
}

beforeAll(useWasm);
afterAll(() => use('stock'));

/** f under the engine setting vs the stock composition (no engine kernels), value and gradients. */
function expectSameAsStock(setting: Setting, f: (...xs: tf.Tensor[]) => tf.Tensor, ref: (...xs: tf.Tensor[]) => tf.Tensor, xs: tf.Tensor[], tol = 1e-5): void {
  use('stock');
  const b = valueAndGrads(ref, xs);
  use(setting);
  const a = valueAndGrads(f, xs);
  expectClose(a.value, b.value, tol);
  a.grads.forEach((g, i) => expectClose(g, b.grads[i], tol));
  tf.dispose([a.value, b.value, ...a.grads, ...b.grads]);
}

const settings: Setting[] = native ? ['js', 'native'] : ['js'];

describe('RoPE without the addon (JavaScript kernels)', () => {
  it('ropeRows = x⊙cos + linear(x, R)⊙sin (the pure-wasm composition) to the bit, value and gradient', () => {
    const bits = (t: tf.Tensor) => Array.from(new Int32Array((t.dataSync() as Float32Array).slice().buffer));
    const [rows, dh] = [96, 32];
    const x = tf.concat([randn([rows - 2, dh], 60, 2), tf.zeros([1, dh]), tf.neg(tf.zeros([1, dh]))]) as tf.Tensor2D; // rows of +0 and −0 too
    const cos = randn([rows, dh], 61) as tf.Tensor2D;
    const sin = randn([rows, dh], 62) as tf.Tensor2D;
    const rot = tf.tensor2d(rotateHalfMatrix(dh), [dh, dh]);
    use('stock');
    registerHeapKernels(); // the pure-wasm engine, with RoPE's kernels taken out again: the composition
    for (const k of ['MoelabRope', 'MoelabRopeGrad']) tf.unregisterKernel(k, 'wasm');
    expect(fusedRope()).toBe(false);
    const ref = valueAndGrads((t) => tf.add(tf.mul(t, cos), tf.mul(linear(t as tf.Tensor2D, rot), sin)), [x]);
    use('js');
    expect(fusedRope()).toBe(true);
    const before = { ...fusedKernelCounters.MoelabRope };
    const got = valueAndGrads((t) => ropeRows(t as tf.Tensor2D, cos, sin), [x]);
    expect(fusedKernelCounters.MoelabRope.js - before.js).toBeGreaterThan(0);
    expect(bits(got.value)).toEqual(bits(ref.value));
    expect(bits(got.grads[0])).toEqual(bits(ref.grads[0]));
    use('stock');
    tf.dispose([x, cos, sin, rot, got.value, ref.value, ...got.grads, ...ref.grads]);
  });
});

describe('registry', () => {
  it('the fused kernels come and go with the heap kernels; flagged products only with the native matmul', () => {
    use('stock');
    expect(areFusedKernelsRegistered()).toBe(false);
    expect(flaggedProducts()).toBe(false);
    use('js');
    expect(areFusedKernelsRegistered()).toBe(true);
    expect(flaggedProducts()).toBe(false);
    // Without the addon: the JavaScript kernels that beat the stock ops only.
    expect(tf.getKernel('MoelabSoftmaxXent', 'wasm')).toBeDefined();
    expect(tf.getKernel('MoelabSwiglu', 'wasm')).toBeUndefined();
    expect(tf.getKernel('MoelabAdamW', 'wasm')).toBeUndefined();
    if (addon) {
      use('native');
      expect(flaggedProducts()).toBe(true);
      expect(tf.getKernel('MoelabSwiglu', 'wasm')).toBeDefined();
      expect(native, 'the built addon has the fused exports (rebuild: bash scripts/build-native.sh --force)').toBeDefined();
    }
    use('stock');
  });
});

for (const setting of settings) {
  describe(`model ops under the engine kernels (${setting}) = stock composition`, () => {
    it('rmsNorm, value and gradients (x and gain)', () => {
      const x = randn([37, 24], 8, 3);
      const g = randn([24], 9, 0.5).add(1);
      const before = { ...fusedKernelCounters.MoelabRmsNorm };
      const stock = (a: tf.Tensor, b: tf.Tensor) => tf.mul(tf.mul(a, tf.rsqrt(tf.add(tf.mean(tf.square(a), 1, true), 1e-5))), b);
      expectSameAsStock(setting, (a, b) => rmsNorm(a as tf.Tensor2D, b as tf.Tensor1D, 1e-5), stock, [x, g], 1e-5);
      const after = fusedKernelCounters.MoelabRmsNorm;
      expect(setting === 'native' ? after.native - before.native : after.js - before.js).toBeGreaterThan(0);
      tf.dispose([x, g]);
    });

    it('swigluActivation, value and gradients, including large |a|', () => {
      const a = randn([13, 40], 10, 4);
      const b = randn([13, 40], 11);
      expectSameAsStock(setting, (p, q) => swigluActivation(p as tf.Tensor2D, q as tf.Tensor2D), (p, q) => tf.mul(tf.mul(p, tf.sigmoid(p)), q), [a, b]);
      const big = tf.tensor2d([[-90, -20, 0, 20, 90]]);
      const ones = tf.ones([1, 5]);
      expectSameAsStock(setting, (p, q) => swigluActivation(p as tf.Tensor2D, q as tf.Tensor2D), (p, q) => tf.mul(tf.mul(p, tf.sigmoid(p)), q), [big, ones]);
      tf.dispose([a, b, big, ones]);
    });

    it('softmaxCrossEntropy: a hand value, then value and gradient against −mean(Σ oneHot ⊙ logSoftmax)', () => {
      use(setting);
      const logits = tf.tensor2d([[1, 2, 3], [0, 0, 0]]);
      const ce = softmaxCrossEntropy(logits, Int32Array.from([2, 0]));
      const hand = (Math.log(Math.E + Math.E ** 2 + Math.E ** 3) - 3 + Math.log(3)) / 2;
      expect(ce.dataSync()[0]).toBeCloseTo(hand, 6);
      const z = randn([29, 67], 16, 5);
      const rng = createRng(3);
      const t = Int32Array.from({ length: 29 }, () => rng.int(67));
      expectSameAsStock(
        setting,
        (x) => softmaxCrossEntropy(x as tf.Tensor2D, t),
        (x) => tf.neg(tf.mean(tf.sum(tf.mul(oneHotFloat(t, 67), tf.logSoftmax(x as tf.Tensor2D)), 1))),
        [z],
      );
      tf.dispose([logits, ce, z]);
    });

    it('a target outside the vocabulary is refused before anything is computed', () => {
      use(setting);
      const z = tf.zeros([2, 4]) as tf.Tensor2D;
      expect(() => softmaxCrossEntropy(z, Int32Array.from([1, 4]))).toThrow(/target 4 at row 1 is outside \[0, 4\)/);
      z.dispose();
    });

    it('linear, linearT and blockAttention (flagged products with the native matmul), value and gradients', () => {
      const x = randn([33, 17], 1);
      const w = randn([17, 12], 2);
      const wT = randn([12, 17], 3);
      expectSameAsStock(setting, (a, b) => linear(a as tf.Tensor2D, b as tf.Tensor2D), (a, b) => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D), [x, w]);
      expectSameAsStock(setting, (a, b) => linearT(a as tf.Tensor2D, b as tf.Tensor2D), (a, b) => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D, false, true), [x, wT]);
      const [blocks, rows, dh, T] = [3, 10, 4, 5];
      const q = randn([blocks, rows, dh], 30);
      const kT = randn([blocks, dh, T], 31);
      const v = randn([blocks, T, dh], 32);
      const bias = randn([blocks, rows, T], 33, 2) as tf.Tensor3D;
      expectSameAsStock(
        setting,
        (a, b, c) => blockAttention(a as tf.Tensor3D, b as tf.Tensor3D, c as tf.Tensor3D, bias),
        (a, b, c) => tf.matMul(tf.softmax(tf.add(tf.matMul(a, b), bias)), c),
        [q, kT, v],
      );
      tf.dispose([x, w, wT, q, kT, v, bias]);
    });

    it('gatherRows / scatterAddRows (repeated and unused rows): the host path to the bit, one-hot products in value and gradients', () => {
      const x = randn([7, 5], 40);
      const index = Int32Array.from([3, 0, 3, 6, 1, 3, 0, 2, 6]); // row 4 and 5 never gathered
      const y = randn([index.length, 5], 41);
      use(setting);
      const before = { ...fusedKernelCounters.MoelabGatherRows };
      const g = gatherRows(x as tf.Tensor2D, index);
      const sa = scatterAddRows(y as tf.Tensor2D, index, 7);
      expect(g.dataSync()).toEqual(gatherRowsHost(x.dataSync() as Float32Array, 5, index));
      expect(sa.dataSync()).toEqual(scatterAddRowsHost(y.dataSync(), 5, index, 7));
      const after = fusedKernelCounters.MoelabGatherRows;
      expect(setting === 'native' ? after.native - before.native : after.js - before.js).toBe(1);
      const oh = oneHotFloat(index, 7); // [R, 7]
      expectSameAsStock(setting, (a) => gatherRows(a as tf.Tensor2D, index), (a) => tf.matMul(oh, a as tf.Tensor2D), [x]);
      expectSameAsStock(setting, (b) => scatterAddRows(b as tf.Tensor2D, index, 7), (b) => tf.matMul(oh, b as tf.Tensor2D, true, false), [y]);
      tf.dispose([x, y, g, sa, oh]);
    });

    it('a row index outside the table is refused', () => {
      use(setting);
      const x = tf.zeros([4, 3]) as tf.Tensor2D;
      expect(() => gatherRows(x, Int32Array.from([0, 4]))).toThrow(/index 4 at position 1 is outside \[0, 4\)/);
      expect(() => scatterAddRows(x, Int32Array.from([0, 1, -1, 2]), 3)).toThrow(/index -1 at position 2 is outside \[0, 3\)/);
      x.dispose();
    });

    it('AdamW with the fused kernel = the stock composition, to the last bit, over 4 steps', () => {
      // Without clipping: the clip scale depends on the gradient norm, whose fused Σx² (float64)
      // differs from the stock float32 sum in the last bits (checked with clipping below).
      const run = (s: Setting, gradClip = 0) => {
        use(s);
        const rng = createRng(7);
        const mk = (n: number) => tf.tensor1d(Float32Array.from({ length: n }, () => rng.normal()));
        const params: NamedParam[] = [
          { name: 'a', group: 'attention', variable: tf.variable(mk(50)), decay: true },
          { name: 'b', group: 'attention', variable: tf.variable(mk(7)), decay: true },
          { name: 'n', group: 'norm', variable: tf.variable(mk(9)), decay: false },
          { name: 'e', group: 'specializedExperts', variable: tf.variable(mk(20)), decay: true },
        ];
        const opt = createAdamW(params, { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, gradClip });
        for (let step = 0; step < 4; step++) {
          // Step 0 is clipped (large gradients), the rest are not; the expert has no gradient at step 2.
          const grads = params.map((p, i) => (step === 2 && i === 3 ? undefined : tf.mul(mk(p.variable.size), step === 0 ? 5 : 0.01)));
          opt.applyGradients(grads, (g) => (g === 'specializedExperts' ? 0.003 : 0.01));
          tf.dispose(grads);
        }
        const out = params.map((p) => Float32Array.from(p.variable.dataSync()));
        const state = opt.getState();
        opt.dispose();
        params.forEach((p) => p.variable.dispose());
        return { out, state };
      };
      const before = { ...fusedKernelCounters.MoelabAdamWMulti };
      const fused = run(setting);
      const after = fusedKernelCounters.MoelabAdamWMulti;
      // Without the addon AdamW stays the stock composition (the JavaScript loop is slower there);
      // with it, one multi-tensor kernel per segment (3) and step.
      expect(setting === 'native' ? after.native - before.native : after.js - before.js).toBe(setting === 'native' ? 4 * 3 : 0);
      const stock = run('stock');
      expect(fused.out).toEqual(stock.out);
      expect(fused.state.m).toEqual(stock.state.m);
      expect(fused.state.v).toEqual(stock.state.v);
      // With clipping (step 0 is clipped): equal to float32 rounding.
      const clippedFused = run(setting, 1);
      const clippedStock = run('stock', 1);
      clippedFused.out.forEach((p, i) => {
        const q = clippedStock.out[i];
        for (let j = 0; j < p.length; j++) expect(Math.abs(p[j] - q[j])).toBeLessThan(1e-6 * Math.max(1, Math.abs(q[j])));
      });
    });
  });
}

describe.skipIf(!addon)('grouped expert products (one native call for all experts)', () => {
  it('groupedLinear = the concatenated per-group products, value and gradients, with an empty group', () => {
    use('native');
    expect(groupedProducts()).toBe(true);
    const counts = [3, 0, 5, 1];
    const x = randn([9, 6], 40);
    const ws = counts.map((_, e) => randn([6, 7], 41 + e));
    const stock = (xi: tf.Tensor, ...wi: tf.Tensor[]) => {
      const parts = tf.split(xi, counts.filter((c) => c > 0), 0);
      const active = counts.flatMap((c, e) => (c > 0 ? [e] : []));
      // 0·w keeps every weight in the graph, so an empty group's gradient is an explicit zero.
      return tf.add(tf.concat(active.map((e, i) => tf.matMul(parts[i] as tf.Tensor2D, wi[e] as tf.Tensor2D)), 0), tf.mul(tf.sum(tf.stack(wi)), 0));
    };
    expectSameAsStock('native', (xi, ...wi) => groupedLinear(xi as tf.Tensor2D, wi as tf.Tensor2D[], counts), stock, [x, ...ws]);
    use('native');
    const grads = tf.grads((xi: tf.Tensor, ...wi: tf.Tensor[]) => tf.sum(groupedLinear(xi as tf.Tensor2D, wi as tf.Tensor2D[], counts)))([x, ...ws]);
    expect(Array.from(grads[2].dataSync()).every((v) => v === 0)).toBe(true);
    tf.dispose([x, ...ws, ...grads]);
  });

  it('expertMlps (grouped) = each expert\'s SwiGLU on its slice, value and gradients', () => {
    const counts = [4, 2, 0, 6];
    const rows = randn([12, 8], 50);
    const experts = counts.map((_, e) => ({ wGate: randn([8, 5], 51 + 3 * e) as tf.Tensor2D, wUp: randn([8, 5], 52 + 3 * e) as tf.Tensor2D, wDown: randn([5, 8], 53 + 3 * e) as tf.Tensor2D }));
    const flat = experts.flatMap((w) => [w.wGate, w.wUp, w.wDown]);
    const rebuild = (t: tf.Tensor[]) => counts.map((_, e) => ({ wGate: t[3 * e] as tf.Tensor2D, wUp: t[3 * e + 1] as tf.Tensor2D, wDown: t[3 * e + 2] as tf.Tensor2D }));
    const stock = (r: tf.Tensor, ...t: tf.Tensor[]) => {
      const ex = rebuild(t);
      const parts = tf.split(r, counts.filter((c) => c > 0), 0);
      const active = counts.flatMap((c, e) => (c > 0 ? [e] : []));
      return tf.add(tf.concat(active.map((e, i) => mlp(parts[i] as tf.Tensor2D, ex[e], 'reference')), 0), tf.mul(tf.sum(tf.stack(t.map((w) => tf.sum(w)))), 0));
    };
    expectSameAsStock('native', (r, ...t) => expertMlps(r as tf.Tensor2D, rebuild(t), counts), stock, [rows, ...flat], 1e-5);
    tf.dispose([rows, ...flat]);
  });

  it('counts that do not cover the rows are refused', () => {
    use('native');
    const x = randn([5, 3], 60);
    const ws = [randn([3, 2], 61), randn([3, 2], 62)] as tf.Tensor2D[];
    expect(() => groupedLinear(x as tf.Tensor2D, ws, [2, 2])).toThrow(/summing to the 5 rows/);
    tf.dispose([x, ...ws]);
  });
});

describe.skipIf(!native)('C kernels = JavaScript fallback on the same inputs', () => {
  // A plain Float32Array stands in for the wasm heap: both take offsets into it.
  const heapOf = (n: number, seed: number, scale = 1) => {
    const rng = createRng(seed);
    return Float32Array.from({ length: n }, () => rng.normal() * scale);
  };
  const maxRel = (a: Float32Array, b: Float32Array) => {
    let d = 0;
    let s = 1e-30;
    for (let i = 0; i < a.length; i++) {
      d = Math.max(d, Math.abs(a[i] - b[i]));
      s = Math.max(s, Math.abs(b[i]));
    }
    return d / s;
  };

  it('RMSNorm forward and backward agree to float32 rounding', () => {
    const rows = 19;
    const w = 33;
    // layout: x | g | y | r | dy | dx | dg
    const [x, g, y, r, dy, dx, dg] = [0, rows * w, rows * w + w, 2 * rows * w + w, 2 * rows * w + w + rows, 3 * rows * w + w + rows, 4 * rows * w + w + rows];
    const a = heapOf(dg + w, 1, 2);
    const b = Float32Array.from(a);
    native!.fusedRmsNorm(a, x, g, y, r, rows, w, 1e-5);
    rmsNormJs(b, x, g, y, r, rows, w, 1e-5);
    expect(a.subarray(y, r + rows)).toEqual(b.subarray(y, r + rows));
    native!.fusedRmsNormGrad(a, dy, x, r, g, dx, dg, rows, w);
    rmsNormGradJs(b, dy, x, r, g, dx, dg, rows, w);
    expect(maxRel(a.subarray(dx, dg + w), b.subarray(dx, dg + w))).toBeLessThan(1e-6);
  });

  it('SwiGLU forward and backward agree to a few float32 ulps', () => {
    const n = 1000;
    const a = heapOf(5 * n, 2, 4);
    const b = Float32Array.from(a);
    native!.fusedSwiglu(a, 0, n, 2 * n, n);
    swigluJs(b, 0, n, 2 * n, n);
    expect(maxRel(a.subarray(2 * n, 3 * n), b.subarray(2 * n, 3 * n))).toBeLessThan(1e-6);
    native!.fusedSwigluGrad(a, 2 * n, 0, n, 3 * n, 4 * n, n);
    swigluGradJs(b, 2 * n, 0, n, 3 * n, 4 * n, n);
    expect(maxRel(a.subarray(3 * n), b.subarray(3 * n))).toBeLessThan(1e-6);
  });

  it('softmax cross-entropy loss and gradient agree; AdamW is bit-identical', () => {
    const rows = 7;
    const vocab = 50;
    const a = heapOf(rows * vocab * 2 + rows + 1, 3, 3);
    const targets = new Int32Array(a.buffer, rows * vocab * 4, rows);
    for (let i = 0; i < rows; i++) targets[i] = (i * 13) % vocab;
    const b = Float32Array.from(a);
    native!.fusedSoftmaxXent(a, 0, rows * vocab, rows * vocab + rows, 2 * rows * vocab + rows, rows, vocab);
    softmaxXentJs(b, 0, rows * vocab, rows * vocab + rows, 2 * rows * vocab + rows, rows, vocab, new Int32Array(b.buffer));
    expect(maxRel(a.subarray(rows * vocab + rows), b.subarray(rows * vocab + rows))).toBeLessThan(1e-6);

    const n = 300;
    const p = heapOf(7 * n, 4);
    for (let i = 3 * n; i < 4 * n; i++) p[i] = Math.abs(p[i]); // v ≥ 0
    const q = Float32Array.from(p);
    const hyper = [0.9, 0.95, 0.7, 1 - 1e-3, 0.01 / 0.19, Math.sqrt(1 - 0.95 ** 2), 1e-8] as const;
    native!.fusedAdamW(p, 0, n, 2 * n, 3 * n, 4 * n, 5 * n, 6 * n, n, ...hyper);
    adamWJs(q, 0, n, 2 * n, 3 * n, 4 * n, 5 * n, 6 * n, n, ...hyper);
    expect(p).toEqual(q);
  });

  it('sum of squares: C = JavaScript = a float64 sum; globalNorm with the kernel = the stock norm', () => {
    const n = 100003;
    const a = heapOf(n + 1, 5, 3);
    const b = Float32Array.from(a);
    native!.fusedSumSquares(a, 0, n, n);
    sumSquaresJs(b, 0, n, n);
    let exact = 0;
    for (let i = 0; i < n; i++) exact += a[i] * a[i];
    expect(Math.abs(a[n] - exact) / exact).toBeLessThan(1e-7);
    expect(Math.abs(b[n] - exact) / exact).toBeLessThan(1e-7);
    const ts = [randn([300, 7], 70), randn([5], 71), randn([1000], 72, 10)];
    use('stock');
    const stock = globalNorm(ts);
    use('native');
    const before = fusedKernelCounters.MoelabSumSquares.native;
    const fused = globalNorm(ts);
    expect(fusedKernelCounters.MoelabSumSquares.native - before).toBe(3);
    expect(Math.abs(fused - stock) / stock).toBeLessThan(1e-6);
    tf.dispose(ts);
  });

  it('the softmax backward: C = JavaScript; the backward of blockAttention runs it', () => {
    const rows = 9;
    const cols = 37;
    const n = rows * cols;
    // layout: p | dp | ds, p a softmax per row with one exact zero (a masked score)
    const a = heapOf(3 * n, 6, 3);
    for (let i = 0; i < rows; i++) {
      let sum = 0;
      for (let j = 0; j < cols; j++) sum += (a[i * cols + j] = Math.exp(a[i * cols + j]));
      for (let j = 0; j < cols; j++) a[i * cols + j] /= sum;
    }
    a[5] = 0;
    const b = Float32Array.from(a);
    native!.fusedSoftmaxGrad(a, 0, n, 2 * n, rows, cols);
    softmaxGradJs(b, 0, n, 2 * n, rows, cols);
    expect(maxRel(a.subarray(2 * n), b.subarray(2 * n))).toBeLessThan(1e-5);
    expect(a[2 * n + 5]).toBe(0);
    use('native');
    const before = fusedKernelCounters.MoelabSoftmaxGrad.native;
    const q = randn([2, 3, 4], 80);
    const kT = randn([2, 4, 5], 81);
    const v = randn([2, 5, 4], 82);
    const bias = tf.zeros([2, 3, 5]) as tf.Tensor3D;
    tf.dispose(tf.grads((x: tf.Tensor) => tf.sum(blockAttention(x as tf.Tensor3D, kT as tf.Tensor3D, v as tf.Tensor3D, bias)))([q]));
    expect(fusedKernelCounters.MoelabSoftmaxGrad.native - before).toBe(1);
    tf.dispose([q, kT, v, bias]);
  });

  it('row gathers and scatter-adds: C = JavaScript to the bit', () => {
    const [rows, w, count] = [6, 9, 11];
    // layout: x | index (int32) | gathered | scatter target
    const n = rows * w + count + count * w + rows * w;
    const a = heapOf(n, 7);
    const idx = new Int32Array(a.buffer, rows * w * 4, count);
    for (let r = 0; r < count; r++) idx[r] = (r * 5) % rows;
    const b = Float32Array.from(a);
    const go = rows * w + count;
    native!.fusedGatherRows(a, 0, rows * w, go, rows, w, count);
    gatherRowsJs(new Int32Array(b.buffer), b, 0, rows * w, go, rows, w, count);
    expect(a.subarray(go, go + count * w)).toEqual(b.subarray(go, go + count * w));
    const so = go + count * w;
    native!.fusedScatterAddRows(a, go, rows * w, so, count, w, rows);
    scatterAddRowsJs(new Int32Array(b.buffer), b, go, rows * w, so, count, w, rows);
    expect(a.subarray(so)).toEqual(b.subarray(so));
  });

  it('RoPE: C = JavaScript to the bit; ropeRows = x⊙cos + (x·R)⊙sin of the stock ops to the bit, value and gradient', () => {
    const [rows, dh] = [10, 8];
    const n = rows * dh;
    const a = heapOf(5 * n, 8); // x | cos | sin | y | dx
    const b = Float32Array.from(a);
    native!.fusedRope(a, 0, n, 2 * n, 3 * n, rows, dh);
    ropeJs(b, 0, n, 2 * n, 3 * n, rows, dh);
    native!.fusedRopeGrad(a, 3 * n, n, 2 * n, 4 * n, rows, dh);
    ropeGradJs(b, 3 * n, n, 2 * n, 4 * n, rows, dh);
    expect(a.subarray(3 * n)).toEqual(b.subarray(3 * n));

    const x = randn([rows, dh], 50);
    const cos = randn([rows, dh], 51) as tf.Tensor2D;
    const sin = randn([rows, dh], 52) as tf.Tensor2D;
    const rot = tf.tensor2d(rotateHalfMatrix(dh), [dh, dh]);
    use('stock');
    expect(fusedRope()).toBe(false);
    const ref = valueAndGrads((t) => tf.add(tf.mul(t, cos), tf.mul(tf.matMul(t as tf.Tensor2D, rot), sin)), [x]);
    use('native');
    expect(fusedRope()).toBe(true);
    const before = fusedKernelCounters.MoelabRopeGrad.native;
    const got = valueAndGrads((t) => ropeRows(t as tf.Tensor2D, cos, sin), [x]);
    expect(fusedKernelCounters.MoelabRopeGrad.native - before).toBe(1);
    expect(got.value.dataSync()).toEqual(ref.value.dataSync());
    expect(got.grads[0].dataSync()).toEqual(ref.grads[0].dataSync());
    tf.dispose([x, cos, sin, rot, got.value, ref.value, ...got.grads, ...ref.grads]);
  });

  it('AdamW and Σx² over separate tensors = the single kernels on their concatenation, to the bit', () => {
    const sizes = [5, 7, 1, 13, 3]; // 29 weights: unaligned starts and a tail of 1 for the four partial sums
    const n = sizes.reduce((x, y) => x + y, 0);
    // layout: p | g | m | v | p' | m' | v' (flat, the single kernel) ; the multi kernel reads the same
    // p and g through per-tensor offsets and writes p' per tensor into a second heap
    const a = heapOf(7 * n + 1, 9);
    for (let i = 3 * n; i < 4 * n; i++) a[i] = Math.abs(a[i]);
    const b = Float32Array.from(a);
    const hyper = [0.9, 0.95, 0.37, 1 - 1e-3, 0.0123, Math.sqrt(1 - 0.95 ** 3), 1e-8] as const;
    native!.fusedAdamW(a, 0, n, 2 * n, 3 * n, 4 * n, 5 * n, 6 * n, n, ...hyper);
    const spec = new Float64Array(4 * sizes.length);
    let at = 0;
    sizes.forEach((k, j) => {
      spec.set([at, n + at, 4 * n + at, k], 4 * j);
      at += k;
    });
    native!.fusedAdamWMulti(b, spec, 2 * n, 3 * n, 5 * n, 6 * n, ...hyper);
    expect(b).toEqual(a);
    native!.fusedSumSquares(a, n, n, 7 * n);
    const sq = new Float64Array(2 * sizes.length);
    at = 0;
    sizes.forEach((k, j) => {
      sq.set([n + at, k], 2 * j);
      at += k;
    });
    native!.fusedSumSquaresMulti(b, sq, 7 * n);
    expect(b[7 * n]).toBe(a[7 * n]);
    expect(() => native!.fusedAdamWMulti(b, Float64Array.from([0, 0, 0, 8 * n]), 0, 0, 0, 0, ...hyper)).toThrow(/past the end of the heap view/);
  });

  it('offsets past the end of the heap are refused before anything is written', () => {
    const h = new Float32Array(10);
    expect(() => native!.fusedSwiglu(h, 0, 5, 8, 5)).toThrow(/past the end of the heap view/);
    expect(Array.from(h)).toEqual(new Array(10).fill(0));
  });
});
