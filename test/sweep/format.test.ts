import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatActive, formatOverall, formatPlan, formatProblems } from '../../src/sweep/format.ts';
import type { SweepProgress } from '../../src/sweep/runner.ts';
import { makeTinySweep } from '../helpers/sweep.ts';

const tmp = mkdtempSync(join(tmpdir(), 'moelab-format-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('text output', () => {
  it('the plan table has one row per run and the totals', () => {
    const { plan } = makeTinySweep({ lrs: [1e-3, 2e-3], parent: join(tmp, 'a') });
    const lines = formatPlan(plan);
    expect(lines[0]).toBe('sweep "tiny" (lr-batch)');
    const header = lines.find((l) => l.startsWith('#'))!;
    expect(header.split(/\s{2,}/)).toEqual(['#', 'run id', 'N total', 'N act', 'FLOPs/tok', 'tokens', 'tok/N', 'steps', 'batch', 'LR', 'schedule', 'C (FLOPs)', 'est']);
    const row = lines.find((l) => l.includes('tiny-8.27k-D160-lr2e-3-bs1-s0'))!;
    expect(row.split(/\s{2,}/)).toEqual(['1', 'tiny-8.27k-D160-lr2e-3-bs1-s0', '9.81k', '8.27k', '5.02e4', '160', '0.0', '20', '1×8', '2e-3', 'cosine', '8.03e6', '-']);
    expect(lines).toContain('total: 2 runs, 320 tokens, 1.61e7 FLOPs, time not estimated (no probe)');
  });

  it('problems name the run, the field, the problem and the fix', () => {
    expect(
      formatProblems([{ level: 'error', runId: 'r-1k-D1k-s0', field: 'train.tokens', value: 5, message: 'too few', fix: 'Raise it.' }]),
    ).toEqual(['error: r-1k-D1k-s0: train.tokens: too few. Raise it.']);
  });

  it('progress: one overall line and one line per live run, short enough for 80 columns', () => {
    const { plan } = makeTinySweep({ parent: join(tmp, 'b') });
    const p: SweepProgress = {
      total: 20,
      finished: 7,
      failed: 1,
      active: [{ run: plan.runs[0], attempt: 2, pid: 1, step: 12, trainLoss: 3.21049, startedAt: 0 }],
      fraction: 0.41,
      elapsedSeconds: 190,
      etaSeconds: 242,
    };
    expect(formatOverall(p)).toBe('runs 7/20 (1 failed) [#######.........] 41% 3m10s ETA 4m02s');
    expect(formatOverall(p).length).toBeLessThan(80);
    expect(formatActive(p)).toEqual(['  tiny-8.27k-D160-lr1e-3-bs1-s0  step 12/20  loss 3.210  (attempt 2)']);
  });
});
