// A syntax error in a user's .ts file (experiment file, run config) is reported with file, line and
// column wherever the file lives (outside the project Node reported "Cannot require() ES Module …
// in a cycle" before).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.ts';
import { syntaxErrorOf } from '../../src/config/module-file.ts';
import { loadSweepFile } from '../../src/sweep/load.ts';
import { readConfigFile } from '../../src/cli/train.ts';

const dir = mkdtempSync(join(tmpdir(), 'moelab-module-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('syntax errors in user modules', () => {
  const bad = join(dir, 'bad-sweep.ts');
  writeFileSync(bad, "export default {\n  name: 'x',\n  kind: 'grid',\n  axes: { 'train.lr': [0.001 },\n};\n");

  it('syntaxErrorOf names file:line:column and shows the line', () => {
    expect(syntaxErrorOf(bad)).toBe(`${bad}:4:30: Expected "]" but found "}"\n    axes: { 'train.lr': [0.001 },`);
    const good = join(dir, 'good.ts');
    writeFileSync(good, 'export default { a: 1 as number };\n');
    expect(syntaxErrorOf(good)).toBeUndefined();
  });

  it('an experiment file outside the project: ConfigError with the place', async () => {
    const err = await loadSweepFile(bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/^FILE: syntax error at .*bad-sweep\.ts:4:30: Expected "\]" but found "\}"/);
  });

  it('a .ts run config outside the project: the same', async () => {
    const cfg = join(dir, 'bad-config.ts');
    writeFileSync(cfg, 'export default { seed: 1, model: { dModel: 32 ;\n');
    await expect(readConfigFile(cfg)).rejects.toThrow(/^--config: syntax error at .*bad-config\.ts:1:47: Expected "\}" but found ";"/);
  });

  it('a JSON experiment file with a BOM loads; a broken one is named with line and column', async () => {
    const json = join(dir, 'bom.json');
    writeFileSync(json, `\uFEFF${JSON.stringify({ name: 'bom', kind: 'lr-batch', lrs: [1e-3], batchSizes: [1] })}`);
    expect((await loadSweepFile(json)).name).toBe('bom');
    writeFileSync(json, '{"name": "bom",\n "kind": lr}');
    await expect(loadSweepFile(json)).rejects.toThrow(/bom\.json: not valid JSON at line 2, column 10.*Fix the JSON syntax of the experiment file/);
  });
});
