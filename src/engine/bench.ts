// Training-speed benchmark: tokens/s and model GFLOP/s of one full training step
// (forward, backward, AdamW update) on the fixed reference workload, the backend's 2-D matmul
// GFLOP/s on the step's shapes, and which kernels were active. `moelab bench` prints it;
// scripts/bench-vs-torch.sh sets it beside bench/torch_step.py (the same step in PyTorch).
//
// NOTE: this is the one engine module that runs the model and optimiser; only the CLI imports it
// (lazily), so the layering model → engine stays one-way everywhere else.
import * as tf from '@tensorflow/tfjs';
import type { ResolvedModelConfig } from '../config/resolve.ts';
import { resolveModelConfig } from '../config/resolve.ts';
import { ModelConfigSchema } from '../config/schema.ts';
import { flopsPerToken } from '../model/count.ts';
import type { Impl } from '../model/mlp.ts';
import { createMoeLm } from '../model/transformer.ts';
import { createAdamW, type AdamWArgs } from '../train/optimizer.ts';
import { createRng } from '../util/rng.ts';
import { probeMatmulGflops } from './backend.ts';
import { timeKernels, type KernelTime } from './kernel-timer.ts';

/**
 * The reference workload (keep it fixed so numbers compare across time): vocab 256,
 * d_model 128, 2 layers, 4 heads (head dim 32), seq 128, batch 16, MoE with 4 specialized experts
 * top-1 + 1 shared expert, expert FFN 512, RMSNorm, AdamW, float32. The model's experts are SwiGLU
 * (docs/references.md#moe-structure), so an expert has 3 matrices, not the 2 of the SiLU MLP in the reference step of docs/references.md#engine-rules;
 * capacity is unlimited (no token dropped), as in the PyTorch peer.
 */
export const REFERENCE_WORKLOAD = {
  model: {
    vocabSize: 256,
    seqLen: 128,
    dModel: 128,
    numLayers: 2,
    numHeads: 4,
    dFf: 512,
    numExperts: 4,
    numSharedExperts: 1,
    topK: 1,
    capacityFactor: 'inf',
    overflowPolicy: 'none',
  },
  batch: 16,
  /** AdamW as in RunConfig's defaults. */
  optimizer: { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, gradClip: 1 },
  learningRate: 1e-3,
} as const;

/** Float32 peak of the machine the issue was measured on (2 Zen 3 cores, FMA loop). */
export const DEFAULT_PEAK_GFLOPS = 178;

export function referenceModelConfig(): ResolvedModelConfig {
  return resolveModelConfig(ModelConfigSchema.parse(REFERENCE_WORKLOAD.model));
}

/** What a step benchmark trains: a model, its batch (sequences), AdamW and a learning rate. */
export interface Workload {
  model: ResolvedModelConfig;
  batch: number;
  optimizer: AdamWArgs;
  learningRate: number;
}

/**
 * The large workload for GPUs: d_model 512, 4 layers, 8 heads (head dim 64), seq 256, batch 64
 * (16,384 tokens a step), MoE with 8 specialized experts top-1 + 1 shared, expert FFN 1024, the
 * project's capacity factor 1.25 with recycle routing, vocab 256 (bytes). The same config is timed
 * on the CPU path for the speed-up.
 */
export const LARGE_WORKLOAD = {
  model: {
    vocabSize: 256,
    seqLen: 256,
    dModel: 512,
    numLayers: 4,
    numHeads: 8,
    dFf: 1024,
    numExperts: 8,
    numSharedExperts: 1,
    topK: 1,
    capacityFactor: 1.25,
    overflowPolicy: 'recycle',
  },
  batch: 64,
  optimizer: REFERENCE_WORKLOAD.optimizer,
  learningRate: REFERENCE_WORKLOAD.learningRate,
} as const;

export function largeWorkload(): Workload {
  return {
    model: resolveModelConfig(ModelConfigSchema.parse(LARGE_WORKLOAD.model)),
    batch: LARGE_WORKLOAD.batch,
    optimizer: LARGE_WORKLOAD.optimizer,
    learningRate: LARGE_WORKLOAD.learningRate,
  };
}

export function referenceWorkload(): Workload {
  return { model: referenceModelConfig(), batch: REFERENCE_WORKLOAD.batch, optimizer: REFERENCE_WORKLOAD.optimizer, learningRate: REFERENCE_WORKLOAD.learningRate };
}

export interface StepBenchOptions {
  /** Untimed steps first (default 3). */
  warmup?: number;
  /** Timed steps; the median is reported (default 7, at least 5 recommended). */
  steps?: number;
  seed?: number;
  /** Model implementation (default: "device" on webgpu, else "fast"). */
  impl?: Impl;
  /** What to train (default the reference workload). */
  workload?: Workload;
  /** Called after each timed step with its wall time (progress output). */
  onStep?: (i: number, ms: number) => void;
}

export interface StepBenchResult {
  batch: number;
  seqLen: number;
  tokensPerStep: number;
  /** Wall time of each timed step (ms). */
  stepMs: number[];
  medianStepMs: number;
  /**
   * Median CPU time per step (ms) over all threads of the process (OpenBLAS's included): less
   * sensitive to other load than wall time; bench/torch_step.py reports the same.
   */
  cpuMsPerStep: number;
  tokensPerSec: number;
  /** Training FLOPs per token (3 × forward; causal attention counted over (T+1)/2 keys). */
  flopsPerToken: number;
  gflops: number;
  /** Loss of the first and last step (a sanity check that the step trains). */
  firstLoss: number;
  lastLoss: number;
  /** Tensors alive after vs before the timed steps (0 = no per-step leak). */
  tensorLeakPerStep: number;
  /**
   * Reads of device data to the host per timed step (benchTrainingStepAsync only: reads of
   * tensors whose values were not already on the host, counted at the backend).
   */
  hostReadsPerStep?: number;
  /** Model implementation that ran. */
  impl?: Impl;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** A model + AdamW (the reference workload unless given) that runs full training steps on seeded random tokens. */
export interface StepRunner {
  /** One step: loss, gradients, AdamW update; returns the loss (read back, so the step is done). */
  step(): number;
  /** The same step, read back with one asynchronous read of [loss, gradient norm] (any backend). */
  stepAsync(): Promise<{ loss: number; gradNorm: number }>;
  readonly impl: Impl;
  dispose(): void;
}

export function createStepRunner(seed = 0, impl?: Impl, workload: Workload = referenceWorkload()): StepRunner {
  const { model: config, batch } = workload;
  const model = createMoeLm(config, seed, { impl });
  const optimizer = createAdamW(model.params, workload.optimizer);
  const vars = model.params.map((p) => p.variable);
  const rng = createRng(seed);
  // Random tokens: speed does not depend on the text.
  const tokens = () =>
    tf.tensor2d(Int32Array.from({ length: batch * config.seqLen }, () => rng.int(config.vocabSize)), [batch, config.seqLen], 'int32');
  /** Forward, backward and update; returns the loss and gradient norm as one [2] tensor. */
  const launch = (): tf.Tensor1D => {
    const inputs = tokens();
    const targets = tokens();
    const { value, grads } = tf.variableGrads(() => {
      const out = model.computeLoss(inputs, targets, { training: true, rng });
      out.moeStats?.dispose();
      return out.loss;
    }, vars);
    const r = optimizer.applyGradients(
      model.params.map((p) => grads[p.variable.name]),
      () => workload.learningRate,
    );
    const both = tf.tidy(() => tf.stack([value, r.gradNormTensor ?? tf.scalar(r.gradNorm)])) as tf.Tensor1D;
    tf.dispose([value, inputs, targets, ...Object.values(grads)]);
    r.gradNormTensor?.dispose();
    return both;
  };
  return {
    impl: model.impl,
    async stepAsync() {
      const both = launch();
      const [loss, gradNorm] = await both.data();
      both.dispose();
      return { loss, gradNorm };
    },
    step() {
      const inputs = tokens();
      const targets = tokens();
      const { value, grads } = tf.variableGrads(() => model.computeLoss(inputs, targets, { training: true, rng }).loss, vars);
      optimizer.applyGradients(
        model.params.map((p) => grads[p.variable.name]),
        () => workload.learningRate,
      );
      const loss = value.dataSync()[0];
      tf.dispose([value, inputs, targets, ...Object.values(grads)]);
      return loss;
    },
    dispose() {
      optimizer.dispose();
      model.dispose();
    },
  };
}

/** Time full training steps (loss, gradients, AdamW update, loss read back) of the reference model. */
export function benchTrainingStep(options: StepBenchOptions = {}): StepBenchResult {
  const warmup = options.warmup ?? 3;
  const steps = options.steps ?? 7;
  const workload = options.workload ?? referenceWorkload();
  const { model: config, batch } = workload;
  const runner = createStepRunner(options.seed ?? 0, options.impl, workload);
  try {
    let firstLoss = NaN;
    for (let i = 0; i < warmup; i++) {
      const l = runner.step();
      if (i === 0) firstLoss = l;
    }
    const before = tf.memory().numTensors;
    const stepMs: number[] = [];
    const cpuMs: number[] = [];
    let lastLoss = NaN;
    for (let i = 0; i < steps; i++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      lastLoss = runner.step();
      const ms = performance.now() - t0;
      const c = process.cpuUsage(c0);
      stepMs.push(ms);
      cpuMs.push((c.user + c.system) / 1000);
      options.onStep?.(i, ms);
    }
    const tensorLeakPerStep = (tf.memory().numTensors - before) / Math.max(1, steps);
    const medianStepMs = median(stepMs);
    const tokensPerStep = batch * config.seqLen;
    const tokensPerSec = tokensPerStep / (medianStepMs / 1000);
    const fpt = flopsPerToken(config);
    return {
      batch,
      seqLen: config.seqLen,
      tokensPerStep,
      stepMs,
      medianStepMs,
      cpuMsPerStep: median(cpuMs),
      tokensPerSec,
      flopsPerToken: fpt,
      gflops: (fpt * tokensPerSec) / 1e9,
      firstLoss,
      lastLoss,
      tensorLeakPerStep,
    };
  } finally {
    runner.dispose();
  }
}

export interface MatmulShape {
  /** What the product is in the step. */
  role: string;
  m: number;
  k: number;
  n: number;
  transposeA?: boolean;
  transposeB?: boolean;
}

/**
 * The step's 2-D product shapes (tokens = batch·seqLen = 2048; top-1 over 4 experts gives each
 * expert ~512 rows), forward and the two backward forms.
 */
export function stepMatmulShapes(): MatmulShape[] {
  const { dModel: d, dFf: f, vocabSize: v } = REFERENCE_WORKLOAD.model;
  const tokens = REFERENCE_WORKLOAD.batch * REFERENCE_WORKLOAD.model.seqLen;
  const perExpert = tokens / REFERENCE_WORKLOAD.model.numExperts;
  return [
    { role: 'attention projection x·W', m: tokens, k: d, n: d },
    { role: 'shared expert up x·W', m: tokens, k: d, n: f },
    { role: 'shared expert down h·W', m: tokens, k: f, n: d },
    { role: 'routed expert up x·W', m: perExpert, k: d, n: f },
    { role: 'output layer x·Eᵀ', m: tokens, k: d, n: v },
    { role: 'backward dW = xᵀ·dy', m: d, k: tokens, n: f, transposeA: true },
    { role: 'backward dx = dy·Wᵀ', m: tokens, k: f, n: d, transposeB: true },
  ];
}

export interface MatmulBench extends MatmulShape {
  gflops: number;
}

/** GFLOP/s of each step shape on the active backend, and the FLOP-weighted aggregate. */
export function benchStepMatmuls(reps = 7): { shapes: MatmulBench[]; aggregateGflops: number } {
  const shapes = stepMatmulShapes().map((s) => ({
    ...s,
    gflops: probeMatmulGflops(s.n, reps, { m: s.m, k: s.k, transposeA: s.transposeA, transposeB: s.transposeB }),
  }));
  // Total FLOPs over total time: what running each shape once costs.
  const flops = shapes.map((s) => 2 * s.m * s.k * s.n);
  const seconds = shapes.reduce((acc, s, i) => acc + flops[i] / (s.gflops * 1e9), 0);
  return { shapes, aggregateGflops: flops.reduce((a, b) => a + b, 0) / seconds / 1e9 };
}

/**
 * Wall and CPU time per kernel over `steps` training steps after one warm-up
 * (src/engine/kernel-timer.ts), largest CPU time first, in ms per step.
 */
export function profileTrainingStep(steps = 3, seed = 0, workload: Workload = referenceWorkload()): { kernels: KernelTime[]; stepMs: number; stepCpuMs: number } {
  const runner = createStepRunner(seed, undefined, workload);
  try {
    runner.step();
    const { kernels, totalMs, totalCpuMs } = timeKernels(() => {
      for (let i = 0; i < steps; i++) runner.step();
    });
    return {
      kernels: kernels.map((k) => ({ kernel: k.kernel, calls: k.calls / steps, ms: k.ms / steps, cpuMs: k.cpuMs / steps })),
      stepMs: totalMs / steps,
      stepCpuMs: totalCpuMs / steps,
    };
  } finally {
    runner.dispose();
  }
}

/**
 * Count the backend's reads of data that is not already on the host while `f` runs (webgpu keeps
 * the values of tensors made from host arrays, whose reads cost no transfer; other backends count
 * every read).
 */
export async function countHostReads<T>(f: () => Promise<T>): Promise<{ result: T; reads: number }> {
  const backend = tf.backend() as unknown as {
    read: (id: object) => Promise<unknown>;
    readSync: (id: object) => unknown;
    tensorMap?: { get(id: object): { values?: unknown } | undefined };
  };
  const onDevice = (id: object) => backend.tensorMap?.get(id)?.values == null;
  const { read, readSync } = backend;
  let reads = 0;
  backend.read = function (this: unknown, id: object) {
    if (onDevice(id)) reads++;
    return read.call(this, id);
  };
  backend.readSync = function (this: unknown, id: object) {
    if (onDevice(id)) reads++;
    return readSync.call(this, id);
  };
  try {
    return { result: await f(), reads };
  } finally {
    backend.read = read;
    backend.readSync = readSync;
  }
}

/**
 * benchTrainingStep for every backend, webgpu included: each step ends with one asynchronous read
 * of [loss, gradient norm] (the step's only read on the device path), device errors are checked
 * after the run, and the host reads per step are counted.
 */
export async function benchTrainingStepAsync(options: StepBenchOptions = {}): Promise<StepBenchResult> {
  const warmup = options.warmup ?? 3;
  const steps = options.steps ?? 7;
  const workload = options.workload ?? referenceWorkload();
  const { model: config, batch } = workload;
  const runner = createStepRunner(options.seed ?? 0, options.impl, workload);
  const { assertDeviceHealthy } = await import('./webgpu.ts');
  try {
    let firstLoss = NaN;
    for (let i = 0; i < warmup; i++) {
      const { loss } = await runner.stepAsync();
      if (i === 0) firstLoss = loss;
    }
    assertDeviceHealthy();
    const before = tf.memory().numTensors;
    const stepMs: number[] = [];
    const cpuMs: number[] = [];
    let lastLoss = NaN;
    const { reads } = await countHostReads(async () => {
      for (let i = 0; i < steps; i++) {
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        lastLoss = (await runner.stepAsync()).loss;
        const ms = performance.now() - t0;
        const c = process.cpuUsage(c0);
        stepMs.push(ms);
        cpuMs.push((c.user + c.system) / 1000);
        options.onStep?.(i, ms);
      }
    });
    assertDeviceHealthy();
    const tensorLeakPerStep = (tf.memory().numTensors - before) / Math.max(1, steps);
    const medianStepMs = median(stepMs);
    const tokensPerStep = batch * config.seqLen;
    const tokensPerSec = tokensPerStep / (medianStepMs / 1000);
    const fpt = flopsPerToken(config);
    return {
      batch,
      seqLen: config.seqLen,
      tokensPerStep,
      stepMs,
      medianStepMs,
      cpuMsPerStep: median(cpuMs),
      tokensPerSec,
      flopsPerToken: fpt,
      gflops: (fpt * tokensPerSec) / 1e9,
      firstLoss,
      lastLoss,
      tensorLeakPerStep,
      hostReadsPerStep: reads / steps,
      impl: runner.impl,
    };
  } finally {
    runner.dispose();
  }
}
