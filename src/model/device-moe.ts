// The MoE layer's device-resident implementation (impl "device", GPU backends): the same function
// as moe.ts — top-k routing, capacity, the overflow policy, dispatch, experts, combine, losses —
// with every decision made in tensor ops, so a training step reads nothing back to the host.
//
// Layout: capacity-padded. Each expert owns C slots (C = the expert capacity; the token count when
// capacity is unlimited, since a token holds an expert at most once); assignment (rank j, token t)
// in (j, t) order — the host's first-come order (routing.ts) — takes the next free slot of its
// expert, found with an exclusive cumulative sum over one-hot rows. Slot tokens are gathered into
// an [E, C, d] block, the experts run as batched products on stacked weights, and each assignment
// gathers its slot's output back, weighted by its gate. Empty slots hold zero rows (no bias in the
// experts, so they output zero) and cost arithmetic: unlimited capacity makes E× the routed
// experts' useful FLOPs, so GPU runs should set a capacity factor.
//
// Recycle (top-1): the dropped assignments, in (j, t) order, take the free slots in the order of a
// uniformly random permutation of all E·C slots drawn from the run's RNG on the host (a slot is
// free when its position ≥ its expert's load). The free slots' order is then uniform, as in the
// host path (routing.ts shuffles the list of free slots), so a dropped token lands on expert e with
// probability ∝ free[e]; the draws differ, so the two paths agree in distribution, not sample by
// sample. Recycle with top-k > 1 (the "not already held" rule) has no device implementation.
//
// Statistics (tokens per expert, dropped and recycled fractions) come back as one small tensor per
// layer, read by the caller together with the loss.
import * as tf from '@tensorflow/tfjs';
import { shuffleInPlace, type Rng } from '../util/rng.ts';
import { linear, swigluActivation } from './kernels.ts';
import { routerZLoss } from './losses.ts';
import { mlp } from './mlp.ts';
import type { MoeSettings, MoeWeights } from './moe.ts';
import { expertCapacity } from './routing.ts';
import type { MoeLayerStats } from './types.ts';

export interface DeviceRoutingPlan {
  numTokens: number;
  numExperts: number;
  topK: number;
  /** Slots per expert in the padded layout. */
  slots: number;
  /** Capacity applied (Infinity when unlimited). */
  capacity: number;
  /** Per assignment (j, t): its slot e·slots + position, or E·slots when dropped. int32 [k·T]. */
  slot: tf.Tensor1D;
  /** Per assignment: flat index t·E + e of its gate (0 when dropped). int32 [k·T]. */
  gateIndex: tf.Tensor1D;
  /** Per assignment: 1 when it reaches an expert. float32 [k·T]. */
  kept: tf.Tensor1D;
  /** Per slot: its token, or numTokens for an empty slot (a zero row). int32 [E·slots]. */
  slotToken: tf.Tensor1D;
  /** Original top-k choice as a 0/1 mask (top-k > 1 only). float32 [T, E]. */
  choiceMask?: tf.Tensor2D;
  /** [E + 2]: tokens per expert (original choice), dropped fraction, recycled fraction. */
  stats: tf.Tensor1D;
}

/**
 * A uniformly random order of the E·slots slots for recycle routing, drawn from `rng` (host).
 * Always drawn when recycle applies, whether or not a token overflows, so the RNG stream does not
 * depend on the data.
 */
export function recycleSlotOrder(numExperts: number, slots: number, rng: Rng): Int32Array {
  const order = Array.from({ length: numExperts * slots }, (_, i) => i);
  return Int32Array.from(shuffleInPlace(order, rng));
}

interface RouteArgs {
  topK: number;
  capacity: number;
  slots: number;
  recycle: boolean;
  slotOrder?: Int32Array;
}

/** The routing decisions as tensor ops on probs [T, E] (no gradient: see deviceRoute). */
function routeBody(probs: tf.Tensor2D, args: RouteArgs): tf.Tensor[] {
  const [T, E] = probs.shape;
  const { topK: k, slots: C } = args;
  const kT = k * T;
  const choice = tf.reshape(tf.transpose(tf.topk(probs, k).indices), [kT]) as tf.Tensor1D; // (j, t) order
  const tokenF = tf.tile(tf.range(0, T, 1, 'float32'), [k]) as tf.Tensor1D; // token of each assignment
  // One-hot rows [kT, E] as a real float32 tensor. Not tf.cast(tf.oneHot(…)): TF.js 4.22's WebGPU
  // cast int32 → float32 relabels the int buffer, and a later reduction over a leading axis of a
  // 3-D view transposes it with WGSL that Dawn rejects (seen on an H200 and on lavapipe, top-2).
  const onehot = tf.where(
    tf.equal(tf.reshape(choice, [kT, 1]), tf.range(0, E, 1, 'int32')),
    tf.ones([kT, E]),
    tf.zeros([kT, E]),
  ) as tf.Tensor2D;
  const tokensPerExpert = tf.sum(onehot, 0) as tf.Tensor1D;
  // Position of each assignment among its expert's assignments, in (j, t) order.
  const position = tf.sum(tf.mul(onehot, tf.cumsum(onehot, 0, true)), 1) as tf.Tensor1D;
  const choiceF = tf.cast(choice, 'float32');
  let expert: tf.Tensor1D = choiceF;
  let pos: tf.Tensor1D = position;
  let kept: tf.Tensor1D;
  let recycled: tf.Tensor1D = tf.zeros([kT]);
  if (!Number.isFinite(args.capacity)) {
    kept = tf.ones([kT]);
  } else {
    const first = tf.cast(tf.less(position, args.capacity), 'float32') as tf.Tensor1D;
    kept = first;
    if (args.recycle) {
      const order = args.slotOrder!;
      const orderExpert = tf.tensor1d(order.map((s) => Math.floor(s / C)), 'int32');
      const orderPos = tf.tensor1d(Float32Array.from(order, (s) => s % C));
      const load = tf.minimum(tokensPerExpert, args.capacity);
      const free = tf.cast(tf.greaterEqual(orderPos, tf.gather(load, orderExpert)), 'float32') as tf.Tensor1D;
      const freeRank = tf.cumsum(free, 0, true);
      const EC = E * C;
      // target[r] = 1 + the slot of free rank r (0 where no such slot).
      const segment = tf.cast(tf.where(tf.greater(free, 0), freeRank, tf.fill([EC], EC)), 'int32') as tf.Tensor1D;
      const target = tf.unsortedSegmentSum(tf.mul(tf.add(tf.tensor1d(Float32Array.from(order)), 1), free), segment, EC + 1);
      const overflow = tf.sub(1, first) as tf.Tensor1D;
      const rank = tf.minimum(tf.cumsum(overflow, 0, true), EC);
      const lookup = tf.cast(tf.where(tf.greater(overflow, 0), rank, tf.fill([kT], EC)), 'int32');
      const got = tf.gather(target, lookup) as tf.Tensor1D; // slot + 1, or 0
      recycled = tf.mul(overflow, tf.cast(tf.greater(got, 0), 'float32')) as tf.Tensor1D;
      const newSlot = tf.sub(got, 1);
      expert = tf.where(tf.greater(first, 0), choiceF, tf.floorDiv(newSlot, C)) as tf.Tensor1D;
      pos = tf.where(tf.greater(first, 0), position, tf.mod(newSlot, C)) as tf.Tensor1D;
      kept = tf.add(first, recycled) as tf.Tensor1D;
    }
  }
  const keptB = tf.greater(kept, 0);
  const slot = tf.where(keptB, tf.add(tf.mul(expert, C), pos), tf.fill([kT], E * C)) as tf.Tensor1D;
  const gateIndex = tf.where(keptB, tf.add(tf.mul(tokenF, E), expert), tf.zeros([kT])) as tf.Tensor1D;
  // Token + 1 per slot (0 = empty), then empty → T (the zero row).
  const slotTok1 = tf.slice(tf.unsortedSegmentSum(tf.mul(tf.add(tokenF, 1), kept), tf.cast(slot, 'int32'), E * C + 1), 0, E * C);
  const slotToken = tf.where(tf.greater(slotTok1, 0), tf.sub(slotTok1, 1), tf.fill([E * C], T)) as tf.Tensor1D;
  const dropped = tf.div(tf.sub(kT, tf.sum(kept)), kT);
  const recycledFrac = tf.div(tf.sum(recycled), kT);
  const stats = tf.concat([tokensPerExpert, tf.reshape(dropped, [1]), tf.reshape(recycledFrac, [1])]) as tf.Tensor1D;
  const out: tf.Tensor[] = [slot, gateIndex, kept, slotToken, stats];
  if (k > 1) out.push(tf.reshape(tf.sum(tf.reshape(onehot, [k, T, E]), 0), [T * E]));
  return out;
}

/**
 * Route on the device. The decisions are one custom op outside the gradient tape (the routing
 * choice is not differentiated, as on the host); the combine weights stay differentiable functions
 * of the probabilities, gathered outside it.
 */
export function deviceRoute(probs: tf.Tensor2D, settings: MoeSettings, rng: Rng | undefined): DeviceRoutingPlan {
  const [T, E] = probs.shape;
  const k = settings.topK;
  const capacity =
    settings.overflowPolicy === 'none' ? Infinity : expertCapacity(T, E, k, settings.capacityFactor);
  const slots = Number.isFinite(capacity) ? Math.min(capacity, T) : T;
  const recycle = settings.overflowPolicy === 'recycle' && Number.isFinite(capacity) && capacity < T;
  if (recycle && k > 1) {
    throw new Error(
      'device MoE: overflowPolicy "recycle" with topK > 1 has no device implementation; use topK 1, ' +
        'overflowPolicy "drop", or a CPU backend (--backend wasm).',
    );
  }
  if (recycle && !rng) {
    throw new Error('device MoE: overflowPolicy "recycle" needs options.rng (recycle draws random slots); pass the run\'s seeded Rng.');
  }
  const args: RouteArgs = { topK: k, capacity, slots, recycle, slotOrder: recycle ? recycleSlotOrder(E, slots, rng!) : undefined };
  const sizes = [k * T, k * T, k * T, E * slots, E + 2, ...(k > 1 ? [T * E] : [])];
  // The op's only input is a constant: its output is not connected to any variable on the tape, so
  // autodiff neither differentiates top-k nor asks for gradients of the integer indices below.
  const packed = tf.customGrad(((anchor: tf.Tensor) => ({
    value: tf.concat(routeBody(probs, args).map((t) => tf.cast(t, 'float32'))),
    gradFunc: () => tf.zerosLike(anchor),
  })) as unknown as Parameters<typeof tf.customGrad>[0])(tf.scalar(0)) as tf.Tensor1D;
  const parts = tf.split(packed, sizes);
  const int = (t: tf.Tensor) => tf.cast(t, 'int32') as tf.Tensor1D;
  return {
    numTokens: T,
    numExperts: E,
    topK: k,
    slots,
    capacity,
    slot: int(parts[0]),
    gateIndex: int(parts[1]),
    kept: parts[2] as tf.Tensor1D,
    slotToken: int(parts[3]),
    stats: parts[4] as tf.Tensor1D,
    choiceMask: k > 1 ? (tf.reshape(parts[5], [T, E]) as tf.Tensor2D) : undefined,
  };
}

/** Host numbers of one layer's stats tensor values [E + 2]. */
export function decodeMoeStats(values: ArrayLike<number>, numExperts: number, offset = 0): MoeLayerStats {
  return {
    tokensPerExpert: Array.from({ length: numExperts }, (_, e) => Math.round(values[offset + e])),
    droppedTokenFraction: values[offset + numExperts],
    recycledTokenFraction: values[offset + numExperts + 1],
  };
}

/** x [tokens, dModel] → output, losses and the stats tensor; the same function as moe.ts moeLayer. */
export function deviceMoeLayer(
  x: tf.Tensor2D,
  w: MoeWeights,
  settings: MoeSettings,
  rng: Rng | undefined,
): { output: tf.Tensor2D; loadBalancingLoss: tf.Scalar; routerZLoss: tf.Scalar; stats: tf.Tensor1D } {
  return tf.tidy(() => {
    const [T, d] = x.shape;
    const E = w.experts.length;
    const k = settings.topK;
    const routerLogits = linear(x, w.router);
    const probs = tf.softmax(routerLogits) as tf.Tensor2D;
    const plan = deviceRoute(probs, settings, rng);
    const C = plan.slots;
    // Dispatch: each slot's token row (a zero row for empty slots) → [E, C, d].
    const xPad = tf.concat([x, tf.zeros([1, d])], 0) as tf.Tensor2D;
    const blocks = tf.reshape(tf.gather(xPad, plan.slotToken), [E, C, d]) as tf.Tensor3D;
    const stack = (pick: (i: number) => tf.Tensor2D) => tf.stack(w.experts.map((_, i) => pick(i))) as tf.Tensor3D;
    const a = tf.matMul(blocks, stack((i) => w.experts[i].wGate));
    const b = tf.matMul(blocks, stack((i) => w.experts[i].wUp));
    const h = swigluActivation(a as unknown as tf.Tensor2D, b as unknown as tf.Tensor2D) as unknown as tf.Tensor3D;
    const y = tf.reshape(tf.matMul(h, stack((i) => w.experts[i].wDown)), [E * C, d]);
    // Combine: each assignment gathers its slot's output (dropped → the zero row), times its gate.
    const yPad = tf.concat([y, tf.zeros([1, d])], 0);
    const gates = k === 1 ? probs : tf.div(probs, tf.sum(tf.mul(probs, plan.choiceMask!), 1, true));
    const gate = tf.mul(tf.gather(tf.reshape(gates, [T * E]), plan.gateIndex), plan.kept);
    const rows = tf.mul(tf.gather(yPad, plan.slot), tf.reshape(gate, [k * T, 1]));
    let output = (k === 1 ? rows : tf.sum(tf.reshape(rows, [k, T, d]), 0)) as tf.Tensor2D;
    if (w.shared) output = tf.add(output, mlp(x, w.shared, 'fast')) as tf.Tensor2D;
    // Losses as in losses.ts, with the expert counts from the device.
    const fractions = tf.div(tf.slice(plan.stats, 0, E), T);
    const loadBalancingLoss = tf.mul(tf.sum(tf.mul(tf.mean(probs, 0), fractions)), E) as tf.Scalar;
    return { output, loadBalancingLoss, routerZLoss: routerZLoss(routerLogits), stats: plan.stats };
  });
}
