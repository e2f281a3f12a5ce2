// Arm tags as the comparisons read them: the study's contract for confirmation, ablation, expert-LR
// and LR-control arms ({study: 'arm', group, name, seed, factor?, comparison?}). The run-tag schema
// (src/io/tags.ts) is where they are validated; this module only narrows a run's tags to that shape,
// so the analyses read `group`, `factor` and `comparison` as typed fields. Isoflop tags may carry
// the LR the run used (`lr`) when a study scans the LR per size.
import type { RunTags } from '../io/tags.ts';

export type ArmGroup = 'confirmation' | 'ablation' | 'expert-lr' | 'lr-control';
export const ARM_GROUPS: readonly ArmGroup[] = ['confirmation', 'ablation', 'expert-lr', 'lr-control'];

export interface ArmTagsRead {
  study: 'arm';
  group: ArmGroup;
  /** The arm's name as tables print it. */
  name: string;
  seed: number;
  /** expert-lr: the specialized-expert LR multiplier; lr-control: the multiplier of every group's LR. */
  factor?: number;
  /** ablation: which comparison the arm belongs to ('routing' | 'cla' | 'kv-heads'). */
  comparison?: string;
}

/** A run's arm tags, or undefined when the run is not an arm (or its group is unknown). */
export function armTagsOf(tags: RunTags | undefined): ArmTagsRead | undefined {
  if (tags?.study !== 'arm') return undefined;
  const t = tags as RunTags & Partial<ArmTagsRead>;
  if (!ARM_GROUPS.includes(t.group as ArmGroup)) return undefined;
  return {
    study: 'arm',
    group: t.group as ArmGroup,
    name: t.name as string,
    seed: t.seed,
    ...(typeof t.factor === 'number' ? { factor: t.factor } : {}),
    ...(typeof t.comparison === 'string' ? { comparison: t.comparison } : {}),
  };
}

/** The LR an isoFLOP run used, when its tags record one (studies that scan LR per size). */
export function isoflopLrOf(tags: RunTags | undefined): number | undefined {
  if (tags?.study !== 'isoflop') return undefined;
  const lr = (tags as RunTags & { lr?: unknown }).lr;
  return typeof lr === 'number' ? lr : undefined;
}
