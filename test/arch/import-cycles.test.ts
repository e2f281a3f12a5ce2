// The import graph of src/ has no cycles: every static import and re-export (type-only ones too:
// they say which layer knows which) and every dynamic import('…') of a relative module is an edge.
// A cycle means two modules cannot be understood (or loaded) one after the other.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '../../src');

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Relative module specifiers a file imports, re-exports or imports dynamically, resolved to files. */
export function importsOf(file: string, text: string): string[] {
  const specs = new Set<string>();
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  for (const m of code.matchAll(/(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[^'"`;]*?\sfrom\s+)?['"](\.{1,2}\/[^'"]+)['"]/g)) specs.add(m[1]);
  for (const m of code.matchAll(/import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g)) specs.add(m[1]);
  return [...specs].map((s) => resolve(dirname(file), s));
}

/** Every elementary cycle reachable by depth-first search, as file lists (first file repeated at the end). */
export function findCycles(graph: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string) => {
    state.set(n, 'open');
    stack.push(n);
    for (const m of graph.get(n) ?? []) {
      if (!graph.has(m)) continue;
      if (state.get(m) === 'open') cycles.push([...stack.slice(stack.indexOf(m)), m]);
      else if (!state.has(m)) visit(m);
    }
    stack.pop();
    state.set(n, 'done');
  };
  for (const n of [...graph.keys()].sort()) if (!state.has(n)) visit(n);
  return cycles;
}

describe('import graph of src/', () => {
  it('finds a planted cycle and resolves every kind of import', () => {
    const g = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a', 'd']],
      ['d', []],
    ]);
    expect(findCycles(g)).toEqual([['a', 'b', 'c', 'a']]);
    const text = "import { x } from './x.ts';\nimport type { Y } from '../y/y.ts';\nexport * from './z.ts';\nexport { w } from './w.ts';\nconst m = await import('./dyn.ts');\n// import { no } from './comment.ts';\nimport { readFileSync } from 'node:fs';";
    expect(importsOf('/r/src/a/f.ts', text).map((p) => relative('/r/src', p)).sort()).toEqual(['a/dyn.ts', 'a/w.ts', 'a/x.ts', 'a/z.ts', 'y/y.ts']);
  });

  it('has no cycle', () => {
    const files = tsFiles(SRC);
    const graph = new Map(files.map((f) => [f, importsOf(f, readFileSync(f, 'utf8'))]));
    const cycles = findCycles(graph).map((c) => c.map((f) => relative(SRC, f)).join(' → '));
    expect(cycles).toEqual([]);
  });
});
