// Schedule-aware loss laws: loss as a function of the whole learning-rate history, fitted on some
// schedules and used to predict the loss curve of another (docs/references.md#tissue, docs/references.md#multi-power).
//
// Tissue, Wang & Wang 2024 (arXiv:2408.11029), momentum form:
//   L(s) = L0 + A·S1(s)^(−alpha) − C·S2(s)
//   S1(s) = Σ_{i=1..s} η_i,   S2(s) = Σ_{i=1..s} m_i,   m_i = λ·m_{i−1} + (η_{i−1} − η_i)
// Multi-Power Law, Luo et al. 2025 (arXiv:2503.12811):
//   L(t) = L0 + A·S1(t)^(−alpha) − LD(t)
//   LD(t) = B·Σ_{k=1..t} (η_{k−1} − η_k)·G(η_k^(−gamma)·S_k(t)),  S_k(t) = Σ_{τ=k..t} η_τ
//   G(x) = 1 − (C·x + 1)^(−beta)
// Both sums run over every step from 1, warmup included, with η_0 = 0 (as the MPL reference code
// does: the warmup's rise enters LD as a constant offset absorbed by L0).
//
// Learning rates are needed at EVERY step, but logs record them every few steps (the bundled MPL
// curves: every ~128 steps from step ~2160). reconstructLr() rebuilds the per-step series:
//   * η = 0 at step 0; linear warmup from 0 to the first logged LR, reached at `warmupSteps`
//     (default: the first logged step), held from there to the first logged step;
//   * between logged steps: linear interpolation (default) or "step" (hold the last logged value);
//   * the curve ends at its last logged step.
// Symbols: s, t, k, τ step indices; η learning rate; L loss (nats/token).
import { DataError } from '../errors.ts';
import { bootstrap } from './bootstrap.ts';
import { CHINCHILLA_HUBER_DELTA, huber, huberDerivative } from './huber.ts';
import { constantProblem, settle } from './identify.ts';
import type { LossKind } from './objective.ts';
import { gridStarts, lbfgsMinimizer, levenbergMarquardtMinimizer, multiStart, type Minimizer, type MultiStartResult } from './multistart.ts';
import { minimizeLbfgs } from './optimize/lbfgs.ts';
import { minimizeLevenbergMarquardt, type ResidualFunction } from './optimize/levenberg-marquardt.ts';
import { minimizeAdamW } from './optimize/adamw.ts';
import type { ObjectiveWithGradient, OptimizeResult } from './optimize/types.ts';
import { fmt } from './points.ts';
import { bootstrapSummary, prefixKeys, relError, withIntervals, type FitResultBase, type HeldOutRow } from './record.ts';
import type { FitDiagnostics } from './fit-form.ts';

export interface LossCurve {
  name: string;
  /** Logged steps, strictly increasing, ≥ 1. */
  steps: ArrayLike<number>;
  /** Learning rate at each logged step (≥ 0). */
  lrs: ArrayLike<number>;
  /** Loss at each logged step (> 0). */
  losses: ArrayLike<number>;
}

export interface LrReconstructionOptions {
  /** Step at which linear warmup from 0 reaches the first logged LR (default: the first logged step). */
  warmupSteps?: number;
  interpolation?: 'linear' | 'step';
}

/** Per-step learning rates η_0 … η_T (η_0 = 0) from a curve's logged points. */
export function reconstructLr(curve: LossCurve, options: LrReconstructionOptions = {}): Float64Array {
  const { steps, lrs } = curve;
  const n = steps.length;
  const s0 = steps[0];
  const T = steps[n - 1];
  const W = options.warmupSteps ?? s0;
  const mode = options.interpolation ?? 'linear';
  const lr = new Float64Array(T + 1);
  for (let s = 1; s <= Math.min(s0, T); s++) lr[s] = s < W ? (lrs[0] * s) / W : lrs[0];
  for (let j = 0; j + 1 < n; j++) {
    const a = steps[j];
    const b = steps[j + 1];
    for (let s = a + 1; s <= b; s++) {
      lr[s] = s === b ? lrs[j + 1] : mode === 'linear' ? lrs[j] + ((lrs[j + 1] - lrs[j]) * (s - a)) / (b - a) : lrs[j];
    }
  }
  return lr;
}

function validateCurve(c: LossCurve, options: LrReconstructionOptions): void {
  const n = c.steps.length;
  if (n < 2) throw new DataError(`schedule curve ${c.name}: needs at least 2 logged steps, got ${n}.`);
  if (c.lrs.length !== n || c.losses.length !== n) {
    throw new DataError(`schedule curve ${c.name}: steps, lr and loss columns differ in length (${n}, ${c.lrs.length}, ${c.losses.length}).`);
  }
  for (let i = 0; i < n; i++) {
    const s = c.steps[i];
    if (!Number.isInteger(s) || s < 1 || (i > 0 && s <= c.steps[i - 1])) {
      throw new DataError(`schedule curve ${c.name}, row ${i + 1}: step must be an integer ≥ 1 and increasing (got ${s} after ${i > 0 ? c.steps[i - 1] : 'start'}). Sort the file by step and remove duplicates.`);
    }
    if (!(c.lrs[i] >= 0) || !Number.isFinite(c.lrs[i])) throw new DataError(`schedule curve ${c.name}, step ${s}: lr must be a finite number ≥ 0 (got ${c.lrs[i]}).`);
    if (!(c.losses[i] > 0) || !Number.isFinite(c.losses[i])) throw new DataError(`schedule curve ${c.name}, step ${s}: loss must be a finite number > 0 (got ${c.losses[i]}).`);
  }
  if (options.warmupSteps !== undefined && !(options.warmupSteps >= 1 && options.warmupSteps <= c.steps[0])) {
    throw new DataError(`--warmup-steps ${options.warmupSteps} must lie in 1 … the first logged step of ${c.name} (${c.steps[0]}).`);
  }
}

/** A curve with everything the laws need precomputed. */
export interface PreparedCurve {
  name: string;
  steps: Int32Array;
  losses: Float64Array;
  lnLoss: Float64Array;
  /** η_0 … η_T. */
  lr: Float64Array;
  /** P[s] = Σ_{i=1..s} η_i (P[0] = 0). */
  prefix: Float64Array;
  /** Steps k ≥ 1 with η_{k−1} ≠ η_k, their drop η_{k−1} − η_k and ln η_k. */
  gapStep: Int32Array;
  gapDrop: Float64Array;
  gapLnEta: Float64Array;
  /**
   * The gaps grouped in order into items: a block of QUADRATURE_BLOCK consecutive steps with the
   * same drop (a linear stretch of the schedule: warmup, an interpolated segment), or a run of
   * other gaps. itemFirst/itemEnd index gaps; itemBlock is the block index or −1.
   */
  itemFirst: Int32Array;
  itemEnd: Int32Array;
  itemBlock: Int32Array;
  /** Per block: last step, two Gauss–Legendre nodes (ln η and P at k−1), weight drop·h/2. */
  blockLastStep: Int32Array;
  blockLnEta: Float64Array;
  blockP: Float64Array;
  blockWeight: Float64Array;
  /** Tissue S2 at each logged step for the λ it was prepared with. */
  s2: Float64Array;
  lambda: number;
  etaMax: number;
}

export function prepareCurve(curve: LossCurve, options: LrReconstructionOptions & { lambda?: number } = {}): PreparedCurve {
  validateCurve(curve, options);
  const lambda = options.lambda ?? 0.999;
  const lr = reconstructLr(curve, options);
  const T = lr.length - 1;
  const prefix = new Float64Array(T + 1);
  for (let s = 1; s <= T; s++) prefix[s] = prefix[s - 1] + lr[s];
  const gs: number[] = [];
  for (let k = 1; k <= T; k++) if (lr[k - 1] !== lr[k]) gs.push(k);
  const gapStep = Int32Array.from(gs);
  const gapDrop = Float64Array.from(gs, (k) => lr[k - 1] - lr[k]);
  const gapLnEta = Float64Array.from(gs, (k) => Math.log(lr[k]));
  const steps = Int32Array.from(curve.steps);
  // Tissue's S2 by its momentum recursion, sampled at the logged steps.
  const s2 = new Float64Array(steps.length);
  let m = 0;
  let acc = 0;
  let j = 0;
  for (let s = 1; s <= T && j < steps.length; s++) {
    m = lambda * m + (lr[s - 1] - lr[s]);
    acc += m;
    while (j < steps.length && steps[j] === s) s2[j++] = acc;
  }
  let etaMax = 0;
  for (const v of lr) if (v > etaMax) etaMax = v;
  const losses = Float64Array.from(curve.losses);
  return { name: curve.name, steps, losses, lnLoss: losses.map(Math.log), lr, prefix, gapStep, gapDrop, gapLnEta, s2, lambda, etaMax, ...quadratureBlocks(lr, prefix, gapStep, gapDrop) };
}

/** Steps per quadrature block, and how far (in steps) before t a block must end to be used. */
export const QUADRATURE_BLOCK = 32;
export const QUADRATURE_MIN_DISTANCE = 8 * QUADRATURE_BLOCK;

/**
 * Group the gaps for the MPL drop sum. Far from the evaluation step t, the summand
 * G(η_k^−γ·S_k(t)) varies slowly in k, so a block of h steps of one linear stretch is summed by
 * 2-point Gauss–Legendre on [k0 − ½, k1 + ½] (η linear and P quadratic in k there, so the nodes
 * are exact points of the same stretch) when η changes by at most 25% across the block; blocks
 * within QUADRATURE_MIN_DISTANCE of t, and gaps outside such stretches, are summed exactly. S_k(t)
 * changes by at most 1/8 across a used block; on the bundled curves the predicted loss differs
 * from the exact sum by < 1e-9 relative (checked in the tests).
 */
function quadratureBlocks(lr: Float64Array, prefix: Float64Array, gapStep: Int32Array, gapDrop: Float64Array) {
  const h = QUADRATURE_BLOCK;
  const itemFirst: number[] = [];
  const itemEnd: number[] = [];
  const itemBlock: number[] = [];
  const lastStep: number[] = [];
  const lnEta: number[] = [];
  const P: number[] = [];
  const weight: number[] = [];
  const node = 1 / Math.sqrt(3);
  let g = 0;
  const nG = gapStep.length;
  let runStart = -1; // start of a pending run of non-block gaps
  const flushRun = (end: number) => {
    if (runStart >= 0) {
      itemFirst.push(runStart);
      itemEnd.push(end);
      itemBlock.push(-1);
      runStart = -1;
    }
  };
  while (g < nG) {
    let uniform = g + h <= nG;
    for (let i = 1; uniform && i < h; i++) {
      const d0 = gapDrop[g];
      uniform = gapStep[g + i] === gapStep[g] + i && Math.abs(gapDrop[g + i] - d0) <= 1e-9 * Math.abs(d0);
    }
    // η must vary little across the block too (not the first blocks of a warmup from 0).
    if (uniform && lr[gapStep[g + h - 1]] > 0 && lr[gapStep[g]] / lr[gapStep[g + h - 1]] <= 1.25 && lr[gapStep[g + h - 1]] / lr[gapStep[g]] <= 1.25) {
      flushRun(g);
      const k0 = gapStep[g];
      const k1 = k0 + h - 1;
      const drop = gapDrop[g];
      const eta0 = lr[k0];
      const mid = (k0 + k1) / 2;
      for (const sgn of [-1, 1]) {
        const k = mid + (sgn * h * node) / 2;
        const n = k - k0; // continuous offset into the stretch
        lnEta.push(Math.log(eta0 - drop * n));
        P.push(prefix[k0 - 1] + n * eta0 - (drop * n * (n - 1)) / 2);
      }
      itemFirst.push(g);
      itemEnd.push(g + h);
      itemBlock.push(lastStep.length);
      lastStep.push(k1);
      weight.push((drop * h) / 2);
      g += h;
    } else {
      if (runStart < 0) runStart = g;
      g++;
    }
  }
  flushRun(nG);
  return {
    itemFirst: Int32Array.from(itemFirst),
    itemEnd: Int32Array.from(itemEnd),
    itemBlock: Int32Array.from(itemBlock),
    blockLastStep: Int32Array.from(lastStep),
    blockLnEta: Float64Array.from(lnEta),
    blockP: Float64Array.from(P),
    blockWeight: Float64Array.from(weight),
  };
}

// ---------------------------------------------------------------------------------------------
// The laws: natural parameters, fit parameterisation and per-curve evaluation with gradients.

export type ScheduleLawName = 'multipower' | 'tissue';

export interface ScheduleLaw {
  name: ScheduleLawName;
  expression: string;
  params: readonly string[];
  fitParams: readonly string[];
  toNatural(theta: ArrayLike<number>): number[];
  fromNatural(p: ArrayLike<number>): number[];
  /**
   * Predicted loss at each logged step of `c` (into `pred`) and, when `grad` is given,
   * ∂L̂/∂θ row-major [point, param].
   */
  evaluate(theta: ArrayLike<number>, c: PreparedCurve, pred: Float64Array, grad: Float64Array | null): void;
}

/** Tissue et al.: θ = (L0, ln A, alpha, C). */
export const tissueLaw: ScheduleLaw = {
  name: 'tissue',
  expression: 'L0 + A * S1^(-alpha) - C * S2',
  params: ['L0', 'A', 'alpha', 'C'],
  fitParams: ['L0', 'lnA', 'alpha', 'C'],
  toNatural: (th) => [th[0], Math.exp(th[1]), th[2], th[3]],
  fromNatural: (p) => [p[0], Math.log(p[1]), p[2], p[3]],
  evaluate(th, c, pred, grad) {
    const [L0, lnA, alpha, C] = [th[0], th[1], th[2], th[3]];
    const A = Math.exp(lnA);
    for (let j = 0; j < c.steps.length; j++) {
      const S1 = c.prefix[c.steps[j]];
      const lnS1 = Math.log(S1);
      const powTerm = A * Math.exp(-alpha * lnS1);
      pred[j] = L0 + powTerm - C * c.s2[j];
      if (grad) {
        const o = j * 4;
        grad[o] = 1;
        grad[o + 1] = powTerm;
        grad[o + 2] = -powTerm * lnS1;
        grad[o + 3] = -c.s2[j];
      }
    }
  },
};

/**
 * Multi-Power Law, fitted in θ = (L0, ln A, alpha, ln(B·beta), ln C, beta, gamma).
 *
 * B·G(x) = (B·β)·h_β(ln(1 + C·x)) with h_β(l) = (1 − e^(−β·l))/β, which tends to l as β → 0: the
 * β → 0, B → ∞ edge of the natural parameters (where B·G → B·β·ln(1 + C·x), so only B·β is
 * identified) is an ordinary interior point here, and h_β and its derivatives are evaluated by their
 * series near β·l = 0. β may cross 0 (h_β stays finite and smooth); natural B = (B·β)/β.
 */
export const multiPowerLaw: ScheduleLaw = {
  name: 'multipower',
  expression: 'L0 + A * S1^(-alpha) - B * sum_k (eta_{k-1} - eta_k) * (1 - (C * eta_k^(-gamma) * S_k + 1)^(-beta))',
  params: ['L0', 'A', 'alpha', 'B', 'C', 'beta', 'gamma'],
  fitParams: ['L0', 'lnA', 'alpha', 'lnBbeta', 'lnC', 'beta', 'gamma'],
  toNatural: (th) => [th[0], Math.exp(th[1]), th[2], Math.exp(th[3]) / th[5], Math.exp(th[4]), th[5], th[6]],
  fromNatural: (p) => [p[0], Math.log(p[1]), p[2], Math.log(p[3] * p[5]), Math.log(p[4]), p[5], p[6]],
  evaluate(th, c, pred, grad) {
    evaluateMultiPower(th, c, pred, grad, false);
  },
};

/**
 * The Multi-Power Law in θ = (L0, ln A, alpha, ln(B·beta), ln C, ln beta, ln gamma): the fit space of
 * the drop-shape prior (option `prior: 'drop-shape'`), whose Gaussians on ln beta and ln gamma keep
 * beta and gamma positive (the β → 0 edge and beyond are then outside the space, at ln beta → −∞).
 * Same law as multiPowerLaw; ∂/∂ln beta = beta·∂/∂beta, ∂/∂ln gamma = gamma·∂/∂gamma.
 */
export const multiPowerLogShapeLaw: ScheduleLaw = {
  name: 'multipower',
  expression: multiPowerLaw.expression,
  params: multiPowerLaw.params,
  fitParams: ['L0', 'lnA', 'alpha', 'lnBbeta', 'lnC', 'lnBeta', 'lnGamma'],
  toNatural: (th) => multiPowerLaw.toNatural(fromLogShape(th)),
  fromNatural: (p) => {
    if (!(p[5] > 0 && p[6] > 0)) throw new DataError(`the MPL drop-shape prior needs beta > 0 and gamma > 0 (got beta ${p[5]}, gamma ${p[6]}).`);
    const th = multiPowerLaw.fromNatural(p);
    return [...th.slice(0, 5), Math.log(p[5]), Math.log(p[6])];
  },
  evaluate(th, c, pred, grad) {
    evaluateMultiPower(fromLogShape(th), c, pred, grad, false);
    if (!grad) return;
    const [beta, gamma] = [Math.exp(th[5]), Math.exp(th[6])];
    for (let j = 0; j < c.steps.length; j++) {
      grad[j * 7 + 5] *= beta;
      grad[j * 7 + 6] *= gamma;
    }
  },
};

/** (…, ln beta, ln gamma) → (…, beta, gamma), multiPowerLaw's fit space. */
function fromLogShape(th: ArrayLike<number>): number[] {
  return [th[0], th[1], th[2], th[3], th[4], Math.exp(th[5]), Math.exp(th[6])];
}

/** |β·l| below which h_β and ∂h_β/∂β come from their Taylor series (truncation error < 1e-14 relative). */
const H_SERIES_LIMIT = 1e-3;

/**
 * h_β(l) = (1 − e^(−β·l))/β and ∂h/∂β, stable at β → 0 (h → l, ∂h/∂β → −l²/2), into out[0], out[1].
 * With φ(z) = (1 − e^(−z))/z: h = l·φ(β·l), ∂h/∂β = l²·φ'(β·l).
 */
export function multiPowerH(beta: number, l: number, out: Float64Array): void {
  const z = beta * l;
  if (Math.abs(z) < H_SERIES_LIMIT) {
    // φ(z) = 1 − z/2 + z²/6 − z³/24 + …, φ'(z) = −1/2 + z/3 − z²/8 + z³/30 − …
    out[0] = l * (1 - z / 2 + (z * z) / 6 - (z * z * z) / 24);
    out[1] = l * l * (-0.5 + z / 3 - (z * z) / 8 + (z * z * z) / 30);
  } else {
    const e = Math.exp(-z);
    const phi = -Math.expm1(-z) / z;
    out[0] = l * phi;
    out[1] = l * l * ((e - phi) / z);
  }
}

/**
 * The MPL at every logged step of c. `exact` sums the drop term over every step; otherwise far
 * blocks use the quadrature of quadratureBlocks() (the default: ~10× fewer terms).
 */
export function evaluateMultiPower(th: ArrayLike<number>, c: PreparedCurve, pred: Float64Array, grad: Float64Array | null, exact: boolean): void {
  const L0 = th[0];
  const A = Math.exp(th[1]);
  const alpha = th[2];
  const Bbeta = Math.exp(th[3]);
  const lnC = th[4];
  const C = Math.exp(lnC);
  const beta = th[5];
  const hOut = new Float64Array(2);
  const gamma = th[6];
  const { prefix, gapStep, gapDrop, gapLnEta, itemFirst, itemEnd, itemBlock, blockLastStep, blockLnEta, blockP, blockWeight } = c;
  const nG = gapStep.length;
  // η^(−γ) per gap and per quadrature node, once per evaluation.
  const etaPow = new Float64Array(nG);
  for (let g = 0; g < nG; g++) etaPow[g] = gapLnEta[g] === -Infinity ? Infinity : Math.exp(-gamma * gapLnEta[g]);
  const nodePow = new Float64Array(blockLnEta.length);
  for (let q = 0; q < nodePow.length; q++) nodePow[q] = Math.exp(-gamma * blockLnEta[q]);
  const nItems = itemFirst.length;
  for (let j = 0; j < c.steps.length; j++) {
    const t = c.steps[j];
    const Pt = prefix[t];
    const limit = exact ? -1 : t - QUADRATURE_MIN_DISTANCE;
    let ld = 0;
    let dC = 0;
    let dBeta = 0;
    let dGamma = 0;
    for (let it = 0; it < nItems; it++) {
      const g0 = itemFirst[it];
      if (gapStep[g0] > t) break;
      const b = itemBlock[it];
      const quad = b >= 0 && blockLastStep[b] <= limit;
      // Summands w·G(x), x = η^(−γ)·S: two quadrature nodes of a block, or every gap of the item.
      const first = quad ? 2 * b : g0;
      const end = quad ? 2 * b + 2 : itemEnd[it];
      for (let q = first; q < end; q++) {
        let w: number;
        let ep: number;
        let S: number;
        let lnEta: number;
        if (quad) {
          w = blockWeight[b];
          ep = nodePow[q];
          S = Pt - blockP[q];
          lnEta = blockLnEta[q];
        } else {
          if (gapStep[q] > t) break;
          w = gapDrop[q];
          ep = etaPow[q];
          S = Pt - prefix[gapStep[q] - 1];
          lnEta = gapLnEta[q];
        }
        if (lnEta === -Infinity) {
          // η = 0: G(∞) = 1, so B·G = (B·β)/β (defined for β > 0 only).
          if (!(beta > 0)) {
            pred[j] = NaN;
            ld = NaN;
            break;
          }
          ld += w / beta;
          if (grad) dBeta -= w / (beta * beta);
          continue;
        }
        let cx = C * ep * S;
        let lu: number;
        let sig: number; // C·x/(1 + C·x) = ∂ln(1 + C·x)/∂ln(C·x)
        if (cx < 1e15) {
          lu = Math.log1p(cx);
          sig = cx / (1 + cx);
        } else {
          // Far along a degenerate ridge (C → ∞, gamma large) C·x overflows: work with ln(C·x).
          const lnCx = lnC - gamma * lnEta + Math.log(S);
          cx = Math.exp(-lnCx);
          lu = lnCx + Math.log1p(cx);
          sig = 1 / (1 + cx);
        }
        multiPowerH(beta, lu, hOut);
        ld += w * hOut[0];
        if (grad) {
          const common = w * Math.exp(-beta * lu) * sig; // w·∂h/∂ln x, also w·∂h/∂ln C
          dC += common;
          dBeta += w * hOut[1];
          dGamma -= common * lnEta;
        }
      }
    }
    const lnS1 = Math.log(Pt);
    const powTerm = A * Math.exp(-alpha * lnS1);
    pred[j] = L0 + powTerm - Bbeta * ld;
    if (grad) {
      const o = j * 7;
      grad[o] = 1;
      grad[o + 1] = powTerm;
      grad[o + 2] = -powTerm * lnS1;
      grad[o + 3] = -Bbeta * ld;
      grad[o + 4] = -Bbeta * dC;
      grad[o + 5] = -Bbeta * dBeta;
      grad[o + 6] = -Bbeta * dGamma;
    }
  }
}

export const SCHEDULE_LAWS: Readonly<Record<ScheduleLawName, ScheduleLaw>> = Object.freeze({ multipower: multiPowerLaw, tissue: tissueLaw });

/** Official MPL parameters (thu-yao-01-luo/MultiPowerLaw config.py; docs/references.md#multi-power). */
export const MPL_OFFICIAL_PARAMS: Readonly<Record<'25M' | '100M' | '400M', Record<string, number>>> = Object.freeze({
  '25M': { L0: 3.04045406, A: 0.52468604, alpha: 0.50786857, B: 363.78751622, C: 2.06560812, beta: 0.58279013, gamma: 0.64142257 },
  '100M': { L0: 2.6514477, A: 0.60115152, alpha: 0.45295811, B: 437.9464276, C: 2.13245612, beta: 0.59785199, gamma: 0.65523644 },
  '400M': { L0: 2.37474466, A: 0.65421216, alpha: 0.42878731, B: 523.42464371, C: 2.02462735, beta: 0.59350493, gamma: 0.63472457 },
});

/** Predicted losses at a prepared curve's logged steps for natural parameters (by name). */
export function predictCurve(law: ScheduleLaw, params: Record<string, number>, c: PreparedCurve): Float64Array {
  const theta = law.fromNatural(law.params.map((n) => params[n]));
  const pred = new Float64Array(c.steps.length);
  law.evaluate(theta, c, pred, null);
  return pred;
}

export function meanAbsRelError(pred: ArrayLike<number>, actual: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < actual.length; i++) s += Math.abs(relError(pred[i], actual[i]));
  return s / actual.length;
}

// ---------------------------------------------------------------------------------------------
// Objective: Σ over curves and logged points of w·Huber_δ(ln L̂ − ln L)

/** weights[c][j]: multiplicity of point j of curve c (bootstrap); null = all 1. */
export function scheduleObjective(law: ScheduleLaw, curves: readonly PreparedCurve[], delta: number, weights: Float64Array[] | null = null): ObjectiveWithGradient {
  const k = law.fitParams.length;
  const preds = curves.map((c) => new Float64Array(c.steps.length));
  const grads = curves.map((c) => new Float64Array(c.steps.length * k));
  return (theta, grad) => {
    grad.fill(0);
    let f = 0;
    for (let ci = 0; ci < curves.length; ci++) {
      const c = curves[ci];
      const pred = preds[ci];
      const g = grads[ci];
      law.evaluate(theta, c, pred, g);
      const w = weights?.[ci];
      for (let j = 0; j < pred.length; j++) {
        const wj = w ? w[j] : 1;
        if (wj === 0) continue;
        if (!(pred[j] > 0)) return NaN;
        const r = Math.log(pred[j]) - c.lnLoss[j];
        f += wj * huber(r, delta);
        const dr = (wj * huberDerivative(r, delta)) / pred[j];
        const o = j * k;
        for (let p = 0; p < k; p++) grad[p] += dr * g[o + p];
      }
    }
    return f;
  };
}

/**
 * The same objective as scheduleObjective as a sum of squares ½·Σ ψ_i², for Levenberg–Marquardt:
 * ψ = √w·r inside the Huber zone (|r| ≤ δ) and √w·sign(r)·√(2δ|r| − δ²) beyond, so ½ψ² = w·Huber_δ(r)
 * and Jᵀψ is the objective's exact gradient (checked in test/fit/multipower-fit.test.ts); JᵀJ is the
 * Gauss–Newton curvature of that sum. δ = ∞ gives plain least squares on ln L. Rows: the fit
 * curves' logged points in order.
 */
export function scheduleResiduals(law: ScheduleLaw, curves: readonly PreparedCurve[], delta: number, weights: Float64Array[] | null = null): ResidualFunction {
  const k = law.fitParams.length;
  const preds = curves.map((c) => new Float64Array(c.steps.length));
  const grads = curves.map((c) => new Float64Array(c.steps.length * k));
  return (theta, res, J) => {
    let row = 0;
    for (let ci = 0; ci < curves.length; ci++) {
      const c = curves[ci];
      const pred = preds[ci];
      const g = grads[ci];
      law.evaluate(theta, c, pred, J ? g : null);
      const w = weights?.[ci];
      for (let j = 0; j < pred.length; j++, row++) {
        const sw = w ? Math.sqrt(w[j]) : 1;
        if (!(pred[j] > 0)) {
          res[row] = NaN;
          continue;
        }
        const r = Math.log(pred[j]) - c.lnLoss[j];
        const a = Math.abs(r);
        const psi = a <= delta ? r : Math.sign(r) * Math.sqrt(2 * delta * a - delta * delta);
        res[row] = sw * psi;
        if (J) {
          const dpsi = a <= delta ? 1 : delta / Math.abs(psi); // dψ/dr
          const s = (sw * dpsi) / pred[j];
          const o = j * k;
          for (let p = 0; p < k; p++) J[row * k + p] = s * g[o + p];
        }
      }
    }
  };
}

// ---------------------------------------------------------------------------------------------
// The drop-shape prior (MAP): option `prior: 'drop-shape'` of fitScheduleLaw (docs/fit.md "Drop-shape prior for the Multi-Power Law")

/**
 * Gaussian prior on the shape of the MPL drop term, in the fit space of multiPowerLogShapeLaw:
 * ln C ~ N(ln 1, 1²), ln beta ~ N(ln 0.5, 1²), ln gamma ~ N(ln 0.5, 1²). Centred on the start of the
 * MPL authors' released code (C = 1, beta = 0.5, gamma = 0.5, from which ≤ 200 early-stopped AdamW
 * steps give their official parameters; docs/references.md#multi-power), one e-fold wide. These
 * numbers were fixed before any held-out error was computed with them (docs/fit.md) and are not tuning
 * knobs: there is deliberately no option to change them.
 */
export const MPL_DROP_SHAPE_PRIOR: readonly { param: string; index: number; mean: number; sd: number }[] = Object.freeze(
  [
    { param: 'lnC', index: 4, mean: 0, sd: 1 },
    { param: 'lnBeta', index: 5, mean: Math.log(0.5), sd: 1 },
    { param: 'lnGamma', index: 6, mean: Math.log(0.5), sd: 1 },
  ].map((t) => Object.freeze(t)),
);

/**
 * `base`'s m residuals followed by one residual per prior term, σ̂·(θ_i − μ)/s, so that
 * ½·Σψ² = (data objective) + σ̂²·Σ_j ((θ_j − μ_j)/s_j)²/2.
 *
 * Why σ̂²: the data objective is Σ_i Huber_δ(r_i), r_i = ln L̂_i − ln L_i, SUMMED over points, i.e.
 * Σ_i r_i²/2 inside the Huber zone (and for lsq-log everywhere). With Gaussian log residuals of SD σ
 * the negative log posterior is Σ_i r_i²/(2σ²) + Σ_j z_j²/2 (z_j = (θ_j − μ_j)/s_j) + const;
 * multiplied by σ² it is the data objective + σ²·Σ_j z_j²/2. The prior residual σ·z_j then enters the
 * sum of squares exactly like one more logged point whose log residual is σ·z_j: each prior term
 * counts as one pseudo-observation at noise σ. σ is unknown and replaced by its plug-in σ̂ (the root
 * mean squared log residual of the unpenalised fit on the same curves, computed by fitScheduleLaw).
 * The prior rows are plain squares, not Huber: where |r| > δ the data rows are linear and the
 * Gaussian reading is only approximate (on the bundled curves σ̂ < δ = 1e-3).
 */
export function withGaussianPrior(base: ResidualFunction, m: number, k: number, prior: readonly { index: number; mean: number; sd: number }[], sigma: number): ResidualFunction {
  return (theta, res, J) => {
    base(theta, res, J);
    for (let j = 0; j < prior.length; j++) {
      const { index, mean, sd } = prior[j];
      const row = m + j;
      res[row] = (sigma * (theta[index] - mean)) / sd;
      if (J) {
        J.fill(0, row * k, (row + 1) * k);
        J[row * k + index] = sigma / sd;
      }
    }
  };
}

/** ½·Σ_j (σ·(θ_j − μ_j)/s_j)², the prior's share of the penalised objective. */
export function gaussianPriorPenalty(theta: ArrayLike<number>, prior: readonly { index: number; mean: number; sd: number }[], sigma: number): number {
  let s = 0;
  for (const { index, mean, sd } of prior) s += ((sigma * (theta[index] - mean)) / sd) ** 2;
  return 0.5 * s;
}

/** Mean of r² over every fit point, r = ln L̂ − ln L (the plug-in σ̂² of the drop-shape prior). */
export function meanSquaredLogResidual(law: ScheduleLaw, theta: ArrayLike<number>, curves: readonly PreparedCurve[]): number {
  let s = 0;
  let n = 0;
  for (const c of curves) {
    const pred = new Float64Array(c.steps.length);
    law.evaluate(theta, c, pred, null);
    for (let j = 0; j < pred.length; j++, n++) s += (Math.log(pred[j]) - c.lnLoss[j]) ** 2;
  }
  return s / n;
}

/** The MPL paper's initialisation: the drop term simplified to B·(η_max − η_t); θ = (L0, ln A, alpha, ln B). */
function simplifiedMplObjective(curves: readonly PreparedCurve[], delta: number): ObjectiveWithGradient {
  return (th, grad) => {
    grad.fill(0);
    const [L0, lnA, alpha, lnB] = [th[0], th[1], th[2], th[3]];
    const A = Math.exp(lnA);
    const B = Math.exp(lnB);
    let f = 0;
    for (const c of curves) {
      for (let j = 0; j < c.steps.length; j++) {
        const S1 = c.prefix[c.steps[j]];
        const lnS1 = Math.log(S1);
        const powTerm = A * Math.exp(-alpha * lnS1);
        const drop = c.etaMax - c.lr[c.steps[j]];
        const pred = L0 + powTerm - B * drop;
        if (!(pred > 0)) return NaN;
        const r = Math.log(pred) - c.lnLoss[j];
        f += huber(r, delta);
        const dr = huberDerivative(r, delta) / pred;
        grad[0] += dr;
        grad[1] += dr * powTerm;
        grad[2] -= dr * powTerm * lnS1;
        grad[3] -= dr * B * drop;
      }
    }
    return f;
  };
}

// ---------------------------------------------------------------------------------------------
// Fitting

/** Largest |ln C| and gamma an MPL optimum may reach before it counts as a run along a ridge (the paper's fits: ln C ≈ 0.7, gamma ≈ 0.64). */
export const MPL_LN_C_LIMIT = 30;
export const MPL_GAMMA_LIMIT = 10;
/** beta at or below which the drop term is its β → 0 limit B·β·ln(1 + C·x). */
export const MPL_BETA_FLOOR = 1e-4;

/**
 * Edges of the MPL parameter space a converged optimum can run to when the fit curves do not
 * determine the shape of the drop term (e.g. constant + cosine alone: docs/fit.md, Reference
 * results). Natural parameters by name; one plain-language problem per edge.
 */
export function multiPowerProblems(p: Record<string, number>): string[] {
  const out: string[] = [];
  const Bbeta = p.B * p.beta;
  if (!(p.beta > MPL_BETA_FLOOR)) {
    out.push(`beta ran to ${fmt(p.beta)} (the β → 0 edge, where B·(1 − (1 + C·x)^−β) → B·β·ln(1 + C·x)): the curves determine B·beta = ${fmt(Bbeta)} but not the saturation of the drop term`);
  }
  if (!(Math.abs(Math.log(p.C)) <= MPL_LN_C_LIMIT)) out.push(`C ran off to ${fmt(p.C)} (|ln C| > ${MPL_LN_C_LIMIT}): C and gamma trade off along a ridge the curves do not resolve`);
  if (!(Math.abs(p.gamma) <= MPL_GAMMA_LIMIT)) out.push(`gamma ran to ${fmt(p.gamma)} (|gamma| > ${MPL_GAMMA_LIMIT}): the curves do not determine how the drop depends on the LR level`);
  return out;
}

export interface ScheduleFitOptions extends LrReconstructionOptions {
  law: ScheduleLawName;
  /** Curves to predict (held out). */
  predict?: readonly LossCurve[];
  /** Tissue's momentum decay λ (default 0.999). */
  lambda?: number;
  delta?: number;
  /** 'huber-log' (default) or 'lsq-log' (least squares on ln L, i.e. δ = ∞); raw-residual objectives are not offered here. */
  objective?: LossKind;
  bootstrap?: number;
  seed?: number;
  /** Explicit starts in the law's fit parameterisation (skips the default start grid); with the drop-shape prior still (…, beta, gamma), mapped to logs (beta, gamma > 0 only). */
  starts?: readonly (readonly number[])[];
  maxIterations?: number;
  /**
   * Throw a DataError when the MPL optimum sits on an edge (see multiPowerProblems). Default false:
   * the record is marked `identifiability: {identified: false}` with a NOT IDENTIFIED note, since a
   * schedule fit is judged by the held-out curves it predicts.
   */
  refuseUnidentified?: boolean;
  /**
   * 'drop-shape' (multipower only): MAP fit with the Gaussian prior MPL_DROP_SHAPE_PRIOR on
   * (ln C, ln beta, ln gamma), fitted in (…, ln beta, ln gamma) so beta, gamma > 0, scaled by the
   * plug-in noise σ̂ of an unpenalised fit run first (withGaussianPrior). Default 'none'.
   * docs/fit.md "Drop-shape prior for the Multi-Power Law".
   */
  prior?: 'none' | 'drop-shape';
  /**
   * 'converge' (default): multi-start Levenberg–Marquardt to a stationary point. 'released'
   * (multipower only): the MPL authors' released procedure (releasedMplFit): from the simplified
   * law's optimum, AdamW from C = 1, beta = gamma = 0.5, at most 200 steps, early-stopped — the
   * procedure behind their official parameters, reported as not converged.
   * docs/fit.md "The released Multi-Power procedure".
   */
  procedure?: 'converge' | 'released';
}

/** One released-procedure run in the multi-start shape the record reads (one start, never "converged"). */
function releasedAsMultiStart(run: () => OptimizeResult & { start: number[] }): MultiStartResult {
  const t0 = performance.now();
  const r = run();
  return {
    best: r,
    bestStart: 0,
    startPoint: r.start,
    starts: 1,
    startsConverged: 0,
    startsAtBestObjective: 1,
    startsAgreeing: 1,
    objectives: Float64Array.of(r.f),
    seconds: (performance.now() - t0) / 1000,
  };
}

/** The released MPL code's AdamW learning rates over the natural (L0, A, alpha, B, C, beta, gamma). */
export const MPL_RELEASED_LRS: readonly number[] = Object.freeze([5e-2, 5e-2, 5e-3, 5e-2, 5e-2, 5e-3, 5e-3]);

/**
 * The MPL authors' released fitting procedure (thu-yao-01-luo/MultiPowerLaw `src/fitting.py`,
 * docs/references.md#multi-power), stage 2: AdamW in the natural parameters (L0, A, alpha, B, C,
 * beta, gamma) from the simplified law's optimum `init` = (L0, ln A, alpha, ln B) with C = 1,
 * beta = 0.5, gamma = 0.5, learning rates MPL_RELEASED_LRS, at most 200 steps, stopped after 20
 * without a better objective (the same Huber-on-log objective as the converged fit). Returns the
 * best point in multiPowerLaw's fit space; reason 'early-stop' (not a convergence claim).
 */
export function releasedMplFit(curves: readonly PreparedCurve[], delta: number, init: ArrayLike<number>, weights: Float64Array[] | null = null): OptimizeResult & { start: number[] } {
  const f = scheduleObjective(multiPowerLaw, curves, delta, weights);
  const g = new Float64Array(7);
  // ∂/∂natural from ∂/∂θ, θ = (L0, ln A, alpha, ln(B·beta), ln C, beta, gamma).
  const natural: ObjectiveWithGradient = (q, grad) => {
    const [, A, , B, C, beta] = q;
    if (!(A > 0 && B > 0 && C > 0 && beta > 0)) return NaN;
    const v = f(Float64Array.from(multiPowerLaw.fromNatural(Array.from(q))), g);
    grad[0] = g[0];
    grad[1] = g[1] / A;
    grad[2] = g[2];
    grad[3] = g[3] / B;
    grad[4] = g[4] / C;
    grad[5] = g[5] + g[3] / beta;
    grad[6] = g[6];
    return v;
  };
  const start = [init[0], Math.exp(init[1]), init[2], Math.exp(init[3]), 1, 0.5, 0.5];
  const r = minimizeAdamW(natural, start, { lrs: MPL_RELEASED_LRS, maxSteps: 200, patience: 20, weightDecay: 0.01 });
  return { ...r, x: Float64Array.from(multiPowerLaw.fromNatural(Array.from(r.x))), start: multiPowerLaw.fromNatural(start) };
}

export interface ScheduleCurveResult {
  name: string;
  role: 'fit' | 'predict';
  steps: number[];
  actual: number[];
  predicted: number[];
  meanAbsRelError: number;
  maxAbsRelError: number;
  finalRelError: number;
}

export interface ScheduleFit extends FitResultBase {
  kind: 'schedule';
  diagnostics: FitDiagnostics;
  law: ScheduleLawName;
  curves: ScheduleCurveResult[];
  lrReconstruction: { warmupSteps: number | 'first logged step'; interpolation: 'linear' | 'step'; lambda: number | null };
}

function startsFor(law: ScheduleLaw, curves: readonly PreparedCurve[], delta: number, maxIterations: number): { starts: number[][]; init: MultiStartResult | null } {
  const minLoss = Math.min(...curves.map((c) => Math.min(...c.losses)));
  if (law.name === 'tissue') {
    // 108 starts: L0 below the lowest loss, A and alpha over typical ranges, C over decades.
    const starts = gridStarts([
      [0.7, 0.85, 0.95].map((f) => f * minLoss),
      [0.1, 0.5, 2].map(Math.log),
      [0.3, 0.6],
      [0.05, 0.5, 2, 10, 50, 200],
    ]);
    return { starts, init: null };
  }
  // MPL: the paper's two-stage start. Stage 1 fits (L0, A, alpha, B) of the simplified law from an
  // 81-point grid; stage 2 starts the full law from that optimum with (C, beta) on a grid, gamma = 0.5.
  const simple = simplifiedMplObjective(curves, delta);
  const init = multiStart(
    lbfgsMinimizer(simple, { maxIterations }),
    gridStarts([[0.7, 0.85, 0.95].map((f) => f * minLoss), [0.2, 0.5, 1.2].map(Math.log), [0.3, 0.5, 0.7], [30, 300, 3000].map(Math.log)]),
  );
  const [L0, lnA, alpha, lnB] = init.best.x;
  // Fit space carries ln(B·beta): each beta start shifts ln B by ln beta.
  const starts = gridStarts([[L0], [lnA], [alpha], [0.5, 2].map(Math.log), [0.02, 0.4, 0.7], [0.5]]).map(([l0, la, al, lc, b, g]) => [l0, la, al, lnB + Math.log(b), lc, b, g]);
  return { starts, init };
}

export function fitScheduleLaw(fitCurves: readonly LossCurve[], options: ScheduleFitOptions): ScheduleFit {
  const law = SCHEDULE_LAWS[options.law];
  if (!law) throw new DataError(`schedule law ${JSON.stringify(options.law)} is unknown. Use multipower or tissue.`);
  if (fitCurves.length === 0) throw new DataError('schedule fit: no curves to fit. Pass at least one curve with --fit.');
  const lambda = options.lambda ?? 0.999;
  const objectiveName = options.objective ?? 'huber-log';
  if (objectiveName !== 'huber-log' && objectiveName !== 'lsq-log') {
    throw new DataError(`schedule fit: objective ${objectiveName} is not offered (schedule laws are fitted on log residuals). Use huber-log or lsq-log.`);
  }
  // Least squares on ln L is the Huber objective with δ = ∞ (r²/2 everywhere).
  const delta = objectiveName === 'lsq-log' ? Infinity : (options.delta ?? CHINCHILLA_HUBER_DELTA);
  const flat = constantProblem(fitCurves.flatMap((c) => Array.from(c.losses)), 'the loss over the fit curves');
  if (flat) throw new DataError(`schedule fit: ${flat}. A schedule law needs a loss that falls with training.`);
  const maxIterations = options.maxIterations ?? 3000;
  const prep = (c: LossCurve) => prepareCurve(c, { warmupSteps: options.warmupSteps, interpolation: options.interpolation, lambda });
  const fitPrepared = fitCurves.map(prep);
  const predictPrepared = (options.predict ?? []).map(prep);
  const nPoints = fitPrepared.reduce((s, c) => s + c.steps.length, 0);
  if (nPoints < law.params.length + 1) {
    throw new DataError(`schedule fit: ${nPoints} logged points across the fit curves; the ${law.name} law has ${law.params.length} parameters. Log more points.`);
  }

  const prior = options.prior ?? 'none';
  if (prior !== 'none' && prior !== 'drop-shape') throw new DataError(`schedule fit: prior ${JSON.stringify(prior)} is unknown. Use none or drop-shape.`);
  if (prior === 'drop-shape' && law.name !== 'multipower') throw new DataError(`schedule fit: the drop-shape prior is a prior on the Multi-Power Law's drop term; the ${law.name} law has none. Drop the prior or use law multipower.`);

  const procedure = options.procedure ?? 'converge';
  if (procedure !== 'converge' && procedure !== 'released') throw new DataError(`schedule fit: procedure ${JSON.stringify(procedure)} is unknown. Use converge or released.`);
  const released = procedure === 'released';
  if (released && law.name !== 'multipower') throw new DataError(`schedule fit: the released procedure is the Multi-Power Law authors'; the ${law.name} law has none. Use procedure converge or law multipower.`);
  if (released && prior !== 'none') throw new DataError('schedule fit: the released procedure and the drop-shape prior are two different regularisations; use one of them.');
  if (released && options.starts) throw new DataError('schedule fit: the released procedure starts from the simplified law at C = 1, beta = gamma = 0.5; explicit starts do not apply. Drop --starts or use procedure converge.');

  const objective = scheduleObjective(law, fitPrepared, delta);
  const { starts, init } = options.starts ? { starts: options.starts.map((s) => [...s]), init: null } : startsFor(law, fitPrepared, delta, maxIterations);
  // MPL: Levenberg–Marquardt on the square-root Huber residuals (Gauss–Newton curvature; L-BFGS
  // needed thousands of iterations on this ill-conditioned problem). Tissue: L-BFGS.
  const useLm = law.name === 'multipower' && !released;
  const minimizer: Minimizer = useLm ? levenbergMarquardtMinimizer(scheduleResiduals(law, fitPrepared, delta), nPoints, { maxIterations }) : lbfgsMinimizer(objective, { maxIterations });
  // The released procedure: one early-stopped AdamW run from the simplified law's optimum.
  const releasedInit = released ? init!.best.x : null;
  const unpenalised = releasedInit ? releasedAsMultiStart(() => releasedMplFit(fitPrepared, delta, releasedInit)) : multiStart(minimizer, starts);

  // Drop-shape prior: the unpenalised optimum (converged or capped on a ridge) gives the plug-in
  // noise σ̂; the MAP fit then runs in (…, ln beta, ln gamma) from the same starts (those with
  // beta, gamma > 0: all of the default grid's).
  let fitLaw = law;
  let ms = unpenalised;
  let sigmaHat: number | null = null;
  let mapStarts: number[][] = [];
  const penalised = (weights: Float64Array[] | null) => withGaussianPrior(scheduleResiduals(fitLaw, fitPrepared, delta, weights), nPoints, 7, MPL_DROP_SHAPE_PRIOR, sigmaHat!);
  if (prior === 'drop-shape') {
    sigmaHat = Math.sqrt(meanSquaredLogResidual(law, unpenalised.best.x, fitPrepared));
    if (!Number.isFinite(sigmaHat)) throw new DataError('schedule fit: the unpenalised MPL fit gives no finite residuals, so the drop-shape prior has no noise scale.');
    fitLaw = multiPowerLogShapeLaw;
    mapStarts = starts.filter((s) => s[5] > 0 && s[6] > 0).map((s) => [...s.slice(0, 5), Math.log(s[5]), Math.log(s[6])]);
    if (mapStarts.length === 0) throw new DataError('schedule fit: the drop-shape prior fits ln beta and ln gamma; give starts with beta > 0 and gamma > 0.');
    ms = multiStart(levenbergMarquardtMinimizer(penalised(null), nPoints + MPL_DROP_SHAPE_PRIOR.length, { maxIterations }), mapStarts);
  }
  const theta = [...ms.best.x];
  const natural = fitLaw.toNatural(theta);
  const params: Record<string, number> = Object.fromEntries(law.params.map((n, i) => [n, natural[i]]));

  // An optimum on an edge of the MPL space is refused (or, allowed, marked) before the bootstrap.
  // Checked converged or not: a start that walks along a ridge (C → ∞) hits the iteration cap there.
  const identifiability =
    law.name === 'multipower'
      ? settle(multiPowerProblems(params), `schedule fit (multipower on ${fitPrepared.map((c) => c.name).join(' + ')})`, !options.refuseUnidentified)
      : undefined;

  const curveResult = (c: PreparedCurve, role: 'fit' | 'predict', th: ArrayLike<number>): ScheduleCurveResult => {
    const pred = new Float64Array(c.steps.length);
    fitLaw.evaluate(th, c, pred, null);
    const rel = Array.from(pred, (p, j) => relError(p, c.losses[j]));
    return {
      name: c.name,
      role,
      steps: Array.from(c.steps),
      actual: Array.from(c.losses),
      predicted: Array.from(pred),
      meanAbsRelError: rel.reduce((s, r) => s + Math.abs(r), 0) / rel.length,
      maxAbsRelError: Math.max(...rel.map(Math.abs)),
      finalRelError: rel[rel.length - 1],
    };
  };
  const curves = [...fitPrepared.map((c) => curveResult(c, 'fit', theta)), ...predictPrepared.map((c) => curveResult(c, 'predict', theta))];

  // Bootstrap: logged points resampled within each fit curve, refitted from the optimum.
  const nBoot = options.bootstrap ?? 0;
  const seed = options.seed ?? 0;
  const curveOf = fitPrepared.flatMap((c, ci) => Array.from(c.steps, () => ci));
  const offsets = fitPrepared.map((_, ci) => curveOf.indexOf(ci));
  const predictedSummaries = (th: ArrayLike<number>) => {
    const out: Record<string, number> = {};
    for (const c of predictPrepared) {
      const pred = new Float64Array(c.steps.length);
      fitLaw.evaluate(th, c, pred, null);
      out[`predict.${c.name}.final`] = pred[pred.length - 1];
      out[`predict.${c.name}.meanAbsRelError`] = meanAbsRelError(pred, c.losses);
    }
    return out;
  };
  const boot =
    nBoot > 0
      ? bootstrap(
          nPoints,
          (rows) => {
            const weights = fitPrepared.map((c) => new Float64Array(c.steps.length));
            for (const i of rows) weights[curveOf[i]][i - offsets[curveOf[i]]] += 1;
            const r = sigmaHat !== null
              ? minimizeLevenbergMarquardt(penalised(weights), theta, nPoints + MPL_DROP_SHAPE_PRIOR.length, { maxIterations })
              : releasedInit
              ? releasedMplFit(fitPrepared, delta, releasedInit, weights)
              : useLm
              ? minimizeLevenbergMarquardt(scheduleResiduals(law, fitPrepared, delta, weights), theta, nPoints, { maxIterations })
              : minimizeLbfgs(scheduleObjective(law, fitPrepared, delta, weights), theta, { maxIterations });
            if (!Number.isFinite(r.f)) return null;
            const nat = fitLaw.toNatural(r.x);
            return { ...prefixKeys(Object.fromEntries(law.params.map((n, i) => [n, nat[i]])), 'params.'), ...predictedSummaries(r.x) };
          },
          { samples: nBoot, seed, groups: Int32Array.from(curveOf) },
        )
      : null;

  const heldOut: HeldOutRow[] = curves
    .filter((c) => c.role === 'predict')
    .flatMap((c) => [
      {
        label: `${c.name}: final loss (step ${c.steps[c.steps.length - 1]})`,
        actual: c.actual[c.actual.length - 1],
        predicted: c.predicted[c.predicted.length - 1],
        ci95: boot?.intervals[`predict.${c.name}.final`] ?? null,
        relError: c.finalRelError,
      },
    ]);

  const derived: Record<string, number> = {};
  for (const c of curves) derived[`${c.role === 'fit' ? 'fitted' : 'predicted'}.${c.name}.meanAbsRelError`] = c.meanAbsRelError;
  if (law.name === 'multipower') derived['B*beta'] = Math.exp(theta[3]); // identified even at the β → 0 edge
  const derivedEst = withIntervals(derived, null);
  for (const c of predictPrepared) {
    const key = `predicted.${c.name}.meanAbsRelError`;
    derivedEst[key] = { value: derived[key], ci95: boot?.intervals[`predict.${c.name}.meanAbsRelError`] ?? null };
  }

  const diagnostics: FitDiagnostics = {
    optimizer: released ? 'adamw-early-stop' : useLm ? 'levenberg-marquardt' : 'lbfgs',
    loss: objectiveName,
    delta: objectiveName === 'huber-log' ? delta : null,
    objective: ms.best.f,
    gradNorm: ms.best.gradNorm,
    iterations: ms.best.iterations,
    evaluations: ms.best.evaluations,
    converged: ms.best.converged,
    reason: ms.best.reason,
    starts: ms.starts,
    bestStart: ms.bestStart,
    startPoint: Object.fromEntries(fitLaw.fitParams.map((n, i) => [n, ms.startPoint[i]])),
    startsConverged: ms.startsConverged,
    startsAtBestObjective: ms.startsAtBestObjective,
    startsAgreeing: ms.startsAgreeing,
    seconds: ms.seconds + (init?.seconds ?? 0) + (sigmaHat !== null ? unpenalised.seconds : 0),
  };

  return {
    kind: 'schedule',
    law: law.name,
    form: law.expression,
    params: withIntervals(params, boot, 'params.'),
    derived: derivedEst,
    diagnostics,
    data: {
      n: nPoints,
      rowsGiven: nPoints,
      columns: {},
      dropped: [],
      heldOutRows: predictPrepared.map((c) => c.name),
    },
    heldOut,
    ...(identifiability ? { identifiability } : {}),
    bootstrap: bootstrapSummary(boot, released ? 'logged points resampled with replacement within each fit curve; the released procedure rerun on each resample from its own start' : 'logged points resampled with replacement within each fit curve; refitted from the optimum'),
    options: { law: law.name, lambda: law.name === 'tissue' ? lambda : null, delta: objectiveName === 'huber-log' ? delta : null, objective: objectiveName, maxIterations, warmupSteps: options.warmupSteps ?? null, interpolation: options.interpolation ?? 'linear', bootstrap: nBoot, seed, ...(sigmaHat !== null ? { prior, priorNoise: sigmaHat } : {}), ...(released ? { procedure } : {}) },
    notes: [
      `Fitted on ${fitPrepared.map((c) => c.name).join(', ')}; ${objectiveName === 'huber-log' ? `Σ Huber_δ(ln L̂ − ln L) over every logged point, δ = ${delta}` : '½·Σ (ln L̂ − ln L)² over every logged point'}.`,
      `Per-step LR rebuilt from the logged points: η_0 = 0, linear warmup to the first logged LR at ${options.warmupSteps ?? 'the first logged step'}, ${options.interpolation ?? 'linear'} interpolation between logged steps.`,
      released
        ? `Procedure: the MPL authors' released code — the simplified law L0 + A·S1^−alpha − B·(η_max − η_t) from 81 starts (best objective ${fmt(init!.best.f)}), then AdamW in the natural parameters from C = 1, beta = 0.5, gamma = 0.5 (learning rates 5e-2 for L0, A, B, C and 5e-3 for alpha, beta, gamma; weight decay 0.01), stopped after ${unpenalised.best.iterations} steps (at most 200, or 20 without a better objective). An early-stopped fit, not an optimum: the stop is the regularisation (docs/fit.md).`
        : law.name === 'multipower'
        ? `Starts: the MPL paper's two stages — the simplified law L0 + A·S1^−alpha − B·(η_max − η_t) from 81 starts${init ? ` (best objective ${fmt(init.best.f)})` : ''}, then the full law from ${starts.length} starts over (C, beta), beta from near the β → 0 edge (0.02) to 0.7, gamma = 0.5, each by Levenberg–Marquardt in (L0, ln A, alpha, ln(B·beta), ln C, beta, gamma) (the β → 0 limit inside the space).`
        : `Tissue λ = ${lambda}; ${starts.length} starts.`,
      ...(sigmaHat !== null
        ? [
            `Drop-shape prior (MAP): ln C ~ N(0, 1²), ln beta ~ N(ln 0.5, 1²), ln gamma ~ N(ln 0.5, 1²), fixed in advance; fitted in (L0, ln A, alpha, ln(B·beta), ln C, ln beta, ln gamma) from ${mapStarts.length} starts; objective = data objective + σ̂²·Σ((θ − μ)/s)²/2 (prior share ${fmt(gaussianPriorPenalty(theta, MPL_DROP_SHAPE_PRIOR, sigmaHat))}), σ̂ = ${fmt(sigmaHat)} the RMS log residual of the unpenalised fit (objective ${fmt(unpenalised.best.f)}, ${unpenalised.best.converged ? 'converged' : `not converged: ${unpenalised.best.reason}`} after ${unpenalised.best.iterations} iterations).`,
          ]
        : []),
      ...(identifiability && !identifiability.identified ? [`NOT IDENTIFIED: ${identifiability.problems.join('; ')}. Fit on curves whose LR drops differ in depth and timing (the MPL paper fits cosine_24000, constant_24000 and wsdcon_9), or treat the predictions as unreliable.`] : []),
      predictPrepared.length ? `Predicted (held out): ${predictPrepared.map((c) => c.name).join(', ')}.` : 'No curves to predict were given.',
    ],
    curves,
    lrReconstruction: { warmupSteps: options.warmupSteps ?? 'first logged step', interpolation: options.interpolation ?? 'linear', lambda: law.name === 'tissue' ? lambda : null },
  };
}
