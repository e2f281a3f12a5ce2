// The analysis path hands typed data from room to room: run records (src/io/load.ts, src/io/tags.ts)
// → fit requests and fit records (src/fit) → analysis (src/analysis) → study and report. A double
// cast (`as unknown as T`) there would let a renamed field break the analysis without a type error,
// so this test fails on one. (Engine code talking to untyped addons and the CSV parser keeps its
// casts: those sit outside the analysis path.)
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const ANALYSIS_PATH = ['src/analysis', 'src/fit', 'src/report', 'src/study', 'src/io/load.ts', 'src/io/tags.ts'];
const DOUBLE_CAST = /\bas\s+unknown\s+as\b/;

function files(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path).flatMap((name) => {
    const p = join(path, name);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('the analysis path', () => {
  it('has no `as unknown as` cast', () => {
    const found = ANALYSIS_PATH.flatMap((p) => files(join(ROOT, p))).flatMap((f) =>
      readFileSync(f, 'utf8')
        .split('\n')
        .flatMap((line, i) => (DOUBLE_CAST.test(line) ? [`${relative(ROOT, f)}:${i + 1}: ${line.trim()}`] : [])),
    );
    expect(found).toEqual([]);
  });

  it('the check sees a double cast when there is one', () => {
    expect(DOUBLE_CAST.test('const x = y as unknown as Z;')).toBe(true);
    expect(DOUBLE_CAST.test('const x = y as unknown;')).toBe(false);
    expect(files(join(ROOT, 'src/analysis')).length).toBeGreaterThan(3);
  });
});
