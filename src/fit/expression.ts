// User-defined forms: a law written as an expression string (mathjs syntax), e.g.
//   "E + A / N^alpha + B / D^beta"   or   "L0 + A * C^(-alpha)"
// becomes a Form with named parameters and SYMBOLIC derivatives (mathjs `derivative`); where mathjs
// cannot differentiate (max, abs, …) that parameter falls back to central differences.
// Every free symbol that is not an input variable is a parameter, except the lowercase constants
// pi, e, tau and phi. Parameters are fitted as written (no log transform), so the prediction must
// stay positive on the data (the objective is on ln L̂). mathjs is imported lazily: it costs 1–3 s.
import { ConfigError } from '../errors.ts';
import type { Form } from './forms.ts';

const CONSTANTS = new Set(['pi', 'e', 'tau', 'phi', 'Infinity', 'NaN', 'true', 'false']);

export interface ExpressionForm extends Form {
  /** How each parameter's derivative is computed. */
  derivatives: Record<string, 'symbolic' | 'numeric'>;
  /** The symbolic derivatives as strings (null where numeric). */
  derivativeExpressions: Record<string, string | null>;
}

interface Compiled {
  evaluate(scope: Map<string, number>): unknown;
}

/**
 * Build a Form from `expression` with the given input variables (e.g. ['N', 'D']). Throws a
 * ConfigError naming the expression when it does not parse, uses no input, or has no parameter.
 */
export async function createExpressionForm(expression: string, inputs: readonly string[], field = 'expr'): Promise<ExpressionForm> {
  const math = await import('mathjs');
  let node: import('mathjs').MathNode;
  try {
    node = math.parse(expression);
  } catch (err) {
    throw new ConfigError(field, expression, 'Write the law in mathjs syntax, e.g. "E + A / N^alpha + B / D^beta".', `does not parse (${(err as Error).message})`);
  }
  const symbols: string[] = [];
  node.traverse((n, path, parent) => {
    if (!math.isSymbolNode(n)) return;
    if (parent && math.isFunctionNode(parent) && path === 'fn') return;
    const name = n.name;
    if (!CONSTANTS.has(name) && !symbols.includes(name)) symbols.push(name);
  });
  const used = inputs.filter((v) => symbols.includes(v));
  if (used.length === 0) {
    throw new ConfigError(field, expression, `Use at least one input variable (${inputs.join(', ')}).`, 'the expression uses none of the input variables');
  }
  const params = symbols.filter((s) => !inputs.includes(s));
  if (params.length === 0) {
    throw new ConfigError(field, expression, 'Add free parameters to fit, e.g. "E + A / N^alpha".', 'the expression has no parameters');
  }

  const value = node.compile() as Compiled;
  const derivatives: Record<string, 'symbolic' | 'numeric'> = {};
  const derivativeExpressions: Record<string, string | null> = {};
  const dCompiled: (Compiled | null)[] = params.map((p) => {
    try {
      const d = math.derivative(node, p);
      derivatives[p] = 'symbolic';
      derivativeExpressions[p] = d.toString();
      return d.compile() as Compiled;
    } catch {
      derivatives[p] = 'numeric';
      derivativeExpressions[p] = null;
      return null;
    }
  });

  const scope = new Map<string, number>();
  const setScope = (p: ArrayLike<number>, x: (i: number) => number) => {
    params.forEach((name, k) => scope.set(name, p[k]));
    inputs.forEach((name, k) => scope.set(name, x(k)));
  };
  const evalNumber = (c: Compiled) => {
    const v = c.evaluate(scope);
    return typeof v === 'number' ? v : NaN;
  };

  return {
    name: 'custom',
    expression,
    inputs,
    params,
    fitParams: params,
    derivatives,
    derivativeExpressions,
    toNatural: (th) => Array.from(th),
    fromNatural: (p) => Array.from(p),
    predict(p, x) {
      setScope(p, (k) => x[k]);
      return evalNumber(value);
    },
    prepare: (cols) => cols.map((c) => Float64Array.from(c)),
    logPredict(th, cols, i, grad) {
      setScope(th, (k) => cols[k][i]);
      const v = evalNumber(value);
      if (!(v > 0) || !Number.isFinite(v)) return NaN;
      for (let k = 0; k < params.length; k++) {
        const dc = dCompiled[k];
        let d: number;
        if (dc) {
          d = evalNumber(dc);
        } else {
          const h = 1e-6 * Math.max(1, Math.abs(th[k]));
          scope.set(params[k], th[k] + h);
          const up = evalNumber(value);
          scope.set(params[k], th[k] - h);
          const down = evalNumber(value);
          scope.set(params[k], th[k]);
          d = (up - down) / (2 * h);
        }
        grad[k] = d / v;
      }
      return Math.log(v);
    },
  };
}
