// The contract between the model (src/model) and its users (src/train, benchmarks). The training
// loop only sees this interface; the model may change its internals (kernels, dispatch) freely.
import type * as tf from '@tensorflow/tfjs';
import type { ResolvedModelConfig } from '../config/resolve.ts';
import type { Rng } from '../util/rng.ts';

/**
 * Parameter groups: the optimiser gives `specializedExperts` its own learning rate
 * (docs/references.md#expert-lr) and skips weight decay where `decay` is false (norms).
 */
export type ParamGroup =
  | 'embedding'
  | 'attention'
  | 'norm'
  | 'router'
  | 'ffn' // dense FFN (numExperts = 0)
  | 'sharedExperts'
  | 'specializedExperts';

export interface NamedParam {
  /** Stable, unique, human-readable name, e.g. `layers.0.moe.experts.3.wGate`. */
  name: string;
  group: ParamGroup;
  variable: tf.Variable;
  /** Whether AdamW applies weight decay to it (false for norms). */
  decay: boolean;
}

/** Routing diagnostics of one MoE layer for one forward pass (host numbers). */
export interface MoeLayerStats {
  /** Tokens assigned per specialized expert by the router's original top-k choice. */
  tokensPerExpert: number[];
  /** Fraction of routed assignments that were dropped (beyond capacity, not recycled). */
  droppedTokenFraction: number;
  /** Fraction of routed assignments reassigned to another expert by recycle routing. */
  recycledTokenFraction: number;
}

export interface LossOutput {
  /** Total training loss = ce + auxLossCoef · loadBalancingLoss + zLossCoef · routerZLoss. */
  loss: tf.Scalar;
  /** Mean next-token cross-entropy (nats/token). */
  ce: tf.Scalar;
  /** Load-balancing loss averaged over MoE layers (0 for dense models). */
  loadBalancingLoss: tf.Scalar;
  /** Router z-loss averaged over MoE layers (0 for dense models). */
  routerZLoss: tf.Scalar;
  /**
   * One entry per MoE layer (empty for dense models). Device path on a backend without
   * synchronous reads (webgpu): empty, and `moeStats` holds the numbers on the device.
   */
  moeLayers: MoeLayerStats[];
  /**
   * Device path only: every MoE layer's [tokensPerExpert (E), dropped, recycled] concatenated,
   * [layers·(E + 2)]; decode with decodeMoeStats (src/model/device-moe.ts). Belongs to the caller.
   */
  moeStats?: tf.Tensor1D;
  /** Cross-entropy of every target token (nats), row-major [batch · seqLen]; only when asked for. */
  tokenLosses?: tf.Tensor1D;
}

export interface ComputeLossOptions {
  /**
   * true: training routing (capacity, overflow policy, recycle RNG). false/absent: evaluation
   * routing — every token goes to its top-k experts, no capacity limit, no randomness.
   */
  training?: boolean;
  /** Drives recycle routing's random reassignment (training only). */
  rng?: Rng;
  /** Also return `tokenLosses` (the per-token cross-entropy). */
  tokenLosses?: boolean;
}

export interface MoeLm {
  readonly config: ResolvedModelConfig;
  readonly params: NamedParam[];
  /**
   * Loss on a batch. `inputs` and `targets` are int32 [batch, seqLen] (targets = inputs shifted
   * by one). `rng` drives recycle routing's random reassignment (required when training with
   * overflowPolicy "recycle"). Evaluation (training not true) must be deterministic and must not
   * depend on which other sequences share the batch. Returned tensors belong to the caller.
   */
  computeLoss(inputs: tf.Tensor2D, targets: tf.Tensor2D, options?: ComputeLossOptions): LossOutput;
  dispose(): void;
}
