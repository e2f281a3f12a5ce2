// The `report` namespace of the public API (src/index.ts): per-run accessors, the runs table,
// figures (Plotly specs, pure) and their notebook renderings, fit sections, the report writer.
export { budgetsOf, evalRows, runBatchTokens, runBudget, runFinalLoss, runScheduleLabel, runState, runStudyKind } from '../report/records.ts';
export type { RunRecord, SweepRecords } from '../report/records.ts';
export { RUN_COLUMNS, dataFrameToTable, loadRuns, runTableRow, runTableRows, runsDataFrame } from '../report/frame.ts';
export type { RunColumn, RunTableRow } from '../report/frame.ts';
export { tableToCsv, tableToHtml } from '../report/tables.ts';
export type { Cell, TableSpec } from '../report/tables.ts';
export { CATEGORY_COLORS, FIGURE_HEIGHT, FIGURE_WIDTH, baseLayout, categoryColor, formatNumber, logspace, orderedColor, viridis, withAlpha } from '../report/figure.ts';
export type { FigureLayout, FigureSpec, Trace } from '../report/figure.ts';
export { LOG_AXIS } from '../report/figures/shared.ts';
export { lossVsFlopsFigure, lossVsTokensFigure, lowerEnvelope, runLossCurve } from '../report/figures/loss-curves.ts';
export { expertUsageFigure, representativeMoeRun, usageImbalance } from '../report/figures/expert-usage.ts';
export { tokenFractionsFigure } from '../report/figures/token-fractions.ts';
export { lrCurvesFigure } from '../report/figures/lr-curves.ts';
export { isoflopFigure } from '../report/figures/isoflop.ts';
export { powerLawFigure, referenceLaws } from '../report/figures/power-laws.ts';
export { parametricFigure } from '../report/figures/parametric.ts';
export { lrBatchFigure, lrBatchStepsFigure } from '../report/figures/lr-batch.ts';
export { scheduleFigure } from '../report/figures/schedules.ts';
export { buildFitSections } from '../report/fit-sections.ts';
export { renderComparisons } from '../report/comparisons.ts';
export type { FitSections, LoadedFit } from '../report/fit-sections.ts';
export { exportReport } from '../report/export.ts';
export { figureOutputHtml, plotlyLoaderHtml, tableOutputHtml } from '../report/notebook.ts';
export type { FigureOutputOptions } from '../report/notebook.ts';
export { buildReport, readPlotlyBundle } from '../report/build.ts';
export type { BuildReportOptions, BuildReportResult } from '../report/build.ts';
