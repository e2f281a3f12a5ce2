// The isoFLOP bootstrap at the seed level: the noise floor it redraws losses from is measured from
// seeds when cells have several (recovering the simulated seed SD), the cell-then-seed resampling
// counts its failures by reason, and an unreliable bootstrap is marked in the record and the CLI table.
import { describe, expect, it } from 'vitest';
import { CHINCHILLA_SURFACE, simulateIsoflopSweep } from '../../src/analysis/simulate.ts';
import { fitIsoflop, formatFit } from '../../src/fit/index.ts';
import { createRng } from '../../src/util/rng.ts';

const surface = { ...CHINCHILLA_SURFACE, A: CHINCHILLA_SURFACE.A * 0.2, B: CHINCHILLA_SURFACE.B * 0.2 };
const design = {
  surface,
  budgets: [1e10, 3e10, 1e11, 3e11],
  sizes: [1556, 3240, 5480, 9792, 17368, 28184, 50880, 104008].map((n) => n * 6),
  tokensPerParam: { min: 0.05, max: 30 },
};
const points = (seeds: number[], seedSd: number, rngSeed: number) =>
  simulateIsoflopSweep({ ...design, seeds, noise: { seedSd, evalSd: 0.004 } }, createRng(rngSeed)).map((r) => ({
    budget: r.C,
    N: r.N,
    D: r.D,
    loss: r.loss,
    seed: r.seed,
    lossStderr: r.lossStderr,
  }));

describe('isoFLOP bootstrap: seeds and failures', () => {
  it("redraws losses from the pooled seed SD when cells have several seeds (recovers the simulated 0.03 nats)", () => {
    const fit = fitIsoflop(points([0, 1, 2], 0.03, 4), { bootstrap: 200, seed: 1, holdout: 'none' });
    const sd = Number(/σ = ([\d.]+) nats, the pooled SD between seeds/.exec(fit.bootstrap?.scheme ?? '')?.[1]);
    // √(0.03² + 0.004²) = 0.0303; ~40 df → SE of the SD ≈ 0.0034.
    expect(sd).toBeGreaterThan(0.023);
    expect(sd).toBeLessThan(0.038);
    expect(fit.bootstrap?.reliable).toBe(true);
    expect(fit.options.interval).toBe('noise');
  });

  it('with one seed per cell: the given noise and the runs\' eval stderr, else the parabolas\' residual SD', () => {
    const pts = points([0], 0.024, 5);
    expect(fitIsoflop(pts, { bootstrap: 50, seed: 1, holdout: 'none', noise: 0.024 }).bootstrap?.scheme).toMatch(/noise 0\.024 nats \(given\), each run's recorded eval stderr/);
    expect(fitIsoflop(pts, { bootstrap: 50, seed: 1, holdout: 'none' }).bootstrap?.scheme).toMatch(/pooled residual SD of the windowed parabolas/);
  });

  it("'cells' resamples sizes within budgets then seeds; resamples that lose a minimum are counted by reason and the intervals marked unreliable", () => {
    const fit = fitIsoflop(points([0], 0.024, 6), { bootstrap: 200, seed: 2, holdout: 'none', interval: 'cells', targetFlops: [3e11] });
    const b = fit.bootstrap!;
    expect(b.scheme).toMatch(/cells \(model sizes\) with replacement within each budget, then seeds within each drawn cell/);
    expect(b.samples).toBe(200);
    expect(b.successFraction).toBeCloseTo(b.succeeded / 200, 12);
    expect(b.successFraction).toBeLessThan(0.95);
    expect(b.reliable).toBe(false);
    expect(b.failures.reduce((s, f) => s + f.count, 0)).toBe(200 - b.succeeded);
    for (const f of b.failures) expect(f.reason).toMatch(/^budget \S+ (lost its interior minimum|kept \d sizes? \(a parabola needs 3\))$/);
    expect(fit.params.a.unreliable).toMatch(/^\d+% of resamples fitted; failed: \d+ budget/);
    expect(fit.budgets[0].N_opt.unreliable).toBe(fit.params.a.unreliable);
    const text = formatFit(fit, 'sim');
    expect(text).toMatch(/\na\s+\S+\s+\[\S+, \S+\] unreliable/);
    expect(text).toMatch(/INTERVALS UNRELIABLE \(conditional on the fitted resamples\): \d+% of resamples fitted; failed: \d+ budget/);
  });

  it('a reliable bootstrap leaves no mark', () => {
    const fit = fitIsoflop(points([0, 1], 0.02, 7), { bootstrap: 100, seed: 3, holdout: 'none' });
    expect(fit.bootstrap?.successFraction).toBeGreaterThanOrEqual(0.95);
    expect(fit.params.a.unreliable).toBeUndefined();
    expect(formatFit(fit, 'sim')).not.toMatch(/unreliable/i);
  });
});

describe('unreliable intervals in the report and the paper comparison', () => {
  it("the parameter table's interval column, the bootstrap table and the comparison's ci95 say unreliable, with the reason", async () => {
    const { fitParamsTable, bootstrapTable } = await import('../../src/report/fit-sections.ts');
    const { paperComparison } = await import('../../src/study/compare.ts');
    const bad = fitIsoflop(points([0], 0.024, 6), { bootstrap: 100, seed: 2, holdout: 'none', interval: 'cells' });
    const good = fitIsoflop(points([0, 1], 0.02, 7), { bootstrap: 100, seed: 3, holdout: 'none' });
    type Loaded = Parameters<typeof fitParamsTable>[0][number];
    const params = fitParamsTable([bad as unknown as Loaded, good as unknown as Loaded]);
    const col = params.columns.indexOf('interval');
    const rowA = (i: number) => params.rows.filter((r) => r[1] === 'a')[i];
    expect(String(rowA(0)[col])).toMatch(/^unreliable: \d+% of resamples fitted; failed: \d+ budget/);
    expect(rowA(1)[col]).toBe('');
    const boot = bootstrapTable([bad as unknown as Loaded, good as unknown as Loaded]);
    expect(boot.rows.map((r) => String(r[4]).slice(0, 3))).toEqual(['NO:', 'yes']);
    expect(boot.rows[0][3]).toBeCloseTo(bad.bootstrap!.successFraction, 12);
    const cmp = paperComparison({
      isoflop: { nOptExponent: bad.params.a, dOptExponent: bad.params.b, tokensPerParam: good.params.a, tokensPerParamAt: 3e11 },
      scale: { minActivated: 1e4, maxActivated: 1e6, maxBudget: 3e11, corpus: 'sim' },
    });
    expect(cmp[0].ci95).toMatch(/^\[\S+, \S+\] unreliable: \d+% of resamples fitted/);
    expect(cmp[2].ci95).not.toMatch(/unreliable/);
  });
});

describe('sigmaScale', () => {
  it('draws σ*/σ̂ = √(df/χ²_df): E[(σ*/σ̂)²] = df/(df − 2)', async () => {
    const { sigmaScale } = await import('../../src/fit/isoflop.ts');
    const rng = createRng(11);
    for (const df of [8, 30]) {
      let m = 0;
      const n = 40000;
      for (let i = 0; i < n; i++) m += sigmaScale(df, rng) ** 2 / n;
      // SD of (σ*/σ̂)² is ≈ 0.77 at df 8 (≈ 0.29 at 30): the mean of 40,000 is within ±0.004 (±0.0015) per SD.
      expect(m).toBeGreaterThan(df / (df - 2) - 0.02);
      expect(m).toBeLessThan(df / (df - 2) + 0.02);
    }
  });
});
