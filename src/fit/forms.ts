// The registry of built-in functional forms, each with NAMED parameters, the parameterisation the
// optimiser works in, and an analytic gradient of ln(prediction) in that parameterisation.
//
// Symbols (docs/architecture.md#naming; the only place besides model/count.ts where they appear):
//   N  parameters of the model (moelab passes ACTIVATED parameters unless told otherwise)
//   D  training tokens          C  training FLOPs          L  loss (nats/token)
//   E  irreducible loss         A, B, alpha, beta  the Chinchilla coefficients and exponents
//   B  also names a batch size in tokens in the surge form (its own input; no clash inside a form)
//
// Every fit here minimises Σ Huber_δ(ln L̂ − ln L) (or least squares on the same log residuals), so
// a form supplies ln L̂ and ∂ln L̂/∂θ. Positive coefficients live in log space and sums of positive
// terms are evaluated with log-sum-exp (Hoffmann et al. 2022, App. D.2; docs/references.md#chinchilla-approach-3), which
// keeps exp() from overflowing at the 4,500-start grid's extreme corners.

export interface Form {
  /** Registry key, e.g. `chinchilla`. */
  name: string;
  /** The law in mathjs syntax, e.g. `E + A / N^alpha + B / D^beta`. */
  expression: string;
  /** Input variables, in column order. */
  inputs: readonly string[];
  /** Natural (reported) parameters. */
  params: readonly string[];
  /** Parameters the optimiser works on (same length as `params`). */
  fitParams: readonly string[];
  toNatural(theta: ArrayLike<number>): number[];
  fromNatural(p: ArrayLike<number>): number[];
  /** L̂ at one point x (inputs in order), natural parameters. */
  predict(p: ArrayLike<number>, x: ArrayLike<number>): number;
  /** Once-per-data-set transform of the input columns (e.g. to ln N, ln D). */
  prepare(columns: readonly Float64Array[]): Float64Array[];
  /**
   * ln L̂ at row i of the prepared columns; writes ∂ln L̂/∂θ into `grad`. NaN when L̂ ≤ 0 (the
   * optimiser then backs off).
   */
  logPredict(theta: Float64Array, prepared: readonly Float64Array[], i: number, grad: Float64Array): number;
  /**
   * Optional fused kernel for Σ_j w_j·Huber_δ(ln L̂ − ln L) over `rows` and its gradient — the
   * same value as the generic loop over logPredict, written out for the hot multi-start grids.
   */
  huberLogKernel?(
    theta: Float64Array,
    grad: Float64Array,
    prepared: readonly Float64Array[],
    lnY: Float64Array,
    weights: Float64Array | null,
    rows: Int32Array,
    delta: number,
  ): number;
}

const logColumns = (columns: readonly Float64Array[]) => columns.map((c) => c.map(Math.log));

/** log(Σ exp(t_k)) and the softmax weights w_k = exp(t_k − LSE) written into `w`. */
export function logSumExp(t: ArrayLike<number>, w: Float64Array): number {
  let m = -Infinity;
  for (let k = 0; k < t.length; k++) if (t[k] > m) m = t[k];
  if (m === Infinity) {
    for (let k = 0; k < t.length; k++) w[k] = t[k] === Infinity ? 1 : 0;
    return Infinity;
  }
  let s = 0;
  for (let k = 0; k < t.length; k++) {
    w[k] = Math.exp(t[k] - m);
    s += w[k];
  }
  for (let k = 0; k < t.length; k++) w[k] /= s;
  return m + Math.log(s);
}

// ---------------------------------------------------------------------------------------------
// Approach 3: L(N, D) = E + A/N^alpha + B/D^beta (Hoffmann et al. 2022, Eq. 2)
// Fit space θ = (e, a, b, alpha, beta) with E = e^e, A = e^a, B = e^b:
//   ln L̂ = LSE(a − alpha·ln N, b − beta·ln D, e)

export const chinchillaForm: Form = (() => {
  const t = new Float64Array(3);
  const w = new Float64Array(3);
  return {
    name: 'chinchilla',
    expression: 'E + A / N^alpha + B / D^beta',
    inputs: ['N', 'D'],
    params: ['E', 'A', 'B', 'alpha', 'beta'],
    fitParams: ['e', 'a', 'b', 'alpha', 'beta'],
    toNatural: (th) => [Math.exp(th[0]), Math.exp(th[1]), Math.exp(th[2]), th[3], th[4]],
    fromNatural: (p) => [Math.log(p[0]), Math.log(p[1]), Math.log(p[2]), p[3], p[4]],
    predict: (p, x) => p[0] + p[1] / Math.pow(x[0], p[3]) + p[2] / Math.pow(x[1], p[4]),
    prepare: logColumns,
    logPredict(th, cols, i, grad) {
      const lnN = cols[0][i];
      const lnD = cols[1][i];
      t[0] = th[1] - th[3] * lnN;
      t[1] = th[2] - th[4] * lnD;
      t[2] = th[0];
      const lp = logSumExp(t, w);
      grad[0] = w[2];
      grad[1] = w[0];
      grad[2] = w[1];
      grad[3] = -w[0] * lnN;
      grad[4] = -w[1] * lnD;
      return lp;
    },
    huberLogKernel(th, grad, cols, lnY, weights, rows, delta) {
      const e = th[0];
      const a = th[1];
      const b = th[2];
      const alpha = th[3];
      const beta = th[4];
      const lnNs = cols[0];
      const lnDs = cols[1];
      let f = 0;
      let ge = 0;
      let ga = 0;
      let gb = 0;
      let gAlpha = 0;
      let gBeta = 0;
      for (let j = 0; j < rows.length; j++) {
        const i = rows[j];
        const lnN = lnNs[i];
        const lnD = lnDs[i];
        const t1 = a - alpha * lnN;
        const t2 = b - beta * lnD;
        // Shift by the largest term so one exponential is exactly 1 (and none overflows).
        let m: number;
        let x1 = 1;
        let x2 = 1;
        let x3 = 1;
        if (t1 >= t2 && t1 >= e) {
          m = t1;
          x2 = Math.exp(t2 - m);
          x3 = Math.exp(e - m);
        } else if (t2 >= e) {
          m = t2;
          x1 = Math.exp(t1 - m);
          x3 = Math.exp(e - m);
        } else {
          m = e;
          x1 = Math.exp(t1 - m);
          x2 = Math.exp(t2 - m);
        }
        const s = x1 + x2 + x3;
        const r = m + Math.log(s) - lnY[i];
        const w = weights === null ? 1 : weights[i];
        let dr: number;
        if (r > delta) {
          f += w * delta * (r - 0.5 * delta);
          dr = w * delta;
        } else if (r < -delta) {
          f += w * delta * (-r - 0.5 * delta);
          dr = -w * delta;
        } else {
          f += 0.5 * w * r * r;
          dr = w * r;
        }
        const q = dr / s; // dr × softmax weight / x_k
        const w1 = q * x1;
        const w2 = q * x2;
        ge += q * x3;
        ga += w1;
        gb += w2;
        gAlpha -= w1 * lnN;
        gBeta -= w2 * lnD;
      }
      grad[0] = ge;
      grad[1] = ga;
      grad[2] = gb;
      grad[3] = gAlpha;
      grad[4] = gBeta;
      return Number.isFinite(f) ? f : NaN;
    },
  };
})();

// ---------------------------------------------------------------------------------------------
// Saturating power law in one variable: L(x) = E + A·x^(−alpha) (e.g. the isoFLOP minima L_min(C)).
// θ = (e, a, alpha): ln L̂ = LSE(a − alpha·ln x, e).

export const powerLawOffsetForm: Form = (() => {
  const t = new Float64Array(2);
  const w = new Float64Array(2);
  return {
    name: 'power-law-offset',
    expression: 'E + A * x^(-alpha)',
    inputs: ['x'],
    params: ['E', 'A', 'alpha'],
    fitParams: ['e', 'a', 'alpha'],
    toNatural: (th) => [Math.exp(th[0]), Math.exp(th[1]), th[2]],
    fromNatural: (p) => [Math.log(p[0]), Math.log(p[1]), p[2]],
    predict: (p, x) => p[0] + p[1] * Math.pow(x[0], -p[2]),
    prepare: logColumns,
    logPredict(th, cols, i, grad) {
      const lnx = cols[0][i];
      t[0] = th[1] - th[2] * lnx;
      t[1] = th[0];
      const lp = logSumExp(t, w);
      grad[0] = w[1];
      grad[1] = w[0];
      grad[2] = -w[0] * lnx;
      return lp;
    },
  };
})();

// ---------------------------------------------------------------------------------------------
// Plain power law y = k·x^a (N_opt(C), D_opt(C), η_opt(C), B_opt(C)): linear in log space,
// θ = (ln k, a). fitPowerLaw() solves it in closed form; the form exists for bootstrap/prediction.

export const powerLawForm: Form = {
  name: 'power-law',
  expression: 'k * x^a',
  inputs: ['x'],
  params: ['k', 'a'],
  fitParams: ['lnk', 'a'],
  toNatural: (th) => [Math.exp(th[0]), th[1]],
  fromNatural: (p) => [Math.log(p[0]), p[1]],
  predict: (p, x) => p[0] * Math.pow(x[0], p[1]),
  prepare: logColumns,
  logPredict(th, cols, i, grad) {
    const lnx = cols[0][i];
    grad[0] = 1;
    grad[1] = lnx;
    return th[0] + th[1] * lnx;
  },
};

// ---------------------------------------------------------------------------------------------
// Surge curve (Li et al. 2024, Eq. 2; docs/references.md#surge): best LR against batch size B (tokens)
//   ε_opt(B) = 2·ε_max / (sqrt(B_noise/B) + sqrt(B/B_noise))
// θ = (ln ε_max, ln B_noise); with u = ½(ln B_noise − ln B):
//   ln ε̂ = ln 2 + ln ε_max − ln(e^u + e^−u),   ∂/∂ln B_noise = −½·tanh(u)

export const surgeForm: Form = {
  name: 'surge',
  expression: '2 * epsMax / (sqrt(Bnoise / B) + sqrt(B / Bnoise))',
  inputs: ['B'],
  params: ['epsMax', 'Bnoise'],
  fitParams: ['lnEpsMax', 'lnBnoise'],
  toNatural: (th) => [Math.exp(th[0]), Math.exp(th[1])],
  fromNatural: (p) => [Math.log(p[0]), Math.log(p[1])],
  predict: (p, x) => epsOpt(x[0], p[0], p[1]),
  prepare: logColumns,
  logPredict(th, cols, i, grad) {
    const u = 0.5 * (th[1] - cols[0][i]);
    const au = Math.abs(u);
    // ln(e^u + e^−u) = |u| + ln(1 + e^{−2|u|}), stable for large |u|.
    const lnCosh2 = au + Math.log1p(Math.exp(-2 * au));
    grad[0] = 1;
    grad[1] = -0.5 * Math.tanh(u);
    return Math.LN2 + th[0] - lnCosh2;
  },
};

/** ε_opt(B) of the surge law (Li et al. 2024, Eq. 2). */
export function epsOpt(batchTokens: number, epsMax: number, bNoise: number): number {
  return (2 * epsMax) / (Math.sqrt(bNoise / batchTokens) + Math.sqrt(batchTokens / bNoise));
}

/**
 * ε_opt(B/n) / ε_opt(B) = √n·(1 + u)/(n + u) with u = B/B_noise: the specialized experts' LR
 * relative to the shared one (each of n = E/k experts sees B/n tokens); ≈ 0.31 for n = 16, u = 0.26.
 */
export function surgeExpertLrRatio(u: number, n: number): number {
  return (Math.sqrt(n) * (1 + u)) / (n + u);
}

// ---------------------------------------------------------------------------------------------
// Steps to a target loss against batch size (McCandlish et al. 2018; Li et al. 2024 §3.2;
// docs/references.md#surge-estimation): the S–E trade-off (S/S_min − 1)(E/E_min − 1) = 1 with E = S·B gives
//   S(B) = S_min·(1 + B_noise/B),   B_noise = E_min/S_min   (B in tokens, S in optimizer steps)
// θ = (ln S_min, ln B_noise); with t = ln B_noise − ln B:
//   ln Ŝ = ln S_min + softplus(t),   ∂/∂ln S_min = 1,   ∂/∂ln B_noise = sigmoid(t)

export const stepsBatchForm: Form = {
  name: 'steps-batch',
  expression: 'Smin * (1 + Bnoise / B)',
  inputs: ['B'],
  params: ['Smin', 'Bnoise'],
  fitParams: ['lnSmin', 'lnBnoise'],
  toNatural: (th) => [Math.exp(th[0]), Math.exp(th[1])],
  fromNatural: (p) => [Math.log(p[0]), Math.log(p[1])],
  predict: (p, x) => stepsAtBatch(x[0], p[0], p[1]),
  prepare: logColumns,
  logPredict(th, cols, i, grad) {
    const t = th[1] - cols[0][i];
    // softplus(t) = ln(1 + e^t) = max(t, 0) + ln(1 + e^−|t|), stable for large |t|.
    const softplus = Math.max(t, 0) + Math.log1p(Math.exp(-Math.abs(t)));
    grad[0] = 1;
    grad[1] = t >= 0 ? 1 / (1 + Math.exp(-t)) : Math.exp(t) / (1 + Math.exp(t));
    return th[0] + softplus;
  },
};

/** S(B) = S_min·(1 + B_noise/B): optimizer steps to a target loss at batch B (McCandlish et al. 2018). */
export function stepsAtBatch(batchTokens: number, sMin: number, bNoise: number): number {
  return sMin * (1 + bNoise / batchTokens);
}

// ---------------------------------------------------------------------------------------------
// Compute formula C = a·N·D + b·D (docs/references.md#compute-formula; Hunyuan-Large: a = 9.59, b = 2.3e8).
// Natural space (a, b may be any sign in principle); ln Ĉ = ln(a·N·D + b·D).

export const computeLinearForm: Form = {
  name: 'compute-linear',
  expression: 'a * N * D + b * D',
  inputs: ['N', 'D'],
  params: ['a', 'b'],
  fitParams: ['a', 'b'],
  toNatural: (th) => [th[0], th[1]],
  fromNatural: (p) => [p[0], p[1]],
  predict: (p, x) => p[0] * x[0] * x[1] + p[1] * x[1],
  prepare: (cols) => cols.map((c) => Float64Array.from(c)),
  logPredict(th, cols, i, grad) {
    const N = cols[0][i];
    const D = cols[1][i];
    const c = th[0] * N * D + th[1] * D;
    if (!(c > 0)) return NaN;
    grad[0] = (N * D) / c;
    grad[1] = D / c;
    return Math.log(c);
  },
};

export const FORMS: Readonly<Record<string, Form>> = Object.freeze({
  [chinchillaForm.name]: chinchillaForm,
  [powerLawOffsetForm.name]: powerLawOffsetForm,
  [powerLawForm.name]: powerLawForm,
  [surgeForm.name]: surgeForm,
  [stepsBatchForm.name]: stepsBatchForm,
  [computeLinearForm.name]: computeLinearForm,
});

/** Named view of a parameter vector. */
export function namedParams(names: readonly string[], values: ArrayLike<number>): Record<string, number> {
  const out: Record<string, number> = {};
  names.forEach((n, i) => (out[n] = values[i]));
  return out;
}
