// Surge fit by steps to a target loss (Li et al. 2024 §3.2 with McCandlish et al. 2018;
// docs/references.md#surge-estimation): one training curve per run, constant LR after warmup. Result type and shared pieces in
// surge.ts.
//   per run:           S = optimizer steps until the smoothed train loss reaches the target (stepsToTarget;
//                      on the curve's decreasing fit from its peak, so noise does not make S early)
//   per batch size B:  ln S ≈ q0 + q1·ln η + q2·(ln η)²  →  η_best(B) at the vertex, S_min(B) = exp(vertex)
//                      (the fastest run stands in when the vertex is not among the LRs reaching the target)
//   across batches:    S_min(B) = S_min·(1 + B_noise/B), i.e. the S–E trade-off
//                      (S/S_min − 1)(E/E_min − 1) = 1 with E = S·B and B_noise = E_min/S_min,
//                      fitted by Levenberg–Marquardt on ln S_min(B) (θ = ln S_min, ln B_noise)
//   peak LR:           ε_max = mean over batches of η_best(B)·½·(sqrt(B_noise/B) + sqrt(B/B_noise))
//   diagnostic:        the free 2-parameter surge-curve fit of the η_best(B) (what 'final-loss' does),
//                      reported as derived.freeEpsMax / derived.freeBnoise
//   target:            given, or 'auto' (autoTargetLoss): the lowest 2-decimal train loss that ≥ 4
//                      LRs reach with all their seeds at every batch size
//   intervals:         by default (interval 'residuals', stepsResidualDesign) every run kept, its ln S
//                      redrawn as its batch parabola's fitted value plus a residual of that batch
// Symbols: B batch size in tokens, η (lr) peak learning rate, S optimizer steps (updates),
// E = S·B tokens (examples) to the target.
import { ConfigError, DataError } from '../errors.ts';
import { bootstrap, bootstrapDraws, failed, type BootstrapOutcome } from './bootstrap.ts';
import { fitForm, type FormFit } from './fit-form.ts';
import { epsOpt, stepsAtBatch, stepsBatchForm, surgeForm } from './forms.ts';
import { evalParabola, fitParabola, parabolaLeverages, type Parabola } from './linear.ts';
import { fmt, groupIndices, requirePositive } from './points.ts';
import { bootstrapSummary, prefixKeys, relError, withIntervals, type HeldOutRow } from './record.ts';
import { batchGrid, batchStarts, checkExpertQuery, derivedOf, fitCurve, fmtTokens, refitSlices, type BatchSlice } from './surge-common.ts';
import { surgeScheme, surgeStrata, type SurgeFit, type SurgeOptions } from './surge.ts';
import type { Rng } from '../util/rng.ts';

/** One logged row of a training curve (metrics.jsonl: step, tokens, trainLoss). */
export interface CurveRow {
  /** Optimizer steps completed when the row was logged. */
  step: number;
  /** Tokens trained when the row was logged. */
  tokens: number;
  /** Mean train loss over the steps since the previous row (src/train/loop.ts). */
  loss: number;
}

/** A run of the LR × batch grid with its training curve (steps-to-target method). */
export interface SurgeCurvePoint {
  batchTokens: number;
  lr: number;
  /** Rows ascending in step; each row's loss averages the steps since the previous row. */
  curve: readonly CurveRow[];
  label?: string;
}

/** The steps-to-target fit's options; its bootstrap defaults to interval 'residuals' (SurgeIntervalMethod). */
export interface SurgeStepsOptions extends SurgeOptions {
  /** Target train loss, or 'auto' (default): see autoTargetLoss. */
  targetLoss?: number | 'auto';
  /** The moving average spans at least this many tokens (default 4096) and at least one row. */
  smoothTokens?: number;
}

export const DEFAULT_SMOOTH_TOKENS = 4096;

// ---------------------------------------------------------------------------------------------
// Steps to a target loss (pure)

/**
 * The train-loss curve as a centred moving average. Row i of metrics.jsonl averages the losses of
 * steps a+1 … b (a = the previous row's step, b = its own), and the loss of the k-th step is
 * computed before the k-th update, so the row measures the weights after (a + b − 1)/2 updates.
 * Rows are pooled symmetrically around each row (one more on each side while one exists) until the
 * pooled steps span ≥ smoothTokens tokens; the value is the mean over all pooled steps, placed at
 * their centre — so a small batch is smoothed over many rows, a large one (≥ smoothTokens per row)
 * not at all, and no lag is introduced on a linear stretch.
 */
export function smoothLossCurve(curve: readonly CurveRow[], smoothTokens = DEFAULT_SMOOTH_TOKENS, label = 'curve'): { step: number; loss: number }[] {
  if (!(smoothTokens >= 0) || !Number.isFinite(smoothTokens)) {
    throw new ConfigError('smoothTokens', smoothTokens, 'Give the smoothing window in tokens, ≥ 0 (default 4096).', 'not a window');
  }
  curve.forEach((r, i) => {
    const prev = i > 0 ? curve[i - 1] : { step: 0, tokens: 0 };
    if (!(Number.isFinite(r.step) && r.step > prev.step) || !(Number.isFinite(r.tokens) && r.tokens > prev.tokens) || !Number.isFinite(r.loss)) {
      throw new DataError(
        `${label}, row ${i + 1}: needs a step and tokens above the previous row's (${prev.step}, ${prev.tokens}) and a finite loss, got step ${r.step}, tokens ${r.tokens}, loss ${r.loss}. Pass the metrics.jsonl rows in order, without diverged (NaN) rows.`,
      );
    }
  });
  const n = curve.length;
  const startStep = (i: number) => (i === 0 ? 0 : curve[i - 1].step);
  const startTokens = (i: number) => (i === 0 ? 0 : curve[i - 1].tokens);
  const out: { step: number; loss: number }[] = [];
  for (let i = 0; i < n; i++) {
    let j = i;
    let k = i;
    while (curve[k].tokens - startTokens(j) < smoothTokens && (j > 0 || k < n - 1)) {
      if (j > 0) j--;
      if (k < n - 1) k++;
    }
    let sum = 0;
    for (let r = j; r <= k; r++) sum += curve[r].loss * (curve[r].step - startStep(r));
    out.push({ step: (startStep(j) + curve[k].step - 1) / 2, loss: sum / (curve[k].step - startStep(j)) });
  }
  return out;
}

/**
 * The decreasing least-squares fit of a curve (pool-adjacent-violators, the isotonic regression;
 * docs/references.md#bootstrap-intervals): runs of points that rise are pooled into one block at
 * their mean loss, placed at their mean step, until the blocks fall strictly. A strictly falling curve is returned
 * unchanged. Under a constant LR the expected train loss falls; a noisy smoothed curve does not, and
 * its first crossing of a level comes early on a downward fluctuation (a first-passage time is
 * biased towards the start), most where the curve is flat against its noise — the small batches.
 * The crossing of the decreasing fit balances the points above and below instead.
 */
export function decreasingFit(curve: readonly { step: number; loss: number }[]): { step: number; loss: number }[] {
  const blocks: { step: number; loss: number; n: number }[] = [];
  for (const r of curve) {
    let b = { step: r.step, loss: r.loss, n: 1 };
    while (blocks.length > 0 && blocks[blocks.length - 1].loss <= b.loss) {
      const a = blocks.pop() as { step: number; loss: number; n: number };
      const n = a.n + b.n;
      b = { step: (a.step * a.n + b.step * b.n) / n, loss: (a.loss * a.n + b.loss * b.n) / n, n };
    }
    blocks.push(b);
  }
  return blocks.map(({ step, loss }) => ({ step, loss }));
}

/**
 * The descent of a smoothed curve: from its highest point on (a warmup's rise before it is left
 * out), its decreasing fit.
 */
export function descent(smoothed: readonly { step: number; loss: number }[]): { step: number; loss: number }[] {
  let peak = 0;
  for (let i = 1; i < smoothed.length; i++) if (smoothed[i].loss > smoothed[peak].loss) peak = i;
  return decreasingFit(smoothed.slice(peak));
}

/**
 * Steps S at which the train loss first comes down to `target`: the smoothed curve
 * (smoothLossCurve), its descent (from the peak, decreasingFit), and where that crosses the
 * target, linearly interpolated between its points. The curve must have been above the target (so
 * a warmup that starts below it and rises does not count); undefined when it never reaches it.
 */
export function stepsToTarget(curve: readonly CurveRow[], target: number, opts: { smoothTokens?: number; label?: string } = {}): number | undefined {
  if (!(Number.isFinite(target) && target > 0)) {
    throw new ConfigError('targetLoss', target, 'Give a finite train loss > 0 (e.g. 2.35).', 'not a loss');
  }
  return crossing(descent(smoothLossCurve(curve, opts.smoothTokens ?? DEFAULT_SMOOTH_TOKENS, opts.label)), target);
}

function crossing(smoothed: readonly { step: number; loss: number }[], target: number): number | undefined {
  let above = false;
  for (let i = 0; i < smoothed.length; i++) {
    const { step, loss } = smoothed[i];
    if (loss > target) above = true;
    else if (above) {
      // smoothed[i − 1] is above the target (else the loop would have returned there).
      const a = smoothed[i - 1];
      return a.step + ((a.loss - target) / (a.loss - loss)) * (step - a.step);
    }
  }
  return undefined;
}

/**
 * The auto target: the lowest loss, rounded UP to 2 decimals, at which ≥ 4 learning rates (3 when
 * a batch has only 3) reach it with every one of their runs (seeds), at every batch size — per LR
 * the highest minimum smoothed loss over its runs, per batch the 4th-lowest of those, then the
 * largest over batches. Four rather than the parabola's minimum three, so that bootstrap resamples
 * of a batch still hold three distinct learning rates most of the time; every seed, so that no LR's
 * steps are an average over only the lucky seeds. Lower targets put S later in training, where
 * B_noise is larger (Li et al. 2024: the surge peak moves with the loss).
 */
export function autoTargetLoss(minLosses: readonly { batchTokens: number; lr: number; minLoss: number }[]): { target: number; batchTokens: number; bindingLoss: number } {
  let worst: { target: number; batchTokens: number; bindingLoss: number } | undefined;
  for (const g of groupIndices(minLosses.map((m) => m.batchTokens))) {
    const byLr = new Map<number, number>();
    for (const i of g.rows) byLr.set(minLosses[i].lr, Math.max(byLr.get(minLosses[i].lr) ?? -Infinity, minLosses[i].minLoss));
    const sorted = [...byLr.values()].sort((a, b) => a - b);
    if (sorted.length < 3) {
      throw new DataError(`surge (steps-to-target): batch ${fmtTokens(g.key)} tokens has ${sorted.length} learning rate${sorted.length === 1 ? '' : 's'}: a parabola of ln S in ln lr needs ≥ 3 per batch size. Add runs at other learning rates for this batch size.`);
    }
    const binding = sorted[Math.min(3, sorted.length - 1)];
    if (!worst || binding > worst.bindingLoss) worst = { target: Math.ceil(binding * 100 - 1e-9) / 100, batchTokens: g.key, bindingLoss: binding };
  }
  if (!worst) throw new DataError('surge (steps-to-target): no runs given. Pass the LR × batch runs with their training curves.');
  return worst;
}

interface StepsRun {
  lr: number;
  steps: number | undefined;
  minLoss: number;
}

// ---------------------------------------------------------------------------------------------
// Across batch sizes

/** Levenberg–Marquardt of ln S_min(B) = ln S_min + ln(1 + B_noise/B) over the batches. */
function fitSteps(slices: readonly BatchSlice[], starts?: readonly (readonly number[])[]): FormFit {
  const lnS = Math.log(Math.min(...slices.map((s) => s.stepsMin as number)));
  return fitForm(
    stepsBatchForm,
    [Float64Array.from(slices, (s) => s.batchTokens)],
    slices.map((s) => s.stepsMin as number),
    { starts: starts ?? [0, Math.log(0.5), Math.log(0.2)].flatMap((ds) => batchStarts(slices).map((b) => [lnS + ds, b])), loss: 'lsq-log' },
  );
}

/** ε_max = mean over batches of η_best(B)·½(sqrt(B_noise/B) + sqrt(B/B_noise)) (Li et al. 2024 §3.2). */
export function liEpsMax(best: readonly { batchTokens: number; bestLr: number }[], bNoise: number): number {
  let s = 0;
  for (const b of best) s += (b.bestLr * 0.5 * (Math.sqrt(bNoise / b.batchTokens) + Math.sqrt(b.batchTokens / bNoise))) / best.length;
  return s;
}

// ---------------------------------------------------------------------------------------------
// Residual bootstrap (interval 'residuals'): the design kept, ln S redrawn

/** The fixed design of the residual bootstrap, one entry per run (see stepsResidualDesign). */
export interface StepsResidualDesign {
  /** The run's fitted ln S (its batch parabola at its LR); NaN for a run that never reached the target. */
  fitted: Float64Array;
  /** Per run, the residuals its resample draws from (its batch's); empty for an unreached run. */
  pools: readonly Float64Array[];
}

/**
 * The residual bootstrap's design for the steps-to-target fit (Davison and Hinkley's modified
 * residuals, docs/references.md#bootstrap-intervals; the parametric fit's 'residuals' in
 * parametric.ts residualRedraw does the same for ln L). Per batch, the least-squares parabola of
 * ln S in ln lr over the runs that reached the target (what batchDiagnostic fits, whether or not its
 * vertex lies among the LRs); each run's residual from it divided by √(1 − h_i), h_i its leverage
 * in that parabola (linear.ts parabolaLeverages), then centred on the batch's mean. A resample
 * gives run i ln S* = fitted_i + a residual drawn with replacement from its own batch's pool.
 *
 * Within the batch, not pooled over batches: the spread of ln S is not the same at every batch (the
 * logged loss's batch noise shrinks as 1/√tokens, and the parabola's misfit differs with where the
 * batch's grid sits), and the 'runs' bootstrap also keeps each batch's runs to itself.
 * A batch where fewer than 3 distinct LRs reach the target has no parabola: its runs keep their
 * own ln S (pool [0]). Runs that never reached the target stay unreached.
 * Calibrated as the default: docs/fit.md "How intervals are computed and checked", Surge.
 */
export function stepsResidualDesign(runs: readonly { batchTokens: number; lr: number; steps: number | undefined }[]): StepsResidualDesign {
  const fitted = new Float64Array(runs.length).fill(NaN);
  const pools: Float64Array[] = runs.map(() => new Float64Array(0));
  for (const g of groupIndices(runs.map((r) => r.batchTokens))) {
    const rows = g.rows.filter((i) => runs[i].steps !== undefined);
    const u = rows.map((i) => Math.log(runs[i].lr));
    const y = rows.map((i) => Math.log(runs[i].steps as number));
    if (new Set(u).size < 3) {
      rows.forEach((i, k) => {
        fitted[i] = y[k];
        pools[i] = Float64Array.of(0);
      });
      continue;
    }
    const p = fitParabola(u, y);
    const h = parabolaLeverages(u);
    const modified = rows.map((i, k) => (y[k] - evalParabola(p, u[k])) / Math.sqrt(Math.max(1e-3, 1 - h[k])));
    const mean = modified.reduce((a, b) => a + b, 0) / modified.length;
    const pool = Float64Array.from(modified, (r) => r - mean);
    rows.forEach((i, k) => {
      fitted[i] = evalParabola(p, u[k]);
      pools[i] = pool;
    });
  }
  return { fitted, pools };
}

/** One resample of the residual bootstrap: every reached run's steps exp(fitted + a drawn residual); unreached runs as they were. */
export function redrawSteps<R extends { steps: number | undefined }>(runs: readonly R[], d: StepsResidualDesign, rng: Rng): R[] {
  return runs.map((r, i) => {
    if (r.steps === undefined) return r;
    const pool = d.pools[i];
    return { ...r, steps: Math.exp(d.fitted[i] + pool[rng.int(pool.length)]) };
  });
}

// ---------------------------------------------------------------------------------------------
// Method 'steps-to-target'

/** A run at the target: its batch, LR and steps (undefined when the target was never reached). */
type TargetRun = StepsRun & { batchTokens: number };

/** A batch's S_min and best LR; `interior`: estimated by a parabola vertex, else the fastest run (a bound). */
type Diagnostic = BatchSlice & { interior: boolean };

/**
 * One batch of the grid: the vertex of the parabola of ln S in ln lr when ≥ 3 LRs reach the target
 * and the vertex lies among them, else the fastest run.
 */
function batchDiagnostic(batchTokens: number, runs: readonly TargetRun[]): Diagnostic {
  const reached = runs.filter((r): r is TargetRun & { steps: number } => r.steps !== undefined);
  const none = { p0: NaN, p1: NaN, p2: NaN, r2: NaN, vertexU: NaN, vertexY: NaN } as Parabola;
  if (reached.length === 0) return { batchTokens, parabola: none, bestLr: NaN, stepsMin: NaN, interior: false };
  const fastest = reached.reduce((b, r) => (r.steps < b.steps ? r : b));
  if (new Set(reached.map((r) => r.lr)).size >= 3) {
    const u = reached.map((r) => Math.log(r.lr));
    const parabola = fitParabola(u, reached.map((r) => Math.log(r.steps)));
    if (parabola.p2 > 0 && parabola.vertexU >= Math.min(...u) && parabola.vertexU <= Math.max(...u)) {
      return { batchTokens, parabola, bestLr: Math.exp(parabola.vertexU), stepsMin: Math.exp(parabola.vertexY), interior: true };
    }
  }
  return { batchTokens, parabola: none, bestLr: fastest.lr, stepsMin: fastest.steps, interior: false };
}

/**
 * The grid optima Li et al.'s ε_max averages over: the batches whose best LR is an estimate (a
 * parabola vertex among the LRs reaching the target), not a bound; all batches when none is.
 */
function optima(slices: readonly Diagnostic[]): readonly Diagnostic[] {
  const interior = slices.filter((s) => s.interior);
  return interior.length > 0 ? interior : slices;
}

/**
 * The S–E fit, Li et al.'s ε_max and the free surge curve of one set of per-batch slices; `free`
 * is the free curve fitted to the full grid, whose optimum the refit starts from.
 */
function stepsEstimates(slices: readonly Diagnostic[], free: FormFit, stepsStarts?: readonly (readonly number[])[]): { steps: FormFit; epsMax: number; free: [number, number] } | null {
  const steps = fitSteps(slices, stepsStarts);
  const freeRefit = refitSlices(free, slices);
  if (!Number.isFinite(steps.diagnostics.objective) || !freeRefit) return null;
  return { steps, epsMax: liEpsMax(optima(slices), steps.params.Bnoise), free: freeRefit };
}

export function fitSurgeStepsToTarget(points: readonly SurgeCurvePoint[], options: SurgeStepsOptions = {}): SurgeFit {
  const label = (p: SurgeCurvePoint, i: number) => p.label ?? `run ${i + 1}`;
  requirePositive(points, ['batchTokens', 'lr'], label, 'Steps-to-target rows need batchTokens and lr > 0.');
  points.forEach((p, i) => {
    if (!Array.isArray(p.curve) || p.curve.length < 2) {
      throw new DataError(`${label(p, i)}: the steps-to-target method needs a training curve of ≥ 2 logged rows, got ${Array.isArray(p.curve) ? p.curve.length : 'none'}. Log the train loss every few steps (train.logEvery) or use the final-loss method.`);
    }
  });
  const q = options.expertLr;
  checkExpertQuery(q);
  const nBoot = options.bootstrap ?? 0;
  const interval = options.interval ?? 'residuals';
  const seed = options.seed ?? 0;
  const holdout = options.holdout ?? 'largest';
  const smoothTokens = options.smoothTokens ?? DEFAULT_SMOOTH_TOKENS;

  // Each run's smoothed curve (its decreasing fit), its lowest loss and its steps to the target.
  const smoothed = points.map((p, i) => descent(smoothLossCurve(p.curve, smoothTokens, label(p, i))));
  const minLoss = smoothed.map((c) => Math.min(...c.map((r) => r.loss)));
  const given = options.targetLoss ?? 'auto';
  if (given !== 'auto' && !(Number.isFinite(given) && given > 0)) {
    throw new ConfigError('targetLoss', given, 'Give a train loss > 0 that ≥ 4 learning rates reach at every batch size, or "auto".', 'not a loss');
  }
  const auto = given === 'auto' ? autoTargetLoss(points.map((p, i) => ({ batchTokens: p.batchTokens, lr: p.lr, minLoss: minLoss[i] }))) : null;
  const target = auto ? auto.target : (given as number);
  const runs: TargetRun[] = points.map((p, i) => ({ batchTokens: p.batchTokens, lr: p.lr, steps: crossing(smoothed[i], target), minLoss: minLoss[i] }));
  const reachedRows = (rows: ArrayLike<number>) => Array.from(rows, (i) => runs[i]).filter((r): r is TargetRun & { steps: number } => r.steps !== undefined);
  const all = points.map((_, i) => i);
  const reached = reachedRows(all);
  const batches = [...new Set(reached.map((r) => r.batchTokens))].sort((a, b) => a - b);
  if (batches.length < 3) {
    throw new DataError(
      `surge (steps-to-target): runs reach the target loss ${target} at ${batches.length} batch size${batches.length === 1 ? '' : 's'}; S_min and B_noise need ≥ 3. ${given === 'auto' ? 'Add batch sizes, or train their runs longer.' : 'Raise --target-loss, add batch sizes, or train their runs longer.'}`,
    );
  }

  // Per batch: S_min(B) and the best LR (parabola vertex, else the fastest run); across batches
  // Li et al.'s procedure: B_noise from S_min(B) = S_min·(1 + B_noise/B), ε_max averaged over the
  // batches' best LRs. The free surge curve of the best LRs asks where they actually peak.
  const sliceRuns = (sample: readonly TargetRun[]) => batches.map((b) => batchDiagnostic(b, sample.filter((r) => r.batchTokens === b)));
  const sliceRows = (rows: ArrayLike<number>) => sliceRuns(Array.from(rows, (i) => runs[i]));
  const diag = sliceRows(all);
  const freeFit = fitCurve(diag);
  const est = stepsEstimates(diag, freeFit);
  if (!est) throw new DataError(`surge (steps-to-target): the S(B) fit did not converge at target ${target}. Give another --target-loss.`);
  const { Smin: sMin, Bnoise: bNoise } = est.steps.params;
  const epsMax = est.epsMax;
  const derivedAt = (s: number, bn: number, eps: number, free: [number, number]) => ({ ...derivedOf(eps, bn, q), Emin: s * bn, freeEpsMax: free[0], freeBnoise: free[1] });
  const derived = derivedAt(sMin, bNoise, epsMax, est.free);

  // One resample's estimates from its per-batch slices; the redrawn ones ('runs', 'seeds') or the
  // redrawn steps ('residuals') make the slices.
  const estimate = (ds: readonly Diagnostic[]): BootstrapOutcome => {
    const lost = ds.find((d) => !Number.isFinite(d.stepsMin as number));
    if (lost) return failed(`batch ${fmtTokens(lost.batchTokens)} tokens: no run of the resample reaches the target`);
    const r = stepsEstimates(ds, freeFit, [est.steps.theta]);
    if (!r) return failed('the S(B) fit or the free surge curve did not converge');
    const per: Record<string, number> = {};
    ds.forEach((d, i) => {
      per[`batch.${i}.bestLr`] = d.bestLr;
      per[`batch.${i}.stepsMin`] = d.stepsMin as number;
    });
    const { Smin, Bnoise } = r.steps.params;
    return { ...prefixKeys({ epsMax: r.epsMax, Bnoise, Smin }, 'params.'), ...prefixKeys(derivedAt(Smin, Bnoise, r.epsMax, r.free), 'derived.'), ...per };
  };
  const residualDesign = interval === 'residuals' ? stepsResidualDesign(runs) : null;
  const boot =
    nBoot === 0
      ? null
      : residualDesign
        ? bootstrapDraws((rng) => estimate(sliceRuns(redrawSteps(runs, residualDesign, rng))), { samples: nBoot, seed })
        : bootstrap(points.length, (rows) => estimate(sliceRows(rows)), { samples: nBoot, seed, groups: surgeStrata(points, interval) });

  // Held-out: S(B) and ε_max from the other batches (≥ 3) predict the largest batch's S_min and best LR.
  const heldOut: HeldOutRow[] = [];
  const held = holdout === 'largest' && batches.length >= 4 ? diag[diag.length - 1] : undefined;
  if (held) {
    const trainSlices = diag.slice(0, -1);
    const predictHeld = (ss: readonly Diagnostic[], fit: FormFit) => ({
      steps: stepsAtBatch(held.batchTokens, fit.params.Smin, fit.params.Bnoise),
      lr: epsOpt(held.batchTokens, liEpsMax(optima(ss), fit.params.Bnoise), fit.params.Bnoise),
    });
    const heldFit = fitSteps(trainSlices);
    const pred = predictHeld(trainSlices, heldFit);
    const trainRows = all.filter((i) => points[i].batchTokens !== held.batchTokens);
    // The held batch's slice is empty (NaN) in every resample and is cut off; its runs' residual
    // draws are made and not used (the design is per batch, so the others' are the same).
    const heldEstimate = (ds: readonly Diagnostic[]): BootstrapOutcome => {
      const lost = ds.find((d) => !Number.isFinite(d.stepsMin as number));
      if (lost) return failed(`batch ${fmtTokens(lost.batchTokens)} tokens: no run of the resample reaches the target`);
      const f = fitSteps(ds, [heldFit.theta]);
      return Number.isFinite(f.diagnostics.objective) ? predictHeld(ds, f) : failed('the S(B) fit did not converge');
    };
    const trainRuns = trainRows.map((i) => runs[i]);
    const heldBoot =
      nBoot === 0
        ? null
        : residualDesign
          ? bootstrapDraws((rng) => heldEstimate(sliceRuns(redrawSteps(runs, residualDesign, rng).filter((r) => r.batchTokens !== held.batchTokens)).slice(0, -1)), { samples: nBoot, seed: seed + 1 })
          : bootstrap(trainRows.length, (rows) => heldEstimate(sliceRuns(Array.from(rows, (j) => trainRuns[j])).slice(0, -1)), {
              samples: nBoot,
              seed: seed + 1,
              groups: surgeStrata(trainRows.map((i) => points[i]), interval),
            });
    heldOut.push(
      { label: `S_min at B = ${fmtTokens(held.batchTokens)} tokens`, actual: held.stepsMin as number, predicted: pred.steps, ci95: heldBoot?.intervals.steps ?? null, relError: relError(pred.steps, held.stepsMin as number) },
      { label: `best lr at B = ${fmtTokens(held.batchTokens)} tokens`, actual: held.bestLr, predicted: pred.lr, ci95: heldBoot?.intervals.lr ?? null, relError: relError(pred.lr, held.bestLr) },
    );
  }

  const bMin = batches[0];
  const bMax = batches[batches.length - 1];
  const grid = batchGrid(diag, options.curvePoints ?? 50);
  const reachedText = batches
    .map((b) => `${fmtTokens(b)}: ${runs.filter((r) => r.batchTokens === b && r.steps !== undefined).length}/${runs.filter((r) => r.batchTokens === b).length}`)
    .join(', ');
  // Edge batches and how much their steps vary across the LRs that reach the target (max/min S).
  const edges = diag
    .filter((d) => !d.interior)
    .map((d) => {
      const steps = runs.filter((r) => r.batchTokens === d.batchTokens && r.steps !== undefined).map((r) => r.steps as number);
      return `${fmtTokens(d.batchTokens)} tokens (steps vary ×${fmt(Math.max(...steps) / Math.min(...steps), 3)} over the LRs that reach the target)`;
    });
  const bPeak = est.free[1];
  return {
    kind: 'surge',
    method: 'steps-to-target',
    targetLoss: target,
    smoothTokens,
    form: `S = ${stepsBatchForm.expression}; lr = ${surgeForm.expression}`,
    params: withIntervals({ epsMax, Bnoise: bNoise, Smin: sMin }, boot, 'params.'),
    derived: withIntervals(derived, boot, 'derived.'),
    diagnostics: est.steps.diagnostics,
    data: {
      n: reached.length,
      rowsGiven: points.length,
      columns: {},
      dropped: runs.map((r, i) => ({ r, i })).filter(({ r }) => r.steps === undefined).map(({ i }) => ({ row: label(points[i], i), reason: `never reached the target loss ${target}` })),
      heldOutRows: held ? points.filter((p) => p.batchTokens === held.batchTokens).map((p) => label(p, points.indexOf(p))) : [],
    },
    heldOut,
    bootstrap: bootstrapSummary(boot, surgeScheme(interval, 'target fixed; per-batch optima, the S(B) fit, ε_max and the free surge curve refitted')),
    options: { method: 'steps-to-target', targetLoss: given, smoothTokens, holdout, bootstrap: nBoot, interval, seed, expertLr: q ?? null },
    notes: [
      'Method steps-to-target (Li et al. 2024 §3.2): per run, the optimizer steps S until the smoothed train loss comes down to the target (on its decreasing fit from the peak: pool-adjacent-violators, so a noisy dip does not make S early); per batch, S_min(B) and the best LR from a least-squares parabola of ln S in ln lr over the runs that reach it (its vertex when it lies among them, else the fastest run); S_min and B_noise from Levenberg–Marquardt on ln S_min(B) = ln S_min + ln(1 + B_noise/B) (the S–E trade-off); ε_max = mean of best lr·½(√(B_noise/B) + √(B/B_noise)) over the batches whose best LR is a vertex (all batches when none is).',
      auto
        ? `Target train loss ${target} (auto: the lowest 2-decimal loss that ≥ 4 learning rates reach with all their runs at every batch size; binding batch ${fmtTokens(auto.batchTokens)} tokens, whose binding learning rate reaches ${fmt(auto.bindingLoss, 4)} with all its runs).`
        : `Target train loss ${target} (given).`,
      `Smoothing: centred moving average of the logged train loss over ≥ ${fmtTokens(smoothTokens)} tokens and ≥ 1 row. Runs reaching the target per batch: ${reachedText}.`,
      bNoise >= bMin && bNoise <= bMax
        ? `B_noise = ${fmt(bNoise)} tokens lies inside the sampled batches (${fmtTokens(bMin)} … ${fmtTokens(bMax)}).`
        : `B_noise = ${fmt(bNoise)} tokens lies outside the sampled batches (${fmtTokens(bMin)} … ${fmtTokens(bMax)}): extrapolated from how S(B) bends; add batch sizes nearer to it.`,
      `Free surge-curve fit of the per-batch best LRs (diagnostic${edges.length ? ', bounds included' : ''}): peak at B = ${fmt(bPeak)} tokens${bPeak > 2 * bMax || bPeak < bMin / 2 ? ', outside the sampled batches: the grid does not locate the peak of ε_opt' : ''} (derived.freeBnoise; its ε_max ${fmt(derived.freeEpsMax)} as derived.freeEpsMax). Li et al.'s Theorem 5 equates that peak with B_noise.`,
      ...(edges.length
        ? [`At batch ${edges.join('; ')}, the parabola has no vertex among those LRs: the fastest run stands in (no interval). Those best LRs are bounds, not estimates, and ε_max leaves them out.`]
        : []),
      held ? `Held-out check: the law refitted without the largest batch (${fmtTokens(held.batchTokens)} tokens) predicts its S_min and best LR.` : 'No held-out check (needs ≥ 4 batch sizes, or --holdout none).',
      ...(q ? [`Expert LR rule at E = ${q.numExperts}, k = ${q.topK}, B = ${fmtTokens(q.batchTokens)} tokens: n = E/k, specialized experts see B/n tokens.`] : []),
    ],
    perBatch: diag.map((s, i) => ({
      batchTokens: s.batchTokens,
      points: runs
        .map((r, j) => ({ r, j }))
        .filter(({ r }) => r.batchTokens === s.batchTokens)
        .map(({ r, j }) => ({ lr: r.lr, loss: r.minLoss, ...(r.steps !== undefined ? { steps: r.steps } : {}), label: label(points[j], j) })),
      parabola: { q0: s.parabola.p0, q1: s.parabola.p1, q2: s.parabola.p2, r2: s.parabola.r2 },
      bestLr: { value: s.bestLr, ci95: s.interior ? (boot?.intervals[`batch.${i}.bestLr`] ?? null) : null },
      stepsMin: { value: s.stepsMin as number, ci95: s.interior ? (boot?.intervals[`batch.${i}.stepsMin`] ?? null) : null },
      heldOut: held !== undefined && s.batchTokens === held.batchTokens,
    })),
    curve: grid.map((b) => ({ batchTokens: b, lr: epsOpt(b, epsMax, bNoise) })),
    stepsCurve: grid.map((b) => ({ batchTokens: b, steps: stepsAtBatch(b, sMin, bNoise) })),
  };
}
