// A tiny real TF.js language model implementing the MoeLm contract, used to test the training loop
// independently of src/model: a bigram LM (next token from the current one) whose output layer is
// a shared expert plus top-1 of two specialized experts behind a softmax router. It has every
// parameter group the optimiser treats differently (embedding, router, shared and specialized
// experts, a norm without weight decay), returns real routing statistics, and uses the `rng`
// option (router jitter), so resume tests fail if the RNG state is not restored.
//
//   h       = (oneHot(inputs) · embed) ⊙ norm            [tokens, d]
//   logits  = h · shared + gate · (h · expert[e*])         [tokens, vocab]
//   e*      = argmax softmax(h · router + jitter)           gate = router prob of e*
import * as tf from '@tensorflow/tfjs';
import type { ResolvedModelConfig } from '../../../src/config/resolve.ts';
import type { ComputeLossOptions, LossOutput, MoeLm, NamedParam, ParamGroup } from '../../../src/model/types.ts';
import { createRng } from '../../../src/util/rng.ts';

const NUM_EXPERTS = 2;

export function createBigramMoe(config: ResolvedModelConfig, seed: number): MoeLm {
  const V = config.vocabSize;
  const d = config.dModel;
  const init = createRng(seed);
  const normal = (shape: number[], std: number) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(size);
    for (let i = 0; i < size; i++) values[i] = init.normal() * std;
    return tf.tidy(() => tf.variable(tf.tensor(values, shape), true));
  };
  const param = (name: string, group: ParamGroup, variable: tf.Variable, decay = true): NamedParam => ({ name, group, variable, decay });
  const params: NamedParam[] = [
    param('embed', 'embedding', normal([V, d], 0.5)),
    param('norm', 'norm', tf.tidy(() => tf.variable(tf.ones([d]), true)), false),
    param('router', 'router', normal([d, NUM_EXPERTS], 0.5)),
    param('shared', 'sharedExperts', normal([d, V], 0.1)),
    ...Array.from({ length: NUM_EXPERTS }, (_, e) => param(`experts.${e}`, 'specializedExperts', normal([d, V], 0.1))),
  ];
  const [embed, norm, router, shared, ...experts] = params.map((p) => p.variable);

  return {
    config,
    params,
    computeLoss(inputs, targets, options: ComputeLossOptions = {}): LossOutput {
      let tokensPerExpert: number[] = [];
      const out = tf.tidy(() => {
        const flatIn = inputs.reshape([-1]) as tf.Tensor1D;
        const flatTgt = targets.reshape([-1]) as tf.Tensor1D;
        const h = tf.mul(tf.matMul(tf.oneHot(flatIn, V), embed as tf.Tensor2D), norm);
        let routerLogits = tf.matMul(h, router as tf.Tensor2D);
        if (options.training && options.rng) routerLogits = tf.add(routerLogits, options.rng.normal() * 1e-2);
        const probs = tf.softmax(routerLogits);
        const chosen = tf.oneHot(tf.argMax(probs, 1), NUM_EXPERTS); // [tokens, E], no gradient
        tokensPerExpert = Array.from(tf.sum(chosen, 0).dataSync());
        const gate = tf.sum(tf.mul(probs, chosen), 1, true); // [tokens, 1]
        let logits = tf.matMul(h, shared as tf.Tensor2D);
        experts.forEach((w, e) => {
          const mask = tf.slice(chosen, [0, e], [-1, 1]);
          logits = tf.add(logits, tf.mul(tf.mul(gate, mask), tf.matMul(h, w as tf.Tensor2D)));
        });
        const tokenCe = tf.neg(tf.sum(tf.mul(tf.oneHot(flatTgt, V), tf.logSoftmax(logits)), 1)) as tf.Tensor1D;
        const ce = tf.mean(tokenCe) as tf.Scalar;
        // Switch load balancing: E · Σ_e (fraction routed to e) · (mean router prob of e).
        const lb = tf.mul(NUM_EXPERTS, tf.sum(tf.mul(tf.mean(chosen, 0), tf.mean(probs, 0)))) as tf.Scalar;
        const z = tf.mean(tf.square(tf.logSumExp(routerLogits, 1))) as tf.Scalar;
        const loss = tf.addN([ce, tf.mul(0.01, lb), tf.mul(0.001, z)]) as tf.Scalar;
        return { loss, ce, lb, z, tokenCe };
      });
      if (!options.tokenLosses) out.tokenCe.dispose();
      return {
        loss: out.loss,
        ce: out.ce,
        loadBalancingLoss: out.lb,
        routerZLoss: out.z,
        moeLayers: [{ tokensPerExpert, droppedTokenFraction: 0, recycledTokenFraction: 0 }],
        ...(options.tokenLosses ? { tokenLosses: out.tokenCe } : {}),
      };
    },
    dispose() {
      for (const p of params) p.variable.dispose();
    },
  };
}
