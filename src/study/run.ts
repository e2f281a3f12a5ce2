// Running a study end to end, top to bottom:
//   plan  (from the definitions) LR scan per size, LR × batch grid, schedules, ablations
//   train
//   analyse  each size's LR (pickLrPerSize, pure) → fits/lr-scan.json
//   plan  the isoFLOP cells at those LRs; train
//   analyse  the surge fit of the grid
//   plan  the expert-LR arms and their control (and a confirmation pair, if defined); train
//   analyse  every standard fit (src/analysis) → report with the study design and the side-by-side
//            comparison against the paper.
//
//   results/<study>-<preset>/
//     sweep.json plan.json runs/…        one plan, each stage appended to the one before
//     fits/<kind>.json                   compute, isoflop, parametric, surge, schedule
//     fits/lr-scan.json                  each size's picked LR, the rule and the scan's means
//     fits/paper-comparison.json         the side-by-side table as data
//     report/index.html report.md …      buildReport + the study design and comparison sections
//
// Each stage reads what the stage before wrote, so rerunning the same command continues: finished
// runs are skipped, interrupted ones resume, the picks, fits and report are recomputed. Every stage
// plans each distinct (configuration, seed) once (src/sweep/share.ts): an arm that repeats a run is
// listed on it and reads its results.
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { SweepDefinition } from '../config/sweep-schema.ts';
import { ConfigError, ConfigErrors } from '../errors.ts';
import { analyseComparisons, asAnalysisFit, fitFileName, latestFit, planFits, runFits, type AnalysisFit, type AnalysisOptions } from '../analysis/index.ts';
import type { Estimate } from '../fit/record.ts';
import { expertLrRatio, type ExpertLrQuery } from '../fit/surge.ts';
import { writeFitRecord } from '../io/fits.ts';
import { loadSweep, type Sweep } from '../io/load.ts';
import { writeJsonAtomic } from '../io/atomic.ts';
import { readJsonFile } from '../io/json.ts';
import { importUserModule } from '../config/module-file.ts';
import { resultsRoot, sweepPaths } from '../io/results.ts';
import { buildFamilyModel } from '../sweep/family.ts';
import { ModelConfigSchema, type UserModelConfig } from '../config/schema.ts';
import { resolveModelConfig } from '../config/resolve.ts';
import { flopsPerToken } from '../model/count.ts';
import type { ArmTags } from '../io/tags.ts';
import { parseSweep } from '../sweep/load.ts';
import { expandSweep, planErrors, roundToSteps, totalsOf, type PlanProblem, type PlanRun, type RunPlan } from '../sweep/plan.ts';
import { absolutizeCorpus, checkCorpus, corpusPasses } from '../sweep/prepare.ts';
import type { SweepOutcome } from '../sweep/runner.ts';
import { describeSharing, shareRepeatedRuns, type ShareOptions } from '../sweep/share.ts';
import { makespan, predictRunSeconds, runWorkOf } from './time-model.ts';
import { readPlan, runStarted, writePlanFiles } from '../sweep/state.ts';
import { expertLrMultiplier } from '../train/expert-lr.ts';
import { provenance } from '../util/provenance.ts';
import { bootstrapReliability, paperComparison, SIDE_BY_SIDE_COLUMNS, sideBySideCells, type ComparisonInput, type ComparisonRow } from './compare.ts';
import { parseStudy, partSweepName, type AblationComparison, type StudyDefinition, type StudyPart, type StudyPreset } from './define.ts';

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

/** Parts of a study planned from the definitions alone (no fit needed). */
export type StudyParts = Record<'iso' | 'lr' | 'sched', SweepDefinition>;

/** The parts of the preset as validated sweeps (what every stage plans from). */
export function studyParts(study: StudyDefinition, preset: string, source: string): StudyParts {
  const p = presetOf(study, preset);
  return {
    iso: partDefinition(study, preset, 'iso', p.isoflop, source),
    lr: partDefinition(study, preset, 'lr', p.lrBatch, source),
    sched: partDefinition(study, preset, 'sched', p.schedules, source),
  };
}

/**
 * The first-stage plan: what needs no fit. With an LR scan: the scan + LR × batch + schedules +
 * ablations (the isoFLOP cells follow once the scan has picked each size's LR); without one the
 * isoFLOP cells come first, at the isoFLOP part's LR.
 */
export function planStudy(
  study: StudyDefinition,
  preset: string,
  source: string,
  options: { corpusCheck?: boolean; keep?: ShareOptions['keep'] } = {},
): { plan: RunPlan; parts: StudyParts; corpus: { repeated: CorpusPasses[]; dropped: CorpusPasses[] } } {
  const p = presetOf(study, preset);
  const parts = studyParts(study, preset, source);
  checkArmBatches(p, parts, `${source} presets.${preset}`);
  const plans = [
    p.lrScan ? scanPlan(study, preset, parts.iso, source) : expandChecked(parts.iso, source),
    expandChecked(parts.lr, source),
    expandChecked(parts.sched, source),
    ...(p.ablations ? [ablationPlan(study, preset, parts.iso, source)] : []),
  ];
  // Each distinct (configuration, seed) once: the ablations' shared baseline arm trains once.
  let { plan } = shareRepeatedRuns(mergePlans(`${study.name}-${preset}`, p.description ?? study.description, plans, undefined), { keep: options.keep });
  const corpus = { repeated: [] as CorpusPasses[], dropped: [] as CorpusPasses[] };
  if (options.corpusCheck !== false) {
    // Runs beyond one pass over the corpus: this stage's, and the isoFLOP cells planned after the
    // scan (their tokens do not depend on the LR it picks), so a preset the corpus cannot hold is
    // refused before anything trains.
    const field = `${source} presets.${preset}.maxEpochs`;
    const fitted = fitPlanToCorpus(plan, corpusPasses(plan), p.maxEpochs, field);
    plan = fitted.plan;
    const cells = p.lrScan ? isoflopPlan(parts.iso, undefined, source) : undefined;
    const later = cells ? fitPlanToCorpus(cells, corpusPasses(cells), p.maxEpochs, field) : undefined;
    corpus.repeated.push(...fitted.repeated, ...(later?.repeated ?? []));
    corpus.dropped.push(...fitted.dropped, ...(later?.dropped ?? []));
    throwOnErrors(source, checkCorpus(plan));
  }
  return { plan, parts, corpus };
}

/** A run that needs more than one pass over the corpus's train split, and how many. */
export interface CorpusPasses {
  runId: string;
  passes: number;
}

/**
 * A plan against its corpus (presets.<p>.maxEpochs, src/study/define.ts): a run that needs more
 * than one pass over the train split (`passes`, from src/sweep/prepare.ts corpusPasses) trains with
 * `data.repeat` when it needs at most `maxEpochs`, and leaves the plan (into `skipped`, with its
 * passes) when it needs more. Without `maxEpochs`, any such run is a ConfigError naming them all
 * and the fix. Pure.
 */
export function fitPlanToCorpus(plan: RunPlan, passes: ReadonlyMap<string, number>, maxEpochs: number | undefined, field: string): { plan: RunPlan; repeated: CorpusPasses[]; dropped: CorpusPasses[] } {
  const over = plan.runs.flatMap((r) => {
    const p = passes.get(r.runId);
    return p !== undefined && p > 1 && r.config.data?.repeat !== true ? [{ runId: r.runId, passes: p }] : [];
  });
  const text = (xs: CorpusPasses[]) => xs.map((x) => `${x.runId} (${x.passes.toFixed(2)} passes)`).join(', ');
  if (over.length > 0 && maxEpochs === undefined) {
    throw new ConfigError(
      field,
      'not set',
      'Set it (e.g. 2: a few passes over repeated data cost little, Muennighoff et al. 2023, arXiv 2305.16264), lower the budgets, or use a larger corpus.',
      `${over.length} run(s) need more than one pass over the corpus's train split: ${text(over)}`,
    );
  }
  const repeated = over.filter((x) => x.passes <= maxEpochs!);
  const dropped = over.filter((x) => x.passes > maxEpochs!);
  const repeat = new Set(repeated.map((x) => x.runId));
  const drop = new Set(dropped.map((x) => x.runId));
  return {
    plan: {
      ...plan,
      runs: plan.runs.filter((r) => !drop.has(r.runId)).map((r) => (repeat.has(r.runId) ? { ...r, config: { ...r.config, data: { ...r.config.data, repeat: true } } } : r)),
      skipped: [...plan.skipped, ...dropped.map((x) => ({ label: x.runId, reason: `needs ${x.passes.toFixed(2)} passes over the corpus's train split, more than ${field} = ${maxEpochs}` }))],
    },
    repeated,
    dropped,
  };
}

/**
 * Arms whose base LR is the grid's best at their batch need that batch in the grid: refused at
 * planning, not discovered after the grid has trained.
 */
function checkArmBatches(p: StudyPreset, parts: StudyParts, at: string): void {
  const grid = parts.lr.kind === 'lr-batch' ? parts.lr.batchSizes : [];
  for (const [key, arm] of [['expertLr', p.expertLr], ['confirm', p.confirm]] as const) {
    if (arm && arm.lr === undefined && !grid.includes(arm.batchSize)) {
      throw new ConfigError(
        `${at}.${key}.batchSize`,
        arm.batchSize,
        `Use a batch size of the LR × batch grid (${grid.join(', ')}) or state ${key}.lr.`,
        'the base LR is the grid\'s best LR at this batch, and the grid has no such batch',
      );
    }
  }
}

// ---------------------------------------------------------------------------------------------
// A learning rate per size (the isoFLOP cells' LR from a scan; docs/references.md#isoflop-design)

/** The scan's run tags: a grid point naming the stage, the size and the LR. */
export interface LrScanPoint {
  stage: 'lr-scan';
  size: number;
  lr: number;
  budgetFlops: number;
}

/** Each size's smallest isoFLOP budget (its shortest cell, after the tokensPerParam filter). */
export function smallestBudgets(isoPlan: Pick<RunPlan, 'runs'>): Map<number, number> {
  const out = new Map<number, number>();
  for (const r of isoPlan.runs) {
    const size = r.targetActivatedParams ?? r.derived.activatedParams;
    const b = r.budgetFlops;
    if (b !== undefined && (out.get(size) ?? Infinity) > b) out.set(size, b);
  }
  return out;
}

/**
 * The LR scan: every isoFLOP size trains each of lrScan.lrs at its smallest isoFLOP budget, with
 * the isoFLOP part's batch, schedule and data (the same cell as its shortest isoFLOP run, LR aside).
 */
export function scanPlan(
  study: StudyDefinition,
  preset: string,
  isoPart: SweepDefinition,
  source: string,
  /** Only these sizes, at these LRs (the edge extension); default every size at lrScan.lrs. */
  only?: ReadonlyMap<number, number[]>,
): RunPlan {
  const p = presetOf(study, preset);
  if (!p.lrScan) throw new Error('scanPlan: the preset has no lrScan');
  if (isoPart.kind !== 'isoflop') throw new Error('scanPlan: expected the isoflop part');
  const batchSize = isoPart.base.train?.batchSize;
  if (batchSize === undefined) throw new ConfigError(`${source} presets.${preset}.isoflop.base.train.batchSize`, undefined, 'Set the isoFLOP batch size: the LR scan trains with it.', 'no batch size');
  const plans: RunPlan[] = [];
  for (const [size, budget] of smallestBudgets(expandChecked(isoPart, source))) {
    const lrs = only ? only.get(size) : p.lrScan.lrs;
    if (!lrs || lrs.length === 0) continue;
    const def = partDefinition(
      study,
      preset,
      'scan',
      {
        kind: 'lr-batch',
        description: 'LR scan per size at its smallest isoFLOP budget',
        family: isoPart.family,
        activatedParams: size,
        lrs,
        batchSizes: [batchSize],
        budgets: [budget],
        seeds: p.lrScan.seeds ?? isoPart.seeds,
        checks: isoPart.checks,
        computeFormula: isoPart.computeFormula,
        computeParams: isoPart.computeParams,
        base: p.lrScan.valWindows === undefined ? isoPart.base : { ...isoPart.base, data: { ...isoPart.base.data, valWindows: p.lrScan.valWindows } },
      },
      source,
    );
    const plan = expandChecked(def, source);
    plans.push({
      ...plan,
      runs: plan.runs.map((r) => ({ ...r, kind: 'grid', tags: { study: 'grid', point: { stage: 'lr-scan', size, lr: r.lr, budgetFlops: budget } satisfies LrScanPoint, seed: r.seed } })),
    });
  }
  return mergePlans(partSweepName(study.name, preset, 'scan'), undefined, plans, undefined);
}

/** One finished (or failed) scan run: final validation loss, undefined when it diverged or failed. */
export interface LrScanResult {
  size: number;
  lr: number;
  seed: number;
  finalValLoss?: number;
}

/** A size's picked LR and how it was picked. */
export interface PickedLr {
  size: number;
  /** The LR the isoFLOP cells of this size train at (null: no LR of the scan finished). */
  lr: number | null;
  /** The scanned LR with the lowest mean final loss over seeds, and that mean. */
  best: { lr: number; meanLoss: number } | null;
  /** 'low' / 'high': the best LR is the scan's lowest / highest, so the optimum may lie beyond it. */
  edge: 'low' | 'high' | null;
  /** Mean final loss per scanned LR (Infinity where a seed diverged or failed), ascending LR. */
  means: { lr: number; meanLoss: number }[];
}

/** The rule pickLrPerSize applies, as the report states it. */
export const LR_RULE =
  'per size, the mean final validation loss over seeds at each scanned LR (a diverged or failed seed makes the LR ineligible); ' +
  'the LR of the lowest mean, refined to the vertex of the parabola through it and its two neighbours in log LR when both exist ' +
  '(rounded to 3 significant digits); at the scan\'s lowest or highest LR the edge LR itself, flagged';

/**
 * The per-size LR rule (pure): see LR_RULE. The parabola in log LR makes the pick independent of
 * the grid's spacing when the loss is locally quadratic in log LR (the usual shape near the optimum).
 */
export function pickLrPerSize(results: readonly LrScanResult[]): PickedLr[] {
  const bySize = new Map<number, Map<number, (number | undefined)[]>>();
  for (const r of results) {
    const lrs = bySize.get(r.size) ?? new Map<number, (number | undefined)[]>();
    bySize.set(r.size, lrs);
    lrs.set(r.lr, [...(lrs.get(r.lr) ?? []), r.finalValLoss !== undefined && Number.isFinite(r.finalValLoss) ? r.finalValLoss : undefined]);
  }
  return [...bySize.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([size, lrs]) => {
      const means = [...lrs.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([lr, losses]) => ({ lr, meanLoss: losses.some((l) => l === undefined) ? Infinity : (losses as number[]).reduce((s, l) => s + l, 0) / losses.length }));
      let i = -1;
      means.forEach((m, k) => {
        if (Number.isFinite(m.meanLoss) && (i < 0 || m.meanLoss < means[i].meanLoss)) i = k;
      });
      if (i < 0) return { size, lr: null, best: null, edge: null, means };
      const best = means[i];
      const edge = i === 0 ? 'low' : i === means.length - 1 ? 'high' : null;
      let lr = best.lr;
      if (edge === null && Number.isFinite(means[i - 1].meanLoss) && Number.isFinite(means[i + 1].meanLoss)) {
        lr = parabolaVertexLogX(means[i - 1], best, means[i + 1]);
      }
      return { size, lr: Number(lr.toPrecision(3)), best, edge, means };
    });
}

/**
 * The edge extension (pure): for each size whose best scanned LR is the lowest or the highest, the
 * next LR beyond it — that edge times (or divided by) the ratio of the two outermost LRs on that
 * side, rounded to 3 significant digits — while the size has had fewer than `maxExtra` LRs beyond
 * the preset's own scan on that side. A size whose extension diverged (its new edge LR is not
 * eligible) is no longer at an edge, so it stops by itself.
 */
export function scanExtension(picked: readonly PickedLr[], scanned: readonly number[], maxExtra: number): Map<number, number[]> {
  const out = new Map<number, number[]>();
  if (maxExtra <= 0) return out;
  const lo = Math.min(...scanned);
  const hi = Math.max(...scanned);
  for (const pk of picked) {
    if (!pk.edge || !pk.best || pk.means.length < 2) continue;
    const lrs = pk.means.map((m) => m.lr);
    const beyond = pk.edge === 'high' ? lrs.filter((lr) => lr > hi * (1 + 1e-9)).length : lrs.filter((lr) => lr < lo * (1 - 1e-9)).length;
    if (beyond >= maxExtra) continue;
    const [a, b] = pk.edge === 'high' ? [lrs[lrs.length - 2], lrs[lrs.length - 1]] : [lrs[1], lrs[0]];
    const next = Number((b * (b / a)).toPrecision(3));
    if (!lrs.includes(next)) out.set(pk.size, [next]);
  }
  return out;
}

/** The vertex of the parabola through three points in (log lr, loss), kept between the outer two. */
function parabolaVertexLogX(a: { lr: number; meanLoss: number }, b: { lr: number; meanLoss: number }, c: { lr: number; meanLoss: number }): number {
  const [x0, x1, x2] = [Math.log(a.lr), Math.log(b.lr), Math.log(c.lr)];
  const [y0, y1, y2] = [a.meanLoss, b.meanLoss, c.meanLoss];
  const d1 = (y1 - y0) / (x1 - x0);
  const d2 = (y2 - y1) / (x2 - x1);
  const curvature = (d2 - d1) / (x2 - x0);
  if (!(curvature > 0)) return b.lr;
  const x = (x0 + x1) / 2 - d1 / (2 * curvature);
  return Math.exp(Math.min(x2, Math.max(x0, x)));
}

/** A grid point written by lrScanPlan: the scan's stage, size, LR and budget. */
function isLrScanPoint(point: Record<string, unknown>): point is Record<string, unknown> & LrScanPoint {
  return point.stage === 'lr-scan' && typeof point.size === 'number' && typeof point.lr === 'number' && typeof point.budgetFlops === 'number';
}

/** The scan's results as read from a loaded sweep (runs tagged as lr-scan grid points). */
export function scanResults(sweep: Pick<Sweep, 'runs'>): LrScanResult[] {
  const out: LrScanResult[] = [];
  for (const r of sweep.runs) {
    const t = r.tags;
    if (t?.study !== 'grid' || !isLrScanPoint(t.point)) continue;
    const point = t.point;
    out.push({ size: point.size, lr: point.lr, seed: t.seed, finalValLoss: r.summary?.status === 'done' ? r.summary.finalValLoss : undefined });
  }
  return out;
}

/**
 * The isoFLOP cells, each at its size's LR (`lrs`: size → LR; sizes without one keep the isoFLOP
 * part's LR). Tokens do not depend on the LR, so the cells are those of the definition.
 */
export function isoflopPlan(isoPart: SweepDefinition, lrs: ReadonlyMap<number, number> | undefined, source: string): RunPlan {
  const plan = expandChecked(isoPart, source);
  if (!lrs) return plan;
  return {
    ...plan,
    runs: plan.runs.map((r) => {
      const size = r.targetActivatedParams ?? r.derived.activatedParams;
      const lr = lrs.get(size);
      if (lr === undefined || r.tags.study !== 'isoflop') return r;
      return { ...r, lr, config: { ...r.config, train: { ...r.config.train, lr } }, tags: { ...r.tags, lr } };
    }),
  };
}

// ---------------------------------------------------------------------------------------------
// Ablations at equal compute (docs/references.md#recycle-routing, docs/references.md#attention)

/** Each comparison's two arms: the arm names (the tag contract) and the model field each sets. */
export const ABLATION_ARMS: Record<AblationComparison, { field: 'overflowPolicy' | 'claShareFactor' | 'numKvHeads'; arms: [string, unknown][] }> = {
  routing: { field: 'overflowPolicy', arms: [['recycle', 'recycle'], ['drop', 'drop']] },
  cla: { field: 'claShareFactor', arms: [['CLA 2', 2], ['no CLA', 1]] },
  'kv-heads': { field: 'numKvHeads', arms: [['1 KV head', 1], ['2 KV heads', 2]] },
};

/**
 * The ablations: the isoFLOP family's model at ablations.activatedParams, each comparison's arms
 * changing one field of it; each arm trains budget / (its exact FLOPs per token) tokens, so the
 * arms of a comparison spend equal compute. Paired by seed.
 */
export function ablationPlan(study: StudyDefinition, preset: string, isoPart: SweepDefinition, source: string): RunPlan {
  const a = presetOf(study, preset).ablations;
  if (!a) throw new Error('ablationPlan: the preset has no ablations');
  if (!isoPart.family) throw new Error('ablationPlan: the isoflop part has no family');
  const at = `${source} presets.${preset}.ablations`;
  let model: UserModelConfig;
  try {
    model = buildFamilyModel(isoPart.family, a.activatedParams, (isoPart.base.model ?? {}) as Partial<UserModelConfig>);
  } catch (err) {
    throw new ConfigError(`${at}.activatedParams`, a.activatedParams, 'Use a size the isoFLOP family reaches (one of isoflop.activatedParams).', (err as Error).message);
  }
  const plans: RunPlan[] = [];
  for (const comparison of a.comparisons) {
    const { field, arms } = ABLATION_ARMS[comparison];
    const built = resolveModelConfig(ModelConfigSchema.parse(model));
    if (comparison === 'cla' && built.numLayers < 2) {
      throw new ConfigError(`${at}.comparisons`, comparison, 'Ablate CLA on a size with at least 2 layers.', `the ${a.activatedParams} model has one layer: CLA has nothing to share`);
    }
    if (comparison === 'kv-heads' && built.numHeads % 2 !== 0) {
      throw new ConfigError(`${at}.comparisons`, comparison, 'Ablate KV heads on a size with an even number of query heads.', `the ${a.activatedParams} model has ${built.numHeads} query head(s)`);
    }
    const resolved = arms.map(([, value]) => resolveModelConfig(ModelConfigSchema.parse({ ...model, [field]: value })));
    const tokens = resolved.map((m) => roundToSteps(a.budget / flopsPerToken(m, { seqLen: m.seqLen }), a.batchSize * m.seqLen).tokens);
    const axes: Record<string, unknown[]> = { [`model.${field}`]: arms.map(([, v]) => v) };
    if (tokens[0] !== tokens[1]) axes['train.tokens'] = tokens;
    const def = parseSweep(
      {
        kind: 'grid',
        name: `${partSweepName(study.name, preset, 'ablate')}-${comparison}`,
        description: `ablation at equal compute (${a.budget.toExponential(0)} FLOPs): ${arms.map(([n]) => n).join(' vs ')}`,
        mode: 'zip',
        axes,
        seeds: a.seeds,
        computeFormula: isoPart.computeFormula,
        computeParams: isoPart.computeParams,
        base: {
          model,
          data: isoPart.base.data,
          train: { ...isoPart.base.train, batchSize: a.batchSize, lr: a.lr, tokens: tokens[0] },
        },
      },
      `${at}.${comparison}`,
    );
    const plan = expandChecked(def, source);
    plans.push({
      ...plan,
      runs: plan.runs.map((r) => {
        const k = arms.findIndex(([, v]) => (r.config.model as Record<string, unknown> | undefined)?.[field] === v);
        return { ...r, budgetFlops: a.budget, tags: { study: 'arm', group: 'ablation', comparison, name: arms[k][0], seed: r.seed } };
      }),
    });
  }
  return mergePlans(partSweepName(study.name, preset, 'ablate'), undefined, plans, undefined);
}

// ---------------------------------------------------------------------------------------------
// Expert LR as an experiment (docs/references.md#expert-lr)

/** The arm names of the expert-LR experiment. */
export const expertLrArmName = (group: 'expert-lr' | 'lr-control', factor: number): string =>
  group === 'expert-lr' ? `specialized experts ×${factor}` : `every group ×${factor}`;

/**
 * The expert-LR experiment: the lr-batch part's model at expertLr.batchSize and tokens (the
 * isoFLOP part's validation data), base LR `lr`; arm expert-lr multiplies the specialized experts' LR by each factor, arm lr-control every
 * group's LR. Tagged per factor, paired by seed.
 */
export function expertLrPlan(study: StudyDefinition, preset: string, parts: Pick<StudyParts, 'iso' | 'lr'>, lr: number, source: string): RunPlan {
  const lrPart = parts.lr;
  const e = presetOf(study, preset).expertLr;
  if (!e) throw new Error('expertLrPlan: the preset has no expertLr');
  if (lrPart.kind !== 'lr-batch') throw new Error('expertLrPlan: expected the lr-batch part');
  const base = lrPart.base ?? {};
  const arm = (part: StudyPart, group: 'expert-lr' | 'lr-control'): RunPlan => {
    const axes =
      group === 'expert-lr'
        ? { 'train.expertLr': e.factors.map((f) => ({ mode: 'multiplier', multiplier: f })) }
        : { 'train.lr': e.factors.map((f) => Number((lr * f).toPrecision(12))) };
    const def = partDefinition(
      study,
      preset,
      part,
      {
        kind: 'grid',
        description: group === 'expert-lr' ? "the specialized experts' LR × each factor, every other group at the base LR" : "every group's LR × each factor (the control)",
        ...(lrPart.family ? { family: lrPart.family } : {}),
        ...(lrPart.activatedParams !== undefined ? { activatedParams: lrPart.activatedParams } : {}),
        seeds: e.seeds,
        computeFormula: lrPart.computeFormula,
        computeParams: lrPart.computeParams,
        // Scored on the study's validation set (the isoFLOP part's data), whatever the grid's.
        base: { ...base, data: parts.iso.base.data ?? base.data, train: { ...base.train, batchSize: e.batchSize, tokens: e.tokens, lr, expertLr: { mode: 'same' } } },
        mode: 'grid',
        axes,
      },
      source,
    );
    const plan = expandChecked(def, source);
    return {
      ...plan,
      runs: plan.runs.map((r) => {
        const factor = group === 'expert-lr' ? (r.point?.['train.expertLr'] as { multiplier: number }).multiplier : e.factors[e.factors.findIndex((f) => Number((lr * f).toPrecision(12)) === r.lr)];
        const tags: ArmTags = { study: 'arm', group, name: expertLrArmName(group, factor), factor, seed: r.seed };
        return { ...r, tags };
      }),
    };
  };
  const plans = [arm('elr', 'expert-lr'), ...(e.control === false ? [] : [arm('lrc', 'lr-control')])];
  return mergePlans(partSweepName(study.name, preset, 'elr'), undefined, plans, undefined);
}

/**
 * The confirmation sweep: the LR-grid model at `confirm.batchSize`, base LR = the grid's best LR at
 * that batch (or `confirm.lr`), once with one LR for every group and once with the specialized
 * experts on the surge rule (train.expertLr = {mode: 'surge', bNoise}).
 */
export function confirmDefinition(study: StudyDefinition, preset: string, lrPart: SweepDefinition, surge: { bNoise: number; lr: number }, source: string): SweepDefinition {
  const p = presetOf(study, preset);
  if (!p.confirm) throw new Error('confirmDefinition: the preset has no confirm');
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
  return presetOf(study, preset).confirm ? confirmPlan(study, preset, lrPart, { bNoise: 1e4, lr: 1e-3 }, source).runs.length : 0;
}

// ---------------------------------------------------------------------------------------------
// The whole study as planned before anything trains (moelab reproduce --dry-run)

/** Placeholder LR for stages whose LR a later fit decides: expanded only for counts, tokens and FLOPs. */
const LATER_LR = 1e-3;

/** One stage of the study: its runs and when they are planned. */
export interface StudyStage {
  stage: 'lr-scan' | 'lr-scan-extension' | 'lr-batch' | 'schedules' | 'ablations' | 'isoflop' | 'expert-lr' | 'confirmation';
  /** 'definitions': planned from the preset alone; otherwise the fit it waits for. */
  plannedAfter: 'definitions' | 'the LR scan' | 'the surge fit';
  /** What the later fit decides (the fields printed as null until then). */
  decidedLater?: string;
  runs: PlanRun[];
}

/** Every stage of the preset with its runs (fit-dependent LRs at a placeholder, marked). */
export function studyStages(study: StudyDefinition, preset: string, source: string): StudyStage[] {
  const p = presetOf(study, preset);
  const parts = studyParts(study, preset, source);
  const stages: StudyStage[] = [];
  if (p.lrScan) {
    stages.push({ stage: 'lr-scan', plannedAfter: 'definitions', runs: scanPlan(study, preset, parts.iso, source).runs });
  } else {
    stages.push({ stage: 'isoflop', plannedAfter: 'definitions', runs: expandChecked(parts.iso, source).runs });
  }
  stages.push({ stage: 'lr-batch', plannedAfter: 'definitions', runs: expandChecked(parts.lr, source).runs });
  stages.push({ stage: 'schedules', plannedAfter: 'definitions', runs: expandChecked(parts.sched, source).runs });
  if (p.ablations) stages.push({ stage: 'ablations', plannedAfter: 'definitions', runs: ablationPlan(study, preset, parts.iso, source).runs });
  if (p.lrScan) {
    const extra = p.lrScan.extendAtEdges ?? 0;
    if (extra > 0) {
      const seeds = (p.lrScan.seeds ?? parts.iso.seeds ?? [0]).length;
      stages.push({
        stage: 'lr-scan-extension',
        plannedAfter: 'the LR scan',
        decidedLater: `which sizes' best LR is at the scan's edge: each such size trains up to ${extra} more LR(s) beyond it, ${seeds} seed(s) each (at most ${extra * seeds * smallestBudgets(expandChecked(parts.iso, source)).size} runs, none when no size is at an edge)`,
        runs: [],
      });
    }
    stages.push({ stage: 'isoflop', plannedAfter: 'the LR scan', decidedLater: "each size's LR (pickLrPerSize)", runs: isoflopPlan(parts.iso, undefined, source).runs });
  }
  if (p.expertLr) {
    stages.push({
      stage: 'expert-lr',
      plannedAfter: p.expertLr.lr === undefined ? 'the surge fit' : 'definitions',
      ...(p.expertLr.lr === undefined ? { decidedLater: `the base LR (the grid's best LR at ${p.expertLr.batchSize} sequences)` } : {}),
      runs: expertLrPlan(study, preset, parts, p.expertLr.lr ?? LATER_LR, source).runs,
    });
  }
  if (p.confirm) {
    stages.push({
      stage: 'confirmation',
      plannedAfter: 'the surge fit',
      decidedLater: 'B_noise (the expert multiplier) and the base LR',
      runs: confirmPlan(study, preset, parts.lr, { bNoise: 1e4, lr: p.confirm.lr ?? LATER_LR }, source).runs,
    });
  }
  return stages;
}

/** One run's predicted seconds on one worker (src/study/time-model.ts; pure). */
export function runSeconds(run: Pick<PlanRun, 'derived' | 'config'>, t: NonNullable<StudyPreset['timeModel']>): number {
  return predictRunSeconds(runWorkOf(run.config, run.derived), t.coefficients);
}

/**
 * Wall seconds of `runs` trained together on the preset's workers: each run's predicted seconds
 * (runSeconds), the runs taken in plan order by the first free worker (makespan; pure).
 */
export function estimateSeconds(runs: readonly Pick<PlanRun, 'derived' | 'config'>[], t: NonNullable<StudyPreset['timeModel']>): number {
  return makespan(
    runs.map((r) => runSeconds(r, t)),
    t.workers,
  );
}

/** An arm of the dry run trained as another run: its run id, stage and arm tags. */
export interface DryRunSharedArm {
  runId: string;
  stage: StudyStage['stage'];
  kind: string;
  arm: DryRunEntry['arm'];
}

/** A planned run as `--dry-run --json` prints it (null: decided by a later fit). */
export interface DryRunEntry {
  runId: string;
  stage: StudyStage['stage'];
  /** The run tags' study kind. */
  kind: string;
  /** Activated parameters (the family's target, else the built model's). */
  size: number;
  /** The compute budget (FLOPs) of isoFLOP, scan and ablation runs. */
  budget: number | null;
  tokens: number;
  steps: number;
  computeFlops: number;
  lr: number | null;
  /** Sequences per step. */
  batch: number;
  batchTokens: number;
  seed: number;
  /** Arms: group, name, factor / comparison. */
  arm: { group: string; name: string; factor?: number; comparison?: string } | null;
  layers: number;
  kvHeads: number;
  /** Predicted seconds on one worker (null without a time model). */
  estSeconds: number | null;
  /** Other arms that train this same configuration and seed: planned once, as this run (src/sweep/share.ts). */
  shared: DryRunSharedArm[];
}

export interface StudyDryRun {
  study: string;
  preset: string;
  description?: string;
  departures: string[];
  stages: {
    stage: StudyStage['stage'];
    plannedAfter: StudyStage['plannedAfter'];
    decidedLater?: string;
    /** Runs this stage trains. */
    runs: number;
    /** Arms of this stage trained as a run listed earlier (not counted in `runs`). */
    sharedArms: number;
    computeFlops: number;
    /** The stage's runs alone on the preset's workers. */
    estSeconds: number | null;
  }[];
  /**
   * estSeconds: the stages trained together (those planned at the same point) one batch after
   * another; estSecondsLoaded: the same × the time model's `loaded` factor (null without one).
   */
  totals: { runs: number; sharedArms: number; computeFlops: number; estSeconds: number | null; estSecondsLoaded: number | null; estimate: string | null };
  /** The time model's basis, held-out error and load factor (null without a time model). */
  timeModel: { basis: string; heldOut: string; workers: number; loaded: { factor: number; basis: string } | null } | null;
  runs: DryRunEntry[];
}

const armOf = (t: PlanRun['tags']): DryRunEntry['arm'] =>
  t.study === 'arm' ? { group: t.group, name: t.name, ...(t.factor !== undefined ? { factor: t.factor } : {}), ...(t.comparison !== undefined ? { comparison: t.comparison } : {}) } : null;

/**
 * The study's plan as data: every stage's runs with their tags, counts, FLOPs and the time
 * estimate. Each distinct (configuration, seed) is listed once, with the arms it also stands for;
 * a stage whose LR a later fit decides shares runs only within itself (its LR is a placeholder here).
 */
export function studyDryRun(study: StudyDefinition, preset: string, source: string): StudyDryRun {
  const p = presetOf(study, preset);
  const tm = p.timeModel;
  const stages = studyStages(study, preset, source);
  const stageOf = new Map(stages.flatMap((st) => st.runs.map((r) => [r.runId, st] as const)));
  const flat = stages.flatMap((st) => st.runs);
  const { plan } = shareRepeatedRuns({ runs: flat.map((r, index) => ({ ...r, index })), totals: totalsOf(flat) }, { scope: (r) => (stageOf.get(r.runId)?.decidedLater ? stageOf.get(r.runId)!.stage : '') });
  const kept = plan.runs;
  const est = (runs: readonly PlanRun[]) => (tm ? estimateSeconds(runs, tm) : null);
  const runs = kept.map((r): DryRunEntry => {
    const st = stageOf.get(r.runId)!;
    const later = st.decidedLater !== undefined;
    return {
      runId: r.runId,
      stage: st.stage,
      kind: r.tags.study,
      size: r.targetActivatedParams ?? r.derived.activatedParams,
      budget: r.budgetFlops ?? null,
      tokens: r.derived.tokens,
      steps: r.derived.steps,
      computeFlops: r.derived.computeFlops,
      lr: later ? null : r.lr,
      batch: r.batchSize,
      batchTokens: r.batchTokens,
      seed: r.seed,
      arm: armOf(r.tags),
      layers: r.config.model?.numLayers ?? 0,
      kvHeads: r.config.model?.numKvHeads ?? r.config.model?.numHeads ?? 0,
      estSeconds: tm ? runSeconds(r, tm) : null,
      shared: (r.shared ?? []).map((a) => ({ runId: a.runId, stage: stageOf.get(a.runId)!.stage, kind: a.tags.study, arm: armOf(a.tags) })),
    };
  });
  const ofStage = (st: StudyStage) => kept.filter((r) => stageOf.get(r.runId) === st);
  const sharedArms = (st: StudyStage) => kept.reduce((n, r) => n + (r.shared ?? []).filter((a) => stageOf.get(a.runId) === st).length, 0);
  // Stages planned at the same point train together (one runner call), one batch after another.
  const batches = [...new Set(stages.map((s) => s.plannedAfter))].map((when) => kept.filter((r) => stageOf.get(r.runId)!.plannedAfter === when));
  const total = tm ? batches.reduce((s, b) => s + (est(b) ?? 0), 0) : null;
  const armsShared = stages.reduce((n, st) => n + sharedArms(st), 0);
  return {
    study: study.name,
    preset,
    ...(p.description ? { description: p.description } : {}),
    departures: p.departures ?? [],
    stages: stages.map((s) => ({
      stage: s.stage,
      plannedAfter: s.plannedAfter,
      ...(s.decidedLater ? { decidedLater: s.decidedLater } : {}),
      runs: ofStage(s).length,
      sharedArms: sharedArms(s),
      computeFlops: ofStage(s).reduce((x, r) => x + r.derived.computeFlops, 0),
      estSeconds: est(ofStage(s)),
    })),
    totals: {
      runs: kept.length,
      sharedArms: armsShared,
      computeFlops: kept.reduce((x, r) => x + r.derived.computeFlops, 0),
      estSeconds: total,
      estSecondsLoaded: tm?.loaded && total !== null ? total * tm.loaded.factor : null,
      estimate:
        tm && total !== null
          ? `≈ ${(total / 60).toFixed(0)} min on ${tm.workers} worker(s)` +
            (tm.loaded ? `, ≈ ${((total * tm.loaded.factor) / 60).toFixed(0)} min on a loaded machine (×${tm.loaded.factor}: ${tm.loaded.basis})` : '') +
            ` (time model: ${tm.basis}; held out: ${tm.heldOut})`
          : null,
    },
    timeModel: tm ? { basis: tm.basis, heldOut: tm.heldOut, workers: tm.workers, loaded: tm.loaded ?? null } : null,
    runs,
  };
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
// The procedure: plan → train → (LR scan → isoFLOP) → surge fit → expert-LR arms → analyse → report

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

  // 1. Plan what needs no fit: the LR scan (or the isoFLOP cells at one LR), the LR × batch grid,
  // the schedules and the ablations. Runs of later stages from an earlier invocation drop out of
  // this plan (they sit at its end, so no other run moves) and come back unchanged below: each
  // later stage is a pure function of the finished runs before it.
  // Every stage plans each distinct (configuration, seed) once (src/sweep/share.ts); a run whose
  // folder has started stays a run of its own even when it repeats another (a folder planned before
  // runs were shared), and what the sharing changed against the saved plan is logged.
  const previous = existsSync(paths.plan) ? readPlan(paths.plan) : undefined;
  const keep = (runId: string) => runStarted(sweepDir, runId);
  const said = new Set<string>();
  const write = (plan: RunPlan) => {
    writePlanFiles(sweepDir, plan, record(plan));
    for (const line of describeSharing(previous, plan)) {
      if (!said.has(line)) log(line);
      said.add(line);
    }
  };
  const { plan: stage1, parts, corpus: passes } = planStudy(study, options.preset, source, { keep });
  const passesText = (xs: CorpusPasses[]) => xs.map((x) => `${x.runId} (${x.passes.toFixed(2)})`).join(', ');
  if (passes.repeated.length) log(`corpus: ${passes.repeated.length} run(s) need more than one pass over the train split and repeat it (maxEpochs ${preset.maxEpochs}): ${passesText(passes.repeated)}`);
  if (passes.dropped.length) {
    warnings.push(`corpus: ${passes.dropped.length} run(s) left out, needing more than maxEpochs = ${preset.maxEpochs} passes over the train split: ${passesText(passes.dropped)}`);
    log(warnings[warnings.length - 1]);
  }
  write(stage1);
  log(
    `study ${study.name} (${options.preset}): ${stage1.runs.length} runs (${preset.lrScan ? `LR scan ${countStage(stage1, 'lr-scan')}` : `isoFLOP ${countKind(stage1, 'isoflop')}`}, ` +
      `LR × batch ${countKind(stage1, 'lr-batch')}, schedules ${countKind(stage1, 'schedules')}, ablations ${countStage(stage1, 'ablation')}) in ${sweepDir}`,
  );
  let planned = stage1;
  const extend = async (more: RunPlan): Promise<RunStudyResult['status'] | undefined> => {
    planned = shareRepeatedRuns(mergePlans(stage1.sweep, stage1.description, [planned, more], stage1), { keep }).plan;
    write(planned);
    return stopped(await options.execute(sweepDir));
  };

  // 2. Train.
  const s1 = stopped(await options.execute(sweepDir));
  if (s1) return done(s1);

  // 3. With an LR scan: pick each size's LR (pure rule, written to fits/lr-scan.json), then plan
  // and train the isoFLOP cells at those LRs.
  let picked: PickedLr[] | undefined;
  if (preset.lrScan) {
    // Edge extension: a size whose best LR is the scan's lowest or highest trains one more LR
    // beyond it, up to lrScan.extendAtEdges times (scanExtension), before the LRs are picked.
    const gridLrs = preset.lrScan.lrs;
    /** Per size, the scan LRs outside the preset's grid (the extension's, from the runs themselves). */
    const beyondGrid = (): Map<number, number[]> => {
      const out = new Map<number, number[]>();
      for (const r of scanResults(loadSweep(sweepDir))) {
        if (gridLrs.includes(r.lr) || out.get(r.size)?.includes(r.lr)) continue;
        out.set(r.size, [...(out.get(r.size) ?? []), r.lr].sort((a, b) => a - b));
      }
      return out;
    };
    // A rerun first puts the extension runs an earlier run of the study trained back in the plan.
    const earlier = beyondGrid();
    if (earlier.size > 0) {
      const s = await extend(scanPlan(study, options.preset, parts.iso, source, earlier));
      if (s) return done(s);
    }
    for (let round = 0; round < (preset.lrScan.extendAtEdges ?? 0); round++) {
      const more = scanExtension(pickLrPerSize(scanResults(loadSweep(sweepDir))), gridLrs, preset.lrScan.extendAtEdges ?? 0);
      if (more.size === 0) break;
      log(`LR scan: extending past the edge: ${[...more].map(([size, lrs]) => `${size} at ${lrs.join(', ')}`).join('; ')}`);
      const s = await extend(scanPlan(study, options.preset, parts.iso, source, more));
      if (s) return done(s);
    }
    const extended = beyondGrid();
    picked = pickLrPerSize(scanResults(loadSweep(sweepDir)));
    const lrs = new Map<number, number>();
    for (const pk of picked) {
      if (pk.lr !== null) lrs.set(pk.size, pk.lr);
      else warnings.push(`LR scan: no LR finished for size ${pk.size}; its isoFLOP cells train at the isoFLOP part's LR`);
      if (pk.edge) warnings.push(`LR scan: size ${pk.size}'s best LR ${pk.best?.lr} is the scan's ${pk.edge === 'low' ? 'lowest' : 'highest'}; its optimum may lie beyond the scan`);
    }
    writeJsonAtomic(paths.fit('lr-scan'), {
      kind: 'lr-scan',
      rule: LR_RULE,
      picked,
      extendedAtEdges: Object.fromEntries([...extended].map(([size, lrs]) => [String(size), lrs])),
      provenance: provenance(),
    });
    log(`LR per size: ${picked.map((pk) => `${pk.size}: ${pk.lr ?? '–'}`).join(', ')}`);
    // The same corpus rule as when the study started (logged there): repeat or leave out.
    const cells = isoflopPlan(parts.iso, lrs, source);
    const s = await extend(fitPlanToCorpus(cells, corpusPasses(cells), preset.maxEpochs, `${source} presets.${options.preset}.maxEpochs`).plan);
    if (s) return done(s);
  }

  // 4. Analyse: the surge fit of the LR × batch grid, all the expert-LR stages need. The expert-LR
  // rule is evaluated at the confirmation runs' batch.
  const seqLen = stage1.runs.find((r) => r.kind === 'lr-batch')?.config.model?.seqLen ?? 128;
  const armBatch = preset.expertLr?.batchSize ?? preset.confirm?.batchSize;
  const analysisOptions: AnalysisOptions = {
    bootstrap: options.bootstrap,
    isoflopWindow: ISOFLOP_WINDOW,
    ...(armBatch !== undefined ? { expertLrBatchTokens: armBatch * seqLen } : {}),
  };
  const needSurge = (preset.expertLr && preset.expertLr.lr === undefined) || preset.confirm;
  let surge: AnalysisFit & { kind: 'surge' } | undefined;
  let surgeWarnings: string[] = [];
  if (needSurge) {
    log('fitting the surge law to the LR × batch grid');
    const trained = loadSweep(sweepDir);
    const surgeFits = await runFits(trained, planFits(trained, { ...analysisOptions, kinds: ['surge'] }));
    surge = latestFit(surgeFits.fits, 'surge') as (AnalysisFit & { kind: 'surge' }) | undefined;
    surgeWarnings = surgeFits.warnings;
  }
  const gridBestLr = (batchSize: number) => surge?.perBatch.find((b) => b.batchTokens === batchSize * seqLen)?.bestLr.value;

  // 5. Plan and train the arms planned after the surge fit: expert LR × factors with its control
  // (base LR = the grid's best at that batch, or the stated one), and the confirmation pair.
  const arms: RunPlan[] = [];
  if (preset.expertLr) {
    const lr = preset.expertLr.lr ?? gridBestLr(preset.expertLr.batchSize);
    if (lr === undefined) {
      warnings.push(
        surge
          ? `expert-LR arms skipped: the LR grid has no batch of ${preset.expertLr.batchSize} sequences; set presets.${options.preset}.expertLr.lr or use a batch of the grid`
          : `expert-LR arms skipped: the surge fit did not succeed (${surgeWarnings.join('; ') || 'no LR × batch runs'}); set presets.${options.preset}.expertLr.lr`,
      );
    } else {
      arms.push(expertLrPlan(study, options.preset, parts, lr, source));
      log(`expert LR: ${arms[0].runs.length} runs at base lr ${lr.toPrecision(3)}, factors ${preset.expertLr.factors.join(', ')}`);
    }
  }
  if (preset.confirm) {
    if (surge) {
      const lr = preset.confirm.lr ?? gridBestLr(preset.confirm.batchSize);
      if (lr === undefined) {
        warnings.push(`confirmation skipped: the LR grid has no batch of ${preset.confirm.batchSize} sequences; set presets.${options.preset}.confirm.lr or use a batch of the grid`);
      } else {
        const c = confirmPlan(study, options.preset, parts.lr, { bNoise: surge.params.Bnoise.value, lr }, source);
        arms.push(c);
        log(`confirmation: ${c.runs.length} runs at lr ${lr.toPrecision(3)}, B_noise ${surge.params.Bnoise.value.toPrecision(3)} tokens`);
      }
    } else {
      warnings.push(`confirmation skipped: the surge fit did not succeed (${surgeWarnings.join('; ') || 'no LR × batch runs'})`);
    }
  }
  if (arms.length > 0) {
    const s = await extend(mergePlans(stage1.sweep, undefined, arms, stage1));
    if (s) return done(s);
  }

  // 6. Analyse: every standard fit on every run (groups a fit cannot use are its decision, listed in
  // its record), written to fits/.
  log('fitting: compute formula, isoFLOP, parametric, surge, schedule law');
  const sweep = loadSweep(sweepDir);
  const fitted = await runFits(sweep, planFits(sweep, analysisOptions));
  warnings.push(...fitted.warnings);
  for (const f of fitted.fits) writeFitRecord(sweepDir, fitFileName(f), f);
  const corpusSpec = stage1.runs[0]?.config.data?.corpus ?? 'default';
  const corpus = corpusSpec === 'default' ? 'the embedded English corpus (≈17 MB, byte-level tokens)' : `corpus ${corpusSpec}`;
  // The comparisons (noise floor, paired differences across seeds, the expert-LR experiment, the
  // isoFLOP sensitivity, the schedule-law check: docs/statistics.md) decide which claims of the
  // side-by-side table are resolved at the measured noise.
  log('comparing arms across seeds and checking the isoFLOP sensitivity');
  const comparisons = analyseComparisons(sweep, fitted.fits);
  const comparison = paperComparison(comparisonInput(fitted.fits, comparisonRuns(sweep), corpus), comparisons);
  writeJsonAtomic(paths.fit('paper-comparison'), { kind: 'paper-comparison', study: study.name, preset: options.preset, rows: comparison, provenance: provenance() });

  // 7. Report: the sweep and fits/ as written (with any record `moelab fit` added), plus the comparison.
  const { buildReport } = await import('../report/build.ts');
  const { renderComparisons } = await import('../report/comparisons.ts');
  const final = loadSweep(sweepDir);
  const report = await buildReport(final, final.fits.flatMap((f) => asAnalysisFit(f) ?? []), {
    formats: options.formats,
    warnings: fitted.warnings,
    log,
    extraSections: [
      studyDesignSection(options.preset, preset, picked),
      ...renderComparisons(comparisons),
      {
        id: 'paper-comparison',
        title: 'moelab vs the paper (Hunyuan-Large, arXiv 2411.02265)',
        notes: [
          'Each quantity this study measured, next to the paper\'s value and how reliable docs/references.md judges its source. ' +
            'Intervals are 95%: bootstrap percentiles for fitted quantities (docs/fit.md), Student-t across paired seeds for differences (docs/statistics.md). ' +
            'A claim is "resolved" only when its interval excludes the alternative at the measured noise floor; the status column says which, and why not. ' +
            'The scales differ by 3–5 orders of magnitude, so agreement in exponents and ratios is the question; absolute constants are not expected to match.',
          ...fitted.warnings,
        ],
        figures: [],
        tables: [
          {
            id: 'paper-comparison',
            title: 'Side by side',
            columns: [...SIDE_BY_SIDE_COLUMNS],
            rows: comparison.map(sideBySideCells),
          },
        ],
      },
    ],
  });
  warnings.push(...report.warnings.slice(fitted.warnings.length)); // buildReport returns the fit warnings it was given first
  return { ...done('done'), reportPath: report.htmlPath, comparison };
}

/**
 * The report's account of the design: where this preset departs from the standard one, and each
 * size's LR with the rule that picked it (the scan's mean losses alongside).
 */
export function studyDesignSection(presetName: string, preset: StudyPreset, picked: readonly PickedLr[] | undefined) {
  const departures = preset.departures ?? [];
  return {
    id: 'study-design',
    title: `Study design (preset ${presetName})`,
    notes: [
      ...(departures.length ? [`Where the ${presetName} preset departs from the standard design:`, ...departures.map((d) => `– ${d}`)] : [`The ${presetName} preset follows the standard design.`]),
      picked ? `Learning rate per size: ${LR_RULE}.` : 'One learning rate for every isoFLOP size (no LR scan in this preset).',
      ...(picked && (preset.lrScan?.extendAtEdges ?? 0) > 0
        ? [
            `A size whose best LR was the scan's lowest or highest trained up to ${preset.lrScan!.extendAtEdges} more LR(s) beyond that edge, one at a time, ` +
              `before the pick (the grid's outer ratio further out each time; a diverged one ends it).` +
              extendedNote(picked, preset.lrScan!.lrs),
          ]
        : []),
      ...(picked ?? [])
        .filter((pk) => pk.edge && pk.best)
        .map((pk) => `Size ${pk.size}: its best scanned LR ${pk.best!.lr} is the scan's ${pk.edge === 'low' ? 'lowest' : 'highest'}, so its optimum may lie beyond the scan and its isoFLOP cells may not be at their best LR.`),
      `Batch and warmup are stated, not scanned: ${isoflopTrainText(preset)}.`,
    ],
    figures: [],
    tables: picked
      ? [
          {
            id: 'lr-per-size',
            title: 'LR per size (scan at each size\'s smallest isoFLOP budget)',
            columns: ['activated parameters', 'picked LR', 'best scanned LR', 'edge', 'mean final loss per scanned LR'],
            rows: picked.map((pk) => [
              String(pk.size),
              pk.lr === null ? '–' : String(pk.lr),
              pk.best ? String(pk.best.lr) : '–',
              pk.edge ?? '',
              pk.means.map((m) => `${m.lr}: ${Number.isFinite(m.meanLoss) ? m.meanLoss.toFixed(3) : 'failed'}`).join('; '),
            ]),
          },
        ]
      : [],
  };
}

/** Which sizes the edge extension reached, from the picks' scanned LRs (those outside the grid). */
function extendedNote(picked: readonly PickedLr[], grid: readonly number[]): string {
  const ext = picked
    .map((pk) => ({ size: pk.size, lrs: pk.means.map((m) => m.lr).filter((lr) => !grid.includes(lr)) }))
    .filter((e) => e.lrs.length > 0);
  return ext.length === 0 ? ' No size needed it.' : ` Extended: ${ext.map((e) => `${e.size} at ${e.lrs.join(', ')}`).join('; ')}.`;
}

/** The isoFLOP cells' batch and schedule as the preset states them. */
function isoflopTrainText(preset: StudyPreset): string {
  const train = (preset.isoflop.base?.train ?? {}) as { batchSize?: number; schedule?: { kind?: string; warmupFraction?: number; warmupSteps?: number } };
  const s = train.schedule ?? { kind: 'cosine', warmupFraction: 0.05 };
  const warmup = s.warmupSteps !== undefined ? `${s.warmupSteps} warmup steps` : `warmup ${((s.warmupFraction ?? 0.05) * 100).toFixed(0)}% of the run`;
  return `the isoFLOP cells train ${train.batchSize ?? '?'} sequences per step, ${s.kind ?? 'cosine'} schedule, ${warmup}`;
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

function countStage(plan: RunPlan, stage: 'lr-scan' | 'ablation'): number {
  return plan.runs.filter((r) => (stage === 'ablation' ? r.tags.study === 'arm' && r.tags.group === 'ablation' : r.tags.study === 'grid' && r.tags.point.stage === 'lr-scan')).length;
}
