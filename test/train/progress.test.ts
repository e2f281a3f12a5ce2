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
});
