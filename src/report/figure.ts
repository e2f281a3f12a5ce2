// The figure contract of the report: every figure is a pure function of run records and fits that
// returns a FigureSpec (Plotly traces + layout, no I/O). The page renders specs; the build writes
// each spec's JSON beside the report (docs/architecture.md#habits: every figure ships with its data).
// Colours, labels and axis styles live here, never in run or fit records (habit 9).
import type { Data, Layout } from 'plotly.js-dist-min';

export type Trace = Data;
export type FigureLayout = Partial<Layout>;

export interface FigureSpec {
  /** kebab-case; names the HTML element (`fig-<id>`) and the files figures/<id>.{json,png,svg}. */
  id: string;
  title: string;
  /** One or two sentences under the plot: what is drawn, fitted form, caveats (plain text). */
  caption?: string;
  data: Trace[];
  layout: FigureLayout;
}

/** Default size of a figure, in CSS pixels, on the page and in static export. */
export const FIGURE_WIDTH = 900;
export const FIGURE_HEIGHT = 520;

// ---------------------------------------------------------------------------------------------
// Colours

// Viridis stops (matplotlib's colormap, sampled at tenths). Budgets and other ordered groups use
// the 0–0.85 range: the last yellow is too pale on white.
const VIRIDIS = ['#440154', '#482878', '#3e4989', '#31688e', '#26828e', '#1f9e89', '#35b779', '#6ece58', '#b5de2b', '#fde725'];

function hexToRgb(hex: string): [number, number, number] {
  const v = Number.parseInt(hex.slice(1), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

/** Colour of position t ∈ [0, 1] on the viridis scale (linear interpolation between stops). */
export function viridis(t: number): string {
  const x = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  const a = hexToRgb(VIRIDIS[i]);
  const b = hexToRgb(VIRIDIS[i + 1]);
  const c = a.map((v, k) => Math.round(v + (b[k] - v) * f));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

/** Colour for the i-th of n ordered groups (e.g. compute budgets, smallest first). */
export function orderedColor(i: number, n: number): string {
  return viridis(n <= 1 ? 0.35 : (0.85 * i) / (n - 1));
}

/** Qualitative colours (Tableau 10) for unordered groups such as schedule kinds. */
export const CATEGORY_COLORS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

export function categoryColor(i: number): string {
  return CATEGORY_COLORS[i % CATEGORY_COLORS.length];
}

/** `rgba()` of a `#rrggbb` or `rgb(r,g,b)` colour with the given opacity (for bands). */
export function withAlpha(color: string, alpha: number): string {
  const rgb = color.startsWith('#') ? hexToRgb(color) : (color.match(/\d+/g) ?? ['0', '0', '0']).slice(0, 3).map(Number);
  return `rgba(${rgb[0]},${rgb[1]},${rgb[2]},${alpha})`;
}

/** Reference lines (published laws) are grey; the paper's unconfirmed laws are dashed red. */
export const REFERENCE_COLOR = '#7f7f7f';
export const PAPER_COLOR = '#c0392b';
export const ENVELOPE_COLOR = '#111111';

// ---------------------------------------------------------------------------------------------
// Numbers and axes

/** Compact scientific notation for labels: 1.2e18, 3e-4, 512. */
export function formatNumber(v: number, digits = 2): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (Number.isInteger(v) && a < 1e5) return String(v);
  if (a >= 1e-2 && a < 1e4) return Number(v.toPrecision(digits + 1)).toString();
  const [mant, exp] = v.toExponential(digits).split('e');
  const m = mant.replace(/\.?0+$/, '');
  return `${m}e${Number(exp)}`;
}

/** A base layout: white background, legend on the right, axis titles; callers add axis types. */
export function baseLayout(xTitle: string, yTitle: string, extra: FigureLayout = {}): FigureLayout {
  return {
    width: FIGURE_WIDTH,
    height: FIGURE_HEIGHT,
    margin: { l: 70, r: 20, t: 30, b: 60 },
    paper_bgcolor: '#ffffff',
    plot_bgcolor: '#ffffff',
    font: { family: 'DejaVu Sans, Arial, sans-serif', size: 12 },
    hovermode: 'closest',
    legend: { font: { size: 10 } },
    ...extra,
    xaxis: { title: { text: xTitle }, showgrid: true, gridcolor: '#e5e5e5', zeroline: false, ...(extra.xaxis ?? {}) },
    yaxis: { title: { text: yTitle }, showgrid: true, gridcolor: '#e5e5e5', zeroline: false, ...(extra.yaxis ?? {}) },
  };
}

/** Log-spaced values from lo to hi inclusive (n ≥ 2), for smooth fitted curves. */
export function logspace(lo: number, hi: number, n: number): number[] {
  const a = Math.log(lo);
  const b = Math.log(hi);
  return Array.from({ length: n }, (_, i) => Math.exp(a + ((b - a) * i) / (n - 1)));
}

/** Number of plotted points of a trace (z's rows × columns for heatmaps and contours, else x's length). */
export function tracePointCount(trace: Trace): number {
  const t = trace as { x?: ArrayLike<unknown>; z?: ArrayLike<ArrayLike<unknown>> };
  if (t.z) return Array.from(t.z).reduce((s, row) => s + row.length, 0);
  return t.x ? t.x.length : 0;
}
