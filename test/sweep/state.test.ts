// Sweep state from the folder alone: run locks in the trainer's format, metrics tails, plan
// rewrites that would corrupt a running sweep.
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runPaths, sweepPaths } from '../../src/io/results.ts';
import { acquireRunLock } from '../../src/train/lock.ts';
import { changedRuns, movedIndices, readLastJsonLine, readRunLock, writePlanFiles } from '../../src/sweep/state.ts';
import { provenance } from '../../src/util/provenance.ts';
import { makeTinySweep } from '../helpers/sweep.ts';

const tmp = mkdtempSync(join(tmpdir(), 'moelab-state-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('run locks (src/train/lock.ts format)', () => {
  it('a lock taken by the trainer reads as alive with its pid; a dead pid reads as stale', () => {
    const path = join(tmp, 'a.lock');
    const lock = acquireRunLock(path);
    expect(readRunLock(path)).toMatchObject({ pid: process.pid, host: hostname(), alive: true });
    lock.release();
    expect(readRunLock(path)).toBeUndefined();

    const child = spawn(process.execPath, ['-e', '0']);
    return new Promise<void>((done) =>
      child.once('exit', () => {
        writeFileSync(path, JSON.stringify({ pid: child.pid, host: hostname(), since: 'x' }));
        expect(readRunLock(path)).toMatchObject({ pid: child.pid, alive: false });
        // Another host's lock cannot be checked, so it is respected (as the trainer does).
        writeFileSync(path, JSON.stringify({ pid: child.pid, host: 'other-node', since: 'x' }));
        expect(readRunLock(path)?.alive).toBe(true);
        // Created but not yet written: its owner is between open and write.
        writeFileSync(path, '');
        expect(readRunLock(path)).toMatchObject({ pid: null, alive: true });
        // … unless that was long ago: its writer died between open and write.
        utimesSync(path, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
        expect(readRunLock(path)).toMatchObject({ pid: null, alive: false });
        done();
      }),
    );
  });
});

describe('readLastJsonLine', () => {
  it('returns the last complete row and skips a torn last line', () => {
    const path = join(tmp, 'metrics.jsonl');
    writeFileSync(path, '{"step":1}\n{"step":2}\n');
    expect(readLastJsonLine(path)).toEqual({ step: 2 });
    appendFileSync(path, '{"step":3,"trai');
    expect(readLastJsonLine(path)).toEqual({ step: 2 });
    expect(readLastJsonLine(join(tmp, 'none.jsonl'))).toBeUndefined();
  });

  it('reads only the tail of long files', () => {
    const path = join(tmp, 'long.jsonl');
    writeFileSync(path, Array.from({ length: 20000 }, (_, i) => JSON.stringify({ step: i, pad: 'x'.repeat(40) })).join('\n') + '\n');
    expect(readLastJsonLine<{ step: number }>(path, 4096)?.step).toBe(19999);
  });
});

describe('rewriting plan.json', () => {
  const record = (name: string) => ({ sweep: name, source: 'test', definition: {} as never, provenance: provenance() });

  it('refuses a plan that changes the config of a run that already started', () => {
    const { dir, plan } = makeTinySweep({ name: 'rw', parent: join(tmp, 'a') });
    const { plan: other } = makeTinySweep({ name: 'rw', parent: join(tmp, 'b'), steps: 30 });
    expect(changedRuns(plan, other)).toEqual([]); // different ids (token count is in the id)
    const edited = { ...plan, runs: plan.runs.map((r, i) => (i === 0 ? { ...r, config: { ...r.config, seed: 5 } } : r)) };
    expect(changedRuns(plan, edited)).toEqual([plan.runs[0].runId]);
    // Not started yet: allowed.
    expect(() => writePlanFiles(dir, edited, record('rw'))).not.toThrow();
    writePlanFiles(dir, plan, record('rw'));
    const runDir = sweepPaths(dir).run(plan.runs[0].runId);
    mkdirSync(runDir, { recursive: true });
    writeFileSync(runPaths(runDir).config, '{}');
    expect(() => writePlanFiles(dir, edited, record('rw'))).toThrow(/plan: 1 run\(s\) already started .* with a different config/);
  });

  it('refuses to move runs to other indices while a worker trains from the old plan', () => {
    const { dir, plan } = makeTinySweep({ name: 'mv', parent: join(tmp, 'c') });
    const reordered = { ...plan, runs: [...plan.runs].reverse().map((r, index) => ({ ...r, index })) };
    expect(movedIndices(plan, reordered)).toEqual([0, 1, 2, 3]);
    const runDir = sweepPaths(dir).run(plan.runs[1].runId);
    mkdirSync(runDir, { recursive: true });
    const lock = acquireRunLock(runPaths(runDir).lock);
    try {
      expect(() => writePlanFiles(dir, reordered, record('mv'))).toThrow(/moves runs to other indices while 1 run\(s\) are training/);
    } finally {
      lock.release();
    }
    expect(() => writePlanFiles(dir, reordered, record('mv'))).not.toThrow();
  });
});
