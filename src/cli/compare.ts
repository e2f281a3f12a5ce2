// `moelab compare DIR DIR… [--brief] [--json] [--out FILE]`: the side-by-side tables of several studies (the
// quick and standard presets of experiments/hunyuan-small.ts, say) in one table, each study's
// fits/paper-comparison.json (written by `moelab reproduce`) joined on the rows' keys
// (src/study/side-by-side.ts). Markdown on stdout; --json prints the joined rows; --out writes
// the markdown atomically.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { ConfigError, CorruptFileError } from '../errors.ts';
import type { PresetComparison } from '../study/side-by-side.ts';

/** Read and check one study's fits/paper-comparison.json. */
export async function readPresetComparison(dir: string): Promise<PresetComparison> {
  const file = join(dir, 'fits', 'paper-comparison.json');
  if (!existsSync(file)) {
    throw new ConfigError('DIR', dir, 'Give a study folder that `moelab reproduce` finished (it writes fits/paper-comparison.json).', `no ${file}`);
  }
  const { readJson } = await import('../io/atomic.ts');
  const raw = readJson<Partial<PresetComparison> & { kind?: unknown }>(file);
  if (raw.kind !== 'paper-comparison' || typeof raw.study !== 'string' || typeof raw.preset !== 'string' || !Array.isArray(raw.rows)) {
    throw new CorruptFileError(file, 'not a side-by-side table (kind "paper-comparison" with study, preset and rows)', 'Run `moelab reproduce` on that study again to rewrite it (finished runs are skipped)');
  }
  const unkeyed = raw.rows.findIndex((r) => typeof r?.key !== 'string');
  if (unkeyed >= 0) {
    throw new CorruptFileError(file, `row ${unkeyed + 1} has no key (written by a moelab before tables could be joined)`, 'Run `moelab reproduce` on that study again to rewrite it (finished runs are skipped; only the fits and the report are redone)');
  }
  return { study: raw.study, preset: raw.preset, rows: raw.rows };
}

export function registerCompare(program: Command): void {
  program
    .command('compare')
    .description('the side-by-side tables of several studies (e.g. the quick and standard presets) joined in one table')
    .argument('<dirs...>', 'study folders written by `moelab reproduce`')
    .option('--out <file>', 'also write the markdown table to this file')
    .option('--brief', 'each verdict without its reason (a narrower table)')
    .option('--json', 'print the joined rows as JSON instead of markdown')
    .action(async (dirs: string[], opts: { out?: string; json?: boolean; brief?: boolean }) => {
      const tables = await Promise.all(dirs.map(readPresetComparison));
      const { joinComparisons, sideBySideMarkdown } = await import('../study/side-by-side.ts');
      const markdown = sideBySideMarkdown(tables, opts.brief === true);
      if (opts.out) {
        const { writeFileAtomic } = await import('../io/atomic.ts');
        writeFileAtomic(opts.out, `${markdown}\n`);
      }
      if (opts.json) {
        const { toJson } = await import('../io/atomic.ts');
        process.stdout.write(`${toJson({ studies: tables.map((t) => ({ study: t.study, preset: t.preset })), rows: joinComparisons(tables) }, 2)}\n`);
      } else process.stdout.write(`${markdown}\n`);
    });
}
