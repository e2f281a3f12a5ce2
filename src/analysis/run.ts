// runFits: execute a fit plan (src/analysis/plan.ts) on a loaded sweep through the same entry
// points as `moelab fit --runs` (src/fit/run-fit.ts), returning fit records as a union discriminated
// by `kind`. A fit the data refuses (DataError) becomes a warning; nothing is written here.
import { DataError } from '../errors.ts';
import type { ComputeFit, ComputeFormula } from '../fit/compute-formula.ts';
import { FIT_RECORD_SCHEMA, type FitKind, type FitRecord } from '../fit/record.ts';
import { FIT_KINDS, fitRuns, fitScheduleRuns, type FitResult } from '../fit/run-fit.ts';
import type { Sweep, StoredFit } from '../io/load.ts';
import { provenance } from '../util/provenance.ts';
import type { FitPlan, PlannedFit } from './plan.ts';

/** A fit record as the analysis and the report exchange it; `fitFile` names its file in fits/ once written. */
export type AnalysisFit = FitRecord<FitResult> & { fitFile?: string };

/** A record of fits/ (src/io/load.ts) as an AnalysisFit, or undefined when its kind or schema is not one this version reads. */
export function asAnalysisFit(stored: StoredFit): AnalysisFit | undefined {
  return isFitRecord(stored) ? stored : undefined;
}

/** The checks a stored record passes to be read as a fit record: this schema, a known kind, params and data. */
function isFitRecord(v: unknown): v is AnalysisFit {
  if (v === null || typeof v !== 'object') return false;
  const r = v as { schema?: unknown; kind?: unknown; params?: unknown; data?: unknown };
  return r.schema === FIT_RECORD_SCHEMA && typeof r.kind === 'string' && (FIT_KINDS as readonly string[]).includes(r.kind) && typeof r.params === 'object' && typeof r.data === 'object';
}

/** The newest record of one kind (fits are kept in file order). */
export function latestFit<K extends FitKind>(fits: readonly AnalysisFit[], kind: K): Extract<AnalysisFit, { kind: K }> | undefined {
  return fits.filter((f): f is Extract<AnalysisFit, { kind: K }> => f.kind === kind).at(-1);
}

/** The fitted compute formula C = a·N·D + b·D of a compute fit, when usable (a > 0, b ≥ 0). */
export function computeFormulaOf(fit: Pick<ComputeFit, 'params'>): ComputeFormula | undefined {
  const a = fit.params.a?.value;
  const b = fit.params.b?.value;
  // A negative intercept (possible from least squares on a narrow family) is not a usable formula.
  return a > 0 && b >= 0 ? { name: `fitted ${a.toPrecision(4)}·N·D + ${b.toPrecision(3)}·D`, a, b } : undefined;
}

/** The file name the standard analysis writes a fit record under in fits/: <kind>.json. */
export function fitFileName(fit: Pick<AnalysisFit, 'kind'>): string {
  return `${fit.kind}.json`;
}

export interface RunFitsResult {
  fits: AnalysisFit[];
  /** Kinds fitted, in plan order. */
  computed: FitKind[];
  /** Fits the data refused, and groups the fits left out (edges: drop), one line each. */
  warnings: string[];
}

async function runOne(sweep: Pick<Sweep, 'runs'>, p: PlannedFit, formula: ComputeFormula | undefined): Promise<FitResult> {
  const ids = new Set(p.runIds);
  const runs = sweep.runs.filter((r) => ids.has(r.runId));
  switch (p.kind) {
    case 'compute':
      return fitRuns(runs, { kind: 'compute', ...p.request });
    case 'isoflop':
      return fitRuns(runs, { kind: 'isoflop', bootstrap: p.request.bootstrap, seed: p.request.seed, targetFlops: p.request.targetFlops, isoflopWindow: p.request.window, edges: p.request.edges, computeFormula: p.useComputeFit ? formula : undefined });
    case 'parametric':
      return fitRuns(runs, { kind: 'parametric', ...p.request, computeFormula: p.useComputeFit ? formula : undefined });
    case 'surge':
      return fitRuns(runs, { kind: 'surge', ...p.request });
    case 'schedule':
      return fitScheduleRuns(runs, p.fitIds, p.predictIds, { kind: 'schedule', ...p.request });
  }
}

/**
 * Run the planned fits in order. The compute fit's formula (or that of `computeFit`, a record
 * already on disk) feeds the isoFLOP and parametric fits that ask for it.
 */
export async function runFits(sweep: Pick<Sweep, 'runs' | 'dir'>, plan: FitPlan, options: { computeFit?: Pick<ComputeFit, 'params'> } = {}): Promise<RunFitsResult> {
  const fits: AnalysisFit[] = [];
  const computed: FitKind[] = [];
  const warnings: string[] = [];
  let formula = options.computeFit ? computeFormulaOf(options.computeFit) : undefined;
  for (const p of plan.fits) {
    let result: FitResult;
    try {
      result = await runOne(sweep, p, formula);
    } catch (err) {
      if (!(err instanceof DataError)) throw err;
      warnings.push(`${p.kind} fit skipped: ${err.message}`);
      continue;
    }
    if (result.kind === 'compute') formula = computeFormulaOf(result);
    for (const d of dropsOf(result)) warnings.push(d);
    fits.push({ schema: FIT_RECORD_SCHEMA, ...result, source: sweep.dir, provenance: provenance() });
    computed.push(p.kind);
  }
  return { fits, computed, warnings };
}

/** Groups a fit left out (edges: drop), one line per group, from its notes. */
function dropsOf(result: FitResult): string[] {
  return result.notes.filter((n) => n.startsWith('Left out (edges: drop): ')).map((n) => `${result.kind} fit: ${n.slice('Left out (edges: drop): '.length)}`);
}
