// The report sections of comparisons and claims (renders only: src/analysis/comparisons.ts computes):
// Noise floor, Paired comparisons, Expert-LR experiment, Sensitivity of the isoFLOP exponents and
// Schedule-law check. docs/report.md describes each section.
import type { ComparisonsResult } from '../analysis/comparisons.ts';
import { pairedVerdict, PAIRED_METHOD } from '../analysis/paired.ts';
import { fmt } from '../fit/points.ts';
import type { Estimate } from '../fit/record.ts';
import type { ReportSection } from './page.ts';
import type { Cell, TableSpec } from './tables.ts';

const NOT_MEASURED = 'not measured (1 seed)';

function est(e: Estimate | null | undefined, digits = 3): string {
  if (!e) return '—';
  return e.ci95 ? `${fmt(e.value, digits)} [${fmt(e.ci95[0], digits)}, ${fmt(e.ci95[1], digits)}]` : fmt(e.value, digits);
}

function noiseSection(r: ComparisonsResult): ReportSection {
  const n = r.noise;
  const pooled = n.pooledSeedSd
    ? `Study-wide pooled seed-to-seed SD of the final validation loss: ${fmt(n.pooledSeedSd.value)} nats (${n.pooledSeedSd.df} df over ${n.pooledSeedSd.cells} cells with ≥ 2 seeds).`
    : 'Study-wide pooled seed SD: not measured (no cell has 2 seeds).';
  const evalText = n.pooledEvalStderr !== null ? ` Evaluation standard error (RMS over runs): ${fmt(n.pooledEvalStderr)} nats.` : ' No run records its evaluation standard error.';
  const rows: Cell[][] = n.cells.map((c) => [c.study, c.cell, c.seeds.length, c.meanLoss, c.seedSd ?? NOT_MEASURED, c.evalStderr ?? '—', c.duplicateOf ? `same runs as ${c.duplicateOf}` : '']);
  const duplicates = n.cells.filter((c) => c.duplicateOf).length;
  return {
    id: 'noise-floor',
    title: 'Noise floor',
    notes: [
      pooled + evalText,
      'Per cell: the seed-to-seed SD of the final validation loss (n − 1 denominator) and the evaluation\'s standard error over the validation set. A difference between cells smaller than about twice these is not a finding.',
      ...(duplicates
        ? [`${duplicates} cell(s) repeat the configuration and seeds of an earlier cell (a baseline shared by several comparisons): shown, but counted once in the pooled figures.`]
        : []),
    ],
    figures: [],
    tables: [{ id: 'noise-floor', title: 'Noise floor per cell', columns: ['study', 'cell', 'seeds', 'mean final loss', 'seed SD', 'eval stderr', 'note'], rows }],
  };
}

/** Arms that are the same runs under several names (a shared baseline, factor ×1 of two groups), from the noise floor's cells. */
function sameRunsNote(r: ComparisonsResult): string[] {
  const same = r.noise.cells.filter((c) => c.duplicateOf);
  return same.length ? [`Same runs under two names (one configuration and seed, trained once; the arms' differences share it): ${same.map((c) => `${c.cell} = ${c.duplicateOf}`).join('; ')}.`] : [];
}

function pairedSection(r: ComparisonsResult): ReportSection {
  const rows: Cell[][] = r.paired.map((d) => [
    d.comparison,
    d.a,
    d.b,
    d.n,
    d.n ? d.mean : '—',
    d.ci95 ? `[${fmt(d.ci95[0])}, ${fmt(d.ci95[1])}]` : '—',
    d.minDetectable ?? '—',
    d.evalStderr ?? '—',
    d.resolved ? `${d.winner} lower` : 'not resolved at this noise level',
  ]);
  return {
    id: 'paired-comparisons',
    title: 'Paired comparisons',
    notes: [
      `Every comparison as a paired difference a − b of the final validation loss across seeds. 95% CI: ${PAIRED_METHOD}. ` +
        'A winner is stated only when the interval excludes 0; otherwise the comparison is not resolved at this noise level, and "resolvable" gives the smallest difference this many seeds would detect with 80% power at the observed SD.',
      ...(r.paired.length > 1
        ? [
            `${r.paired.length} comparisons, each tested at 5% with no correction for multiplicity: were there no real differences, about ${(0.05 * r.paired.length).toFixed(1)} of them would be marked resolved by chance.` +
              (r.paired.some((d) => d.n === 2) ? ' With 2 seeds the t interval has 1 degree of freedom (t = 12.7): exact under normal noise, but resting on one estimate of the spread.' : ''),
          ]
        : []),
      ...sameRunsNote(r),
      ...r.paired.map((d) => `${d.comparison}: ${pairedVerdict(d)}.`),
    ],
    figures: [],
    tables: [{ id: 'paired-comparisons', title: 'Paired differences (a − b, nats)', columns: ['comparison', 'a', 'b', 'seeds', 'mean a − b', '95% CI', 'resolvable (80% power)', 'eval stderr of a difference', 'verdict'], rows }],
  };
}

function expertSection(r: ComparisonsResult): ReportSection | undefined {
  const e = r.expertLr;
  if (!e) return undefined;
  const tables: TableSpec[] = [];
  const curve = (name: string, b: typeof e.expert) =>
    b ? b.grid.map((f, i): Cell[] => [name, f, b.meanLoss[i], [f === b.bestGridFactor ? 'best on the grid' : '', b.factors.includes(f) ? 'in the fit' : ''].filter(Boolean).join('; ')]) : [];
  const rows = [...curve('expert-lr (specialized experts × factor)', e.expert), ...curve('lr-control (every group × factor)', e.control)];
  if (rows.length) tables.push({ id: 'expert-lr-sweep', title: 'Mean final loss per factor', columns: ['arm', 'factor', 'mean final loss', ''], rows });
  const summary: Cell[][] = [
    ['best specialized-expert multiplier (Fieller 95%)', est(e.expert?.optimum)],
    ['best all-group multiplier, control (Fieller 95%)', est(e.control?.optimum)],
    ['paper rule √n(1+u)/(n+u), n = E/k, u = B/B_noise', e.predicted ? fmt(e.predicted.value) : '—'],
    ['paper rule over the B_noise interval and measured n', e.predicted ? `[${fmt(e.predicted.range[0])}, ${fmt(e.predicted.range[1])}]` : '—'],
    ['per-expert token share (min–max; uniform)', e.routing.share ? `${fmt(e.routing.share.min)}–${fmt(e.routing.share.max)} (${fmt(e.routing.share.uniform)})` : '—'],
    ['recycled fraction of assignments (min–max, mean)', e.routing.recycledFraction ? `${fmt(e.routing.recycledFraction.min)}–${fmt(e.routing.recycledFraction.max)}, ${fmt(e.routing.recycledFraction.mean)}` : '—'],
    ['intervals overlap', e.agreesWithPaper === null ? '—' : e.agreesWithPaper ? 'yes' : 'no'],
    ['expert-specific effect', e.judgement],
  ];
  tables.push({ id: 'expert-lr-result', title: 'Expert-LR experiment', columns: ['quantity', 'value'], rows: summary });
  return {
    id: 'expert-lr-experiment',
    title: 'Expert-LR experiment',
    notes: [
      'Final loss against ln(factor), one intercept per seed (paired), fitted by a parabola through the factors nearest the best one (a parabola is only a local model: LR curves are asymmetric); the best factor is its vertex with Fieller\'s 95% interval (residual degrees of freedom). Agreement with the paper is claimed only where the intervals overlap; the expert-specific effect is judged against the control that scales every group\'s LR.',
      ...e.verdict,
    ],
    figures: [],
    tables,
  };
}

function sensitivitySection(r: ComparisonsResult): ReportSection | undefined {
  const s = r.sensitivity;
  if (!s) return undefined;
  const rows: Cell[][] = s.rows.map((x) => [x.group, x.variant, x.budgets || '—', est(x.a), est(x.b), x.successFraction ?? '—', x.error ?? '']);
  const notes = [
    'Each headline isoFLOP exponent (N_opt ∝ C^a, D_opt ∝ C^b) refitted under every analysis choice: N with or without embedding parameters, each parabola window, leaving out each budget, and attention FLOPs counted over the full context instead of causally. Intervals are the fits\' bootstrap percentiles; "bootstrap success" is succeeded / samples. Each variant is refitted with its own, shorter bootstrap (200 resamples by default), so the baseline row\'s interval and success differ a little from the headline fit\'s, which uses the record in fits/.',
  ];
  if (s.spread) notes.push(`Across the variants that fitted, a spans ${fmt(s.spread.a[0])}–${fmt(s.spread.a[1])} and b ${fmt(s.spread.b[0])}–${fmt(s.spread.b[1])}.`);
  const tables: TableSpec[] = [{ id: 'isoflop-sensitivity', title: 'Sensitivity of the isoFLOP exponents', columns: ['choice', 'variant', 'budgets', 'a (N_opt)', 'b (D_opt)', 'bootstrap success', 'refused because'], rows }];
  if (s.heldOut) {
    const h = s.heldOut;
    tables.push({
      id: 'isoflop-held-out-optimum',
      title: 'Held-out optimum of the largest budget (laws fitted on the others)',
      columns: ['quantity', 'predicted', '95% CI', 'actual (its own parabola)', 'relative error'],
      rows: [h.N_opt, h.D_opt].map((x) => [x.label, x.predicted, x.ci95 ? `[${fmt(x.ci95[0])}, ${fmt(x.ci95[1])}]` : '—', x.actual, `${(100 * x.relError).toFixed(1)}%`]),
    });
  }
  return { id: 'isoflop-sensitivity', title: 'Sensitivity of the isoFLOP exponents', notes, figures: [], tables };
}

function scheduleSection(r: ComparisonsResult): ReportSection | undefined {
  const c = r.scheduleLaw;
  if (!c) return undefined;
  const rows: Cell[][] = [
    ['law prediction error at the end of training (nats)', c.endError, ''],
    ...c.gaps.map((d): Cell[] => [`paired gap ${d.a} − ${d.b} (nats)`, d.mean, d.ci95 ? `[${fmt(d.ci95[0])}, ${fmt(d.ci95[1])}]` : '—']),
  ];
  return {
    id: 'schedule-law-check',
    title: 'Schedule-law check',
    notes: [c.verdict],
    figures: [],
    tables: [{ id: 'schedule-law-check', title: 'Prediction error against the gaps to rank', columns: ['quantity', 'value', '95% CI'], rows }],
  };
}

/** The sections, in page order; sections without data are left out (the noise floor and paired comparisons always appear). */
export function renderComparisons(result: ComparisonsResult): ReportSection[] {
  return [noiseSection(result), pairedSection(result), expertSection(result), sensitivitySection(result), scheduleSection(result)].filter((s): s is ReportSection => s !== undefined);
}
