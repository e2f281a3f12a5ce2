// Multi-start: the grid product, the winner, and the agreement counts reported as evidence.
import { describe, expect, it } from 'vitest';
import { gridStarts, lbfgsMinimizer, multiStart } from '../../src/fit/index.ts';

describe('multiStart', () => {
  it('builds the Cartesian product with the first axis slowest', () => {
    expect(gridStarts([[0, 1], [5, 6, 7]])).toEqual([[0, 5], [0, 6], [0, 7], [1, 5], [1, 6], [1, 7]]);
    expect(gridStarts([[-1, -0.5, 0, 0.5, 1], [0, 5, 10, 15, 20, 25], [0, 5, 10, 15, 20, 25], [0, 0.5, 1, 1.5, 2], [0, 0.5, 1, 1.5, 2]])).toHaveLength(4500);
  });

  it('keeps the best of two basins and counts the starts that agree with it', () => {
    // f(x) = (x² − 1)² + 0.1·x: global minimum near x = −1.02, a local one near x = +0.97.
    const fg = (x: Float64Array, g: Float64Array) => {
      const v = x[0];
      g[0] = 4 * v * (v * v - 1) + 0.1;
      return (v * v - 1) ** 2 + 0.1 * v;
    };
    const starts = [[-3], [-2], [-0.5], [0.5], [2], [3]];
    const r = multiStart(lbfgsMinimizer(fg), starts);
    expect(r.best.x[0]).toBeCloseTo(-1.0124, 3);
    expect(starts[r.bestStart][0]).toBeLessThan(0);
    expect(r.startsAgreeing).toBe(3);
    expect(r.startsAtBestObjective).toBe(3);
    expect(r.startsConverged).toBe(6);
    expect(r.objectives).toHaveLength(6);
  });
});
