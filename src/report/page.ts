// The report page: one self-contained HTML file (Plotly inlined, no network) with the figures as
// JSON data drawn by a small inline script, and the tables as escaped HTML. Pure: the caller
// passes the Plotly bundle's source text.
//
// The page tells a browser (and the static exporter and the browser test) when every plot is
// drawn: `window.moelabReport.ready` is a Promise, and `<body data-plots-ready="true">` is set,
// or `data-plots-ready="error"` with the message in `window.moelabReport.errors`.
import { escapeHtml, escapeInlineScript, jsonForScript, sanitizeFigure } from './escape.ts';
import type { FigureSpec } from './figure.ts';
import { FIGURE_HEIGHT, FIGURE_WIDTH } from './figure.ts';
import type { TableSpec } from './tables.ts';
import { tableToHtml } from './tables.ts';

export interface ReportSection {
  /** kebab-case anchor. */
  id: string;
  title: string;
  /** Plain-text paragraphs shown before the figures. */
  notes?: string[];
  figures: FigureSpec[];
  tables: TableSpec[];
}

export interface ReportPage {
  title: string;
  /** Plain-text lines under the title (sweep folder, provenance, counts). */
  meta: string[];
  /** Headline numbers shown as a definition list at the top. */
  headline: { label: string; value: string }[];
  sections: ReportSection[];
  /** Relative links to files written beside the page (CSV tables, figure JSON). */
  downloads?: { label: string; href: string }[];
}

const ID = /^[a-z0-9][a-z0-9-]*$/;

function assertId(kind: string, id: string): void {
  // Ids are authored in src/report, never data: an invariant, not user input.
  if (!ID.test(id)) throw new Error(`${kind} id ${JSON.stringify(id)} must be kebab-case [a-z0-9-]`);
}

const STYLE = `
body { font-family: 'DejaVu Sans', Arial, sans-serif; margin: 0; color: #222; background: #fafafa; }
main { max-width: ${FIGURE_WIDTH + 60}px; margin: 0 auto; padding: 16px 24px 48px; background: #fff; }
h1 { font-size: 24px; margin: 8px 0 4px; }
h2 { font-size: 19px; margin: 32px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
h3 { font-size: 15px; margin: 20px 0 6px; }
p.meta { color: #666; font-size: 12px; margin: 2px 0; }
nav ul { columns: 2; font-size: 13px; padding-left: 18px; }
dl.headline { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; font-size: 14px; background: #f3f6fa; padding: 10px 14px; border-radius: 4px; }
dl.headline dt { font-weight: bold; } dl.headline dd { margin: 0; }
figure { margin: 12px 0 24px; } figcaption { font-size: 12px; color: #555; margin-top: 4px; }
.plot { width: ${FIGURE_WIDTH}px; height: ${FIGURE_HEIGHT}px; }
.table-wrap { overflow-x: auto; max-height: 520px; overflow-y: auto; border: 1px solid #e5e5e5; }
table.data { border-collapse: collapse; font-size: 12px; }
table.data th, table.data td { border-bottom: 1px solid #eee; padding: 3px 8px; text-align: left; white-space: nowrap; }
table.data th { position: sticky; top: 0; background: #f3f3f3; }
table.data td.num { text-align: right; font-variant-numeric: tabular-nums; }
p.note { font-size: 13px; color: #444; }
@media print { body { background: #fff; } main { max-width: none; } .table-wrap { max-height: none; overflow: visible; } figure { break-inside: avoid; } table.data th, table.data td { white-space: normal; font-size: 8px; padding: 1px 3px; } table.data th { position: static; } }
`;

// Draws every figure from the embedded JSON; authored here (no data is concatenated into it).
const CLIENT_SCRIPT = `
(function () {
  var specs = JSON.parse(document.getElementById('moelab-figures').textContent);
  var report = { figures: specs.map(function (s) { return s.id; }), errors: [] };
  window.moelabReport = report;
  var config = { displaylogo: false, responsive: false, toImageButtonOptions: { format: 'png', scale: 2 } };
  report.ready = Promise.all(specs.map(function (s) {
    return Plotly.newPlot('fig-' + s.id, s.data, s.layout, config);
  })).then(function () {
    document.body.setAttribute('data-plots-ready', 'true');
  }, function (err) {
    report.errors.push(String(err && err.message || err));
    document.body.setAttribute('data-plots-ready', 'error');
  });
})();
`;

function figureHtml(spec: FigureSpec): string {
  assertId('figure', spec.id);
  const caption = spec.caption ? `<figcaption>${escapeHtml(spec.caption)}</figcaption>` : '';
  return `<figure id="figure-${spec.id}">\n<h3>${escapeHtml(spec.title)}</h3>\n<div class="plot" id="fig-${spec.id}" data-figure="${spec.id}"></div>\n${caption}\n</figure>`;
}

function tableBlock(table: TableSpec): string {
  assertId('table', table.id);
  const caption = table.caption ? `<p class="note">${escapeHtml(table.caption)}</p>` : '';
  return `<h3>${escapeHtml(table.title)}</h3>\n${caption}\n<div class="table-wrap">\n${tableToHtml(table)}\n</div>`;
}

export function renderReportHtml(page: ReportPage, plotlySource: string): string {
  const sections = page.sections.filter((s) => s.figures.length > 0 || s.tables.length > 0 || (s.notes?.length ?? 0) > 0);
  for (const s of sections) assertId('section', s.id);
  const specs = sections.flatMap((s) => s.figures).map(sanitizeFigure);
  const nav = sections.map((s) => `<li><a href="#${s.id}">${escapeHtml(s.title)}</a></li>`).join('\n');
  const headline = page.headline.length
    ? `<dl class="headline">\n${page.headline.map((h) => `<dt>${escapeHtml(h.label)}</dt><dd>${escapeHtml(h.value)}</dd>`).join('\n')}\n</dl>`
    : '';
  const downloads = page.downloads?.length
    ? `<p class="meta">Data: ${page.downloads.map((d) => `<a href="${escapeHtml(d.href)}">${escapeHtml(d.label)}</a>`).join(' · ')}</p>`
    : '';
  const body = sections
    .map((s) => {
      const notes = (s.notes ?? []).map((n) => `<p class="note">${escapeHtml(n)}</p>`).join('\n');
      return `<section id="${s.id}">\n<h2>${escapeHtml(s.title)}</h2>\n${notes}\n${s.figures.map(figureHtml).join('\n')}\n${s.tables.map(tableBlock).join('\n')}\n</section>`;
    })
    .join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(page.title)}</title>
<style>${STYLE}</style>
<script>${escapeInlineScript(plotlySource)}</script>
</head>
<body data-plots-ready="false">
<main>
<h1>${escapeHtml(page.title)}</h1>
${page.meta.map((m) => `<p class="meta">${escapeHtml(m)}</p>`).join('\n')}
${downloads}
${headline}
<nav><ul>
${nav}
</ul></nav>
${body}
</main>
<script type="application/json" id="moelab-figures">${jsonForScript(specs)}</script>
<script>${CLIENT_SCRIPT}</script>
</body>
</html>
`;
}
