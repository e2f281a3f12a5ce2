// Fit-based figures and the report's standard fits, on synthetic sweeps whose truth is known
// (test/report/synthetic-sweep.ts): the fits recover it, the figures draw what the records say,
// reference lines match docs/references.md#power-laws's check values, and refusals become warnings.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IsoflopFit } from '../../src/fit/isoflop.ts';
import { fitIsoflop } from '../../src/fit/isoflop.ts';
import type { ParametricFit } from '../../src/fit/parametric.ts';
import type { ScheduleFit } from '../../src/fit/schedule-laws.ts';
import type { SurgeFit } from '../../src/fit/surge.ts';
import { planFits, runFits, type AnalysisOptions } from '../../src/analysis/index.ts';
import { reportSweep as buildReport } from '../../src/cli/report.ts';
import { buildFitSections, heldOutSchedule, isoflopPoints, scheduleRuns, type LoadedFit } from '../../src/report/fit-sections.ts';
import { tracePointCount } from '../../src/report/figure.ts';
import { isoflopFigure, parabolaLoss } from '../../src/report/figures/isoflop.ts';
import { lrBatchFigure, lrBatchStepsFigure } from '../../src/report/figures/lr-batch.ts';
import { parametricFigure } from '../../src/report/figures/parametric.ts';
import { powerLawFigure, referenceLaws } from '../../src/report/figures/power-laws.ts';
import type { SweepRecords } from '../../src/report/records.ts';

/** The standard analysis of a loaded sweep (what `moelab report` runs for the kinds fits/ lacks). */
const standardFits = (records: SweepRecords, options: AnalysisOptions) => runFits(records, planFits(records, options));
import { loadSweep } from '../../src/io/load.ts';
import { degenerateReason } from '../../src/report/figures/shared.ts';
import { SYNTH_BUDGETS, SYNTH_LAW, SYNTH_STEPS, SYNTH_STEPS_LRS, SYNTH_SURGE, synthNOpt, writeSyntheticSweep, type SyntheticSweepInfo } from './synthetic-sweep.ts';

describe('reference laws (docs/references.md#power-laws, Chinchilla 20 tokens/param)', () => {
  it('the paper’s N_opt and D_opt laws give the §2.4 check values', () => {
    const [chinN, paperN] = referenceLaws('N_opt');
    const [chinD, paperD] = referenceLaws('D_opt');
    expect(paperN.at(1e18)).toBeCloseTo(2.09e7, -5);
    expect(paperN.at(3.12e24) / 5.82e10).toBeCloseTo(1, 2);
    expect(paperD.at(1e20)).toBeCloseTo(3.2e10, -8);
    expect(paperN.name).toMatch(/UNCONFIRMED/);
    expect(paperD.name).toMatch(/UNCONFIRMED/);
    // 20 tokens per parameter under C = 6ND: C = 6·N·20N.
    const c = 5.76e23;
    expect(chinD.at(c) / chinN.at(c)).toBeCloseTo(20, 10);
    expect(6 * chinN.at(c) * chinD.at(c)).toBeCloseTo(c, -12);
    expect(referenceLaws('L_min')).toEqual([]);
  });
});

describe('standard fits on a synthetic sweep', () => {
  let root: string;
  let info: SyntheticSweepInfo;
  let records: SweepRecords;
  let fits: LoadedFit[];
  let computed: string[];
  let warnings: string[];
  const target = 1e16;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'moelab-fits-'));
    info = writeSyntheticSweep(join(root, 's'));
    records = loadSweep(info.dir);
    ({ fits, computed, warnings } = await standardFits(records, { targetFlops: target, bootstrap: { compute: 200, isoflop: 200, surge: 200, parametric: 40 } }));
  }, 120_000);
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('runs every standard fit the sweep supports, without warnings', () => {
    expect(computed).toEqual(['compute', 'isoflop', 'parametric', 'surge', 'schedule']);
    expect(warnings).toEqual([]);
  });

  it('isoFLOP recovers the compute-optimal exponent and optimum of the true law', () => {
    const iso = fits.find((f) => f.kind === 'isoflop') as unknown as IsoflopFit;
    const { alpha, beta } = SYNTH_LAW;
    const a = iso.powerLaws.N_opt.exponent;
    expect(a.value).toBeCloseTo(beta / (alpha + beta), 1);
    expect(a.ci95![0]).toBeLessThan(0.5);
    expect(a.ci95![1]).toBeGreaterThan(0.5);
    iso.budgets.forEach((b, i) => {
      expect(b.budget).toBe(SYNTH_BUDGETS[i]);
      // Within 25% of the closed-form optimum (noise of 0.2% on the losses, 5 sizes a factor 2 apart).
      expect(Math.abs(Math.log(b.N_opt.value / synthNOpt(b.budget)))).toBeLessThan(Math.log(1.25));
    });
  });

  it('parametric fit recovers the exponents, and the surge fit ε_max and B_noise', () => {
    const p = fits.find((f) => f.kind === 'parametric') as unknown as ParametricFit;
    expect(p.params.alpha.value).toBeGreaterThan(SYNTH_LAW.alpha - 0.08);
    expect(p.params.alpha.value).toBeLessThan(SYNTH_LAW.alpha + 0.08);
    expect(p.params.beta.value).toBeGreaterThan(SYNTH_LAW.beta - 0.08);
    expect(p.params.beta.value).toBeLessThan(SYNTH_LAW.beta + 0.08);
    const s = fits.find((f) => f.kind === 'surge') as unknown as SurgeFit;
    expect(s.params.epsMax.value / SYNTH_SURGE.epsMax).toBeCloseTo(1, 0);
    expect(Math.abs(Math.log(s.params.Bnoise.value / SYNTH_SURGE.bNoise))).toBeLessThan(Math.log(1.35));
    // Expert LR ratio sqrt(n)(1+u)/(n+u) with n = 4 (4 experts, top-1), at the fitted B_noise.
    const q = s.options.expertLr as { batchTokens: number; numExperts: number };
    const u = q.batchTokens / s.params.Bnoise.value;
    expect(q.numExperts).toBe(4);
    expect(s.derived.expertLrRatio.value).toBeCloseTo((2 * (1 + u)) / (4 + u), 10);
  });

  it('the schedule law predicts the held-out paper schedule to within 2%', () => {
    expect(heldOutSchedule(scheduleRuns(records))).toBe('hunyuan');
    const s = fits.find((f) => f.kind === 'schedule') as unknown as ScheduleFit;
    const predicted = s.curves.filter((c) => c.role === 'predict');
    expect(predicted.map((c) => c.name)).toEqual(['synth-sched-hunyuan']);
    expect(predicted[0].meanAbsRelError).toBeLessThan(0.02);
  });

  it('builds the isoFLOP, power-law, parametric, LR × batch and schedule figures from the records', () => {
    const w: string[] = [];
    const sections = buildFitSections(records, fits, w, target);
    expect(w).toEqual([]);
    const ids = sections.sections.flatMap((s) => s.figures.map((f) => f.id));
    expect(ids).toEqual(['isoflop', 'scaling-n-opt', 'scaling-d-opt', 'scaling-l-min', 'parametric', 'lr-batch', 'schedule-loss']);
    const labels = sections.headline.map((h) => h.label);
    expect(labels).toContain('N_opt ∝ C^a');
    expect(labels).toContain(`extrapolated to C = 1e16`);
    expect(labels).toContain('expert LR ratio');
    const params = sections.tables.find((t) => t.id === 'fit-params')!;
    // Per-budget predictions appear only at the extrapolation target.
    const at = params.rows.map((r) => String(r[1])).filter((n) => n.includes('@'));
    expect(at.length).toBeGreaterThan(0);
    expect(at.every((n) => n.endsWith('@1.00e16'))).toBe(true);
    expect(sections.tables.find((t) => t.id === 'held-out')!.rows.length).toBeGreaterThanOrEqual(4);
  });

  it('isoFLOP figure: points, parabola and minimum per budget, the minimum on the parabola', () => {
    const iso = fits.find((f) => f.kind === 'isoflop') as unknown as IsoflopFit;
    const fig = isoflopFigure(iso);
    expect(fig.data).toHaveLength(3 * iso.budgets.length);
    // Readable N axis: horizontal labels at 1, 2, 5 per decade (rotated, crowded labels before).
    expect((fig.layout as { xaxis: Record<string, unknown> }).xaxis).toMatchObject({ type: 'log', tickangle: 0, dtick: 'D2' });
    iso.budgets.forEach((b, i) => {
      expect(tracePointCount(fig.data[3 * i])).toBe(b.points.length);
      const star = fig.data[3 * i + 2] as { x: number[]; y: number[]; error_x?: { array: number[] } };
      expect(star.x[0]).toBe(b.N_opt.value);
      expect(parabolaLoss(b.parabola, star.x[0])).toBeCloseTo(star.y[0], 10);
      expect(star.error_x).toBeDefined();
    });
  });

  it('power-law figure: per-budget points, band from the bootstrap, extrapolation to the target, references', () => {
    const iso = fits.find((f) => f.kind === 'isoflop') as unknown as IsoflopFit;
    const fig = powerLawFigure(iso, 'N_opt', target);
    const names = fig.data.map((t) => t.name ?? '');
    expect(names).toContain('bootstrap 95% band');
    expect(names).toContain('extrapolation');
    expect(names.some((n) => n.startsWith('target C = 1e16'))).toBe(true);
    expect(names.some((n) => n.startsWith('Chinchilla 20 tokens/param'))).toBe(true);
    expect(names.some((n) => /^paper: .*UNCONFIRMED/.test(n))).toBe(true);
    const pts = fig.data.find((t) => t.name === 'per-budget optimum (isoFLOP parabola)') as { x: number[]; y: number[] };
    expect(pts.x).toEqual(SYNTH_BUDGETS);
    const tgt = fig.data.find((t) => (t.name ?? '').startsWith('target')) as { x: number[]; y: number[] };
    const law = iso.powerLaws.N_opt;
    expect(tgt.y[0] / (law.k.value * target ** law.exponent.value)).toBeCloseTo(1, 8);
    // The extrapolated optimum stays close to the true law's (within its band).
    const band = fig.data.find((t) => t.name === 'bootstrap 95% band') as { x: number[]; y: number[] };
    expect(band.x.length).toBeGreaterThanOrEqual(20);
    expect(powerLawFigure(iso, 'L_min', target).data.some((t) => (t.name ?? '').startsWith('paper'))).toBe(false);
  });

  it('power-law figure: a degenerate fit (collapsed interval) is drawn as failed, with no headline law, extrapolation or target', () => {
    const iso = fits.find((f) => f.kind === 'isoflop') as unknown as IsoflopFit;
    const e = iso.powerLaws.N_opt.exponent.value;
    const pinned = { ...iso, powerLaws: { ...iso.powerLaws, N_opt: { ...iso.powerLaws.N_opt, exponent: { value: e, ci95: [e, e] as [number, number] } } } };
    const names = powerLawFigure(pinned, 'N_opt', target).data.map((t) => t.name ?? '');
    expect(names.filter((n) => n.startsWith('fit FAILED (degenerate: its 95% interval collapsed to a point'))).toHaveLength(1);
    expect(names.some((n) => n.startsWith('fit: '))).toBe(false);
    expect(names).not.toContain('extrapolation');
    expect(names.some((n) => n.startsWith('target'))).toBe(false);
    expect(names).toContain('per-budget optimum (isoFLOP parabola)');
    expect(degenerateReason({ value: 6.27, ci95: [6.27, 6.27] })).toMatch(/collapsed to a point \(6\.27\)/);
    expect(degenerateReason({ value: 0.5, ci95: [0.45, 0.55] })).toBeUndefined();
    expect(degenerateReason({ value: 0.5, ci95: null })).toBeUndefined();
    expect(degenerateReason({ value: NaN, ci95: null })).toBe('the estimate is NaN');
    expect(degenerateReason({ value: -2718, ci95: [1, 2] })).toMatch(/lies outside its 95% interval/);
  });

  it('parametric figure: a 70×70 contour, the frontier through the target optimum, one marker per run', () => {
    const p = fits.find((f) => f.kind === 'parametric') as unknown as ParametricFit;
    const pts = isoflopPoints(records.runs).map((x) => ({ ...x, N: x.N, D: x.D! }));
    const fig = parametricFigure(p, pts, target);
    expect(fig.data[0].type).toBe('contour');
    expect(tracePointCount(fig.data[0])).toBe(70 * 70);
    const runs = fig.data.find((t) => t.name === 'runs')!;
    expect(tracePointCount(runs)).toBe(pts.length);
    expect(fig.data.filter((t) => t.name === 'iso-compute lines of the budgets')).toHaveLength(SYNTH_BUDGETS.length);
  });

  it('LR × batch figure: a loss heatmap over the grid, diverged runs crossed, best LR per batch and the curve', () => {
    const s = fits.find((f) => f.kind === 'surge') as unknown as SurgeFit;
    const cells = records.runs
      .filter((r) => info.lrBatchRunIds.includes(r.runId))
      .map((r) => ({ batchTokens: r.config.derived.tokensPerStep, lr: r.config.config.train.lr, loss: r.summary?.status === 'done' ? r.summary.finalValLoss : undefined, diverged: r.summary?.status === 'diverged', label: r.runId }));
    const fig = lrBatchFigure(cells, s);
    const heat = fig.data[0] as { z: (number | null)[][] };
    expect(heat.z).toHaveLength(6); // learning rates
    expect(heat.z[0]).toHaveLength(5); // batch sizes
    expect(heat.z.flat().filter((v) => v === null)).toHaveLength(info.divergedRunIds.length);
    expect(tracePointCount(fig.data.find((t) => t.name === 'diverged')!)).toBe(info.divergedRunIds.length);
    expect(tracePointCount(fig.data.find((t) => (t.name ?? '').startsWith('best LR per batch'))!)).toBe(5);
    expect((fig.layout.shapes ?? []).some((sh) => sh.x0 === s.params.Bnoise.value)).toBe(true);
    expect(fig.data.some((t) => (t.name ?? '').startsWith('expert LR'))).toBe(true);
  });
});

describe('steps-to-target surge on a constant-LR grid', () => {
  let root: string;
  let info: SyntheticSweepInfo;
  let records: SweepRecords;
  let fits: LoadedFit[];
  let computed: string[];
  let warnings: string[];

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'moelab-steps-'));
    info = writeSyntheticSweep(join(root, 's'), { studies: ['lr-batch-steps'], name: 'steps' });
    records = loadSweep(info.dir);
    ({ fits, computed, warnings } = await standardFits(records, { bootstrap: 100, targetLoss: SYNTH_STEPS.target }));
  }, 120_000);
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('picks steps-to-target for constant-LR runs and recovers B_noise and ε_max', () => {
    expect(computed).toEqual(['surge']);
    expect(warnings).toEqual([]);
    const s = fits.find((f) => f.kind === 'surge') as unknown as SurgeFit;
    expect(s.method).toBe('steps-to-target');
    expect(s.targetLoss).toBe(SYNTH_STEPS.target);
    // 1% noise on each logged loss, ~60 rows per run: within 25% (B_noise) and 15% (ε_max).
    expect(Math.abs(Math.log(s.params.Bnoise.value / SYNTH_STEPS.bNoise))).toBeLessThan(Math.log(1.25));
    expect(Math.abs(Math.log(s.params.epsMax.value / SYNTH_STEPS.epsMax))).toBeLessThan(Math.log(1.15));
    expect(s.perBatch.map((b) => b.batchTokens)).toEqual([128, 512, 2048, 8192]);
    // The study code reads these.
    expect(s.derived.expertLrRatio.value).toBeGreaterThan(0);
    expect(s.derived.u.value).toBeCloseTo((s.options.expertLr as { batchTokens: number }).batchTokens / s.params.Bnoise.value, 12);
  });

  it('adds the steps figure: runs per LR, S_min(B) with intervals, the S(B) fit and B_noise', () => {
    const s = fits.find((f) => f.kind === 'surge') as unknown as SurgeFit;
    const w: string[] = [];
    const sections = buildFitSections(records, fits, w, undefined);
    expect(w).toEqual([]);
    const section = sections.sections.find((x) => x.id === 'lr-batch')!;
    expect(section.figures.map((f) => f.id)).toEqual(['lr-batch', 'lr-batch-steps']);
    expect(section.notes!.join(' ')).toMatch(new RegExp(`steps to train loss ${SYNTH_STEPS.target}.*S_min = `));
    expect(sections.headline.find((h) => h.label === 'surge fit')!.value).toMatch(/\(steps to train loss 2\.6\)$/);
    const grid = section.figures[0];
    expect(grid.caption).toMatch(/Method steps-to-target \(target train loss 2\.6\)/);
    expect(grid.data.some((t) => (t.name ?? '').startsWith('free surge fit of the best LRs'))).toBe(true);

    const fig = lrBatchStepsFigure(s);
    const reached = s.perBatch.flatMap((b) => b.points.filter((p) => p.steps !== undefined));
    const perLr = fig.data.filter((t) => (t.name ?? '').startsWith('lr '));
    expect(perLr).toHaveLength(new Set(reached.map((p) => p.lr)).size);
    expect(perLr.reduce((n, t) => n + tracePointCount(t), 0)).toBe(reached.length);
    expect(new Set(reached.map((p) => p.lr)).size).toBeLessThanOrEqual(SYNTH_STEPS_LRS.length);
    const best = fig.data.find((t) => (t.name ?? '').startsWith('S_min(B)')) as { x: number[]; y: number[]; error_y?: unknown };
    expect(best.x).toEqual([128, 512, 2048, 8192]);
    expect(best.y).toEqual(s.perBatch.map((b) => b.stepsMin!.value));
    expect(best.error_y).toBeDefined();
    const line = fig.data.find((t) => (t.name ?? '').startsWith('fit S_min·(1 + B_noise/B)')) as { x: number[]; y: number[] };
    expect(line.y[10] / (s.params.Smin.value * (1 + s.params.Bnoise.value / line.x[10]))).toBeCloseTo(1, 10);
    expect((fig.layout.shapes ?? []).some((sh) => sh.x0 === s.params.Bnoise.value)).toBe(true);
    expect(fig.title).toBe('Steps to train loss 2.6 against batch size');
  });

  it('the report writes both figures and their data', async () => {
    const res = await buildReport(info.dir, { bootstrap: 20, targetLoss: SYNTH_STEPS.target });
    expect(res.figureIds).toContain('lr-batch');
    expect(res.figureIds).toContain('lr-batch-steps');
    const spec = JSON.parse(readFileSync(join(info.dir, 'report', 'figures', 'lr-batch-steps.json'), 'utf8')) as { data: { name: string }[] };
    expect(spec.data.some((t) => t.name.startsWith('fit S_min·(1 + B_noise/B)'))).toBe(true);
  }, 120_000);
});

describe('fit records from fits/ and refusals', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'moelab-fitrec-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('uses a record in fits/ instead of refitting, and names it in the tables', async () => {
    const info = writeSyntheticSweep(join(root, 'iso'), { studies: ['isoflop'], name: 'iso' });
    const rec = fitIsoflop(isoflopPoints(loadSweep(info.dir).runs), { targetFlops: [1e15] });
    mkdirSync(join(info.dir, 'fits'));
    writeFileSync(join(info.dir, 'fits', 'isoflop-mine.json'), JSON.stringify({ ...rec, schema: 'moelab.fit/1', source: info.dir }));
    const res = await buildReport(info.dir, { bootstrap: 20, targetFlops: 1e15 });
    expect(res.fitsComputed).not.toContain('isoflop');
    expect(res.fitsComputed).toContain('parametric');
    expect(res.figureIds).toContain('scaling-n-opt');
    const csv = readFileSync(join(info.dir, 'report', 'tables', 'fit-params.csv'), 'utf8');
    expect(csv).toContain('isoflop (fits/isoflop-mine.json)');
    // The fits the report ran are written to fits/ and named by their file.
    expect(csv).toContain('parametric (fits/parametric.json)');
    expect(existsSync(join(info.dir, 'fits', 'parametric.json'))).toBe(true);
    expect(existsSync(join(info.dir, 'report', 'fits'))).toBe(false);
    // A second report reuses every record; --refit recomputes them.
    expect((await buildReport(info.dir, { bootstrap: 20, targetFlops: 1e15 })).fitsComputed).toEqual([]);
    expect((await buildReport(info.dir, { bootstrap: 20, targetFlops: 1e15, refit: true })).fitsComputed).toContain('isoflop');
  }, 120_000);

  it('a budget without an interior minimum is dropped by the fit by default: named in the notes and the record', async () => {
    const info = writeSyntheticSweep(join(root, 'edge'), { studies: ['isoflop'], name: 'edge' });
    // Drop the two largest sizes of the 1e13 budget: its remaining runs only fall with N.
    const runs = loadSweep(info.dir).runs.filter((r) => r.config.budgetFlops === 1e13);
    runs.sort((a, b) => a.config.derived.activatedParams - b.config.derived.activatedParams);
    for (const r of runs.slice(3)) rmSync(join(info.dir, 'runs', r.runId), { recursive: true });
    const res = await buildReport(info.dir, { bootstrap: 20 });
    expect(res.warnings.join('\n')).toMatch(/isoflop fit: isoFLOP budget 1\.00e13 FLOPs has no interior minimum: .*add larger models/);
    expect(res.figureIds).toContain('scaling-n-opt');
    const rec = JSON.parse(readFileSync(join(info.dir, 'fits', 'isoflop.json'), 'utf8')) as IsoflopFit;
    expect(rec.budgets.map((b) => b.budget)).not.toContain(1e13);
    expect(rec.data.dropped.map((d) => d.row).sort()).toEqual(runs.slice(0, 3).map((r) => r.runId).sort());
  }, 120_000);

  it('with edges: refuse, a budget without an interior minimum becomes a warning naming it, and the report still builds', async () => {
    const info = writeSyntheticSweep(join(root, 'bad'), { studies: ['isoflop'], name: 'bad' });
    // Drop the two largest sizes of the 1e13 budget: its remaining runs only fall with N.
    const runs = loadSweep(info.dir).runs.filter((r) => r.config.budgetFlops === 1e13);
    runs.sort((a, b) => a.config.derived.activatedParams - b.config.derived.activatedParams);
    for (const r of runs.slice(3)) rmSync(join(info.dir, 'runs', r.runId), { recursive: true });
    const res = await buildReport(info.dir, { bootstrap: 20, edges: 'refuse' });
    expect(res.warnings.join('\n')).toMatch(/isoflop fit skipped: isoFLOP budget 1\.00e13 FLOPs has no interior minimum.*add larger models/);
    // The profiles are still drawn (parabolas, minima where they exist); the power laws are not.
    expect(res.figureIds).toContain('isoflop');
    expect(res.figureIds).not.toContain('scaling-n-opt');
    expect(res.figureIds).toContain('loss-vs-flops');
    const spec = JSON.parse(readFileSync(join(info.dir, 'report', 'figures', 'isoflop.json'), 'utf8')) as { data: { name: string; line?: { dash?: string } }[] };
    // 3 budgets: points + parabola each, and a minimum for the two budgets that have one.
    expect(spec.data).toHaveLength(3 + 3 + 2);
    expect(spec.data.filter((t) => t.line?.dash === 'dot')).toHaveLength(1);
  }, 120_000);
});
