// Escaping of everything data-derived (run ids, config strings, sweep names, CSV headers) before it
// reaches the page. Three places where text can turn into markup:
//   1. HTML text and attribute values          → escapeHtml
//   2. JSON embedded in a <script> element      → jsonForScript (no `</script`, no `<!--`)
//   3. Plotly labels (trace names, hover text, tick labels, titles): Plotly parses a subset of
//      HTML in them (<b>, <br>, <a href=…>) → escapePlotlyText (entities, which Plotly decodes
//      back to the literal characters when it draws the text).
import type { FigureSpec } from './figure.ts';

const HTML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escape for HTML text content and double- or single-quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => HTML_ENTITIES[c]);
}

/**
 * JSON safe to place between `<script type="application/json">` and `</script>`: `<`, `>`, `&`
 * and the JS line separators become \u escapes, which JSON.parse reads back unchanged.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/**
 * A script body (the inlined Plotly bundle) made safe inside <script>…</script>: the HTML parser
 * ends a script element at the first `</script`, whatever JS string it sits in; `<\/script` means
 * the same to JS. `<!--` would switch the parser into the "script data escaped" state.
 */
export function escapeInlineScript(source: string): string {
  return source.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

/** Escape a label for Plotly: markup characters become entities Plotly draws as literal text. */
export function escapePlotlyText(text: string): string {
  return text.replace(/[&<>]/g, (c) => HTML_ENTITIES[c]);
}

// Keys whose strings are authored templates (Plotly placeholders such as %{x}, and our own <br>),
// never data: they are left as they are. Every other string in a figure is escaped.
const TEMPLATE_KEY = /template$/i;

function sanitizeValue(value: unknown, key: string): unknown {
  if (typeof value === 'string') return TEMPLATE_KEY.test(key) ? value : escapePlotlyText(value);
  if (Array.isArray(value)) return value.map((v) => sanitizeValue(v, key));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = sanitizeValue(v, k);
    return out;
  }
  return value;
}

/**
 * A copy of the figure whose every string Plotly could render as markup is escaped. Strings
 * without &, < or > (colours, modes, axis types) come out unchanged, so this is safe to apply to
 * the whole spec. Hover templates are authored in src/report and must reference data through
 * %{text}/%{customdata}, never by string concatenation.
 */
export function sanitizeFigure(spec: FigureSpec): FigureSpec {
  return {
    id: spec.id,
    title: spec.title,
    caption: spec.caption,
    data: sanitizeValue(spec.data, 'data') as FigureSpec['data'],
    layout: sanitizeValue(spec.layout, 'layout') as FigureSpec['layout'],
  };
}
