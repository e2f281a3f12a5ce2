// Optional native matmul for the wasm backend: the Node-API addon in native/ (OpenBLAS
// `cblas_sgemm`) registered as the wasm backend's BatchMatMul kernel. It runs on views into the
// wasm heap (no copies), handles transposeA/B and batch broadcasting, and hands anything else
// (non-float32 inputs) to the stock wasm kernel. Why it matters: tfjs 4.22's wasm BatchMatMul only
// uses XNNPACK for rank-2 products without transpose flags; every transposed or batched product
// (all of backprop, all of attention) falls to a scalar loop at ~1 GFLOP/s (docs/references.md#engine-rules).
//
// Built by scripts/build-native.sh (run by scripts/setup.sh when cc + libopenblas-dev exist).
// Only the engine layer imports this module.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';

/** The addon's exports (native/matmul.c documents the arguments). */
export interface NativeAddon {
  sgemm(
    heap: Float32Array,
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    aOff: number,
    bOff: number,
    cOff: number,
    batch: number,
    aStride: number,
    bStride: number,
    cStride: number,
  ): void;
  /** Products of different shapes in one call: spec = (m, n, k, aOff, bOff, cOff) per group. */
  sgemmGrouped?(heap: Float32Array, transA: boolean, transB: boolean, spec: Float64Array): void;
  /** out[a][c][b][d] = x[a][b][c][d] on 4-byte elements; offsets in elements of `heap`. */
  transpose(heap: Float32Array | Int32Array, xOff: number, outOff: number, A: number, B: number, C: number, D: number): void;
  /** out[i] = f(x[i]) on n float32 elements; op 0 = exp, 1 = sqrt. */
  unary(op: 0 | 1, heap: Float32Array, xOff: number, outOff: number, n: number): void;
  /** out = a + b over n float32 elements (absent in builds before it existed). */
  fusedAdd?(heap: Float32Array, aOff: number, bOff: number, outOff: number, n: number): void;
  setThreads(threads: number): void;
  getThreads(): number;
  /** OpenBLAS build string, e.g. `OpenBLAS 0.3.21 … Haswell MAX_THREADS=64`. */
  config(): string;
}

export const NATIVE_ADDON_PATH = fileURLToPath(new URL('../../native/build/moelab_native.node', import.meta.url));

export type AddonLoad = { addon: NativeAddon; reason?: undefined } | { addon?: undefined; reason: string };

/** Load the addon, or say why it is unavailable (never throws). */
export function loadNativeAddon(path = NATIVE_ADDON_PATH): AddonLoad {
  if (!existsSync(path)) {
    return {
      reason:
        'not built (run `bash scripts/build-native.sh`; it needs a C compiler and libopenblas-dev, ' +
        'which `scripts/setup.sh --blas` installs)',
    };
  }
  try {
    return { addon: createRequire(import.meta.url)(path) as NativeAddon };
  } catch (err) {
    const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
    return { reason: `failed to load ${path}: ${msg} (rebuild with \`bash scripts/build-native.sh --force\`)` };
  }
}

// ---------------------------------------------------------------------------------------------
// Batch geometry (pure; shared by the kernel and its tests)

export interface MatmulGeometry {
  m: number;
  n: number;
  k: number;
  /** Broadcast batch shape of the output (may be empty). */
  batchShape: number[];
  /** Per output batch entry: the index of the A (resp. B) matrix it reads. */
  aIndex: (i: number) => number;
  bIndex: (i: number) => number;
  /** Uniform strides in matrices when the mapping is affine (same batch, or one side is 1). */
  aStep?: number;
  bStep?: number;
}

/** Shapes of a BatchMatMul (tfjs semantics: last two dims are the matrix, the rest broadcast). */
export function matmulGeometry(
  aShape: readonly number[],
  bShape: readonly number[],
  transposeA: boolean,
  transposeB: boolean,
): MatmulGeometry {
  const ar = aShape.length;
  const br = bShape.length;
  if (ar < 2 || br < 2) throw new Error(`BatchMatMul needs rank ≥ 2 inputs (got ${ar} and ${br})`);
  const m = transposeA ? aShape[ar - 1] : aShape[ar - 2];
  const k = transposeA ? aShape[ar - 2] : aShape[ar - 1];
  const kB = transposeB ? bShape[br - 1] : bShape[br - 2];
  const n = transposeB ? bShape[br - 2] : bShape[br - 1];
  if (k !== kB) {
    throw new Error(
      `Error in matMul: inner shapes (${k}) and (${kB}) of Tensors with shapes ${aShape} and ${bShape} ` +
        `and transposeA=${transposeA} and transposeB=${transposeB} must match.`,
    );
  }
  const aBatch = aShape.slice(0, -2);
  const bBatch = bShape.slice(0, -2);
  const batchShape = tf.broadcast_util.assertAndGetBroadcastShape(aBatch, bBatch);
  const size = (s: number[]) => s.reduce((p, d) => p * d, 1);
  const outCount = size(batchShape);
  const aCount = size(aBatch);
  const bCount = size(bBatch);
  const affine = (count: number) => (count === outCount ? 1 : count === 1 ? 0 : undefined);
  const aStep = affine(aCount);
  const bStep = affine(bCount);
  return {
    m,
    n,
    k,
    batchShape,
    aIndex: aStep !== undefined ? (i) => i * aStep : broadcastIndex(batchShape, aBatch),
    bIndex: bStep !== undefined ? (i) => i * bStep : broadcastIndex(batchShape, bBatch),
    aStep,
    bStep,
  };
}

/** Maps a flat index over `outShape` to the flat index of the broadcast input of `inShape`. */
function broadcastIndex(outShape: number[], inShape: number[]): (i: number) => number {
  const pad = outShape.length - inShape.length;
  return (i) => {
    let rem = i;
    let idx = 0;
    let inStride = 1;
    for (let d = outShape.length - 1; d >= 0; d--) {
      const coord = rem % outShape[d];
      rem = Math.floor(rem / outShape[d]);
      const inDim = d - pad >= 0 ? inShape[d - pad] : 1;
      if (inDim !== 1) idx += coord * inStride;
      inStride *= inDim;
    }
    return idx;
  };
}

// ---------------------------------------------------------------------------------------------
// Kernel registration

/** The parts of tfjs-backend-wasm 4.22's BackendWasm this kernel relies on. */
interface WasmBackendInternals {
  wasm: { HEAPF32: Float32Array };
  dataIdMap: { get(dataId: tf.DataId): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

let stockKernel: tf.KernelConfig | undefined;
let activeAddon: NativeAddon | undefined;
/** Calls that went to OpenBLAS vs to the stock kernel (observability for tests and bench). */
export const nativeMatmulCounters = { native: 0, stock: 0 };

/**
 * Kernel name the model looks up (src/model/kernels.ts) to learn that products with transpose flags
 * and batch dimensions are fast on the active backend: registered for wasm together with the
 * native BatchMatMul (it is that kernel under a second name). Without it the model keeps
 * flag-free rank-2 products, XNNPACK's only fast path.
 */
export const FLAGGED_MATMUL_KERNEL = 'MoelabFlaggedMatMul';

/**
 * Grouped products of a MoE layer's experts, one native call each (src/model/kernels.ts
 * groupedLinear), registered for wasm with the native matmul when the addon has sgemmGrouped:
 *   MoelabGroupedMatMul        {x [R, k], w0 … w(E−1)}, {counts, transposeB} → [R, n]: the rows of
 *                              group e (counts[e] of them, in order) times w_e ([k, n], or [n, k]
 *                              used transposed);
 *   MoelabGroupedMatMulWeights {x [R, k], dy [R, n]}, {counts} → E tensors [k, n]: x_eᵀ · dy_e
 *                              (zeros for an empty group).
 */
export const GROUPED_MATMUL_KERNEL = 'MoelabGroupedMatMul';
export const GROUPED_MATMUL_WEIGHTS_KERNEL = 'MoelabGroupedMatMulWeights';

export function isNativeMatmulRegistered(): boolean {
  return activeAddon !== undefined;
}

/**
 * Replace the wasm backend's BatchMatMul with the native kernel. Idempotent. The stock kernel is
 * kept for fallbacks and for `unregisterNativeMatmul`.
 */
export function registerNativeMatmul(addon: NativeAddon): void {
  if (activeAddon) {
    activeAddon = addon;
    return;
  }
  const stock = tf.getKernel('BatchMatMul', 'wasm');
  if (!stock) throw new Error('registerNativeMatmul: the wasm backend is not loaded (no BatchMatMul kernel)');
  stockKernel = stock;
  activeAddon = addon;
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel({
    kernelName: 'BatchMatMul',
    backendName: 'wasm',
    // The stock setup binds its wasm export; it must still run if the backend is (re)initialised.
    setupFunc: stock.setupFunc,
    kernelFunc: nativeBatchMatMul as unknown as tf.KernelFunc,
  });
  tf.registerKernel({ kernelName: FLAGGED_MATMUL_KERNEL, backendName: 'wasm', kernelFunc: nativeBatchMatMul as unknown as tf.KernelFunc });
  if (typeof addon.sgemmGrouped === 'function') {
    tf.registerKernel({ kernelName: GROUPED_MATMUL_KERNEL, backendName: 'wasm', kernelFunc: groupedMatMul as unknown as tf.KernelFunc });
    tf.registerKernel({ kernelName: GROUPED_MATMUL_WEIGHTS_KERNEL, backendName: 'wasm', kernelFunc: groupedMatMulWeights as unknown as tf.KernelFunc });
  }
}

/** Restore the stock wasm BatchMatMul (tests compare the two). */
export function unregisterNativeMatmul(): void {
  if (!activeAddon || !stockKernel) return;
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel(stockKernel);
  tf.unregisterKernel(FLAGGED_MATMUL_KERNEL, 'wasm');
  for (const name of [GROUPED_MATMUL_KERNEL, GROUPED_MATMUL_WEIGHTS_KERNEL]) {
    if (tf.getKernel(name, 'wasm')) tf.unregisterKernel(name, 'wasm');
  }
  activeAddon = undefined;
}

function nativeBatchMatMul(args: {
  inputs: { a: tf.TensorInfo; b: tf.TensorInfo };
  backend: WasmBackendInternals;
  attrs: { transposeA: boolean; transposeB: boolean };
}): tf.TensorInfo {
  const { inputs, backend, attrs } = args;
  const { a, b } = inputs;
  const addon = activeAddon;
  if (!addon || a.dtype !== 'float32' || b.dtype !== 'float32') {
    nativeMatmulCounters.stock++;
    return (stockKernel!.kernelFunc as unknown as (x: typeof args) => tf.TensorInfo)(args);
  }
  const g = matmulGeometry(a.shape, b.shape, attrs.transposeA, attrs.transposeB);
  const out = backend.makeOutput([...g.batchShape, g.m, g.n], 'float32');
  const batch = g.batchShape.reduce((p, d) => p * d, 1);
  if (batch * g.m * g.n === 0) return out;
  // Read the heap view after makeOutput: its malloc may have grown (and replaced) the wasm memory.
  const heap = backend.wasm.HEAPF32;
  const cOff = floatOffset(backend, out.dataId);
  if (g.k === 0) {
    heap.fill(0, cOff, cOff + batch * g.m * g.n);
    return out;
  }
  const aOff = floatOffset(backend, a.dataId);
  const bOff = floatOffset(backend, b.dataId);
  const aSize = g.m * g.k;
  const bSize = g.k * g.n;
  const cSize = g.m * g.n;
  nativeMatmulCounters.native++;
  if (g.aStep !== undefined && g.bStep !== undefined) {
    addon.sgemm(heap, attrs.transposeA, attrs.transposeB, g.m, g.n, g.k, aOff, bOff, cOff, batch,
      g.aStep * aSize, g.bStep * bSize, cSize);
    return out;
  }
  for (let i = 0; i < batch; i++) {
    addon.sgemm(heap, attrs.transposeA, attrs.transposeB, g.m, g.n, g.k, aOff + g.aIndex(i) * aSize,
      bOff + g.bIndex(i) * bSize, cOff + i * cSize, 1, 0, 0, 0);
  }
  return out;
}

function floatOffset(backend: WasmBackendInternals, dataId: tf.DataId): number {
  const data = backend.dataIdMap.get(dataId);
  if (!data) throw new Error('native BatchMatMul: input tensor has no wasm data (disposed?)');
  // The wasm malloc aligns to ≥ 8 bytes, so float32 tensors start on a float boundary.
  return data.memoryOffset >>> 2;
}

type GroupedArgs = {
  inputs: Record<string, tf.TensorInfo>;
  backend: WasmBackendInternals;
  attrs: { counts: number[]; transposeB?: boolean };
};

function checkCounts(name: string, counts: number[], rows: number): void {
  const total = counts.reduce((a, c) => a + c, 0);
  if (!counts.every((c) => Number.isInteger(c) && c >= 0) || total !== rows) {
    throw new Error(`${name}: group counts [${counts.join(', ')}] must be non-negative integers summing to the ${rows} rows`);
  }
}

function groupedMatMul({ inputs, backend, attrs }: GroupedArgs): tf.TensorInfo {
  const addon = activeAddon;
  const { x } = inputs;
  const { counts } = attrs;
  const transB = attrs.transposeB === true;
  const ws = counts.map((_, e) => inputs[`w${e}`]);
  if (!addon?.sgemmGrouped || ws.some((w) => w === undefined) || [x, ...ws].some((t) => t.dtype !== 'float32' || t.shape.length !== 2)) {
    throw new Error('MoelabGroupedMatMul: needs the native addon, float32 rank-2 x and one weight w<e> per group');
  }
  const [rows, k] = x.shape;
  checkCounts('MoelabGroupedMatMul', counts, rows);
  const n = transB ? ws[0].shape[0] : ws[0].shape[1];
  for (const w of ws) {
    const [wk, wn] = transB ? [w.shape[1], w.shape[0]] : [w.shape[0], w.shape[1]];
    if (wk !== k || wn !== n) throw new Error(`MoelabGroupedMatMul: weight shape [${w.shape}] does not fit x [${x.shape}] (transposeB ${transB})`);
  }
  const out = backend.makeOutput([rows, n], 'float32');
  if (rows * n === 0) return out;
  const xOff = floatOffset(backend, x.dataId);
  const cOff = floatOffset(backend, out.dataId);
  const spec: number[] = [];
  let row = 0;
  counts.forEach((c, e) => {
    if (c > 0) spec.push(c, n, k, xOff + row * k, floatOffset(backend, ws[e].dataId), cOff + row * n);
    row += c;
  });
  nativeMatmulCounters.native++;
  addon.sgemmGrouped(backend.wasm.HEAPF32, false, transB, Float64Array.from(spec));
  return out;
}

function groupedMatMulWeights({ inputs, backend, attrs }: GroupedArgs): tf.TensorInfo[] {
  const addon = activeAddon;
  const { x, dy } = inputs;
  const { counts } = attrs;
  if (!addon?.sgemmGrouped || [x, dy].some((t) => t.dtype !== 'float32' || t.shape.length !== 2) || x.shape[0] !== dy.shape[0]) {
    throw new Error('MoelabGroupedMatMulWeights: needs the native addon and float32 rank-2 x, dy with the same rows');
  }
  const [rows, k] = x.shape;
  const n = dy.shape[1];
  checkCounts('MoelabGroupedMatMulWeights', counts, rows);
  const outs = counts.map(() => backend.makeOutput([k, n], 'float32'));
  const xOff = floatOffset(backend, x.dataId);
  const dyOff = floatOffset(backend, dy.dataId);
  const spec: number[] = [];
  let row = 0;
  counts.forEach((c, e) => {
    spec.push(k, n, c, xOff + row * k, dyOff + row * n, floatOffset(backend, outs[e].dataId));
    row += c;
  });
  nativeMatmulCounters.native++;
  addon.sgemmGrouped(backend.wasm.HEAPF32, true, false, Float64Array.from(spec));
  return outs;
}
