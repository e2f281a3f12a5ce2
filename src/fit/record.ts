// The FitRecord: the JSON `moelab fit` writes (results/<sweep>/fits/<fitId>.json or --out) and
// reports read. Self-describing and stable; docs/fit.md documents every field. Pure types and
// small constructors; the writer (src/cli/fit.ts) adds `source` and `provenance`.
import type { BootstrapResult } from './bootstrap.ts';
import type { FitDiagnostics } from './fit-form.ts';
import type { Provenance } from '../util/provenance.ts';

export const FIT_RECORD_SCHEMA = 'moelab.fit/1';

export type FitKind = 'parametric' | 'isoflop' | 'envelope' | 'compute' | 'surge' | 'deepseek' | 'schedule' | 'custom';

/** A fitted or derived number with its bootstrap percentile interval (null without bootstrap). */
export interface Estimate {
  value: number;
  ci95: [number, number] | null;
  /**
   * Present when the bootstrap behind ci95 is unreliable (under 95% of resamples fitted): why,
   * e.g. "76% of resamples fitted; failed: 240 budget 1e11 lost its interior minimum". The
   * interval is then conditional on the resamples that fitted; every display prints this mark.
   */
  unreliable?: string;
}

/** One prediction checked against data the fit did not see. */
export interface HeldOutRow {
  label: string;
  actual: number;
  predicted: number;
  /** Bootstrap interval of the prediction (null without bootstrap). */
  ci95: [number, number] | null;
  /** (predicted − actual) / actual. */
  relError: number;
}

/** A prediction of the fitted law at rows the user gave (`predict` option, `--predict FILE.csv`). */
export interface PredictionRow {
  label: string;
  /** The row's inputs by role (N, D, C, …). */
  inputs: Record<string, number>;
  /** Each predicted quantity with its bootstrap interval (null without bootstrap). */
  values: Record<string, Estimate>;
}

/** Whether the data determine the law (identify.ts); absent on records written before the check. */
export interface IdentifiabilitySummary {
  identified: boolean;
  problems: string[];
}

/** What the fit was given and what it used. */
export interface FitDataSummary {
  /** Rows used by the main fit. */
  n: number;
  /** Rows given before filtering. */
  rowsGiven: number;
  /** Role → source column or run field (e.g. N → "Model Size", loss → "summary.finalValLoss"). */
  columns: Record<string, string>;
  /** Rows removed before fitting and why (e.g. "one of the 5 highest losses", "diverged run"). */
  dropped: { row: string; reason: string }[];
  /** Rows (or curves) kept out of the main fit for the held-out check. */
  heldOutRows: string[];
}

/**
 * Summary of the bootstrap that produced the intervals. Intervals come from the successful
 * resamples only: below successFraction 0.95 they are conditional on success and marked
 * unreliable (record, CLI table, report), with the failures by reason.
 */
export interface BootstrapSummary {
  samples: number;
  succeeded: number;
  /** succeeded / samples. */
  successFraction: number;
  /** successFraction ≥ 0.95 (RELIABLE_FRACTION in src/fit/bootstrap.ts). */
  reliable: boolean;
  /** Failed resamples by reason, most frequent first (empty when all succeeded). */
  failures: { reason: string; count: number }[];
  seed: number;
  level: number;
  /** What was resampled, e.g. "cells (model sizes) within each budget, then seeds within each cell". */
  scheme: string;
}

/** Fields every fit kind shares. */
export interface FitResultBase {
  kind: FitKind;
  /** The fitted law(s) in mathjs syntax. */
  form: string;
  /** Fitted parameters by name, natural units. */
  params: Record<string, Estimate>;
  /** Quantities computed from the parameters (exponents, optima, predictions at target budgets). */
  derived: Record<string, Estimate>;
  /** Optimiser evidence of the main fit; kinds with several sub-fits add them in their own fields. */
  diagnostics: FitDiagnostics | LinearDiagnostics;
  data: FitDataSummary;
  heldOut: HeldOutRow[];
  bootstrap: BootstrapSummary | null;
  /** The options the fit ran with (reproducibility). */
  options: Record<string, unknown>;
  /** Plain-language notes on assumptions and conventions (e.g. LR reconstruction). */
  notes: string[];
  /** Predictions at user-given rows (absent when none were asked for). */
  predictions?: PredictionRow[];
  /** Present when the fit checked identifiability; identified: false only with allowUnidentified. */
  identifiability?: IdentifiabilitySummary;
}

/** Diagnostics of closed-form (linear least-squares) fits: nothing iterative to converge. */
export interface LinearDiagnostics {
  optimizer: 'least-squares';
  /** Residual sum of squares of the fit in the space it was fitted (null when not one number). */
  objective: number | null;
  r2: number;
  converged: true;
  iterations: 0;
}

/** A FitResult as written to disk. */
export type FitRecord<R extends FitResultBase = FitResultBase> = R & {
  schema: typeof FIT_RECORD_SCHEMA;
  /** Where the data came from (CSV path or sweep folder). */
  source: string;
  provenance: Provenance;
};

/**
 * Held-out rows that get a bootstrap interval (the first ones; the rest report null). Each interval
 * keeps one draw per resample: 11,000 held-out rows of a 100,000-row grid would mean 11 million.
 */
export const HELD_INTERVAL_ROWS = 100;

export function relError(predicted: number, actual: number): number {
  return (predicted - actual) / actual;
}

/** Attach bootstrap intervals to named point estimates (prefix selects a namespace). */
export function withIntervals(
  values: Record<string, number>,
  boot: BootstrapResult | null,
  prefix = '',
): Record<string, Estimate> {
  const out: Record<string, Estimate> = {};
  const mark = unreliableReason(boot);
  for (const [name, value] of Object.entries(values)) {
    const ci95 = boot?.intervals[prefix + name] ?? null;
    out[name] = mark && ci95 ? { value, ci95, unreliable: mark } : { value, ci95 };
  }
  return out;
}

export function bootstrapSummary(boot: BootstrapResult | null, scheme: string): BootstrapSummary | null {
  return boot
    ? { samples: boot.samples, succeeded: boot.succeeded, successFraction: boot.successFraction, reliable: boot.reliable, failures: boot.failures, seed: boot.seed, level: boot.level, scheme }
    : null;
}

/**
 * The mark an interval carries when its bootstrap is unreliable: null when reliable (or absent),
 * else e.g. "unreliable: 76% of resamples fitted; 240 budget 1e11 lost its interior minimum".
 * Records written before successFraction existed are judged from succeeded / samples.
 */
export function unreliableNote(b: Pick<BootstrapSummary, 'samples' | 'succeeded'> & Partial<BootstrapSummary> | null | undefined): string | null {
  const reason = unreliableReason(b);
  return reason ? `unreliable: ${reason}` : null;
}

/** Why a bootstrap's intervals are unreliable ("76% of resamples fitted; failed: …"), or null when reliable. */
export function unreliableReason(b: Pick<BootstrapSummary, 'samples' | 'succeeded'> & Partial<BootstrapSummary> | null | undefined): string | null {
  if (!b || b.samples === 0) return null;
  const fraction = b.successFraction ?? b.succeeded / b.samples;
  if (b.reliable ?? fraction >= 0.95) return null;
  const failures = b.failures ?? [];
  const top = failures.slice(0, 2).map((f) => `${f.count} ${f.reason}`);
  const more = failures.length > 2 ? `; ${failures.slice(2).reduce((s, f) => s + f.count, 0)} other` : '';
  return `${Math.round(100 * fraction)}% of resamples fitted${top.length ? `; failed: ${top.join('; ')}${more}` : ''}`;
}

/** Prefix every key of a record (bootstrap draws share one namespace: "params.E", "derived.a", …). */
export function prefixKeys(values: Record<string, number>, prefix: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(values)) out[prefix + k] = v;
  return out;
}

/** Prediction rows from point values and bootstrap draws named `${prefix}${row}.${quantity}`. */
export function predictionRows(
  rows: readonly { label: string; inputs: Record<string, number> }[],
  values: readonly Record<string, number>[],
  boot: BootstrapResult | null,
  prefix = 'predict.',
): PredictionRow[] {
  return rows.map((r, i) => ({
    label: r.label,
    inputs: r.inputs,
    values: withIntervals(values[i], boot, `${prefix}${i}.`),
  }));
}

/** Flatten per-row predicted values into bootstrap draw names (`predict.<row>.<quantity>`). */
export function predictionDraws(values: readonly Record<string, number>[], prefix = 'predict.'): Record<string, number> {
  const out: Record<string, number> = {};
  values.forEach((v, i) => {
    for (const [q, x] of Object.entries(v)) out[`${prefix}${i}.${q}`] = x;
  });
  return out;
}
