// Canonical JSON text of plain data: object keys sorted at every depth, so equal data gives equal
// text whatever the key order. Non-finite numbers are written as "nan" / "inf" / "-inf" (plain
// JSON would make them null and so equal to a missing value). Used to compare run configurations
// (src/train/loop.ts resume check; src/sweep/share.ts trainingIdentity, which the planner and the
// noise floor use to find runs that train the same model) and to find repeated sweep values
// (src/config/sweep-schema.ts).
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v === 'number' && !Number.isFinite(v)) return Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf';
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.keys(v).sort().map((k) => [k, (v as Record<string, unknown>)[k]]));
    }
    return v;
  });
}
