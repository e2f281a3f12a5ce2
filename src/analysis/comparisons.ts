// One entry point for the comparisons and claims of a study (pure): the noise floor per cell, every
// paired comparison across seeds, the expert-LR experiment, the isoFLOP sensitivity table and the
// schedule-law check, from the loaded runs and the study's fit records. src/report/comparisons.ts
// renders the result; src/study/compare.ts reads it for the side-by-side table.
import type { Sweep } from '../io/load.ts';
import { armTagsOf } from './arm-tags.ts';
import { analyseExpertLr, type ExpertLrAnalysis } from './expert-lr.ts';
import { noiseFloor, type NoiseFloor } from './noise.ts';
import { pairedComparisons, type PairedDifference } from './paired.ts';
import { latestFit, type AnalysisFit } from './run.ts';
import { scheduleLawCheck, type ScheduleLawCheck } from './schedule-check.ts';
import { isoflopSensitivity, type IsoflopSensitivity, type SensitivityOptions } from './sensitivity.ts';

export interface ComparisonsResult {
  noise: NoiseFloor;
  paired: PairedDifference[];
  /** Null without expert-lr or lr-control arms. */
  expertLr: ExpertLrAnalysis | null;
  /** Null without isoFLOP runs of ≥ 2 budgets. */
  sensitivity: IsoflopSensitivity | null;
  /** Null without a schedule fit that predicted a held-out schedule. */
  scheduleLaw: ScheduleLawCheck | null;
}

export interface ComparisonsOptions {
  /** Options of the sensitivity refits (bootstrap per variant, the baseline's window), or false to skip them. */
  sensitivity?: SensitivityOptions | false;
  /** Factors around the best one the expert-LR parabola sees (default EXPERT_LR_WINDOW = 3; 'all': the whole grid). */
  expertLrWindow?: number | 'all';
}

export function analyseComparisons(sweep: Pick<Sweep, 'runs'>, fits: readonly AnalysisFit[], options: ComparisonsOptions = {}): ComparisonsResult {
  const runs = sweep.runs;
  const paired = pairedComparisons(runs);
  const hasFactorArms = runs.some((r) => {
    const g = armTagsOf(r.tags)?.group;
    return g === 'expert-lr' || g === 'lr-control';
  });
  const surge = latestFit(fits, 'surge');
  const expertLr = hasFactorArms ? analyseExpertLr(runs, surge?.params.Bnoise, options.expertLrWindow !== undefined ? { window: options.expertLrWindow } : {}) : null;
  let sensitivity: IsoflopSensitivity | null = null;
  const isoBudgets = new Set(runs.flatMap((r) => (r.tags?.study === 'isoflop' ? [r.tags.budgetFlops] : [])));
  if (options.sensitivity !== false && isoBudgets.size >= 2) {
    const iso = latestFit(fits, 'isoflop');
    const w = iso?.options.window;
    const window = typeof w === 'number' || w === 'auto' || w === 'all' ? w : undefined;
    sensitivity = isoflopSensitivity(runs, { ...options.sensitivity, base: { ...(window !== undefined ? { window } : {}), ...options.sensitivity?.base } });
  }
  const sched = latestFit(fits, 'schedule');
  return { noise: noiseFloor(runs), paired, expertLr, sensitivity, scheduleLaw: sched ? scheduleLawCheck(sched, runs, paired) : null };
}
