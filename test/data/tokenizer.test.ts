import { describe, expect, it } from 'vitest';
import { createByteTokenizer, tokenizerFromJson, trainBpe } from '../../src/data/tokenizer.ts';

const SAMPLE = 'naïve café — 東京 🚀\nThe quick brown fox jumps over the lazy dog. It\'s 2024!';

describe('byte tokenizer', () => {
  it('encodes UTF-8 bytes and decodes them back', () => {
    const tok = createByteTokenizer();
    expect(Array.from(tok.encode('aé'))).toEqual([97, 195, 169]);
    expect(tok.decode(tok.encode(SAMPLE))).toBe(SAMPLE);
    expect(tok.vocabSize).toBe(256);
  });
});

describe('BPE', () => {
  it('learns the textbook merges of "aaabdaaabac" (ties to the smaller pair)', () => {
    // Pairs: aa ×4 → Z; then ab and Za tie at 2 → ab (97,98) < (256,97) → Y; then ZY ×2 → X;
    // every remaining pair occurs once, below minPairCount 2.
    const tok = trainBpe('aaabdaaabac', 300);
    const json = tok.toJSON();
    expect(json.kind === 'bpe' && json.merges).toEqual([
      [97, 97],
      [97, 98],
      [256, 257],
    ]);
    expect(Array.from(tok.encode('aaabdaaabac'))).toEqual([258, 100, 258, 97, 99]);
    expect(tok.decode([258])).toBe('aaab');
  });

  it('round-trips any text, also through its JSON, and is deterministic', () => {
    const text = SAMPLE.repeat(20) + ' the theme of the thesis is the other thing';
    const tok = trainBpe(text, 320);
    const again = trainBpe(text, 320);
    expect(again.id).toBe(tok.id);
    const ids = tok.encode(SAMPLE);
    expect(ids.length).toBeLessThan(Buffer.byteLength(SAMPLE));
    expect(tok.decode(ids)).toBe(SAMPLE);
    const loaded = tokenizerFromJson(JSON.parse(JSON.stringify(tok.toJSON())));
    expect(Array.from(loaded.encode(SAMPLE))).toEqual(Array.from(ids));
    expect(loaded.decode(ids)).toBe(SAMPLE);
    // Ids never reach vocabSize, and unseen characters fall back to bytes.
    expect(Math.max(...tok.encode('zzz ∑ unseen'))).toBeLessThan(320);
    expect(tok.decode(tok.encode('zzz ∑ unseen'))).toBe('zzz ∑ unseen');
  });

  it('merges within chunks only (a space starts a new word chunk)', () => {
    const tok = trainBpe('ab ab ab ab', 300);
    const json = tok.toJSON();
    // " a" + "b" etc. — but never the pair ("b", " ") across chunks.
    expect(json.kind === 'bpe' && json.merges.some(([, r]) => r === 32)).toBe(false);
  });
});
