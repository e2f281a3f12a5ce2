import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataConfigSchema } from '../../src/config/schema.ts';
import { prepareDataset } from '../../src/data/dataset.ts';

describe('prepareDataset', () => {
  const dir = mkdtempSync(join(tmpdir(), 'moelab-dataset-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const cacheDir = join(dir, 'cache');
  const corpus = join(dir, 'corpus.txt');
  writeFileSync(corpus, 'the cat sat on the mat. the dog sat on the log. '.repeat(200));

  it('encodes bytes and caches the token stream by content hash', () => {
    const data = DataConfigSchema.parse({ corpus });
    const first = prepareDataset(data, { cacheDir });
    expect(first.cache).toBe('miss');
    expect(first.tokens.length).toBe(48 * 200);
    expect(first.tokenizer.decode(first.tokens.subarray(0, 7))).toBe('the cat');
    const second = prepareDataset(data, { cacheDir });
    expect(second.cache).toBe('tokens');
    expect(Array.from(second.tokens)).toEqual(Array.from(first.tokens));
    // A changed corpus is a new key, never a stale hit.
    writeFileSync(join(dir, 'other.txt'), 'something else entirely');
    expect(prepareDataset(DataConfigSchema.parse({ corpus: join(dir, 'other.txt') }), { cacheDir }).cache).toBe('miss');
  });

  it('trains a BPE once, then reuses it; a saved tokenizer takes precedence', () => {
    const data = DataConfigSchema.parse({ corpus, tokenizer: { kind: 'bpe', vocabSize: 300 } });
    const first = prepareDataset(data, { cacheDir });
    expect(first.cache).toBe('miss');
    expect(first.tokens.length).toBeLessThan(48 * 200 / 2);
    expect(first.tokenizer.decode(first.tokens)).toBe('the cat sat on the mat. the dog sat on the log. '.repeat(200));
    expect(prepareDataset(data, { cacheDir }).cache).toBe('tokens');
    for (const f of readdirSync(cacheDir)) if (f.startsWith('tokens-')) rmSync(join(cacheDir, f));
    const third = prepareDataset(data, { cacheDir });
    expect(third.cache).toBe('tokenizer');
    expect(third.tokenizer.id).toBe(first.tokenizer.id);
    const resumed = prepareDataset(data, { cacheDir, tokenizer: first.tokenizer.toJSON() });
    expect(Array.from(resumed.tokens)).toEqual(Array.from(first.tokens));
  });
});
