// Multi-start minimisation over a grid of initial points (Hoffmann et al. 2022 App. D.2: L-BFGS
// from every point of a grid, keep the best) with the convergence evidence every fit reports:
// how many starts converged and how many reached the same optimum as the best one.
import { minimizeLbfgs, type LbfgsOptions } from './optimize/lbfgs.ts';
import { minimizeLevenbergMarquardt, type LevenbergMarquardtOptions, type ResidualFunction } from './optimize/levenberg-marquardt.ts';
import { minimizeNelderMead, type NelderMeadOptions } from './optimize/nelder-mead.ts';
import type { ObjectiveWithGradient, OptimizeResult } from './optimize/types.ts';
import { startTask } from '../util/progress.ts';

export type Optimizer = 'lbfgs' | 'levenberg-marquardt' | 'nelder-mead' | 'adamw-early-stop';

/** Cartesian product of per-parameter value lists, first axis slowest. */
export function gridStarts(axes: readonly (readonly number[])[]): number[][] {
  let out: number[][] = [[]];
  for (const axis of axes) out = out.flatMap((prefix) => axis.map((v) => [...prefix, v]));
  return out;
}

export interface StartsAgreement {
  /** Relative objective tolerance: |f − f*| ≤ objectiveTol·max(|f*|, tiny). */
  objectiveTol?: number;
  /** Parameter tolerance per coordinate: |θ − θ*| ≤ paramTol·max(1, |θ*|). */
  paramTol?: number;
}

export interface MultiStartResult {
  best: OptimizeResult;
  /** Index of the winning start in the list given. */
  bestStart: number;
  startPoint: number[];
  starts: number;
  /** Starts whose own stopping rule reported convergence. */
  startsConverged: number;
  /** Starts ending within objectiveTol of the best objective. */
  startsAtBestObjective: number;
  /** Starts ending within objectiveTol of the best objective AND within paramTol of its θ. */
  startsAgreeing: number;
  /** Every start's final objective (same order as the starts). */
  objectives: Float64Array;
  seconds: number;
}

export type Minimizer = (x0: readonly number[]) => OptimizeResult;

export function lbfgsMinimizer(fg: ObjectiveWithGradient, options?: LbfgsOptions): Minimizer {
  return (x0) => minimizeLbfgs(fg, x0, options);
}

export function nelderMeadMinimizer(f: (x: Float64Array) => number, options?: NelderMeadOptions): Minimizer {
  return (x0) => minimizeNelderMead(f, x0, options);
}

export function levenbergMarquardtMinimizer(fn: ResidualFunction, m: number, options?: LevenbergMarquardtOptions): Minimizer {
  return (x0) => minimizeLevenbergMarquardt(fn, x0, m, options);
}

export function multiStart(minimize: Minimizer, starts: readonly (readonly number[])[], agreement: StartsAgreement = {}): MultiStartResult {
  if (starts.length === 0) throw new Error('multiStart: no start points');
  const objectiveTol = agreement.objectiveTol ?? 1e-6;
  const paramTol = agreement.paramTol ?? 1e-3;
  const t0 = performance.now();
  const results: OptimizeResult[] = [];
  let bestIdx = -1;
  const task = startTask('fit: multi-start', starts.length); // progress + ETA where a sink is installed (src/util/progress.ts)
  try {
    for (let s = 0; s < starts.length; s++) {
      const r = minimize(starts[s]);
      results.push(r);
      if (Number.isFinite(r.f) && (bestIdx < 0 || r.f < results[bestIdx].f)) bestIdx = s;
      task.tick();
    }
  } finally {
    task.end();
  }
  if (bestIdx < 0) bestIdx = 0;
  const best = results[bestIdx];
  const tolF = objectiveTol * Math.max(Math.abs(best.f), 1e-300);
  let atBest = 0;
  let agreeing = 0;
  let converged = 0;
  for (const r of results) {
    if (r.converged) converged++;
    if (!(Math.abs(r.f - best.f) <= tolF)) continue;
    atBest++;
    let same = true;
    for (let i = 0; i < best.x.length; i++) {
      if (Math.abs(r.x[i] - best.x[i]) > paramTol * Math.max(1, Math.abs(best.x[i]))) {
        same = false;
        break;
      }
    }
    if (same) agreeing++;
  }
  return {
    best,
    bestStart: bestIdx,
    startPoint: [...starts[bestIdx]],
    starts: starts.length,
    startsConverged: converged,
    startsAtBestObjective: atBest,
    startsAgreeing: agreeing,
    objectives: Float64Array.from(results, (r) => r.f),
    seconds: (performance.now() - t0) / 1000,
  };
}
