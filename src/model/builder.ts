// Sizing a Hunyuan-like MoE to a target parameter count, for sweeps (docs/references.md#reproduction-needs "Reference
// configs"): the released model's ratios, scaled down sensibly for tiny models.
//
//   Hunyuan-Large (docs/references.md#configuration)        this builder (defaults)
//   1 shared + 16 experts, top-1       same (numSharedExperts, numExperts, topK)
//   expert dFf / dModel = 2.86         ffnRatio 2.86, dFf rounded to a multiple of 16
//   numHeads / numKvHeads = 10         kvRatio 10: the divisor of numHeads nearest numHeads/10
//   headDim 80 at dModel 6400          16 below dModel 128, 32 below 512, 64 below 2048, else 128;
//                                      even head counts preferred
//   dModel / numLayers = 100           aspectRatio 64 (docs/references.md#compute-formula: 64–128 for the small family)
//   CLA 2, QK-norm, tied embeddings    same
import type { ParsedModelConfig, UserModelConfig } from '../config/schema.ts';
import { ModelConfigSchema } from '../config/schema.ts';
import { resolveModelConfig, type ResolvedModelConfig } from '../config/resolve.ts';
import { ConfigError } from '../errors.ts';
import { countParams, type ParamKind } from './count.ts';

/** Fields the builder decides; everything else can be passed through `overrides`. */
type ShapeField = 'dModel' | 'numLayers' | 'numHeads' | 'numKvHeads' | 'headDim' | 'dFf' | 'sharedDFf';

export interface HunyuanLikeArgs {
  /** Target parameter count N (of kind `paramKind`). */
  activatedParams: number;
  /** Which N the target means. @default 'activatedParams' (the paper's N) */
  paramKind?: ParamKind;
  /** @default 256 (byte-level) */
  vocabSize?: number;
  /** @default 128 */
  seqLen?: number;
  /** @default 16 */
  numExperts?: number;
  /** @default 1 */
  topK?: number;
  /** @default 1 */
  numSharedExperts?: number;
  /** Target dModel / numLayers. @default 64 */
  aspectRatio?: number;
  /** Expert dFf / dModel. @default 2.86 */
  ffnRatio?: number;
  /** Target numHeads / numKvHeads. @default 10 */
  kvRatio?: number;
  /** Fixed head width (default: by dModel, see the table above). */
  headDim?: number;
  /** @default 2 (1 for a single layer) */
  claShareFactor?: number;
  /** @default true */
  qkNorm?: boolean;
  /** Accept shapes within this relative distance of the target. @default 0.05 */
  tolerance?: number;
  /** Any other model field (capacityFactor, overflowPolicy, auxLossCoef, tieEmbeddings, …). */
  overrides?: Omit<UserModelConfig, ShapeField | 'vocabSize' | 'seqLen' | 'numExperts' | 'topK' | 'numSharedExperts' | 'claShareFactor' | 'qkNorm'>;
}

export interface HunyuanLikeResult {
  config: UserModelConfig;
  /** N of the chosen shape (of the requested kind). */
  params: number;
  /** (params − target) / target. */
  relError: number;
}

function defaultHeadDim(dModel: number): number {
  if (dModel < 128) return 16;
  if (dModel < 512) return 32;
  if (dModel < 2048) return 64;
  return 128;
}

/** The divisor of n nearest n / ratio (at least 1). */
function kvHeadsFor(numHeads: number, ratio: number): number {
  const target = numHeads / ratio;
  let best = 1;
  for (let g = 1; g <= numHeads; g++) {
    if (numHeads % g === 0 && Math.abs(Math.log(g / target)) < Math.abs(Math.log(best / target))) best = g;
  }
  return best;
}

/**
 * Search (numLayers, dModel) over shapes within `tolerance` of the target N for the best
 * |ln(aspect / aspectRatio)| + 4·|relative error| (+0.1 for an odd head count); throws a ConfigError when no shape gets that close (the target is
 * below the smallest model with this vocabulary, or the tolerance is too tight).
 */
export function sizeHunyuanLike(args: HunyuanLikeArgs): HunyuanLikeResult {
  const target = args.activatedParams;
  if (!(target > 0) || !Number.isFinite(target)) {
    throw new ConfigError('activatedParams', target, 'Give a positive parameter count, e.g. 1e6.');
  }
  const kind = args.paramKind ?? 'activatedParams';
  const aspect = args.aspectRatio ?? 64;
  const ffnRatio = args.ffnRatio ?? 2.86;
  const kvRatio = args.kvRatio ?? 10;
  const tolerance = args.tolerance ?? 0.05;
  const fixed = {
    vocabSize: args.vocabSize ?? 256,
    seqLen: args.seqLen ?? 128,
    numExperts: args.numExperts ?? 16,
    topK: args.topK ?? 1,
    numSharedExperts: args.numSharedExperts ?? 1,
    qkNorm: args.qkNorm ?? true,
  };
  // Defaults of every other field, resolved once; candidates only change the shape fields.
  const template: ParsedModelConfig = ModelConfigSchema.parse({
    dModel: 16,
    numLayers: 1,
    numHeads: 1,
    dFf: 16,
    ...fixed,
    ...args.overrides,
  });

  let best: { shape: Record<ShapeField | 'claShareFactor', number>; n: number; err: number; score: number } | undefined;
  for (let numLayers = 1; numLayers <= 256; numLayers++) {
    // Widths step by 16, or by the head width when a narrower one is asked for (tiny families).
    // A fixed head width also admits the one model narrower than a head: dModel = headDim / 2 with a
    // single head that wide, so a tiny family reaches below its one-head model.
    const widthStep = Math.min(16, args.headDim ?? 16);
    const subHead = args.headDim !== undefined && args.headDim % 2 === 0 ? args.headDim / 2 : undefined;
    const widths = function* () {
      if (subHead !== undefined && subHead % widthStep !== 0) yield subHead;
      for (let w = widthStep; w <= 32768; w += widthStep) yield w;
    };
    for (const dModel of widths()) {
      const headDim = dModel === subHead ? dModel : (args.headDim ?? defaultHeadDim(dModel));
      if (dModel % headDim !== 0) continue;
      const numHeads = dModel / headDim;
      const dFf = Math.max(16, Math.round((ffnRatio * dModel) / 16) * 16);
      const shape = {
        dModel,
        numLayers,
        numHeads,
        numKvHeads: kvHeadsFor(numHeads, kvRatio),
        headDim,
        dFf,
        sharedDFf: dFf,
        claShareFactor: Math.min(args.claShareFactor ?? 2, numLayers),
      };
      const resolved: ResolvedModelConfig = { ...template, ...shape };
      const n = countParams(resolved)[kind];
      const err = Math.abs(n - target) / target;
      // Within tolerance: trade shape against size error (a 5% miss weighs like a 22% aspect
      // miss); an odd head count costs like a 10% aspect miss (GQA wants divisors).
      const score = Math.abs(Math.log(dModel / numLayers / aspect)) + 4 * err + (numHeads % 2 === 1 ? 0.1 : 0);
      const better =
        !best ||
        (err <= tolerance && best.err > tolerance) ||
        (err <= tolerance && best.err <= tolerance && score < best.score) ||
        (err > tolerance && best.err > tolerance && err < best.err);
      if (better) best = { shape, n, err, score };
      if (n > target * (1 + tolerance) * 4) break; // larger dModel only grows N
    }
  }
  if (!best || best.err > tolerance) {
    throw new ConfigError(
      'activatedParams',
      target,
      `Use a target within ${tolerance * 100}% of a reachable size (closest: ${best?.n ?? 'none'} ${kind}), ` +
        'a smaller vocabulary, or a larger tolerance.',
      `no Hunyuan-like shape has ${kind} within ${tolerance * 100}% of the target`,
    );
  }
  const { shape } = best;
  const config: UserModelConfig = {
    ...args.overrides,
    ...fixed,
    dModel: shape.dModel,
    numLayers: shape.numLayers,
    numHeads: shape.numHeads,
    numKvHeads: shape.numKvHeads,
    dFf: shape.dFf,
    claShareFactor: shape.claShareFactor,
  };
  if (args.headDim !== undefined) config.headDim = shape.headDim;
  return { config, params: best.n, relError: (best.n - target) / target };
}

/** A Hunyuan-like model config (UserModelConfig, the JSON form) sized to the target N. */
export function buildHunyuanLike(args: HunyuanLikeArgs): UserModelConfig {
  return sizeHunyuanLike(args).config;
}
