// One sweep, two doors: `moelab fit <kind> --runs` (the CLI, with its flag defaults) and the
// report's analysis (planFits + runFits, what `moelab report` and `moelab reproduce` run) read the
// same defaults (src/analysis/defaults.ts) and so give the same fitted numbers on the same runs.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANALYSIS_DEFAULTS, latestFit, planFits, runFits, type AnalysisFit } from '../../src/analysis/index.ts';
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

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'moelab-agree-'));
    info = writeSyntheticSweep(join(root, 's'), { studies: ['isoflop', 'lr-batch'], name: 'agree' });
    sweep = loadSweep(info.dir);
    ({ fits } = await runFits(sweep, planFits(sweep, { kinds: ['isoflop', 'surge'] })));
  }, 120_000);
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('the defaults object is frozen all the way down', () => {
    expect(Object.isFrozen(ANALYSIS_DEFAULTS)).toBe(true);
    expect(Object.isFrozen(ANALYSIS_DEFAULTS.bootstrap)).toBe(true);
    expect(() => {
      (ANALYSIS_DEFAULTS.bootstrap as Record<string, number>).isoflop = 1;
    }).toThrow(TypeError);
  });

  it('isoflop: the same parameters, intervals, budgets and dropped runs', () => {
    const report = latestFit(fits, 'isoflop')!;
    const cli = cliFit(['isoflop', '--runs', info.dir, '--study', 'isoflop']);
    expect(cli.kind).toBe('isoflop');
    expect(cli.params).toEqual(report.params);
    expect(cli.bootstrap).toEqual(report.bootstrap);
    expect(cli.bootstrap?.samples).toBe(ANALYSIS_DEFAULTS.bootstrap.isoflop);
    expect(cli.data.dropped).toEqual(report.data.dropped);
    expect(cli.options.edges).toBe(ANALYSIS_DEFAULTS.edges);
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
