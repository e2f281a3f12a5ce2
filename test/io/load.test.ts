// loadSweep: the one reader of sweep folders, folders of run folders and single run folders, and
// the run tags it checks (config.json, else the plan entry, else the older plan-entry fields).
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, DataError } from '../../src/errors.ts';
import { loadSweep } from '../../src/io/load.ts';
import { parseRunTags } from '../../src/io/tags.ts';

const derived = { activatedParams: 1000, tokensPerStep: 256, tokens: 2560, computeFlops: 1.5e7 };

function writeRun(dir: string, id: string, extra: Record<string, unknown> = {}, summary?: Record<string, unknown>, metrics: Record<string, unknown>[] = []): void {
  mkdirSync(join(dir, id), { recursive: true });
  writeFileSync(join(dir, id, 'config.json'), JSON.stringify({ runId: id, config: { name: id }, derived, ...extra }));
  if (summary) writeFileSync(join(dir, id, 'summary.json'), JSON.stringify({ runId: id, ...summary }));
  if (metrics.length) writeFileSync(join(dir, id, 'metrics.jsonl'), metrics.map((m) => JSON.stringify(m)).join('\n') + '\n');
}

describe('loadSweep', () => {
  it('reads a sweep folder once: plan runs only, tags, metrics, summary, state, pending runs, fit records', () => {
    const dir = mkdtempSync(join(tmpdir(), 'moelab-load-'));
    const runs = join(dir, 'runs');
    const iso = { study: 'isoflop', budgetFlops: 1e10, size: 1000, seed: 0 };
    writeRun(runs, 'b-run', { tags: iso }, { status: 'done', finalValLoss: 2.5 }, [{ step: 1, trainLoss: 3 }, { step: 2, trainLoss: 2.8, valLoss: 2.9 }]);
    // Tags only in the plan entry (a run trained before its plan was re-written with tags).
    writeRun(runs, 'a-run', {}, { status: 'diverged', reason: 'NaN loss' });
    // Older folders: the plan entry's fields copied into config.json `study`.
    writeRun(runs, 'c-run', { budgetFlops: 1e11, study: { kind: 'lr-batch', seed: 1, lr: 0.002, batchTokens: 512, schedule: 'constant', batchSize: 4 } });
    writeRun(runs, 'old-plan-run');
    mkdirSync(join(runs, 'not-started'));
    writeFileSync(
      join(dir, 'plan.json'),
      JSON.stringify({
        sweep: 'demo',
        kind: 'grid',
        runs: [
          { runId: 'a-run', tags: { study: 'schedules', label: 'wsd', seed: 0 } },
          { runId: 'b-run' },
          { runId: 'c-run' },
          { runId: 'not-started' },
        ],
      }),
    );
    mkdirSync(join(dir, 'fits'));
    writeFileSync(join(dir, 'fits', 'isoflop.json'), JSON.stringify({ schema: 'moelab.fit/1', kind: 'isoflop', params: {} }));
    writeFileSync(join(dir, 'fits', 'paper-comparison.json'), JSON.stringify({ kind: 'paper-comparison', rows: [] }));

    const s = loadSweep(dir);
    expect(s.name).toBe('demo');
    expect(s.kind).toBe('grid');
    expect(s.runs.map((r) => r.runId)).toEqual(['a-run', 'b-run', 'c-run']);
    expect(s.runs.map((r) => r.state)).toEqual(['diverged', 'done', 'running']);
    expect(s.runs.map((r) => r.tags)).toEqual([
      { study: 'schedules', label: 'wsd', seed: 0 },
      iso,
      { study: 'lr-batch', lr: 0.002, batchTokens: 512, budgetFlops: 1e11, seed: 1 },
    ]);
    expect(s.runs[1].metrics.map((m) => m.step)).toEqual([1, 2]);
    expect(s.runs[0].summary?.reason).toBe('NaN loss');
    expect(s.runs[2].summary).toBeUndefined();
    expect(s.pendingRunIds).toEqual(['not-started']);
    expect(s.outsidePlan).toEqual(['old-plan-run']);
    expect(s.fits.map((f) => [f.kind, f.fitFile])).toEqual([['isoflop', 'isoflop.json']]);
  });

  it('reads a folder of run folders and a single run folder (a `moelab train --config` run has no tags)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'moelab-load-'));
    writeRun(dir, 'r2', {}, { status: 'done' });
    writeRun(dir, 'r1');
    const s = loadSweep(dir);
    expect(s.runs.map((r) => r.runId)).toEqual(['r1', 'r2']);
    expect(s.runs[0].tags).toBeUndefined();
    const one = loadSweep(join(dir, 'r2'));
    expect(one.runs.map((r) => [r.runId, r.state])).toEqual([['r2', 'done']]);
    expect(one.name).toBe('r2');
  });

  it('refuses a missing folder, an empty folder, and malformed tags naming the file and the field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'moelab-load-'));
    expect(() => loadSweep(join(dir, 'missing'))).toThrow(ConfigError);
    expect(() => loadSweep(dir)).toThrow(DataError);
    expect(() => loadSweep(dir)).toThrow(/no runs\/ folder and no run folders with config\.json/);
    writeRun(dir, 'bad', { tags: { study: 'lr-batch', lr: -1, batchTokens: 512, seed: 0 } });
    expect(() => loadSweep(dir)).toThrow(/bad\/config\.json tags\.lr: .*Run tags are one of/);
  });
});

describe('parseRunTags', () => {
  it('accepts each study kind and refuses unknown kinds and fields', () => {
    expect(parseRunTags({ study: 'arm', group: 'confirmation', name: 'one LR', seed: 2 }, 'x').study).toBe('arm');
    expect(() => parseRunTags({ study: 'arm', group: 'confirmation', name: 'one LR', seed: 2, kind: 'grid' }, 'x')).toThrow(/x: /);
    expect(() => parseRunTags({ study: 'sizes', seed: 0 }, 'plan.json runs[3].tags')).toThrow(/plan\.json runs\[3\]\.tags\.study: /);
  });
});
