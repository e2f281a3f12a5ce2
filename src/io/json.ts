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

/**
 * Offset of the first syntax error in `text` (a small JSON scanner, run only after JSON.parse
 * failed, because V8's messages do not always carry a position); text.length when it ends early.
 */
export function syntaxErrorOffset(text: string): number {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const fail = (): never => {
    throw i;
  };
  const literal = (word: string) => {
    for (const ch of word) if (text[i++] !== ch) (i--, fail());
  };
  const string = () => {
    i++; // opening quote
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 34) return void i++;
      if (c < 32) fail();
      if (c === 92) {
        i++;
        if (text[i] === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail();
          i += 5;
        } else if ('"\\/bfnrt'.includes(text[i] ?? 'x')) i++;
        else fail();
      } else i++;
    }
    fail();
  };
  const number = () => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (!m || m[0] === '-') fail();
    i += m![0].length;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') return void i++;
      for (;;) {
        ws();
        if (text[i] !== '"') fail();
        string();
        ws();
        if (text[i] !== ':') fail();
        i++;
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') return void i++;
        else fail();
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') return void i++;
      for (;;) {
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') return void i++;
        else fail();
      }
    }
    if (c === '"') return string();
    if (c === 't') return literal('true');
    if (c === 'f') return literal('false');
    if (c === 'n') return literal('null');
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return number();
    fail();
  };
  try {
    value();
    ws();
    if (i < text.length) fail();
  } catch (at) {
    if (typeof at === 'number') return Math.min(at, text.length);
    throw at;
  }
  return text.length;
}

/** JSON.parse's complaint, placed at a line and column of `text`. */
function describeSyntaxError(err: Error, text: string): string {
  if (text.trim() === '') return 'is empty (not valid JSON)';
  const offset = syntaxErrorOffset(text);
  const { line, column } = lineColumn(text, offset);
  if (offset >= text.length) return `not valid JSON at line ${line}, column ${column}: the text ends early (cut short?)`;
  const message = err.message.split('\n')[0].replace(/\s*\(line \d+ column \d+\)$/, '');
  return `not valid JSON at line ${line}, column ${column}, near ${JSON.stringify(text.slice(offset, offset + 12))} (${message.slice(0, 120)})`;
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
