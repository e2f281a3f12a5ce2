// planFits: which fits a loaded sweep supports, on which runs (chosen by run tags), with which
// options (the defaults object, or the caller's); pure, so checked on the synthetic sweep's records.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANALYSIS_DEFAULTS, bootstrapFor, planFits } from '../../src/analysis/index.ts';
import { loadSweep, type Sweep } from '../../src/io/load.ts';
import { SYNTH_BUDGETS, writeSyntheticSweep, type SyntheticSweepInfo } from '../report/synthetic-sweep.ts';

describe('planFits', () => {
  let root: string;
  let info: SyntheticSweepInfo;
  let sweep: Sweep;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'moelab-plan-'));
    info = writeSyntheticSweep(join(root, 's'));
    sweep = loadSweep(info.dir);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('plans every standard fit on the runs its tags select, with the default options', () => {
    const plan = planFits(sweep);
    expect(plan.fits.map((f) => f.kind)).toEqual(['compute', 'isoflop', 'parametric', 'surge', 'schedule']);
    expect(plan.unsupported).toEqual([]);
    const byKind = Object.fromEntries(plan.fits.map((f) => [f.kind, f]));
    expect(byKind.compute.runIds).toEqual(sweep.runs.map((r) => r.runId));
    expect([...byKind.isoflop.runIds].sort()).toEqual([...info.isoflopRunIds].sort());
    expect([...byKind.surge.runIds].sort()).toEqual([...info.lrBatchRunIds].sort());
    expect(plan.targetFlops).toBe(ANALYSIS_DEFAULTS.targetFactor * Math.max(...SYNTH_BUDGETS));
    const iso = plan.fits.find((f) => f.kind === 'isoflop')!;
    if (iso.kind !== 'isoflop') throw new Error('unreachable');
    expect(iso.request).toMatchObject({ bootstrap: 1000, seed: 0, edges: 'drop' });
    expect(iso.useComputeFit).toBe(true);
    expect(iso.request.targetFlops.at(-1)).toBe(plan.targetFlops);
    const sched = plan.fits.find((f) => f.kind === 'schedule')!;
    if (sched.kind !== 'schedule') throw new Error('unreachable');
    expect(sched.request.law).toBe(ANALYSIS_DEFAULTS.scheduleLaw);
    expect(sched.fitIds.length + sched.predictIds.length).toBe(sched.runIds.length);
    expect(sched.predictIds.length).toBeGreaterThan(0);
  });

  it('applies a bootstrap override with the caps, restricts kinds, and says what the sweep cannot support', () => {
    expect(bootstrapFor('isoflop', 50)).toBe(50);
    expect(bootstrapFor('parametric', 5000)).toBe(200);
    expect(bootstrapFor('schedule', 1000)).toBe(0);
    expect(bootstrapFor('parametric', { parametric: 5000 })).toBe(5000);
    const plan = planFits(sweep, { bootstrap: 5000, kinds: ['parametric', 'surge'] });
    expect(plan.fits.map((f) => [f.kind, f.request.bootstrap])).toEqual([['parametric', 200], ['surge', 5000]]);
    const onlyGrid = { ...sweep, runs: sweep.runs.filter((r) => r.tags?.study === 'lr-batch') };
    const p2 = planFits(onlyGrid);
    expect(p2.fits.map((f) => f.kind)).toEqual(['surge']);
    expect(p2.unsupported.map((u) => u.kind)).toEqual(['compute', 'isoflop', 'parametric', 'schedule']);
  });
});
