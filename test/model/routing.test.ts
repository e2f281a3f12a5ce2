// Routing decisions on hand-worked cases (pure; docs/references.md): 8 tokens, 4 experts, capacity 2.
import { describe, expect, it } from 'vitest';
import {
  assignmentMask,
  buildDispatch,
  choiceMask,
  combineWeights,
  expertCapacity,
  routeTokens,
} from '../../src/model/routing.ts';
import { createRng, shuffleInPlace } from '../../src/util/rng.ts';

/** Router probabilities [8, 4]: tokens 0–4 prefer expert 0, tokens 5–6 expert 1, token 7 expert 2. */
function probs8x4(): Float32Array {
  const rows = [
    [0.7, 0.1, 0.1, 0.1],
    [0.6, 0.2, 0.1, 0.1],
    [0.5, 0.1, 0.3, 0.1],
    [0.4, 0.3, 0.1, 0.2],
    [0.55, 0.05, 0.15, 0.25],
    [0.1, 0.7, 0.1, 0.1],
    [0.2, 0.6, 0.1, 0.1],
    [0.1, 0.1, 0.7, 0.1],
  ];
  return Float32Array.from(rows.flat());
}

describe('expertCapacity = floor(max(k, k·T/E) · capacityFactor)', () => {
  const cases: [number, number, number, number, number][] = [
    // tokens, experts, topK, factor, capacity
    [8, 4, 1, 1, 2],
    [8, 4, 2, 1, 4],
    [8, 4, 1, 1.25, 2],
    [8, 4, 1, 1.5, 3],
    [2, 4, 1, 1, 1], // k·T/E = 0.5 < k
    [2, 4, 2, 2, 4],
    [2048, 16, 1, 1, 128],
  ];
  for (const [T, E, k, cf, cap] of cases) {
    it(`T=${T} E=${E} k=${k} cf=${cf} → ${cap}`, () => expect(expertCapacity(T, E, k, cf)).toBe(cap));
  }
  it('capacityFactor Infinity is unlimited', () => expect(expertCapacity(8, 4, 1, Infinity)).toBe(Infinity));
});

describe('top-1 routing with capacity 2', () => {
  it('drop: the first two tokens of each expert are kept, tokens 2, 3, 4 are dropped', () => {
    const plan = routeTokens(probs8x4(), 8, 4, { topK: 1, capacity: 2, overflowPolicy: 'drop' });
    expect(Array.from(plan.choices)).toEqual([0, 0, 0, 0, 0, 1, 1, 2]);
    expect(Array.from(plan.assigned)).toEqual([0, 0, -1, -1, -1, 1, 1, 2]);
    expect(plan.tokensPerExpert).toEqual([5, 2, 1, 0]);
    expect(plan.expertLoad).toEqual([2, 2, 1, 0]);
    expect(plan.droppedTokenFraction).toBe(3 / 8);
    expect(plan.recycledTokenFraction).toBe(0);
    expect(Array.from(combineWeights(probs8x4(), plan)).map((w) => +w.toFixed(6))).toEqual([0.7, 0.6, 0, 0, 0, 0.7, 0.6, 0.7]);
  });

  it('recycle: the 3 dropped tokens fill the 3 free slots (1 on expert 2, 2 on expert 3) in shuffled order', () => {
    const p = probs8x4();
    const plan = routeTokens(p, 8, 4, { topK: 1, capacity: 2, overflowPolicy: 'recycle', rng: createRng(7) });
    // Free slots [2, 3, 3] shuffled with the same RNG stream, handed to tokens 2, 3, 4 in order.
    const slots = shuffleInPlace([2, 3, 3], createRng(7));
    expect(Array.from(plan.assigned)).toEqual([0, 0, slots[0], slots[1], slots[2], 1, 1, 2]);
    expect(Array.from(plan.recycled)).toEqual([0, 0, 1, 1, 1, 0, 0, 0]);
    expect(plan.expertLoad).toEqual([2, 2, 2, 2]);
    expect(plan.droppedTokenFraction).toBe(0); // no token lost while free capacity exists
    expect(plan.recycledTokenFraction).toBe(3 / 8);
    expect(plan.tokensPerExpert).toEqual([5, 2, 1, 0]); // aux statistics keep the original choice
    // a recycled token is weighted by its router probability for the new expert
    const w = combineWeights(p, plan);
    for (const t of [2, 3, 4]) expect(w[t]).toBeCloseTo(p[t * 4 + plan.assigned[t]], 7);
  });

  it('recycle: a dropped token lands on expert e with probability ∝ free capacity of e', () => {
    let onExpert3 = 0;
    const n = 3000;
    for (let s = 0; s < n; s++) {
      const plan = routeTokens(probs8x4(), 8, 4, { topK: 1, capacity: 2, overflowPolicy: 'recycle', rng: createRng(s) });
      if (plan.assigned[2] === 3) onExpert3++;
    }
    expect(onExpert3 / n).toBeGreaterThan(2 / 3 - 0.03);
    expect(onExpert3 / n).toBeLessThan(2 / 3 + 0.03);
  });

  it('recycle drops only what free capacity cannot hold (capacity 1: 4 slots, 4 kept, 4 overflow)', () => {
    const plan = routeTokens(probs8x4(), 8, 4, { topK: 1, capacity: 1, overflowPolicy: 'recycle', rng: createRng(1) });
    // kept: token 0 (e0), 5 (e1), 7 (e2); free: e3 only → token 1 recycled to e3, tokens 2, 3, 4, 6 dropped
    expect(Array.from(plan.assigned)).toEqual([0, 3, -1, -1, -1, 1, -1, 2]);
    expect(plan.droppedTokenFraction).toBe(4 / 8);
    expect(plan.recycledTokenFraction).toBe(1 / 8);
  });

  it('none ignores capacity; recycle without an RNG says what to pass', () => {
    const plan = routeTokens(probs8x4(), 8, 4, { topK: 1, capacity: 2, overflowPolicy: 'none' });
    expect(Array.from(plan.assigned)).toEqual([0, 0, 0, 0, 0, 1, 1, 2]);
    expect(plan.capacity).toBe(Infinity);
    expect(plan.droppedTokenFraction).toBe(0);
    expect(() => routeTokens(probs8x4(), 8, 4, { topK: 1, capacity: 2, overflowPolicy: 'recycle' })).toThrow(/pass options\.rng/);
  });
});

describe('top-2 routing', () => {
  it('serves all first choices before second choices and renormalises the kept weights', () => {
    const p = probs8x4();
    const plan = routeTokens(p, 8, 4, { topK: 2, capacity: 4, overflowPolicy: 'drop' });
    // second choices: t0 e1 (tie 0.1 → lowest index), t1 e1, t2 e2, t3 e1, t4 e3, t5 e0, t6 e0, t7 e0
    expect(Array.from(plan.choices)).toEqual([0, 1, 0, 1, 0, 2, 0, 1, 0, 3, 1, 0, 1, 0, 2, 0]);
    // First choices fill e0 with t0..t3 (t4 overflows), e1 with t5, t6, e2 with t7. Second choices
    // in token order: t0, t1 → e1 (full at 4), t2 → e2, t3 → e1 overflows, t4 → e3, t5..t7 → e0 overflow.
    expect(Array.from(plan.assigned)).toEqual([0, 1, 0, 1, 0, 2, 0, -1, -1, 3, 1, -1, 1, -1, 2, -1]);
    expect(plan.tokensPerExpert).toEqual([8, 5, 2, 1]);
    expect(plan.expertLoad).toEqual([4, 4, 2, 1]);
    expect(plan.droppedTokenFraction).toBe(5 / 16);
    const w = combineWeights(p, plan);
    expect(w[0] + w[1]).toBeCloseTo(1, 6);
    expect(w[0]).toBeCloseTo(0.7 / 0.8, 6);
    expect(w[8]).toBe(0);
    expect(w[9]).toBeCloseTo(0.25 / 0.8, 6); // renormalised over the original top-2, even when one is dropped
  });

  it('recycle never gives a token the same expert twice', () => {
    for (let s = 0; s < 50; s++) {
      const plan = routeTokens(probs8x4(), 8, 4, { topK: 2, capacity: 4, overflowPolicy: 'recycle', rng: createRng(s) });
      for (let t = 0; t < 8; t++) {
        const [a, b] = [plan.assigned[2 * t], plan.assigned[2 * t + 1]];
        if (a >= 0 && b >= 0) expect(a).not.toBe(b);
      }
      expect(plan.expertLoad.every((l) => l <= 4)).toBe(true);
      expect(plan.droppedTokenFraction + plan.recycledTokenFraction).toBe(5 / 16);
      // 5 free slots (2 on e2, 3 on e3) for 5 overflows; only a clash with a held expert can keep one dropped
      expect(plan.recycledTokenFraction).toBeGreaterThanOrEqual(3 / 16);
    }
  });
});

describe('dispatch layout', () => {
  it('groups rows by expert in token order, with the probability index of each row', () => {
    const plan = routeTokens(probs8x4(), 8, 4, { topK: 1, capacity: 2, overflowPolicy: 'recycle', rng: createRng(7) });
    const d = buildDispatch(plan);
    expect(d.numRows).toBe(8);
    expect(d.expertCounts).toEqual([2, 2, 2, 2]);
    const byExpert = [0, 1, 2, 3].map((e) => Array.from(d.rowToken.slice(e * 2, e * 2 + 2)));
    expect(byExpert[0]).toEqual([0, 1]);
    expect(byExpert[1]).toEqual([5, 6]);
    for (let r = 0; r < d.numRows; r++) expect(d.gateIndex[r]).toBe(d.rowToken[r] * 4 + plan.assigned[d.rowToken[r]]);
    const mask = assignmentMask(plan);
    expect(mask.reduce((s, v) => s + v, 0)).toBe(8);
    expect(choiceMask(plan).filter((_, i) => i % 4 === 0).every((v, t) => v === (t < 5 ? 1 : 0))).toBe(true);
  });

  it('dropped assignments get no row', () => {
    const plan = routeTokens(probs8x4(), 8, 4, { topK: 1, capacity: 2, overflowPolicy: 'drop' });
    const d = buildDispatch(plan);
    expect(d.numRows).toBe(5);
    expect(Array.from(d.rowToken)).toEqual([0, 1, 5, 6, 7]);
  });
});
