// The webgpu backend on whatever Vulkan driver the machine has (Mesa's lavapipe in CI, from
// `scripts/setup.sh --gpu`, part of --all): adapter reporting, auto's refusal of a software
// adapter, training steps equal to the cpu backend (same seed: loss and gradient norm within 1e-5
// relative, for several steps so the AdamW update is checked too), buffer splitting under a small
// artificial limit, and a device error raised loudly. Skips, with the reason in the test name,
// only when no Vulkan adapter can be had at all.
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveModelConfig } from '../../src/config/resolve.ts';
import { ModelConfigSchema, type UserModelConfig } from '../../src/config/schema.ts';
import { isBackendInstalled } from '../../src/engine/backend.ts';
import { createStepRunner, largeWorkload, referenceWorkload, type Workload } from '../../src/engine/bench.ts';
import { assertDeviceHealthy, deviceErrors, isSoftwareAdapter, startWebGpu, stopWebGpu, webgpuAdapter } from '../../src/engine/webgpu.ts';
import type { Impl } from '../../src/model/mlp.ts';
import { deviceBufferLimit, setDeviceBufferLimit } from '../../src/model/device-kernels.ts';

// Start Dawn once: first as `auto` would (hardware only), then as --backend webgpu.
let unavailable: string | undefined;
let autoRefusal: string | undefined;
if (!isBackendInstalled('webgpu')) {
  unavailable = 'the optional packages @tensorflow/tfjs-backend-webgpu / webgpu are not installed (npm install)';
} else {
  try {
    await startWebGpu({ allowSoftware: false });
  } catch (err) {
    autoRefusal = (err as Error).message;
    try {
      await startWebGpu({ allowSoftware: true });
    } catch (err2) {
      unavailable = (err2 as Error).message;
    }
  }
}
if (unavailable) process.stderr.write(`test/engine/webgpu.test.ts SKIPPED: ${unavailable}\n`);
const headline = unavailable ? `webgpu (SKIPPED: ${unavailable})` : 'webgpu';

afterAll(() => stopWebGpu());

const tiny = (over: Partial<UserModelConfig>): Workload => ({
  model: resolveModelConfig(
    ModelConfigSchema.parse({
      vocabSize: 64, seqLen: 16, dModel: 32, numLayers: 2, numHeads: 4, numKvHeads: 2, dFf: 48,
      numExperts: 4, numSharedExperts: 1, topK: 1, capacityFactor: 1, overflowPolicy: 'drop',
      claShareFactor: 2, qkNorm: true, tieEmbeddings: false, ...over,
    }),
  ),
  batch: 4,
  optimizer: { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, gradClip: 1 },
  learningRate: 3e-3,
});

/** [loss, gradient norm] of `steps` training steps of a workload on a backend. */
async function trace(backend: 'webgpu' | 'cpu', impl: Impl, workload: Workload, steps: number): Promise<number[][]> {
  await tf.setBackend(backend);
  const runner = createStepRunner(7, impl, workload);
  const out: number[][] = [];
  try {
    for (let i = 0; i < steps; i++) {
      const { loss, gradNorm } = await runner.stepAsync();
      out.push([loss, gradNorm]);
    }
  } finally {
    runner.dispose();
  }
  assertDeviceHealthy();
  return out;
}

function expectSameTrace(a: number[][], b: number[][], tol: number): void {
  expect(a.length).toBe(b.length);
  a.forEach((row, i) =>
    row.forEach((x, j) => {
      expect(Number.isFinite(x), `step ${i} value ${j}`).toBe(true);
      expect(Math.abs(x - b[i][j]) / Math.abs(b[i][j]), `step ${i} ${j === 0 ? 'loss' : 'grad norm'}: ${x} vs ${b[i][j]}`).toBeLessThan(tol);
    }),
  );
}

describe('isSoftwareAdapter', () => {
  it('recognises lavapipe, SwiftShader and fallback adapters, not a hardware GPU', () => {
    expect(isSoftwareAdapter({ vendor: 'mesa', architecture: 'software', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'google', description: 'SwiftShader Device (Subzero)' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'nvidia', architecture: 'hopper', isFallbackAdapter: true })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'nvidia', architecture: 'hopper', description: 'NVIDIA H200' })).toBe(false);
  });
});

describe.skipIf(unavailable !== undefined)(headline, () => {
  it('reports the adapter and its limits; auto refuses a software adapter, naming the way round', () => {
    const a = webgpuAdapter()!;
    expect(a.vendor.length + a.description.length).toBeGreaterThan(0);
    expect(a.limits.maxStorageBufferBindingSize).toBeGreaterThan(1 << 20);
    expect(deviceBufferLimit()).toBeLessThan(a.limits.maxStorageBufferBindingSize);
    if (a.software) expect(autoRefusal).toMatch(/software adapter.*--backend webgpu/);
    else expect(autoRefusal).toBeUndefined();
  });

  it('tiny MoE, drop: webgpu (device path) = cpu (host kernels) over 3 steps', async () => {
    const w = tiny({});
    expectSameTrace(await trace('webgpu', 'device', w, 3), await trace('cpu', 'fast', w, 3), 1e-5);
  }, 120_000);

  it('tiny MoE, top-2, drop: webgpu (device path) = cpu (host kernels) over 3 steps', async () => {
    const w = tiny({ topK: 2 });
    expectSameTrace(await trace('webgpu', 'device', w, 3), await trace('cpu', 'fast', w, 3), 1e-5);
  }, 120_000);

  it('tiny MoE, top-1 recycle: webgpu = cpu on the same device path over 3 steps', async () => {
    const w = tiny({ capacityFactor: 1, overflowPolicy: 'recycle', topK: 1 });
    expectSameTrace(await trace('webgpu', 'device', w, 3), await trace('cpu', 'device', w, 3), 1e-5);
  }, 120_000);

  it('the reference step: webgpu = cpu (one step)', async () => {
    const w = referenceWorkload();
    expectSameTrace(await trace('webgpu', 'device', w, 1), await trace('cpu', 'fast', w, 1), 1e-5);
  }, 600_000);

  it('a larger shape (the large config cut to 3 layers, 1 × 64 tokens: its 151 MB expert segment split under lavapipe\'s 128 MiB limit) = cpu', async () => {
    const large = largeWorkload();
    const w = { ...large, model: { ...large.model, numLayers: 3, seqLen: 64 }, batch: 1 };
    expectSameTrace(await trace('webgpu', 'device', w, 1), await trace('cpu', 'device', w, 1), 1e-5);
  }, 900_000);

  it('attention and optimiser split under a small artificial limit give the same numbers', async () => {
    const w = tiny({ capacityFactor: 'inf', overflowPolicy: 'none' });
    const whole = await trace('webgpu', 'device', w, 2);
    const saved = deviceBufferLimit();
    setDeviceBufferLimit(16 * 1024); // 4096 floats: attention in chunks, AdamW in many segments
    try {
      expectSameTrace(await trace('webgpu', 'device', w, 2), whole, 1e-5);
    } finally {
      setDeviceBufferLimit(saved);
    }
  }, 120_000);

  // Last: it leaves the device with a recorded error.
  it('a buffer over the adapter limit fails loudly instead of giving zeros', async () => {
    await tf.setBackend('webgpu');
    expect(deviceErrors()).toEqual([]);
    const n = Math.floor(webgpuAdapter()!.limits.maxStorageBufferBindingSize / 4) + 1024;
    const big = tf.zeros([n]);
    const sum = tf.sum(tf.add(big, 1));
    await sum.data();
    tf.dispose([big, sum]);
    await new Promise((r) => setTimeout(r, 50));
    expect(() => assertDeviceHealthy()).toThrow(/WebGPU device reported .*maxStorageBufferBindingSize|storage buffer binding size/i);
  }, 120_000);
});
