// Training losses as tensor functions (each tidied; leak-tested in test/model/losses.test.ts).
import * as tf from '@tensorflow/tfjs';
import { oneHotFloat, softmaxCrossEntropy } from './kernels.ts';

/**
 * Mean next-token cross-entropy (nats/token) of logits [tokens, vocab] against targets [tokens].
 * "fast" uses the fused kernel; "reference" is −mean(Σ oneHot ⊙ logSoftmax) in stock ops.
 */
export function crossEntropy(logits: tf.Tensor2D, targets: Int32Array, impl: 'fast' | 'reference' = 'fast'): tf.Scalar {
  if (impl === 'fast') return softmaxCrossEntropy(logits, targets);
  return tf.tidy(() => {
    const onehot = oneHotFloat(targets, logits.shape[1]);
    return tf.neg(tf.mean(tf.sum(tf.mul(onehot, tf.logSoftmax(logits)), 1))) as tf.Scalar;
  });
}

/**
 * Load-balancing loss l_aux = E · Σ_e f_e · P̄_e (docs/references.md#aux-loss, the released code's form; Switch
 * Transformer eqs. 4–6 for top-1): P̄_e = mean over tokens of the router probability of e,
 * f_e = fraction of tokens that chose e among their top-k (a constant: no gradient flows through
 * the argmax). Under perfectly uniform routing it equals k (1 for top-1); the top-k form
 * E²·mean_e(f_e P̄_e) of the paper is the same number.
 * probs [tokens, E]; tokensPerExpert [E] counts of the original top-k choice.
 */
export function loadBalancingLoss(probs: tf.Tensor2D, tokensPerExpert: number[]): tf.Scalar {
  const [numTokens, numExperts] = probs.shape;
  return tf.tidy(() => {
    const fractions = tf.tensor1d(tokensPerExpert.map((c) => c / numTokens));
    return tf.mul(tf.sum(tf.mul(tf.mean(probs, 0), fractions)), numExperts) as tf.Scalar;
  });
}

/** Router z-loss (ST-MoE, Zoph et al. 2022, eq. 5): mean over tokens of logsumexp(logits)². */
export function routerZLoss(routerLogits: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.square(tf.logSumExp(routerLogits, 1))) as tf.Scalar);
}
