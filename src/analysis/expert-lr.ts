// Expert-specific LR as an experiment (pure). Three parts:
//  1. Each run's measured routing: per-expert token share and recycled fraction, averaged over the
//     logged intervals of metrics.jsonl (weighted by the steps each interval covers).
//  2. The empirically best LR multiplier of a factor sweep (expert-lr arms: the specialized experts'
//     LR × factor; lr-control arms: every group's LR × factor): per-seed losses fitted by
//     L = α_seed + c1·x + c2·x², x = ln factor (one intercept per seed: the comparison is paired),
//     vertex x* = −c1/(2·c2), and Fieller's 95% interval for that ratio with the residual degrees of
//     freedom (exact for normal residuals; test/analysis/expert-lr.test.ts checks coverage). When the
//     interval is unbounded (curvature not resolved) or the vertex lies outside the grid, it says so.
//  3. The paper's ratio √n(1+u)/(n+u) (docs/references.md#expert-lr) with u = B/B_noise over the
//     measured B_noise interval and n over the measured per-expert n = 1/(k·share) (E/k when every
//     expert gets 1/E of the assignments), set beside both fitted optima.
import { surgeExpertLrRatio } from '../fit/forms.ts';
import { fmt } from '../fit/points.ts';
import type { Estimate } from '../fit/record.ts';
import type { SweepRun } from '../io/load.ts';
import { armTagsOf, type ArmGroup } from './arm-tags.ts';
import { finalLoss } from './select.ts';
import { fCdf, studentTQuantile } from './student-t.ts';

// ---------------------------------------------------------------------------------------------
// 1. Measured routing

export interface RunRouting {
  runId: string;
  /** Fraction of routed assignments per specialized expert (sums to 1), step-weighted over the run. */
  shares: number[];
  /** Step-weighted mean of the per-interval recycled fraction. */
  recycledFraction: number;
  topK: number;
  numExperts: number;
}

/**
 * Run-level shares and recycled fraction from the logged intervals (rows with expertUsage). Each
 * row summarises the steps since the previous row, so it is weighted by that many steps.
 * Undefined when no row logs expert usage (dense models, runs before the metric existed).
 */
export function runRouting(run: SweepRun): RunRouting | undefined {
  const rows = run.metrics.filter((m) => Array.isArray(m.expertUsage) && m.expertUsage.length > 0);
  if (rows.length === 0) return undefined;
  const E = rows[0].expertUsage!.length;
  const shares = new Array<number>(E).fill(0);
  let recycled = 0;
  let total = 0;
  let prev = 0;
  for (const m of run.metrics) {
    const w = Math.max(m.step - prev, 0);
    prev = m.step;
    if (!m.expertUsage || m.expertUsage.length !== E || w === 0) continue;
    for (let e = 0; e < E; e++) shares[e] += w * m.expertUsage[e];
    recycled += w * m.recycledTokenFraction;
    total += w;
  }
  if (total === 0) return undefined;
  const sum = shares.reduce((a, b) => a + b, 0);
  const model = run.config.config.model;
  return { runId: run.runId, shares: shares.map((s) => s / sum), recycledFraction: recycled / total, topK: model.topK, numExperts: model.numExperts };
}

/** n of one expert: how many times fewer tokens it sees than the shared expert, 1/(k·share). */
export function expertN(share: number, topK: number): number {
  return 1 / (topK * share);
}

// ---------------------------------------------------------------------------------------------
// 2. Best multiplier of a factor sweep

export interface FactorLoss {
  factor: number;
  seed: number;
  loss: number;
}

export interface BestFactor {
  /** Factors of the whole grid, ascending. */
  grid: number[];
  /** Factors the parabola used (the window around the best, else the grid), ascending. */
  factors: number[];
  seeds: number[];
  /** Mean loss per grid factor over the seeds that have it. */
  meanLoss: number[];
  /** The grid factor with the lowest mean loss. */
  bestGridFactor: number;
  /** Curvature c2 of L in ln factor (> 0: a minimum) and its t statistic. */
  curvature: { value: number; t: number };
  /** exp(x*) with Fieller's interval (null when unbounded: the curvature is not resolved); null without a minimum. */
  optimum: Estimate | null;
  /** The vertex (or, without a minimum, the best grid factor) at or beyond an end of the grid. */
  edge: 'low' | 'high' | null;
  residualDf: number;
  /**
   * Lack-of-fit F test of the parabola against one mean per factor (both with per-seed intercepts):
   * p < 0.05 says the loss is not a parabola in ln factor over this grid, so the vertex and its
   * interval are biased (null when the grid has 3 factors or the seeds leave no pure-error df).
   */
  lackOfFit: { F: number; df1: number; df2: number; p: number } | null;
  /** What the fit could and could not say, as sentences. */
  notes: string[];
}

/** Fieller's interval for x* = −c1/(2c2) from (c1, c2) and their covariance; null when unbounded. */
export function fiellerVertex(c1: number, c2: number, v11: number, v12: number, v22: number, t: number): [number, number] | null {
  // {x : (c1 + 2c2·x)² ≤ t²·Var(c1 + 2c2·x)} = {x : A·x² + B·x + C ≤ 0}.
  const A = 4 * c2 * c2 - 4 * t * t * v22;
  const B = 4 * c1 * c2 - 4 * t * t * v12;
  const C = c1 * c1 - t * t * v11;
  if (!(A > 0)) return null;
  const disc = B * B - 4 * A * C;
  if (disc < 0) return null;
  const r = Math.sqrt(disc);
  return [(-B - r) / (2 * A), (-B + r) / (2 * A)];
}

/**
 * The `window` factors nearest (in ln factor) to the factor with the lowest mean loss: a parabola is
 * only a local model of the loss, and LR curves are steeper above the optimum than below.
 */
export function nearBestFactors(points: readonly FactorLoss[], window: number): FactorLoss[] {
  const factors = [...new Set(points.map((p) => p.factor))].sort((a, b) => a - b);
  if (factors.length <= window) return [...points];
  const mean = (f: number) => {
    const ls = points.filter((p) => p.factor === f).map((p) => p.loss);
    return ls.reduce((a, b) => a + b, 0) / ls.length;
  };
  const best = factors.reduce((b, f) => (mean(f) < mean(b) ? f : b));
  const kept = new Set([...factors].sort((x, y) => Math.abs(Math.log(x / best)) - Math.abs(Math.log(y / best)) || x - y).slice(0, window));
  return points.filter((p) => kept.has(p.factor));
}

/**
 * The best multiplier of a paired factor sweep (`window`: fit only that many factors around the
 * best one, nearBestFactors; default every factor). Needs ≥ 3 factors and more observations than
 * (seeds + 2) coefficients; undefined otherwise.
 */
export function fitBestFactor(given: readonly FactorLoss[], level = 0.95, window?: number): BestFactor | undefined {
  const points = window === undefined ? given : nearBestFactors(given, window);
  const factors = [...new Set(points.map((p) => p.factor))].sort((a, b) => a - b);
  const seeds = [...new Set(points.map((p) => p.seed))].sort((a, b) => a - b);
  const df = points.length - seeds.length - 2;
  if (factors.length < 3 || df < 1) return undefined;
  // Within-seed centring removes the per-seed intercepts; then OLS of y on (x, x²) without intercept.
  const rows: { x: number; x2: number; y: number }[] = [];
  for (const s of seeds) {
    const ps = points.filter((p) => p.seed === s);
    const mx = ps.reduce((a, p) => a + Math.log(p.factor), 0) / ps.length;
    const mx2 = ps.reduce((a, p) => a + Math.log(p.factor) ** 2, 0) / ps.length;
    const my = ps.reduce((a, p) => a + p.loss, 0) / ps.length;
    for (const p of ps) rows.push({ x: Math.log(p.factor) - mx, x2: Math.log(p.factor) ** 2 - mx2, y: p.loss - my });
  }
  let sxx = 0;
  let sxz = 0;
  let szz = 0;
  let sxy = 0;
  let szy = 0;
  for (const r of rows) {
    sxx += r.x * r.x;
    sxz += r.x * r.x2;
    szz += r.x2 * r.x2;
    sxy += r.x * r.y;
    szy += r.x2 * r.y;
  }
  const det = sxx * szz - sxz * sxz;
  const c1 = (szz * sxy - sxz * szy) / det;
  const c2 = (sxx * szy - sxz * sxy) / det;
  let rss = 0;
  for (const r of rows) rss += (r.y - c1 * r.x - c2 * r.x2) ** 2;
  const s2 = rss / df;
  const v11 = (s2 * szz) / det;
  const v22 = (s2 * sxx) / det;
  const v12 = (-s2 * sxz) / det;
  const t = studentTQuantile(0.5 + level / 2, df);

  // Pure error: the additive model seed + factor (one mean per factor), fitted by alternating
  // projections (exact for the balanced design in one pass; a few passes when seeds miss factors).
  let lackOfFit: BestFactor['lackOfFit'] = null;
  const df1 = factors.length - 3;
  const df2 = points.length - seeds.length - factors.length + 1;
  if (df1 > 0 && df2 > 0) {
    const seedEff = new Map(seeds.map((x) => [x, 0]));
    const facEff = new Map(factors.map((x) => [x, 0]));
    for (let it = 0; it < 200; it++) {
      for (const f of factors) {
        const ps = points.filter((p) => p.factor === f);
        facEff.set(f, ps.reduce((a, p) => a + p.loss - seedEff.get(p.seed)!, 0) / ps.length);
      }
      let change = 0;
      for (const x of seeds) {
        const ps = points.filter((p) => p.seed === x);
        const v = ps.reduce((a, p) => a + p.loss - facEff.get(p.factor)!, 0) / ps.length;
        change = Math.max(change, Math.abs(v - seedEff.get(x)!));
        seedEff.set(x, v);
      }
      if (change < 1e-14) break;
    }
    const rssFull = points.reduce((a, p) => a + (p.loss - seedEff.get(p.seed)! - facEff.get(p.factor)!) ** 2, 0);
    const F = (Math.max(rss - rssFull, 0) / df1) / (rssFull / df2);
    lackOfFit = { F, df1, df2, p: 1 - fCdf(F, df1, df2) };
  }

  const grid = [...new Set(given.map((p) => p.factor))].sort((a, b) => a - b);
  const meanLoss = grid.map((f) => {
    const ls = given.filter((p) => p.factor === f).map((p) => p.loss);
    return ls.reduce((a, b) => a + b, 0) / ls.length;
  });
  const bestGridFactor = grid[meanLoss.indexOf(Math.min(...meanLoss))];
  const lo = Math.log(factors[0]);
  const hi = Math.log(factors[factors.length - 1]);
  const notes: string[] = [];
  const curvatureT = c2 / Math.sqrt(v22);
  let optimum: Estimate | null = null;
  let edge: BestFactor['edge'] = null;
  if (c2 > 0) {
    const x = -c1 / (2 * c2);
    const ci = fiellerVertex(c1, c2, v11, v12, v22, t);
    optimum = { value: Math.exp(x), ci95: ci ? [Math.exp(ci[0]), Math.exp(ci[1])] : null };
    if (x <= lo || x >= hi) {
      edge = x <= lo ? 'low' : 'high';
      notes.push(`The fitted optimum ×${fmt(Math.exp(x))} lies ${edge === 'low' ? 'below the smallest' : 'above the largest'} factor fitted (×${fmt(Math.exp(edge === 'low' ? lo : hi))}): an extrapolation; extend the grid.`);
    }
    if (!ci) notes.push(`The curvature is not resolved (t = ${fmt(curvatureT)} < ${fmt(t)}): Fieller's interval is unbounded, so no interval for the optimum.`);
  } else {
    edge = bestGridFactor === grid[0] ? 'low' : bestGridFactor === grid[grid.length - 1] ? 'high' : null;
    notes.push(`No minimum: the loss does not curve upward in ln factor (c2 = ${fmt(c2)}); the best grid factor is ×${fmt(bestGridFactor)}${edge ? ', at the grid\'s edge' : ''}.`);
  }
  if (lackOfFit && lackOfFit.p < 0.05) {
    notes.push(`The loss is not a parabola in ln factor over this grid (lack-of-fit F = ${fmt(lackOfFit.F)}, p = ${fmt(lackOfFit.p)}): the optimum and its interval are biased; narrow the grid around the best factor.`);
  }
  return { grid, factors, seeds, meanLoss, bestGridFactor, curvature: { value: c2, t: curvatureT }, optimum, edge, residualDf: df, lackOfFit, notes };
}

// ---------------------------------------------------------------------------------------------
// 3. The paper's ratio from the measured B_noise and shares

export interface PredictedRatio {
  /** √n(1+u)/(n+u) at n = E/k and the B_noise point estimate. */
  value: number;
  /** min and max of the ratio over u ∈ B/B_noise's interval and n over the measured experts (and E/k). */
  range: [number, number];
  batchTokens: number;
  u: { value: number; range: [number, number] };
  n: { assumed: number; measured: [number, number] | null };
}

export function predictedRatio(input: { batchTokens: number; bNoise: Estimate; numExperts: number; topK: number; measuredN?: [number, number] }): PredictedRatio {
  const { batchTokens, bNoise, numExperts, topK } = input;
  const assumed = numExperts / topK;
  const u = batchTokens / bNoise.value;
  const uRange: [number, number] = bNoise.ci95 ? [batchTokens / bNoise.ci95[1], batchTokens / bNoise.ci95[0]] : [u, u];
  const nRange: [number, number] = input.measuredN ? [Math.min(assumed, input.measuredN[0]), Math.max(assumed, input.measuredN[1])] : [assumed, assumed];
  let lo = Infinity;
  let hi = -Infinity;
  const K = 40;
  for (let i = 0; i <= K; i++) {
    const uu = uRange[0] * (uRange[1] / uRange[0]) ** (i / K);
    for (let j = 0; j <= K; j++) {
      const nn = nRange[0] * (nRange[1] / nRange[0]) ** (j / K);
      const r = surgeExpertLrRatio(uu, nn);
      lo = Math.min(lo, r);
      hi = Math.max(hi, r);
    }
  }
  return { value: surgeExpertLrRatio(u, assumed), range: [lo, hi], batchTokens, u: { value: u, range: uRange }, n: { assumed, measured: input.measuredN ?? null } };
}

// ---------------------------------------------------------------------------------------------
// The whole analysis

export type ExpertLrJudgement =
  | 'supported' // expert optimum < 1 with its interval, control's interval includes 1 (or lies above)
  | 'confounded' // both optima below 1: a cut to every LR helps, the expert ratio alone is not evidence
  | 'no control' // expert optimum < 1 but the control could not be fitted
  | 'not supported' // the expert optimum's interval includes 1 or lies above
  | 'not resolved'; // no bounded interval for the expert optimum

export interface ExpertLrAnalysis {
  expert: BestFactor | null;
  control: BestFactor | null;
  predicted: PredictedRatio | null;
  routing: {
    runs: number;
    /** Smallest and largest per-expert share over every run, and the uniform share 1/E. */
    share: { min: number; max: number; uniform: number } | null;
    recycledFraction: { min: number; max: number; mean: number } | null;
  };
  /** The expert optimum's interval overlaps the predicted range (null: one of them is missing). */
  agreesWithPaper: boolean | null;
  judgement: ExpertLrJudgement;
  /** Sentences for the report, in order. */
  verdict: string[];
}

/** The group's (factor, seed, loss) rows; without factor-1 runs of its own, the other group's (the same base configuration). */
function factorLosses(runs: readonly SweepRun[], group: ArmGroup): FactorLoss[] {
  const rows = (g: ArmGroup) =>
    runs.flatMap((r) => {
      const a = armTagsOf(r.tags);
      const loss = finalLoss(r);
      return a?.group === g && a.factor !== undefined && loss !== undefined ? [{ factor: a.factor, seed: a.seed, loss }] : [];
    });
  const own = rows(group);
  if (own.some((p) => p.factor === 1)) return own;
  return [...own, ...rows(group === 'expert-lr' ? 'lr-control' : 'expert-lr').filter((p) => p.factor === 1)];
}

function ciText(e: Estimate | null): string {
  if (!e) return 'no minimum';
  return `×${fmt(e.value)}${e.ci95 ? ` [${fmt(e.ci95[0])}, ${fmt(e.ci95[1])}]` : ' (interval unbounded)'}`;
}

/**
 * The expert-LR experiment from its arms (group expert-lr and lr-control, tagged with factor;
 * factor-1 runs of either group serve both, being the same base configuration) and the surge fit's
 * B_noise. The batch, E and k are read from the arms' run configs.
 */
/**
 * Factors around the best one that the optimum's parabola sees (EXPERT_LR_WINDOW): over a wide grid
 * (×0.125–×2) the loss is asymmetric in ln factor, and a parabola through all of it misplaces the
 * vertex (scripts/bench-comparisons.ts: 2% coverage with a cubic term the size of the curvature's
 * third; 0.94–0.96 among the bounded intervals with the 3-factor window).
 */
export const EXPERT_LR_WINDOW = 3;

export function analyseExpertLr(runs: readonly SweepRun[], bNoise?: Estimate, options: { window?: number | 'all' } = {}): ExpertLrAnalysis {
  const window = options.window === 'all' ? undefined : (options.window ?? EXPERT_LR_WINDOW);
  const arms = runs.filter((r) => {
    const a = armTagsOf(r.tags);
    return a?.group === 'expert-lr' || a?.group === 'lr-control';
  });
  const expert = fitBestFactor(factorLosses(arms, 'expert-lr'), 0.95, window) ?? null;
  const control = fitBestFactor(factorLosses(arms, 'lr-control'), 0.95, window) ?? null;
  const routings = arms.flatMap((r) => runRouting(r) ?? []);
  const allShares = routings.flatMap((r) => r.shares);
  const first = arms[0];
  const share = routings.length ? { min: Math.min(...allShares), max: Math.max(...allShares), uniform: 1 / routings[0].numExperts } : null;
  const rec = routings.map((r) => r.recycledFraction);
  const recycledFraction = rec.length ? { min: Math.min(...rec), max: Math.max(...rec), mean: rec.reduce((a, b) => a + b, 0) / rec.length } : null;
  let predicted: PredictedRatio | null = null;
  if (first && bNoise) {
    const model = first.config.config.model;
    const measuredN: [number, number] | undefined = share && share.min > 0 ? [expertN(share.max, model.topK), expertN(share.min, model.topK)] : undefined;
    predicted = predictedRatio({ batchTokens: first.config.derived.tokensPerStep, bNoise, numExperts: model.numExperts, topK: model.topK, ...(measuredN ? { measuredN } : {}) });
  }
  const e = expert?.optimum?.ci95 ?? null;
  const agreesWithPaper = e && predicted ? e[0] <= predicted.range[1] && predicted.range[0] <= e[1] : null;
  const below = (b: BestFactor | null) => b?.optimum?.ci95 != null && b.optimum.ci95[1] < 1;
  let judgement: ExpertLrJudgement;
  if (!e || expert?.edge || (expert?.lackOfFit?.p ?? 1) < 0.05) judgement = 'not resolved';
  else if (!below(expert)) judgement = 'not supported';
  else if (!control?.optimum?.ci95) judgement = 'no control';
  else judgement = below(control) ? 'confounded' : 'supported';

  const verdict: string[] = [];
  for (const [name, b] of [['expert-lr', expert], ['lr-control', control]] as const) {
    if (!b) continue;
    const short = [
      ...(b.grid.length < 5 ? [`${b.grid.length} factors (the design asks ≥ 5)`] : []),
      ...(b.grid[0] > 0.125 || b.grid[b.grid.length - 1] < 2 ? [`factors ×${fmt(b.grid[0])}–×${fmt(b.grid[b.grid.length - 1])} (the design spans ×0.125–×2)`] : []),
      ...(b.seeds.length < 3 ? [`${b.seeds.length} seeds (the design asks ≥ 3)`] : []),
    ];
    if (short.length) verdict.push(`The ${name} sweep is smaller than designed: ${short.join('; ')}.`);
  }
  if (!expert) verdict.push('Expert-LR sweep: not measured (needs ≥ 3 factors and more runs than seeds + 2, every factor paired by seed).');
  else verdict.push(`Best specialized-expert LR multiplier: ${ciText(expert.optimum)} (Fieller 95%, ${expert.seeds.length} seeds; grid ×${expert.grid.map((f) => fmt(f)).join('/')}, parabola through ×${expert.factors.map((f) => fmt(f)).join('/')}).`, ...expert.notes);
  if (!control) verdict.push('Control (one factor for every group): not measured; without it an expert optimum below 1 cannot be told from "any LR cut helps".');
  else verdict.push(`Control, every group's LR × factor: best ${ciText(control.optimum)}.`, ...control.notes);
  if (predicted) {
    verdict.push(
      `The paper's rule √n(1+u)/(n+u) at B = ${fmt(predicted.batchTokens)} tokens: ${fmt(predicted.value)} at n = E/k = ${fmt(predicted.n.assumed)}; ` +
        `range [${fmt(predicted.range[0])}, ${fmt(predicted.range[1])}] over u = B/B_noise ∈ [${fmt(predicted.u.range[0])}, ${fmt(predicted.u.range[1])}]` +
        (predicted.n.measured ? ` and the measured per-expert n ∈ [${fmt(predicted.n.measured[0])}, ${fmt(predicted.n.measured[1])}].` : ' (no measured shares: n = E/k assumed).'),
    );
  } else verdict.push('The paper\'s ratio: not evaluated (needs the surge fit\'s B_noise).');
  if (agreesWithPaper !== null) verdict.push(agreesWithPaper ? 'The measured optimum\'s interval overlaps the paper\'s range: consistent.' : 'The measured optimum\'s interval and the paper\'s range do not overlap: inconsistent.');
  const why: Record<ExpertLrJudgement, string> = {
    supported: 'Expert-specific effect: supported (the expert optimum lies below 1 while the control\'s interval does not).',
    confounded: 'Expert-specific effect: not evidence — the control\'s optimum is also below 1, so a cut to every LR helps and the expert ratio alone says nothing about the experts.',
    'no control': 'Expert-specific effect: not resolved — the expert optimum lies below 1 but the control has no bounded optimum to compare with.',
    'not supported': 'Expert-specific effect: not supported — the expert optimum\'s interval does not lie below 1.',
    'not resolved': 'Expert-specific effect: not resolved — the expert optimum has no bounded interval at this noise level, or the parabola does not fit the sweep.',
  };
  verdict.push(why[judgement]);
  return { expert, control, predicted, routing: { runs: routings.length, share, recycledFraction }, agreesWithPaper, judgement, verdict };
}
