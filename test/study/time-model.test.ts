// The study time model (src/study/time-model.ts): its terms, the non-negative fit, the held-out
// check, the makespan of a stage, and the dry run's estimate of the hunyuan-small presets.
import { describe, expect, it } from 'vitest';
import { leastSquares, nonNegativeLeastSquares } from '../../src/fit/linear.ts';
import { estimateSeconds, loadStudyFile, runSeconds, studyStages } from '../../src/study/run.ts';
import {
  fitTimeModel,
  heldOutPredictions,
  makespan,
  predictionError,
  predictRunSeconds,
  runWorkOf,
  timeTerms,
  TIME_TERMS,
  type RunWork,
  type TimeCoefficients,
  type TimeSample,
} from '../../src/study/time-model.ts';

describe('nonNegativeLeastSquares', () => {
  it('is least squares when the solution is non-negative, and clamps a coefficient that would be negative', () => {
    // y = 3 − x would need a negative slope: without it, the best constant is the mean.
    const X = [[1, 0], [1, 1], [1, 2], [1, 3]];
    expect(leastSquares(X, [3, 2.5, 1.2, 0.1]).coef[1]).toBeCloseTo(-1, 10);
    const clamped = nonNegativeLeastSquares(X, [3, 2.5, 1.2, 0.1]).coef;
    expect(clamped[0]).toBeCloseTo(1.7, 12);
    expect(clamped[1]).toBe(0);
    // Unconstrained (2, −1); with b ≥ 0: minimise (a − 2)² + (a − 1)² → a = 1.5.
    expect(leastSquares([[1, 0], [0, 1], [1, 1]], [2, -1, 1]).coef.map((c) => Number(c.toFixed(12)))).toEqual([2, -1]);
    expect(nonNegativeLeastSquares([[1, 0], [0, 1], [1, 1]], [2, -1, 1]).coef.map((c) => Number(c.toFixed(12)))).toEqual([1.5, 0]);
    // Positive solution: the same as least squares, whatever the column scales and weights.
    const Y = [[1, 2e9], [1, 5e9], [3, 1e9], [2, 7e9]];
    const y = Y.map(([a, b]) => 0.5 * a + 3e-10 * b);
    const w = [1, 4, 0.5, 2];
    const nn = nonNegativeLeastSquares(Y, y, w).coef;
    expect(nn[0]).toBeCloseTo(0.5, 10);
    expect(nn[1] / 3e-10).toBeCloseTo(1, 10);
  });
});

const work = (over: Partial<RunWork> = {}): RunWork => ({ steps: 1000, layers: 2, tokensPerStep: 512, computeFlops: 2e11, flopsPerToken: 3e5, evalTokens: 65536, ...over });
const COEF: TimeCoefficients = { step: 0.002, layerStep: 0.003, layerToken: 4e-6, flop: 5e-11, evalFlop: 2e-10 };

describe('the time model', () => {
  it('sums five terms, each a count of the run times a cost per unit', () => {
    expect(timeTerms(work())).toEqual({ step: 1000, layerStep: 2000, layerToken: 1_024_000, flop: 2e11, evalFlop: 6_553_600_000 });
    // 2 + 6 + 4.096 + 10 + 1.31072
    expect(predictRunSeconds(work(), COEF)).toBeCloseTo(23.40672, 10);
  });

  it('recovers the coefficients from runs it generated, and predicts held-out sizes exactly', () => {
    const samples: TimeSample[] = [];
    for (const layers of [1, 2, 3]) {
      for (const steps of [300, 1200, 5000]) {
        for (const tokensPerStep of [128, 512, 2048]) {
          // FLOPs per token: the blocks' plus the embedding's (not proportional to the layers).
          const fpt = layers * 1.1e5 + 3e4;
          const w = work({ layers, steps, tokensPerStep, computeFlops: steps * tokensPerStep * fpt, flopsPerToken: fpt, evalTokens: layers === 2 ? 32768 : 65536 });
          samples.push({ work: w, seconds: predictRunSeconds(w, COEF), group: `L${layers}` });
        }
      }
    }
    const fitted = fitTimeModel(samples);
    for (const k of TIME_TERMS) expect(fitted[k] / COEF[k], k).toBeCloseTo(1, 6);
    const held = heldOutPredictions(samples);
    expect(held).toHaveLength(samples.length);
    for (const h of held) expect(h.predicted / h.sample.seconds).toBeCloseTo(1, 6);
  });

  it('reports relative errors: median and max of |error|, and the error of the total', () => {
    const e = predictionError([
      { predicted: 110, measured: 100 },
      { predicted: 45, measured: 50 },
      { predicted: 300, measured: 200 },
    ]);
    expect(e.n).toBe(3);
    expect(e.medianAbs).toBeCloseTo(0.1, 12);
    expect(e.maxAbs).toBeCloseTo(0.5, 12);
    expect(e.total).toBeCloseTo(455 / 350 - 1, 12);
    expect(predictionError([{ predicted: 1, measured: 2 }, { predicted: 3, measured: 2 }]).medianAbs).toBeCloseTo(0.5, 12);
  });

  it('takes runs in order on the first free worker (makespan)', () => {
    // Worker A: 5, then 2 → 7; worker B: 3, then 3 → 6.
    expect(makespan([5, 3, 3, 2], 2)).toBe(7);
    expect(makespan([5, 3, 3, 2], 1)).toBe(13);
    expect(makespan([5, 3], 8)).toBe(5);
    expect(makespan([], 2)).toBe(0);
    // A long run last leaves the other worker idle: the sum over workers would say 6.
    expect(makespan([1, 1, 10], 2)).toBe(11);
    expect(() => makespan([1], 0)).toThrow(RangeError);
  });
});

describe('the hunyuan-small estimate', () => {
  it('reads each run\'s steps, layers, batch, FLOPs and final evaluation from its plan entry (golden values)', async () => {
    const FILE = 'experiments/hunyuan-small.ts';
    const study = await loadStudyFile(FILE);
    const tm = study.presets.quick.timeModel!;
    const runs = studyStages(study, 'quick', FILE).flatMap((s) => s.runs);
    const scan = runs.find((r) => r.runId === 'hunyuan-small-quick-scan-1.56k-C1e10-lr5e-3-bs8-s0')!;
    expect(runWorkOf(scan.config, scan.derived)).toEqual({ steps: 1812, layers: 1, tokensPerStep: 512, computeFlops: 9997369344, flopsPerToken: 10776, evalTokens: 1024 * 64 });
    const grid = runs.find((r) => r.runId === 'hunyuan-small-quick-lr-9.79k-D819k-lr1.6e-2-bs32-s0')!;
    expect(runWorkOf(grid.config, grid.derived)).toEqual({ steps: 400, layers: 1, tokensPerStep: 2048, computeFlops: 52926873600, flopsPerToken: 64608, evalTokens: 512 * 64 });
    // With the preset's coefficients { step 0.00257, layerStep 0.00228, layerToken 4.13e-6, flop 4.61e-11, evalFlop 2.54e-10 }.
    expect(tm.coefficients).toEqual({ step: 0.00257, layerStep: 0.00228, layerToken: 0.00000413, flop: 4.61e-11, evalFlop: 2.54e-10 });
    expect(runSeconds(scan, tm)).toBeCloseTo(13.14045, 4);
    expect(runSeconds(grid, tm)).toBeCloseTo(7.94247, 4);
    // Two workers: the scan run on one, both grid runs on the other (7.94 s < 13.14 s free first).
    expect(estimateSeconds([scan, grid, grid], { ...tm, workers: 2 })).toBeCloseTo(2 * 7.94247, 4);
    expect(estimateSeconds([scan, grid, grid], { ...tm, workers: 1 })).toBeCloseTo(13.14045 + 2 * 7.94247, 3);
  });
});
