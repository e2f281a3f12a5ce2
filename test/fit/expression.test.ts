// User-defined forms from expression strings: parameter discovery, symbolic derivatives (and the
// numeric fallback) and the refusals.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.ts';
import { createExpressionForm } from '../../src/fit/index.ts';

describe('createExpressionForm', () => {
  it('finds the parameters of the Chinchilla law and differentiates it symbolically', async () => {
    const form = await createExpressionForm('E + A / N^alpha + B / D^beta', ['N', 'D']);
    expect(form.params).toEqual(['E', 'A', 'alpha', 'B', 'beta']);
    expect(Object.values(form.derivatives)).toEqual(['symbolic', 'symbolic', 'symbolic', 'symbolic', 'symbolic']);
    expect(form.predict([1.69, 406.4, 0.34, 410.7, 0.28], [1e9, 2e10])).toBeCloseTo(2.58005, 4);
    // ∂ln L̂/∂θ against central differences.
    const cols = form.prepare([Float64Array.of(3e8), Float64Array.of(6e9)]);
    const th = Float64Array.of(1.7, 400, 0.34, 410, 0.28);
    const g = new Float64Array(5);
    form.logPredict(th, cols, 0, g);
    for (let k = 0; k < 5; k++) {
      const h = 1e-7 * Math.max(1, Math.abs(th[k]));
      const up = Float64Array.from(th);
      const dn = Float64Array.from(th);
      up[k] += h;
      dn[k] -= h;
      const tmp = new Float64Array(5);
      const num = (form.logPredict(up, cols, 0, tmp) - form.logPredict(dn, cols, 0, tmp)) / (2 * h);
      expect(Math.abs(num - g[k])).toBeLessThan(1e-6 * Math.max(1, Math.abs(num)));
    }
  });

  it('treats pi and e as constants and falls back to numeric derivatives where mathjs cannot differentiate', async () => {
    const form = await createExpressionForm('max(a, 0.1) * x^b + pi * e - 8', ['x']);
    expect(form.params).toEqual(['a', 'b']);
    expect(form.derivatives).toEqual({ a: 'numeric', b: 'symbolic' });
    const g = new Float64Array(2);
    form.logPredict(Float64Array.of(2, 0.5), [Float64Array.of(4)], 0, g);
    // d ln(a·x^b + c)/da at a = 2, b = 0.5, x = 4, c = π·e − 8: x^b / value.
    const value = 2 * 2 + Math.PI * Math.E - 8;
    expect(g[0]).toBeCloseTo(2 / value, 6);
  });

  it('refuses expressions that do not parse, use no input, or have no parameters', async () => {
    await expect(createExpressionForm('E + A / (N^alpha', ['N'])).rejects.toThrow(ConfigError);
    await expect(createExpressionForm('E + A / (N^alpha', ['N'])).rejects.toThrow(/expr: does not parse/);
    await expect(createExpressionForm('E + A', ['N'])).rejects.toThrow(/uses none of the input variables/);
    await expect(createExpressionForm('2 * N^0.5', ['N'])).rejects.toThrow(/has no parameters/);
  });
});
