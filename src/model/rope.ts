// Rotary position embeddings (RoPE) with Hunyuan's dynamic NTK-α base (docs/references.md#configuration), as pure
// functions on typed arrays. The tensor code in attention.ts turns these tables into constants.
//
// Layout is the "rotate half" convention of the Hunyuan / HF Llama code: for a head vector x of
// width headDim, x1 = x[:headDim/2], x2 = x[headDim/2:], rotateHalf(x) = [−x2, x1], and
//   rope(x)[j] = x[j]·cos(pos·f_{j mod headDim/2}) + rotateHalf(x)[j]·sin(pos·f_{j mod headDim/2}).

/**
 * NTK-α scaled base: base' = θ · α^(headDim / (headDim − 2)) (HunYuanDynamicNTKAlphaRotaryEmbedding,
 * docs/references.md#configuration). α = 1 gives plain RoPE. Hunyuan-Large pretrain: 10000 · 1e5^(80/78) ≈ 1.34e9.
 */
export function ropeBase(theta: number, ntkAlpha: number, headDim: number): number {
  return theta * ntkAlpha ** (headDim / (headDim - 2));
}

/** inv_freq_i = 1 / base^(2i/headDim), i = 0 .. headDim/2 − 1. */
export function ropeInvFreq(base: number, headDim: number): Float64Array {
  const half = headDim / 2;
  const out = new Float64Array(half);
  for (let i = 0; i < half; i++) out[i] = 1 / base ** ((2 * i) / headDim);
  return out;
}

/**
 * cos and sin tables, each [seqLen, headDim] row-major: entry (pos, j) uses frequency
 * j mod headDim/2 (both halves of a head share the frequencies).
 */
export function ropeTables(seqLen: number, headDim: number, base: number): { cos: Float32Array; sin: Float32Array } {
  const invFreq = ropeInvFreq(base, headDim);
  const half = headDim / 2;
  const cos = new Float32Array(seqLen * headDim);
  const sin = new Float32Array(seqLen * headDim);
  for (let pos = 0; pos < seqLen; pos++) {
    for (let j = 0; j < headDim; j++) {
      const angle = pos * invFreq[j % half];
      cos[pos * headDim + j] = Math.cos(angle);
      sin[pos * headDim + j] = Math.sin(angle);
    }
  }
  return { cos, sin };
}

/**
 * The signed permutation R [headDim, headDim] with x·R = rotateHalf(x) for a row vector x:
 * column j < half takes −x[j + half], column j ≥ half takes x[j − half]. As a matrix the rotation
 * is a plain 2-D product, which keeps RoPE on the fast matmul path and gives it a gradient on
 * every backend (no gather / strided-slice gradients needed).
 */
export function rotateHalfMatrix(headDim: number): Float32Array {
  const half = headDim / 2;
  const r = new Float32Array(headDim * headDim);
  for (let j = 0; j < half; j++) {
    r[(j + half) * headDim + j] = -1; // row j+half → column j
    r[j * headDim + (j + half)] = 1; // row j → column j+half
  }
  return r;
}

/** Apply RoPE to one head vector at position `pos` (reference for tests; plain numbers). */
export function applyRope(x: ArrayLike<number>, pos: number, base: number): number[] {
  const headDim = x.length;
  const half = headDim / 2;
  const invFreq = ropeInvFreq(base, headDim);
  const out = new Array<number>(headDim);
  for (let j = 0; j < headDim; j++) {
    const angle = pos * invFreq[j % half];
    const rotated = j < half ? -x[j + half] : x[j - half];
    out[j] = x[j] * Math.cos(angle) + rotated * Math.sin(angle);
  }
  return out;
}
