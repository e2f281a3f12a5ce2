// A study: several sweeps that answer one research question together, run as one sweep folder.
// `experiments/hunyuan-small.ts` is the study that reproduces the paper's three analyses
// (isoFLOP scaling, LR × batch surge, schedules) plus a confirmation of expert-specific LRs.
import { z } from 'zod';
import type { UserSweepDefinition } from '../config/sweep-schema.ts';
import { parseConfig } from '../config/validate.ts';

type Part<K extends UserSweepDefinition['kind']> = Omit<Extract<UserSweepDefinition, { kind: K }>, 'name'>;

/** One preset of a study (e.g. `quick` for a laptop, `full` for a GPU box or cluster). */
export interface StudyPreset {
  description?: string;
  /** isoFLOP scaling: budgets × activated sizes of the family. */
  isoflop: Part<'isoflop'>;
  /** LR × batch grid for the surge fit (docs/references.md#surge). */
  lrBatch: Part<'lr-batch'>;
  /** Schedule comparison at equal budget (docs/references.md#lr-schedule). */
  schedules: Part<'schedules'>;
  /**
   * Confirmation of expert-specific LRs (docs/references.md#expert-lr): the lr-batch study's model at `batchSize`,
   * trained with one LR for every group and with the specialized experts at the surge rule's
   * ratio. The base LR is the grid's best LR at that batch size (or `lr`).
   */
  confirm: { batchSize: number; tokens: number; lr?: number; seeds?: number[] };
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

const PresetShape = z.strictObject({
  description: z.string().optional(),
  // Each part's outer shape here; the sweep schema validates the rest when the study is planned.
  isoflop: z.looseObject({ kind: z.literal('isoflop') }).transform((p) => p as Part<'isoflop'>),
  lrBatch: z.looseObject({ kind: z.literal('lr-batch') }).transform((p) => p as Part<'lr-batch'>),
  schedules: z.looseObject({ kind: z.literal('schedules') }).transform((p) => p as Part<'schedules'>),
  confirm: z.strictObject({
    batchSize: z.number().int().min(1),
    tokens: z.number().int().min(1),
    lr: z.number().positive().optional(),
    seeds: z.array(z.number().int().min(0)).min(1).optional(),
  }),
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
export const STUDY_PARTS = ['iso', 'lr', 'sched', 'confirm'] as const;
export type StudyPart = (typeof STUDY_PARTS)[number];

export function partSweepName(study: string, preset: string, part: StudyPart): string {
  return `${study}-${preset}-${part}`;
}
