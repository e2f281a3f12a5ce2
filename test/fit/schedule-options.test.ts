// Schedule fits: the lsq-log objective on the Tissue law (same reference as the default Huber fit,
// to the precision the reference gives), raw-residual objectives refused, constant losses refused
// instead of a "converged" α ≈ 0, and --max-iterations reaching its cap reported as not converged.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fitConvergence } from '../../src/fit/convergence.ts';
import { fitScheduleLaw, type LossCurve } from '../../src/fit/index.ts';
import { PROJECT_ROOT } from '../../src/util/provenance.ts';

const ROOT = join(PROJECT_ROOT, 'data', 'reference', 'multipowerlaw_loss_curves', 'csv_400');
function load(name: string): LossCurve {
  const rows = readFileSync(join(ROOT, `${name}.csv`), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
  return { name, steps: rows.map((r) => r[0]), lrs: rows.map((r) => r[1]), losses: rows.map((r) => r[2]) };
}
const FIT = ['cosine_24000', 'constant_24000', 'wsdcon_9'].map(load);

describe('fitScheduleLaw objectives and refusals', () => {
  it('lsq-log: the Tissue law on the 400M curves lands on the reference parameters', () => {
    const fit = fitScheduleLaw(FIT, { law: 'tissue', objective: 'lsq-log', predict: [load('wsd_20000_24000')] });
    expect(fit.diagnostics).toMatchObject({ loss: 'lsq-log', delta: null, converged: true });
    expect(fit.params.L0.value).toBeCloseTo(2.4183, 1);
    expect(fit.params.alpha.value).toBeCloseTo(0.4982, 1);
    expect(fit.curves.find((c) => c.role === 'predict')!.meanAbsRelError).toBeLessThan(0.005);
    expect(fitConvergence(fit)).toEqual({ converged: true, reasons: [] });
  });

  it('refuses raw-residual objectives and constant losses (no α ≈ −1e−13 "converged")', () => {
    expect(() => fitScheduleLaw(FIT, { law: 'tissue', objective: 'lsq' })).toThrow(/objective lsq is not offered/);
    const flat = FIT.map((c) => ({ ...c, losses: Array.from(c.losses, () => 3) }));
    expect(() => fitScheduleLaw(flat, { law: 'tissue' })).toThrow(/all equal/);
  });

  it('an iteration cap reached is not converged, and fitConvergence says why', () => {
    const fit = fitScheduleLaw(FIT, { law: 'tissue', maxIterations: 3 });
    expect(fit.diagnostics.converged).toBe(false);
    const c = fitConvergence(fit);
    expect(c.converged).toBe(false);
    expect(c.reasons[0]).toMatch(/^main fit: lbfgs stopped by "max-iterations" after 3 iterations/);
  });
});
