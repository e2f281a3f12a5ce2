import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { shellJoin, shellQuote } from '../../src/sweep/shell.ts';

// Strings that break naive quoting: quotes of both kinds, $(…), backticks, globs, newlines,
// a leading dash, an assignment-looking first word, unicode, the empty string.
const NASTY = [
  `it's a "test"; echo pwned`,
  `$(touch /tmp/moelab-pwned)`,
  '`id`',
  "a'b'c",
  `'`,
  `''`,
  `"`,
  '\\',
  '*',
  '~',
  '!',
  '$HOME',
  'line\nbreak',
  ' leading and trailing ',
  '-n',
  'A=b',
  'ünï cödé ✓',
  '',
  '%s %d',
  'x;y|z&w>v<u',
];

describe('shellQuote', () => {
  it('leaves plain words bare and quotes everything else', () => {
    expect(shellQuote('plan.json')).toBe('plan.json');
    expect(shellQuote('/a/b-c_d.e:f,g+h@i')).toBe('/a/b-c_d.e:f,g+h@i');
    expect(shellQuote(`it's`)).toBe(`'it'\\''s'`);
    expect(shellQuote('')).toBe(`''`);
  });

  it('bash reads every quoted word back byte for byte (and runs nothing)', () => {
    const script = `printf '%s\\0' ${shellJoin(NASTY)}`;
    const out = execFileSync('bash', ['-c', script]).toString();
    expect(out.split('\0').slice(0, -1)).toEqual(NASTY);
  });

  it('sh (dash) agrees', () => {
    const out = execFileSync('sh', ['-c', `printf '%s\\0' ${shellJoin(NASTY)}`]).toString();
    expect(out.split('\0').slice(0, -1)).toEqual(NASTY);
  });

  it('refuses NUL, which no program can receive', () => {
    expect(() => shellQuote('a\0b')).toThrow(/NUL/);
  });
});
