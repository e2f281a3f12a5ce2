// Each distinct (configuration, seed) planned once (src/sweep/share.ts): the identity that decides
// "the same run", the folding of repeated arms into one run, and the studies' plans.
import { describe, expect, it } from 'vitest';
import { PlanFileSchema } from '../../src/config/plan-schema.ts';
import { RunConfigSchema, type UserRunConfig } from '../../src/config/schema.ts';
import type { RunTags } from '../../src/io/tags.ts';
import { loadStudyFile, planStudy, studyDryRun, studyStages } from '../../src/study/run.ts';
import { totalsOf, type PlanRun, type RunPlan } from '../../src/sweep/plan.ts';
import { describeSharing, shareRepeatedRuns, trainingIdentity } from '../../src/sweep/share.ts';

const MODEL = { dModel: 16, numLayers: 2, numHeads: 2, dFf: 32, numExperts: 4, numSharedExperts: 1, topK: 1, seqLen: 8, claShareFactor: 2 };
const config = (name: string, train: Partial<UserRunConfig['train']> = {}, seed = 0): UserRunConfig => ({
  name,
  seed,
  model: MODEL,
  train: { tokens: 800, batchSize: 4, lr: 1e-2, ...train },
});

describe('trainingIdentity', () => {
  it('ignores the name, fills defaults, and keeps the seed', () => {
    const a = config('a');
    expect(trainingIdentity(config('b'))).toBe(trainingIdentity(a));
    // config.json spells every default out; the plan entry omits them.
    expect(trainingIdentity(RunConfigSchema.parse(a))).toBe(trainingIdentity(a));
    expect(trainingIdentity(config('a', {}, 1))).not.toBe(trainingIdentity(a));
  });

  it("treats the expert multiplier 1 as 'same' and LRs equal to 12 digits as equal; nothing coarser", () => {
    // The quick demo's expert-LR ×1 and control ×1 configs (docs/BENCHMARKS.md "The paper reproduction, quick preset").
    const expert = config('elr', { lr: 0.024087482817679196, expertLr: { mode: 'multiplier', multiplier: 1 } });
    const control = config('lrc', { lr: Number((0.024087482817679196 * 1).toPrecision(12)), expertLr: { mode: 'same' } });
    expect(control.train.lr).toBe(0.0240874828177);
    expect(trainingIdentity(expert)).toBe(trainingIdentity(control));
    expect(trainingIdentity(expert)).toBe(trainingIdentity(config('plain', { lr: 0.024087482817679196 })));
    expect(trainingIdentity(config('x', { expertLr: { mode: 'multiplier', multiplier: 0.5 } }))).not.toBe(trainingIdentity(config('x')));
    expect(trainingIdentity(config('x', { lr: 0.0240874828 }))).not.toBe(trainingIdentity(control));
    expect(trainingIdentity(config('x', { lr: 1e-2 * (1 + 1e-9) }))).not.toBe(trainingIdentity(config('x')));
    // The model counts: another KV-head count is another run.
    expect(trainingIdentity({ ...config('x'), model: { ...MODEL, numKvHeads: 1 } })).not.toBe(trainingIdentity({ ...config('x'), model: { ...MODEL, numKvHeads: 2 } }));
  });
});

function planOf(runs: { id: string; config: UserRunConfig; tags: RunTags }[]): RunPlan {
  const entries = runs.map(
    (r, index): PlanRun => ({
      runId: r.id,
      index,
      config: { ...r.config, name: r.id },
      derived: { totalParams: 1, activatedParams: 1, nonEmbeddingParams: 1, activatedNonEmbeddingParams: 1, flopsPerToken: 10, tokensPerStep: 32, steps: 25, tokens: 800, computeFlops: 8000 },
      estSeconds: null,
      kind: 'grid',
      seed: r.config.seed ?? 0,
      lr: r.config.train.lr,
      batchSize: 4,
      batchTokens: 32,
      schedule: 'cosine',
      tokensPerParam: 800,
      formulaFlops: 8000,
      tags: r.tags,
    }),
  );
  return { sweep: 't', kind: 'grid', createdAt: '', provenance: {} as RunPlan['provenance'], computeFormula: 'exact', computeParams: 'activated', estimate: null, runs: entries, skipped: [], totals: totalsOf(entries) };
}

const arm = (comparison: string, name: string, seed: number): RunTags => ({ study: 'arm', group: 'ablation', comparison, name, seed });
// Two comparisons whose first arms are the base model, 2 seeds each.
const ablations = () =>
  planOf(
    [0, 1].flatMap((seed) => [
      { id: `routing-recycle-s${seed}`, config: config('', {}, seed), tags: arm('routing', 'recycle', seed) },
      { id: `routing-drop-s${seed}`, config: { ...config('', {}, seed), model: { ...MODEL, overflowPolicy: 'drop' } }, tags: arm('routing', 'drop', seed) },
      { id: `cla-on-s${seed}`, config: config('', {}, seed), tags: arm('cla', 'CLA 2', seed) },
      { id: `cla-off-s${seed}`, config: { ...config('', {}, seed), model: { ...MODEL, claShareFactor: 1 } }, tags: arm('cla', 'no CLA', seed) },
    ]),
  );

describe('shareRepeatedRuns', () => {
  it('plans each (configuration, seed) once; the other arms are listed, with their tags, on the first run', () => {
    const { plan, shared } = shareRepeatedRuns(ablations());
    expect(plan.runs.map((r) => r.runId)).toEqual(['routing-recycle-s0', 'routing-drop-s0', 'cla-off-s0', 'routing-recycle-s1', 'routing-drop-s1', 'cla-off-s1']);
    expect(plan.runs.map((r) => r.index)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(plan.totals.runs).toBe(6);
    expect(plan.runs[0].shared).toEqual([{ runId: 'cla-on-s0', tags: arm('cla', 'CLA 2', 0) }]);
    expect(plan.runs[3].shared).toEqual([{ runId: 'cla-on-s1', tags: arm('cla', 'CLA 2', 1) }]);
    expect(shared).toEqual([
      { runId: 'cla-on-s0', sameAs: 'routing-recycle-s0' },
      { runId: 'cla-on-s1', sameAs: 'routing-recycle-s1' },
    ]);
    // Seeds stay apart: no run stands for another seed's arm.
    for (const r of plan.runs) for (const a of r.shared ?? []) expect(a.tags.seed).toBe(r.seed);
    expect(new Set(plan.runs.map((r) => trainingIdentity(r.config))).size).toBe(plan.runs.length);
    expect(plan.runs.flatMap((r) => [r.runId, ...(r.shared ?? []).map((a) => a.runId)]).sort()).toEqual(ablations().runs.map((r) => r.runId).sort());
    // Idempotent: sharing a shared plan changes nothing.
    expect(shareRepeatedRuns(plan).plan).toEqual(plan);
  });

  it('keeps every started run of a group (its results are reused); an unstarted repeat joins the first one kept', () => {
    const started = new Set(['cla-on-s0', 'routing-recycle-s0', 'cla-on-s1']);
    const { plan, shared } = shareRepeatedRuns(ablations(), { keep: (id) => started.has(id) });
    const ids = plan.runs.map((r) => r.runId);
    // Seed 0: both started, both stay. Seed 1: only the CLA arm started, so it trains and the routing arm reads it.
    expect(ids).toEqual(['routing-recycle-s0', 'routing-drop-s0', 'cla-on-s0', 'cla-off-s0', 'routing-drop-s1', 'cla-on-s1', 'cla-off-s1']);
    expect(plan.runs.find((r) => r.runId === 'cla-on-s1')!.shared).toEqual([{ runId: 'routing-recycle-s1', tags: arm('routing', 'recycle', 1) }]);
    expect(plan.runs.find((r) => r.runId === 'routing-recycle-s0')!.shared).toBeUndefined();
    expect(shared).toEqual([{ runId: 'routing-recycle-s1', sameAs: 'cla-on-s1' }]);
  });

  it('never shares across scopes', () => {
    const { plan } = shareRepeatedRuns(ablations(), { scope: (r) => r.tags.study === 'arm' ? String(r.tags.comparison) : '' });
    expect(plan.runs).toHaveLength(8);
  });

  it('says what changed against the previous plan', () => {
    const old = ablations();
    const started = new Set(['routing-recycle-s0', 'cla-on-s0']);
    const { plan } = shareRepeatedRuns(old, { keep: (id) => started.has(id) });
    expect(describeSharing(old, plan)).toEqual([
      'plan: 1 run(s) of the previous plan train the same configuration and seed as another run and had not started; each is now that run under its own tags: cla-on-s1 = routing-recycle-s1',
      "plan: 1 started run(s) repeat another run's configuration and seed exactly; kept, their results are used: routing-recycle-s0 = cla-on-s0",
    ]);
    // Planning again from the new plan: nothing new is dropped.
    expect(describeSharing(plan, plan).filter((l) => /had not started/.test(l))).toEqual([]);
    // An arm shared before that trains on its own now (its configuration changed) is named.
    const changed = shareRepeatedRuns(planOf(old.runs.map((r) => ({ id: r.runId, config: r.runId === 'cla-on-s1' ? config('', { lr: 2e-2 }, 1) : r.config, tags: r.tags }))));
    expect(describeSharing(plan, changed.plan)).toContainEqual(expect.stringMatching(/^plan: 1 arm\(s\) shared in the previous plan now train as runs of their own .*: cla-on-s1$/));
  });

  it('plan.json refuses an arm id that is also a run id', () => {
    const { plan } = shareRepeatedRuns(ablations());
    const bad = { ...plan, runs: plan.runs.map((r, i) => (i === 1 ? { ...r, shared: [{ runId: 'routing-recycle-s0', tags: r.tags }] } : r)) };
    expect(PlanFileSchema.safeParse(JSON.parse(JSON.stringify(plan))).success).toBe(true);
    const r = PlanFileSchema.safeParse(JSON.parse(JSON.stringify(bad)));
    expect(r.success).toBe(false);
    expect(r.error?.issues[0].path).toEqual(['runs', 1, 'shared', 0, 'runId']);
  });
});

describe('experiments/hunyuan-small.ts: no exact repeats', () => {
  it('every preset\'s first stage and dry run train each (configuration, seed) once, and every arm is still there', async () => {
    const FILE = 'experiments/hunyuan-small.ts';
    const study = await loadStudyFile(FILE);
    for (const preset of ['quick', 'standard']) {
      const { plan } = planStudy(study, preset, FILE, { corpusCheck: false });
      expect(new Set(plan.runs.map((r) => trainingIdentity(r.config))).size, preset).toBe(plan.runs.length);
      const dry = studyDryRun(study, preset, FILE);
      const all = studyStages(study, preset, FILE).flatMap((s) => s.runs);
      // Every planned arm is a run or listed on one, once.
      expect(dry.runs.flatMap((r) => [r.runId, ...r.shared.map((a) => a.runId)]).sort()).toEqual(all.map((r) => r.runId).sort());
      const byId = new Map(all.map((r) => [r.runId, r]));
      for (const r of dry.runs) {
        for (const a of r.shared) {
          expect(trainingIdentity(byId.get(a.runId)!.config), `${a.runId} = ${r.runId}`).toBe(trainingIdentity(byId.get(r.runId)!.config));
          expect(byId.get(a.runId)!.seed).toBe(r.seed);
        }
      }
      // Ablation baselines (3 comparisons share one) and the ×1 arms: 2 + 1 per seed.
      const seeds = study.presets[preset].ablations!.seeds.length;
      expect(dry.totals.sharedArms, preset).toBe(2 * seeds + study.presets[preset].expertLr!.seeds.length);
    }
  });
});
