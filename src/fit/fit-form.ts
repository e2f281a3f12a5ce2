// fitForm(form, data, options): multi-start fit of one registered (or user-defined) form on log
// residuals, returning named parameters and the convergence diagnostics every FitRecord carries.
import { Matrix, QrDecomposition } from 'ml-matrix';
import type { Form } from './forms.ts';
import { namedParams } from './forms.ts';
import { CHINCHILLA_HUBER_DELTA } from './huber.ts';
import {
  bindData,
  isLeastSquares,
  logResidualFunction,
  objectiveFor,
  rawResidualFunction,
  withRows,
  type BoundData,
  type LossKind,
} from './objective.ts';
import {
  lbfgsMinimizer,
  levenbergMarquardtMinimizer,
  multiStart,
  nelderMeadMinimizer,
  type Minimizer,
  type Optimizer,
  type StartsAgreement,
} from './multistart.ts';
import type { LbfgsOptions } from './optimize/lbfgs.ts';
import type { OptimizeResult } from './optimize/types.ts';

/** Convergence evidence reported with every fit (FitRecord.diagnostics). */
export interface FitDiagnostics {
  optimizer: Optimizer;
  loss: LossKind;
  /** Huber δ (null for least squares). */
  delta: number | null;
  /** Final objective of the best start. */
  objective: number;
  /** ‖∇objective‖∞ at the optimum (NaN for Nelder–Mead). */
  gradNorm: number;
  iterations: number;
  evaluations: number;
  converged: boolean;
  reason: string;
  starts: number;
  bestStart: number;
  /** The winning start point, in the optimiser's parameterisation. */
  startPoint: Record<string, number>;
  startsConverged: number;
  startsAtBestObjective: number;
  startsAgreeing: number;
  seconds: number;
}

export interface FitFormOptions {
  /** Start points in the form's fit parameterisation (form.fitParams order). */
  starts: readonly (readonly number[])[];
  loss?: LossKind;
  /** Huber threshold (default 1e-3): on log residuals for 'huber-log', in the target's units for 'huber'. */
  delta?: number;
  /** Iteration cap of each start (L-BFGS default 2000, Levenberg–Marquardt 500). */
  maxIterations?: number;
  optimizer?: Optimizer;
  weights?: ArrayLike<number>;
  lbfgs?: LbfgsOptions;
  agreement?: StartsAgreement;
}

export interface FormFit {
  form: Form;
  /** Optimum in the fit parameterisation. */
  theta: number[];
  /** Optimum in natural parameters, by name. */
  params: Record<string, number>;
  diagnostics: FitDiagnostics;
  data: BoundData;
  options: FitFormOptions;
}

function minimizerFor(form: Form, data: BoundData, options: FitFormOptions): { minimize: Minimizer; optimizer: Optimizer; loss: LossKind } {
  const loss = options.loss ?? 'huber-log';
  const optimizer = options.optimizer ?? (isLeastSquares(loss) ? 'levenberg-marquardt' : 'lbfgs');
  const delta = options.delta ?? CHINCHILLA_HUBER_DELTA;
  const maxIterations = options.maxIterations;
  if (optimizer === 'levenberg-marquardt') {
    if (!isLeastSquares(loss)) throw new Error('Levenberg–Marquardt minimises least squares: use loss "lsq-log" or "lsq"');
    const fn = loss === 'lsq' ? rawResidualFunction(form, data) : logResidualFunction(form, data);
    return { minimize: levenbergMarquardtMinimizer(fn, data.rows.length, maxIterations !== undefined ? { maxIterations } : undefined), optimizer, loss };
  }
  const fg = objectiveFor(form, data, loss, delta);
  if (optimizer === 'nelder-mead') {
    const g = new Float64Array(form.fitParams.length);
    return { minimize: nelderMeadMinimizer((x) => fg(x, g)), optimizer, loss };
  }
  return { minimize: lbfgsMinimizer(fg, maxIterations !== undefined ? { ...options.lbfgs, maxIterations } : options.lbfgs), optimizer, loss };
}

export function fitForm(form: Form, columns: readonly Float64Array[], y: ArrayLike<number>, options: FitFormOptions): FormFit {
  const data = bindData(form, columns, y, options.weights);
  return fitBound(form, data, options);
}

export function fitBound(form: Form, data: BoundData, options: FitFormOptions): FormFit {
  const { minimize, optimizer, loss } = minimizerFor(form, data, options);
  const ms = multiStart(minimize, options.starts, options.agreement);
  const theta = [...ms.best.x];
  return {
    form,
    theta,
    params: namedParams(form.params, form.toNatural(theta)),
    diagnostics: {
      optimizer,
      loss,
      delta: loss === 'huber-log' || loss === 'huber' ? (options.delta ?? CHINCHILLA_HUBER_DELTA) : null,
      objective: ms.best.f,
      gradNorm: ms.best.gradNorm,
      iterations: ms.best.iterations,
      evaluations: ms.best.evaluations,
      converged: ms.best.converged,
      reason: ms.best.reason,
      starts: ms.starts,
      bestStart: ms.bestStart,
      startPoint: namedParams(form.fitParams, ms.startPoint),
      startsConverged: ms.startsConverged,
      startsAtBestObjective: ms.startsAtBestObjective,
      startsAgreeing: ms.startsAgreeing,
      seconds: ms.seconds,
    },
    data,
    options,
  };
}

/**
 * Refit on a resample of the rows, starting from the full-data optimum (Epoch's bootstrap:
 * each resample refitted from the point estimate). Returns θ, or null when the refit fails.
 */
export function refitRows(fit: FormFit, rows: ArrayLike<number>): OptimizeResult | null {
  const data = withRows(fit.data, rows);
  const { minimize } = minimizerFor(fit.form, data, fit.options);
  const r = minimize(fit.theta);
  return Number.isFinite(r.f) ? r : null;
}

/**
 * Refit with new targets on the same rows (a residual bootstrap: the design kept, the responses
 * redrawn), starting from the full-data optimum. Returns θ, or null when the refit fails.
 */
export function refitTargets(fit: FormFit, y: ArrayLike<number>): OptimizeResult | null {
  const data: BoundData = { ...fit.data, lnY: Float64Array.from(y, Math.log), y: Float64Array.from(y) };
  const { minimize } = minimizerFor(fit.form, data, fit.options);
  const r = minimize(fit.theta);
  return Number.isFinite(r.f) ? r : null;
}

/**
 * Leverage h_i of each row of the fit: the diagonal of the hat matrix J(JᵀJ)⁻¹Jᵀ, J the Jacobian of
 * ln L̂ in the fit parameters at the optimum (by QR: h_i = ‖Q_i‖²). Σ h_i = number of parameters;
 * a row with h_i near 1 is one the fit bends to, so its residual understates the noise.
 */
export function leverages(fit: FormFit): Float64Array {
  const k = fit.theta.length;
  const rows = fit.data.rows;
  const theta = Float64Array.from(fit.theta);
  const g = new Float64Array(k);
  const J = new Matrix(rows.length, k);
  for (let r = 0; r < rows.length; r++) {
    fit.form.logPredict(theta, fit.data.prepared, rows[r], g);
    for (let j = 0; j < k; j++) J.set(r, j, g[j]);
  }
  const Q = new QrDecomposition(J).orthogonalMatrix;
  return Float64Array.from({ length: rows.length }, (_, r) => {
    let h = 0;
    for (let j = 0; j < k; j++) h += Q.get(r, j) ** 2;
    return h;
  });
}
