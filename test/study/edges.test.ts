import { describe, expect, it } from 'vitest';
import { edgeGroups } from '../../src/study/run.ts';

describe('edgeGroups', () => {
  const pts = (group: number, losses: number[]) => losses.map((loss, i) => ({ group, x: 1000 * 2 ** i, loss }));
  it('flags groups whose best point is the smallest or largest x, keeps interior minima', () => {
    const points = [...pts(1e10, [2.3, 2.5, 2.9]), ...pts(3e10, [2.3, 2.1, 2.4, 2.8]), ...pts(1e11, [2.4, 2.2, 2.0])];
    expect(edgeGroups(points)).toEqual([
      { group: 1e10, side: 'smallest', x: 1000 },
      { group: 1e11, side: 'largest', x: 4000 },
    ]);
  });
  it('ignores groups with fewer than 3 finished points and unfinished runs', () => {
    expect(edgeGroups([...pts(1e10, [2.3, 2.5]), { group: 1e10, x: 9000, loss: undefined }])).toEqual([]);
  });
});
