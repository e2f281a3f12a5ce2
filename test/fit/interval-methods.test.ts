// The interval methods of the parametric and surge fits: the decreasing fit the
// steps-to-target method reads S from (golden values, and the first-passage bias it removes on
// curves with a known crossing), the surge bootstrap's strata, and the parametric residual
// bootstrap (it keeps the design: on exact data its intervals collapse to the point).
import { describe, expect, it } from 'vitest';
import { surgeCurve } from '../../src/analysis/simulate.ts';
import { fitForm, leverages } from '../../src/fit/fit-form.ts';
import { chinchillaForm } from '../../src/fit/forms.ts';
import { chinchillaLoss, CHINCHILLA_COARSE_GRID, CHINCHILLA_PAPER_ROUNDED, fitParametric } from '../../src/fit/parametric.ts';
import { decreasingFit, descent, smoothLossCurve, stepsToTarget } from '../../src/fit/surge-steps.ts';
import { surgeStrata } from '../../src/fit/surge.ts';
import { createRng } from '../../src/util/rng.ts';

describe('decreasingFit (pool-adjacent-violators)', () => {
  it('returns a strictly falling curve unchanged', () => {
    const c = [
      { step: 1, loss: 3 },
      { step: 2, loss: 2.5 },
      { step: 4, loss: 1 },
    ];
    expect(decreasingFit(c)).toEqual(c);
  });

  it('pools each rise into one block at its mean loss and mean step (hand-computed)', () => {
    // 2, 2.5 rise → (2.25 at 2.5); then 2.4 > 2.25 → pooled with it: (2 + 2.5 + 2.4)/3 = 2.3 at 3.
    const fit = decreasingFit([
      { step: 1, loss: 3 },
      { step: 2, loss: 2 },
      { step: 3, loss: 2.5 },
      { step: 4, loss: 2.4 },
      { step: 5, loss: 1 },
    ]);
    expect(fit.map((r) => r.step)).toEqual([1, 3, 5]);
    expect(fit.map((r) => r.loss)).toEqual([3, expect.closeTo(2.3, 12), 1]);
    // A rising curve is one block; ties are pooled too (the fit falls strictly).
    expect(decreasingFit([{ step: 0, loss: 1 }, { step: 2, loss: 2 }, { step: 4, loss: 3 }])).toEqual([{ step: 2, loss: 2 }]);
    expect(decreasingFit([{ step: 0, loss: 2 }, { step: 2, loss: 2 }])).toEqual([{ step: 1, loss: 2 }]);
  });

  it('descent starts at the peak: a warmup rise before it is left out', () => {
    expect(descent([{ step: 0, loss: 2 }, { step: 1, loss: 3 }, { step: 2, loss: 2.5 }])).toEqual([{ step: 1, loss: 3 }, { step: 2, loss: 2.5 }]);
  });

  it('removes the first-passage bias of a noisy curve with a known crossing', () => {
    // A 128-token batch logged every 5 steps (the quick study's smallest batch): the curve crosses
    // 2.36 at S = 1200 steps, each row with the batch noise of 640 tokens (0.06 nats).
    const S = 1200;
    const first: number[] = [];
    const fitted: number[] = [];
    const rng = createRng(7);
    for (let i = 0; i < 200; i++) {
      const rows = surgeCurve({ target: 2.36, stepsToTarget: S, totalSteps: 2400, logEvery: 5, noiseSd: 0.06 }, rng).map((r) => ({ step: r.step, tokens: r.step * 128, loss: r.loss }));
      fitted.push(stepsToTarget(rows, 2.36) as number);
      // The old rule: the first crossing of the smoothed curve itself.
      const sm = smoothLossCurve(rows);
      const j = sm.findIndex((r) => r.loss <= 2.36);
      first.push(sm[j - 1].step + ((sm[j - 1].loss - 2.36) / (sm[j - 1].loss - sm[j].loss)) * (sm[j].step - sm[j - 1].step));
    }
    const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
    // The logged row averages the 5 steps before it: the curve sits ≈ 2.5 steps early, no more.
    expect(Math.abs(median(fitted) / S - 1)).toBeLessThan(0.03);
    expect(median(first) / S).toBeLessThan(0.93);
  });
});

describe('surgeStrata', () => {
  const rows = [
    { batchTokens: 128, lr: 1 },
    { batchTokens: 128, lr: 2 },
    { batchTokens: 512, lr: 1 },
    { batchTokens: 128, lr: 1 },
  ];
  it("'runs' (and 'residuals', whose residuals stay in their batch) stratifies by batch, 'seeds' by (batch, LR) cell", () => {
    expect([...surgeStrata(rows, 'runs')]).toEqual([0, 0, 1, 0]);
    expect([...surgeStrata(rows, 'residuals')]).toEqual([0, 0, 1, 0]);
    expect([...surgeStrata(rows, 'seeds')]).toEqual([0, 1, 2, 0]);
  });
});

describe("parametric interval 'residuals'", () => {
  const p = CHINCHILLA_PAPER_ROUNDED;
  const design: { N: number; D: number }[] = [];
  for (const C of [1e18, 1e19, 1e20]) for (const N of [2e7, 5e7, 1e8, 3e8, 1e9]) design.push({ N, D: C / (6 * N) });

  it('leverages: the hat matrix diagonal sums to the 5 parameters; repeating every run halves each', () => {
    const fitOf = (rows: { N: number; D: number }[]) =>
      fitForm(chinchillaForm, [Float64Array.from(rows, (d) => d.N), Float64Array.from(rows, (d) => d.D)], rows.map((d) => chinchillaLoss(p, d.N, d.D)), { starts: CHINCHILLA_COARSE_GRID });
    const h = leverages(fitOf(design));
    expect(h.reduce((a, b) => a + b, 0)).toBeCloseTo(5, 9);
    for (const x of h) expect(x > 0 && x < 1).toBe(true);
    // Two copies of each run: the same fit, each copy carries half the leverage.
    const h2 = leverages(fitOf([...design, ...design]));
    for (let i = 0; i < design.length; i++) expect(h2[i]).toBeCloseTo(h[i] / 2, 6);
  });

  it('keeps the design: on exact data every resample is the data, so the interval is the point', () => {
    const fit = fitParametric(design.map((d) => ({ ...d, loss: chinchillaLoss(p, d.N, d.D) })), { grid: 'coarse', holdout: 'none', bootstrap: 20, interval: 'residuals' });
    for (const q of ['E', 'alpha', 'beta'] as const) {
      const [lo, hi] = fit.params[q].ci95 as [number, number];
      expect(hi - lo).toBeLessThan(1e-6 * fit.params[q].value);
      expect(Math.abs(fit.params[q].value / p[q] - 1)).toBeLessThan(1e-4);
    }
    expect(fit.options.interval).toBe('residuals');
    expect(fit.bootstrap?.scheme).toMatch(/^design kept; log residuals/);
  });

  it('gives intervals around the estimate on noisy data, and is the default', () => {
    const rng = createRng(3);
    const pts = design.flatMap((d) => [0, 1].map(() => ({ ...d, loss: chinchillaLoss(p, d.N, d.D) + 0.02 * rng.normal() })));
    const resid = fitParametric(pts, { grid: 'coarse', holdout: 'none', bootstrap: 100 });
    const rows = fitParametric(pts, { grid: 'coarse', holdout: 'none', bootstrap: 100, interval: 'rows' });
    expect(resid.options.interval).toBe('residuals');
    expect(rows.bootstrap?.scheme).toMatch(/^rows with replacement/);
    for (const f of [resid, rows]) {
      const [lo, hi] = f.params.alpha.ci95 as [number, number];
      expect(lo).toBeLessThan(f.params.alpha.value);
      expect(hi).toBeGreaterThan(f.params.alpha.value);
      expect(hi - lo).toBeGreaterThan(0.005);
      expect(f.bootstrap?.succeeded).toBe(100);
    }
  });
});
