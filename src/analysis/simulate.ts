// Synthetic sweeps drawn from known laws, for calibrating the fits' intervals: simulate a sweep,
// fit it with the standard pipeline, and count how often the 95% interval covers the truth. Pure
// functions of their arguments and a seeded Rng (src/util/rng.ts); no I/O, no tensors.
//
// Three generators, each with the two noises a real sweep has:
//   * seed noise — the run-to-run spread of a final loss between training seeds (init, data order,
//     routing): one draw per run, N(0, seedSd²) on a loss, or a log-normal factor on a step count;
//   * evaluation noise — the sampling error of the validation set: N(0, evalSd²) per evaluation,
//     recorded as the run's loss stderr (the quick study's set: ≈ 0.004 nats, docs/BENCHMARKS.md
//     "Validation set size").
//
// 1. isoFLOP: a Chinchilla-like surface L(N, D) = E + A·N^(−α) + B·D^(−β) (Hoffmann et al. 2022,
//    arXiv:2203.15556, approach 3) on a grid of model sizes × budgets with D = C/(k·N). Setting
//    dL/dN = 0 along C = k·N·D gives N_opt = G·(C/k)^a, D_opt = (C/k)^b / G with a = β/(α+β),
//    b = α/(α+β), G = (α·A/(β·B))^(1/(α+β)).
// 2. LR × batch (surge): the optimal LR of Adam at batch B (tokens),
//    ε_opt(B) = 2·ε_max / (√(B_noise/B) + √(B/B_noise))   (Li et al. 2024, arXiv:2405.14578),
//    and the steps to a target loss S(B, ε) = S_min·(1 + B_noise/B)·(1 + κ·ln²(ε/ε_opt(B)))
//    (the S–E trade-off of McCandlish et al. 2018, arXiv:1812.06162, times a parabola in ln ε whose
//    vertex is ε_opt). surgeCurve() turns a step count into a train-loss curve crossing the target
//    there, for fits that read curves.
// 3. Schedules: the momentum law of Tissue et al. 2024 (arXiv:2408.11029),
//    L(s) = L0 + A·S1(s)^(−α) − C·S2(s), S1 = Σ_{i≤s} η_i, S2 = Σ_{i≤s} m_i,
//    m_i = λ·m_{i−1} + (η_{i−1} − η_i), η_0 = 0 — the form src/fit/schedule-laws.ts fits.
import type { Rng } from '../util/rng.ts';

export interface NoiseModel {
  /** Seed-to-seed SD of a final loss (nats); for step counts, the SD of ln(steps). */
  seedSd: number;
  /** SD of one evaluation of the loss (nats): the validation set's standard error. */
  evalSd: number;
}

// ---------------------------------------------------------------------------------------------
// 1. isoFLOP

export interface ChinchillaSurface {
  E: number;
  A: number;
  alpha: number;
  B: number;
  beta: number;
}

/** Hoffmann et al. 2022's fitted surface (arXiv:2203.15556, approach 3): a realistic default shape. */
export const CHINCHILLA_SURFACE: Readonly<ChinchillaSurface> = Object.freeze({ E: 1.69, A: 406.4, alpha: 0.34, B: 410.7, beta: 0.28 });

export function chinchillaLoss(s: ChinchillaSurface, N: number, D: number): number {
  return s.E + s.A * N ** -s.alpha + s.B * D ** -s.beta;
}

export interface ChinchillaOptimum {
  N: number;
  D: number;
  tokensPerParam: number;
  loss: number;
}

/** Exponents of N_opt ∝ C^a and D_opt ∝ C^b (a + b = 1). */
export function chinchillaExponents(s: ChinchillaSurface): { a: number; b: number } {
  return { a: s.beta / (s.alpha + s.beta), b: s.alpha / (s.alpha + s.beta) };
}

/** The compute-optimal allocation of budget C under C = k·N·D (closed form, see the header). */
export function chinchillaOptimum(s: ChinchillaSurface, C: number, k = 6): ChinchillaOptimum {
  const { a, b } = chinchillaExponents(s);
  const G = ((s.alpha * s.A) / (s.beta * s.B)) ** (1 / (s.alpha + s.beta));
  const N = G * (C / k) ** a;
  const D = (C / k) ** b / G;
  return { N, D, tokensPerParam: D / N, loss: chinchillaLoss(s, N, D) };
}

export interface IsoflopSimRun {
  N: number;
  D: number;
  C: number;
  seed: number;
  /** The law's loss, without noise. */
  trueLoss: number;
  /** trueLoss + seed noise + evaluation noise: what a run's summary.json would hold. */
  loss: number;
  /** The evaluation's standard error (noise.evalSd). */
  lossStderr: number;
}

export interface IsoflopSimOptions {
  surface: ChinchillaSurface;
  budgets: readonly number[];
  /** Model sizes tried at every budget. */
  sizes: readonly number[];
  seeds: readonly number[];
  noise: NoiseModel;
  /** FLOPs per parameter per token (C = k·N·D); 6 by default. */
  k?: number;
  /** Keep only cells with D/N in [min, max] (as a study's tokensPerParam filter does). */
  tokensPerParam?: { min: number; max: number };
}

/** One simulated isoFLOP sweep: every (budget, size, seed) cell inside the D/N window. */
export function simulateIsoflopSweep(o: IsoflopSimOptions, rng: Rng): IsoflopSimRun[] {
  const k = o.k ?? 6;
  const runs: IsoflopSimRun[] = [];
  for (const C of o.budgets) {
    for (const N of o.sizes) {
      const D = C / (k * N);
      const tpp = D / N;
      if (o.tokensPerParam && (tpp < o.tokensPerParam.min || tpp > o.tokensPerParam.max)) continue;
      const trueLoss = chinchillaLoss(o.surface, N, D);
      for (const seed of o.seeds) {
        const loss = trueLoss + o.noise.seedSd * rng.normal() + o.noise.evalSd * rng.normal();
        runs.push({ N, D, C, seed, trueLoss, loss, lossStderr: o.noise.evalSd });
      }
    }
  }
  return runs;
}

// ---------------------------------------------------------------------------------------------
// 2. LR × batch (surge)

export interface SurgeLaw {
  epsMax: number;
  /** Tokens. */
  bNoise: number;
  /** Fewest steps to the target at an infinite batch and the best LR. */
  sMin: number;
  /** Curvature κ of the steps-to-target parabola in ln ε. */
  curvature: number;
}

/** Li et al.'s optimal LR at batch B (tokens): ε_max at B = B_noise, falling on both sides. */
export function surgeEpsOpt(B: number, epsMax: number, bNoise: number): number {
  return (2 * epsMax) / (Math.sqrt(bNoise / B) + Math.sqrt(B / bNoise));
}

/** Steps to the target loss at batch B (tokens) and LR ε (see the header). */
export function surgeSteps(law: SurgeLaw, B: number, lr: number): number {
  const ln = Math.log(lr / surgeEpsOpt(B, law.epsMax, law.bNoise));
  return law.sMin * (1 + law.bNoise / B) * (1 + law.curvature * ln * ln);
}

export interface SurgeSimRun {
  batchTokens: number;
  lr: number;
  seed: number;
  trueSteps: number;
  /** trueSteps × exp(N(0, seedSd²)). */
  steps: number;
}

export interface SurgeSimOptions {
  law: SurgeLaw;
  /** Batches in tokens. */
  batches: readonly number[];
  /** LRs per batch (same length as batches), e.g. a grid scaled by √B around a centre. */
  lrs: readonly (readonly number[])[];
  seeds: readonly number[];
  /** seedSd: the SD of ln(steps) between seeds. */
  noise: Pick<NoiseModel, 'seedSd'>;
}

export function simulateSurgeGrid(o: SurgeSimOptions, rng: Rng): SurgeSimRun[] {
  if (o.lrs.length !== o.batches.length) {
    throw new Error(`simulateSurgeGrid: lrs has ${o.lrs.length} rows for ${o.batches.length} batches; give one LR list per batch.`);
  }
  const runs: SurgeSimRun[] = [];
  o.batches.forEach((B, i) => {
    for (const lr of o.lrs[i]) {
      const trueSteps = surgeSteps(o.law, B, lr);
      for (const seed of o.seeds) runs.push({ batchTokens: B, lr, seed, trueSteps, steps: trueSteps * Math.exp(o.noise.seedSd * rng.normal()) });
    }
  });
  return runs;
}

/**
 * A train-loss curve that crosses `target` at step `stepsToTarget`:
 * L(s) = target + h·((S/s)^p − 1), logged every `logEvery` steps up to `totalSteps`, each logged
 * value with N(0, noiseSd²) noise (the batch-to-batch spread of a logged train loss).
 */
export function surgeCurve(
  o: { target: number; stepsToTarget: number; totalSteps: number; logEvery: number; height?: number; power?: number; noiseSd?: number },
  rng: Rng,
): { step: number; loss: number }[] {
  const h = o.height ?? 0.5;
  const p = o.power ?? 0.5;
  const rows: { step: number; loss: number }[] = [];
  for (let s = o.logEvery; s <= o.totalSteps; s += o.logEvery) {
    rows.push({ step: s, loss: o.target + h * ((o.stepsToTarget / s) ** p - 1) + (o.noiseSd ?? 0) * rng.normal() });
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// 3. Schedules (Tissue et al. momentum law)

export interface TissueLawParams {
  L0: number;
  A: number;
  alpha: number;
  C: number;
  /** Momentum decay λ of S2 (src/fit/schedule-laws.ts default 0.999). */
  lambda: number;
}

/** L(s) at every step s = 1..T of a per-step LR series η_0..η_T (η_0 = 0): [T] values, index s − 1. */
export function tissueCurve(law: TissueLawParams, lrs: ArrayLike<number>): Float64Array {
  const T = lrs.length - 1;
  const out = new Float64Array(Math.max(0, T));
  let s1 = 0;
  let s2 = 0;
  let m = 0;
  for (let s = 1; s <= T; s++) {
    s1 += lrs[s];
    m = law.lambda * m + (lrs[s - 1] - lrs[s]);
    s2 += m;
    out[s - 1] = law.L0 + law.A * s1 ** -law.alpha - law.C * s2;
  }
  return out;
}

export interface ScheduleSimCurve {
  name: string;
  seed: number;
  /** Logged steps (every logEvery, and the last step). */
  steps: number[];
  lrs: number[];
  trueLosses: number[];
  /** trueLosses + one seed offset for the whole curve + evaluation noise per logged point. */
  losses: number[];
}

export interface ScheduleSimOptions {
  law: TissueLawParams;
  /** Per-step LR series η_0..η_T (η_0 = 0) per schedule. */
  schedules: readonly { name: string; lrs: ArrayLike<number> }[];
  logEvery: number;
  seeds: readonly number[];
  noise: NoiseModel;
}

export function simulateScheduleCurves(o: ScheduleSimOptions, rng: Rng): ScheduleSimCurve[] {
  const curves: ScheduleSimCurve[] = [];
  for (const sched of o.schedules) {
    const full = tissueCurve(o.law, sched.lrs);
    const T = full.length;
    const steps: number[] = [];
    for (let s = o.logEvery; s <= T; s += o.logEvery) steps.push(s);
    if (steps.at(-1) !== T && T > 0) steps.push(T);
    for (const seed of o.seeds) {
      const offset = o.noise.seedSd * rng.normal();
      const trueLosses = steps.map((s) => full[s - 1]);
      curves.push({
        name: sched.name,
        seed,
        steps,
        lrs: steps.map((s) => sched.lrs[s]),
        trueLosses,
        losses: trueLosses.map((l) => l + offset + o.noise.evalSd * rng.normal()),
      });
    }
  }
  return curves;
}

// ---------------------------------------------------------------------------------------------
// Coverage bookkeeping

/** Fraction of intervals [lo, hi] that contain `truth` (non-finite bounds count as misses). */
export function coverage(intervals: readonly (readonly [number, number])[], truth: number): { coverage: number; n: number } {
  let hit = 0;
  for (const [lo, hi] of intervals) if (Number.isFinite(lo) && Number.isFinite(hi) && lo <= truth && truth <= hi) hit++;
  return { coverage: intervals.length > 0 ? hit / intervals.length : NaN, n: intervals.length };
}
