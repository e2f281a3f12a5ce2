// The `model` namespace of the public API (src/index.ts): model configs, parameter and FLOP
// accounting, family sizing. Pure (no TF.js is loaded by importing it).
export { ModelConfigSchema } from '../config/schema.ts';
export type { UserModelConfig } from '../config/schema.ts';
export { resolveModelConfig } from '../config/resolve.ts';
export type { ResolvedModelConfig } from '../config/resolve.ts';
export {
  COMPUTE_FORMULA_NAMES,
  HUNYUAN_COMPUTE,
  accountModel,
  computeFlopsPerToken,
  countParams,
  fitComputeCoefficients,
  flopsPerToken,
  kvCacheBytesPerToken,
  kvCacheTable,
  trainingFlops,
} from '../model/count.ts';
export type { ComputeFormulaName, ModelAccounting, ParamCounts, ParamKind } from '../model/count.ts';
export { buildHunyuanLike, sizeHunyuanLike } from '../model/builder.ts';
export type { HunyuanLikeArgs } from '../model/builder.ts';
