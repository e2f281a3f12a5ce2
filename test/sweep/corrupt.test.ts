// One damaged run does not block the folder: `status` reports it as corrupt naming the file, the
// sweep runner goes on with the other runs, and a damaged plan.json is named with its problem.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeJsonAtomic } from '../../src/io/atomic.ts';
import { runPaths, sweepPaths } from '../../src/io/results.ts';
import { runSweep } from '../../src/sweep/runner.ts';
import { inspectSweep, readPlan } from '../../src/sweep/state.ts';
import { loadSweep } from '../../src/io/load.ts';
import { fakeCommand, makeTinySweep } from '../helpers/sweep.ts';

const summary = (runId: string) => ({ runId, status: 'done', steps: 20, tokens: 160, computeFlops: 1, finalTrainLoss: 3, finalValLoss: 3.1, bestValLoss: 3.1, wallSeconds: 1 });

describe('corrupt records', () => {
  it('status: a truncated summary.json makes that run "corrupt" with the file named; the others read as usual', () => {
    const { dir, plan } = makeTinySweep({ name: 'corrupt-status', lrs: [1e-3, 2e-3, 3e-3] });
    const [a, b] = plan.runs.map((r) => runPaths(sweepPaths(dir).run(r.runId)));
    writeJsonAtomic(a.summary, summary(plan.runs[0].runId));
    writeJsonAtomic(b.summary, summary(plan.runs[1].runId));
    writeFileSync(b.summary, readFileSync(b.summary, 'utf8').slice(0, 50));
    const status = inspectSweep(dir);
    expect(status.rows.map((r) => r.state)).toEqual(['done', 'corrupt', 'pending']);
    expect(status.rows[1].detail).toMatch(new RegExp(`${b.summary.replace(/[.]/g, '\\.')}: not valid JSON at line \\d+, column \\d+`));
    expect(status.counts.corrupt).toBe(1);
  });

  it('a damaged plan.json is named with its problem (the attack: {"runs": 5} gave "plan.runs.map is not a function")', () => {
    const { dir } = makeTinySweep({ name: 'corrupt-plan' });
    const planPath = sweepPaths(dir).plan;
    writeFileSync(planPath, '{"sweep": "x", "kind": "grid", "runs": 5}');
    expect(() => readPlan(planPath)).toThrow(/plan\.json: does not have the expected shape: runs: .*Regenerate it with `moelab plan/);
    writeFileSync(planPath, '{"sweep": "x", "kind": ');
    expect(() => inspectSweep(dir)).toThrow(/plan\.json: not valid JSON at line 1, column \d+: the text ends early/);
  });

  it('the runner goes on past a run with a damaged summary.json and records it as failed', async () => {
    const { dir, plan } = makeTinySweep({ name: 'corrupt-runner', lrs: [1e-3, 2e-3, 3e-3], steps: 5 });
    const bad = runPaths(sweepPaths(dir).run(plan.runs[1].runId));
    writeJsonAtomic(bad.summary, summary(plan.runs[1].runId));
    writeFileSync(bad.summary, '{"runId": "x", "sta');
    const outcome = await runSweep({ sweepDir: dir, workers: 2, command: fakeCommand, pollMs: 50, retries: 0 });
    expect(outcome.done.sort()).toEqual([plan.runs[0].runId, plan.runs[2].runId].sort());
    expect(outcome.failed).toEqual([plan.runs[1].runId]);
    expect(inspectSweep(dir).rows[1].state).toBe('corrupt');
  }, 60_000);

  it('the one loader (report and fits) leaves a damaged run out, named, and load the others', () => {
    const { dir, plan } = makeTinySweep({ name: 'corrupt-report', lrs: [1e-3, 2e-3, 3e-3] });
    plan.runs.forEach((r) => {
      const rp = runPaths(sweepPaths(dir).run(r.runId));
      writeJsonAtomic(rp.config, { runId: r.runId, config: r.config, derived: r.derived, backend: 'wasm' });
      writeJsonAtomic(rp.summary, summary(r.runId));
    });
    const bad = runPaths(sweepPaths(dir).run(plan.runs[2].runId));
    writeFileSync(bad.config, '{"runId": ');
    const records = loadSweep(dir);
    expect(records.runs.map((r) => r.runId)).toEqual(plan.runs.slice(0, 2).map((r) => r.runId));
    expect(records.corrupt).toEqual([{ runId: plan.runs[2].runId, problem: expect.stringMatching(/config\.json: not valid JSON at line 1/) }]);
    expect(records.pendingRunIds).toEqual([]);
    writeFileSync(sweepPaths(dir).sweep, '{"sweep": 5}');
    expect(() => loadSweep(dir)).toThrow(/sweep\.json: does not have the expected shape: sweep: .*Regenerate it/);
    writeFileSync(sweepPaths(dir).sweep, `\uFEFF${JSON.stringify({ sweep: 'corrupt-report', source: 'x', definition: { kind: 'lr-batch' } })}`);
    expect(loadSweep(dir).kind).toBe('lr-batch'); // a BOM is fine
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    const runs = loadSweep(dir).runs;
    expect(runs.map((r) => r.runId)).toEqual(plan.runs.slice(0, 2).map((r) => r.runId));
    return new Promise<void>((resolve) =>
      setImmediate(() => {
        process.off('warning', onWarning);
        expect(warnings.join('\n')).toMatch(/left out \(corrupt\): .*config\.json: not valid JSON/);
        resolve();
      }),
    );
  });
});
