// Progress with ETA for long computations (src/util/progress.ts): the task protocol, nested
// tasks, the ETA arithmetic, the stderr sink on and off a TTY, and the real multi-start and
// bootstrap loops reporting through it.
import { afterEach, describe, expect, it } from 'vitest';
import { bootstrap } from '../../src/fit/bootstrap.ts';
import { multiStart } from '../../src/fit/multistart.ts';
import { etaOf, formatTaskLine, setProgressSink, startTask, streamProgressSink, type TaskState } from '../../src/util/progress.ts';

afterEach(() => setProgressSink(null));

function record(): TaskState[] {
  const seen: TaskState[] = [];
  setProgressSink((s) => seen.push({ ...s }));
  return seen;
}

describe('progress tasks', () => {
  it('ETA is elapsed per unit × units left', () => {
    expect(etaOf(0, 10, 5)).toBeNull();
    expect(etaOf(2, 10, 5)).toBeCloseTo(20, 12);
    expect(etaOf(10, 10, 5)).toBe(0);
    expect(formatTaskLine({ label: 'fit: bootstrap', done: 25, total: 100, elapsedSeconds: 12, etaSeconds: 36, finished: false })).toBe(
      'fit: bootstrap: 25/100 (25%), 12s elapsed, ETA 36s',
    );
    expect(formatTaskLine({ label: 'x', done: 100, total: 100, elapsedSeconds: 75, etaSeconds: 0, finished: true })).toBe('x: 100/100 done in 1m15s');
  });

  it('reports the outermost task only; nothing without a sink', () => {
    const quiet = startTask('silent', 5);
    quiet.tick();
    quiet.end();
    const seen = record();
    const outer = startTask('outer', 3);
    for (let i = 0; i < 3; i++) {
      const inner = startTask('inner', 10);
      inner.tick(10);
      inner.end();
      outer.tick();
    }
    outer.end();
    expect(seen.every((s) => s.label === 'outer')).toBe(true);
    expect(seen.map((s) => [s.done, s.finished])).toEqual([[0, false], [1, false], [2, false], [3, false], [3, true]]);
    expect(seen.at(-1)!.etaSeconds).toBe(0);
    // After the outer task ended, a new task is outermost again.
    const next = startTask('next', 2);
    next.end();
    expect(seen.at(-1)!.label).toBe('next');
  });

  it('multiStart and bootstrap tick once per start and per resample', () => {
    const seen = record();
    const starts = [[0], [1], [2], [3]];
    const r = multiStart((x) => ({ x: Float64Array.from(x), f: (x[0] - 2) ** 2, converged: true, iterations: 1, evaluations: 1, message: '' }) as never, starts);
    expect(r.bestStart).toBe(2);
    expect(seen.filter((s) => s.label === 'fit: multi-start').map((s) => s.done)).toEqual([0, 1, 2, 3, 4, 4]);
    seen.length = 0;
    bootstrap(5, (rows) => ({ mean: Array.from(rows).reduce((a, b) => a + b, 0) / rows.length }), { samples: 20, seed: 1 });
    const boot = seen.filter((s) => s.label === 'fit: bootstrap');
    expect(boot.at(-1)).toMatchObject({ done: 20, total: 20, finished: true });
    expect(boot).toHaveLength(22);
  });
});

describe('the stderr sink', () => {
  const stream = (isTTY: boolean) => {
    let text = '';
    return { out: { isTTY, columns: 100, write: (s: string) => ((text += s), true) } as unknown as NodeJS.WriteStream, text: () => text };
  };

  it('on a TTY rewrites one line with the ETA and clears it at the end', () => {
    const { out, text } = stream(true);
    setProgressSink(streamProgressSink(out));
    const t = startTask('fit: multi-start', 4);
    t.tick();
    t.end();
    expect(text()).toMatch(/^\r\x1b\[2Kfit: multi-start: 0\/4 \(0%\), 0s elapsed, ETA \?/);
    expect(text().endsWith('\r\x1b[2K')).toBe(true);
  });

  it('off a TTY prints periodic lines only (none for a quick task)', () => {
    const { out, text } = stream(false);
    setProgressSink(streamProgressSink(out, { intervalSeconds: 10 }));
    const t = startTask('quick', 100);
    for (let i = 0; i < 100; i++) t.tick();
    t.end();
    expect(text()).toBe('');
    const every = stream(false);
    setProgressSink(streamProgressSink(every.out, { intervalSeconds: 0 }));
    const u = startTask('slow', 2);
    u.tick();
    u.tick();
    u.end();
    expect(every.text().split('\n').filter(Boolean)).toEqual([
      expect.stringMatching(/^slow: 1\/2 \(50%\), \ds elapsed, ETA \ds$/),
      expect.stringMatching(/^slow: 2\/2 \(100%\)/),
      expect.stringMatching(/^slow: 2\/2 done in \ds$/),
    ]);
  });
});
