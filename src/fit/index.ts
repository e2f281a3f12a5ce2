// Public surface of src/fit (re-exports only). src/fit never imports TF.js.

// Numerical core
export * from './optimize/types.ts';
export * from './optimize/line-search.ts';
export * from './optimize/lbfgs.ts';
export * from './optimize/nelder-mead.ts';
export * from './optimize/levenberg-marquardt.ts';
export * from './huber.ts';
export * from './linear.ts';
export * from './forms.ts';
export * from './objective.ts';
export * from './multistart.ts';
export * from './fit-form.ts';
export * from './bootstrap.ts';
export { createExpressionForm, type ExpressionForm } from './expression.ts';

// Fits (pure: in-memory rows → FitResult)
export * from './record.ts';
export * from './points.ts';
export * from './compute-formula.ts';
export * from './parametric.ts';
export * from './isoflop.ts';
export * from './envelope.ts';
export * from './surge.ts';
export * from './surge-steps.ts';
export * from './edges.ts';
export * from './deepseek.ts';
export * from './schedule-laws.ts';
export * from './custom.ts';
export * from './constrain.ts';
export * from './identify.ts';
export * from './convergence.ts';

// Data sources and the CLI-facing driver
export * from './data.ts';
export * from './run-fit.ts';
export * from './predict-input.ts';
export { formatFit } from './format.ts';
export * from './bench.ts';
