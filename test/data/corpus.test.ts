import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DOCUMENT_SEPARATOR, loadCorpus, loadDefaultCorpus, stripBrownTags } from '../../src/data/corpus.ts';

describe('stripBrownTags', () => {
  it('keeps words, turns `` and \'\' into quotes, attaches punctuation', () => {
    const raw = "\n\n\tThe/at jury/nn said/vbd ``/`` no/at evidence/nn ''/'' ,/, it's/pps+bez 1/2/cd (/( see/vb )/) ./.\n\n\tNext/ap one/cd ./.\n";
    expect(stripBrownTags(raw)).toBe('The jury said "no evidence", it\'s 1/2 (see). Next one.');
  });
});

describe('default corpus', () => {
  it('holds the State of the Union addresses and the Brown corpus, tags stripped, in a fixed order', () => {
    const a = loadDefaultCorpus();
    // 233 State of the Union addresses (1790–2016) + 500 Brown documents.
    expect(a.documents.length).toBe(733);
    expect(a.text).toContain('Fellow-Citizens of the Senate and House of Representatives');
    expect(a.text).toContain('The Fulton County Grand Jury said Friday');
    expect(a.text).not.toMatch(/\w\/(at|nn|vbd|in)\b/);
    expect(Buffer.byteLength(a.text)).toBeGreaterThan(15_000_000);
    // The validation split is the end of the stream: both sources appear among the last documents.
    const tail = a.documents.slice(-40).join(' ');
    expect(tail).toMatch(/Congress/);
    const b = loadDefaultCorpus();
    expect(b.hash).toBe(a.hash);
    expect(b.documents[0]).toBe(a.documents[0]);
  });
});

describe('user corpus', () => {
  const dir = mkdtempSync(join(tmpdir(), 'moelab-corpus-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'one.txt'), 'hello world');
  mkdirSync(join(dir, 'folder', 'sub'), { recursive: true });
  writeFileSync(join(dir, 'folder', 'b.txt'), 'second');
  writeFileSync(join(dir, 'folder', 'sub', 'a.txt'), 'third');
  writeFileSync(join(dir, 'folder', 'notes.md'), 'ignored');
  writeFileSync(join(dir, 'docs.jsonl'), '{"text": "first doc"}\n\n{"text": "second doc", "id": 2}\n');
  writeFileSync(join(dir, 'bad.jsonl'), '{"text": "ok"}\n{"body": "no text"}\n');

  it('reads a .txt file as one document', () => {
    const c = loadCorpus('one.txt', dir);
    expect(c.documents).toEqual(['hello world']);
    expect(c.source).toBe(join(dir, 'one.txt'));
  });

  it('reads a folder of .txt recursively, sorted by path, ignoring other files', () => {
    const c = loadCorpus(join(dir, 'folder'));
    expect(c.documents).toEqual(['second', 'third']);
    expect(c.text).toBe(`second${DOCUMENT_SEPARATOR}third`);
  });

  it('reads JSONL `text` fields', () => {
    expect(loadCorpus(join(dir, 'docs.jsonl')).documents).toEqual(['first doc', 'second doc']);
  });

  it('names the field, the line and the fix for a JSONL line without text', () => {
    expect(() => loadCorpus(join(dir, 'bad.jsonl'))).toThrow(/data\.corpus: line 2 has no string field "text".*bad\.jsonl:2.*string field `text`/);
  });

  it('names the field and the accepted forms for a missing path', () => {
    expect(() => loadCorpus('nope.txt', dir)).toThrow(/data\.corpus: no such file or folder .*"nope\.txt".*Give "default", a \.txt file/);
  });
});
