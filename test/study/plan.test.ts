// The study's plans as data: every stage's runs, tags, seeds and arms, the presets' designs, the
// per-size LR rule on synthetic scans, and `moelab reproduce --dry-run --json`.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { resolveModelConfig } from '../../src/config/resolve.ts';
import { ModelConfigSchema } from '../../src/config/schema.ts';
import { flopsPerToken } from '../../src/model/count.ts';
import { RunTagsSchema } from '../../src/io/tags.ts';
import { estimateSeconds, fitPlanToCorpus, isoflopPlan, loadStudyFile, studyParts, LR_RULE, pickLrPerSize, planStudy, scanExtension, studyDesignSection, studyDryRun, studyStages, type LrScanResult, type StudyDryRun } from '../../src/study/run.ts';
import type { PlanRun } from '../../src/sweep/plan.ts';
import { corpusPasses } from '../../src/sweep/prepare.ts';

const FILE = 'experiments/hunyuan-small.ts';
const study = await loadStudyFile(FILE);
const cache = new Map<string, ReturnType<typeof studyStages>>();
const stagesOf = (preset: string) => cache.get(preset) ?? cache.set(preset, studyStages(study, preset, FILE)).get(preset)!;
const runsOf = (preset: string, stage: string) => stagesOf(preset).find((s) => s.stage === stage)?.runs ?? [];
const exactFlops = (r: PlanRun) => {
  const m = resolveModelConfig(ModelConfigSchema.parse(r.config.model));
  return flopsPerToken(m, { seqLen: m.seqLen }) * r.derived.tokens;
};

describe('the per-size LR rule (pickLrPerSize)', () => {
  // Synthetic scans: loss = 2 + c·(ln lr − ln lr*)² per size, lr* unknown to the rule.
  const lrs = [2.5e-3, 5e-3, 1e-2, 2e-2, 4e-2];
  const quadratic = (size: number, best: number, c: number, seeds = [0, 1, 2], noise = (_s: number) => 0): LrScanResult[] =>
    lrs.flatMap((lr) => seeds.map((seed) => ({ size, lr, seed, finalValLoss: 2 + c * Math.log(lr / best) ** 2 + noise(seed) })));

  it('recovers each size\'s optimum between grid points from a loss quadratic in log LR', () => {
    const truth = new Map([
      [1000, 1.3e-2],
      [5000, 6.1e-3],
      [20000, 3.7e-3],
    ]);
    const picked = pickLrPerSize([...truth].flatMap(([size, best]) => quadratic(size, best, 0.05)));
    expect(picked.map((p) => p.size)).toEqual([1000, 5000, 20000]);
    for (const p of picked) {
      expect(p.edge).toBeNull();
      expect(p.lr! / truth.get(p.size)!).toBeCloseTo(1, 2);
      // The vertex lies between the best scanned LR's neighbours.
      expect(p.lr!).toBeGreaterThan(lrs[lrs.indexOf(p.best!.lr) - 1]);
      expect(p.lr!).toBeLessThan(lrs[lrs.indexOf(p.best!.lr) + 1]);
    }
  });

  it('averages seeds: zero-mean seed noise does not move the pick', () => {
    const noise = (s: number) => [0.02, -0.02, 0][s];
    const [p] = pickLrPerSize(quadratic(3000, 7e-3, 0.05, [0, 1, 2], noise));
    expect(p.lr! / 7e-3).toBeCloseTo(1, 2);
    expect(p.means.find((m) => m.lr === 5e-3)!.meanLoss).toBeCloseTo(2 + 0.05 * Math.log(5 / 7) ** 2, 10);
  });

  it('flags an optimum beyond the scan and keeps the edge LR', () => {
    const [low] = pickLrPerSize(quadratic(1, 1e-3, 0.05));
    expect([low.lr, low.edge]).toEqual([2.5e-3, 'low']);
    const [high] = pickLrPerSize(quadratic(1, 1e-1, 0.05));
    expect([high.lr, high.edge]).toEqual([4e-2, 'high']);
  });

  it('excludes an LR where a seed diverged, and gives no LR when none finished', () => {
    const results = quadratic(10, 1e-2, 0.05).map((r) => (r.lr === 1e-2 && r.seed === 1 ? { ...r, finalValLoss: undefined } : r));
    const [p] = pickLrPerSize(results);
    expect(p.means.find((m) => m.lr === 1e-2)!.meanLoss).toBe(Infinity);
    expect([5e-3, 2e-2]).toContain(p.best!.lr);
    const [none] = pickLrPerSize([{ size: 7, lr: 1e-2, seed: 0 }, { size: 7, lr: 2e-2, seed: 0, finalValLoss: NaN }]);
    expect([none.lr, none.best]).toEqual([null, null]);
  });
});

describe('the LR scan\'s edge extension (scanExtension)', () => {
  const grid = [2.5e-3, 5e-3, 1e-2, 2e-2, 4e-2];
  const scan = (size: number, best: number, lrs: number[], diverged: number[] = []): LrScanResult[] =>
    lrs.map((lr) => ({ size, lr, seed: 0, finalValLoss: diverged.includes(lr) ? undefined : 2 + 0.05 * Math.log(lr / best) ** 2 }));

  it('walks an optimum beyond either edge back inside, one grid ratio at a time, and finds it', () => {
    for (const [truth, expectedRounds] of [[0.11, 2], [6e-4, 3]]) {
      let lrs = [...grid];
      let rounds = 0;
      for (;;) {
        const more = scanExtension(pickLrPerSize(scan(1, truth, lrs)), grid, 3);
        if (more.size === 0) break;
        lrs = [...lrs, ...more.get(1)!].sort((a, b) => a - b);
        rounds++;
      }
      const [p] = pickLrPerSize(scan(1, truth, lrs));
      expect(p.edge).toBeNull();
      expect(p.lr! / truth).toBeCloseTo(1, 2);
      expect(rounds).toBe(expectedRounds); // 0.11: 8e-2, 0.16; 6e-4: 1.25e-3, 6.25e-4, 3.13e-4
    }
  });

  it('the first step is the outer ratio beyond the edge; interior optima and sizes at the cap get none', () => {
    const picked = pickLrPerSize([...scan(1, 1, grid), ...scan(2, 1e-4, grid), ...scan(3, 1e-2, grid)]);
    expect(scanExtension(picked, grid, 2)).toEqual(new Map([[1, [8e-2]], [2, [1.25e-3]]]));
    expect(scanExtension(picked, grid, 0).size).toBe(0);
    const capped = pickLrPerSize(scan(1, 1, [...grid, 8e-2, 0.16]));
    expect(capped[0].edge).toBe('high');
    expect(scanExtension(capped, grid, 2).size).toBe(0);
    expect(scanExtension(capped, grid, 3)).toEqual(new Map([[1, [0.32]]]));
  });

  it('a preset with lrScan.extendAtEdges lists the extension stage after the scan, with no runs and its bound', () => {
    const extending = { ...study, presets: { quick: { ...study.presets.quick, lrScan: { ...study.presets.quick.lrScan!, extendAtEdges: 2 } } } };
    const stages = studyStages(extending, 'quick', FILE);
    expect(stages.map((st) => st.stage)).toEqual(['lr-scan', 'lr-batch', 'schedules', 'ablations', 'lr-scan-extension', 'isoflop', 'expert-lr']);
    const ext = stages.find((st) => st.stage === 'lr-scan-extension')!;
    expect(ext).toMatchObject({ plannedAfter: 'the LR scan', runs: [] });
    expect(ext.decidedLater).toMatch(/up to 2 more LR\(s\) beyond it, 1 seed\(s\) each \(at most 14 runs/);
  });

  it('an extension that diverged ends it: the best finite LR is no longer at an edge', () => {
    const [p] = pickLrPerSize(scan(1, 1, [...grid, 8e-2], [8e-2]));
    expect([p.best!.lr, p.edge]).toEqual([4e-2, null]);
    expect(scanExtension([p], grid, 2).size).toBe(0);
  });
});

describe('experiments/hunyuan-small.ts plans', () => {
  it('every planned run carries valid tags; every comparison has its arms on the same seeds', () => {
    for (const preset of ['quick', 'standard', 'full']) {
      for (const st of stagesOf(preset)) for (const r of st.runs) expect(RunTagsSchema.safeParse(r.tags).success, `${preset} ${r.runId}`).toBe(true);
    }
    for (const preset of ['quick', 'standard']) {
      const abl = runsOf(preset, 'ablations');
      const comparisons = new Map<string, Map<string, number[]>>();
      for (const r of abl) {
        if (r.tags.study !== 'arm' || r.tags.group !== 'ablation') throw new Error(`${r.runId}: not an ablation arm`);
        const arms = comparisons.get(r.tags.comparison!) ?? new Map<string, number[]>();
        comparisons.set(r.tags.comparison!, arms);
        arms.set(r.tags.name, [...(arms.get(r.tags.name) ?? []), r.seed]);
      }
      expect([...comparisons.keys()].sort()).toEqual(['cla', 'kv-heads', 'routing']);
      expect([...comparisons.get('routing')!.keys()]).toEqual(['recycle', 'drop']);
      expect([...comparisons.get('cla')!.keys()]).toEqual(['CLA 2', 'no CLA']);
      expect([...comparisons.get('kv-heads')!.keys()]).toEqual(['1 KV head', '2 KV heads']);
      for (const arms of comparisons.values()) {
        const [a, b] = [...arms.values()];
        expect(a).toEqual(b);
        expect(a.length).toBeGreaterThanOrEqual(2);
      }
    }
  });

  it('ablation arms differ in one model field and spend equal exact compute', () => {
    const abl = runsOf('standard', 'ablations');
    const budget = study.presets.standard.ablations!.budget;
    for (const r of abl) {
      // Whole steps: within one step's FLOPs of the budget.
      const perStep = r.derived.flopsPerToken * r.derived.tokensPerStep;
      expect(Math.abs(exactFlops(r) - budget)).toBeLessThanOrEqual(perStep / 2 + 1);
    }
    const bySeed0 = abl.filter((r) => r.seed === 0);
    const m = (name: string) => bySeed0.find((r) => r.tags.study === 'arm' && r.tags.name === name)!.config.model!;
    expect([m('recycle').overflowPolicy, m('drop').overflowPolicy]).toEqual(['recycle', 'drop']);
    expect({ ...m('drop'), overflowPolicy: 'recycle' }).toEqual(m('recycle'));
    expect([m('CLA 2').claShareFactor, m('no CLA').claShareFactor]).toEqual([2, 1]);
    expect([m('1 KV head').numKvHeads, m('2 KV heads').numKvHeads]).toEqual([1, 2]);
    // CLA off adds K/V projections: more FLOPs per token, so fewer tokens at the same budget.
    const tokens = (name: string) => bySeed0.find((r) => r.tags.study === 'arm' && r.tags.name === name)!.derived.tokens;
    expect(tokens('no CLA')).toBeLessThan(tokens('CLA 2'));
  });

  it('refuses an ablation the model cannot express, naming the field', () => {
    const withAblation = (activatedParams: number, comparison: 'cla' | 'kv-heads') => ({
      ...study,
      presets: { quick: { ...study.presets.quick, ablations: { ...study.presets.quick.ablations!, activatedParams, comparisons: [comparison] } } },
    });
    // 9792: d16, one layer, 2 heads — no layer to share K/V with; 5480: d8, 3 layers, one head.
    expect(() => studyStages(withAblation(9792, 'cla'), 'quick', FILE)).toThrow(/ablations\.comparisons: the 9792 model has one layer/);
    expect(() => studyStages(withAblation(5480, 'kv-heads'), 'quick', FILE)).toThrow(/ablations\.comparisons: the 5480 model has 1 query head\(s\)/);
  });

  it('refuses expert-LR arms whose base LR would come from a batch the grid lacks', () => {
    const bad = { ...study, presets: { quick: { ...study.presets.quick, expertLr: { ...study.presets.quick.expertLr!, batchSize: 4 } } } };
    expect(() => planStudy(bad, 'quick', FILE, { corpusCheck: false })).toThrow(/presets\.quick\.expertLr\.batchSize: the base LR is the grid's best LR at this batch.*\(got 4\)\. Use a batch size of the LR × batch grid \(2, 8, 32\) or state expertLr\.lr\./);
    const stated = { ...study, presets: { quick: { ...study.presets.quick, expertLr: { ...study.presets.quick.expertLr!, batchSize: 4, lr: 1e-2 } } } };
    expect(() => planStudy(stated, 'quick', FILE, { corpusCheck: false })).not.toThrow();
  });

  it('the report states the departures, the LR rule and each size\'s pick', () => {
    const [pick] = pickLrPerSize([5e-3, 1e-2, 2e-2].map((lr) => ({ size: 3240, lr, seed: 0, finalValLoss: 2 + Math.log(lr / 1e-2) ** 2 })));
    const section = studyDesignSection('quick', study.presets.quick, [pick]);
    expect(section.notes.join('\n')).toContain(study.presets.quick.departures![0]);
    expect(section.notes.join('\n')).toContain(LR_RULE);
    expect(section.notes.join('\n')).toMatch(/the isoFLOP cells train 8 sequences per step, cosine schedule, warmup 5% of the run/);
    expect(section.tables[0].rows).toEqual([['3240', '0.01', '0.01', '', expect.stringMatching(/^0\.005: 2\.480; 0\.01: 2\.000; 0\.02: 2\.480$/)]]);
    expect(studyDesignSection('standard', study.presets.standard, undefined).notes[0]).toBe('The standard preset follows the standard design.');
  });

  it('expert LR: ≥ 3 seeds, factors 0.125–2 in standard, the same factors and seeds in the control', () => {
    for (const preset of ['quick', 'standard']) {
      const runs = runsOf(preset, 'expert-lr');
      const arm = (group: string) => runs.filter((r) => r.tags.study === 'arm' && r.tags.group === group);
      const key = (r: PlanRun) => (r.tags.study === 'arm' ? `${r.tags.factor}@${r.seed}` : '');
      expect(arm('expert-lr').map(key).sort()).toEqual(arm('lr-control').map(key).sort());
      expect(new Set(runs.map((r) => r.seed)).size).toBeGreaterThanOrEqual(3);
      // expert-lr moves only the specialized experts' multiplier; lr-control moves the base LR.
      for (const r of arm('expert-lr')) {
        expect(r.config.train!.expertLr).toEqual({ mode: 'multiplier', multiplier: r.tags.study === 'arm' ? r.tags.factor : NaN });
      }
      const base = arm('expert-lr')[0].lr;
      for (const r of arm('lr-control')) {
        expect(r.config.train!.expertLr).toEqual({ mode: 'same' });
        expect(r.lr / base).toBeCloseTo(r.tags.study === 'arm' ? r.tags.factor! : NaN, 10);
      }
    }
    const factors = study.presets.standard.expertLr!.factors;
    expect(factors.length).toBeGreaterThanOrEqual(5);
    expect([Math.min(...factors), Math.max(...factors)]).toEqual([0.125, 2]);
  });

  it('schedules: ≥ 3 seeds, and every shape ends at the same LR floor', () => {
    for (const preset of ['quick', 'standard', 'full']) {
      const runs = runsOf(preset, 'schedules');
      expect(new Set(runs.map((r) => r.seed)).size).toBeGreaterThanOrEqual(3);
      const floors = new Set(
        runs.map((r) => {
          const s = r.config.train!.schedule as { kind: string; minLrRatio?: number; annealToRatio?: number };
          return s.kind === 'hunyuan' ? s.annealToRatio : s.minLrRatio;
        }),
      );
      expect(floors).toEqual(new Set([0.1]));
    }
  });

  it('standard: ≥ 2 layers at every size, GQA with > 1 KV head where the widths allow (≥ 4 query heads), CLA on', () => {
    const iso = runsOf('standard', 'isoflop');
    expect(new Set(iso.map((r) => r.budgetFlops)).size).toBeGreaterThanOrEqual(4);
    for (const r of [...iso, ...runsOf('standard', 'lr-scan'), ...runsOf('standard', 'schedules'), ...runsOf('standard', 'lr-batch')]) {
      const m = r.config.model!;
      expect(m.numLayers, r.runId).toBeGreaterThanOrEqual(2);
      expect(m.claShareFactor).toBe(2);
      // GQA proper (KV heads shared by groups of query heads, more than one KV head) needs ≥ 4 query heads.
      if (m.numHeads! >= 4 && m.numHeads! % 2 === 0) expect(m.numKvHeads, r.runId).toBeGreaterThan(1);
    }
    // Every budget's sizes span its optimum at ~100–150 tokens per parameter: some cells below, some above.
    for (const b of new Set(iso.map((r) => r.budgetFlops!))) {
      const tpp = iso.filter((r) => r.budgetFlops === b).map((r) => r.tokensPerParam);
      expect(Math.min(...tpp)).toBeLessThan(100);
      expect(Math.max(...tpp)).toBeGreaterThan(150);
    }
  });

  it('full plans with the family\'s exact FLOPs: every slice is iso-compute', () => {
    expect(study.presets.full.isoflop.computeFormula).toBe('exact');
    const iso = runsOf('full', 'isoflop');
    expect(iso.length).toBeGreaterThanOrEqual(20);
    for (const r of iso) {
      const perStep = r.derived.flopsPerToken * r.derived.tokensPerStep;
      expect(Math.abs(exactFlops(r) - r.budgetFlops!), r.runId).toBeLessThanOrEqual(perStep / 2 + 1);
      expect(exactFlops(r) / r.budgetFlops!).toBeCloseTo(1, 3);
    }
  });

  it('the LR scan trains every isoFLOP size at its smallest budget, at each scanned LR', () => {
    const quick = study.presets.quick;
    const scan = runsOf('quick', 'lr-scan');
    const iso = runsOf('quick', 'isoflop');
    for (const size of new Set(iso.map((r) => r.targetActivatedParams!))) {
      const smallest = Math.min(...iso.filter((r) => r.targetActivatedParams === size).map((r) => r.budgetFlops!));
      const cell = scan.filter((r) => r.targetActivatedParams === size);
      expect(cell.map((r) => r.lr).sort()).toEqual([...quick.lrScan!.lrs].sort());
      for (const r of cell) {
        expect(r.tags).toMatchObject({ study: 'grid', point: { stage: 'lr-scan', size, lr: r.lr, budgetFlops: smallest } });
        // The same cell as the size's shortest isoFLOP run, LR aside.
        const twin = iso.find((x) => x.targetActivatedParams === size && x.budgetFlops === smallest)!;
        expect(r.derived.tokens).toBe(twin.derived.tokens);
        expect({ ...r.config.train, lr: 0 }).toEqual({ ...twin.config.train, lr: 0 });
      }
    }
  });

  it('the quick preset states its departures and an estimated time within the demo budget', () => {
    const dry = studyDryRun(study, 'quick', FILE);
    expect(dry.departures.length).toBeGreaterThan(0);
    // The study's share of the 15-minute demo (setup, fits and the report take the rest).
    expect(dry.totals.estSeconds!).toBeLessThan(12 * 60);
    // The stages planned now train together, then the isoFLOP cells, then the expert-LR arms.
    const tm = study.presets.quick.timeModel!;
    const kept = new Set(dry.runs.map((r) => r.runId));
    const batch = (stages: string[]) => estimateSeconds(stagesOf('quick').filter((s) => stages.includes(s.stage)).flatMap((s) => s.runs).filter((r) => kept.has(r.runId)), tm);
    expect(dry.totals.estSeconds!).toBeCloseTo(batch(['lr-scan', 'lr-batch', 'schedules', 'ablations']) + batch(['isoflop']) + batch(['expert-lr']), 6);
    expect(dry.totals.estimate).toContain(tm.basis);
    expect(dry.totals.estimate).toContain(tm.heldOut);
    expect(dry.totals.estSecondsLoaded!).toBeCloseTo(dry.totals.estSeconds! * tm.loaded!.factor, 6);
    expect(dry.totals.estimate).toContain(`min on a loaded machine (×${tm.loaded!.factor}: ${tm.loaded!.basis})`);
    expect(dry.totals.runs).toBe(dry.runs.length);
    expect(dry.stages.reduce((s, x) => s + x.runs, 0)).toBe(dry.runs.length);
    expect(dry.stages.reduce((s, x) => s + x.sharedArms, 0)).toBe(dry.totals.sharedArms);
  });
});

describe('a study against its corpus (fitPlanToCorpus, maxEpochs)', () => {
  // The standard isoFLOP cells on the embedded corpus (12.5M training tokens): the small sizes at
  // the top budgets need more than one pass (the first standard run's 28.2k at 3e12 failed there).
  const cells = isoflopPlan(studyParts(study, 'standard', FILE).iso, undefined, FILE);
  const passes = corpusPasses(cells);
  const over = [...passes].filter(([, p]) => p > 1).map(([id]) => id);

  it('counts passes as the trainer does: tokens over the windows of one epoch', () => {
    const one = cells.runs.find((r) => r.runId.includes('-28.2k-C3e12-'))!;
    // 16,050,176 tokens in 64-token windows over a train split of 195,835 windows (the trainer's error message).
    expect(passes.get(one.runId)).toBeCloseTo(16050176 / 64 / 195835, 6);
    expect(over.length).toBeGreaterThan(0);
  });

  it('without maxEpochs: one error naming every such run and the fix, before anything trains', () => {
    expect(() => fitPlanToCorpus(cells, passes, undefined, 'presets.standard.maxEpochs')).toThrow(
      new RegExp(`presets\\.standard\\.maxEpochs: ${over.length} run\\(s\\) need more than one pass over the corpus's train split: .*28\\.2k-C3e12-s0 \\(1\\.28 passes\\).* Set it \\(e\\.g\\. 2`),
    );
  });

  it('with maxEpochs: runs up to it repeat the data (config only), runs beyond it leave the plan with the reason', () => {
    const f = fitPlanToCorpus(cells, passes, 2, 'presets.standard.maxEpochs');
    expect([...f.repeated, ...f.dropped].map((x) => x.runId).sort()).toEqual([...over].sort());
    for (const x of f.repeated) expect(x.passes).toBeLessThanOrEqual(2);
    for (const x of f.dropped) expect(x.passes).toBeGreaterThan(2);
    expect(f.plan.runs).toHaveLength(cells.runs.length - f.dropped.length);
    for (const r of f.plan.runs) {
      const before = cells.runs.find((c) => c.runId === r.runId)!;
      const repeats = f.repeated.some((x) => x.runId === r.runId);
      expect(r.config).toEqual(repeats ? { ...before.config, data: { ...before.config.data, repeat: true } } : before.config);
    }
    expect(f.plan.skipped.slice(cells.skipped.length).map((x) => x.label)).toEqual(f.dropped.map((x) => x.runId));
    expect(f.plan.skipped.at(-1)?.reason ?? '').toMatch(/needs \d\.\d\d passes over the corpus's train split, more than presets\.standard\.maxEpochs = 2/);
    // A wide enough limit keeps every run; runs already set to repeat pass even without a limit.
    expect(fitPlanToCorpus(cells, passes, 100, 'x').dropped).toEqual([]);
    expect(fitPlanToCorpus(f.plan, passes, undefined, 'x').plan.runs.length).toBe(f.plan.runs.length);
  });

  it('the quick preset fits its corpus in one pass (the demo needs no maxEpochs)', () => {
    const q = isoflopPlan(studyParts(study, 'quick', FILE).iso, undefined, FILE);
    expect([...corpusPasses(q).values()].every((p) => p <= 1)).toBe(true);
  });
});

describe('moelab reproduce --dry-run --json', () => {
  it('prints every stage\'s runs with their tags; fit-decided LRs are null and their stage says what decides them', () => {
    const r = spawnSync(process.execPath, ['bin/moelab.js', 'reproduce', FILE, '--preset', 'quick', '--dry-run', '--json'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const dry = JSON.parse(r.stdout) as StudyDryRun;
    expect(dry.stages.map((s) => s.stage)).toEqual(['lr-scan', 'lr-batch', 'schedules', 'ablations', 'isoflop', 'expert-lr']);
    expect(dry.stages.find((s) => s.stage === 'isoflop')).toMatchObject({ plannedAfter: 'the LR scan' });
    expect(dry.stages.find((s) => s.stage === 'expert-lr')).toMatchObject({ plannedAfter: 'the surge fit' });
    for (const run of dry.runs) {
      expect(Object.keys(run).sort()).toEqual(['arm', 'batch', 'batchTokens', 'budget', 'computeFlops', 'estSeconds', 'kind', 'kvHeads', 'layers', 'lr', 'runId', 'seed', 'shared', 'size', 'stage', 'steps', 'tokens'].sort());
      expect(run.lr === null).toBe(run.stage === 'isoflop' || run.stage === 'expert-lr');
    }
    // The control's ×1 arm is the expert-LR arm's ×1 run (one per seed): listed on that run, not trained again.
    // 5 factors × 3 seeds per group, less the control's 3 shared ×1 runs.
    expect(dry.runs.filter((x) => x.arm?.group === 'expert-lr').length).toBe(15);
    expect(dry.runs.filter((x) => x.arm?.group === 'lr-control').length).toBe(12);
    const x1 = dry.runs.filter((x) => x.arm?.group === 'expert-lr' && x.arm.factor === 1);
    expect(x1.map((x) => x.shared.map((a) => [a.stage, a.arm?.group, a.arm?.factor]))).toEqual([0, 1, 2].map(() => [['expert-lr', 'lr-control', 1]]));
    // The ablations' baseline: the routing comparison's "recycle" run stands for "CLA 2" and "1 KV head" (2 seeds).
    const base = dry.runs.filter((x) => x.arm?.comparison === 'routing' && x.arm.name === 'recycle');
    expect(base.map((x) => x.shared.map((a) => a.arm?.name))).toEqual([0, 1].map(() => ['CLA 2', '1 KV head']));
    expect([dry.totals.runs, dry.totals.sharedArms]).toEqual([111, 7]);
    expect(dry.totals.estimate).toMatch(/min on 2 worker/);
  }, 120_000);
});
