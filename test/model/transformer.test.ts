// The whole model: tf.Variable sizes = the accounting, fast path = reference path (loss and every
// gradient), gradients = finite differences, it trains, it does not leak, it refuses bad input.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveModelConfig, type ResolvedModelConfig } from '../../src/config/resolve.ts';
import { ModelConfigSchema, type UserModelConfig } from '../../src/config/schema.ts';
import { parseConfig } from '../../src/config/validate.ts';
import { DataError } from '../../src/errors.ts';
import { countParams } from '../../src/model/count.ts';
import { createMoeLm } from '../../src/model/transformer.ts';
import type { ParamGroup } from '../../src/model/types.ts';
import { createRng } from '../../src/util/rng.ts';
import { expectClose, tensorLeak, useWasm } from './tensor-helpers.ts';

beforeAll(useWasm);

const resolve = (c: UserModelConfig): ResolvedModelConfig => resolveModelConfig(parseConfig(ModelConfigSchema, c, 'test'));

/** A tiny MoE with every feature on: GQA, CLA, QK-norm, NTK RoPE, shared + top-2, recycle, untied. */
const TINY: UserModelConfig = {
  vocabSize: 24, seqLen: 8, dModel: 16, numLayers: 3, numHeads: 4, numKvHeads: 2, dFf: 12,
  numExperts: 4, numSharedExperts: 1, sharedDFf: 10, topK: 2, capacityFactor: 1, overflowPolicy: 'recycle',
  claShareFactor: 2, qkNorm: true, tieEmbeddings: false, ropeNtkAlpha: 4, zLossCoef: 0.01, auxLossCoef: 0.05,
};

function batch(cfg: ResolvedModelConfig, b: number, t: number, seed: number): [tf.Tensor2D, tf.Tensor2D] {
  const rng = createRng(seed);
  const make = () => tf.tensor2d(Array.from({ length: b * t }, () => rng.int(cfg.vocabSize)), [b, t], 'int32');
  return [make(), make()];
}

function randomConfig(seed: number): ResolvedModelConfig {
  const rng = createRng(seed);
  const pick = <T>(xs: T[]): T => xs[rng.int(xs.length)];
  const numHeads = pick([1, 2, 4]);
  const numLayers = 1 + rng.int(4);
  const numExperts = pick([0, 1, 2, 4]);
  const c: UserModelConfig = {
    vocabSize: 5 + rng.int(30),
    seqLen: 8,
    dModel: numHeads * pick([2, 4, 6]),
    numLayers,
    numHeads,
    numKvHeads: pick([1, numHeads]),
    dFf: 3 + rng.int(10),
    numExperts,
    numSharedExperts: numExperts > 0 ? rng.int(3) : 0,
    topK: numExperts > 0 ? 1 + rng.int(numExperts) : 1,
    claShareFactor: 1 + rng.int(numLayers),
    qkNorm: rng.next() < 0.5,
    tieEmbeddings: rng.next() < 0.5,
  };
  if (rng.next() < 0.3) c.headDim = pick([2, 4]);
  if (numExperts > 0 && rng.next() < 0.5) c.sharedDFf = 2 + rng.int(8);
  return resolve(c);
}

describe('parameters', () => {
  for (let seed = 1; seed <= 8; seed++) {
    it(`random config #${seed}: variable sizes equal countParams, in total and per group`, () => {
      const cfg = randomConfig(seed);
      const model = createMoeLm(cfg, seed);
      const size = (groups: ParamGroup[]) =>
        model.params.filter((p) => groups.includes(p.group)).reduce((s, p) => s + p.variable.size, 0);
      const c = countParams(cfg);
      expect(size(['embedding', 'attention', 'norm', 'router', 'ffn', 'sharedExperts', 'specializedExperts'])).toBe(c.totalParams);
      expect(size(['embedding'])).toBe(c.embedding);
      expect(size(['attention'])).toBe(c.attention);
      expect(size(['norm'])).toBe(c.norms);
      expect(size(['router'])).toBe(c.router);
      expect(size(['ffn'])).toBe(c.ffn);
      expect(size(['sharedExperts'])).toBe(c.sharedExperts);
      expect(size(['specializedExperts'])).toBe(c.specializedExperts);
      expect(new Set(model.params.map((p) => p.name)).size).toBe(model.params.length);
      expect(model.params.every((p) => p.decay === (p.group !== 'norm'))).toBe(true);
      model.dispose();
    });
  }

  it('names say where a weight lives; initialisation is seeded and independent per weight', () => {
    const cfg = resolve(TINY);
    const a = createMoeLm(cfg, 7);
    const b = createMoeLm(cfg, 7);
    const c = createMoeLm(cfg, 8);
    const names = a.params.map((p) => p.name);
    expect(names).toContain('layers.2.moe.experts.3.wDown');
    expect(names).toContain('layers.0.attn.wk');
    expect(names).not.toContain('layers.1.attn.wk'); // CLA consumer
    expect(names).toContain('lmHead.w');
    const wq = (m: typeof a) => m.params.find((p) => p.name === 'layers.1.attn.wq')!.variable;
    expect(Array.from(wq(a).dataSync())).toEqual(Array.from(wq(b).dataSync()));
    expect(Math.abs(wq(a).dataSync()[0] - wq(c).dataSync()[0])).toBeGreaterThan(0);
    const std = Math.sqrt(tf.moments(wq(a)).variance.dataSync()[0]);
    expect(std).toBeGreaterThan(0.015);
    expect(std).toBeLessThan(0.025); // initStd 0.02
    [a, b, c].forEach((m) => m.dispose());
  });
});

describe('fast path = reference path', () => {
  for (const variant of [TINY, { ...TINY, topK: 1, tieEmbeddings: true, qkNorm: false, capacityFactor: 0.5 }, { ...TINY, numExperts: 0, numSharedExperts: 0 }]) {
    const label = `experts ${variant.numExperts}, top-${variant.topK}, tied ${variant.tieEmbeddings}, qkNorm ${variant.qkNorm}`;
    it(`${label}: same loss, aux losses, routing stats and gradients of every parameter`, () => {
      const cfg = resolve(variant);
      const fast = createMoeLm(cfg, 3, { impl: 'fast' });
      const ref = createMoeLm(cfg, 3, { impl: 'reference' });
      const [x, y] = batch(cfg, 3, 8, 1);
      const run = (m: typeof fast) => {
        let stats: unknown;
        let aux: number[] = [];
        const { value, grads } = tf.variableGrads(() => {
          const out = m.computeLoss(x, y, { training: true, rng: createRng(5) });
          stats = out.moeLayers;
          aux = [out.ce, out.loadBalancingLoss, out.routerZLoss].map((t) => t.dataSync()[0]);
          return out.loss;
        }, m.params.map((p) => p.variable));
        return { value, grads, stats, aux };
      };
      const a = run(fast);
      const b = run(ref);
      expect(a.value.dataSync()[0]).toBeCloseTo(b.value.dataSync()[0], 5);
      a.aux.forEach((v, i) => expect(v).toBeCloseTo(b.aux[i], 5));
      expect(a.stats).toEqual(b.stats);
      fast.params.forEach((p, i) => {
        const refName = ref.params[i].variable.name;
        expectClose(a.grads[p.variable.name], b.grads[refName], 2e-4);
      });
      tf.dispose([a.value, b.value, x, y]);
      tf.dispose(a.grads);
      tf.dispose(b.grads);
      fast.dispose();
      ref.dispose();
    });
  }
});

describe('other backends', () => {
  it('on the cpu backend the fast path matches the reference path too', async () => {
    await tf.setBackend('cpu');
    try {
      const cfg = resolve(TINY);
      const [x, y] = batch(cfg, 2, 8, 1);
      const losses = (['fast', 'reference'] as const).map((impl) => {
        const m = createMoeLm(cfg, 3, { impl });
        const { value, grads } = tf.variableGrads(() => m.computeLoss(x, y, { training: true, rng: createRng(5) }).loss, m.params.map((p) => p.variable));
        const out = { loss: value.dataSync()[0], wq: grads[m.params.find((p) => p.name === 'layers.1.attn.wq')!.variable.name].dataSync().slice() };
        value.dispose();
        tf.dispose(grads);
        m.dispose();
        return out;
      });
      expect(losses[0].loss).toBeCloseTo(losses[1].loss, 5);
      expectClose(tf.tensor(losses[0].wq), tf.tensor(losses[1].wq), 2e-4);
      tf.dispose([x, y]);
    } finally {
      await tf.setBackend('wasm');
    }
  });
});

describe('gradients = finite differences', () => {
  it('for the largest-gradient entry of every weight of a tiny MoE (float32 central differences)', () => {
    // capacity unlimited: routing changes only if a router argmax flips, which the check detects
    const cfg = resolve({ ...TINY, topK: 1, capacityFactor: 'inf', overflowPolicy: 'none', initStd: 0.3 });
    const model = createMoeLm(cfg, 11);
    const [x, y] = batch(cfg, 2, 8, 2);
    const lossAt = () => tf.tidy(() => {
      const out = model.computeLoss(x, y);
      return { loss: out.loss.dataSync()[0], routes: JSON.stringify(out.moeLayers.map((l) => l.tokensPerExpert)) };
    });
    const { grads, value } = tf.variableGrads(() => model.computeLoss(x, y).loss, model.params.map((p) => p.variable));
    const base = lossAt();
    let checked = 0;
    const skipped: string[] = [];
    for (const p of model.params) {
      // an expert that received no token has no gradient at all (its loss slope is 0)
      const g = grads[p.variable.name]?.dataSync() ?? new Float32Array(p.variable.size);
      const values = p.variable.dataSync().slice();
      const eps = 2e-3;
      const at = (i: number, delta: number) => {
        const v = values.slice();
        v[i] += delta;
        p.variable.assign(tf.tensor(v, p.variable.shape));
        return lossAt();
      };
      // the largest-gradient entries first; one whose perturbation flips a router argmax (the loss
      // is not differentiable there) is passed over for the next
      const order = Array.from(g.keys()).sort((i, j) => Math.abs(g[j]) - Math.abs(g[i])).slice(0, 4);
      let done = false;
      for (const i of order) {
        const plus = at(i, eps);
        const minus = at(i, -eps);
        p.variable.assign(tf.tensor(values, p.variable.shape));
        if (plus.routes !== base.routes || minus.routes !== base.routes) continue;
        const numeric = (plus.loss - minus.loss) / (2 * eps);
        expect(Math.abs(numeric - g[i]), `${p.name}[${i}]: analytic ${g[i]}, numeric ${numeric}`).toBeLessThan(3e-2 * Math.abs(g[i]) + 5e-4);
        checked++;
        done = true;
        break;
      }
      if (!done) skipped.push(p.name);
    }
    expect(skipped, 'weights whose every probe flipped a route').toEqual([]);
    expect(checked).toBe(model.params.length);
    value.dispose();
    tf.dispose(grads);
    tf.dispose([x, y]);
    model.dispose();
  });
});

describe('training and memory', () => {
  it('starts near ln(vocab), Adam lowers the loss on a fixed batch, and a step leaks no tensor', () => {
    const cfg = resolve({ ...TINY, vocabSize: 32, seqLen: 16 });
    const model = createMoeLm(cfg, 1);
    const [x, y] = batch(cfg, 4, 16, 3);
    const rng = createRng(9);
    const opt = tf.train.adam(2e-2);
    const vars = model.params.map((p) => p.variable);
    const step = () => {
      const { value, grads } = tf.variableGrads(() => model.computeLoss(x, y, { training: true, rng }).loss, vars);
      opt.applyGradients(grads as Parameters<typeof opt.applyGradients>[0]);
      tf.dispose(grads);
      const loss = value.dataSync()[0];
      value.dispose();
      return loss;
    };
    const ce0 = tf.tidy(() => model.computeLoss(x, y).ce.dataSync()[0]);
    expect(Math.abs(ce0 - Math.log(32))).toBeLessThan(0.05);
    const first = step();
    step(); // optimizer slots and shape constants now exist
    const before = tf.memory().numTensors;
    let last = first;
    for (let i = 0; i < 25; i++) last = step();
    expect(tf.memory().numTensors).toBe(before);
    expect(last).toBeLessThan(first * 0.7);
    opt.dispose();
    tf.dispose([x, y]);
    model.dispose();
  });

  it('computeLoss returns exactly its four tensors; dispose frees every variable and constant', () => {
    const cfg = resolve(TINY);
    const start = tf.memory().numTensors;
    const model = createMoeLm(cfg, 1);
    const [x, y] = batch(cfg, 2, 8, 4);
    tf.dispose(Object.values(model.computeLoss(x, y)).filter((t) => t instanceof tf.Tensor) as tf.Tensor[]);
    const before = tf.memory().numTensors;
    const out = model.computeLoss(x, y);
    expect(tf.memory().numTensors - before).toBe(4);
    expect(out.moeLayers).toHaveLength(3);
    tf.dispose([out.loss, out.ce, out.loadBalancingLoss, out.routerZLoss]);
    expect(tensorLeak(() => tf.variableGrads(() => model.computeLoss(x, y).loss))).toBe(0);
    model.dispose();
    tf.dispose([x, y]);
    expect(tf.memory().numTensors).toBe(start);
  });
});

describe('bad input', () => {
  const cfg = resolve(TINY);

  it('token ids outside the vocabulary name the position and the fix', () => {
    const model = createMoeLm(cfg, 1);
    const x = tf.tensor2d([[1, 2, 99]], [1, 3], 'int32');
    expect(() => model.computeLoss(x, x)).toThrow(DataError);
    expect(() => model.computeLoss(x, x)).toThrow(/token id 99 at flat position 2 is outside the vocabulary \[0, 24\)/);
    x.dispose();
    model.dispose();
  });

  it('sequences longer than seqLen, mismatched targets, and recycle training without an RNG are refused', () => {
    const model = createMoeLm(cfg, 1);
    const [x9, y9] = batch(cfg, 1, 9, 5);
    const [x, y] = batch(cfg, 2, 8, 6);
    expect(() => model.computeLoss(x9, y9)).toThrow(/exceed model\.seqLen \(8\)/);
    expect(() => model.computeLoss(x, x9)).toThrow(/must both be \[batch, seqLen\]/);
    expect(() => model.computeLoss(x, y, { training: true })).toThrow(/needs options\.rng/);
    tf.dispose([x9, y9, x, y]);
    model.dispose();
  });
});
