// The one set of analysis defaults: `moelab fit`, `moelab report`, `moelab reproduce` and the
// notebooks read these (src/analysis/plan.ts applies them), so the same sweep gets the same fits
// whichever door it comes through.
import type { EdgePolicy } from '../fit/edges.ts';
import type { FitKind } from '../fit/record.ts';
import type { ScheduleLawName } from '../fit/schedule-laws.ts';

export interface AnalysisDefaults {
  /** Seed of every bootstrap. */
  readonly seed: number;
  /** Bootstrap resamples per fit kind (the parametric and curve fits refit by L-BFGS: fewer). */
  readonly bootstrap: Readonly<Record<FitKind, number>>;
  /** A caller's `bootstrap` override applies to every kind, capped here for the expensive ones. */
  readonly bootstrapCap: Readonly<Partial<Record<FitKind, number>>>;
  /** Schedule-aware loss law of the schedule fit (tissue ~1 s; multipower takes minutes). */
  readonly scheduleLaw: ScheduleLawName;
  /** isoFLOP budgets and surge batches without an interior minimum: dropped (listed) or refused. */
  readonly edges: EdgePolicy;
  /** The compute-optimal laws are extrapolated to this multiple of the largest isoFLOP budget. */
  readonly targetFactor: number;
  /** Log-spaced budgets the isoFLOP fit predicts at (the power-law figures' band), plus the target. */
  readonly bandPoints: number;
}

export const ANALYSIS_DEFAULTS: AnalysisDefaults = Object.freeze({
  seed: 0,
  bootstrap: Object.freeze({ compute: 1000, isoflop: 1000, parametric: 200, surge: 1000, deepseek: 1000, envelope: 200, custom: 200, schedule: 0 }),
  // The schedule fit refits every logged point per resample: bootstrap it with `moelab fit schedule --bootstrap`.
  bootstrapCap: Object.freeze({ parametric: 200, envelope: 200, custom: 200, schedule: 0 }),
  scheduleLaw: 'tissue',
  edges: 'drop',
  targetFactor: 100,
  bandPoints: 24,
});

/**
 * Bootstrap resamples of `kind`: a per-kind override as given; one number for every kind, capped
 * for the expensive kinds; else the default.
 */
export function bootstrapFor(kind: FitKind, override: number | Partial<Record<FitKind, number>> | undefined): number {
  if (override === undefined) return ANALYSIS_DEFAULTS.bootstrap[kind];
  if (typeof override === 'object') return override[kind] ?? ANALYSIS_DEFAULTS.bootstrap[kind];
  const cap = ANALYSIS_DEFAULTS.bootstrapCap[kind];
  return cap === undefined ? override : Math.min(override, cap);
}
