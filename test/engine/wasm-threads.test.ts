// The threaded wasm binary in Node (src/engine/wasm-threads.ts). Each case runs in its own process:
// enabling threads re-registers the process-wide `wasm` backend.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
// Inside the repo (so imports resolve), in the git-ignored scratch/ folder.
mkdirSync(join(root, 'scratch'), { recursive: true });
const dir = mkdtempSync(join(root, 'scratch', 'threads-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs a TypeScript module in a fresh process (tsx); returns its stdout. */
function runScript(body: string, env: Record<string, string> = {}): string {
  const file = join(dir, `case-${Math.random().toString(36).slice(2)}.mts`);
  writeFileSync(file, body);
  return execFileSync(process.execPath, ['--import', 'tsx', file], {
    cwd: root,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 90_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

const engine = JSON.stringify(join(root, 'src', 'engine', 'backend.ts'));

describe('wasm threads', () => {
  it('starts the threaded binary with 2 XNNPACK threads, computes correctly and lets the process exit', () => {
    const out = runScript(`
      import * as tf from '@tensorflow/tfjs';
      import { initEngine } from ${engine};
      const info = await initEngine({ backend: 'wasm', threads: 2, log: () => {} });
      const shared = (tf.backend() as any).wasm.HEAPU8.buffer instanceof SharedArrayBuffer;
      // [[1,2],[3,4]]·[[5,6],[7,8]] = [[19,22],[43,50]]; a big elementwise op exercises the pool.
      const mm = Array.from(tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5, 6], [7, 8]])).dataSync());
      const big = tf.add(tf.ones([512, 512]), tf.ones([512, 512])).sum().dataSync()[0];
      console.log(JSON.stringify({ threads: info.threads, shared, mm, big }));
    `);
    const r = JSON.parse(out.trim().split('\n').pop()!);
    expect(r).toEqual({ threads: 2, shared: true, mm: [19, 22, 43, 50], big: 2 * 512 * 512 });
  });

  it('gives the same training-step loss as the single-threaded binary', () => {
    const script = `
      import { initEngine } from ${engine};
      import { createStepRunner } from ${JSON.stringify(join(root, 'src', 'engine', 'bench.ts'))};
      await initEngine({ backend: 'wasm', threads: Number(process.env.T), log: () => {} });
      const runner = createStepRunner(3);
      console.log(JSON.stringify([runner.step(), runner.step()]));
      runner.dispose();
    `;
    const one = JSON.parse(runScript(script, { T: '1' }).trim().split('\n').pop()!);
    const two = JSON.parse(runScript(script, { T: '2' }).trim().split('\n').pop()!);
    expect(two[0]).toBeCloseTo(one[0], 5);
    expect(two[1]).toBeCloseTo(one[1], 5);
  });
});
