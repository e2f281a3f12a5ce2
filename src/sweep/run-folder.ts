// The state of a single run folder (`moelab train --config F --out DIR`, no sweep around it), in
// the same terms as a sweep's runs (src/sweep/state.ts inspectRun): done / diverged / running /
// failed / pending, from the folder's files alone.
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { ConfigError } from '../errors.ts';
import { readJsonIfExists } from '../io/atomic.ts';
import { runPaths, type MetricRow, type RunConfigRecord, type RunSummary } from '../io/results.ts';
import { decodeRunSummary } from '../io/nonfinite.ts';
import { describeHolder, readLastJsonLine, readRunLock, type FailureRecord, type RunStatusRow } from './state.ts';

export function inspectRunFolder(dir: string): Omit<RunStatusRow, 'index'> {
  const paths = runPaths(dir);
  const record = readJsonIfExists<RunConfigRecord>(paths.config);
  if (!record) {
    throw new ConfigError('dir', dir, 'Give a sweep folder (with plan.json) or a run folder (with config.json).', 'neither plan.json nor config.json there');
  }
  const base = { runId: record.runId ?? basename(paths.dir), steps: record.derived.steps };
  const summary = decodeRunSummary(readJsonIfExists<RunSummary>(paths.summary));
  if (summary) {
    return {
      ...base,
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
  if (lock?.alive) return { ...base, ...progress, state: 'running', detail: describeHolder(lock) };
  const failure = readJsonIfExists<FailureRecord>(paths.failed);
  if (failure) return { ...base, ...progress, state: 'failed', detail: failure.signal ? `killed by ${failure.signal}` : `exit code ${failure.exitCode}` };
  return { ...base, ...progress, state: 'pending', detail: resumable ? 'interrupted; the same train command resumes it from its checkpoint' : 'not started' };
}
