import { describe, expect, it } from 'vitest';
import { pairedDifference } from '../../src/analysis/paired.ts';
import { bootstrapReliability, fmtNumber, paperComparison, SIDE_BY_SIDE_COLUMNS, sideBySideCells, type ComparisonInput } from '../../src/study/compare.ts';
import { PAPER } from '../../src/study/paper.ts';

const scale: ComparisonInput['scale'] = { minActivated: 3240, maxActivated: 104008, maxBudget: 3e11, corpus: 'test corpus' };

describe('paperComparison', () => {
  it('puts each measured quantity beside the paper value and its reliability', () => {
    const rows = paperComparison({
      scale,
      isoflop: {
        nOptExponent: { value: 0.52, ci95: [0.45, 0.6] },
        dOptExponent: { value: 0.48, ci95: [0.4, 0.49] },
        tokensPerParam: { value: 180, ci95: [120, 260] },
        tokensPerParamAt: 3e11,
        heldOut: { label: 'L_min at 3e11', actual: 2.0, predicted: 2.02, relError: 0.01 },
      },
      compute: { a: { value: 7.1, ci95: [7.0, 7.2] }, b: { value: 3.2e4, ci95: null } },
      surge: { epsMax: { value: 0.02, ci95: [0.015, 0.03] }, bNoise: { value: 2048, ci95: null }, expertLrRatio: { value: 0.3, ci95: null }, u: 0.25, batchTokens: 512 },
      schedules: [
        { label: 'cosine', finalValLoss: 2.31 },
        { label: 'wsd', finalValLoss: 2.29 },
        { label: 'hunyuan', finalValLoss: 2.3 },
      ],
      scheduleLaw: { law: 'tissue', predicted: 'hunyuan', meanAbsRelError: 0.004 },
      confirm: [
        { label: 'one LR', finalValLoss: 2.4, expertLrMultiplier: 1 },
        { label: 'expert-specific LR', finalValLoss: 2.38, expertLrMultiplier: 0.31 },
      ],
    });
    const by = (q: RegExp) => rows.find((r) => q.test(r.quantity));
    const a = by(/exponent a/)!;
    expect(a.moelab).toBe('0.52');
    expect(a.ci95).toBe('[0.45, 0.6]');
    expect(a.paper).toBe(PAPER.nOptExponent.text);
    expect(a.reliability).toBe('UNCONFIRMED, low reliability');
    expect(a.note).toMatch(/inside moelab's 95% interval/);
    // 0.50 lies outside [0.40, 0.49].
    expect(by(/exponent b/)!.note).toMatch(/outside moelab's 95% interval/);
    expect(by(/tokens per activated parameter/)!.quantity).toMatch(/C = 3\.0e\+11/);
    expect(by(/held-out/)!.ci95).toBe('1.00% error');
    expect(by(/: a$/)!.paper).toMatch(/9\.59/);
    expect(by(/expert LR ratio/)!.quantity).toMatch(/B = 512 tokens/);
    expect(by(/schedule ranking/)!.moelab).toBe('wsd 2.2900 < hunyuan 2.3000 < cosine 2.3100');
    expect(by(/schedule-aware/)!.moelab).toBe('0.40% mean |relative error|');
    expect(by(/confirmation/)!.moelab).toMatch(/one LR \(×1\) 2\.4000; expert-specific LR \(×0\.31\) 2\.3800/);
  });

  it('marks what the study could not measure instead of inventing it', () => {
    const rows = paperComparison({ scale });
    const a = rows.find((r) => /exponent a/.test(r.quantity))!;
    expect(a.moelab).toBe('—');
    expect(a.note).toMatch(/Not measured/);
    expect(rows.some((r) => /schedule ranking/.test(r.quantity))).toBe(false);
    expect(rows.find((r) => /ε_max/.test(r.quantity))!.paper).toBe('not reported');
  });

  it('formats numbers compactly', () => {
    expect(fmtNumber(0.53051)).toBe('0.531');
    expect(fmtNumber(2.3e8)).toBe('2.30e+8');
    expect(fmtNumber(9.59, 4)).toBe('9.59');
  });
});

describe('paperComparison confirmation', () => {
  it('averages each arm over its seeds and lists the per-seed losses', () => {
    const confirm = [
      { label: 'one LR', finalValLoss: 2.42, expertLrMultiplier: 1 },
      { label: 'expert-specific LR', finalValLoss: 2.35, expertLrMultiplier: 0.3 },
      { label: 'one LR', finalValLoss: 2.38, expertLrMultiplier: 1 },
      { label: 'expert-specific LR', finalValLoss: 2.37, expertLrMultiplier: 0.3 },
    ];
    const r = paperComparison({ scale, confirm }).find((x) => /confirmation/.test(x.quantity))!;
    expect(r.moelab).toBe('one LR (×1) 2.4000 (2.4200, 2.3800); expert-specific LR (×0.3) 2.3600 (2.3500, 2.3700)');
    expect(r.note).toMatch(/mean over its seeds/);
    const single = paperComparison({ scale, confirm: confirm.slice(0, 2) }).find((x) => /confirmation/.test(x.quantity))!;
    expect(single.moelab).toBe('one LR (×1) 2.4200; expert-specific LR (×0.3) 2.3500');
    expect(single.note).toMatch(/single short run per arm/);
  });
});

describe('paperComparison surge identification', () => {
  it('says when B_noise lies outside the grid (one side of the surge observed)', () => {
    const rows = paperComparison({
      scale,
      surge: { epsMax: { value: 6000, ci95: null }, bNoise: { value: 1e14, ci95: null }, expertLrRatio: { value: 0.25, ci95: null }, u: 2.6e-12, batchTokens: 256, batchRange: [256, 512] },
    });
    expect(rows.find((r) => /B_noise \(tokens\)/.test(r.quantity))!.note).toMatch(/far outside the grid's batches \(256–512 tokens\).*not identified separately/);
    const inside = paperComparison({ scale, surge: { epsMax: { value: 0.02, ci95: null }, bNoise: { value: 400, ci95: null }, batchRange: [256, 512] } });
    expect(inside.find((r) => /B_noise \(tokens\)/.test(r.quantity))!.note).not.toMatch(/outside/);
  });

  it('steps-to-target: names the procedure and target, and compares B_crit with the peak of the best LRs', () => {
    const surge = {
      epsMax: { value: 0.02, ci95: [0.015, 0.03] as [number, number] },
      bNoise: { value: 400, ci95: [300, 550] as [number, number] },
      method: 'steps-to-target' as const,
      targetLoss: 2.35,
      expertLrRatio: { value: 0.32, ci95: null },
      u: 0.32,
      batchTokens: 128,
      batchRange: [128, 8192] as [number, number],
    };
    const beyond = paperComparison({ scale, surge: { ...surge, freeBnoise: 1e5, freeExpertLrRatio: 0.25 } });
    const bRow = beyond.find((r) => /B_noise \(tokens, from the S–E trade-off\)/.test(r.quantity))!;
    expect(bRow.moelab).toBe('400');
    expect(bRow.note).toMatch(/puts their peak at 1\.00e\+5 tokens, outside 128–8192 tokens: the grid locates B_noise through the steps but not the peak of ε_opt/);
    expect(beyond.find((r) => /ε_max/.test(r.quantity))!.note).toMatch(/Li et al\.'s procedure \(§3\.2\).*train loss 2\.35/);
    expect(beyond.find((r) => /expert LR ratio/.test(r.quantity))!.note).toMatch(/would be 0\.25\./);
    const within = paperComparison({ scale, surge: { ...surge, freeBnoise: 600, freeExpertLrRatio: 0.29 } });
    expect(within.find((r) => /B_noise/.test(r.quantity))!.note).toMatch(/puts the peak at 600 tokens\.$/);
  });
});

describe('paperComparison: resolved / not resolved', () => {
  const iso = (ci: [number, number], successFraction: number) => ({
    nOptExponent: { value: 0.52, ci95: ci },
    dOptExponent: { value: 0.48, ci95: [1 - ci[1], 1 - ci[0]] as [number, number] },
    tokensPerParam: { value: 130, ci95: [110, 150] as [number, number] },
    tokensPerParamAt: 3e11,
    bootstrap: bootstrapReliability({ samples: 1000, succeeded: Math.round(1000 * successFraction) }),
  });

  it('resolves an exponent only with a reliable interval, and counts a + b ≈ 1 as one agreement', () => {
    const rows = paperComparison({ scale, isoflop: iso([0.5, 0.56], 0.99) });
    const a = rows.find((r) => /exponent a/.test(r.quantity))!;
    expect(a.status).toBe('resolved');
    expect(a.reason).toMatch(/^agrees/);
    expect(a.bootstrapSuccess).toBe('0.990');
    const b = rows.find((r) => /exponent b/.test(r.quantity))!;
    expect(b.reason).toMatch(/counted with a, not as a second agreement/);
    // 76 of 1000 resamples: the example — never a silently conditional interval.
    const weak = paperComparison({ scale, isoflop: iso([0.48, 0.56], 0.076) }).find((r) => /exponent a/.test(r.quantity))!;
    expect(weak.status).toBe('not resolved');
    expect(weak.reason).toMatch(/bootstrap unreliable: 7\.6% of resamples succeeded/);
    expect(weak.bootstrapSuccess).toBe('0.076 (unreliable)');
    const outside = paperComparison({ scale, isoflop: iso([0.6, 0.7], 0.97) }).find((r) => /exponent a/.test(r.quantity))!;
    expect(outside.status).toBe('resolved');
    expect(outside.reason).toMatch(/^disagrees/);
    expect(paperComparison({ scale }).find((r) => /exponent a/.test(r.quantity))!.status).toBe('not resolved');
    expect(rows.find((r) => /: a$/.test(r.quantity))?.status ?? 'not a claim').toBe('not a claim');
  });

  it('is not resolved when the sensitivity table moves the exponent beyond its interval', () => {
    const comparisons = {
      noise: { cells: [], pooledSeedSd: null, pooledEvalStderr: null },
      paired: [],
      expertLr: null,
      scheduleLaw: null,
      sensitivity: { rows: [], spread: { a: [0.455, 0.64] as [number, number], b: [0.36, 0.545] as [number, number] }, heldOut: null },
    };
    const a = paperComparison({ scale, isoflop: iso([0.5, 0.56], 0.99) }, comparisons).find((r) => /exponent a/.test(r.quantity))!;
    expect(a.status).toBe('not resolved');
    expect(a.reason).toMatch(/analysis choices move it beyond its interval/);
  });

  it('turns paired comparisons into rows: a winner only when the CI excludes 0', () => {
    const seeds = [0, 1, 2];
    const paired = [
      pairedDifference('confirmation', { name: 'expert-specific LR', runs: seeds.map((s) => ({ seed: s, loss: 2.2 + 0.01 * s })) }, { name: 'one LR', runs: seeds.map((s, i) => ({ seed: s, loss: 2.23 + 0.01 * s + [0.001, -0.001, 0][i] })) }),
      pairedDifference('ablation: routing', { name: 'drop', runs: seeds.map((s, i) => ({ seed: s, loss: 2.2 + [0.01, -0.01, 0.003][i] })) }, { name: 'recycle', runs: seeds.map((s) => ({ seed: s, loss: 2.2 })) }),
    ];
    const rows = paperComparison({ scale }, { noise: { cells: [], pooledSeedSd: null, pooledEvalStderr: null }, paired, expertLr: null, sensitivity: null, scheduleLaw: null });
    const c = rows.find((r) => /^confirmation/.test(r.quantity))!;
    expect(c.status).toBe('resolved');
    expect(c.reason).toBe('expert-specific LR lower (95% CI excludes 0)');
    const ab = rows.find((r) => /ablation: routing/.test(r.quantity))!;
    expect(ab.status).toBe('not resolved');
    expect(ab.reason).toMatch(/CI includes 0; resolvable with this n: \|difference\| ≥/);
    expect(ab.paper).toMatch(/recycle routing/);
    expect(sideBySideCells(ab)).toHaveLength(SIDE_BY_SIDE_COLUMNS.length);
  });

  it('falls back to succeeded/samples until the record carries successFraction, and prefers it when present', () => {
    expect(bootstrapReliability({ samples: 200, succeeded: 190 })).toEqual({ successFraction: 0.95, reliable: true });
    expect(bootstrapReliability({ samples: 200, succeeded: 200, successFraction: 0.9, reliable: false })).toEqual({ successFraction: 0.9, reliable: false });
    expect(bootstrapReliability(null)).toBeUndefined();
  });
});
