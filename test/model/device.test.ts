// The device-resident model path (impl "device", src/model/device-*.ts) on the cpu backend, so CI
// checks its maths without a GPU: routing decisions equal routing.ts's host decisions (drop,
// none, top-k) and recycle follows its slot-order rule; the whole model's loss and every gradient
// equal the reference and fast paths; attention cut into chunks under a small artificial buffer
// limit gives the same numbers; nothing leaks.
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../../src/engine/backend.ts';
import { resolveModelConfig, type ResolvedModelConfig } from '../../src/config/resolve.ts';
import { ModelConfigSchema, type UserModelConfig } from '../../src/config/schema.ts';
import { parseConfig } from '../../src/config/validate.ts';
import { chunkSizes, setDeviceBufferLimit } from '../../src/model/device-kernels.ts';
import { decodeMoeStats, deviceRoute, recycleSlotOrder } from '../../src/model/device-moe.ts';
import { expertCapacity, routeTokens } from '../../src/model/routing.ts';
import { createMoeLm } from '../../src/model/transformer.ts';
import { createRng } from '../../src/util/rng.ts';
import { randn, relMaxDiff } from './tensor-helpers.ts';

beforeAll(async () => {
  await initEngine({ backend: 'cpu', log: () => {} });
});

const resolve = (c: UserModelConfig): ResolvedModelConfig => resolveModelConfig(parseConfig(ModelConfigSchema, c, 'test'));

const BASE: UserModelConfig = {
  vocabSize: 24, seqLen: 8, dModel: 16, numLayers: 3, numHeads: 4, numKvHeads: 2, dFf: 12,
  numExperts: 4, numSharedExperts: 1, sharedDFf: 10, topK: 1, capacityFactor: 'inf', overflowPolicy: 'none',
  claShareFactor: 2, qkNorm: true, tieEmbeddings: false, ropeNtkAlpha: 4, zLossCoef: 0.01, auxLossCoef: 0.05,
};

function batch(cfg: ResolvedModelConfig, b: number, t: number, seed: number): [tf.Tensor2D, tf.Tensor2D] {
  const rng = createRng(seed);
  const make = () => tf.tensor2d(Array.from({ length: b * t }, () => rng.int(cfg.vocabSize)), [b, t], 'int32');
  return [make(), make()];
}

/** Softmax rows of random logits [T, E] (host and tensor). */
function randomProbs(T: number, E: number, seed: number, scale = 2): { host: Float32Array; t: tf.Tensor2D } {
  const t = tf.tidy(() => tf.softmax(randn([T, E], seed, scale)) as tf.Tensor2D);
  return { host: t.dataSync() as Float32Array, t };
}

/** Expert of each assignment (j, t) from a device plan's slots (−1 when dropped), in (t, j) order. */
function deviceAssigned(plan: ReturnType<typeof deviceRoute>): Int32Array {
  const slot = plan.slot.dataSync();
  const { numTokens: T, topK: k, numExperts: E, slots: C } = plan;
  const out = new Int32Array(T * k);
  for (let j = 0; j < k; j++) {
    for (let t = 0; t < T; t++) {
      const s = slot[j * T + t];
      out[t * k + j] = s === E * C ? -1 : Math.floor(s / C);
    }
  }
  return out;
}

afterEach(() => setDeviceBufferLimit(Infinity));

describe('device routing = host routing', () => {
  const cases = [
    { name: 'top-1, capacity 1.0, drop', k: 1, cf: 1, policy: 'drop' as const },
    { name: 'top-1, capacity 0.5, drop', k: 1, cf: 0.5, policy: 'drop' as const },
    { name: 'top-2, capacity 1.0, drop', k: 2, cf: 1, policy: 'drop' as const },
    { name: 'top-3, unlimited (none)', k: 3, cf: Infinity, policy: 'none' as const },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const T = 37;
      const E = 5;
      const { host, t } = randomProbs(T, E, 11 + c.k);
      const capacity = expertCapacity(T, E, c.k, c.cf);
      const ref = routeTokens(host, T, E, { topK: c.k, capacity, overflowPolicy: c.policy });
      const plan = deviceRoute(t, { topK: c.k, capacityFactor: c.cf, overflowPolicy: c.policy }, undefined);
      expect(Array.from(deviceAssigned(plan))).toEqual(Array.from(ref.assigned));
      const stats = decodeMoeStats(plan.stats.dataSync(), E);
      expect(stats.tokensPerExpert).toEqual(ref.tokensPerExpert);
      expect(stats.droppedTokenFraction).toBeCloseTo(ref.droppedTokenFraction, 6);
      expect(stats.recycledTokenFraction).toBe(0);
      // Every kept assignment has its own slot, holding its token.
      const slot = plan.slot.dataSync();
      const slotToken = plan.slotToken.dataSync();
      const kept = plan.kept.dataSync();
      const seen = new Set<number>();
      for (let a = 0; a < slot.length; a++) {
        if (!kept[a]) continue;
        expect(seen.has(slot[a])).toBe(false);
        seen.add(slot[a]);
        expect(slotToken[slot[a]]).toBe(a % T);
      }
      expect(Array.from(slotToken).filter((x) => x !== T).length).toBe(seen.size);
      tf.dispose([t, ...Object.values(plan).filter((v): v is tf.Tensor => v instanceof tf.Tensor)]);
    });
  }

  it('recycle (top-1): dropped tokens take the free slots in the drawn order; none lost while capacity is free', () => {
    const T = 40;
    const E = 4;
    // Skewed router: most tokens prefer expert 0, so many overflow.
    const logits = tf.tidy(() => tf.add(randn([T, E], 5, 1), tf.tensor1d([3, 0, 0, -1])));
    const probs = tf.softmax(logits) as tf.Tensor2D;
    const host = probs.dataSync();
    const cf = 1.25;
    const C = expertCapacity(T, E, 1, cf); // 12
    const plan = deviceRoute(probs, { topK: 1, capacityFactor: cf, overflowPolicy: 'recycle' }, createRng(77));
    // Expected, by the rule written out on the host: first-come kept; overflow in token order takes
    // the free slots in the order drawn by recycleSlotOrder with the same seed.
    const order = recycleSlotOrder(E, C, createRng(77));
    const ref = routeTokens(host, T, E, { topK: 1, capacity: C, overflowPolicy: 'drop' });
    const load = ref.expertLoad;
    const free = Array.from(order).filter((s) => s % C >= load[Math.floor(s / C)]);
    const expected = Array.from(ref.assigned);
    let r = 0;
    for (let t = 0; t < T; t++) if (expected[t] < 0) expected[t] = r < free.length ? Math.floor(free[r++] / C) : -1;
    const got = deviceAssigned(plan);
    expect(Array.from(got)).toEqual(expected);
    const stats = decodeMoeStats(plan.stats.dataSync(), E);
    const overflowed = ref.assigned.filter((e) => e < 0).length;
    expect(overflowed).toBeGreaterThan(0);
    expect(stats.recycledTokenFraction).toBeCloseTo(overflowed / T, 6); // all fit: T ≤ E·C
    expect(stats.droppedTokenFraction).toBe(0);
    const perExpert = [0, 0, 0, 0];
    for (const e of got) perExpert[e]++;
    for (const n of perExpert) expect(n).toBeLessThanOrEqual(C);
    tf.dispose([logits, probs, ...Object.values(plan).filter((v): v is tf.Tensor => v instanceof tf.Tensor)]);
  });

  it('refuses recycle with top-k > 1 by name', () => {
    const { t } = randomProbs(16, 4, 3);
    expect(() => deviceRoute(t, { topK: 2, capacityFactor: 0.5, overflowPolicy: 'recycle' }, createRng(1))).toThrow(/recycle.*topK > 1/);
    t.dispose();
  });
});

describe('device model path = reference and fast paths (loss and every gradient)', () => {
  const variants: { name: string; cfg: Partial<UserModelConfig> }[] = [
    { name: 'top-1, unlimited capacity', cfg: {} },
    { name: 'top-1, capacity 0.5, drop', cfg: { capacityFactor: 0.5, overflowPolicy: 'drop' } },
    { name: 'top-2, capacity 1.0, drop, tied, no qk-norm, MHA', cfg: { topK: 2, capacityFactor: 1, overflowPolicy: 'drop', tieEmbeddings: true, qkNorm: false, numKvHeads: 4 } },
    { name: 'dense', cfg: { numExperts: 0, numSharedExperts: 0, sharedDFf: undefined } },
  ];
  for (const v of variants) {
    it(v.name, () => {
      const cfg = resolve({ ...BASE, ...v.cfg } as UserModelConfig);
      const [inputs, targets] = batch(cfg, 3, 8, 4);
      const results = (['reference', 'fast', 'device'] as const).map((impl) => {
        const model = createMoeLm(cfg, 9, { impl });
        const vars = model.params.map((p) => p.variable);
        let stats: unknown;
        const { value, grads } = tf.variableGrads(() => {
          const o = model.computeLoss(inputs, targets, { training: true, rng: createRng(3) });
          stats = o.moeLayers;
          return o.loss;
        }, vars);
        const out = { loss: value.dataSync()[0], grads: model.params.map((p) => grads[p.variable.name]), stats, names: model.params.map((p) => p.name) };
        value.dispose();
        model.dispose();
        return out;
      });
      const [ref, fast, dev] = results;
      expect(Math.abs(dev.loss - ref.loss) / Math.abs(ref.loss)).toBeLessThan(1e-5);
      expect(Math.abs(dev.loss - fast.loss) / Math.abs(fast.loss)).toBeLessThan(1e-5);
      const ds = dev.stats as { tokensPerExpert: number[]; droppedTokenFraction: number; recycledTokenFraction: number }[];
      const fs = fast.stats as typeof ds;
      expect(ds.length).toBe(fs.length);
      ds.forEach((st, i) => {
        expect(st.tokensPerExpert).toEqual(fs[i].tokensPerExpert);
        expect(st.droppedTokenFraction).toBeCloseTo(fs[i].droppedTokenFraction, 6); // float32 on the device
        expect(st.recycledTokenFraction).toBe(fs[i].recycledTokenFraction);
      });
      if (v.cfg.overflowPolicy === 'drop') expect(ds.some((st) => st.droppedTokenFraction > 0)).toBe(true);
      dev.grads.forEach((g, i) => {
        const r = ref.grads[i];
        if (!r) {
          // An unused parameter (expert no token reached): zero or absent on the device path.
          if (g) expect(tf.max(tf.abs(g)).dataSync()[0]).toBe(0);
          return;
        }
        expect(g, dev.names[i]).toBeDefined();
        expect(relMaxDiff(g!, r), dev.names[i]).toBeLessThan(1e-4);
      });
      for (const r of results) tf.dispose(r.grads.filter((g): g is tf.Tensor => g !== undefined));
      tf.dispose([inputs, targets]);
    });
  }

  it('attention cut into chunks under a small buffer limit gives the same loss and gradients', () => {
    const cfg = resolve({ ...BASE, capacityFactor: 1, overflowPolicy: 'drop' });
    const [inputs, targets] = batch(cfg, 4, 8, 6);
    const run = () => {
      const model = createMoeLm(cfg, 2, { impl: 'device' });
      const { value, grads } = tf.variableGrads(() => model.computeLoss(inputs, targets, { training: true }).loss, model.params.map((p) => p.variable));
      const out = { loss: value.dataSync()[0], grads: model.params.map((p) => grads[p.variable.name]) };
      value.dispose();
      model.dispose();
      return out;
    };
    const whole = run();
    // Scores per block: (h/g)·T·T·4 = 2·8·8·4 = 512 bytes; 8 blocks; a 1.5 KiB limit → 3 chunks.
    expect(chunkSizes(8, 512, 1536, 'x')).toEqual([3, 3, 2]);
    setDeviceBufferLimit(1536);
    const cut = run();
    setDeviceBufferLimit(Infinity);
    expect(Math.abs(cut.loss - whole.loss) / whole.loss).toBeLessThan(1e-6);
    cut.grads.forEach((g, i) => {
      if (whole.grads[i]) expect(relMaxDiff(g!, whole.grads[i]!)).toBeLessThan(1e-5);
    });
    tf.dispose([inputs, targets, ...whole.grads, ...cut.grads].filter((g): g is tf.Tensor => g !== undefined));
  });

  it('chunkSizes refuses an item over the limit by name', () => {
    expect(() => chunkSizes(4, 2048, 1024, 'attention scores')).toThrow(/attention scores.*2048 bytes.*1024/);
  });

  it('leaks no tensor over a training-mode pass with gradients', () => {
    const cfg = resolve({ ...BASE, capacityFactor: 1, overflowPolicy: 'recycle' });
    const model = createMoeLm(cfg, 1, { impl: 'device' });
    const [inputs, targets] = batch(cfg, 2, 8, 1);
    const once = () => {
      const { value, grads } = tf.variableGrads(() => model.computeLoss(inputs, targets, { training: true, rng: createRng(1) }).loss, model.params.map((p) => p.variable));
      tf.dispose([value, ...Object.values(grads)]);
    };
    once();
    const before = tf.memory().numTensors;
    once();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([inputs, targets]);
    model.dispose();
  });
});
