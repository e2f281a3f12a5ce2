// The generated report opened in a real headless chromium (Debian's, via playwright-core): every
// plot draws without page errors or network access, each figure has the expected traces and
// points, tables have one row per run, data-derived markup renders as text, and exported PNGs are
// images of the expected size. Installs chromium (apt-get, as scripts/setup.sh --report) if
// missing; skips (with the reason) only when that fails.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildReportResult } from '../../src/report/build.ts';
import { reportSweep as buildReport } from '../../src/cli/report.ts';
import { CHROMIUM_ARGS, chromiumPath } from '../../src/report/export.ts';
import { FIGURE_HEIGHT, FIGURE_WIDTH } from '../../src/report/figure.ts';
import { representativeMoeRun } from '../../src/report/figures/expert-usage.ts';
import { evalRows } from '../../src/report/records.ts';
import { loadSweep } from '../../src/io/load.ts';
import { XSS_RUN_ID, XSS_SWEEP_NAME, writeSyntheticSweep, type SyntheticSweepInfo } from './synthetic-sweep.ts';

/**
 * Install Debian's chromium when it is missing, as `scripts/setup.sh --report` does (`npm test`
 * runs that first). apt-get directly, not setup.sh: setup.sh may also run `npm ci`, which must
 * never happen under a running test suite.
 */
function ensureChromium(): string | undefined {
  const path = chromiumPath();
  if (existsSync(path)) return undefined;
  const asRoot = (args: string[]) => (process.getuid?.() === 0 ? args : ['sudo', '-n', ...args]);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const run = (args: string[]) => {
    const [bin, ...rest] = asRoot(args);
    execFileSync(bin, rest, { stdio: 'pipe', timeout: 600_000, env });
  };
  try {
    run(['apt-get', 'update', '-qq']);
    run(['apt-get', 'install', '-y', '-qq', '--no-install-recommends', 'chromium']);
  } catch (err) {
    return `chromium is not installed at ${path} and apt-get could not install it (${(err as Error).message.split('\n')[0]}); run scripts/setup.sh --report`;
  }
  return existsSync(path) ? undefined : `chromium still missing at ${path} after apt-get install chromium (set MOELAB_CHROMIUM to another path)`;
}

const skipReason = ensureChromium();
if (skipReason) console.warn(`[report browser test] SKIPPED: ${skipReason}`);

/** Width and height from a PNG's IHDR chunk (bytes 16–23, big-endian). */
function pngSize(file: string): { width: number; height: number; bytes: number } {
  const buf = readFileSync(file);
  expect(buf.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
  expect(buf.subarray(12, 16).toString('latin1')).toBe('IHDR');
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20), bytes: buf.length };
}

interface PlotInfo {
  id: string;
  hasSvg: boolean;
  traces: { name: string | null; type: string; points: number }[];
}

interface PageState {
  plots: PlotInfo[];
  pageErrors: string[];
  dialogs: string[];
  externalRequests: string[];
  runRows: number;
  /** Body rows of every table by element id. */
  tableRows: Record<string, number>;
  bodyText: string;
  imgCount: number;
  title: string;
  /** Legend entries of the loss-vs-tokens figure as drawn (SVG text content). */
  legendTexts: string[];
}

type Browser = Awaited<ReturnType<(typeof import('playwright-core'))['chromium']['launch']>>;

async function openReport(browser: Browser, htmlPath: string): Promise<PageState> {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  const state = { pageErrors: [] as string[], dialogs: [] as string[], externalRequests: [] as string[] };
  page.on('pageerror', (e) => state.pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') state.pageErrors.push(m.text());
  });
  page.on('dialog', async (d) => {
    state.dialogs.push(d.message());
    await d.dismiss();
  });
  // Offline: anything but the file itself (and inline data: URLs) is recorded and refused.
  await page.route('**/*', async (route) => {
    const url = route.request().url();
    if (url.startsWith('file:') || url.startsWith('data:')) return route.continue();
    state.externalRequests.push(url);
    return route.abort();
  });
  await page.goto(`file://${htmlPath}`, { waitUntil: 'load' });
  await page.waitForFunction(() => document.body.getAttribute('data-plots-ready') !== 'false', undefined, { timeout: 60_000 });
  expect(await page.evaluate(() => document.body.getAttribute('data-plots-ready'))).toBe('true');
  const plots = await page.evaluate(() =>
    Array.from(document.querySelectorAll<HTMLElement>('.plot')).map((el) => {
      const gd = el as unknown as { data?: { name?: string; type?: string; x?: ArrayLike<unknown>; z?: ArrayLike<ArrayLike<unknown>> }[] };
      return {
        id: el.dataset.figure ?? '',
        hasSvg: el.querySelector('svg.main-svg') !== null,
        traces: (gd.data ?? []).map((t) => ({
          name: t.name ?? null,
          type: t.type ?? 'scatter',
          points: t.z ? Array.from(t.z).reduce((s, r) => s + r.length, 0) : t.x ? t.x.length : 0,
        })),
      };
    }),
  );
  const result: PageState = {
    ...state,
    plots,
    runRows: await page.evaluate(() => document.querySelectorAll('#table-runs tbody tr').length),
    tableRows: await page.evaluate(() =>
      Object.fromEntries(Array.from(document.querySelectorAll('table.data')).map((t) => [t.id, t.querySelectorAll('tbody tr').length])),
    ),
    bodyText: await page.evaluate(() => document.body.innerText),
    imgCount: await page.evaluate(() => document.querySelectorAll('img').length),
    title: await page.title(),
    legendTexts: await page.evaluate(() => Array.from(document.querySelectorAll('#fig-loss-vs-tokens .legendtext')).map((e) => e.textContent ?? '')),
  };
  await page.close();
  return result;
}

describe.skipIf(skipReason !== undefined)('report in headless chromium', () => {
  let root: string;
  let info: SyntheticSweepInfo;
  let built: BuildReportResult;
  let big: PageState;
  let small: PageState;
  let smallInfo: SyntheticSweepInfo;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'moelab-report-'));
    info = writeSyntheticSweep(join(root, 'sweep'));
    built = await buildReport(info.dir, { formats: ['png'], pdf: true, bootstrap: 50 });
    // A small sweep (legend per run) whose runs include the one named like an HTML tag.
    smallInfo = writeSyntheticSweep(join(root, 'small'), { studies: ['schedule', 'xss'] });
    const smallBuilt = await buildReport(smallInfo.dir, { bootstrap: 0 });

    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS, headless: true });
    try {
      big = await openReport(browser, built.htmlPath);
      small = await openReport(browser, smallBuilt.htmlPath);
    } finally {
      await browser.close();
    }
  }, 240_000);

  afterAll(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('draws every figure with no page error, dialog or network request', () => {
    for (const state of [big, small]) {
      expect(state.pageErrors).toEqual([]);
      expect(state.dialogs).toEqual([]);
      expect(state.externalRequests).toEqual([]);
    }
    expect(big.plots.map((p) => p.id)).toEqual(built.figureIds);
    for (const p of [...big.plots, ...small.plots]) {
      expect(p.hasSvg, p.id).toBe(true);
      expect(p.traces.length, p.id).toBeGreaterThan(0);
    }
  });

  it('has the run-based figures with one trace per run and one point per evaluation', () => {
    const plots = big.plots;
    const ids = plots.map((p) => p.id);
    for (const id of ['loss-vs-tokens', 'loss-vs-flops', 'lr-curves', 'expert-usage', 'token-fractions']) expect(ids).toContain(id);
    const records = loadSweep(info.dir);
    const byTokens = plots.find((p) => p.id === 'loss-vs-tokens')!;
    // Two panels: training loss (every logged step) and validation loss (each evaluation), one trace per run in each.
    expect(byTokens.traces).toHaveLength(2 * records.runs.length);
    const expectedPoints = records.runs.map((r) => evalRows(r).length + r.metrics.filter((m) => Number.isFinite(m.trainLoss)).length).reduce((a, b) => a + b, 0);
    expect(byTokens.traces.reduce((s, t) => s + t.points, 0)).toBe(expectedPoints);
    const byFlops = plots.find((p) => p.id === 'loss-vs-flops')!;
    expect(byFlops.traces).toHaveLength(records.runs.length + 1);
    expect(byFlops.traces.at(-1)!.name).toMatch(/envelope/);
    expect(byFlops.traces.at(-1)!.points).toBeGreaterThan(10);
    // Token fractions: a dropped and a recycled trace per MoE run (every synthetic run is MoE).
    expect(plots.find((p) => p.id === 'token-fractions')!.traces).toHaveLength(2 * records.runs.length);
    // Expert usage: the heatmap (4 experts × logged steps) plus one imbalance line per run.
    const usage = plots.find((p) => p.id === 'expert-usage')!;
    expect(usage.traces[0].type).toBe('heatmap');
    // The representative run is the largest-compute finished run: the top budget's.
    const rep = representativeMoeRun(records.runs)!;
    expect(rep.runId).toMatch(/^synth-iso-C1e14-/);
    expect(usage.traces[0].points).toBe(4 * rep.metrics.length);
    expect(usage.traces).toHaveLength(1 + records.runs.length);
  });

  it('has the fit-based figures with the expected traces and points', () => {
    const plot = (id: string) => big.plots.find((p) => p.id === id)!;
    for (const id of ['isoflop', 'scaling-n-opt', 'scaling-d-opt', 'scaling-l-min', 'parametric', 'lr-batch', 'schedule-loss']) expect(plot(id), id).toBeDefined();
    // isoFLOP: points + parabola + minimum for each of the 3 budgets; 5 sizes per budget.
    const iso = plot('isoflop');
    expect(iso.traces).toHaveLength(9);
    expect([0, 3, 6].map((i) => iso.traces[i].points)).toEqual([5, 5, 5]);
    const nOpt = plot('scaling-n-opt');
    expect(nOpt.traces.find((t) => t.name === 'per-budget optimum (isoFLOP parabola)')!.points).toBe(3);
    expect(nOpt.traces.some((t) => /UNCONFIRMED/.test(t.name ?? ''))).toBe(true);
    expect(nOpt.traces.some((t) => /^Chinchilla 20 tokens\/param/.test(t.name ?? ''))).toBe(true);
    // Parametric: the 70×70 contour and one marker per finished isoFLOP run.
    const para = plot('parametric');
    expect(para.traces[0]).toMatchObject({ type: 'contour', points: 4900 });
    expect(para.traces.find((t) => t.name === 'runs')!.points).toBe(info.isoflopRunIds.length);
    // LR × batch: 6 LRs × 5 batches, the diverged runs crossed out.
    const grid = plot('lr-batch');
    expect(grid.traces[0]).toMatchObject({ type: 'heatmap', points: 30 });
    expect(grid.traces.find((t) => t.name === 'diverged')!.points).toBe(info.divergedRunIds.length);
    // Schedules: logged curve + fitted/predicted law for each of the 3 schedules.
    expect(plot('schedule-loss').traces).toHaveLength(6);
  });

  it('has the expected table rows', () => {
    expect(big.runRows).toBe(info.runIds.length);
    expect(small.runRows).toBe(smallInfo.runIds.length);
    expect(big.tableRows['table-isoflop-budgets']).toBe(3);
    expect(big.tableRows['table-fit-params']).toBeGreaterThan(20);
    // Held-out: 4 isoFLOP predictions, 5 parametric (largest budget's runs), 1 surge, 1 schedule, compute.
    expect(big.tableRows['table-held-out']).toBeGreaterThanOrEqual(11);
  });

  it('renders data-derived markup as text', () => {
    expect(big.imgCount).toBe(0);
    expect(big.title).toBe(`moelab report: ${XSS_SWEEP_NAME}`);
    expect(big.bodyText).toContain(XSS_RUN_ID);
    expect(big.bodyText).toContain(XSS_SWEEP_NAME);
    const html = readFileSync(built.htmlPath, 'utf8');
    expect(html).not.toContain(XSS_RUN_ID);
    expect(html).not.toContain('<script>alert(');
  });

  it('shows legend labels with markup characters literally', () => {
    // Small sweep: one legend entry per run, the tag-like run id among them, drawn as text.
    expect(small.legendTexts).toContain(XSS_RUN_ID);
    expect(small.imgCount).toBe(0);
    // Large sweep: one entry per group (budget, batch, schedule) instead.
    expect(big.legendTexts).toContain('C = 1e13 FLOPs');
    expect(big.legendTexts).not.toContain(XSS_RUN_ID);
  });

  it('exports a PNG of the expected size for every figure, and a PDF', () => {
    for (const id of built.figureIds) {
      const { width, height, bytes } = pngSize(join(built.htmlPath, '..', 'figures', `${id}.png`));
      expect([width, height], id).toEqual([FIGURE_WIDTH, FIGURE_HEIGHT]);
      expect(bytes, id).toBeGreaterThan(10_000);
    }
    const pdf = readFileSync(join(built.htmlPath, '..', 'report.pdf'));
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(pdf.length).toBeGreaterThan(20_000);
    // The runs table is wider than PDF_PORTRAIT_MAX_COLUMNS: A4 landscape (842 × 595 pt).
    const box = /\/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]/.exec(pdf.toString('latin1'));
    expect(box).not.toBeNull();
    expect(Number(box![1])).toBeGreaterThan(Number(box![2]));
    expect(built.pageErrors).toEqual([]);
  });
});
