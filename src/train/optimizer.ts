// AdamW over the model's named parameters, with a learning rate per parameter group (the
// specialized experts get their own, PAPER.md §3.2), decoupled weight decay (skipped where
// NamedParam.decay is false), and global-norm gradient clipping.
//
// The update is PyTorch's torch.optim.AdamW (Loshchilov & Hutter 2019), per parameter p with
// gradient g at update t = 1, 2, …:
//   g ← g · min(1, clip / (‖G‖₂ + 1e-6))       ‖G‖₂ over all gradients (torch clip_grad_norm_)
//   p ← p · (1 − lr·λ)                          only where decay is true
//   m ← β1·m + (1 − β1)·g
//   v ← β2·v + (1 − β2)·g²
//   p ← p − (lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + ε)
// A parameter without a gradient this step (e.g. an expert no token was routed to) is updated
// with g = 0, as in optax: its moments decay and its momentum keeps moving it.
import * as tf from '@tensorflow/tfjs';
import type { ParamGroup, NamedParam } from '../model/types.ts';

export interface AdamWArgs {
  beta1: number;
  beta2: number;
  eps: number;
  /** Decoupled weight decay λ (multiplied by the group's LR, as in PyTorch). */
  weightDecay: number;
  /** Max global gradient norm; 0 = no clipping. */
  gradClip: number;
}

/** Host copy of the optimiser state (for checkpoints). */
export interface AdamWState {
  /** Updates applied so far (t). */
  step: number;
  /** First and second moments per parameter, in `params` order. */
  m: Float32Array[];
  v: Float32Array[];
}

export interface StepResult {
  /** Global L2 norm of the gradients before clipping. */
  gradNorm: number;
  /** Factor the gradients were multiplied by (1 = not clipped). */
  clipScale: number;
  /** False when the gradient norm was not finite: nothing was updated. */
  applied: boolean;
}

export interface AdamW {
  readonly params: readonly NamedParam[];
  readonly args: AdamWArgs;
  /** Updates applied so far. */
  readonly step: number;
  /**
   * One update. `grads[i]` is the gradient of `params[i]` (undefined = zero); `lrOf(group)` the
   * group's learning rate for this step. Does not dispose `grads`.
   */
  applyGradients(grads: (tf.Tensor | undefined)[], lrOf: (group: ParamGroup) => number): StepResult;
  getState(): AdamWState;
  setState(state: AdamWState): void;
  dispose(): void;
}

/** Global L2 norm of a list of tensors (undefined entries count as zero). */
export function globalNorm(tensors: (tf.Tensor | undefined)[]): number {
  const present = tensors.filter((t): t is tf.Tensor => t !== undefined);
  if (present.length === 0) return 0;
  return tf.tidy(() => tf.sqrt(tf.addN(present.map((t) => tf.sum(tf.square(t))))).dataSync()[0]);
}

export function createAdamW(params: NamedParam[], args: AdamWArgs): AdamW {
  // tidy disposes the zeros tensors; the variables (which hold their own reference) survive.
  const zeros = () => tf.tidy(() => params.map((p) => tf.variable(tf.zerosLike(p.variable), false)));
  const m = zeros();
  const v = zeros();
  let t = 0;

  return {
    params,
    args,
    get step() {
      return t;
    },
    applyGradients(grads, lrOf) {
      if (grads.length !== params.length) {
        throw new Error(`applyGradients: ${grads.length} gradients for ${params.length} parameters`);
      }
      const gradNorm = globalNorm(grads);
      if (!Number.isFinite(gradNorm)) return { gradNorm, clipScale: 1, applied: false };
      const clipScale = args.gradClip > 0 ? Math.min(1, args.gradClip / (gradNorm + 1e-6)) : 1;
      t += 1;
      const bc1 = 1 - args.beta1 ** t;
      const bc2Sqrt = Math.sqrt(1 - args.beta2 ** t);
      params.forEach((p, i) => {
        const lr = lrOf(p.group);
        tf.tidy(() => {
          const g = grads[i] === undefined ? tf.zerosLike(p.variable) : clipScale === 1 ? grads[i]! : tf.mul(grads[i]!, clipScale);
          const mNew = tf.add(tf.mul(m[i], args.beta1), tf.mul(g, 1 - args.beta1));
          const vNew = tf.add(tf.mul(v[i], args.beta2), tf.mul(tf.square(g), 1 - args.beta2));
          const decayed = p.decay && args.weightDecay > 0 ? tf.mul(p.variable, 1 - lr * args.weightDecay) : p.variable;
          const denom = tf.add(tf.div(tf.sqrt(vNew), bc2Sqrt), args.eps);
          const update = tf.mul(tf.div(mNew, denom), lr / bc1);
          m[i].assign(mNew);
          v[i].assign(vNew);
          p.variable.assign(tf.sub(decayed, update));
        });
      });
      return { gradNorm, clipScale, applied: true };
    },
    getState() {
      return {
        step: t,
        m: m.map((x) => Float32Array.from(x.dataSync() as Float32Array)),
        v: v.map((x) => Float32Array.from(x.dataSync() as Float32Array)),
      };
    },
    setState(state) {
      if (state.m.length !== params.length || state.v.length !== params.length) {
        throw new Error(`optimizer state has ${state.m.length} slots for ${params.length} parameters`);
      }
      params.forEach((p, i) => {
        tf.tidy(() => {
          m[i].assign(tf.tensor(state.m[i], p.variable.shape, 'float32'));
          v[i].assign(tf.tensor(state.v[i], p.variable.shape, 'float32'));
        });
      });
      t = state.step;
    },
    dispose() {
      for (const x of [...m, ...v]) x.dispose();
    },
  };
}
