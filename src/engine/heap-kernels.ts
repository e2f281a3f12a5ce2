// Data-movement kernels for the wasm backend that work on the wasm heap directly.
// Stock tfjs-backend-wasm 4.22 makes these far slower than a memory copy (measured on the
// reference step's shapes, 2 cores):
// - Slice (and SplitV, built on it) first copies the *whole input* out of the heap with readSync,
//   then copies the slice: 1.8 ms for 500 rows of a [2048, 512] tensor, 25 ms for a 4-way split;
// - GatherV2 moves one element at a time through generic strides: 15 ms for 2048 rows × 128;
// - Transpose of a large 2-D matrix walks the output with cache-hostile strides: 20 ms for
//   [2048, 512]; Sum over axis 0 transposes first (21 ms for [2048, 512]);
// - Identity (used by the autograd tape to save every tensor a gradient needs) copies the data,
//   though tensors are immutable.
// Replacements: byte copies of contiguous runs (TypedArray.copyWithin on the heap), column sums,
// a zero-copy Identity (a shared, reference-counted buffer, as the cpu backend and wasm's own
// Reshape do), and a tiled transpose (in the native addon when it is built, else in JavaScript).
// Anything outside their cases goes to the stock kernel. Pure JavaScript apart from the addon's
// parts: they also speed up machines without the native addon.
// BatchMatMul (for machines without the addon; the native kernel sits on top of it otherwise):
// stock wasm runs any product with a batch dimension on a scalar loop (~1 GFLOP/s: 240 of the
// 750 CPU ms of a pure-wasm reference step are the attention products [64 × 128×32·32×128]), so
// each batch entry is handed to the stock kernel as a rank-2 product, which takes XNNPACK's path.
// With the addon, Exp and Sqrt also run natively: the wasm binary's scalar exp and sqrt take
// 5-7 ns per element (3.4 ms for the [2048, 256] logits), glibc's 1.2-1.6 ns. So does Add of two
// float32 tensors of one shape (residual streams, gradient accumulation, the attention mask: 24
// calls per reference step): XNNPACK's 4-wide wasm add 0.30 ms for [2048, 128], the addon's
// AVX-512 loop well under it; IEEE adds either way, so the same bits. Broadcasting adds stay stock.
import * as tf from '@tensorflow/tfjs';
import { registerFusedKernels, unregisterFusedKernels } from './fused-kernels.ts';
import type { NativeAddon } from './native-matmul.ts';

/** The parts of tfjs-backend-wasm 4.22's BackendWasm these kernels use. */
interface HeapBackend {
  wasm: { HEAPU8: Uint8Array; HEAP32: Int32Array; HEAPF32: Float32Array };
  dataIdMap: { get(dataId: tf.DataId): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  incRef(dataId: tf.DataId): void;
}

type KernelArgs = { inputs: Record<string, tf.TensorInfo>; backend: HeapBackend; attrs: Record<string, unknown> };
type Kernel = (args: KernelArgs) => tf.TensorInfo | tf.TensorInfo[];

export const HEAP_KERNEL_NAMES = ['Identity', 'Slice', 'SplitV', 'GatherV2', 'Transpose', 'Sum', 'Exp', 'Sqrt', 'Add', 'BatchMatMul'] as const;

/** Calls handled here vs handed to the stock kernel, per kernel (tests and bench read these). */
export const heapKernelCounters: Record<string, { heap: number; stock: number }> = Object.fromEntries(
  HEAP_KERNEL_NAMES.map((k) => [k, { heap: 0, stock: 0 }]),
);

const stock = new Map<string, tf.KernelConfig>();
let addon: NativeAddon | undefined;

export function areHeapKernelsRegistered(): boolean {
  return stock.size > 0;
}

/**
 * Replace the stock wasm kernels named in HEAP_KERNEL_NAMES and register the fused kernels of
 * fused-kernels.ts. Idempotent. With `native` (the loaded addon), Transpose runs its tiled C
 * transpose and the fused kernels run in C.
 */
export function registerHeapKernels(native?: NativeAddon): void {
  addon = native;
  // The fused elementwise kernels (fused-kernels.ts) come and go with the heap kernels.
  registerFusedKernels(native);
  if (stock.size > 0) return;
  const impls: Record<(typeof HEAP_KERNEL_NAMES)[number], Kernel> = {
    Identity: identity,
    Slice: slice,
    SplitV: splitV,
    GatherV2: gatherV2,
    Transpose: transpose,
    Sum: sum,
    Exp: (args) => unary(args, 'Exp', 0),
    Sqrt: (args) => unary(args, 'Sqrt', 1),
    Add: add,
    BatchMatMul: batchMatMulBySlices,
  };
  tf.registerKernel({ kernelName: BATCHED_MATMUL_KERNEL, backendName: 'wasm', kernelFunc: batchMatMulBySlices as unknown as tf.KernelFunc });
  for (const name of HEAP_KERNEL_NAMES) {
    const config = tf.getKernel(name, 'wasm');
    if (!config) throw new Error(`registerHeapKernels: the wasm backend has no ${name} kernel (is it loaded?)`);
    stock.set(name, config);
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({ ...config, kernelFunc: impls[name] as unknown as tf.KernelFunc });
  }
}

/**
 * Kernel name the model looks up (src/model/kernels.ts) to learn that batched products without
 * transpose flags run as rank-2 XNNPACK products (batchMatMulBySlices below) rather than wasm's
 * scalar loop: registered with the heap kernels (it is that kernel under a second name).
 */
export const BATCHED_MATMUL_KERNEL = 'MoelabBatchedMatMul';

/** Restore the stock kernels (tests compare the two). */
export function unregisterHeapKernels(): void {
  if (tf.getKernel(BATCHED_MATMUL_KERNEL, 'wasm')) tf.unregisterKernel(BATCHED_MATMUL_KERNEL, 'wasm');
  for (const [name, config] of stock) {
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel(config);
  }
  stock.clear();
  addon = undefined;
  unregisterFusedKernels();
}

function callStock(name: string, args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] {
  heapKernelCounters[name].stock++;
  const config = stock.get(name);
  if (!config) throw new Error(`heap kernel ${name}: stock kernel missing`);
  return (config.kernelFunc as unknown as Kernel)(args);
}

const BYTES: Partial<Record<tf.DataType, number>> = { float32: 4, int32: 4, bool: 1 };

function byteOffset(backend: HeapBackend, t: tf.TensorInfo): number {
  const data = backend.dataIdMap.get(t.dataId);
  if (!data) throw new Error('heap kernel: input tensor has no wasm data (disposed?)');
  return data.memoryOffset;
}

const size = (shape: readonly number[]) => shape.reduce((p, d) => p * d, 1);

function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

// ---------------------------------------------------------------------------------------------

function identity(args: KernelArgs): tf.TensorInfo {
  const { x } = args.inputs;
  if (BYTES[x.dtype] === undefined) return callStock('Identity', args) as tf.TensorInfo;
  heapKernelCounters.Identity.heap++;
  args.backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

/** Copy the box begin…begin+size of x (any rank) into `out`, as contiguous byte runs. */
function copyBox(backend: HeapBackend, x: tf.TensorInfo, begin: number[], box: number[], outByte: number): void {
  const bpe = BYTES[x.dtype]!;
  const rank = x.shape.length;
  // Axes from `d` on are copied whole: one run per index of the axes before `d`.
  let d = rank - 1;
  while (d > 0 && begin[d] === 0 && box[d] === x.shape[d]) d--;
  const xs = strides(x.shape);
  const run = box[d] * xs[d] * bpe;
  const heap = backend.wasm.HEAPU8;
  const xByte = byteOffset(backend, x);
  const outer = box.slice(0, d);
  const idx = new Array<number>(d).fill(0);
  const count = size(outer);
  let dst = outByte;
  for (let n = 0; n < count; n++) {
    let src = begin[d] * xs[d];
    for (let a = 0; a < d; a++) src += (begin[a] + idx[a]) * xs[a];
    heap.copyWithin(dst, xByte + src * bpe, xByte + src * bpe + run);
    dst += run;
    for (let a = d - 1; a >= 0; a--) {
      if (++idx[a] < outer[a]) break;
      idx[a] = 0;
    }
  }
}

function slice(args: KernelArgs): tf.TensorInfo {
  const { x } = args.inputs;
  if (BYTES[x.dtype] === undefined || x.shape.length === 0) return callStock('Slice', args) as tf.TensorInfo;
  heapKernelCounters.Slice.heap++;
  const [begin, box] = tf.slice_util.parseSliceParams(x as tf.Tensor, args.attrs.begin as number[], args.attrs.size as number[]);
  const out = args.backend.makeOutput(box, x.dtype);
  if (size(box) > 0) copyBox(args.backend, x, begin, box, byteOffset(args.backend, out));
  return out;
}

function splitV(args: KernelArgs): tf.TensorInfo[] {
  const { x } = args.inputs;
  if (BYTES[x.dtype] === undefined || x.shape.length === 0) return callStock('SplitV', args) as tf.TensorInfo[];
  heapKernelCounters.SplitV.heap++;
  const axis = tf.util.parseAxisParam(args.attrs.axis as number, x.shape)[0];
  const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, args.attrs.numOrSizeSplits as number | number[], axis);
  const begin = new Array<number>(x.shape.length).fill(0);
  return sizes.map((s) => {
    const box = [...x.shape];
    box[axis] = s;
    const out = args.backend.makeOutput(box, x.dtype);
    if (size(box) > 0) copyBox(args.backend, x, [...begin], box, byteOffset(args.backend, out));
    begin[axis] += s;
    return out;
  });
}

function gatherV2(args: KernelArgs): tf.TensorInfo {
  const { x, indices } = args.inputs;
  const bpe = BYTES[x.dtype];
  if (bpe === undefined || indices.dtype !== 'int32') return callStock('GatherV2', args) as tf.TensorInfo;
  heapKernelCounters.GatherV2.heap++;
  const { backend } = args;
  const axis = tf.util.parseAxisParam(args.attrs.axis as number, x.shape)[0];
  const info = tf.backend_util.segment_util.collectGatherOpShapeInfo(
    x as tf.Tensor,
    indices as tf.Tensor,
    axis,
    (args.attrs.batchDims as number) ?? 0,
  );
  const numIdx = size(indices.shape);
  const idx = backend.wasm.HEAP32.slice(byteOffset(backend, indices) >>> 2, (byteOffset(backend, indices) >>> 2) + numIdx);
  const dimSize = info.dimSize;
  for (let i = 0; i < numIdx; i++) {
    if (!(idx[i] >= 0 && idx[i] <= dimSize - 1)) {
      throw new Error(`GatherV2: the index value ${idx[i]} is not in [0, ${dimSize - 1}]`);
    }
  }
  const out = backend.makeOutput(info.outputShape, x.dtype);
  if (size(x.shape) === 0 || size(info.outputShape) === 0) return out;
  const perBatch = numIdx / info.batchSize;
  const run = info.sliceSize * bpe;
  const heap = backend.wasm.HEAPU8;
  const xByte = byteOffset(backend, x);
  let dst = byteOffset(backend, out);
  for (let b = 0; b < info.batchSize; b++) {
    for (let o = 0; o < info.outerSize; o++) {
      const rowBase = (b * info.outerSize + o) * dimSize;
      for (let i = 0; i < perBatch; i++) {
        const src = xByte + (rowBase + idx[b * perBatch + i]) * run;
        heap.copyWithin(dst, src, src + run);
        dst += run;
      }
    }
  }
  return out;
}

/**
 * Drop size-1 axes, then merge axes that stay adjacent and in order under the permutation:
 * [B, T, H, D] with perm [0, 2, 3, 1] becomes [B, T, H·D] with perm [0, 2, 1].
 */
export function collapsePermutation(shape: readonly number[], perm: readonly number[]): { shape: number[]; perm: number[] } {
  const keep = shape.map((d) => d !== 1);
  const kept = perm.filter((p) => keep[p]);
  // Renumber surviving axes 0..k-1 in input order.
  const rank = new Map<number, number>();
  shape.forEach((_, i) => keep[i] && rank.set(i, rank.size));
  const p = kept.map((a) => rank.get(a)!);
  const s = shape.filter((d) => d !== 1);
  // Group runs of consecutive input axes that appear consecutively in p.
  const groups: number[][] = [];
  for (const a of p) {
    const last = groups[groups.length - 1];
    if (last && last[last.length - 1] + 1 === a) last.push(a);
    else groups.push([a]);
  }
  const order = [...groups].sort((g1, g2) => g1[0] - g2[0]);
  const newShape = order.map((g) => g.reduce((acc, a) => acc * s[a], 1));
  const newPerm = groups.map((g) => order.indexOf(g));
  return { shape: newShape, perm: newPerm };
}

/** out[a][c][b][d] = in[a][b][c][d]: every transpose the model issues reduces to this form. */
function swapMiddle(c: { shape: number[]; perm: number[] }): [number, number, number, number] | undefined {
  const { shape: s, perm: p } = c;
  const key = p.join(',');
  if (key === '1,0') return [1, s[0], s[1], 1];
  if (key === '0,2,1') return [s[0], s[1], s[2], 1];
  if (key === '1,0,2') return [1, s[0], s[1], s[2]];
  if (key === '0,2,1,3') return [s[0], s[1], s[2], s[3]];
  return undefined;
}

function transpose(args: KernelArgs): tf.TensorInfo {
  const { x } = args.inputs;
  const perm = args.attrs.perm as number[];
  const bpe = BYTES[x.dtype];
  const outShape = perm.map((p) => x.shape[p]);
  const collapsed = collapsePermutation(x.shape, perm);
  const isNoOp = collapsed.perm.every((p, i) => p === i);
  const form = isNoOp ? undefined : swapMiddle(collapsed);
  if (bpe === undefined || (!isNoOp && !form)) return callStock('Transpose', args) as tf.TensorInfo;
  heapKernelCounters.Transpose.heap++;
  const { backend } = args;
  if (isNoOp) {
    // Same memory order: share the buffer (tensors are immutable).
    backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: outShape, dtype: x.dtype };
  }
  const out = backend.makeOutput(outShape, x.dtype);
  if (size(x.shape) === 0) return out;
  const [A, B, C, D] = form!;
  if (addon && bpe === 4) {
    addon.transpose(backend.wasm.HEAP32, byteOffset(backend, x) >>> 2, byteOffset(backend, out) >>> 2, A, B, C, D);
  } else {
    transposeJs(bpe === 4 ? backend.wasm.HEAP32 : backend.wasm.HEAPU8, byteOffset(backend, x) / bpe, byteOffset(backend, out) / bpe, A, B, C, D);
  }
  return out;
}

const TILE = 32;

/**
 * out[a][c][b][d] = x[a][b][c][d] (JavaScript, without the addon). Element copies of 4-byte
 * integers (or bytes): the bits move unchanged. Per shape (CPU ms on this machine, the previous
 * tiled loop → this): [2048, 512] 3.1 → 1.3, [2048, 128] 0.76 → 0.28, [128, 512] 0.18 → 0.07;
 * [16, 128, 4, 32] with perm [0, 2, 1, 3] 0.36 → 0.15.
 */
export function transposeJs(v: Int32Array | Uint8Array, xi: number, oi: number, A: number, B: number, C: number, D: number): void {
  const block = B * C * D;
  for (let a = 0; a < A; a++) {
    const xa = xi + a * block;
    const oa = oi + a * block;
    if (D === 1) transpose2d(v, xa, oa, B, C);
    else if (D >= 16) transposeRuns(v, xa, oa, B, C, D);
    else transposeShortRuns(v, xa, oa, B, C, D);
  }
}

/**
 * out[c][b] = x[b][c] for x [B, C], in TILE×TILE tiles; within a tile each output row is written
 * four elements at a time from four input rows.
 */
function transpose2d(v: Int32Array | Uint8Array, xi: number, oi: number, B: number, C: number): void {
  for (let b0 = 0; b0 < B; b0 += TILE) {
    const b1 = b0 + TILE < B ? b0 + TILE : B;
    for (let c0 = 0; c0 < C; c0 += TILE) {
      const c1 = c0 + TILE < C ? c0 + TILE : C;
      for (let c = c0; c < c1; c++) {
        let src = xi + b0 * C + c;
        let dst = oi + c * B + b0;
        let b = b0;
        for (; b + 4 <= b1; b += 4) {
          const x0 = v[src];
          const x1 = v[src + C];
          const x2 = v[src + 2 * C];
          const x3 = v[src + 3 * C];
          v[dst] = x0;
          v[dst + 1] = x1;
          v[dst + 2] = x2;
          v[dst + 3] = x3;
          src += 4 * C;
          dst += 4;
        }
        for (; b < b1; b++) {
          v[dst++] = v[src];
          src += C;
        }
      }
    }
  }
}

/** out[c][b][:] = x[b][c][:] with runs of D ≥ 16 elements: one copyWithin per run. */
function transposeRuns(v: Int32Array | Uint8Array, xi: number, oi: number, B: number, C: number, D: number): void {
  for (let c = 0; c < C; c++) {
    let dst = oi + c * B * D;
    let src = xi + c * D;
    for (let b = 0; b < B; b++) {
      v.copyWithin(dst, src, src + D);
      dst += D;
      src += C * D;
    }
  }
}

/** The same with short runs (2 ≤ D < 16): element loops. */
function transposeShortRuns(v: Int32Array | Uint8Array, xi: number, oi: number, B: number, C: number, D: number): void {
  for (let c = 0; c < C; c++) {
    let dst = oi + c * B * D;
    let src = xi + c * D;
    for (let b = 0; b < B; b++) {
      for (let d = 0; d < D; d++) v[dst + d] = v[src + d];
      dst += D;
      src += C * D;
    }
  }
}

/** Sum over leading axes (column sums), e.g. a norm gain's gradient over all rows; else stock. */
function sum(args: KernelArgs): tf.TensorInfo {
  const { x } = args.inputs;
  const rank = x.shape.length;
  const axes = tf.util.parseAxisParam(args.attrs.axis as number | number[], x.shape).sort((a, b) => a - b);
  const leading = axes.length > 0 && axes.length < rank && axes.every((a, i) => a === i);
  if (x.dtype !== 'float32' || !leading) return callStock('Sum', args) as tf.TensorInfo;
  heapKernelCounters.Sum.heap++;
  const { backend } = args;
  const inner = size(x.shape.slice(axes.length));
  const rows = size(x.shape.slice(0, axes.length));
  const outShape = args.attrs.keepDims ? x.shape.map((d, i) => (i < axes.length ? 1 : d)) : x.shape.slice(axes.length);
  const out = backend.makeOutput(outShape, 'float32');
  const heap = backend.wasm.HEAPF32;
  const xi = byteOffset(backend, x) >>> 2;
  const oi = byteOffset(backend, out) >>> 2;
  // Accumulate in float64 (stock accumulates in float32; the difference is rounding only).
  const acc = new Float64Array(inner);
  for (let r = 0; r < rows; r++) {
    const base = xi + r * inner;
    for (let k = 0; k < inner; k++) acc[k] += heap[base + k];
  }
  for (let k = 0; k < inner; k++) heap[oi + k] = acc[k];
  return out;
}

/** Exp / Sqrt of a float32 tensor through the native addon (stock without it). */
function unary(args: KernelArgs, name: 'Exp' | 'Sqrt', op: 0 | 1): tf.TensorInfo {
  const { x } = args.inputs;
  if (!addon || x.dtype !== 'float32') return callStock(name, args) as tf.TensorInfo;
  heapKernelCounters[name].heap++;
  const { backend } = args;
  const out = backend.makeOutput([...x.shape], 'float32');
  const n = size(x.shape);
  if (n > 0) addon.unary(op, backend.wasm.HEAPF32, byteOffset(backend, x) >>> 2, byteOffset(backend, out) >>> 2, n);
  return out;
}

/** a + b for two float32 tensors of one shape, in the addon; anything else (broadcast, int32) stock. */
function add(args: KernelArgs): tf.TensorInfo {
  const { a, b } = args.inputs;
  const same = a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);
  if (!addon?.fusedAdd || a.dtype !== 'float32' || b.dtype !== 'float32' || !same) return callStock('Add', args) as tf.TensorInfo;
  heapKernelCounters.Add.heap++;
  const { backend } = args;
  const out = backend.makeOutput([...a.shape], 'float32');
  const n = size(a.shape);
  if (n > 0) addon.fusedAdd(backend.wasm.HEAPF32, byteOffset(backend, a) >>> 2, byteOffset(backend, b) >>> 2, byteOffset(backend, out) >>> 2, n);
  return out;
}

/** The wasm internals a zero-copy view tensor needs (tfjs-backend-wasm 4.22). */
interface ViewBackend extends HeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number): tf.TensorInfo;
  disposeData(dataId: tf.DataId): boolean;
  wasm: HeapBackend['wasm'] & { tfjs: { disposeData(id: number): void } };
  dataIdMap: HeapBackend['dataIdMap'] & { delete(dataId: tf.DataId): boolean };
}

/**
 * A float32 product with a batch dimension and no transpose flags, as one rank-2 stock product per
 * batch entry on views of the inputs (registered at their heap offsets, never copied or freed).
 */
function batchMatMulBySlices(args: KernelArgs): tf.TensorInfo {
  const { a, b } = args.inputs;
  const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
  const ar = a.shape.length;
  const br = b.shape.length;
  const batchA = size(a.shape.slice(0, -2));
  const batchB = size(b.shape.slice(0, -2));
  const batch = Math.max(batchA, batchB);
  const simple = (batchA === batch || batchA === 1) && (batchB === batch || batchB === 1);
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || transposeA || transposeB || batch <= 1 || !simple ||
      a.shape[ar - 1] !== b.shape[br - 2] || ar > 3 || br > 3) {
    return callStock('BatchMatMul', args) as tf.TensorInfo;
  }
  heapKernelCounters.BatchMatMul.heap++;
  const backend = args.backend as ViewBackend;
  const [m, k] = a.shape.slice(-2);
  const n = b.shape[br - 1];
  const outShape = [...(batchA >= batchB ? a.shape.slice(0, -2) : b.shape.slice(0, -2)), m, n];
  const out = backend.makeOutput(outShape, 'float32');
  if (batch * m * n === 0) return out;
  const aByte = byteOffset(backend, a);
  const bByte = byteOffset(backend, b);
  const outByte = byteOffset(backend, out);
  const view = (byte: number, shape: number[]) => backend.makeOutput(shape, 'float32', byte);
  const release = (t: tf.TensorInfo) => {
    // Forget the view without freeing its memory (it belongs to the input tensor).
    backend.wasm.tfjs.disposeData((backend.dataIdMap.get(t.dataId) as unknown as { id: number }).id);
    backend.dataIdMap.delete(t.dataId);
  };
  const stockMatMul = stock.get('BatchMatMul')!.kernelFunc as unknown as Kernel;
  for (let i = 0; i < batch; i++) {
    const ai = view(aByte + (batchA === 1 ? 0 : i * m * k * 4), [m, k]);
    const bi = view(bByte + (batchB === 1 ? 0 : i * k * n * 4), [k, n]);
    const ci = stockMatMul({ inputs: { a: ai, b: bi }, backend, attrs: { transposeA: false, transposeB: false } }) as tf.TensorInfo;
    const src = byteOffset(backend, ci);
    backend.wasm.HEAPU8.copyWithin(outByte + i * m * n * 4, src, src + m * n * 4);
    backend.disposeData(ci.dataId);
    release(ai);
    release(bi);
  }
  return out;
}
