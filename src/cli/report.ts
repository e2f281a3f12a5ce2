// `moelab report DIR [--out FILE] [--png|--svg|--pdf] [--json]`: load the sweep (src/io/load.ts), run
// the standard fits fits/ lacks (src/analysis) and write them to fits/, then render the interactive
// HTML report, report.md, figure data and CSV tables (src/report); static images and PDF through
// chromium. Progress and notes go to stderr; stdout has the two paths, or with --json one object
// (ReportJson).
import type { Command } from 'commander';
import type { AnalysisOptions } from '../analysis/plan.ts';
import type { BuildReportOptions, BuildReportResult } from '../report/build.ts';
import { flagValues, REPORT_FLAGS, type FlagValues } from './analysis-flags.ts';

export interface ReportSweepOptions extends AnalysisOptions, Pick<BuildReportOptions, 'out' | 'formats' | 'pdf' | 'chromium' | 'log' | 'extraSections'> {
  /** Run the fits fits/ lacks (default true). */
  runFits?: boolean;
  /** Refit every kind, replacing the records in fits/. */
  refit?: boolean;
  /**
   * Add the comparison sections (noise floor, paired differences across seeds, expert-LR
   * experiment, isoFLOP sensitivity, schedule-law check; docs/statistics.md) where the runs have
   * what each needs (default true).
   */
  comparisons?: boolean;
}

/**
 * Load → fit what fits/ lacks → write those records to fits/ → render. The records on disk are
 * reused as they are (`refit` recomputes them).
 */
export async function reportSweep(dir: string, options: ReportSweepOptions = {}): Promise<BuildReportResult & { fitsComputed: string[] }> {
  const [{ loadSweep }, { writeFitRecord }, analysis, { buildReport }] = await Promise.all([
    import('../io/load.ts'),
    import('../io/fits.ts'),
    import('../analysis/index.ts'),
    import('../report/build.ts'),
  ]);
  const log = options.log ?? (() => {});
  const sweep = loadSweep(dir);
  const stored = options.refit ? [] : sweep.fits.flatMap((f) => analysis.asAnalysisFit(f) ?? []);
  log(`read ${sweep.runs.length} runs and ${stored.length} fit records from ${sweep.dir}`);
  const have = new Set(stored.map((f) => f.kind));
  const t0 = performance.now();
  const computed =
    options.runFits === false
      ? { fits: [], computed: [], warnings: [] }
      : await analysis.runFits(sweep, analysis.planFits(sweep, { ...options, kinds: (options.kinds ?? analysis.FIT_KINDS_STANDARD).filter((k) => !have.has(k)) }), {
          computeFit: analysis.latestFit(stored, 'compute'),
        });
  const written = computed.fits.map((f) => {
    const fitFile = analysis.fitFileName(f);
    writeFitRecord(sweep.dir, fitFile, f);
    return { ...f, fitFile };
  });
  if (computed.computed.length) log(`ran the fits fits/ lacked: ${computed.computed.join(', ')} (${((performance.now() - t0) / 1000).toFixed(1)} s), wrote them to fits/`);
  const fits = [...stored, ...written];
  let extraSections = options.extraSections ?? [];
  if (options.comparisons !== false) {
    log('comparing arms across seeds');
    const { renderComparisons } = await import('../report/comparisons.ts');
    extraSections = [...extraSections, ...renderComparisons(analysis.analyseComparisons(sweep, fits))];
  }
  const res = await buildReport(sweep, fits, { ...options, extraSections, warnings: computed.warnings });
  return { ...res, fitsComputed: computed.computed };
}

/** What `moelab report --json` prints on stdout (one object; README "JSON output"). */
export interface ReportJson {
  htmlPath: string;
  markdownPath: string;
  /** Figure JSON, CSV tables, images and PDF written beside the HTML. */
  files: string[];
  figureIds: string[];
  tableIds: string[];
  /** Fit kinds run because fits/ lacked them (written to fits/). */
  fitsComputed: string[];
  warnings: string[];
  pageErrors: string[];
  seconds: { total: number; export?: number };
}

export function reportJson(res: BuildReportResult & { fitsComputed: string[] }): ReportJson {
  const { htmlPath, markdownPath, files, figureIds, tableIds, fitsComputed, warnings, pageErrors, seconds } = res;
  return { htmlPath, markdownPath, files, figureIds, tableIds, fitsComputed, warnings, pageErrors, seconds };
}

export function registerReport(program: Command): void {
  const cmd = program
    .command('report')
    .description('run the standard fits fits/ lacks and write a self-contained HTML report (plus report.md, figure JSON, CSV tables) for a sweep folder')
    .argument('<dir>', 'sweep folder (results/<sweep name>)')
    .option('--out <file>', 'HTML file to write (default <dir>/report/index.html); other files go beside it')
    .option('--png', 'also export every figure as PNG (needs chromium: scripts/setup.sh --report)')
    .option('--svg', 'also export every figure as SVG')
    .option('--pdf', 'also write the whole report as report.pdf')
    .option('--no-fits', 'do not run the standard fits that fits/ lacks')
    .option('--refit', 'rerun every standard fit, replacing the records in fits/')
    .option('--json', 'print one JSON object on stdout (paths, files, fits run, warnings, seconds) instead of the two paths');
  for (const f of REPORT_FLAGS) cmd.option(f.flag, f.help);
  cmd.action(async (dir: string, opts: { out?: string; png?: boolean; svg?: boolean; pdf?: boolean; fits?: boolean; refit?: boolean; json?: boolean } & FlagValues) => {
    const analysis = flagValues(REPORT_FLAGS, opts);
    const formats = [...(opts.png ? (['png'] as const) : []), ...(opts.svg ? (['svg'] as const) : [])];
    const res = await reportSweep(dir, {
      ...analysis,
      out: opts.out,
      formats,
      pdf: opts.pdf,
      runFits: opts.fits,
      refit: opts.refit,
      log: (line) => process.stderr.write(`[report] ${line}\n`),
    });
    for (const w of res.warnings) process.stderr.write(`[report] note: ${w}\n`);
    for (const e of res.pageErrors) process.stderr.write(`[report] page error: ${e}\n`);
    if (opts.json) {
      const { toJson } = await import('../io/atomic.ts');
      process.stdout.write(`${toJson(reportJson(res), 2)}\n`);
    } else process.stdout.write(`${res.htmlPath}\n${res.markdownPath}\n`);
    process.stderr.write(`[report] done in ${res.seconds.total.toFixed(1)} s\n`);
  });
}
