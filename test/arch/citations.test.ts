// Comments cite what a reader can open: files inside the repository (docs/references.md#anchor,
// docs/architecture.md#anchor) or papers by arXiv id and section, never design notes outside the
// repository or issue numbers. scripts/sweep-citations.py rewrites such citations mechanically.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Anchors of a markdown file: its headings, lower-cased, spaces to dashes (GitHub's rule for simple headings). */
function anchorsOf(path: string): Set<string> {
  const text = readFileSync(join(ROOT, path), 'utf8');
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => m[1].trim().toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-')));
}

const OUTSIDE = /\b(PAPER|METHODS|STYLE|STACK)\.md\b|\bissues? #\d+|\(#\d+\)/;

describe('citations in src/ and test/', () => {
  it('name no file outside the repository and no issue number', () => {
    const bad = [...files(join(ROOT, 'src')), ...files(join(ROOT, 'test'))]
      .filter((f) => !f.endsWith('citations.test.ts'))
      .flatMap((f) => readFileSync(f, 'utf8').split('\n').flatMap((line, i) => (OUTSIDE.test(line) ? [`${relative(ROOT, f)}:${i + 1}: ${line.trim()}`] : [])));
    expect(bad).toEqual([]);
  });

  it('point at anchors that exist', () => {
    const anchors = { 'docs/references.md': anchorsOf('docs/references.md'), 'docs/architecture.md': anchorsOf('docs/architecture.md') };
    const missing: string[] = [];
    for (const f of files(join(ROOT, 'src'))) {
      for (const m of readFileSync(f, 'utf8').matchAll(/(docs\/(?:references|architecture)\.md)#([a-z0-9-]+)/g)) {
        if (!anchors[m[1] as keyof typeof anchors].has(m[2])) missing.push(`${relative(ROOT, f)}: ${m[0]}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('the rule catches what it should', () => {
    expect(OUTSIDE.test('// see PAPER.md §3.2')).toBe(true);
    expect(OUTSIDE.test('// (issue #10)')).toBe(true);
    expect(OUTSIDE.test('// docs/references.md#expert-lr; arXiv 2405.14578 §3.2')).toBe(false);
  });
});
