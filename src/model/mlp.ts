// The SwiGLU MLP: the dense FFN, each shared expert and each specialized expert
// (docs/references.md#moe-structure: down(silu(gate(x)) ⊙ up(x)), no bias).
import * as tf from '@tensorflow/tfjs';
import { groupedLinear, groupedProducts, swiglu, swigluActivation } from './kernels.ts';

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

/**
 * The specialized experts of a MoE layer on their rows: `rows` [R, dModel] holds counts[e]
 * consecutive rows for expert e, in expert order; → [R, dModel], row for row. With the engine's
 * grouped products (native matmul) every product is one call over all experts (kernels.ts
 * groupedLinear); otherwise each expert with rows runs its own SwiGLU on its slice.
 */
export function expertMlps(rows: tf.Tensor2D, experts: MlpWeights[], counts: number[]): tf.Tensor2D {
  return tf.tidy(() => {
    if (groupedProducts()) {
      const gate = groupedLinear(rows, experts.map((w) => w.wGate), counts);
      const up = groupedLinear(rows, experts.map((w) => w.wUp), counts);
      return groupedLinear(swigluActivation(gate, up), experts.map((w) => w.wDown), counts);
    }
    const active = counts.map((c, e) => ({ c, e })).filter(({ c }) => c > 0);
    const slices = active.length === 1 ? [rows] : tf.split(rows, active.map(({ c }) => c), 0);
    const outs = active.map(({ e }, i) => mlp(slices[i] as tf.Tensor2D, experts[e], 'fast'));
    return outs.length === 1 ? outs[0] : (tf.concat(outs, 0) as tf.Tensor2D);
  });
}
