// Multi-Power Law fits on the bundled 400M curves (data/reference/multipowerlaw_loss_curves,
// docs/references.md#multi-power): fit time, convergence evidence and held-out mean relative
// errors, next to the same numbers for the MPL paper's official parameters. docs/BENCHMARKS.md and
// docs/fit.md record the runs.
//   npx tsx scripts/bench-multipower.ts [case=three|two|both] [size=400]
//   three: fit cosine_24000 + constant_24000 + wsdcon_9 (the paper's training set), predict the other six
//   two:   fit constant_24000 + cosine_24000 only, predict wsd_20000_24000, wsdld_20000_24000, cosine_72000
//   --prior: the MAP fit with the drop-shape prior (fitScheduleLaw option prior: 'drop-shape'; docs/fit.md)
//   --released: the MPL authors' released procedure, early-stopped AdamW (option procedure: 'released')
import { join } from 'node:path';
import { MPL_OFFICIAL_PARAMS, meanAbsRelError, multiPowerLaw, predictCurve, prepareCurve, scheduleObjective, fitScheduleLaw } from '../src/fit/schedule-laws.ts';
import { readCurveCsv } from '../src/fit/run-fit.ts';
import { PROJECT_ROOT } from '../src/util/provenance.ts';

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const prior = process.argv.includes('--prior') ? 'drop-shape' : 'none';
const procedure = process.argv.includes('--released') ? 'released' : 'converge';
const which = args[0] ?? 'both';
const size = (args[1] ?? '400') as '25' | '100' | '400';
const dir = join(PROJECT_ROOT, 'data', 'reference', 'multipowerlaw_loss_curves', `csv_${size}`);
const load = (name: string) => readCurveCsv(join(dir, `${name}.csv`));
const CASES = {
  three: { fit: ['cosine_24000', 'constant_24000', 'wsdcon_9'], predict: ['constant_72000', 'cosine_72000', 'wsd_20000_24000', 'wsdld_20000_24000', 'wsdcon_3', 'wsdcon_18'] },
  two: { fit: ['constant_24000', 'cosine_24000'], predict: ['wsd_20000_24000', 'wsdld_20000_24000', 'cosine_72000'] },
} as const;
const pct = (v: number) => `${(100 * v).toFixed(3)}%`;
const official = MPL_OFFICIAL_PARAMS[`${size}M`];

for (const name of which === 'both' ? (['three', 'two'] as const) : [which as 'three' | 'two']) {
  const spec = CASES[name];
  if (!spec) throw new Error(`case ${name}: use three, two or both`);
  const t0 = performance.now();
  const fit = fitScheduleLaw(spec.fit.map(load), { law: 'multipower', predict: spec.predict.map(load), prior, procedure });
  const seconds = (performance.now() - t0) / 1000;
  const d = fit.diagnostics;
  console.log(`\n== ${size}M, fit ${spec.fit.join(' + ')}, prior ${prior}, procedure ${procedure} ==`);
  console.log(`wall ${seconds.toFixed(1)} s (fit's own count ${d.seconds.toFixed(1)} s); ${d.optimizer}; converged ${d.converged} (${d.reason}) after ${d.iterations} iterations, ${d.evaluations} evaluations; ‖grad‖∞ ${d.gradNorm.toExponential(2)}; objective ${d.objective.toExponential(6)}`);
  console.log(`starts: ${d.starts}, converged ${d.startsConverged}, at the best objective ${d.startsAtBestObjective}, agreeing (objective and parameters) ${d.startsAgreeing}`);
  if (prior !== 'none') console.log(fit.notes.find((n) => n.startsWith('Drop-shape prior')));
  console.log(`identified: ${fit.identifiability?.identified ?? 'n/a'}${fit.identifiability?.problems.length ? ` — ${fit.identifiability.problems.join('; ')}` : ''}`);
  console.log('params:', Object.entries(fit.params).map(([k, v]) => `${k} ${v.value.toPrecision(5)}`).join(', '), `| B*beta ${fit.derived['B*beta'].value.toPrecision(5)}`);
  const curves = spec.fit.map((n) => prepareCurve(load(n)));
  const th = Float64Array.from(multiPowerLaw.fromNatural(multiPowerLaw.params.map((p) => official[p])));
  console.log(`official parameters' objective on these fit curves: ${scheduleObjective(multiPowerLaw, curves, 1e-3)(th, new Float64Array(7)).toExponential(6)}`);
  console.log('curve                  role     fitted    official');
  for (const c of fit.curves) {
    const off = meanAbsRelError(predictCurve(multiPowerLaw, official, prepareCurve(load(c.name))), c.actual);
    console.log(`${c.name.padEnd(22)} ${c.role.padEnd(8)} ${pct(c.meanAbsRelError).padStart(8)}  ${pct(off).padStart(8)}`);
  }
}
