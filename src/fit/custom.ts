// Fitting any Form (a user expression from ./expression.ts, or a registered one) on rows of named
// inputs: multi-start over a grid of initial values, Huber on log residuals (or least squares),
// bootstrap intervals, held-out check on the rows with the largest value of the first input.
import { DataError } from '../errors.ts';
import { bootstrap } from './bootstrap.ts';
import { fitForm, refitRows, type FitDiagnostics } from './fit-form.ts';
import type { ExpressionForm } from './expression.ts';
import type { Form } from './forms.ts';
import { describeObjective, type LossKind } from './objective.ts';
import { gridStarts } from './multistart.ts';
import { fmt, groupIndices, roundSignificant } from './points.ts';
import { constantProblem } from './identify.ts';
import { bootstrapSummary, predictionDraws, predictionRows, prefixKeys, relError, withIntervals, type FitResultBase, type HeldOutRow } from './record.ts';

export interface CustomRow {
  /** Input values by the form's input names. */
  x: Record<string, number>;
  y: number;
  label?: string;
}

export interface CustomFitOptions {
  /** Initial values per parameter (a list makes a grid axis); parameters not listed start at 1. */
  init?: Record<string, number | readonly number[]>;
  /** Objective (default 'huber-log'); `loss` is the older name of the same option. */
  objective?: LossKind;
  loss?: LossKind;
  delta?: number;
  /** Iteration cap of each start. */
  maxIterations?: number;
  /** Rows (inputs by name) at which to predict the target, with intervals. */
  predict?: readonly { x: Record<string, number>; label?: string }[];
  bootstrap?: number;
  seed?: number;
  /** 'largest': refit without the rows whose first input is largest (to 2 s.f.), predict them. */
  holdout?: 'largest' | 'none';
}

export interface CustomFit extends FitResultBase {
  kind: 'custom';
  diagnostics: FitDiagnostics;
  inputs: readonly string[];
  /** How each derivative was obtained (expression forms). */
  derivatives?: Record<string, 'symbolic' | 'numeric'>;
}

export function fitCustom(form: Form, rows: readonly CustomRow[], options: CustomFitOptions = {}): CustomFit {
  const label = (r: CustomRow, i: number) => r.label ?? `row ${i + 1}`;
  rows.forEach((r, i) => {
    for (const name of form.inputs) {
      if (!Number.isFinite(r.x[name])) throw new DataError(`${label(r, i)}: input ${name} is missing or not a number (got ${r.x[name]}). Map it to a column.`);
    }
    if (!(r.y > 0) || !Number.isFinite(r.y)) throw new DataError(`${label(r, i)}: the target must be a finite number > 0 (got ${r.y}); the fit is on ln y.`);
  });
  if (rows.length <= form.params.length) {
    throw new DataError(`custom fit: ${rows.length} rows for ${form.params.length} parameters (${form.params.join(', ')}). Give more rows than parameters.`);
  }
  const flat = constantProblem(rows.map((r) => r.y), 'the target');
  if (flat) throw new DataError(`custom fit: ${flat}. Check the target column.`);
  const predictRows = (options.predict ?? []).map((r, i) => {
    for (const name of form.inputs) {
      if (!Number.isFinite(r.x[name])) throw new DataError(`custom fit: prediction row ${i + 1} lacks input ${name} (got ${r.x[name]}). Give every input of ${form.expression}.`);
    }
    return { label: r.label ?? `prediction ${i + 1}`, inputs: Object.fromEntries(form.inputs.map((n) => [n, r.x[n]])) };
  });
  const predictValues = (p: number[]) => predictRows.map((r) => ({ y: form.predict(p, form.inputs.map((n) => r.inputs[n])) }));
  const init = options.init ?? {};
  for (const k of Object.keys(init)) {
    if (!form.params.includes(k)) throw new DataError(`--init ${k}: not a parameter of ${form.expression} (parameters: ${form.params.join(', ')}).`);
  }
  const axes = form.params.map((p) => {
    const v = init[p];
    return v === undefined ? [1] : typeof v === 'number' ? [v] : [...v];
  });
  const starts = gridStarts(axes).map((nat) => form.fromNatural(nat));
  const loss = options.objective ?? options.loss ?? 'huber-log';
  const nBoot = options.bootstrap ?? 0;
  const seed = options.seed ?? 0;
  const cols = (idx: readonly number[]) => form.inputs.map((name) => Float64Array.from(idx, (i) => rows[i].x[name]));
  const ys = (idx: readonly number[]) => Float64Array.from(idx, (i) => rows[i].y);
  const all = rows.map((_, i) => i);
  const fit = fitForm(form, cols(all), ys(all), { starts, loss, delta: options.delta, maxIterations: options.maxIterations });
  if (!Number.isFinite(fit.diagnostics.objective)) {
    throw new DataError(`custom fit: ${form.expression} is not positive and finite on the data at any start. Give --init values where it is.`);
  }
  const boot =
    nBoot > 0
      ? bootstrap(
          rows.length,
          (r) => {
            const res = refitRows(fit, r);
            if (!res) return null;
            const nat = form.toNatural(res.x);
            return { ...prefixKeys(Object.fromEntries(form.params.map((n, i) => [n, nat[i]])), 'params.'), ...predictionDraws(predictValues(nat)) };
          },
          { samples: nBoot, seed },
        )
      : null;

  const heldOut: HeldOutRow[] = [];
  const holdout = options.holdout ?? 'largest';
  const groups = groupIndices(rows.map((r) => roundSignificant(r.x[form.inputs[0]], 2)));
  const heldRows = holdout === 'largest' && groups.length >= 3 ? groups[groups.length - 1].rows : [];
  if (heldRows.length > 0 && rows.length - heldRows.length > form.params.length) {
    const held = new Set(heldRows);
    const train = all.filter((i) => !held.has(i));
    const hf = fitForm(form, cols(train), ys(train), { starts: [fit.theta, ...starts], loss, delta: options.delta, maxIterations: options.maxIterations });
    const p = form.toNatural(hf.theta);
    for (const i of heldRows) {
      const pred = form.predict(p, form.inputs.map((n) => rows[i].x[n]));
      heldOut.push({ label: `${label(rows[i], i)} (${form.inputs[0]}=${fmt(rows[i].x[form.inputs[0]])})`, actual: rows[i].y, predicted: pred, ci95: null, relError: relError(pred, rows[i].y) });
    }
  }

  return {
    kind: 'custom',
    form: form.expression,
    params: withIntervals(fit.params, boot, 'params.'),
    derived: {},
    diagnostics: fit.diagnostics,
    data: { n: rows.length, rowsGiven: rows.length, columns: {}, dropped: [], heldOutRows: heldRows.map((i) => label(rows[i], i)) },
    heldOut,
    bootstrap: bootstrapSummary(boot, 'rows with replacement; each resample refitted from the optimum'),
    options: { init, loss, objective: loss, maxIterations: options.maxIterations ?? null, delta: options.delta ?? 1e-3, bootstrap: nBoot, seed, holdout },
    notes: [
      `Parameters fitted as written (no log transform) on ${describeObjective(loss, options.delta ?? 1e-3)} from ${starts.length} start${starts.length === 1 ? '' : 's'}.`,
      heldRows.length > 0 ? `Held-out check: refitted without the rows with the largest ${form.inputs[0]}.` : 'No held-out check (needs ≥ 3 distinct values of the first input, or --holdout none).',
    ],
    inputs: form.inputs,
    ...(predictRows.length ? { predictions: predictionRows(predictRows, predictValues(form.toNatural(fit.theta)), boot) } : {}),
    ...(isExpressionForm(form) ? { derivatives: form.derivatives } : {}),
  };
}

function isExpressionForm(form: Form): form is ExpressionForm {
  return 'derivatives' in form;
}
