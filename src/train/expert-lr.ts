// Expert-specific learning rates (docs/references.md#expert-lr, docs/references.md#surge-estimation).
//
// Symbols: B = batch size in tokens, B_noise = gradient noise scale (tokens), ε_max = the peak of
// the optimal-LR-vs-batch curve, E = specialized experts, k = experts chosen per token,
// n = E/k (each specialized expert sees ≈ B·k/E tokens per step), u = B / B_noise.
//
//   ε_opt(B)            = 2·ε_max / (√(B_noise/B) + √(B/B_noise))         (Li et al. 2024, Eq. 2)
//   lr_shared           = ε_opt(B)
//   lr_specialized      = ε_opt(B·k/E)
//   lr_specialized / lr_shared = √n·(1 + u) / (n + u)                     (our algebra, docs/references.md#expert-lr)
import type { RunConfig } from '../config/schema.ts';
// One implementation of the surge law, shared with the fitting code (pure, no TF.js); the training
// side depends on src/fit, never the other way round.
import { epsOpt, surgeExpertLrRatio } from '../fit/forms.ts';

export { epsOpt, surgeExpertLrRatio };

/**
 * Multiplier of the base LR for the specializedExperts parameter group. Dense models and configs
 * without specialized experts get 1.
 */
export function expertLrMultiplier(config: Pick<RunConfig, 'model' | 'train'>): number {
  const { expertLr, batchSize } = config.train;
  const { numExperts, topK, seqLen } = config.model;
  if (numExperts === 0) return 1;
  switch (expertLr.mode) {
    case 'same':
      return 1;
    case 'multiplier':
      return expertLr.multiplier;
    case 'surge': {
      const batchTokens = batchSize * seqLen;
      return surgeExpertLrRatio(batchTokens / expertLr.bNoise, numExperts / topK);
    }
  }
}
