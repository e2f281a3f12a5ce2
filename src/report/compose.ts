// Which figures and tables a sweep gets, in which sections: a pure function of the loaded records,
// the fit views and the runs table. Figures whose data the sweep lacks are left out (a section
// with nothing to show disappears), so one composer serves isoFLOP, LR × batch, schedule and mixed
// sweeps alike.
import type { FigureSpec } from './figure.ts';
import { formatNumber } from './figure.ts';
import { expertUsageFigure } from './figures/expert-usage.ts';
import { lossVsFlopsFigure, lossVsTokensFigure } from './figures/loss-curves.ts';
import { lrCurvesFigure } from './figures/lr-curves.ts';
import { tokenFractionsFigure } from './figures/token-fractions.ts';
import type { FitSections } from './fit-sections.ts';
import type { ReportPage, ReportSection } from './page.ts';
import type { SweepRecords } from './records.ts';
import { runFinalLoss, runState } from './records.ts';
import type { TableSpec } from './tables.ts';
import { escapeMarkdown, tableToMarkdown } from './tables.ts';

export interface ComposedReport {
  page: ReportPage;
  figures: FigureSpec[];
  tables: TableSpec[];
  markdown: string;
}

export interface ComposeOptions {
  generatedAt: string;
  /** Lines about where the data came from (sweep folder, git commit). */
  meta?: string[];
  /** Relative paths of exported images by figure id, for report.md links. */
  images?: Record<string, string>;
  /** Sections a caller adds at the end (e.g. the paper comparison of `moelab reproduce`). */
  extraSections?: ReportSection[];
}

function present<T>(items: (T | undefined)[]): T[] {
  return items.filter((x): x is T => x !== undefined);
}

export function runCounts(records: SweepRecords) {
  const counts = { done: 0, diverged: 0, running: 0, pending: records.pendingRunIds.length };
  for (const r of records.runs) counts[runState(r)]++;
  return counts;
}

export function composeReport(records: SweepRecords, runsTable: TableSpec, fits: FitSections, options: ComposeOptions): ComposedReport {
  const runs = records.runs;
  const counts = runCounts(records);
  const best = runs
    .map((r) => ({ r, loss: runFinalLoss(r) }))
    .filter((x): x is { r: (typeof runs)[number]; loss: number } => x.loss !== undefined)
    .sort((a, b) => a.loss - b.loss)[0];
  // An arm trained as another run (sameRunAs) used no compute of its own.
  const totalFlops = runs.reduce((s, r) => s + (r.sameRunAs ? 0 : (r.summary?.computeFlops ?? r.metrics.at(-1)?.computeFlops ?? 0)), 0);
  const sharedArms = runs.filter((r) => r.sameRunAs).length;

  const headline = [
    {
      label: 'runs',
      value:
        `${runs.length + counts.pending + (records.corrupt?.length ?? 0)} (${counts.done} done, ${counts.diverged} diverged, ${counts.running} unfinished, ${counts.pending} not started` +
        `${records.corrupt?.length ? `, ${records.corrupt.length} corrupt: ${records.corrupt.map((c) => c.runId).join(', ')}` : ''})` +
        (sharedArms ? `, ${sharedArms} of them arms trained as another run (the same configuration and seed)` : ''),
    },
    { label: 'compute used', value: `${formatNumber(totalFlops)} FLOPs` },
    ...(best ? [{ label: 'best final loss', value: `${best.loss.toFixed(4)} (${best.r.runId})` }] : []),
    ...fits.headline,
  ];

  const sections: ReportSection[] = [
    {
      id: 'training',
      title: 'Training curves',
      figures: [lossVsTokensFigure(runs), lossVsFlopsFigure(runs)].filter((f) => f.data.length > 0),
      tables: [],
    },
    ...fits.sections.filter((s) => s.id !== 'schedules-fit'),
    {
      id: 'schedules',
      title: 'Learning-rate schedules',
      notes: fits.sections.find((s) => s.id === 'schedules-fit')?.notes,
      figures: [lrCurvesFigure(runs), ...(fits.sections.find((s) => s.id === 'schedules-fit')?.figures ?? [])].filter((f) => f.data.length > 0),
      tables: fits.sections.find((s) => s.id === 'schedules-fit')?.tables ?? [],
    },
    {
      id: 'moe',
      title: 'MoE diagnostics',
      figures: present([expertUsageFigure(runs), tokenFractionsFigure(runs)]),
      tables: [],
    },
    {
      id: 'tables',
      title: 'Tables',
      figures: [],
      tables: [runsTable, ...fits.tables],
    },
  ];
  sections.push(...(options.extraSections ?? []));
  const shown = sections.filter((s) => s.figures.length > 0 || s.tables.length > 0);
  const figures = shown.flatMap((s) => s.figures);
  const tables = shown.flatMap((s) => s.tables);

  const page: ReportPage = {
    title: `moelab report: ${records.name}`,
    meta: [`generated ${options.generatedAt}`, ...(options.meta ?? [])],
    headline,
    sections: shown,
    downloads: [...tables.map((t) => ({ label: `${t.id}.csv`, href: `tables/${t.id}.csv` }))],
  };

  const md: string[] = [`# moelab report: ${escapeMarkdown(records.name)}`, '', `Generated ${options.generatedAt}. Interactive version: index.html.`, ''];
  md.push('## Headline numbers', '', ...headline.map((h) => `- **${escapeMarkdown(h.label)}**: ${escapeMarkdown(h.value)}`), '');
  for (const section of shown) {
    if (section.figures.length === 0) continue;
    md.push(`## ${section.title}`, '');
    for (const n of section.notes ?? []) md.push(escapeMarkdown(n), '');
    for (const f of section.figures) {
      const img = options.images?.[f.id];
      md.push(img ? `![${f.title}](${img})` : `- ${f.title} (figures/${f.id}.json)`);
      if (f.caption) md.push(`  ${f.caption}`);
      md.push('');
    }
  }
  for (const t of fits.tables) {
    md.push(`## ${t.title}`, '', ...(t.caption ? [escapeMarkdown(t.caption), ''] : []), tableToMarkdown(t), '');
  }
  for (const section of options.extraSections ?? []) {
    md.push(`## ${section.title}`, '');
    for (const n of section.notes ?? []) md.push(escapeMarkdown(n), '');
    for (const t of section.tables) md.push(...(t.caption ? [escapeMarkdown(t.caption), ''] : []), tableToMarkdown(t), '');
  }
  md.push(`Runs table: tables/${runsTable.id}.csv (${runsTable.rows.length} rows).`, '');
  return { page, figures, tables, markdown: md.join('\n') };
}
