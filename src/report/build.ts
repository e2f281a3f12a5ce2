// buildReport(sweepDir): the only report function that does I/O. Reads the sweep folder, runs the
// standard fits that fits/ lacks, composes figures and tables, and writes
//
//   <out dir>/index.html          self-contained (Plotly inlined), works offline
//   <out dir>/report.md           headline numbers, figure list, fitted-parameter tables
//   <out dir>/figures/<id>.json   the exact data and layout of each figure
//   <out dir>/figures/<id>.png|svg  with --png / --svg (chromium via playwright-core)
//   <out dir>/report.pdf          with --pdf
//   <out dir>/tables/<id>.csv     runs table and fit tables
//   <out dir>/fits/<kind>.json    records of the standard fits the report ran itself
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import type { ScheduleLawName } from '../fit/schedule-laws.ts';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic.ts';
import { sweepPaths } from '../io/results.ts';
import { provenance } from '../util/provenance.ts';
import { composeReport } from './compose.ts';
import type { ImageFormat } from './export.ts';
import { buildFitSections, standardFits, type LoadedFit, type StandardFitOptions } from './fit-sections.ts';
import { RUN_COLUMNS, dataFrameToTable, runTableRows, runsDataFrame } from './frame.ts';
import { renderReportHtml, type ReportSection } from './page.ts';
import { loadSweepRecords } from './records.ts';
import { tableToCsv, type TableSpec } from './tables.ts';

export interface BuildReportOptions {
  /** HTML file to write (default <sweep>/report/index.html); the other files go beside it. */
  out?: string;
  /** Static images of every figure. */
  formats?: ImageFormat[];
  /** Also write the whole report as report.pdf. */
  pdf?: boolean;
  /** Run the standard fits when fits/ lacks them (default true). */
  runFits?: boolean;
  /** Budget (FLOPs) the compute-optimal laws are extrapolated to (default 100 × the largest budget). */
  targetFlops?: number;
  /** Bootstrap resamples of the report's own fits (default 1000; the parametric fit uses 200). */
  bootstrap?: number;
  /** Schedule-aware loss law for the schedule comparison (default tissue). */
  scheduleLaw?: ScheduleLawName;
  /** Surge method of the report's own surge fit (default auto: steps-to-target for constant-LR grids). */
  surgeMethod?: StandardFitOptions['surgeMethod'];
  /** Target train loss of a steps-to-target surge fit (default: auto). */
  targetLoss?: number;
  seed?: number;
  /** Chromium executable for static export (default $MOELAB_CHROMIUM or /usr/bin/chromium). */
  chromium?: string;
  /** Progress lines (the CLI prints them). */
  log?: (line: string) => void;
  /** Sections appended at the end of the report (HTML and report.md), e.g. a paper comparison. */
  extraSections?: ReportSection[];
}

export interface BuildReportResult {
  htmlPath: string;
  markdownPath: string;
  figureIds: string[];
  tableIds: string[];
  /** Figure JSON, CSV tables, images and PDF written. */
  files: string[];
  /** Fits computed by the report because fits/ lacked them (kind names). */
  fitsComputed: string[];
  /** Problems that left a figure out (e.g. a fit refused the data), one line each. */
  warnings: string[];
  pageErrors: string[];
  seconds: { total: number; export?: number };
}

/** The inlined Plotly bundle (plotly.js-dist-min, ~4.8 MB). */
export function readPlotlyBundle(): string {
  const require = createRequire(import.meta.url);
  return readFileSync(require.resolve('plotly.js-dist-min'), 'utf8');
}

export async function buildReport(sweepDir: string, options: BuildReportOptions = {}): Promise<BuildReportResult> {
  const t0 = performance.now();
  const log = options.log ?? (() => {});
  const htmlPath = resolve(options.out ?? join(sweepPaths(sweepDir).report, 'index.html'));
  const outDir = dirname(htmlPath);
  const figuresDir = join(outDir, 'figures');
  const tablesDir = join(outDir, 'tables');

  const records = loadSweepRecords(sweepDir);
  log(`read ${records.runs.length} runs and ${records.fits.length} fit records from ${records.dir}`);

  const warnings: string[] = [];
  const existing = records.fits as LoadedFit[];
  const fitOptions = {
    targetFlops: options.targetFlops,
    seed: options.seed,
    scheduleLaw: options.scheduleLaw,
    surgeMethod: options.surgeMethod,
    targetLoss: options.targetLoss,
    ...(options.bootstrap !== undefined ? { bootstrap: options.bootstrap, parametricBootstrap: Math.min(options.bootstrap, 200) } : {}),
  };
  const tFit = performance.now();
  const computed = options.runFits === false ? { fits: [], computed: [], warnings: [] } : await standardFits(records, existing, fitOptions);
  warnings.push(...computed.warnings);
  if (computed.computed.length) log(`ran the standard fits fits/ lacked: ${computed.computed.join(', ')} (${((performance.now() - tFit) / 1000).toFixed(1)} s)`);
  const fitSections = buildFitSections(records, [...existing, ...computed.fits], warnings, options.targetFlops);

  const rows = runTableRows(records.runs);
  let runsTable: TableSpec;
  try {
    const df = await runsDataFrame(rows);
    runsTable = dataFrameToTable(df, 'runs', 'Runs', 'One row per run (from a danfojs-node DataFrame; loadRuns(dir) returns the same frame).');
  } catch (err) {
    // The table's content does not depend on danfojs; a broken install must not cost the report.
    warnings.push(`danfojs-node did not load (${(err as Error).message.split('\n')[0]}); the runs table was built without it. Reinstall with \`npm ci\`.`);
    runsTable = { id: 'runs', title: 'Runs', caption: 'One row per run.', columns: [...RUN_COLUMNS], rows: rows.map((r) => RUN_COLUMNS.map((c) => r[c])) };
  }

  const prov = provenance();
  const images: Record<string, string> = {};
  const formats = options.formats ?? [];
  const imageFormat = formats.includes('png') ? 'png' : formats[0];
  const generatedAt = new Date().toISOString();
  const meta = [`sweep folder ${records.dir}`, `moelab ${prov.moelabVersion}${prov.gitCommit ? `, commit ${prov.gitCommit.slice(0, 10)}${prov.gitDirty ? ' (dirty)' : ''}` : ''}`];
  let composed = composeReport(records, runsTable, fitSections, { generatedAt, meta, extraSections: options.extraSections });
  if (imageFormat) {
    for (const f of composed.figures) images[f.id] = `figures/${f.id}.${imageFormat}`;
    composed = composeReport(records, runsTable, fitSections, { generatedAt, meta, images, extraSections: options.extraSections });
  }

  const files: string[] = [];
  writeFileAtomic(htmlPath, renderReportHtml(composed.page, readPlotlyBundle()));
  const markdownPath = join(outDir, 'report.md');
  writeFileAtomic(markdownPath, composed.markdown);
  for (const f of composed.figures) {
    const file = join(figuresDir, `${f.id}.json`);
    writeJsonAtomic(file, f);
    files.push(file);
  }
  // The report's own fits, as records beside it (fits/ stays what `moelab fit` wrote).
  for (const f of computed.fits) {
    const file = join(outDir, 'fits', `${f.kind}.json`);
    writeJsonAtomic(file, f);
    files.push(file);
  }
  for (const t of composed.tables) {
    const file = join(tablesDir, `${t.id}.csv`);
    writeFileAtomic(file, tableToCsv(t));
    files.push(file);
  }
  log(`wrote ${relative(process.cwd(), htmlPath) || htmlPath} (${composed.figures.length} figures, ${composed.tables.length} tables)`);

  let pageErrors: string[] = [];
  let exportSeconds: number | undefined;
  if (formats.length > 0 || options.pdf) {
    const { exportReport } = await import('./export.ts');
    const res = await exportReport(htmlPath, {
      outDir: figuresDir,
      formats,
      pdfPath: options.pdf ? join(outDir, 'report.pdf') : undefined,
      executablePath: options.chromium,
    });
    files.push(...res.files);
    pageErrors = res.pageErrors;
    exportSeconds = res.seconds;
    log(`exported ${res.files.length} files in ${res.seconds.toFixed(1)} s`);
  }
  return {
    htmlPath,
    markdownPath,
    figureIds: composed.figures.map((f) => f.id),
    tableIds: composed.tables.map((t) => t.id),
    files,
    fitsComputed: computed.computed,
    warnings,
    pageErrors,
    seconds: { total: (performance.now() - t0) / 1000, export: exportSeconds },
  };
}
