// One sweep, two doors: `moelab fit <kind> --runs` (the CLI, with its flag defaults) and the
// report's analysis (planFits + runFits, what `moelab report` and `moelab reproduce` run) read the
// same defaults (src/analysis/defaults.ts) and so give the same fitted numbers on the same runs —
// for every kind the report shows (FIT_KINDS_STANDARD: compute, isoflop, parametric, surge, schedule).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANALYSIS_DEFAULTS, FIT_KINDS_STANDARD, computeFormulaOf, latestFit, planFits, runFits, type AnalysisFit, type FitPlan } from '../../src/analysis/index.ts';
import { loadSweep, type Sweep } from '../../src/io/load.ts';
import { PROJECT_ROOT } from '../../src/util/provenance.ts';
import { writeSyntheticSweep, type SyntheticSweepInfo } from '../report/synthetic-sweep.ts';

const BIN = join(PROJECT_ROOT, 'bin', 'moelab.js');

function cliFit(args: string[]): AnalysisFit {
  const r = spawnSync(process.execPath, [BIN, 'fit', ...args, '--json'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout) as AnalysisFit;
}

describe('moelab fit and the report agree on a sweep', () => {
  let root: string;
  let info: SyntheticSweepInfo;
  let sweep: Sweep;
  let fits: AnalysisFit[];
  let plan: FitPlan;
  /** The compute formula the report fitted and fed to the isoFLOP and parametric fits, as the flag gives it. */
  let formulaFlag: string[];

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'moelab-agree-'));
    info = writeSyntheticSweep(join(root, 's'), { studies: ['isoflop', 'lr-batch', 'schedule'], name: 'agree' });
    sweep = loadSweep(info.dir);
    plan = planFits(sweep);
    ({ fits } = await runFits(sweep, plan));
    // (undefined when the fitted intercept is negative: the report then uses the default 6ND, as the CLI does)
    const formula = computeFormulaOf(latestFit(fits, 'compute')!);
    formulaFlag = formula ? ['--compute-formula', `${formula.a},${formula.b}`] : [];
  }, 180_000);
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('the defaults object is frozen all the way down', () => {
    expect(Object.isFrozen(ANALYSIS_DEFAULTS)).toBe(true);
    expect(Object.isFrozen(ANALYSIS_DEFAULTS.bootstrap)).toBe(true);
    expect(() => {
      (ANALYSIS_DEFAULTS.bootstrap as Record<string, number>).isoflop = 1;
    }).toThrow(TypeError);
  });

  it('the report fits every kind it shows on this sweep', () => {
    expect(plan.unsupported).toEqual([]);
    expect(fits.map((f) => f.kind)).toEqual([...FIT_KINDS_STANDARD]);
  });

  it('compute: the same a, b and intervals on every run', () => {
    const report = latestFit(fits, 'compute')!;
    const cli = cliFit(['compute', '--runs', info.dir]);
    expect(cli.params).toEqual(report.params);
    expect(cli.bootstrap).toEqual(report.bootstrap);
    expect(cli.bootstrap?.samples).toBe(ANALYSIS_DEFAULTS.bootstrap.compute);
  }, 120_000);

  it('isoflop: the same parameters, intervals, budgets and dropped runs', () => {
    const report = latestFit(fits, 'isoflop')!;
    const cli = cliFit(['isoflop', '--runs', info.dir, '--study', 'isoflop', ...formulaFlag]);
    expect(cli.kind).toBe('isoflop');
    expect(cli.params).toEqual(report.params);
    expect(cli.bootstrap).toEqual(report.bootstrap);
    expect(cli.bootstrap?.samples).toBe(ANALYSIS_DEFAULTS.bootstrap.isoflop);
    expect(cli.data.dropped).toEqual(report.data.dropped);
    expect(cli.options.edges).toBe(ANALYSIS_DEFAULTS.edges);
  }, 120_000);

  it('parametric: the same E, A, α, B, β, intervals and compute-optimal allocation at the target', () => {
    const report = latestFit(fits, 'parametric')!;
    const cli = cliFit(['parametric', '--runs', info.dir, '--study', 'isoflop', ...formulaFlag, '--target-flops', String(plan.targetFlops)]);
    expect(cli.params).toEqual(report.params);
    expect(cli.derived).toEqual(report.derived);
    expect(cli.bootstrap).toEqual(report.bootstrap);
    expect(cli.bootstrap?.samples).toBe(ANALYSIS_DEFAULTS.bootstrap.parametric);
  }, 180_000);

  it('schedule: the same law, parameters and held-out prediction', () => {
    const report = latestFit(fits, 'schedule')!;
    const planned = plan.fits.find((f) => f.kind === 'schedule')!;
    if (planned.kind !== 'schedule') throw new Error('no schedule fit planned');
    const cli = cliFit(['schedule', '--runs', info.dir, '--fit', ...planned.fitIds, '--predict', ...planned.predictIds]);
    expect(cli.options.law).toBe(ANALYSIS_DEFAULTS.scheduleLaw);
    expect(cli.params).toEqual(report.params);
    expect(cli.heldOut).toEqual(report.heldOut);
    expect(cli.bootstrap?.samples ?? 0).toBe(ANALYSIS_DEFAULTS.bootstrap.schedule);
  }, 120_000);

  it('surge: the same ε_max, B_noise and expert-LR ratio at the same batch', () => {
    const report = latestFit(fits, 'surge')!;
    const q = report.options.expertLr as { numExperts: number; topK: number; batchTokens: number };
    const cli = cliFit(['surge', '--runs', info.dir, '--study', 'lr-batch', '--experts', String(q.numExperts), '--top-k', String(q.topK), '--batch-tokens', String(q.batchTokens)]);
    expect(cli.params).toEqual(report.params);
    expect(cli.derived.expertLrRatio).toEqual(report.derived.expertLrRatio);
    expect(cli.bootstrap?.samples).toBe(ANALYSIS_DEFAULTS.bootstrap.surge);
  }, 120_000);
});
