import { describe, expect, it } from 'vitest';
import { createProgressReporter, formatDuration, formatProgressLine } from '../../src/train/progress.ts';

const event = { step: 120, totalSteps: 400, tokens: 120 * 1024, tokensPerSec: 1234.4, trainLoss: 2.3456, etaSeconds: 192 };

describe('progress', () => {
  it('formats durations and plain lines', () => {
    expect(formatDuration(42)).toBe('42s');
    expect(formatDuration(192)).toBe('3m12s');
    expect(formatDuration(3 * 3600 + 5 * 60)).toBe('3h05m');
    expect(formatDuration(NaN)).toBe('?');
    expect(formatProgressLine(event)).toBe('step 120/400 (30%) | 1,234 tok/s | loss 2.346 | ETA 3m12s');
    expect(formatProgressLine({ ...event, valLoss: 2.4011 })).toBe('step 120/400 (30%) | 1,234 tok/s | loss 2.346 | val 2.401 | ETA 3m12s');
  });

  it('prints periodic lines off a TTY, and nothing when quiet', () => {
    const written: string[] = [];
    const out = { isTTY: false, write: (s: string) => written.push(s) } as unknown as NodeJS.WriteStream;
    const lines = createProgressReporter('auto', { out, intervalSeconds: 0 });
    lines.start(400, 0, 'run');
    lines.update(event);
    lines.log('an event');
    lines.stop();
    lines.stop();
    expect(written).toEqual([
      'run: step 120/400 (30%) | 1,234 tok/s | loss 2.346 | ETA 3m12s\n',
      'an event\n',
      'run: step 120/400 (30%) | 1,234 tok/s | loss 2.346 | ETA 0s\n',
    ]);
    const throttled: string[] = [];
    const slow = createProgressReporter('lines', { out: { isTTY: false, write: (s: string) => throttled.push(s) } as unknown as NodeJS.WriteStream, intervalSeconds: 3600 });
    slow.start(400, 0, 'run');
    for (let i = 0; i < 50; i++) slow.update(event);
    expect(throttled).toEqual([]);
    const quiet: string[] = [];
    const q = createProgressReporter('quiet', { out: { isTTY: true, write: (s: string) => quiet.push(s) } as unknown as NodeJS.WriteStream });
    q.start(1, 0, 'x');
    q.update(event);
    q.log('x');
    q.stop();
    expect(quiet).toEqual([]);
  });

  it('on a TTY the bar shows the ETA with its unit, and leaves no bar text behind when stopped', () => {
    let screen = '';
    const out = {
      isTTY: true,
      columns: 200,
      write: (s: string) => {
        screen += s;
        return true;
      },
      on() {},
      removeListener() {},
    } as unknown as NodeJS.WriteStream;
    const bar = createProgressReporter('bar', { out });
    bar.start(400, 0, 'run');
    bar.update({ ...event, etaSeconds: 65 });
    bar.stop();
    // The last bar drawn carries "ETA 1m05s" (not cli-progress's own bare-seconds {eta}).
    const drawn = screen.split(/\r|\x1b\[[0-9;]*[A-Za-z]/).filter((s) => s.includes('step '));
    expect(drawn.at(-1)).toMatch(/step 120\/400 \| 1,234 tok\/s \| loss 2\.346 \| ETA 1m05s$/);
    // After stop, the line is cleared: the last thing written erases it (ESC[2K or ESC[0K after a CR).
    const afterLastDraw = screen.slice(screen.lastIndexOf('ETA 1m05s') + 'ETA 1m05s'.length);
    expect(afterLastDraw).toMatch(/\x1b\[[02]?K/);
    expect(afterLastDraw.replace(/\x1b\[[0-9;?]*[A-Za-z]|\x1b[78]|\r|\n/g, '')).toBe('');
  });
});
