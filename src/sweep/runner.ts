// The local sweep runner: a pool of worker processes, each running one plan entry with
// `moelab train --plan <plan.json> --index <i>` (an argv array, never a shell string).
//
// What makes it safe to interrupt at any moment (docs/architecture.md#habits):
// - a run is finished when its summary.json exists; those are never started again;
// - the trainer resumes a run from its checkpoint, so restarting a run loses at most the steps
//   since its last checkpoint;
// - the trainer holds a per-run lock (runs/<runId>/.lock; exit code 75 when another process has
//   it), and the runner skips runs whose lock is alive, so two sweeps on one folder never train
//   the same run twice; a sweep waits for runs held elsewhere before it reports done;
// - workers run in their own process group with output to runs/<runId>/worker.log, so Ctrl-C
//   reaches only the runner, which sends them SIGTERM (they checkpoint and exit), and `kill -9`
//   of the runner leaves them training to the end.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { writeJsonAtomic } from '../io/atomic.ts';
import { readJsonFileIfExists } from '../io/json.ts';
import { CorruptFileError, isDiskFull } from '../errors.ts';
import { LOCKED_EXIT_CODE } from '../train/lock.ts';
import { runPaths, sweepPaths, type MetricRow, type RunSummary } from '../io/results.ts';
import { decodeRunSummary } from '../io/nonfinite.ts';
import { PROJECT_ROOT } from '../util/provenance.ts';
import type { PlanRun, RunPlan } from './plan.ts';
import { describeHolder, readLastJsonLine, readPlan, readRunLock, type FailureRecord } from './state.ts';
import { MetricsCache, writeTrackingTables } from './tracking.ts';

/**
 * The argv that trains plan entry `index` of the plan at `planPath`. `index` is a string so the
 * Slurm script can pass its placeholder for "$SLURM_ARRAY_TASK_ID" (src/sweep/slurm.ts).
 */
export type WorkerCommand = (planPath: string, index: string) => string[];

/** `node bin/moelab.js train --plan <planPath> --index <index>` with this Node binary. */
export const defaultWorkerCommand: WorkerCommand = (planPath, index) => [
  process.execPath,
  join(PROJECT_ROOT, 'bin', 'moelab.js'),
  'train',
  '--plan',
  planPath,
  '--index',
  index,
];

export interface RunnerOptions {
  /** The sweep folder holding plan.json. */
  sweepDir: string;
  /** Parallel worker processes (default: the number of cores). */
  workers?: number;
  command?: WorkerCommand;
  /** Environment of the workers (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Restarts of a run whose worker crashed, before it is recorded as failed (default 1). */
  retries?: number;
  /** How often to refresh progress and re-check runs held elsewhere (default 1000 ms). */
  pollMs?: number;
  /** After stop(), how long workers get to checkpoint before SIGKILL (default 120 s). */
  killGraceMs?: number;
  /** How often runs.csv and metrics.csv are rewritten while runs train (default 5000 ms; src/sweep/tracking.ts). */
  trackMs?: number;
  onEvent?: (event: RunnerEvent) => void;
}

export interface ActiveRun {
  run: PlanRun;
  attempt: number;
  pid: number | undefined;
  step: number | null;
  trainLoss: number | null;
  startedAt: number;
}

export type RunnerEvent =
  | { type: 'start'; run: PlanRun; attempt: number; pid: number | undefined }
  | { type: 'finish'; run: PlanRun; status: 'done' | 'diverged'; summary: RunSummary; byOther: boolean }
  | { type: 'retry'; run: PlanRun; attempt: number; reason: string }
  | { type: 'failed'; run: PlanRun; reason: string; logPath: string }
  | { type: 'held'; run: PlanRun; holder: string }
  | { type: 'interrupted'; run: PlanRun }
  | { type: 'stopping'; force: boolean }
  | { type: 'tick'; progress: SweepProgress };

export interface SweepProgress {
  /** Runs of the plan. */
  total: number;
  /** Finished runs (done or diverged), including those finished before this sweep started. */
  finished: number;
  failed: number;
  active: ActiveRun[];
  /** Share of this session's work done, weighted by each run's computeFlops (steps for active runs). */
  fraction: number;
  elapsedSeconds: number;
  /** Seconds left, extrapolated from this session's pace (null until some work is done). */
  etaSeconds: number | null;
}

export interface SweepOutcome {
  total: number;
  /** Finished before this sweep started. */
  alreadyFinished: string[];
  done: string[];
  diverged: string[];
  failed: string[];
  /** Not finished: interrupted by stop(), or held by a process that never finished them. */
  unfinished: string[];
  interrupted: boolean;
}

export interface SweepController {
  done: Promise<SweepOutcome>;
  /** Stop cleanly: no new runs, SIGTERM to workers; `force` sends SIGKILL at once. */
  stop(force?: boolean): void;
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal); // the worker's whole process group
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

function tailOf(path: string, lines = 20): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-lines - 1).join('\n').trim();
  } catch {
    return '';
  }
}

export function startSweep(options: RunnerOptions): SweepController {
  const sweepDir = options.sweepDir;
  const paths = sweepPaths(sweepDir);
  const plan: RunPlan = readPlan(paths.plan);
  const workers = Math.max(1, options.workers ?? availableParallelism());
  // Every worker gets one BLAS thread unless the user chose otherwise, whatever --workers says:
  // OpenBLAS's thread count changes the order of its sums and so the numbers (docs/training.md
  // "Determinism"), and a sweep's results must not depend on how many workers ran it (nor may a
  // sweep resumed with another --workers be refused). One thread per worker is also the fastest
  // split of the cores (2 workers × 2 OpenBLAS threads on 2 cores is slower than 2 × 1;
  // docs/BENCHMARKS.md).
  const baseEnv = options.env ?? process.env;
  const workerEnv = baseEnv.MOELAB_BLAS_THREADS === undefined ? { ...baseEnv, MOELAB_BLAS_THREADS: '1' } : baseEnv;
  const command = options.command ?? defaultWorkerCommand;
  const retries = options.retries ?? 1;
  const pollMs = options.pollMs ?? 1000;
  const killGraceMs = options.killGraceMs ?? 120_000;
  const onEvent = options.onEvent ?? (() => {});
  // runs.csv / metrics.csv: rewritten on every run start and end, and every trackMs while training.
  const trackMs = options.trackMs ?? 5000;
  const metricsCache = new MetricsCache();
  let trackedAt = 0;
  const track = (now: boolean) => {
    if (!now && Date.now() - trackedAt < trackMs) return;
    trackedAt = Date.now();
    try {
      writeTrackingTables(sweepDir, plan, metricsCache);
    } catch (err) {
      // The tables are a view of the run folders; failing to write one must not stop training.
      process.stderr.write(`moelab sweep: could not update runs.csv/metrics.csv: ${(err as Error).message}\n`);
    }
  };
  const emit = (event: RunnerEvent) => {
    onEvent(event);
    if (event.type !== 'tick' && event.type !== 'stopping') track(true);
  };
  const runDir = (run: PlanRun) => runPaths(paths.run(run.runId));
  // A summary that cannot be read does not stop the sweep: the run counts as unfinished, its
  // worker then fails naming the damaged file, and the run is recorded as failed.
  const summaryOf = (run: PlanRun): RunSummary | undefined => {
    try {
      return decodeRunSummary(readJsonFileIfExists(runDir(run).summary) as RunSummary | undefined);
    } catch (err) {
      if (err instanceof CorruptFileError) return undefined;
      throw err;
    }
  };

  const outcome: SweepOutcome = {
    total: plan.runs.length,
    alreadyFinished: [],
    done: [],
    diverged: [],
    failed: [],
    unfinished: [],
    interrupted: false,
  };
  const queue: PlanRun[] = [];
  for (const run of plan.runs) {
    if (summaryOf(run)) outcome.alreadyFinished.push(run.runId);
    else queue.push(run);
  }
  const sessionWork = queue.reduce((s, r) => s + r.derived.computeFlops, 0);
  let finishedWork = 0;
  const held = new Map<string, PlanRun>();
  const active = new Map<string, { child: ChildProcess; info: ActiveRun }>();
  const attempts = new Map<string, number>();
  const t0 = Date.now();
  let stopping = false;
  let killTimer: NodeJS.Timeout | undefined;
  let resolveDone!: (o: SweepOutcome) => void;
  const done = new Promise<SweepOutcome>((r) => (resolveDone = r));

  const progress = (): SweepProgress => {
    let partial = 0;
    for (const { info } of active.values()) {
      if (info.step !== null && info.run.derived.steps > 0) {
        partial += info.run.derived.computeFlops * Math.min(1, info.step / info.run.derived.steps);
      }
    }
    const fraction = sessionWork > 0 ? Math.min(1, (finishedWork + partial) / sessionWork) : 1;
    const elapsedSeconds = (Date.now() - t0) / 1000;
    return {
      total: plan.runs.length,
      finished: outcome.alreadyFinished.length + outcome.done.length + outcome.diverged.length,
      failed: outcome.failed.length,
      active: [...active.values()].map((a) => a.info),
      fraction,
      elapsedSeconds,
      etaSeconds: fraction > 0.001 && fraction < 1 ? (elapsedSeconds * (1 - fraction)) / fraction : fraction >= 1 ? 0 : null,
    };
  };

  const recordFinished = (run: PlanRun, summary: RunSummary, byOther: boolean) => {
    (summary.status === 'diverged' ? outcome.diverged : outcome.done).push(run.runId);
    finishedWork += run.derived.computeFlops;
    emit({ type: 'finish', run, status: summary.status === 'diverged' ? 'diverged' : 'done', summary, byOther });
  };

  const start = (run: PlanRun) => {
    const rp = runDir(run);
    const attempt = (attempts.get(run.runId) ?? 0) + 1;
    attempts.set(run.runId, attempt);
    const argv = command(paths.plan, String(run.index));
    let child: ChildProcess;
    try {
      mkdirSync(rp.dir, { recursive: true });
      if (existsSync(rp.failed)) unlinkSync(rp.failed);
      const log = openSync(rp.workerLog, 'a');
      try {
        writeSync(log, `--- moelab sweep: attempt ${attempt} at ${new Date().toISOString()}: ${JSON.stringify(argv)}\n`);
        child = spawn(argv[0], argv.slice(1), {
          stdio: ['ignore', log, log],
          env: workerEnv,
          detached: true,
        });
      } finally {
        closeSync(log);
      }
    } catch (err) {
      // The run folder cannot be prepared (a full disk above all): record the run as failed
      // with the reason and go on with the others, instead of crashing the whole sweep.
      const e = err as NodeJS.ErrnoException;
      const reason = isDiskFull(e) ? `no space left on the disk of ${rp.dir} (${e.code ?? 'ENOSPC'})` : `could not prepare ${rp.dir}: ${e.message}`;
      recordFailure(run, attempt, { exitCode: null, signal: null, reason });
      return;
    }
    const info: ActiveRun = { run, attempt, pid: child.pid, step: null, trainLoss: null, startedAt: Date.now() };
    active.set(run.runId, { child, info });
    emit({ type: 'start', run, attempt, pid: child.pid });
    let settled = false;
    const settle = (code: number | null, signal: NodeJS.Signals | null, spawnError?: Error) => {
      if (settled) return;
      settled = true;
      active.delete(run.runId);
      onExit(run, attempt, code, signal, spawnError);
      schedule();
    };
    child.on('error', (err) => settle(null, null, err));
    child.on('exit', (code, signal) => settle(code, signal));
  };

  const onExit = (run: PlanRun, attempt: number, code: number | null, signal: NodeJS.Signals | null, spawnError?: Error) => {
    const summary = summaryOf(run);
    if (summary) return recordFinished(run, summary, false);
    if (code === LOCKED_EXIT_CODE) {
      held.set(run.runId, run);
      const lock = readRunLock(runDir(run).lock);
      return emit({ type: 'held', run, holder: lock ? describeHolder(lock) : 'another process' });
    }
    if (stopping) {
      outcome.unfinished.push(run.runId);
      return emit({ type: 'interrupted', run });
    }
    const reason = spawnError
      ? `could not start: ${spawnError.message}`
      : signal
        ? `killed by ${signal}`
        : code === 0
          ? 'exited 0 without writing summary.json'
          : `exit code ${code}`;
    if (attempt <= retries) {
      queue.unshift(run);
      return emit({ type: 'retry', run, attempt: attempt + 1, reason });
    }
    recordFailure(run, attempt, { exitCode: code, signal, reason });
  };

  /** failed.json (when the disk lets us write it) + the outcome + the event. */
  const recordFailure = (run: PlanRun, attempt: number, how: { exitCode: number | null; signal: string | null; reason: string }) => {
    const rp = runDir(run);
    const record: FailureRecord = {
      runId: run.runId,
      index: run.index,
      executor: 'local',
      exitCode: how.exitCode,
      signal: how.signal,
      attempts: attempt,
      logTail: tailOf(rp.workerLog) || how.reason,
      at: new Date().toISOString(),
    };
    let reason = how.reason;
    try {
      writeJsonAtomic(rp.failed, record);
    } catch (err) {
      if (!isDiskFull(err) && (err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      reason += ' (failed.json not written: the disk is full)';
    }
    outcome.failed.push(run.runId);
    emit({ type: 'failed', run, reason, logPath: rp.workerLog });
  };

  /** Runs held by another process: finished meanwhile, or free to take now that its holder died. */
  const recheckHeld = () => {
    for (const run of [...held.values()]) {
      const summary = summaryOf(run);
      if (summary) {
        held.delete(run.runId);
        recordFinished(run, summary, true);
      } else if (!readRunLock(runDir(run).lock)?.alive && !stopping) {
        held.delete(run.runId);
        queue.push(run);
      }
    }
  };

  const finish = () => {
    clearInterval(poller);
    if (killTimer) clearTimeout(killTimer);
    outcome.unfinished.push(...queue.map((r) => r.runId), ...held.keys());
    outcome.interrupted = stopping;
    track(true);
    emit({ type: 'tick', progress: progress() });
    resolveDone(outcome);
  };

  let finished = false;
  const schedule = (): void => {
    if (finished) return;
    if (stopping) {
      if (active.size === 0) {
        finished = true;
        finish();
      }
      return;
    }
    while (active.size < workers && queue.length > 0) {
      const run = queue.shift() as PlanRun;
      const summary = summaryOf(run);
      if (summary) {
        recordFinished(run, summary, true);
        continue;
      }
      const lock = readRunLock(runDir(run).lock);
      if (lock?.alive) {
        held.set(run.runId, run);
        emit({ type: 'held', run, holder: describeHolder(lock) });
        continue;
      }
      start(run);
    }
    if (active.size === 0 && queue.length === 0) {
      recheckHeld();
      if (queue.length > 0) {
        schedule();
        return;
      }
      if (held.size === 0) {
        finished = true;
        finish();
      }
    }
  };

  const poller = setInterval(() => {
    for (const { info } of active.values()) {
      const last = readLastJsonLine<MetricRow>(runDir(info.run).metrics);
      if (last) {
        info.step = last.step;
        info.trainLoss = last.trainLoss;
      }
    }
    if (held.size > 0 && !stopping) {
      recheckHeld();
      schedule();
    }
    if (!finished) {
      track(false);
      emit({ type: 'tick', progress: progress() });
    }
  }, pollMs);

  const stop = (force = false) => {
    if (finished) return;
    const first = !stopping;
    stopping = true;
    outcome.unfinished.push(...queue.map((r) => r.runId));
    queue.length = 0;
    emit({ type: 'stopping', force });
    for (const { child } of active.values()) signalGroup(child, force ? 'SIGKILL' : 'SIGTERM');
    if (first && !force) {
      killTimer = setTimeout(() => {
        for (const { child } of active.values()) signalGroup(child, 'SIGKILL');
      }, killGraceMs);
      killTimer.unref();
    }
    schedule();
  };

  track(true);
  queueMicrotask(schedule);
  return { done, stop };
}

/** Run a whole sweep to the end (no interruption handling): the programmatic form of `moelab sweep`. */
export function runSweep(options: RunnerOptions): Promise<SweepOutcome> {
  return startSweep(options).done;
}
