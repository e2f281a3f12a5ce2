import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import type { NamedParam, ParamGroup } from '../../src/model/types.ts';
import { createRng } from '../../src/util/rng.ts';
import { createAdamW, globalNorm } from '../../src/train/optimizer.ts';

const ARGS = { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, gradClip: 1 };

function makeParams(): NamedParam[] {
  return [
    { name: 'w', group: 'attention', variable: tf.variable(tf.tensor1d([1, -2])), decay: true },
    { name: 'expert', group: 'specializedExperts', variable: tf.variable(tf.tensor1d([0.5])), decay: false },
  ];
}
const lrOf = (g: string) => (g === 'specializedExperts' ? 0.05 : 0.1);

describe('AdamW', () => {
  it('matches a hand computation: clipping, decoupled decay, bias correction, group LRs', () => {
    const params = makeParams();
    const opt = createAdamW(params, ARGS);
    // Step 1: g = [0.3, 0.4 | 1.2], ‖g‖ = 1.3 > 1 → g/1.3; with bias correction the first update
    // is lr·sign(g): w = [1, −2]·(1 − 0.1·0.1) − 0.1 = [0.89, −2.08]; expert (no decay) 0.5 − 0.05.
    const g1 = [tf.tensor1d([0.3, 0.4]), tf.tensor1d([1.2])];
    const r1 = opt.applyGradients(g1, lrOf);
    expect(r1.gradNorm).toBeCloseTo(1.3, 6);
    expect(r1.clipScale).toBeCloseTo(1 / 1.300001, 6);
    expect(Array.from(params[0].variable.dataSync())).toEqual([expect.closeTo(0.89, 6), expect.closeTo(-2.08, 6)]);
    expect(params[1].variable.dataSync()[0]).toBeCloseTo(0.45, 6);
    // Step 2: g = [−0.1, 0.2 | none] (‖g‖ = 0.2236, not clipped; a missing gradient counts as 0).
    //   m = 0.9·m1 + 0.1·g,  v = 0.95·v1 + 0.05·g²,  p ← p·(1 − lr·λ) − lr/(1 − 0.9²) · m / (√v/√(1 − 0.95²) + ε)
    //   w:      m = [0.0107692, 0.0476923], v = [0.00302958, 0.00649703] → [0.8489455, −2.1564387]
    //   expert: m = 0.0830769, v = 0.0404733 → 0.45 − 0.05·0.0830769/0.19/(√0.0404733/√0.0975) = 0.4160676
    const g2 = [tf.tensor1d([-0.1, 0.2]), undefined];
    const r2 = opt.applyGradients(g2, lrOf);
    expect(r2.gradNorm).toBeCloseTo(Math.sqrt(0.05), 6);
    expect(r2.clipScale).toBe(1);
    const w = params[0].variable.dataSync();
    expect(w[0]).toBeCloseTo(0.8489455, 5);
    expect(w[1]).toBeCloseTo(-2.1564387, 5);
    expect(params[1].variable.dataSync()[0]).toBeCloseTo(0.4160676, 5);
    const state = opt.getState();
    expect(state.step).toBe(2);
    expect(state.m[0][0]).toBeCloseTo(0.0107692, 6);
    expect(state.v[1][0]).toBeCloseTo(0.0404733, 6);
    for (const t of [...g1, ...g2]) t?.dispose();
    opt.dispose();
    for (const p of params) p.variable.dispose();
  });

  it('updates segments of many parameters exactly as one parameter at a time (shapes, missing grads, clipping, state)', () => {
    // Five tensors of different shapes in three segments (attention+decay twice, norms without
    // decay, experts); a per-parameter AdamW written out here is the reference.
    const shapes: [number[], ParamGroup, boolean][] = [
      [[2, 3], 'attention', true],
      [[4], 'norm', false],
      [[3, 2], 'specializedExperts', true],
      [[5], 'attention', true],
      [[2, 2], 'specializedExperts', true],
    ];
    const rng = createRng(7);
    const init = shapes.map(([shape]) => Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()));
    const params: NamedParam[] = shapes.map(([shape, group, decay], i) => ({ name: `p${i}`, group, decay, variable: tf.variable(tf.tensor(init[i], shape)) }));
    const ref = init.map((x) => x.slice());
    const m = init.map((x) => x.map(() => 0));
    const v = init.map((x) => x.map(() => 0));
    const lr = (g: string) => (g === 'specializedExperts' ? 0.03 : 0.1);
    const opt = createAdamW(params, ARGS);
    for (let step = 1; step <= 4; step++) {
      // Parameter 2 gets no gradient on step 2; steps 1 and 3 are clipped (large gradients).
      const g = init.map((x, i) => (step === 2 && i === 2 ? undefined : x.map(() => rng.normal() * (step % 2 === 1 ? 3 : 0.05))));
      const norm = Math.sqrt(g.flat().reduce((a: number, x) => a + (x ?? 0) ** 2, 0));
      const scale = Math.min(1, ARGS.gradClip / (norm + 1e-6));
      const bc1 = 1 - ARGS.beta1 ** step;
      const bc2 = Math.sqrt(1 - ARGS.beta2 ** step);
      shapes.forEach(([, group, decay], i) => {
        for (let j = 0; j < ref[i].length; j++) {
          const gj = (g[i]?.[j] ?? 0) * scale;
          m[i][j] = ARGS.beta1 * m[i][j] + (1 - ARGS.beta1) * gj;
          v[i][j] = ARGS.beta2 * v[i][j] + (1 - ARGS.beta2) * gj * gj;
          const p = decay ? ref[i][j] * (1 - lr(group) * ARGS.weightDecay) : ref[i][j];
          ref[i][j] = p - (lr(group) / bc1) * (m[i][j] / (Math.sqrt(v[i][j]) / bc2 + ARGS.eps));
        }
      });
      const tensors = g.map((x, i) => (x ? tf.tensor(x, shapes[i][0]) : undefined));
      const r = opt.applyGradients(tensors, lr);
      expect(r.gradNorm).toBeCloseTo(norm, 4);
      for (const t of tensors) t?.dispose();
    }
    params.forEach((p, i) => {
      expect(p.variable.shape).toEqual(shapes[i][0]);
      const got = Array.from(p.variable.dataSync());
      got.forEach((x, j) => expect(x).toBeCloseTo(ref[i][j], 5));
    });
    // The state comes back per parameter, in params order.
    const state = opt.getState();
    state.m.forEach((x, i) => Array.from(x).forEach((y, j) => expect(y).toBeCloseTo(m[i][j], 5)));
    state.v.forEach((x, i) => expect(x.length).toBe(v[i].length));
    expect(() => opt.setState({ ...state, m: state.m.map((x, i) => (i === 1 ? x.slice(1) : x)) })).toThrow(/optimizer state for p1 has 3 values for 4 weights/);
    opt.dispose();
    for (const p of params) p.variable.dispose();
  });

  it('skips the update when the gradient norm is not finite', () => {
    const params = makeParams();
    const opt = createAdamW(params, ARGS);
    const g = [tf.tensor1d([NaN, 1]), tf.tensor1d([1])];
    const r = opt.applyGradients(g, lrOf);
    expect(r.applied).toBe(false);
    expect(opt.step).toBe(0);
    expect(Array.from(params[0].variable.dataSync())).toEqual([1, -2]);
    for (const t of g) t.dispose();
    opt.dispose();
    for (const p of params) p.variable.dispose();
  });

  it('restores its state exactly: two optimisers continue identically', () => {
    const a = makeParams();
    const b = makeParams();
    const optA = createAdamW(a, ARGS);
    const optB = createAdamW(b, ARGS);
    const grads = [tf.tensor1d([0.3, -0.7]), tf.tensor1d([0.2])];
    optA.applyGradients(grads, lrOf);
    optA.applyGradients(grads, lrOf);
    // Copy A's weights and state into B, then take one more step on both.
    b.forEach((p, i) => p.variable.assign(a[i].variable));
    optB.setState(optA.getState());
    optA.applyGradients(grads, lrOf);
    optB.applyGradients(grads, lrOf);
    a.forEach((p, i) => expect(Array.from(b[i].variable.dataSync())).toEqual(Array.from(p.variable.dataSync())));
    for (const t of grads) t.dispose();
    optA.dispose();
    optB.dispose();
    for (const p of [...a, ...b]) p.variable.dispose();
  });

  it('leaks no tensors: creation allocates 2 per segment (group × decay), steps allocate none, dispose frees them', () => {
    const params = makeParams();
    const grads = [tf.tensor1d([0.3, -0.7]), tf.tensor1d([0.2])];
    const before = tf.memory().numTensors;
    const opt = createAdamW(params, ARGS);
    expect(tf.memory().numTensors).toBe(before + 4);
    opt.applyGradients(grads, lrOf);
    opt.applyGradients([grads[0], undefined], lrOf);
    opt.setState(opt.getState());
    expect(tf.memory().numTensors).toBe(before + 4);
    expect(globalNorm(grads)).toBeCloseTo(Math.sqrt(0.09 + 0.49 + 0.04), 6);
    expect(tf.memory().numTensors).toBe(before + 4);
    opt.dispose();
    expect(tf.memory().numTensors).toBe(before);
    for (const t of grads) t.dispose();
    for (const p of params) p.variable.dispose();
  });
});
