// Corpus + tokenizer → the token stream of a run, with an on-disk cache so a sweep of many runs
// tokenizes (and trains its BPE) once. Cache entries are keyed by the corpus's content hash and
// the tokenizer's fingerprint, so a changed corpus or vocabulary never reads a stale entry.
//
//   <cacheDir>/bpe-<corpusHash16>-<vocabSize>.json       trained BPE (deterministic given both)
//   <cacheDir>/tokens-<corpusHash16>-<tokenizerId>.u16   encoded corpus, little-endian uint16
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DataConfig } from '../config/schema.ts';
import { readJson, writeFileAtomic, writeJsonAtomic } from '../io/atomic.ts';
import { PROJECT_ROOT } from '../util/provenance.ts';
import { DOCUMENT_SEPARATOR, loadCorpus } from './corpus.ts';
import { documentStartsFrom } from './validation.ts';
import { createByteTokenizer, tokenizerFromJson, trainBpe, type Tokenizer, type TokenizerJson } from './tokenizer.ts';

/** Default cache folder (env MOELAB_CACHE_DIR overrides). */
export function defaultCacheDir(): string {
  return process.env.MOELAB_CACHE_DIR || join(PROJECT_ROOT, 'node_modules', '.cache', 'moelab');
}

export interface Dataset {
  tokenizer: Tokenizer;
  /** The whole corpus as token ids, in corpus order. */
  tokens: Uint16Array;
  corpusSource: string;
  corpusHash: string;
  documents: number;
  /**
   * Token offsets where the documents covering the validation split (the last data.valTokens
   * tokens) start, ascending: the clusters of the validation loss's standard error.
   */
  valDocumentStarts: number[];
  /** Seconds spent loading, training the tokenizer and tokenizing (0-ish on a cache hit). */
  prepareSeconds: number;
  /** What came from the cache: nothing, the BPE, or the encoded tokens. */
  cache: 'miss' | 'tokenizer' | 'tokens';
}

export interface PrepareOptions {
  /** A tokenizer saved with the run (resume): used instead of training/choosing one. */
  tokenizer?: TokenizerJson;
  cacheDir?: string;
  /** Folder that relative corpus paths resolve against. */
  baseDir?: string;
}

function readTokens(path: string): Uint16Array {
  const buf = readFileSync(path);
  // Copy into an aligned buffer (the file buffer may sit at an odd offset in Node's pool).
  const out = new Uint16Array(buf.byteLength / 2);
  new Uint8Array(out.buffer).set(buf);
  return out;
}

export function prepareDataset(data: DataConfig, options: PrepareOptions = {}): Dataset {
  const t0 = performance.now();
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  const corpus = loadCorpus(data.corpus, options.baseDir);
  const corpusKey = corpus.hash.slice(0, 16);
  let cache: Dataset['cache'] = 'miss';

  let tokenizer: Tokenizer;
  if (options.tokenizer) {
    tokenizer = tokenizerFromJson(options.tokenizer);
  } else if (data.tokenizer.kind === 'byte') {
    tokenizer = createByteTokenizer();
  } else {
    const bpePath = join(cacheDir, `bpe-${corpusKey}-${data.tokenizer.vocabSize}.json`);
    if (existsSync(bpePath)) {
      tokenizer = tokenizerFromJson(readJson<TokenizerJson>(bpePath));
      cache = 'tokenizer';
    } else {
      tokenizer = trainBpe(corpus.text, data.tokenizer.vocabSize);
      writeJsonAtomic(bpePath, tokenizer.toJSON());
    }
  }

  const tokensPath = join(cacheDir, `tokens-${corpusKey}-${tokenizer.id}.u16`);
  let tokens: Uint16Array;
  if (existsSync(tokensPath)) {
    tokens = readTokens(tokensPath);
    cache = 'tokens';
  } else {
    tokens = tokenizer.encode(corpus.text);
    writeFileAtomic(tokensPath, new Uint8Array(tokens.buffer, tokens.byteOffset, tokens.byteLength));
  }
  // Document boundaries of the held-out end: byte lengths are exact; BPE encodes those documents
  // alone (a boundary may be off by a token where merges differ at a document's edge).
  const lengthOf =
    tokenizer.kind === 'byte'
      ? (d: number) => Buffer.byteLength(corpus.documents[d], 'utf8')
      : (d: number) => tokenizer.encode(corpus.documents[d]).length;
  const separatorTokens =
    tokenizer.kind === 'byte'
      ? Buffer.byteLength(DOCUMENT_SEPARATOR, 'utf8')
      : tokenizer.encode(`a${DOCUMENT_SEPARATOR}a`).length - 2 * tokenizer.encode('a').length;
  const valDocumentStarts = documentStartsFrom(
    corpus.documents.length,
    lengthOf,
    separatorTokens,
    tokens.length,
    Math.max(0, tokens.length - data.valTokens),
  );
  return {
    tokenizer,
    tokens,
    corpusSource: corpus.source,
    corpusHash: corpus.hash,
    documents: corpus.documents.length,
    valDocumentStarts,
    prepareSeconds: (performance.now() - t0) / 1000,
    cache,
  };
}
