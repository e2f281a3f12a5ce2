// Approach 2, isoFLOP profiles (Hoffmann et al. 2022 §3.2; docs/references.md#chinchilla-approach-2; docs/references.md#isoflop-design, docs/references.md#reproduction-needs):
//   per budget C:   L ≈ p0 + p1·u + p2·u²,  u = ln N   →  N_opt = exp(−p1/(2·p2)), L_min = L(N_opt)
//                   D_opt from the budget's own runs (ln D linear in ln N, exact when D = C/(a·N + b))
//                   or from the compute formula when runs lack D
//   across budgets: N_opt = kN·C^a,  D_opt = kD·C^b,  L_min = kL·C^c   (least squares in log space)
//   flat optimum:   sizes whose fitted loss is within ΔL of L_min: u ∈ u* ± sqrt(ΔL/p2)
//                   (the paper picks 52B/7T inside the flat region around 58.1B/5.6T; docs/references.md#isoflop-design)
// Symbols: N activated parameters, D tokens, C the budget in FLOPs, L loss (nats/token).
import { DataError } from '../errors.ts';
import { dropEdgeGroups, NoInteriorMinimumError, type EdgePolicy } from './edges.ts';
import { bootstrap } from './bootstrap.ts';
import { COMPUTE_6ND, tokensForCompute, type ComputeFormula } from './compute-formula.ts';
import { evalParabola, evalPowerLaw, fitLine, fitParabola, fitPowerLaw, type Parabola, type PowerLaw } from './linear.ts';
import { fmt, groupIds, groupIndices, requirePositive } from './points.ts';
import { bootstrapSummary, prefixKeys, relError, withIntervals, type Estimate, type FitResultBase, type HeldOutRow } from './record.ts';

export interface IsoflopPoint {
  /** The run's compute budget (FLOPs); runs of one isoFLOP slice share it exactly. */
  budget: number;
  /** Activated parameters. */
  N: number;
  /** Training tokens (optional; D_opt then comes from the compute formula). */
  D?: number;
  loss: number;
  label?: string;
}

export interface IsoflopOptions {
  /** For D_opt when runs lack D (default 6ND). */
  computeFormula?: ComputeFormula;
  /** ΔL (nats) of the flat-optimum range (default 0.01). */
  flatDeltaL?: number;
  targetFlops?: readonly number[];
  bootstrap?: number;
  seed?: number;
  /** 'largest': refit the power laws without the largest budget and predict it. */
  holdout?: 'largest' | 'none';
  /**
   * Fit each budget's parabola only to sizes within this factor of its best run (e.g. 4: N_best/4 …
   * 4·N_best). Far-off sizes (a model that saw fewer tokens than it has weights) sit on a plateau
   * that bends a parabola fitted through everything. Default: every size.
   */
  window?: number;
  /**
   * Budgets without an interior minimum (best run at the smallest or largest size, or the fitted
   * vertex outside the sampled sizes): 'refuse' (default) throws; 'drop' leaves them out and lists
   * their runs in data.dropped.
   */
  edges?: EdgePolicy;
}

/** The points of one budget within `window`× of its best run's N (all of them without a window). */
export function nearBest<T extends { N: number; loss: number }>(pts: readonly T[], window: number | undefined): T[] {
  if (window === undefined) return [...pts];
  const best = pts.reduce((b, p) => (p.loss < b.loss ? p : b));
  const r = Math.log(window);
  return pts.filter((p) => Math.abs(Math.log(p.N / best.N)) <= r + 1e-12);
}

/** One budget's slice: its parabola, optimum and flat range. */
export interface IsoflopBudget {
  budget: number;
  points: { N: number; D: number | null; loss: number; label: string }[];
  /** Coefficients of L = p0 + p1·ln N + p2·(ln N)². */
  parabola: { p0: number; p1: number; p2: number; r2: number };
  N_opt: Estimate;
  D_opt: Estimate;
  L_min: Estimate;
  /** Smallest observed loss at this budget and the N that reached it. */
  bestObserved: { N: number; loss: number };
  /** Sizes within ΔL of L_min on the parabola, and the matching tokens. */
  flatRange: { deltaL: number; N: [number, number]; D: [number, number] };
  /** How D_opt was obtained. */
  dFrom: 'runs' | 'formula';
  /** Whether this budget was held out of the power-law fits. */
  heldOut: boolean;
}

export interface IsoflopFit extends FitResultBase {
  kind: 'isoflop';
  budgets: IsoflopBudget[];
  powerLaws: {
    N_opt: { k: Estimate; exponent: Estimate; r2: number; expression: string };
    D_opt: { k: Estimate; exponent: Estimate; r2: number; expression: string };
    L_min: { k: Estimate; exponent: Estimate; r2: number; expression: string };
  };
}

interface SliceFit {
  budget: number;
  parabola: Parabola;
  N_opt: number;
  D_opt: number;
  L_min: number;
  dLine: { intercept: number; slope: number } | null;
}

/** Fit one slice; throws a DataError naming the budget when it has no interior minimum. */
function fitSlice(budget: number, pts: readonly IsoflopPoint[], formula: ComputeFormula): SliceFit {
  const sizes = new Set(pts.map((p) => p.N));
  if (sizes.size < 3) {
    throw new DataError(
      `isoFLOP budget ${fmt(budget)} FLOPs has ${sizes.size} distinct model size${sizes.size === 1 ? '' : 's'} (N = ${[...sizes].map((n) => fmt(n)).join(', ')}): a parabola needs at least 3. Add runs of other sizes at this budget or drop the budget.`,
    );
  }
  const u = pts.map((p) => Math.log(p.N));
  const parabola = fitParabola(u, pts.map((p) => p.loss));
  const uMin = Math.min(...u);
  const uMax = Math.max(...u);
  const best = pts.reduce((b, p) => (p.loss < b.loss ? p : b));
  if (!(parabola.p2 > 0)) {
    throw new NoInteriorMinimumError(
      `isoFLOP budget ${fmt(budget)} FLOPs has no interior minimum: loss against ln N curves downward (p2 = ${fmt(parabola.p2)}), the best run is N = ${fmt(best.N)}. Add sizes on both sides of the best run.`,
    );
  }
  if (parabola.vertexU < uMin || parabola.vertexU > uMax) {
    const above = parabola.vertexU > uMax;
    throw new NoInteriorMinimumError(
      `isoFLOP budget ${fmt(budget)} FLOPs has no interior minimum: the fitted parabola's minimum (N ≈ ${fmt(Math.exp(parabola.vertexU))}) lies ${above ? 'above the largest' : 'below the smallest'} size sampled (N = ${fmt(Math.exp(above ? uMax : uMin))}; best run N = ${fmt(best.N)}, loss ${fmt(best.loss, 4)}). ${above ? 'Loss is still falling with size: add larger models at this budget.' : 'Loss is still falling towards smaller sizes: add smaller models at this budget.'}`,
    );
  }
  const N_opt = Math.exp(parabola.vertexU);
  const haveD = pts.every((p) => p.D !== undefined);
  let dLine: SliceFit['dLine'] = null;
  let D_opt: number;
  if (haveD) {
    dLine = fitLine(u, pts.map((p) => Math.log(p.D as number)));
    D_opt = Math.exp(dLine.intercept + dLine.slope * parabola.vertexU);
  } else {
    D_opt = tokensForCompute(budget, N_opt, formula);
  }
  return { budget, parabola, N_opt, D_opt, L_min: parabola.vertexY, dLine };
}

function flatRange(s: SliceFit, deltaL: number, budget: number, formula: ComputeFormula): { N: [number, number]; D: [number, number] } {
  const half = Math.sqrt(deltaL / s.parabola.p2);
  const uLo = s.parabola.vertexU - half;
  const uHi = s.parabola.vertexU + half;
  const dAt = (uu: number) => (s.dLine ? Math.exp(s.dLine.intercept + s.dLine.slope * uu) : tokensForCompute(budget, Math.exp(uu), formula));
  // More parameters at a fixed budget means fewer tokens, so D's range runs the other way.
  return { N: [Math.exp(uLo), Math.exp(uHi)], D: [dAt(uHi), dAt(uLo)] };
}

interface Laws {
  N: PowerLaw;
  D: PowerLaw;
  L: PowerLaw;
  /** Curvature p2 across budgets (for flat ranges at target budgets). */
  curvature: PowerLaw;
}

function fitLaws(slices: readonly SliceFit[]): Laws {
  const C = slices.map((s) => s.budget);
  return {
    N: fitPowerLaw(C, slices.map((s) => s.N_opt)),
    D: fitPowerLaw(C, slices.map((s) => s.D_opt)),
    L: fitPowerLaw(C, slices.map((s) => s.L_min)),
    curvature: fitPowerLaw(C, slices.map((s) => s.parabola.p2)),
  };
}

function lawValues(l: Laws, targets: readonly number[], deltaL: number): { params: Record<string, number>; derived: Record<string, number> } {
  const params = { kN: l.N.k, a: l.N.a, kD: l.D.k, b: l.D.a, kL: l.L.k, c: l.L.a };
  const derived: Record<string, number> = { 'a+b': l.N.a + l.D.a };
  for (const C of targets) {
    const k = fmt(C);
    const N = evalPowerLaw(l.N, C);
    const D = evalPowerLaw(l.D, C);
    const half = Math.sqrt(deltaL / evalPowerLaw(l.curvature, C));
    derived[`N_opt@${k}`] = N;
    derived[`D_opt@${k}`] = D;
    derived[`L_min@${k}`] = evalPowerLaw(l.L, C);
    derived[`tokensPerParam@${k}`] = D / N;
    derived[`N_flat_lo@${k}`] = N * Math.exp(-half);
    derived[`N_flat_hi@${k}`] = N * Math.exp(half);
  }
  return { params, derived };
}

export function fitIsoflop(given: readonly IsoflopPoint[], options: IsoflopOptions = {}): IsoflopFit {
  const label = (p: IsoflopPoint, i: number) => p.label ?? `row ${i + 1}`;
  requirePositive(given, ['budget', 'N', 'loss'], label, 'isoFLOP rows need budget (FLOPs), N (activated parameters) and loss > 0.');
  given.forEach((p, i) => {
    if (p.D !== undefined && !(p.D > 0 && Number.isFinite(p.D))) {
      throw new DataError(`${label(p, i)}: D must be a positive finite number when given (got ${p.D}). Fix the tokens column or leave it out.`);
    }
  });
  const formula = options.computeFormula ?? COMPUTE_6ND;
  const edges = options.edges ?? 'refuse';
  const split =
    edges === 'drop'
      ? dropEdgeGroups(
          given.map((p, i) => ({ ...p, label: label(p, i) })),
          (p) => p.budget,
          (budget, pts) => void fitSlice(budget, nearBest(pts, options.window), formula),
        )
      : { kept: given, dropped: [], groups: [] };
  const points: readonly IsoflopPoint[] = split.kept;
  const deltaL = options.flatDeltaL ?? 0.01;
  const targets = options.targetFlops ?? [];
  const nBoot = options.bootstrap ?? 0;
  const seed = options.seed ?? 0;
  const holdout = options.holdout ?? 'largest';

  const groups = groupIndices(points.map((p) => p.budget));
  if (groups.length < 2) {
    throw new DataError(
      `isoFLOP: the power laws need at least 2 budgets, got ${groups.length}${groups.length ? ` (${groups.map((g) => fmt(g.key)).join(', ')} FLOPs)` : ''}${split.groups.length ? ` after leaving out ${split.groups.length} without an interior minimum (${split.groups.join(' ')})` : ''}. Add runs at other budgets.`,
    );
  }
  const slicesOf = (rows: ArrayLike<number>): SliceFit[] => {
    const sample = Array.from(rows, (j) => points[j]);
    return groupIndices(sample.map((p) => p.budget)).map((g) => fitSlice(g.key, nearBest(g.rows.map((k) => sample[k]), options.window), formula));
  };
  const all = points.map((_, i) => i);
  const slices = slicesOf(all); // throws the clear per-budget errors
  const laws = fitLaws(slices);
  const values = lawValues(laws, targets, deltaL);

  const budgetKeys = points.map((p) => p.budget);
  const boot =
    nBoot > 0
      ? bootstrap(
          points.length,
          (rows) => {
            let ss: SliceFit[];
            try {
              ss = slicesOf(rows);
            } catch {
              return null; // a resample lost a budget's interior minimum
            }
            const l = fitLaws(ss);
            const v = lawValues(l, targets, deltaL);
            const perBudget: Record<string, number> = {};
            ss.forEach((s, i) => {
              perBudget[`budget.${i}.N_opt`] = s.N_opt;
              perBudget[`budget.${i}.D_opt`] = s.D_opt;
              perBudget[`budget.${i}.L_min`] = s.L_min;
            });
            return { ...prefixKeys(v.params, 'params.'), ...prefixKeys(v.derived, 'derived.'), ...perBudget };
          },
          { samples: nBoot, seed, groups: groupIds(budgetKeys) },
        )
      : null;

  // Held-out check: the power laws without the largest budget, evaluated at it.
  const heldOut: HeldOutRow[] = [];
  const heldBudget = holdout === 'largest' && slices.length >= 3 ? slices[slices.length - 1] : null;
  if (heldBudget) {
    const trainRows = all.filter((i) => points[i].budget !== heldBudget.budget);
    const heldPts = points.filter((p) => p.budget === heldBudget.budget);
    const bestLoss = Math.min(...heldPts.map((p) => p.loss));
    const predict = (l: Laws) => ({
      N: evalPowerLaw(l.N, heldBudget.budget),
      D: evalPowerLaw(l.D, heldBudget.budget),
      L: evalPowerLaw(l.L, heldBudget.budget),
    });
    const pred = predict(fitLaws(slices.slice(0, -1)));
    const heldBoot =
      nBoot > 0
        ? bootstrap(
            trainRows.length,
            (rows) => {
              try {
                const p = predict(fitLaws(slicesOf(Array.from(rows, (j) => trainRows[j]))));
                return { N: p.N, D: p.D, L: p.L };
              } catch {
                return null;
              }
            },
            { samples: nBoot, seed: seed + 1, groups: groupIds(trainRows.map((i) => points[i].budget)) },
          )
        : null;
    const at = `at C = ${fmt(heldBudget.budget)}`;
    heldOut.push(
      { label: `N_opt ${at}`, actual: heldBudget.N_opt, predicted: pred.N, ci95: heldBoot?.intervals.N ?? null, relError: relError(pred.N, heldBudget.N_opt) },
      { label: `D_opt ${at}`, actual: heldBudget.D_opt, predicted: pred.D, ci95: heldBoot?.intervals.D ?? null, relError: relError(pred.D, heldBudget.D_opt) },
      { label: `L_min ${at} (parabola)`, actual: heldBudget.L_min, predicted: pred.L, ci95: heldBoot?.intervals.L ?? null, relError: relError(pred.L, heldBudget.L_min) },
      { label: `best observed loss ${at}`, actual: bestLoss, predicted: pred.L, ci95: heldBoot?.intervals.L ?? null, relError: relError(pred.L, bestLoss) },
    );
  }

  const budgets: IsoflopBudget[] = slices.map((s, i) => {
    const pts = points.map((p, j) => ({ p, j })).filter(({ p }) => p.budget === s.budget);
    const best = pts.reduce((b, x) => (x.p.loss < b.p.loss ? x : b));
    const range = flatRange(s, deltaL, s.budget, formula);
    const ci = (q: string) => boot?.intervals[`budget.${i}.${q}`] ?? null;
    return {
      budget: s.budget,
      points: pts.map(({ p, j }) => ({ N: p.N, D: p.D ?? null, loss: p.loss, label: label(p, j) })),
      parabola: { p0: s.parabola.p0, p1: s.parabola.p1, p2: s.parabola.p2, r2: s.parabola.r2 },
      N_opt: { value: s.N_opt, ci95: ci('N_opt') },
      D_opt: { value: s.D_opt, ci95: ci('D_opt') },
      L_min: { value: s.L_min, ci95: ci('L_min') },
      bestObserved: { N: best.p.N, loss: best.p.loss },
      flatRange: { deltaL, ...range },
      dFrom: s.dLine ? 'runs' : 'formula',
      heldOut: heldBudget !== null && s.budget === heldBudget.budget,
    };
  });

  const params = withIntervals(values.params, boot, 'params.');
  const minR2 = Math.min(laws.N.r2, laws.D.r2);
  return {
    kind: 'isoflop',
    form: 'L = p0 + p1*ln(N) + p2*ln(N)^2 per budget; N_opt = kN * C^a; D_opt = kD * C^b; L_min = kL * C^c',
    params,
    derived: withIntervals(values.derived, boot, 'derived.'),
    // objective: total residual sum of squares of the per-budget parabolas; r2: the worse of the N_opt, D_opt laws.
    diagnostics: { optimizer: 'least-squares', objective: slices.reduce((s, x) => s + x.parabola.rss, 0), r2: minR2, converged: true, iterations: 0 },
    data: {
      n: points.length,
      rowsGiven: given.length,
      columns: {},
      dropped: split.dropped,
      heldOutRows: heldBudget ? points.filter((p) => p.budget === heldBudget.budget).map((p) => label(p, points.indexOf(p))) : [],
    },
    heldOut,
    bootstrap: bootstrapSummary(boot, 'runs resampled with replacement within each budget; parabolas and power laws refitted'),
    options: { computeFormula: formula, flatDeltaL: deltaL, targetFlops: targets, bootstrap: nBoot, seed, holdout, window: options.window ?? null, edges },
    notes: [
      ...split.groups.map((g) => `Left out (edges: drop): ${g}`),
      'Each budget: least-squares parabola of loss in ln N; its vertex must lie inside the sampled sizes.',
      ...(options.window !== undefined ? [`Each budget's parabola uses only the sizes within ${options.window}× of its best run.`] : []),
      budgets.every((b) => b.dFrom === 'runs')
        ? 'D_opt: ln D interpolated linearly in ln N through each budget\'s own runs.'
        : `D_opt: D = C / (${formula.a}·N + ${formula.b}) (compute formula ${formula.name}) where runs lack D.`,
      'Power laws: ordinary least squares of ln N_opt, ln D_opt, ln L_min on ln C (budgets weighted equally); the held-out budget is included in the reported laws.',
      `Flat optimum: ΔL = ${deltaL} nats on the fitted parabola; at target budgets the curvature p2 is extrapolated by a power law in C.`,
      heldBudget ? `Held-out check: power laws refitted without the largest budget (${fmt(heldBudget.budget)} FLOPs).` : 'No held-out check (needs ≥ 3 budgets, or --holdout none).',
    ],
    budgets,
    powerLaws: {
      N_opt: { k: params.kN, exponent: params.a, r2: laws.N.r2, expression: 'N_opt = kN * C^a' },
      D_opt: { k: params.kD, exponent: params.b, r2: laws.D.r2, expression: 'D_opt = kD * C^b' },
      L_min: { k: params.kL, exponent: params.c, r2: laws.L.r2, expression: 'L_min = kL * C^c' },
    },
  };
}

/** Fitted loss of a budget's parabola at N (for plots and checks). */
export function isoflopLossAt(b: Pick<IsoflopBudget, 'parabola'>, N: number): number {
  const u = Math.log(N);
  return evalParabola({ ...b.parabola, vertexU: NaN, vertexY: NaN, rss: NaN }, u);
}
