// Approach 1, the envelope of training curves (Hoffmann et al. 2022 §3.1; docs/references.md#chinchilla-approach-1):
// interpolate every run's loss against training FLOPs, and at each of K log-spaced FLOP values
// take the run with the lowest loss → (C, N_opt, D_opt); then N_opt = kN·C^a and D_opt = kD·C^b by
// least squares in log space. Chinchilla used K = 1,500.
// Symbols: N activated parameters of a run, D tokens seen at C, C training FLOPs, L loss.
import { DataError } from '../errors.ts';
import { bootstrap, failedWith } from './bootstrap.ts';
import { COMPUTE_6ND, tokensForCompute, type ComputeFormula } from './compute-formula.ts';
import { evalPowerLaw, fitPowerLaw, type PowerLaw } from './linear.ts';
import { fmt } from './points.ts';
import { bootstrapSummary, prefixKeys, relError, withIntervals, type FitResultBase, type HeldOutRow } from './record.ts';

export interface TrainingCurve {
  label: string;
  /** Activated parameters of the run. */
  N: number;
  /** Logged points; `tokens` optional (else D = C/(a·N + b) from the compute formula). */
  points: { flops: number; loss: number; tokens?: number }[];
}

export interface EnvelopeOptions {
  /** Log-spaced FLOP values at which the envelope is taken (Chinchilla: 1,500). */
  gridPoints?: number;
  /** A FLOP value enters the envelope only when at least this many curves cover it (default 2). */
  minCurves?: number;
  /** Centered moving average over this many logged points before interpolating (1 = none). */
  smoothWindow?: number;
  computeFormula?: ComputeFormula;
  targetFlops?: readonly number[];
  bootstrap?: number;
  seed?: number;
  /** 'largest': fit on the lower 80% of the envelope's ln C range, predict N_opt, D_opt at its top. */
  holdout?: 'largest' | 'none';
  /**
   * Drop envelope points won by the smallest or largest model (default true): there the true
   * optimum may lie outside the sizes trained, so N_opt is censored at the edge of the grid.
   */
  excludeEdgeWinners?: boolean;
}

export interface EnvelopePoint {
  C: number;
  N: number;
  D: number;
  loss: number;
  curve: string;
}

export interface EnvelopeFit extends FitResultBase {
  kind: 'envelope';
  envelope: EnvelopePoint[];
}

interface PreparedCurve {
  label: string;
  N: number;
  lnC: Float64Array;
  loss: Float64Array;
  lnD: Float64Array | null;
}

function prepareCurve(c: TrainingCurve, window: number): PreparedCurve {
  const pts = c.points.filter((p) => p.flops > 0 && Number.isFinite(p.loss)).sort((a, b) => a.flops - b.flops);
  const loss = Float64Array.from(pts, (p) => p.loss);
  if (window > 1) {
    const half = Math.floor(window / 2);
    const raw = Float64Array.from(loss);
    for (let i = 0; i < raw.length; i++) {
      let s = 0;
      let k = 0;
      for (let j = Math.max(0, i - half); j <= Math.min(raw.length - 1, i + half); j++) {
        s += raw[j];
        k++;
      }
      loss[i] = s / k;
    }
  }
  const haveD = pts.every((p) => p.tokens !== undefined && p.tokens > 0);
  return {
    label: c.label,
    N: c.N,
    lnC: Float64Array.from(pts, (p) => Math.log(p.flops)),
    loss,
    lnD: haveD ? Float64Array.from(pts, (p) => Math.log(p.tokens as number)) : null,
  };
}

/** Linear interpolation at x in ascending xs (x within range). */
function interp(xs: Float64Array, ys: Float64Array, x: number): number {
  let lo = 0;
  let hi = xs.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] <= x) lo = mid;
    else hi = mid;
  }
  if (xs[hi] === xs[lo]) return ys[lo];
  const t = (x - xs[lo]) / (xs[hi] - xs[lo]);
  return ys[lo] + t * (ys[hi] - ys[lo]);
}

function computeEnvelope(curves: readonly PreparedCurve[], K: number, minCurves: number, formula: ComputeFormula, excludeEdges: boolean): EnvelopePoint[] {
  const usable = curves.filter((c) => c.lnC.length >= 2);
  if (usable.length === 0) return [];
  const nMin = Math.min(...usable.map((c) => c.N));
  const nMax = Math.max(...usable.map((c) => c.N));
  const lo = Math.min(...usable.map((c) => c.lnC[0]));
  const hi = Math.max(...usable.map((c) => c.lnC[c.lnC.length - 1]));
  const out: EnvelopePoint[] = [];
  for (let k = 0; k < K; k++) {
    const lnC = lo + ((hi - lo) * k) / (K - 1);
    let best: PreparedCurve | null = null;
    let bestLoss = Infinity;
    let covering = 0;
    for (const c of usable) {
      if (lnC < c.lnC[0] || lnC > c.lnC[c.lnC.length - 1]) continue;
      covering++;
      const l = interp(c.lnC, c.loss, lnC);
      if (l < bestLoss) {
        bestLoss = l;
        best = c;
      }
    }
    if (!best || covering < minCurves) continue;
    if (excludeEdges && (best.N === nMin || best.N === nMax)) continue;
    const C = Math.exp(lnC);
    const D = best.lnD ? Math.exp(interp(best.lnC, best.lnD, lnC)) : tokensForCompute(C, best.N, formula);
    out.push({ C, N: best.N, D, loss: bestLoss, curve: best.label });
  }
  return out;
}

function fitLaws(env: readonly EnvelopePoint[]): { N: PowerLaw; D: PowerLaw } {
  if (new Set(env.map((e) => e.N)).size < 2) {
    throw new DataError(
      `envelope: only one model size (${env.length ? `N = ${fmt(env[0].N)}` : 'none'}) is ever the lowest-loss run away from the smallest and largest sizes, so N_opt cannot vary with C. Add curves of sizes that win at other compute levels (smaller and larger models, trained longer).`,
    );
  }
  return { N: fitPowerLaw(env.map((e) => e.C), env.map((e) => e.N)), D: fitPowerLaw(env.map((e) => e.C), env.map((e) => e.D)) };
}

export function fitEnvelope(curves: readonly TrainingCurve[], options: EnvelopeOptions = {}): EnvelopeFit {
  curves.forEach((c) => {
    if (!(c.N > 0 && Number.isFinite(c.N))) throw new DataError(`envelope: curve ${c.label} has N = ${c.N}; N (activated parameters) must be > 0.`);
    if (c.points.filter((p) => p.flops > 0 && Number.isFinite(p.loss)).length < 2) {
      throw new DataError(`envelope: curve ${c.label} has fewer than 2 points with FLOPs > 0 and a finite loss. Log more points or drop the curve.`);
    }
  });
  if (curves.length < 2) throw new DataError(`envelope: need curves of at least 2 model sizes, got ${curves.length}.`);
  const K = options.gridPoints ?? 1500;
  const minCurves = options.minCurves ?? 2;
  const window = options.smoothWindow ?? 1;
  const formula = options.computeFormula ?? COMPUTE_6ND;
  const targets = options.targetFlops ?? [];
  const nBoot = options.bootstrap ?? 0;
  const seed = options.seed ?? 0;
  const holdout = options.holdout ?? 'largest';
  const excludeEdges = options.excludeEdgeWinners ?? true;

  const prepared = curves.map((c) => prepareCurve(c, window));
  const env = computeEnvelope(prepared, K, minCurves, formula, excludeEdges);
  const laws = fitLaws(env);
  const valuesOf = (l: { N: PowerLaw; D: PowerLaw }) => {
    const derived: Record<string, number> = { 'a+b': l.N.a + l.D.a };
    for (const C of targets) {
      derived[`N_opt@${fmt(C)}`] = evalPowerLaw(l.N, C);
      derived[`D_opt@${fmt(C)}`] = evalPowerLaw(l.D, C);
    }
    return { params: { kN: l.N.k, a: l.N.a, kD: l.D.k, b: l.D.a }, derived };
  };
  const values = valuesOf(laws);
  const boot =
    nBoot > 0
      ? bootstrap(
          prepared.length,
          (rows) => {
            try {
              const v = valuesOf(fitLaws(computeEnvelope(Array.from(rows, (i) => prepared[i]), K, minCurves, formula, excludeEdges)));
              return { ...prefixKeys(v.params, 'params.'), ...prefixKeys(v.derived, 'derived.') };
            } catch (err) {
              return failedWith(err);
            }
          },
          { samples: nBoot, seed },
        )
      : null;

  const heldOut: HeldOutRow[] = [];
  let heldNote = 'No held-out check (--holdout none, or too few envelope points below the cut).';
  if (holdout === 'largest' && env.length >= 4) {
    const lnLo = Math.log(env[0].C);
    const lnHi = Math.log(env[env.length - 1].C);
    const cut = Math.exp(lnLo + 0.8 * (lnHi - lnLo));
    const train = env.filter((e) => e.C <= cut);
    const top = env[env.length - 1];
    if (new Set(train.map((e) => e.N)).size >= 2) {
      const l = fitLaws(train);
      const pN = evalPowerLaw(l.N, top.C);
      const pD = evalPowerLaw(l.D, top.C);
      const heldBoot =
        nBoot > 0
          ? bootstrap(
              prepared.length,
              (rows) => {
                try {
                  const e = computeEnvelope(Array.from(rows, (i) => prepared[i]), K, minCurves, formula, excludeEdges).filter((x) => x.C <= cut);
                  const lb = fitLaws(e);
                  return { N: evalPowerLaw(lb.N, top.C), D: evalPowerLaw(lb.D, top.C) };
                } catch (err) {
                  return failedWith(err);
                }
              },
              { samples: nBoot, seed: seed + 1 },
            )
          : null;
      heldOut.push(
        { label: `N_opt at C = ${fmt(top.C)}`, actual: top.N, predicted: pN, ci95: heldBoot?.intervals.N ?? null, relError: relError(pN, top.N) },
        { label: `D_opt at C = ${fmt(top.C)}`, actual: top.D, predicted: pD, ci95: heldBoot?.intervals.D ?? null, relError: relError(pD, top.D) },
      );
      heldNote = `Held-out check: laws fitted on envelope points with C ≤ ${fmt(cut)} (lower 80% of ln C), N_opt and D_opt predicted at the top of the envelope.`;
    }
  }

  return {
    kind: 'envelope',
    form: 'N_opt = kN * C^a; D_opt = kD * C^b (envelope of loss-vs-FLOPs curves)',
    params: withIntervals(values.params, boot, 'params.'),
    derived: withIntervals(values.derived, boot, 'derived.'),
    diagnostics: { optimizer: 'least-squares', objective: null, r2: Math.min(laws.N.r2, laws.D.r2), converged: true, iterations: 0 },
    data: { n: curves.length, rowsGiven: curves.length, columns: {}, dropped: [], heldOutRows: [] },
    heldOut,
    bootstrap: bootstrapSummary(boot, 'curves resampled with replacement; envelope and laws recomputed'),
    options: { gridPoints: K, minCurves, smoothWindow: window, computeFormula: formula, targetFlops: targets, bootstrap: nBoot, seed, holdout, excludeEdgeWinners: excludeEdges },
    notes: [
      `Envelope at ${K} log-spaced FLOP values; each curve interpolated linearly in ln C${window > 1 ? ` after a ${window}-point moving average` : ''}; a value needs ≥ ${minCurves} covering curves.`,
      excludeEdges ? 'FLOP values won by the smallest or largest model are left out (N_opt is censored there).' : 'FLOP values won by the smallest or largest model are kept.',
      prepared.every((c) => c.lnD) ? 'D_opt: tokens interpolated along the winning curve.' : `D_opt: D = C / (${formula.a}·N + ${formula.b}) where curves lack tokens.`,
      heldNote,
    ],
    envelope: env,
  };
}
