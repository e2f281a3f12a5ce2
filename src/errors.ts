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

/**
 * A file moelab wrote (or expects in its own format) cannot be read: not valid JSON, wrong shape,
 * or a checksum mismatch. Names the file, what is wrong with it, and the way out.
 */
export class CorruptFileError extends Error {
  override name = 'CorruptFileError';
  constructor(
    readonly path: string,
    readonly problem: string,
    readonly fix: string,
  ) {
    super(`${path}: ${problem}. ${fix}`);
  }
}

/** The disk (or quota) is full: the write to `path` failed; nothing half-written is left behind. */
export class DiskFullError extends Error {
  override name = 'DiskFullError';
  constructor(
    readonly path: string,
    readonly code: string,
  ) {
    super(
      `no space left to write ${path} (${code}). Free space on that filesystem (or write to another --out), ` +
        `then run the same command again: what was written before is intact.`,
    );
  }
}

/** Error codes that mean "the filesystem is full" (disk or quota). */
export const DISK_FULL_CODES: ReadonlySet<string> = new Set(['ENOSPC', 'EDQUOT']);

/** A DiskFullError, or a raw ENOSPC/EDQUOT from node:fs. */
export function isDiskFull(err: unknown): boolean {
  if (err instanceof DiskFullError) return true;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && DISK_FULL_CODES.has(code);
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
