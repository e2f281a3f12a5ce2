import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, ConfigErrors } from '../../src/errors.ts';
import { parseStudy } from '../../src/study/define.ts';
import { loadStudyFile, planStudy, runStudy } from '../../src/study/run.ts';
import { runSweep } from '../../src/sweep/runner.ts';

const tmp = mkdtempSync(join(tmpdir(), 'moelab-study-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('study definitions', () => {
  it('plans experiments/hunyuan-small.ts quick: stage 1 is the LR scan, LR × batch, schedules and ablations', async () => {
    const study = await loadStudyFile('experiments/hunyuan-small.ts');
    const { plan } = planStudy(study, 'quick', 'experiments/hunyuan-small.ts');
    const quick = study.presets.quick;
    const kinds = plan.runs.map((r) => r.kind);
    // The isoFLOP cells wait for the scan; the scan trains every isoFLOP size at 3 LRs.
    expect(kinds.filter((k) => k === 'isoflop').length).toBe(0);
    const scan = plan.runs.filter((r) => r.tags.study === 'grid' && r.tags.point.stage === 'lr-scan');
    expect(scan.length).toBe(quick.isoflop.activatedParams.length * quick.lrScan!.lrs.length);
    expect(kinds.filter((k) => k === 'lr-batch').length).toBe(24);
    // The LR grid follows the steps-to-target protocol: constant LR, LRs scaled by sqrt(B), and the
    // expert-LR batch is one of its batches.
    const lr = plan.runs.filter((r) => r.kind === 'lr-batch');
    expect(lr.every((r) => r.config.train!.schedule!.kind === 'constant')).toBe(true);
    expect(lr.filter((r) => r.batchSize === 8).map((r) => r.lr)).toEqual(lr.filter((r) => r.batchSize === 2).map((r) => 2 * r.lr!));
    expect(new Set(lr.map((r) => r.seed))).toEqual(new Set([0, 1]));
    expect(lr.some((r) => r.batchSize === quick.expertLr!.batchSize)).toBe(true);
    expect(kinds.filter((k) => k === 'schedules').length).toBe(9);
    expect(plan.runs.map((r) => r.index)).toEqual(plan.runs.map((_, i) => i));
    expect(new Set(plan.runs.map((r) => r.runId)).size).toBe(plan.runs.length);
    // The Hunyuan-like family: 1 shared + 16 specialized, top-1, recycle, CLA 2 where it has 2+ layers, QK-norm.
    for (const r of scan) {
      const m = r.config.model!;
      expect([m.numExperts, m.numSharedExperts, m.topK, m.overflowPolicy, m.qkNorm]).toEqual([16, 1, 1, 'recycle', true]);
      expect(m.claShareFactor).toBe(Math.min(2, m.numLayers!));
    }
  });

  it('rejects unknown keys and presets with field, value and fix', async () => {
    expect(() => parseStudy({ name: 'x', presets: {}, extra: 1 }, 's.json')).toThrow(ConfigErrors);
    expect(() => parseStudy({ name: 'x', presets: {}, extra: 1 }, 's.json')).toThrow(/extra: unknown key/);
    const study = await loadStudyFile('experiments/hunyuan-small.ts');
    expect(() => planStudy(study, 'huge', 'f')).toThrow(ConfigError);
    expect(() => planStudy(study, 'huge', 'f')).toThrow(/--preset: study "hunyuan-small" has no such preset \(got "huge"\)\. Use one of: quick, standard, full\./);
  });
});

describe('runStudy end to end (tiny preset, real training)', () => {
  const family = { builder: 'hunyuan', seqLen: 32, aspectRatio: 16, headDim: 8 };
  const base = { model: { capacityFactor: 1.25, overflowPolicy: 'recycle' }, data: { valTokens: 8192 } };
  const study = {
    name: 'tiny-study',
    presets: {
      t: {
        isoflop: {
          kind: 'isoflop',
          family,
          activatedParams: [3240, 5480, 9792],
          budgets: [1e9, 3e9],
          base: { ...base, train: { batchSize: 8, lr: 1e-2, evalEvery: 1000, evalBatches: 2, logEvery: 5 } },
        },
        lrBatch: {
          kind: 'lr-batch',
          family,
          activatedParams: 3240,
          lrs: [3e-3, 1e-2, 3e-2],
          batchSizes: [4, 8, 16],
          base: { ...base, train: { tokens: 16384, evalEvery: 1000, evalBatches: 2, logEvery: 5 } },
        },
        schedules: {
          kind: 'schedules',
          family,
          activatedParams: 3240,
          schedules: {
            cosine: { kind: 'cosine', warmupFraction: 0.05 },
            wsd: { kind: 'wsd', warmupFraction: 0.05 },
            hunyuan: { kind: 'hunyuan', warmupFraction: 0.05 },
          },
          base: { ...base, train: { tokens: 32768, batchSize: 8, lr: 1e-2, evalEvery: 1000, evalBatches: 2, logEvery: 4 } },
        },
        confirm: { batchSize: 8, tokens: 16384 },
        lrScan: { lrs: [5e-3, 2e-2] },
        ablations: { activatedParams: 3240, budget: 1e9, batchSize: 8, lr: 1e-2, seeds: [0], comparisons: ['routing'] },
        expertLr: { batchSize: 8, tokens: 16384, factors: [0.5, 1], seeds: [0], lr: 1e-2 },
      },
    },
  };
  const file = join(tmp, 'tiny-study.json');
  writeFileSync(file, JSON.stringify(study));
  const out = join(tmp, 'out');
  const lines: string[] = [];
  const execute = (dir: string) => runSweep({ sweepDir: dir, workers: 2 });

  it('scans LRs, sweeps, fits, runs the arms and reports with the side-by-side table; a rerun trains nothing', async () => {
    const result = await runStudy(file, { preset: 't', out, execute, bootstrap: 50, log: (l) => lines.push(l) });
    expect(result.status).toBe('done');
    const runs = readdirSync(join(out, 'runs'));
    expect(runs.filter((r) => r.startsWith('tiny-study-t-scan-')).length).toBe(6);
    expect(runs.filter((r) => r.startsWith('tiny-study-t-ablate-routing-')).length).toBe(2);
    // Factor ×1 of the expert-LR arm and of its control is the LR grid's cell at batch 8, LR 1e-2
    // (same configuration and seed): trained once, as that cell; only the ×0.5 arms train.
    expect(runs.filter((r) => r.startsWith('tiny-study-t-elr-')).length).toBe(1);
    expect(runs.filter((r) => r.startsWith('tiny-study-t-lrc-')).length).toBe(1);
    const planned = JSON.parse(readFileSync(join(out, 'plan.json'), 'utf8')) as { runs: { runId: string; shared?: { runId: string }[] }[] };
    expect(planned.runs.find((r) => r.runId === 'tiny-study-t-lr-3.24k-D16.4k-lr1e-2-bs8-s0')!.shared!.map((a) => a.runId)).toEqual([
      'tiny-study-t-elr-3.24k-D16.4k-p1-s0',
      'tiny-study-t-lrc-3.24k-D16.4k-lr1e-2-p1-s0',
    ]);
    // The isoFLOP cells train at the LR the scan picked for their size (fits/lr-scan.json).
    const scan = JSON.parse(readFileSync(join(out, 'fits', 'lr-scan.json'), 'utf8')) as { picked: { size: number; lr: number | null }[] };
    expect(scan.picked.map((p) => p.size)).toEqual([3240, 5480, 9792]);
    type Tags = { study: string; size?: number; lr?: number; budgetFlops?: number; point?: { stage?: string; size?: number; lr?: number; budgetFlops?: number } };
    const plan = JSON.parse(readFileSync(join(out, 'plan.json'), 'utf8')) as { runs: { runId: string; tags: Tags; lr: number; shared?: { runId: string; tags: Tags }[] }[] };
    for (const r of plan.runs.filter((x) => x.tags.study === 'isoflop')) {
      const picked = scan.picked.find((p) => p.size === r.tags.size)!.lr;
      expect(picked).not.toBeNull();
      expect([r.lr, r.tags.lr]).toEqual([picked, picked]);
    }
    // With two scanned LRs every pick is one of them, so each size's cell at its smallest budget is
    // the scan run at that LR (same configuration and seed): planned as that run, not trained again.
    const isoArms = plan.runs.flatMap((r) => [...(r.tags.study === 'isoflop' ? [{ arm: r.tags, on: r }] : []), ...(r.shared ?? []).filter((a) => a.tags.study === 'isoflop').map((a) => ({ arm: a.tags, on: r }))]);
    expect(isoArms).toHaveLength(6);
    const sharedIso = isoArms.filter((x) => x.on.tags.study === 'grid');
    for (const { arm, on } of sharedIso) {
      expect(on.tags.point).toMatchObject({ stage: 'lr-scan', size: arm.size, lr: arm.lr, budgetFlops: arm.budgetFlops });
    }
    expect(runs.filter((r) => r.startsWith('tiny-study-t-iso-')).length).toBe(6 - sharedIso.length);
    expect(sharedIso.length).toBe(3);
    expect(runs.filter((r) => r.startsWith('tiny-study-t-lr-')).length).toBe(9);
    expect(runs.filter((r) => r.startsWith('tiny-study-t-sched-')).length).toBe(3);
    const confirm = runs.filter((r) => r.startsWith('tiny-study-t-confirm-'));
    // The confirmation needs the surge fit; if the tiny grid could not support it, the study says why.
    if (confirm.length === 0) expect(result.warnings.join('\n')).toMatch(/confirmation skipped/);
    else expect(confirm.length).toBe(2);
    for (const r of runs) expect(existsSync(join(out, 'runs', r, 'summary.json'))).toBe(true);

    const comparison = JSON.parse(readFileSync(join(out, 'fits', 'paper-comparison.json'), 'utf8')) as { rows: { quantity: string; paper: string; status: string }[] };
    // Schedules with seeds in common are paired differences; a schedule trained once is a ranking marked as no claim.
    const schedRows = comparison.rows.filter((r) => /^schedules at equal budget: .* vs .*paired by seed|^schedule ranking at equal budget/.test(r.quantity));
    expect(schedRows.length).toBeGreaterThan(0);
    for (const r of comparison.rows) expect(['resolved', 'not resolved', 'not a claim']).toContain(r.status);
    expect(comparison.rows.find((r) => /exponent a/.test(r.quantity))?.paper).toMatch(/0\.5305/);
    const html = readFileSync(result.reportPath!, 'utf8');
    expect(html).toContain('moelab vs the paper');
    expect(html).toContain('LR per size');
    expect(html).toContain('table-paper-comparison');
    expect(html).toContain('Noise floor');
    expect(readFileSync(join(out, 'report', 'report.md'), 'utf8')).toMatch(/## moelab vs the paper/);

    // Rerun: every run is finished, so nothing trains again (one start line per run log).
    const again = await runStudy(file, { preset: 't', out, execute, bootstrap: 50 });
    expect(again.status).toBe('done');
    for (const r of readdirSync(join(out, 'runs'))) {
      const log = readFileSync(join(out, 'runs', r, 'train.log'), 'utf8');
      expect(log.match(/^start|starting|resum/gim)?.length ?? 0).toBeLessThanOrEqual(1);
    }
  }, 600_000);
});
