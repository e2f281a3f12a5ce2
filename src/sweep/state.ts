// Where a sweep stands, read from its folder alone (docs/references.md#distributed-sweeps: Slurm keeps no
// history, so the run folders are the truth): plan.json lists the runs; each run is
//   done / diverged   summary.json exists (its status field)
//   running           its lock is held by a live process
//   failed            failed.json exists (a worker or Slurm task exited abnormally)
//   pending           none of these (resumable when a checkpoint exists)
//   corrupt           one of its records (summary.json, failed.json) cannot be read: named in
//                     the detail; the other runs are inspected as usual
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { ConfigError, CorruptFileError } from '../errors.ts';
import { writeJsonAtomic } from '../io/atomic.ts';
import { readJsonFile, readJsonFileIfExists } from '../io/json.ts';
import { PLAN_FIX, PlanFileSchema, SWEEP_RECORD_FIX, SweepRecordSchema } from '../config/plan-schema.ts';
import { runPaths, sweepPaths, type MetricRow, type RunSummary } from '../io/results.ts';
import { decodeRunSummary } from '../io/nonfinite.ts';
import type { SweepDefinition } from '../config/sweep-schema.ts';
import type { Provenance } from '../util/provenance.ts';
import type { PlanRun, RunPlan } from './plan.ts';

export type RunState = 'done' | 'diverged' | 'running' | 'failed' | 'pending' | 'corrupt';
export const RUN_STATES: readonly RunState[] = ['done', 'diverged', 'running', 'failed', 'pending', 'corrupt'];

/** runs/<runId>/failed.json */
export interface FailureRecord {
  runId: string;
  index: number;
  executor: 'local' | 'slurm';
  exitCode: number | null;
  signal: string | null;
  attempts: number;
  /** Last lines of the worker's output. */
  logTail?: string;
  jobId?: string;
  at: string;
}

export interface RunStatusRow {
  index: number;
  runId: string;
  state: RunState;
  /** Last logged step (from metrics.jsonl), if any. */
  step: number | null;
  steps: number;
  trainLoss: number | null;
  /** Final validation loss of finished runs. */
  finalValLoss: number | null;
  /** Why: the holder of a running run, the divergence reason, the failure. */
  detail: string;
  /** A checkpoint exists, so the run continues from it. */
  resumable: boolean;
}

// ---------------------------------------------------------------------------------------------
// Sweep-level records

/** sweep.json: the resolved sweep definition and where it came from. */
export interface SweepRecord {
  sweep: string;
  source: string;
  /** The sweep's definition, or a study's preset (`moelab reproduce`: several sweeps in one folder). */
  definition: SweepDefinition | { kind: 'study'; study: string; preset: string; [field: string]: unknown };
  provenance: Provenance;
}

export function readPlan(planPath: string): RunPlan {
  if (!existsSync(planPath)) {
    throw new ConfigError('plan', planPath, 'Run `moelab plan FILE` (or `moelab sweep FILE`) first, or give the sweep folder that holds plan.json.', 'no plan.json there');
  }
  return readJsonFile(planPath, { schema: PlanFileSchema, fix: PLAN_FIX }) as unknown as RunPlan;
}

/** sweep.json of a sweep folder, validated (undefined when the folder has none). */
export function readSweepRecord(sweepDir: string): SweepRecord | undefined {
  return readJsonFileIfExists(sweepPaths(sweepDir).sweep, {
    schema: SweepRecordSchema,
    fix: SWEEP_RECORD_FIX,
  }) as unknown as SweepRecord | undefined;
}

/** Resolve a sweep folder or a plan.json path to the plan file. */
export function planPathOf(dirOrPlan: string): string {
  return dirOrPlan.endsWith('.json') ? dirOrPlan : sweepPaths(dirOrPlan).plan;
}

/**
 * Runs present in both plans whose configs differ: their folders hold results of another
 * config, so the new plan must not silently reuse them.
 */
export function changedRuns(previous: RunPlan, next: RunPlan): string[] {
  const before = new Map(previous.runs.map((r) => [r.runId, JSON.stringify(r.config)]));
  return next.runs.filter((r) => before.has(r.runId) && before.get(r.runId) !== JSON.stringify(r.config)).map((r) => r.runId);
}

/** Plan indices whose run id differs between two plans (workers address runs by index). */
export function movedIndices(previous: RunPlan, next: RunPlan): number[] {
  return previous.runs.filter((r) => next.runs[r.index]?.runId !== r.runId).map((r) => r.index);
}

/** A run of the sweep folder has started: its config.json or summary.json exists (its results, or a checkpoint, may be reused). */
export function runStarted(sweepDir: string, runId: string): boolean {
  const rp = runPaths(sweepPaths(sweepDir).run(runId));
  return existsSync(rp.config) || existsSync(rp.summary);
}

/**
 * Write sweep.json and plan.json into the sweep folder. Refuses (ConfigError) when an existing
 * plan has a started run of the same id with another config, or when runs would move to other
 * indices while a worker is training in the folder (workers find their run by index).
 */
export function writePlanFiles(sweepDir: string, plan: RunPlan, record: SweepRecord): string {
  const paths = sweepPaths(sweepDir);
  const previous = existsSync(paths.plan) ? readPlan(paths.plan) : undefined;
  if (previous) {
    const changed = changedRuns(previous, plan).filter((id) => runStarted(sweepDir, id));
    if (changed.length > 0) {
      throw new ConfigError(
        'plan',
        changed.slice(0, 3),
        `Write into a fresh folder (--out), or delete those run folders under ${paths.runs} to retrain them.`,
        `${changed.length} run(s) already started in ${paths.dir} with a different config`,
      );
    }
    if (movedIndices(previous, plan).length > 0) {
      const live = previous.runs.filter((r) => readRunLock(runPaths(paths.run(r.runId)).lock)?.alive);
      if (live.length > 0) {
        throw new ConfigError(
          'plan',
          live.slice(0, 3).map((r) => r.runId),
          'Wait for the running sweep to finish (or stop it), then run this command again.',
          `the new plan moves runs to other indices while ${live.length} run(s) are training from the old plan`,
        );
      }
    }
  }
  writeJsonAtomic(paths.sweep, record);
  writeJsonAtomic(paths.plan, plan);
  return paths.plan;
}

// ---------------------------------------------------------------------------------------------
// Run locks (taken by `moelab train`, src/train/lock.ts: `{pid, host, since}` created with O_EXCL)

export interface RunLockState {
  pid: number | null;
  host: string | null;
  since: string | null;
  /** The holder runs (same host: its pid exists; another host: assumed, as the trainer does). */
  alive: boolean;
}

/** Who holds a run's lock, or undefined when nobody does. */
export function readRunLock(lockPath: string): RunLockState | undefined {
  let text: string;
  let mtimeMs: number;
  try {
    mtimeMs = statSync(lockPath).mtimeMs;
    text = readFileSync(lockPath, 'utf8');
  } catch {
    return undefined;
  }
  let owner: { pid?: unknown; host?: unknown; since?: unknown };
  try {
    owner = JSON.parse(text) as typeof owner;
  } catch {
    // Created, not yet written: its owner is between open and write — unless that was long ago
    // (the writer died in between; the trainer then takes the lock over, and so may we).
    return { pid: null, host: null, since: null, alive: Date.now() - mtimeMs < 10_000 };
  }
  const pid = typeof owner.pid === 'number' ? owner.pid : null;
  const host = typeof owner.host === 'string' ? owner.host : null;
  const since = typeof owner.since === 'string' ? owner.since : null;
  let alive = true;
  if (pid !== null && host === hostname()) {
    try {
      process.kill(pid, 0);
    } catch (err) {
      alive = (err as NodeJS.ErrnoException).code === 'EPERM';
    }
  }
  return { pid, host, since, alive };
}

export function describeHolder(lock: RunLockState): string {
  return lock.pid === null ? 'a process that is creating the lock' : `pid ${lock.pid} on ${lock.host}${lock.since ? ` since ${lock.since}` : ''}`;
}

// ---------------------------------------------------------------------------------------------
// Run-level state

/** The last complete JSON line of a JSONL file, reading only its tail (metrics can be long). */
export function readLastJsonLine<T>(path: string, tailBytes = 16384): T | undefined {
  if (!existsSync(path)) return undefined;
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const start = Math.max(0, size - tailBytes);
    const buf = Buffer.alloc(size - start);
    readSync(fd, buf, 0, buf.length, start);
    const lines = buf.toString('utf8').split('\n');
    for (let i = lines.length - 1; i >= 0; i--) {
      if (lines[i].trim() === '') continue;
      try {
        return JSON.parse(lines[i]) as T;
      } catch {
        // torn last line (writer killed mid-append) or a line cut by the tail window
      }
    }
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * The state of one run folder from its files alone — the one classification, shared by a sweep's
 * runs (inspectRun) and a single `moelab train --out DIR` folder (src/sweep/run-folder.ts). A record
 * that cannot be read makes the run 'corrupt', named in the detail.
 */
export function inspectRunDir(runDir: string, run: { runId: string; steps: number }): Omit<RunStatusRow, 'index'> {
  try {
    return { ...run, ...runDirState(runDir) };
  } catch (err) {
    if (!(err instanceof CorruptFileError)) throw err;
    const paths = runPaths(runDir);
    const last = readLastJsonLine<MetricRow>(paths.metrics);
    return {
      ...run,
      state: 'corrupt',
      step: last?.step ?? null,
      trainLoss: last?.trainLoss ?? null,
      finalValLoss: null,
      detail: err.message,
      resumable: existsSync(paths.checkpoint),
    };
  }
}

export function inspectRun(sweepDir: string, run: PlanRun): RunStatusRow {
  return { index: run.index, ...inspectRunDir(sweepPaths(sweepDir).run(run.runId), { runId: run.runId, steps: run.derived.steps }) };
}

function runDirState(runDir: string): Omit<RunStatusRow, 'index' | 'runId' | 'steps'> {
  const paths = runPaths(runDir);
  const summary = decodeRunSummary(readJsonFileIfExists(paths.summary) as RunSummary | undefined);
  if (summary) {
    return {
      state: summary.status === 'diverged' ? 'diverged' : 'done',
      step: summary.steps,
      trainLoss: summary.finalTrainLoss ?? null,
      finalValLoss: summary.finalValLoss ?? null,
      detail: summary.status === 'diverged' ? (summary.reason ?? 'diverged') : '',
      resumable: false,
    };
  }
  const last = readLastJsonLine<MetricRow>(paths.metrics);
  const resumable = existsSync(paths.checkpoint);
  const progress = { step: last?.step ?? null, trainLoss: last?.trainLoss ?? null, finalValLoss: null, resumable };
  const lock = readRunLock(paths.lock);
  if (lock?.alive) return { ...progress, state: 'running', detail: describeHolder(lock) };
  const failure = readJsonFileIfExists(paths.failed) as FailureRecord | undefined;
  if (failure) {
    const how = failure.signal ? `killed by ${failure.signal}` : `exit code ${failure.exitCode}`;
    return { ...progress, state: 'failed', detail: `${how} (${failure.executor}, ${failure.attempts} attempt(s))` };
  }
  return { ...progress, state: 'pending', detail: resumable ? 'resumable from its checkpoint' : '' };
}

export interface SweepStatus {
  plan: RunPlan;
  rows: RunStatusRow[];
  counts: Record<RunState, number>;
}

export function inspectSweep(sweepDir: string): SweepStatus {
  const plan = readPlan(sweepPaths(sweepDir).plan);
  const rows = plan.runs.map((run) => inspectRun(sweepDir, run));
  const counts = Object.fromEntries(RUN_STATES.map((s) => [s, 0])) as Record<RunState, number>;
  for (const row of rows) counts[row.state]++;
  return { plan, rows, counts };
}

/** A run counts as finished (never started again) once it has a summary: done or diverged. */
export function isFinished(sweepDir: string, runId: string): boolean {
  return existsSync(runPaths(sweepPaths(sweepDir).run(runId)).summary);
}
