// Shared test objectives with known minima.

/** Rosenbrock in n dimensions (minimum 0 at x = 1). */
export function rosenbrock(x: Float64Array, g: Float64Array): number {
  let f = 0;
  g.fill(0);
  for (let i = 0; i < x.length - 1; i++) {
    const a = x[i + 1] - x[i] * x[i];
    const b = 1 - x[i];
    f += 100 * a * a + b * b;
    g[i] += -400 * x[i] * a - 2 * b;
    g[i + 1] += 200 * a;
  }
  return f;
}

/** Powell's singular function: minimum 0 at the origin with a singular Hessian there. */
export function powell(x: Float64Array, g: Float64Array): number {
  const [a, b, c, d] = x;
  const t1 = a + 10 * b;
  const t2 = c - d;
  const t3 = b - 2 * c;
  const t4 = a - d;
  g[0] = 2 * t1 + 40 * t4 ** 3;
  g[1] = 20 * t1 + 4 * t3 ** 3;
  g[2] = 10 * t2 - 8 * t3 ** 3;
  g[3] = -10 * t2 - 40 * t4 ** 3;
  return t1 ** 2 + 5 * t2 ** 2 + t3 ** 4 + 10 * t4 ** 4;
}
