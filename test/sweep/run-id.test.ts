import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.ts';
import {
  formatCount,
  formatRunId,
  formatSci,
  parseCount,
  parseRunId,
  type RunIdParts,
} from '../../src/sweep/run-id.ts';

describe('number formats', () => {
  for (const [n, s] of [
    [512, '512'],
    [20000, '20k'],
    [1530000, '1.53M'],
    [8272, '8.27k'],
    [999_600, '1M'],
    [58.1e9, '58.1B'],
    [7e12, '7T'],
  ] as const) {
    it(`formatCount(${n}) = ${s}`, () => expect(formatCount(n)).toBe(s));
  }
  for (const [x, s] of [
    [0.003, '3e-3'],
    [1e14, '1e14'],
    [3.2e14, '3.2e14'],
    [0.00125, '1.25e-3'],
    [6, '6e0'],
  ] as const) {
    it(`formatSci(${x}) = ${s}`, () => expect(formatSci(x)).toBe(s));
  }
  it('parseCount inverts formatCount on its outputs', () => {
    for (const s of ['512', '20k', '1.53M', '58.1B', '7T']) expect(formatCount(parseCount(s))).toBe(s);
  });
});

describe('formatRunId / parseRunId', () => {
  it('writes the docs/architecture.md#naming form', () => {
    expect(
      formatRunId({ sweep: 'moe8', activatedParams: 6e6, duration: { kind: 'chinchilla', multiple: 2 }, lr: 3e-3, batchSize: 64, seed: 0 }),
    ).toBe('moe8-6M-2xC-lr3e-3-bs64-s0');
    expect(formatRunId({ sweep: 'quick', activatedParams: 50_000, duration: { kind: 'budget', computeFlops: 1e14 }, seed: 1 })).toBe(
      'quick-50k-C1e14-s1',
    );
  });

  const names = ['quick', 'moe8-6M-2xC', `it's a "test"; echo pwned`, 'a b-c', 'x-1M-C1e15-lr1e-3-s0', '$(rm -rf ~)', 'ünï cödé'];
  const durations: RunIdParts['duration'][] = [
    { kind: 'budget', computeFlops: 3.2e14 },
    { kind: 'tokens', tokens: 2_500_000 },
    { kind: 'chinchilla', multiple: 0.5 },
  ];
  const extras: Partial<RunIdParts>[] = [{}, { lr: 1e-3 }, { batchSize: 16 }, { batchSize: 1024 }, { lr: 2.5e-4, batchSize: 64 }, { variant: 'wsd' }, { lr: 3e-3, variant: 'p12' }];
  for (const sweep of names) {
    for (const duration of durations) {
      for (const extra of extras) {
        const parts: RunIdParts = { sweep, activatedParams: 1.53e6, duration, seed: 7, ...extra };
        const id = formatRunId(parts);
        it(`round-trips ${JSON.stringify(id)}`, () => {
          expect(parseRunId(id)).toEqual(parts);
          expect(formatRunId(parseRunId(id))).toBe(id);
        });
      }
    }
  }

  it('rejects strings that are not run ids, naming the expected shape', () => {
    for (const bad of ['quick', 'quick-50k-s0', 'quick-50k-C1e14', 'quick-50k-C1e14-S0', 'quick-5x-C1e14-s0']) {
      expect(() => parseRunId(bad)).toThrow(ConfigError);
      expect(() => parseRunId(bad)).toThrow(/<sweep>-<size>-<duration>/);
    }
  });

  it('refuses sweep names that cannot name a folder and labels that would be ambiguous', () => {
    const base = { activatedParams: 1e6, duration: { kind: 'tokens', tokens: 1e6 } as const, seed: 0 };
    expect(() => formatRunId({ ...base, sweep: 'a/b' })).toThrow(/name: sweep name contains "\/"/);
    expect(() => formatRunId({ ...base, sweep: '..' })).toThrow(ConfigError);
    for (const variant of ['bs16', 'lr3', 's1', 'Wsd', 'a-b']) {
      expect(() => formatRunId({ ...base, sweep: 'x', variant })).toThrow(/variant/);
    }
  });
});
