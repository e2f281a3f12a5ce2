// Tables of the report as plain data (TableSpec), and their two renderings: RFC 4180 CSV (written
// to tables/<id>.csv) and an HTML <table> with every cell and header escaped.
import { escapeHtml } from './escape.ts';
import { formatNumber } from './figure.ts';

export type Cell = string | number | boolean | null | undefined;

export interface TableSpec {
  /** kebab-case; names tables/<id>.csv and the HTML element `table-<id>`. */
  id: string;
  title: string;
  caption?: string;
  columns: string[];
  rows: Cell[][];
}

/** One CSV field: quoted when it holds a comma, quote, CR or LF (RFC 4180); numbers in full precision. */
export function csvField(value: Cell): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number' && !Number.isFinite(value)) return Number.isNaN(value) ? 'nan' : value > 0 ? 'inf' : '-inf';
  const s = String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function tableToCsv(table: Pick<TableSpec, 'columns' | 'rows'>): string {
  const lines = [table.columns.map(csvField).join(',')];
  for (const row of table.rows) lines.push(row.map(csvField).join(','));
  return `${lines.join('\n')}\n`;
}

/** Display form of a cell: integers with thousands separators, other numbers to 4 significant digits. */
export function formatCell(value: Cell): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return String(value);
    if (Number.isInteger(value) && Math.abs(value) < 1e9) return value.toLocaleString('en-US');
    return formatNumber(value, 3);
  }
  return String(value);
}

export function tableToHtml(table: TableSpec): string {
  const head = table.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
  const body = table.rows
    .map((row) => {
      const cells = row.map((v) => {
        const cls = typeof v === 'number' ? ' class="num"' : '';
        // The full-precision value in the tooltip; the cell shows the rounded one.
        const title = typeof v === 'number' && formatCell(v) !== String(v) ? ` title="${escapeHtml(String(v))}"` : '';
        return `<td${cls}${title}>${escapeHtml(formatCell(v))}</td>`;
      });
      return `<tr>${cells.join('')}</tr>`;
    })
    .join('\n');
  return `<table class="data" id="table-${escapeHtml(table.id)}" data-rows="${table.rows.length}">\n<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}

/**
 * Text made inert for markdown viewers (which render inline HTML and emphasis): markup characters
 * become entities, markdown punctuation is backslash-escaped, newlines become spaces.
 */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/([\\`*_[\]|#])/g, '\\$1')
    .replace(/\r?\n/g, ' ');
}

/** A markdown table (report.md) with every cell escaped. */
export function tableToMarkdown(table: Pick<TableSpec, 'columns' | 'rows'>): string {
  const esc = (v: Cell) => escapeMarkdown(formatCell(v));
  const lines = [`| ${table.columns.map(esc).join(' | ')} |`, `| ${table.columns.map(() => '---').join(' | ')} |`];
  for (const row of table.rows) lines.push(`| ${row.map(esc).join(' | ')} |`);
  return lines.join('\n');
}
