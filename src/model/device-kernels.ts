// Device-resident kernels of the model's "device" implementation (GPU backends): the operations
// the host path (kernels.ts) does with a read to the host are done here in tensor ops, so a
// training step issues no read inside forward or backward.
// - row gathers: tf.gather (its gradient is tf.unsortedSegmentSum);
// - attention blocks: batched products with the same hand-written backward as kernels.ts's
//   blockAttention, cut into chunks so no intermediate exceeds the device's buffer limit.
// Every function here also runs (slowly) on the cpu backend, where the tests compare it with the
// host path and the stock reference.
import * as tf from '@tensorflow/tfjs';

/**
 * Largest tensor, in bytes, the device path may create in one piece (the adapter's
 * maxStorageBufferBindingSize on webgpu; set by the engine at start). Infinity = no limit.
 */
let bufferLimitBytes = Infinity;

export function setDeviceBufferLimit(bytes: number): void {
  if (!(bytes > 0)) throw new Error(`setDeviceBufferLimit: expected a positive byte count (got ${bytes})`);
  bufferLimitBytes = bytes;
}

export function deviceBufferLimit(): number {
  return bufferLimitBytes;
}

/**
 * Split `total` items of `bytesPerItem` each into the fewest contiguous chunks under `limit` bytes
 * (pure; sizes differ by at most one). Throws when a single item is over the limit.
 */
export function chunkSizes(total: number, bytesPerItem: number, limit: number, what: string): number[] {
  if (bytesPerItem > limit) {
    throw new Error(
      `${what}: one item needs ${bytesPerItem} bytes, over the device buffer limit of ${limit} bytes ` +
        '(maxStorageBufferBindingSize); use a shorter sequence or a smaller model.',
    );
  }
  const chunks = Math.max(1, Math.ceil((total * bytesPerItem) / limit));
  const base = Math.floor(total / chunks);
  const extra = total % chunks;
  return Array.from({ length: chunks }, (_, i) => base + (i < extra ? 1 : 0));
}

type Grad = (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[];

function customOp<T extends tf.Tensor>(
  f: (...args: (tf.Tensor | tf.GradSaveFunc)[]) => { value: T; gradFunc: Grad | ((dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor) },
): (...inputs: tf.Tensor[]) => T {
  return tf.customGrad(f as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (...inputs: tf.Tensor[]) => T;
}

/** out[r] = x[index[r]] on the device (stock tf.gather; backward tf.unsortedSegmentSum). */
export function deviceGatherRows(x: tf.Tensor2D, index: tf.Tensor1D): tf.Tensor2D {
  return tf.gather(x, index) as tf.Tensor2D;
}

/** One chunk of blocks: o = softmax(q·kT + bias)·v with kernels.ts's hand-written backward. */
const attentionChunk = customOp<tf.Tensor3D>((qi, ki, vi, bi, save) => {
  const probs = tf.softmax(tf.add(tf.matMul(qi as tf.Tensor3D, ki as tf.Tensor3D), bi as tf.Tensor3D));
  (save as tf.GradSaveFunc)([qi as tf.Tensor, ki as tf.Tensor, vi as tf.Tensor, probs]);
  return {
    value: tf.matMul(probs as tf.Tensor3D, vi as tf.Tensor3D),
    gradFunc: (dy, [qs, ks, vs, ps]) => {
      const dP = tf.matMul(dy as tf.Tensor3D, vs as tf.Tensor3D, false, true);
      const dS = tf.mul(ps, tf.sub(dP, tf.sum(tf.mul(dP, ps), -1, true))) as tf.Tensor3D;
      return [
        tf.matMul(dS, ks as tf.Tensor3D, false, true),
        tf.matMul(qs as tf.Tensor3D, dS, true, false),
        tf.matMul(ps as tf.Tensor3D, dy as tf.Tensor3D, true, false),
        tf.zerosLike(ps), // the bias is a constant (the causal mask)
      ];
    },
  };
});

/**
 * Causal attention over blocks on the device: the same function as kernels.ts blockAttention,
 * q [blocks, rows, dh] (scaled), kT [blocks, dh, T], v [blocks, T, dh], bias [blocks, rows, T].
 * Blocks are processed in chunks whose score matrix stays under the device buffer limit.
 */
export function deviceBlockAttention(q: tf.Tensor3D, kT: tf.Tensor3D, v: tf.Tensor3D, bias: tf.Tensor3D): tf.Tensor3D {
  return tf.tidy(() => {
    const [blocks, rows] = q.shape;
    const seqLen = kT.shape[2];
    const sizes = chunkSizes(blocks, rows * seqLen * 4, bufferLimitBytes, 'attention scores');
    if (sizes.length === 1) return attentionChunk(q, kT, v, bias);
    const qs = tf.split(q, sizes, 0);
    const ks = tf.split(kT, sizes, 0);
    const vs = tf.split(v, sizes, 0);
    const bs = tf.split(bias, sizes, 0);
    return tf.concat(sizes.map((_, i) => attentionChunk(qs[i], ks[i], vs[i], bs[i])), 0) as tf.Tensor3D;
  });
}
