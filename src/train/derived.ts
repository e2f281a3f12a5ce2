// Counts derived from a run config before step 0 (config.json's `derived`): parameters and FLOPs
// from src/model/count.ts, steps and tokens from the budget. Pure.
import type { RunConfig } from '../config/schema.ts';
import { resolveModelConfig } from '../config/resolve.ts';
import type { DerivedCounts } from '../io/results.ts';
import { countParams, flopsPerToken } from '../model/count.ts';

export function deriveRunCounts(config: RunConfig): DerivedCounts {
  const model = resolveModelConfig(config.model);
  const counts = countParams(model);
  const perToken = flopsPerToken(model, { seqLen: model.seqLen });
  const tokensPerStep = config.train.batchSize * model.seqLen;
  // The budget is exact up to one step: steps = floor(tokens / tokensPerStep).
  const steps = Math.floor(config.train.tokens / tokensPerStep);
  const tokens = steps * tokensPerStep;
  return {
    totalParams: counts.totalParams,
    activatedParams: counts.activatedParams,
    nonEmbeddingParams: counts.nonEmbeddingParams,
    activatedNonEmbeddingParams: counts.activatedNonEmbeddingParams,
    flopsPerToken: perToken,
    tokensPerStep,
    steps,
    tokens,
    computeFlops: perToken * tokens,
  };
}
