// The MoE layer (docs/references.md#moe-structure): shared experts every token passes through, plus E specialized SwiGLU
// experts behind an fp32 softmax router without bias. One pipeline of named steps:
//   route → capacity (+ overflow policy) → dispatch → experts → combine
// It returns { output, aux } — losses and routing diagnostics as data, no hidden global state.
//
// Routing decisions (top-k, capacity, drop / recycle) are made on the host by routing.ts from the
// router probabilities; the combine weights stay differentiable functions of those probabilities.
// Two dispatch implementations give the same numbers:
// - fast: tokens are permuted so each expert's rows are contiguous (counting sort), one gather in,
//   each expert's 2-D products on its slice (with the native matmul: one grouped call for all
//   experts, mlp.ts expertMlps), one gather-based scatter-add back (docs/references.md#engine-rules);
//   top-k > 1 lists each token once per kept choice;
// - reference: every expert runs on every token and a [tokens, E] combine matrix masks the result.
import * as tf from '@tensorflow/tfjs';
import type { MoeLayerStats } from './types.ts';
import type { Rng } from '../util/rng.ts';
import { gatherRows, linear, scatterAddRows } from './kernels.ts';
import { loadBalancingLoss, routerZLoss } from './losses.ts';
import { expertMlps, mlp, type Impl, type MlpWeights } from './mlp.ts';
import {
  assignmentMask,
  buildDispatch,
  choiceMask,
  expertCapacity,
  routeTokens,
  type OverflowPolicy,
  type RoutingPlan,
} from './routing.ts';

export interface MoeWeights {
  /** [dModel, numExperts]; no bias. */
  router: tf.Tensor2D;
  /** All shared experts as one SwiGLU of width numSharedExperts · sharedDFf (identical sum). */
  shared?: MlpWeights;
  /** The E specialized experts. */
  experts: MlpWeights[];
}

export interface MoeSettings {
  topK: number;
  /** Infinity = unlimited. */
  capacityFactor: number;
  overflowPolicy: OverflowPolicy;
}

/**
 * Evaluation routing: every token to its router's top-k experts with no capacity limit, so nothing
 * is dropped or recycled and no RNG is involved (the training settings' topK is kept). A token's
 * output then depends only on the token itself, never on the rest of the batch.
 */
export function evaluationSettings(settings: MoeSettings): MoeSettings {
  return { topK: settings.topK, capacityFactor: Infinity, overflowPolicy: 'none' };
}

export interface MoeAux {
  loadBalancingLoss: tf.Scalar;
  routerZLoss: tf.Scalar;
  stats: MoeLayerStats;
  /** The routing decisions of this pass (host data). */
  plan: RoutingPlan;
}

export interface MoeOptions {
  impl: Impl;
  /** Recycle routing's RNG (required when a token is recycled). */
  rng?: Rng;
}

/** Step 1 — route: router logits and fp32 softmax probabilities [tokens, E], decisions on the host. */
function route(x: tf.Tensor2D, w: MoeWeights, settings: MoeSettings, options: MoeOptions) {
  const [numTokens] = x.shape;
  const numExperts = w.experts.length;
  const routerLogits = options.impl === 'fast' ? linear(x, w.router) : tf.matMul<tf.Tensor2D>(x, w.router);
  const routerProbs = tf.softmax(routerLogits) as tf.Tensor2D;
  // Step 2 — capacity and the overflow policy (pure, host side).
  const capacity = expertCapacity(numTokens, numExperts, settings.topK, settings.capacityFactor);
  const plan = routeTokens(routerProbs.dataSync(), numTokens, numExperts, {
    topK: settings.topK,
    capacity,
    overflowPolicy: settings.overflowPolicy,
    rng: options.rng,
  });
  return { routerLogits, routerProbs, plan };
}

/**
 * Combine weights per (token, expert) [tokens, E]: top-1 uses the raw probability (docs/references.md#moe-structure);
 * top-k > 1 renormalises by the sum of the token's original top-k probabilities. A recycled token
 * is weighted by its probability for the new expert (docs/references.md#recycle-routing).
 */
function gateSource(routerProbs: tf.Tensor2D, plan: RoutingPlan): tf.Tensor2D {
  if (plan.topK === 1) return routerProbs;
  const chosen = tf.tensor2d(choiceMask(plan), [plan.numTokens, plan.numExperts]);
  return tf.div(routerProbs, tf.sum(tf.mul(routerProbs, chosen), 1, true));
}

/** Steps 3–5 (fast) — dispatch by permutation, run each expert on its rows, combine back. */
function expertsFast(x: tf.Tensor2D, w: MoeWeights, gates: tf.Tensor2D, plan: RoutingPlan): tf.Tensor2D {
  const [numTokens, dModel] = x.shape;
  const layout = buildDispatch(plan);
  if (layout.numRows === 0) return tf.zeros([numTokens, dModel]);
  const rowGates = gatherRows(gates.reshape([numTokens * plan.numExperts, 1]), layout.gateIndex); // [R, 1]
  const rows = gatherRows(x, layout.rowToken); // [R, dModel], grouped by expert
  const y = tf.mul(expertMlps(rows, w.experts, layout.expertCounts), rowGates) as tf.Tensor2D;
  return scatterAddRows(y, layout.rowToken, numTokens);
}

/** Steps 3–5 (reference) — all experts on all tokens, masked by the combine matrix. */
function expertsReference(x: tf.Tensor2D, w: MoeWeights, gates: tf.Tensor2D, plan: RoutingPlan): tf.Tensor2D {
  const combine = tf.mul(gates, tf.tensor2d(assignmentMask(plan), [plan.numTokens, plan.numExperts]));
  // (tf.split into a single piece has a broken gradient in tf.js 4.22, hence the special case)
  const columns = plan.numExperts === 1 ? [combine] : tf.split(combine, plan.numExperts, 1);
  const outs = w.experts.map((expert, e) => tf.mul(mlp(x, expert, 'reference'), columns[e]));
  return (outs.length === 1 ? outs[0] : tf.addN(outs)) as tf.Tensor2D;
}

/** x [tokens, dModel] → { output [tokens, dModel], aux }. All tensors returned belong to the caller. */
export function moeLayer(
  x: tf.Tensor2D,
  w: MoeWeights,
  settings: MoeSettings,
  options: MoeOptions,
): { output: tf.Tensor2D; aux: MoeAux } {
  let plan: RoutingPlan | undefined;
  const result = tf.tidy(() => {
    const routed = route(x, w, settings, options);
    plan = routed.plan;
    const gates = gateSource(routed.routerProbs, routed.plan);
    let output =
      options.impl === 'fast' ? expertsFast(x, w, gates, routed.plan) : expertsReference(x, w, gates, routed.plan);
    if (w.shared) output = tf.add(output, mlp(x, w.shared, options.impl)) as tf.Tensor2D;
    return {
      output,
      loadBalancingLoss: loadBalancingLoss(routed.routerProbs, routed.plan.tokensPerExpert),
      routerZLoss: routerZLoss(routed.routerLogits),
    };
  });
  const p = plan!;
  return {
    output: result.output,
    aux: {
      loadBalancingLoss: result.loadBalancingLoss,
      routerZLoss: result.routerZLoss,
      stats: {
        tokensPerExpert: p.tokensPerExpert,
        droppedTokenFraction: p.droppedTokenFraction,
        recycledTokenFraction: p.recycledTokenFraction,
      },
      plan: p,
    },
  };
}
