// runs.csv and metrics.csv: CSV cells (golden), and kept current by the runner while a sweep runs
// (fake trainer, test/sweep/fixtures/fake-train.ts): a reader polling runs.csv sees runs go
// pending → running → done, and metrics.csv holds every metric row of every run.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readJsonl } from '../../src/io/atomic.ts';
import { runPaths, sweepPaths } from '../../src/io/results.ts';
import { startSweep } from '../../src/sweep/runner.ts';
import { csvCell, numberOf, toCsv } from '../../src/sweep/tracking.ts';
import { fakeCommand, makeTinySweep } from '../helpers/sweep.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A small RFC 4180 reader (quoted cells with commas, quotes and newlines). */
function parseCsv(text: string): Record<string, string>[] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += ch;
  }
  const [header, ...body] = rows;
  return body.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]])));
}

describe('CSV cells', () => {
  it('quotes what needs quoting, writes NaN and null as empty and infinities as inf', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell(`it's a "test", ok`)).toBe(`"it's a ""test"", ok"`);
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell(NaN)).toBe('');
    expect(csvCell(null)).toBe('');
    expect(csvCell(Infinity)).toBe('inf');
    expect(csvCell(-Infinity)).toBe('-inf');
    expect(csvCell(0.001)).toBe('0.001');
    expect(toCsv(['a', 'b'], [[1, 'x,y']])).toBe('a,b\n1,"x,y"\n');
    expect(numberOf('nan')).toBeNaN();
    expect(numberOf('inf')).toBe(Infinity);
    expect(numberOf('x')).toBeNull();
  });
});

describe('runs.csv and metrics.csv during a sweep', () => {
  it('are rewritten while runs train: states go pending → running → done; every metric row lands', async () => {
    const { dir, plan } = makeTinySweep({ name: 'tracked, "quoted"', steps: 30 });
    dirs.push(dirname(dir));
    const runsCsv = join(sweepPaths(dir).dir, 'runs.csv');
    const sweep = startSweep({
      sweepDir: dir,
      workers: 2,
      command: fakeCommand,
      pollMs: 50,
      trackMs: 100,
      env: { ...process.env, FAKE_STEP_MS: '60' },
    });
    const seen = new Map<string, Set<string>>();
    const partialSteps: number[] = [];
    let finished = false;
    void sweep.done.then(() => (finished = true));
    for (let last = false; !last; ) {
      last = finished; // one more read after the sweep ended
      if (existsSync(runsCsv)) {
        for (const row of parseCsv(readFileSync(runsCsv, 'utf8'))) {
          if (!seen.has(row.runId)) seen.set(row.runId, new Set());
          seen.get(row.runId)!.add(row.state);
          if (row.state === 'running' && row.step !== '') partialSteps.push(Number(row.step));
        }
      }
      await new Promise((r) => setTimeout(r, 40));
    }
    const outcome = await sweep.done;
    expect(outcome.done).toHaveLength(4);
    // Every run was seen pending (not started yet: 2 workers, 4 runs) or running before done.
    for (const run of plan.runs) {
      const states = seen.get(run.runId)!;
      expect(states.has('done')).toBe(true);
      expect(states.has('running') || states.has('pending')).toBe(true);
    }
    expect([...seen.values()].some((s) => s.has('running'))).toBe(true);
    expect(partialSteps.some((s) => s > 0 && s < 30)).toBe(true);

    const final = parseCsv(readFileSync(runsCsv, 'utf8'));
    expect(final.map((r) => r.runId)).toEqual(plan.runs.map((r) => r.runId));
    for (const row of final) {
      expect(row.state).toBe('done');
      expect(Number(row.step)).toBe(30);
      expect(Number(row.etaSeconds)).toBe(0);
      expect(Number(row.valLoss)).toBeCloseTo(5 / 30, 12);
    }
    const metrics = parseCsv(readFileSync(join(sweepPaths(dir).dir, 'metrics.csv'), 'utf8'));
    for (const run of plan.runs) {
      const jsonl = readJsonl<{ step: number; trainLoss: number }>(runPaths(sweepPaths(dir).run(run.runId)).metrics);
      const csvRows = metrics.filter((m) => m.runId === run.runId);
      expect(csvRows.map((m) => Number(m.step))).toEqual(jsonl.map((m) => m.step));
      expect(csvRows.map((m) => Number(m.trainLoss))).toEqual(jsonl.map((m) => m.trainLoss));
      expect(csvRows.every((m) => m.valLoss === '')).toBe(true); // the fake trainer logs no val loss
    }
  });
});
