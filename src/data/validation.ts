// The fixed validation set of a study: pure functions on token offsets and per-window losses.
//
// The held-out split is the last `valTokens` tokens of the stream (stream.ts). Because the default
// corpus's documents are in a fixed pseudo-random order (corpus.ts), the split is a random sample of
// whole documents. The validation set is `valWindows` windows of seqLen + 1 tokens at evenly spaced
// offsets across the whole split (a systematic sample, so every held-out document contributes in
// proportion to its length). It depends only on the token stream, valTokens, valWindows and seqLen:
// never on the run seed or batch size, so every run of a study evaluates exactly the same windows.
//
//   window i starts at valStart + i · stride,  stride = ⌊(valTokens − 1) / valWindows⌋ ≥ seqLen
//
// The final evaluation uses every window; intermediate evaluations use a fixed, evenly spread
// subset (evenSubset). The loss of the set is the mean over all its target tokens (= the mean of
// the per-window means ℓ_i, every window having seqLen targets). Two standard errors, for two
// questions:
//
//   stderr           = s/√n, s the sample SD of the n window means: how far the set's loss may be
//                      from the loss of the WHOLE held-out split (what a bigger set would converge
//                      to). Under the systematic sample this is conservative (it counts the
//                      between-document spread the even spacing mostly removes); it is the number
//                      summary.json calls finalValLossStderr.
//   stderrDocuments  = √(G/(G − 1) · Σ_g (Σ_{i ∈ g} (ℓ_i − ℓ̄))²) / n, windows clustered by
//                      their G documents (the cluster-robust variance of a mean): how far it may be
//                      from the loss on NEW documents of the same corpus. Larger, because the
//                      held-out documents are themselves a sample; it is shared by every run of
//                      the study (same documents), so it cancels in comparisons between runs.
import { ConfigError } from '../errors.ts';

/** Windows of the validation set when data.valWindows is omitted: the most that fit, at most this. */
export const DEFAULT_MAX_VAL_WINDOWS = 1024;

/** data.valWindows, or its default for this split and sequence length. */
export function resolveValWindows(valTokens: number, seqLen: number, configured: number | undefined): number {
  return configured ?? Math.max(1, Math.min(DEFAULT_MAX_VAL_WINDOWS, Math.floor((valTokens - 1) / seqLen)));
}

/**
 * Start offsets (in the stream) of the validation windows: `windows` windows evenly spaced over the
 * held-out split [valStart, valStart + valTokens). Each window needs seqLen + 1 tokens; windows never
 * overlap (stride ≥ seqLen). Throws a ConfigError naming data.valWindows when they do not fit.
 */
export function validationWindowStarts(valStart: number, valTokens: number, seqLen: number, windows: number): Int32Array {
  const stride = Math.floor((valTokens - 1) / windows);
  if (!Number.isInteger(windows) || windows < 1 || stride < seqLen) {
    const max = Math.floor((valTokens - 1) / seqLen);
    throw new ConfigError(
      'data.valWindows',
      windows,
      `Use data.valWindows <= ${max}, or raise data.valTokens to >= ${windows * seqLen + 1}.`,
      `${windows} windows of ${seqLen} tokens do not fit in the validation split of ${valTokens} tokens`,
    );
  }
  const starts = new Int32Array(windows);
  for (let i = 0; i < windows; i++) starts[i] = valStart + i * stride;
  return starts;
}

/** `k` indices of 0..n−1 spread evenly (⌊j·n/k⌋, j < k); all of them when k ≥ n. */
export function evenSubset(n: number, k: number): Int32Array {
  if (k >= n) return Int32Array.from({ length: n }, (_, i) => i);
  const out = new Int32Array(Math.max(0, k));
  for (let j = 0; j < k; j++) out[j] = Math.floor((j * n) / k);
  return out;
}

/**
 * Token offsets where the last documents of the stream start, ascending, back to the first document
 * that starts at or before `from` (so every token at or after `from` lies in a listed document).
 * The stream is the documents joined by a separator of `separatorTokens` tokens; `lengthOf(d)` is
 * the token count of document d alone. Exact for byte-level tokens; for BPE a boundary may be off
 * by a token (merges at a document's edges), which only matters for clustering.
 */
export function documentStartsFrom(
  documentCount: number,
  lengthOf: (doc: number) => number,
  separatorTokens: number,
  totalTokens: number,
  from: number,
): number[] {
  const starts: number[] = [];
  let end = totalTokens;
  for (let d = documentCount - 1; d >= 0; d--) {
    const start = Math.max(0, end - lengthOf(d));
    starts.push(start);
    if (start <= from || start === 0) break;
    end = start - separatorTokens;
  }
  return starts.reverse();
}

/** Cluster (document) index of each window: the last document starting at or before its first token. */
export function windowDocuments(starts: ArrayLike<number>, documentStarts: readonly number[]): Int32Array {
  const out = new Int32Array(starts.length);
  if (documentStarts.length === 0) return out;
  let d = 0;
  for (let i = 0; i < starts.length; i++) {
    // windows are ascending, so the document index only moves forward
    while (d + 1 < documentStarts.length && documentStarts[d + 1] <= starts[i]) d++;
    out[i] = d;
  }
  return out;
}

export interface SetLoss {
  /** Mean loss over the windows (nats/token). */
  mean: number;
  /** s/√n over windows: the standard error against the whole held-out split's loss (see header). */
  stderr: number;
  /** Documents as clusters: the standard error against the loss on new documents (see header). */
  stderrDocuments: number;
  windows: number;
  /** Distinct clusters (documents) the windows fall in. */
  clusters: number;
}

/**
 * Mean of the per-window losses with its two standard errors: over windows (s/√n) and with windows
 * clustered by `clusters` (document index per window; any integer labels; NaN for one cluster).
 */
export function clusteredMean(windowLosses: ArrayLike<number>, clusters: ArrayLike<number>): SetLoss {
  const n = windowLosses.length;
  if (n === 0) return { mean: NaN, stderr: NaN, stderrDocuments: NaN, windows: 0, clusters: 0 };
  let sum = 0;
  for (let i = 0; i < n; i++) sum += windowLosses[i];
  const mean = sum / n;
  const residualSums = new Map<number, number>();
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const r = windowLosses[i] - mean;
    ss += r * r;
    residualSums.set(clusters[i], (residualSums.get(clusters[i]) ?? 0) + r);
  }
  const g = residualSums.size;
  let between = 0;
  for (const s of residualSums.values()) between += s * s;
  return {
    mean,
    stderr: n > 1 ? Math.sqrt(ss / (n - 1) / n) : NaN,
    stderrDocuments: g > 1 ? Math.sqrt(((g / (g - 1)) * between) / (n * n)) : NaN,
    windows: n,
    clusters: g,
  };
}

/**
 * Bytes of text each token id stands for (tokenizer-free bits per byte): 1 for the 256 byte ids,
 * and for BPE merge i (id 256 + i) the sum of its two parts.
 */
export function tokenByteLengths(vocabSize: number, merges: readonly (readonly [number, number])[] = []): Uint32Array {
  const out = new Uint32Array(Math.max(vocabSize, 256 + merges.length));
  for (let i = 0; i < 256; i++) out[i] = 1;
  merges.forEach(([a, b], i) => {
    out[256 + i] = out[a] + out[b];
  });
  return out;
}

/** Bits per byte of text: total nats over the targets / (ln 2 · the bytes those targets decode to). */
export function bitsPerByte(totalNats: number, totalBytes: number): number {
  return totalNats / (Math.LN2 * totalBytes);
}
