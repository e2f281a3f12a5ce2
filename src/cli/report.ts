// `moelab report DIR [--out FILE] [--png|--svg|--pdf]`: the sweep's interactive HTML report,
// report.md, figure data and CSV tables; static images and PDF through chromium.
import type { Command } from 'commander';
import { ConfigError } from '../errors.ts';

interface ReportOptions {
  out?: string;
  png?: boolean;
  svg?: boolean;
  pdf?: boolean;
  fits?: boolean;
  targetFlops?: string;
  bootstrap?: string;
  scheduleLaw?: string;
  seed?: string;
}

/** A positive number from a flag (accepts 1e18); ConfigError naming the flag otherwise. */
function positive(flag: string, value: string | undefined, integer = false): number | undefined {
  if (value === undefined) return undefined;
  const v = Number(value);
  if (!Number.isFinite(v) || v < 0 || (integer && !Number.isInteger(v)) || (!integer && v === 0)) {
    throw new ConfigError(flag, value, integer ? 'Give a whole number ≥ 0, e.g. 1000.' : 'Give a positive number, e.g. 1e18.', 'not a valid number');
  }
  return v;
}

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('write a self-contained HTML report (plus report.md, figure JSON, CSV tables) for a sweep folder')
    .argument('<dir>', 'sweep folder (results/<sweep name>)')
    .option('--out <file>', 'HTML file to write (default <dir>/report/index.html); other files go beside it')
    .option('--png', 'also export every figure as PNG (needs chromium: scripts/setup.sh --report)')
    .option('--svg', 'also export every figure as SVG')
    .option('--pdf', 'also write the whole report as report.pdf')
    .option('--no-fits', 'do not run the standard fits that fits/ lacks')
    .option('--target-flops <C>', 'budget the compute-optimal laws are extrapolated to (default 100 × the largest budget)')
    .option('--bootstrap <n>', 'bootstrap resamples of the report’s own fits (default 1000; parametric ≤ 200)')
    .option('--schedule-law <law>', 'schedule-aware loss law: tissue (default, ~1 s) or multipower (minutes)')
    .option('--seed <n>', 'seed of the bootstrap resamples (default 0)')
    .action(async (dir: string, opts: ReportOptions) => {
      const law = opts.scheduleLaw;
      if (law !== undefined && law !== 'tissue' && law !== 'multipower') {
        throw new ConfigError('--schedule-law', law, 'Use tissue or multipower.', 'unknown schedule law');
      }
      const targetFlops = positive('--target-flops', opts.targetFlops);
      const bootstrap = positive('--bootstrap', opts.bootstrap, true);
      const seed = positive('--seed', opts.seed, true);
      const { buildReport } = await import('../report/build.ts');
      const formats = [...(opts.png ? (['png'] as const) : []), ...(opts.svg ? (['svg'] as const) : [])];
      const res = await buildReport(dir, {
        out: opts.out,
        formats,
        pdf: opts.pdf,
        runFits: opts.fits,
        targetFlops,
        bootstrap,
        seed,
        scheduleLaw: law,
        log: (line) => process.stderr.write(`[report] ${line}\n`),
      });
      for (const w of res.warnings) process.stderr.write(`[report] note: ${w}\n`);
      for (const e of res.pageErrors) process.stderr.write(`[report] page error: ${e}\n`);
      process.stdout.write(`${res.htmlPath}\n${res.markdownPath}\n`);
      process.stderr.write(`[report] done in ${res.seconds.total.toFixed(1)} s\n`);
    });
}
