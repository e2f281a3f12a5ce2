// Plain-text tables of a fit result for the terminal (`moelab fit` prints this; pure, no I/O).
import { unreliableNote, type Estimate, type FitResultBase } from './record.ts';
import { kindsWithField } from './request.ts';
import type { FitResult } from './run-fit.ts';

function num(x: number | null | undefined): string {
  if (x === null || x === undefined) return '-';
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return x.toExponential(3);
  return String(Number(x.toPrecision(5)));
}

/** The mark on every interval of an unreliable bootstrap (set per fit by formatFit). */
let mark = '';

function ci(c: [number, number] | null): string {
  return c ? `[${num(c[0])}, ${num(c[1])}]${mark}` : '';
}

/** The bootstrap line: resamples fitted, the scheme, and when unreliable why (failures by reason). */
export function bootstrapLine(b: NonNullable<FitResultBase['bootstrap']>): string {
  const fraction = b.successFraction ?? b.succeeded / Math.max(1, b.samples);
  const head = `bootstrap: ${b.succeeded}/${b.samples} resamples fitted (${Math.round(100 * fraction)}%; seed ${b.seed}; ${b.scheme})`;
  const note = unreliableNote(b);
  if (note) return `${head}\nINTERVALS UNRELIABLE (conditional on the fitted resamples): ${note.slice('unreliable: '.length)}`;
  const failures = b.failures ?? [];
  return failures.length ? `${head}; failed: ${failures.map((f) => `${f.count} ${f.reason}`).join('; ')}` : head;
}

function pct(x: number): string {
  return `${(x * 100).toFixed(2)}%`;
}

/** Left-aligned columns, two spaces apart. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function estimates(title: string, values: Record<string, Estimate>): string {
  const rows = Object.entries(values).map(([k, e]) => [k, num(e.value), e.unreliable && !mark && e.ci95 ? `${ci(e.ci95)} unreliable` : ci(e.ci95)]);
  return rows.length ? table([title, 'value', '95% CI'], rows) : '';
}

function diagnosticsLine(d: FitResultBase['diagnostics']): string {
  if (d.optimizer === 'least-squares') {
    return `closed-form least squares (R² ${num(d.r2)}${d.objective !== null ? `, RSS ${num(d.objective)}` : ''})`;
  }
  return [
    `${d.optimizer} on ${d.loss}${d.delta !== null ? ` (δ = ${d.delta})` : ''}: objective ${num(d.objective)}, ‖grad‖∞ ${num(d.gradNorm)}, ${d.iterations} iterations`,
    `${d.converged ? 'converged' : 'NOT converged'} (${d.reason}); best of ${d.starts} starts (#${d.bestStart}); ${d.startsAgreeing} starts agree with it, ${d.startsConverged} converged`,
  ].join('\n');
}

export function formatFit(r: FitResult, source: string): string {
  mark = unreliableNote(r.bootstrap) ? ' unreliable' : '';
  try {
    return formatBody(r, source);
  } finally {
    mark = '';
  }
}

function formatBody(r: FitResult, source: string): string {
  const out: string[] = [];
  out.push(`${r.kind} fit   ${r.form}`);
  out.push(`data: ${r.data.n} rows used of ${r.data.rowsGiven} from ${source}${r.data.dropped.length ? `; ${r.data.dropped.length} dropped` : ''}`);
  out.push('');
  out.push(estimates('parameter', r.params));
  if (Object.keys(r.derived).length) out.push('', estimates('derived', r.derived));
  if (r.identifiability && !r.identifiability.identified) {
    // Kinds that refuse degenerate data say how the record was written anyway; the schedule fit
    // always writes its record and only marks it.
    const flag = kindsWithField('allowUnidentified').includes(r.kind) ? ' (--allow-unidentified)' : '';
    out.push('', `NOT IDENTIFIED${flag}: ${r.identifiability.problems.join('; ')}`);
  } else out.push('', diagnosticsLine(r.diagnostics));
  if (r.bootstrap) out.push(bootstrapLine(r.bootstrap));

  if (r.kind === 'isoflop') {
    out.push(
      '',
      table(
        ['budget', 'sizes', 'N_opt', 'D_opt', 'L_min', 'best run loss', 'flat N range', 'held out'],
        r.budgets.map((b) => [
          num(b.budget),
          b.window && b.window.sizesUsed < b.window.sizesGiven ? `${b.window.sizesUsed} of ${b.window.sizesGiven}` : String(b.points.length),
          num(b.N_opt.value),
          num(b.D_opt.value),
          `${num(b.L_min.value)}${b.undercut ? ' (!)' : ''}`,
          num(b.bestObserved.loss),
          `${num(b.flatRange.N[0])} … ${num(b.flatRange.N[1])}`,
          b.heldOut ? 'yes' : '',
        ]),
      ),
    );
  } else if (r.kind === 'surge' && r.method === 'steps-to-target') {
    out.push('', `steps to train loss ${r.targetLoss} (moving average over ≥ ${r.smoothTokens} tokens)`);
    out.push(
      table(
        ['batch tokens', 'runs', 'reached', 'best lr', '95% CI', 'S_min', '95% CI', 'held out'],
        r.perBatch.map((b) => [num(b.batchTokens), String(b.points.length), String(b.points.filter((p) => p.steps !== undefined).length), num(b.bestLr.value), ci(b.bestLr.ci95), num(b.stepsMin?.value ?? NaN), ci(b.stepsMin?.ci95 ?? null), b.heldOut ? 'yes' : '']),
      ),
    );
  } else if (r.kind === 'surge') {
    out.push('', table(['batch tokens', 'runs', 'best lr', '95% CI', 'held out'], r.perBatch.map((b) => [num(b.batchTokens), String(b.points.length), num(b.bestLr.value), ci(b.bestLr.ci95), b.heldOut ? 'yes' : ''])));
  } else if (r.kind === 'deepseek') {
    out.push('', table(['budget', 'near-optimal runs', 'best lr', 'best batch', 'min loss'], r.perBudget.map((b) => [num(b.budget), String(b.nearOptimal.length), num(b.best.lr), num(b.best.batchTokens), num(b.minLoss)])));
  } else if (r.kind === 'compute') {
    out.push('', table(['formula', 'a', 'b', 'mean |rel err|', 'max |rel err|'], r.comparison.map((c) => [c.formula, num(c.a), num(c.b), pct(c.meanAbsRelError), pct(c.maxAbsRelError)])));
  } else if (r.kind === 'schedule') {
    out.push('', table(['curve', 'role', 'points', 'mean |rel err|', 'max |rel err|', 'final rel err'], r.curves.map((c) => [c.name, c.role, String(c.steps.length), pct(c.meanAbsRelError), pct(c.maxAbsRelError), pct(c.finalRelError)])));
  } else if (r.kind === 'envelope') {
    out.push(`envelope: ${r.envelope.length} points, ${new Set(r.envelope.map((e) => e.curve)).size} winning curves`);
  }

  if (r.predictions?.length) {
    const qs = Object.keys(r.predictions[0].values);
    const ins = Object.keys(r.predictions[0].inputs);
    out.push(
      '',
      table(
        ['prediction', ...ins, ...qs.flatMap((q) => [q, '95% CI'])],
        r.predictions.map((p) => [p.label, ...ins.map((k) => num(p.inputs[k])), ...qs.flatMap((q) => [num(p.values[q].value), ci(p.values[q].ci95)])]),
      ),
    );
  }
  if (r.data.dropped.length) {
    const shown = r.data.dropped.slice(0, 10);
    out.push('', table(['dropped', 'reason'], shown.map((d) => [d.row, d.reason])));
    if (r.data.dropped.length > shown.length) out.push(`… and ${r.data.dropped.length - shown.length} more (all in the record's data.dropped)`);
  }
  if (r.heldOut.length) {
    out.push('', table(['held out', 'actual', 'predicted', '95% CI', 'rel. error'], r.heldOut.map((h) => [h.label, num(h.actual), num(h.predicted), ci(h.ci95), pct(h.relError)])));
  }
  if (r.notes.length) out.push('', ...r.notes.map((n) => `note: ${n}`));
  return `${out.join('\n')}\n`;
}
