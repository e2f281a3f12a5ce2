// The MoE layer: 1 expert = dense MLP (outputs and gradients), fast permutation dispatch = dense
// "all experts + mask" reference under every overflow policy, dropped tokens, uniform-routing aux
// loss, diagnostics, leaks.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { mlp, type MlpWeights } from '../../src/model/mlp.ts';
import { moeLayer, type MoeSettings, type MoeWeights } from '../../src/model/moe.ts';
import type { OverflowPolicy } from '../../src/model/routing.ts';
import { createRng } from '../../src/util/rng.ts';
import { expectClose, randn, tensorLeak, useWasm, valueAndGrads } from './tensor-helpers.ts';

beforeAll(useWasm);

const D = 8;
const F = 12;

const mlpList = (seed: number, width = F): tf.Tensor[] => [randn([D, width], seed, 0.4), randn([D, width], seed + 1, 0.4), randn([width, D], seed + 2, 0.4)];
const asMlp = (w: tf.Tensor[]): MlpWeights => ({ wGate: w[0] as tf.Tensor2D, wUp: w[1] as tf.Tensor2D, wDown: w[2] as tf.Tensor2D });

/** Flat weight list [router, (shared ×3), expert_0 ×3, …] ↔ MoeWeights. */
function weightList(numExperts: number, shared: boolean, seed: number): tf.Tensor[] {
  const ws = [randn([D, numExperts], seed, 1.5)];
  if (shared) ws.push(...mlpList(seed + 1, 10));
  for (let e = 0; e < numExperts; e++) ws.push(...mlpList(seed + 10 + 3 * e));
  return ws;
}
function toMoe(ws: tf.Tensor[], numExperts: number, shared: boolean): MoeWeights {
  const off = shared ? 4 : 1;
  return {
    router: ws[0] as tf.Tensor2D,
    shared: shared ? asMlp(ws.slice(1, 4)) : undefined,
    experts: Array.from({ length: numExperts }, (_, e) => asMlp(ws.slice(off + 3 * e, off + 3 * e + 3))),
  };
}

describe('a 1-expert MoE is the dense MLP', () => {
  for (const impl of ['fast', 'reference'] as const) {
    it(`outputs and gradients (x, expert weights), ${impl}`, () => {
      const x = randn([20, D], 1);
      const router = randn([D, 1], 2);
      const expert = mlpList(3);
      const settings: MoeSettings = { topK: 1, capacityFactor: 1, overflowPolicy: 'drop' };
      const moe = valueAndGrads(
        (xx, ...w) => moeLayer(xx as tf.Tensor2D, { router: router as tf.Tensor2D, experts: [asMlp(w)] }, settings, { impl }).output,
        [x, ...expert],
      );
      const dense = valueAndGrads((xx, ...w) => mlp(xx as tf.Tensor2D, asMlp(w), 'reference'), [x, ...expert]);
      expectClose(moe.value, dense.value, 1e-6);
      moe.grads.forEach((g, i) => expectClose(g, dense.grads[i], 1e-5));
      tf.dispose([x, router, ...expert, moe.value, dense.value, ...moe.grads, ...dense.grads]);
    });
  }
});

describe('fast dispatch = dense reference', () => {
  const cases: [number, number, number, OverflowPolicy, boolean][] = [
    // experts, topK, capacityFactor, policy, shared
    [4, 1, Infinity, 'recycle', true],
    [4, 1, 1, 'drop', true],
    [4, 1, 1, 'recycle', true],
    [4, 1, 0.5, 'recycle', false],
    [4, 1, 1, 'none', false],
    [4, 2, 1, 'drop', true],
    [4, 2, 1, 'recycle', true],
    [6, 3, 0.75, 'recycle', false],
  ];
  for (const [E, k, cf, policy, shared] of cases) {
    it(`E=${E} top-${k} capacityFactor=${cf} ${policy}${shared ? ' + shared' : ''}: outputs, aux, all gradients`, () => {
      const x = randn([24, D], 5);
      const ws = weightList(E, shared, 100);
      const settings: MoeSettings = { topK: k, capacityFactor: cf, overflowPolicy: policy };
      const run = (impl: 'fast' | 'reference') => (xx: tf.Tensor, ...w: tf.Tensor[]) => {
        const m = moeLayer(xx as tf.Tensor2D, toMoe(w, E, shared), settings, { impl, rng: createRng(11) });
        // the aux losses go into the objective too, so their gradients are compared as well
        return tf.add(m.output, tf.mul(tf.add(m.aux.loadBalancingLoss, m.aux.routerZLoss), 0.1));
      };
      const fast = valueAndGrads(run('fast'), [x, ...ws]);
      const ref = valueAndGrads(run('reference'), [x, ...ws]);
      expectClose(fast.value, ref.value, 1e-5);
      fast.grads.forEach((g, i) => expectClose(g, ref.grads[i], 1e-4));
      tf.dispose([x, ...ws, fast.value, ref.value, ...fast.grads, ...ref.grads]);
    });
  }
});

describe('overflow and diagnostics', () => {
  it('a dropped token passes through the shared expert only; stats match the routing plan', () => {
    const E = 4;
    const x = randn([16, D], 6);
    const ws = weightList(E, true, 200);
    const w = toMoe(ws, E, true);
    const { output, aux } = moeLayer(x as tf.Tensor2D, w, { topK: 1, capacityFactor: 0.5, overflowPolicy: 'drop' }, { impl: 'fast' });
    const sharedOnly = mlp(x as tf.Tensor2D, w.shared!, 'reference');
    const dropped = Array.from(aux.plan.assigned).flatMap((e, t) => (e < 0 ? [t] : []));
    expect(aux.plan.capacity).toBe(2); // floor(max(1, 16/4) · 0.5)
    expect(dropped.length).toBe(16 - aux.plan.expertLoad.reduce((a, b) => a + b, 0));
    expect(dropped.length).toBeGreaterThan(0);
    const out = output.arraySync() as number[][];
    const sh = sharedOnly.arraySync() as number[][];
    for (const t of dropped) out[t].forEach((v, j) => expect(v).toBeCloseTo(sh[t][j], 5));
    expect(aux.stats.droppedTokenFraction).toBe(dropped.length / 16);
    expect(aux.stats.recycledTokenFraction).toBe(0);
    expect(aux.stats.tokensPerExpert.reduce((a, b) => a + b, 0)).toBe(16);
    tf.dispose([x, ...ws, output, sharedOnly, aux.loadBalancingLoss, aux.routerZLoss]);
  });

  it('recycle loses no token while free capacity exists and reports the recycled fraction', () => {
    const E = 4;
    const x = randn([16, D], 7);
    const ws = weightList(E, false, 300);
    const { output, aux } = moeLayer(x as tf.Tensor2D, toMoe(ws, E, false), { topK: 1, capacityFactor: 1, overflowPolicy: 'recycle' }, { impl: 'fast', rng: createRng(3) });
    expect(aux.stats.droppedTokenFraction).toBe(0); // capacity 4 × 4 experts = 16 slots for 16 tokens
    expect(aux.stats.recycledTokenFraction).toBeGreaterThan(0);
    expect(aux.plan.expertLoad).toEqual([4, 4, 4, 4]);
    tf.dispose([x, ...ws, output, aux.loadBalancingLoss, aux.routerZLoss]);
  });

  for (const k of [1, 2]) {
    it(`uniform routing (zero router) gives load-balancing loss ${k} for top-${k} and z-loss ln(E)²`, () => {
      const E = 4;
      const x = randn([12, D], 8);
      const ws = weightList(E, false, 400);
      ws[0].dispose();
      ws[0] = tf.zeros([D, E]);
      const { output, aux } = moeLayer(x as tf.Tensor2D, toMoe(ws, E, false), { topK: k, capacityFactor: Infinity, overflowPolicy: 'none' }, { impl: 'fast' });
      expect(aux.loadBalancingLoss.dataSync()[0]).toBeCloseTo(k, 5);
      expect(aux.routerZLoss.dataSync()[0]).toBeCloseTo(Math.log(E) ** 2, 5);
      tf.dispose([x, ...ws, output, aux.loadBalancingLoss, aux.routerZLoss]);
    });
  }
});

describe('leaks', () => {
  for (const impl of ['fast', 'reference'] as const) {
    it(`${impl}: forward returns 3 tensors (output, two losses); backward leaves none`, () => {
      const E = 4;
      const x = tf.variable(randn([16, D], 9));
      const ws = weightList(E, true, 500).map((w) => tf.variable(w));
      const settings: MoeSettings = { topK: 2, capacityFactor: 1, overflowPolicy: 'recycle' };
      const before = tf.memory().numTensors;
      const m = moeLayer(x as tf.Tensor2D, toMoe(ws, E, true), settings, { impl, rng: createRng(1) });
      expect(tf.memory().numTensors - before).toBe(3);
      tf.dispose([m.output, m.aux.loadBalancingLoss, m.aux.routerZLoss]);
      const loss = () => {
        const r = moeLayer(x as tf.Tensor2D, toMoe(ws, E, true), settings, { impl, rng: createRng(1) });
        return tf.add(tf.sum(r.output), r.aux.loadBalancingLoss) as tf.Scalar;
      };
      expect(tensorLeak(() => tf.variableGrads(loss))).toBe(0);
      tf.dispose([x, ...ws]);
    });
  }
});
