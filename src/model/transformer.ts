// The decoder-only MoE language model: embed → blocks → final norm → output layer. One config type;
// dense is the special case numExperts = 0 (or 1 with no shared expert). Implements the MoeLm
// contract of types.ts for the trainer.
//
//   x = embed(inputs)                                  [batch·seqLen, dModel]
//   for each layer i:
//     x = x + attention_i(rmsNorm(x))                  (K/V shared across a CLA group)
//     x = x + ffn_i(rmsNorm(x))                        (dense SwiGLU, or MoE: shared + routed experts)
//   logits = rmsNorm(x) · W_out                        [batch·seqLen, vocab]; W_out = embᵀ if tied
//   loss = CE + auxLossCoef · mean_layers(l_aux) + zLossCoef · mean_layers(l_z)
import * as tf from '@tensorflow/tfjs';
import type { ResolvedModelConfig } from '../config/resolve.ts';
import { ConfigError, DataError } from '../errors.ts';
import { createRng, deriveSeed } from '../util/rng.ts';
import { attentionFast, attentionReference, createConstantCache, type AttentionShape, type AttentionWeights, type SharedKv } from './attention.ts';
import { hasKvProjection, isDenseModel } from './count.ts';
import { deviceGatherRows } from './device-kernels.ts';
import { decodeMoeStats, deviceMoeLayer } from './device-moe.ts';
import { embeddingLookup, linear, linearT, oneHotFloat, rmsNorm } from './kernels.ts';
import { crossEntropy } from './losses.ts';
import { mlp, type Impl, type MlpWeights } from './mlp.ts';
import { evaluationSettings, moeLayer, type MoeSettings, type MoeWeights } from './moe.ts';
import { ropeBase } from './rope.ts';
import type { ComputeLossOptions, LossOutput, MoeLayerStats, MoeLm, NamedParam, ParamGroup } from './types.ts';

export interface CreateMoeLmOptions {
  /**
   * "fast" (default on CPU backends): host kernels; "device" (default on webgpu): routing, dispatch
   * and attention in tensor ops, no read inside a step (src/model/device-*.ts); "reference": stock
   * tf ops, for equivalence tests.
   */
  impl?: Impl;
}

/** The model object: the MoeLm contract plus a few introspection helpers. */
export interface MoeLmModel extends MoeLm {
  readonly impl: Impl;
  /** Constant tensors (RoPE tables, masks) cached per input shape; they live until dispose(). */
  cachedConstants(): number;
}

interface LayerWeights {
  attnNorm: tf.Variable;
  attn: AttentionWeights;
  ffnNorm: tf.Variable;
  ffn?: MlpWeights;
  moe?: MoeWeights;
}

interface ModelWeights {
  /** [vocab, dModel] */
  wte: tf.Variable;
  /** [dModel, vocab]; untied only. */
  lmHead?: tf.Variable;
  layers: LayerWeights[];
  finalNorm: tf.Variable;
}

// ---------------------------------------------------------------------------------------------
// Parameters

/**
 * Every weight, with a stable name and its optimiser group. Linear and embedding weights are drawn
 * from normal(0, initStd) (docs/references.md#init), each from its own RNG stream deriveSeed(seed, name), so
 * a weight's values do not depend on which other weights exist; norm gains start at 1.
 */
function createWeights(c: ResolvedModelConfig, seed: number): { weights: ModelWeights; params: NamedParam[] } {
  const params: NamedParam[] = [];
  const make = (name: string, group: ParamGroup, shape: number[], init: 'normal' | 'ones'): tf.Variable => {
    const size = shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(size);
    if (init === 'ones') values.fill(1);
    else {
      const rng = createRng(deriveSeed(seed, name));
      for (let i = 0; i < size; i++) values[i] = rng.normal() * c.initStd;
    }
    const initial = tf.tensor(values, shape);
    const variable = tf.variable(initial, true);
    initial.dispose();
    params.push({ name, group, variable, decay: init !== 'ones' });
    return variable;
  };
  const { vocabSize: V, dModel: d, numHeads: h, numKvHeads: g, headDim: dh } = c;
  const mlpWeights = (prefix: string, group: ParamGroup, width: number): MlpWeights => ({
    wGate: make(`${prefix}.wGate`, group, [d, width], 'normal') as tf.Variable<tf.Rank.R2>,
    wUp: make(`${prefix}.wUp`, group, [d, width], 'normal') as tf.Variable<tf.Rank.R2>,
    wDown: make(`${prefix}.wDown`, group, [width, d], 'normal') as tf.Variable<tf.Rank.R2>,
  });

  const wte = make('embedding.wte', 'embedding', [V, d], 'normal');
  const dense = isDenseModel(c);
  const layers: LayerWeights[] = [];
  for (let i = 0; i < c.numLayers; i++) {
    const p = `layers.${i}`;
    const owner = hasKvProjection(i, c.claShareFactor);
    const attnNorm = make(`${p}.attnNorm.g`, 'norm', [d], 'ones');
    const attn: AttentionWeights = {
      wq: make(`${p}.attn.wq`, 'attention', [d, h * dh], 'normal') as tf.Variable<tf.Rank.R2>,
      wk: owner ? (make(`${p}.attn.wk`, 'attention', [d, g * dh], 'normal') as tf.Variable<tf.Rank.R2>) : undefined,
      wv: owner ? (make(`${p}.attn.wv`, 'attention', [d, g * dh], 'normal') as tf.Variable<tf.Rank.R2>) : undefined,
      wo: make(`${p}.attn.wo`, 'attention', [h * dh, d], 'normal') as tf.Variable<tf.Rank.R2>,
      qNorm: c.qkNorm ? (make(`${p}.attn.qNorm.g`, 'norm', [dh], 'ones') as tf.Variable<tf.Rank.R1>) : undefined,
      kNorm: c.qkNorm ? (make(`${p}.attn.kNorm.g`, 'norm', [dh], 'ones') as tf.Variable<tf.Rank.R1>) : undefined,
    };
    const ffnNorm = make(`${p}.ffnNorm.g`, 'norm', [d], 'ones');
    if (dense) {
      layers.push({ attnNorm, attn, ffnNorm, ffn: mlpWeights(`${p}.ffn`, 'ffn', c.dFf) });
    } else {
      const router = make(`${p}.moe.router`, 'router', [d, c.numExperts], 'normal') as tf.Variable<tf.Rank.R2>;
      const shared =
        c.numSharedExperts > 0
          ? mlpWeights(`${p}.moe.shared`, 'sharedExperts', c.numSharedExperts * c.sharedDFf)
          : undefined;
      const experts = Array.from({ length: c.numExperts }, (_, e) =>
        mlpWeights(`${p}.moe.experts.${e}`, 'specializedExperts', c.dFf),
      );
      layers.push({ attnNorm, attn, ffnNorm, moe: { router, shared, experts } });
    }
  }
  const finalNorm = make('finalNorm.g', 'norm', [d], 'ones');
  const lmHead = c.tieEmbeddings ? undefined : make('lmHead.w', 'embedding', [d, V], 'normal');
  return { weights: { wte, lmHead, layers, finalNorm }, params };
}

// ---------------------------------------------------------------------------------------------
// Input checks

function hostTokens(t: tf.Tensor2D, what: string, c: ResolvedModelConfig): Int32Array {
  const values = t.dataSync();
  const ids = values instanceof Int32Array ? values : Int32Array.from(values);
  for (let i = 0; i < ids.length; i++) {
    if (ids[i] < 0 || ids[i] >= c.vocabSize || !Number.isInteger(values[i])) {
      throw new DataError(
        `${what}: token id ${values[i]} at flat position ${i} is outside the vocabulary [0, ${c.vocabSize}). ` +
          `Use a tokenizer whose vocabulary matches model.vocabSize (${c.vocabSize}).`,
      );
    }
  }
  return ids;
}

// ---------------------------------------------------------------------------------------------
// The model

export function createMoeLm(config: ResolvedModelConfig, seed: number, options: CreateMoeLmOptions = {}): MoeLmModel {
  const impl: Impl = options.impl ?? (tf.getBackend() === 'webgpu' ? 'device' : 'fast');
  if (impl === 'device' && config.numExperts > 0 && config.overflowPolicy === 'recycle' && config.topK > 1 && Number.isFinite(config.capacityFactor)) {
    // Refused here, before a run writes anything (src/train/loop.ts builds the model first).
    throw new ConfigError(
      'model.overflowPolicy',
      'recycle',
      'Use topK 1, overflowPolicy "drop", or a CPU backend (--backend wasm).',
      `recycle routing with topK ${config.topK} > 1 has no device implementation (src/model/device-moe.ts)`,
    );
  }
  // The device path runs the host kernels' maths where they need no read (rmsNorm, linear, …).
  const kernels = impl !== 'reference';
  const { weights, params } = createWeights(config, seed);
  const consts = createConstantCache();
  const base = ropeBase(config.ropeTheta, config.ropeNtkAlpha, config.headDim);
  const moeSettings: MoeSettings = {
    topK: config.topK,
    capacityFactor: config.capacityFactor,
    overflowPolicy: config.overflowPolicy,
  };
  // Evaluation routes without capacity or randomness (moe.ts evaluationSettings).
  const evalSettings = evaluationSettings(moeSettings);
  const mayRecycle =
    !isDenseModel(config) && config.overflowPolicy === 'recycle' && Number.isFinite(config.capacityFactor);

  function computeLoss(inputs: tf.Tensor2D, targets: tf.Tensor2D, opts: ComputeLossOptions = {}): LossOutput {
    const [batch, seqLen] = inputs.shape;
    if (inputs.rank !== 2 || targets.rank !== 2 || targets.shape[0] !== batch || targets.shape[1] !== seqLen) {
      throw new Error(
        `computeLoss: inputs and targets must both be [batch, seqLen] (got ${JSON.stringify(inputs.shape)} and ` +
          `${JSON.stringify(targets.shape)}).`,
      );
    }
    if (seqLen > config.seqLen) {
      throw new DataError(
        `computeLoss: sequences of ${seqLen} tokens exceed model.seqLen (${config.seqLen}). ` +
          `Cut the batch to ${config.seqLen} tokens or raise model.seqLen.`,
      );
    }
    if (opts.training && mayRecycle && !opts.rng) {
      throw new Error(
        'computeLoss: training with overflowPolicy "recycle" needs options.rng (recycle routing draws random ' +
          'experts for dropped tokens); pass the run\'s seeded Rng.',
      );
    }
    const training = opts.training === true;
    const rng = training ? opts.rng : undefined;
    const routing = training ? moeSettings : evalSettings;
    const ids = hostTokens(inputs, 'inputs', config);
    const targetIds = hostTokens(targets, 'targets', config);
    const shape: AttentionShape = {
      batch,
      seqLen,
      numHeads: config.numHeads,
      numKvHeads: config.numKvHeads,
      headDim: config.headDim,
      ropeBase: base,
      normEps: config.normEps,
      device: impl === 'device',
    };
    const moeLayers: MoeLayerStats[] = [];
    const statsParts: tf.Tensor1D[] = [];

    const out = tf.tidy(() => {
      const norm = (x: tf.Tensor2D, gain: tf.Variable) =>
        kernels
          ? rmsNorm(x, gain as tf.Tensor1D, config.normEps)
          : (tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), 1, true), config.normEps))), gain) as tf.Tensor2D);
      const attention = kernels ? attentionFast : attentionReference;

      // [batch·seqLen, dModel]
      let x: tf.Tensor2D =
        impl === 'device'
          ? deviceGatherRows(weights.wte as tf.Tensor2D, tf.reshape(inputs, [batch * seqLen]) as tf.Tensor1D)
          : impl === 'fast'
          ? embeddingLookup(weights.wte as tf.Tensor2D, ids)
          : tf.matMul(oneHotFloat(ids, config.vocabSize), weights.wte as tf.Tensor2D);
      const lbLosses: tf.Scalar[] = [];
      const zLosses: tf.Scalar[] = [];
      let kv: SharedKv | undefined;
      weights.layers.forEach((layer, i) => {
        const owner = hasKvProjection(i, config.claShareFactor);
        const a = attention(norm(x, layer.attnNorm), layer.attn, shape, consts, owner ? undefined : kv);
        kv = a.kv;
        x = tf.add(x, a.output);
        const h = norm(x, layer.ffnNorm);
        if (layer.moe && impl === 'device') {
          const m = deviceMoeLayer(h, layer.moe, routing, rng);
          x = tf.add(x, m.output);
          lbLosses.push(m.loadBalancingLoss);
          zLosses.push(m.routerZLoss);
          statsParts.push(m.stats);
        } else if (layer.moe) {
          const m = moeLayer(h, layer.moe, routing, { impl, rng });
          x = tf.add(x, m.output);
          lbLosses.push(m.aux.loadBalancingLoss);
          zLosses.push(m.aux.routerZLoss);
          moeLayers.push(m.aux.stats);
        } else {
          x = tf.add(x, mlp(h, layer.ffn!, impl));
        }
      });
      x = norm(x, weights.finalNorm);
      const logits =
        impl === 'fast'
          ? weights.lmHead
            ? linear(x, weights.lmHead as tf.Tensor2D)
            : linearT(x, weights.wte as tf.Tensor2D)
          : kernels
            ? linear(x, weights.lmHead ? (weights.lmHead as tf.Tensor2D) : (tf.transpose(weights.wte) as tf.Tensor2D))
          : weights.lmHead
            ? tf.matMul<tf.Tensor2D>(x, weights.lmHead)
            : tf.matMul<tf.Tensor2D>(x, weights.wte, false, true);
      const ce = crossEntropy(logits, targetIds, kernels ? 'fast' : 'reference');
      const mean = (xs: tf.Scalar[]) => (xs.length === 0 ? tf.scalar(0) : (tf.div(tf.addN(xs), xs.length) as tf.Scalar));
      const loadBalancingLoss = mean(lbLosses);
      const routerZLoss = mean(zLosses);
      const loss = tf.add(
        ce,
        tf.add(tf.mul(loadBalancingLoss, config.auxLossCoef), tf.mul(routerZLoss, config.zLossCoef)),
      ) as tf.Scalar;
      // Per-token cross-entropy logsumexp(logits) − logit[target] (evaluation: losses per window).
      const tokenLosses = opts.tokenLosses
        ? (tf.sub(
            tf.logSumExp(logits, 1),
            tf.sum(tf.mul(logits, oneHotFloat(targetIds, logits.shape[1])), 1),
          ) as tf.Tensor1D)
        : undefined;
      const moeStats = statsParts.length ? (tf.concat(statsParts) as tf.Tensor1D) : undefined;
      return { loss, ce, loadBalancingLoss, routerZLoss, moeStats, ...(tokenLosses ? { tokenLosses } : {}) };
    });
    if (out.moeStats && tf.getBackend() !== 'webgpu') {
      // Backends with synchronous reads decode the statistics now (one read per pass).
      const values = out.moeStats.dataSync();
      const width = config.numExperts + 2;
      for (let i = 0; i < statsParts.length; i++) moeLayers.push(decodeMoeStats(values, config.numExperts, i * width));
      out.moeStats.dispose();
      return { ...out, moeStats: undefined, moeLayers };
    }
    return { ...out, moeLayers };
  }

  return {
    config,
    params,
    impl,
    computeLoss,
    cachedConstants: () => consts.size(),
    dispose() {
      for (const p of params) p.variable.dispose();
      consts.dispose();
    },
  };
}
