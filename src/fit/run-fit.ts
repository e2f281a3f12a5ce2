// From data source to fit result: maps CSV columns or run-record fields onto each fit's rows,
// applies the row filters (drop the k highest losses, drop unfinished/diverged runs) and records
// what was used. Shared by `moelab fit` and by reports that run the standard fits themselves.
import { basename, extname } from 'node:path';
import { ConfigError, DataError } from '../errors.ts';
import type { SweepRun } from '../io/load.ts';
import type { MetricRow } from '../io/results.ts';
import { fitComputeFormula, type ComputeFit } from './compute-formula.ts';
import { fitCustom, type CustomFit } from './custom.ts';
import { hasColumn, numericColumn, readCsv, stringColumn, type Table } from './data.ts';
import { fitDeepseek, type DeepseekFit } from './deepseek.ts';
import { fitEnvelope, type EnvelopeFit, type TrainingCurve } from './envelope.ts';
import { createExpressionForm } from './expression.ts';
import { fitIsoflop, type IsoflopFit } from './isoflop.ts';
import { fitParametric, type ParametricFit } from './parametric.ts';
import { roundSignificant } from './points.ts';
import type { FitKind } from './record.ts';
import {
  checkRequestFields,
  FIT_KINDS,
  type ColumnMap,
  type EnvelopeRequest,
  type FitRequest,
  type RowFitRequest,
  type ScheduleRequest,
  type SurgeRequest,
} from './request.ts';
import { fitScheduleLaw, type LossCurve, type ScheduleFit } from './schedule-laws.ts';
import { fitSurge, type SurgeFit, type SurgeMethod } from './surge.ts';
import { fitSurgeStepsToTarget, type CurveRow, type SurgeCurvePoint } from './surge-steps.ts';

export * from './request.ts';

export type FitResult = ParametricFit | IsoflopFit | EnvelopeFit | ComputeFit | SurgeFit | DeepseekFit | ScheduleFit | CustomFit;

export const DEFAULT_COLUMNS: Required<Omit<ColumnMap, 'vars' | 'label' | 'group' | 'x2'>> = Object.freeze({
  N: 'N',
  D: 'D',
  C: 'C',
  loss: 'loss',
  budget: 'budget',
  lr: 'lr',
  batch: 'batchTokens',
  step: 'step',
  curve: 'curve',
});

/** Defaults overridden by the columns actually given (undefined entries keep the default). */
function resolveColumns(given: ColumnMap = {}): Required<Omit<ColumnMap, 'vars' | 'label' | 'group' | 'x2'>> & { label?: string } {
  const out: Record<string, string | undefined> = { ...DEFAULT_COLUMNS };
  for (const [k, v] of Object.entries(given)) if (k !== 'vars' && k !== 'group' && k !== 'x2' && typeof v === 'string') out[k] = v;
  return out as Required<Omit<ColumnMap, 'vars' | 'label' | 'group' | 'x2'>> & { label?: string };
}

/** The request field that names each column role (errors name it; the CLI maps it to its flag). */
const FIELD: Record<keyof Omit<ColumnMap, 'vars' | 'group' | 'x2'>, string> = {
  N: 'columns.N',
  D: 'columns.D',
  C: 'columns.C',
  loss: 'columns.loss',
  budget: 'columns.budget',
  lr: 'columns.lr',
  batch: 'columns.batch',
  step: 'columns.step',
  curve: 'columns.curve',
  label: 'columns.label',
};

/** Common intermediate row: whatever the source provides, with a label. */
interface Row {
  N?: number;
  D?: number;
  C?: number;
  loss?: number;
  budget?: number;
  lr?: number;
  batchTokens?: number;
  group?: string;
  x2?: number;
  /** Training seed (runs: tags.seed): replicates of one cell for the seed-level bootstrap. */
  seed?: number;
  /** Evaluation stderr of the loss (runs: summary.finalValLossStderr). */
  lossStderr?: number;
  vars: Record<string, number>;
  label: string;
}

interface Prepared {
  rows: Row[];
  columns: Record<string, string>;
  dropped: { row: string; reason: string }[];
  rowsGiven: number;
}

function applyDropHighest(p: Prepared, k: number | undefined): Prepared {
  if (!k) return p;
  if (!Number.isInteger(k) || k < 0 || k >= p.rows.length) {
    throw new ConfigError('dropHighest', k, `Use an integer from 0 to ${p.rows.length - 1}.`, 'out of range');
  }
  // Epoch's rule: keep rows whose loss is below the k-th largest loss.
  const sorted = p.rows.map((r) => r.loss as number).sort((a, b) => b - a);
  const threshold = sorted[k - 1];
  const kept: Row[] = [];
  const dropped = [...p.dropped];
  for (const r of p.rows) {
    if ((r.loss as number) >= threshold) dropped.push({ row: r.label, reason: `one of the ${k} highest losses (${r.loss})` });
    else kept.push(r);
  }
  return { ...p, rows: kept, dropped };
}

// ---------------------------------------------------------------------------------------------
// CSV → rows

const NEEDS: Record<Exclude<FitKind, 'schedule'>, (keyof Omit<ColumnMap, 'vars' | 'label' | 'group' | 'x2'>)[]> = {
  parametric: ['N', 'loss'],
  isoflop: ['N', 'loss'],
  envelope: ['curve', 'N', 'C', 'loss'],
  compute: ['N', 'D', 'C'],
  surge: ['batch', 'lr', 'loss'],
  deepseek: ['batch', 'lr', 'loss'],
  custom: ['loss'],
};

function tableRows(t: Table, req: RowFitRequest, extraVars: string[] = []): Prepared {
  const given = req.columns ?? {};
  const names = resolveColumns(given);
  const needs = new Set<keyof typeof FIELD>(NEEDS[req.kind]);
  const tokensFromFlops = req.kind === 'parametric' || req.kind === 'isoflop' ? req.tokensFromFlops : undefined;
  if (req.kind === 'deepseek' && !hasColumn(t, names.budget)) needs.add('C');
  if (req.kind === 'isoflop' && !hasColumn(t, names.budget)) needs.add('C');
  if (tokensFromFlops !== undefined) needs.add('C');
  if (req.kind === 'parametric' && tokensFromFlops === undefined) needs.add('D');
  if (req.kind === 'custom') for (const v of extraVars) if (v === 'N' || v === 'D' || v === 'C') needs.add(v);
  const columns: Record<string, string> = {};
  const col = (role: keyof typeof FIELD & keyof typeof names): number[] | null => {
    const name = names[role] as string;
    const explicit = (given as Record<string, unknown>)[role] !== undefined;
    if (!needs.has(role) && !explicit && !hasColumn(t, name)) return null;
    columns[role === 'batch' ? 'batchTokens' : role] = name;
    return numericColumn(t, name, FIELD[role]);
  };
  const N = col('N');
  let D = col('D');
  const C = col('C');
  const loss = col('loss');
  const budgetCol = col('budget');
  const lr = col('lr');
  const batch = col('batch');
  if (tokensFromFlops !== undefined) {
    if (!(tokensFromFlops > 0)) throw new ConfigError('tokensFromFlops', tokensFromFlops, 'Give the FLOPs per parameter per token, e.g. 6.', 'must be > 0');
    if (!N || !C) throw new ConfigError('tokensFromFlops', tokensFromFlops, 'Also give the N and C columns (columns.N, columns.C).', 'needs N and C');
    D = C.map((c, i) => c / (tokensFromFlops * N[i]));
    columns.D = `${names.C} / (${tokensFromFlops}·${names.N})`;
  }
  const vars: Record<string, number[]> = {};
  for (const [v, c] of Object.entries(given.vars ?? {})) vars[v] = numericColumn(t, c, `columns.vars.${v}`);
  for (const v of extraVars) {
    if (vars[v] || ['N', 'D', 'C'].includes(v)) continue;
    if (hasColumn(t, v)) vars[v] = numericColumn(t, v, `columns.vars.${v}`);
  }
  const labels = names.label ? stringColumn(t, names.label, FIELD.label) : null;
  const groupCol = given.group !== undefined ? stringColumn(t, given.group, 'columns.group') : null;
  if (given.group !== undefined) columns.group = given.group;
  const x2Col = given.x2 !== undefined ? numericColumn(t, given.x2, 'columns.x2') : null;
  if (given.x2 !== undefined) columns.x2 = given.x2;
  const rows: Row[] = t.rows.map((_, i) => ({
    N: N?.[i],
    D: D?.[i],
    C: C?.[i],
    loss: loss?.[i],
    budget: budgetCol ? budgetCol[i] : C && (req.kind === 'isoflop' || req.kind === 'deepseek') ? roundSignificant(C[i], 2) : undefined,
    lr: lr?.[i],
    batchTokens: batch?.[i],
    ...(groupCol ? { group: groupCol[i] } : {}),
    ...(x2Col ? { x2: x2Col[i] } : {}),
    vars: Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, v[i]])),
    label: labels ? labels[i] : `${basename(t.source)}:${t.lines?.[i] ?? i + 2}`,
  }));
  if (!budgetCol && C && (req.kind === 'isoflop' || req.kind === 'deepseek')) columns.budget = `${names.C} rounded to 2 significant figures`;
  return { rows, columns, dropped: [...(t.dropped ?? [])], rowsGiven: t.rows.length + (t.dropped?.length ?? 0) };
}

// ---------------------------------------------------------------------------------------------
// runs → rows

/** The compute budget a run was planned at (isoFLOP cell, or an LR grid given budgets). */
function tagBudget(r: SweepRun): number | undefined {
  return r.tags?.study === 'isoflop' || r.tags?.study === 'lr-batch' ? r.tags.budgetFlops : r.config.budgetFlops;
}

function runRows(runs: readonly SweepRun[], req: RowFitRequest): Prepared {
  const nField = req.nField ?? 'activatedParams';
  const lossField = req.lossField ?? 'finalValLoss';
  const dropped: { row: string; reason: string }[] = [];
  const rows: Row[] = [];
  for (const r of runs) {
    if (!r.summary) {
      dropped.push({ row: r.runId, reason: 'not finished (no summary.json)' });
      continue;
    }
    if (r.summary.status !== 'done') {
      dropped.push({ row: r.runId, reason: `${r.summary.status}${r.summary.reason ? `: ${r.summary.reason}` : ''}` });
      continue;
    }
    const d = r.config.derived;
    const C = d.computeFlops;
    rows.push({
      N: d[nField],
      D: d.tokens,
      C,
      loss: r.summary[lossField],
      budget: tagBudget(r) ?? roundSignificant(C, 2),
      lr: r.config.config.train.lr,
      batchTokens: d.tokensPerStep,
      ...(typeof r.tags?.seed === 'number' ? { seed: r.tags.seed } : {}),
      ...(lossField === 'finalValLoss' && typeof r.summary.finalValLossStderr === 'number' ? { lossStderr: r.summary.finalValLossStderr } : {}),
      vars: {},
      label: r.runId,
    });
  }
  const columns = {
    N: `config.derived.${nField}`,
    D: 'config.derived.tokens',
    C: 'config.derived.computeFlops',
    loss: `summary.${lossField}`,
    budget: 'tags.budgetFlops (else computeFlops to 2 significant figures)',
    lr: 'config.config.train.lr',
    batchTokens: 'config.derived.tokensPerStep',
  };
  return { rows, columns, dropped, rowsGiven: runs.length };
}

// ---------------------------------------------------------------------------------------------
// rows → fit

const num = (v: number | undefined) => v as number;

async function fitRows(p: Prepared, req: RowFitRequest): Promise<FitResult> {
  const holdout = req.holdout ?? 'largest';
  const common = { bootstrap: req.bootstrap, seed: req.seed };
  const pr = 'predict' in req ? req.predict : undefined;
  const rows = p.rows;
  let result: FitResult;
  switch (req.kind) {
    case 'parametric':
      result = fitParametric(
        rows.map((r) => ({ N: num(r.N), D: num(r.D), loss: num(r.loss), C: r.C, budget: r.budget, label: r.label })),
        {
          ...common,
          allowUnidentified: req.allowUnidentified,
          objective: req.objective,
          maxIterations: req.maxIterations,
          fix: req.fix,
          tie: req.tie,
          predict: pr?.rows.map((r) => ({ N: r.N as number, D: r.D as number, label: r.label })),
          grid: req.grid,
          delta: req.delta,
          computeFormula: req.computeFormula,
          targetFlops: req.targetFlops,
          holdout: holdout === 'largest' ? 'largest-budget' : 'none',
        },
      );
      break;
    case 'isoflop':
      result = fitIsoflop(
        rows.map((r) => ({ budget: num(r.budget), N: num(r.N), D: r.D, loss: num(r.loss), label: r.label, seed: r.seed, lossStderr: r.lossStderr })),
        {
          ...common,
          allowUnidentified: req.allowUnidentified,
          computeFormula: req.computeFormula,
          flatDeltaL: req.flatDeltaL,
          targetFlops: req.targetFlops,
          holdout,
          window: req.isoflopWindow,
          lminLaw: req.lminLaw,
          noise: req.noise,
          objective: req.objective,
          edges: req.edges,
          predict: pr?.rows.map((r) => ({ C: r.C as number, label: r.label })),
        },
      );
      break;
    case 'compute':
      result = fitComputeFormula(
        rows.map((r) => ({ N: num(r.N), D: num(r.D), C: num(r.C), label: r.label })),
        { ...common, holdout: holdout === 'largest' ? 'largest-n' : 'none', predict: pr?.rows.map((r) => ({ N: r.N as number, D: r.D as number, label: r.label })) },
      );
      break;
    case 'surge':
      if (req.surgeMethod === 'steps-to-target' || req.targetLoss !== undefined) {
        throw new ConfigError(
          req.surgeMethod === 'steps-to-target' ? 'surgeMethod' : 'targetLoss',
          req.surgeMethod === 'steps-to-target' ? req.surgeMethod : req.targetLoss,
          'Steps-to-target reads training curves from run records: fit the runs of a sweep (a CSV gives one final loss per run), or drop the option.',
          'needs training curves',
        );
      }
      result = fitSurge(
        rows.map((r) => ({ batchTokens: num(r.batchTokens), lr: num(r.lr), loss: num(r.loss), label: r.label })),
        { ...common, holdout, expertLr: req.expertLr, edges: req.edges },
      );
      break;
    case 'deepseek':
      result = fitDeepseek(
        rows.map((r) => ({ budget: num(r.budget), batchTokens: num(r.batchTokens), lr: num(r.lr), loss: num(r.loss), label: r.label, group: r.group, x2: r.x2 })),
        {
          ...common,
          allowUnidentified: req.allowUnidentified,
          holdout,
          bandTolerance: req.bandTolerance,
          selection: req.selection,
          targetFlops: req.targetFlops,
          xName: req.columns?.budget ?? 'C', // the --budget-col name labels the laws; else C (FLOPs)
          x2Name: p.columns.x2,
          groupName: p.columns.group,
          predict: pr?.rows.map((r) => ({ x: r.x as number, x2: r.x2, label: r.label })),
        },
      );
      break;
    case 'custom': {
      if (!req.expr) throw new ConfigError('expr', req.expr, 'Give the law to fit, e.g. expr = "E + A / N^alpha + B / D^beta".', 'missing');
      const form = await createExpressionForm(req.expr, inputsOf(req.expr, rows));
      result = fitCustom(
        form,
        rows.map((r) => ({
          x: Object.fromEntries(form.inputs.map((v) => [v, v === 'N' ? num(r.N) : v === 'D' ? num(r.D) : v === 'C' ? num(r.C) : r.vars[v]])),
          y: num(r.loss),
          label: r.label,
        })),
        { ...common, objective: req.objective, maxIterations: req.maxIterations, holdout, init: req.init, delta: req.delta, predict: pr?.rows.map((r) => ({ x: r.vars, label: r.label })) },
      );
      break;
    }
    default: {
      const kind: string = (req satisfies never as { kind: string }).kind;
      throw new ConfigError('kind', kind, `Use one of: ${FIT_KINDS.join(', ')} (schedule and envelope read curves).`, 'not a row-based fit');
    }
  }
  result.data.columns = { ...p.columns, ...result.data.columns };
  result.data.dropped = [...p.dropped, ...result.data.dropped];
  result.data.rowsGiven = p.rowsGiven;
  return result;
}

/** Input variables of a custom expression: N, D, C when used, plus every mapped/extra variable present. */
function inputsOf(expr: string, rows: readonly Row[]): string[] {
  const tokens = new Set(expr.match(/[A-Za-z_][A-Za-z_0-9]*/g) ?? []);
  const inputs: string[] = [];
  for (const v of ['N', 'D', 'C'] as const) if (tokens.has(v) && rows.every((r) => r[v] !== undefined)) inputs.push(v);
  for (const v of Object.keys(rows[0]?.vars ?? {})) if (tokens.has(v)) inputs.push(v);
  return inputs;
}

/** Fit a row-based kind on a CSV table. */
export async function fitTable(t: Table, req: FitRequest): Promise<FitResult> {
  checkRequestFields(req);
  if (req.kind === 'schedule') throw new ConfigError('kind', 'schedule', 'Schedule fits read one CSV per curve: use fitScheduleCsvs(fitPaths, predictPaths, request).', 'needs curve files');
  if (req.kind === 'envelope') return fitEnvelopeFromTable(t, req);
  const extraVars = req.kind === 'custom' && req.expr ? [...new Set(req.expr.match(/[A-Za-z_][A-Za-z_0-9]*/g) ?? [])] : [];
  const p = applyDropHighest(tableRows(t, req, extraVars), req.dropHighest);
  return fitRows(p, req);
}

/** The runs of one study kind (all runs when `study` is not given). */
export function selectStudy(runs: readonly SweepRun[], study: string | undefined): SweepRun[] {
  if (study === undefined) return [...runs];
  const kept = runs.filter((r) => r.tags?.study === study);
  if (kept.length === 0) {
    const kinds = [...new Set(runs.flatMap((r) => (r.tags ? [r.tags.study] : [])))];
    throw new ConfigError('study', study, kinds.length ? `Use one of the study kinds of these runs: ${kinds.join(', ')}.` : 'These runs record no study kind; leave study out.', 'no run has this study kind');
  }
  return kept;
}

/** Fit a row-based kind on the runs of a sweep. */
export async function fitRuns(allRuns: readonly SweepRun[], req: FitRequest): Promise<FitResult> {
  checkRequestFields(req);
  if (req.kind === 'schedule') throw new ConfigError('kind', 'schedule', 'Use fitScheduleRuns with the run ids to fit and to predict.', 'needs curve selection');
  const runs = selectStudy(allRuns, req.study);
  if (req.kind === 'envelope') return fitEnvelopeFromRuns(runs, req);
  if (req.kind === 'surge') return fitSurgeRuns(runs, req);
  return fitRows(applyDropHighest(runRows(runs, req), req.dropHighest), req);
}

// ---------------------------------------------------------------------------------------------
// Surge from runs: final loss, or steps to a target loss from the training curves

/** Logged metric rows as a train-loss curve (rows with step ≥ 1 and a finite trainLoss). */
export function trainLossRows(metrics: readonly MetricRow[]): CurveRow[] {
  return metrics
    .filter((m) => m.step >= 1 && typeof m.trainLoss === 'number' && Number.isFinite(m.trainLoss))
    .map((m) => ({ step: m.step, tokens: m.tokens, loss: m.trainLoss }));
}

/** A run's logged train loss as a curve (its metrics.jsonl through trainLossRows). */
export function trainLossCurve(run: SweepRun): CurveRow[] {
  return trainLossRows(run.metrics);
}

/**
 * Which surge method the runs support. Steps-to-target needs curves at a constant LR after warmup
 * (under a decaying schedule the steps to a loss depend on the planned length); 'auto' takes it
 * when every run qualifies, else final-loss. Returns the reason, for the record's notes.
 */
export function chooseSurgeMethod(
  runs: readonly { runId: string; scheduleKind: string; curveRows: number }[],
  requested: 'auto' | SurgeMethod = 'auto',
): { method: SurgeMethod; reason: string } {
  if (requested !== 'auto') return { method: requested, reason: 'requested' };
  const decaying = runs.find((r) => r.scheduleKind !== 'constant');
  if (runs.length === 0) return { method: 'final-loss', reason: 'auto: no finished runs' };
  if (decaying) return { method: 'final-loss', reason: `auto: run ${decaying.runId} uses a ${decaying.scheduleKind} schedule, and steps-to-target needs constant-LR runs` };
  const bare = runs.find((r) => r.curveRows < 2);
  if (bare) return { method: 'final-loss', reason: `auto: run ${bare.runId} logged ${bare.curveRows} train-loss row${bare.curveRows === 1 ? '' : 's'} in metrics.jsonl, and steps-to-target needs its curve` };
  return { method: 'steps-to-target', reason: 'auto: every run has a constant LR schedule and a logged train-loss curve' };
}

async function fitSurgeRuns(runs: readonly SweepRun[], req: SurgeRequest): Promise<FitResult> {
  const dropped: { row: string; reason: string }[] = [];
  const finished: SweepRun[] = [];
  for (const r of runs) {
    if (!r.summary) dropped.push({ row: r.runId, reason: 'not finished (no summary.json)' });
    else if (r.summary.status !== 'done') dropped.push({ row: r.runId, reason: `${r.summary.status}${r.summary.reason ? `: ${r.summary.reason}` : ''}` });
    else finished.push(r);
  }
  const curves = new Map(finished.map((r) => [r.runId, trainLossCurve(r)]));
  const choice = chooseSurgeMethod(
    finished.map((r) => ({ runId: r.runId, scheduleKind: r.config.config.train.schedule.kind, curveRows: curves.get(r.runId)!.length })),
    req.surgeMethod,
  );
  if (choice.method === 'final-loss') {
    if (req.targetLoss !== undefined) {
      throw new ConfigError('targetLoss', req.targetLoss, `Drop targetLoss, or set surgeMethod to steps-to-target (${choice.reason}).`, 'applies to the steps-to-target method only');
    }
    const fit = await fitRows(applyDropHighest(runRows(runs, req), req.dropHighest), { ...req, surgeMethod: 'final-loss' });
    fit.notes.push(`Method final-loss (${choice.reason}).`);
    return fit;
  }
  if (req.dropHighest) throw new ConfigError('dropHighest', req.dropHighest, 'Drop dropHighest: the steps-to-target method keeps every finished run (runs that never reach the target are left out of the parabolas).', 'applies to final-loss fits only');
  const points: SurgeCurvePoint[] = finished.map((r) => ({ batchTokens: r.config.derived.tokensPerStep, lr: r.config.config.train.lr, curve: curves.get(r.runId)!, label: r.runId }));
  const fit = fitSurgeStepsToTarget(points, {
    bootstrap: req.bootstrap,
    seed: req.seed,
    holdout: req.holdout ?? 'largest',
    expertLr: req.expertLr,
    targetLoss: req.targetLoss ?? 'auto',
    smoothTokens: req.smoothTokens,
  });
  const nonConstant = finished.filter((r) => r.config.config.train.schedule.kind !== 'constant').map((r) => r.runId);
  fit.notes.push(
    `Method steps-to-target (${choice.reason}).`,
    ...(nonConstant.length ? [`Runs ${nonConstant.join(', ')} do not use a constant LR schedule: their steps to the target depend on the planned run length.`] : []),
  );
  fit.data.columns = { batchTokens: 'config.derived.tokensPerStep', lr: 'config.config.train.lr', curve: 'metrics.jsonl step, tokens, trainLoss' };
  // Unfinished or diverged runs, then the finished ones that never reached the target.
  fit.data.dropped = [...dropped, ...fit.data.dropped];
  fit.data.rowsGiven = runs.length;
  return fit;
}

// ---------------------------------------------------------------------------------------------
// Curves: envelope and schedule

function fitEnvelopeFromTable(t: Table, req: EnvelopeRequest): EnvelopeFit {
  const c = resolveColumns(req.columns);
  const ids = stringColumn(t, c.curve, FIELD.curve);
  const N = numericColumn(t, c.N, FIELD.N);
  const C = numericColumn(t, c.C, FIELD.C);
  const loss = numericColumn(t, c.loss, FIELD.loss);
  const D = req.columns?.D !== undefined || hasColumn(t, c.D) ? numericColumn(t, c.D, FIELD.D) : null;
  const byId = new Map<string, TrainingCurve>();
  ids.forEach((id, i) => {
    let curve = byId.get(id);
    if (!curve) {
      curve = { label: id, N: N[i], points: [] };
      byId.set(id, curve);
    } else if (curve.N !== N[i]) {
      throw new DataError(`${t.source}, line ${i + 2}: curve ${JSON.stringify(id)} changes N from ${curve.N} to ${N[i]}. One curve is one run of one size.`);
    }
    curve.points.push({ flops: C[i], loss: loss[i], tokens: D?.[i] });
  });
  const fit = fitEnvelope([...byId.values()], envelopeOptions(req));
  fit.data.columns = { curve: c.curve, N: c.N, C: c.C, loss: c.loss, ...(D ? { D: c.D } : {}) };
  fit.data.rowsGiven = t.rows.length;
  return fit;
}

function envelopeOptions(req: EnvelopeRequest) {
  return {
    bootstrap: req.bootstrap,
    seed: req.seed,
    gridPoints: req.gridPoints,
    minCurves: req.minCurves,
    smoothWindow: req.smoothWindow,
    computeFormula: req.computeFormula,
    targetFlops: req.targetFlops,
    holdout: req.holdout ?? 'largest',
  } as const;
}

function fitEnvelopeFromRuns(runs: readonly SweepRun[], req: EnvelopeRequest): EnvelopeFit {
  const nField = req.nField ?? 'activatedParams';
  const lossKey = req.curveLoss ?? 'valLoss';
  const dropped: { row: string; reason: string }[] = [];
  const curves: TrainingCurve[] = [];
  for (const r of runs) {
    if (r.summary?.status === 'diverged') {
      dropped.push({ row: r.runId, reason: 'diverged' });
      continue;
    }
    const pts = r.metrics
      .filter((m) => typeof m[lossKey] === 'number' && Number.isFinite(m[lossKey]) && m.computeFlops > 0)
      .map((m) => ({ flops: m.computeFlops, loss: m[lossKey] as number, tokens: m.tokens }));
    if (pts.length < 2) {
      dropped.push({ row: r.runId, reason: `fewer than 2 metric rows with ${lossKey}` });
      continue;
    }
    curves.push({ label: r.runId, N: r.config.derived[nField], points: pts });
  }
  const fit = fitEnvelope(curves, envelopeOptions(req));
  fit.data.columns = { curve: 'runId', N: `config.derived.${nField}`, C: 'metrics.computeFlops', loss: `metrics.${lossKey}`, D: 'metrics.tokens' };
  // Unfinished or diverged runs, then the finished ones that never reached the target.
  fit.data.dropped = [...dropped, ...fit.data.dropped];
  fit.data.rowsGiven = runs.length;
  return fit;
}

/** The request's fields, and its law (src/fit has no default law: ANALYSIS_DEFAULTS has it). */
function checkScheduleRequest(req: ScheduleRequest): void {
  checkRequestFields(req);
  if (req.law !== 'tissue' && req.law !== 'multipower') {
    throw new ConfigError('law', req.law ?? null, 'Give the schedule law: tissue or multipower (moelab\'s default is ANALYSIS_DEFAULTS.scheduleLaw, src/analysis/defaults.ts).', req.law === undefined ? 'missing' : 'not a schedule law');
  }
}

function scheduleOptions(req: ScheduleRequest, predict: LossCurve[]) {
  return {
    law: req.law,
    predict,
    lambda: req.lambda,
    delta: req.delta,
    maxIterations: req.maxIterations,
    objective: req.objective,
    bootstrap: req.bootstrap,
    seed: req.seed,
    warmupSteps: req.warmupSteps,
    interpolation: req.interpolation,
    prior: req.prior,
    procedure: req.procedure,
  } as const;
}

/** One loss curve per CSV file (columns step, lr, loss unless mapped); name = file name. */
export function readCurveCsv(path: string, columns: ColumnMap = {}): LossCurve {
  const t = readCsv(path);
  const c = resolveColumns(columns);
  return {
    name: basename(path, extname(path)),
    steps: numericColumn(t, c.step, FIELD.step),
    lrs: numericColumn(t, c.lr, FIELD.lr),
    losses: numericColumn(t, c.loss, FIELD.loss),
  };
}

export function fitScheduleCsvs(fitPaths: readonly string[], predictPaths: readonly string[], req: ScheduleRequest): ScheduleFit {
  checkScheduleRequest(req);
  if (fitPaths.length === 0) throw new ConfigError('fitPaths', fitPaths, 'Give at least one curve CSV to fit on.', 'no curves');
  const fit = fitScheduleLaw(
    fitPaths.map((p) => readCurveCsv(p, req.columns)),
    scheduleOptions(req, predictPaths.map((p) => readCurveCsv(p, req.columns))),
  );
  const c = resolveColumns(req.columns);
  fit.data.columns = { step: c.step, lr: c.lr, loss: c.loss };
  return fit;
}

/** A run's loss curve from metrics.jsonl (rows with step ≥ 1 and a finite loss). */
export function runCurve(run: SweepRun, lossKey: 'valLoss' | 'trainLoss' = 'trainLoss'): LossCurve {
  const rows = run.metrics.filter((m) => m.step >= 1 && typeof m[lossKey] === 'number' && Number.isFinite(m[lossKey]));
  return { name: run.runId, steps: rows.map((m) => m.step), lrs: rows.map((m) => m.learningRate), losses: rows.map((m) => m[lossKey] as number) };
}

export function fitScheduleRuns(runs: readonly SweepRun[], fitIds: readonly string[], predictIds: readonly string[], req: ScheduleRequest): ScheduleFit {
  checkScheduleRequest(req);
  const byId = new Map(runs.map((r) => [r.runId, r]));
  const pick = (id: string, field: string) => {
    const r = byId.get(id);
    if (!r) throw new ConfigError(field, id, `Use run ids of this sweep: ${[...byId.keys()].slice(0, 12).join(', ')}${byId.size > 12 ? ', …' : ''}.`, 'no such run');
    return runCurve(r, req.curveLoss ?? 'trainLoss');
  };
  if (fitIds.length === 0) throw new ConfigError('fitIds', fitIds, 'Give the run ids to fit on.', 'no curves');
  const fit = fitScheduleLaw(
    fitIds.map((id) => pick(id, 'fitIds')),
    scheduleOptions(req, predictIds.map((id) => pick(id, 'predictIds'))),
  );
  fit.data.columns = { step: 'metrics.step', lr: 'metrics.learningRate', loss: `metrics.${req.curveLoss ?? 'trainLoss'}` };
  return fit;
}
