// Turning schema failures into ConfigErrors that name the field, the value and the fix.
import type { z } from 'zod';
import { ConfigError, ConfigErrors } from '../errors.ts';

function valueAt(input: unknown, path: PropertyKey[]): unknown {
  let cur: unknown = input;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}

function fieldName(path: PropertyKey[]): string {
  return path.length === 0 ? '(root)' : path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.').replace(/\.\[/g, '[');
}

/** Convert one zod issue into a ConfigError with a concrete fix. */
export function issueToConfigError(issue: z.core.$ZodIssue, input: unknown, prefix: PropertyKey[] = []): ConfigError {
  const path = [...prefix, ...issue.path];
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys;
    const base = fieldName(path);
    return new ConfigError(
      keys.length === 1 ? (base === '(root)' ? keys[0] : `${base}.${keys[0]}`) : base,
      keys.length === 1 ? valueAt(input, [...issue.path, keys[0]]) : keys,
      'Remove it or check its spelling against the documented fields (docs/training.md "The run config"; for experiment files docs/sweeps.md "Experiment files").',
      `unknown key${keys.length === 1 ? '' : `s ${keys.map((k) => JSON.stringify(k)).join(', ')}`}`,
    );
  }
  const value = valueAt(input, issue.path);
  const fix =
    (issue as { params?: { fix?: string } }).params?.fix ??
    (issue.code === 'invalid_type'
      ? `Give a ${issue.expected}.`
      : issue.code === 'too_small'
        ? `Use a value ${issue.inclusive ? '>=' : '>'} ${String(issue.minimum)}.`
        : issue.code === 'too_big'
          ? `Use a value ${issue.inclusive ? '<=' : '<'} ${String(issue.maximum)}.`
          : issue.code === 'invalid_value'
            ? `Use one of: ${issue.values.map((v) => JSON.stringify(v)).join(', ')}.`
            : 'Fix this field.');
  return new ConfigError(fieldName(path), value, fix, issue.message);
}

/**
 * Validate `input` against `schema`; on failure throw one ConfigErrors listing every problem.
 * `source` names where the input came from (a file path, a CLI flag).
 */
export function parseConfig<S extends z.ZodType>(schema: S, input: unknown, source: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new ConfigErrors(
    source,
    result.error.issues.map((issue) => issueToConfigError(issue, input)),
  );
}
