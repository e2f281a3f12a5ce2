// Helpers for sweep tests: a fake trainer command, tiny plans in temp folders, session logs.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readJsonl } from '../../src/io/atomic.ts';
import { sweepPaths } from '../../src/io/results.ts';
import { parseSweep } from '../../src/sweep/load.ts';
import { expandSweep, type RunPlan } from '../../src/sweep/plan.ts';
import { writePlanFiles } from '../../src/sweep/state.ts';
import type { WorkerCommand } from '../../src/sweep/runner.ts';
import { provenance } from '../../src/util/provenance.ts';

export const FAKE_TRAIN = resolve(import.meta.dirname, '../sweep/fixtures/fake-train.ts');

/** tsx's loader by absolute URL: workers start in other folders (Slurm tasks in the sweep folder). */
const TSX_LOADER = import.meta.resolve('tsx');

/** `node --import tsx fake-train.ts train --plan P --index I` (the real trainer's argv shape). */
export const fakeCommand: WorkerCommand = (planPath, index) => [
  process.execPath,
  '--import',
  TSX_LOADER,
  FAKE_TRAIN,
  'train',
  '--plan',
  planPath,
  '--index',
  index,
];

/** A tiny dense-ish MoE that every planner test can count (seqLen 8 → 8 tokens per step at batch 1). */
export const TINY_MODEL = { dModel: 16, numLayers: 1, numHeads: 2, dFf: 32, numExperts: 2, numSharedExperts: 1, seqLen: 8 };

/** An lr-batch sweep over `lrs` at batch 1 with `steps` steps per run, written into a temp folder. */
export function makeTinySweep(options: { name?: string; lrs?: number[]; steps?: number; parent?: string } = {}): {
  dir: string;
  plan: RunPlan;
} {
  const def = parseSweep(
    {
      name: options.name ?? 'tiny',
      kind: 'lr-batch',
      lrs: options.lrs ?? [1e-3, 2e-3, 3e-3, 4e-3],
      batchSizes: [1],
      base: { model: TINY_MODEL, train: { tokens: 8 * (options.steps ?? 20) }, data: { valTokens: 1000 } },
    },
    'test',
  );
  const { plan, problems } = expandSweep(def, {
    buildModel: () => {
      throw new Error('no family in this test');
    },
    provenance: provenance(),
  });
  if (problems.some((p) => p.level === 'error')) throw new Error(JSON.stringify(problems));
  const parent = options.parent ?? mkdtempSync(join(tmpdir(), 'moelab-sweep-'));
  const dir = join(parent, def.name);
  writePlanFiles(dir, plan, { sweep: def.name, source: 'test', definition: def, provenance: provenance() });
  return { dir, plan };
}

export interface SessionRow {
  event: 'start' | 'end' | 'term';
  runId: string;
  pid: number;
  from?: number;
  to?: number;
}

export function readSessions(sweepDir: string): SessionRow[] {
  return readJsonl<SessionRow>(join(sweepPaths(sweepDir).dir, 'fake-sessions.jsonl'));
}

/** Runs whose training session finished (an `end` row), with how often. */
export function completions(sweepDir: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const row of readSessions(sweepDir)) if (row.event === 'end') counts.set(row.runId, (counts.get(row.runId) ?? 0) + 1);
  return counts;
}
