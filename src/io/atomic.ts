// Atomic artefact writes (docs/architecture.md#habits): write a temp file beside the target, fsync,
// rename. A reader never sees a half-written file, and a killed writer leaves only a *.tmp-*.
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, writeSync, appendFileSync, readFileSync, existsSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';

export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${Date.now()}`);
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/**
 * JSON with non-finite numbers kept readable: Infinity → "inf", -Infinity → "-inf", NaN → "nan"
 * (plain JSON.stringify would write null and lose them; the config schema reads "inf" back).
 */
export function toJson(value: unknown, indent?: number): string {
  return JSON.stringify(
    value,
    (_key, v) =>
      typeof v === 'number' && !Number.isFinite(v) ? (Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf') : v,
    indent,
  );
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, `${toJson(value, 2)}\n`);
}

export function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

export function readJsonIfExists<T>(path: string): T | undefined {
  return existsSync(path) ? readJson<T>(path) : undefined;
}

/** Append one JSON object as a line (append-only logs such as metrics.jsonl). */
export function appendJsonl(path: string, row: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  appendFileSync(path, `${toJson(row)}\n`);
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
      throw new Error(`${path}:${i + 1}: not valid JSON (${(err as Error).message})`);
    }
  }
  return rows;
}
