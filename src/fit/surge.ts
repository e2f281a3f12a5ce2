// Surge fit of the optimal learning rate against batch size (Li et al. 2024 "Surge Phenomenon",
// Eq. 2 / Theorem 3; METHODS.md §4.2; PAPER.md §3):
//   per batch size B:  loss ≈ q0 + q1·ln η + q2·(ln η)²  →  η_best(B) = exp(−q1/(2·q2))
//   across batches:    ε_opt(B) = 2·ε_max / (sqrt(B_noise/B) + sqrt(B/B_noise)),
//                      fitted by Levenberg–Marquardt on ln η_best (θ = ln ε_max, ln B_noise)
//   expert LR (PAPER.md §3.2): a specialized expert of a top-k-of-E MoE sees B·k/E tokens, so
//                      lr_specialized / lr_shared = ε_opt(B·k/E) / ε_opt(B) = sqrt(n)·(1+u)/(n+u),
//                      n = E/k, u = B/B_noise
// Symbols: B batch size in tokens, η (lr) peak learning rate, ε_max the peak of the surge curve.
import { surgeExpertLrRatio } from '../train/expert-lr.ts';
import { DataError } from '../errors.ts';
import { bootstrap } from './bootstrap.ts';
import { fitForm, type FormFit, type FitDiagnostics } from './fit-form.ts';
import { epsOpt, surgeForm } from './forms.ts';
import { fitParabola, type Parabola } from './linear.ts';
import { fmt, groupIds, groupIndices, requirePositive } from './points.ts';
import { bootstrapSummary, prefixKeys, relError, withIntervals, type Estimate, type FitResultBase, type HeldOutRow } from './record.ts';


export interface SurgePoint {
  /** Global batch size in tokens. */
  batchTokens: number;
  /** Peak learning rate of the run. */
  lr: number;
  /** Final (validation) loss. */
  loss: number;
  label?: string;
}

/** Where to evaluate the expert-specific LR rule. */
export interface ExpertLrQuery {
  numExperts: number;
  topK: number;
  batchTokens: number;
}

export interface SurgeOptions {
  bootstrap?: number;
  seed?: number;
  /** 'largest': fit without the largest batch size and predict its best LR. */
  holdout?: 'largest' | 'none';
  expertLr?: ExpertLrQuery;
  /** Points of the fitted curve written for plots (log-spaced over 0.5×min … 2×max batch). */
  curvePoints?: number;
}

export interface SurgeBatch {
  batchTokens: number;
  points: { lr: number; loss: number; label: string }[];
  /** loss = q0 + q1·ln lr + q2·(ln lr)². */
  parabola: { q0: number; q1: number; q2: number; r2: number };
  bestLr: Estimate;
  /** Fitted loss at bestLr. */
  bestLoss: number;
  heldOut: boolean;
}

export interface SurgeFit extends FitResultBase {
  kind: 'surge';
  diagnostics: FitDiagnostics;
  perBatch: SurgeBatch[];
  curve: { batchTokens: number; lr: number }[];
}

/** lr_specialized / lr_shared = ε_opt(B/n)/ε_opt(B) = sqrt(n)(1+u)/(n+u) with u = B/B_noise (PAPER.md §3.2). */
export function expertLrRatio(batchTokens: number, bNoise: number, numExperts: number, topK: number): number {
  return surgeExpertLrRatio(batchTokens / bNoise, numExperts / topK);
}

interface BatchSlice {
  batchTokens: number;
  parabola: Parabola;
  bestLr: number;
}

function fitBatch(batchTokens: number, pts: readonly SurgePoint[]): BatchSlice {
  const lrs = new Set(pts.map((p) => p.lr));
  if (lrs.size < 3) {
    throw new DataError(
      `surge: batch ${fmt(batchTokens)} tokens has ${lrs.size} distinct learning rate${lrs.size === 1 ? '' : 's'}: a parabola in ln lr needs at least 3. Add runs at other learning rates for this batch size.`,
    );
  }
  const u = pts.map((p) => Math.log(p.lr));
  const parabola = fitParabola(u, pts.map((p) => p.loss));
  const best = pts.reduce((b, p) => (p.loss < b.loss ? p : b));
  const uMin = Math.min(...u);
  const uMax = Math.max(...u);
  if (!(parabola.p2 > 0) || parabola.vertexU < uMin || parabola.vertexU > uMax) {
    const where = !(parabola.p2 > 0) ? 'loss against ln lr curves downward' : `the fitted best lr ${fmt(Math.exp(parabola.vertexU))} lies outside the sampled ${fmt(Math.exp(uMin))} … ${fmt(Math.exp(uMax))}`;
    throw new DataError(
      `surge: batch ${fmt(batchTokens)} tokens has no interior best learning rate (${where}; lowest loss at lr ${fmt(best.lr)}). Extend the LR grid past the best run on both sides.`,
    );
  }
  return { batchTokens, parabola, bestLr: Math.exp(parabola.vertexU) };
}

/** Start grid for (ln ε_max, ln B_noise): around the largest best LR and across the batch range. */
function surgeStarts(slices: readonly BatchSlice[]): number[][] {
  const lnMax = Math.log(Math.max(...slices.map((s) => s.bestLr)));
  const lnB = slices.map((s) => Math.log(s.batchTokens));
  const bCands = [Math.min(...lnB) - Math.log(10), ...lnB, Math.max(...lnB) + Math.log(10)];
  const out: number[][] = [];
  for (const de of [0, Math.log(2), Math.log(5)]) for (const b of bCands) out.push([lnMax + de, b]);
  return out;
}

function fitCurve(slices: readonly BatchSlice[]): FormFit {
  return fitForm(
    surgeForm,
    [Float64Array.from(slices, (s) => s.batchTokens)],
    slices.map((s) => s.bestLr),
    { starts: surgeStarts(slices), loss: 'lsq-log' },
  );
}

function derivedOf(epsMax: number, bNoise: number, q: ExpertLrQuery | undefined): Record<string, number> {
  const out: Record<string, number> = { B_peak: bNoise, lnEpsMaxOverSqrtBnoise: Math.log(epsMax) - 0.5 * Math.log(bNoise) };
  if (q) {
    const shared = epsOpt(q.batchTokens, epsMax, bNoise);
    out.lrShared = shared;
    out.lrSpecialized = epsOpt((q.batchTokens * q.topK) / q.numExperts, epsMax, bNoise);
    out.expertLrRatio = expertLrRatio(q.batchTokens, bNoise, q.numExperts, q.topK);
    out.u = q.batchTokens / bNoise;
  }
  return out;
}

export function fitSurge(points: readonly SurgePoint[], options: SurgeOptions = {}): SurgeFit {
  const label = (p: SurgePoint, i: number) => p.label ?? `row ${i + 1}`;
  requirePositive(points, ['batchTokens', 'lr', 'loss'], label, 'Surge rows need batchTokens, lr and a finite loss > 0 (drop diverged runs).');
  const q = options.expertLr;
  if (q && !(q.numExperts >= 1 && q.topK >= 1 && q.topK <= q.numExperts && q.batchTokens > 0)) {
    throw new DataError(`surge: expert LR query needs 1 ≤ topK ≤ numExperts and batchTokens > 0 (got E=${q.numExperts}, k=${q.topK}, B=${q.batchTokens}).`);
  }
  const nBoot = options.bootstrap ?? 0;
  const seed = options.seed ?? 0;
  const holdout = options.holdout ?? 'largest';
  const groups = groupIndices(points.map((p) => p.batchTokens));
  if (groups.length < 2) {
    throw new DataError(`surge: ε_max and B_noise need best learning rates at ≥ 2 batch sizes, got ${groups.length}. Add runs at other batch sizes.`);
  }
  const slicesOf = (rows: ArrayLike<number>): BatchSlice[] => {
    const by = new Map<number, SurgePoint[]>();
    for (let j = 0; j < rows.length; j++) {
      const p = points[rows[j]];
      const list = by.get(p.batchTokens);
      if (list) list.push(p);
      else by.set(p.batchTokens, [p]);
    }
    return [...by.entries()].sort((a, b) => a[0] - b[0]).map(([b, pts]) => fitBatch(b, pts));
  };
  const all = points.map((_, i) => i);
  const slices = slicesOf(all);
  const curveFit = fitCurve(slices);
  const [epsMax, bNoise] = [curveFit.params.epsMax, curveFit.params.Bnoise];
  const derived = derivedOf(epsMax, bNoise, q);

  const batchIds = groupIds(points.map((p) => p.batchTokens));
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
          { samples: nBoot, seed, groups: batchIds },
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
            { samples: nBoot, seed: seed + 1, groups: groupIds(trainRows.map((i) => points[i].batchTokens)) },
          )
        : null;
    heldOut.push({
      label: `best lr at B = ${fmt(held.batchTokens)} tokens`,
      actual: held.bestLr,
      predicted: pred,
      ci95: heldBoot?.intervals.lr ?? null,
      relError: relError(pred, held.bestLr),
    });
  }

  const bMin = Math.min(...slices.map((s) => s.batchTokens));
  const bMax = Math.max(...slices.map((s) => s.batchTokens));
  const nCurve = options.curvePoints ?? 50;
  const curve = Array.from({ length: nCurve }, (_, i) => {
    const b = Math.exp(Math.log(bMin / 2) + (i / (nCurve - 1)) * Math.log((4 * bMax) / bMin));
    return { batchTokens: b, lr: epsOpt(b, epsMax, bNoise) };
  });
  const peakInside = bNoise >= bMin / 2 && bNoise <= bMax * 2;

  return {
    kind: 'surge',
    form: surgeForm.expression,
    params: withIntervals({ epsMax, Bnoise: bNoise }, boot, 'params.'),
    derived: withIntervals(derived, boot, 'derived.'),
    diagnostics: curveFit.diagnostics,
    data: {
      n: points.length,
      rowsGiven: points.length,
      columns: {},
      dropped: [],
      heldOutRows: held ? points.filter((p) => p.batchTokens === held.batchTokens).map((p) => label(p, points.indexOf(p))) : [],
    },
    heldOut,
    bootstrap: bootstrapSummary(boot, 'runs resampled with replacement within each batch size; parabolas and the surge curve refitted'),
    options: { holdout, bootstrap: nBoot, seed, expertLr: q ?? null },
    notes: [
      'Best LR per batch: vertex of a least-squares parabola of loss in ln lr (must lie inside the sampled LRs).',
      'Surge curve: Levenberg–Marquardt on ln(best lr) from a grid of (ε_max, B_noise) starts.',
      peakInside
        ? 'B_noise lies within the sampled batch range (×2 margin): the surge peak is observed.'
        : `B_noise = ${fmt(bNoise)} lies outside the sampled batches (${fmt(bMin)} … ${fmt(bMax)}): only one side of the surge is observed, so ε_max and B_noise are weakly identified (their ratio ε_max/sqrt(B_noise) is reported as lnEpsMaxOverSqrtBnoise).`,
      held ? `Held-out check: curve refitted without the largest batch (${fmt(held.batchTokens)} tokens), its best LR predicted.` : 'No held-out check (needs ≥ 3 batch sizes, or --holdout none).',
      ...(q ? [`Expert LR rule at E = ${q.numExperts}, k = ${q.topK}, B = ${fmt(q.batchTokens)} tokens: n = E/k, specialized experts see B/n tokens.`] : []),
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

/**
 * Refit the surge curve to a resample's per-batch optima, starting from a previous optimum
 * (the optima themselves change with every resample, so this is not a row-level refit);
 * returns [ε_max, B_noise].
 */
function refitSlices(base: FormFit, slices: readonly BatchSlice[]): [number, number] | null {
  const fit = fitForm(surgeForm, [Float64Array.from(slices, (s) => s.batchTokens)], slices.map((s) => s.bestLr), {
    starts: [base.theta],
    loss: 'lsq-log',
  });
  return Number.isFinite(fit.diagnostics.objective) ? [fit.params.epsMax, fit.params.Bnoise] : null;
}
