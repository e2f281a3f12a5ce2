import { describe, expect, it } from 'vitest';
import { createByteTokenizer, trainBpe } from '../../src/data/tokenizer.ts';
import {
  bitsPerByte,
  clusteredMean,
  documentStartsFrom,
  evenSubset,
  resolveValWindows,
  tokenByteLengths,
  validationWindowStarts,
  windowDocuments,
} from '../../src/data/validation.ts';
import { createRng } from '../../src/util/rng.ts';

describe('validation windows', () => {
  it('are evenly spaced over the whole held-out split, never overlapping', () => {
    // split [9801, 10001): 10 windows of 8 tokens every ⌊199/10⌋ = 19 tokens
    const s = validationWindowStarts(9801, 200, 8, 10);
    expect(Array.from(s)).toEqual([9801, 9820, 9839, 9858, 9877, 9896, 9915, 9934, 9953, 9972]);
    expect(s[9] + 8).toBeLessThan(10001); // the last window's target stays inside the stream
    // as many as fit: stride = seqLen
    const full = validationWindowStarts(9801, 200, 8, 24);
    expect(full[1] - full[0]).toBe(8);
    expect(full[23] + 8).toBe(9993);
  });

  it('refuse a set that does not fit, naming data.valWindows, the value and the fix', () => {
    expect(() => validationWindowStarts(0, 200, 8, 25)).toThrow(
      /^data\.valWindows: 25 windows of 8 tokens do not fit in the validation split of 200 tokens \(got 25\)\. Use data\.valWindows <= 24, or raise data\.valTokens to >= 201\.$/,
    );
  });

  it('default to the most that fit, at most 1024', () => {
    expect(resolveValWindows(200, 8, undefined)).toBe(24);
    expect(resolveValWindows(1 << 20, 64, undefined)).toBe(1024);
    expect(resolveValWindows(1 << 20, 64, 4096)).toBe(4096);
  });

  it('an even subset spreads over the set and is the whole set when large enough', () => {
    expect(Array.from(evenSubset(10, 4))).toEqual([0, 2, 5, 7]);
    expect(Array.from(evenSubset(3, 8))).toEqual([0, 1, 2]);
  });
});

describe('documents of the held-out split', () => {
  // documents of 5, 3 and 4 tokens joined by 2-token separators: starts 0, 7, 12; 16 tokens
  const lengths = [5, 3, 4];
  it('walks back from the end to the document holding the split start', () => {
    expect(documentStartsFrom(3, (d) => lengths[d], 2, 16, 10)).toEqual([7, 12]);
    expect(documentStartsFrom(3, (d) => lengths[d], 2, 16, 12)).toEqual([12]);
    expect(documentStartsFrom(3, (d) => lengths[d], 2, 16, 0)).toEqual([0, 7, 12]);
  });

  it('labels each window with the document its first token is in', () => {
    expect(Array.from(windowDocuments([7, 9, 11, 12, 15], [7, 12]))).toEqual([0, 0, 0, 1, 1]);
  });

  it('match the byte-level stream of real documents exactly', () => {
    const docs = ['héllo wörld', 'a', 'third document ✓'];
    const text = docs.join('\n\n');
    const tokens = createByteTokenizer().encode(text);
    const starts = documentStartsFrom(3, (d) => Buffer.byteLength(docs[d], 'utf8'), 2, tokens.length, 0);
    expect(starts.map((s) => tokens[s])).toEqual(docs.map((d) => Buffer.from(d, 'utf8')[0]));
    expect(Buffer.from(tokens.slice(starts[2])).toString('utf8')).toBe(docs[2]);
  });
});

describe('set loss and its standard errors (hand-worked)', () => {
  it('mean, s/√n over windows and the document-clustered error', () => {
    // losses 1, 2 | 3, 6: mean 3; residuals −2, −1 | 0, 3
    // windows: s² = 14/3, SE = √(14/3 / 4) = √(7/6)
    // documents: cluster sums −3, 3; SE = √(2/1 · 18) / 4 = 1.5
    const r = clusteredMean([1, 2, 3, 6], [0, 0, 1, 1]);
    expect(r.mean).toBe(3);
    expect(r.stderr).toBeCloseTo(Math.sqrt(7 / 6), 12);
    expect(r.stderrDocuments).toBeCloseTo(1.5, 12);
    expect(r.clusters).toBe(2);
    // one window per document: √(n/(n−1) · Σr²)/n = √(Σr²/(n−1)/n), the window error
    const single = clusteredMean([1, 2, 3, 6], [0, 1, 2, 3]);
    expect(single.stderrDocuments).toBeCloseTo(single.stderr, 12);
    // one document: no clustered error
    expect(clusteredMean([1, 2], [5, 5]).stderrDocuments).toBeNaN();
  });

  it('s/√n covers the mean of a known population at the nominal rate', () => {
    // windows drawn from N(2, 0.4²): |mean − 2| < 1.96 SE in ≈ 95% of 400 sets of 256 windows
    const rng = createRng(11);
    let covered = 0;
    for (let rep = 0; rep < 400; rep++) {
      const x = Array.from({ length: 256 }, () => 2 + 0.4 * rng.normal());
      const r = clusteredMean(x, new Int32Array(256));
      if (Math.abs(r.mean - 2) < 1.96 * r.stderr) covered++;
    }
    expect(covered / 400).toBeGreaterThan(0.91);
    expect(covered / 400).toBeLessThan(0.99);
  });

  it('documents as clusters see a shared document effect that s/√n misses', () => {
    // 40 documents with effects N(0, 0.1²), 16 windows each with noise N(0, 0.4²): the error of the
    // mean against the population mean is √(0.1²/40 + 0.4²/640) ≈ 0.0224
    const rng = createRng(5);
    const devs: number[] = [];
    let seD = 0;
    let seW = 0;
    for (let rep = 0; rep < 300; rep++) {
      const x: number[] = [];
      const g: number[] = [];
      for (let d = 0; d < 40; d++) {
        const effect = 0.1 * rng.normal();
        for (let w = 0; w < 16; w++) {
          x.push(2 + effect + 0.4 * rng.normal());
          g.push(d);
        }
      }
      const r = clusteredMean(x, g);
      devs.push(r.mean - 2);
      seD += r.stderrDocuments / 300;
      seW += r.stderr / 300;
    }
    const rms = Math.sqrt(devs.reduce((a, d) => a + d * d, 0) / devs.length);
    expect(rms).toBeGreaterThan(0.019);
    expect(rms).toBeLessThan(0.026);
    expect(seD / rms).toBeGreaterThan(0.85);
    expect(seD / rms).toBeLessThan(1.15);
    expect(seW).toBeLessThan(0.8 * rms);
  });
});

describe('bits per byte', () => {
  it('counts the bytes each BPE token stands for', () => {
    // 256 = "h"+"i" (2 bytes), 257 = 256 + "!" (3), 258 = 257 + 257 (6)
    const lengths = tokenByteLengths(259, [[104, 105], [256, 33], [257, 257]]);
    expect(lengths[65]).toBe(1);
    expect(Array.from(lengths.slice(256))).toEqual([2, 3, 6]);
  });

  it('agrees with the decoded text of a trained BPE', () => {
    const text = 'the cat sat on the mat; the cat ate the rat. '.repeat(20);
    const bpe = trainBpe(text, 300);
    const json = bpe.toJSON();
    if (json.kind !== 'bpe') throw new Error('expected a BPE');
    const lengths = tokenByteLengths(json.vocabSize, json.merges);
    const ids = bpe.encode(text);
    expect(ids.length).toBeLessThan(text.length / 2);
    expect(Array.from(ids).reduce((a, id) => a + lengths[id], 0)).toBe(Buffer.byteLength(text, 'utf8'));
  });

  it('is nats / (ln 2 · bytes): byte-level loss ln 256 is 8 bits per byte', () => {
    expect(bitsPerByte(100 * Math.log(256), 100)).toBeCloseTo(8, 12);
    expect(bitsPerByte(Math.LN2 * 30, 10)).toBeCloseTo(3, 12);
  });
});
