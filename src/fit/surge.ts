// Surge fit of the optimal learning rate against batch size (Li et al. 2024 "Surge Phenomenon",
// Eq. 2 / Theorem 3; docs/references.md#surge-estimation; docs/references.md#surge): the result type both methods share (SurgeFit,
// `method` says which), the pieces they share, and method 'final-loss' (one final loss per run).
// Method 'steps-to-target' (Li et al. §3.2) is in surge-steps.ts.
//
// fitSurge(points, options) — method 'final-loss':
//   per batch size B:  loss ≈ q0 + q1·ln η + q2·(ln η)²  →  η_best(B) = exp(−q1/(2·q2))
//   across batches:    ε_opt(B) = 2·ε_max / (sqrt(B_noise/B) + sqrt(B/B_noise)),
//                      fitted by Levenberg–Marquardt on ln η_best (θ = ln ε_max, ln B_noise)
//   At a fixed token budget this cannot identify B_noise (bigger batches get fewer steps, so their
//   best LR keeps rising), which is why the second method exists.
//
// Both: expert LR (docs/references.md#expert-lr): a specialized expert of a top-k-of-E MoE sees B·k/E tokens, so
//   lr_specialized / lr_shared = ε_opt(B·k/E) / ε_opt(B) = sqrt(n)·(1+u)/(n+u), n = E/k, u = B/B_noise.
// Symbols: B batch size in tokens, η (lr) peak learning rate, ε_max the peak of the surge curve.
import { ConfigError, DataError } from '../errors.ts';
import { dropEdgeGroups, NoInteriorMinimumError, type EdgePolicy } from './edges.ts';
import { bootstrap } from './bootstrap.ts';
import { fitForm, type FormFit, type FitDiagnostics } from './fit-form.ts';
import { epsOpt, surgeForm } from './forms.ts';
import { batchGrid, checkExpertQuery, derivedOf, fitCurve, fmtTokens, refitSlices, type BatchSlice, type ExpertLrQuery } from './surge-common.ts';

export { expertLrRatio, type ExpertLrQuery } from './surge-common.ts';
import { fitParabola, type Parabola } from './linear.ts';
import { fmt, groupIndices, requirePositive } from './points.ts';
import { bootstrapSummary, prefixKeys, relError, withIntervals, type Estimate, type FitResultBase, type HeldOutRow } from './record.ts';

export type SurgeMethod = 'final-loss' | 'steps-to-target';

export interface SurgePoint {
  /** Global batch size in tokens. */
  batchTokens: number;
  /** Peak learning rate of the run. */
  lr: number;
  /** Final (validation) loss. */
  loss: number;
  label?: string;
}


/**
 * What the surge bootstrap redraws:
 * - 'residuals' (steps-to-target only; its default) — every run kept at its (batch, LR), its ln S
 *   redrawn as the batch parabola's fitted value plus a modified residual of the same batch drawn
 *   with replacement (surge-steps.ts stepsResidualDesign);
 * - 'runs' (the final-loss default; steps-to-target's before) — runs with replacement within each
 *   batch size (on simulated grids its ε_max interval over-covers, 0.983);
 * - 'seeds' — every (batch, LR) cell kept, its runs (seeds) redrawn with replacement within the
 *   cell (under-covers).
 * docs/fit.md "How intervals are computed and checked" has the methods' measured coverage.
 */
export type SurgeIntervalMethod = 'runs' | 'seeds' | 'residuals';

/**
 * Bootstrap strata of the surge fits: one id per batch ('runs', 'residuals') or per (batch, LR)
 * cell ('seeds').
 */
export function surgeStrata(rows: readonly { batchTokens: number; lr: number }[], interval: SurgeIntervalMethod): Int32Array {
  const ids = new Map<string, number>();
  return Int32Array.from(rows, (r) => {
    const key = interval === 'seeds' ? `${r.batchTokens} ${r.lr}` : `${r.batchTokens}`;
    let id = ids.get(key);
    if (id === undefined) ids.set(key, (id = ids.size));
    return id;
  });
}

const SURGE_SCHEMES: Readonly<Record<SurgeIntervalMethod, string>> = Object.freeze({
  runs: 'runs resampled with replacement within each batch size',
  seeds: 'every (batch, LR) cell kept, its runs (seeds) resampled with replacement within the cell',
  residuals: "design kept (every run's batch and LR; runs that missed the target stay unreached); each run's ln S redrawn as its batch parabola's fitted value plus a residual of the same batch (÷√(1 − leverage), mean-centred) drawn with replacement",
});

/** The bootstrap scheme as a record states it. */
export function surgeScheme(interval: SurgeIntervalMethod, refitted: string): string {
  return `${SURGE_SCHEMES[interval]}; ${refitted}`;
}

export interface SurgeOptions {
  bootstrap?: number;
  /** What the bootstrap redraws (default: 'residuals' for steps-to-target, 'runs' for final-loss); see SurgeIntervalMethod. */
  interval?: SurgeIntervalMethod;
  seed?: number;
  /** 'largest': fit without the largest batch size and predict its best LR (and S_min). */
  holdout?: 'largest' | 'none';
  expertLr?: ExpertLrQuery;
  /** Points of the fitted curves written for plots (log-spaced over 0.5×min … 2×max batch). */
  curvePoints?: number;
  /**
   * final-loss: batches without an interior best LR (best run at the smallest or largest LR, or the
   * fitted vertex outside the sampled LRs): 'refuse' (default) throws; 'drop' leaves them out and
   * lists their runs in data.dropped. (Steps-to-target keeps such batches as bounds, see its notes.)
   */
  edges?: EdgePolicy;
}

export interface SurgeBatch {
  batchTokens: number;
  /**
   * final-loss: loss is the run's final loss. steps-to-target: loss is the lowest smoothed train
   * loss of the run's curve, steps the steps to the target (absent when it was never reached).
   */
  points: { lr: number; loss: number; steps?: number; label: string }[];
  /** final-loss: loss = q0 + q1·ln lr + q2·(ln lr)²; steps-to-target: ln S = q0 + q1·ln lr + q2·(ln lr)². */
  parabola: { q0: number; q1: number; q2: number; r2: number };
  bestLr: Estimate;
  /** final-loss: fitted loss at bestLr. */
  bestLoss?: number;
  /** steps-to-target: S_min(B), the parabola's minimum of S over lr. */
  stepsMin?: Estimate;
  heldOut: boolean;
}

export interface SurgeFit extends FitResultBase {
  kind: 'surge';
  /** Records written before this field existed used 'final-loss'. */
  method: SurgeMethod;
  /** steps-to-target: the train loss every S counts steps to. */
  targetLoss?: number;
  /** steps-to-target: the smoothing window's minimum span in tokens. */
  smoothTokens?: number;
  diagnostics: FitDiagnostics;
  perBatch: SurgeBatch[];
  /** ε_opt(B) with the reported ε_max and B_noise. */
  curve: { batchTokens: number; lr: number }[];
  /** steps-to-target: the fitted S_min·(1 + B_noise/B). */
  stepsCurve?: { batchTokens: number; steps: number }[];
}

// ---------------------------------------------------------------------------------------------
// Per batch size: the best LR

/** Vertex of a parabola in ln lr; refuses a concave parabola or a vertex outside the sampled LRs. */
function vertexSlice(batchTokens: number, lrs: readonly number[], y: readonly number[], what: { quantity: string; bestLr: number; fix: string }): BatchSlice {
  const u = lrs.map(Math.log);
  const parabola = fitParabola(u, y);
  const uMin = Math.min(...u);
  const uMax = Math.max(...u);
  if (!(parabola.p2 > 0) || parabola.vertexU < uMin || parabola.vertexU > uMax) {
    const where = !(parabola.p2 > 0) ? `${what.quantity} against ln lr curves downward` : `the fitted best lr ${fmt(Math.exp(parabola.vertexU))} lies outside the sampled ${fmt(Math.exp(uMin))} … ${fmt(Math.exp(uMax))}`;
    throw new NoInteriorMinimumError(`surge: batch ${fmtTokens(batchTokens)} tokens has no interior best learning rate (${where}; lowest ${what.quantity} at lr ${fmt(what.bestLr)}). ${what.fix}`);
  }
  return { batchTokens, parabola, bestLr: Math.exp(parabola.vertexU) };
}

function fitBatch(batchTokens: number, pts: readonly SurgePoint[]): BatchSlice {
  const lrs = new Set(pts.map((p) => p.lr));
  if (lrs.size < 3) {
    throw new DataError(
      `surge: batch ${fmtTokens(batchTokens)} tokens has ${lrs.size} distinct learning rate${lrs.size === 1 ? '' : 's'}: a parabola in ln lr needs at least 3. Add runs at other learning rates for this batch size.`,
    );
  }
  const best = pts.reduce((b, p) => (p.loss < b.loss ? p : b));
  return vertexSlice(batchTokens, pts.map((p) => p.lr), pts.map((p) => p.loss), { quantity: 'loss', bestLr: best.lr, fix: 'Extend the LR grid past the best run on both sides.' });
}


// ---------------------------------------------------------------------------------------------
// Method 'final-loss'

export function fitSurge(given: readonly SurgePoint[], options: SurgeOptions = {}): SurgeFit {
  const label = (p: SurgePoint, i: number) => p.label ?? `row ${i + 1}`;
  requirePositive(given, ['batchTokens', 'lr', 'loss'], label, 'Surge rows need batchTokens, lr and a finite loss > 0 (drop diverged runs).');
  const edges = options.edges ?? 'refuse';
  const split =
    edges === 'drop'
      ? dropEdgeGroups(
          given.map((p, i) => ({ ...p, label: label(p, i) })),
          (p) => p.batchTokens,
          (b, pts) => void fitBatch(b, pts),
        )
      : { kept: given, dropped: [], groups: [] };
  const points: readonly SurgePoint[] = split.kept;
  const q = options.expertLr;
  checkExpertQuery(q);
  const nBoot = options.bootstrap ?? 0;
  const interval = options.interval ?? 'runs';
  if (interval === 'residuals') {
    throw new ConfigError('interval', interval, "Use 'runs' or 'seeds' with the final-loss method ('residuals' is implemented for steps-to-target only).", 'not available for final-loss');
  }
  const seed = options.seed ?? 0;
  const holdout = options.holdout ?? 'largest';
  const groups = groupIndices(points.map((p) => p.batchTokens));
  if (groups.length < 2) {
    throw new DataError(
      `surge: ε_max and B_noise need best learning rates at ≥ 2 batch sizes, got ${groups.length}${split.groups.length ? ` after leaving out ${split.groups.length} without an interior best LR (${split.groups.join(' ')})` : ''}. Add runs at other batch sizes.`,
    );
  }
  const slicesOf = (rows: ArrayLike<number>): BatchSlice[] => {
    const sample = Array.from(rows, (j) => points[j]);
    return groupIndices(sample.map((p) => p.batchTokens)).map((g) => fitBatch(g.key, g.rows.map((k) => sample[k])));
  };
  const all = points.map((_, i) => i);
  const slices = slicesOf(all);
  const curveFit = fitCurve(slices);
  const [epsMax, bNoise] = [curveFit.params.epsMax, curveFit.params.Bnoise];
  const derived = derivedOf(epsMax, bNoise, q);

  const boot =
    nBoot > 0
      ? bootstrap(
          points.length,
          (rows) => {
            let ss: BatchSlice[];
            try {
              ss = slicesOf(rows);
            } catch {
              return null;
            }
            const r = refitSlices(curveFit, ss);
            if (!r) return null;
            const per: Record<string, number> = {};
            ss.forEach((s, i) => (per[`batch.${i}.bestLr`] = s.bestLr));
            return { ...prefixKeys({ epsMax: r[0], Bnoise: r[1] }, 'params.'), ...prefixKeys(derivedOf(r[0], r[1], q), 'derived.'), ...per };
          },
          { samples: nBoot, seed, groups: surgeStrata(points, interval) },
        )
      : null;

  const heldOut: HeldOutRow[] = [];
  const held = holdout === 'largest' && slices.length >= 3 ? slices[slices.length - 1] : null;
  if (held) {
    const trainSlices = slices.slice(0, -1);
    const heldFit = fitCurve(trainSlices);
    const pred = epsOpt(held.batchTokens, heldFit.params.epsMax, heldFit.params.Bnoise);
    const trainRows = all.filter((i) => points[i].batchTokens !== held.batchTokens);
    const heldBoot =
      nBoot > 0
        ? bootstrap(
            trainRows.length,
            (rows) => {
              try {
                const r = refitSlices(heldFit, slicesOf(Array.from(rows, (j) => trainRows[j])));
                return r ? { lr: epsOpt(held.batchTokens, r[0], r[1]) } : null;
              } catch {
                return null;
              }
            },
            { samples: nBoot, seed: seed + 1, groups: surgeStrata(trainRows.map((i) => points[i]), interval) },
          )
        : null;
    heldOut.push({
      label: `best lr at B = ${fmtTokens(held.batchTokens)} tokens`,
      actual: held.bestLr,
      predicted: pred,
      ci95: heldBoot?.intervals.lr ?? null,
      relError: relError(pred, held.bestLr),
    });
  }

  const bMin = slices[0].batchTokens;
  const bMax = slices[slices.length - 1].batchTokens;
  const curve = batchGrid(slices, options.curvePoints ?? 50).map((b) => ({ batchTokens: b, lr: epsOpt(b, epsMax, bNoise) }));
  const peakInside = bNoise >= bMin / 2 && bNoise <= bMax * 2;

  return {
    kind: 'surge',
    method: 'final-loss',
    form: surgeForm.expression,
    params: withIntervals({ epsMax, Bnoise: bNoise }, boot, 'params.'),
    derived: withIntervals(derived, boot, 'derived.'),
    diagnostics: curveFit.diagnostics,
    data: {
      n: points.length,
      rowsGiven: given.length,
      columns: {},
      dropped: split.dropped,
      heldOutRows: held ? points.filter((p) => p.batchTokens === held.batchTokens).map((p) => label(p, points.indexOf(p))) : [],
    },
    heldOut,
    bootstrap: bootstrapSummary(boot, surgeScheme(interval, 'parabolas and the surge curve refitted')),
    options: { method: 'final-loss', holdout, bootstrap: nBoot, interval, seed, expertLr: q ?? null, edges },
    notes: [
      ...split.groups.map((g) => `Left out (edges: drop): ${g}`),
      'Method final-loss: best LR per batch = vertex of a least-squares parabola of the final loss in ln lr (must lie inside the sampled LRs).',
      'Surge curve: Levenberg–Marquardt on ln(best lr) from a grid of (ε_max, B_noise) starts.',
      peakInside
        ? 'B_noise lies within the sampled batch range (×2 margin): the surge peak is observed.'
        : `B_noise = ${fmt(bNoise)} lies outside the sampled batches (${fmtTokens(bMin)} … ${fmtTokens(bMax)}): only one side of the surge is observed, so ε_max and B_noise are weakly identified (their ratio ε_max/sqrt(B_noise) is reported as lnEpsMaxOverSqrtBnoise).`,
      held ? `Held-out check: curve refitted without the largest batch (${fmtTokens(held.batchTokens)} tokens), its best LR predicted.` : 'No held-out check (needs ≥ 3 batch sizes, or --holdout none).',
      ...(q ? [`Expert LR rule at E = ${q.numExperts}, k = ${q.topK}, B = ${fmtTokens(q.batchTokens)} tokens: n = E/k, specialized experts see B/n tokens.`] : []),
    ],
    perBatch: slices.map((s, i) => ({
      batchTokens: s.batchTokens,
      points: points.map((p, j) => ({ p, j })).filter(({ p }) => p.batchTokens === s.batchTokens).map(({ p, j }) => ({ lr: p.lr, loss: p.loss, label: label(p, j) })),
      parabola: { q0: s.parabola.p0, q1: s.parabola.p1, q2: s.parabola.p2, r2: s.parabola.r2 },
      bestLr: { value: s.bestLr, ci95: boot?.intervals[`batch.${i}.bestLr`] ?? null },
      bestLoss: s.parabola.vertexY,
      heldOut: held !== null && s.batchTokens === held.batchTokens,
    })),
    curve,
  };
}

