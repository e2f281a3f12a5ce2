import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  loadNativeAddon,
  matmulGeometry,
  nativeMatmulCounters,
  registerNativeMatmul,
  unregisterNativeMatmul,
} from '../../src/engine/native-matmul.ts';
import { createRng } from '../../src/util/rng.ts';

describe('matmulGeometry (pure)', () => {
  it('reads m, n, k through the transpose flags', () => {
    expect(matmulGeometry([2, 3], [3, 4], false, false)).toMatchObject({ m: 2, n: 4, k: 3, batchShape: [] });
    expect(matmulGeometry([3, 2], [3, 4], true, false)).toMatchObject({ m: 2, n: 4, k: 3 });
    expect(matmulGeometry([2, 3], [4, 3], false, true)).toMatchObject({ m: 2, n: 4, k: 3 });
    expect(matmulGeometry([3, 2], [4, 3], true, true)).toMatchObject({ m: 2, n: 4, k: 3 });
  });

  it('rejects mismatched inner dimensions with the shapes in the message', () => {
    expect(() => matmulGeometry([2, 3], [4, 5], false, false)).toThrow(/inner shapes \(3\) and \(4\).*2,3 and 4,5/);
  });

  it('uses uniform strides for equal batches and for a batch of one', () => {
    const same = matmulGeometry([5, 2, 3], [5, 3, 4], false, false);
    expect(same).toMatchObject({ batchShape: [5], aStep: 1, bStep: 1 });
    const bcast = matmulGeometry([2, 5, 2, 3], [3, 4], false, false);
    expect(bcast).toMatchObject({ batchShape: [2, 5], aStep: 1, bStep: 0 });
  });

  it('maps general broadcast batches ([2,1] × [1,3] → [2,3]) to the right input matrices', () => {
    const g = matmulGeometry([2, 1, 4, 4], [1, 3, 4, 4], false, false);
    expect(g.batchShape).toEqual([2, 3]);
    expect(g.aStep).toBeUndefined();
    expect([0, 1, 2, 3, 4, 5].map(g.aIndex)).toEqual([0, 0, 0, 1, 1, 1]);
    expect([0, 1, 2, 3, 4, 5].map(g.bIndex)).toEqual([0, 1, 2, 0, 1, 2]);
    // Rank mismatch: a's batch [3] against out [2, 3].
    const r = matmulGeometry([3, 4, 4], [2, 3, 4, 4], false, false);
    expect([0, 1, 2, 3, 4, 5].map(r.aIndex)).toEqual([0, 1, 2, 0, 1, 2]);
    expect(r.bStep).toBe(1);
  });
});

describe('native addon build and loading', () => {
  it('a missing addon is reported with how to build it, never thrown', () => {
    const r = loadNativeAddon('/nonexistent/moelab_native.node');
    expect(r.addon).toBeUndefined();
    expect(r.reason).toMatch(/not built \(run `bash scripts\/build-native.sh`; it needs a C compiler and libopenblas-dev/);
  });

  it('build-native.sh without a compiler exits 3 and says the engine falls back to pure wasm', () => {
    const r = spawnSync('bash', ['scripts/build-native.sh'], { env: { ...process.env, CC: 'no-such-cc' }, encoding: 'utf8' });
    expect(r.status).toBe(3);
    expect(r.stdout).toMatch(/no C compiler \(no-such-cc\) found: native matmul not built; the engine will use pure wasm/);
  });
});

const load = loadNativeAddon();

describe.skipIf(!load.addon)(`native matmul kernel on wasm${load.addon ? '' : ` (skipped: ${load.reason})`}`, () => {
  const addon = load.addon!;
  const rng = createRng(10);
  const randomTensor = (shape: number[]) => {
    const size = shape.reduce((p, d) => p * d, 1);
    const values = new Float32Array(size);
    for (let i = 0; i < size; i++) values[i] = rng.normal();
    return tf.tensor(values, shape);
  };

  beforeAll(async () => {
    await tf.setBackend('wasm');
    await tf.ready();
  });

  /** Runs `f` with the stock kernel, then with the native one; returns both results as arrays. */
  function stockAndNative(f: () => tf.Tensor | tf.Tensor[]): { stock: Float32Array[]; native: Float32Array[] } {
    const run = () =>
      tf.tidy(() => {
        const out = f();
        return Array.isArray(out) ? out : [out];
      });
    unregisterNativeMatmul();
    const stockOut = run();
    registerNativeMatmul(addon);
    const before = nativeMatmulCounters.native;
    const nativeOut = run();
    expect(nativeMatmulCounters.native).toBeGreaterThan(before);
    const read = (ts: tf.Tensor[]) => ts.map((t) => t.dataSync() as Float32Array);
    const result = { stock: read(stockOut), native: read(nativeOut) };
    tf.dispose([...stockOut, ...nativeOut]);
    return result;
  }

  function expectClose(actual: Float32Array, expected: Float32Array, tol = 1e-4) {
    expect(actual.length).toBe(expected.length);
    let worst = 0;
    for (let i = 0; i < actual.length; i++) {
      worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / (1 + Math.abs(expected[i])));
    }
    expect(worst).toBeLessThan(tol);
  }

  const cases: { a: number[]; b: number[]; ta: boolean; tb: boolean }[] = [
    { a: [7, 5], b: [5, 3], ta: false, tb: false },
    { a: [5, 7], b: [5, 3], ta: true, tb: false },
    { a: [7, 5], b: [3, 5], ta: false, tb: true },
    { a: [5, 7], b: [3, 5], ta: true, tb: true },
    { a: [1, 1], b: [1, 1], ta: false, tb: false },
    { a: [64, 33], b: [33, 65], ta: false, tb: false },
    { a: [4, 9, 6], b: [4, 6, 11], ta: false, tb: false },
    { a: [4, 6, 9], b: [4, 11, 6], ta: true, tb: true },
    { a: [2, 3, 9, 6], b: [6, 5], ta: false, tb: false },
    { a: [9, 6], b: [3, 6, 5], ta: false, tb: false },
    { a: [2, 1, 4, 6], b: [1, 3, 6, 5], ta: false, tb: false },
    { a: [3, 6, 4], b: [2, 3, 5, 6], ta: true, tb: true },
  ];
  for (const c of cases) {
    it(`equals the stock kernel for [${c.a}]${c.ta ? 'ᵀ' : ''} · [${c.b}]${c.tb ? 'ᵀ' : ''}`, () => {
      const a = randomTensor(c.a);
      const b = randomTensor(c.b);
      // The stock wasm kernel mishandles general batch broadcasting ([2,1]×[1,3] gives 3 matrices,
      // not 6), so the reference broadcasts the batch dimensions explicitly first.
      const batch = matmulGeometry(c.a, c.b, c.ta, c.tb).batchShape;
      const full = (t: tf.Tensor) => (batch.length ? tf.broadcastTo(t, [...batch, ...t.shape.slice(-2)]) : t);
      unregisterNativeMatmul();
      const expected = tf.tidy(() => tf.matMul(full(a), full(b), c.ta, c.tb).dataSync());
      const { native } = stockAndNative(() => tf.matMul(a, b, c.ta, c.tb));
      expectClose(native[0], expected as Float32Array);
      tf.dispose([a, b]);
    });
  }

  it('gives the same gradients through tf.matMul (backprop uses transposed products)', () => {
    const x = randomTensor([2, 12, 8]);
    const w = randomTensor([8, 10]);
    const v = randomTensor([2, 12, 10]);
    const f = (xx: tf.Tensor, ww: tf.Tensor) =>
      tf.sum(tf.mul(tf.tanh(tf.matMul(xx, tf.broadcastTo(ww, [2, 8, 10]))), v)) as tf.Scalar;
    const { stock, native } = stockAndNative(() => tf.grads(f)([x, w]));
    expectClose(native[0], stock[0]);
    expectClose(native[1], stock[1]);
    tf.dispose([x, w, v]);
  });

  it('handles empty products and k = 0 (zeros), without leaking tensors', () => {
    registerNativeMatmul(addon);
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      expect(tf.matMul(tf.zeros([0, 3]), tf.zeros([3, 4])).shape).toEqual([0, 4]);
      expect(Array.from(tf.matMul(tf.zeros([2, 0]), tf.zeros([0, 3])).dataSync())).toEqual([0, 0, 0, 0, 0, 0]);
    });
    const a = randomTensor([16, 16]);
    tf.tidy(() => {
      tf.matMul(a, a, true, false);
    });
    a.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('stays correct after the wasm heap grows between calls', () => {
    registerNativeMatmul(addon);
    const a = randomTensor([32, 16]);
    const b = randomTensor([16, 8]);
    const first = tf.tidy(() => tf.matMul(a, b).dataSync());
    const big = tf.zeros([64 * 1024 * 1024]); // 256 MB: forces memory.grow, which replaces the heap view
    const second = tf.tidy(() => tf.matMul(a, b).dataSync());
    big.dispose();
    expectClose(second as Float32Array, first as Float32Array, 1e-7);
    tf.dispose([a, b]);
  });

  it('hands non-float32 inputs to the stock kernel', () => {
    registerNativeMatmul(addon);
    const stockBefore = nativeMatmulCounters.stock;
    const a = tf.tensor2d([[1, 2]], [1, 2], 'int32');
    expect(() => tf.matMul(a, a, false, true)).toThrow(/non-float32|non non-float32/);
    expect(nativeMatmulCounters.stock).toBe(stockBefore + 1);
    a.dispose();
  });

  it('the addon checks its arguments before touching memory', () => {
    const heap = new Float32Array(8);
    expect(() => addon.sgemm(heap, false, false, 2, 2, 2, 0, 4, 6, 1, 0, 0, 0)).toThrow(/past the end of the heap/);
    expect(() => addon.sgemm(new Float64Array(8) as unknown as Float32Array, false, false, 1, 1, 1, 0, 0, 0, 1, 0, 0, 0)).toThrow(
      /Float32Array/,
    );
    expect(() => addon.sgemm(heap, false, false, -1, 1, 1, 0, 0, 0, 1, 0, 0, 0)).toThrow(/m must be a non-negative integer/);
    const h = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8, -1, -1, -1, -1]);
    addon.sgemm(h, false, false, 2, 2, 2, 0, 4, 8, 1, 0, 0, 0);
    // [[1,2],[3,4]] · [[5,6],[7,8]] = [[19,22],[43,50]]; beta = 0 overwrites the old C.
    expect(Array.from(h.subarray(8))).toEqual([19, 22, 43, 50]);
  });
});
