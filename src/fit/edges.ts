// Groups a fit cannot use: an isoFLOP budget without an interior minimum over N, an LR-grid batch
// without an interior best LR. The fit decides, by its `edges` option: 'refuse' (default) throws the
// per-group DataError; 'drop' leaves such groups out and lists their rows in data.dropped with why.
import { DataError } from '../errors.ts';
import { groupIndices } from './points.ts';

export type EdgePolicy = 'refuse' | 'drop';
export const EDGE_POLICIES: readonly EdgePolicy[] = ['refuse', 'drop'];

/** A group whose fitted curve has no minimum inside the sampled range (thrown by the per-group fits). */
export class NoInteriorMinimumError extends DataError {
  override name = 'DataError';
}

/**
 * Split points into the groups a fit can use and the rows of those it cannot: a group is dropped
 * when its own fit (`fitGroup`, the same per-group fit the main fit runs) throws
 * NoInteriorMinimumError, i.e. the fitted curve is concave or its vertex lies outside the sampled
 * range. Other errors (too few points) still refuse.
 */
export function dropEdgeGroups<P extends { label: string }>(
  points: readonly P[],
  key: (p: P) => number,
  fitGroup: (group: number, pts: P[]) => void,
): { kept: P[]; dropped: { row: string; reason: string }[]; groups: string[] } {
  const out = new Set<number>();
  const dropped: { row: string; reason: string }[] = [];
  const groups: string[] = [];
  for (const g of groupIndices(points.map(key))) {
    const pts = g.rows.map((i) => points[i]);
    let reason: string | undefined;
    try {
      fitGroup(g.key, pts);
    } catch (err) {
      if (!(err instanceof NoInteriorMinimumError)) throw err;
      reason = err.message;
    }
    if (reason) {
      groups.push(reason);
      for (const p of pts) dropped.push({ row: p.label, reason });
      for (const i of g.rows) out.add(i);
    }
  }
  // Kept rows stay in their given order: the bootstrap's resamples depend on it.
  return { kept: points.filter((_, i) => !out.has(i)), dropped, groups };
}
