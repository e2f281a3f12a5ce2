// moelab's public API (STYLE.md §5.1: `index.ts` is the contract; re-exports only). Anything not
// exported here is internal. Notebooks import from here by the package's own name:
// `import { loadRuns } from "moelab"` (docs/notebooks.md). Names are listed explicitly, grouped by
// module, so two modules can never silently shadow each other's exports.

// --- project, records and the results/ layout -----------------------------------------------------
export { PROJECT_ROOT, MOELAB_VERSION } from './util/provenance.ts';
export { toJson, readJsonl } from './io/atomic.ts';
export { resultsRoot, runPaths, sweepPaths } from './io/results.ts';
export type { DerivedCounts, MetricRow, RunConfigRecord, RunStatus, RunSummary } from './io/results.ts';
export { createRng } from './util/rng.ts';
export { ConfigError, DataError } from './errors.ts';

// --- configs ------------------------------------------------------------------------------------------
export { RunConfigSchema, ScheduleSchema } from './config/schema.ts';
export type { RunConfig, ScheduleConfig, UserRunConfig, UserSchedule } from './config/schema.ts';
export { parseConfig } from './config/validate.ts';

// --- LR schedules (pure) -------------------------------------------------------------------------
export { COOLDOWN_SHAPES, lrCurve, lrFactor, warmupStepsOf } from './train/schedule.ts';

// --- runs as records and tables (src/report) ----------------------------------------------------
export { budgetsOf, evalRows, loadSweepRecords, runBatchTokens, runBudget, runFinalLoss, runScheduleLabel, runState, runStudyKind } from './report/records.ts';
export type { RunRecord, RunState, SweepRecords } from './report/records.ts';
export { RUN_COLUMNS, dataFrameToTable, loadRuns, runTableRow, runTableRows, runsDataFrame } from './report/frame.ts';
export type { RunColumn, RunTableRow } from './report/frame.ts';
export { tableToCsv, tableToHtml } from './report/tables.ts';
export type { Cell, TableSpec } from './report/tables.ts';

// --- figures (Plotly specs, pure) and their notebook/report renderings ---------------------------
export { CATEGORY_COLORS, FIGURE_HEIGHT, FIGURE_WIDTH, baseLayout, categoryColor, formatNumber, logspace, orderedColor, viridis, withAlpha } from './report/figure.ts';
export type { FigureLayout, FigureSpec, Trace } from './report/figure.ts';
export { LOG_AXIS } from './report/figures/shared.ts';
export { lossVsFlopsFigure, lossVsTokensFigure, lowerEnvelope, runLossCurve } from './report/figures/loss-curves.ts';
export { expertUsageFigure, representativeMoeRun, usageImbalance } from './report/figures/expert-usage.ts';
export { tokenFractionsFigure } from './report/figures/token-fractions.ts';
export { lrCurvesFigure } from './report/figures/lr-curves.ts';
export { isoflopFigure } from './report/figures/isoflop.ts';
export { powerLawFigure, referenceLaws } from './report/figures/power-laws.ts';
export { parametricFigure } from './report/figures/parametric.ts';
export { lrBatchFigure, lrBatchStepsFigure } from './report/figures/lr-batch.ts';
export { scheduleFigure } from './report/figures/schedules.ts';
export { buildFitSections, standardFits } from './report/fit-sections.ts';
export type { LoadedFit, StandardFitOptions } from './report/fit-sections.ts';
export { exportReport } from './report/export.ts';
export { figureOutputHtml, plotlyLoaderHtml, tableOutputHtml } from './report/notebook.ts';
export type { FigureOutputOptions } from './report/notebook.ts';
export { buildReport, readPlotlyBundle } from './report/build.ts';

// --- fits (pure; src/fit never imports TF.js) -----------------------------------------------------
export {
  CHINCHILLA_PAPER_ROUNDED,
  CHINCHILLA_PAPER_UNROUNDED,
  chinchillaAllocationExponents,
  chinchillaLoss,
  chinchillaOptimal,
  fitParametric,
} from './fit/parametric.ts';
export type { ChinchillaParams, ComputeOptimal, ParametricFit, ParametricOptions, ParametricPoint } from './fit/parametric.ts';
export { fitIsoflop } from './fit/isoflop.ts';
export type { IsoflopFit, IsoflopOptions, IsoflopPoint } from './fit/isoflop.ts';
export { COMPUTE_6ND, COMPUTE_HUNYUAN, computeFlops, parseComputeFormula } from './fit/compute-formula.ts';
export type { ComputeFormula } from './fit/compute-formula.ts';
export { FORMS, chinchillaForm } from './fit/forms.ts';
export type { Form } from './fit/forms.ts';
export { fitForm } from './fit/fit-form.ts';
export type { FitFormOptions, FormFit } from './fit/fit-form.ts';
export { relError } from './fit/record.ts';
export type { Estimate, FitResultBase, HeldOutRow } from './fit/record.ts';
export { createExpressionForm } from './fit/expression.ts';
export type { ExpressionForm } from './fit/expression.ts';
export { fitCustom } from './fit/custom.ts';
export type { CustomFit, CustomFitOptions, CustomRow } from './fit/custom.ts';
export { fitEnvelope } from './fit/envelope.ts';
export type { EnvelopeFit, TrainingCurve } from './fit/envelope.ts';
export { expertLrRatio, fitSurge } from './fit/surge.ts';
export { fitSurgeStepsToTarget, stepsToTarget } from './fit/surge-steps.ts';
export type { SurgeFit, SurgeMethod, SurgePoint } from './fit/surge.ts';
export type { CurveRow, SurgeCurvePoint, SurgeStepsOptions } from './fit/surge-steps.ts';
export { fitDeepseek } from './fit/deepseek.ts';
export type { DeepseekFit } from './fit/deepseek.ts';
export {
  MPL_OFFICIAL_PARAMS,
  SCHEDULE_LAWS,
  fitScheduleLaw,
  meanAbsRelError,
  multiPowerLaw,
  predictCurve,
  prepareCurve,
  reconstructLr,
  tissueLaw,
} from './fit/schedule-laws.ts';
export type { LossCurve, PreparedCurve, ScheduleCurveResult, ScheduleFit, ScheduleFitOptions, ScheduleLaw, ScheduleLawName } from './fit/schedule-laws.ts';
export { numericColumn, parseCsv, readCsv, readSweepRuns, stringColumn } from './fit/data.ts';
export type { RunRecordLite, Table } from './fit/data.ts';
export { FIT_KINDS, fitRuns, fitTable, readCurveCsv, runCurve } from './fit/run-fit.ts';
export type { FitRequest, FitResult } from './fit/run-fit.ts';
export { formatFit } from './fit/format.ts';

// --- sweeps: experiment files, plans, local and Slurm runners (src/sweep; docs/sweeps.md) --------
export { defineSweep } from './sweep/define.ts';
export { loadSweepFile, parseSweep } from './sweep/load.ts';
export { SweepSchema } from './config/sweep-schema.ts';
export type { SweepDefinition, UserSweepDefinition } from './config/sweep-schema.ts';
export { expandSweep } from './sweep/plan.ts';
export type { PlanProblem, PlanRun, RunPlan } from './sweep/plan.ts';
export { formatRunId, parseRunId } from './sweep/run-id.ts';
export type { RunIdParts } from './sweep/run-id.ts';
export { assertPlanOk, prepareSweep } from './sweep/prepare.ts';
export { inspectSweep, readPlan, writePlanFiles } from './sweep/state.ts';
export type { RunStatusRow, SweepStatus } from './sweep/state.ts';
export { runSweep, startSweep } from './sweep/runner.ts';
export type { SweepOutcome } from './sweep/runner.ts';
export { buildSbatchScript, submitSlurmSweep } from './sweep/slurm.ts';

// --- model accounting and family sizing (pure; src/model/count.ts, builder.ts) --------------------
export { ModelConfigSchema } from './config/schema.ts';
export type { UserModelConfig } from './config/schema.ts';
export { resolveModelConfig } from './config/resolve.ts';
export type { ResolvedModelConfig } from './config/resolve.ts';
export {
  COMPUTE_FORMULA_NAMES,
  HUNYUAN_COMPUTE,
  accountModel,
  computeFlopsPerToken,
  countParams,
  fitComputeCoefficients,
  flopsPerToken,
  kvCacheBytesPerToken,
  kvCacheTable,
  trainingFlops,
} from './model/count.ts';
export type { ComputeFormulaName, ModelAccounting, ParamCounts, ParamKind } from './model/count.ts';
export { buildHunyuanLike, sizeHunyuanLike } from './model/builder.ts';
export type { HunyuanLikeArgs } from './model/builder.ts';
export { epsOpt, expertLrMultiplier, surgeExpertLrRatio } from './train/expert-lr.ts';

// --- studies: several sweeps answering one question (moelab reproduce) -----------------------------
export { defineStudy, parseStudy } from './study/define.ts';
export type { StudyDefinition, StudyPreset } from './study/define.ts';
export { paperComparison } from './study/compare.ts';
export type { ComparisonInput, ComparisonRow } from './study/compare.ts';
export { PAPER } from './study/paper.ts';
