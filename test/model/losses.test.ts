// Loss values pinned by hand (docs/references.md#aux-loss aux-loss form; ST-MoE z-loss), plus leak checks.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { crossEntropy, loadBalancingLoss, routerZLoss } from '../../src/model/losses.ts';
import { tensorLeak, useWasm } from './tensor-helpers.ts';

beforeAll(useWasm);

describe('loadBalancingLoss = E · Σ_e f_e · P̄_e', () => {
  for (const [E, k] of [[4, 1], [8, 1], [8, 2], [16, 4]]) {
    it(`uniform routing gives k: E=${E}, top-${k} → ${k}`, () => {
      const T = 32;
      const probs = tf.fill([T, E], 1 / E) as tf.Tensor2D;
      const perExpert = new Array(E).fill((T * k) / E);
      const lb = loadBalancingLoss(probs, perExpert);
      expect(lb.dataSync()[0]).toBeCloseTo(k, 6);
      // Probabilities uniform but all tokens on one expert: still Σ f_e = k.
      const skewed = loadBalancingLoss(probs, [T * k, ...new Array(E - 1).fill(0)]);
      expect(skewed.dataSync()[0]).toBeCloseTo(k, 6);
      tf.dispose([probs, lb, skewed]);
    });
  }

  it('matches a hand-computed value and has gradient E·f_e/T w.r.t. the probabilities', () => {
    const probs = tf.tensor2d([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]]);
    const counts = [2, 1]; // argmax choices 0, 1, 0
    const lb = loadBalancingLoss(probs, counts);
    expect(lb.dataSync()[0]).toBeCloseTo(2 * ((2 / 3) * (1.7 / 3) + (1 / 3) * (1.3 / 3)), 6);
    const g = tf.grad((p: tf.Tensor) => loadBalancingLoss(p as tf.Tensor2D, counts))(probs);
    const expected = [(2 * 2) / 3 / 3, (2 * 1) / 3 / 3];
    Array.from(g.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(expected[i % 2], 6));
    tf.dispose([probs, lb, g]);
  });
});

describe('routerZLoss = mean_t logsumexp(logits_t)²', () => {
  it('matches a hand value', () => {
    const logits = tf.tensor2d([[0, 0], [Math.log(3), 0]]);
    const z = routerZLoss(logits);
    expect(z.dataSync()[0]).toBeCloseTo((Math.log(2) ** 2 + Math.log(4) ** 2) / 2, 6);
    tf.dispose([logits, z]);
  });
});

describe('crossEntropy', () => {
  it('fast and reference agree and equal ln(V) for uniform logits', () => {
    const logits = tf.zeros([5, 16]) as tf.Tensor2D;
    const targets = Int32Array.from([0, 3, 15, 7, 7]);
    for (const impl of ['fast', 'reference'] as const) {
      const ce = crossEntropy(logits, targets, impl);
      expect(ce.dataSync()[0]).toBeCloseTo(Math.log(16), 6);
      ce.dispose();
    }
    logits.dispose();
  });
});

describe('leaks', () => {
  it('each loss leaves only its scalar', () => {
    const probs = tf.fill([4, 2], 0.5) as tf.Tensor2D;
    for (const f of [
      () => loadBalancingLoss(probs, [2, 2]),
      () => routerZLoss(probs),
      () => crossEntropy(probs, Int32Array.from([0, 1, 1, 0])),
      () => crossEntropy(probs, Int32Array.from([0, 1, 1, 0]), 'reference'),
    ]) {
      expect(tensorLeak(f)).toBe(0);
      const before = tf.memory().numTensors;
      const out = f();
      expect(tf.memory().numTensors - before).toBe(1);
      out.dispose();
    }
    probs.dispose();
  });
});
