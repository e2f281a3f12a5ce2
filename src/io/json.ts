// The one JSON reader (every JSON file moelab reads goes through it): a UTF-8 byte-order mark is
// accepted, and a file that does not parse, or does not have the shape its schema asks for,
// throws a CorruptFileError naming the file, the line and column, and what to do — never a bare
// "SyntaxError: … at position 50" that leaves the user to guess which of a hundred files it was.
import { existsSync, readFileSync } from 'node:fs';
import type { z } from 'zod';
import { ConfigError, CorruptFileError } from '../errors.ts';
import { issueToConfigError } from '../config/validate.ts';

/** The default way out for a file moelab wrote itself. */
export const REWRITE_FIX = 'The file is damaged (a disk problem, a copy cut short, or an edit): restore it from a backup, or delete it so moelab writes it again';

export interface JsonReadOptions<S extends z.ZodType | undefined = undefined> {
  /** What to do about a damaged file (default REWRITE_FIX). */
  fix?: string;
  /** Validate the parsed value; a mismatch is a CorruptFileError naming the first bad fields. */
  schema?: S;
}

type Out<S> = S extends z.ZodType ? z.output<S> : unknown;

/** Line and column (1-based) of a character offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < Math.min(offset, text.length); i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/** JSON.parse's complaint, with the offset turned into a line and column of `text`. */
function describeSyntaxError(err: Error, text: string): string {
  const message = err.message.replace(/\s*\(line \d+ column \d+\)$/, '');
  const m = /at position (\d+)/.exec(message);
  if (m) {
    const { line, column } = lineColumn(text, Number(m[1]));
    return `not valid JSON at line ${line}, column ${column} (${message})`;
  }
  if (text.trim() === '') return 'is empty (not valid JSON)';
  return `not valid JSON (${message})`;
}

/** Parse JSON text that came from `source` (a path or a flag); a leading BOM is skipped. */
export function parseJsonText(text: string, source: string, fix = REWRITE_FIX): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    return JSON.parse(body);
  } catch (err) {
    throw new CorruptFileError(source, describeSyntaxError(err as Error, body), fix);
  }
}

/** Check `value` read from `path` against `schema`; returns the parsed value. */
export function checkJsonShape<S extends z.ZodType>(schema: S, value: unknown, path: string, fix = REWRITE_FIX): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.slice(0, 3).map((issue) => issueToConfigError(issue, value).message.replace(/\.$/, ''));
  const more = result.error.issues.length > 3 ? ` (and ${result.error.issues.length - 3} more)` : '';
  throw new CorruptFileError(path, `does not have the expected shape: ${problems.join('; ')}${more}`, fix);
}

/** Read and parse a JSON file; named CorruptFileError on bad JSON or shape, ConfigError if unreadable. */
export function readJsonFile<S extends z.ZodType | undefined = undefined>(path: string, options: JsonReadOptions<S> = {}): Out<S> {
  const fix = options.fix ?? REWRITE_FIX;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') throw new ConfigError('file', path, 'Check the path.', 'no such file');
    if (e.code === 'EISDIR') throw new ConfigError('file', path, 'Give the path of a JSON file, not a folder.', 'is a folder');
    throw new CorruptFileError(path, `cannot be read (${e.code ?? e.message})`, 'Check its permissions and the disk');
  }
  const value = parseJsonText(text, path, fix);
  return (options.schema ? checkJsonShape(options.schema, value, path, fix) : value) as Out<S>;
}

/** readJsonFile, or undefined when the file does not exist. */
export function readJsonFileIfExists<S extends z.ZodType | undefined = undefined>(
  path: string,
  options: JsonReadOptions<S> = {},
): Out<S> | undefined {
  return existsSync(path) ? readJsonFile(path, options) : undefined;
}
