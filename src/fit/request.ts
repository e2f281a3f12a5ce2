// Fit requests: the fields every fit reads plus the options of its kind, as a union discriminated
// by `kind` (src/fit/run-fit.ts runs them). Types and one run-time table only, so `moelab fit` can
// check its flags against a kind without loading the fits.
import { ConfigError } from '../errors.ts';
import type { CustomFitOptions } from './custom.ts';
import type { DeepseekOptions } from './deepseek.ts';
import type { EnvelopeOptions } from './envelope.ts';
import type { IsoflopOptions } from './isoflop.ts';
import type { ParametricOptions } from './parametric.ts';
import type { PredictInput } from './predict-input.ts';
import type { FitKind } from './record.ts';
import type { ScheduleFitOptions, ScheduleLawName } from './schedule-laws.ts';
import type { SurgeMethod, SurgeOptions } from './surge.ts';
import type { SurgeStepsOptions } from './surge-steps.ts';

export const FIT_KINDS: readonly FitKind[] = ['parametric', 'isoflop', 'envelope', 'compute', 'surge', 'deepseek', 'schedule', 'custom'];

/** CSV column names per role (defaults in DEFAULT_COLUMNS). */
export interface ColumnMap {
  N?: string;
  D?: string;
  C?: string;
  loss?: string;
  budget?: string;
  lr?: string;
  batch?: string;
  step?: string;
  curve?: string;
  label?: string;
  /** deepseek: the column whose values group the runs compared for the near-optimal band. */
  group?: string;
  /** deepseek: second regressor of the two-variable laws. */
  x2?: string;
  /** Extra expression variables → column (custom fits). */
  vars?: Record<string, string>;
}

/** Run-record field used as N. */
export type NField = 'activatedParams' | 'totalParams' | 'nonEmbeddingParams' | 'activatedNonEmbeddingParams';

/** Fields of every request but the schedule fit's. */
interface RequestBase {
  columns?: ColumnMap;
  /** Bootstrap resamples (0 = none; the callers' default: ANALYSIS_DEFAULTS.bootstrap[kind]). */
  bootstrap?: number;
  seed?: number;
  /** Runs only: keep runs whose tags have this study kind (tags.study, e.g. isoflop, lr-batch). */
  study?: string;
}

/** Fields of the fits that read one row per run (or CSV row). */
interface RowRequest extends RequestBase {
  /** Drop the k rows with the highest loss first (Epoch's outlier rule for the Chinchilla CSV: 5). */
  dropHighest?: number;
  /** Run-record field used as N. */
  nField?: NField;
  lossField?: 'finalValLoss' | 'bestValLoss';
  /** The held-out check: refit without the largest group and predict it (default largest). */
  holdout?: 'largest' | 'none';
}

/** Rows at which to predict (predict-input.ts reads them from a CSV). */
interface PredictRequest {
  predict?: PredictInput;
}

/** D = C / (k·N) for CSVs that give compute but not tokens (Chinchilla CSV: 6). */
interface TokensFromFlopsRequest {
  tokensFromFlops?: number;
}

export interface ParametricRequest
  extends RowRequest,
    PredictRequest,
    TokensFromFlopsRequest,
    Pick<ParametricOptions, 'delta' | 'computeFormula' | 'targetFlops' | 'objective' | 'maxIterations' | 'fix' | 'tie' | 'allowUnidentified'> {
  kind: 'parametric';
  /** Start grid: chinchilla (4,500 starts, default) or coarse (243). */
  grid?: 'chinchilla' | 'coarse';
}

export interface IsoflopRequest
  extends RowRequest,
    PredictRequest,
    TokensFromFlopsRequest,
    Pick<IsoflopOptions, 'computeFormula' | 'flatDeltaL' | 'targetFlops' | 'lminLaw' | 'noise' | 'objective' | 'edges' | 'allowUnidentified'> {
  kind: 'isoflop';
  /** The window rule (IsoflopOptions.window): a factor around each budget's best run, 'auto' (default) or 'all'. */
  isoflopWindow?: IsoflopOptions['window'];
}

export interface ComputeRequest extends RowRequest, PredictRequest {
  kind: 'compute';
}

export interface SurgeRequest extends RowRequest, Pick<SurgeOptions, 'expertLr' | 'edges'>, Pick<SurgeStepsOptions, 'smoothTokens'> {
  kind: 'surge';
  /**
   * 'auto' (default) uses steps-to-target when every finished run has a constant LR schedule and
   * logged train losses, else final-loss (CSV input is always final-loss).
   */
  surgeMethod?: 'auto' | SurgeMethod;
  /** Steps-to-target: the target train loss (default: auto, see autoTargetLoss). */
  targetLoss?: number;
}

export interface DeepseekRequest extends RowRequest, PredictRequest, Pick<DeepseekOptions, 'bandTolerance' | 'selection' | 'targetFlops' | 'allowUnidentified'> {
  kind: 'deepseek';
}

export interface CustomRequest extends RowRequest, PredictRequest, Pick<CustomFitOptions, 'objective' | 'maxIterations' | 'delta' | 'init'> {
  kind: 'custom';
  /** The law in mathjs syntax, e.g. "E + A / N^alpha + B / D^beta". */
  expr: string;
}

export interface EnvelopeRequest extends RequestBase, Pick<EnvelopeOptions, 'gridPoints' | 'minCurves' | 'smoothWindow' | 'computeFormula' | 'targetFlops'> {
  kind: 'envelope';
  nField?: NField;
  /** Loss series of the curves read from metrics.jsonl (default valLoss). */
  curveLoss?: 'valLoss' | 'trainLoss';
  holdout?: 'largest' | 'none';
}

export interface ScheduleRequest extends Pick<ScheduleFitOptions, 'lambda' | 'delta' | 'objective' | 'maxIterations' | 'warmupSteps' | 'interpolation' | 'prior' | 'procedure'> {
  kind: 'schedule';
  /** Curve CSVs: the step, lr and loss columns. */
  columns?: ColumnMap;
  bootstrap?: number;
  seed?: number;
  /**
   * The schedule-aware loss law. No default here: moelab's is ANALYSIS_DEFAULTS.scheduleLaw
   * (src/analysis/defaults.ts), which `moelab fit schedule` and the report fill in.
   */
  law: ScheduleLawName;
  /** Loss series of the curves read from metrics.jsonl (default trainLoss). */
  curveLoss?: 'valLoss' | 'trainLoss';
}

/** The requests of the fits that read one row per run (or CSV row). */
export type RowFitRequest = ParametricRequest | IsoflopRequest | ComputeRequest | SurgeRequest | DeepseekRequest | CustomRequest;

/** A fit request: the fields every fit reads plus the options of its kind, discriminated by `kind`. */
export type FitRequest = RowFitRequest | EnvelopeRequest | ScheduleRequest;

/** The request of one kind. */
export type FitRequestOf<K extends FitKind> = Extract<FitRequest, { kind: K }>;

/** The fields (besides kind) a request of kind K may set. */
export type FitRequestField<K extends FitKind> = Exclude<keyof FitRequestOf<K>, 'kind'>;

const ROW_FIELDS = ['columns', 'bootstrap', 'seed', 'study', 'dropHighest', 'nField', 'lossField', 'holdout'] as const;

/**
 * The fields of each kind's request, at run time (the type check below keeps them equal to the
 * union's): the API refuses a field its kind has not, and the CLI a flag whose field it has not.
 */
export const FIT_REQUEST_FIELDS = Object.freeze({
  parametric: [...ROW_FIELDS, 'predict', 'tokensFromFlops', 'delta', 'computeFormula', 'targetFlops', 'objective', 'maxIterations', 'fix', 'tie', 'allowUnidentified', 'grid'],
  isoflop: [...ROW_FIELDS, 'predict', 'tokensFromFlops', 'computeFormula', 'flatDeltaL', 'targetFlops', 'lminLaw', 'noise', 'objective', 'edges', 'allowUnidentified', 'isoflopWindow'],
  compute: [...ROW_FIELDS, 'predict'],
  surge: [...ROW_FIELDS, 'expertLr', 'edges', 'smoothTokens', 'surgeMethod', 'targetLoss'],
  deepseek: [...ROW_FIELDS, 'predict', 'bandTolerance', 'selection', 'targetFlops', 'allowUnidentified'],
  custom: [...ROW_FIELDS, 'predict', 'objective', 'maxIterations', 'delta', 'init', 'expr'],
  envelope: ['columns', 'bootstrap', 'seed', 'study', 'gridPoints', 'minCurves', 'smoothWindow', 'computeFormula', 'targetFlops', 'nField', 'curveLoss', 'holdout'],
  schedule: ['columns', 'bootstrap', 'seed', 'lambda', 'delta', 'objective', 'maxIterations', 'warmupSteps', 'interpolation', 'law', 'curveLoss', 'prior', 'procedure'],
} as const) satisfies { readonly [K in FitKind]: readonly FitRequestField<K>[] };

// Compile-time: every field of every member is listed above (a missing one names itself here).
type Unlisted<K extends FitKind> = Exclude<FitRequestField<K>, (typeof FIT_REQUEST_FIELDS)[K][number]>;
const FIELDS_COMPLETE: { [K in FitKind]: [Unlisted<K>] extends [never] ? true : Unlisted<K> } = {
  parametric: true,
  isoflop: true,
  compute: true,
  surge: true,
  deepseek: true,
  custom: true,
  envelope: true,
  schedule: true,
};
void FIELDS_COMPLETE;

/** The kinds whose requests have `field`. */
export function kindsWithField(field: string): FitKind[] {
  return FIT_KINDS.filter((k) => (FIT_REQUEST_FIELDS[k] as readonly string[]).includes(field));
}

/**
 * Refuse a field the request's kind does not read (a notebook's plain object, or a spread of
 * another kind's request), naming the field, the kind and the kinds that have it.
 */
export function checkRequestFields(req: FitRequest): void {
  const allowed = FIT_REQUEST_FIELDS[req.kind] as readonly string[] | undefined;
  if (!allowed) throw new ConfigError('kind', req.kind, `Use one of: ${FIT_KINDS.join(', ')}.`, 'not a fit kind');
  for (const [field, value] of Object.entries(req)) {
    if (field === 'kind' || value === undefined || allowed.includes(field)) continue;
    const others = kindsWithField(field);
    throw new ConfigError(
      field,
      value,
      others.length ? `Drop ${field}: it is an option of ${others.join(', ')} fits only.` : `Drop ${field}: no fit kind reads it (the fields of ${req.kind} requests: ${allowed.join(', ')}).`,
      `not an option of ${req.kind} fits`,
    );
  }
}

