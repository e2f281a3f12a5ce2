// Deterministic batches: a pure function of (seed, step), so a resumed run sees exactly the data an
// uninterrupted run would have seen, with no data-loader state to save.
//
// Layout of the token stream (tokens of the whole corpus, in corpus order):
//   [ train split ........................................ | validation split (valTokens) ]
// The train split is cut into non-overlapping windows of seqLen + 1 tokens that share their last
// token with the next window's first (inputs = window[0..seqLen), targets = window[1..seqLen]).
// Sample g of the run (g = step · batchSize + row) is window perm_e[g mod M] of epoch
// e = floor(g / M), where M is the number of windows and perm_e a seeded permutation per epoch.
// A run never sees a window twice within an epoch; past one epoch it only continues when
// data.repeat is true. Validation windows are read at fixed offsets of the validation split chosen
// by validation.ts (the same for every run of a study), never by the seed.
import { ConfigError } from '../errors.ts';
import { createRng, deriveSeed } from '../util/rng.ts';
import { validationWindowStarts } from './validation.ts';

export interface StreamArgs {
  seqLen: number;
  /** Sequences per batch. */
  batchSize: number;
  /** Tokens held out at the end of the stream for validation. */
  valTokens: number;
  /** Run seed: fixes the order of training windows. */
  seed: number;
}

export interface Batch {
  /** int32 [batchSize · seqLen], row-major [batchSize, seqLen]. */
  inputs: Int32Array;
  /** int32 [batchSize · seqLen]: inputs shifted by one token. */
  targets: Int32Array;
  /** Epoch (pass over the training windows) this batch's first row comes from. */
  epoch: number;
}

export interface TokenStream {
  readonly args: StreamArgs;
  /** Tokens in the train split. */
  readonly trainTokens: number;
  /** Tokens in the validation split. */
  readonly valTokens: number;
  /** Training windows per epoch (M). */
  readonly windowsPerEpoch: number;
  /** Stream offset of the validation split's first token (= trainTokens). */
  readonly valStart: number;
  /** Non-overlapping validation windows the split could hold (⌊(valTokens − 1) / seqLen⌋). */
  readonly valWindows: number;
  /** The training batch of `step` (pure in (seed, step)). */
  trainBatch(step: number): Batch;
  /** The windows of seqLen + 1 tokens starting at `starts` (stream offsets), one row each. */
  windowBatch(starts: ArrayLike<number>): Batch;
}

/** Uniform random permutation of 0..n-1 (Fisher–Yates with a seeded RNG). */
function permutation(n: number, seed: number): Uint32Array {
  const perm = new Uint32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  const rng = createRng(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  return perm;
}

export function createTokenStream(tokens: ArrayLike<number>, args: StreamArgs): TokenStream {
  const { seqLen, batchSize, valTokens, seed } = args;
  // One training window and one validation window of seqLen + 1 tokens is the least a run needs;
  // a corpus shorter than that is a sequence length problem, whatever valTokens says.
  if (2 * (seqLen + 1) > tokens.length) {
    throw new ConfigError(
      'model.seqLen',
      seqLen,
      `Use model.seqLen <= ${Math.max(1, Math.floor(tokens.length / 2) - 1)} (for this corpus), or a larger corpus.`,
      `the corpus has only ${tokens.length} tokens, fewer than one training and one validation window of seqLen + 1 tokens`,
    );
  }
  if (valTokens >= tokens.length - seqLen) {
    throw new ConfigError(
      'data.valTokens',
      valTokens,
      `Use data.valTokens well below the corpus size (${tokens.length} tokens), or a larger corpus.`,
      'the validation split leaves no training data',
    );
  }
  const trainTokens = tokens.length - valTokens;
  const windowsPerEpoch = Math.floor((trainTokens - 1) / seqLen);
  const valWindows = Math.floor((valTokens - 1) / seqLen);
  const valStart = trainTokens;
  // Permutations of the last epochs used (a run touches at most two at a time).
  const perms = new Map<number, Uint32Array>();
  const permOf = (epoch: number) => {
    let p = perms.get(epoch);
    if (p === undefined) {
      p = permutation(windowsPerEpoch, deriveSeed(seed, 'data-epoch', epoch));
      if (perms.size >= 2) perms.delete(perms.keys().next().value as number);
      perms.set(epoch, p);
    }
    return p;
  };
  const fill = (row: number, start: number, inputs: Int32Array, targets: Int32Array) => {
    const off = row * seqLen;
    for (let t = 0; t < seqLen; t++) {
      inputs[off + t] = tokens[start + t];
      targets[off + t] = tokens[start + t + 1];
    }
  };
  return {
    args,
    trainTokens,
    valTokens,
    windowsPerEpoch,
    valStart,
    valWindows,
    trainBatch(step) {
      const inputs = new Int32Array(batchSize * seqLen);
      const targets = new Int32Array(batchSize * seqLen);
      const first = step * batchSize;
      for (let row = 0; row < batchSize; row++) {
        const g = first + row;
        const epoch = Math.floor(g / windowsPerEpoch);
        fill(row, permOf(epoch)[g % windowsPerEpoch] * seqLen, inputs, targets);
      }
      return { inputs, targets, epoch: Math.floor(first / windowsPerEpoch) };
    },
    windowBatch(starts) {
      const rows = starts.length;
      const inputs = new Int32Array(rows * seqLen);
      const targets = new Int32Array(rows * seqLen);
      for (let row = 0; row < rows; row++) {
        const start = starts[row];
        if (!(start >= 0 && start + seqLen < tokens.length)) {
          throw new RangeError(`window at ${start} needs ${seqLen + 1} tokens; the stream has ${tokens.length}`);
        }
        fill(row, start, inputs, targets);
      }
      return { inputs, targets, epoch: 0 };
    },
  };
}

/**
 * The corpus-size checks of a run, as ConfigErrors naming the field to change: the training
 * budget must fit in one pass over the train split unless `repeat` is set, and the validation
 * split must hold the validation set's valWindows windows.
 */
export function checkDataBudget(
  stream: TokenStream,
  run: { steps: number; valWindows: number; repeat: boolean },
): void {
  const { batchSize, seqLen } = stream.args;
  const samples = run.steps * batchSize;
  if (!run.repeat && samples > stream.windowsPerEpoch) {
    const maxTokens = stream.windowsPerEpoch * seqLen;
    throw new ConfigError(
      'train.tokens',
      run.steps * batchSize * seqLen,
      `Use train.tokens <= ${maxTokens}, a larger corpus, or data.repeat: true to allow ` +
        `${(samples / stream.windowsPerEpoch).toFixed(2)} passes over the data.`,
      `the run needs ${samples} windows of ${seqLen} tokens but the corpus's train split ` +
        `(${stream.trainTokens} tokens) has only ${stream.windowsPerEpoch}`,
    );
  }
  // the validation set must fit in the split (throws naming data.valWindows)
  validationWindowStarts(stream.valStart, stream.valTokens, seqLen, run.valWindows);
}

/** Entropy (nats/token) of the token frequencies in tokens[from, to): the unigram baseline loss. */
export function unigramEntropy(tokens: ArrayLike<number>, from = 0, to = tokens.length): number {
  const counts = new Float64Array(65536); // ids are uint16
  for (let i = from; i < to; i++) counts[tokens[i]]++;
  const n = to - from;
  let h = 0;
  for (const c of counts) if (c > 0) h -= (c / n) * Math.log(c / n);
  return h;
}
