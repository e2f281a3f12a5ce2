// Is the schedule-aware law accurate enough to rank schedules? (pure) The law fitted on two
// schedules predicts the third's loss curve; its prediction error at the end of training (mean
// |predicted − actual| over the last tenth of the logged points, in nats) is set beside the paired
// gaps between the predicted schedule and the others (final validation loss, across seeds). The law
// can rank a pair only when its error is below that pair's gap.
import { fmt } from '../fit/points.ts';
import type { ScheduleFit } from '../fit/schedule-laws.ts';
import type { SweepRun } from '../io/load.ts';
import type { PairedDifference } from './paired.ts';

export interface ScheduleLawCheck {
  law: string;
  /** Schedule labels the law predicted (held out of its fit). */
  predicted: string[];
  /** Mean |predicted − actual| (nats) over the last tenth of each predicted curve, averaged over curves. */
  endError: number;
  /** The fit's mean |relative error| over the predicted curves. */
  meanAbsRelError: number;
  /** Paired final-loss gaps between a predicted schedule and each other schedule. */
  gaps: PairedDifference[];
  /** Smallest |mean gap| among them (null without gaps). */
  smallestGap: number | null;
  /** endError < smallestGap (null without gaps). */
  accurateEnough: boolean | null;
  verdict: string;
}

/** Mean |pred − actual| over the last tenth (at least one) of a curve's points. */
export function endError(curve: { predicted: readonly number[]; actual: readonly number[] }): number {
  const n = curve.actual.length;
  const k = Math.max(1, Math.round(n / 10));
  let s = 0;
  for (let i = n - k; i < n; i++) s += Math.abs(curve.predicted[i] - curve.actual[i]);
  return s / k;
}

export function scheduleLawCheck(fit: Pick<ScheduleFit, 'law' | 'curves'>, runs: readonly SweepRun[], paired: readonly PairedDifference[]): ScheduleLawCheck | null {
  const curves = fit.curves.filter((c) => c.role === 'predict' && c.actual.length > 0);
  if (curves.length === 0) return null;
  const labelOf = new Map(runs.map((r) => [r.runId, r.tags?.study === 'schedules' ? r.tags.label : r.runId]));
  const predicted = [...new Set(curves.map((c) => labelOf.get(c.name) ?? c.name))];
  const err = curves.reduce((s, c) => s + endError(c), 0) / curves.length;
  const mare = curves.reduce((s, c) => s + c.meanAbsRelError, 0) / curves.length;
  const gaps = paired.filter((d) => d.comparison === 'schedules' && (predicted.includes(d.a) || predicted.includes(d.b)) && d.n > 0);
  const smallest = gaps.length ? Math.min(...gaps.map((d) => Math.abs(d.mean))) : null;
  const accurateEnough = smallest === null ? null : err < smallest;
  const law = `${fit.law} law fitted on the other schedules predicts ${predicted.join(', ')} to ${fmt(err)} nats at the end of training (${(100 * mare).toFixed(2)}% mean |relative error| over the curve)`;
  let verdict: string;
  if (smallest === null) verdict = `${law}; no paired gap to compare it with (the schedules share no seed).`;
  else if (accurateEnough) verdict = `${law}, below the smallest paired gap it is asked to rank (${fmt(smallest)} nats): accurate enough to rank them.`;
  else verdict = `${law}, not below the smallest paired gap it is asked to rank (${fmt(smallest)} nats): not accurate enough to rank them.`;
  const unresolved = gaps.filter((d) => !d.resolved).length;
  if (unresolved > 0) verdict += ` ${unresolved} of ${gaps.length} of those gaps are themselves not resolved at this noise level.`;
  return { law: fit.law, predicted, endError: err, meanAbsRelError: mare, gaps, smallestGap: smallest, accurateEnough, verdict };
}
