// `moelab train` refuses before writing anything: a config too large for the memory limit (the
// attack: --set model.dFf=100000000 wrote config.json, tokenizer.json and .lock, then grew for
// minutes ignoring SIGTERM), and a SIGTERM while the model is being built ends the process at once.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/util/provenance.ts';

const BIN = join(PROJECT_ROOT, 'bin', 'moelab.js');
const root = mkdtempSync(join(tmpdir(), 'moelab-preflight-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const TINY = {
  seed: 1,
  model: { vocabSize: 256, seqLen: 32, dModel: 32, numLayers: 2, numHeads: 2, dFf: 64, numExperts: 4, numSharedExperts: 1, topK: 1 },
  data: { valTokens: 8192 },
  train: { tokens: 10 * 4 * 32, batchSize: 4, lr: 0.01, evalEvery: 5, evalBatches: 2, checkpointEvery: 5, logEvery: 5 },
};
const cfg = join(root, 'tiny.json');
writeFileSync(cfg, JSON.stringify(TINY));

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  stdout: string;
}

function train(args: string[], env: NodeJS.ProcessEnv = {}, watch?: (child: ReturnType<typeof spawn>, stderr: string) => void): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'train', '--config', cfg, ...args], { cwd: root, env: { ...process.env, MOELAB_BACKEND: 'wasm', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      watch?.(child, stderr);
    });
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

describe('moelab train: pre-flight memory check', () => {
  it('refuses --set model.dFf=100000000 naming the field, writes nothing, and a corrected config then trains in the same --out', async () => {
    const out = join(root, 'huge');
    const r = await train(['--out', out, '--set', 'model.dFf=100000000']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/ConfigError: model\.dFf: the run would need about [\d.]+ TiB of memory .*more than this machine's memory/);
    expect(existsSync(out)).toBe(false);
    const ok = await train(['--out', out, '--quiet']);
    expect(ok.code, ok.stderr).toBe(0);
  }, 60_000);

  it('refuses numExperts and numLayers of 1e6 the same way, and honours --max-memory and MOELAB_MAX_MEMORY', async () => {
    const experts = await train(['--out', join(root, 'e'), '--set', 'model.numExperts=1000000']);
    expect(experts.stderr).toMatch(/ConfigError: model\.numExperts: the run would need/);
    const layers = await train(['--out', join(root, 'l'), '--set', 'model.numLayers=1000000']);
    expect(layers.stderr).toMatch(/ConfigError: model\.numLayers.*: the run would need/);
    const capped = await train(['--out', join(root, 'c'), '--max-memory', '100M']);
    expect(capped.code).toBe(1);
    expect(capped.stderr).toMatch(/more than the memory limit 100M \(100 MiB\)/);
    const env = await train(['--out', join(root, 'c')], { MOELAB_MAX_MEMORY: 'lots' });
    expect(env.stderr).toMatch(/MOELAB_MAX_MEMORY: not a memory size \(got "lots"\)/);
    for (const d of ['e', 'l', 'c']) expect(existsSync(join(root, d))).toBe(false);
  }, 60_000);

  it('a SIGTERM while the model is being built ends the process at once', async () => {
    // dFf 50000: 48M parameters, passes the check, and takes many seconds to initialise.
    const out = join(root, 'slow-build');
    let sentAt = 0;
    const r = await train(['--out', out, '--set', 'model.dFf=50000', '--set', 'train.tokens=512'], {}, (child, stderr) => {
      if (!sentAt && /moelab: backend/.test(stderr)) {
        sentAt = Date.now();
        setTimeout(() => child.kill('SIGTERM'), 500);
      }
    });
    const exitMs = Date.now() - sentAt - 500;
    expect(r.signal).toBe('SIGTERM');
    expect(exitMs).toBeLessThan(5_000);
    expect(existsSync(join(out, 'summary.json'))).toBe(false);
    expect(existsSync(join(out, 'checkpoint'))).toBe(false);
  }, 120_000);
});
