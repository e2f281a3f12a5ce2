// Budget bucketing and labels.
import { describe, expect, it } from 'vitest';
import { fmt, groupIds, groupIndices, roundSignificant } from '../../src/fit/index.ts';

describe('points helpers', () => {
  it('rounds budgets to significant figures', () => {
    expect(roundSignificant(1.0234e18, 2)).toBe(1e18);
    expect(roundSignificant(9.96e20, 2)).toBe(1e21);
    expect(roundSignificant(2.94e21, 1)).toBe(3e21);
    expect(roundSignificant(3.149e15, 3)).toBe(3.15e15);
  });

  it('groups indices by key (ascending) and gives dense group ids', () => {
    expect(groupIndices([3, 1, 3, 2])).toEqual([
      { key: 1, rows: [1] },
      { key: 2, rows: [3] },
      { key: 3, rows: [0, 2] },
    ]);
    expect(Array.from(groupIds([5, 5, 7, 5, 9]))).toEqual([0, 0, 1, 0, 2]);
  });

  it('formats numbers compactly', () => {
    expect(fmt(1e21)).toBe('1.00e21');
    expect(fmt(0.4565)).toBe('0.457');
    expect(fmt(2.5e-4)).toBe('2.50e-4');
  });
});
