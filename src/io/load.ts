// The one reader of sweep and run folders: loadSweep(dir) reads a sweep folder (sweep.json,
// plan.json, runs/<id>/…, fits/*.json), a folder of run folders, or a single `moelab train` run
// folder once, into typed records. Everything after it (src/analysis, src/fit, src/report) is pure.
// Paths come from src/io/results.ts; run tags are checked by src/io/tags.ts.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { ConfigError, CorruptFileError, DataError } from '../errors.ts';
import { SWEEP_RECORD_FIX, SweepRecordSchema } from '../config/plan-schema.ts';
import { readJson, readJsonIfExists, readJsonl } from './atomic.ts';
import { decodeMetricRow, decodeRunSummary } from './nonfinite.ts';
import { startTask } from '../util/progress.ts';
import { readJsonFileIfExists } from './json.ts';
import { runPaths, sweepPaths, type MetricRow, type RunConfigRecord, type RunSummary } from './results.ts';
import { legacyRunTags, parseRunTags, type RunTags } from './tags.ts';

/** done / diverged: summary.json says so; running: config.json without summary.json yet. */
export type RunState = 'done' | 'diverged' | 'running';

/** One run folder, read whole. */
export interface SweepRun {
  runId: string;
  dir: string;
  /** config.json: the resolved config, derived counts, backend, provenance. */
  config: RunConfigRecord;
  /** What analyses group the run by (absent for a run trained from --config outside a plan). */
  tags?: RunTags;
  /** metrics.jsonl, in step order. */
  metrics: MetricRow[];
  /** summary.json; absent while the run is unfinished (it is written last). */
  summary?: RunSummary;
  state: RunState;
  /**
   * An arm planned as another run (plan.json `shared`, src/sweep/share.ts): this record is that
   * run's folder under the arm's own run id and tags; the id of the run that trained it.
   */
  sameRunAs?: string;
}

/** A fit record as found in fits/*.json: the schema string and kind are checked, the rest is the fit's. */
export interface StoredFit {
  schema: string;
  kind: string;
  /** The file's name inside fits/. */
  fitFile: string;
  [field: string]: unknown;
}

export interface Sweep {
  dir: string;
  /** The sweep's name (sweep.json, else plan.json), else the folder name. */
  name: string;
  /** The plan's kind (isoflop | lr-batch | schedules | grid) when plan.json or sweep.json says. */
  kind?: string;
  /** Runs with a config.json, and the arms planned as one of them (sameRunAs), sorted by id. */
  runs: SweepRun[];
  /** Run ids plan.json lists without a config.json yet (not started). */
  pendingRunIds: string[];
  /** Run folders under runs/ that plan.json does not list (left from an earlier plan; not loaded). */
  outsidePlan: string[];
  /** fits/*.json (none for a single run folder). */
  fits: StoredFit[];
  /** Runs whose records cannot be read (damaged config.json, summary.json, metrics.jsonl): not loaded, named here. */
  corrupt?: { runId: string; problem: string }[];
}

const PlanFileSchema = z.looseObject({
  sweep: z.string().optional(),
  kind: z.string().optional(),
  runs: z.array(z.looseObject({ runId: z.string().min(1) })),
});
type PlanFile = z.infer<typeof PlanFileSchema>;

const SweepFileSchema = z.looseObject({
  sweep: z.string().optional(),
  definition: z.looseObject({ kind: z.string().optional() }).optional(),
});

const StoredFitSchema = z.looseObject({ schema: z.string().startsWith('moelab.fit/'), kind: z.string().min(1) });

function readPlanFile(path: string): PlanFile | undefined {
  const raw = readJsonIfExists<unknown>(path);
  if (raw === undefined) return undefined;
  const r = PlanFileSchema.safeParse(raw);
  if (!r.success) throw new DataError(`${path}: not a plan file (${r.error.issues[0].message} at ${r.error.issues[0].path.join('.') || 'the top level'}). Re-plan the sweep with \`moelab sweep\`.`);
  return r.data;
}

/**
 * A run's tags: config.json `tags`, else its plan.json entry's `tags`, else (folders trained before
 * tags existed) the older plan-entry fields read by legacyRunTags. Undefined for a lone run.
 */
function tagsOf(config: RunConfigRecord & { study?: unknown }, entry: Record<string, unknown> | undefined, configPath: string, planPath: string): RunTags | undefined {
  if (config.tags !== undefined) return parseRunTags(config.tags, `${configPath} tags`);
  if (entry?.tags !== undefined) return parseRunTags(entry.tags, `${planPath} runs[${config.runId}].tags`);
  const legacy = config.study ?? entry;
  if (legacy === undefined) return undefined;
  return legacyRunTags(legacy, config.budgetFlops, config.derived.activatedParams, config.study !== undefined ? `${configPath} study` : `${planPath} runs[${config.runId}]`);
}

const SharedArmsSchema = z.array(z.looseObject({ runId: z.string().min(1), tags: z.unknown() }));

/** The arms a plan entry trains besides its own (plan.json `shared`), their tags validated. */
function sharedArmsOf(entry: Record<string, unknown> | undefined, planPath: string): { runId: string; tags: RunTags }[] {
  if (entry?.shared === undefined) return [];
  const r = SharedArmsSchema.safeParse(entry.shared);
  if (!r.success) throw new DataError(`${planPath}: runs[${String(entry.runId)}].shared is not a list of {runId, tags} (${r.error.issues[0].message}). Re-plan the sweep.`);
  return r.data.map((a, i) => ({ runId: a.runId, tags: parseRunTags(a.tags, `${planPath} runs[${String(entry.runId)}].shared[${i}].tags`) }));
}

function readRun(dir: string, entry: Record<string, unknown> | undefined, planPath: string): SweepRun {
  const rp = runPaths(dir);
  const config = readJson<RunConfigRecord>(rp.config);
  const summary = decodeRunSummary(readJsonIfExists<RunSummary>(rp.summary));
  const tags = tagsOf(config, entry, rp.config, planPath);
  return {
    runId: config.runId ?? basename(rp.dir),
    dir: rp.dir,
    config,
    ...(tags ? { tags } : {}),
    metrics: readJsonl<MetricRow>(rp.metrics).map(decodeMetricRow),
    ...(summary ? { summary } : {}),
    state: summary?.status ?? 'running',
  };
}

/**
 * Read a sweep folder (with runs/), a folder whose subfolders are run folders, or one run folder
 * (with config.json). Runs of plan.json only (folders of an earlier plan are listed in
 * outsidePlan); run folders without config.json have not started and are skipped.
 */
export function loadSweep(dir: string): Sweep {
  const paths = sweepPaths(dir);
  if (!existsSync(paths.dir) || !statSync(paths.dir).isDirectory()) {
    throw new ConfigError('dir', dir, 'Give a sweep folder (results/<sweep name>, with runs/), a folder of run folders, or one run folder.', 'not a directory');
  }
  // A single run folder.
  if (existsSync(runPaths(paths.dir).config)) {
    const run = readRun(paths.dir, undefined, paths.plan);
    return { dir: paths.dir, name: run.runId, runs: [run], pendingRunIds: [], outsidePlan: [], fits: [] };
  }
  const isSweep = existsSync(paths.runs);
  const runsDir = isSweep ? paths.runs : paths.dir;
  const plan = isSweep ? readPlanFile(paths.plan) : undefined;
  const sweepFile = isSweep ? SweepFileSchema.safeParse(readJsonFileIfExists(paths.sweep, { schema: SweepRecordSchema, fix: SWEEP_RECORD_FIX })) : undefined;
  const entries = new Map((plan?.runs ?? []).map((e) => [e.runId, e as Record<string, unknown>]));

  const runs: SweepRun[] = [];
  const outsidePlan: string[] = [];
  const corrupt: { runId: string; problem: string }[] = [];
  const names = readdirSync(runsDir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
  const readOne = (name: string): void => {
    if (entries.size > 0 && !entries.has(name)) {
      if (existsSync(runPaths(join(runsDir, name)).config)) outsidePlan.push(name);
      return;
    }
    if (!existsSync(runPaths(join(runsDir, name)).config)) return; // created, not started
    // One damaged run does not block the folder: it is named in `corrupt`, the others load.
    try {
      runs.push(readRun(join(runsDir, name), entries.get(name), paths.plan));
    } catch (err) {
      if (!(err instanceof CorruptFileError)) throw err;
      corrupt.push({ runId: name, problem: err.message });
      process.emitWarning(`run ${name} left out (corrupt): ${err.message}`, 'CorruptRunWarning');
    }
  };
  // Progress with an ETA on stderr when the CLI installed a sink (src/util/progress.ts): a sweep of
  // hundreds of runs with long metrics.jsonl takes a while to read.
  const task = startTask('loading runs', names.length);
  try {
    for (const name of names) {
      readOne(name);
      task.tick();
    }
  } finally {
    task.end();
  }
  if (!isSweep && runs.length === 0) {
    throw new DataError(`${paths.dir}: no runs/ folder and no run folders with config.json inside. Pass a sweep folder (results/<sweep name>), a folder of run folders, or one run folder.`);
  }
  const started = new Set([...runs.map((r) => r.runId), ...corrupt.map((c) => c.runId)]);
  const pendingRunIds = [...entries.keys()].filter((id) => !started.has(id));
  // Arms trained as another run: that run's records under each arm's id and tags.
  const sharedRuns = runs.flatMap((run) =>
    sharedArmsOf(entries.get(run.runId), paths.plan).map((arm): SweepRun => ({ ...run, runId: arm.runId, tags: arm.tags, sameRunAs: run.runId })),
  );
  if (sharedRuns.length) {
    runs.push(...sharedRuns);
    runs.sort((a, b) => (a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0));
  }

  const fits: StoredFit[] = [];
  if (isSweep && existsSync(paths.fits)) {
    for (const f of readdirSync(paths.fits).filter((n) => n.endsWith('.json')).sort()) {
      const r = StoredFitSchema.safeParse(readJson<unknown>(join(paths.fits, f)));
      // Other JSON beside the fit records (e.g. a study's paper-comparison.json) is not a fit.
      if (r.success) fits.push({ ...r.data, fitFile: f });
    }
  }
  const sw = sweepFile?.success ? sweepFile.data : undefined;
  return {
    dir: paths.dir,
    name: sw?.sweep ?? plan?.sweep ?? basename(paths.dir),
    ...((sw?.definition?.kind ?? plan?.kind) !== undefined ? { kind: sw?.definition?.kind ?? plan?.kind } : {}),
    runs,
    pendingRunIds,
    outsidePlan,
    fits,
    ...(corrupt.length ? { corrupt } : {}),
  };
}
