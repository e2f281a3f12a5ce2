// The results/ layout (docs/architecture.md#results-layout) and the record types every stage exchanges. This is the only
// module that knows paths inside a sweep or run folder.
//
//   results/<sweep>/
//     sweep.json  plan.json
//     runs/<runId>/{config.json, metrics.jsonl, checkpoint/, summary.json, train.log}
//     fits/<fitId>.json
//     report/{index.html, report.md, figures/, tables/}
import { join, resolve } from 'node:path';
import type { RunConfig } from '../config/schema.ts';
import type { Provenance } from '../util/provenance.ts';
import { PROJECT_ROOT } from '../util/provenance.ts';
import type { RunTags } from './tags.ts';

/**
 * Where sweeps go when no --out is given: `$MOELAB_RESULTS` if set (the CLI's global `--results
 * DIR` sets it), else `results/` under the current directory — never inside the installed
 * package. Read at each call, so a flag parsed after import still applies.
 */
export function resultsRoot(): string {
  const env = process.env.MOELAB_RESULTS;
  return resolve(env && env.trim() !== '' ? env : join(process.cwd(), 'results'));
}

/** Machine-level caches of the toolkit (e.g. measured training throughput per backend). */
export function resultsCacheDir(): string {
  return join(resultsRoot(), '.cache');
}

export function runPaths(runDir: string) {
  const dir = resolve(runDir);
  return {
    dir,
    config: join(dir, 'config.json'),
    metrics: join(dir, 'metrics.jsonl'),
    checkpoint: join(dir, 'checkpoint'),
    summary: join(dir, 'summary.json'),
    log: join(dir, 'train.log'),
    lock: join(dir, '.lock'),
    /** stdout + stderr of the sweep worker that ran `moelab train` for this run (src/sweep/runner.ts). */
    workerLog: join(dir, 'worker.log'),
    /** Written by the sweep runner / Slurm task when training exited abnormally; removed on retry. */
    failed: join(dir, 'failed.json'),
    tokenizer: join(dir, 'tokenizer.json'),
  };
}

export function sweepPaths(sweepDir: string) {
  const dir = resolve(sweepDir);
  return {
    dir,
    sweep: join(dir, 'sweep.json'),
    plan: join(dir, 'plan.json'),
    runs: join(dir, 'runs'),
    run: (runId: string) => join(dir, 'runs', runId),
    fits: join(dir, 'fits'),
    fit: (fitId: string) => join(dir, 'fits', `${fitId}.json`),
    report: join(dir, 'report'),
    /** Slurm job-array script, submissions and task logs (src/sweep/slurm.ts). */
    slurm: join(dir, 'slurm'),
  };
}

// ---------------------------------------------------------------------------------------------
// Records

/** Counts derived from a run config before step 0 (src/model/count.ts computes them). */
export interface DerivedCounts {
  totalParams: number;
  activatedParams: number;
  nonEmbeddingParams: number;
  activatedNonEmbeddingParams: number;
  /** Exact training FLOPs per token at the run's seqLen (3 × forward). */
  flopsPerToken: number;
  tokensPerStep: number;
  steps: number;
  /** Tokens actually trained: steps × tokensPerStep (≤ the configured budget). */
  tokens: number;
  /** flopsPerToken × tokens. */
  computeFlops: number;
}

/** The run's token stream (written by trainRun into config.json). */
export interface DatasetInfo {
  /** "default" or the corpus path. */
  corpus: string;
  corpusHash: string;
  documents: number;
  /** Tokenizer fingerprint ("byte" or "bpe<V>-<hash>"); the vocabulary is runs/<runId>/tokenizer.json. */
  tokenizer: string;
  corpusTokens: number;
  trainTokens: number;
  valTokens: number;
  /** Entropy of the train split's token frequencies (nats/token): the loss of a unigram model. */
  unigramEntropy: number;
  /**
   * The fixed validation set (src/data/validation.ts): `windows` windows of seqLen tokens every
   * `stride` tokens across the held-out split, in `documents` documents; intermediate evaluations
   * use `intermediateWindows` of them.
   */
  valSet?: { windows: number; seqLen: number; documents: number; intermediateWindows: number; stride: number };
}

/**
 * What of the engine a run's numbers depend on: OpenBLAS splits a product's inner dimension
 * differently with 1 and 2 threads (docs/training.md "Guarantees"), and other backends or kernels
 * round differently, so these are part of a run's identity.
 */
export interface EngineRecord {
  backend: string;
  /** wasm worker threads. */
  threads: number;
  simd: boolean;
  nativeMatmul: boolean;
  /** OpenBLAS threads of the native kernel (0 when it is off). */
  blasThreads: number;
  /**
   * Which fused kernels ran (src/engine/fused-kernels.ts fusedKernelMode): C and JavaScript round
   * differently. Absent in records written before it was recorded (then not compared).
   */
  fusedKernels?: 'native' | 'js' | 'off';
}

/** runs/<runId>/config.json — written before step 0. */
export interface RunConfigRecord {
  runId: string;
  config: RunConfig;
  derived: DerivedCounts;
  backend: string;
  /**
   * The engine settings that change floating-point results (reduction order), recorded so a
   * resume under other settings is refused (src/train/loop.ts, engineDifferences).
   */
  engine?: EngineRecord;
  provenance: Provenance;
  /** Compute budget of the isoFLOP cell this run belongs to (copied from its plan entry). */
  budgetFlops?: number;
  /** What analyses group the run by, copied from its plan entry (src/io/tags.ts). */
  tags?: RunTags;
  dataset?: DatasetInfo;
}

/** One line of metrics.jsonl (flat camelCase, docs/architecture.md#naming). */
export interface MetricRow {
  step: number;
  tokens: number;
  computeFlops: number;
  /** Base-group LR at this step. */
  learningRate: number;
  /** Specialized-expert LR at this step (equals learningRate unless expert LR scaling is on). */
  expertLearningRate: number;
  trainLoss: number;
  valLoss?: number;
  /** Standard error of valLoss over its windows (s/√n; src/data/validation.ts). */
  valLossStderr?: number;
  /** Validation windows the evaluation used (the whole set at the last step, a subset before). */
  valWindows?: number;
  /** Wall-clock seconds of the evaluation (not in tokensPerSec, not in computeFlops). */
  evalSeconds?: number;
  loadBalancingLoss: number;
  routerZLoss: number;
  droppedTokenFraction: number;
  recycledTokenFraction: number;
  /** Fraction of routed assignments per specialized expert (sums to 1), layer-averaged. */
  expertUsage?: number[];
  gradNorm: number;
  wallSeconds: number;
  tokensPerSec: number;
}

export type RunStatus = 'done' | 'diverged';

/** runs/<runId>/summary.json — written last, atomically; its presence means the run ended. */
export interface RunSummary {
  runId: string;
  status: RunStatus;
  /** Why a diverged run stopped (NaN loss, loss above divergenceFactor × first loss). */
  reason?: string;
  steps: number;
  tokens: number;
  computeFlops: number;
  finalTrainLoss: number;
  /** Mean cross-entropy (nats/token) of the final weights on the whole validation set. */
  finalValLoss: number;
  /**
   * Standard error of finalValLoss over the set's windows (s/√n): against the loss of the whole
   * held-out split (docs/training.md). This and the other evaluation fields are always written;
   * older summaries lack them.
   */
  finalValLossStderr?: number;
  /** finalValLoss in bits per byte of text: tokenizer-free, so byte-level and BPE runs compare. */
  finalValBitsPerByte?: number;
  /** Lowest validation loss of the run (intermediate evaluations use a subset of the set). */
  bestValLoss: number;
  /** Training + evaluation wall time, summed over sessions. */
  wallSeconds: number;
  /** Of wallSeconds, the time spent evaluating (every evaluation of the kept metric rows). */
  evalSeconds?: number;
  /**
   * The final evaluation: windows and tokens of the set, the held-out documents they fall in, the
   * standard error against the loss on new documents (windows clustered by document), seconds.
   */
  finalEval?: { windows: number; tokens: number; documents: number; stderrDocuments: number; seconds: number };
  provenance: Provenance;
}
