// Causal self-attention with RoPE (NTK-α base), optional QK-RMSNorm after RoPE, GQA and CLA
// (docs/references.md#attention, docs/references.md#configuration). Two implementations with the same weights and results:
// - fast: projections on 2-D activations; scores, softmax and values as one custom op over
//   (batch, kv-head) blocks (the h/g query heads sharing a KV head are stacked into one
//   [(h/g)·T, d_h] block; kernels.ts blockAttention: a rank-2 product per block, hand-written
//   backward); the causal mask a constant additive bias; RoPE's rotate-half a product with a
//   constant signed permutation;
// - reference: stock 4-D ops and batched matMul, for tests and as the readable statement.
//
// CLA: an owner layer (i % claShareFactor = 0) projects K/V and returns them as SharedKv; the next
// layers reuse them. What is shared is K after RoPE but before the key norm, and V — each layer
// applies its own key norm (docs/references.md#attention: each consuming layer has its own key_layernorm; RoPE
// positions are the same in every layer, so rotating once is exact).
import * as tf from '@tensorflow/tfjs';
import { deviceBlockAttention } from './device-kernels.ts';
import { blockAttention, fusedRope, linear, rmsNorm, ropeRows } from './kernels.ts';
import { ropeTables, rotateHalfMatrix } from './rope.ts';

export interface AttentionWeights {
  /** [dModel, numHeads·headDim] */
  wq: tf.Tensor2D;
  /** [dModel, numKvHeads·headDim]; owner layers only. */
  wk?: tf.Tensor2D;
  wv?: tf.Tensor2D;
  /** [numHeads·headDim, dModel] */
  wo: tf.Tensor2D;
  /** [headDim]; present iff qkNorm. */
  qNorm?: tf.Tensor1D;
  kNorm?: tf.Tensor1D;
}

export interface AttentionShape {
  batch: number;
  seqLen: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  ropeBase: number;
  normEps: number;
  /** Device path (src/model/device-kernels.ts): attention blocks as batched products, no host read. */
  device?: boolean;
}

/** K/V an owner layer hands to the layers that share them (layout depends on the implementation). */
export interface SharedKv {
  /** K after RoPE, before any key norm. fast: [batch·seqLen·numKvHeads, headDim]; reference: [batch, seqLen, numKvHeads, headDim]. */
  kRot: tf.Tensor;
  /** V (one tensor). fast: [batch·numKvHeads, seqLen, headDim]; reference: [batch, numKvHeads, seqLen, headDim]. */
  v: tf.Tensor[];
  /** fast only, without key norm: Kᵀ blocks [batch·numKvHeads, headDim, seqLen], reusable as is. */
  kT?: tf.Tensor[];
}

// ---------------------------------------------------------------------------------------------
// Constants (RoPE tables, rotation, causal bias), created once per shape and kept

export interface ConstantCache {
  get<T extends tf.Tensor>(key: string, make: () => T): T;
  /** Number of cached tensors (leak tests count them). */
  size(): number;
  dispose(): void;
}

export function createConstantCache(): ConstantCache {
  const cache = new Map<string, tf.Tensor>();
  return {
    get<T extends tf.Tensor>(key: string, make: () => T): T {
      let t = cache.get(key);
      if (!t) {
        t = tf.keep(tf.tidy(make));
        cache.set(key, t);
      }
      return t as T;
    },
    size: () => cache.size,
    dispose: () => {
      for (const t of cache.values()) t.dispose();
      cache.clear();
    },
  };
}

/** Masked logits get this bias (not −Infinity: a fully masked row would give NaN). */
const MASK_BIAS = -1e9;

function causalBiasArray(seqLen: number, blocks: number): Float32Array {
  const out = new Float32Array(blocks * seqLen * seqLen);
  for (let b = 0; b < blocks; b++) {
    for (let i = 0; i < seqLen; i++) {
      for (let j = i + 1; j < seqLen; j++) out[(b * seqLen + i) * seqLen + j] = MASK_BIAS;
    }
  }
  return out;
}

/** cos/sin tables for rows ordered (batch, position, head): [batch·seqLen·heads, headDim], × scale. */
function ropeRowTables(s: AttentionShape, heads: number, scale: number): { cos: Float32Array; sin: Float32Array } {
  const { batch, seqLen, headDim } = s;
  const base = ropeTables(seqLen, headDim, s.ropeBase);
  const rows = batch * seqLen * heads;
  const cos = new Float32Array(rows * headDim);
  const sin = new Float32Array(rows * headDim);
  for (let r = 0; r < rows; r++) {
    const pos = Math.floor(r / heads) % seqLen;
    for (let j = 0; j < headDim; j++) {
      cos[r * headDim + j] = base.cos[pos * headDim + j] * scale;
      sin[r * headDim + j] = base.sin[pos * headDim + j] * scale;
    }
  }
  return { cos, sin };
}

// ---------------------------------------------------------------------------------------------
// Fast path

/** RoPE on rows [rows, headDim]: x⊙cos + (x·R)⊙sin, R the rotate-half permutation. */
function ropeFast(x: tf.Tensor2D, s: AttentionShape, heads: number, scale: number, consts: ConstantCache): tf.Tensor2D {
  const key = `${s.batch}:${s.seqLen}:${heads}:${s.headDim}:${s.ropeBase}:${scale}`;
  const cos = consts.get(`ropeCos:${key}`, () => {
    const t = ropeRowTables(s, heads, scale);
    return tf.tensor2d(t.cos, [t.cos.length / s.headDim, s.headDim]);
  });
  const sin = consts.get(`ropeSin:${key}`, () => {
    const t = ropeRowTables(s, heads, scale);
    return tf.tensor2d(t.sin, [t.sin.length / s.headDim, s.headDim]);
  });
  if (fusedRope()) return ropeRows(x, cos, sin);
  const rot = consts.get(`rot:${s.headDim}`, () => tf.tensor2d(rotateHalfMatrix(s.headDim), [s.headDim, s.headDim]));
  return tf.add(tf.mul(x, cos), tf.mul(linear(x, rot), sin));
}

/**
 * x [batch·seqLen, dModel] → [batch·seqLen, dModel]. `shared` = K/V of this layer's CLA owner (absent
 * on owner layers, which compute and return their own).
 */
export function attentionFast(
  x: tf.Tensor2D,
  w: AttentionWeights,
  s: AttentionShape,
  consts: ConstantCache,
  shared?: SharedKv,
): { output: tf.Tensor2D; kv: SharedKv } {
  type Out = { output: tf.Tensor2D; kv: SharedKv };
  return tf.tidy(() => attentionFastBody(x, w, s, consts, shared) as unknown as tf.TensorContainer) as unknown as Out;
}

function attentionFastBody(
  x: tf.Tensor2D,
  w: AttentionWeights,
  s: AttentionShape,
  consts: ConstantCache,
  shared?: SharedKv,
): { output: tf.Tensor2D; kv: SharedKv } {
  const { batch: B, seqLen: T, numHeads: h, numKvHeads: g, headDim: dh } = s;
  const N = B * T;
  const group = h / g; // query heads per KV head
  const scale = 1 / Math.sqrt(dh);
  const qkNorm = w.qNorm !== undefined && w.kNorm !== undefined;

  // Queries: rows (token, head) [N·h, dh]; 1/√dh folded into the RoPE tables or the norm gain.
  let q = linear(x, w.wq).reshape([N * h, dh]) as tf.Tensor2D;
  q = ropeFast(q, s, h, qkNorm ? 1 : scale, consts);
  if (qkNorm) q = rmsNorm(q, tf.mul(w.qNorm!, scale) as tf.Tensor1D, s.normEps);
  // [B, T, h, dh] → [B, h, T, dh] → [B·g, (h/g)·T, dh]: the query heads of one KV head stacked
  const qBlocks = tf.transpose(q.reshape([B, T, h, dh]), [0, 2, 1, 3]).reshape([B * g, group * T, dh]) as tf.Tensor3D;

  let kv: SharedKv;
  if (shared) {
    kv = shared;
  } else {
    if (!w.wk || !w.wv) throw new Error('attentionFast: an owner layer needs wk and wv');
    const kRaw = linear(x, w.wk).reshape([N * g, dh]) as tf.Tensor2D;
    const kRot = ropeFast(kRaw, s, g, 1, consts);
    // [B, T, g, dh] → [B·g, T, dh]
    const v = tf.transpose(linear(x, w.wv).reshape([B, T, g, dh]), [0, 2, 1, 3]).reshape([B * g, T, dh]);
    kv = { kRot, v: [v] };
  }
  let kT = qkNorm ? undefined : kv.kT?.[0];
  if (!kT) {
    const k = qkNorm ? rmsNorm(kv.kRot as tf.Tensor2D, w.kNorm!, s.normEps) : (kv.kRot as tf.Tensor2D);
    // [B, T, g, dh] → [B, g, dh, T] → Kᵀ blocks [B·g, dh, T]
    kT = tf.transpose(k.reshape([B, T, g, dh]), [0, 2, 3, 1]).reshape([B * g, dh, T]) as tf.Tensor3D;
    if (!qkNorm && !shared) kv = { ...kv, kT: [kT as tf.Tensor2D] };
  }

  // Scores [B·g, (h/g)·T, T] per block; the causal mask is a constant additive bias of that shape.
  const bias = consts.get(`causal:${B * h}:${T}:${g}`, () =>
    tf.tensor3d(causalBiasArray(T, B * h), [B * g, group * T, T]),
  );
  const heads = (s.device ? deviceBlockAttention : blockAttention)(qBlocks, kT as tf.Tensor3D, kv.v[0] as tf.Tensor3D, bias); // [B·g, (h/g)·T, dh] = [B, h, T, dh]
  const merged = tf.transpose(heads.reshape([B, h, T, dh]), [0, 2, 1, 3]).reshape([N, h * dh]) as tf.Tensor2D;
  return { output: linear(merged, w.wo), kv };
}

// ---------------------------------------------------------------------------------------------
// Reference path (stock ops)

function rmsNormReference(x: tf.Tensor, g: tf.Tensor, eps: number): tf.Tensor {
  return tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), eps))), g);
}

/** RoPE on [B, T, heads, dh] with rotate-half by slicing (stock ops). */
function ropeReference(x: tf.Tensor4D, s: AttentionShape, consts: ConstantCache): tf.Tensor4D {
  const { seqLen: T, headDim: dh } = s;
  const half = dh / 2;
  const key = `${T}:${dh}:${s.ropeBase}`;
  const cos = consts.get(`refCos:${key}`, () => tf.tensor3d(ropeTables(T, dh, s.ropeBase).cos, [T, 1, dh]));
  const sin = consts.get(`refSin:${key}`, () => tf.tensor3d(ropeTables(T, dh, s.ropeBase).sin, [T, 1, dh]));
  const [x1, x2] = tf.split(x, [half, half], 3);
  const rotated = tf.concat([tf.neg(x2), x1], 3);
  return tf.add(tf.mul(x, cos), tf.mul(rotated, sin));
}

export function attentionReference(
  x: tf.Tensor2D,
  w: AttentionWeights,
  s: AttentionShape,
  consts: ConstantCache,
  shared?: SharedKv,
): { output: tf.Tensor2D; kv: SharedKv } {
  type Out = { output: tf.Tensor2D; kv: SharedKv };
  return tf.tidy(() => attentionReferenceBody(x, w, s, consts, shared) as unknown as tf.TensorContainer) as unknown as Out;
}

function attentionReferenceBody(
  x: tf.Tensor2D,
  w: AttentionWeights,
  s: AttentionShape,
  consts: ConstantCache,
  shared?: SharedKv,
): { output: tf.Tensor2D; kv: SharedKv } {
  const { batch: B, seqLen: T, numHeads: h, numKvHeads: g, headDim: dh } = s;
  let q = ropeReference(tf.matMul(x, w.wq).reshape([B, T, h, dh]), s, consts);
  if (w.qNorm) q = rmsNormReference(q, w.qNorm, s.normEps) as tf.Tensor4D;
  let kv: SharedKv;
  if (shared) {
    kv = shared;
  } else {
    if (!w.wk || !w.wv) throw new Error('attentionReference: an owner layer needs wk and wv');
    const kRot = ropeReference(tf.matMul(x, w.wk).reshape([B, T, g, dh]), s, consts);
    kv = { kRot, v: [tf.transpose(tf.matMul(x, w.wv).reshape([B, T, g, dh]), [0, 2, 1, 3])] };
  }
  let k: tf.Tensor = kv.kRot;
  if (w.kNorm) k = rmsNormReference(k, w.kNorm, s.normEps);
  k = tf.transpose(k, [0, 2, 1, 3]); // [B, g, T, dh]
  let v = kv.v[0];
  if (g !== h) {
    // GQA: repeat each KV head for its h/g query heads.
    const rep = (t: tf.Tensor) => tf.tile(t.reshape([B, g, 1, T * dh]), [1, 1, h / g, 1]).reshape([B, h, T, dh]);
    k = rep(k);
    v = rep(v);
  }
  const qh = tf.transpose(q, [0, 2, 1, 3]); // [B, h, T, dh]
  const bias = consts.get(`refCausal:${T}`, () => tf.tensor2d(causalBiasArray(T, 1), [T, T]));
  const scores = tf.add(tf.div(tf.matMul(qh, k, false, true), Math.sqrt(dh)), bias);
  const out = tf.matMul(tf.softmax(scores), v); // [B, h, T, dh]
  const merged = tf.transpose(out, [0, 2, 1, 3]).reshape([B * T, h * dh]) as tf.Tensor2D;
  return { output: tf.matMul(merged, w.wo), kv };
}
