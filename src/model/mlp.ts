// The SwiGLU MLP: the dense FFN, each shared expert and each specialized expert
// (PAPER.md §5.1: down(silu(gate(x)) ⊙ up(x)), no bias).
import * as tf from '@tensorflow/tfjs';
import { swiglu } from './kernels.ts';

/** fast: host kernels (wasm/native); device: no host reads (GPU backends, device-*.ts); reference: stock ops. */
export type Impl = 'fast' | 'reference' | 'device';

export interface MlpWeights {
  /** [dModel, width] */
  wGate: tf.Tensor2D;
  /** [dModel, width] */
  wUp: tf.Tensor2D;
  /** [width, dModel] */
  wDown: tf.Tensor2D;
}

/** x [rows, dModel] → [rows, dModel]. */
export function mlp(x: tf.Tensor2D, w: MlpWeights, impl: Impl): tf.Tensor2D {
  return tf.tidy(() => {
    if (impl !== 'reference') return swiglu(x, w.wGate, w.wUp, w.wDown);
    const a = tf.matMul(x, w.wGate);
    return tf.matMul(tf.mul(tf.mul(a, tf.sigmoid(a)), tf.matMul(x, w.wUp)), w.wDown);
  });
}
