// buildReport(sweep, fits): the only report function that does I/O. Renders a loaded sweep
// (src/io/load.ts) and its fit records (src/analysis) into figures and tables, and writes
//
//   <out dir>/index.html          self-contained (Plotly inlined), works offline
//   <out dir>/report.md           headline numbers, figure list, fitted-parameter tables
//   <out dir>/figures/<id>.json   the exact data and layout of each figure
//   <out dir>/figures/<id>.png|svg  with --png / --svg (chromium via playwright-core)
//   <out dir>/report.pdf          with --pdf
//   <out dir>/tables/<id>.csv     runs table and fit tables
//
// It fits nothing and reads no folder: `moelab report` loads the sweep, runs the fits fits/ lacks
// (src/analysis), writes them to fits/, then calls this.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import type { AnalysisFit } from '../analysis/index.ts';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic.ts';
import type { Sweep } from '../io/load.ts';
import { sweepPaths } from '../io/results.ts';
import { provenance } from '../util/provenance.ts';
import { startTask, type Task } from '../util/progress.ts';
import { composeReport } from './compose.ts';
import type { ImageFormat } from './export.ts';
import { buildFitSections } from './fit-sections.ts';
import { RUN_COLUMNS, dataFrameToTable, runTableRows, runsDataFrame } from './frame.ts';
import { renderReportHtml, type ReportSection } from './page.ts';
import { tableToCsv, type TableSpec } from './tables.ts';

export interface BuildReportOptions {
  /** HTML file to write (default <sweep>/report/index.html); the other files go beside it. */
  out?: string;
  /** Static images of every figure. */
  formats?: ImageFormat[];
  /** Also write the whole report as report.pdf. */
  pdf?: boolean;
  /** Budget (FLOPs) the compute-optimal laws are drawn to (default: the analysis default target). */
  targetFlops?: number;
  /** Notes from the analysis (fits refused, groups left out), shown on the page and returned. */
  warnings?: string[];
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

export async function buildReport(records: Sweep, fits: readonly AnalysisFit[], options: BuildReportOptions = {}): Promise<BuildReportResult> {
  // Every progress task is ended, also when a phase throws (an open task would silence later ones).
  const tasks: Task[] = [];
  try {
    return await build(records, fits, options, (label, total) => {
      const t = startTask(label, total);
      tasks.push(t);
      return t;
    });
  } finally {
    for (const t of tasks) t.end();
  }
}

async function build(records: Sweep, fits: readonly AnalysisFit[], options: BuildReportOptions, task: (label: string, total: number) => Task): Promise<BuildReportResult> {
  const t0 = performance.now();
  const log = options.log ?? (() => {});
  const htmlPath = resolve(options.out ?? join(sweepPaths(records.dir).report, 'index.html'));
  const outDir = dirname(htmlPath);
  const figuresDir = join(outDir, 'figures');
  const tablesDir = join(outDir, 'tables');

  const warnings: string[] = [...(options.warnings ?? [])];
  // Progress with an ETA on stderr (src/util/progress.ts; the CLI installs the sink): composing in
  // four phases (fit figures and tables, the runs table through danfojs-node, the page, the page
  // with image links), then writing one unit per file. Figure export reports its own.
  const composing = task('report: composing', 4);
  const fitSections = buildFitSections(records, [...fits], warnings, options.targetFlops);
  composing.tick();

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
  composing.tick();

  const prov = provenance();
  const images: Record<string, string> = {};
  const formats = options.formats ?? [];
  const imageFormat = formats.includes('png') ? 'png' : formats[0];
  const generatedAt = new Date().toISOString();
  const meta = [`sweep folder ${records.dir}`, `moelab ${prov.moelabVersion}${prov.gitCommit ? `, commit ${prov.gitCommit.slice(0, 10)}${prov.gitDirty ? ' (dirty)' : ''}` : ''}`];
  let composed = composeReport(records, runsTable, fitSections, { generatedAt, meta, extraSections: options.extraSections });
  composing.tick();
  if (imageFormat) {
    for (const f of composed.figures) images[f.id] = `figures/${f.id}.${imageFormat}`;
    composed = composeReport(records, runsTable, fitSections, { generatedAt, meta, images, extraSections: options.extraSections });
  }
  composing.tick();
  composing.end();

  const files: string[] = [];
  const markdownPath = join(outDir, 'report.md');
  const writing = task('report: writing', 2 + composed.figures.length + composed.tables.length);
  writeFileAtomic(htmlPath, renderReportHtml(composed.page, readPlotlyBundle()));
  writing.tick();
  writeFileAtomic(markdownPath, composed.markdown);
  writing.tick();
  for (const f of composed.figures) {
    const file = join(figuresDir, `${f.id}.json`);
    writeJsonAtomic(file, f);
    files.push(file);
    writing.tick();
  }
  for (const t of composed.tables) {
    const file = join(tablesDir, `${t.id}.csv`);
    writeFileAtomic(file, tableToCsv(t));
    files.push(file);
    writing.tick();
  }
  writing.end();
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
    warnings,
    pageErrors,
    seconds: { total: (performance.now() - t0) / 1000, export: exportSeconds },
  };
}
