// Input checks and grouping shared by the fits. Every refusal names the row, the field, the value
// and what to do about it (docs/architecture.md#habits).
import { DataError, formatValue } from '../errors.ts';

/** Round to `digits` significant figures (budget bucketing: 1.02e18 and 0.98e18 → 1.0e18). */
export function roundSignificant(x: number, digits: number): number {
  if (x === 0 || !Number.isFinite(x)) return x;
  // Through the decimal string, so 1.0234e18 → exactly 1e18 (scaling by 10^−17 is not exact).
  return Number(x.toPrecision(digits));
}

/** Throws unless every `field` of every row is a positive finite number. */
export function requirePositive<T>(rows: readonly T[], fields: readonly (keyof T & string)[], label: (row: T, i: number) => string, fix: string): void {
  rows.forEach((row, i) => {
    for (const f of fields) {
      const v = row[f] as unknown;
      if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
        throw new DataError(`${label(row, i)}: ${f} must be a positive finite number (got ${formatValue(v)}). ${fix}`);
      }
    }
  });
}

/** Throws unless there are at least `min` rows. */
export function requireCount(n: number, min: number, what: string, fix: string): void {
  if (n < min) throw new DataError(`${what}: need at least ${min}, got ${n}. ${fix}`);
}

/** Group indices by a numeric key, keys ascending. */
export function groupIndices(keys: readonly number[]): { key: number; rows: number[] }[] {
  const map = new Map<number, number[]>();
  keys.forEach((k, i) => {
    const list = map.get(k);
    if (list) list.push(i);
    else map.set(k, [i]);
  });
  return [...map.entries()].sort((a, b) => a[0] - b[0]).map(([key, rows]) => ({ key, rows }));
}

/** Compact numeric label (3 significant figures, exponent form for large/small magnitudes). */
export function fmt(x: number, digits = 3): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return x.toExponential(digits - 1).replace('e+', 'e');
  return String(Number(x.toPrecision(digits)));
}

/** Integer labels for groups: value → dense id (for stratified bootstrap). */
export function groupIds(keys: readonly number[]): Int32Array {
  const ids = new Map<number, number>();
  return Int32Array.from(keys, (k) => {
    let id = ids.get(k);
    if (id === undefined) {
      id = ids.size;
      ids.set(k, id);
    }
    return id;
  });
}
