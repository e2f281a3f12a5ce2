// Public surface of src/fit (re-exports only). src/fit never imports TF.js.
export * from './optimize/types.ts';
export * from './optimize/line-search.ts';
export * from './optimize/lbfgs.ts';
export * from './optimize/nelder-mead.ts';
export * from './optimize/levenberg-marquardt.ts';
