// The sweep schema: what an experiment file (`experiments/<name>.ts` via defineSweep, or JSON)
// may say. One strict zod schema for both forms (docs/architecture.md#habits): unknown keys are
// errors, and every run the sweep expands to is validated again as a full RunConfig.
//
// Four kinds (docs/sweeps.md):
//   isoflop    compute budgets × activated sizes of a model family; tokens D per run from a
//              named compute formula (docs/references.md#compute-formula, docs/references.md#reproduction-needs "Experiment planner")
//   lr-batch   peak LR × batch size grid (the surge fit, docs/references.md#surge), optionally per budget
//   schedules  several LR schedules at the same budget (cosine vs WSD vs the paper's 3 phases)
//   grid       a generic grid (cartesian) or zip over any run-config fields
// Every kind repeats each run over `seeds`.
import { z } from 'zod';
import { DataConfigSchema, ModelConfigSchema, ScheduleSchema, TrainConfigSchema } from './schema.ts';
import { isValidVariant, sweepNameProblem } from '../sweep/run-id.ts';
import { canonicalJson } from '../util/canonical-json.ts';

const pos = () => z.number().positive();
const int = (min = 0) => z.number().int().min(min);


/** Issues for values given twice in a list (a repeated value would train the same run twice). */
function refuseRepeats(values: readonly unknown[], ctx: z.RefinementCtx, prefix: PropertyKey[] = []): void {
  const seen = new Map<string, number>();
  values.forEach((v, i) => {
    const key = canonicalJson(v);
    const first = seen.get(key);
    if (first !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: [...prefix, i],
        message: `repeats entry [${first}] (${key}); the same runs would be trained twice`,
        params: { fix: 'Remove the repeated value (to repeat a run, add a seed to `seeds`).' },
      });
    } else seen.set(key, i);
  });
}

/** A non-empty list without repeated values. */
const uniqueList = <T extends z.ZodType>(item: T) => z.array(item).min(1).superRefine((values, ctx) => refuseRepeats(values, ctx));

type Unwrapped<T> = T extends z.ZodDefault<infer I> ? I : T extends z.ZodOptional<infer I> ? I : T;
type PartialShape<T extends z.ZodRawShape> = { [K in keyof T]: z.ZodOptional<Unwrapped<T[K]>> };

/**
 * A strict object whose fields are all optional and carry no defaults: a sweep's `base` holds
 * only what the user wrote, so merging it over a builder's model config never resets a field
 * the user did not mention to its schema default.
 */
function partialWithoutDefaults<T extends z.ZodRawShape>(shape: T): z.ZodObject<PartialShape<T>, z.core.$strict> {
  const out: Record<string, z.ZodType> = {};
  for (const [key, field] of Object.entries(shape)) {
    let inner = field as z.ZodType;
    if (inner instanceof z.ZodDefault) inner = inner.unwrap() as z.ZodType;
    if (inner instanceof z.ZodOptional) inner = inner.unwrap() as z.ZodType;
    out[key] = inner.optional();
  }
  return z.strictObject(out) as unknown as z.ZodObject<PartialShape<T>, z.core.$strict>;
}

/** The part of a RunConfig every run of a sweep shares; the sweep kind fills in the rest. */
export const BaseRunSchema = z.strictObject({
  model: partialWithoutDefaults(ModelConfigSchema.shape).optional(),
  data: partialWithoutDefaults(DataConfigSchema.shape).optional(),
  train: partialWithoutDefaults(TrainConfigSchema.shape).optional(),
});

/**
 * A model family sized by a parameter target (src/model/builder.ts, buildHunyuanLike). The
 * planner calls the builder once per target size, passing `base.model`'s other fields
 * (capacityFactor, overflowPolicy, …) as overrides so the sizing counts them.
 */
export const FamilySchema = z.strictObject({
  /** Hunyuan-like: 1 shared + numExperts specialized SwiGLU experts, GQA, CLA, QK-norm (docs/references.md#reproduction-needs). */
  builder: z.literal('hunyuan'),
  /** Which N the targets mean (default activatedParams, the paper's N). */
  paramKind: z.enum(['totalParams', 'nonEmbeddingParams', 'activatedParams', 'activatedNonEmbeddingParams']).optional(),
  vocabSize: int(2).optional(),
  /** Sequence length of the family (also the training context). */
  seqLen: int(1).optional(),
  /** Specialized experts (docs/references.md#configuration: 16). */
  numExperts: int(0).optional(),
  /** Experts per token (docs/references.md#configuration: 1). */
  topK: int(1).optional(),
  numSharedExperts: int(0).optional(),
  /** Target dModel / numLayers (builder default 64). */
  aspectRatio: pos().optional(),
  /** Expert dFf / dModel (docs/references.md#reproduction-needs: 2.86). */
  ffnRatio: pos().optional(),
  /** numHeads / numKvHeads (docs/references.md#reproduction-needs: 10). */
  kvRatio: pos().optional(),
  /** Fixed per-head width (default: by dModel). */
  headDim: int(2).optional(),
  claShareFactor: int(1).optional(),
  qkNorm: z.boolean().optional(),
  /** How close the builder must get to a target (default 0.05). */
  tolerance: z.number().min(0).max(1).optional(),
});

/** Model fields the family builder decides; with a family they belong in `family`, not base.model. */
export const FAMILY_MODEL_FIELDS = [
  'dModel',
  'numLayers',
  'numHeads',
  'numKvHeads',
  'headDim',
  'dFf',
  'sharedDFf',
  'vocabSize',
  'seqLen',
  'numExperts',
  'topK',
  'numSharedExperts',
  'claShareFactor',
  'qkNorm',
] as const;

/** Named compute formulas (docs/references.md#reproduction-needs): C = 6·N·D, the paper's 9.59·N·D + 2.3e8·D, or exact FLOPs. */
export const ComputeFormulaSchema = z.enum(['6ND', 'hunyuan', 'exact']);
export type ComputeFormula = z.infer<typeof ComputeFormulaSchema>;

/** Which N a formula's N means (the paper: activated; Kaplan: non-embedding). */
export const ComputeParamsSchema = z.enum(['activated', 'activatedNonEmbedding']);
export type ComputeParams = z.infer<typeof ComputeParamsSchema>;

const SweepName = z.string().superRefine((name, ctx) => {
  const problem = sweepNameProblem(name);
  if (problem) {
    ctx.addIssue({
      code: 'custom',
      message: `sweep name ${problem}`,
      params: { fix: 'Choose a name that can name a folder under results/ (spaces and quotes are fine).' },
    });
  }
});

/** Record keys checked one by one, so each bad key is reported at its own path with a fix. */
function checkKeys(test: (key: string) => boolean, message: string, fix: string) {
  return (record: Record<string, unknown>, ctx: z.RefinementCtx) => {
    const keys = Object.keys(record);
    if (keys.length === 0) ctx.addIssue({ code: 'custom', message: 'needs at least one entry', params: { fix } });
    for (const key of keys) {
      if (!test(key)) ctx.addIssue({ code: 'custom', path: [key], message: `${JSON.stringify(key)} is ${message}`, params: { fix } });
    }
  };
}

const ChecksSchema = z.strictObject({
  /** Allowed relative gap between a built model's parameters (of family.paramKind) and its target. */
  activatedTolerance: z.number().min(0).max(1).default(0.05),
  /** Cap on tokens per run (docs/references.md#reproduction-needs: the paper capped D near 100B). */
  maxTokens: int(1).optional(),
});

const common = {
  name: SweepName,
  /** One line on what the sweep is for (shown by `moelab plan`). */
  description: z.string().optional(),
  base: BaseRunSchema.default({}),
  family: FamilySchema.optional(),
  seeds: uniqueList(int(0)).default([0]),
  checks: ChecksSchema.default({ activatedTolerance: 0.05 }),
  /** How D follows from a compute budget (ignored when no budget is given). */
  computeFormula: ComputeFormulaSchema.default('exact'),
  computeParams: ComputeParamsSchema.default('activated'),
};

export const IsoflopSweepSchema = z.strictObject({
  ...common,
  kind: z.literal('isoflop'),
  /** Compute budgets in FLOPs; every run of a budget costs about this much (by computeFormula). */
  budgets: uniqueList(pos()),
  /** Target activated parameters of the family's models (needs `family`). */
  activatedParams: uniqueList(pos()),
  /** Keep only the cells whose tokens per activated parameter fall in this range. */
  tokensPerParam: z.strictObject({ min: pos().optional(), max: pos().optional() }).optional(),
});

export const LrBatchSweepSchema = z.strictObject({
  ...common,
  kind: z.literal('lr-batch'),
  /** Peak learning rates. */
  lrs: uniqueList(pos()),
  /** Sequences per step. */
  batchSizes: uniqueList(int(1)),
  /** Target activated parameters (with `family`); otherwise `base.model` is the model. */
  activatedParams: pos().optional(),
  /** One grid per compute budget; otherwise every run trains `base.train.tokens`. */
  budgets: uniqueList(pos()).optional(),
  /**
   * Training steps per batch size (same order as batchSizes) instead of one token budget: the
   * steps-to-target protocol of Li et al. 2024 (docs/references.md#surge-estimation), where every batch size runs long
   * enough for its good learning rates to reach a target loss. Not with budgets.
   */
  steps: z.array(int(1)).min(1).optional(),
  /**
   * 'sqrt': `lrs` are for the first batch size and batch B trains lrs × sqrt(B / batchSizes[0])
   * (Adam's small-batch square-root rule, docs/references.md#surge-estimation), so every batch samples around its
   * expected best LR and a departure from sqrt (the surge) shows as the optimum moving in the grid.
   */
  lrScaling: z.enum(['none', 'sqrt']).default('none'),
});

export const SchedulesSweepSchema = z.strictObject({
  ...common,
  kind: z.literal('schedules'),
  /** Schedules by label (the label goes into run ids), e.g. { cosine: {...}, wsd: {...} }. */
  schedules: z.record(z.string(), ScheduleSchema).superRefine(
    checkKeys(
      isValidVariant,
      'not a valid schedule label',
      'Use labels of lower-case letters, digits, "_" or "." starting with a letter (they go into run ids), e.g. { cosine: {...}, wsd: {...} }.',
    ),
  ),
  activatedParams: pos().optional(),
  /** Compute budget shared by every schedule; otherwise `base.train.tokens`. */
  budget: pos().optional(),
});

/** Axis keys: dotted paths into the run config (`train.lr`), into `family.`, or `activatedParams`. */
const AXIS_KEY = /^((model|data|train|family)\.[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)*|activatedParams)$/;

/**
 * Axes whose values go into run ids (and into sizing) are checked here, value by value, so a bad
 * value is a ConfigError naming the axis entry rather than a failure deep in the planner; every
 * other axis value is validated with the run config it lands in.
 */
const AXIS_VALUE_SCHEMAS: Record<string, z.ZodType> = {
  'train.lr': pos(),
  'train.batchSize': int(1),
  activatedParams: pos(),
};

function checkAxes(axes: Record<string, unknown[]>, ctx: z.RefinementCtx): void {
  for (const [key, values] of Object.entries(axes)) {
    refuseRepeats(values, ctx, [key]);
    const schema = AXIS_VALUE_SCHEMAS[key];
    if (!schema) continue;
    values.forEach((v, i) => {
      const r = schema.safeParse(v);
      if (!r.success) {
        ctx.addIssue({
          code: 'custom',
          path: [key, i],
          message: `${r.error.issues[0].message}: ${key} values must be ${key === 'train.batchSize' ? 'positive integers' : 'positive numbers'}`,
          params: { fix: `Give ${key} as ${key === 'train.batchSize' ? 'whole numbers of sequences, e.g. [8, 16]' : 'positive numbers, e.g. [0.001, 0.003]'}.` },
        });
      }
    });
  }
}

export const GridSweepSchema = z.strictObject({
  ...common,
  kind: z.literal('grid'),
  /** grid: every combination of the axes; zip: the i-th value of every axis together. */
  mode: z.enum(['grid', 'zip']).default('grid'),
  axes: z.record(z.string(), z.array(z.unknown()).min(1)).superRefine(
    checkKeys(
      (key) => AXIS_KEY.test(key) && !key.split('.').some((k) => k === 'constructor' || k === 'prototype'),
      'not a config path',
      'Use a dotted path such as "train.lr", "model.numExperts", "family.numExperts" or "activatedParams".',
    ),
  ).superRefine(checkAxes),
  activatedParams: pos().optional(),
});

export const SweepSchema = z.discriminatedUnion('kind', [
  IsoflopSweepSchema,
  LrBatchSweepSchema,
  SchedulesSweepSchema,
  GridSweepSchema,
]);

export type UserSweepDefinition = z.input<typeof SweepSchema>;
/** `base` as the user wrote it (validated, no defaults, no transforms such as "inf" → Infinity). */
export type UserBaseRun = z.input<typeof BaseRunSchema>;
type WithUserBase<T> = T extends unknown ? Omit<T, 'base'> & { base: UserBaseRun } : never;
/** A validated sweep; parseSweep (src/sweep/load.ts) keeps `base` in user form. */
export type SweepDefinition = WithUserBase<z.output<typeof SweepSchema>>;
export type SweepKind = SweepDefinition['kind'];
export type FamilyConfig = z.output<typeof FamilySchema>;
