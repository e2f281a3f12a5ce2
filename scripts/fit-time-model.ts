// Fit the study time model (src/study/time-model.ts) to finished runs, and say how well it predicts
// runs it was not fitted on. Reads study or sweep folders; a run counts when it finished ('done'),
// trained under its own id (not an arm shared with another run) and never resumed (its train.log
// has no "resuming at step": a resumed run's wall time leaves out the steps redone after its last
// checkpoint and may span two versions of the code).
//
//   npx tsx scripts/fit-time-model.ts FOLDER... [--test FOLDER...] [--workers 2]
//
// Prints the coefficients (paste them into the preset's timeModel), the in-sample error, the
// leave-one-size-out error per folder (each size predicted by a fit without it), each fit folder
// predicted by a fit to the others, and every --test folder predicted by the full fit: per run and
// per stage (the stages' runs in plan order on --workers workers, against the stage's measured
// summed run time / workers).
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { loadSweep, type SweepRun } from '../src/io/load.ts';
import { fitTimeModel, heldOutPredictions, makespan, predictionError, predictRunSeconds, runWorkOf, TIME_TERMS, type PredictionError, type TimeCoefficients, type TimeSample } from '../src/study/time-model.ts';

const fitDirs: string[] = [];
const testDirs: string[] = [];
let workers = 2;
for (let i = 2, into = fitDirs; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a === '--test') into = testDirs;
  else if (a === '--workers') workers = Number(process.argv[++i]);
  else into.push(a);
}
if (fitDirs.length === 0) {
  console.error('usage: npx tsx scripts/fit-time-model.ts FOLDER... [--test FOLDER...] [--workers 2]');
  process.exit(2);
}

interface Sample extends TimeSample {
  runId: string;
  folder: string;
  stage: string;
}

/** The stage a run of hunyuan-small belongs to, from its tags. */
function stageOf(r: SweepRun): string {
  const t = r.tags;
  if (!t) return 'untagged';
  if (t.study === 'grid') return t.point.stage === 'lr-scan' ? 'lr-scan' : 'grid';
  if (t.study === 'arm') return t.group === 'ablation' ? 'ablations' : t.group === 'confirmation' ? 'confirmation' : 'expert-lr';
  return t.study;
}

function samplesOf(dir: string): { samples: Sample[]; skipped: string[] } {
  const sweep = loadSweep(dir);
  const folder = basename(sweep.dir);
  const skipped: string[] = [];
  const samples: Sample[] = [];
  for (const r of sweep.runs) {
    if (r.sameRunAs || r.summary?.status !== 'done' || !(r.summary.wallSeconds > 0)) continue;
    const log = join(r.dir, 'train.log');
    if (existsSync(log) && /resuming at step/.test(readFileSync(log, 'utf8'))) {
      skipped.push(`${r.runId} (resumed)`);
      continue;
    }
    samples.push({
      runId: r.runId,
      folder,
      stage: stageOf(r),
      group: `${folder}:${r.config.derived.activatedParams}`,
      work: runWorkOf(r.config.config, r.config.derived),
      seconds: r.summary.wallSeconds,
    });
  }
  return { samples, skipped };
}

const pct = (x: number) => `${x >= 0 && Number.isFinite(x) ? '+' : ''}${(100 * x).toFixed(0)}%`;
const errText = (e: PredictionError) => `n ${e.n}: median |error| ${(100 * e.medianAbs).toFixed(0)}%, max ${(100 * e.maxAbs).toFixed(0)}%, total ${pct(e.total)}`;

const fit = fitDirs.map(samplesOf);
const all = fit.flatMap((f) => f.samples);
for (const [i, f] of fit.entries()) {
  console.log(`${fitDirs[i]}: ${f.samples.length} runs${f.skipped.length ? `; left out ${f.skipped.join(', ')}` : ''}`);
}
const coef: TimeCoefficients = fitTimeModel(all);
console.log(`\ncoefficients (seconds per unit, one worker), fitted to ${all.length} runs:`);
console.log(`  { ${TIME_TERMS.map((k) => `${k}: ${Number(coef[k].toPrecision(3))}`).join(', ')} }`);

const predicted = (s: Sample, c = coef) => ({ predicted: predictRunSeconds(s.work, c), measured: s.seconds });
console.log(`\nin sample: ${errText(predictionError(all.map((s) => predicted(s))))}`);
const held = heldOutPredictions(all);
for (const folder of new Set(all.map((s) => s.folder))) {
  const rows = held.filter((h) => (h.sample as Sample).folder === folder).map((h) => ({ predicted: h.predicted, measured: h.sample.seconds }));
  console.log(`leave one size out, ${folder}: ${errText(predictionError(rows))}`);
}
if (fit.length > 1) {
  for (const folder of new Set(all.map((s) => s.folder))) {
    const others = fitTimeModel(all.filter((s) => s.folder !== folder));
    console.log(`${folder} predicted by a fit to the other folders: ${errText(predictionError(all.filter((s) => s.folder === folder).map((s) => predicted(s, others))))}`);
  }
}

for (const dir of testDirs) {
  const { samples, skipped } = samplesOf(dir);
  console.log(`\ntest ${dir}: ${samples.length} runs${skipped.length ? `; left out ${skipped.join(', ')}` : ''}`);
  console.log(`  per run: ${errText(predictionError(samples.map((s) => predicted(s))))}`);
  for (const stage of new Set(samples.map((s) => s.stage))) {
    const st = samples.filter((s) => s.stage === stage);
    const measured = st.reduce((a, s) => a + s.seconds, 0);
    const est = makespan(
      st.map((s) => predicted(s).predicted),
      workers,
    );
    console.log(`  ${stage}: ${st.length} runs, measured run time ${(measured / 60).toFixed(1)} min (${(measured / 60 / workers).toFixed(1)} min on ${workers} workers), predicted ${(est / 60).toFixed(1)} min on ${workers} workers`);
  }
  for (const s of samples) {
    const p = predicted(s).predicted;
    console.log(`    ${s.runId}: measured ${s.seconds.toFixed(0)} s, predicted ${p.toFixed(0)} s (${pct(p / s.seconds - 1)})`);
  }
}
