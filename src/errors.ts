// Error classes shared by every layer (docs/architecture.md#habits): messages name what was expected,
// what was got, and how to fix it. `assert` is for invariants only; these are for user input.

/** A user-supplied value (config field, CLI flag, CSV column) is invalid. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    readonly field: string,
    readonly value: unknown,
    readonly fix: string,
    readonly problem?: string,
  ) {
    super(`${field}: ${problem ?? 'invalid value'} (got ${formatValue(value)}). ${fix}`);
  }
}

/** Several ConfigErrors found at once (a config file validated in one pass). */
export class ConfigErrors extends Error {
  override name = 'ConfigError';
  constructor(
    readonly source: string,
    readonly errors: ConfigError[],
  ) {
    super(
      `${source}: ${errors.length} problem${errors.length === 1 ? '' : 's'}\n` +
        errors.map((e) => `  - ${e.message}`).join('\n'),
    );
  }
}

/** The requested TF.js backend is not installed or failed to initialise. */
export class BackendError extends Error {
  override name = 'BackendError';
}

/** Input data cannot support the requested analysis (too few points, no interior minimum, …). */
export class DataError extends Error {
  override name = 'DataError';
}

/** A run folder's checkpoint does not match the config that tries to resume it. */
export class ResumeMismatchError extends Error {
  override name = 'ResumeMismatchError';
}

export function formatValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : String(value);
  if (value === undefined) return 'nothing';
  try {
    const s = JSON.stringify(value);
    return s.length > 120 ? `${s.slice(0, 117)}...` : s;
  } catch {
    return String(value);
  }
}
