// expandSweep(): a validated sweep definition → every run it stands for, fully resolved, with
// derived counts and planning checks (docs/architecture.md#planning, habit 7). Pure: no files, no tensors; the
// model family builder comes in as an argument (src/sweep/family.ts wires the real one).
//
// Symbols (docs/references.md#compute-formula, docs/references.md#reproduction-needs): C compute budget (FLOPs), N parameters (which kind: the sweep's
// computeParams, default activated), D training tokens. For a budget, D = C / c(N) where c(N) is
// the compute formula's FLOPs per token: 6N, 9.59N + 2.3e8, or the exact count; D is then
// rounded to whole steps of batchSize × seqLen tokens.
import { RunConfigSchema, type UserModelConfig, type UserRunConfig } from '../config/schema.ts';
import { ModelConfigSchema } from '../config/schema.ts';
import { resolveModelConfig, type ResolvedModelConfig } from '../config/resolve.ts';
import { FAMILY_MODEL_FIELDS, type ComputeFormula, type ComputeParams, type FamilyConfig, type SweepDefinition, type SweepKind } from '../config/sweep-schema.ts';
import { issueToConfigError } from '../config/validate.ts';
import { computeFlopsPerToken, countParams, flopsPerToken } from '../model/count.ts';
import type { DerivedCounts } from '../io/results.ts';
import type { RunTags } from '../io/tags.ts';
import type { Provenance } from '../util/provenance.ts';
import { expandAxes, mergeConfig, setPath } from './merge.ts';
import { formatRunId, type RunDuration } from './run-id.ts';
import { ConfigError } from '../errors.ts';
import { checkTrainingMemory } from '../train/memory.ts';

/** One run of a plan (an entry of plan.json); the trainer copies the study fields into config.json. */
export interface PlanRun {
  runId: string;
  /** Position in plan.runs: `moelab train --plan plan.json --index <index>`. */
  index: number;
  /** RunConfig in user form (valid for RunConfigSchema); config.name = runId. */
  config: UserRunConfig;
  /** The isoFLOP cell's compute budget (when the run has one). */
  budgetFlops?: number;
  derived: DerivedCounts;
  /** Estimated wall seconds on the planning machine's backend (null before a probe). */
  estSeconds: number | null;
  // Study fields (what analyses group and fit by)
  kind: SweepKind;
  seed: number;
  /** The activated-parameter target the family builder sized the model to. */
  targetActivatedParams?: number;
  lr: number;
  batchSize: number;
  batchTokens: number;
  /** Schedule label (the schedules kind's key) or the schedule's kind. */
  schedule: string;
  /** Trained tokens per parameter of the sweep's computeParams kind. */
  tokensPerParam: number;
  /** C of the trained tokens by the sweep's compute formula. */
  formulaFlops: number;
  /** The grid point (grid kind): axis key → value. */
  point?: Record<string, unknown>;
  /** What analyses group the run by; `moelab train` copies them into config.json. */
  tags: RunTags;
  /**
   * Other arms that train this same configuration and seed (src/sweep/share.ts): planned once, here;
   * the loader gives each of them this run's results under its own run id and tags.
   */
  shared?: SharedArm[];
}

/** An arm planned as another run: its own run id and tags, the results of the run it is listed on. */
export interface SharedArm {
  runId: string;
  tags: RunTags;
}

export interface RunPlan {
  sweep: string;
  kind: SweepKind;
  description?: string;
  createdAt: string;
  provenance: Provenance;
  computeFormula: ComputeFormula;
  computeParams: ComputeParams;
  /** The throughput the time estimates assume (null before a probe). */
  estimate: { backend: string; flopsPerSecond: number } | null;
  runs: PlanRun[];
  /** Grid cells left out on purpose (e.g. outside tokensPerParam), with why. */
  skipped: { label: string; reason: string }[];
  totals: { runs: number; tokens: number; computeFlops: number; estSeconds: number | null };
}

export interface PlanProblem {
  level: 'error' | 'warning';
  /** The run it concerns, when it concerns one. */
  runId?: string;
  /** The sweep cell it came from (e.g. a grid point), when no run id exists yet. */
  where?: string;
  field: string;
  value: unknown;
  message: string;
  fix: string;
}

/**
 * Builds a family's model config sized to a target parameter count (of family.paramKind),
 * applying `overrides` (base.model's non-shape fields) before sizing.
 */
export type FamilyBuilder = (family: FamilyConfig, target: number, overrides?: Partial<UserModelConfig>) => UserModelConfig;

export interface ExpandOptions {
  buildModel: FamilyBuilder;
  provenance: Provenance;
}

export interface ExpandResult {
  plan: RunPlan;
  problems: PlanProblem[];
}

// ---------------------------------------------------------------------------------------------
// Pure arithmetic

/** Which ParamCounts field a ComputeParams choice names. */
const PARAM_KIND = { activated: 'activatedParams', activatedNonEmbedding: 'activatedNonEmbeddingParams' } as const;

/** FLOPs per token under a named formula for a resolved model (docs/references.md#reproduction-needs compute formulas). */
export function formulaFlopsPerToken(model: ResolvedModelConfig, formula: ComputeFormula, params: ComputeParams): number {
  return computeFlopsPerToken(model, formula, { paramKind: PARAM_KIND[params] });
}

/** D = C / c(N): tokens a compute budget buys at `flopsPerTokenByFormula` FLOPs per token. */
export function tokensForBudget(computeFlops: number, flopsPerTokenByFormula: number): number {
  return computeFlops / flopsPerTokenByFormula;
}

/** Round a token count to whole steps (nearest; at least 0): tokens = steps × tokensPerStep exactly. */
export function roundToSteps(tokens: number, tokensPerStep: number): { steps: number; tokens: number } {
  const steps = Math.max(0, Math.round(tokens / tokensPerStep));
  return { steps, tokens: steps * tokensPerStep };
}

// ---------------------------------------------------------------------------------------------
// Expansion

interface Cell {
  /** Config before tokens are known (user form). */
  config: UserRunConfig;
  /** Which optional parts its run id carries. */
  label: RunIdLabel;
  budgetFlops?: number;
  targetActivatedParams?: number;
  /** The family that sized the model (its paramKind says which N the target is). */
  family?: FamilyConfig;
  schedule?: string;
  point?: Record<string, unknown>;
  /** Where this cell's fields came from, for error messages. */
  origin: string;
}

interface RunIdLabel {
  lr?: boolean;
  batchSize?: boolean;
  variant?: string;
}

export function expandSweep(def: SweepDefinition, options: ExpandOptions): ExpandResult {
  const problems: PlanProblem[] = [];
  const skipped: RunPlan['skipped'] = [];
  const cells = expandCells(def, options, problems);
  const runs: PlanRun[] = [];
  const seen = new Map<string, string>();

  for (const cell of cells) {
    for (const seed of def.seeds) {
      const run = resolveCell(def, cell, seed, problems, skipped);
      if (!run) continue;
      const first = seen.get(run.runId);
      if (first !== undefined) {
        problems.push({
          level: 'error',
          runId: run.runId,
          field: 'runId',
          value: run.runId,
          message: `two runs have the same id (${first} and ${cell.origin})`,
          fix: 'Make the runs differ in a field that is part of the id (size, budget/tokens, lr, batch, label), or use a grid.',
        });
        continue;
      }
      seen.set(run.runId, cell.origin);
      runs.push({ ...run, index: runs.length });
    }
  }

  if (runs.length === 0 && !problems.some((p) => p.level === 'error')) {
    problems.push({
      level: 'error',
      field: def.kind === 'isoflop' && def.tokensPerParam ? 'tokensPerParam' : 'kind',
      value: skipped.length > 0 ? skipped.slice(0, 3).map((s) => s.label) : def.kind,
      message: `the sweep expands to 0 runs${skipped.length > 0 ? ` (all ${skipped.length} cells skipped: ${skipped[0].reason})` : ''}`,
      fix: 'Widen the filters (tokensPerParam) or add budgets, sizes or grid values so that at least one run remains.',
    });
  }

  const plan: RunPlan = {
    sweep: def.name,
    kind: def.kind,
    ...(def.description !== undefined ? { description: def.description } : {}),
    createdAt: options.provenance.createdAt,
    provenance: options.provenance,
    computeFormula: def.computeFormula,
    computeParams: def.computeParams,
    estimate: null,
    runs,
    skipped,
    totals: totalsOf(runs),
  };
  return { plan, problems: dedupe(problems) };
}

/**
 * Runs whose estimated training memory (src/train/memory.ts) exceeds `limitBytes`, as warnings:
 * the planning machine is not always the training machine (Slurm), and `moelab train` refuses
 * such a run on the machine it lands on, before writing anything.
 */
export function memoryProblems(plan: RunPlan, limitBytes: number, limitSource: string): PlanProblem[] {
  const problems: PlanProblem[] = [];
  for (const run of plan.runs) {
    const config = RunConfigSchema.safeParse(run.config);
    if (!config.success) continue;
    try {
      checkTrainingMemory(resolveModelConfig(config.data.model), config.data.train.batchSize, limitBytes, limitSource);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems.push({
        level: 'warning',
        runId: run.runId,
        field: err.field,
        value: err.value,
        message: problemText(err.message),
        fix: `${err.fix} moelab train refuses this run on a machine with less memory.`,
      });
    }
  }
  return problems;
}

/** The same base mistake shows up in every run: report it once. */
function dedupe(problems: PlanProblem[]): PlanProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.level}|${p.field}|${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export function totalsOf(runs: PlanRun[]): RunPlan['totals'] {
  const est = runs.every((r) => r.estSeconds !== null) ? runs.reduce((s, r) => s + (r.estSeconds ?? 0), 0) : null;
  return {
    runs: runs.length,
    tokens: runs.reduce((s, r) => s + r.derived.tokens, 0),
    computeFlops: runs.reduce((s, r) => s + r.derived.computeFlops, 0),
    estSeconds: est,
  };
}

/** The config every run starts from: the family's model (if any) with base merged over it. */
function baseConfig(
  def: SweepDefinition,
  family: FamilyConfig | undefined,
  target: number | undefined,
  options: ExpandOptions,
  problems: PlanProblem[],
): UserRunConfig | undefined {
  const baseModel = (def.base.model ?? {}) as Partial<UserModelConfig>;
  if (family !== undefined && target === undefined) {
    problems.push({
      level: 'error',
      field: 'activatedParams',
      value: undefined,
      message: `a family is given but no size target (${def.kind} sweep)`,
      fix: 'Set activatedParams (the family builder sizes the model to it), or drop family and give base.model.',
    });
    return undefined;
  }
  if (target === undefined) return mergeConfig({ train: {} } as unknown as UserRunConfig, def.base);
  if (!family) {
    problems.push({
      level: 'error',
      field: 'family',
      value: undefined,
      message: `activated-parameter targets need a model family to size models (${def.kind} sweep)`,
      fix: 'Add family: { builder: "hunyuan" } (and its options), or give the model in base.model without activatedParams.',
    });
    return undefined;
  }
  const shapeFields = FAMILY_MODEL_FIELDS.filter((f) => baseModel[f] !== undefined);
  for (const f of shapeFields) {
    problems.push({
      level: 'error',
      field: `base.model.${f}`,
      value: baseModel[f],
      message: 'the family builder decides this field',
      fix: `Remove it from base.model; set family.${f === 'dModel' || f === 'numLayers' ? 'aspectRatio' : f === 'dFf' || f === 'sharedDFf' ? 'ffnRatio' : f === 'numKvHeads' ? 'kvRatio' : f === 'numHeads' ? 'headDim' : f} instead.`,
    });
  }
  if (shapeFields.length > 0) return undefined;
  let model: UserModelConfig;
  try {
    model = options.buildModel(family, target, baseModel);
  } catch (err) {
    const e = err as Error & { fix?: string };
    problems.push({
      level: 'error',
      field: 'family',
      value: { ...family, target },
      message: `the family builder failed: ${e.message}`,
      fix: e.fix ?? 'Change the family options or the size target.',
    });
    return undefined;
  }
  return mergeConfig({ model, train: {} } as unknown as UserRunConfig, { data: def.base.data, train: def.base.train });
}

function expandCells(def: SweepDefinition, options: ExpandOptions, problems: PlanProblem[]): Cell[] {
  const cells: Cell[] = [];
  switch (def.kind) {
    case 'isoflop': {
      if (!def.family) {
        problems.push({
          level: 'error',
          field: 'family',
          value: undefined,
          message: 'an isoflop sweep sizes models by activated parameters and needs a model family',
          fix: 'Add family: { builder: "hunyuan" } (see docs/sweeps.md).',
        });
        return [];
      }
      for (const budget of def.budgets) {
        for (const target of def.activatedParams) {
          const config = baseConfig(def, def.family, target, options, problems);
          if (!config) continue;
          cells.push({
            config,
            label: {},
            budgetFlops: budget,
            targetActivatedParams: target,
            family: def.family,
            origin: `budget ${budget}, activatedParams ${target}`,
          });
        }
      }
      break;
    }
    case 'lr-batch': {
      const config = baseConfig(def, def.family, def.activatedParams, options, problems);
      if (!config) return [];
      if (def.steps && (def.steps.length !== def.batchSizes.length || def.budgets)) {
        problems.push({
          level: 'error',
          field: 'steps',
          value: def.steps,
          message: def.budgets ? 'steps per batch size and compute budgets both fix the run length' : `${def.steps.length} step counts for ${def.batchSizes.length} batch sizes`,
          fix: def.budgets ? 'Give either steps (one per batch size) or budgets, not both.' : 'Give one step count per batch size, in the order of batchSizes.',
        });
        return [];
      }
      // Tokens per step need the sequence length: the model's, or the schema default.
      const seqLen = config.model?.seqLen ?? ModelConfigSchema.shape.seqLen.parse(undefined);
      for (const budget of def.budgets ?? [undefined]) {
        for (const [i, batchSize] of def.batchSizes.entries()) {
          const tokens = def.steps ? { tokens: def.steps[i] * batchSize * seqLen } : {};
          const scale = def.lrScaling === 'sqrt' ? Math.sqrt(batchSize / def.batchSizes[0]) : 1;
          // Rounded to 12 significant digits so that 2e-3 × sqrt(4) is 4e-3 in the run id.
          for (const lr of def.lrs.map((x) => Number((x * scale).toPrecision(12)))) {
            cells.push({
              config: mergeConfig(config, { train: { lr, batchSize, ...tokens } }),
              label: { lr: true, batchSize: true },
              budgetFlops: budget,
              targetActivatedParams: def.activatedParams,
              family: def.family,
              origin: `${budget !== undefined ? `budget ${budget}, ` : ''}batchSize ${batchSize}, lr ${lr}`,
            });
          }
        }
      }
      break;
    }
    case 'schedules': {
      const config = baseConfig(def, def.family, def.activatedParams, options, problems);
      if (!config) return [];
      for (const [label, schedule] of Object.entries(def.schedules)) {
        cells.push({
          config: mergeConfig(config, { train: { schedule } }),
          label: { variant: label },
          budgetFlops: def.budget,
          targetActivatedParams: def.activatedParams,
          family: def.family,
          schedule: label,
          origin: `schedules.${label}`,
        });
      }
      break;
    }
    case 'grid': {
      const lengths = Object.values(def.axes).map((v) => v.length);
      if (def.mode === 'zip' && new Set(lengths).size > 1) {
        problems.push({
          level: 'error',
          field: 'axes',
          value: Object.fromEntries(Object.entries(def.axes).map(([k, v]) => [k, v.length])),
          message: 'zip mode needs every axis to have the same number of values',
          fix: 'Give every axis the same length, or use mode: "grid" for all combinations.',
        });
        return [];
      }
      const points = expandAxes(def.axes, def.mode);
      points.forEach((point, k) => {
        let family = def.family;
        let target = def.activatedParams;
        const runFields: Record<string, unknown> = {};
        for (const [key, value] of Object.entries(point)) {
          if (key === 'activatedParams') target = value as number;
          else if (key.startsWith('family.')) family = setPath(family ?? ({} as FamilyConfig), key.slice(7), value);
          else Object.assign(runFields, setPath(runFields, key, value));
        }
        const config = baseConfig(def, family, target, options, problems);
        if (!config) return;
        cells.push({
          config: mergeConfig(config, runFields),
          label: { lr: 'train.lr' in point, batchSize: 'train.batchSize' in point, variant: `p${k}` },
          targetActivatedParams: target,
          family,
          point,
          origin: `axes point ${k} (${JSON.stringify(point)})`,
        });
      });
      break;
    }
  }
  return cells;
}

/** Fill tokens and seed into a cell, validate it as a RunConfig, and derive its counts. */
function resolveCell(
  def: SweepDefinition,
  cell: Cell,
  seed: number,
  problems: PlanProblem[],
  skipped: RunPlan['skipped'],
): Omit<PlanRun, 'index'> | undefined {
  // The model alone first: its counts fix D for a budget.
  const modelInput = (cell.config as { model?: unknown }).model;
  const modelParsed = ModelConfigSchema.safeParse(modelInput);
  if (!modelParsed.success) {
    for (const issue of modelParsed.error.issues) {
      const e = issueToConfigError(issue, modelInput, ['model']);
      problems.push({ level: 'error', where: cell.origin, field: e.field, value: e.value, message: problemText(e.message), fix: e.fix });
    }
    return undefined;
  }
  const model = resolveModelConfig(modelParsed.data);
  const counts = countParams(model);
  const N = counts[PARAM_KIND[def.computeParams]];
  const train = (cell.config.train ?? {}) as Partial<UserRunConfig['train']>;
  const batchSize = train.batchSize;
  if (batchSize === undefined) {
    problems.push({
      level: 'error',
      field: 'base.train.batchSize',
      value: undefined,
      message: 'no batch size for the runs',
      fix: 'Set base.train.batchSize (sequences per step).',
    });
    return undefined;
  }
  const tokensPerStep = batchSize * model.seqLen;

  let wanted: number | undefined;
  if (cell.budgetFlops !== undefined) {
    wanted = tokensForBudget(cell.budgetFlops, formulaFlopsPerToken(model, def.computeFormula, def.computeParams));
  } else {
    wanted = train.tokens;
    if (wanted === undefined) {
      problems.push({
        level: 'error',
        field: 'base.train.tokens',
        value: undefined,
        message: `no token budget for the runs (a ${def.kind} sweep without budgets trains base.train.tokens)`,
        fix: def.kind === 'grid' ? 'Set base.train.tokens (or make train.tokens an axis).' : 'Set base.train.tokens, or give budget(s).',
      });
      return undefined;
    }
  }
  const label = cell.targetActivatedParams ?? counts.activatedParams;
  const duration: RunDuration =
    cell.budgetFlops !== undefined ? { kind: 'budget', computeFlops: cell.budgetFlops } : { kind: 'tokens', tokens: wanted };
  const runId = formatRunId({
    sweep: def.name,
    activatedParams: label,
    duration,
    ...(cell.label.lr ? { lr: train.lr } : {}),
    ...(cell.label.batchSize ? { batchSize } : {}),
    ...(cell.label.variant !== undefined ? { variant: cell.label.variant } : {}),
    seed,
  });

  // Planning checks on the model and the token count.
  if (cell.targetActivatedParams !== undefined) {
    const kind = cell.family?.paramKind ?? 'activatedParams';
    const gap = counts[kind] / cell.targetActivatedParams - 1;
    if (Math.abs(gap) > def.checks.activatedTolerance) {
      problems.push({
        level: 'error',
        runId,
        field: 'activatedParams',
        value: cell.targetActivatedParams,
        message:
          `the built model has ${fmt(counts[kind])} ${kind === 'activatedParams' ? 'activated parameters' : kind}, ` +
          `${(gap * 100).toFixed(1)}% from the target ${fmt(cell.targetActivatedParams)} (allowed ±${(def.checks.activatedTolerance * 100).toFixed(0)}%)`,
        fix: 'Pick a target the family can reach, change the family options, or widen checks.activatedTolerance.',
      });
    }
  }
  const tokensPerParam = wanted / N;
  if (def.kind === 'isoflop' && def.tokensPerParam) {
    const { min, max } = def.tokensPerParam;
    if ((min !== undefined && tokensPerParam < min) || (max !== undefined && tokensPerParam > max)) {
      skipped.push({
        label: runId,
        reason: `${tokensPerParam.toFixed(1)} tokens per parameter is outside tokensPerParam [${min ?? 0}, ${max ?? '∞'}]`,
      });
      return undefined;
    }
  }
  const { steps, tokens } = roundToSteps(wanted, tokensPerStep);
  if (steps < 1) {
    problems.push({
      level: 'error',
      runId,
      field: cell.budgetFlops !== undefined ? 'budgets' : 'train.tokens',
      value: cell.budgetFlops ?? wanted,
      message: `${fmt(wanted)} tokens is less than half a step of ${fmt(tokensPerStep)} tokens (batchSize ${batchSize} × seqLen ${model.seqLen})`,
      fix: 'Raise the budget/tokens or use a smaller batch.',
    });
    return undefined;
  }
  if (Math.abs(tokens - wanted) / wanted > 0.02) {
    problems.push({
      level: 'warning',
      runId,
      field: 'train.tokens',
      value: wanted,
      message: `rounded to ${steps} whole steps = ${fmt(tokens)} tokens (${(((tokens - wanted) / wanted) * 100).toFixed(1)}%)`,
      fix: 'Use a smaller batch for finer steps, or accept the rounding.',
    });
  }
  if (def.checks.maxTokens !== undefined && tokens > def.checks.maxTokens) {
    problems.push({
      level: 'error',
      runId,
      field: 'checks.maxTokens',
      value: tokens,
      message: `the run trains ${fmt(tokens)} tokens, above checks.maxTokens ${fmt(def.checks.maxTokens)}`,
      fix: 'Lower the budget, raise the size, or raise checks.maxTokens.',
    });
  }

  const config = mergeConfig(cell.config, { name: runId, seed, train: { tokens } }) as UserRunConfig;
  const parsed = RunConfigSchema.safeParse(config);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const e = issueToConfigError(issue, config);
      problems.push({
        level: 'error',
        runId,
        field: e.field,
        value: e.value,
        message: `${problemText(e.message)} (${cell.origin})`,
        fix: e.fix,
      });
    }
    return undefined;
  }
  const run = parsed.data;

  const exactPerToken = flopsPerToken(model, { seqLen: model.seqLen });
  const derived: DerivedCounts = {
    totalParams: counts.totalParams,
    activatedParams: counts.activatedParams,
    nonEmbeddingParams: counts.nonEmbeddingParams,
    activatedNonEmbeddingParams: counts.activatedNonEmbeddingParams,
    flopsPerToken: exactPerToken,
    tokensPerStep,
    steps,
    tokens,
    computeFlops: exactPerToken * tokens,
  };
  return {
    runId,
    config,
    ...(cell.budgetFlops !== undefined ? { budgetFlops: cell.budgetFlops } : {}),
    derived,
    estSeconds: null,
    kind: def.kind,
    seed,
    ...(cell.targetActivatedParams !== undefined ? { targetActivatedParams: cell.targetActivatedParams } : {}),
    lr: run.train.lr,
    batchSize,
    batchTokens: tokensPerStep,
    schedule: cell.schedule ?? run.train.schedule.kind,
    tokensPerParam: tokens / N,
    formulaFlops: formulaFlopsPerToken(model, def.computeFormula, def.computeParams) * tokens,
    ...(cell.point ? { point: cell.point } : {}),
    tags: runTags(def.kind, { budgetFlops: cell.budgetFlops, size: label, lr: run.train.lr, batchTokens: tokensPerStep, label: cell.schedule ?? run.train.schedule.kind, point: cell.point ?? {}, seed }),
  };
}

/** The run tags of a plan entry of a sweep of kind `kind` (src/io/tags.ts). */
export function runTags(
  kind: SweepKind,
  f: { budgetFlops?: number; size: number; lr: number; batchTokens: number; label: string; point: Record<string, unknown>; seed: number },
): RunTags {
  switch (kind) {
    case 'isoflop':
      if (f.budgetFlops === undefined) throw new Error('runTags: an isoFLOP cell without a budget');
      return { study: 'isoflop', budgetFlops: f.budgetFlops, size: f.size, seed: f.seed };
    case 'lr-batch':
      return { study: 'lr-batch', lr: f.lr, batchTokens: f.batchTokens, ...(f.budgetFlops !== undefined ? { budgetFlops: f.budgetFlops } : {}), seed: f.seed };
    case 'schedules':
      return { study: 'schedules', label: f.label, seed: f.seed };
    case 'grid':
      return { study: 'grid', point: f.point, seed: f.seed };
  }
}

/** ConfigError messages start with "field: problem (got …). fix" — keep the problem part. */
function problemText(message: string): string {
  const m = /^[^:]*: (.*?) \(got /.exec(message);
  return m ? m[1] : message;
}

/** Thousands separators (OLMo-core's ladder messages). */
export function fmt(n: number): string {
  return Number.isInteger(n) ? n.toLocaleString('en-US') : Number(n.toPrecision(4)).toLocaleString('en-US');
}

/** Problems at error level, as thrown by `moelab plan`. */
export function planErrors(problems: PlanProblem[]): PlanProblem[] {
  return problems.filter((p) => p.level === 'error');
}
