// `moelab bench`: training speed of the reference step on the active backend, the
// backend's matmul GFLOP/s on the step's shapes, the share of the machine's peak, the kernels in
// use, and the fitting-core benchmark. scripts/bench-vs-torch.sh reads `--json`. With `--config`
// the step is that run config's model at its batch size instead (e.g. a sweep's tiny models, whose
// steps are dominated by kernel dispatch rather than arithmetic).
import { cpus, loadavg } from 'node:os';
import type { Command } from 'commander';
import { ConfigError } from '../errors.ts';
import { addEngineOptions, initEngineFromOptions } from './engine-options.ts';

interface BenchOptions {
  backend?: string;
  threads?: string;
  native?: boolean;
  json?: boolean;
  steps: string;
  warmup: string;
  peakGflops?: string;
  profile?: boolean;
  fit: boolean;
  config?: string;
  batchSize?: string;
  workload?: string;
  calibration?: boolean;
  sweeps: string;
  bootstrap: string;
  case?: string[];
}

function positiveInt(value: string, field: string, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) {
    throw new ConfigError(field, value, `Pass an integer ≥ ${min}.`, `must be an integer ≥ ${min}`);
  }
  return n;
}

function positiveNumber(value: string, field: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new ConfigError(field, value, 'Pass a positive number of GFLOP/s.', 'must be positive');
  return n;
}

/**
 * The workload of a run config file: its model (resolved) at its batch size (or `batchSize`), its
 * AdamW settings and peak LR. A run folder's config.json (`{ runId, config, … }`) works too.
 */
async function workloadOf(path: string, batchSize: string | undefined) {
  const [{ readConfigFile }, { parseConfig }, { RunConfigSchema }, { resolveModelConfig }] = await Promise.all([
    import('./train.ts'),
    import('../config/validate.ts'),
    import('../config/schema.ts'),
    import('../config/resolve.ts'),
  ]);
  const raw = await readConfigFile(path);
  const user = raw !== null && typeof raw === 'object' && 'config' in raw && 'runId' in raw ? (raw as { config: unknown }).config : raw;
  const config = parseConfig(RunConfigSchema, user, path);
  const batch = batchSize !== undefined ? positiveInt(batchSize, '--batch-size', 1) : config.train.batchSize;
  return { workload: { model: resolveModelConfig(config.model), batch, optimizer: config.train.optimizer, learningRate: config.train.lr } };
}

/**
 * `moelab bench --calibration`: coverage per quantity (progress with an ETA on stderr through the
 * progress sink); --json prints one object keyed by quantity with coverage (0–1) and n.
 */
async function benchCalibration(opts: BenchOptions): Promise<void> {
  const sweeps = positiveInt(opts.sweeps, '--sweeps', 1);
  const bootstrap = positiveInt(opts.bootstrap, '--bootstrap', 10);
  const { CALIBRATION_CASES, CALIBRATION_EXTRA_CASES, COVERAGE_TARGET, calibrationCase, runCalibration } = await import('../analysis/calibration/index.ts');
  const known = [...CALIBRATION_CASES, ...CALIBRATION_EXTRA_CASES].map((c) => c.name);
  const cases = opts.case?.length
    ? opts.case.map((name) => {
        const c = calibrationCase(name);
        if (!c) throw new ConfigError('--case', name, `Use one of: ${known.join(', ')}.`, 'unknown calibration case');
        return c;
      })
    : CALIBRATION_CASES;
  const t0 = performance.now();
  const result = runCalibration(cases, { sweeps, bootstrap });
  const seconds = (performance.now() - t0) / 1000;
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return;
  }
  const [lo, hi] = COVERAGE_TARGET;
  const rows = Object.entries(result).map(([q, c]) => [
    q,
    c.coverage.toFixed(3),
    String(c.n),
    c.meanWidth.toPrecision(3),
    String(c.failedTrials),
    c.meanSuccessFraction.toFixed(3),
    c.coverage >= lo && c.coverage <= hi ? 'yes' : c.coverage < lo ? 'NO (under-covers)' : 'NO (over-covers)',
  ]);
  const { table } = await import('../fit/format.ts');
  process.stdout.write(
    `${table(['quantity', 'coverage', 'sweeps', 'mean width', 'failed fits', 'mean success fraction', `in ${lo}–${hi}`], rows)}\n` +
      `${sweeps} sweeps per case, ${bootstrap} bootstrap resamples per fit, ${seconds.toFixed(1)} s (load average ${loadavg()[0].toFixed(1)} on ${cpus().length} cores)\n`,
  );
}

export function registerBench(program: Command): void {
  addEngineOptions(
    program
      .command('bench')
      .description('tokens/s and GFLOP/s of the reference MoE training step, matmul GFLOP/s, active kernels, fit benchmark')
      .option('--json', 'print JSON (has tokensPerSec)')
      .option('--steps <n>', 'timed training steps; the median is reported (≥ 5)', '7')
      .option('--warmup <n>', 'untimed steps first', '3')
      .option('--peak-gflops <x>', 'machine float32 peak for the share column (env MOELAB_PEAK_GFLOPS; default 178)')
      .option('--profile', 'also time every kernel over 3 steps')
      .option('--config <file>', "time this run config's model and batch instead of the reference workload (a run folder's config.json works)")
      .option('--batch-size <n>', 'with --config or --workload large: sequences per step (default: the config\'s train.batchSize; 64 for large)')
      .option('--workload <name>', 'reference (default) or large (d_model 512, 4 layers, 8+1 experts, batch 64 × 256: the GPU check)')
      .option('--no-fit', 'skip the fitting-core benchmark')
      .option('--calibration', "interval calibration instead: coverage of the fits' 95% intervals over simulated sweeps from known laws")
      .option('--sweeps <n>', 'with --calibration: simulated sweeps per case (≥ 1)', '200')
      .option('--bootstrap <n>', 'with --calibration: bootstrap resamples per fit (≥ 10)', '1000')
      .option('--case <name...>', 'with --calibration: only these cases (default: every registered case)'),
  ).action(async (opts: BenchOptions) => {
    if (opts.calibration) return benchCalibration(opts);
    const steps = positiveInt(opts.steps, '--steps', 5);
    const warmup = positiveInt(opts.warmup, '--warmup', 1);
    const peakGflops = positiveNumber(
      opts.peakGflops ?? process.env.MOELAB_PEAK_GFLOPS ?? '178',
      opts.peakGflops ? '--peak-gflops' : 'MOELAB_PEAK_GFLOPS',
    );
    if (opts.batchSize !== undefined && opts.config === undefined && opts.workload !== 'large') {
      throw new ConfigError('--batch-size', opts.batchSize, 'Use --batch-size together with --config or --workload large.', 'only applies to --config and --workload large');
    }
    if (opts.workload !== undefined && !['reference', 'large'].includes(opts.workload)) {
      throw new ConfigError('--workload', opts.workload, 'Use --workload reference or --workload large.', 'unknown workload');
    }
    if (opts.workload === 'large' && opts.config !== undefined) {
      throw new ConfigError('--workload', opts.workload, 'Use either --config or --workload large, not both.', 'conflicts with --config');
    }
    const info = await initEngineFromOptions(opts);
    const bench = await import('../engine/bench.ts');
    const custom =
      opts.config !== undefined
        ? await workloadOf(opts.config, opts.batchSize)
        : opts.workload === 'large'
          ? { workload: { ...bench.largeWorkload(), ...(opts.batchSize !== undefined ? { batch: positiveInt(opts.batchSize, '--batch-size', 1) } : {}) } }
          : undefined;
    const loadBefore = loadavg()[0];
    const progress = opts.json ? undefined : (i: number, ms: number) => process.stderr.write(`  step ${i + 1}/${steps}: ${ms.toFixed(0)} ms\n`);
    // Backends without synchronous reads (webgpu) time the step with one asynchronous read of
    // [loss, gradient norm] per step and count the host reads; the probes below need dataSync.
    let step;
    try {
      step = info.syncReads
        ? bench.benchTrainingStep({ steps, warmup, onStep: progress, workload: custom?.workload })
        : await bench.benchTrainingStepAsync({ steps, warmup, onStep: progress, workload: custom?.workload });
    } catch (err) {
      const { explainEngineFailure } = await import('../engine/backend.ts');
      throw explainEngineFailure(err, info.backend, { batchSize: custom?.workload.batch, batchField: '--batch-size' }) ?? err;
    }
    // The matmul probe is of the reference step's shapes: not run for another workload.
    const matmul = custom || !info.syncReads ? undefined : bench.benchStepMatmuls();
    const profile = opts.profile && info.syncReads ? bench.profileTrainingStep(3, 0, custom?.workload) : undefined;
    let fit: Record<string, unknown> | undefined;
    if (opts.fit) {
      try {
        const { benchChinchillaGrid } = await import('../fit/bench.ts');
        fit = { ...benchChinchillaGrid() };
      } catch (err) {
        fit = { error: err instanceof Error ? err.message.split('\n')[0] : String(err) };
      }
    }
    const result = {
      tokensPerSec: step.tokensPerSec,
      gflops: step.gflops,
      peakGflops,
      peakShare: step.gflops / peakGflops,
      step,
      matmul: matmul ? { ...matmul, peakShare: matmul.aggregateGflops / peakGflops } : null,
      kernels: {
        backend: info.backend,
        wasmThreads: info.threads,
        nativeMatmul: info.nativeMatmul,
        nativeMatmulReason: info.nativeMatmulReason,
        blasThreads: info.blasThreads,
        heapKernels: info.heapKernels,
      },
      profile,
      fit,
      workload: custom
        ? { config: opts.config ?? `--workload ${opts.workload}`, model: custom.workload.model, batch: custom.workload.batch }
        : bench.REFERENCE_WORKLOAD,
      machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, loadAvg1m: [loadBefore, loadavg()[0]] },
      engine: info,
    };
    if (opts.json) {
      const { toJson } = await import('../io/atomic.ts');
      process.stdout.write(`${toJson(result, 2)}\n`);
      return;
    }
    const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
    const w = custom?.workload.model ?? bench.REFERENCE_WORKLOAD.model;
    const lines = [
      `workload     ${custom ? `${opts.config ?? opts.workload}: ` : ''}vocab ${w.vocabSize}, d_model ${w.dModel}, ${w.numLayers} layers, ${w.numHeads} heads, seq ${w.seqLen}, ` +
        `batch ${custom?.workload.batch ?? bench.REFERENCE_WORKLOAD.batch}, MoE ${w.numExperts} experts top-${w.topK} + ${w.numSharedExperts} shared, SwiGLU FFN ${w.dFf}, AdamW`,
      `training     ${step.tokensPerSec.toFixed(0)} tokens/s  (median step ${step.medianStepMs.toFixed(1)} ms of ${steps}, ${step.cpuMsPerStep.toFixed(0)} CPU ms; ` +
        `${(step.flopsPerToken / 1e6).toFixed(2)} MFLOP/token → ${step.gflops.toFixed(1)} GFLOP/s, ${pct(step.gflops / peakGflops)} of ${peakGflops} peak)`,
      ...(step.hostReadsPerStep !== undefined
        ? [`reads        ${step.hostReadsPerStep.toFixed(1)} host read(s) per step (impl ${step.impl}; first loss ${step.firstLoss.toFixed(4)}, last ${step.lastLoss.toFixed(4)})`]
        : []),
      matmul
        ? `matmul       ${matmul.aggregateGflops.toFixed(1)} GFLOP/s on the step's shapes (${pct(matmul.aggregateGflops / peakGflops)} of peak): ` +
          matmul.shapes.map((s) => `${s.m}×${s.k}${s.transposeA ? 'ᵀ' : ''}·${s.k}×${s.n}${s.transposeB ? 'ᵀ' : ''} ${s.gflops.toFixed(0)}`).join(', ')
        : 'matmul       skipped (the probe measures the reference step\'s shapes)',
      `kernels      ${info.backend}` +
        (info.backend === 'wasm'
          ? `, ${info.threads} wasm thread(s), native matmul ${info.nativeMatmul ? `on (OpenBLAS, ${info.blasThreads} thread(s))` : `off: ${info.nativeMatmulReason}`}, ` +
            `heap kernels ${info.heapKernels ? 'on' : 'off'}`
          : ''),
      `fit          ${fit === undefined ? 'skipped (--no-fit)' : 'error' in fit ? `failed: ${fit.error}` : `Chinchilla grid fit ${(fit.seconds as number).toFixed(2)} s (${fit.starts} starts, ${fit.points} points)`}`,
      `machine      ${result.machine.cpu}, ${result.machine.cores} cores, load average ${loadBefore.toFixed(1)} → ${loadavg()[0].toFixed(1)}` +
        (loadBefore > 0.5 * result.machine.cores ? '  (busy machine: numbers are lower bounds)' : ''),
    ];
    if (profile) {
      const inKernels = profile.kernels.reduce((a, k) => a + k.cpuMs, 0);
      lines.push(
        `profile      ${profile.stepCpuMs.toFixed(0)} CPU ms/step (${profile.stepMs.toFixed(0)} wall), ` +
          `${pct(inKernels / profile.stepCpuMs)} in kernels; by CPU time:`,
      );
      for (const k of profile.kernels.slice(0, 15)) {
        lines.push(
          `  ${k.kernel.padEnd(18)} ${k.calls.toFixed(0).padStart(5)} calls ${k.cpuMs.toFixed(1).padStart(8)} CPU ms ${pct(k.cpuMs / profile.stepCpuMs).padStart(7)}`,
        );
      }
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  });
}
