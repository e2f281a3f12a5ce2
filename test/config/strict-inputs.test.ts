// Inputs that were accepted silently or blamed on the wrong field: Adam betas of 1, a seqLen longer
// than the corpus (blamed on data.valTokens before).
import { describe, expect, it } from 'vitest';
import { OptimizerSchema } from '../../src/config/schema.ts';
import { parseConfig } from '../../src/config/validate.ts';
import { createTokenStream } from '../../src/data/stream.ts';

describe('Adam betas', () => {
  it('accepts [0, 1) and refuses 1 and above, naming each field', () => {
    expect(parseConfig(OptimizerSchema, { beta1: 0, beta2: 0.999 }, 'test')).toMatchObject({ beta1: 0, beta2: 0.999 });
    expect(() => parseConfig(OptimizerSchema, { beta1: 1, beta2: 1 }, 'test')).toThrow(
      /2 problems[\s\S]*beta1: must be below 1 \(at 1 the moment estimate never updates.*\(got 1\)[\s\S]*beta2: must be below 1/,
    );
    expect(() => parseConfig(OptimizerSchema, { beta2: 1.5 }, 'test')).toThrow(/beta2: must be below 1/);
    expect(() => parseConfig(OptimizerSchema, { beta1: -0.1 }, 'test')).toThrow(/beta1/);
  });
});

describe('seqLen against the corpus', () => {
  const tokens = new Uint16Array(3600); // a 3.6 KB corpus, byte tokens
  it('a seqLen the corpus cannot hold is blamed on model.seqLen with the largest that fits', () => {
    expect(() => createTokenStream(tokens, { seqLen: 4000, batchSize: 1, valTokens: 200, seed: 0 })).toThrow(
      /^model\.seqLen: the corpus has only 3600 tokens, fewer than one training and one validation window .*\(got 4000\)\. Use model\.seqLen <= 1799/,
    );
    expect(() => createTokenStream(tokens, { seqLen: 1799, batchSize: 1, valTokens: 1800, seed: 0 })).not.toThrow();
  });
  it('a valTokens that leaves no training data is still blamed on data.valTokens', () => {
    expect(() => createTokenStream(tokens, { seqLen: 8, batchSize: 1, valTokens: 3595, seed: 0 })).toThrow(/^data\.valTokens: the validation split leaves no training data/);
  });
});
