// The calibration harness's contract (src/analysis/calibration/index.ts runs the cases): a case
// simulates one sweep from a known law per trial, fits it with the standard pipeline, and returns,
// per headline quantity, the truth, the fit's 95% interval and the bootstrap's success fraction.
// Kept in its own module so the cases and the harness import it without an import cycle.

export interface CalibrationTrial {
  truth: number;
  /** The fit's 95% interval; null when the fit gave none (counts as a miss). */
  ci: [number, number] | null;
  /** Bootstrap resamples that succeeded / resamples drawn. */
  successFraction: number;
}

export interface CalibrationCase {
  name: string;
  quantities: readonly string[];
  trial(index: number, options: { bootstrap: number }): Record<string, CalibrationTrial>;
}
