// CLI flags → analysis option fields, in one table: each row names the flag, the field it sets and
// how its text is parsed, so a bad value is a ConfigError naming the flag (the API, given the same
// field, names the field). `moelab report` and `moelab reproduce` read their analysis flags here;
// add a row to give both a new option.
import type { AnalysisOptions } from '../analysis/plan.ts';
import { EDGE_POLICIES } from '../fit/edges.ts';
import { ConfigError } from '../errors.ts';

export interface FlagSpec {
  /** Commander's flag text, e.g. '--target-flops <C>'. */
  flag: string;
  /** The analysis option the flag sets. */
  field: keyof AnalysisOptions;
  help: string;
  /** Parse the flag's text; throw ConfigError naming `flag` on a bad value. */
  parse: (value: string, flag: string) => AnalysisOptions[keyof AnalysisOptions];
}

/** Commander's values, keyed by the camelCase flag name. */
export type FlagValues = Record<string, unknown>;

function numberFlag(check: (v: number) => boolean, fix: string) {
  return (value: string, flag: string): number => {
    const v = Number(value);
    if (value.trim() === '' || !Number.isFinite(v) || !check(v)) throw new ConfigError(flag, value, fix, 'not a valid value');
    return v;
  };
}

function choiceFlag<T extends string>(allowed: readonly T[]) {
  return (value: string, flag: string): T => {
    if (!(allowed as readonly string[]).includes(value)) throw new ConfigError(flag, value, `Use one of: ${allowed.join(', ')}.`, 'not an allowed value');
    return value as T;
  };
}

const wholeNumber = numberFlag((v) => Number.isInteger(v) && v >= 0, 'Give a whole number ≥ 0, e.g. 1000.');

/** The analysis flags of `moelab report` (and, less the per-sweep ones, `moelab reproduce`). */
export const REPORT_FLAGS: readonly FlagSpec[] = [
  { flag: '--target-flops <C>', field: 'targetFlops', help: 'budget the compute-optimal laws are extrapolated to (default 100 × the largest budget)', parse: numberFlag((v) => v > 0, 'Give a positive number, e.g. 1e18.') },
  { flag: '--bootstrap <n>', field: 'bootstrap', help: 'bootstrap resamples of the fits (default per kind: 1000; parametric 200; capped at 200 for parametric)', parse: wholeNumber },
  { flag: '--schedule-law <law>', field: 'scheduleLaw', help: 'schedule-aware loss law: tissue (default, ~1 s) or multipower (minutes)', parse: choiceFlag(['tissue', 'multipower'] as const) },
  { flag: '--seed <n>', field: 'seed', help: 'seed of the bootstrap resamples (default 0)', parse: wholeNumber },
  {
    flag: '--window <rule>',
    field: 'isoflopWindow',
    help: "isoFLOP parabolas: sizes within this factor of each budget's best run (e.g. 4), auto (default: 2×, widened by √2 until ≥ 5 sizes) or all",
    parse: (value: string, flag: string) => (value === 'auto' || value === 'all' ? value : numberFlag((v) => v > 1, 'Give a factor > 1 (e.g. 4), auto or all.')(value, flag)),
  },
  { flag: '--edges <policy>', field: 'edges', help: 'isoFLOP budgets / LR-grid batches without an interior minimum: drop (default; listed in the record) or refuse', parse: choiceFlag(EDGE_POLICIES) },
];

/** Commander's key of a flag: '--target-flops <C>' → 'targetFlops'. */
export function flagKey(flag: string): string {
  return flag
    .split(' ')[0]
    .replace(/^--/, '')
    .replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** The analysis options set by the flags given (absent flags leave their field out). */
export function flagValues(specs: readonly FlagSpec[], values: FlagValues): AnalysisOptions {
  const out: Record<string, unknown> = {};
  for (const s of specs) {
    const v = values[flagKey(s.flag)];
    if (v === undefined) continue;
    out[s.field] = s.parse(String(v), s.flag.split(' ')[0]);
  }
  return out as AnalysisOptions;
}
