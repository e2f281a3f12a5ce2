// The Hunyuan-like config builder: sizes within tolerance of the target, the paper's ratios.
import { describe, expect, it } from 'vitest';
import { resolveModelConfig } from '../../src/config/resolve.ts';
import { ModelConfigSchema } from '../../src/config/schema.ts';
import { parseConfig } from '../../src/config/validate.ts';
import { ConfigError } from '../../src/errors.ts';
import { buildHunyuanLike, sizeHunyuanLike } from '../../src/model/builder.ts';
import { countParams } from '../../src/model/count.ts';

describe('buildHunyuanLike', () => {
  for (const target of [3e5, 1e6, 1e7, 1e8, 1e9]) {
    it(`activated ${target.toExponential(0)} (vocab 256): within 5%, valid, Hunyuan ratios`, () => {
      const user = buildHunyuanLike({ activatedParams: target });
      const c = resolveModelConfig(parseConfig(ModelConfigSchema, user, 'builder'));
      const n = countParams(c).activatedParams;
      expect(Math.abs(n - target) / target).toBeLessThanOrEqual(0.05);
      expect(c.numExperts).toBe(16);
      expect(c.numSharedExperts).toBe(1);
      expect(c.topK).toBe(1);
      expect(Math.abs(c.dFf - 2.86 * c.dModel)).toBeLessThanOrEqual(8); // rounded to a multiple of 16
      expect(c.numHeads % c.numKvHeads).toBe(0);
      expect(c.numKvHeads).toBeLessThanOrEqual(Math.max(1, Math.ceil(c.numHeads / 5)));
      expect(c.qkNorm).toBe(true);
      expect(c.claShareFactor).toBe(Math.min(2, c.numLayers));
      expect(c.headDim).toBeGreaterThanOrEqual(16);
      expect(c.headDim).toBeLessThanOrEqual(128);
    });
  }

  it('grows depth and width together (dModel / numLayers near 64 across two decades)', () => {
    const shapes = [1e7, 1e8, 1e9].map((N) => buildHunyuanLike({ activatedParams: N }));
    for (const s of shapes) {
      const aspect = s.dModel / s.numLayers;
      expect(aspect).toBeGreaterThan(32);
      expect(aspect).toBeLessThan(128);
    }
    expect(shapes[2].numLayers).toBeGreaterThan(shapes[0].numLayers);
    expect(shapes[2].dModel).toBeGreaterThan(shapes[0].dModel);
  });

  it('sizes other parameter kinds and passes other fields through', () => {
    const r = sizeHunyuanLike({
      activatedParams: 5e6,
      paramKind: 'activatedNonEmbeddingParams',
      vocabSize: 4096,
      seqLen: 512,
      numExperts: 8,
      topK: 2,
      overrides: { overflowPolicy: 'drop', capacityFactor: 1.25, auxLossCoef: 0.001 },
    });
    const c = resolveModelConfig(parseConfig(ModelConfigSchema, r.config, 'builder'));
    expect(countParams(c).activatedNonEmbeddingParams).toBe(r.params);
    expect(Math.abs(r.relError)).toBeLessThanOrEqual(0.05);
    expect(c).toMatchObject({ vocabSize: 4096, seqLen: 512, numExperts: 8, topK: 2, overflowPolicy: 'drop', capacityFactor: 1.25, auxLossCoef: 0.001 });
  });

  it('a fixed head width also reaches the one model narrower than a head (tiny families)', () => {
    const family = { seqLen: 64, aspectRatio: 16, headDim: 8, claShareFactor: 2 };
    // d4 L1: one 4-wide head; the 256 × 4 byte embedding is 1,024 of its 1,556 activated parameters.
    const small = sizeHunyuanLike({ ...family, activatedParams: 1556 });
    expect(small.params).toBe(1556);
    expect(small.config).toMatchObject({ dModel: 4, numLayers: 1, numHeads: 1, headDim: 4 });
    // Widths of one head and more keep the fixed head width (d8 L1, d16 L1 as before).
    expect(sizeHunyuanLike({ ...family, activatedParams: 3240 }).config).toMatchObject({ dModel: 8, numHeads: 1, headDim: 8 });
    expect(sizeHunyuanLike({ ...family, activatedParams: 9792 }).config).toMatchObject({ dModel: 16, numHeads: 2, headDim: 8 });
    // headDim 32 (widths step by 16): the sub-head model is d16 with a single 16-wide head.
    const wide = sizeHunyuanLike({ seqLen: 64, headDim: 32, activatedParams: 1, tolerance: 1e9 });
    expect(wide.config).toMatchObject({ dModel: 16, numLayers: 1, numHeads: 1, headDim: 16 });
  });

  it('refuses an unreachable target with the closest size', () => {
    expect(() => buildHunyuanLike({ activatedParams: 1000 })).toThrow(ConfigError);
    expect(() => buildHunyuanLike({ activatedParams: 1000 })).toThrow(/activatedParams: no Hunyuan-like shape .* within 5% .*closest: \d+/);
    expect(() => buildHunyuanLike({ activatedParams: -1 })).toThrow(/positive parameter count/);
  });
});
