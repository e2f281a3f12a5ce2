import { describe, expect, it } from 'vitest';
import { analyseComparisons } from '../../src/analysis/comparisons.ts';
import type { AnalysisFit } from '../../src/analysis/run.ts';
import { endError, scheduleLawCheck } from '../../src/analysis/schedule-check.ts';
import { pairedComparisons } from '../../src/analysis/paired.ts';
import { renderComparisons } from '../../src/report/comparisons.ts';
import { composeReport } from '../../src/report/compose.ts';
import { renderReportHtml } from '../../src/report/page.ts';
import { tableToHtml } from '../../src/report/tables.ts';
import { paperComparison } from '../../src/study/compare.ts';
import { createRng } from '../../src/util/rng.ts';
import { synthRun } from '../analysis/synthetic-runs.ts';

/** A small synthetic study: schedules, expert-LR and control arms, an ablation, one isoFLOP budget pair. No training. */
function study() {
  const rng = createRng(9);
  const runs = [];
  for (const seed of [0, 1, 2]) {
    const s = 0.03 * rng.normal();
    for (const [label, off] of [['wsd', 0], ['cosine', 0.04], ['hunyuan', 0.002]] as const) {
      runs.push(synthRun({ runId: `sched-${label}-${seed}`, tags: { study: 'schedules', label, seed }, finalValLoss: 2.2 + s + off + 0.001 * rng.normal(), finalValLossStderr: 0.003 }));
    }
    for (const f of [0.125, 0.25, 0.5, 1, 2]) {
      runs.push(synthRun({ runId: `exp-${f}-${seed}`, tags: { study: 'arm', group: 'expert-lr', name: `expert ×${f}`, seed, factor: f }, finalValLoss: 2.2 + s + 0.02 * Math.log(f / 0.3) ** 2 + 0.002 * rng.normal(), metrics: [{ step: 50, expertUsage: [0.3, 0.3, 0.2, 0.2], recycledTokenFraction: 0.1 }] }));
      if (f !== 1) runs.push(synthRun({ runId: `ctl-${f}-${seed}`, tags: { study: 'arm', group: 'lr-control', name: `all ×${f}`, seed, factor: f }, finalValLoss: 2.2 + s + 0.02 * Math.log(f) ** 2 + 0.02 * Math.log(0.3) ** 2 + 0.002 * rng.normal() }));
    }
    for (const name of ['recycle', 'drop']) runs.push(synthRun({ runId: `abl-${name}-${seed}`, tags: { study: 'arm', group: 'ablation', comparison: 'routing', name, seed }, finalValLoss: 2.2 + s + 0.002 * rng.normal() }));
  }
  return runs;
}

const scheduleFit = {
  kind: 'schedule',
  law: 'tissue',
  curves: [{ name: 'sched-hunyuan-0', role: 'predict', steps: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], actual: [3, 2.9, 2.8, 2.7, 2.6, 2.5, 2.4, 2.3, 2.25, 2.2], predicted: [3, 2.9, 2.8, 2.7, 2.6, 2.5, 2.4, 2.3, 2.25, 2.21], meanAbsRelError: 0.0005, maxAbsRelError: 0.005, finalRelError: 0.005 }],
} as unknown as AnalysisFit;

describe('comparison sections on a synthetic study', () => {
  it('renders the noise floor, paired verdicts, the expert-LR experiment and the schedule-law check', () => {
    const surge = { kind: 'surge', params: { Bnoise: { value: 2048, ci95: [1024, 4096] } } } as unknown as AnalysisFit;
    const result = analyseComparisons({ runs: study() }, [surge, scheduleFit]);
    const sections = renderComparisons(result);
    expect(sections.map((s) => s.id)).toEqual(['noise-floor', 'paired-comparisons', 'expert-lr-experiment', 'schedule-law-check']);
    const noise = sections[0];
    expect(noise.notes![0]).toMatch(/pooled seed-to-seed SD of the final validation loss: [\d.]+ nats/);
    expect(noise.tables[0].rows.find((r) => r[1] === 'wsd')![2]).toBe(3);
    const paired = sections[1];
    // wsd beats cosine by 0.04 nats with 0.0014 noise: resolved; recycle vs drop (no effect): not resolved.
    expect(paired.notes!.join('\n')).toMatch(/schedules: wsd lower than cosine by 0\.0[34]\d* nats/);
    expect(paired.notes!.join('\n')).toMatch(/ablation: routing: not resolved at this noise level.*resolvable at 80% power/);
    const expert = sections[2];
    // The control is best at factor 1 here: the expert optimum below 1 is an expert-specific effect.
    expect(result.expertLr!.judgement).toBe('supported');
    expect(expert.notes!.join(' ')).toMatch(/Best specialized-expert LR multiplier: ×0\.\d+ \[/);
    expect(result.expertLr!.expert!.optimum!.ci95![0]).toBeLessThan(0.3);
    expect(result.expertLr!.expert!.optimum!.ci95![1]).toBeGreaterThan(0.3);
    expect(sections[3].notes![0]).toMatch(/tissue law fitted on the other schedules predicts hunyuan to 0\.01 nats/);
    // The side-by-side row of the measured expert-LR optimum: resolved (control best at 1), and set
    // against the rule at n = E/k = 4, u = 512/2048: √4·1.25/4.25 ≈ 0.59, which a ≈ 0.3 interval misses.
    const row = paperComparison({ scale: { minActivated: 1, maxActivated: 2, maxBudget: 1, corpus: 'synthetic' } }, result).find((r) => /expert LR ratio, measured/.test(r.quantity))!;
    expect(result.expertLr!.predicted!.value).toBeCloseTo((2 * 1.25) / 4.25, 10);
    expect(row.status).toBe('resolved');
    expect(row.reason).toMatch(/expert-specific effect supported by the control; disagrees/);
    // Every table renders to escaped HTML without throwing.
    for (const s of sections) for (const t of s.tables) expect(tableToHtml(t)).toMatch(/<table/);
  });
});

describe('comparison sections in a composed report', () => {
  it('appear in report.md and the HTML page with their tables', () => {
    const runs = study();
    const sections = renderComparisons(analyseComparisons({ runs }, []));
    const sweep = { dir: '/synthetic', name: 'synthetic', runs, pendingRunIds: [], outsidePlan: [], fits: [] };
    const composed = composeReport(sweep, { id: 'runs', title: 'Runs', columns: ['run'], rows: runs.map((r) => [r.runId]) }, { headline: [], sections: [], tables: [] }, { generatedAt: '2026-01-01T00:00:00Z', extraSections: sections });
    expect(composed.markdown).toMatch(/## Noise floor/);
    expect(composed.markdown).toMatch(/## Paired comparisons/);
    expect(composed.markdown).toMatch(/not resolved at this noise level/);
    expect(composed.tables.map((t) => t.id)).toEqual(expect.arrayContaining(['noise-floor', 'paired-comparisons', 'expert-lr-result']));
    const html = renderReportHtml(composed.page, '/* plotly */');
    expect(html).toContain('table-noise-floor');
  });
});

describe('scheduleLawCheck', () => {
  it('says a law is accurate enough only when its end error is below every gap it ranks', () => {
    const runs = study();
    const paired = pairedComparisons(runs);
    const ok = scheduleLawCheck(scheduleFit as never, runs, paired)!;
    expect(endError({ predicted: [1, 1.5], actual: [1, 1.4] })).toBeCloseTo(0.1, 12);
    // hunyuan − wsd ≈ 0.002 nats: an end error of 0.01 cannot rank it.
    expect(ok.endError).toBeCloseTo(0.01, 12);
    expect(ok.accurateEnough).toBe(false);
    expect(ok.verdict).toMatch(/not accurate enough to rank them/);
    const precise = { ...scheduleFit, curves: [{ ...(scheduleFit as unknown as { curves: object[] }).curves[0], predicted: [3, 2.9, 2.8, 2.7, 2.6, 2.5, 2.4, 2.3, 2.25, 2.2001] }] };
    const good = scheduleLawCheck(precise as never, runs, paired)!;
    expect(good.accurateEnough).toBe(true);
  });
});
