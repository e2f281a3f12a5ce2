// The one place the planner meets the model family builder (src/model/builder.ts).
import type { UserModelConfig } from '../config/schema.ts';
import type { FamilyConfig } from '../config/sweep-schema.ts';
import { buildHunyuanLike, type HunyuanLikeArgs } from '../model/builder.ts';

/**
 * The family's model sized to `target` parameters (of family.paramKind), with `overrides` (the
 * sweep's base.model fields that are not shape fields) applied before sizing.
 */
export function buildFamilyModel(family: FamilyConfig, target: number, overrides: Partial<UserModelConfig> = {}): UserModelConfig {
  const { builder: _builder, ...args } = family;
  return buildHunyuanLike({ ...args, activatedParams: target, overrides: overrides as HunyuanLikeArgs['overrides'] });
}
