// The side-by-side table of several studies (typically the quick and standard presets of one
// study): each study's fits/paper-comparison.json (written by src/study/run.ts) joined on the rows'
// stable `key`, one column per study, so a claim reads across presets in one line. Pure: reading
// and validating the files is the CLI's (src/cli/compare.ts).
import type { ComparisonRow } from './compare.ts';

/** One study's side-by-side table as fits/paper-comparison.json holds it. */
export interface PresetComparison {
  study: string;
  preset: string;
  rows: ComparisonRow[];
}

/** One joined row: the quantity, the paper's value and each study's row (null where it lacks it). */
export interface JoinedRow {
  key: string;
  quantity: string;
  paper: string;
  cells: (ComparisonRow | null)[];
}

/**
 * Rows of every table joined on `key`, in the order of first appearance (the first table's order,
 * then keys only later tables have). The quantity and paper text come from the first table that has
 * the row: quantities carry a budget or batch that differs between presets, which each cell repeats.
 */
export function joinComparisons(tables: readonly PresetComparison[]): JoinedRow[] {
  const order: string[] = [];
  const first = new Map<string, ComparisonRow>();
  for (const t of tables) {
    for (const r of t.rows) {
      if (!first.has(r.key)) {
        first.set(r.key, r);
        order.push(r.key);
      }
    }
  }
  return order.map((key) => {
    const r = first.get(key)!;
    return { key, quantity: r.quantity, paper: r.paper, cells: tables.map((t) => t.rows.find((x) => x.key === key) ?? null) };
  });
}

/**
 * A study's cell: value, interval, bootstrap success where there is one, and the verdict (with its
 * reason unless `brief`); prefixed with the study's own quantity where it differs from the row's.
 */
export function sideBySideCell(r: ComparisonRow | null, brief = false, quantity?: string): string {
  if (!r) return 'not in this study';
  // A study whose quantity names another budget or batch than the row's says which, first.
  const own = quantity !== undefined && r.quantity !== quantity ? `(${r.quantity}) ` : '';
  // The interval text may go on to list why resamples failed; the success column already says so.
  const ci = r.ci95 === '—' ? '' : ` ${r.ci95.split(' unreliable:')[0]}`;
  const boot = r.bootstrapSuccess === '—' ? '' : `, bootstrap ${r.bootstrapSuccess}`;
  return `${own}${r.moelab}${ci}${boot}: **${r.status}**${brief ? '' : ` (${r.reason})`}`;
}

const cellText = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The joined table as GitHub markdown: quantity, paper, then one column per study (`brief`: verdicts without reasons). */
export function sideBySideMarkdown(tables: readonly PresetComparison[], brief = false): string {
  const head = ['quantity', 'paper', ...tables.map((t) => `${t.study} ${t.preset}`)];
  const lines = [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`];
  for (const j of joinComparisons(tables)) {
    lines.push(`| ${[j.quantity, j.paper, ...j.cells.map((c) => sideBySideCell(c, brief, j.quantity))].map(cellText).join(' | ')} |`);
  }
  return lines.join('\n');
}
