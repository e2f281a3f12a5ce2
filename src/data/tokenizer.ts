// Tokenizers behind one interface: byte-level (vocab 256, the default) and a small byte-level BPE
// trained on the corpus (vocab sized for tiny models, e.g. 512–4096) and saved as JSON with the run.
//
// Why our own BPE: no maintained pure-JS package *trains* BPE (gpt-tokenizer and
// @huggingface/tokenizers only load published vocabularies, far too large for 10⁴–10⁷-parameter
// models; the HF trainer is a native Rust binding). The algorithm is the classic one (Sennrich et
// al. 2016, applied to UTF-8 bytes as in GPT-2): split text into word-like chunks, then repeatedly
// merge the most frequent adjacent pair of symbols. Token ids: 0–255 are bytes, 256 + i is merge i.
import { createHash } from 'node:crypto';

export type TokenizerJson =
  | { kind: 'byte'; vocabSize: 256 }
  | {
      kind: 'bpe';
      vocabSize: number;
      /** Pre-tokenisation regex source (flags `gu`); merges never cross chunk boundaries. */
      pattern: string;
      /** Merge i joins the pair [left, right] into token 256 + i, in training order. */
      merges: [number, number][];
    };

export interface Tokenizer {
  readonly kind: 'byte' | 'bpe';
  /** Size of the id space the model must embed (ids are < vocabSize). */
  readonly vocabSize: number;
  /** Stable fingerprint of the vocabulary (cache key for encoded corpora). */
  readonly id: string;
  encode(text: string): Uint16Array;
  decode(ids: ArrayLike<number>): string;
  toJSON(): TokenizerJson;
}

const BYTE_VOCAB = 256;
const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8');

// ---------------------------------------------------------------------------------------------
// Byte-level

export function createByteTokenizer(): Tokenizer {
  return {
    kind: 'byte',
    vocabSize: BYTE_VOCAB,
    id: 'byte',
    encode: (text) => Uint16Array.from(utf8.encode(text)),
    decode: (ids) => utf8Decoder.decode(Uint8Array.from(ids as ArrayLike<number>)),
    toJSON: () => ({ kind: 'byte', vocabSize: BYTE_VOCAB }),
  };
}

// ---------------------------------------------------------------------------------------------
// BPE

/**
 * GPT-2-style chunks: English contractions, letters with an optional leading space, digits,
 * punctuation runs, and whitespace (a run of spaces before a word leaves its last space to it).
 */
export const BPE_PATTERN = String.raw`'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`;

/** Pair (left, right) as one number; ids are < 65536. */
const pairKey = (a: number, b: number) => a * 65536 + b;

function countChunks(text: string, pattern: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of text.matchAll(new RegExp(pattern, 'gu'))) {
    const chunk = m[0];
    counts.set(chunk, (counts.get(chunk) ?? 0) + 1);
  }
  return counts;
}

/** Max-heap of (count, pair) with ties broken by the smaller pair key (deterministic merges). */
class PairHeap {
  private counts: number[] = [];
  private keys: number[] = [];
  get size() {
    return this.counts.length;
  }
  private above(i: number, j: number) {
    return this.counts[i] > this.counts[j] || (this.counts[i] === this.counts[j] && this.keys[i] < this.keys[j]);
  }
  private swap(i: number, j: number) {
    [this.counts[i], this.counts[j]] = [this.counts[j], this.counts[i]];
    [this.keys[i], this.keys[j]] = [this.keys[j], this.keys[i]];
  }
  push(count: number, key: number) {
    this.counts.push(count);
    this.keys.push(key);
    let i = this.counts.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.above(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }
  pop(): [number, number] {
    const top: [number, number] = [this.counts[0], this.keys[0]];
    const last = this.counts.length - 1;
    this.swap(0, last);
    this.counts.pop();
    this.keys.pop();
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let best = i;
      if (l < this.counts.length && this.above(l, best)) best = l;
      if (r < this.counts.length && this.above(r, best)) best = r;
      if (best === i) break;
      this.swap(i, best);
      i = best;
    }
    return top;
  }
}

export interface TrainBpeOptions {
  /** Stop early when the best pair occurs fewer times than this (default 2). */
  minPairCount?: number;
  pattern?: string;
}

/**
 * Train a byte-level BPE with `vocabSize − 256` merges on `text`. Deterministic: ties between
 * equally frequent pairs go to the smaller (left, right) ids. Stops early (leaving ids unused)
 * when no pair occurs `minPairCount` times.
 */
export function trainBpe(text: string, vocabSize: number, options: TrainBpeOptions = {}): Tokenizer {
  const pattern = options.pattern ?? BPE_PATTERN;
  const minPairCount = options.minPairCount ?? 2;
  const chunkCounts = countChunks(text, pattern);

  // Unique chunks as mutable symbol arrays with their frequencies.
  const words: number[][] = [];
  const freqs: number[] = [];
  for (const [chunk, count] of chunkCounts) {
    words.push(Array.from(utf8.encode(chunk)));
    freqs.push(count);
  }

  const pairCounts = new Map<number, number>();
  /** Words that contained a pair at some point (may be stale; checked when used). */
  const pairWords = new Map<number, number[]>();
  const addPairs = (w: number, sign: 1 | -1, delta: Map<number, number>) => {
    const word = words[w];
    for (let i = 0; i + 1 < word.length; i++) {
      const key = pairKey(word[i], word[i + 1]);
      delta.set(key, (delta.get(key) ?? 0) + sign * freqs[w]);
      if (sign > 0) {
        const list = pairWords.get(key);
        if (list === undefined) pairWords.set(key, [w]);
        else if (list[list.length - 1] !== w) list.push(w);
      }
    }
  };
  const heap = new PairHeap();
  const applyDelta = (delta: Map<number, number>) => {
    for (const [key, d] of delta) {
      if (d === 0) continue;
      const c = (pairCounts.get(key) ?? 0) + d;
      if (c > 0) {
        pairCounts.set(key, c);
        heap.push(c, key);
      } else pairCounts.delete(key);
    }
  };
  const initial = new Map<number, number>();
  for (let w = 0; w < words.length; w++) addPairs(w, 1, initial);
  applyDelta(initial);

  const merges: [number, number][] = [];
  while (BYTE_VOCAB + merges.length < vocabSize && heap.size > 0) {
    const [count, key] = heap.pop();
    if (pairCounts.get(key) !== count) continue; // stale heap entry
    if (count < minPairCount) break;
    const a = Math.floor(key / 65536);
    const b = key % 65536;
    const id = BYTE_VOCAB + merges.length;
    merges.push([a, b]);
    const delta = new Map<number, number>();
    const seen = new Set<number>();
    for (const w of pairWords.get(key) ?? []) {
      if (seen.has(w)) continue;
      seen.add(w);
      const word = words[w];
      let has = false;
      for (let i = 0; i + 1 < word.length; i++) {
        if (word[i] === a && word[i + 1] === b) {
          has = true;
          break;
        }
      }
      if (!has) continue;
      addPairs(w, -1, delta);
      const merged: number[] = [];
      for (let i = 0; i < word.length; i++) {
        if (i + 1 < word.length && word[i] === a && word[i + 1] === b) {
          merged.push(id);
          i++;
        } else merged.push(word[i]);
      }
      words[w] = merged;
      addPairs(w, 1, delta);
    }
    pairWords.delete(key);
    applyDelta(delta);
  }
  return bpeFromMerges(vocabSize, pattern, merges);
}

function bpeFromMerges(vocabSize: number, pattern: string, merges: [number, number][]): Tokenizer {
  const ranks = new Map<number, number>();
  merges.forEach(([a, b], i) => ranks.set(pairKey(a, b), i));
  // Bytes of every token, for decoding.
  const tokenBytes: Uint8Array[] = [];
  for (let i = 0; i < BYTE_VOCAB; i++) tokenBytes.push(Uint8Array.of(i));
  for (const [a, b] of merges) {
    const bytes = new Uint8Array(tokenBytes[a].length + tokenBytes[b].length);
    bytes.set(tokenBytes[a]);
    bytes.set(tokenBytes[b], tokenBytes[a].length);
    tokenBytes.push(bytes);
  }
  const cache = new Map<string, number[]>();

  /** Apply merges to one chunk in rank order (lowest rank first, all its occurrences). */
  const encodeChunk = (chunk: string): number[] => {
    const hit = cache.get(chunk);
    if (hit) return hit;
    let symbols = Array.from(utf8.encode(chunk));
    for (;;) {
      let bestRank = Infinity;
      for (let i = 0; i + 1 < symbols.length; i++) {
        const r = ranks.get(pairKey(symbols[i], symbols[i + 1]));
        if (r !== undefined && r < bestRank) bestRank = r;
      }
      if (bestRank === Infinity) break;
      const [a, b] = merges[bestRank];
      const next: number[] = [];
      for (let i = 0; i < symbols.length; i++) {
        if (i + 1 < symbols.length && symbols[i] === a && symbols[i + 1] === b) {
          next.push(BYTE_VOCAB + bestRank);
          i++;
        } else next.push(symbols[i]);
      }
      symbols = next;
    }
    if (cache.size < 1_000_000) cache.set(chunk, symbols);
    return symbols;
  };

  const json: TokenizerJson = { kind: 'bpe', vocabSize, pattern, merges };
  const id = `bpe${vocabSize}-${createHash('sha256').update(JSON.stringify(json)).digest('hex').slice(0, 16)}`;
  return {
    kind: 'bpe',
    vocabSize,
    id,
    encode(text) {
      let out = new Uint16Array(Math.max(16, text.length));
      let n = 0;
      for (const m of text.matchAll(new RegExp(pattern, 'gu'))) {
        const ids = encodeChunk(m[0]);
        if (n + ids.length > out.length) {
          const grown = new Uint16Array(Math.max(out.length * 2, n + ids.length));
          grown.set(out);
          out = grown;
        }
        for (const t of ids) out[n++] = t;
      }
      return out.slice(0, n);
    },
    decode(ids) {
      const parts: Uint8Array[] = [];
      let len = 0;
      for (let i = 0; i < ids.length; i++) {
        const bytes = tokenBytes[ids[i]];
        if (bytes === undefined) throw new RangeError(`token id ${ids[i]} is outside this BPE vocabulary (${tokenBytes.length} tokens)`);
        parts.push(bytes);
        len += bytes.length;
      }
      const all = new Uint8Array(len);
      let off = 0;
      for (const p of parts) {
        all.set(p, off);
        off += p.length;
      }
      return utf8Decoder.decode(all);
    },
    toJSON: () => json,
  };
}

/** Rebuild a tokenizer saved with `toJSON()` (e.g. a run folder's tokenizer.json). */
export function tokenizerFromJson(json: TokenizerJson): Tokenizer {
  if (json.kind === 'byte') return createByteTokenizer();
  return bpeFromMerges(json.vocabSize, json.pattern, json.merges);
}
