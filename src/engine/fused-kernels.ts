// Fused elementwise kernels for the wasm backend: one kernel call for each chain the model and the
// optimizer would otherwise issue as 5-15 stock ops (each a pass over memory, a kernel dispatch
// and, inside a gradient, a tape entry). They run on the wasm heap in place: in C when the native
// addon is built (native/matmul.c, the `fused*` exports), else as the JavaScript loops below (the
// pure-wasm fallback; there only RMSNorm, softmax cross-entropy and RoPE, the ones that beat the
// stock ops, see JS_FUSED_KERNEL_NAMES). Both follow the same arithmetic, documented per kernel.
//
// They are registered under their own kernel names (MoelabRmsNorm, …) for the wasm backend only;
// src/model/kernels.ts and src/train/optimizer.ts look the names up in tf.js's kernel registry for
// the active backend and keep the stock tf.* composition wherever they are absent (other backends,
// heap kernels turned off). The gradients stay the model's tf.customGrad ops: a fused forward
// kernel plus a fused backward kernel per op.
//
// Kernels (float32, row-major; r = 1/√(mean(x²) + eps) per row):
//   MoelabRmsNorm       {x [rows, w], g [w]}, {eps}          → [y = x·r⊙g, r [rows, 1]]
//   MoelabRmsNormGrad   {dy, x, r, g}                         → [dx = r·(a − x̂·mean(a⊙x̂)), dg = Σ_rows dy⊙x̂]
//                                                              with a = dy⊙g, x̂ = x·r
//   MoelabSwiglu        {a, b}                                → [h = a·σ(a)⊙b]
//   MoelabSwigluGrad    {dy, a, b}                            → [da = dy⊙b⊙σ(a)(1 + a(1 − σ(a))), db = dy⊙a·σ(a)]
//   MoelabSoftmaxXent   {logits [rows, V], targets int32 [rows]} → [loss = mean(lse − z_t) (scalar),
//                                                              dlogits = (softmax − onehot) / rows]
//   MoelabAdamW         {p, g, m, v} (flat, same length), {beta1, beta2, clipScale, decay, stepSize,
//                        bc2Sqrt, eps}                         → [p', m', v'] (src/train/optimizer.ts:
//                        g·clip; m' = β1m + (1−β1)g; v' = β2v + (1−β2)g²; p' = p·decay − stepSize·m'/(√v'/bc2Sqrt + ε),
//                        every operation rounded to float32 in that order, as the stock composition)
//   MoelabSumSquares    {x}                                   → [Σ x² (scalar, float64 partial sums)]
//   MoelabAdamWMulti    {m, v, p0…pk−1, g0…gk−1}, {count: k, and MoelabAdamW's} → [m', v', p0'…pk−1']:
//                        MoelabAdamW on a segment whose weights and gradients are separate tensors
//                        (the moments flat over them in order), bit-identical to MoelabAdamW on the
//                        concatenations, without the concatenations and the split (native only)
//   MoelabSumSquaresMulti {x0…xk−1}, {count: k}              → [MoelabSumSquares of their concatenation,
//                        bit for bit] (native only)
//   MoelabSoftmaxGrad   {p, dp} (same shape, last axis = row) → [ds = p ⊙ (dp − Σ_row dp ⊙ p)]
//                        (the softmax forward stays stock: XNNPACK's is faster than a C loop here,
//                        1.6 vs 2.1 CPU ms on [64, 128, 128]; this backward 0.9 vs 2.1 ms)
//   MoelabGatherRows    {x [rows, w], index int32 [R]}        → [out [R, w], out[r] = x[index[r]]]
//   MoelabScatterAddRows {y [R, w], index int32 [R]}, {numOut} → [out [numOut, w], out[index[r]] += y[r]
//                        in order r = 0, 1, … (float32 adds)]; each is the other's gradient (embedding
//                        lookup, MoE dispatch / combine). Indices outside the table throw.
//   MoelabRope          {x, cos, sin} [rows, dh]              → [y = x⊙cos + rot(x)⊙sin], rot(x)[j] = −x[j+h]
//                        (j < h), x[j−h] (j ≥ h), h = dh/2: the rotate-half product of src/model/rope.ts
//   MoelabRopeGrad      {dy, cos, sin}                        → [dx = dy⊙cos + (dy⊙sin)·Rᵀ]
//                        (both bit-identical to the composition they replace: mul, mul, add and a
//                        product with a ±1 permutation matrix, which is exact; the JavaScript also
//                        in the sign of exact zeros, which the product's sums turn into +0)
// Row reductions (sums of squares, softmax sums, dg) accumulate in float64. Elementwise maths is
// float32 in C (expf) and float64 rounded on store in JavaScript: the two differ in the last bits
// of sigmoid and softmax values, never in what they compute (test/engine/fused-kernels.test.ts).
import * as tf from '@tensorflow/tfjs';
import type { NativeAddon } from './native-matmul.ts';

export const FUSED_KERNEL_NAMES = [
  'MoelabRmsNorm',
  'MoelabRmsNormGrad',
  'MoelabSwiglu',
  'MoelabSwigluGrad',
  'MoelabSoftmaxXent',
  'MoelabAdamW',
  'MoelabSumSquares',
  'MoelabSoftmaxGrad',
  'MoelabGatherRows',
  'MoelabScatterAddRows',
  'MoelabRope',
  'MoelabRopeGrad',
  'MoelabAdamWMulti',
  'MoelabSumSquaresMulti',
] as const;
export type FusedKernelName = (typeof FUSED_KERNEL_NAMES)[number];

/** The addon's fused exports (offsets in float32 elements of `heap`; targets in int32 elements). */
export interface FusedAddon {
  fusedRmsNorm(heap: Float32Array, xOff: number, gOff: number, yOff: number, rOff: number, rows: number, width: number, eps: number): void;
  fusedRmsNormGrad(heap: Float32Array, dyOff: number, xOff: number, rOff: number, gOff: number, dxOff: number, dgOff: number, rows: number, width: number): void;
  fusedSwiglu(heap: Float32Array, aOff: number, bOff: number, hOff: number, n: number): void;
  fusedSwigluGrad(heap: Float32Array, dyOff: number, aOff: number, bOff: number, daOff: number, dbOff: number, n: number): void;
  /** Returns nothing; writes the mean loss at lossOff. */
  fusedSoftmaxXent(heap: Float32Array, zOff: number, tOff: number, gOff: number, lossOff: number, rows: number, vocab: number): void;
  fusedAdamW(
    heap: Float32Array, pOff: number, gOff: number, mOff: number, vOff: number, pOut: number, mOut: number, vOut: number,
    n: number, beta1: number, beta2: number, clipScale: number, decay: number, stepSize: number, bc2Sqrt: number, eps: number,
  ): void;
  fusedSumSquares(heap: Float32Array, xOff: number, n: number, outOff: number): void;
  fusedSoftmaxGrad(heap: Float32Array, pOff: number, dpOff: number, dsOff: number, rows: number, cols: number): void;
  fusedGatherRows(heap: Float32Array, xOff: number, iOff: number, outOff: number, rows: number, width: number, count: number): void;
  fusedScatterAddRows(heap: Float32Array, yOff: number, iOff: number, outOff: number, count: number, width: number, numOut: number): void;
  fusedRope(heap: Float32Array, xOff: number, cOff: number, sOff: number, yOff: number, rows: number, dh: number): void;
  fusedRopeGrad(heap: Float32Array, dyOff: number, cOff: number, sOff: number, dxOff: number, rows: number, dh: number): void;
  /** spec: pOff, gOff, pOut, n per tensor. */
  fusedAdamWMulti(
    heap: Float32Array, spec: Float64Array, mOff: number, vOff: number, mOut: number, vOut: number,
    beta1: number, beta2: number, clipScale: number, decay: number, stepSize: number, bc2Sqrt: number, eps: number,
  ): void;
  /** spec: xOff, n per tensor. */
  fusedSumSquaresMulti(heap: Float32Array, spec: Float64Array, outOff: number): void;
}

/** Calls per fused kernel, split by implementation (tests and bench read these). */
export const fusedKernelCounters: Record<FusedKernelName, { native: number; js: number }> = Object.fromEntries(
  FUSED_KERNEL_NAMES.map((k) => [k, { native: 0, js: 0 }]),
) as Record<FusedKernelName, { native: number; js: number }>;

/** The parts of tfjs-backend-wasm 4.22's BackendWasm these kernels use. */
interface HeapBackend {
  wasm: { HEAPF32: Float32Array; HEAP32: Int32Array };
  dataIdMap: { get(dataId: tf.DataId): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}
type Args = { inputs: Record<string, tf.TensorInfo>; backend: HeapBackend; attrs: Record<string, number> };

let native: FusedAddon | undefined;

/** The addon's fused exports, if this build of it has them (an older build has none). */
export function fusedAddon(addon: NativeAddon | undefined): FusedAddon | undefined {
  const a = addon as unknown as Partial<FusedAddon> | undefined;
  return a && typeof a.fusedRmsNorm === 'function' && typeof a.fusedSoftmaxGrad === 'function' && typeof a.fusedSumSquaresMulti === 'function' ? (a as FusedAddon) : undefined;
}

export function areFusedKernelsRegistered(): boolean {
  return tf.getKernel('MoelabRmsNorm', 'wasm') !== undefined;
}

/**
 * Which fused kernels run: 'native' (C, the addon has every fused export), 'js' (the JavaScript
 * subset: no addon, or an addon built before some export existed) or 'off' (heap kernels off).
 * The two implementations round differently, so runs record this and resume only under the same.
 */
export function fusedKernelMode(): 'native' | 'js' | 'off' {
  if (!areFusedKernelsRegistered()) return 'off';
  return native ? 'native' : 'js';
}

/** Register the fused kernels for wasm (idempotent); with an addon that has them, they run in C. */
export function registerFusedKernels(addon?: NativeAddon): void {
  const next = fusedAddon(addon);
  if (areFusedKernelsRegistered() && (next !== undefined) === (native !== undefined)) {
    native = next;
    return;
  }
  unregisterFusedKernels();
  native = next;
  const impls: Record<FusedKernelName, (args: Args) => tf.TensorInfo[]> = {
    MoelabRmsNorm: rmsNormKernel,
    MoelabRmsNormGrad: rmsNormGradKernel,
    MoelabSwiglu: swigluKernel,
    MoelabSwigluGrad: swigluGradKernel,
    MoelabSoftmaxXent: softmaxXentKernel,
    MoelabAdamW: adamWKernel,
    MoelabSumSquares: sumSquaresKernel,
    MoelabSoftmaxGrad: softmaxGradKernel,
    MoelabGatherRows: gatherRowsKernel,
    MoelabScatterAddRows: scatterAddRowsKernel,
    MoelabRope: ropeKernel,
    MoelabRopeGrad: ropeGradKernel,
    MoelabAdamWMulti: adamWMultiKernel,
    MoelabSumSquaresMulti: sumSquaresMultiKernel,
  };
  for (const name of native ? FUSED_KERNEL_NAMES : JS_FUSED_KERNEL_NAMES) {
    tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: impls[name] as unknown as tf.KernelFunc });
  }
}

/**
 * Without the addon only the kernels whose JavaScript beats the stock wasm composition are
 * registered (measured on the reference step's shapes, CPU ms forward + backward, loaded machine):
 * RMSNorm [2048, 128] 3.0–4.3 vs 3.9–4.5, softmax cross-entropy [2048, 256] 6.9–7.5 vs 9.5–9.6.
 * RoPE [8192, 32] (the query rows) 4.2–4.4 vs 6.6–7.2 with the tape (value and gradient); the
 * composition it replaces also pays the ±1 product's weight gradient, which nothing uses. The row
 * gathers and scatter-adds always beat the host path they replace (no copies out of and back into
 * the heap). SwiGLU [2048, 512] (37–41 vs 17–18: Math.exp per element against XNNPACK's vector
 * sigmoid) and AdamW over 2.1M weights (47–82 vs 43–48) stay stock there; their JavaScript is the
 * reference the C kernels are tested against. (A one-pass JavaScript SwiGLU backward on the saved
 * σ(a) and silu, no exp, the stock roundings, lost too: 5.1 vs 3.2–3.4 CPU ms on [2048, 512]; a
 * scalar JavaScript pass costs ~1.9 ns per element, XNNPACK's 4-wide ops ~0.5.)
 */
const JS_FUSED_KERNEL_NAMES: readonly FusedKernelName[] = [
  'MoelabRmsNorm',
  'MoelabRmsNormGrad',
  'MoelabSoftmaxXent',
  // In place on the heap instead of the host path's read, loop and upload (src/model/kernels.ts).
  'MoelabGatherRows',
  'MoelabScatterAddRows',
  // The same bits as the stock composition (mul, mul, add and the exact ±1 product) in one pass.
  'MoelabRope',
  'MoelabRopeGrad',
];

export function unregisterFusedKernels(): void {
  for (const name of FUSED_KERNEL_NAMES) {
    if (tf.getKernel(name, 'wasm')) tf.unregisterKernel(name, 'wasm');
  }
  native = undefined;
}

const off = (backend: HeapBackend, t: tf.TensorInfo): number => {
  const data = backend.dataIdMap.get(t.dataId);
  if (!data) throw new Error('fused kernel: input tensor has no wasm data (disposed?)');
  return data.memoryOffset >>> 2;
};

function requireFloat(name: string, inputs: Record<string, tf.TensorInfo>, keys: string[]): void {
  for (const k of keys) {
    if (inputs[k].dtype !== 'float32') throw new Error(`${name}: input ${k} must be float32 (got ${inputs[k].dtype})`);
  }
}

const count = (name: FusedKernelName) => (native ? fusedKernelCounters[name].native++ : fusedKernelCounters[name].js++);

// ---------------------------------------------------------------------------------------------

function rmsNormKernel({ inputs, backend, attrs }: Args): tf.TensorInfo[] {
  const { x, g } = inputs;
  requireFloat('MoelabRmsNorm', inputs, ['x', 'g']);
  const [rows, width] = x.shape;
  const y = backend.makeOutput([rows, width], 'float32');
  const r = backend.makeOutput([rows, 1], 'float32');
  count('MoelabRmsNorm');
  const heap = backend.wasm.HEAPF32;
  const args = [heap, off(backend, x), off(backend, g), off(backend, y), off(backend, r), rows, width, attrs.eps] as const;
  (native ? native.fusedRmsNorm : rmsNormJs)(...args);
  return [y, r];
}

export function rmsNormJs(h: Float32Array, xo: number, go: number, yo: number, ro: number, rows: number, width: number, eps: number): void {
  for (let i = 0; i < rows; i++) {
    const base = xo + i * width;
    let ss = 0;
    for (let j = 0; j < width; j++) ss += h[base + j] * h[base + j];
    const r = Math.fround(1 / Math.sqrt(ss / width + eps));
    h[ro + i] = r;
    const out = yo + i * width;
    for (let j = 0; j < width; j++) h[out + j] = Math.fround(h[base + j] * r) * h[go + j];
  }
}

function rmsNormGradKernel({ inputs, backend }: Args): tf.TensorInfo[] {
  const { dy, x, r, g } = inputs;
  requireFloat('MoelabRmsNormGrad', inputs, ['dy', 'x', 'r', 'g']);
  const [rows, width] = x.shape;
  const dx = backend.makeOutput([rows, width], 'float32');
  const dg = backend.makeOutput([width], 'float32');
  count('MoelabRmsNormGrad');
  const args = [backend.wasm.HEAPF32, off(backend, dy), off(backend, x), off(backend, r), off(backend, g), off(backend, dx), off(backend, dg), rows, width] as const;
  (native ? native.fusedRmsNormGrad : rmsNormGradJs)(...args);
  return [dx, dg];
}

export function rmsNormGradJs(
  h: Float32Array, dyo: number, xo: number, ro: number, go: number, dxo: number, dgo: number, rows: number, width: number,
): void {
  const dg = new Float64Array(width);
  for (let i = 0; i < rows; i++) {
    const xb = xo + i * width;
    const db = dyo + i * width;
    const r = h[ro + i];
    let dot = 0;
    for (let j = 0; j < width; j++) {
      const xhat = Math.fround(h[xb + j] * r);
      dot += h[db + j] * h[go + j] * xhat;
      dg[j] += h[db + j] * xhat;
    }
    const mean = dot / width;
    const ob = dxo + i * width;
    for (let j = 0; j < width; j++) {
      const xhat = Math.fround(h[xb + j] * r);
      h[ob + j] = r * (h[db + j] * h[go + j] - xhat * mean);
    }
  }
  for (let j = 0; j < width; j++) h[dgo + j] = dg[j];
}

function swigluKernel({ inputs, backend }: Args): tf.TensorInfo[] {
  const { a, b } = inputs;
  requireFloat('MoelabSwiglu', inputs, ['a', 'b']);
  const out = backend.makeOutput([...a.shape], 'float32');
  count('MoelabSwiglu');
  const n = a.shape.reduce((p, d) => p * d, 1);
  const args = [backend.wasm.HEAPF32, off(backend, a), off(backend, b), off(backend, out), n] as const;
  (native ? native.fusedSwiglu : swigluJs)(...args);
  return [out];
}

export function swigluJs(h: Float32Array, ao: number, bo: number, ho: number, n: number): void {
  for (let i = 0; i < n; i++) {
    const a = h[ao + i];
    h[ho + i] = (a / (1 + Math.exp(-a))) * h[bo + i];
  }
}

function swigluGradKernel({ inputs, backend }: Args): tf.TensorInfo[] {
  const { dy, a, b } = inputs;
  requireFloat('MoelabSwigluGrad', inputs, ['dy', 'a', 'b']);
  const da = backend.makeOutput([...a.shape], 'float32');
  const db = backend.makeOutput([...a.shape], 'float32');
  count('MoelabSwigluGrad');
  const n = a.shape.reduce((p, d) => p * d, 1);
  const args = [backend.wasm.HEAPF32, off(backend, dy), off(backend, a), off(backend, b), off(backend, da), off(backend, db), n] as const;
  (native ? native.fusedSwigluGrad : swigluGradJs)(...args);
  return [da, db];
}

export function swigluGradJs(h: Float32Array, dyo: number, ao: number, bo: number, dao: number, dbo: number, n: number): void {
  for (let i = 0; i < n; i++) {
    const a = h[ao + i];
    const s = 1 / (1 + Math.exp(-a));
    const dy = h[dyo + i];
    h[dao + i] = dy * h[bo + i] * s * (1 + a * (1 - s));
    h[dbo + i] = dy * a * s;
  }
}

function softmaxXentKernel({ inputs, backend }: Args): tf.TensorInfo[] {
  const { logits, targets } = inputs;
  requireFloat('MoelabSoftmaxXent', inputs, ['logits']);
  if (targets.dtype !== 'int32') throw new Error(`MoelabSoftmaxXent: targets must be int32 (got ${targets.dtype})`);
  const [rows, vocab] = logits.shape;
  const tOff = off(backend, targets);
  // Check the targets before anything is written (an id outside the vocabulary would index past the row).
  const t = backend.wasm.HEAP32;
  for (let i = 0; i < rows; i++) {
    if (!(t[tOff + i] >= 0 && t[tOff + i] < vocab)) {
      throw new Error(`MoelabSoftmaxXent: target ${t[tOff + i]} at row ${i} is outside [0, ${vocab})`);
    }
  }
  const loss = backend.makeOutput([], 'float32');
  const grad = backend.makeOutput([rows, vocab], 'float32');
  count('MoelabSoftmaxXent');
  const args = [backend.wasm.HEAPF32, off(backend, logits), tOff, off(backend, grad), off(backend, loss), rows, vocab] as const;
  if (native) native.fusedSoftmaxXent(...args);
  else softmaxXentJs(...args, backend.wasm.HEAP32);
  return [loss, grad];
}

export function softmaxXentJs(h: Float32Array, zo: number, to: number, go: number, lo: number, rows: number, vocab: number, t: Int32Array): void {
  let total = 0;
  for (let i = 0; i < rows; i++) {
    const zb = zo + i * vocab;
    const gb = go + i * vocab;
    let max = -Infinity;
    for (let j = 0; j < vocab; j++) if (h[zb + j] > max) max = h[zb + j];
    let sum = 0;
    for (let j = 0; j < vocab; j++) {
      const e = Math.exp(h[zb + j] - max);
      h[gb + j] = e;
      sum += e;
    }
    const target = t[to + i];
    total += Math.log(sum) + max - h[zb + target];
    const scale = 1 / (sum * rows);
    for (let j = 0; j < vocab; j++) h[gb + j] *= scale;
    h[gb + target] -= 1 / rows;
  }
  h[lo] = total / rows;
}

function adamWKernel({ inputs, backend, attrs }: Args): tf.TensorInfo[] {
  const { p, g, m, v } = inputs;
  requireFloat('MoelabAdamW', inputs, ['p', 'g', 'm', 'v']);
  const n = p.shape.reduce((a, d) => a * d, 1);
  for (const [k, t] of [['g', g], ['m', m], ['v', v]] as const) {
    if (t.shape.reduce((a, d) => a * d, 1) !== n) throw new Error(`MoelabAdamW: ${k} has a different size than p (${n})`);
  }
  const pOut = backend.makeOutput([...p.shape], 'float32');
  const mOut = backend.makeOutput([...p.shape], 'float32');
  const vOut = backend.makeOutput([...p.shape], 'float32');
  count('MoelabAdamW');
  const args = [
    backend.wasm.HEAPF32, off(backend, p), off(backend, g), off(backend, m), off(backend, v),
    off(backend, pOut), off(backend, mOut), off(backend, vOut), n,
    attrs.beta1, attrs.beta2, attrs.clipScale, attrs.decay, attrs.stepSize, attrs.bc2Sqrt, attrs.eps,
  ] as const;
  (native ? native.fusedAdamW : adamWJs)(...args);
  return [pOut, mOut, vOut];
}

/** Every operation rounded to float32, in the order of the stock composition (optimizer.ts). */
export function adamWJs(
  h: Float32Array, po: number, go: number, mo: number, vo: number, pOut: number, mOut: number, vOut: number, n: number,
  beta1: number, beta2: number, clipScale: number, decay: number, stepSize: number, bc2Sqrt: number, eps: number,
): void {
  const f = Math.fround;
  const b1 = f(beta1);
  const b2 = f(beta2);
  const c1 = f(1 - beta1);
  const c2 = f(1 - beta2);
  const clip = f(clipScale);
  const dec = f(decay);
  const step = f(stepSize);
  const bc2 = f(bc2Sqrt);
  const e = f(eps);
  for (let i = 0; i < n; i++) {
    const g = clipScale === 1 ? h[go + i] : f(h[go + i] * clip);
    const m = f(f(h[mo + i] * b1) + f(g * c1));
    const v = f(f(h[vo + i] * b2) + f(f(g * g) * c2));
    const p = decay === 1 ? h[po + i] : f(h[po + i] * dec);
    const denom = f(f(f(Math.sqrt(v)) / bc2) + e);
    h[mOut + i] = m;
    h[vOut + i] = v;
    h[pOut + i] = f(p - f(f(m / denom) * step));
  }
}

function sumSquaresKernel({ inputs, backend }: Args): tf.TensorInfo[] {
  const { x } = inputs;
  requireFloat('MoelabSumSquares', inputs, ['x']);
  const out = backend.makeOutput([], 'float32');
  count('MoelabSumSquares');
  const n = x.shape.reduce((a, d) => a * d, 1);
  const args = [backend.wasm.HEAPF32, off(backend, x), n, off(backend, out)] as const;
  (native ? native.fusedSumSquares : sumSquaresJs)(...args);
  return [out];
}

export function sumSquaresJs(h: Float32Array, xo: number, n: number, oo: number): void {
  const s = [0, 0, 0, 0];
  let i = 0;
  for (; i + 4 <= n; i += 4) for (let j = 0; j < 4; j++) s[j] += h[xo + i + j] * h[xo + i + j];
  for (; i < n; i++) s[0] += h[xo + i] * h[xo + i];
  h[oo] = s[0] + s[1] + (s[2] + s[3]);
}

/** Rows × columns of a same-shape pair (last axis = row), or an error naming the kernel. */
function rowsCols(name: string, a: tf.TensorInfo, b: tf.TensorInfo): [number, number] {
  if (a.shape.length === 0 || a.shape.join() !== b.shape.join()) {
    throw new Error(`${name}: inputs must have the same shape of rank ≥ 1 (got [${a.shape}] and [${b.shape}])`);
  }
  const cols = a.shape[a.shape.length - 1];
  return [a.shape.reduce((p, d) => p * d, 1) / Math.max(cols, 1), cols];
}

function softmaxGradKernel({ inputs, backend }: Args): tf.TensorInfo[] {
  const { p, dp } = inputs;
  requireFloat('MoelabSoftmaxGrad', inputs, ['p', 'dp']);
  const [rows, cols] = rowsCols('MoelabSoftmaxGrad', p, dp);
  const ds = backend.makeOutput([...p.shape], 'float32');
  count('MoelabSoftmaxGrad');
  const args = [backend.wasm.HEAPF32, off(backend, p), off(backend, dp), off(backend, ds), rows, cols] as const;
  (native ? native.fusedSoftmaxGrad : softmaxGradJs)(...args);
  return [ds];
}

export function softmaxGradJs(h: Float32Array, po: number, dpo: number, dso: number, rows: number, cols: number): void {
  for (let i = 0; i < rows; i++) {
    let dot = 0;
    for (let j = 0; j < cols; j++) dot += h[dpo + i * cols + j] * h[po + i * cols + j];
    const d = Math.fround(dot);
    for (let j = 0; j < cols; j++) h[dso + i * cols + j] = h[po + i * cols + j] * Math.fround(h[dpo + i * cols + j] - d);
  }
}

// ---------------------------------------------------------------------------------------------
// Row gathers and scatter-adds

function requireIndex(name: string, index: tf.TensorInfo, width: number, x: tf.TensorInfo): void {
  if (index.dtype !== 'int32' || index.shape.length !== 1) throw new Error(`${name}: index must be an int32 vector (got ${index.dtype} [${index.shape.join(', ')}])`);
  if (x.shape.length !== 2 || width !== x.shape[1]) throw new Error(`${name}: input must be 2-D [rows, width] (got [${x.shape.join(', ')}])`);
}

function gatherRowsKernel({ inputs, backend }: Args): tf.TensorInfo[] {
  const { x, index } = inputs;
  requireFloat('MoelabGatherRows', inputs, ['x']);
  const [rows, width] = x.shape;
  requireIndex('MoelabGatherRows', index, width, x);
  const numRows = index.shape[0];
  const out = backend.makeOutput([numRows, width], 'float32');
  count('MoelabGatherRows');
  const args = [backend.wasm.HEAPF32, off(backend, x), off(backend, index), off(backend, out), rows, width, numRows] as const;
  if (native) native.fusedGatherRows(...args);
  else gatherRowsJs(backend.wasm.HEAP32, ...args);
  return [out];
}

export function gatherRowsJs(
  h32: Int32Array, h: Float32Array, xo: number, io: number, oo: number, rows: number, width: number, count: number,
): void {
  checkRows('MoelabGatherRows', h32, io, count, rows);
  for (let r = 0; r < count; r++) h.copyWithin(oo + r * width, xo + h32[io + r] * width, xo + h32[io + r] * width + width);
}

function scatterAddRowsKernel({ inputs, backend, attrs }: Args): tf.TensorInfo[] {
  const { y, index } = inputs;
  requireFloat('MoelabScatterAddRows', inputs, ['y']);
  const [numRows, width] = y.shape;
  requireIndex('MoelabScatterAddRows', index, width, y);
  if (index.shape[0] !== numRows) throw new Error(`MoelabScatterAddRows: ${index.shape[0]} indices for ${numRows} rows`);
  const numOut = attrs.numOut;
  const out = backend.makeOutput([numOut, width], 'float32');
  count('MoelabScatterAddRows');
  const args = [backend.wasm.HEAPF32, off(backend, y), off(backend, index), off(backend, out), numRows, width, numOut] as const;
  if (native) native.fusedScatterAddRows(...args);
  else scatterAddRowsJs(backend.wasm.HEAP32, ...args);
  return [out];
}

export function scatterAddRowsJs(
  h32: Int32Array, h: Float32Array, yo: number, io: number, oo: number, count: number, width: number, numOut: number,
): void {
  checkRows('MoelabScatterAddRows', h32, io, count, numOut);
  h.fill(0, oo, oo + numOut * width);
  for (let r = 0; r < count; r++) {
    const src = yo + r * width;
    const dst = oo + h32[io + r] * width;
    for (let j = 0; j < width; j++) h[dst + j] += h[src + j];
  }
}

function checkRows(name: string, h32: Int32Array, io: number, count: number, limit: number): void {
  for (let r = 0; r < count; r++) {
    const i = h32[io + r];
    if (i < 0 || i >= limit) throw new RangeError(`${name}: index ${i} at position ${r} is outside [0, ${limit})`);
  }
}

// ---------------------------------------------------------------------------------------------
// RoPE with per-row tables

function ropeShape(name: string, inputs: Record<string, tf.TensorInfo>, keys: string[]): [number, number] {
  requireFloat(name, inputs, keys);
  const [rows, dh] = inputs[keys[0]].shape;
  for (const k of keys) {
    const sh = inputs[k].shape;
    if (sh.length !== 2 || sh[0] !== rows || sh[1] !== dh) throw new Error(`${name}: ${k} must be [${rows}, ${dh}] (got [${sh.join(', ')}])`);
  }
  if (dh % 2 !== 0) throw new Error(`${name}: the head dimension must be even (got ${dh})`);
  return [rows, dh];
}

function ropeKernel({ inputs, backend }: Args): tf.TensorInfo[] {
  const { x, cos, sin } = inputs;
  const [rows, dh] = ropeShape('MoelabRope', inputs, ['x', 'cos', 'sin']);
  const y = backend.makeOutput([rows, dh], 'float32');
  count('MoelabRope');
  const args = [backend.wasm.HEAPF32, off(backend, x), off(backend, cos), off(backend, sin), off(backend, y), rows, dh] as const;
  (native ? native.fusedRope : ropeJs)(...args);
  return [y];
}

export function ropeJs(h: Float32Array, xo: number, co: number, so: number, yo: number, rows: number, dh: number): void {
  const half = dh / 2;
  const f = Math.fround;
  for (let r = 0; r < rows; r++) {
    const x = xo + r * dh;
    const c = co + r * dh;
    const s = so + r * dh;
    const y = yo + r * dh;
    // rot(x)[j] = −x[j+h] (j < h), x[j−h] (j ≥ h), as the ±1 product computes it: its sum starts
    // at +0, so an exact zero comes out +0 (0 − x, 0 + x), never −0
    for (let j = 0; j < half; j++) h[y + j] = f(h[x + j] * h[c + j]) + f((0 - h[x + j + half]) * h[s + j]);
    for (let j = half; j < dh; j++) h[y + j] = f(h[x + j] * h[c + j]) + f((0 + h[x + j - half]) * h[s + j]);
  }
}

function ropeGradKernel({ inputs, backend }: Args): tf.TensorInfo[] {
  const { dy, cos, sin } = inputs;
  const [rows, dh] = ropeShape('MoelabRopeGrad', inputs, ['dy', 'cos', 'sin']);
  const dx = backend.makeOutput([rows, dh], 'float32');
  count('MoelabRopeGrad');
  const args = [backend.wasm.HEAPF32, off(backend, dy), off(backend, cos), off(backend, sin), off(backend, dx), rows, dh] as const;
  (native ? native.fusedRopeGrad : ropeGradJs)(...args);
  return [dx];
}

export function ropeGradJs(h: Float32Array, dyo: number, co: number, so: number, dxo: number, rows: number, dh: number): void {
  const half = dh / 2;
  const f = Math.fround;
  for (let r = 0; r < rows; r++) {
    const d = dyo + r * dh;
    const c = co + r * dh;
    const s = so + r * dh;
    const o = dxo + r * dh;
    // (dy⊙sin)·Rᵀ as the ±1 product computes it (from +0, see ropeJs), added to dy⊙cos
    for (let j = 0; j < half; j++) h[o + j] = f(h[d + j] * h[c + j]) + (0 + f(h[d + j + half] * h[s + j + half]));
    for (let j = half; j < dh; j++) h[o + j] = f(h[d + j] * h[c + j]) + (0 - f(h[d + j - half] * h[s + j - half]));
  }
}

// ---------------------------------------------------------------------------------------------
// AdamW and Σx² over a segment of separate tensors (native only: registered with the addon)

const size = (t: tf.TensorInfo): number => t.shape.reduce((a, d) => a * d, 1);

function multiInputs(name: string, inputs: Record<string, tf.TensorInfo>, prefix: string, k: number): tf.TensorInfo[] {
  if (!Number.isInteger(k) || k < 1) throw new Error(`${name}: count must be a positive integer (got ${k})`);
  const list = Array.from({ length: k }, (_, j) => inputs[`${prefix}${j}`]);
  list.forEach((t, j) => {
    if (!t) throw new Error(`${name}: input ${prefix}${j} is missing (count ${k})`);
    if (t.dtype !== 'float32') throw new Error(`${name}: input ${prefix}${j} must be float32 (got ${t.dtype})`);
  });
  return list;
}

function adamWMultiKernel({ inputs, backend, attrs }: Args): tf.TensorInfo[] {
  const name = 'MoelabAdamWMulti';
  const k = attrs.count;
  const ps = multiInputs(name, inputs, 'p', k);
  const gs = multiInputs(name, inputs, 'g', k);
  requireFloat(name, inputs, ['m', 'v']);
  const { m, v } = inputs;
  const n = ps.reduce((a, t) => a + size(t), 0);
  ps.forEach((p, j) => {
    if (size(gs[j]) !== size(p)) throw new Error(`${name}: g${j} has ${size(gs[j])} elements, p${j} ${size(p)}`);
  });
  if (size(m) !== n || size(v) !== n) throw new Error(`${name}: the moments have ${size(m)} and ${size(v)} elements for ${n} weights`);
  if (!native) throw new Error(`${name}: registered without the native addon`);
  const mOut = backend.makeOutput([...m.shape], 'float32');
  const vOut = backend.makeOutput([...v.shape], 'float32');
  const pOuts = ps.map((p) => backend.makeOutput([...p.shape], 'float32'));
  count(name);
  const spec = new Float64Array(4 * k);
  ps.forEach((p, j) => spec.set([off(backend, p), off(backend, gs[j]), off(backend, pOuts[j]), size(p)], 4 * j));
  native.fusedAdamWMulti(
    backend.wasm.HEAPF32, spec, off(backend, m), off(backend, v), off(backend, mOut), off(backend, vOut),
    attrs.beta1, attrs.beta2, attrs.clipScale, attrs.decay, attrs.stepSize, attrs.bc2Sqrt, attrs.eps,
  );
  return [mOut, vOut, ...pOuts];
}

function sumSquaresMultiKernel({ inputs, backend, attrs }: Args): tf.TensorInfo[] {
  const name = 'MoelabSumSquaresMulti';
  const xs = multiInputs(name, inputs, 'x', attrs.count);
  if (!native) throw new Error(`${name}: registered without the native addon`);
  const out = backend.makeOutput([], 'float32');
  count(name);
  const spec = new Float64Array(2 * xs.length);
  xs.forEach((x, j) => spec.set([off(backend, x), size(x)], 2 * j));
  native.fusedSumSquaresMulti(backend.wasm.HEAPF32, spec, off(backend, out));
  return [out];
}
