// `moelab report` shows progress with an ETA on stderr while it loads and composes (it once
// printed nothing for ~45 s). The CLI installs a sink (src/util/progress.ts); here a recording sink
// sees the report's phases in order: loading the runs (one unit per run folder), the fits fits/
// lacks (their own multi-start task), composing (four phases), writing (one unit per file), each
// counting up to its total and ending; and the CLI's stream sink renders them with an ETA.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { reportSweep } from '../../src/cli/report.ts';
import { formatTaskLine, setProgressSink, type TaskState } from '../../src/util/progress.ts';
import { writeSyntheticSweep } from './synthetic-sweep.ts';

const root = mkdtempSync(join(tmpdir(), 'moelab-report-progress-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('report progress', () => {
  it('reports loading, fits, composing and writing, each to its total, then finished', async () => {
    const info = writeSyntheticSweep(join(root, 'iso'), { studies: ['isoflop'], name: 'iso' });
    const seen: TaskState[] = [];
    const previous = setProgressSink((s) => seen.push({ ...s }));
    let res: Awaited<ReturnType<typeof reportSweep>>;
    try {
      res = await reportSweep(info.dir, { bootstrap: 0 });
    } finally {
      setProgressSink(previous);
    }
    const labels = [...new Set(seen.map((s) => s.label))];
    const order = ['loading runs', 'report: composing', 'report: writing'].map((l) => labels.indexOf(l));
    expect(order.every((i) => i >= 0), labels.join(' | ')).toBe(true);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    // A fit ran between loading and composing, with its own task.
    expect(labels.slice(order[0] + 1, order[1]).length).toBeGreaterThan(0);

    const of = (label: string) => seen.filter((s) => s.label === label);
    expect(of('loading runs').at(-1)).toMatchObject({ done: info.runIds.length, total: info.runIds.length, finished: true });
    expect(of('report: composing').at(-1)).toMatchObject({ done: 4, total: 4, finished: true });
    const writing = of('report: writing');
    expect(writing.at(-1)).toMatchObject({ finished: true, total: 2 + res.figureIds.length + res.tableIds.length });
    expect(writing.at(-1)!.done).toBe(writing.at(-1)!.total);
    // Counts only go up, and mid-way an ETA in seconds is known.
    for (const label of ['loading runs', 'report: writing']) {
      const done = of(label).map((s) => s.done);
      expect(done).toEqual([...done].sort((a, b) => a - b));
    }
    const mid = writing.find((s) => !s.finished && s.done > 0 && s.done < s.total)!;
    expect(mid.etaSeconds).toBeGreaterThanOrEqual(0);
    expect(formatTaskLine(mid)).toMatch(/^report: writing: \d+\/\d+ \(\d+%\), \d+s elapsed, ETA \d+s$/);
  }, 120_000);
});
