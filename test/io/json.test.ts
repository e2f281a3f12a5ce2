// The one JSON reader: named file, line and column, BOM accepted, schema mismatches named.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, CorruptFileError } from '../../src/errors.ts';
import { lineColumn, parseJsonText, readJsonFile, readJsonFileIfExists } from '../../src/io/json.ts';
import { readJson, readJsonl } from '../../src/io/atomic.ts';
import { PlanFileSchema } from '../../src/config/plan-schema.ts';

const dir = mkdtempSync(join(tmpdir(), 'moelab-json-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe('lineColumn', () => {
  it('counts lines and columns from 1', () => {
    expect(lineColumn('ab\ncd\nef', 0)).toEqual({ line: 1, column: 1 });
    expect(lineColumn('ab\ncd\nef', 4)).toEqual({ line: 2, column: 2 });
    expect(lineColumn('ab\ncd\nef', 6)).toEqual({ line: 3, column: 1 });
  });
});

describe('readJsonFile', () => {
  it('reads JSON, with or without a UTF-8 byte-order mark', () => {
    expect(readJsonFile(file('a.json', '{"x": 1}'))).toEqual({ x: 1 });
    expect(readJsonFile(file('bom.json', '\uFEFF{"x": [1, 2]}'))).toEqual({ x: [1, 2] });
    expect(parseJsonText('\uFEFF3', 'flag')).toBe(3);
  });

  it('names a truncated file with line and column and the fix (the attack: summary.json cut at 50 bytes)', () => {
    const summary = JSON.stringify({ runId: 'q-50k-C1e14-s0', status: 'done', steps: 100, finalValLoss: 2.69 }, null, 2);
    const p = file('summary.json', summary.slice(0, 50));
    expect(() => readJsonFile(p)).toThrow(CorruptFileError);
    expect(() => readJsonFile(p)).toThrow(new RegExp(`^${p.replace(/[.]/g, '\\.')}: not valid JSON at line 3, column \\d+.*restore it from a backup, or delete it`));
    // The shim for older callers goes through the same reader.
    expect(() => readJson(p)).toThrow(/summary\.json: not valid JSON at line 3/);
  });

  it('places a syntax error in the middle of a file', () => {
    const p = file('mid.json', '{\n  "a": 1,\n  "b": tru\n}\n');
    expect(() => readJsonFile(p)).toThrow(/mid\.json: not valid JSON at line 3, column \d+/);
  });

  it('calls an empty file empty, a missing one missing (ConfigError), and a folder a folder', () => {
    expect(() => readJsonFile(file('empty.json', ''))).toThrow(/empty\.json: is empty/);
    expect(() => readJsonFile(join(dir, 'nope.json'))).toThrow(ConfigError);
    expect(readJsonFileIfExists(join(dir, 'nope.json'))).toBeUndefined();
    expect(() => readJsonFile(dir)).toThrow(/is a folder/);
  });

  it('checks the shape against a schema and names the bad fields', () => {
    const p = file('shape.json', '{"n": "five"}');
    expect(() => readJsonFile(p, { schema: z.object({ n: z.number() }), fix: 'Write n as a number' })).toThrow(
      /shape\.json: does not have the expected shape: n: .*\(got "five"\).*Write n as a number/,
    );
  });

  it('refuses plan.json files of the wrong shape with the field named (the attack: {"runs": 5})', () => {
    expect(() => readJsonFile(file('plan.json', '{"sweep": "q", "kind": "grid", "runs": 5}'), { schema: PlanFileSchema })).toThrow(
      /plan\.json: does not have the expected shape: runs: /,
    );
    const run = { runId: '../../escaped_run', index: 0, config: {}, derived: { steps: 1, tokens: 1, computeFlops: 1, tokensPerStep: 1 } };
    expect(() => readJsonFile(file('plan2.json', JSON.stringify({ sweep: 'q', kind: 'grid', runs: [run] })), { schema: PlanFileSchema })).toThrow(
      /runs\[0\]\.runId: run id contains "\/"/,
    );
    const ok = { ...run, runId: 'q-1k-D1k-s0' };
    expect(() => readJsonFile(file('plan3.json', JSON.stringify({ sweep: 'q', kind: 'grid', runs: [ok, { ...ok, index: 0 }] })), { schema: PlanFileSchema })).toThrow(
      /runs\[1\]\.index: is 0 at position 1.*runs\[1\]\.runId: appears twice/,
    );
  });
});

describe('readJsonl', () => {
  it('ignores a torn last line but names a damaged middle line', () => {
    expect(readJsonl(file('ok.jsonl', '{"a":1}\n{"a":2}\n{"a":'))).toEqual([{ a: 1 }, { a: 2 }]);
    expect(() => readJsonl(file('bad.jsonl', '{"a":1}\n{"a":\n{"a":3}\n'))).toThrow(/bad\.jsonl: line 2 is not valid JSON/);
  });
});

describe('syntaxErrorOffset', () => {
  it('finds the first bad character, or the end for text cut short', async () => {
    const { syntaxErrorOffset } = await import('../../src/io/json.ts');
    expect(syntaxErrorOffset('{"a": tru}')).toBe(9);
    expect(syntaxErrorOffset('{"a": 1,}')).toBe(8);
    expect(syntaxErrorOffset('[1, 2')).toBe(5);
    expect(syntaxErrorOffset('{"a": "x\u0001"}')).toBe(8);
    expect(syntaxErrorOffset('{"a": 01}')).toBe(7);
    expect(syntaxErrorOffset('{"a": 1} x')).toBe(9);
    expect(syntaxErrorOffset('{"a": [1, {"b": null}], "c": -1.5e3, "d": "\\u00e9\\n"}')).toBe(53); // valid: nothing wrong before the end
  });
});
