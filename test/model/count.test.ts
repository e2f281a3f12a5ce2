// Golden values for the accounting (pure; no TF.js): Hunyuan-Large's released config (docs/references.md#configuration,
// §6.2), a GPT-2-small-shaped dense model (nanoGPT's check), DeepSeek's M formula (docs/references.md#deepseek)
// and hand-computed small cases.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { resolveModelConfig, type ResolvedModelConfig } from '../../src/config/resolve.ts';
import { ModelConfigSchema, type UserModelConfig } from '../../src/config/schema.ts';
import { parseConfig } from '../../src/config/validate.ts';
import { DataError } from '../../src/errors.ts';
import {
  accountModel,
  computeFlopsPerToken,
  countParams,
  fitComputeCoefficients,
  flopBreakdown,
  flopsPerToken,
  kvCacheBytesPerToken,
  kvCacheTable,
  trainingFlops,
} from '../../src/model/count.ts';
import { sizeHunyuanLike } from '../../src/model/builder.ts';

const resolve = (c: UserModelConfig): ResolvedModelConfig => resolveModelConfig(parseConfig(ModelConfigSchema, c, 'test'));
const hunyuan = resolve(JSON.parse(readFileSync(new URL('../../experiments/configs/hunyuan-large.json', import.meta.url), 'utf8')));

describe('parameter counts', () => {
  it('Hunyuan-Large counts to 388.7B total / 51.3B activated / 50.5B activated non-embedding (docs/references.md#configuration)', () => {
    const p = countParams(hunyuan);
    expect(p.totalParams / 1e9).toBeCloseTo(388.7, 1);
    expect(p.activatedParams / 1e9).toBeCloseTo(51.32, 2);
    expect(p.activatedNonEmbeddingParams / 1e9).toBeCloseTo(50.5, 1);
    expect(p.embedding / 1e9).toBeCloseTo(0.82, 2);
    expect(p.attention / 1e9).toBeCloseTo(5.5, 1);
    // FFN 382.4B total / 45.0B activated (shared + 1 of 16 per layer)
    expect((p.sharedExperts + p.specializedExperts) / 1e9).toBeCloseTo(382.4, 1);
    expect((p.sharedExperts + p.perExpert * hunyuan.numLayers) / 1e9).toBeCloseTo(45.0, 1);
    // Exact, by hand: embedding 128512·6400; attention 64·2·6400² + 32·2·6400·640; 64·17 experts of
    // 3·6400·18304; router 64·6400·16; norms 64·2·6400 + 6400 + 64·2·80.
    expect(p.totalParams).toBe(
      128512 * 6400 + 64 * 2 * 6400 * 6400 + 32 * 2 * 6400 * 640 + 64 * 17 * 3 * 6400 * 18304 + 64 * 6400 * 16 + 64 * 2 * 6400 + 6400 + 64 * 2 * 80,
    );
  });

  it('an untied output head counts the embedding twice (389.5B / 52.1B, the "A52B" headline)', () => {
    const p = countParams({ ...hunyuan, tieEmbeddings: false });
    expect(p.totalParams / 1e9).toBeCloseTo(389.5, 1);
    expect(p.activatedParams / 1e9).toBeCloseTo(52.1, 1);
    expect(p.activatedNonEmbeddingParams).toBe(countParams(hunyuan).activatedNonEmbeddingParams);
  });

  it('a GPT-2-small-shaped dense config counts ≈124M', () => {
    // 12 layers, d 768, 12 heads, vocab 50257, tied; SwiGLU dFf 2048 has GPT-2's 2·768·3072 MLP weights.
    const gpt2 = resolve({ vocabSize: 50257, seqLen: 1024, dModel: 768, numLayers: 12, numHeads: 12, dFf: 2048 });
    const p = countParams(gpt2);
    expect(p.totalParams).toBe(50257 * 768 + 12 * (4 * 768 * 768 + 3 * 768 * 2048 + 2 * 768) + 768);
    expect(p.totalParams / 1e6).toBeCloseTo(124, 0); // GPT-2: 124.4M incl. 0.8M learned positions and biases
    expect(p.nonEmbeddingParams / 1e6).toBeCloseTo(85.0, 1);
    expect(p.activatedParams).toBe(p.totalParams);
  });

  it('honours GQA, CLA, QK-norm and top-k in hand-computed small cases', () => {
    const c = resolve({
      vocabSize: 10, dModel: 8, numLayers: 3, numHeads: 4, numKvHeads: 2, dFf: 6, numExperts: 4, numSharedExperts: 2,
      sharedDFf: 5, topK: 2, claShareFactor: 2, qkNorm: true, tieEmbeddings: false,
    });
    const p = countParams(c);
    const dh = 2;
    expect(p.embedding).toBe(2 * 10 * 8);
    expect(p.attention).toBe(3 * 2 * 8 * 8 + 2 * 2 * 8 * 2 * dh); // K/V in layers 0 and 2 only
    expect(p.norms).toBe(3 * 2 * 8 + 8 + 3 * 2 * dh);
    expect(p.router).toBe(3 * 8 * 4);
    expect(p.sharedExperts).toBe(3 * 3 * 8 * 10);
    expect(p.specializedExperts).toBe(3 * 4 * 3 * 8 * 6);
    expect(p.activatedParams).toBe(p.totalParams - 3 * 2 * 3 * 8 * 6);
  });

  it('shared experts without specialized experts are refused by the schema', () => {
    expect(() => resolve({ dModel: 8, numLayers: 1, numHeads: 2, dFf: 8, numSharedExperts: 1 })).toThrow(
      /numSharedExperts: numSharedExperts \(1\) needs specialized experts, but numExperts is 0/,
    );
  });

  it('numExperts 1 without shared experts is the dense model', () => {
    const base = { vocabSize: 16, dModel: 8, numLayers: 2, numHeads: 2, dFf: 12 };
    expect(countParams(resolve({ ...base, numExperts: 1 }))).toEqual(countParams(resolve(base)));
  });
});

describe('FLOPs per token', () => {
  it("reduces to DeepSeek's M = 72·l·d² + 12·l·d·T for a dense MHA model without output layer, non-causal", () => {
    // SwiGLU with dFf = 8d/3 has the 8d² FFN weights of a 4d GELU MLP.
    const c = resolve({ vocabSize: 100, seqLen: 512, dModel: 96, numLayers: 4, numHeads: 4, dFf: 256 });
    const M = 72 * 4 * 96 ** 2 + 12 * 4 * 96 * 512;
    expect(flopsPerToken(c, { causal: false, countLmHead: false })).toBe(M);
  });

  it('counts causal attention over (T+1)/2 positions, the router, experts and the output layer', () => {
    const c = resolve({ vocabSize: 10, seqLen: 7, dModel: 8, numLayers: 2, numHeads: 2, numKvHeads: 1, dFf: 6, numExperts: 4, numSharedExperts: 1, topK: 2, claShareFactor: 2 });
    const f = flopBreakdown(c).forward;
    expect(f.attentionProjections).toBe(2 * (2 * 2 * 8 * 8 + 1 * 2 * 8 * 4)); // q,o every layer; k,v in layer 0
    expect(f.attentionScores).toBe(2 * 2 * 2 * 8 * 4); // 2 layers · (QK + PV) · h·dh · (7+1)/2
    expect(f.router).toBe(2 * 2 * 8 * 4);
    expect(f.ffn).toBe(2 * 2 * (1 + 2) * 3 * 8 * 6); // shared + top-2, 3 matmuls each
    expect(f.lmHead).toBe(2 * 8 * 10);
    expect(flopsPerToken(c)).toBe(3 * f.total);
    expect(flopsPerToken(c, { countRouter: false })).toBe(3 * (f.total - f.router));
    expect(flopsPerToken(c, { seqLen: 15 })).toBe(3 * (f.total + f.attentionScores)); // (15+1)/2 = 2·(7+1)/2
  });

  it('names the compute formulas 6ND, 9.59·N·D + 2.3e8·D and exact', () => {
    const c = resolve({ vocabSize: 256, dModel: 64, numLayers: 2, numHeads: 4, dFf: 128, numExperts: 4, numSharedExperts: 1 });
    const N = countParams(c).activatedParams;
    expect(trainingFlops(c, 1000, '6ND')).toBe(6 * N * 1000);
    expect(trainingFlops(c, 1000, 'hunyuan')).toBeCloseTo(9.59 * N * 1000 + 2.3e8 * 1000, 0);
    expect(trainingFlops(c, 1000)).toBe(flopsPerToken(c) * 1000);
    expect(computeFlopsPerToken(c, '6ND', { paramKind: 'activatedNonEmbeddingParams' })).toBe(6 * countParams(c).activatedNonEmbeddingParams);
  });

  it('Hunyuan-Large at 8K: exact is within 7% of 6N, and 9.59N + 2.3e8 is 1.5× exact', () => {
    const a = accountModel(hunyuan, { seqLen: 8192 });
    expect(a.flopsPerToken / a.flopsPerTokenByFormula['6ND']).toBeGreaterThan(1);
    expect(a.flopsPerToken / a.flopsPerTokenByFormula['6ND']).toBeLessThan(1.07);
    expect(a.flopsPerTokenByFormula.hunyuan / a.flopsPerToken).toBeCloseTo(1.5, 1);
  });
});

describe('fitComputeCoefficients', () => {
  it('recovers a = 6 exactly on a family that differs only in FFN width', () => {
    const family = [64, 128, 256, 512].map((dFf) => resolve({ vocabSize: 256, seqLen: 128, dModel: 64, numLayers: 2, numHeads: 4, dFf }));
    const fit = fitComputeCoefficients(family, 128);
    // flops = 6·(N − norms) + 3·attentionScores with norms and scores fixed across the family
    const norms = countParams(family[0]).norms;
    const scores = flopBreakdown(family[0], { seqLen: 128 }).forward.attentionScores;
    expect(fit.a).toBeCloseTo(6, 9);
    expect(fit.b).toBeCloseTo(3 * scores - 6 * norms, 3);
    expect(fit.maxAbsRelError).toBeLessThan(1e-12);
  });

  it('gives a slope above 6 and a positive intercept on a Hunyuan-like 10M–1B family at 8K (docs/references.md#compute-formula)', () => {
    const family = [1e7, 3e7, 1e8, 3e8, 1e9].map((N) =>
      resolve(sizeHunyuanLike({ activatedParams: N, vocabSize: 32000, seqLen: 8192 }).config),
    );
    const fit = fitComputeCoefficients(family, 8192);
    expect(fit.a).toBeGreaterThan(6);
    expect(fit.a).toBeLessThan(12);
    expect(fit.b).toBeGreaterThan(0);
    expect(fit.points).toHaveLength(5);
  });

  it('refuses a family with fewer than two sizes', () => {
    const one = resolve({ dModel: 64, numLayers: 2, numHeads: 4, dFf: 128 });
    expect(() => fitComputeCoefficients([one, one], 128)).toThrow(DataError);
    expect(() => fitComputeCoefficients([one], 128)).toThrow(/at least 2 configs with different activatedParams/);
  });
});

describe('KV cache', () => {
  it("reproduces the paper's table for Hunyuan-Large: MHA 1,638,400 B/token … GQA+CLA 81,920 (5%)", () => {
    expect(kvCacheBytesPerToken(hunyuan)).toBe(81920);
    const table = Object.fromEntries(kvCacheTable(hunyuan).map((r) => [r.variant, r.bytesPerToken]));
    expect(table).toEqual({ MHA: 1638400, GQA: 163840, MQA: 20480, CLA: 819200, 'GQA+CLA': 81920 });
    expect(kvCacheTable(hunyuan).find((r) => r.variant === 'GQA+CLA')!.fractionOfMha).toBeCloseTo(0.05, 12);
  });

  it('follows 2 · bytes · numKvHeads · headDim · ceil(layers / cla)', () => {
    const c = resolve({ dModel: 64, numLayers: 5, numHeads: 8, numKvHeads: 2, dFf: 64, claShareFactor: 2 });
    expect(kvCacheBytesPerToken(c)).toBe(2 * 2 * 2 * 8 * 3);
    expect(kvCacheBytesPerToken(c, { bytesPerElement: 4 })).toBe(2 * 4 * 2 * 8 * 3);
  });
});
