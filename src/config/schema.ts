// Runtime schemas for every user-facing config (docs/architecture.md#habits). Unknown keys are errors;
// defaults live here, once; cross-field rules (heads divide d_model, topK ≤ numExperts, …) are
// checked here so nothing deeper re-checks. TS types are inferred from the schemas.
import { z } from 'zod';

const int = (min = 0) => z.number().int().min(min);
const pos = () => z.number().positive();
const fraction = () => z.number().min(0).max(1);

// ---------------------------------------------------------------------------------------------
// Model

/** capacityFactor: a positive number, or "inf" for no capacity limit (stored as Infinity). */
const capacityFactor = z
  .union([z.number().positive(), z.literal('inf')])
  .transform((v) => (v === 'inf' ? Infinity : v));

export const ModelConfigSchema = z
  .strictObject({
    /** Vocabulary size; must equal the tokenizer's (256 for byte-level). */
    vocabSize: int(2).default(256),
    /** Context length in tokens (training sequence length). */
    seqLen: int(1).default(128),
    dModel: int(1),
    numLayers: int(1),
    numHeads: int(1),
    /** GQA: key/value heads; must divide numHeads. Default = numHeads (MHA). */
    numKvHeads: int(1).optional(),
    /** Per-head width; default dModel / numHeads. */
    headDim: int(1).optional(),
    /** Hidden width of one expert's SwiGLU (and of the dense FFN when numExperts is 0). */
    dFf: int(1),
    /** Specialized (routed) experts; 0 = dense FFN. */
    numExperts: int(0).default(0),
    /** Shared experts every token passes through (Hunyuan-Large: 1). */
    numSharedExperts: int(0).default(0),
    /** Hidden width of each shared expert; default dFf. */
    sharedDFf: int(1).optional(),
    /** Experts chosen per token among the specialized experts. */
    topK: int(1).default(1),
    /** Capacity = floor(max(k, k·T/E) · capacityFactor) tokens per expert; "inf" = unlimited. */
    capacityFactor: capacityFactor.default(Infinity),
    /** What happens to tokens beyond an expert's capacity (docs/references.md#recycle-routing). */
    overflowPolicy: z.enum(['drop', 'recycle', 'none']).default('recycle'),
    /** Load-balancing loss coefficient (docs/references.md#aux-loss; paper value unconfirmed). */
    auxLossCoef: z.number().min(0).default(0.01),
    /** Router z-loss coefficient (ST-MoE); 0 = off, as in the paper's code. */
    zLossCoef: z.number().min(0).default(0),
    /** CLA: every claShareFactor-th layer projects K/V, the following layers reuse them. */
    claShareFactor: int(1).default(1),
    /** RMSNorm on q and k over headDim, after RoPE. */
    qkNorm: z.boolean().default(false),
    tieEmbeddings: z.boolean().default(true),
    ropeTheta: pos().default(10000),
    /** NTK-α: base' = ropeTheta · α^(headDim/(headDim−2)) (docs/references.md#configuration). 1 = plain RoPE. */
    ropeNtkAlpha: pos().default(1),
    normEps: pos().default(1e-5),
    /** Std of the normal init of every linear and embedding weight (docs/references.md#init). */
    initStd: pos().default(0.02),
  })
  .superRefine((m, ctx) => {
    const headDim = m.headDim ?? m.dModel / m.numHeads;
    if (m.headDim === undefined && m.dModel % m.numHeads !== 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['numHeads'],
        message: `numHeads (${m.numHeads}) must divide dModel (${m.dModel})`,
        params: { fix: `Choose numHeads among the divisors of ${m.dModel}, or set headDim explicitly.` },
      });
    }
    const kv = m.numKvHeads ?? m.numHeads;
    if (m.numHeads % kv !== 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['numKvHeads'],
        message: `numKvHeads (${kv}) must divide numHeads (${m.numHeads})`,
        params: { fix: `Choose numKvHeads among the divisors of ${m.numHeads}.` },
      });
    }
    if (Number.isInteger(headDim) && headDim % 2 !== 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['headDim'],
        message: `head dimension ${headDim} must be even for RoPE`,
        params: { fix: 'Pick dModel/numHeads (or headDim) even.' },
      });
    }
    if (m.numExperts > 0 && m.topK > m.numExperts) {
      ctx.addIssue({
        code: 'custom',
        path: ['topK'],
        message: `topK (${m.topK}) exceeds numExperts (${m.numExperts})`,
        params: { fix: `Use topK <= ${m.numExperts}.` },
      });
    }
    if (m.numExperts === 0 && m.numSharedExperts > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['numSharedExperts'],
        message: `numSharedExperts (${m.numSharedExperts}) needs specialized experts, but numExperts is 0 (a dense model)`,
        params: { fix: 'Set numExperts >= 1 for an MoE, or numSharedExperts to 0 for a dense model.' },
      });
    }
    if (m.claShareFactor > m.numLayers) {
      ctx.addIssue({
        code: 'custom',
        path: ['claShareFactor'],
        message: `claShareFactor (${m.claShareFactor}) exceeds numLayers (${m.numLayers})`,
        params: { fix: `Use claShareFactor <= ${m.numLayers} (1 = no sharing).` },
      });
    }
  });

export type UserModelConfig = z.input<typeof ModelConfigSchema>;
export type ParsedModelConfig = z.output<typeof ModelConfigSchema>;

// ---------------------------------------------------------------------------------------------
// Learning-rate schedules (shapes in src/train/schedule.ts; docs/references.md#wsd, docs/references.md#lr-schedule)

/** Warmup length: steps, or a fraction of the run. */
const warmup = {
  warmupSteps: int(0).optional(),
  warmupFraction: fraction().optional(),
};

export const ScheduleSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('constant'), ...warmup }),
  z.strictObject({
    kind: z.literal('cosine'),
    ...warmup,
    /** Final LR as a fraction of peak (Chinchilla: 0.1). */
    minLrRatio: fraction().default(0.1),
  }),
  z.strictObject({
    kind: z.literal('wsd'),
    ...warmup,
    /** Fraction of the run spent cooling down at the end. */
    cooldownFraction: fraction().default(0.2),
    cooldownShape: z.enum(['linear', 'cosine', '1-sqrt']).default('1-sqrt'),
    minLrRatio: fraction().default(0),
  }),
  z.strictObject({
    /** Hunyuan-Large: warmup → gradual decay → anneal over the last annealFraction to annealToRatio. */
    kind: z.literal('hunyuan'),
    ...warmup,
    decayShape: z.enum(['cosine', 'linear', 'exp']).default('cosine'),
    /** LR (fraction of peak) reached at the end of the gradual decay; not reported by the paper. */
    decayToRatio: fraction().default(0.3),
    annealFraction: fraction().default(0.05),
    annealToRatio: fraction().default(0.1),
  }),
  z.strictObject({ kind: z.literal('inverse-sqrt'), ...warmup }),
  z.strictObject({
    /** DeepSeek-style steps: from each milestone (fraction of run) on, the LR is its factor × peak. */
    kind: z.literal('multistep'),
    ...warmup,
    milestones: z.array(fraction()).min(1).default([0.8, 0.9]),
    factors: z.array(pos()).min(1).default([0.316, 0.1]),
  }),
  z.strictObject({
    /** Piecewise-linear in (fraction of run, fraction of peak) points; first at 0, last at 1. */
    kind: z.literal('piecewise'),
    points: z.array(z.tuple([fraction(), z.number().min(0)])).min(2),
  }),
]).superRefine((s, ctx) => {
  // Cross-field rules of the schedule shapes (src/train/schedule.ts relies on them).
  if ('warmupSteps' in s && s.warmupSteps !== undefined && s.warmupFraction !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['warmupFraction'],
      message: `both warmupSteps (${s.warmupSteps}) and warmupFraction (${s.warmupFraction}) are set`,
      params: { fix: 'Set only one of warmupSteps and warmupFraction.' },
    });
  }
  if (s.kind === 'multistep') {
    if (s.milestones.length !== s.factors.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['factors'],
        message: `${s.factors.length} factors for ${s.milestones.length} milestones`,
        params: { fix: 'Give one factor (LR level as a fraction of peak) per milestone.' },
      });
    }
    if (s.milestones.some((m, i) => i > 0 && m <= s.milestones[i - 1])) {
      ctx.addIssue({
        code: 'custom',
        path: ['milestones'],
        message: 'milestones are not strictly increasing',
        params: { fix: 'List milestones (fractions of the run) in increasing order, e.g. [0.8, 0.9].' },
      });
    }
  }
  if (s.kind === 'piecewise') {
    const xs = s.points.map((p) => p[0]);
    if (xs[0] !== 0 || xs[xs.length - 1] !== 1 || xs.some((x, i) => i > 0 && x <= xs[i - 1])) {
      ctx.addIssue({
        code: 'custom',
        path: ['points'],
        message: `point positions ${JSON.stringify(xs)} must rise strictly from 0 to 1`,
        params: { fix: 'Give [fractionOfRun, fractionOfPeak] points with the first at 0 and the last at 1, e.g. [[0, 0], [0.1, 1], [1, 0.1]].' },
      });
    }
  }
});

export type UserSchedule = z.input<typeof ScheduleSchema>;
export type ScheduleConfig = z.output<typeof ScheduleSchema>;

// ---------------------------------------------------------------------------------------------
// One training run

export const TokenizerSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('byte') }),
  z.strictObject({ kind: z.literal('bpe'), vocabSize: int(257).max(65536) }),
]);

export const DataConfigSchema = z.strictObject({
  /** "default" (embedded English corpus), a .txt file, a folder of .txt, or a .jsonl with `text`. */
  corpus: z.string().min(1).default('default'),
  tokenizer: TokenizerSchema.default({ kind: 'byte' }),
  /** Tokens held out for validation (a fixed split taken from the end of the corpus). */
  valTokens: int(1).default(131072),
  /**
   * Windows of seqLen tokens in the validation set, evenly spaced over the held-out split
   * (src/data/validation.ts); the final evaluation uses all of them. Omitted: the most that fit,
   * at most 1024.
   */
  valWindows: int(1).optional(),
  /** Allow more than one pass over the training split. */
  repeat: z.boolean().default(false),
});

export const ExpertLrSchema = z.discriminatedUnion('mode', [
  /** Specialized experts use the base LR. */
  z.strictObject({ mode: z.literal('same') }),
  /** Specialized experts use base LR × multiplier. */
  z.strictObject({ mode: z.literal('multiplier'), multiplier: pos() }),
  /** docs/references.md#expert-lr: lr_specialized / lr_shared = ε_opt(B·k/E) / ε_opt(B), B in tokens. */
  z.strictObject({ mode: z.literal('surge'), bNoise: pos() }),
]);

/**
 * An Adam decay rate in [0, 1): at 1 the moment never forgets its start (m stays 0, v stays 0)
 * and bias correction divides by 1 − β^t = 0.
 */
const adamBeta = () =>
  z
    .number()
    .min(0)
    .lt(1, { error: 'must be below 1 (at 1 the moment estimate never updates and bias correction divides by 0)' });

export const OptimizerSchema = z.strictObject({
  beta1: adamBeta().default(0.9),
  beta2: adamBeta().default(0.95),
  eps: pos().default(1e-8),
  weightDecay: z.number().min(0).default(0.1),
  /** Global-norm gradient clipping; 0 = off. */
  gradClip: z.number().min(0).default(1.0),
});

export const TrainConfigSchema = z.strictObject({
  /** Exact training-token budget; steps = tokens / (batchSize · seqLen), rounded down. */
  tokens: int(1),
  /** Sequences per step. */
  batchSize: int(1),
  /** Peak learning rate of the base parameter group. */
  lr: pos(),
  schedule: ScheduleSchema.default({ kind: 'cosine', warmupFraction: 0.05, minLrRatio: 0.1 }),
  optimizer: OptimizerSchema.default({ beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, gradClip: 1 }),
  expertLr: ExpertLrSchema.default({ mode: 'same' }),
  /** Validation every N steps (and always at the end). */
  evalEvery: int(1).default(50),
  /**
   * Intermediate evaluations read evalBatches × batchSize windows of the validation set (a fixed,
   * evenly spread subset); the final evaluation reads all data.valWindows of them.
   */
  evalBatches: int(1).default(4),
  checkpointEvery: int(1).default(100),
  logEvery: int(1).default(10),
  /** A run is diverged when loss is NaN/Inf or exceeds divergenceFactor × its first loss. */
  divergenceFactor: z.number().min(1).default(3),
});

export const RunConfigSchema = z
  .strictObject({
    /** Run id (docs/architecture.md#naming); names the run folder. */
    name: z.string().min(1).default('run'),
    seed: int(0).default(0),
    model: ModelConfigSchema,
    data: DataConfigSchema.default({ corpus: 'default', tokenizer: { kind: 'byte' }, valTokens: 131072, repeat: false }),
    train: TrainConfigSchema,
  })
  .superRefine((r, ctx) => {
    const tokVocab = r.data.tokenizer.kind === 'byte' ? 256 : r.data.tokenizer.vocabSize;
    if (r.model.vocabSize !== tokVocab) {
      ctx.addIssue({
        code: 'custom',
        path: ['model', 'vocabSize'],
        message: `model.vocabSize (${r.model.vocabSize}) differs from the tokenizer's vocabulary (${tokVocab})`,
        params: { fix: `Set model.vocabSize to ${tokVocab}.` },
      });
    }
    const tokensPerStep = r.train.batchSize * r.model.seqLen;
    if (r.train.tokens < tokensPerStep) {
      ctx.addIssue({
        code: 'custom',
        path: ['train', 'tokens'],
        message: `budget of ${r.train.tokens} tokens is less than one step (${tokensPerStep} = batchSize × seqLen)`,
        params: { fix: `Use train.tokens >= ${tokensPerStep} or a smaller batch.` },
      });
    }
    const steps = Math.floor(r.train.tokens / tokensPerStep);
    const sched = r.train.schedule;
    if ('warmupSteps' in sched && sched.warmupSteps !== undefined && sched.warmupSteps >= steps && steps > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['train', 'schedule', 'warmupSteps'],
        message: `warmup of ${sched.warmupSteps} steps is not shorter than the run (${steps} steps)`,
        params: { fix: `Use warmupSteps < ${steps}, or warmupFraction.` },
      });
    }
  });

export type UserRunConfig = z.input<typeof RunConfigSchema>;
export type RunConfig = z.output<typeof RunConfigSchema>;
export type TrainConfig = RunConfig['train'];
export type DataConfig = RunConfig['data'];
