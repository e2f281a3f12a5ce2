// The state of a single run folder (`moelab train --config F --out DIR`, no sweep around it), in
// the same terms and by the same classification as a sweep's runs (src/sweep/state.ts
// inspectRunDir): done / diverged / running / failed / pending / corrupt, from the folder's files.
import { basename } from 'node:path';
import { ConfigError } from '../errors.ts';
import { readJsonIfExists } from '../io/atomic.ts';
import { runPaths, type RunConfigRecord } from '../io/results.ts';
import { inspectRunDir, type RunStatusRow } from './state.ts';

export function inspectRunFolder(dir: string): Omit<RunStatusRow, 'index'> {
  const paths = runPaths(dir);
  const record = readJsonIfExists<RunConfigRecord>(paths.config);
  if (!record) {
    throw new ConfigError('dir', dir, 'Give a sweep folder (with plan.json) or a run folder (with config.json).', 'neither plan.json nor config.json there');
  }
  return inspectRunDir(paths.dir, { runId: record.runId ?? basename(paths.dir), steps: record.derived.steps });
}
