// AdamW over the model's named parameters, with a learning rate per parameter group (the
// specialized experts get their own, docs/references.md#expert-lr), decoupled weight decay (skipped where
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
// Parameters sharing a group and a decay flag are updated as one flat vector (Segment below): the
// same elementwise arithmetic, a dozen kernels per segment rather than per parameter. Where the
// engine registered its fused AdamW kernel for the active backend (src/engine/fused-kernels.ts,
// wasm only), that dozen is one kernel with the same float32 operations in the same order.
import * as tf from '@tensorflow/tfjs';
import { deviceBufferLimit } from '../model/device-kernels.ts';
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
  /**
   * Device norm mode only (see AdamWOptions.deviceNorm): the norm as a tensor the caller reads
   * (with the loss, in one read) and disposes; gradNorm and clipScale are then NaN.
   */
  gradNormTensor?: tf.Scalar;
}

export interface AdamWOptions {
  /**
   * Largest flat segment (elements): parameters of a group are split into segments under it, so
   * no buffer exceeds the device's limit. Default: the device buffer limit / 4 (src/model/
   * device-kernels.ts; unlimited on CPU backends).
   */
  maxSegmentElements?: number;
  /**
   * Keep the gradient norm, the clip scale and the finite check on the device (no read inside
   * the update). Default: on webgpu. A non-finite norm then leaves parameters and moments
   * unchanged but still counts the update in the bias correction.
   */
  deviceNorm?: boolean;
}

export interface AdamW {
  readonly params: readonly NamedParam[];
  readonly args: AdamWArgs;
  /** Updates applied so far. */
  readonly step: number;
  /**
   * Whether the gradient norm stays on the device (AdamWOptions.deviceNorm): applyGradients then
   * returns it as `gradNormTensor` and reads nothing, and the caller reads it with the loss.
   */
  readonly deviceNorm: boolean;
  /**
   * One update. `grads[i]` is the gradient of `params[i]` (undefined = zero); `lrOf(group)` the
   * group's learning rate for this step. Does not dispose `grads`.
   */
  applyGradients(grads: (tf.Tensor | undefined)[], lrOf: (group: ParamGroup) => number): StepResult;
  /** The state read with `dataSync` (backends with synchronous reads). */
  getState(): AdamWState;
  /** The same state read with `await data()` (every backend, webgpu included). */
  readState(): Promise<AdamWState>;
  setState(state: AdamWState): void;
  dispose(): void;
}

/** Global L2 norm of a list of tensors (undefined entries count as zero). */
export function globalNorm(tensors: (tf.Tensor | undefined)[]): number {
  const present = tensors.filter((t): t is tf.Tensor => t !== undefined);
  if (present.length === 0) return 0;
  // The engine's fused Σx² (src/engine/fused-kernels.ts; wasm with the addon) where registered.
  const fused = tf.getKernel('MoelabSumSquares', tf.getBackend()) !== undefined;
  const sumSquares = (t: tf.Tensor): tf.Tensor => {
    if (!fused) return tf.sum(tf.square(t));
    const out = tf.engine().runKernel('MoelabSumSquares', { x: t }, {}) as tf.Tensor | tf.Tensor[];
    return Array.isArray(out) ? out[0] : out;
  };
  return tf.tidy(() => tf.sqrt(tf.addN(present.map(sumSquares))).dataSync()[0]);
}

/**
 * Parameters that share a learning rate and a decay flag, updated as one flat vector: the update is
 * a dozen kernels per segment instead of per parameter (a tiny model has ~60 parameter tensors per
 * layer, and per-kernel dispatch, not arithmetic, dominates its step).
 */
interface Segment {
  group: ParamGroup;
  decay: boolean;
  /** Indices into `params`, in params order. */
  index: number[];
  /** Element counts of those parameters (split sizes). */
  sizes: number[];
  /** First and second moments, flat over the segment's parameters in order. */
  m: tf.Variable;
  v: tf.Variable;
}

/** True when the active backend has this engine kernel (src/engine registers them; never imported here). */
function hasKernel(name: string): boolean {
  return tf.getKernel(name, tf.getBackend()) !== undefined;
}

/** The parameters as one flat vector: the segment's tensors reshaped and concatenated in order. */
function flatten(tensors: tf.Tensor[]): tf.Tensor1D {
  const flat = tensors.map((x) => tf.reshape(x, [-1]) as tf.Tensor1D);
  return flat.length === 1 ? flat[0] : tf.concat(flat);
}

/**
 * Cut an ordered list of parameter sizes into consecutive runs whose sums stay ≤ max (pure).
 * Throws naming the parameter when one alone is larger.
 */
export function splitSegment(sizes: number[], max: number, names: string[]): number[][] {
  const runs: number[][] = [];
  let run: number[] = [];
  let total = 0;
  sizes.forEach((n, j) => {
    if (n > max) {
      throw new Error(
        `parameter ${names[j]} has ${n} elements, over the device's largest buffer (${max} float32 elements); ` +
          'use a smaller model on this device, or a CPU backend.',
      );
    }
    if (total + n > max && run.length > 0) {
      runs.push(run);
      run = [];
      total = 0;
    }
    run.push(j);
    total += n;
  });
  if (run.length > 0) runs.push(run);
  return runs;
}

export function createAdamW(params: NamedParam[], args: AdamWArgs, options: AdamWOptions = {}): AdamW {
  const maxElements = options.maxSegmentElements ?? Math.floor(deviceBufferLimit() / 4);
  const deviceNorm = options.deviceNorm ?? tf.getBackend() === 'webgpu';
  const keys = [...new Set(params.map((p) => `${p.group}|${p.decay}`))];
  const segments: Segment[] = keys.flatMap((key) => {
    const all = params.flatMap((p, i) => (`${p.group}|${p.decay}` === key ? [i] : []));
    const allSizes = all.map((i) => params[i].variable.size);
    return splitSegment(allSizes, maxElements, all.map((i) => params[i].name)).map((run) => {
      const index = run.map((j) => all[j]);
      const sizes = run.map((j) => allSizes[j]);
      const n = sizes.reduce((a, b) => a + b, 0);
      const zeros = () => tf.tidy(() => tf.variable(tf.zeros([n]), false));
      return { group: params[index[0]].group, decay: params[index[0]].decay, index, sizes, m: zeros(), v: zeros() };
    });
  });
  let t = 0;

  /** One segment's slice of a flat host array, per parameter. */
  const unflatten = (seg: Segment, flat: Float32Array, out: Float32Array[]) => {
    let off = 0;
    seg.index.forEach((i, j) => {
      out[i] = flat.slice(off, off + seg.sizes[j]);
      off += seg.sizes[j];
    });
  };

  /** The host state from each segment's flat [m, v] values (read by getState or readState). */
  const stateOf = (flat: Float32Array[][]): AdamWState => {
    const m: Float32Array[] = new Array(params.length);
    const v: Float32Array[] = new Array(params.length);
    segments.forEach((seg, k) => {
      unflatten(seg, flat[k][0], m);
      unflatten(seg, flat[k][1], v);
    });
    return { step: t, m, v };
  };

  /** Write a segment's new flat values back into its parameters. */
  const assignSegment = (seg: Segment, next: tf.Tensor) => {
    const parts = seg.index.length === 1 ? [next] : tf.split(next, seg.sizes);
    seg.index.forEach((i, j) => params[i].variable.assign(tf.reshape(parts[j], params[i].variable.shape)));
  };

  /** The update with norm, clip scale and finite check as tensors (inside applyGradients' tidy). */
  const deviceUpdate = (g: tf.Tensor1D[], lrOf: (group: ParamGroup) => number): StepResult => {
    // A chain of adds, not tf.addN: WebGPU's AddN binds every input at once, over the adapter's
    // maxStorageBuffersPerShaderStage (8) when the segments are many.
    const norm = tf.sqrt(g.map((x) => tf.sum(tf.square(x))).reduce((acc, x) => tf.add(acc, x))) as tf.Scalar;
    const finite = tf.isFinite(norm);
    const scale = args.gradClip > 0 ? tf.minimum(1, tf.div(args.gradClip, tf.add(norm, 1e-6))) : tf.scalar(1);
    t += 1;
    const bc1 = 1 - args.beta1 ** t;
    const bc2Sqrt = Math.sqrt(1 - args.beta2 ** t);
    segments.forEach((seg, k) => {
      const lr = lrOf(seg.group);
      const gk = tf.mul(g[k], scale);
      const keep = (next: tf.Tensor, old: tf.Tensor) => tf.where(finite, next, old);
      const mNew = keep(tf.add(tf.mul(seg.m, args.beta1), tf.mul(gk, 1 - args.beta1)), seg.m);
      const vNew = keep(tf.add(tf.mul(seg.v, args.beta2), tf.mul(tf.square(gk), 1 - args.beta2)), seg.v);
      const p = flatten(seg.index.map((i) => params[i].variable));
      const decayed = seg.decay && args.weightDecay > 0 ? tf.mul(p, 1 - lr * args.weightDecay) : p;
      const denom = tf.add(tf.div(tf.sqrt(vNew), bc2Sqrt), args.eps);
      const next = keep(tf.sub(decayed, tf.mul(tf.div(mNew, denom), lr / bc1)), p);
      seg.m.assign(mNew as tf.Tensor1D);
      seg.v.assign(vNew as tf.Tensor1D);
      assignSegment(seg, next);
    });
    return { gradNorm: NaN, clipScale: NaN, applied: true, gradNormTensor: norm };
  };

  /**
   * The fused update without flattening (inside applyGradients' tidy): the gradient norm is
   * globalNorm of the flat segments and the update MoelabAdamW's on them, to the bit
   * (src/engine/fused-kernels.ts MoelabSumSquaresMulti, MoelabAdamWMulti).
   */
  const multiUpdate = (perSegment: tf.Tensor[][], lrOf: (group: ParamGroup) => number): StepResult => {
    const run = (kernel: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, number>) =>
      tf.engine().runKernel(kernel, inputs as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap) as tf.Tensor | tf.Tensor[];
    const named = (prefix: string, ts: tf.Tensor[]) => Object.fromEntries(ts.map((t, j) => [`${prefix}${j}`, t]));
    const sums = perSegment.map((ts) => {
      const out = run('MoelabSumSquaresMulti', named('x', ts), { count: ts.length });
      return Array.isArray(out) ? out[0] : out;
    });
    const gradNorm = tf.sqrt(tf.addN(sums)).dataSync()[0];
    if (!Number.isFinite(gradNorm)) return { gradNorm, clipScale: 1, applied: false };
    const clipScale = args.gradClip > 0 ? Math.min(1, args.gradClip / (gradNorm + 1e-6)) : 1;
    t += 1;
    const bc1 = 1 - args.beta1 ** t;
    const bc2Sqrt = Math.sqrt(1 - args.beta2 ** t);
    segments.forEach((seg, k) => {
      const lr = lrOf(seg.group);
      const decay = seg.decay && args.weightDecay > 0 ? 1 - lr * args.weightDecay : 1;
      const ps = seg.index.map((i) => params[i].variable as tf.Tensor);
      const out = run(
        'MoelabAdamWMulti',
        { m: seg.m, v: seg.v, ...named('p', ps), ...named('g', perSegment[k]) },
        { count: ps.length, beta1: args.beta1, beta2: args.beta2, clipScale, decay, stepSize: lr / bc1, bc2Sqrt, eps: args.eps },
      ) as tf.Tensor[];
      seg.m.assign(out[0] as tf.Tensor1D);
      seg.v.assign(out[1] as tf.Tensor1D);
      seg.index.forEach((i, j) => params[i].variable.assign(out[2 + j]));
    });
    return { gradNorm, clipScale, applied: true };
  };

  return {
    params,
    args,
    deviceNorm,
    get step() {
      return t;
    },
    applyGradients(grads, lrOf) {
      if (grads.length !== params.length) {
        throw new Error(`applyGradients: ${grads.length} gradients for ${params.length} parameters`);
      }
      return tf.tidy((): tf.TensorContainer => {
        // A missing gradient is a zero one (see the top of the file).
        const perSegment = segments.map((seg) => seg.index.map((i) => grads[i] ?? tf.zerosLike(params[i].variable)));
        // The engine's multi-tensor kernels (wasm with the addon) take the tensors as they are;
        // otherwise each segment is concatenated into one flat vector.
        const multi = !deviceNorm && hasKernel('MoelabAdamWMulti') && hasKernel('MoelabSumSquaresMulti');
        if (multi) return multiUpdate(perSegment, lrOf) as unknown as tf.TensorContainer;
        const g = perSegment.map(flatten);
        if (deviceNorm) return deviceUpdate(g, lrOf) as unknown as tf.TensorContainer;
        const gradNorm = globalNorm(g);
        if (!Number.isFinite(gradNorm)) return { gradNorm, clipScale: 1, applied: false };
        const clipScale = args.gradClip > 0 ? Math.min(1, args.gradClip / (gradNorm + 1e-6)) : 1;
        t += 1;
        const bc1 = 1 - args.beta1 ** t;
        const bc2Sqrt = Math.sqrt(1 - args.beta2 ** t);
        const fused = tf.getKernel('MoelabAdamW', tf.getBackend()) !== undefined;
        segments.forEach((seg, k) => {
          const lr = lrOf(seg.group);
          const decay = seg.decay && args.weightDecay > 0 ? 1 - lr * args.weightDecay : 1;
          if (fused) {
            // One kernel for the whole chain below (src/engine/fused-kernels.ts, wasm only).
            const p = flatten(seg.index.map((i) => params[i].variable));
            const out = tf.engine().runKernel(
              'MoelabAdamW',
              { p, g: g[k], m: seg.m, v: seg.v },
              { beta1: args.beta1, beta2: args.beta2, clipScale, decay, stepSize: lr / bc1, bc2Sqrt, eps: args.eps } as unknown as tf.NamedAttrMap,
            ) as tf.Tensor[];
            seg.m.assign(out[1]);
            seg.v.assign(out[2]);
            assignSegment(seg, out[0]);
            return;
          }
          const gk = clipScale === 1 ? g[k] : tf.mul(g[k], clipScale);
          const mNew = tf.add(tf.mul(seg.m, args.beta1), tf.mul(gk, 1 - args.beta1));
          const vNew = tf.add(tf.mul(seg.v, args.beta2), tf.mul(tf.square(gk), 1 - args.beta2));
          const p = flatten(seg.index.map((i) => params[i].variable));
          const decayed = decay !== 1 ? tf.mul(p, decay) : p;
          const denom = tf.add(tf.div(tf.sqrt(vNew), bc2Sqrt), args.eps);
          const update = tf.mul(tf.div(mNew, denom), lr / bc1);
          const next = tf.sub(decayed, update);
          seg.m.assign(mNew);
          seg.v.assign(vNew);
          assignSegment(seg, next);
        });
        return { gradNorm, clipScale, applied: true };
      }) as unknown as StepResult;
    },
    getState() {
      return stateOf(segments.map((seg) => [seg.m.dataSync() as Float32Array, seg.v.dataSync() as Float32Array]));
    },
    async readState() {
      // Captured before the first await: the values read are those of update t.
      const step = t;
      const flat = await Promise.all(segments.map(async (seg) => [(await seg.m.data()) as Float32Array, (await seg.v.data()) as Float32Array]));
      return { ...stateOf(flat), step };
    },
    setState(state) {
      if (state.m.length !== params.length || state.v.length !== params.length) {
        throw new Error(`optimizer state has ${state.m.length} slots for ${params.length} parameters`);
      }
      params.forEach((p, i) => {
        if (state.m[i].length !== p.variable.size || state.v[i].length !== p.variable.size) {
          throw new Error(`optimizer state for ${p.name} has ${state.m[i].length} values for ${p.variable.size} weights`);
        }
      });
      for (const seg of segments) {
        const join = (parts: Float32Array[]) => {
          const out = new Float32Array(seg.sizes.reduce((a, b) => a + b, 0));
          let off = 0;
          seg.index.forEach((i) => {
            out.set(parts[i], off);
            off += parts[i].length;
          });
          return out;
        };
        tf.tidy(() => {
          seg.m.assign(tf.tensor1d(join(state.m), 'float32'));
          seg.v.assign(tf.tensor1d(join(state.v), 'float32'));
        });
      }
      t = state.step;
    },
    dispose() {
      for (const seg of segments) {
        seg.m.dispose();
        seg.v.dispose();
      }
    },
  };
}
