// Tied and fixed parameters for any Form whose fit parameters map one-to-one onto its natural ones
// (θ_i depends on p_i only: the Chinchilla form's e = ln E, a = ln A, …; expression forms as written).
//   fix  NAME=VALUE: the parameter is held at VALUE and leaves the optimiser's vector
//   tie  X=Y:        Y follows X (one free coordinate; its gradient is the sum of both)
// The constrained form fits only the free coordinates; `expand` rebuilds the full vector, so a
// record reports every parameter (fixed ones with their given value). Used for the tied form
// α = β of the Chinchilla law and for partially known forms (e.g. E fixed from another study).
import { DataError } from '../errors.ts';
import type { Form } from './forms.ts';

export interface ParamConstraints {
  /** Natural parameter → value it is held at. */
  fix?: Readonly<Record<string, number>>;
  /** Pairs [leader, follower]: the follower takes the leader's value. */
  tie?: readonly (readonly [string, string])[];
}

export interface ConstrainedForm extends Form {
  base: Form;
  /** Full fit-space vector (base.fitParams order) from the free coordinates. */
  expand(free: ArrayLike<number>): number[];
  /** Free coordinates from a full fit-space vector (leaders' values; followers and fixed dropped). */
  reduce(full: ArrayLike<number>): number[];
  /** For each base fit parameter: 'free', 'fixed' or 'tied to <leader>'. */
  roles: Record<string, string>;
}

/** Whether any constraint is given. */
export function hasConstraints(c: ParamConstraints | undefined): boolean {
  return !!c && (Object.keys(c.fix ?? {}).length > 0 || (c.tie ?? []).length > 0);
}

/** Fit-space value of natural parameter i (the form's transform is elementwise). */
function fitValueOf(form: Form, i: number, value: number): number {
  const nat = form.params.map(() => 1);
  nat[i] = value;
  return form.fromNatural(nat)[i];
}

export function constrainForm(form: Form, c: ParamConstraints): ConstrainedForm {
  const k = form.params.length;
  const idx = (name: string, what: string): number => {
    const i = form.params.indexOf(name);
    if (i < 0) throw new DataError(`${what} ${name}: not a parameter of ${form.expression} (parameters: ${form.params.join(', ')}).`);
    return i;
  };
  // source[i]: −1 free, −2 fixed, j ≥ 0 follows j.
  const source = new Array<number>(k).fill(-1);
  const fixedTheta = new Array<number>(k).fill(NaN);
  for (const [name, value] of Object.entries(c.fix ?? {})) {
    const i = idx(name, 'fix');
    const t = fitValueOf(form, i, value);
    if (!Number.isFinite(value) || !Number.isFinite(t)) {
      throw new DataError(`fix ${name}=${value}: not a valid value for ${name} (its fit transform gives ${t}). Give a finite value in the parameter's range (coefficients > 0).`);
    }
    source[i] = -2;
    fixedTheta[i] = t;
  }
  for (const [leader, follower] of c.tie ?? []) {
    const a = idx(leader, 'tie');
    const b = idx(follower, 'tie');
    if (a === b) throw new DataError(`tie ${leader}=${follower}: a parameter cannot be tied to itself. Name two different parameters, e.g. alpha=beta.`);
    if (source[a] !== -1 || source[b] !== -1) {
      throw new DataError(`tie ${leader}=${follower}: ${source[a] !== -1 ? leader : follower} is already fixed or tied. Each parameter may take part in one constraint.`);
    }
    // Same fit transform on both (e.g. both exponents, or both log-coefficients): the tie holds in fit space.
    const probe = 0.7;
    if (Math.abs(fitValueOf(form, a, probe) - fitValueOf(form, b, probe)) > 1e-12) {
      throw new DataError(`tie ${leader}=${follower}: the two parameters are fitted on different scales (one in log space). Tie parameters of the same kind (exponents with exponents, coefficients with coefficients).`);
    }
    source[b] = a;
  }
  const free = source.map((s, i) => (s === -1 ? i : -1)).filter((i) => i >= 0);
  if (free.length === 0) throw new DataError('Every parameter is fixed or tied: nothing is left to fit. Leave at least one parameter free.');
  const slot = new Array<number>(k).fill(-1);
  free.forEach((i, j) => (slot[i] = j));
  const full = new Float64Array(k);
  const gFull = new Float64Array(k);
  const expandInto = (th: ArrayLike<number>, out: Float64Array | number[]) => {
    for (let i = 0; i < k; i++) {
      const s = source[i];
      out[i] = s === -1 ? th[slot[i]] : s === -2 ? fixedTheta[i] : th[slot[s]];
    }
    return out;
  };
  const expand = (th: ArrayLike<number>): number[] => expandInto(th, new Array<number>(k)) as number[];
  const roles: Record<string, string> = {};
  form.params.forEach((p, i) => (roles[p] = source[i] === -1 ? 'free' : source[i] === -2 ? 'fixed' : `tied to ${form.params[source[i]]}`));
  return {
    base: form,
    name: `${form.name}-constrained`,
    expression: form.expression,
    inputs: form.inputs,
    params: free.map((i) => form.params[i]),
    fitParams: free.map((i) => form.fitParams[i]),
    toNatural: (th) => free.map((i) => form.toNatural(expand(th))[i]),
    fromNatural: (p) => {
      const nat = form.params.map(() => 1);
      free.forEach((i, j) => (nat[i] = p[j]));
      const t = form.fromNatural(nat);
      return free.map((i) => t[i]);
    },
    predict: (p, x) => {
      const th = free.map((_, j) => fitValueOf(form, free[j], p[j]));
      return form.predict(form.toNatural(expand(th)), x);
    },
    prepare: (columns) => form.prepare(columns),
    logPredict(th, prepared, i, grad) {
      expandInto(th, full);
      const lp = form.logPredict(full, prepared, i, gFull);
      grad.fill(0);
      for (let q = 0; q < k; q++) {
        const s = source[q];
        if (s === -1) grad[slot[q]] += gFull[q];
        else if (s >= 0) grad[slot[s]] += gFull[q];
      }
      return lp;
    },
    expand,
    reduce: (f) => free.map((i) => f[i]),
    roles,
  };
}

/** Parse `alpha=beta` → [alpha, beta]; throws naming the flag. */
export function parseTie(spec: string): [string, string] {
  const m = /^\s*([A-Za-z_][A-Za-z_0-9]*)\s*=\s*([A-Za-z_][A-Za-z_0-9]*)\s*$/.exec(spec);
  if (!m) throw new DataError(`tie ${JSON.stringify(spec)}: write LEADER=FOLLOWER with parameter names, e.g. alpha=beta.`);
  return [m[1], m[2]];
}
