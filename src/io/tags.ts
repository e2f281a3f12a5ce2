// Run tags: what an analysis groups and fits a run by, written by the planner (src/sweep/plan.ts,
// src/study/run.ts) into plan.json, copied by `moelab train` into config.json, and checked by the
// loader (src/io/load.ts) with this schema. One discriminated union, so a renamed field is a type
// error in every reader instead of a silently empty fit.
import { z } from 'zod';
import { ConfigError } from '../errors.ts';

const seed = z.number().int().nonnegative();
const positive = z.number().positive().finite();

/** A cell of an isoFLOP study: its compute budget and the model size the planner aimed at. */
export const IsoflopTagsSchema = z.strictObject({
  study: z.literal('isoflop'),
  /** The cell's compute budget (FLOPs). */
  budgetFlops: positive,
  /** The activated-parameter target the family builder sized the model to (else the built model's). */
  size: positive,
  /** The peak LR the run used, when the study picks an LR per size (src/study/run.ts pickLrPerSize). */
  lr: positive.optional(),
  seed,
});

/** A point of an LR × batch grid. */
export const LrBatchTagsSchema = z.strictObject({
  study: z.literal('lr-batch'),
  lr: positive,
  /** Tokens per optimiser step (batch size × sequence length). */
  batchTokens: positive,
  /** The compute budget when the grid was given budgets instead of token counts. */
  budgetFlops: positive.optional(),
  seed,
});

/** One LR schedule of a schedule comparison. */
export const ScheduleTagsSchema = z.strictObject({
  study: z.literal('schedules'),
  /** The schedule's key in the sweep definition (e.g. "wsd", "hunyuan"). */
  label: z.string().min(1),
  seed,
});

/** Which experiment an arm belongs to. */
export const ARM_GROUPS = ['confirmation', 'ablation', 'expert-lr', 'lr-control'] as const;
/** What an ablation compares (its arms' names in ABLATION_ARMS, src/study/run.ts). */
export const ABLATION_COMPARISONS = ['routing', 'cla', 'kv-heads'] as const;

/**
 * One arm of a controlled comparison; every comparison is paired by `seed`.
 *   confirmation  "one LR" vs "expert-specific LR" (the surge rule's multiplier)
 *   expert-lr     factor = the specialized experts' LR multiplier (every other group at the base LR)
 *   lr-control    factor = one multiplier applied to every group's LR (the control of expert-lr)
 *   ablation      comparison = 'routing' | 'cla' | 'kv-heads'; name = the arm
 *                 ('recycle' / 'drop', 'CLA 2' / 'no CLA', '1 KV head' / '2 KV heads')
 */
export const ArmTagsSchema = z.strictObject({
  study: z.literal('arm'),
  /** Which experiment the arm belongs to. */
  group: z.enum(ARM_GROUPS),
  /** The arm's name, as tables print it. */
  name: z.string().min(1),
  seed,
  /** expert-lr and lr-control: the LR multiplier of the arm. */
  factor: positive.optional(),
  /** ablation: what the arms compare. */
  comparison: z.string().min(1).optional(),
});

/** A point of a free grid: axis key → value. */
export const GridTagsSchema = z.strictObject({
  study: z.literal('grid'),
  point: z.record(z.string(), z.unknown()),
  seed,
});

export const RunTagsSchema = z.discriminatedUnion('study', [IsoflopTagsSchema, LrBatchTagsSchema, ScheduleTagsSchema, ArmTagsSchema, GridTagsSchema]);

export type RunTags = z.infer<typeof RunTagsSchema>;
export type IsoflopTags = z.infer<typeof IsoflopTagsSchema>;
export type LrBatchTags = z.infer<typeof LrBatchTagsSchema>;
export type ScheduleTags = z.infer<typeof ScheduleTagsSchema>;
export type ArmTags = z.infer<typeof ArmTagsSchema>;
export type GridTags = z.infer<typeof GridTagsSchema>;
export type StudyKind = RunTags['study'];
export const STUDY_KINDS: readonly StudyKind[] = ['isoflop', 'lr-batch', 'schedules', 'arm', 'grid'];

/** Validate tags read from `source` (a file and field); ConfigError naming the field otherwise. */
export function parseRunTags(input: unknown, source: string): RunTags {
  const r = RunTagsSchema.safeParse(input);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const path = issue.path.map(String).join('.');
  throw new ConfigError(
    `${source}${path ? `.${path}` : ''}`,
    input,
    `Run tags are one of: ${STUDY_KINDS.map((k) => `{study: "${k}", …}`).join(', ')} (src/io/tags.ts); re-plan the sweep to rewrite them.`,
    issue.message,
  );
}

/**
 * The plan-entry fields written before run tags existed (the planner's `kind`, `seed`, `lr`,
 * `batchTokens`, `schedule`, `targetActivatedParams`, and the entry's `budgetFlops`), read as tags.
 * Validated like the tags themselves; the only place those older fields are interpreted.
 */
const LegacyEntrySchema = z.object({
  kind: z.enum(['isoflop', 'lr-batch', 'schedules', 'grid']),
  seed,
  lr: positive,
  batchTokens: positive,
  schedule: z.string().min(1),
  targetActivatedParams: positive.optional(),
  point: z.record(z.string(), z.unknown()).optional(),
});

export function legacyRunTags(entry: unknown, budgetFlops: number | undefined, activatedParams: number, source: string): RunTags {
  const r = LegacyEntrySchema.safeParse(entry);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new ConfigError(`${source}.${issue.path.map(String).join('.')}`, entry, 'Re-plan the sweep (moelab sweep / moelab reproduce) so that its runs carry tags.', issue.message);
  }
  const e = r.data;
  switch (e.kind) {
    case 'isoflop':
      if (budgetFlops === undefined) throw new ConfigError(`${source}.budgetFlops`, undefined, 'Re-plan the sweep so that its runs carry tags.', 'an isoFLOP run without a budget');
      return { study: 'isoflop', budgetFlops, size: e.targetActivatedParams ?? activatedParams, seed: e.seed };
    case 'lr-batch':
      return { study: 'lr-batch', lr: e.lr, batchTokens: e.batchTokens, ...(budgetFlops !== undefined ? { budgetFlops } : {}), seed: e.seed };
    case 'schedules':
      return { study: 'schedules', label: e.schedule, seed: e.seed };
    case 'grid':
      return { study: 'grid', point: e.point ?? {}, seed: e.seed };
  }
}
