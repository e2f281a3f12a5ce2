// Coverage and cost of the comparison statistics (docs/statistics.md), on simulated data with a
// known truth. Prints, for the record in docs/BENCHMARKS.md:
//   - the paired Student-t interval's coverage of a known mean difference (n = 2, 3, 5 seeds);
//   - Fieller's interval for the best LR multiplier (5 factors ×0.125–×2, 3 and 5 seeds), with the
//     truth a parabola in ln factor and, misspecified, a parabola plus a cubic term;
//   - the wall time of the isoFLOP sensitivity table (12 refits) on a 5-budget × 9-size × 3-seed study.
//
//   npx tsx scripts/bench-comparisons.ts [--draws 4000]
import { fitBestFactor, type FactorLoss } from '../src/analysis/expert-lr.ts';
import { pairedDifference } from '../src/analysis/paired.ts';
import { isoflopSensitivity } from '../src/analysis/sensitivity.ts';
import { createRng } from '../src/util/rng.ts';
import { synthRun } from '../test/analysis/synthetic-runs.ts';

const i = process.argv.indexOf('--draws');
const draws = i > 0 ? Number(process.argv[i + 1]) : 4000;
const rng = createRng(2026);
const out: Record<string, unknown> = {};

for (const n of [2, 3, 5]) {
  let covered = 0;
  for (let k = 0; k < draws; k++) {
    const common = Array.from({ length: n }, () => 0.05 * rng.normal());
    const a = common.map((c, s) => ({ seed: s, loss: 2 - 0.01 + c + 0.008 * rng.normal() }));
    const b = common.map((c, s) => ({ seed: s, loss: 2 + c + 0.008 * rng.normal() }));
    const d = pairedDifference('bench', { name: 'a', runs: a }, { name: 'b', runs: b });
    if (d.ci95![0] <= -0.01 && -0.01 <= d.ci95![1]) covered++;
  }
  out[`paired t, n = ${n}`] = { coverage: covered / draws, n: draws };
}

const GRID = [0.125, 0.25, 0.5, 1, 2];
for (const [label, seeds, cubic, window] of [
  ['parabola, 3 seeds', 3, 0, undefined],
  ['parabola, 5 seeds', 5, 0, undefined],
  ['parabola + cubic (misspecified), 3 seeds', 3, 0.004, undefined],
  ['parabola, 3 seeds, window 3', 3, 0, 3],
  ['parabola + cubic (misspecified), 3 seeds, window 3', 3, 0.004, 3],
  ['parabola + cubic (misspecified), 5 seeds, window 3', 5, 0.004, 3],
] as const) {
  const fStar = 0.4;
  // With the cubic term the true optimum moves: find it on a fine grid.
  const truth = (x: number) => 0.02 * (x - Math.log(fStar)) ** 2 + cubic * (x - Math.log(fStar)) ** 3;
  let best = Math.log(fStar);
  for (let x = Math.log(0.125); x <= Math.log(2); x += 1e-4) if (truth(x) < truth(best)) best = x;
  let covered = 0;
  let bounded = 0;
  let flagged = 0;
  let coveredUnflagged = 0;
  for (let k = 0; k < draws; k++) {
    const pts: FactorLoss[] = [];
    for (let s = 0; s < seeds; s++) {
      const e = 0.05 * rng.normal();
      for (const f of GRID) pts.push({ factor: f, seed: s, loss: 2 + e + truth(Math.log(f)) + 0.004 * rng.normal() });
    }
    const fit = fitBestFactor(pts, 0.95, window);
    const ci = fit?.optimum?.ci95;
    const lof = (fit?.lackOfFit?.p ?? 1) < 0.05;
    if (lof) flagged++;
    if (ci) {
      bounded++;
      const hit = ci[0] <= Math.exp(best) && Math.exp(best) <= ci[1];
      if (hit) covered++;
      if (hit && !lof) coveredUnflagged++;
    }
  }
  out[`Fieller best factor, ${label}`] = {
    coverage: covered / draws,
    bounded: bounded / draws,
    coverageOfBounded: bounded ? covered / bounded : null,
    lackOfFitFlagged: flagged / draws,
    coverageWhenNotFlagged: draws > flagged ? coveredUnflagged / (draws - flagged) : null,
    n: draws,
    trueOptimum: Number(Math.exp(best).toFixed(4)),
  };
}

const LAW = { E: 1.7, A: 400, alpha: 0.34, B: 410, beta: 0.28 };
const aTrue = LAW.beta / (LAW.alpha + LAW.beta);
const g = ((LAW.alpha * LAW.A) / (LAW.beta * LAW.B)) ** (1 / (LAW.alpha + LAW.beta));
const runs = [];
for (const C of [1e15, 3e15, 1e16, 3e16, 1e17]) {
  for (let j = -4; j <= 4; j++) {
    const N = g * (C / 6) ** aTrue * 2 ** (j / 2);
    const D = C / (6 * N);
    for (let seed = 0; seed < 3; seed++) {
      runs.push(synthRun({
        runId: `c${C}-${j}-${seed}`,
        tags: { study: 'isoflop', budgetFlops: C, size: N, seed },
        finalValLoss: LAW.E + LAW.A / N ** LAW.alpha + LAW.B / D ** LAW.beta + 0.01 * rng.normal(),
        derived: { activatedParams: N, activatedNonEmbeddingParams: 0.8 * N, tokens: D },
      }));
    }
  }
}
const t0 = performance.now();
const s = isoflopSensitivity(runs, { bootstrap: 200 });
out['sensitivity table, 5 budgets × 9 sizes × 3 seeds, bootstrap 200'] = { seconds: Number(((performance.now() - t0) / 1000).toFixed(2)), variants: s.rows.length, aTrue: Number(aTrue.toFixed(4)), aBaseline: s.rows[0].a };
console.log(JSON.stringify(out, null, 2));
