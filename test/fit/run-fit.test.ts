// From data source to fit: synthetic sweep folders written here (config.json, summary.json,
// metrics.jsonl in the results/ layout) through isoflop, surge, envelope and schedule fits, and the
// Chinchilla CSV through the column options of the CLI example.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunConfigSchema } from '../../src/config/schema.ts';
import { parseConfig } from '../../src/config/validate.ts';
import {
  CHINCHILLA_CSV,
  CHINCHILLA_PAPER_UNROUNDED,
  chinchillaLoss,
  epsOpt,
  fitRuns,
  fitScheduleRuns,
  fitTable,
  parseCsv,
  readCsv,
  type IsoflopFit,
  type SurgeFit,
} from '../../src/fit/index.ts';
import { ConfigError } from '../../src/errors.ts';
import type { DerivedCounts, MetricRow, RunConfigRecord, RunSummary } from '../../src/io/results.ts';
import { runPaths, sweepPaths } from '../../src/io/results.ts';
import { loadSweep } from '../../src/io/load.ts';

const loadRuns = (dir: string) => loadSweep(dir).runs;

interface RunSpec {
  id: string;
  N: number;
  tokens: number;
  lr?: number;
  batchSize?: number;
  budget?: number;
  loss: number | null; // null: unfinished
  status?: 'done' | 'diverged';
  metrics?: Partial<MetricRow>[];
  /** Study kind of the run's tags (config.json `tags.study`). */
  study?: 'isoflop' | 'lr-batch';
  /** train.schedule (default: the schema's cosine). */
  schedule?: Record<string, unknown>;
}

/** Write a sweep folder in the results/ layout with the given runs. */
function writeSweep(runs: RunSpec[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'moelab-fit-sweep-'));
  for (const r of runs) {
    const rp = runPaths(sweepPaths(dir).run(r.id));
    mkdirSync(rp.dir, { recursive: true });
    const batchSize = r.batchSize ?? 8;
    const config = parseConfig(
      RunConfigSchema,
      { name: r.id, model: { dModel: 32, numLayers: 1, numHeads: 2, dFf: 64 }, train: { tokens: Math.max(Math.round(r.tokens), 1024), batchSize, lr: r.lr ?? 1e-3, ...(r.schedule ? { schedule: r.schedule } : {}) } },
      r.id,
    );
    const tokensPerStep = batchSize * 128;
    const derived: DerivedCounts = {
      totalParams: r.N * 4,
      activatedParams: r.N,
      nonEmbeddingParams: r.N * 3,
      activatedNonEmbeddingParams: r.N * 0.9,
      flopsPerToken: 6 * r.N,
      tokensPerStep,
      steps: Math.floor(r.tokens / tokensPerStep),
      tokens: r.tokens,
      computeFlops: 6 * r.N * r.tokens * (1 + 0.003 * Math.sin(r.N)), // not exactly on the budget
    };
    const record = {
      runId: r.id,
      config,
      derived,
      backend: 'cpu',
      provenance: {},
      ...(r.budget ? { budgetFlops: r.budget } : {}),
      ...(r.study === 'isoflop' ? { tags: { study: 'isoflop', budgetFlops: r.budget ?? derived.computeFlops, size: r.N, seed: 0 } } : {}),
      ...(r.study === 'lr-batch' ? { tags: { study: 'lr-batch', lr: r.lr ?? 1e-3, batchTokens: tokensPerStep, ...(r.budget ? { budgetFlops: r.budget } : {}), seed: 0 } } : {}),
    } as unknown as RunConfigRecord;
    writeFileSync(rp.config, JSON.stringify(record));
    if (r.loss !== null) {
      const summary = { runId: r.id, status: r.status ?? 'done', steps: derived.steps, tokens: r.tokens, computeFlops: derived.computeFlops, finalTrainLoss: r.loss, finalValLoss: r.loss, bestValLoss: r.loss, wallSeconds: 1 } as unknown as RunSummary;
      writeFileSync(rp.summary, JSON.stringify(summary));
    }
    if (r.metrics) writeFileSync(rp.metrics, r.metrics.map((m) => JSON.stringify(m)).join('\n') + '\n');
  }
  return dir;
}

describe('fitRuns', () => {
  it('isoflop: groups runs by recorded budget (else computeFlops to 2 s.f.) and drops unfinished and diverged runs', async () => {
    const p = CHINCHILLA_PAPER_UNROUNDED;
    const runs: RunSpec[] = [];
    for (const C of [1e15, 1e16, 1e17]) {
      for (let k = -3; k <= 3; k++) {
        const N = Math.sqrt(C / 6 / 20) * Math.pow(10, k / 4);
        const tokens = Math.round(C / (6 * N));
        runs.push({ id: `iso-${C}-${k}`, N, tokens, budget: C === 1e17 ? undefined : C, loss: chinchillaLoss(p, N, tokens) });
      }
    }
    runs.push({ id: 'iso-unfinished', N: 1e6, tokens: 1e9, loss: null });
    runs.push({ id: 'iso-diverged', N: 2e6, tokens: 1e9, loss: 9, status: 'diverged' });
    const fit = (await fitRuns(loadRuns(writeSweep(runs)), { kind: 'isoflop', bootstrap: 50 })) as IsoflopFit;
    expect(fit.budgets.map((b) => b.budget)).toEqual([1e15, 1e16, 1e17]);
    expect(fit.data.dropped).toEqual([
      { row: 'iso-diverged', reason: 'diverged' },
      { row: 'iso-unfinished', reason: 'not finished (no summary.json)' },
    ]);
    expect(fit.data.n).toBe(21);
    expect(fit.data.rowsGiven).toBe(23);
    expect(fit.data.columns.N).toBe('config.derived.activatedParams');
    expect(fit.params.a.value).toBeCloseTo(0.4565, 1);
    expect(fit.budgets[0].dFrom).toBe('runs');
  });

  it('study keeps the runs of one study kind (errors name the request field)', async () => {
    const p = CHINCHILLA_PAPER_UNROUNDED;
    const runs: RunSpec[] = [];
    for (const C of [1e15, 1e16]) {
      for (let k = -2; k <= 2; k++) {
        const N = Math.sqrt(C / 6 / 20) * Math.pow(10, k / 4);
        runs.push({ id: `iso-${C}-${k}`, N, tokens: Math.round(C / (6 * N)), budget: C, loss: chinchillaLoss(p, N, C / (6 * N)), study: 'isoflop' });
      }
    }
    // An LR-grid run at a budget of its own (one size): the isoFLOP fit refuses it unless filtered.
    runs.push({ id: 'lr-0', N: 1e6, tokens: 1e8, budget: 3e15, loss: 4, study: 'lr-batch' });
    const all = loadRuns(writeSweep(runs));
    await expect(fitRuns(all, { kind: 'isoflop', bootstrap: 0 })).rejects.toThrow(/budget 3\.00e15 FLOPs has 1 distinct model size/);
    const fit = await fitRuns(all, { kind: 'isoflop', bootstrap: 0, study: 'isoflop' });
    expect(fit.data.n).toBe(10);
    await expect(fitRuns(all, { kind: 'isoflop', study: 'schedules' })).rejects.toThrow(/study: no run has this study kind \(got "schedules"\)\. Use one of the study kinds of these runs: isoflop, lr-batch/);
  });

  it('surge: batch = tokensPerStep, lr from the run config', async () => {
    const runs: RunSpec[] = [];
    for (const batchSize of [4, 16, 64, 256]) {
      const B = batchSize * 128;
      const best = epsOpt(B, 2e-3, 8192);
      for (let k = -2; k <= 2; k++) {
        const lr = best * Math.exp(0.6 * k + 0.1);
        runs.push({ id: `lr-bs${batchSize}-${k}`, N: 1e6, tokens: 1e7, batchSize, lr, loss: 3 + 0.05 * Math.log(lr / best) ** 2 });
      }
    }
    const fit = (await fitRuns(loadRuns(writeSweep(runs)), { kind: 'surge', bootstrap: 0, expertLr: { numExperts: 16, topK: 1, batchTokens: 2048 } })) as SurgeFit;
    expect(fit.params.Bnoise.value / 8192).toBeCloseTo(1, 6);
    expect(fit.params.epsMax.value / 2e-3).toBeCloseTo(1, 6);
    expect(fit.derived.expertLrRatio.value).toBeCloseTo((4 * 1.25) / 16.25, 6); // u = 0.25, n = 16
    expect(fit.data.columns.batchTokens).toBe('config.derived.tokensPerStep');
  });

  describe('surge: the method follows the runs', () => {
    // An LR × batch grid whose train loss after n updates is 2.35·(S/n)^0.3 with
    // S = 150·(1 + 600/B)·(1 + 0.2·ln²(lr/ε_opt(B))), logged every 10 steps as the mean since the last
    // row; the final loss follows the surge law (ε_max 3e-3, B_noise 1024) for the final-loss method.
    const grid = (schedule: (i: number) => Record<string, unknown> | undefined): RunSpec[] => {
      const runs: RunSpec[] = [];
      let i = 0;
      for (const batchSize of [2, 8, 32]) {
        const B = batchSize * 128;
        for (const lr of [7e-4, 1.2e-3, 2.2e-3, 4e-3, 7e-3]) {
          const S = 150 * (1 + 600 / B) * (1 + 0.2 * Math.log(lr / epsOpt(B, 3e-3, 600)) ** 2);
          const total = Math.ceil(2.5 * 150 * (1 + 600 / B));
          const f = (n: number) => (n === 0 ? 5 : Math.min(5, 2.35 * (S / n) ** 0.3));
          const metrics: Partial<MetricRow>[] = [];
          for (let s = 10; s <= total + 9; s += 10) {
            let sum = 0;
            for (let k = s - 9; k <= s; k++) sum += f(k - 1);
            metrics.push({ step: s, tokens: s * B, trainLoss: sum / 10 });
          }
          const best = epsOpt(B, 3e-3, 1024);
          runs.push({ id: `lr-bs${batchSize}-${lr}`, N: 1e6, tokens: total * B, batchSize, lr, loss: 3 + 0.05 * Math.log(lr / best) ** 2, metrics, schedule: schedule(i++) });
        }
      }
      return runs;
    };
    const constant = { kind: 'constant', warmupSteps: 5 };

    it('steps-to-target for constant-LR runs with logged train loss (auto), B_noise from S(B)', async () => {
      // Plus a run stuck on the plateau (never reaches the target) and an unfinished one.
      const stuck = { id: 'lr-stuck', N: 1e6, tokens: 200 * 1024, batchSize: 8, lr: 1e-2, loss: 3, metrics: [10, 20, 30].map((s) => ({ step: s, tokens: s * 1024, trainLoss: 3 })), schedule: constant };
      const runs = [...grid(() => constant), stuck, { id: 'lr-unfinished', N: 1e6, tokens: 1e5, batchSize: 8, lr: 1e-3, loss: null, schedule: constant }];
      const fit = (await fitRuns(loadRuns(writeSweep(runs)), { kind: 'surge', bootstrap: 0, targetLoss: 2.35 })) as SurgeFit;
      expect(fit.method).toBe('steps-to-target');
      expect(fit.targetLoss).toBe(2.35);
      expect(Math.abs(fit.params.Bnoise.value / 600 - 1)).toBeLessThan(0.03);
      expect(Math.abs(fit.params.epsMax.value / 3e-3 - 1)).toBeLessThan(0.03);
      expect(fit.data.columns).toEqual({ batchTokens: 'config.derived.tokensPerStep', lr: 'config.config.train.lr', curve: 'metrics.jsonl step, tokens, trainLoss' });
      expect(fit.data.dropped).toEqual([
        { row: 'lr-unfinished', reason: 'not finished (no summary.json)' },
        { row: 'lr-stuck', reason: 'never reached the target loss 2.35' },
      ]);
      expect(fit.data.rowsGiven).toBe(17);
      expect(fit.notes.join(' ')).toMatch(/Method steps-to-target \(auto: every run has a constant LR schedule and a logged train-loss curve\)/);
    });

    it('final-loss when a run decays its LR (auto), naming it; --target-loss then refused', async () => {
      const runs = loadRuns(writeSweep(grid((i) => (i === 4 ? undefined : constant))));
      const fit = (await fitRuns(runs, { kind: 'surge', bootstrap: 0 })) as SurgeFit;
      expect(fit.method).toBe('final-loss');
      expect(Math.abs(fit.params.Bnoise.value / 1024 - 1)).toBeLessThan(1e-4);
      expect(fit.notes.join(' ')).toMatch(/Method final-loss \(auto: run lr-bs2-0\.007 uses a cosine schedule, and steps-to-target needs constant-LR runs\)/);
      await expect(fitRuns(runs, { kind: 'surge', targetLoss: 2.35 })).rejects.toThrow(ConfigError);
      await expect(fitRuns(runs, { kind: 'surge', targetLoss: 2.35 })).rejects.toThrow(/targetLoss: applies to the steps-to-target method only \(got 2\.35\)\. Drop targetLoss, or set surgeMethod to steps-to-target/);
      // Asked for explicitly, steps-to-target runs anyway and flags the decaying run.
      const forced = (await fitRuns(runs, { kind: 'surge', bootstrap: 0, surgeMethod: 'steps-to-target', targetLoss: 2.35 })) as SurgeFit;
      expect(forced.method).toBe('steps-to-target');
      expect(forced.notes.join(' ')).toMatch(/Runs lr-bs2-0\.007 do not use a constant LR schedule/);
      // Asked for final-loss on constant-LR runs: final-loss.
      const asked = (await fitRuns(loadRuns(writeSweep(grid(() => constant))), { kind: 'surge', bootstrap: 0, surgeMethod: 'final-loss' })) as SurgeFit;
      expect(asked.method).toBe('final-loss');
    });

    it('a CSV cannot do steps-to-target', async () => {
      const csv = parseCsv('batchTokens,lr,loss\n256,1e-3,3\n', 'grid.csv');
      await expect(fitTable(csv, { kind: 'surge', surgeMethod: 'steps-to-target' })).rejects.toThrow(/surgeMethod: needs training curves \(got "steps-to-target"\)\. Steps-to-target reads training curves from run records: fit the runs of a sweep/);
    });
  });

  it('envelope: curves from metrics.jsonl (computeFlops, valLoss, tokens)', async () => {
    const p = CHINCHILLA_PAPER_UNROUNDED;
    const runs: RunSpec[] = [];
    for (let i = 0; i < 8; i++) {
      const N = 1e6 * Math.pow(10, i / 4);
      const metrics = Array.from({ length: 40 }, (_, j) => {
        const tokens = N * Math.pow(10, (j / 39) * 3);
        return { step: j + 1, tokens, computeFlops: 6 * N * tokens, valLoss: chinchillaLoss(p, N, tokens) };
      });
      runs.push({ id: `env-${i}`, N, tokens: metrics.at(-1)?.tokens as number, loss: 3, metrics });
    }
    const fit = await fitRuns(loadRuns(writeSweep(runs)), { kind: 'envelope', bootstrap: 0 });
    expect(fit.kind).toBe('envelope');
    expect(fit.params.a.value).toBeCloseTo(0.4565, 1);
    expect(fit.data.columns.C).toBe('metrics.computeFlops');
  });

  it('schedule: fits two runs and predicts a third from their metrics.jsonl', () => {
    const lrAt = (shape: string, s: number) => (s <= 100 ? (1e-3 * s) / 100 : shape === 'constant' ? 1e-3 : shape === 'cosine' ? 1e-4 + 0.45e-3 * (1 + Math.cos((Math.PI * (s - 100)) / 1900)) : s < 1600 ? 1e-3 : 1e-3 - (0.9e-3 * (s - 1600)) / 400);
    const runs: RunSpec[] = ['constant', 'cosine', 'wsd'].map((shape) => {
      // Losses from the Tissue law with S1 and the momentum S2 computed step by step (λ = 0.999).
      let S1 = 0;
      let m = 0;
      let S2 = 0;
      let prev = 0;
      const metrics: Partial<MetricRow>[] = [];
      for (let s = 1; s <= 2000; s++) {
        const lr = lrAt(shape, s);
        S1 += lr;
        m = 0.999 * m + (prev - lr);
        S2 += m;
        prev = lr;
        if (s % 20 === 0) metrics.push({ step: s, learningRate: lr, trainLoss: 2.2 + 0.5 * Math.pow(S1, -0.5) - 0.4 * S2 });
      }
      return { id: `sched-${shape}`, N: 1e6, tokens: 1e7, loss: 3, metrics };
    });
    const fit = fitScheduleRuns(loadRuns(writeSweep(runs)), ['sched-constant', 'sched-cosine'], ['sched-wsd'], { kind: 'schedule', law: 'tissue', bootstrap: 0 });
    expect(fit.params.C.value).toBeCloseTo(0.4, 4);
    expect(fit.curves.find((c) => c.role === 'predict')?.meanAbsRelError).toBeLessThan(1e-6);
    expect(() => fitScheduleRuns(loadRuns(writeSweep(runs)), ['nope'], [], { kind: 'schedule', law: 'tissue' })).toThrow(/fitIds: no such run \(got "nope"\)/);
  });
});

describe('fitTable', () => {
  it('runs the issue example on the Chinchilla CSV column options (coarse grid for speed)', async () => {
    const fit = await fitTable(readCsv(CHINCHILLA_CSV), {
      kind: 'parametric',
      columns: { N: 'Model Size', C: 'Training FLOP', loss: 'loss' },
      tokensFromFlops: 6,
      dropHighest: 5,
      grid: 'coarse',
      bootstrap: 0,
    });
    expect(fit.data.n).toBe(240);
    expect(fit.data.rowsGiven).toBe(245);
    expect(fit.data.dropped).toHaveLength(5);
    expect(fit.data.dropped.map((d) => d.reason)[0]).toMatch(/one of the 5 highest losses/);
    expect(fit.data.columns).toMatchObject({ N: 'Model Size', C: 'Training FLOP', loss: 'loss', D: 'Training FLOP / (6·Model Size)' });
    expect(fit.params.E.value).toBeCloseTo(1.8172, 3);
  });

  it('names a missing column and the flag that chose it', async () => {
    await expect(fitTable(readCsv(CHINCHILLA_CSV), { kind: 'parametric', columns: { N: 'Model Size', loss: 'loss' } })).rejects.toThrow(/columns\.D: no such column \(got "D"\)/);
    await expect(fitTable(parseCsv('N,D,loss\n1,2,3\n', 'tiny.csv'), { kind: 'parametric', dropHighest: 3 })).rejects.toThrow(/dropHighest: out of range \(got 3\)/);
  });
});
