// Runs as a table: one row per run (config fields, derived counts, final and best losses, status).
// `runTableRows` is pure; `loadRuns` returns a danfojs-node DataFrame for notebooks and the report.
// danfojs-node costs ~4 s to import (docs/references.md#data-frames), so it is imported lazily here and
// nowhere else: training and `moelab --help` never pay for it.
import type { DataFrame } from 'danfojs-node';
import type { RunRecord } from './records.ts';
import { runBatchTokens, runBudget, runScheduleLabel, runState, runStudyKind } from './records.ts';
import { loadSweep } from '../io/load.ts';
import type { Cell, TableSpec } from './tables.ts';

/** Column order of the runs table (and of `loadRuns`' DataFrame). */
export const RUN_COLUMNS = [
  'runId',
  'status',
  'study',
  'budgetFlops',
  'schedule',
  'lr',
  'batchSize',
  'batchTokens',
  'seqLen',
  'dModel',
  'numLayers',
  'numHeads',
  'dFf',
  'numExperts',
  'topK',
  'numSharedExperts',
  'seed',
  'totalParams',
  'activatedParams',
  'activatedNonEmbeddingParams',
  'flopsPerToken',
  'steps',
  'tokens',
  'computeFlops',
  'stepsDone',
  'finalTrainLoss',
  'finalValLoss',
  'bestValLoss',
  'wallSeconds',
] as const;

export type RunColumn = (typeof RUN_COLUMNS)[number];
export type RunTableRow = Record<RunColumn, Cell>;

/** Non-finite losses (a diverged run's NaN) become null so tables and frames show a gap. */
function finite(v: number | undefined): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

export function runTableRow(run: RunRecord): RunTableRow {
  const { config, derived } = run.config;
  const last = run.metrics.at(-1);
  return {
    runId: run.runId,
    status: runState(run),
    study: runStudyKind(run) ?? null,
    budgetFlops: runBudget(run) ?? null,
    schedule: runScheduleLabel(run),
    lr: config.train.lr,
    batchSize: config.train.batchSize,
    batchTokens: runBatchTokens(run),
    seqLen: config.model.seqLen,
    dModel: config.model.dModel,
    numLayers: config.model.numLayers,
    numHeads: config.model.numHeads,
    dFf: config.model.dFf,
    numExperts: config.model.numExperts,
    topK: config.model.topK,
    numSharedExperts: config.model.numSharedExperts,
    seed: config.seed,
    totalParams: derived.totalParams,
    activatedParams: derived.activatedParams,
    activatedNonEmbeddingParams: derived.activatedNonEmbeddingParams,
    flopsPerToken: derived.flopsPerToken,
    steps: derived.steps,
    tokens: derived.tokens,
    computeFlops: derived.computeFlops,
    stepsDone: run.summary?.steps ?? last?.step ?? 0,
    finalTrainLoss: finite(run.summary?.finalTrainLoss ?? last?.trainLoss),
    finalValLoss: finite(run.summary?.finalValLoss),
    bestValLoss: finite(run.summary?.bestValLoss),
    wallSeconds: finite(run.summary?.wallSeconds ?? last?.wallSeconds),
  };
}

export function runTableRows(runs: RunRecord[]): RunTableRow[] {
  return runs.map(runTableRow);
}

/**
 * danfojs-node, imported on first use. It is an optional peer dependency of the package (its own
 * dependencies include a URL-hosted xlsx and a native TF.js; docs/package.md says how to install
 * it), so a project without it gets one message saying what to do.
 */
export async function importDanfo(): Promise<typeof import('danfojs-node')> {
  try {
    return await import('danfojs-node');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if ((e.code === 'ERR_MODULE_NOT_FOUND' || e.code === 'MODULE_NOT_FOUND') && /danfojs-node/.test(e.message)) {
      throw new Error(
        'danfojs-node is not installed: loadRuns and the runs DataFrame need it. Install it beside moelab ' +
          '(`npm install danfojs-node@1.2.0` with the overrides shown in docs/package.md "DataFrames"), or use ' +
          'runTableRows(records) for the same rows as plain objects.',
      );
    }
    throw err;
  }
}

/** A DataFrame of the given rows with RUN_COLUMNS in order (empty frame with those columns if no runs). */
export async function runsDataFrame(rows: RunTableRow[]): Promise<DataFrame> {
  const dfd = await importDanfo();
  const columns = [...RUN_COLUMNS];
  // danfojs infers each column's dtype from its values: null (missing) becomes NaN in numeric columns.
  return new dfd.DataFrame(
    rows.map((r) => columns.map((c) => r[c] ?? null)),
    { columns },
  );
}

/**
 * One row per run of the sweep folder `dir` (config fields, counts, final and best losses, status),
 * as a danfojs-node DataFrame. For notebooks: `const df = await loadRuns('results/quick')`.
 */
export async function loadRuns(dir: string): Promise<DataFrame> {
  return runsDataFrame(runTableRows(loadSweep(dir).runs));
}

/** A DataFrame as a TableSpec (columns and row values as danfojs holds them; NaN shown empty). */
export function dataFrameToTable(df: DataFrame, id: string, title: string, caption?: string): TableSpec {
  const values = df.values as Cell[][];
  const rows = values.map((row) => row.map((v) => (typeof v === 'number' && Number.isNaN(v) ? null : v)));
  return { id, title, caption, columns: df.columns.map(String), rows };
}
