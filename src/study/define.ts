// A study: several sweeps that answer one research question together, run as one sweep folder.
// `experiments/hunyuan-small.ts` is the study that reproduces the paper's three analyses
// (isoFLOP scaling, LR × batch surge, schedules) plus a confirmation of expert-specific LRs.
import { z } from 'zod';
import type { UserSweepDefinition } from '../config/sweep-schema.ts';
import { parseConfig } from '../config/validate.ts';
import { TIME_TERMS, type TimeCoefficients, type TimeTerm } from './time-model.ts';

type Part<K extends UserSweepDefinition['kind']> = Omit<Extract<UserSweepDefinition, { kind: K }>, 'name'>;

/** What an ablation compares (two arms each, at equal compute, paired by seed). */
export type AblationComparison = 'routing' | 'cla' | 'kv-heads';

/** One preset of a study (e.g. `quick` for a laptop, `standard` to resolve the claims, `full` for a GPU box or cluster). */
export interface StudyPreset {
  description?: string;
  /**
   * Where this preset departs from the study's standard design, and why (the report prints them).
   * Empty or absent for a preset that follows it.
   */
  departures?: string[];
  /**
   * A learning rate per size (docs/references.md#reproduction-needs): before the isoFLOP sweep, each size
   * of `isoflop.activatedParams` trains at each of `lrs` at the smallest isoFLOP budget that
   * contains it (its shortest cell), with the isoFLOP part's batch, warmup and schedule; the
   * isoFLOP cells then train at each size's LR picked by pickLrPerSize (src/study/run.ts). Without
   * it every cell trains `isoflop.base.train.lr`.
   */
  lrScan?: {
    lrs: number[];
    seeds?: number[];
    /** Final-evaluation windows of the scan runs (default: the isoFLOP part's). */
    valWindows?: number;
    /**
     * Up to this many more LRs beyond the scan's edge for a size whose best LR is the lowest or
     * highest scanned (one at a time, each the grid's outer ratio further out, until the best LR is
     * inside; default 0: none). src/study/run.ts scanExtension.
     */
    extendAtEdges?: number;
  };
  /**
   * Passes over the corpus's train split a run of this preset may make (default 1). A run that
   * needs more than one pass trains with `data.repeat` when it needs at most `maxEpochs`, and is
   * left out of the plan (listed with its passes) when it needs more; without `maxEpochs` such a
   * run is an error when the study starts, before anything trains (src/study/run.ts fitPlanToCorpus).
   */
  maxEpochs?: number;
  /** isoFLOP scaling: budgets × activated sizes of the family. */
  isoflop: Part<'isoflop'>;
  /** LR × batch grid for the surge fit (docs/references.md#surge). */
  lrBatch: Part<'lr-batch'>;
  /** Schedule comparison at equal budget (docs/references.md#lr-schedule). */
  schedules: Part<'schedules'>;
  /**
   * Expert LR as an experiment (docs/references.md#expert-lr): the lr-batch study's model at `batchSize`, base
   * LR = the grid's best LR at that batch from the surge fit (or `lr`); arm `expert-lr` multiplies
   * only the specialized experts' LR by each factor, arm `lr-control` (unless `control: false`)
   * multiplies every group's LR by the same factors.
   */
  expertLr?: { batchSize: number; tokens: number; factors: number[]; seeds: number[]; lr?: number; control?: boolean };
  /**
   * Ablations the paper implies, at equal compute (tokens = budget / the arm's exact FLOPs per
   * token) with seeds: the isoFLOP family's model at `activatedParams`, batch and LR as given, the
   * isoFLOP part's schedule and data; each comparison changes one field of that model.
   */
  ablations?: { activatedParams: number; budget: number; batchSize: number; lr: number; seeds: number[]; comparisons: AblationComparison[] };
  /**
   * Confirmation of expert-specific LRs (docs/references.md#expert-lr): the lr-batch study's model at `batchSize`,
   * trained with one LR for every group and with the specialized experts at the surge rule's
   * ratio. The base LR is the grid's best LR at that batch size (or `lr`).
   */
  confirm?: { batchSize: number; tokens: number; lr?: number; seeds?: number[] };
  /**
   * How `--dry-run` estimates the study's wall time (src/study/time-model.ts): each run's seconds on
   * one worker from its steps, layers, tokens per step, exact FLOPs and final-evaluation tokens
   * times the fitted `coefficients` (seconds per unit), the runs of each stage taken in plan order
   * by `workers` workers. `basis` says which measured runs the coefficients were fitted to, and
   * `heldOut` how well they predicted runs left out of the fit. `loaded`: the ratio of measured to
   * predicted time on a machine shared with other work, and where it was measured; the estimate is
   * printed at it too.
   */
  timeModel?: { coefficients: TimeCoefficients; workers: number; basis: string; heldOut: string; loaded?: { factor: number; basis: string } };
}

export interface StudyDefinition {
  /** Names the results folder `results/<name>-<preset>/` and starts every run id. */
  name: string;
  description?: string;
  presets: Record<string, StudyPreset>;
}

/** Identity helper giving experiment files type checking (like defineSweep). */
export function defineStudy<const T extends StudyDefinition>(definition: T): T {
  return definition;
}

const seeds = () => z.array(z.number().int().min(0)).min(1);
const positiveList = () => z.array(z.number().positive()).min(1);

const PresetShape = z.strictObject({
  description: z.string().optional(),
  departures: z.array(z.string().min(1)).optional(),
  lrScan: z
    .strictObject({
      lrs: positiveList().min(2),
      seeds: seeds().optional(),
      valWindows: z.number().int().min(1).optional(),
      extendAtEdges: z.number().int().min(0).max(6).optional(),
    })
    .optional(),
  maxEpochs: z.number().min(1).optional(),
  // Each part's outer shape here; the sweep schema validates the rest when the study is planned.
  isoflop: z.looseObject({ kind: z.literal('isoflop') }).transform((p) => p as Part<'isoflop'>),
  lrBatch: z.looseObject({ kind: z.literal('lr-batch') }).transform((p) => p as Part<'lr-batch'>),
  schedules: z.looseObject({ kind: z.literal('schedules') }).transform((p) => p as Part<'schedules'>),
  expertLr: z
    .strictObject({
      batchSize: z.number().int().min(1),
      tokens: z.number().int().min(1),
      factors: positiveList().min(2),
      seeds: seeds(),
      lr: z.number().positive().optional(),
      control: z.boolean().optional(),
    })
    .optional(),
  ablations: z
    .strictObject({
      activatedParams: z.number().positive(),
      budget: z.number().positive(),
      batchSize: z.number().int().min(1),
      lr: z.number().positive(),
      seeds: seeds(),
      comparisons: z.array(z.enum(['routing', 'cla', 'kv-heads'])).min(1),
    })
    .optional(),
  confirm: z
    .strictObject({
      batchSize: z.number().int().min(1),
      tokens: z.number().int().min(1),
      lr: z.number().positive().optional(),
      seeds: seeds().optional(),
    })
    .optional(),
  timeModel: z
    .strictObject({
      coefficients: z.strictObject(Object.fromEntries(TIME_TERMS.map((k) => [k, z.number().nonnegative()])) as Record<TimeTerm, z.ZodNumber>),
      workers: z.number().int().min(1),
      basis: z.string().min(1),
      heldOut: z.string().min(1),
      loaded: z.strictObject({ factor: z.number().min(1), basis: z.string().min(1) }).optional(),
    })
    .optional(),
});

const StudyShape = z.strictObject({
  name: z.string().min(1).regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'study name must be letters, digits, ".", "_" or "-"'),
  description: z.string().optional(),
  presets: z.record(z.string().regex(/^[a-z][a-z0-9-]*$/), PresetShape).refine((p) => Object.keys(p).length > 0, {
    message: 'needs at least one preset',
    params: { fix: 'Add e.g. presets: { quick: {...} }.' },
  }),
});

/**
 * Validate a study's outer shape (each part is validated as a full sweep when the study is
 * planned, by the sweep schema, so its messages name the part's fields).
 */
export function parseStudy(input: unknown, source: string): StudyDefinition {
  return parseConfig(StudyShape, input, source);
}

/** The names each part's sweep gets: `<study>-<preset>-<part>` (they start the run ids). */
export const STUDY_PARTS = ['scan', 'iso', 'lr', 'sched', 'ablate', 'elr', 'lrc', 'confirm'] as const;
export type StudyPart = (typeof STUDY_PARTS)[number];

export function partSweepName(study: string, preset: string, part: StudyPart): string {
  return `${study}-${preset}-${part}`;
}
