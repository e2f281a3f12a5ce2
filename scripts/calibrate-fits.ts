// Coverage of the parametric and surge fits' 95% intervals over simulated sweeps (the cases of
// src/analysis/calibration/{parametric,surge}.ts). A stand-alone runner of the two cases until
// `moelab bench --calibration` runs every case; prints, per quantity, the coverage, the misses
// below and above the truth, the median interval width and the mean bootstrap success fraction.
//
//   npx tsx scripts/calibrate-fits.ts --case parametric|surge [--sweeps 200] [--bootstrap 200]
//     [--interval METHOD] [--grid coarse] [--seed 0] [--json]
//   npx tsx scripts/calibrate-fits.ts --compare-grids 20   (parametric: the 243- and 4,500-point start
//     grids on the same sweeps, bootstrap off: the largest difference of E, alpha, beta)
import { parametricCase, simulateParametricCalibrationSweep } from '../src/analysis/calibration/parametric.ts';
import { fitParametric } from '../src/fit/parametric.ts';
import { surgeCase } from '../src/analysis/calibration/surge.ts';
import type { CalibrationCase, CalibrationTrial } from '../src/analysis/calibration/types.ts';

const args = process.argv.slice(2);
const arg = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
if (arg('compare-grids')) {
  const n = Number(arg('compare-grids'));
  const worst = { E: 0, alpha: 0, beta: 0 };
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const pts = simulateParametricCalibrationSweep({ seed: Number(arg('seed') ?? 0) }, i).map((r) => ({ N: r.N, D: r.D, C: r.C, loss: r.loss }));
    const coarse = fitParametric(pts, { grid: 'coarse', holdout: 'none' });
    const full = fitParametric(pts, { grid: 'chinchilla', holdout: 'none' });
    for (const q of ['E', 'alpha', 'beta'] as const) worst[q] = Math.max(worst[q], Math.abs(coarse.params[q].value - full.params[q].value));
  }
  console.log(`${n} sweeps, ${((performance.now() - t0) / 1000).toFixed(0)} s (loaded machine): largest |coarse − full grid| E ${worst.E.toExponential(2)}, alpha ${worst.alpha.toExponential(2)}, beta ${worst.beta.toExponential(2)}`);
  process.exit(0);
}
const which = arg('case') ?? 'parametric';
const sweeps = Number(arg('sweeps') ?? 200);
const bootstrap = Number(arg('bootstrap') ?? 200);
const seed = Number(arg('seed') ?? 0);
const interval = arg('interval');
const c: CalibrationCase =
  which === 'parametric'
    ? parametricCase({ seed, grid: arg('grid') as 'coarse' | undefined, interval: interval as never })
    : which === 'surge'
      ? surgeCase({ seed, interval: interval as never })
      : (() => {
          throw new Error(`--case: give parametric or surge, got ${which}`);
        })();

const trials: Record<string, CalibrationTrial[]> = Object.fromEntries(c.quantities.map((q) => [q, []]));
const t0 = performance.now();
let failed = 0;
for (let i = 0; i < sweeps; i++) {
  try {
    const r = c.trial(i, { bootstrap });
    for (const q of c.quantities) trials[q].push(r[q]);
  } catch (e) {
    failed++;
    for (const q of c.quantities) trials[q].push({ truth: NaN, ci: null, successFraction: 0 });
    if (failed <= 3) console.error(`sweep ${i}: ${(e as Error).message.slice(0, 200)}`);
  }
  if (!args.includes('--json') && (i + 1) % 20 === 0) console.error(`${i + 1}/${sweeps} sweeps, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}
const summary = Object.fromEntries(
  c.quantities.map((q) => {
    const ts = trials[q];
    const hit = ts.filter((t) => t.ci && t.ci[0] <= t.truth && t.truth <= t.ci[1]).length;
    const below = ts.filter((t) => t.ci && t.ci[1] < t.truth).length;
    const above = ts.filter((t) => t.ci && t.ci[0] > t.truth).length;
    const widths = ts.filter((t) => t.ci).map((t) => (t.ci as [number, number])[1] - (t.ci as [number, number])[0]).sort((a, b) => a - b);
    const sf = ts.reduce((s, t) => s + t.successFraction, 0) / ts.length;
    return [q, { coverage: hit / ts.length, n: ts.length, intervalBelowTruth: below, intervalAboveTruth: above, noInterval: ts.length - below - above - hit, medianWidth: widths[Math.floor(widths.length / 2)] ?? NaN, meanSuccessFraction: sf }];
  }),
);
const seconds = (performance.now() - t0) / 1000;
if (args.includes('--json')) console.log(JSON.stringify(summary));
else {
  console.log(`${c.name}: ${sweeps} sweeps, bootstrap ${bootstrap}, interval ${interval ?? 'default'}, ${seconds.toFixed(0)} s (loaded machine), ${failed} sweeps failed to fit`);
  for (const [q, s] of Object.entries(summary)) {
    console.log(`  ${q.padEnd(8)} coverage ${s.coverage.toFixed(3)}  (interval below truth ${s.intervalBelowTruth}, above ${s.intervalAboveTruth}, none ${s.noInterval})  median width ${s.medianWidth.toPrecision(3)}  success ${s.meanSuccessFraction.toFixed(3)}`);
  }
}
