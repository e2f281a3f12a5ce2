// Figures and tables as HTML for notebook outputs (tslab's `display.html`, Jupyter's text/html).
// The Plotly bundle goes into one output near the top of a notebook (plotlyLoaderHtml); each
// figure is then a div plus a short script that draws its spec once `window.Plotly` exists.
// Nothing is fetched, so plots work offline and in a saved notebook reopened later (Jupyter
// re-runs the outputs' scripts in order when the notebook is trusted).
//
// Everything data-derived is escaped as in the report page (escape.ts): figure strings through
// sanitizeFigure, the spec through jsonForScript, titles and captions through escapeHtml.
import { escapeHtml, escapeInlineScript, jsonForScript, sanitizeFigure } from './escape.ts';
import type { FigureSpec } from './figure.ts';
import { FIGURE_HEIGHT, FIGURE_WIDTH } from './figure.ts';
import type { TableSpec } from './tables.ts';
import { tableToHtml } from './tables.ts';

/**
 * The Plotly bundle as an inline script, run only when the page has no Plotly yet (a notebook
 * whose loader cell ran twice, or a frontend that ships Plotly). Pass readPlotlyBundle().
 */
export function plotlyLoaderHtml(plotlySource: string): string {
  return `<script>\nif (typeof window.Plotly === 'undefined') {\n${escapeInlineScript(plotlySource)}\n}\n</script>\n<p style="font-size:12px;color:#666">Plotly ${
    escapeHtml(/plotly\.js v([\d.]+)/.exec(plotlySource)?.[1] ?? '')
  } loaded (inline, offline).</p>`;
}

/** FNV-1a of a string as 8 hex digits: a stable element id for a figure's content. */
function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

export interface FigureOutputOptions {
  /**
   * Element id of the plot's div. Default `moelab-<figure id>-<hash of the spec>`: stable across
   * reruns, distinct for different data. Give one when the same spec is shown twice in a notebook.
   */
  domId?: string;
  /** Show the figure's title and caption around the plot (default true). */
  captions?: boolean;
}

/**
 * One figure as a notebook output: (title,) the plot's div, (caption,) and a script that draws the
 * spec with Plotly.newPlot. Until the loader output has run it retries for up to 10 s, then says
 * in the div that Plotly is missing.
 */
export function figureOutputHtml(spec: FigureSpec, options: FigureOutputOptions = {}): string {
  const safe = sanitizeFigure(spec);
  const json = jsonForScript({ data: safe.data, layout: safe.layout });
  const domId = options.domId ?? `moelab-${spec.id}-${fnv1a(json)}`;
  if (!/^[A-Za-z][\w-]*$/.test(domId)) throw new Error(`figure output domId ${JSON.stringify(domId)} must match [A-Za-z][A-Za-z0-9_-]*`);
  const layout = safe.layout as { width?: number; height?: number };
  const width = layout.width ?? FIGURE_WIDTH;
  const height = layout.height ?? FIGURE_HEIGHT;
  const captions = options.captions ?? true;
  const title = captions ? `<div style="font-weight:bold;margin:6px 0">${escapeHtml(spec.title)}</div>\n` : '';
  const caption = captions && spec.caption ? `\n<div style="font-size:12px;color:#555;max-width:${width}px">${escapeHtml(spec.caption)}</div>` : '';
  const script = `(function () {
  var spec = ${json};
  var tries = 0;
  function draw() {
    var el = document.getElementById(${JSON.stringify(domId)});
    if (!el) return;
    if (typeof window.Plotly === 'undefined') {
      if (++tries > 200) { el.textContent = 'Plotly is not loaded: run the notebook cell that displays plotlyLoaderHtml() first.'; return; }
      return setTimeout(draw, 50);
    }
    window.Plotly.newPlot(el, spec.data, spec.layout, { displaylogo: false, responsive: false });
  }
  draw();
})();`;
  return `${title}<div id="${domId}" class="moelab-plot" style="width:${width}px;height:${height}px"></div>${caption}\n<script>\n${script}\n</script>`;
}

/** A table as a notebook output: title, optional caption, and the escaped HTML table in a scroll box. */
export function tableOutputHtml(table: TableSpec, maxHeight = 420): string {
  const caption = table.caption ? `<div style="font-size:12px;color:#555">${escapeHtml(table.caption)}</div>\n` : '';
  return `<div style="font-weight:bold;margin:6px 0">${escapeHtml(table.title)}</div>\n${caption}<div style="overflow:auto;max-height:${maxHeight}px">\n${tableToHtml(table)}\n</div>`;
}
