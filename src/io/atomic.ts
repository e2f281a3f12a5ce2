// Atomic artefact writes (docs/architecture.md#habits): write a temp file beside the target, fsync,
// rename. A reader never sees a half-written file, and a killed writer leaves only a *.tmp-*.
// A write that fails (a full disk above all) removes its temp file and, for ENOSPC/EDQUOT,
// throws one DiskFullError naming the path; the previous version of the file stays intact.
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, writeSync, appendFileSync, existsSync, readFileSync, unlinkSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { CorruptFileError, DiskFullError, isDiskFull } from '../errors.ts';
import { readJsonFile } from './json.ts';

/** Rethrow a failed write of `path`: a full disk as DiskFullError, anything else unchanged. */
export function rethrowWriteError(err: unknown, path: string): never {
  if (err instanceof DiskFullError) throw err;
  if (isDiskFull(err)) throw new DiskFullError(path, (err as NodeJS.ErrnoException).code as string);
  throw err;
}

function unlinkQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // never created, or already gone
  }
}

/** Write all of `data` at the file's current position (writeSync may write less than asked). */
export function writeAll(fd: number, data: Uint8Array): void {
  let off = 0;
  while (off < data.length) off += writeSync(fd, data, off, data.length - off);
}

export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${Date.now()}`);
  try {
    mkdirSync(dirname(path), { recursive: true });
    const fd = openSync(tmp, 'w');
    try {
      writeAll(fd, typeof data === 'string' ? Buffer.from(data) : data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    unlinkQuiet(tmp);
    rethrowWriteError(err, path);
  }
}

/**
 * Config fields whose non-finite value is a config setting, not a measurement: written as the
 * config schema spells it ("inf" = no capacity limit) so config.json and plan.json validate again.
 */
const CONFIG_INFINITY_FIELDS: ReadonlySet<string> = new Set(['capacityFactor']);

/**
 * Plain JSON for every artefact and every `--json`: NaN and ±Infinity become null (the field's
 * meaning, or a sibling field such as a summary's `status: "diverged"`, says why), except a
 * config's capacityFactor = Infinity, written "inf" as the config schema reads it. Readers accept
 * null and the strings "nan"/"inf"/"-inf" older folders hold (src/io/nonfinite.ts).
 */
export function toJson(value: unknown, indent?: number): string {
  return JSON.stringify(
    value,
    (key, v) => (typeof v === 'number' && !Number.isFinite(v) ? (v === Infinity && CONFIG_INFINITY_FIELDS.has(key) ? 'inf' : null) : v),
    indent,
  );
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, `${toJson(value, 2)}\n`);
}

/** Read a JSON file through the one reader (src/io/json.ts): a damaged file is named. */
export function readJson<T>(path: string): T {
  return readJsonFile(path) as T;
}

export function readJsonIfExists<T>(path: string): T | undefined {
  return existsSync(path) ? readJson<T>(path) : undefined;
}

/** Append one JSON object as a line (append-only logs such as metrics.jsonl). */
export function appendJsonl(path: string, row: unknown): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
    appendFileSync(path, `${toJson(row)}\n`);
  } catch (err) {
    rethrowWriteError(err, path); // a torn last line is what readJsonl already tolerates
  }
}

/**
 * Read a JSONL file, ignoring a torn last line (a process killed mid-append). Every complete
 * line must parse.
 */
export function readJsonl<T>(path: string): T[] {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  const rows: T[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === '') continue;
    try {
      rows.push(JSON.parse(line) as T);
    } catch (err) {
      const isLast = i === lines.length - 1; // no trailing newline: torn write
      if (isLast) break;
      throw new CorruptFileError(
        path,
        `line ${i + 1} is not valid JSON (${(err as Error).message})`,
        'The log is damaged in the middle (not a torn last line): restore it from a backup, or delete the lines from there on',
      );
    }
  }
  return rows;
}
