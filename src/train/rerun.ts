// What `moelab train` does with a run folder that already holds a finished run (summary.json):
// the same config → skip ("already done"); a different config → refuse, naming each differing
// field with its old and new value, unless --force-rerun, which deletes the old run and trains
// again. (An unfinished run with a different config is refused by the trainer's resume check,
// src/train/loop.ts.)
import { existsSync, rmSync } from 'node:fs';
import type { RunConfig } from '../config/schema.ts';
import { formatValue } from '../errors.ts';
import { readJsonIfExists } from '../io/atomic.ts';
import { runPaths, type RunConfigRecord, type RunSummary } from '../io/results.ts';
import { decodeRunSummary } from '../io/nonfinite.ts';
import { configDifferences } from './loop.ts';

export type RerunDecision =
  | { kind: 'fresh' }
  | { kind: 'same' }
  | { kind: 'refuse'; differences: string[]; message: string }
  | { kind: 'rerun'; differences: string[]; message: string };

/** The value at a dotted path (`train.lr`) of a config, or undefined. */
export function valueAt(config: unknown, path: string): unknown {
  let cur: unknown = config;
  for (const key of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/** `train.lr (0.003 → 0.01)` for each differing path; objects are abbreviated by formatValue. */
export function describeDifferences(saved: unknown, current: unknown, paths: string[]): string {
  return paths.map((p) => `${p} (${formatValue(valueAt(saved, p))} → ${formatValue(valueAt(current, p))})`).join(', ');
}

/**
 * Decide, before training, what to do with `runDir`. With `force`, a finished run is deleted here
 * (the trainer then starts it afresh); nothing is deleted otherwise.
 */
export function rerunDecision(runDir: string, config: RunConfig, options: { force: boolean }): RerunDecision {
  const paths = runPaths(runDir);
  const summary = decodeRunSummary(readJsonIfExists<RunSummary>(paths.summary));
  if (!summary) return { kind: 'fresh' };
  const saved = readJsonIfExists<RunConfigRecord>(paths.config);
  const differences = saved ? configDifferences(saved.config, config) : ['(config.json missing)'];
  if (differences.length === 0 && !options.force) return { kind: 'same' };
  const what = saved ? describeDifferences(saved.config, config, differences) : 'config.json is missing, so the config cannot be compared';
  if (!options.force) {
    return {
      kind: 'refuse',
      differences,
      message:
        `${paths.dir} holds a finished run (${summary.status}) trained with a different config: ${what}. ` +
        'Train into a new folder (--out NEW_DIR), or add --force-rerun to delete this run and train it again.',
    };
  }
  if (existsSync(paths.dir)) rmSync(paths.dir, { recursive: true, force: true });
  return {
    kind: 'rerun',
    differences,
    message: `deleted the finished run in ${paths.dir}${differences.length ? ` (config differed: ${what})` : ''}; training it again`,
  };
}
