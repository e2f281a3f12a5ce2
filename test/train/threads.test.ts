// Results and the OpenBLAS thread count. OpenBLAS sums a product's inner dimension in a different
// order with 1 and 2 threads when that dimension is between one and two of its K blocks (here the
// 1000 tokens of a batch in the weight-gradient products), so the same config trained with 1 and 2
// threads ends a few ulps apart. moelab therefore records the engine settings in config.json,
// refuses to resume a run under different ones (naming both values), and runs every sweep worker
// with one thread whatever --workers says, so a sweep's numbers never depend on its worker count.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadNativeAddon } from '../../src/engine/native-matmul.ts';
import type { RunConfigRecord, RunSummary } from '../../src/io/results.ts';
import { engineDifferences } from '../../src/train/loop.ts';
import { runSweep } from '../../src/sweep/runner.ts';
import { parseSweep } from '../../src/sweep/load.ts';
import { expandSweep } from '../../src/sweep/plan.ts';
import { writePlanFiles } from '../../src/sweep/state.ts';
import { PROJECT_ROOT, provenance } from '../../src/util/provenance.ts';

const BIN = join(PROJECT_ROOT, 'bin', 'moelab.js');
const root = mkdtempSync(join(tmpdir(), 'moelab-threads-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const read = <T>(path: string) => JSON.parse(readFileSync(path, 'utf8')) as T;
const native = loadNativeAddon().addon !== undefined;

const MODEL = { vocabSize: 256, seqLen: 125, dModel: 32, numLayers: 2, numHeads: 2, dFf: 64, numExperts: 4, numSharedExperts: 1, topK: 1, capacityFactor: 1, overflowPolicy: 'recycle', claShareFactor: 2 };
const TRAIN = { batchSize: 8, lr: 0.01, schedule: { kind: 'wsd', warmupSteps: 3, cooldownFraction: 0.3 }, evalEvery: 10, evalBatches: 2, checkpointEvery: 2, logEvery: 2 };
const config = (steps: number) => ({ seed: 1, model: MODEL, data: { valTokens: 8192 }, train: { ...TRAIN, tokens: steps * 8 * 125 } });

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function train(args: string[], blasThreads: number, watch?: (child: ReturnType<typeof spawn>) => void): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'train', ...args], {
      cwd: root,
      env: { ...process.env, MOELAB_BACKEND: 'wasm', MOELAB_BLAS_THREADS: String(blasThreads), NO_COLOR: '1' },
    });
    let stdout = '';
    let stderr = '';
    const timer = watch ? setInterval(() => watch(child), 20) : undefined;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => {
      clearInterval(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('engineDifferences', () => {
  const engine = { backend: 'wasm', threads: 1, simd: true, nativeMatmul: true, blasThreads: 1 };
  it('lists the settings that changed, and nothing for an old record without them', () => {
    expect(engineDifferences(engine, { ...engine, blasThreads: 2 })).toEqual([{ field: 'blasThreads', saved: 1, current: 2 }]);
    expect(engineDifferences(engine, { ...engine, backend: 'cpu', nativeMatmul: false, blasThreads: 0 }).map((d) => d.field)).toEqual(['backend', 'nativeMatmul', 'blasThreads']);
    expect(engineDifferences(engine, engine)).toEqual([]);
    expect(engineDifferences(undefined, engine)).toEqual([]);
  });

  it('the fused kernels (C, JavaScript, off) count; a record from before they were recorded does not', () => {
    const withFused = { ...engine, fusedKernels: 'native' as const };
    expect(engineDifferences(withFused, { ...withFused, fusedKernels: 'js' })).toEqual([{ field: 'fusedKernels', saved: 'native', current: 'js' }]);
    expect(engineDifferences(engine, withFused)).toEqual([]);
  });
});

describe.skipIf(!native)('BLAS thread count (native matmul built)', () => {
  it('records the count; a run interrupted with 1 thread refuses to resume with 2 and resumes with 1 exactly', async () => {
    const cfg = join(root, 'k1000.json');
    writeFileSync(cfg, JSON.stringify(config(24)));
    const ref = await train(['--config', cfg, '--out', join(root, 'ref1')], 1);
    expect(ref.code, ref.stderr).toBe(0);
    const two = await train(['--config', cfg, '--out', join(root, 'ref2'), '--quiet'], 2);
    expect(two.code, two.stderr).toBe(0);
    expect(read<RunConfigRecord>(join(root, 'ref1', 'config.json')).engine).toMatchObject({ backend: 'wasm', nativeMatmul: true, blasThreads: 1, fusedKernels: 'native' });
    expect(read<RunConfigRecord>(join(root, 'ref2', 'config.json')).engine).toMatchObject({ blasThreads: 2 });
    const loss1 = read<RunSummary>(join(root, 'ref1', 'summary.json')).finalValLoss;
    const loss2 = read<RunSummary>(join(root, 'ref2', 'summary.json')).finalValLoss;
    // The two counts may round differently (they do with OpenBLAS 0.3.21 here): both are recorded.
    expect(Math.abs(loss1 - loss2)).toBeLessThan(1e-3);

    // Interrupt a 1-thread run once it has checkpointed (SIGTERM: checkpoint, exit 130).
    const out = join(root, 'resumed');
    let sent = false;
    const first = await train(['--config', cfg, '--out', out, '--quiet'], 1, (child) => {
      if (!sent && existsSync(join(out, 'checkpoint', 'latest.json'))) {
        sent = true;
        child.kill('SIGTERM');
      }
    });
    expect(first.code, first.stderr).toBe(130);
    const refused = await train(['--config', cfg, '--out', out], 2);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/started with blasThreads 1 and would resume with blasThreads 2.*Resume with MOELAB_BLAS_THREADS=1/s);
    expect(existsSync(join(out, 'summary.json'))).toBe(false);
    const resumed = await train(['--config', cfg, '--out', out, '--quiet'], 1);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(read<RunSummary>(join(out, 'summary.json')).finalValLoss).toBe(loss1);
  }, 180_000);

  it('a sweep gives the same numbers with --workers 1 and --workers 2', async () => {
    const def = parseSweep(
      { name: 'thr', kind: 'lr-batch', lrs: [0.01, 0.02], batchSizes: [8], base: { model: MODEL, data: { valTokens: 8192 }, train: { ...TRAIN, tokens: 8 * 8 * 125 } } },
      'test',
    );
    const { plan, problems } = expandSweep(def, { buildModel: () => ({}) as never, provenance: provenance() });
    expect(problems.filter((p) => p.level === 'error')).toEqual([]);
    const losses: Record<string, number[]> = {};
    for (const workers of [1, 2]) {
      const dir = join(root, `sweep-w${workers}`);
      writePlanFiles(dir, plan, { sweep: def.name, source: 'test', definition: def, provenance: provenance() });
      const env: NodeJS.ProcessEnv = { ...process.env, MOELAB_BACKEND: 'wasm' };
      delete env.MOELAB_BLAS_THREADS;
      const outcome = await runSweep({ sweepDir: dir, workers, env, pollMs: 200 });
      expect(outcome.done.length, JSON.stringify(outcome)).toBe(2);
      losses[workers] = plan.runs.map((r) => read<RunSummary>(join(dir, 'runs', r.runId, 'summary.json')).finalValLoss);
      for (const r of plan.runs) expect(read<RunConfigRecord>(join(dir, 'runs', r.runId, 'config.json')).engine?.blasThreads).toBe(1);
    }
    expect(losses[1]).toEqual(losses[2]);
  }, 180_000);
});
