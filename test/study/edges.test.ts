import { describe, expect, it } from 'vitest';
import { edgeBudgets } from '../../src/study/run.ts';

describe('edgeBudgets', () => {
  const pts = (budget: number, losses: number[]) => losses.map((loss, i) => ({ budget, N: 1000 * 2 ** i, loss }));
  it('flags budgets whose best run is the smallest or largest size, keeps interior minima', () => {
    const points = [...pts(1e10, [2.3, 2.5, 2.9]), ...pts(3e10, [2.3, 2.1, 2.4, 2.8]), ...pts(1e11, [2.4, 2.2, 2.0])];
    expect(edgeBudgets(points)).toEqual([
      { budget: 1e10, side: 'smallest', N: 1000 },
      { budget: 1e11, side: 'largest', N: 4000 },
    ]);
  });
  it('ignores budgets with fewer than 3 finished sizes and unfinished runs', () => {
    expect(edgeBudgets([...pts(1e10, [2.3, 2.5]), { budget: 1e10, N: 9000, loss: undefined }])).toEqual([]);
  });
});
