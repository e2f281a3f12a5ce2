// Evaluation of a model on the study's fixed validation set (src/data/validation.ts): forward passes
// only, evaluation routing (every token to its top-k experts, no capacity, no RNG: model/moe.ts
// evaluationSettings), per-window losses on the host, then the set's mean loss, its standard errors
// and bits per byte. Nothing here touches the training RNG, the optimiser
// or the training FLOP count; the time it takes is returned so callers can report it apart.
import * as tf from '@tensorflow/tfjs';
import type { Batch, TokenStream } from '../data/stream.ts';
import type { TokenizerJson } from '../data/tokenizer.ts';
import { bitsPerByte, clusteredMean, tokenByteLengths, validationWindowStarts, windowDocuments } from '../data/validation.ts';
import type { MoeLm } from '../model/types.ts';

export interface ValidationSet {
  /** Stream offset of each window's first token, ascending. */
  starts: Int32Array;
  /** Held-out document (cluster) index of each window. */
  documents: Int32Array;
  /** Distinct documents the windows fall in. */
  documentCount: number;
  seqLen: number;
}

/** The validation set of a stream: `windows` evenly spaced windows, labelled by document. */
export function buildValidationSet(stream: TokenStream, windows: number, valDocumentStarts: readonly number[]): ValidationSet {
  const { seqLen } = stream.args;
  const starts = validationWindowStarts(stream.valStart, stream.valTokens, seqLen, windows);
  const documents = windowDocuments(starts, valDocumentStarts);
  return { starts, documents, documentCount: new Set(documents).size, seqLen };
}

export interface EvalResult {
  /** Mean cross-entropy over every target token of the windows evaluated (nats/token). */
  loss: number;
  /** Standard error of `loss` against the whole held-out split's loss: s/√n over windows (validation.ts). */
  stderr: number;
  /** Standard error against the loss on new documents: windows clustered by document (validation.ts). */
  stderrDocuments: number;
  /** loss in bits per byte of text (tokenizer-free). */
  bitsPerByte: number;
  windows: number;
  tokens: number;
  /** Documents the evaluated windows fall in. */
  documents: number;
  /** Wall-clock seconds of this evaluation. */
  seconds: number;
  /** Mean loss of each evaluated window, in the order of the indices. */
  windowLosses: Float64Array;
}

/** Tokens per evaluation forward pass at least (tiny models: fewer, larger passes amortise per-op cost). */
export const EVAL_TOKENS_PER_PASS = 8192;

/**
 * Windows per evaluation forward pass: the training batch, or more when that is under
 * EVAL_TOKENS_PER_PASS tokens. Evaluation routing makes the losses independent of it (up to float
 * rounding); a run always uses the same value, so its evaluations are bit-identical.
 */
export function evalRowsPerPass(batchSize: number, seqLen: number): number {
  return Math.max(batchSize, Math.floor(EVAL_TOKENS_PER_PASS / seqLen));
}

/** Bytes per token id for bits per byte (1 each for the byte tokenizer). */
export function byteLengthsOf(tokenizer: TokenizerJson): Uint32Array {
  return tokenizer.kind === 'byte' ? tokenByteLengths(256) : tokenByteLengths(tokenizer.vocabSize, tokenizer.merges);
}

interface EvalOptions {
  indices?: ArrayLike<number>;
  rowsPerPass: number;
}

/**
 * One evaluation as a sequence of forward passes: `launch(p)` runs pass p and returns its
 * per-token losses (a tensor the caller reads and disposes), `absorb(p, losses)` takes the values
 * read, `result()` the statistics. The sync and async drivers below differ only in how they read.
 */
function evaluationPasses(model: MoeLm, stream: TokenStream, set: ValidationSet, byteLengths: ArrayLike<number>, options: EvalOptions) {
  const t0 = performance.now();
  const { seqLen } = set;
  const indices = options.indices ?? Int32Array.from({ length: set.starts.length }, (_, i) => i);
  const n = indices.length;
  const windowLoss = new Float64Array(n);
  const clusters = new Int32Array(n);
  let nats = 0;
  let bytes = 0;
  // Every pass has the same shape (the last one padded with repeats of its last window, whose
  // losses are ignored), so the model caches one set of shape constants per evaluation size.
  const passRows = Math.min(Math.max(1, Math.floor(options.rowsPerPass)), n);
  const count = Math.ceil(n / passRows);
  const rowsOf = (p: number) => Math.min(passRows, n - p * passRows);
  const batchOf = (p: number) =>
    stream.windowBatch(Int32Array.from({ length: passRows }, (_, r) => set.starts[indices[p * passRows + Math.min(r, rowsOf(p) - 1)]]));
  // The batch of the pass launched last (passes are launched and absorbed one at a time, in order).
  let batch: Batch | undefined;
  return {
    count,
    launch(p: number): tf.Tensor1D {
      const b = (batch = batchOf(p));
      return tf.tidy(() => {
        const inputs = tf.tensor2d(b.inputs, [passRows, seqLen], 'int32');
        const targets = tf.tensor2d(b.targets, [passRows, seqLen], 'int32');
        const out = model.computeLoss(inputs, targets, { training: false, tokenLosses: true });
        if (!out.tokenLosses) throw new Error('evaluateValidationSet: the model did not return tokenLosses when asked.');
        return out.tokenLosses;
      });
    },
    absorb(p: number, losses: ArrayLike<number>): void {
      const targets = batch!.targets;
      const first = p * passRows;
      for (let r = 0; r < rowsOf(p); r++) {
        let s = 0;
        for (let t = 0; t < seqLen; t++) {
          s += losses[r * seqLen + t];
          bytes += byteLengths[targets[r * seqLen + t]];
        }
        nats += s;
        windowLoss[first + r] = s / seqLen;
        clusters[first + r] = set.documents[indices[first + r]];
      }
    },
    result(): EvalResult {
      const stats = clusteredMean(windowLoss, clusters);
      return {
        loss: stats.mean,
        stderr: stats.stderr,
        stderrDocuments: stats.stderrDocuments,
        bitsPerByte: bitsPerByte(nats, bytes),
        windows: n,
        tokens: n * seqLen,
        documents: stats.clusters,
        seconds: (performance.now() - t0) / 1000,
        windowLosses: windowLoss,
      };
    },
  };
}

/**
 * Evaluate `model` on the windows `indices` of `set` (all when omitted), `rowsPerPass` windows per
 * forward pass. Deterministic: the same weights give bit-identical results. Reads each pass's
 * losses with `dataSync` (backends with synchronous reads); the training loop uses
 * evaluateValidationSetAsync, which gives the same numbers.
 */
export function evaluateValidationSet(
  model: MoeLm,
  stream: TokenStream,
  set: ValidationSet,
  byteLengths: ArrayLike<number>,
  options: EvalOptions,
): EvalResult {
  const passes = evaluationPasses(model, stream, set, byteLengths, options);
  for (let p = 0; p < passes.count; p++) {
    const losses = passes.launch(p);
    try {
      passes.absorb(p, losses.dataSync());
    } finally {
      losses.dispose();
    }
  }
  return passes.result();
}

/** evaluateValidationSet with one `await data()` per forward pass: every backend, webgpu included. */
export async function evaluateValidationSetAsync(
  model: MoeLm,
  stream: TokenStream,
  set: ValidationSet,
  byteLengths: ArrayLike<number>,
  options: EvalOptions,
): Promise<EvalResult> {
  const passes = evaluationPasses(model, stream, set, byteLengths, options);
  for (let p = 0; p < passes.count; p++) {
    const losses = passes.launch(p);
    try {
      passes.absorb(p, await losses.data());
    } finally {
      losses.dispose();
    }
  }
  return passes.result();
}
