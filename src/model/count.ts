// Exact parameter, FLOP and KV-cache accounting for the model family of transformer.ts (pure
// functions on a ResolvedModelConfig; no tensors). Every scaling law is measured in these numbers,
// and test/model/transformer.test.ts checks them against the real tf.Variable sizes.
//
// Symbols (docs/references.md#compute-formula, docs/references.md#attention, docs/references.md#reproduction-needs):
//   N  parameters of a named kind (see ParamKind; the paper's N is *activated* parameters)
//   D  training tokens
//   C  training FLOPs
//   l  numLayers, d dModel, h numHeads, g numKvHeads, d_h headDim, T seqLen, V vocabSize,
//   E  numExperts (specialized), k topK, s numSharedExperts
//
// Conventions (docs/model.md "Model and accounting"):
// - Embedding parameters = the input table V·d, plus the output head V·d when it is untied.
//   "Non-embedding" excludes both; a tied table is counted once.
// - Activated = what one token uses: embeddings, attention, norms, router, shared experts, and k of
//   the E specialized experts (dense FFN for dense models).
// - Training FLOPs per token = 3 × forward (backward = 2 × forward); forward counts the
//   multiply-adds of every matmul as 2 FLOPs: projections, attention scores and values over the
//   mean number of attended positions ((T+1)/2 when causal), router, experts, output layer.
//   Norms, softmax, activations and the embedding lookup are not counted (standard convention).
import { DataError } from '../errors.ts';
import type { ResolvedModelConfig } from '../config/resolve.ts';

// ---------------------------------------------------------------------------------------------
// Structure shared with the model code (one source of truth for what exists)

/** Dense model: no specialized experts, or a single expert with no shared expert (= dense FFN). */
export function isDenseModel(config: ResolvedModelConfig): boolean {
  return config.numExperts === 0 || (config.numExperts === 1 && config.numSharedExperts === 0);
}

/** CLA: layer i projects its own K/V iff i % claShareFactor = 0; the others reuse the owner's. */
export function hasKvProjection(layer: number, claShareFactor: number): boolean {
  return layer % claShareFactor === 0;
}

/** Layers that project (and would cache) K/V: ceil(numLayers / claShareFactor). */
export function kvLayerCount(numLayers: number, claShareFactor: number): number {
  return Math.ceil(numLayers / claShareFactor);
}

// ---------------------------------------------------------------------------------------------
// Parameters

export type ParamKind = 'totalParams' | 'nonEmbeddingParams' | 'activatedParams' | 'activatedNonEmbeddingParams';

export interface ParamCounts {
  /** Input table, plus the output head when untied. */
  embedding: number;
  /** q, k, v (owner layers only), o projections. */
  attention: number;
  /** Block RMSNorms, the final norm and the QK-norms. */
  norms: number;
  router: number;
  /** Dense FFN (dense models only). */
  ffn: number;
  sharedExperts: number;
  /** All E specialized experts of all layers. */
  specializedExperts: number;
  /** One specialized expert of one layer (3·d·dFf). */
  perExpert: number;
  totalParams: number;
  nonEmbeddingParams: number;
  /** Per token: everything but the (E − k) unchosen specialized experts of each layer. */
  activatedParams: number;
  activatedNonEmbeddingParams: number;
}

/** SwiGLU MLP d → width → d: gate, up, down. */
function swigluParams(d: number, width: number): number {
  return 3 * d * width;
}

export function countParams(config: ResolvedModelConfig): ParamCounts {
  const { vocabSize: V, dModel: d, numLayers: l, numHeads: h, numKvHeads: g, headDim: dh } = config;
  const embedding = V * d * (config.tieEmbeddings ? 1 : 2);
  const kvLayers = kvLayerCount(l, config.claShareFactor);
  const attention = l * (d * h * dh + h * dh * d) + kvLayers * 2 * d * g * dh;
  const norms = l * 2 * d + d + (config.qkNorm ? l * 2 * dh : 0);

  const dense = isDenseModel(config);
  const ffn = dense ? l * swigluParams(d, config.dFf) : 0;
  const E = dense ? 0 : config.numExperts;
  const router = l * d * E;
  const perExpert = dense ? 0 : swigluParams(d, config.dFf);
  const sharedExperts = dense ? 0 : l * swigluParams(d, config.numSharedExperts * config.sharedDFf);
  const specializedExperts = l * E * perExpert;

  const totalParams = embedding + attention + norms + router + ffn + sharedExperts + specializedExperts;
  const activatedParams = totalParams - l * (E - Math.min(config.topK, E)) * perExpert;
  return {
    embedding,
    attention,
    norms,
    router,
    ffn,
    sharedExperts,
    specializedExperts,
    perExpert,
    totalParams,
    nonEmbeddingParams: totalParams - embedding,
    activatedParams,
    activatedNonEmbeddingParams: activatedParams - embedding,
  };
}

// ---------------------------------------------------------------------------------------------
// FLOPs

export interface FlopOptions {
  /** Sequence length for the attention term (default: config.seqLen). */
  seqLen?: number;
  /** Causal attention attends to (T+1)/2 positions on average instead of T (default true). */
  causal?: boolean;
  /** Count the router matmul (default true). */
  countRouter?: boolean;
  /** Count the output layer (default true). */
  countLmHead?: boolean;
}

export interface FlopBreakdown {
  /** Forward FLOPs per token by component. */
  forward: {
    attentionProjections: number;
    attentionScores: number;
    router: number;
    ffn: number;
    lmHead: number;
    total: number;
  };
  /** Training FLOPs per token = 3 × forward.total. */
  flopsPerToken: number;
}

export function flopBreakdown(config: ResolvedModelConfig, options: FlopOptions = {}): FlopBreakdown {
  const { vocabSize: V, dModel: d, numLayers: l, numHeads: h, numKvHeads: g, headDim: dh } = config;
  const T = options.seqLen ?? config.seqLen;
  const causal = options.causal ?? true;
  const kvLayers = kvLayerCount(l, config.claShareFactor);
  // Attended key positions per query, averaged over the sequence.
  const ctx = causal ? (T + 1) / 2 : T;

  const attentionProjections = 2 * (l * 2 * d * h * dh + kvLayers * 2 * d * g * dh);
  // QKᵀ and P·V: each h·d_h multiply-adds per attended position.
  const attentionScores = l * 2 * 2 * h * dh * ctx;
  const dense = isDenseModel(config);
  const router = dense || options.countRouter === false ? 0 : 2 * l * d * config.numExperts;
  const ffn = dense
    ? 2 * l * swigluParams(d, config.dFf)
    : 2 * l * (swigluParams(d, config.numSharedExperts * config.sharedDFf) + config.topK * swigluParams(d, config.dFf));
  const lmHead = options.countLmHead === false ? 0 : 2 * d * V;
  const total = attentionProjections + attentionScores + router + ffn + lmHead;
  return {
    forward: { attentionProjections, attentionScores, router, ffn, lmHead, total },
    flopsPerToken: 3 * total,
  };
}

/** Exact training FLOPs per token (3 × forward) at a sequence length. */
export function flopsPerToken(config: ResolvedModelConfig, options: FlopOptions = {}): number {
  return flopBreakdown(config, options).flopsPerToken;
}

// ---------------------------------------------------------------------------------------------
// Compute formulas C(N, D)

/** Named per-config compute formulas (src/fit/compute-formula.ts has the (a, b) form for fits). */
export type ComputeFormulaName = '6ND' | 'hunyuan' | 'exact';
export const COMPUTE_FORMULA_NAMES: readonly ComputeFormulaName[] = ['6ND', 'hunyuan', 'exact'];

/** The paper's fit C ≈ 9.59·N·D + 2.3e8·D, N = activated parameters (docs/references.md#compute-formula, UNCONFIRMED). */
export const HUNYUAN_COMPUTE = { a: 9.59, b: 2.3e8 } as const;

export interface ComputeOptions extends FlopOptions {
  /** Which N the closed-form formulas use (default activatedParams, the paper's N). */
  paramKind?: ParamKind;
}

/** Training FLOPs per token under a named formula: 6N, 9.59·N + 2.3e8, or the exact count. */
export function computeFlopsPerToken(
  config: ResolvedModelConfig,
  formula: ComputeFormulaName,
  options: ComputeOptions = {},
): number {
  const N = countParams(config)[options.paramKind ?? 'activatedParams'];
  switch (formula) {
    case '6ND':
      return 6 * N;
    case 'hunyuan':
      return HUNYUAN_COMPUTE.a * N + HUNYUAN_COMPUTE.b;
    case 'exact':
      return flopsPerToken(config, options);
  }
}

/** Training FLOPs C for `tokens` tokens (D) under a named formula. */
export function trainingFlops(
  config: ResolvedModelConfig,
  tokens: number,
  formula: ComputeFormulaName = 'exact',
  options: ComputeOptions = {},
): number {
  return computeFlopsPerToken(config, formula, options) * tokens;
}

export interface ComputeFit {
  /** flopsPerToken ≈ a·N + b. */
  a: number;
  b: number;
  paramKind: ParamKind;
  seqLen: number;
  points: { params: number; flopsPerToken: number; predicted: number; relError: number }[];
  /** max |predicted − exact| / exact over the family. */
  maxAbsRelError: number;
}

/**
 * Least-squares fit of exact training FLOPs per token against N over a model family:
 * flopsPerToken ≈ a·N + b. docs/references.md#compute-formula hypothesises that the paper's 9.59 / 2.3e8 are such a
 * fit over its 10M–1B family; this re-derives the analogue for our own family and seqLen.
 */
export function fitComputeCoefficients(
  family: ResolvedModelConfig[],
  seqLen: number,
  options: Omit<ComputeOptions, 'seqLen'> = {},
): ComputeFit {
  const paramKind = options.paramKind ?? 'activatedParams';
  const xs = family.map((c) => countParams(c)[paramKind]);
  const ys = family.map((c) => flopsPerToken(c, { ...options, seqLen }));
  if (new Set(xs).size < 2) {
    throw new DataError(
      `fitComputeCoefficients: the family needs at least 2 configs with different ${paramKind} ` +
        `(got ${family.length} config(s), ${new Set(xs).size} distinct). Add configs of other sizes.`,
    );
  }
  const n = xs.length;
  const mx = xs.reduce((s, x) => s + x, 0) / n;
  const my = ys.reduce((s, y) => s + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
  }
  const a = sxy / sxx;
  const b = my - a * mx;
  const points = xs.map((x, i) => {
    const predicted = a * x + b;
    return { params: x, flopsPerToken: ys[i], predicted, relError: (predicted - ys[i]) / ys[i] };
  });
  return {
    a,
    b,
    paramKind,
    seqLen,
    points,
    maxAbsRelError: Math.max(...points.map((p) => Math.abs(p.relError))),
  };
}

// ---------------------------------------------------------------------------------------------
// KV cache (docs/references.md#attention)

export interface KvOptions {
  /** Bytes per cached element (bf16 = 2, the paper's table). */
  bytesPerElement?: number;
}

/**
 * KV-cache bytes per token: 2 (K and V) · bytes · numKvHeads · headDim · ceil(numLayers / cla).
 * CLA caches the shared K/V once per group of layers (before the per-layer key norm).
 */
export function kvCacheBytesPerToken(config: ResolvedModelConfig, options: KvOptions = {}): number {
  const bytes = options.bytesPerElement ?? 2;
  return 2 * bytes * config.numKvHeads * config.headDim * kvLayerCount(config.numLayers, config.claShareFactor);
}

export type KvVariant = 'MHA' | 'GQA' | 'MQA' | 'CLA' | 'GQA+CLA';

export interface KvRow {
  variant: KvVariant;
  kvHeads: number;
  /** Layers whose K/V are cached. */
  kvLayers: number;
  bytesPerToken: number;
  fractionOfMha: number;
}

/**
 * The paper's Table 2 for a config's shape: MHA (g = h), GQA (the config's g), MQA (g = 1), CLA
 * and GQA+CLA with the config's claShareFactor (2, the paper's, when the config has none).
 */
export function kvCacheTable(
  config: ResolvedModelConfig,
  options: KvOptions & { claShareFactor?: number } = {},
): KvRow[] {
  const cla = options.claShareFactor ?? (config.claShareFactor > 1 ? config.claShareFactor : 2);
  const h = config.numHeads;
  const variants: [KvVariant, number, number][] = [
    ['MHA', h, 1],
    ['GQA', config.numKvHeads, 1],
    ['MQA', 1, 1],
    ['CLA', h, cla],
    ['GQA+CLA', config.numKvHeads, cla],
  ];
  const rows = variants.map(([variant, kvHeads, claShareFactor]) => {
    const bytesPerToken = kvCacheBytesPerToken({ ...config, numKvHeads: kvHeads, claShareFactor }, options);
    return { variant, kvHeads, kvLayers: kvLayerCount(config.numLayers, claShareFactor), bytesPerToken };
  });
  const mha = rows[0].bytesPerToken;
  return rows.map((r) => ({ ...r, fractionOfMha: r.bytesPerToken / mha }));
}

// ---------------------------------------------------------------------------------------------
// Everything at once (`moelab inspect`, sweep plans)

export interface ModelAccounting {
  seqLen: number;
  totalParams: number;
  activatedParams: number;
  nonEmbeddingParams: number;
  activatedNonEmbeddingParams: number;
  /** Exact training FLOPs per token at seqLen. */
  flopsPerToken: number;
  /** bf16 KV-cache bytes per token of context. */
  kvCacheBytesPerToken: number;
  params: ParamCounts;
  flops: FlopBreakdown;
  /** Training FLOPs per token under each named formula (N = activatedParams). */
  flopsPerTokenByFormula: Record<ComputeFormulaName, number>;
  kvCacheTable: KvRow[];
}

export function accountModel(config: ResolvedModelConfig, options: { seqLen?: number } = {}): ModelAccounting {
  const seqLen = options.seqLen ?? config.seqLen;
  const params = countParams(config);
  const flops = flopBreakdown(config, { seqLen });
  return {
    seqLen,
    totalParams: params.totalParams,
    activatedParams: params.activatedParams,
    nonEmbeddingParams: params.nonEmbeddingParams,
    activatedNonEmbeddingParams: params.activatedNonEmbeddingParams,
    flopsPerToken: flops.flopsPerToken,
    kvCacheBytesPerToken: kvCacheBytesPerToken(config),
    params,
    flops,
    flopsPerTokenByFormula: {
      '6ND': computeFlopsPerToken(config, '6ND'),
      hunyuan: computeFlopsPerToken(config, 'hunyuan'),
      exact: flops.flopsPerToken,
    },
    kvCacheTable: kvCacheTable(config),
  };
}
