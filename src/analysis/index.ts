// The analysis layer: loaded sweep (src/io/load.ts) → which fits it supports (planFits) → fit
// records (runFits), with one set of defaults. Pure: no folder walking, no writing.
export { ANALYSIS_DEFAULTS, bootstrapFor } from './defaults.ts';
export type { AnalysisDefaults } from './defaults.ts';
export { FIT_KINDS_STANDARD, defaultTargetFlops, planFits } from './plan.ts';
export type { AnalysisOptions, FitPlan, PlannedFit } from './plan.ts';
export { asAnalysisFit, computeFormulaOf, fitFileName, latestFit, runFits } from './run.ts';
export type { AnalysisFit, RunFitsResult } from './run.ts';
export { finalLoss, heldOutSchedule, isoflopBudgets, isoflopRuns, lrBatchRuns, scheduleLabel, scheduleRuns, trainCurveRows } from './select.ts';
