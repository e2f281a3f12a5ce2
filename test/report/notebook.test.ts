// Notebook outputs (src/report/notebook.ts): escaping and ids as strings, then the outputs pasted
// into one page the way Jupyter shows them, opened in headless chromium: both figures draw from
// the inline bundle (no network), also when a figure's output comes before the loader's and when
// require.js-style `define` is on the page (Jupyter's classic notebook loads require.js).
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readPlotlyBundle } from '../../src/report/build.ts';
import { chromiumPath, launchChromium } from '../../src/report/export.ts';
import type { FigureSpec } from '../../src/report/figure.ts';
import { figureOutputHtml, plotlyLoaderHtml, tableOutputHtml } from '../../src/report/notebook.ts';

const XSS = '</script><img src=x onerror=alert(1)>';

function spec(id: string, points: number, name = 'curve'): FigureSpec {
  const x = Array.from({ length: points }, (_, i) => i + 1);
  return {
    id,
    title: `title ${XSS}`,
    caption: `caption ${XSS}`,
    data: [{ type: 'scatter', mode: 'lines', name, x, y: x.map((v) => 1 / v) }],
    layout: { width: 400, height: 300, xaxis: { type: 'log' } },
  };
}

describe('notebook outputs as strings', () => {
  it('escapes titles, captions and trace names; no data-made </script>', () => {
    const html = figureOutputHtml(spec('loss', 3, XSS));
    expect(html).not.toContain('<img');
    expect(html.match(/<\/script>/g)).toHaveLength(1); // only the output's own closing tag
    expect(html).toContain('title &lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('style="width:400px;height:300px"');
  });

  it('ids are stable for equal specs and differ for different data', () => {
    const id = (h: string) => /<div id="([^"]+)"/.exec(h)?.[1];
    expect(id(figureOutputHtml(spec('loss', 3)))).toBe(id(figureOutputHtml(spec('loss', 3))));
    expect(id(figureOutputHtml(spec('loss', 3)))).not.toBe(id(figureOutputHtml(spec('loss', 4))));
    expect(id(figureOutputHtml(spec('loss', 3), { domId: 'mine' }))).toBe('mine');
    expect(() => figureOutputHtml(spec('loss', 3), { domId: 'a"b' })).toThrow(/domId "a\\"b" must match/);
  });

  it('captions can be left out; tables are escaped', () => {
    const html = figureOutputHtml(spec('loss', 3), { captions: false });
    expect(html).not.toContain('title ');
    const table = tableOutputHtml({ id: 'runs', title: XSS, columns: ['runId', 'loss'], rows: [[XSS, 2.5]] });
    expect(table).not.toContain('<img');
    expect(table).toContain('data-rows="1"');
  });

  it('the loader inlines the bundle only when Plotly is missing and names its version', () => {
    const html = plotlyLoaderHtml('/* plotly.js v9.9.9 */ window.Plotly = {}; var s = "</script>";');
    expect(html).toContain("if (typeof window.Plotly === 'undefined')");
    expect(html).toContain('<\\/script>');
    expect(html).toContain('Plotly 9.9.9 loaded');
  });
});

const hasChromium = existsSync(chromiumPath());
if (!hasChromium) console.warn(`[notebook outputs] browser case SKIPPED: no chromium at ${chromiumPath()} (bash scripts/setup.sh --report installs it)`);

describe.skipIf(!hasChromium)('notebook outputs in chromium', () => {
  const dir = mkdtempSync(join(tmpdir(), 'moelab-nb-html-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('draws every figure offline, before and after the loader, with require.js define present', async () => {
    // Output order as a notebook would show it: a figure whose cell ran before the loader's
    // (drawn once the bundle is there), the loader, then two more figures.
    const outputs = [
      figureOutputHtml(spec('early', 5)),
      plotlyLoaderHtml(readPlotlyBundle()),
      figureOutputHtml(spec('late', 7)),
      figureOutputHtml(spec('late', 7), { domId: 'late-again' }),
    ];
    const amdStub = '<script>window.define = function () {}; window.define.amd = {}; window.require = function () {};</script>';
    const page = join(dir, 'notebook.html');
    writeFileSync(page, `<!DOCTYPE html><html><head><meta charset="utf-8">${amdStub}</head><body>${outputs.map((o) => `<div class="output">${o}</div>`).join('\n')}</body></html>`);

    const browser = await launchChromium();
    try {
      const tab = await browser.newPage();
      const errors: string[] = [];
      const external: string[] = [];
      tab.on('pageerror', (e) => errors.push(e.message));
      tab.on('dialog', async (d) => {
        errors.push(`dialog: ${d.message()}`);
        await d.dismiss();
      });
      await tab.route('**/*', async (route) => {
        const url = route.request().url();
        if (url.startsWith('file:') || url.startsWith('data:')) return route.continue();
        external.push(url);
        return route.abort();
      });
      await tab.goto(`file://${page}`, { waitUntil: 'load' });
      await tab.waitForFunction(() => document.querySelectorAll('.moelab-plot .main-svg').length >= 3 * 2, undefined, { timeout: 30_000 });
      const drawn = await tab.evaluate(() =>
        Array.from(document.querySelectorAll<HTMLElement>('.moelab-plot')).map((el) => ({
          id: el.id,
          points: ((el as unknown as { data?: { x: number[] }[] }).data ?? []).map((t) => t.x.length),
        })),
      );
      expect(drawn.map((d) => d.points)).toEqual([[5], [7], [7]]);
      expect(drawn[2].id).toBe('late-again');
      expect(errors).toEqual([]);
      expect(external).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
