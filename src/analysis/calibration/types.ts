// The interface every calibration case implements (src/analysis/calibration/index.ts runs them).

/** One quantity of one simulated sweep: the truth, the fitted interval, the bootstrap's success fraction. */
export interface CalibrationTrial {
  truth: number;
  /** null: the fit or its interval failed (counted in failedTrials, and as a miss). */
  ci: [number, number] | null;
  successFraction: number;
}

export interface CalibrationCase {
  /** 'isoflop' | 'parametric' | 'surge' | … */
  name: string;
  /** Keys of the JSON output. */
  quantities: readonly string[];
  /**
   * Simulate sweep number `index` (seeded from it), fit it with the standard pipeline, return per
   * quantity. A sweep whose fit throws returns ci: null for its quantities.
   */
  trial(index: number, options: { bootstrap: number }): Record<string, CalibrationTrial>;
}
