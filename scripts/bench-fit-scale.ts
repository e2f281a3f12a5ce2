// Fits at scale: isoflop, compute and parametric on a 100,000-row synthetic grid (the unrounded
// Chinchilla law, 5 budgets × 9 sizes, 0.3% log-normal noise) with N bootstrap resamples; prints
// the seconds each took. docs/BENCHMARKS.md records the runs.
//   npx tsx scripts/bench-fit-scale.ts [kind=isoflop|compute|parametric] [bootstrap=1000] [rows=100000]
import { CHINCHILLA_PAPER_UNROUNDED as P, chinchillaLoss, chinchillaOptimal, fitComputeFormula, fitIsoflop, fitParametric } from '../src/fit/index.ts';
import { setProgressSink, streamProgressSink } from '../src/util/progress.ts';
import { createRng } from '../src/util/rng.ts';

const kind = process.argv[2] ?? 'isoflop';
const nBoot = Number(process.argv[3] ?? 1000);
const nRows = Number(process.argv[4] ?? 100_000);
const rng = createRng(1);
const budgets = [1e18, 3e18, 1e19, 3e19, 1e20];
const rows = Array.from({ length: nRows }, (_, r) => {
  const C = budgets[r % budgets.length];
  const N = chinchillaOptimal(P, C).N * Math.pow(10, (Math.floor(rng.next() * 9) - 4) / 6);
  const D = C / (6 * N);
  return { budget: C, N, D, C: 6 * N * D * (1 + 0.001 * rng.normal()), loss: chinchillaLoss(P, N, D) * Math.exp(0.003 * rng.normal()) };
});
// Bootstrap count and ETA on stderr every 10 s (the CLI's progress sink).
setProgressSink(streamProgressSink(process.stderr, { intervalSeconds: 10 }));
const t0 = performance.now();
let headline = '';
if (kind === 'isoflop') headline = `a = ${fitIsoflop(rows, { bootstrap: nBoot }).params.a.value.toFixed(4)}`;
else if (kind === 'compute') headline = `a = ${fitComputeFormula(rows, { bootstrap: nBoot }).params.a.value.toFixed(4)}`;
else if (kind === 'parametric') headline = `alpha = ${fitParametric(rows, { bootstrap: nBoot, grid: 'coarse' }).params.alpha.value.toFixed(4)}`;
else throw new Error(`kind ${kind}: use isoflop, compute or parametric`);
console.log(`${kind}: ${nRows} rows, ${nBoot} resamples: ${((performance.now() - t0) / 1000).toFixed(1)} s (${headline})`);
