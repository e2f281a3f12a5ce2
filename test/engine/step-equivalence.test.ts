// Issue #10: optimisations must not change results. On a tiny MoE config, the training step's loss
// and gradients are compared between the plain reference (the model's "reference" path: stock ops,
// every expert on every token with a combine mask; stock wasm kernels) and the optimised step (the
// "fast" path; native matmul + heap kernels), with and without the engine kernels.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveModelConfig } from '../../src/config/resolve.ts';
import { ModelConfigSchema } from '../../src/config/schema.ts';
import { registerHeapKernels, unregisterHeapKernels } from '../../src/engine/heap-kernels.ts';
import { loadNativeAddon, registerNativeMatmul, unregisterNativeMatmul } from '../../src/engine/native-matmul.ts';
import { createMoeLm } from '../../src/model/transformer.ts';
import { createRng } from '../../src/util/rng.ts';

const config = resolveModelConfig(
  ModelConfigSchema.parse({
    vocabSize: 32,
    seqLen: 8,
    dModel: 16,
    numLayers: 2,
    numHeads: 2,
    dFf: 24,
    numExperts: 4,
    numSharedExperts: 1,
    topK: 1,
    capacityFactor: 'inf',
    overflowPolicy: 'none',
  }),
);
const batch = 3;
const addon = loadNativeAddon().addon;

interface StepResult {
  loss: number;
  grads: Map<string, Float32Array>;
}

function lossAndGrads(impl: 'fast' | 'reference'): StepResult {
  const model = createMoeLm(config, 11, { impl });
  const rng = createRng(5);
  const ids = (n: number) => Int32Array.from({ length: n }, () => rng.int(config.vocabSize));
  const inputs = tf.tensor2d(ids(batch * config.seqLen), [batch, config.seqLen], 'int32');
  const targets = tf.tensor2d(ids(batch * config.seqLen), [batch, config.seqLen], 'int32');
  try {
    const vars = model.params.map((p) => p.variable);
    const { value, grads } = tf.variableGrads(() => model.computeLoss(inputs, targets, { training: true }).loss, vars);
    const out: StepResult = { loss: value.dataSync()[0], grads: new Map() };
    for (const p of model.params) {
      const g = grads[p.variable.name];
      if (g) out.grads.set(p.name, Float32Array.from(g.dataSync()));
    }
    tf.dispose([value, ...Object.values(grads)]);
    return out;
  } finally {
    tf.dispose([inputs, targets]);
    model.dispose();
  }
}

function setKernels(engine: boolean | 'heap-only') {
  if (engine === 'heap-only') {
    unregisterNativeMatmul();
    unregisterHeapKernels();
    registerHeapKernels();
  } else if (engine) {
    registerHeapKernels(addon);
    if (addon) registerNativeMatmul(addon);
  } else {
    unregisterHeapKernels();
    unregisterNativeMatmul();
  }
}

function expectSameStep(actual: StepResult, expected: StepResult) {
  expect(actual.loss).toBeCloseTo(expected.loss, 5);
  expect([...actual.grads.keys()].sort()).toEqual([...expected.grads.keys()].sort());
  for (const [name, g] of expected.grads) {
    const a = actual.grads.get(name)!;
    const scale = Math.max(1e-3, ...Array.from(g, Math.abs));
    let worst = 0;
    for (let i = 0; i < g.length; i++) worst = Math.max(worst, Math.abs(a[i] - g[i]) / scale);
    expect(worst, `gradient of ${name}`).toBeLessThan(2e-4);
  }
}

describe('training step: optimised engine vs plain reference (tiny MoE, wasm)', () => {
  let reference: StepResult;

  beforeAll(async () => {
    await tf.setBackend('wasm');
    await tf.ready();
    setKernels(false);
    reference = lossAndGrads('reference');
  });
  afterAll(() => setKernels(false));

  it('the reference step has gradients for every parameter and a loss near ln(vocab)', () => {
    expect(reference.grads.size).toBeGreaterThan(20);
    expect(Math.abs(reference.loss - Math.log(config.vocabSize))).toBeLessThan(0.5);
  });

  it('fast model path, stock kernels: same loss and gradients', () => {
    setKernels(false);
    expectSameStep(lossAndGrads('fast'), reference);
  });

  it(`fast model path, engine kernels (heap${addon ? ' + native matmul' : '; native addon not built'}): same loss and gradients`, () => {
    setKernels(true);
    expectSameStep(lossAndGrads('fast'), reference);
  });

  it('fast model path, pure-wasm fallback (heap kernels, no addon): same loss and gradients', () => {
    setKernels('heap-only');
    expectSameStep(lossAndGrads('fast'), reference);
  });

  it('reference model path under the engine kernels: same loss and gradients', () => {
    setKernels(true);
    expectSameStep(lossAndGrads('reference'), reference);
  });

  it('the engine kernels leak no tensors over a step', () => {
    setKernels(true);
    lossAndGrads('fast');
    const before = tf.memory().numTensors;
    lossAndGrads('fast');
    expect(tf.memory().numTensors).toBe(before);
  });
});
