// Static export of a generated report through Debian chromium driven by playwright-core
// (docs/references.md#plots): one browser, one loaded page, then Plotly.toImage per figure (~0.1 s each)
// and page.pdf for the whole report. Never `npx playwright install`: the browser is the system's.
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../errors.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { FIGURE_HEIGHT, FIGURE_WIDTH } from './figure.ts';
import { startTask } from '../util/progress.ts';

export const DEFAULT_CHROMIUM = '/usr/bin/chromium';

/** Flags from docs/references.md#plots: headless without a sandbox or GPU, and no background network traffic. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export type ImageFormat = 'png' | 'svg';

/** The report page's globals the export reads (set by the report's script and by Plotly). */
type ReportWindow = typeof window & {
  moelabReport: { errors: string[]; figures: string[] };
  Plotly: { toImage(el: unknown, options: unknown): Promise<string> };
};

/** Above this many columns in any table, the PDF is A4 landscape at a smaller scale. */
export const PDF_PORTRAIT_MAX_COLUMNS = 12;

export interface ExportOptions {
  /** Folder for figures/<id>.<format>. */
  outDir: string;
  formats: ImageFormat[];
  /** Write the whole report as this PDF file. */
  pdfPath?: string;
  executablePath?: string;
  width?: number;
  height?: number;
  /** Milliseconds to wait for every plot to be drawn (default 60 s). */
  timeoutMs?: number;
}

export interface ExportResult {
  files: string[];
  figureIds: string[];
  /** Uncaught page errors and console errors seen while loading and exporting. */
  pageErrors: string[];
  seconds: number;
}

/** The chromium executable to use: explicit path, else $MOELAB_CHROMIUM, else /usr/bin/chromium. */
export function chromiumPath(explicit?: string): string {
  return explicit ?? process.env.MOELAB_CHROMIUM ?? DEFAULT_CHROMIUM;
}

export function assertChromium(path: string): void {
  if (!existsSync(path)) {
    throw new ConfigError(
      'chromium',
      path,
      'Install it with `bash scripts/setup.sh --report` (Debian package chromium), or point MOELAB_CHROMIUM at a Chromium executable.',
      'static export (--png/--svg/--pdf) needs a Chromium executable and none was found',
    );
  }
}

export async function launchChromium(executablePath?: string) {
  const path = chromiumPath(executablePath);
  assertChromium(path);
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: path, args: CHROMIUM_ARGS, headless: true });
}

function decodeDataUrl(url: string): Buffer {
  const comma = url.indexOf(',');
  const header = url.slice(0, comma);
  const body = url.slice(comma + 1);
  return header.endsWith(';base64') ? Buffer.from(body, 'base64') : Buffer.from(decodeURIComponent(body), 'utf8');
}

/** Open the report, wait until every plot is drawn, write each figure as an image (and the PDF). */
export async function exportReport(htmlPath: string, options: ExportOptions): Promise<ExportResult> {
  const t0 = performance.now();
  const width = options.width ?? FIGURE_WIDTH;
  const height = options.height ?? FIGURE_HEIGHT;
  const browser = await launchChromium(options.executablePath);
  const pageErrors: string[] = [];
  const files: string[] = [];
  try {
    const page = await browser.newPage({ viewport: { width: width + 100, height: 900 } });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text());
    });
    await page.goto(pathToFileURL(resolve(htmlPath)).href, { waitUntil: 'load' });
    await page.waitForFunction(() => document.body.getAttribute('data-plots-ready') !== 'false', undefined, {
      timeout: options.timeoutMs ?? 60_000,
    });
    const state = await page.evaluate(() => ({
      ready: document.body.getAttribute('data-plots-ready'),
      errors: (window as ReportWindow).moelabReport.errors,
      ids: (window as ReportWindow).moelabReport.figures,
    }));
    if (state.ready !== 'true') throw new Error(`the report's plots failed to draw: ${state.errors.join('; ')}`);

    mkdirSync(options.outDir, { recursive: true });
    const task = startTask('report: figure export', state.ids.length * options.formats.length + (options.pdfPath ? 1 : 0));
    try {
      for (const id of state.ids) {
        for (const format of options.formats) {
          const url = await page.evaluate(
            async ({ id, format, width, height }) => {
              const el = document.getElementById(`fig-${id}`);
              const plotly = (window as ReportWindow).Plotly;
              return plotly.toImage(el, { format, width, height });
            },
            { id, format, width, height },
          );
          const file = join(options.outDir, `${id}.${format}`);
          writeFileAtomic(file, decodeDataUrl(url)); // a full disk: named, no half-written image
          files.push(file);
          task.tick();
        }
      }
      if (options.pdfPath) {
        await page.emulateMedia({ media: 'print' });
        // Wide tables (the runs table has ~30 columns) do not fit A4 portrait: landscape and a
        // smaller scale when any table has more than PDF_PORTRAIT_MAX_COLUMNS columns.
        const widest = await page.evaluate(() =>
          Math.max(0, ...Array.from(document.querySelectorAll('table')).map((t) => t.rows[0]?.cells.length ?? 0)),
        );
        const landscape = widest > PDF_PORTRAIT_MAX_COLUMNS;
        await page.pdf({
          path: options.pdfPath,
          format: 'A4',
          landscape,
          printBackground: true,
          scale: landscape ? 0.55 : 0.7,
          margin: { top: '12mm', bottom: '12mm', left: '10mm', right: '10mm' },
        });
        files.push(options.pdfPath);
        task.tick();
      }
    } finally {
      task.end();
    }
    return { files, figureIds: state.ids, pageErrors, seconds: (performance.now() - t0) / 1000 };
  } finally {
    await browser.close();
  }
}
