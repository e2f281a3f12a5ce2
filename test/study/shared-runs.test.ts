// Arms trained as one run (src/sweep/share.ts): the loader gives each arm the run's results under
// its own tags, so the comparisons read the same numbers as when the baseline was trained once per
// comparison; and a study folder planned before runs were shared resumes without retraining or
// silently reusing anything.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyseComparisons } from '../../src/analysis/comparisons.ts';
import { ConfigError } from '../../src/errors.ts';
import { writeJsonAtomic } from '../../src/io/atomic.ts';
import { loadSweep, type SweepRun } from '../../src/io/load.ts';
import { renderComparisons } from '../../src/report/comparisons.ts';
import { loadStudyFile, mergePlans, planStudy, runStudy, studyStages } from '../../src/study/run.ts';
import type { RunPlan } from '../../src/sweep/plan.ts';
import type { SweepOutcome } from '../../src/sweep/runner.ts';
import { trainingIdentity } from '../../src/sweep/share.ts';
import { readPlan, writePlanFiles } from '../../src/sweep/state.ts';
import { provenance } from '../../src/util/provenance.ts';
import { synthRun } from '../analysis/synthetic-runs.ts';

const tmp = mkdtempSync(join(tmpdir(), 'moelab-shared-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A run folder as the trainer leaves it: config.json, summary.json, metrics.jsonl. */
function writeRun(sweepDir: string, run: SweepRun): void {
  const dir = join(sweepDir, 'runs', run.runId);
  mkdirSync(dir, { recursive: true });
  writeJsonAtomic(join(dir, 'config.json'), run.config);
  writeJsonAtomic(join(dir, 'summary.json'), run.summary);
  writeFileSync(join(dir, 'metrics.jsonl'), '');
}

function writePlan(sweepDir: string, entries: { run: SweepRun; shared?: SweepRun[] }[]): void {
  const runs = entries.map(({ run, shared }, index) => ({
    runId: run.runId,
    index,
    config: run.config.config,
    derived: run.config.derived,
    tags: run.tags,
    ...(shared ? { shared: shared.map((s) => ({ runId: s.runId, tags: s.tags })) } : {}),
  }));
  writeJsonAtomic(join(sweepDir, 'plan.json'), { sweep: 'abl', kind: 'grid', runs });
}

describe('arms trained as one run', () => {
  // Two comparisons whose first arm is the base model (routing "recycle", CLA "CLA 2"), 3 seeds.
  const base = { dModel: 32, numLayers: 2, numHeads: 2, dFf: 64, numExperts: 4, numSharedExperts: 1, topK: 1, seqLen: 64, claShareFactor: 2 };
  const arm = (comparison: string, name: string, seed: number, loss: number, model = base) =>
    synthRun({ runId: `abl-${comparison}-${name.replace(/ /g, '')}-s${seed}`, tags: { study: 'arm', group: 'ablation', comparison, name, seed }, finalValLoss: loss, finalValLossStderr: 0.003, model });
  const seeds = [0, 1, 2];
  const baseLoss = [2.5, 2.62, 2.55];
  const recycle = seeds.map((s) => arm('routing', 'recycle', s, baseLoss[s]));
  const drop = seeds.map((s) => arm('routing', 'drop', s, baseLoss[s] + [0.03, 0.05, 0.02][s], { ...base, overflowPolicy: 'drop' } as typeof base));
  // The same configuration and seed as "recycle" (the config carries its own name, which identity ignores).
  const claOn = seeds.map((s) => arm('cla', 'CLA 2', s, baseLoss[s]));
  const claOff = seeds.map((s) => arm('cla', 'no CLA', s, baseLoss[s] + [0.01, -0.02, 0.04][s], { ...base, claShareFactor: 1 }));

  const duplicated = join(tmp, 'duplicated');
  for (const r of [...recycle, ...drop, ...claOn, ...claOff]) writeRun(duplicated, r);
  writePlan(duplicated, [...recycle, ...drop, ...claOn, ...claOff].map((run) => ({ run })));
  const shared = join(tmp, 'shared');
  for (const r of [...recycle, ...drop, ...claOff]) writeRun(shared, r);
  writePlan(shared, [...recycle.map((run, i) => ({ run, shared: [claOn[i]] })), ...drop.map((run) => ({ run })), ...claOff.map((run) => ({ run }))]);

  it('the loader gives each shared arm the run\'s results under its own id and tags', () => {
    expect(trainingIdentity(claOn[0].config.config)).toBe(trainingIdentity(recycle[0].config.config));
    const sweep = loadSweep(shared);
    expect(sweep.runs).toHaveLength(12);
    expect(sweep.outsidePlan).toEqual([]);
    const on = sweep.runs.find((r) => r.runId === claOn[1].runId)!;
    expect(on.sameRunAs).toBe(recycle[1].runId);
    expect(on.tags).toEqual(claOn[1].tags);
    expect(on.summary).toEqual(sweep.runs.find((r) => r.runId === recycle[1].runId)!.summary);
    expect(sweep.runs.filter((r) => r.sameRunAs).length).toBe(3);
  });

  it('the comparisons give the same numbers as with the baseline trained once per comparison', () => {
    const a = analyseComparisons(loadSweep(duplicated), [], { sensitivity: false });
    const b = analyseComparisons(loadSweep(shared), [], { sensitivity: false });
    expect(b.paired).toEqual(a.paired);
    expect(b.noise).toEqual(a.noise);
    // Golden values: routing = recycle − drop per seed, CLA = CLA 2 − no CLA; the baseline counted once in the pool.
    const routing = b.paired.find((d) => d.comparison === 'ablation: routing')!;
    expect([routing.a, routing.b]).toEqual(['drop', 'recycle']);
    expect(routing.differences.map((d) => Number(d.toFixed(12)))).toEqual([0.03, 0.05, 0.02]);
    // Cells in run-id order: the CLA comparison's arm comes first, the routing arm repeats it.
    expect(b.noise.cells.find((c) => c.cell === 'ablation · routing · recycle')!.duplicateOf).toBe('ablation · cla · CLA 2');
    expect(b.noise.pooledSeedSd!.df).toBe(6);
    const paired = renderComparisons(b).find((s) => s.id === 'paired-comparisons')!;
    expect((paired.notes ?? []).join('\n')).toContain('Same runs under two names (one configuration and seed, trained once; the arms\' differences share it): ablation · routing · recycle = ablation · cla · CLA 2.');
  });
});

describe('a study folder planned before runs were shared', () => {
  const family = { builder: 'hunyuan', seqLen: 32, aspectRatio: 16, headDim: 8, claShareFactor: 2 };
  const baseCfg = { model: { capacityFactor: 1.25, overflowPolicy: 'recycle' }, data: { valTokens: 8192 } };
  const study = (ablationLr: number) => ({
    name: 'resume',
    presets: {
      t: {
        isoflop: { kind: 'isoflop', family, activatedParams: [3240, 5480], budgets: [1e9], base: { ...baseCfg, train: { batchSize: 8, lr: 1e-2, evalEvery: 1000, evalBatches: 2 } } },
        lrBatch: { kind: 'lr-batch', family, activatedParams: 3240, lrs: [1e-2], batchSizes: [8], base: { ...baseCfg, train: { tokens: 4096, schedule: { kind: 'constant', warmupSteps: 2 }, evalEvery: 1000, evalBatches: 2 } } },
        schedules: {
          kind: 'schedules',
          family,
          activatedParams: 3240,
          schedules: { cosine: { kind: 'cosine', warmupFraction: 0.05 } },
          base: { ...baseCfg, train: { tokens: 4096, batchSize: 8, lr: 1e-2, evalEvery: 1000, evalBatches: 2 } },
        },
        // d8, 3 layers: CLA applies; "recycle" and "CLA 2" are both the base model (at a budget of
        // its own: at 1e9 the baseline would be the 5.48k isoFLOP cell, shared too).
        ablations: { activatedParams: 5480, budget: 2e9, batchSize: 8, lr: ablationLr, seeds: [0, 1], comparisons: ['routing', 'cla'] },
      },
    },
  });
  const file = join(tmp, 'resume-study.json');
  const out = join(tmp, 'resume-out');
  const seen: RunPlan[] = [];
  // Records the plan it was asked to train and stops, as an interrupted sweep would.
  const execute = async (dir: string): Promise<SweepOutcome> => {
    const plan = readPlan(join(dir, 'plan.json'));
    seen.push(plan);
    return { total: plan.runs.length, alreadyFinished: [], done: [], diverged: [], failed: [], unfinished: plan.runs.map((r) => r.runId), interrupted: true };
  };
  const id = (comparison: string, p: 0 | 1, seed: number, runs: { runId: string }[]) =>
    runs.find((r) => r.runId.startsWith(`resume-t-ablate-${comparison}-`) && r.runId.includes(`-p${p}-`) && r.runId.endsWith(`-s${seed}`))!.runId;

  it('keeps finished repeats, turns unstarted repeats into shared arms, says so, and refuses a changed config', async () => {
    writeFileSync(file, JSON.stringify(study(1e-2)));
    const loaded = await loadStudyFile(file);
    // The old planner: every stage's runs one after another, nothing shared.
    const { plan: template } = planStudy(loaded, 't', file);
    const oldRuns = studyStages(loaded, 't', file).filter((s) => s.plannedAfter === 'definitions').map((s) => ({ ...template, runs: s.runs }));
    const old = mergePlans(template.sweep, template.description, oldRuns, template);
    writePlanFiles(out, old, { sweep: old.sweep, source: file, definition: { kind: 'study', study: 'resume', preset: 't' }, provenance: provenance() });
    const recycle0 = id('routing', 0, 0, old.runs);
    const claOn0 = id('cla', 0, 0, old.runs);
    const recycle1 = id('routing', 0, 1, old.runs);
    const claOn1 = id('cla', 0, 1, old.runs);
    // Seed 0's baseline was trained twice (once per comparison); seed 1's not yet.
    for (const runId of [recycle0, claOn0]) {
      const dir = join(out, 'runs', runId);
      mkdirSync(dir, { recursive: true });
      writeJsonAtomic(join(dir, 'config.json'), { runId });
      writeJsonAtomic(join(dir, 'summary.json'), { runId, status: 'done' });
    }

    const lines: string[] = [];
    const result = await runStudy(file, { preset: 't', out, execute, log: (l) => lines.push(l) });
    expect(result.status).toBe('interrupted');
    const plan = readPlan(join(out, 'plan.json'));
    expect(seen.at(-1)).toEqual(plan);
    const ids = plan.runs.map((r) => r.runId);
    // Finished: both kept (their results are used). Unstarted repeat: planned as the routing run.
    expect(ids).toContain(recycle0);
    expect(ids).toContain(claOn0);
    expect(ids).not.toContain(claOn1);
    expect(plan.runs.find((r) => r.runId === recycle1)!.shared?.map((a) => a.runId)).toEqual([claOn1]);
    expect(plan.runs).toHaveLength(old.runs.length - 1);
    // Every unchanged run keeps its config; no two runs still to train repeat each other.
    const before = new Map(old.runs.map((r) => [r.runId, r.config]));
    for (const r of plan.runs) expect(r.config).toEqual(before.get(r.runId));
    const toTrain = plan.runs.filter((r) => r.runId !== recycle0 && r.runId !== claOn0);
    expect(new Set(toTrain.map((r) => trainingIdentity(r.config))).size).toBe(toTrain.length);
    expect(lines).toContain(
      `plan: 1 run(s) of the previous plan train the same configuration and seed as another run and had not started; each is now that run under its own tags: ${claOn1} = ${recycle1}`,
    );
    expect(lines).toContain(`plan: 1 started run(s) repeat another run's configuration and seed exactly; kept, their results are used: ${recycle0} = ${claOn0}`);

    // Again: the same plan, nothing newly dropped.
    const again: string[] = [];
    await runStudy(file, { preset: 't', out, execute, log: (l) => again.push(l) });
    expect(readPlan(join(out, 'plan.json')).runs).toEqual(plan.runs);
    expect(again.filter((l) => /had not started/.test(l))).toEqual([]);

    // Another ablation LR: the finished runs were made from another config, so the plan is refused.
    writeFileSync(file, JSON.stringify(study(2e-2)));
    const refused = runStudy(file, { preset: 't', out, execute });
    await expect(refused).rejects.toThrow(ConfigError);
    await expect(runStudy(file, { preset: 't', out, execute })).rejects.toThrow(/already started .* with a different config/);
  });
});
