// `moelab sweep FILE`: plan the sweep and run it — locally with a pool of worker processes, or as
// a Slurm job array. Rerunning continues where it stopped: finished runs are skipped, interrupted
// ones resume from their checkpoints.
import { Option, type Command } from 'commander';
import { ConfigError } from '../errors.ts';
import { addEngineOptions } from './engine-options.ts';

interface SweepCliOptions {
  out?: string;
  workers?: string;
  retries: string;
  executor: 'local' | 'slurm';
  partition?: string;
  gres?: string;
  time?: string;
  cpusPerTask?: string;
  dryRun?: boolean;
  set: string[];
  json?: boolean;
  backend?: string;
  threads?: string;
}

function positiveInt(flag: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new ConfigError(flag, value, `Give an integer >= ${min}.`, 'not a valid count');
  return n;
}

export function registerSweep(program: Command): void {
  addEngineOptions(
    program
      .command('sweep')
      .description('run every run of a sweep (skips finished runs, resumes interrupted ones), locally or on Slurm')
      .argument('<file>', 'experiment file (experiments/<name>.ts or .json)')
      .option('--out <dir>', 'sweep folder (default results/<sweep name>)')
      .option('--workers <n>', 'parallel worker processes (local; default: number of cores)')
      .option('--retries <n>', 'restarts of a crashed run before it counts as failed (local)', '1')
      .addOption(new Option('--executor <name>', 'where runs train').choices(['local', 'slurm']).default('local'))
      .option('--partition <name>', 'Slurm partition')
      .option('--gres <spec>', 'Slurm generic resources per task, e.g. gpu:1')
      .option('--time <limit>', 'Slurm time limit per task, e.g. 02:00:00')
      .option('--cpus-per-task <n>', 'Slurm CPUs per task')
      .option('--dry-run', 'slurm: print the sbatch script instead of submitting it')
      .option('--json', 'print one JSON object on stdout: the outcome (runs done, diverged, failed, …), or with slurm the submission / dry-run script')
      .option('--set <key=value>', 'override a field of the experiment, e.g. --set base.train.lr=1e-2 or --set budgets=[1e9] (repeatable)', (v: string, acc: string[]) => [...acc, v], []),
  ).action(async (file: string, opts: SweepCliOptions) => {
    const workers = positiveInt('--workers', opts.workers, 1);
    const retries = positiveInt('--retries', opts.retries, 0) ?? 1;
    const cpusPerTask = positiveInt('--cpus-per-task', opts.cpusPerTask, 1);
    if (opts.executor === 'local') {
      for (const [flag, v] of [['--partition', opts.partition], ['--gres', opts.gres], ['--time', opts.time], ['--dry-run', opts.dryRun]] as const) {
        if (v !== undefined) throw new ConfigError(flag, v, 'Use it with --executor slurm, or drop it.', 'only applies to --executor slurm');
      }
    }
    const { prepareSweep, assertPlanOk } = await import('../sweep/prepare.ts');
    const { writePlanFiles } = await import('../sweep/state.ts');
    const { formatProblems } = await import('../sweep/format.ts');
    const { provenance } = await import('../util/provenance.ts');
    const log = (line: string) => process.stderr.write(`${line}\n`);
    const { applyOverrides } = await import('./train.ts');
    const prepared = await prepareSweep(file, {
      out: opts.out,
      estimate: 'none',
      edit: opts.set.length > 0 ? (raw) => applyOverrides(raw, opts.set) : undefined,
    });
    // Warnings here; errors are thrown together below (nothing is written then).
    for (const line of formatProblems(prepared.problems.filter((p) => p.level === 'warning'))) log(line);
    assertPlanOk(prepared);
    const source = opts.set.length > 0 ? `${file} ${opts.set.map((o) => `--set ${o}`).join(' ')}` : file;
    const record = { sweep: prepared.definition.name, source, definition: prepared.definition, provenance: provenance() };

    // Workers pick the backend from the environment (MOELAB_BACKEND / MOELAB_THREADS).
    const env = { ...process.env };
    if (opts.backend) env.MOELAB_BACKEND = opts.backend;
    if (opts.threads) env.MOELAB_THREADS = opts.threads;

    if (opts.executor === 'slurm') {
      const { assertQueueAllowsPlan, submitSlurmSweep } = await import('../sweep/slurm.ts');
      const slurm = { partition: opts.partition, gres: opts.gres, time: opts.time, cpusPerTask };
      if (opts.dryRun) {
        // Nothing is written or submitted: this is the script for the runs not finished yet.
        const preview = submitSlurmSweep(prepared.sweepDir, { ...slurm, plan: prepared.plan, dryRun: true });
        if (opts.json) process.stdout.write(`${JSON.stringify({ sweepDir: prepared.sweepDir, dryRun: true, indices: preview.indices, script: preview.script })}\n`);
        else if (preview.indices.length === 0) log('nothing to submit: every run has finished');
        else process.stdout.write(preview.script);
        return;
      }
      assertQueueAllowsPlan(prepared.sweepDir, prepared.plan, { env });
      writePlanFiles(prepared.sweepDir, prepared.plan, record);
      const result = submitSlurmSweep(prepared.sweepDir, { ...slurm, env });
      const skipped = `${result.finished.length} finished, ${result.running.length} running, ${result.queued.length} still queued`;
      if (opts.json) {
        const { scriptPath, jobId, indices, finished, running, queued } = result;
        process.stdout.write(`${JSON.stringify({ sweepDir: prepared.sweepDir, jobId: jobId ?? null, indices, finished, running, queued, scriptPath: scriptPath ?? null })}\n`);
        return;
      }
      if (result.indices.length === 0) {
        process.stdout.write(`nothing to submit (${skipped}). Check progress with: moelab status ${JSON.stringify(prepared.sweepDir)}\n`);
        return;
      }
      process.stdout.write(
        `submitted job ${result.jobId}: ${result.indices.length} array task(s) (${skipped})\n` +
          `script ${result.scriptPath}\nprogress: moelab status ${JSON.stringify(prepared.sweepDir)}\n`,
      );
      return;
    }

    writePlanFiles(prepared.sweepDir, prepared.plan, record);
    const { runLocalSweep } = await import('./sweep-display.ts');
    const outcome = await runLocalSweep(prepared.sweepDir, { workers, retries, env });
    if (opts.json) process.stdout.write(`${JSON.stringify({ sweepDir: prepared.sweepDir, ...outcome })}\n`);
    process.exitCode = outcome.interrupted ? 130 : outcome.failed.length > 0 || outcome.unfinished.length > 0 ? 1 : 0;
  });
}
