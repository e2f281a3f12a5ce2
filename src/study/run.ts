// Running a study end to end (issue #7): plan its three sweeps as one sweep folder, train them,
// fit the surge law and add the expert-LR confirmation runs, train those, run the standard fits,
// and build the report ending with the side-by-side comparison against the paper.
//
//   results/<study>-<preset>/
//     sweep.json plan.json runs/…        one plan: isoFLOP + LR × batch + schedules (+ confirm)
//     fits/<kind>.json                   compute, isoflop, parametric, surge, schedule
//     fits/paper-comparison.json         the side-by-side table as data
//     report/index.html report.md …      buildReport + the comparison section
//
// Each stage reads what the stage before wrote, so rerunning the same command continues: finished
// runs are skipped, interrupted ones resume, the fits and report are recomputed.
import { readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { SweepDefinition } from '../config/sweep-schema.ts';
import { ConfigError, ConfigErrors } from '../errors.ts';
import type { Estimate } from '../fit/record.ts';
import type { IsoflopFit } from '../fit/isoflop.ts';
import type { ScheduleFit } from '../fit/schedule-laws.ts';
import { expertLrRatio, type ExpertLrQuery, type SurgeFit } from '../fit/surge.ts';
import type { RunRecord, SweepRecords } from '../report/records.ts';
import { writeJsonAtomic } from '../io/atomic.ts';
import { resultsRoot, sweepPaths } from '../io/results.ts';
import { buildFamilyModel } from '../sweep/family.ts';
import { parseSweep } from '../sweep/load.ts';
import { expandSweep, planErrors, totalsOf, type PlanProblem, type PlanRun, type RunPlan } from '../sweep/plan.ts';
import { absolutizeCorpus, checkCorpus } from '../sweep/prepare.ts';
import type { SweepOutcome } from '../sweep/runner.ts';
import { writePlanFiles } from '../sweep/state.ts';
import { expertLrMultiplier } from '../train/expert-lr.ts';
import { provenance } from '../util/provenance.ts';
import { paperComparison, type ComparisonInput, type ComparisonRow } from './compare.ts';
import { parseStudy, partSweepName, type StudyDefinition, type StudyPart, type StudyPreset } from './define.ts';

/** isoFLOP parabolas use the sizes within this factor of each budget's best run. */
export const ISOFLOP_WINDOW = 4;

export interface RunStudyOptions {
  preset: string;
  /** Study folder (default results/<study>-<preset>). */
  out?: string;
  /** Trains the unfinished runs of the plan in `sweepDir` (local pool, or a Slurm submission). */
  execute: (sweepDir: string) => Promise<SweepOutcome | 'submitted'>;
  /** Static figure export formats for the report (needs chromium). */
  formats?: ('png' | 'svg')[];
  /** Bootstrap resamples of the fits (default 1000; parametric uses at most 200). */
  bootstrap?: number;
  log?: (line: string) => void;
}

export interface RunStudyResult {
  sweepDir: string;
  /** 'done' when the report was written; otherwise where the study stopped. */
  status: 'done' | 'interrupted' | 'failed-runs' | 'submitted';
  reportPath?: string;
  comparison?: ComparisonRow[];
  warnings: string[];
  seconds: number;
}

/** Load `experiments/<study>.ts` (default export of defineStudy) or a JSON file. */
export async function loadStudyFile(path: string): Promise<StudyDefinition> {
  const abs = isAbsolute(path) ? path : resolve(path);
  let input: unknown;
  if (abs.endsWith('.json')) {
    input = JSON.parse(readFileSync(abs, 'utf8'));
  } else {
    const mod = (await import(pathToFileURL(abs).href)) as { default?: unknown };
    if (mod.default === undefined) {
      throw new ConfigError(path, undefined, 'Export the study with `export default defineStudy({...})`.', 'the file has no default export');
    }
    input = mod.default;
  }
  return parseStudy(input, path);
}

export function presetOf(study: StudyDefinition, preset: string): StudyPreset {
  const p = study.presets[preset];
  if (!p) {
    throw new ConfigError('--preset', preset, `Use one of: ${Object.keys(study.presets).join(', ')}.`, `study "${study.name}" has no such preset`);
  }
  return p;
}

// ---------------------------------------------------------------------------------------------
// Planning (pure apart from the corpus check)

function partDefinition(study: StudyDefinition, preset: string, part: StudyPart, body: object, source: string): SweepDefinition {
  return parseSweep({ ...body, name: partSweepName(study.name, preset, part) }, `${source} presets.${preset}.${part}`);
}

/** Concatenate sub-plans into one plan whose indices are positions (the trainer's contract). */
export function mergePlans(name: string, description: string | undefined, plans: RunPlan[], base: RunPlan | undefined): RunPlan {
  const runs: PlanRun[] = [];
  for (const p of plans) for (const r of p.runs) runs.push({ ...r, index: runs.length });
  const first = base ?? plans[0];
  return {
    sweep: name,
    kind: 'grid',
    ...(description ? { description } : {}),
    createdAt: first.createdAt,
    provenance: first.provenance,
    computeFormula: first.computeFormula,
    computeParams: first.computeParams,
    estimate: null,
    runs,
    skipped: plans.flatMap((p) => p.skipped),
    totals: totalsOf(runs),
  };
}

function throwOnErrors(source: string, problems: PlanProblem[]): void {
  const errors = planErrors(problems);
  if (errors.length === 0) return;
  throw new ConfigErrors(
    source,
    errors.map((p) => new ConfigError(p.runId ? `${p.runId}: ${p.field}` : p.field, p.value, p.fix, p.message)),
  );
}

function expandChecked(def: SweepDefinition, source: string): RunPlan {
  const expanded = expandSweep(def, { buildModel: buildFamilyModel, provenance: provenance() });
  throwOnErrors(source, expanded.problems);
  return absolutizeCorpus(expanded.plan, process.cwd());
}

/** The first-stage plan: isoFLOP + LR × batch + schedules. */
export function planStudy(
  study: StudyDefinition,
  preset: string,
  source: string,
  options: { corpusCheck?: boolean } = {},
): { plan: RunPlan; parts: Record<'iso' | 'lr' | 'sched', SweepDefinition> } {
  const p = presetOf(study, preset);
  const parts = {
    iso: partDefinition(study, preset, 'iso', p.isoflop, source),
    lr: partDefinition(study, preset, 'lr', p.lrBatch, source),
    sched: partDefinition(study, preset, 'sched', p.schedules, source),
  };
  const plans = [expandChecked(parts.iso, source), expandChecked(parts.lr, source), expandChecked(parts.sched, source)];
  const plan = mergePlans(`${study.name}-${preset}`, p.description ?? study.description, plans, undefined);
  if (options.corpusCheck !== false) throwOnErrors(source, checkCorpus(plan));
  return { plan, parts };
}

/**
 * The confirmation sweep: the LR-grid model at `confirm.batchSize`, base LR = the grid's best LR at
 * that batch (or `confirm.lr`), once with one LR for every group and once with the specialized
 * experts on the surge rule (train.expertLr = {mode: 'surge', bNoise}).
 */
export function confirmDefinition(study: StudyDefinition, preset: string, lrPart: SweepDefinition, surge: { bNoise: number; lr: number }, source: string): SweepDefinition {
  const p = presetOf(study, preset);
  if (lrPart.kind !== 'lr-batch') throw new Error('confirmDefinition: expected the lr-batch part');
  const base = lrPart.base ?? {};
  return partDefinition(
    study,
    preset,
    'confirm',
    {
      kind: 'grid',
      description: 'expert-specific LRs (surge rule) vs one LR for every parameter group',
      ...(lrPart.family ? { family: lrPart.family } : {}),
      ...(lrPart.activatedParams !== undefined ? { activatedParams: lrPart.activatedParams } : {}),
      seeds: p.confirm.seeds ?? lrPart.seeds,
      computeFormula: lrPart.computeFormula,
      computeParams: lrPart.computeParams,
      base: { ...base, train: { ...base.train, batchSize: p.confirm.batchSize, tokens: p.confirm.tokens, lr: p.confirm.lr ?? surge.lr } },
      mode: 'grid',
      axes: { 'train.expertLr': [{ mode: 'same' }, { mode: 'surge', bNoise: surge.bNoise }] },
    },
    source,
  );
}

// ---------------------------------------------------------------------------------------------
// Fits → comparison input

function estimate(value: number | undefined, ci: [number, number] | null = null): Estimate | undefined {
  return value === undefined || !Number.isFinite(value) ? undefined : { value, ci95: ci };
}

/** The derived entry whose key names the budget nearest `budget` (keys like `tokensPerParam@1e11`). */
function derivedAt(derived: Record<string, Estimate>, prefix: string, budget: number): { est: Estimate; at: number } | undefined {
  let best: { est: Estimate; at: number } | undefined;
  for (const [key, est] of Object.entries(derived)) {
    if (!key.startsWith(`${prefix}@`)) continue;
    const at = Number(key.slice(prefix.length + 1));
    if (!Number.isFinite(at)) continue;
    if (!best || Math.abs(Math.log(at / budget)) < Math.abs(Math.log(best.at / budget))) best = { est, at };
  }
  return best;
}

export function comparisonInput(
  fits: { kind: string }[],
  runs: { kind: string; label: string; finalValLoss?: number; expertLrMultiplier?: number; activatedParams: number; budget?: number }[],
  corpus: string,
): ComparisonInput {
  const iso = fits.find((f) => f.kind === 'isoflop') as IsoflopFit | undefined;
  const compute = fits.find((f) => f.kind === 'compute') as { params: Record<string, Estimate>; derived: Record<string, Estimate> } | undefined;
  const surge = fits.find((f) => f.kind === 'surge') as SurgeFit | undefined;
  const sched = fits.find((f) => f.kind === 'schedule') as ScheduleFit | undefined;
  const budgets = runs.map((r) => r.budget).filter((b): b is number => b !== undefined);
  const maxBudget = budgets.length ? Math.max(...budgets) : 0;
  const sizes = runs.map((r) => r.activatedParams);

  const out: ComparisonInput = {
    scale: { minActivated: Math.min(...sizes), maxActivated: Math.max(...sizes), maxBudget, corpus },
  };
  if (iso) {
    const tpp = derivedAt(iso.derived, 'tokensPerParam', maxBudget);
    const largest = [...iso.budgets].sort((a, b) => b.budget - a.budget)[0];
    const heldOut = iso.heldOut.find((h) => /L_min|best loss|loss/i.test(h.label)) ?? iso.heldOut[0];
    out.isoflop = {
      nOptExponent: iso.powerLaws.N_opt.exponent,
      dOptExponent: iso.powerLaws.D_opt.exponent,
      tokensPerParam: tpp?.est ?? estimate(largest ? largest.D_opt.value / largest.N_opt.value : undefined) ?? { value: NaN, ci95: null },
      tokensPerParamAt: tpp?.at ?? largest?.budget ?? maxBudget,
      ...(heldOut ? { heldOut: { label: heldOut.label, actual: heldOut.actual, predicted: heldOut.predicted, relError: heldOut.relError } } : {}),
    };
  }
  if (compute?.params.a && compute.params.b) {
    out.compute = { a: compute.params.a, b: compute.params.b, meanAbsRelError: compute.derived.meanAbsRelError?.value };
  }
  if (surge) {
    const query = surge.options.expertLr as ExpertLrQuery | null | undefined;
    out.surge = {
      epsMax: surge.params.epsMax,
      bNoise: surge.params.Bnoise,
      method: surge.method ?? 'final-loss',
      ...(surge.targetLoss !== undefined ? { targetLoss: surge.targetLoss } : {}),
      ...(surge.derived.freeBnoise ? { freeBnoise: surge.derived.freeBnoise.value } : {}),
      ...(surge.derived.freeBnoise && query ? { freeExpertLrRatio: expertLrRatio(query.batchTokens, surge.derived.freeBnoise.value, query.numExperts, query.topK) } : {}),
      ...(surge.derived.expertLrRatio ? { expertLrRatio: surge.derived.expertLrRatio } : {}),
      ...(surge.derived.u ? { u: surge.derived.u.value } : {}),
      ...(surge.perBatch.length
        ? { batchRange: [Math.min(...surge.perBatch.map((b) => b.batchTokens)), Math.max(...surge.perBatch.map((b) => b.batchTokens))] as [number, number] }
        : {}),
      ...(typeof surge.options.expertLr === 'object' && surge.options.expertLr !== null
        ? { batchTokens: (surge.options.expertLr as { batchTokens?: number }).batchTokens }
        : {}),
    };
  }
  const schedRuns = runs.filter((r) => r.kind === 'schedules' && r.finalValLoss !== undefined);
  if (schedRuns.length) out.schedules = schedRuns.map((r) => ({ label: r.label, finalValLoss: r.finalValLoss as number }));
  if (sched) {
    const predicted = sched.curves.filter((c) => c.role === 'predict');
    if (predicted.length) {
      out.scheduleLaw = {
        law: sched.law,
        predicted: predicted.map((c) => c.name).join(', '),
        meanAbsRelError: predicted.reduce((s, c) => s + c.meanAbsRelError, 0) / predicted.length,
      };
    }
  }
  const confirm = runs.filter((r) => r.kind === 'confirm' && r.finalValLoss !== undefined);
  if (confirm.length) {
    out.confirm = confirm.map((r) => ({ label: r.label, finalValLoss: r.finalValLoss as number, expertLrMultiplier: r.expertLrMultiplier ?? 1 }));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The procedure

export async function runStudy(source: string, options: RunStudyOptions): Promise<RunStudyResult> {
  const t0 = performance.now();
  const log = options.log ?? (() => {});
  const warnings: string[] = [];
  const study = await loadStudyFile(source);
  const preset = presetOf(study, options.preset);
  const sweepDir = resolve(options.out ?? join(resultsRoot(), `${study.name}-${options.preset}`));
  const paths = sweepPaths(sweepDir);
  const record = (plan: RunPlan) => ({
    sweep: plan.sweep,
    source,
    definition: { kind: 'study' as const, study: study.name, preset: options.preset, ...preset },
    provenance: provenance(),
  });
  const done = (status: RunStudyResult['status']): RunStudyResult => ({ sweepDir, status, warnings, seconds: (performance.now() - t0) / 1000 });
  const stopped = (outcome: SweepOutcome | 'submitted'): RunStudyResult['status'] | undefined =>
    outcome === 'submitted' ? 'submitted' : outcome.interrupted ? 'interrupted' : outcome.failed.length || outcome.unfinished.length ? 'failed-runs' : undefined;

  // --- stage 1: isoFLOP + LR × batch + schedules -------------------------------------------------
  const { plan: stage1, parts } = planStudy(study, options.preset, source);
  // Confirmation runs of an earlier invocation drop out of this plan (they sit at its end, so no
  // other run moves) and come back unchanged in stage 2: the surge fit is a pure function of the
  // finished grid. If the grid changed, stage 2 says which finished runs conflict.
  writePlanFiles(sweepDir, stage1, record(stage1));
  log(`study ${study.name} (${options.preset}): ${stage1.runs.length} runs (isoFLOP ${countKind(stage1, 'isoflop')}, LR × batch ${countKind(stage1, 'lr-batch')}, schedules ${countKind(stage1, 'schedules')}) in ${sweepDir}`);
  const first = await options.execute(sweepDir);
  const s1 = stopped(first);
  if (s1) return done(s1);

  // --- stage 2: fits, then the expert-LR confirmation --------------------------------------------
  const { loadSweepRecords } = await import('../report/records.ts');
  const { standardFits } = await import('../report/fit-sections.ts');
  const bootstrap = options.bootstrap ?? 1000;
  // Parabolas near each budget's best run (within 4×: two sizes either side at our spacing).
  // The expert-LR rule is evaluated at the confirmation runs' batch.
  const confirmTokens = preset.confirm.batchSize * (stage1.runs.find((r) => r.kind === 'lr-batch')?.config.model?.seqLen ?? 128);
  const fitOptions = { bootstrap, parametricBootstrap: Math.min(bootstrap, 200), seed: 0, isoflopWindow: ISOFLOP_WINDOW, expertLrBatchTokens: confirmTokens };
  // Only the LR grid's runs: the surge fit is all the confirmation needs (stage 3 fits the rest).
  log('fitting the surge law to the LR × batch grid');
  const grid = (await withoutEdgeGroups(loadSweepRecords(sweepDir))).records;
  const surgeFits = await standardFits({ ...grid, runs: grid.runs.filter((r) => r.config.study?.kind === 'lr-batch') }, [], fitOptions);
  const surge = surgeFits.fits.find((f) => f.kind === 'surge') as unknown as SurgeFit | undefined;
  if (surge) {
    const slice = surge.perBatch.find((b) => b.batchTokens === confirmTokens);
    const lr = preset.confirm.lr ?? slice?.bestLr.value;
    if (lr === undefined) {
      warnings.push(`confirmation skipped: the LR grid has no batch of ${preset.confirm.batchSize} sequences; set presets.${options.preset}.confirm.lr or use a batch of the grid`);
    } else {
      const def = confirmDefinition(study, options.preset, parts.lr, { bNoise: surge.params.Bnoise.value, lr }, source);
      const confirmPlan = expandChecked(def, source);
      const full = mergePlans(stage1.sweep, stage1.description, [stage1, confirmPlan], stage1);
      writePlanFiles(sweepDir, full, record(full));
      log(`confirmation: ${confirmPlan.runs.length} runs at lr ${lr.toPrecision(3)}, B_noise ${surge.params.Bnoise.value.toPrecision(3)} tokens`);
      const second = await options.execute(sweepDir);
      const s2 = stopped(second);
      if (s2) return done(s2);
    }
  } else {
    warnings.push(`confirmation skipped: the surge fit did not succeed (${surgeFits.warnings.join('; ') || 'no LR × batch runs'})`);
  }

  // --- stage 3: final fits, comparison, report ---------------------------------------------------
  const records = loadSweepRecords(sweepDir);
  const { records: fitRecords, excluded } = await withoutEdgeGroups(records);
  warnings.push(...excluded);
  // The compute-formula fit is the only one the confirmation runs could touch; refit all for one
  // consistent set (cheap next to training).
  log('fitting: compute formula, isoFLOP, parametric, surge, schedule law');
  const fitted = await standardFits(fitRecords, [], fitOptions);
  warnings.push(...fitted.warnings);
  for (const f of fitted.fits) writeJsonAtomic(paths.fit(f.kind), f);
  const runs = records.runs.map((r) => {
    const kind = r.runId.startsWith(`${partSweepName(study.name, options.preset, 'confirm')}-`) ? 'confirm' : String(r.config.study?.kind ?? '');
    const expertLr = r.config.config.train.expertLr;
    const label =
      kind === 'schedules'
        ? String(r.config.study?.schedule ?? r.config.config.train.schedule.kind)
        : kind === 'confirm'
          ? expertLr.mode === 'same'
            ? 'one LR'
            : 'expert-specific LR'
          : r.runId;
    return {
      kind,
      label,
      finalValLoss: r.summary?.status === 'done' ? r.summary.finalValLoss : undefined,
      expertLrMultiplier: kind === 'confirm' ? expertLrMultiplier(r.config.config) : undefined,
      activatedParams: r.config.derived.activatedParams,
      budget: kind === 'isoflop' ? r.config.budgetFlops : undefined,
    };
  });
  const corpusSpec = stage1.runs[0]?.config.data?.corpus ?? 'default';
  const corpus = corpusSpec === 'default' ? 'the embedded English corpus (≈17 MB, byte-level tokens)' : `corpus ${corpusSpec}`;
  const comparison = paperComparison(comparisonInput(fitted.fits, runs, corpus));
  writeJsonAtomic(paths.fit('paper-comparison'), { kind: 'paper-comparison', study: study.name, preset: options.preset, rows: comparison, provenance: provenance() });

  const { buildReport } = await import('../report/build.ts');
  const report = await buildReport(sweepDir, {
    formats: options.formats,
    bootstrap,
    log,
    extraSections: [
      {
        id: 'paper-comparison',
        title: 'moelab vs the paper (Hunyuan-Large, arXiv 2411.02265)',
        notes: [
          'Each quantity this study measured, next to the paper\'s value and how reliable PAPER.md judges its source. ' +
            'Intervals are 95% bootstrap percentiles over runs. The scales differ by 3–5 orders of magnitude, so agreement in exponents and ratios is the question; absolute constants are not expected to match.',
          ...excluded,
          ...fitted.warnings,
        ],
        figures: [],
        tables: [
          {
            id: 'paper-comparison',
            title: 'Side by side',
            columns: ['quantity', 'moelab', '95% CI', 'paper', 'reliability', 'what differs and why'],
            rows: comparison.map((r) => [r.quantity, r.moelab, r.ci95, r.paper, r.reliability, r.note]),
          },
        ],
      },
    ],
  });
  warnings.push(...report.warnings);
  return { ...done('done'), reportPath: report.htmlPath, comparison };
}

/**
 * Groups whose lowest loss is at their smallest or largest x (no interior minimum): isoFLOP budgets
 * over N, LR-grid batch sizes over lr. Groups with fewer than 3 finished points are left to the fit,
 * which explains why too few cannot work.
 */
export function edgeGroups(points: { group?: number; x: number; loss?: number }[]): { group: number; side: 'smallest' | 'largest'; x: number }[] {
  const byGroup = new Map<number, { x: number; loss: number }[]>();
  for (const p of points) {
    if (p.group === undefined || p.loss === undefined || !Number.isFinite(p.loss)) continue;
    byGroup.set(p.group, [...(byGroup.get(p.group) ?? []), { x: p.x, loss: p.loss }]);
  }
  const out: { group: number; side: 'smallest' | 'largest'; x: number }[] = [];
  for (const [group, pts] of [...byGroup].sort((a, b) => a[0] - b[0])) {
    if (pts.length < 3) continue;
    const xs = pts.map((p) => p.x);
    const best = pts.reduce((b, p) => (p.loss < b.loss ? p : b));
    if (best.x === Math.min(...xs)) out.push({ group, side: 'smallest', x: best.x });
    else if (best.x === Math.max(...xs)) out.push({ group, side: 'largest', x: best.x });
  }
  return out;
}

/**
 * The study's records without the groups the fits would refuse: an isoFLOP budget whose best run
 * is its smallest or largest model, an LR-grid batch whose best run is its smallest or largest LR.
 * The fits refuse such data rightly (no interior minimum); the study fits the rest and says what it
 * left out and why.
 */
async function withoutEdgeGroups(records: SweepRecords): Promise<{ records: SweepRecords; excluded: string[] }> {
  const [{ runBatchTokens, runBudget, runFinalLoss, runState, runStudyKind }, { chooseSurgeMethod, trainLossRows }] = await Promise.all([
    import('../report/records.ts'),
    import('../fit/run-fit.ts'),
  ]);
  const of = (kind: string) => records.runs.filter((r) => runStudyKind(r) === kind);
  const budgets = edgeGroups(of('isoflop').map((r) => ({ group: runBudget(r), x: r.config.derived.activatedParams, loss: runFinalLoss(r) })));
  // A grid the surge fit takes by steps to a target loss (Li et al.; the same choice as the fit's)
  // keeps batches without an interior best run: the final loss of its fixed-length runs says
  // nothing about which batch to leave out.
  const grid = of('lr-batch');
  const surgeMethod = chooseSurgeMethod(
    grid.filter((r) => runState(r) === 'done').map((r) => ({ runId: r.runId, scheduleKind: r.config.config.train.schedule.kind, curveRows: trainLossRows(r.metrics).length })),
  ).method;
  const batches = surgeMethod === 'steps-to-target' ? [] : edgeGroups(grid.map((r) => ({ group: runBatchTokens(r), x: r.config.config.train.lr, loss: runFinalLoss(r) })));
  const excluded = [
    ...budgets.map(
      (e) =>
        `isoFLOP budget ${e.group.toExponential(1)} FLOPs left out of the fits: its best run is the ${e.side} size (N = ${e.x}), so it has no interior minimum. ` +
        `Widen the size range ${e.side === 'smallest' ? 'downwards' : 'upwards'} (or drop the budget) to use it.`,
    ),
    ...batches.map(
      (e) =>
        `LR-grid batch of ${e.group} tokens left out of the surge fit: its best run is the ${e.side} learning rate (${e.x}), so it has no interior best LR. ` +
        `Extend the grid ${e.side === 'smallest' ? 'to smaller' : 'to larger'} LRs (or train longer: short runs are noisy) to use it.`,
    ),
  ];
  const drop = (r: RunRecord) =>
    (runStudyKind(r) === 'isoflop' && budgets.some((e) => e.group === runBudget(r))) ||
    (runStudyKind(r) === 'lr-batch' && batches.some((e) => e.group === runBatchTokens(r)));
  return { records: { ...records, runs: records.runs.filter((r) => !drop(r)) }, excluded };
}

function countKind(plan: RunPlan, kind: string): number {
  return plan.runs.filter((r) => r.kind === kind).length;
}
