// Kernel-level helpers of the fast path: every tensor op of the model that is not a stock tf.js op
// with a stock gradient lives here, so speed work (native matmul, fused elementwise kernels) has one
// place to change. The rules (docs/references.md#engine-rules, re-measured on this machine's wasm
// backend, tf.js 4.22, reference step; numbers in docs/model.md):
// - activations stay 2-D [tokens, width]; on stock wasm every product is a rank-2 matMul without
//   transpose flags (XNNPACK's fast path; flagged and batched products run 10–30× slower there):
//   linear layers get a custom gradient that transposes explicitly. When the engine's native
//   OpenBLAS matmul is active (it registers the kernel name FLAGGED_MATMUL below), products take
//   transpose flags and batch dimensions instead: no explicit transposes, one call per batch;
// - attention's per-(batch, kv-head) products are one custom op that cuts its blocks on the host
//   (tf.split / slice copy the whole input once per block on stock wasm: 160 ms for 64 blocks);
// - no tf.gather gradient (UnsortedSegmentSum is missing on wasm): row gathers and scatter-adds
//   (embedding, MoE dispatch / combine) run on the host, each the other's gradient;
// - fused backward passes for RMSNorm, SwiGLU and softmax cross-entropy (fewer ops than autograd);
//   where the engine registered its fused kernels for the active backend (src/engine/
//   fused-kernels.ts, wasm only), forward and backward are one kernel call each;
// - tensors a gradient needs go through save(); closures only capture host arrays, never tensors
//   (captured tensors are disposed by the time backward runs).
// Each function's stock equivalent is named in its comment; the reference model path (impl
// "reference") uses those, and test/model/kernels.test.ts compares the two.
import * as tf from '@tensorflow/tfjs';

type Grad2 = (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[];

/** Wrap tf.customGrad with the typing the model needs. */
function customOp<T extends tf.Tensor>(
  f: (...args: (tf.Tensor | tf.GradSaveFunc)[]) => { value: T; gradFunc: Grad2 | ((dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor) },
): (...inputs: tf.Tensor[]) => T {
  return tf.customGrad(f as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (...inputs: tf.Tensor[]) => T;
}

/**
 * Optional engine kernels, found by name in tf.js's kernel registry for the active backend (the
 * engine registers them; this layer never imports it). Absent: the stock tf.* composition.
 */
const FLAGGED_MATMUL = 'MoelabFlaggedMatMul';
function hasKernel(name: string): boolean {
  return tf.getKernel(name, tf.getBackend()) !== undefined;
}
/** True when products with transpose flags / batch dimensions run natively (see the top of the file). */
export function flaggedProducts(): boolean {
  return hasKernel(FLAGGED_MATMUL);
}
/** Run a fused engine kernel (its outputs as a list). */
function runFused(name: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown> = {}): tf.Tensor[] {
  const out = tf.engine().runKernel(name, inputs as unknown as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap);
  return Array.isArray(out) ? (out as tf.Tensor[]) : [out as tf.Tensor];
}

/**
 * One-hot rows [ids.length, depth] as float32. tf.oneHot(…, 'float32') is wrong on the wasm backend
 * of tf.js 4.22 (it writes int32 bit patterns into the float buffer: 1 reads as 1.4e-45), so the
 * int32 one-hot is cast instead.
 */
export function oneHotFloat(ids: Int32Array, depth: number): tf.Tensor2D {
  return tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(ids, 'int32'), depth), 'float32') as tf.Tensor2D);
}

// ---------------------------------------------------------------------------------------------
// Products

/**
 * y = x·w for x [rows, in], w [in, out] (stock: tf.matMul(x, w)). Backward: dx = dy·transpose(w),
 * dw = transpose(x)·dy (or (dyᵀ·x)ᵀ for wide gradients: weightGrad) with the transposes as separate ops, so all three products are rank-2
 * without transpose flags. Measured on wasm without the native kernel (2048-row activations):
 * the flagged products tf.js's own gradient uses fall off XNNPACK's fast path (dw 2048×512×128:
 * 448 ms flagged vs 38 ms transpose + product). With the native OpenBLAS kernel of src/engine the
 * flagged dw is ~1.5× faster than this form; the choice is made here, in one place.
 */
export function linear(x: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D {
  return flaggedProducts() ? linearFlagged(x, w) : linearTransposed(x, w);
}

const linearTransposed = customOp<tf.Tensor2D>((x, w, save) => {
  (save as tf.GradSaveFunc)([x as tf.Tensor, w as tf.Tensor]);
  return {
    value: tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D),
    gradFunc: (dy, [xs, ws]) => [
      tf.matMul(dy as tf.Tensor2D, tf.transpose(ws as tf.Tensor2D)),
      weightGrad(xs as tf.Tensor2D, dy as tf.Tensor2D),
    ],
  };
}) as (x: tf.Tensor2D, w: tf.Tensor2D) => tf.Tensor2D;

/**
 * dW = xᵀ·dy for x [rows, in], dy [rows, out] with unflagged rank-2 products (stock wasm). For a
 * wide, tall gradient (out ≥ 2·in over many rows) it is computed as (dyᵀ·x)ᵀ instead: XNNPACK is
 * slow on a short left operand with a long shared dimension (xᵀ [128, 2048]·dy [2048, 512]: 15–22
 * CPU ms with fresh inputs; dyᵀ [512, 2048]·x [2048, 128] plus both transposes: 10–13 ms). The
 * two give the same bits: each element is the same dot product over the rows, accumulated in row
 * order by XNNPACK's GEMM (separate multiply and add, no FMA) whichever operand is packed
 * (test/model/kernels.test.ts, and the reference step over 6 steps). Measured, fresh inputs,
 * xᵀ·dy vs (dyᵀ·x)ᵀ: [128, 512] over 2048 rows 16–22 vs 11–13 ms, over 947 rows 5.8–6.5 vs
 * 4.9–5.2; [128, 256] over 2048 rows 6.6–6.9 vs 5.8–6.5; over 500 rows or with out ≤ in no gain
 * or a loss ([512, 128] over 2048 rows: 10.4–10.9 vs 15.7–15.9), so those keep xᵀ·dy.
 */
export function weightGrad(x: tf.Tensor2D, dy: tf.Tensor2D): tf.Tensor2D {
  const [rows, inDim] = x.shape;
  const outDim = dy.shape[1];
  if (wideWeightGrad(rows, inDim, outDim)) return tf.transpose(tf.matMul(tf.transpose(dy), x)) as tf.Tensor2D;
  return tf.matMul(tf.transpose(x), dy);
}

/** Whether weightGrad takes the (dyᵀ·x)ᵀ form (measured thresholds, see weightGrad). */
export function wideWeightGrad(rows: number, inDim: number, outDim: number): boolean {
  return outDim >= 2 * inDim && rows * outDim >= 400_000;
}

/** linear with the native kernel: dx = dy·wᵀ and dw = xᵀ·dy as flagged products. */
const linearFlagged = customOp<tf.Tensor2D>((x, w, save) => {
  (save as tf.GradSaveFunc)([x as tf.Tensor, w as tf.Tensor]);
  return {
    value: tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D),
    gradFunc: (dy, [xs, ws]) => [
      tf.matMul(dy as tf.Tensor2D, ws as tf.Tensor2D, false, true),
      tf.matMul(xs as tf.Tensor2D, dy as tf.Tensor2D, true, false),
    ],
  };
}) as (x: tf.Tensor2D, w: tf.Tensor2D) => tf.Tensor2D;

/**
 * y = x·wᵀ for x [rows, in], w [out, in] (stock: tf.matMul(x, w, false, true)), e.g. tied output
 * logits against the embedding table. With the native kernel: dx = dy·w, dw = dyᵀ·x, no transposes;
 * else linear(x, transpose(w)).
 */
export function linearT(x: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D {
  return flaggedProducts() ? linearTFlagged(x, w) : tf.tidy(() => linearTransposed(x, tf.transpose(w)));
}

const linearTFlagged = customOp<tf.Tensor2D>((x, w, save) => {
  (save as tf.GradSaveFunc)([x as tf.Tensor, w as tf.Tensor]);
  return {
    value: tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D, false, true),
    gradFunc: (dy, [xs, ws]) => [
      tf.matMul(dy as tf.Tensor2D, ws as tf.Tensor2D),
      tf.matMul(dy as tf.Tensor2D, xs as tf.Tensor2D, true, false),
    ],
  };
}) as (x: tf.Tensor2D, w: tf.Tensor2D) => tf.Tensor2D;

/**
 * Grouped products (MoE experts): rows of x [R, in] come in groups of counts[e] consecutive rows,
 * and group e is multiplied by ws[e] [in, out]: y [R, out] (stock: tf.concat of
 * tf.matMul(slice_e, ws[e])). One native call per direction with the engine's grouped kernels
 * (available with the native matmul; see groupedProducts): forward y, backward dx (grouped, w
 * transposed) and all dW_e = x_eᵀ·dy_e (zeros for an empty group).
 */
const GROUPED_MATMUL = 'MoelabGroupedMatMul';
export function groupedProducts(): boolean {
  return hasKernel(GROUPED_MATMUL);
}

export function groupedLinear(x: tf.Tensor2D, ws: tf.Tensor2D[], counts: number[]): tf.Tensor2D {
  if (ws.length !== counts.length) throw new Error(`groupedLinear: ${ws.length} weights for ${counts.length} groups`);
  const named = (first: tf.Tensor, w: tf.Tensor[]) => Object.fromEntries([['x', first], ...w.map((t, e) => [`w${e}`, t])]);
  const op = customOp<tf.Tensor2D>((...args) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const [xi, ...wi] = args.slice(0, -1) as tf.Tensor[];
    save([xi, ...wi]);
    return {
      value: runFused(GROUPED_MATMUL, named(xi, wi), { counts, transposeB: false })[0] as tf.Tensor2D,
      gradFunc: (dy, [xs, ...wss]) => [
        runFused(GROUPED_MATMUL, named(dy, wss), { counts, transposeB: true })[0],
        ...runFused('MoelabGroupedMatMulWeights', { x: xs, dy }, { counts }),
      ],
    };
  });
  return op(x, ...ws);
}

// ---------------------------------------------------------------------------------------------
// Attention core

/** Split a [blocks, rows, cols] tensor into its 2-D blocks on the host: one read, one upload each. */
function hostBlocks(t: tf.Tensor): tf.Tensor2D[] {
  const [blocks, rows, cols] = t.shape as [number, number, number];
  const v = t.dataSync() as Float32Array;
  const size = rows * cols;
  return Array.from({ length: blocks }, (_, i) => tf.tensor2d(v.subarray(i * size, (i + 1) * size), [rows, cols]));
}

/** c[i] = a[i]·b[i] as one rank-2 product per block, stacked back to [blocks, n, m]. */
function blockProducts(a: tf.Tensor, b: tf.Tensor): tf.Tensor3D {
  const as = hostBlocks(a);
  const bs = hostBlocks(b);
  const [blocks, n] = a.shape;
  const m = b.shape[2]!;
  return tf.concat(as.map((ai, i) => tf.matMul(ai, bs[i])), 0).reshape([blocks!, n!, m]) as tf.Tensor3D;
}

/**
 * Causal attention core over blocks: o[i] = softmax(q[i]·kT[i] + bias[i]) · v[i] for
 * q [blocks, rows, headDim] (scaled), kT [blocks, headDim, seqLen], v [blocks, seqLen, headDim],
 * bias [blocks, rows, seqLen] a constant (the causal mask). Stock: the same in tf ops with batched
 * tf.matMul. One custom op with a hand-written backward, so the blocks can be cut on the host:
 * stock wasm runs batched products in a scalar loop (~1 GFLOP/s) and tf.split copies the whole
 * input once per block, while per-block rank-2 products stay on XNNPACK. With P = softmax(S):
 *   dP = dO·vᵀ,  dS = P ⊙ (dP − rowsum(dP ⊙ P)),  dq = dS·k,  dkT = qᵀ·dS,  dv = Pᵀ·dO.
 */
export function blockAttention(q: tf.Tensor3D, kT: tf.Tensor3D, v: tf.Tensor3D, bias: tf.Tensor3D): tf.Tensor3D {
  if (flaggedProducts()) return blockAttentionBatched(q, kT, v, bias, true);
  if (hasKernel(BATCHED_MATMUL)) return blockAttentionBatched(q, kT, v, bias, false);
  const op = customOp<tf.Tensor3D>((qi, ki, vi, save) => {
    const probs = tf.softmax(tf.add(blockProducts(qi as tf.Tensor, ki as tf.Tensor), bias));
    (save as tf.GradSaveFunc)([qi as tf.Tensor, ki as tf.Tensor, vi as tf.Tensor, probs]);
    return {
      value: blockProducts(probs, vi as tf.Tensor),
      gradFunc: (dy, [qs, ks, vs, ps]) => {
        const t = (x: tf.Tensor) => tf.transpose(x, [0, 2, 1]);
        const dP = blockProducts(dy, t(vs));
        const dS = tf.mul(ps, tf.sub(dP, tf.sum(tf.mul(dP, ps), -1, true)));
        return [blockProducts(dS, t(ks)), blockProducts(t(qs), dS), blockProducts(t(ps), dy)];
      },
    };
  });
  return op(q, kT, v);
}

/**
 * blockAttention as batched products over all blocks (no host round trip): with the native kernel
 * (`flagged`) every product is one flagged call; with the engine's heap kernels alone (wasm
 * without the addon: BATCHED_MATMUL) the backward transposes explicitly and each batched product
 * runs as rank-2 XNNPACK products on views of its inputs.
 */
const BATCHED_MATMUL = 'MoelabBatchedMatMul';
function blockAttentionBatched(q: tf.Tensor3D, kT: tf.Tensor3D, v: tf.Tensor3D, bias: tf.Tensor3D, flagged: boolean): tf.Tensor3D {
  const t = (x: tf.Tensor) => tf.transpose(x, [0, 2, 1]) as tf.Tensor3D;
  // a·bᵀ, aᵀ·b with flags or explicit transposes
  const mulBT = (a: tf.Tensor, b: tf.Tensor) => (flagged ? tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D, false, true) : tf.matMul(a as tf.Tensor3D, t(b)));
  const mulAT = (a: tf.Tensor, b: tf.Tensor) => (flagged ? tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D, true, false) : tf.matMul(t(a), b as tf.Tensor3D));
  // The softmax backward as one kernel where the engine has it.
  const fusedSoftmaxGrad = hasKernel('MoelabSoftmaxGrad');
  const op = customOp<tf.Tensor3D>((qi, ki, vi, save) => {
    const probs = tf.softmax(tf.add(tf.matMul(qi as tf.Tensor3D, ki as tf.Tensor3D), bias));
    (save as tf.GradSaveFunc)([qi as tf.Tensor, ki as tf.Tensor, vi as tf.Tensor, probs]);
    return {
      value: tf.matMul(probs as tf.Tensor3D, vi as tf.Tensor3D),
      gradFunc: (dy, [qs, ks, vs, ps]) => {
        const dP = mulBT(dy, vs);
        const dS = (fusedSoftmaxGrad ? runFused('MoelabSoftmaxGrad', { p: ps, dp: dP })[0] : tf.mul(ps, tf.sub(dP, tf.sum(tf.mul(dP, ps), -1, true)))) as tf.Tensor3D;
        return [mulBT(dS, ks), mulAT(qs, dS), mulAT(ps, dy)];
      },
    };
  });
  return op(q, kT, v);
}

// ---------------------------------------------------------------------------------------------
// Row gathers and scatter-adds (embedding lookup, MoE dispatch / combine)
//
// Without the engine's fused kernels (below): on the host, one read of the input, a typed-array
// loop, one upload. Measured on wasm
// (2048×128 rows, 2 cores): tf.gather 9.9 ms vs 1.2 ms on the host; a tf.gather gradient would
// also need UnsortedSegmentSum, which wasm lacks. The MoE router already syncs to the host once
// per layer, so this adds no new synchronisation point in kind.
// NOTE: on a GPU backend these round trips cost more; a device path (tf.gather forward, gathers
// by inverse permutation backward) is the alternative if tfjs-node-gpu becomes the main target.

/** out[r] = values[index[r]] for row-major values [rows, width]: [index.length, width]. */
export function gatherRowsHost(values: Float32Array, width: number, index: Int32Array): Float32Array {
  const src = values;
  const out = new Float32Array(index.length * width);
  if (width === 1) {
    for (let r = 0; r < index.length; r++) out[r] = src[index[r]];
  } else {
    for (let r = 0; r < index.length; r++) out.set(src.subarray(index[r] * width, index[r] * width + width), r * width);
  }
  return out;
}

/** out[t] = Σ_{r: index[r]=t} values[r] for row-major values [index.length, width]: [numOut, width]. */
export function scatterAddRowsHost(values: ArrayLike<number>, width: number, index: Int32Array, numOut: number): Float32Array {
  const out = new Float32Array(numOut * width);
  for (let r = 0; r < index.length; r++) {
    const src = r * width;
    const dst = index[r] * width;
    for (let j = 0; j < width; j++) out[dst + j] += values[src + j];
  }
  return out;
}

/**
 * out[r] = x[index[r]] for x [rows, width], index [R] (stock: tf.gather(x, index)).
 * Backward: dx[t] = Σ_{r: index[r]=t} dy[r] (stock: tf.unsortedSegmentSum).
 */
export function gatherRows(x: tf.Tensor2D, index: Int32Array): tf.Tensor2D {
  const [rows, width] = x.shape;
  if (fusedRows()) return gatherRowsFused(x, index, rows);
  const op = customOp<tf.Tensor2D>((input) => ({
    value: tf.tensor2d(gatherRowsHost((input as tf.Tensor).dataSync() as Float32Array, width, index), [index.length, width]),
    gradFunc: (dy) => tf.tensor2d(scatterAddRowsHost(dy.dataSync(), width, index, rows), [rows, width]),
  }));
  return op(x);
}

/**
 * out[t] = Σ_{r: index[r]=t} y[r] for y [R, width], out [numOut, width] — the adjoint of gatherRows
 * (stock: tf.unsortedSegmentSum(y, index, numOut)). Backward: dy[r] = dout[index[r]].
 */
export function scatterAddRows(y: tf.Tensor2D, index: Int32Array, numOut: number): tf.Tensor2D {
  const width = y.shape[1];
  if (fusedRows()) return scatterAddRowsFused(y, index, numOut);
  const op = customOp<tf.Tensor2D>((input) => ({
    value: tf.tensor2d(scatterAddRowsHost((input as tf.Tensor).dataSync(), width, index, numOut), [numOut, width]),
    gradFunc: (dout) => tf.tensor2d(gatherRowsHost(dout.dataSync() as Float32Array, width, index), [index.length, width]),
  }));
  return op(y);
}

// With the engine's fused kernels (src/engine/fused-kernels.ts: MoelabGatherRows,
// MoelabScatterAddRows) the same two operations run in place on the backend's memory: no read to
// the host and no upload. The index is uploaded per call (closures hold host arrays only).
const GATHER_ROWS = 'MoelabGatherRows';
const SCATTER_ADD_ROWS = 'MoelabScatterAddRows';

const fusedRows = (): boolean => hasKernel(GATHER_ROWS) && hasKernel(SCATTER_ADD_ROWS);

function withIndex<T>(index: Int32Array, f: (idx: tf.Tensor) => T): T {
  const idx = tf.tensor1d(index, 'int32');
  try {
    return f(idx);
  } finally {
    idx.dispose();
  }
}
const gatherRowsRun = (x: tf.Tensor, index: Int32Array): tf.Tensor2D =>
  withIndex(index, (idx) => runFused(GATHER_ROWS, { x, index: idx })[0] as tf.Tensor2D);
const scatterAddRowsRun = (y: tf.Tensor, index: Int32Array, numOut: number): tf.Tensor2D =>
  withIndex(index, (idx) => runFused(SCATTER_ADD_ROWS, { y, index: idx }, { numOut })[0] as tf.Tensor2D);

function gatherRowsFused(x: tf.Tensor2D, index: Int32Array, rows: number): tf.Tensor2D {
  return customOp<tf.Tensor2D>((input) => ({
    value: gatherRowsRun(input as tf.Tensor, index),
    gradFunc: (dy) => scatterAddRowsRun(dy, index, rows),
  }))(x);
}

function scatterAddRowsFused(y: tf.Tensor2D, index: Int32Array, numOut: number): tf.Tensor2D {
  return customOp<tf.Tensor2D>((input) => ({
    value: scatterAddRowsRun(input as tf.Tensor, index, numOut),
    gradFunc: (dout) => gatherRowsRun(dout, index),
  }))(y);
}

// ---------------------------------------------------------------------------------------------
// RoPE

/** True when the engine registered the fused RoPE kernels (MoelabRope, MoelabRopeGrad). */
export function fusedRope(): boolean {
  return hasKernel('MoelabRope') && hasKernel('MoelabRopeGrad');
}

/**
 * RoPE on rows [rows, dh] with per-row tables cos, sin [rows, dh] (stock: x⊙cos + (x·R)⊙sin with R
 * the rotate-half matrix, src/model/attention.ts ropeFast): one fused kernel forward, one backward.
 * cos and sin are constants that outlive the step (the attention's ConstantCache keeps them), so
 * the gradient closure may hold them; only x is differentiated.
 */
export function ropeRows(x: tf.Tensor2D, cos: tf.Tensor2D, sin: tf.Tensor2D): tf.Tensor2D {
  return customOp<tf.Tensor2D>((input) => ({
    value: runFused('MoelabRope', { x: input as tf.Tensor, cos, sin })[0] as tf.Tensor2D,
    gradFunc: (dy) => runFused('MoelabRopeGrad', { dy, cos, sin })[0],
  }))(x);
}

/** Embedding lookup: out[r] = table[ids[r]] — a row gather whose gradient scatter-adds into the table. */
export function embeddingLookup(table: tf.Tensor2D, ids: Int32Array): tf.Tensor2D {
  return gatherRows(table, ids);
}

// ---------------------------------------------------------------------------------------------
// Fused elementwise ops

/**
 * RMSNorm over the last axis: y = x · rsqrt(mean(x²) + eps) ⊙ g, x [rows, width], g [width].
 * Fused backward (stock autograd issues ~3× the ops): with r = rsqrt(mean(x²)+eps), x̂ = x·r,
 *   dg = Σ_rows dy ⊙ x̂,   dx = r · (dy⊙g − x̂ · mean(dy⊙g⊙x̂)).
 */
export function rmsNorm(x: tf.Tensor2D, g: tf.Tensor1D, eps: number): tf.Tensor2D {
  if (hasKernel('MoelabRmsNorm')) {
    const fused = customOp<tf.Tensor2D>((input, gain, save) => {
      const [y, r] = runFused('MoelabRmsNorm', { x: input as tf.Tensor, g: gain as tf.Tensor }, { eps });
      (save as tf.GradSaveFunc)([input as tf.Tensor, r, gain as tf.Tensor]);
      return {
        value: y as tf.Tensor2D,
        gradFunc: (dy, [xs, rs, gs]) => runFused('MoelabRmsNormGrad', { dy, x: xs, r: rs, g: gs }),
      };
    });
    return fused(x, g);
  }
  const op = customOp<tf.Tensor2D>((input, gain, save) => {
    const r = tf.rsqrt(tf.add(tf.mean(tf.square(input as tf.Tensor2D), 1, true), eps));
    const xhat = tf.mul(input as tf.Tensor2D, r);
    (save as tf.GradSaveFunc)([xhat, r, gain as tf.Tensor]);
    return {
      value: tf.mul(xhat, gain as tf.Tensor1D) as tf.Tensor2D,
      gradFunc: (dy, [xh, rr, gg]) => {
        const a = tf.mul(dy, gg);
        const dx = tf.mul(rr, tf.sub(a, tf.mul(xh, tf.mean(tf.mul(a, xh), 1, true))));
        // Column sum as a [1, rows] ones product: 35× faster on wasm than tf.sum(…, 0).
        const [rows, width] = (xh as tf.Tensor2D).shape;
        const dg = tf.matMul(tf.ones([1, rows]) as tf.Tensor2D, tf.mul(dy, xh) as tf.Tensor2D).reshape([width]);
        return [dx, dg];
      },
    };
  });
  return op(x, g);
}

/**
 * SwiGLU activation h = silu(a) ⊙ b with silu(a) = a·σ(a) (stock: tf.mul(tf.mul(a, tf.sigmoid(a)), b)).
 * Backward: da = dy ⊙ b ⊙ σ(a)·(1 + a·(1 − σ(a))), db = dy ⊙ silu(a).
 */
export function swigluActivation(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return hasKernel('MoelabSwiglu') ? swigluFused(a, b) : swigluComposed(a, b);
}

const swigluFused = customOp<tf.Tensor2D>((a, b, save) => {
  (save as tf.GradSaveFunc)([a as tf.Tensor, b as tf.Tensor]);
  return {
    value: runFused('MoelabSwiglu', { a: a as tf.Tensor, b: b as tf.Tensor })[0] as tf.Tensor2D,
    gradFunc: (dy, [as, bs]) => runFused('MoelabSwigluGrad', { dy, a: as, b: bs }),
  };
}) as (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D;

const swigluComposed = customOp<tf.Tensor2D>((a, b, save) => {
  const s = tf.sigmoid(a as tf.Tensor2D);
  const silu = tf.mul(a as tf.Tensor2D, s);
  (save as tf.GradSaveFunc)([s, silu, b as tf.Tensor]);
  return {
    value: tf.mul(silu, b as tf.Tensor2D) as tf.Tensor2D,
    gradFunc: (dy, [ss, sl, bb]) => {
      // σ + silu·(1 − σ) = σ·(1 + a(1 − σ))
      const dsilu = tf.add(ss, tf.mul(sl, tf.sub(1, ss)));
      return [tf.mul(tf.mul(dy, bb), dsilu), tf.mul(dy, sl)];
    },
  };
}) as (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D;

/** SwiGLU MLP: down(silu(x·wGate) ⊙ (x·wUp)); x [rows, d], wGate/wUp [d, width], wDown [width, d]. */
export function swiglu(x: tf.Tensor2D, wGate: tf.Tensor2D, wUp: tf.Tensor2D, wDown: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => linear(swigluActivation(linear(x, wGate), linear(x, wUp)), wDown));
}

/**
 * Mean softmax cross-entropy of logits [rows, vocab] against integer targets (stock:
 * −mean(Σ oneHot ⊙ logSoftmax)). Backward: (softmax − oneHot) · dy / rows, from the saved
 * log-probabilities.
 */
export function softmaxCrossEntropy(logits: tf.Tensor2D, targets: Int32Array): tf.Scalar {
  const [rows, vocab] = logits.shape;
  if (hasKernel('MoelabSoftmaxXent')) {
    // One kernel: the mean loss and its gradient (softmax − onehot) / rows, kept for backward.
    const fused = customOp<tf.Scalar>((z, save) => {
      const t = tf.tensor1d(targets, 'int32');
      const [loss, grad] = runFused('MoelabSoftmaxXent', { logits: z as tf.Tensor, targets: t });
      t.dispose();
      (save as tf.GradSaveFunc)([grad]);
      return { value: loss as tf.Scalar, gradFunc: (dy, [g]) => tf.mul(g, dy) };
    });
    return fused(logits);
  }
  const op = customOp<tf.Scalar>((z, save) => {
    const logp = tf.logSoftmax(z as tf.Tensor2D);
    const onehot = oneHotFloat(targets, vocab);
    (save as tf.GradSaveFunc)([logp, onehot]);
    return {
      value: tf.neg(tf.div(tf.sum(tf.mul(logp, onehot)), rows)) as tf.Scalar,
      gradFunc: (dy, [lp, oh]) => tf.mul(tf.sub(tf.exp(lp), oh), tf.div(dy, rows)),
    };
  });
  return op(logits);
}
