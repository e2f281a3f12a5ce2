// Non-finite numbers in moelab's JSON artefacts (docs/architecture.md#results-layout). JSON has no
// NaN or Infinity. moelab writes them as null (src/io/atomic.ts toJson); the
// field's meaning says why: a diverged run's summary.json has `status: "diverged"` and `reason`,
// and its evaluation fields (finalValLoss, …) are null because there was no final evaluation; a
// metrics.jsonl row's trainLoss is null at the step where the loss became NaN. One exception, a
// config value rather than a measurement: capacityFactor's "no capacity limit" is written "inf",
// as the config schema spells it (src/config/schema.ts), so config.json and plan.json read back.
//
// Results folders written before this convention hold the strings "nan", "inf" and "-inf"
// instead; the readers below accept both, so old folders still load. In memory the fields are
// numbers again (NaN / ±Infinity), which is what the analyses expect.
import type { MetricRow, RunSummary } from './results.ts';

/** A number as stored in JSON: a number; null or "nan" → NaN; "inf"/"-inf" → ±Infinity; else undefined. */
export function numberFromJson(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (v === null || v === 'nan' || v === 'NaN') return NaN;
  if (v === 'inf' || v === 'Infinity') return Infinity;
  if (v === '-inf' || v === '-Infinity') return -Infinity;
  return undefined;
}

/** The numeric fields of summary.json (RunSummary). */
export const SUMMARY_NUMBER_FIELDS = [
  'steps',
  'tokens',
  'computeFlops',
  'finalTrainLoss',
  'finalValLoss',
  'finalValLossStderr',
  'finalValBitsPerByte',
  'bestValLoss',
  'wallSeconds',
  'evalSeconds',
] as const;

function decodeFields<T>(raw: T, fields: readonly string[]): T {
  if (raw === null || typeof raw !== 'object') return raw;
  const out: Record<string, unknown> = { ...(raw as Record<string, unknown>) };
  for (const f of fields) {
    if (!(f in out)) continue; // absent stays absent (older summaries lack the evaluation fields)
    const n = numberFromJson(out[f]);
    if (n !== undefined) out[f] = n;
  }
  return out as T;
}

/** summary.json as read from disk (null or the old strings for non-finite numbers) → RunSummary. */
export function decodeRunSummary<T extends RunSummary | undefined>(raw: T): T {
  return raw === undefined ? raw : decodeFields(raw, SUMMARY_NUMBER_FIELDS);
}

/** One metrics.jsonl row as read from disk → MetricRow: every top-level number and expertUsage's entries. */
export function decodeMetricRow(raw: MetricRow): MetricRow {
  if (raw === null || typeof raw !== 'object') return raw;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (k === 'expertUsage' && Array.isArray(v)) out[k] = v.map((x) => numberFromJson(x) ?? x);
    else out[k] = numberFromJson(v) ?? v;
  }
  return out as unknown as MetricRow;
}
