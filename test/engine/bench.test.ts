import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { median, REFERENCE_WORKLOAD, referenceModelConfig, stepMatmulShapes } from '../../src/engine/bench.ts';
import { countParams, flopsPerToken } from '../../src/model/count.ts';

describe('bench workload (pure)', () => {
  it('is the fixed reference workload', () => {
    const c = referenceModelConfig();
    expect(c).toMatchObject({ vocabSize: 256, dModel: 128, numLayers: 2, numHeads: 4, headDim: 32, seqLen: 128, numExperts: 4, topK: 1, numSharedExperts: 1, dFf: 512 });
    expect(c.capacityFactor).toBe(Infinity);
    expect(REFERENCE_WORKLOAD.batch).toBe(16);
  });

  it('counts the same parameters as bench/torch_step.py and 5.91 MFLOP per training token', () => {
    const c = referenceModelConfig();
    // By hand: embedding 256·128; per layer 2 norms, wq/wk/wv/wo 4·128², router 128·4, 5 SwiGLU experts 5·3·128·512; final norm.
    const perLayer = 2 * 128 + 4 * 128 * 128 + 128 * 4 + 5 * 3 * 128 * 512;
    expect(countParams(c).totalParams).toBe(256 * 128 + 2 * perLayer + 128);
    // 3 × forward: projections 2·2·4·128², scores 2·2·2·128·64.5, router 2·2·128·4, experts 2·2·2·3·128·512, head 2·128·256.
    const forward = 2 * 2 * 4 * 128 ** 2 + 2 * 2 * 2 * 128 * 64.5 + 2 * 2 * 128 * 4 + 2 * 2 * 2 * 3 * 128 * 512 + 2 * 128 * 256;
    expect(flopsPerToken(c)).toBe(3 * forward);
    expect(flopsPerToken(c)).toBe(5_905_920);
  });

  it('lists the step product shapes with consistent inner dimensions', () => {
    const shapes = stepMatmulShapes();
    expect(shapes.find((s) => s.role.startsWith('routed'))).toMatchObject({ m: 512, k: 128, n: 512 });
    expect(shapes.some((s) => s.transposeA) && shapes.some((s) => s.transposeB)).toBe(true);
  });

  it('median', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});

describe('moelab bench (CLI)', () => {
  it('prints JSON with tokensPerSec, the active kernels and no per-step tensor leak', () => {
    const out = execFileSync(process.execPath, ['bin/moelab.js', 'bench', '--json', '--no-fit', '--steps', '5', '--warmup', '1', '--backend', 'wasm'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const r = JSON.parse(out);
    expect(r.tokensPerSec).toBeGreaterThan(0);
    expect(r.step.stepMs).toHaveLength(5);
    expect(r.step.tensorLeakPerStep).toBe(0);
    expect(r.step.lastLoss).toBeLessThan(r.step.firstLoss + 0.1);
    expect(r.peakGflops).toBe(178);
    expect(r.kernels).toMatchObject({ backend: 'wasm', heapKernels: true });
    expect(r.matmul.shapes.length).toBeGreaterThan(3);
  }, 240_000);

  it('--config times that run config\'s model at its (or --batch-size) batch, without the reference matmul probe', () => {
    const out = execFileSync(process.execPath, ['bin/moelab.js', 'bench', '--json', '--no-fit', '--steps', '5', '--warmup', '1', '--backend', 'wasm', '--config', 'experiments/train/moe-2layer.json', '--batch-size', '2'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const r = JSON.parse(out);
    expect(r.workload).toMatchObject({ config: 'experiments/train/moe-2layer.json', batch: 2 });
    expect(r.step.batch).toBe(2);
    expect(r.step.tokensPerStep).toBe(2 * r.workload.model.seqLen);
    expect(r.step.tensorLeakPerStep).toBe(0);
    expect(r.matmul).toBeNull();
    const bad = spawnSync(process.execPath, ['bin/moelab.js', 'bench', '--batch-size', '2'], { encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/--batch-size: only applies to --config and --workload large \(got "2"\)\. Use --batch-size together with --config or --workload large\./);
  }, 240_000);

  it('rejects fewer than 5 timed steps, naming the flag', () => {
    const r = spawnSync(process.execPath, ['bin/moelab.js', 'bench', '--steps', '3'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/--steps: must be an integer ≥ 5 \(got "3"\)\. Pass an integer ≥ 5\./);
  });
});
