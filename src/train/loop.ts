// One training run, top to bottom (docs/architecture.md#habits): data → claim the run folder → model and
// optimiser (restored from the checkpoint if any) → the loop → summary. Resumable and idempotent:
// a finished run (summary.json) is skipped, an interrupted one continues from its last checkpoint
// and ends exactly where an uninterrupted run would (batches are a pure function of (seed, step),
// the checkpoint holds weights, AdamW moments, RNG state and the open logging interval).
//
//   runs/<runId>/
//     config.json     RunConfigRecord, written before step 0
//     tokenizer.json  the vocabulary (BPE merges) the run was trained with
//     metrics.jsonl   MetricRow per logging interval (+ valLoss on evaluation rows)
//     checkpoint/     see checkpoint.ts
//     train.log       human-readable events
//     summary.json    RunSummary, written last and atomically: its presence means "ended"
import { appendFileSync, existsSync, mkdirSync } from 'node:fs';
import { totalmem } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { resolveModelConfig, type ResolvedModelConfig } from '../config/resolve.ts';
import type { RunConfig } from '../config/schema.ts';
import { prepareDataset } from '../data/dataset.ts';
import { checkDataBudget, createTokenStream, unigramEntropy, type Batch, type TokenStream } from '../data/stream.ts';
import type { TokenizerJson } from '../data/tokenizer.ts';
import { evenSubset, resolveValWindows } from '../data/validation.ts';
import { ConfigError, ResumeMismatchError } from '../errors.ts';
import { appendJsonl, readJson, readJsonIfExists, readJsonl, writeJsonAtomic } from '../io/atomic.ts';
import { readJsonFileIfExists } from '../io/json.ts';
import { runPaths, type DatasetInfo, type EngineRecord, type MetricRow, type RunConfigRecord, type RunSummary } from '../io/results.ts';
import { decodeRunSummary } from '../io/nonfinite.ts';
import { decodeMoeStats } from '../model/device-moe.ts';
import type { MoeLayerStats, MoeLm, ParamGroup } from '../model/types.ts';
import { provenance } from '../util/provenance.ts';
import { createRng, deriveSeed, type Rng } from '../util/rng.ts';
import { loadCheckpoint, saveCheckpointAsync, type CheckpointState } from './checkpoint.ts';
import { deriveRunCounts } from './derived.ts';
import { buildValidationSet, byteLengthsOf, evalRowsPerPass, evaluateValidationSetAsync, type EvalResult } from './evaluate.ts';
import { expertLrMultiplier } from './expert-lr.ts';
import { acquireRunLock } from './lock.ts';
import { checkTrainingMemory } from './memory.ts';
import { accumulate, emptyInterval, metricRow, truncateMetrics } from './metrics.ts';
import { createAdamW, type AdamW } from './optimizer.ts';
import type { ProgressReporter } from './progress.ts';
import { lrFactor } from './schedule.ts';
import type { RunTags } from '../io/tags.ts';
import { canonicalJson } from '../util/canonical-json.ts';

export type ModelFactory = (config: ResolvedModelConfig, seed: number) => MoeLm;

export interface TrainRunOptions {
  /** Builds the model (the CLI passes createMoeLm from src/model/transformer.ts). */
  createModel: ModelFactory;
  /** Run id recorded in config.json and summary.json (default: config.name). */
  runId?: string;
  /** Name of the active TF.js backend, recorded in config.json. */
  backend?: string;
  /**
   * The engine settings results depend on (the CLI passes them from initEngine): recorded in
   * config.json, and a resume under different ones is refused naming both values.
   */
  engine?: EngineRecord;
  /** From the run's plan entry (sweeps): copied into config.json. */
  budgetFlops?: number;
  /** The run tags of the plan entry (src/io/tags.ts): copied into config.json. */
  tags?: RunTags;
  progress?: ProgressReporter;
  /** Abort = stop cleanly after the current step, checkpoint, return "interrupted". */
  signal?: AbortSignal;
  /** Tokenizer/corpus cache folder (default: node_modules/.cache/moelab). */
  cacheDir?: string;
  /** Folder that a relative data.corpus path resolves against. */
  baseDir?: string;
  /** Called after every completed step (tests: tensor-count checks). */
  onStep?: (step: number) => void;
  /**
   * Throws if the device reported an error. Called after each read of device results (the step's,
   * each evaluation's, each checkpoint's). The CLI passes the engine's check on webgpu
   * (src/engine/webgpu.ts assertDeviceHealthy: Dawn reports errors asynchronously and TF.js ignores
   * them, so results would silently be zeros); this module does not know backends exist.
   */
  checkDevice?: () => void;
  /**
   * The memory the run may use (default: this machine's physical memory). A config whose
   * estimate (src/train/memory.ts) exceeds it is refused before anything is written.
   */
  memoryLimit?: { bytes: number; source: string };
  /**
   * Called once the model is built and restored, just before the first step: until then the run
   * is in synchronous work (building the model) that cannot look at `signal`, so the CLI installs
   * its SIGINT/SIGTERM handlers here and lets a signal before it end the process at once.
   */
  onTrainingStart?: () => void;
}

export type TrainRunStatus = 'done' | 'diverged' | 'skipped' | 'interrupted';

export interface TrainRunResult {
  status: TrainRunStatus;
  /** summary.json's content (absent when interrupted). */
  summary?: RunSummary;
  /** Step the run resumed from (0 = fresh start). */
  startStep: number;
  /** Steps completed when this call returned. */
  endStep: number;
}

/** Fields that may change between an interrupted run and its resumption (they do not affect training). */
const RESUMABLE_FIELDS = new Set(['name', 'train.logEvery', 'train.evalEvery', 'train.checkpointEvery', 'train.divergenceFactor']);


/** Dotted paths whose values differ between two configs (down to two levels), minus resumable ones. */
export function configDifferences(saved: RunConfig, current: RunConfig): string[] {
  const diffs: string[] = [];
  const walk = (a: unknown, b: unknown, path: string, depth: number) => {
    if (canonicalJson(a) === canonicalJson(b)) return;
    const isObj = (x: unknown) => x !== null && typeof x === 'object' && !Array.isArray(x);
    if (depth < 2 && isObj(a) && isObj(b)) {
      const keys = new Set([...Object.keys(a as object), ...Object.keys(b as object)]);
      for (const k of keys) walk((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k, depth + 1);
    } else if (!RESUMABLE_FIELDS.has(path)) diffs.push(path);
  };
  walk(saved, current, '', 0);
  return diffs;
}

/** How to run with each engine setting, for the refusal message. */
const ENGINE_FIX: Record<keyof EngineRecord, (v: unknown) => string> = {
  backend: (v) => `--backend ${String(v)}`,
  threads: (v) => `--threads ${String(v)} (or MOELAB_THREADS=${String(v)})`,
  simd: (v) => (v ? 'a wasm build with SIMD' : 'SIMD off'),
  nativeMatmul: (v) => (v ? 'the native matmul on (bash scripts/build-native.sh; not --no-native)' : '--no-native (or MOELAB_NATIVE=0)'),
  blasThreads: (v) => `MOELAB_BLAS_THREADS=${String(v)}`,
  fusedKernels: (v) =>
    v === 'native'
      ? 'the fused kernels in C (rebuild the addon: bash scripts/build-native.sh --force)'
      : v === 'js'
        ? 'the JavaScript fused kernels (MOELAB_NATIVE=0)'
        : 'the fused kernels off (MOELAB_HEAP_KERNELS=0)',
};

/**
 * Engine settings that differ between the run's record and now (field, value then, value now);
 * empty when they match or the record predates engine recording.
 */
export function engineDifferences(saved: EngineRecord | undefined, current: EngineRecord | undefined): { field: keyof EngineRecord; saved: unknown; current: unknown }[] {
  if (!saved || !current) return [];
  return (Object.keys(ENGINE_FIX) as (keyof EngineRecord)[])
    .filter((k) => saved[k] !== undefined && saved[k] !== current[k])
    .map((field) => ({ field, saved: saved[field], current: current[field] }));
}

/** Why training must stop, or undefined: NaN/Inf loss, or loss above factor × the first loss. */
export function divergenceReason(loss: number, firstLoss: number, factor: number): string | undefined {
  if (!Number.isFinite(loss)) return `training loss is ${loss}`;
  if (loss > factor * firstLoss) {
    return `training loss ${loss.toFixed(4)} exceeds divergenceFactor ${factor} × the first loss ${firstLoss.toFixed(4)}`;
  }
  return undefined;
}

interface StepOutput {
  trainLoss: number;
  loss: number;
  loadBalancingLoss: number;
  routerZLoss: number;
  moeLayers: MoeLayerStats[];
  /** Before clipping; NaN when the step diverged before the update (as on the host path). */
  gradNorm: number;
  /** Why training must stop after this step (divergence), or undefined. */
  reason?: string;
}

/** A tensor's values, read with `await data()` (the only kind of read webgpu has in Node); disposes it. */
async function readAndDispose(t: tf.Tensor): Promise<Float32Array> {
  try {
    return (await t.data()) as Float32Array;
  } finally {
    t.dispose();
  }
}

/**
 * One training step: forward, backward, the divergence check and the AdamW update, with its host
 * numbers read asynchronously. Two orders, chosen by the optimiser's norm mode (optimizer.ts):
 * - host norm (CPU backends): [loss, ce, lb, z] is read first, a diverged loss skips the update,
 *   then AdamW computes the gradient norm on the host (globalNorm's synchronous read, which these
 *   backends have) — the order and arithmetic of every run recorded before webgpu training, so
 *   their numbers and resumes stay bit-identical;
 * - device norm (webgpu): the update runs first, with norm, clip scale and finite check on the
 *   device, then one read brings [loss, ce, lb, z, gradient norm, routing statistics]. A loss
 *   found diverged has then been followed by an update, which changes nothing recorded: a
 *   diverged run ends without a checkpoint, and its gradient norm is reported as NaN, as above.
 * `diverged(ce)` is the loop's divergence check of the step's cross-entropy.
 */
async function trainStep(
  model: MoeLm,
  optimizer: AdamW,
  batch: Batch,
  shape: [number, number],
  rng: Rng,
  lrOf: (group: ParamGroup) => number,
  diverged: (trainLoss: number) => string | undefined,
): Promise<StepOutput> {
  const vars = model.params.map((p) => p.variable);
  const inputs = tf.tensor2d(batch.inputs, shape, 'int32');
  const targets = tf.tensor2d(batch.targets, shape, 'int32');
  const held: tf.Tensor[] = [inputs, targets];
  let grads: (tf.Tensor | undefined)[] = [];
  try {
    // The forward's outputs besides the loss, kept past variableGrads' scope.
    const fwd: { ce?: tf.Scalar; lb?: tf.Scalar; z?: tf.Scalar; stats?: tf.Tensor1D; moeLayers?: MoeLayerStats[] } = {};
    const { value, grads: named } = tf.variableGrads(() => {
      const o = model.computeLoss(inputs, targets, { training: true, rng });
      fwd.ce = tf.keep(o.ce);
      fwd.lb = tf.keep(o.loadBalancingLoss);
      fwd.z = tf.keep(o.routerZLoss);
      // The device path's routing statistics (LossOutput.moeStats) where the model left them on the device.
      fwd.stats = o.moeStats && tf.keep(o.moeStats);
      fwd.moeLayers = o.moeLayers;
      held.push(fwd.ce, fwd.lb, fwd.z, ...(fwd.stats ? [fwd.stats] : []));
      return o.loss;
    }, vars);
    held.push(value);
    grads = model.params.map((p) => named[p.variable.name]);
    const { stats } = fwd;
    /** [loss, ce, lb, z, ...extra, routing statistics] in one read. */
    const readStep = (extra: tf.Tensor[]) =>
      readAndDispose(tf.tidy(() => tf.concat([tf.stack([value, fwd.ce!, fwd.lb!, fwd.z!, ...extra]), ...(stats ? [stats] : [])])));
    const decode = (values: Float32Array, statsOffset: number): StepOutput => {
      const moeLayers = [...fwd.moeLayers!];
      const width = model.config.numExperts + 2;
      if (stats) for (let off = statsOffset; off < values.length; off += width) moeLayers.push(decodeMoeStats(values, model.config.numExperts, off));
      return { loss: values[0], trainLoss: values[1], loadBalancingLoss: values[2], routerZLoss: values[3], moeLayers, gradNorm: NaN };
    };
    if (!optimizer.deviceNorm) {
      const out = decode(await readStep([]), 4);
      out.reason = diverged(out.trainLoss);
      if (!out.reason) {
        const r = optimizer.applyGradients(grads, lrOf);
        out.gradNorm = r.gradNorm;
        if (!r.applied) out.reason = `gradient norm is ${r.gradNorm}`;
      }
      return out;
    }
    const r = optimizer.applyGradients(grads, lrOf);
    let values: Float32Array;
    try {
      values = await readStep([r.gradNormTensor!]);
    } finally {
      r.gradNormTensor?.dispose();
    }
    const out = decode(values, 5);
    out.reason = diverged(out.trainLoss);
    if (!out.reason) {
      out.gradNorm = values[4];
      if (!Number.isFinite(out.gradNorm)) out.reason = `gradient norm is ${out.gradNorm}`;
    }
    return out;
  } finally {
    tf.dispose(held);
    for (const g of grads) g?.dispose();
  }
}

const tokenizerVocab = (config: RunConfig) => (config.data.tokenizer.kind === 'byte' ? 256 : config.data.tokenizer.vocabSize);

export async function trainRun(config: RunConfig, runDir: string, options: TrainRunOptions): Promise<TrainRunResult> {
  const paths = runPaths(runDir);
  const runId = options.runId ?? config.name;
  const progress = options.progress;
  if (existsSync(paths.summary)) {
    const summary = decodeRunSummary(readJson<RunSummary>(paths.summary));
    return { status: 'skipped', summary, startStep: summary.steps, endStep: summary.steps };
  }

  // ---------------------------------------------------------------------------------------------
  // Pre-flight: a config too large for the machine is refused before anything is written.
  const limit = options.memoryLimit ?? { bytes: totalmem(), source: "this machine's memory" };
  checkTrainingMemory(resolveModelConfig(config.model), config.train.batchSize, limit.bytes, limit.source);

  // ---------------------------------------------------------------------------------------------
  // Data and budget checks: read-only, so a config that cannot run writes nothing.
  // A saved vocabulary is reused only if it is the kind and size configured; otherwise the config
  // changed, which the config comparison below reports.
  const onDisk = readJsonIfExists<TokenizerJson>(paths.tokenizer);
  const savedTokenizer =
    onDisk && onDisk.kind === config.data.tokenizer.kind && onDisk.vocabSize === tokenizerVocab(config) ? onDisk : undefined;
  const dataset = prepareDataset(config.data, { tokenizer: savedTokenizer, cacheDir: options.cacheDir, baseDir: options.baseDir });
  if (dataset.tokenizer.vocabSize !== config.model.vocabSize) {
    throw new ConfigError(
      'model.vocabSize',
      config.model.vocabSize,
      `Set model.vocabSize to ${dataset.tokenizer.vocabSize}.`,
      `differs from the tokenizer's vocabulary (${dataset.tokenizer.vocabSize})`,
    );
  }
  const derived = deriveRunCounts(config);
  const batchSize = config.train.batchSize;
  const seqLen = config.model.seqLen;
  const shape: [number, number] = [batchSize, seqLen];
  const stream = createTokenStream(dataset.tokens, { seqLen, batchSize, valTokens: config.data.valTokens, seed: config.seed });
  const valWindows = resolveValWindows(config.data.valTokens, seqLen, config.data.valWindows);
  checkDataBudget(stream, { steps: derived.steps, valWindows, repeat: config.data.repeat });
  // -- evaluation (src/train/evaluate.ts): the study's fixed validation set; the final evaluation
  // uses all of it, intermediate ones a fixed evenly spread subset of evalBatches × batchSize windows.
  const valSet = buildValidationSet(stream, valWindows, dataset.valDocumentStarts);
  const subset = evenSubset(valWindows, config.train.evalBatches * batchSize);
  const byteLengths = byteLengthsOf(dataset.tokenizer.toJSON());
  const evalRows = evalRowsPerPass(batchSize, seqLen);

  // ---------------------------------------------------------------------------------------------
  // Claim the run folder.
  mkdirSync(paths.dir, { recursive: true });
  const lock = acquireRunLock(paths.lock);
  const logLine = (line: string) => {
    appendFileSync(paths.log, `${new Date().toISOString()} ${line}\n`);
    progress?.log(`${runId}: ${line}`);
  };
  let model: MoeLm | undefined;
  let optimizer: AdamW | undefined;
  try {
    if (existsSync(paths.summary)) {
      const summary = decodeRunSummary(readJson<RunSummary>(paths.summary)); // finished while we prepared data
      return { status: 'skipped', summary, startStep: summary.steps, endStep: summary.steps };
    }
    // The model first: a config this backend's model cannot run (createModel throws) is refused
    // before config.json or anything else is written.
    model = options.createModel(resolveModelConfig(config.model), config.seed);
    const datasetInfo: DatasetInfo = {
      corpus: dataset.corpusSource,
      corpusHash: dataset.corpusHash,
      documents: dataset.documents,
      tokenizer: dataset.tokenizer.id,
      corpusTokens: dataset.tokens.length,
      trainTokens: stream.trainTokens,
      valTokens: stream.valTokens,
      unigramEntropy: unigramEntropy(dataset.tokens, 0, stream.trainTokens),
      valSet: {
        windows: valWindows,
        seqLen,
        documents: valSet.documentCount,
        intermediateWindows: subset.length,
        stride: valWindows > 1 ? valSet.starts[1] - valSet.starts[0] : 0,
      },
    };
    // Deleting a damaged config.json would let the run resume without its config checks, so the
    // way out named here is a backup or a fresh start.
    const saved = readJsonFileIfExists(paths.config, {
      fix: `Restore it from a backup, or delete the run folder ${paths.dir} to train the run from the start`,
    }) as RunConfigRecord | undefined;
    if (saved) {
      const diffs = configDifferences(saved.config, config);
      if (diffs.length > 0) {
        throw new ResumeMismatchError(
          `${paths.config}: this run folder was started with a different config (${diffs.join(', ')} differ). ` +
            `Use a new output folder, or restore the original values.`,
        );
      }
      const engineDiffs = engineDifferences(saved.engine, options.engine);
      if (engineDiffs.length > 0) {
        throw new ResumeMismatchError(
          `${paths.config}: this run was started with ${engineDiffs.map((d) => `${d.field} ${String(d.saved)}`).join(', ')} ` +
            `and would resume with ${engineDiffs.map((d) => `${d.field} ${String(d.current)}`).join(', ')}; floating-point ` +
            `reductions differ between them, so the resumed run would match neither setting. Resume with ` +
            `${engineDiffs.map((d) => ENGINE_FIX[d.field](d.saved)).join(' and ')}, or use a new output folder.`,
        );
      }
      if (saved.dataset && saved.dataset.corpusHash !== datasetInfo.corpusHash) {
        throw new ResumeMismatchError(
          `${paths.config}: the corpus ${datasetInfo.corpus} changed since this run started (sha256 ` +
            `${saved.dataset.corpusHash.slice(0, 12)}… then, ${datasetInfo.corpusHash.slice(0, 12)}… now), so the ` +
            `batches would differ. Restore the corpus, or use a new output folder.`,
        );
      }
    } else {
      const record: RunConfigRecord = {
        runId,
        config,
        derived,
        backend: options.backend ?? tf.getBackend(),
        ...(options.engine ? { engine: options.engine } : {}),
        provenance: provenance(),
        ...(options.budgetFlops !== undefined ? { budgetFlops: options.budgetFlops } : {}),
        ...(options.tags !== undefined ? { tags: options.tags } : {}),
        dataset: datasetInfo,
      };
      writeJsonAtomic(paths.config, record);
    }
    if (!savedTokenizer) writeJsonAtomic(paths.tokenizer, dataset.tokenizer.toJSON());

    // -------------------------------------------------------------------------------------------
    // Optimiser, and the state to continue from (the model was built before anything was written).
    optimizer = createAdamW(model.params, config.train.optimizer);
    const checkpoint = loadCheckpoint(paths.checkpoint, model.params, optimizer);
    const state: CheckpointState = checkpoint?.state ?? {
      step: 0,
      tokens: 0,
      dataCursor: { step: 0, epoch: 0 },
      rngState: deriveSeed(config.seed, 'routing'),
      firstLoss: null,
      bestValLoss: null,
      lastValLoss: null,
      wallSeconds: 0,
      interval: emptyInterval(),
    };
    const startStep = state.step;
    truncateMetrics(paths.metrics, state.step);
    logLine(
      startStep > 0
        ? `resuming at step ${startStep}/${derived.steps} from ${checkpoint!.dir}`
        : `starting: ${derived.steps} steps × ${derived.tokensPerStep} tokens, ` +
            `${derived.activatedParams.toLocaleString('en-US')} activated / ${derived.totalParams.toLocaleString('en-US')} total params, ` +
            `data ${dataset.prepareSeconds.toFixed(2)} s (cache: ${dataset.cache}), unigram entropy ${datasetInfo.unigramEntropy.toFixed(3)} nats`,
    );

    // -------------------------------------------------------------------------------------------
    // The loop.
    const T = derived.steps;
    const train = config.train;
    const expertMultiplier = expertLrMultiplier(config);
    const rng = createRng(state.rngState);
    const sessionStart = performance.now();
    const wallBefore = state.wallSeconds;
    const wallNow = () => wallBefore + (performance.now() - sessionStart) / 1000;
    let intervalStart = performance.now();
    let intervalTokens = 0;
    let lastCheckpointStep = startStep;
    const checkpointNow = async () => {
      state.wallSeconds = wallNow();
      await saveCheckpointAsync(paths.checkpoint, model!.params, optimizer!, state);
      // Weights read after a device error would be garbage: such a checkpoint must not stand.
      options.checkDevice?.();
      lastCheckpointStep = state.step;
    };
    // The final evaluation (whole validation set); recomputed from the restored weights when the
    // process died between the final checkpoint and the summary (evaluation is deterministic).
    let finalEval: EvalResult | undefined;
    const writeSummary = (status: 'done' | 'diverged', finalTrainLoss: number, reason?: string): RunSummary => {
      const done = status === 'done' && finalEval !== undefined;
      // Eval time of this run's kept metric rows (rows past a checkpoint are rewritten on resume).
      const evalSeconds = readJsonl<MetricRow>(paths.metrics).reduce((a, r) => a + (r.evalSeconds ?? 0), 0);
      const summary: RunSummary = {
        runId,
        status,
        ...(reason ? { reason } : {}),
        steps: state.step,
        tokens: state.tokens,
        computeFlops: state.tokens * derived.flopsPerToken,
        finalTrainLoss,
        finalValLoss: done ? finalEval!.loss : NaN,
        finalValLossStderr: done ? finalEval!.stderr : NaN,
        finalValBitsPerByte: done ? finalEval!.bitsPerByte : NaN,
        bestValLoss: state.bestValLoss ?? NaN,
        wallSeconds: wallNow(),
        evalSeconds,
        ...(done
          ? {
              finalEval: {
                windows: finalEval!.windows,
                tokens: finalEval!.tokens,
                documents: finalEval!.documents,
                stderrDocuments: finalEval!.stderrDocuments,
                seconds: finalEval!.seconds,
              },
            }
          : {}),
        provenance: provenance(),
      };
      writeJsonAtomic(paths.summary, summary);
      return summary;
    };

    options.onTrainingStart?.();
    progress?.start(T, startStep, runId);
    let lastTrainLoss = NaN;
    for (let step = startStep; step < T; step++) {
      if (options.signal?.aborted) {
        if (state.step > lastCheckpointStep) await checkpointNow();
        logLine(`interrupted at step ${state.step}; checkpoint saved`);
        progress?.stop();
        return { status: 'interrupted', startStep, endStep: state.step };
      }
      const lr = train.lr * lrFactor(train.schedule, step, T);
      const expertLr = lr * expertMultiplier;
      const batch = stream.trainBatch(step);
      const out = await trainStep(
        model,
        optimizer,
        batch,
        shape,
        rng,
        (group) => (group === 'specializedExperts' ? expertLr : lr),
        (trainLoss) => {
          state.firstLoss ??= trainLoss;
          return divergenceReason(trainLoss, state.firstLoss, train.divergenceFactor);
        },
      );
      options.checkDevice?.();
      let reason = out.reason;
      state.interval = accumulate(state.interval, out);
      state.step = step + 1;
      state.tokens = state.step * derived.tokensPerStep;
      state.dataCursor = { step: step + 1, epoch: Math.floor(((step + 1) * batchSize) / stream.windowsPerEpoch) };
      state.rngState = rng.state();
      intervalTokens += derived.tokensPerStep;
      lastTrainLoss = out.trainLoss;

      const isLast = step + 1 === T;
      let valLoss: number | undefined;
      let evaluation: EvalResult | undefined;
      if (!reason && (isLast || (step + 1) % train.evalEvery === 0)) {
        // The final evaluation uses the whole set, intermediate ones the fixed subset.
        evaluation = await evaluateValidationSetAsync(model, stream, valSet, byteLengths, {
          indices: isLast ? undefined : subset,
          rowsPerPass: evalRows,
        });
        options.checkDevice?.();
        if (isLast) finalEval = evaluation;
        valLoss = evaluation.loss;
        if (!Number.isFinite(valLoss)) reason = `validation loss is ${valLoss}`;
        state.lastValLoss = valLoss;
        state.bestValLoss = Math.min(state.bestValLoss ?? Infinity, valLoss);
      }
      if (reason || valLoss !== undefined || step === 0 || (step + 1) % train.logEvery === 0) {
        // Training throughput excludes the evaluation's time.
        const seconds = (performance.now() - intervalStart) / 1000 - (evaluation?.seconds ?? 0);
        const row: MetricRow = metricRow(state.interval, {
          step: state.step,
          tokens: state.tokens,
          flopsPerToken: derived.flopsPerToken,
          learningRate: lr,
          expertLearningRate: expertLr,
          valLoss,
          wallSeconds: wallNow(),
          tokensPerSec: intervalTokens / Math.max(seconds, 1e-9),
        });
        if (evaluation) {
          row.valLossStderr = evaluation.stderr;
          row.valWindows = evaluation.windows;
          row.evalSeconds = evaluation.seconds;
        }
        appendJsonl(paths.metrics, row);
        lastTrainLoss = row.trainLoss;
        state.interval = emptyInterval();
        intervalStart = performance.now();
        intervalTokens = 0;
        if (evaluation) {
          logLine(
            `step ${state.step}/${T}: train ${row.trainLoss.toFixed(4)}, val ${evaluation.loss.toFixed(4)} ± ${evaluation.stderr.toFixed(4)} ` +
              `(${evaluation.windows} windows, ${evaluation.documents} documents, eval ${evaluation.seconds.toFixed(2)} s)`,
          );
        }
      }
      if (reason) {
        const summary = writeSummary('diverged', out.trainLoss, `step ${step}: ${reason}`);
        logLine(`diverged at step ${step}: ${reason}`);
        progress?.stop();
        return { status: 'diverged', summary, startStep, endStep: state.step };
      }
      if (!isLast && state.step % train.checkpointEvery === 0) await checkpointNow();
      options.onStep?.(state.step);
      const elapsed = (performance.now() - sessionStart) / 1000;
      const sessionTokens = (state.step - startStep) * derived.tokensPerStep;
      progress?.update({
        step: state.step,
        totalSteps: T,
        tokens: state.tokens,
        tokensPerSec: sessionTokens / Math.max(elapsed, 1e-9),
        trainLoss: out.trainLoss,
        valLoss: state.lastValLoss ?? undefined,
        etaSeconds: ((T - state.step) * elapsed) / Math.max(1, state.step - startStep),
      });
      // Let timers (progress bar) and signal handlers run between steps.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }

    // -------------------------------------------------------------------------------------------
    // Teardown: the final checkpoint (weights kept for later analyses), then the summary.
    if (state.step > lastCheckpointStep) await checkpointNow();
    if (startStep === T) {
      // Killed between the final checkpoint and the summary: the last row has the final loss, and
      // the final evaluation is run again on the restored weights (same numbers).
      lastTrainLoss = readJsonl<MetricRow>(paths.metrics).at(-1)?.trainLoss ?? NaN;
      finalEval = await evaluateValidationSetAsync(model, stream, valSet, byteLengths, { rowsPerPass: evalRows });
      options.checkDevice?.();
    }
    const summary = writeSummary('done', lastTrainLoss);
    progress?.stop();
    logLine(
      `done: ${state.step} steps, ${state.tokens.toLocaleString('en-US')} tokens, final val ${summary.finalValLoss.toFixed(4)} ` +
        `± ${(summary.finalValLossStderr ?? NaN).toFixed(4)} (${(summary.finalValBitsPerByte ?? NaN).toFixed(4)} bits/byte), ` +
        `best val ${summary.bestValLoss.toFixed(4)}, ${summary.wallSeconds.toFixed(1)} s (${(summary.evalSeconds ?? 0).toFixed(1)} s evaluating)`,
    );
    return { status: 'done', summary, startStep, endStep: state.step };
  } finally {
    progress?.stop();
    model?.dispose();
    optimizer?.dispose();
    lock.release();
  }
}
