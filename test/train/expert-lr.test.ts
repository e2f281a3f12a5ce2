import { describe, expect, it } from 'vitest';
import { RunConfigSchema } from '../../src/config/schema.ts';
import { epsOpt, expertLrMultiplier, surgeExpertLrRatio } from '../../src/train/expert-lr.ts';

describe('surge expert-LR ratio sqrt(n)(1+u)/(n+u) (docs/references.md#expert-lr table, n = 16)', () => {
  const table: [number, number][] = [
    [0.01, 0.252],
    [0.1, 0.273],
    [0.26, 0.31],
    [0.5, 0.364],
    [1, 0.471],
    [2, 0.667],
    [16, 2.125],
  ];
  for (const [u, r] of table) {
    it(`u = ${u} → ${r}`, () => expect(surgeExpertLrRatio(u, 16)).toBeCloseTo(r, 3));
  }

  it('equals ε_opt(B/n) / ε_opt(B) for any ε_max and B_noise', () => {
    for (const [B, bNoise, n] of [
      [4096, 1e5, 16],
      [1e6, 2e5, 8],
      [512, 512, 4],
    ]) {
      const direct = epsOpt(B / n, 3e-4, bNoise) / epsOpt(B, 3e-4, bNoise);
      expect(surgeExpertLrRatio(B / bNoise, n)).toBeCloseTo(direct, 12);
    }
  });

  it('tends to 1/sqrt(n) for B ≪ B_noise', () => {
    expect(surgeExpertLrRatio(1e-9, 16)).toBeCloseTo(0.25, 6);
  });
});

describe('epsOpt (docs/references.md#surge-estimation check values)', () => {
  it('is ε_max at B_noise and 0.8·ε_max at B_noise/4 and 4·B_noise', () => {
    expect(epsOpt(1000, 1e-3, 1000)).toBeCloseTo(1e-3, 15);
    expect(epsOpt(250, 1e-3, 1000)).toBeCloseTo(0.8e-3, 15);
    expect(epsOpt(4000, 1e-3, 1000)).toBeCloseTo(0.8e-3, 15);
  });
});

describe('expertLrMultiplier from a run config', () => {
  const base = {
    model: { dModel: 64, numLayers: 2, numHeads: 2, dFf: 128, numExperts: 16, numSharedExperts: 1, topK: 1, seqLen: 128 },
    train: { tokens: 1e6, batchSize: 8, lr: 1e-3 },
  };
  const parse = (expertLr: unknown, model: object = {}) =>
    RunConfigSchema.parse({ ...base, model: { ...base.model, ...model }, train: { ...base.train, expertLr } });

  it('surge: B = batchSize · seqLen tokens, n = E / k', () => {
    // B = 1024 tokens, B_noise = 1024 / 0.26 → u = 0.26, n = 16 → the paper's 0.31.
    expect(expertLrMultiplier(parse({ mode: 'surge', bNoise: 1024 / 0.26 }))).toBeCloseTo(0.30996, 5);
    // top-2 of 16: n = 8.
    expect(expertLrMultiplier(parse({ mode: 'surge', bNoise: 1024 / 0.26 }, { topK: 2 }))).toBeCloseTo(surgeExpertLrRatio(0.26, 8), 12);
  });
  it('same → 1, multiplier → itself, dense → 1', () => {
    expect(expertLrMultiplier(parse({ mode: 'same' }))).toBe(1);
    expect(expertLrMultiplier(parse({ mode: 'multiplier', multiplier: 0.5 }))).toBe(0.5);
    expect(expertLrMultiplier(parse({ mode: 'surge', bNoise: 1e5 }, { numExperts: 0, numSharedExperts: 0 }))).toBe(1);
  });
});
