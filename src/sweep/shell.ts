// POSIX shell quoting for everything moelab generates that a shell will read (sbatch scripts).
// Each word goes in single quotes, where the shell interprets nothing; a single quote inside is
// written as '\'' (close, escaped quote, reopen). NUL cannot be passed to a program at all.
import { ConfigError } from '../errors.ts';

export function shellQuote(word: string): string {
  if (word.includes('\0')) {
    throw new ConfigError('argument', word, 'Remove the NUL byte; no program can receive it.', 'contains a NUL byte');
  }
  if (/^[A-Za-z0-9_./:,+@-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** An argv as one shell command line; each word quoted by shellQuote. */
export function shellJoin(argv: string[]): string {
  return argv.map(shellQuote).join(' ');
}
