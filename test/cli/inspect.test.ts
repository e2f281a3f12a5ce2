// `moelab inspect`: both config kinds, the JSON fields, the text view, and errors that name the fix.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inspectConfigFile, renderInspect } from '../../src/cli/inspect.ts';
import { ConfigError, ConfigErrors } from '../../src/errors.ts';

const root = new URL('../../', import.meta.url).pathname;
const HUNYUAN = join(root, 'experiments/configs/hunyuan-large.json');
const TINY = join(root, 'experiments/configs/tiny.json');

describe('inspectConfigFile', () => {
  it('a bare model config: Hunyuan-Large counts and KV cache', async () => {
    const r = await inspectConfigFile(HUNYUAN);
    expect(r.kind).toBe('model');
    expect(r.totalParams).toBe(388698128640);
    expect(r.activatedParams).toBe(51318800640);
    expect(r.activatedNonEmbeddingParams).toBe(50496323840);
    expect(r.kvCacheBytesPerToken).toBe(81920);
    expect(r.seqLen).toBe(8192);
    expect(renderInspect(r)).toMatch(/total 388\.70B \(388,698,128,640\)[\s\S]*GQA\+CLA\s+81,920 B\/token\s+5\.0% of MHA/);
  });

  it('a run config: the model plus the training budget; --seq-len changes only the attention term', async () => {
    const r = await inspectConfigFile(TINY);
    expect(r.kind).toBe('run');
    expect(r.run).toMatchObject({ name: 'tiny', tokensPerStep: 1024, steps: 100, tokens: 102400 });
    expect(r.run!.computeFlops.exact).toBe(r.flopsPerToken * 102400);
    const long = await inspectConfigFile(TINY, { seqLen: 128 });
    expect(long.flopsPerToken - r.flopsPerToken).toBe(3 * (long.flops.forward.attentionScores - r.flops.forward.attentionScores));
    expect(long.totalParams).toBe(r.totalParams);
  });

  it('errors name the field, the value and the fix', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'moelab-inspect-'));
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ dModel: 64, numLayers: 2, numHeads: 5, dFf: 128, numExpert: 4 }));
    await expect(inspectConfigFile(bad)).rejects.toThrow(ConfigErrors);
    await expect(inspectConfigFile(bad)).rejects.toThrow(/bad\.json: 2 problems/);
    await expect(inspectConfigFile(bad)).rejects.toThrow(/numHeads: numHeads \(5\) must divide dModel \(64\) \(got 5\)\. Choose numHeads among the divisors of 64/);
    await expect(inspectConfigFile(bad)).rejects.toThrow(/numExpert: unknown key \(got 4\)/);
    writeFileSync(bad, '{"dModel": 64,}');
    await expect(inspectConfigFile(bad)).rejects.toThrow(/--config: not valid JSON/);
    await expect(inspectConfigFile(join(dir, 'missing.json'))).rejects.toThrow(ConfigError);
  });
});

describe('moelab inspect (CLI)', () => {
  it('--json prints the documented fields', () => {
    const out = execFileSync(process.execPath, [join(root, 'bin/moelab.js'), 'inspect', '--config', HUNYUAN, '--json', '--seq-len', '4096'], {
      encoding: 'utf8',
    });
    const j = JSON.parse(out);
    for (const key of ['totalParams', 'activatedParams', 'nonEmbeddingParams', 'activatedNonEmbeddingParams', 'flopsPerToken', 'kvCacheBytesPerToken']) {
      expect(typeof j[key], key).toBe('number');
    }
    expect(j.seqLen).toBe(4096);
    expect(j.model.capacityFactor).toBe(1);
  });
});
