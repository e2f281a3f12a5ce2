import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  collapsePermutation,
  heapKernelCounters,
  registerHeapKernels,
  transposeJs,
  unregisterHeapKernels,
} from '../../src/engine/heap-kernels.ts';
import { loadNativeAddon } from '../../src/engine/native-matmul.ts';
import { createRng } from '../../src/util/rng.ts';

describe('collapsePermutation (pure)', () => {
  it('drops size-1 axes and merges axes that stay adjacent', () => {
    expect(collapsePermutation([2048, 512], [1, 0])).toEqual({ shape: [2048, 512], perm: [1, 0] });
    expect(collapsePermutation([16, 128, 4, 32], [0, 2, 3, 1])).toEqual({ shape: [16, 128, 128], perm: [0, 2, 1] });
    expect(collapsePermutation([16, 128, 4, 32], [0, 2, 1, 3])).toEqual({ shape: [16, 128, 4, 32], perm: [0, 2, 1, 3] });
    expect(collapsePermutation([1, 5, 1, 7], [3, 2, 1, 0])).toEqual({ shape: [5, 7], perm: [1, 0] });
    expect(collapsePermutation([3, 4, 5], [0, 1, 2])).toEqual({ shape: [60], perm: [0] });
    expect(collapsePermutation([1, 1], [1, 0])).toEqual({ shape: [], perm: [] });
  });
});

describe('transposeJs (pure): out[a][c][b][d] = x[a][b][c][d]', () => {
  // Tile edges (sizes not multiples of 4 or 32), runs of 1, short runs (D < 16) and long runs.
  it.each([
    [1, 67, 45, 1],
    [3, 33, 70, 1],
    [1, 128, 4, 1],
    [2, 5, 3, 4],
    [2, 7, 9, 15],
    [2, 5, 3, 16],
    [3, 4, 6, 32],
  ])('A=%i B=%i C=%i D=%i, on int32 and bytes, at offsets', (A, B, C, D) => {
    const n = A * B * C * D;
    for (const make of [(k: number) => new Int32Array(k), (k: number) => new Uint8Array(k)]) {
      const v = make(3 + 2 * n + 5);
      for (let i = 0; i < n; i++) v[3 + i] = (i * 2654435761) | 0;
      v.fill(99, 3 + n); // sentinels around the output
      transposeJs(v, 3, 3 + n, A, B, C, D);
      for (let a = 0; a < A; a++)
        for (let b = 0; b < B; b++)
          for (let c = 0; c < C; c++)
            for (let d = 0; d < D; d++) expect(v[3 + n + ((a * C + c) * B + b) * D + d]).toBe(v[3 + ((a * B + b) * C + c) * D + d]);
      expect(Array.from(v.subarray(3 + 2 * n))).toEqual([99, 99, 99, 99, 99]);
    }
  });
});

const addon = loadNativeAddon().addon;

describe('heap kernels on wasm equal the stock kernels', () => {
  const rng = createRng(7);
  const rand = (shape: number[], dtype: 'float32' | 'int32' = 'float32') => {
    const n = shape.reduce((p, d) => p * d, 1);
    const v = dtype === 'float32' ? Float32Array.from({ length: n }, () => rng.normal()) : Int32Array.from({ length: n }, () => rng.int(1000) - 500);
    return tf.tensor(v, shape, dtype);
  };

  let x3: tf.Tensor;
  let xi: tf.Tensor;
  let xb: tf.Tensor;
  beforeAll(async () => {
    await tf.setBackend('wasm');
    await tf.ready();
    x3 = rand([5, 6, 7]);
    xi = rand([9, 4], 'int32');
    xb = tf.tensor([true, false, true, true, false, false], [2, 3], 'bool');
  });
  afterAll(() => unregisterHeapKernels());

  /** Runs f with the stock kernels, then with the heap kernels; expects identical values and shapes. */
  function same(kernel: keyof typeof heapKernelCounters, f: () => tf.Tensor | tf.Tensor[], expectHeap = true) {
    unregisterHeapKernels();
    const read = () =>
      tf.tidy(() => {
        const out = f();
        return (Array.isArray(out) ? out : [out]).map((t) => ({ shape: t.shape, values: Array.from(t.dataSync()) }));
      });
    const expected = read();
    registerHeapKernels(addon);
    const before = heapKernelCounters[kernel].heap;
    const numTensors = tf.memory().numTensors;
    const actual = read();
    expect(tf.memory().numTensors).toBe(numTensors);
    expect(heapKernelCounters[kernel].heap > before).toBe(expectHeap);
    expect(actual.map((a) => a.shape)).toEqual(expected.map((e) => e.shape));
    if (kernel === 'Sum') {
      actual.forEach((a, i) => a.values.forEach((v, j) => expect(v).toBeCloseTo(expected[i].values[j], 4)));
    } else {
      expect(actual).toEqual(expected);
    }
  }

  it.each([
    ['rows', [2, 0, 0], [2, -1, -1]],
    ['middle box', [1, 2, 3], [3, 2, 4]],
    ['last axis', [0, 0, 5], [5, 6, 2]],
    ['whole', [0, 0, 0], [5, 6, 7]],
    ['empty', [1, 1, 1], [0, 3, 3]],
  ])('Slice: %s', (_name, begin, size) => same('Slice', () => tf.slice(x3, begin as number[], size as number[])));

  it('Slice on int32 and bool tensors', () => {
    same('Slice', () => tf.slice(xi, [2, 1], [5, 2]));
    same('Slice', () => tf.slice(xb, [0, 1], [2, 2]));
  });

  it.each([
    ['3 equal pieces on axis 1', 3, 1],
    ['uneven sizes on axis 1', [1, 3, 2], 1],
    ['last axis', [3, 4], 2],
  ])('SplitV: %s', (_name, splits, axis) => same('SplitV', () => tf.split(x3, splits as number | number[], axis as number)));

  it.each([
    ['rows (axis 0)', 0, [4, 0, 4, 2]],
    ['axis 1 with repeats', 1, [5, 5, 0]],
    ['last axis', 2, [6, 1]],
  ])('GatherV2: %s', (_name, axis, idx) => same('GatherV2', () => tf.gather(x3, tf.tensor1d(idx as number[], 'int32'), axis as number)));

  it('GatherV2 with 2-D indices and on int32 data', () => {
    same('GatherV2', () => tf.gather(x3, tf.tensor2d([[0, 4], [3, 3]], [2, 2], 'int32'), 0));
    same('GatherV2', () => tf.gather(xi, tf.tensor1d([8, 0, 3], 'int32'), 0));
  });

  it('GatherV2 with batchDims = 1 matches the definition (the stock wasm kernel gets it wrong)', () => {
    registerHeapKernels(addon);
    const idx = [[1, 0], [5, 5], [2, 3], [0, 0], [4, 1]];
    const x = x3.arraySync() as number[][][];
    const expected = idx.map((row, b) => row.map((i) => x[b][i]));
    const out = tf.tidy(() => tf.gather(x3, tf.tensor2d(idx, [5, 2], 'int32'), 1, 1).arraySync());
    expect(out).toEqual(expected);
  });

  it('GatherV2 rejects an out-of-range index like the stock kernel', () => {
    registerHeapKernels(addon);
    const idx = tf.tensor1d([0, 5], 'int32');
    expect(() => tf.gather(x3, idx, 0)).toThrow(/index value 5 is not in \[0, 4\]/);
    idx.dispose();
  });

  it.each([
    ['2-D', [7, 9], [1, 0]],
    ['batched 2-D', [3, 5, 17], [0, 2, 1]],
    ['[B,T,H,D] → [B,H,T,D]', [2, 5, 3, 4], [0, 2, 1, 3]],
    ['[B,T,H,D] → [B,H,D,T]', [2, 5, 3, 4], [0, 2, 3, 1]],
    ['with size-1 axes', [1, 6, 1, 5], [3, 2, 1, 0]],
  ])('Transpose: %s', (_name, shape, perm) => {
    const t = rand(shape as number[]);
    same('Transpose', () => tf.transpose(t, perm as number[]));
    t.dispose();
  });

  it('Transpose in JavaScript (no addon) on float32, int32 and bool tensors', () => {
    unregisterHeapKernels();
    const f = rand([3, 40, 17]);
    const i = rand([33, 18], 'int32');
    const expected = tf.tidy(() => [tf.transpose(f, [0, 2, 1]), tf.transpose(i), tf.transpose(xb)].map((t) => Array.from(t.dataSync())));
    registerHeapKernels();
    const before = heapKernelCounters.Transpose.heap;
    const actual = tf.tidy(() => [tf.transpose(f, [0, 2, 1]), tf.transpose(i), tf.transpose(xb)].map((t) => Array.from(t.dataSync())));
    expect(heapKernelCounters.Transpose.heap).toBe(before + 3);
    expect(actual).toEqual(expected);
    tf.dispose([f, i]);
  });

  it('Transpose in JavaScript (no addon) on the reference step\'s shapes: the bits of the stock kernel, NaN payloads included', () => {
    unregisterHeapKernels();
    const big = rand([300, 130]);
    const heads = rand([4, 33, 4, 32]);
    const nan = tf.tensor(new Float32Array(new Int32Array([0x7fc00001, 0xff800001 | 0, 0x7f800000, -0x80000000, 0x3f800000, 0x7fa00000]).buffer), [2, 3]);
    const cases = () => [tf.transpose(big), tf.transpose(heads, [0, 2, 1, 3]), tf.transpose(heads, [0, 2, 3, 1]), tf.transpose(nan)];
    const bits = (ts: tf.Tensor[]) => ts.map((t) => Array.from(new Int32Array((t.dataSync() as Float32Array).slice().buffer)));
    const expected = tf.tidy(() => bits(cases()));
    registerHeapKernels();
    const before = heapKernelCounters.Transpose.heap;
    const actual = tf.tidy(() => bits(cases()));
    expect(heapKernelCounters.Transpose.heap).toBe(before + 4);
    expect(actual).toEqual(expected);
    tf.dispose([big, heads, nan]);
  });

  it('Transpose: a no-op permutation shares the buffer; other forms fall back to stock', () => {
    const t = rand([2, 1, 3]);
    same('Transpose', () => tf.transpose(t, [1, 0, 2]));
    t.dispose();
    // A full reversal of 3 axes does not reduce to out[a][c][b][d] = in[a][b][c][d].
    const r = rand([2, 3, 4]);
    const stockBefore = heapKernelCounters.Transpose.stock;
    same('Transpose', () => tf.transpose(r, [2, 1, 0]), false);
    expect(heapKernelCounters.Transpose.stock).toBeGreaterThan(stockBefore);
    r.dispose();
  });

  it.each([
    ['axis 0', 0, false],
    ['axes 0,1 keepDims', [0, 1], true],
    ['negative leading axis', -3, false],
  ])('Sum over leading axes: %s', (_name, axis, keepDims) => same('Sum', () => tf.sum(x3, axis as number | number[], keepDims as boolean)));

  it('Sum over other axes goes to the stock kernel', () => {
    same('Sum', () => tf.sum(x3, 2), false);
    same('Sum', () => tf.sum(x3), false);
  });

  it('Exp and Sqrt (native when the addon is built) match the stock kernels to float rounding', () => {
    const t = tf.tensor1d([-100, -3.5, -1e-3, 0, 0.5, 2, 20, 88, -0, Infinity, -Infinity, NaN]);
    for (const [kernel, f] of [['Exp', tf.exp], ['Sqrt', tf.sqrt]] as const) {
      unregisterHeapKernels();
      const expected = Array.from(tf.tidy(() => f(t).dataSync()));
      registerHeapKernels(addon);
      const before = heapKernelCounters[kernel].heap;
      const actual = Array.from(tf.tidy(() => f(t).dataSync()));
      expect(heapKernelCounters[kernel].heap > before).toBe(addon !== undefined);
      actual.forEach((v, i) => {
        if (Number.isNaN(expected[i]) || !Number.isFinite(expected[i])) expect(v).toBe(expected[i]);
        else expect(Math.abs(v - expected[i])).toBeLessThanOrEqual(2e-7 * Math.abs(expected[i]) + 1e-45);
      });
    }
    const big = rand([300, 70]);
    same('Exp', () => tf.sub(tf.exp(big), tf.exp(big)), addon !== undefined);
    big.dispose();
    t.dispose();
  });

  it('Add of two float32 tensors of one shape runs in the addon, to the bit, also x + x, ±0, inf and NaN; broadcasting and int32 adds stay stock', () => {
    const a = rand([37, 19]);
    const b = rand([37, 19]);
    const special = tf.tensor1d([0, -0, -0, Infinity, -Infinity, NaN, 1e38, 3e-39]);
    const special2 = tf.tensor1d([-0, 0, -0, -Infinity, 1, 2, 1e38, -3e-39]);
    same('Add', () => tf.add(a, b), addon !== undefined);
    same('Add', () => tf.add(a, a), addon !== undefined);
    same('Add', () => tf.add(special, special2), addon !== undefined);
    expect(Object.is(tf.tidy(() => tf.add(special, special2).dataSync()[2]), -0)).toBe(true);
    const row = rand([19]);
    same('Add', () => tf.add(a, row), false);
    same('Add', () => tf.add(xi, xi), false);
    tf.dispose([a, b, special, special2, row]);
  });

  it.each([
    ['equal batches', [4, 5, 3], [4, 3, 6]],
    ['broadcast b', [2, 3, 5, 3], [3, 6]],
    ['broadcast a', [5, 3], [4, 3, 6]],
  ])('BatchMatMul by rank-2 slices: %s', (_name, as, bs) => {
    const a = rand(as as number[]);
    const b = rand(bs as number[]);
    const expectHeap = (as as number[]).length <= 3 && (bs as number[]).length <= 3;
    unregisterHeapKernels();
    // Reference: the stock kernel on explicitly broadcast operands (same batch on both sides).
    const batch = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
    const expected = tf.tidy(() =>
      Array.from(tf.matMul(tf.broadcastTo(a, [...batch, ...a.shape.slice(-2)]), tf.broadcastTo(b, [...batch, ...b.shape.slice(-2)])).dataSync()),
    );
    registerHeapKernels();
    const before = heapKernelCounters.BatchMatMul.heap;
    const numTensors = tf.memory().numTensors;
    const actual = tf.tidy(() => Array.from(tf.matMul(a, b).dataSync()));
    expect(tf.memory().numTensors).toBe(numTensors);
    expect(heapKernelCounters.BatchMatMul.heap > before).toBe(expectHeap);
    actual.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 4));
    tf.dispose([a, b]);
  });

  it('Identity shares the buffer and survives disposing the source', () => {
    registerHeapKernels(addon);
    const a = rand([4, 4]);
    const expected = Array.from(a.dataSync());
    const b = tf.clone(a);
    a.dispose();
    expect(Array.from(b.dataSync())).toEqual(expected);
    b.dispose();
  });

  // (tf.gather has no gradient on wasm: UnsortedSegmentSum is not registered, docs/references.md#engine-rules.)
  it('gradients through slice, split and transpose are unchanged', () => {
    const w = rand([6, 8]);
    const f = (t: tf.Tensor) => {
      const [p, q] = tf.split(tf.transpose(t), [3, 5], 0);
      return tf.add(tf.sum(tf.square(p)), tf.add(tf.sum(tf.mul(q, 2)), tf.sum(tf.sin(tf.slice(t, [1, 2], [3, 4]))))) as tf.Scalar;
    };
    same('SplitV', () => tf.grad(f)(w));
    w.dispose();
  });
});
