// Evaluation routing: every token to its top-k experts, no capacity limit, no randomness. Training
// routing (capacity, recycle RNG) is unchanged.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveModelConfig, type ResolvedModelConfig } from '../../src/config/resolve.ts';
import { ModelConfigSchema, type UserModelConfig } from '../../src/config/schema.ts';
import { parseConfig } from '../../src/config/validate.ts';
import { evaluationSettings } from '../../src/model/moe.ts';
import { createMoeLm } from '../../src/model/transformer.ts';
import { createRng } from '../../src/util/rng.ts';
import { useWasm } from './tensor-helpers.ts';

beforeAll(useWasm);

const resolve = (c: UserModelConfig): ResolvedModelConfig => resolveModelConfig(parseConfig(ModelConfigSchema, c, 'test'));

/** Tight capacity (factor 1, top-2, recycle): training drops and recycles assignments. */
const TINY: UserModelConfig = {
  vocabSize: 24, seqLen: 8, dModel: 16, numLayers: 2, numHeads: 4, numKvHeads: 2, dFf: 12,
  numExperts: 4, numSharedExperts: 1, sharedDFf: 10, topK: 2, capacityFactor: 1, overflowPolicy: 'recycle',
  claShareFactor: 2, qkNorm: true, tieEmbeddings: false, initStd: 0.3,
};

function tokens(b: number, t: number, seed: number): [tf.Tensor2D, tf.Tensor2D] {
  const rng = createRng(seed);
  const make = () => tf.tensor2d(Array.from({ length: b * t }, () => rng.int(24)), [b, t], 'int32');
  return [make(), make()];
}

/** Per-token losses and routing stats of one pass (host numbers). */
function pass(model: ReturnType<typeof createMoeLm>, x: tf.Tensor2D, y: tf.Tensor2D, training: boolean, seed = 3) {
  const out = model.computeLoss(x, y, { training, rng: createRng(seed), tokenLosses: true });
  const result = {
    ce: out.ce.dataSync()[0],
    tokenLosses: Array.from(out.tokenLosses!.dataSync()),
    dropped: out.moeLayers.map((l) => l.droppedTokenFraction + l.recycledTokenFraction),
  };
  tf.dispose([out.loss, out.ce, out.loadBalancingLoss, out.routerZLoss, out.tokenLosses!]);
  return result;
}

describe('evaluation routing', () => {
  it('keeps top-k, lifts capacity, drops the overflow policy', () => {
    expect(evaluationSettings({ topK: 2, capacityFactor: 1.25, overflowPolicy: 'recycle' })).toEqual({
      topK: 2,
      capacityFactor: Infinity,
      overflowPolicy: 'none',
    });
  });

  it('drops nothing, is bit-identical across calls and RNGs, and training still drops', () => {
    const model = createMoeLm(resolve(TINY), 7);
    const [x, y] = tokens(6, 8, 1);
    const train = pass(model, x, y, true);
    expect(Math.max(...train.dropped)).toBeGreaterThan(0); // capacity 1 bites in training
    const a = pass(model, x, y, false, 1);
    const b = pass(model, x, y, false, 2);
    expect(a.dropped).toEqual([0, 0]);
    expect(b.tokenLosses).toEqual(a.tokenLosses);
    expect(b.ce).toBe(a.ce);
    // the per-token losses average to the model's cross-entropy
    expect(a.tokenLosses.reduce((s, v) => s + v, 0) / a.tokenLosses.length).toBeCloseTo(a.ce, 5);
    tf.dispose([x, y]);
    model.dispose();
  });

  it('equals training routing of the same weights with unlimited capacity and no overflow policy', () => {
    const limited = createMoeLm(resolve(TINY), 7);
    // weights are drawn per name from the seed, so this model has the same weights
    const unlimited = createMoeLm(resolve({ ...TINY, capacityFactor: 'inf', overflowPolicy: 'none' }), 7);
    const [x, y] = tokens(6, 8, 2);
    const evalLimited = pass(limited, x, y, false);
    const trainUnlimited = pass(unlimited, x, y, true);
    expect(evalLimited.ce).toBeCloseTo(trainUnlimited.ce, 6);
    evalLimited.tokenLosses.forEach((v, i) => expect(v).toBeCloseTo(trainUnlimited.tokenLosses[i], 5));
    tf.dispose([x, y]);
    limited.dispose();
    unlimited.dispose();
  });

  it("scores a sequence the same whatever else is in the batch (training routing does not)", () => {
    const model = createMoeLm(resolve(TINY), 7);
    const [x, y] = tokens(6, 8, 3);
    const first = (t: tf.Tensor2D) => tf.slice(t, [0, 0], [1, 8]) as tf.Tensor2D;
    const [x1, y1] = [first(x), first(y)];
    const alone = pass(model, x1, y1, false).tokenLosses;
    const inBatch = pass(model, x, y, false).tokenLosses.slice(0, 8);
    inBatch.forEach((v, i) => expect(v).toBeCloseTo(alone[i], 5));
    // with capacity, the rest of the batch changes which experts the first sequence gets
    const trainAlone = pass(model, x1, y1, true).tokenLosses;
    const trainInBatch = pass(model, x, y, true).tokenLosses.slice(0, 8);
    expect(Math.max(...trainAlone.map((v, i) => Math.abs(v - trainInBatch[i])))).toBeGreaterThan(1e-4);
    tf.dispose([x, y, x1, y1]);
    model.dispose();
  });
});
