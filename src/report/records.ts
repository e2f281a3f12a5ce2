// Reading a sweep folder into memory for the report: every run's config.json, metrics.jsonl and
// summary.json, plus sweep.json / plan.json when present, and fits/*.json. Paths come from
// src/io/results.ts; everything after loadSweepRecords() is pure.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { CorruptFileError, DataError } from '../errors.ts';
import { readJson, readJsonIfExists, readJsonl } from '../io/atomic.ts';
import type { MetricRow, RunConfigRecord, RunSummary } from '../io/results.ts';
import { runPaths, sweepPaths } from '../io/results.ts';
import { readJsonFileIfExists } from '../io/json.ts';
import { SWEEP_RECORD_FIX, SweepRecordSchema } from '../config/plan-schema.ts';

export interface RunRecord {
  runId: string;
  config: RunConfigRecord;
  metrics: MetricRow[];
  /** Absent while the run is unfinished (summary.json is written last). */
  summary?: RunSummary;
}

export type RunState = 'done' | 'diverged' | 'running';

export interface SweepRecords {
  dir: string;
  /** The sweep's name (sweep.json, else plan.json), else the folder name. */
  name: string;
  /** The sweep kind (isoflop | lr-batch | schedules | grid) when sweep.json or plan.json says. */
  kind?: string;
  runs: RunRecord[];
  /** Run ids listed in plan.json without a config.json yet (not started). */
  pendingRunIds: string[];
  /** fits/*.json as written by `moelab fit` (shape owned by src/fit/record.ts). */
  fits: Record<string, unknown>[];
  /** Run folders under runs/ that plan.json does not list (left from an earlier plan; not loaded). */
  outsidePlan?: string[];
  /** Runs whose records cannot be read (damaged config.json, summary.json, metrics.jsonl): not loaded, named here. */
  corrupt?: { runId: string; problem: string }[];
}

// ---------------------------------------------------------------------------------------------
// Loading (I/O)

function asRecord(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** Run ids of plan.json, whichever of the plausible shapes it has ({runs:[{runId}]}, [{runId}]). */
function planRunIds(plan: unknown): string[] {
  const list = Array.isArray(plan) ? plan : (asRecord(plan)?.runs ?? asRecord(plan)?.entries);
  if (!Array.isArray(list)) return [];
  return list
    .map((e) => asRecord(e)?.runId ?? asRecord(e)?.id)
    .filter((id): id is string => typeof id === 'string');
}

export function loadSweepRecords(sweepDir: string): SweepRecords {
  const paths = sweepPaths(sweepDir);
  if (!existsSync(paths.dir) || !statSync(paths.dir).isDirectory()) {
    throw new DataError(`sweep folder ${paths.dir} does not exist. Pass the folder \`moelab sweep\` wrote (results/<sweep name>).`);
  }
  if (!existsSync(paths.runs)) {
    throw new DataError(
      `${paths.dir} has no runs/ folder, so it is not a sweep folder. Pass results/<sweep name> (the folder holding sweep.json and runs/).`,
    );
  }
  const sweep = asRecord(readJsonFileIfExists(paths.sweep, { schema: SweepRecordSchema, fix: SWEEP_RECORD_FIX }));
  const plan = readJsonIfExists<unknown>(paths.plan);

  const runs: RunRecord[] = [];
  const runIds = readdirSync(paths.runs, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
  // Run folders of an earlier plan (a grid that was since changed) are not part of this sweep.
  const inPlan = new Set(planRunIds(plan));
  const outsidePlan: string[] = [];
  const corrupt: { runId: string; problem: string }[] = [];
  for (const id of runIds) {
    if (inPlan.size > 0 && !inPlan.has(id)) {
      outsidePlan.push(id);
      continue;
    }
    const rp = runPaths(paths.run(id));
    if (!existsSync(rp.config)) continue; // folder created, config not yet written: not started
    // One damaged run is named and left out; the others are reported as usual.
    try {
      const config = readJson<RunConfigRecord>(rp.config);
      runs.push({
        runId: config.runId ?? id,
        config,
        metrics: readJsonl<MetricRow>(rp.metrics),
        summary: readJsonIfExists<RunSummary>(rp.summary),
      });
    } catch (err) {
      if (!(err instanceof CorruptFileError)) throw err;
      corrupt.push({ runId: id, problem: err.message });
    }
  }
  const started = new Set(runs.map((r) => r.runId));
  const damaged = new Set(corrupt.map((c) => c.runId));
  const pendingRunIds = planRunIds(plan).filter((id) => !started.has(id) && !damaged.has(id));

  const fits: Record<string, unknown>[] = [];
  if (existsSync(paths.fits)) {
    for (const f of readdirSync(paths.fits).filter((n) => n.endsWith('.json')).sort()) {
      const rec = asRecord(readJson<unknown>(`${paths.fits}/${f}`));
      if (rec) fits.push({ ...rec, fitFile: f });
    }
  }

  // sweep.json is src/sweep/state.ts's SweepRecord {sweep, definition: {kind, …}}; plan.json is
  // its RunPlan {sweep, kind, runs}. Either may be missing (a hand-made folder of runs).
  const planRec = asRecord(plan);
  const str = (...vs: unknown[]) => vs.find((v): v is string => typeof v === 'string');
  const sweepName = str(sweep?.sweep, sweep?.name, planRec?.sweep) ?? basename(paths.dir);
  const kind = str(asRecord(sweep?.definition)?.kind, planRec?.kind, sweep?.kind);
  return {
    dir: paths.dir,
    name: sweepName,
    kind,
    runs,
    pendingRunIds,
    fits,
    ...(outsidePlan.length ? { outsidePlan } : {}),
    ...(corrupt.length ? { corrupt } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// Per-run accessors (pure)

export function runState(run: RunRecord): RunState {
  return run.summary?.status ?? 'running';
}

/** The compute budget (FLOPs) of the isoFLOP cell the run belongs to, if it belongs to one. */
export function runBudget(run: RunRecord): number | undefined {
  // Runs of other studies (an LR grid or a schedule comparison at one budget) are not isoFLOP
  // cells: counting them would add off-optimum points to a budget's parabola.
  const kind = runStudyKind(run);
  if (kind !== undefined && kind !== 'isoflop') return undefined;
  const b = run.config.budgetFlops ?? run.config.study?.budgetFlops;
  return typeof b === 'number' && Number.isFinite(b) && b > 0 ? b : undefined;
}

/** Study kind of the run's plan entry (isoflop | lr-batch | schedules | grid), if recorded. */
export function runStudyKind(run: RunRecord): string | undefined {
  const k = run.config.study?.kind;
  return typeof k === 'string' ? k : undefined;
}

/** A label for the run's LR schedule: the plan's label (PlanRun.schedule), else the schedule kind. */
export function runScheduleLabel(run: RunRecord): string {
  const s = run.config.study?.schedule;
  return typeof s === 'string' ? s : run.config.config.train.schedule.kind;
}

/** Tokens per optimiser step (batchSize sequences × seqLen). */
export function runBatchTokens(run: RunRecord): number {
  return run.config.derived.tokensPerStep ?? run.config.config.train.batchSize * run.config.config.model.seqLen;
}

/** Metric rows that carry a finite validation loss (eval steps), in step order. */
export function evalRows(run: RunRecord): (MetricRow & { valLoss: number })[] {
  return run.metrics.filter((m): m is MetricRow & { valLoss: number } => typeof m.valLoss === 'number' && Number.isFinite(m.valLoss));
}

/** Final validation loss of a finished, non-diverged run (undefined otherwise). */
export function runFinalLoss(run: RunRecord): number | undefined {
  if (run.summary?.status !== 'done') return undefined;
  const v = run.summary.finalValLoss;
  return Number.isFinite(v) ? v : undefined;
}

/** Distinct budgets of the runs, ascending. */
export function budgetsOf(runs: RunRecord[]): number[] {
  return [...new Set(runs.map(runBudget).filter((b): b is number => b !== undefined))].sort((a, b) => a - b);
}
