// Run-based figure specs (pure functions of run records): envelope maths, trace and point counts,
// grouping and colours, on a synthetic sweep written from known laws.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, DataError } from '../../src/errors.ts';
import { formatNumber, orderedColor, tracePointCount, viridis, withAlpha } from '../../src/report/figure.ts';
import { expertUsageFigure, representativeMoeRun, usageImbalance } from '../../src/report/figures/expert-usage.ts';
import { lossVsFlopsFigure, lossVsTokensFigure, lowerEnvelope, runLossCurve } from '../../src/report/figures/loss-curves.ts';
import { distinctScheduleRuns, lrCurvesFigure } from '../../src/report/figures/lr-curves.ts';
import { LEGEND_RUN_LIMIT, mixWithWhite, runColors, runGroups } from '../../src/report/figures/shared.ts';
import { tokenFractionsFigure } from '../../src/report/figures/token-fractions.ts';
import { evalRows, type SweepRecords } from '../../src/report/records.ts';
import { loadSweep } from '../../src/io/load.ts';
import { SYNTH_BUDGETS, writeSyntheticSweep, type SyntheticSweepInfo } from './synthetic-sweep.ts';

describe('figure helpers', () => {
  it('formats numbers compactly', () => {
    expect(formatNumber(1e13)).toBe('1e13');
    expect(formatNumber(3.2e-4)).toBe('3.2e-4');
    expect(formatNumber(1024)).toBe('1024');
    expect(formatNumber(2.3456)).toBe('2.35');
    expect(formatNumber(123456)).toBe('1.23e5');
  });

  it('interpolates viridis between its end stops and orders groups dark to light', () => {
    expect(viridis(0)).toBe('rgb(68,1,84)');
    expect(viridis(1)).toBe('rgb(253,231,37)');
    expect(orderedColor(0, 3)).toBe(viridis(0));
    expect(orderedColor(2, 3)).toBe(viridis(0.85));
    expect(withAlpha('#ff0000', 0.2)).toBe('rgba(255,0,0,0.2)');
    expect(withAlpha('rgb(1,2,3)', 0.5)).toBe('rgba(1,2,3,0.5)');
  });

  it('gives each run of a group its own shade, sequential by size (largest = the group colour)', () => {
    expect(mixWithWhite('#000000', 0.5)).toBe('rgb(128,128,128)');
    expect(mixWithWhite('rgb(10,20,30)', 0)).toBe('rgb(10,20,30)');
    const run = (N: number, budget: number) => ({ runId: `${N}-${budget}`, config: { derived: { activatedParams: N } } }) as never;
    const runs = [run(1e3, 1), run(1e4, 1), run(1e5, 1), run(1e5, 1), run(1e4, 2)];
    const groups = [1, 1, 1, 1, 2].map((b) => ({ key: `budget:${b}`, label: '', color: b === 1 ? '#000000' : '#ff0000', order: b }));
    const colors = runColors(runs, groups, 0.6);
    // log-scale: 1e3 → lightest (0.6 towards white), 1e4 → half of that, 1e5 → the group colour.
    expect(colors).toEqual(['rgb(153,153,153)', 'rgb(76,76,76)', 'rgb(0,0,0)', 'rgb(0,0,0)', 'rgb(255,0,0)']);
  });
});

describe('lowerEnvelope', () => {
  it('takes the lower of two crossing power laws at every grid point', () => {
    // y1 = 10·x^-0.5 and y2 = 4·x^-0.3 cross at x = (10/4)^(1/0.2) ≈ 97.7.
    const xs = [1, 10, 100, 1000, 10000];
    const c1 = { x: xs, y: xs.map((x) => 10 * x ** -0.5) };
    const c2 = { x: xs, y: xs.map((x) => 4 * x ** -0.3) };
    const env = lowerEnvelope([c1, c2], 41);
    expect(env.x).toHaveLength(41);
    env.x.forEach((x, i) => {
      const expected = Math.min(10 * x ** -0.5, 4 * x ** -0.3);
      expect(env.y[i]).toBeCloseTo(expected, 9); // log–log interpolation is exact for power laws
    });
  });

  it('is the running minimum by default, the pointwise minimum on request', () => {
    // A curve that ends low, then a higher one continuing: pointwise the envelope jumps up.
    const curves = [
      { x: [1, 10], y: [3, 1] },
      { x: [1, 100], y: [4, 2] },
    ];
    const running = lowerEnvelope(curves, 3);
    const pointwise = lowerEnvelope(curves, 3, false);
    [3, 1, 1].forEach((v, i) => expect(running.y[i]).toBeCloseTo(v, 12));
    expect(pointwise.y[2]).toBeCloseTo(2, 12);
  });

  it('covers only where some curve has data, and ignores non-positive or non-finite points', () => {
    const env = lowerEnvelope(
      [
        { x: [1, 10], y: [2, 1] },
        { x: [100, 1000], y: [0.5, NaN] },
        { x: [100, 1000], y: [0.5, 0.4] },
      ],
      4,
    );
    // Grid 1, 10, 100, 1000: all four covered (10 by the first curve, 100 and 1000 by the third).
    expect(env.x.map((x) => Math.round(x))).toEqual([1, 10, 100, 1000]);
    expect(env.y[3]).toBeCloseTo(0.4, 12);
    expect(lowerEnvelope([{ x: [1], y: [1] }])).toEqual({ x: [], y: [] });
  });
});

describe('usageImbalance', () => {
  it('is 1 when balanced and E when one expert takes everything', () => {
    expect(usageImbalance([0.25, 0.25, 0.25, 0.25])).toBe(1);
    expect(usageImbalance([1, 0, 0, 0])).toBe(4);
    expect(usageImbalance([0.5, 0.5, 0, 0, 0, 0, 0, 0])).toBe(4);
  });
});

describe('run-based figures on a synthetic sweep', () => {
  let root: string;
  let info: SyntheticSweepInfo;
  let records: SweepRecords;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'moelab-figs-'));
    info = writeSyntheticSweep(join(root, 's'));
    records = loadSweep(info.dir);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('loads every run, its metrics and summary', () => {
    expect(records.runs.map((r) => r.runId).sort()).toEqual([...info.runIds].sort());
    expect(records.pendingRunIds).toEqual([]);
    for (const r of records.runs) {
      expect(r.summary).toBeDefined();
      expect(r.metrics.length).toBeGreaterThan(5);
    }
  });

  it('loss vs tokens: training and validation apart, one trace per run in each panel, log axes', () => {
    const fig = lossVsTokensFigure(records.runs);
    const train = fig.data.filter((t) => (t as { yaxis?: string }).yaxis === 'y');
    const val = fig.data.filter((t) => (t as { yaxis?: string }).yaxis === 'y2');
    expect(train).toHaveLength(records.runs.length);
    expect(val).toHaveLength(records.runs.length);
    expect(train.reduce((s, t) => s + tracePointCount(t), 0)).toBe(records.runs.reduce((s, r) => s + r.metrics.filter((m) => Number.isFinite(m.trainLoss)).length, 0));
    expect(val.reduce((s, t) => s + tracePointCount(t), 0)).toBe(records.runs.reduce((s, r) => s + evalRows(r).length, 0));
    // Each run has the same colour in both panels.
    type Line = { text: string[]; line: { color: string } };
    const runOf = (t: unknown) => (t as Line).text[0].split(' · ')[0];
    for (const t of train) expect((val.find((v) => runOf(v) === runOf(t)) as unknown as Line).line.color).toBe((t as unknown as Line).line.color);
    expect(fig.layout.xaxis?.type).toBe('log');
    expect(fig.layout.yaxis?.type).toBe('log');
    expect(fig.layout.xaxis2?.type).toBe('log');
    expect(fig.layout.yaxis2?.type).toBe('log');
  });

  it('loss vs FLOPs: the envelope lies on or below every isoFLOP run it covers', () => {
    const fig = lossVsFlopsFigure(records.runs);
    const env = fig.data.at(-1) as { name: string; x: number[]; y: number[] };
    expect(env.name).toMatch(/envelope/);
    const iso = records.runs.filter((r) => info.isoflopRunIds.includes(r.runId)).map((r) => runLossCurve(r, 'computeFlops'));
    // Each run's loss at an envelope grid point, interpolated in (ln x, ln y) as the envelope does.
    const at = (c: { x: number[]; y: number[] }, x: number) => {
      if (x < c.x[0] || x > c.x.at(-1)!) return undefined;
      const j = Math.max(1, c.x.findIndex((v) => v >= x));
      const t = (Math.log(x) - Math.log(c.x[j - 1])) / (Math.log(c.x[j]) - Math.log(c.x[j - 1]));
      return Math.exp(Math.log(c.y[j - 1]) + t * (Math.log(c.y[j]) - Math.log(c.y[j - 1])));
    };
    // The envelope at x is the running minimum over grid points ≤ x of the lowest covering run.
    let compared = 0;
    let running = Infinity;
    env.x.forEach((x, k) => {
      const ys = iso.map((c) => at(c, x)).filter((v): v is number => v !== undefined);
      if (ys.length === 0) return;
      running = Math.min(running, ...ys);
      expect(env.y[k]).toBeCloseTo(running, 9);
      compared++;
    });
    for (let k = 1; k < env.y.length; k++) expect(env.y[k]).toBeLessThanOrEqual(env.y[k - 1]);
    expect(compared).toBeGreaterThan(env.x.length / 2);
    // The envelope spans the isoFLOP family's FLOP range.
    const lo = Math.min(...iso.map((c) => c.x[0]));
    const hi = Math.max(...iso.map((c) => c.x.at(-1)!));
    expect(env.x[0]).toBeCloseTo(lo, -Math.floor(Math.log10(lo)) + 6);
    expect(env.x.at(-1)! / hi).toBeCloseTo(1, 9);
  });

  it('groups runs by budget (ordered), batch (ordered) and schedule, and lists groups in the legend when runs are many', () => {
    const groups = runGroups(records.runs);
    const labels = new Set(groups.map((g) => g.label));
    for (const b of SYNTH_BUDGETS) expect(labels).toContain(`C = ${formatNumber(b)} FLOPs`);
    expect(labels).toContain('batch 512 tokens');
    expect(labels).toContain('schedule cosine');
    expect(records.runs.length).toBeGreaterThan(LEGEND_RUN_LIMIT);
    const fig = lossVsTokensFigure(records.runs);
    const shown = fig.data.filter((t) => (t as { showlegend?: boolean }).showlegend !== false).map((t) => t.name);
    expect(shown).toHaveLength(labels.size);
  });

  it('runs with no evaluation fall back to their training loss', () => {
    const run = { ...records.runs[0], metrics: records.runs[0].metrics.map(({ valLoss: _v, ...m }) => m) };
    const curve = runLossCurve(run, 'tokens');
    expect(curve.kind).toBe('train');
    expect(curve.x).toHaveLength(run.metrics.length);
  });

  it('LR curves: one curve per distinct (schedule, peak LR, expert rule), plus the expert LR where it differs', () => {
    const distinct = distinctScheduleRuns(records.runs);
    // isoFLOP runs share one schedule and LR; the grid has 6 LRs (3e-3 again); 3 schedules; the constant-LR run.
    expect(distinct).toHaveLength(1 + 5 + 3 + 1);
    const fig = lrCurvesFigure(records.runs);
    // The schedule study's runs log an expert LR ≠ base LR: one extra dashed curve each.
    expect(fig.data).toHaveLength(distinct.length + info.scheduleRunIds.length);
    expect(fig.layout.yaxis?.type).toBe('log'); // peaks span 1e-4 … 3e-2
  });

  it('MoE figures: heatmap of the largest run plus imbalance lines; dropped and recycled per run', () => {
    const rep = representativeMoeRun(records.runs)!;
    expect(rep.config.derived.computeFlops).toBe(Math.max(...records.runs.filter((r) => r.summary?.status === 'done').map((r) => r.config.derived.computeFlops)));
    const usage = expertUsageFigure(records.runs)!;
    expect(usage.data[0].type).toBe('heatmap');
    expect(tracePointCount(usage.data[0])).toBe(4 * rep.metrics.length);
    expect(usage.data).toHaveLength(1 + records.runs.length);
    const fractions = tokenFractionsFigure(records.runs)!;
    expect(fractions.data).toHaveLength(2 * records.runs.length);
    expect(expertUsageFigure([])).toBeUndefined();
    expect(tokenFractionsFigure([])).toBeUndefined();
  });
});

describe('loadSweep (the report\'s records)', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'moelab-rec-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('refuses a folder that is not a sweep, naming it and the fix', () => {
    expect(() => loadSweep(join(root, 'missing'))).toThrow(ConfigError);
    expect(() => loadSweep(join(root, 'missing'))).toThrow(/not a directory.*results\/<sweep name>/);
    mkdirSync(join(root, 'empty'));
    expect(() => loadSweep(join(root, 'empty'))).toThrow(DataError);
    expect(() => loadSweep(join(root, 'empty'))).toThrow(/no runs\/ folder/);
  });

  it('counts planned runs without a config as pending and unfinished runs as running', () => {
    const info = writeSyntheticSweep(join(root, 'p'), { studies: ['schedule'], name: 'plain' });
    // A plan entry with no folder, and a run whose summary is missing.
    writeFileSync(join(info.dir, 'plan.json'), JSON.stringify({ sweep: 'plain', kind: 'schedules', runs: [...info.runIds, 'later'].map((runId) => ({ runId })) }));
    rmSync(join(info.dir, 'runs', info.runIds[0], 'summary.json'));
    const rec = loadSweep(info.dir);
    expect(rec.name).toBe('plain');
    expect(rec.kind).toBe('schedules');
    expect(rec.pendingRunIds).toEqual(['later']);
    expect(rec.runs.find((r) => r.runId === info.runIds[0])!.summary).toBeUndefined();
  });
});
