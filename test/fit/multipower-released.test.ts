// The Multi-Power Law authors' released fitting procedure (fitScheduleLaw option procedure:
// 'released'; docs/fit.md "The released Multi-Power procedure"). Known truth: on the bundled 400M
// curves it was run on (cosine_24000 + constant_24000 + wsdcon_9, docs/references.md#multi-power)
// it must land on the official parameters the authors published from it; the converged fit of the
// same objective does not (docs/BENCHMARKS.md). Also the optimiser alone and the refusals.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fitScheduleLaw, meanAbsRelError, MPL_OFFICIAL_PARAMS, multiPowerLaw, predictCurve, prepareCurve, type LossCurve } from '../../src/fit/index.ts';
import { createRng } from '../../src/util/rng.ts';
import { minimizeAdamW } from '../../src/fit/optimize/adamw.ts';
import { readCurveCsv } from '../../src/fit/run-fit.ts';
import { PROJECT_ROOT } from '../../src/util/provenance.ts';

const dir = join(PROJECT_ROOT, 'data', 'reference', 'multipowerlaw_loss_curves', 'csv_400');
const load = (name: string) => readCurveCsv(join(dir, `${name}.csv`));

describe('minimizeAdamW', () => {
  it('follows PyTorch AdamW by hand, keeps the best point, and stops after `patience` steps without a better one', () => {
    // f(x) = x², x0 = 1, lr 0.1, no decay: step 1 moves by lr·m̂/(√v̂ + ε) = 0.1·2/(2 + 1e-8).
    const fg = (x: Float64Array, g: Float64Array) => ((g[0] = 2 * x[0]), x[0] * x[0]);
    // Each step evaluates before it moves, so 2 steps return the point after the first update.
    const r = minimizeAdamW(fg, [1], { lrs: [0.1], maxSteps: 2, weightDecay: 0 });
    expect(r.x[0]).toBeCloseTo(1 - 0.1 * (2 / (2 + 1e-8)), 12);
    expect(r).toMatchObject({ converged: false, reason: 'early-stop' });
    // A constant objective never improves after the first step: it stops at 1 + patience.
    const flat = minimizeAdamW((x, g) => ((g[0] = 1), 5), [0], { lrs: [0.1], patience: 3, maxSteps: 200 });
    expect(flat.iterations).toBe(4);
    expect(flat.x[0]).toBe(0);
  });
});

describe('the released Multi-Power procedure', () => {
  it("reproduces the authors' official 400M parameters from their own three training curves, and says it is early-stopped", () => {
    const fit = fitScheduleLaw(['cosine_24000', 'constant_24000', 'wsdcon_9'].map(load), { law: 'multipower', procedure: 'released' });
    const official = MPL_OFFICIAL_PARAMS['400M'];
    for (const [k, v] of Object.entries(official)) expect(Math.abs(fit.params[k].value / v - 1), k).toBeLessThan(0.05);
    expect(fit.diagnostics).toMatchObject({ optimizer: 'adamw-early-stop', converged: false, reason: 'early-stop', starts: 1 });
    expect(fit.diagnostics.iterations).toBeLessThanOrEqual(200);
    expect(fit.notes.join(' ')).toMatch(/An early-stopped fit, not an optimum/);
    expect(fit.options).toMatchObject({ procedure: 'released' });
  }, 120_000);

  it('synthetic: curves planted from a known law with 0.1% noise — fitted on constant + cosine, it predicts the planted WSD and cosine-72k curves within 0.3%', () => {
    // The bundled curves' own LR schedules, losses replaced by the official 100M law × log-normal noise.
    const truth = MPL_OFFICIAL_PARAMS['100M'];
    const rng = createRng(5);
    const plant = (name: string, noise: number): LossCurve => {
      const c = load(name);
      const clean = predictCurve(multiPowerLaw, truth, prepareCurve(c));
      return { ...c, losses: Array.from(clean, (l) => l * Math.exp(noise * rng.normal())) };
    };
    const fit = fitScheduleLaw([plant('constant_24000', 1e-3), plant('cosine_24000', 1e-3)], { law: 'multipower', procedure: 'released' });
    const params = Object.fromEntries(Object.entries(fit.params).map(([k, v]) => [k, v.value]));
    for (const name of ['wsd_20000_24000', 'wsdld_20000_24000', 'cosine_72000']) {
      const clean = plant(name, 0);
      expect(meanAbsRelError(predictCurve(multiPowerLaw, params, prepareCurve(clean)), clean.losses), name).toBeLessThan(0.003);
    }
  }, 120_000);

  it('moelab fit schedule --procedure released: exits 3 saying it stops by design; --allow-unconverged writes the record', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'moelab-released-'));
    try {
      const out = join(tmp, 'f.json');
      const args = ['fit', 'schedule', '--law', 'multipower', '--procedure', 'released', '--fit', join(dir, 'constant_24000.csv'), join(dir, 'cosine_24000.csv'), '--out', out];
      const run = (extra: string[]) => spawnSync(process.execPath, [join(PROJECT_ROOT, 'bin', 'moelab.js'), ...args, ...extra], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
      const strict = run([]);
      expect(strict.status).toBe(3);
      expect(strict.stderr).toMatch(/stopped by "early-stop".*Exit 3; the procedure stops early by design \(docs\/fit\.md\); pass --allow-unconverged to accept it\./);
      const ok = run(['--allow-unconverged']);
      expect(ok.status).toBe(0);
      const record = JSON.parse(readFileSync(out, 'utf8')) as { options: { procedure?: string }; convergence: { converged: boolean } };
      expect(record.options.procedure).toBe('released');
      expect(record.convergence.converged).toBe(false);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }, 120_000);

  it('is refused where it does not apply, naming the way out', () => {
    const curves = ['constant_24000', 'cosine_24000'].map(load);
    expect(() => fitScheduleLaw(curves, { law: 'tissue', procedure: 'released' })).toThrow(/released procedure is the Multi-Power Law authors'.*Use procedure converge or law multipower/);
    expect(() => fitScheduleLaw(curves, { law: 'multipower', procedure: 'released', prior: 'drop-shape' })).toThrow(/use one of them/);
    expect(() => fitScheduleLaw(curves, { law: 'multipower', procedure: 'released', starts: [[2, 0, 0.4, 5, 0, 0.5, 0.5]] })).toThrow(/explicit starts do not apply/);
    expect(() => fitScheduleLaw(curves, { law: 'multipower', procedure: 'fast' as 'released' })).toThrow(/procedure "fast" is unknown/);
  });
});
