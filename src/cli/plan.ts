// `moelab plan FILE`: the dry run of a sweep. Lists every run (id, N total/activated, FLOPs per
// token, tokens, steps, batch, LR, estimated time from a measured probe on this backend) and the
// totals, runs the planning checks, and writes plan.json + sweep.json into the sweep folder.
import type { Command } from 'commander';
import { addEngineOptions, initEngineFromOptions } from './engine-options.ts';

export interface PlanCliOptions {
  out?: string;
  estimate?: boolean;
  corpusCheck?: boolean;
  json?: boolean;
  set: string[];
  backend?: string;
  threads?: string;
}

export function registerPlan(program: Command): void {
  addEngineOptions(
    program
      .command('plan')
      .description('dry-run a sweep: list every run with its counts, tokens and time estimate; check it; write plan.json')
      .argument('<file>', 'experiment file (experiments/<name>.ts or .json)')
      .option('--out <dir>', 'sweep folder (default results/<sweep name>)')
      .option('--no-estimate', 'skip the timing probe (no time estimates)')
      .option('--no-corpus-check', 'skip the corpus-size checks (plan a sweep for a corpus not on this machine)')
      .option('--json', 'print the plan as JSON')
      .option('--set <key=value>', 'override a field of the experiment, e.g. --set base.train.lr=1e-2 or --set budgets=[1e9] (repeatable)', (v: string, acc: string[]) => [...acc, v], []),
  ).action(async (file: string, opts: PlanCliOptions) => {
    const { prepareSweep, assertPlanOk } = await import('../sweep/prepare.ts');
    const { writePlanFiles } = await import('../sweep/state.ts');
    const { formatPlan, formatProblems } = await import('../sweep/format.ts');
    const { provenance } = await import('../util/provenance.ts');
    const { applyOverrides } = await import('./train.ts');
    const log = (line: string) => process.stderr.write(`${line}\n`);
    let backend: string | undefined;
    if (opts.estimate !== false) backend = (await initEngineFromOptions(opts)).backend;
    const prepared = await prepareSweep(file, {
      out: opts.out,
      estimate: backend ? 'measure' : 'none',
      backend,
      log,
      skipCorpusCheck: opts.corpusCheck === false,
      edit: opts.set.length > 0 ? (raw) => applyOverrides(raw, opts.set) : undefined,
    });
    // Warnings here; errors are thrown together below (nothing is written then).
    for (const line of formatProblems(prepared.problems.filter((p) => p.level === 'warning'))) log(line);
    assertPlanOk(prepared);
    const planPath = writePlanFiles(prepared.sweepDir, prepared.plan, {
      sweep: prepared.definition.name,
      source: opts.set.length > 0 ? `${file} ${opts.set.map((o) => `--set ${o}`).join(' ')}` : file,
      definition: prepared.definition,
      provenance: provenance(),
    });
    if (opts.json) {
      const { toJson } = await import('../io/atomic.ts');
      process.stdout.write(`${toJson(prepared.plan, 2)}\n`);
    } else {
      process.stdout.write(`${[...formatPlan(prepared.plan), `plan written to ${planPath}`].join('\n')}\n`);
    }
  });
}
