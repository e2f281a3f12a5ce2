// The analysis layer: loaded sweep (src/io/load.ts) → which fits it supports (planFits) → fit
// records (runFits), with one set of defaults. Pure: no folder walking, no writing.
export { ANALYSIS_DEFAULTS, bootstrapFor } from './defaults.ts';
export type { AnalysisDefaults } from './defaults.ts';
export { FIT_KINDS_STANDARD, defaultTargetFlops, planFits } from './plan.ts';
export type { AnalysisOptions, FitPlan, PlannedFit } from './plan.ts';
export { asAnalysisFit, computeFormulaOf, fitFileName, latestFit, runFits } from './run.ts';
export type { AnalysisFit, RunFitsResult } from './run.ts';
export { finalLoss, heldOutSchedule, isoflopBudgets, isoflopRuns, lrBatchRuns, scheduleLabel, scheduleRuns, trainCurveRows } from './select.ts';
// Comparisons and claims: noise floor, paired differences, expert-LR experiment, sensitivity, schedule-law check.
export { analyseComparisons } from './comparisons.ts';
export type { ComparisonsOptions, ComparisonsResult } from './comparisons.ts';
export { cellOf, noiseFloor } from './noise.ts';
export type { NoiseCell, NoiseFloor } from './noise.ts';
export { PAIRED_METHOD, pairedComparisons, pairedDifference, pairedVerdict, tInterval } from './paired.ts';
export type { PairedDifference, SeedLoss } from './paired.ts';
export { EXPERT_LR_WINDOW, analyseExpertLr, expertN, fiellerVertex, fitBestFactor, nearBestFactors, predictedRatio, runRouting } from './expert-lr.ts';
export type { BestFactor, ExpertLrAnalysis, ExpertLrJudgement, FactorLoss, PredictedRatio, RunRouting } from './expert-lr.ts';
export { isoflopSensitivity } from './sensitivity.ts';
export type { IsoflopSensitivity, SensitivityOptions, SensitivityRow } from './sensitivity.ts';
export { endError, scheduleLawCheck } from './schedule-check.ts';
export type { ScheduleLawCheck } from './schedule-check.ts';
export { studentTCdf, studentTQuantile } from './student-t.ts';
