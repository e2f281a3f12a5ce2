// Running a study end to end, top to bottom: plan its three sweeps as one sweep folder → train →
// analyse (the surge fit) → plan and train the expert-LR confirmation arms → analyse (every standard
// fit, src/analysis) → report, ending with the side-by-side comparison against the paper.
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
import { asAnalysisFit, fitFileName, latestFit, planFits, runFits, type AnalysisFit, type AnalysisOptions } from '../analysis/index.ts';
import type { Estimate } from '../fit/record.ts';
import { expertLrRatio, type ExpertLrQuery } from '../fit/surge.ts';
import { writeFitRecord } from '../io/fits.ts';
import { loadSweep, type Sweep } from '../io/load.ts';
import { writeJsonAtomic } from '../io/atomic.ts';
import { readJsonFile } from '../io/json.ts';
import { importUserModule } from '../config/module-file.ts';
import { resultsRoot, sweepPaths } from '../io/results.ts';
import { buildFamilyModel } from '../sweep/family.ts';
import { parseSweep } from '../sweep/load.ts';
import { expandSweep, planErrors, totalsOf, type PlanProblem, type PlanRun, type RunPlan } from '../sweep/plan.ts';
import { absolutizeCorpus, checkCorpus } from '../sweep/prepare.ts';
import type { SweepOutcome } from '../sweep/runner.ts';
import { writePlanFiles } from '../sweep/state.ts';
import { expertLrMultiplier } from '../train/expert-lr.ts';
import { provenance } from '../util/provenance.ts';
import { bootstrapReliability, paperComparison, type ComparisonInput, type ComparisonRow } from './compare.ts';
import { parseStudy, partSweepName, type StudyDefinition, type StudyPart, type StudyPreset } from './define.ts';

/** isoFLOP parabolas use the sizes within this factor of each budget's best run (two sizes either side at our spacing). */
export const ISOFLOP_WINDOW = 4;

export interface RunStudyOptions {
  preset: string;
  /** Study folder (default results/<study>-<preset>). */
  out?: string;
  /** Trains the unfinished runs of the plan in `sweepDir` (local pool, or a Slurm submission). */
  execute: (sweepDir: string) => Promise<SweepOutcome | 'submitted'>;
  /** Static figure export formats for the report (needs chromium). */
  formats?: ('png' | 'svg')[];
  /** Bootstrap resamples of the fits (default: src/analysis/defaults.ts). */
  bootstrap?: AnalysisOptions['bootstrap'];
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
    input = readJsonFile(abs, { fix: 'Fix the JSON syntax of the study file' });
  } else {
    const mod = await importUserModule(abs, 'FILE', path, 'Give the path of a study file (.ts or .json).');
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

/** The arm names of the confirmation runs, by their train.expertLr mode. */
export const CONFIRM_ARMS = { same: 'one LR', surge: 'expert-specific LR', multiplier: 'expert-specific LR' } as const;

/**
 * The confirmation plan: confirmDefinition expanded, each run tagged as an arm of the
 * confirmation (run tags, src/io/tags.ts), so analyses find the arms without reading run ids.
 */
export function confirmPlan(study: StudyDefinition, preset: string, lrPart: SweepDefinition, surge: { bNoise: number; lr: number }, source: string): RunPlan {
  const plan = expandChecked(confirmDefinition(study, preset, lrPart, surge, source), source);
  return {
    ...plan,
    runs: plan.runs.map((r) => ({ ...r, tags: { study: 'arm', group: 'confirmation', name: CONFIRM_ARMS[r.config.train?.expertLr?.mode ?? 'same'], seed: r.seed } })),
  };
}

/** How many confirmation runs the preset adds once the grid is fitted (the definition expanded with placeholder LRs). */
export function confirmRunCount(study: StudyDefinition, preset: string, lrPart: SweepDefinition, source: string): number {
  return confirmPlan(study, preset, lrPart, { bNoise: 1e4, lr: 1e-3 }, source).runs.length;
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

/** A run as the comparison reads it. */
export interface ComparisonRunInput {
  /** isoflop | lr-batch | schedules | confirm | grid ('' for an untagged run). */
  kind: string;
  label: string;
  finalValLoss?: number;
  expertLrMultiplier?: number;
  activatedParams: number;
  budget?: number;
}

export function comparisonInput(
  fits: readonly AnalysisFit[],
  runs: readonly ComparisonRunInput[],
  corpus: string,
): ComparisonInput {
  const iso = latestFit(fits, 'isoflop');
  const compute = latestFit(fits, 'compute');
  const surge = latestFit(fits, 'surge');
  const sched = latestFit(fits, 'schedule');
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
      bootstrap: bootstrapReliability(iso.bootstrap),
    };
  }
  if (compute?.params.a && compute.params.b) {
    out.compute = { a: compute.params.a, b: compute.params.b, meanAbsRelError: compute.derived.meanAbsRelError?.value, bootstrap: bootstrapReliability(compute.bootstrap) };
  }
  if (surge) {
    const query = surge.options.expertLr as ExpertLrQuery | null | undefined;
    out.surge = {
      epsMax: surge.params.epsMax,
      bNoise: surge.params.Bnoise,
      bootstrap: bootstrapReliability(surge.bootstrap),
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
// The procedure: plan → train → analyse → confirm → analyse → report

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

  // 1. Plan: isoFLOP + LR × batch + schedules. Confirmation runs of an earlier invocation drop out
  // of this plan (they sit at its end, so no other run moves) and come back unchanged in step 4:
  // the surge fit is a pure function of the finished grid.
  const { plan: stage1, parts } = planStudy(study, options.preset, source);
  writePlanFiles(sweepDir, stage1, record(stage1));
  log(`study ${study.name} (${options.preset}): ${stage1.runs.length} runs (isoFLOP ${countKind(stage1, 'isoflop')}, LR × batch ${countKind(stage1, 'lr-batch')}, schedules ${countKind(stage1, 'schedules')}) in ${sweepDir}`);

  // 2. Train.
  const s1 = stopped(await options.execute(sweepDir));
  if (s1) return done(s1);

  // 3. Analyse: the surge fit of the LR × batch grid, all the confirmation needs. The expert-LR rule
  // is evaluated at the confirmation runs' batch.
  const confirmTokens = preset.confirm.batchSize * (stage1.runs.find((r) => r.kind === 'lr-batch')?.config.model?.seqLen ?? 128);
  const analysisOptions: AnalysisOptions = { bootstrap: options.bootstrap, isoflopWindow: ISOFLOP_WINDOW, expertLrBatchTokens: confirmTokens };
  log('fitting the surge law to the LR × batch grid');
  const trained = loadSweep(sweepDir);
  const surgeFits = await runFits(trained, planFits(trained, { ...analysisOptions, kinds: ['surge'] }));
  const surge = latestFit(surgeFits.fits, 'surge');

  // 4. Confirm: one LR for every group vs expert-specific LRs at the grid's best LR; train them.
  if (surge) {
    const slice = surge.perBatch.find((b) => b.batchTokens === confirmTokens);
    const lr = preset.confirm.lr ?? slice?.bestLr.value;
    if (lr === undefined) {
      warnings.push(`confirmation skipped: the LR grid has no batch of ${preset.confirm.batchSize} sequences; set presets.${options.preset}.confirm.lr or use a batch of the grid`);
    } else {
      const arms = confirmPlan(study, options.preset, parts.lr, { bNoise: surge.params.Bnoise.value, lr }, source);
      const full = mergePlans(stage1.sweep, stage1.description, [stage1, arms], stage1);
      writePlanFiles(sweepDir, full, record(full));
      log(`confirmation: ${arms.runs.length} runs at lr ${lr.toPrecision(3)}, B_noise ${surge.params.Bnoise.value.toPrecision(3)} tokens`);
      const s2 = stopped(await options.execute(sweepDir));
      if (s2) return done(s2);
    }
  } else {
    warnings.push(`confirmation skipped: the surge fit did not succeed (${surgeFits.warnings.join('; ') || 'no LR × batch runs'})`);
  }

  // 5. Analyse: every standard fit on every run (groups a fit cannot use are its decision, listed in
  // its record), written to fits/.
  log('fitting: compute formula, isoFLOP, parametric, surge, schedule law');
  const sweep = loadSweep(sweepDir);
  const fitted = await runFits(sweep, planFits(sweep, analysisOptions));
  warnings.push(...fitted.warnings);
  for (const f of fitted.fits) writeFitRecord(sweepDir, fitFileName(f), f);
  const corpusSpec = stage1.runs[0]?.config.data?.corpus ?? 'default';
  const corpus = corpusSpec === 'default' ? 'the embedded English corpus (≈17 MB, byte-level tokens)' : `corpus ${corpusSpec}`;
  const comparison = paperComparison(comparisonInput(fitted.fits, comparisonRuns(sweep), corpus));
  writeJsonAtomic(paths.fit('paper-comparison'), { kind: 'paper-comparison', study: study.name, preset: options.preset, rows: comparison, provenance: provenance() });

  // 6. Report: the sweep and fits/ as written (with any record `moelab fit` added), plus the comparison.
  const { buildReport } = await import('../report/build.ts');
  const final = loadSweep(sweepDir);
  const report = await buildReport(final, final.fits.flatMap((f) => asAnalysisFit(f) ?? []), {
    formats: options.formats,
    warnings: fitted.warnings,
    log,
    extraSections: [
      {
        id: 'paper-comparison',
        title: 'moelab vs the paper (Hunyuan-Large, arXiv 2411.02265)',
        notes: [
          'Each quantity this study measured, next to the paper\'s value and how reliable docs/references.md judges its source. ' +
            'Intervals are 95% bootstrap percentiles over runs. The scales differ by 3–5 orders of magnitude, so agreement in exponents and ratios is the question; absolute constants are not expected to match.',
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
  warnings.push(...report.warnings.slice(fitted.warnings.length)); // buildReport returns the fit warnings it was given first
  return { ...done('done'), reportPath: report.htmlPath, comparison };
}

/** The runs as the comparison reads them: study kind and label from their tags. */
export function comparisonRuns(sweep: Pick<Sweep, 'runs'>): ComparisonRunInput[] {
  return sweep.runs.map((r) => {
    const t = r.tags;
    const kind = t === undefined ? '' : t.study === 'arm' && t.group === 'confirmation' ? 'confirm' : t.study;
    return {
      kind,
      label: t?.study === 'schedules' ? t.label : t?.study === 'arm' ? t.name : r.runId,
      finalValLoss: r.summary?.status === 'done' ? r.summary.finalValLoss : undefined,
      expertLrMultiplier: kind === 'confirm' ? expertLrMultiplier(r.config.config) : undefined,
      activatedParams: r.config.derived.activatedParams,
      budget: t?.study === 'isoflop' ? t.budgetFlops : undefined,
    };
  });
}

function countKind(plan: RunPlan, kind: string): number {
  return plan.runs.filter((r) => r.kind === kind).length;
}
