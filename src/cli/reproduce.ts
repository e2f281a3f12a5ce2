// `moelab reproduce [FILE] --preset quick|full`: the paper reproduction end to end:
// sweep → fit → confirmation → report with the side-by-side table. Rerunning continues where it
// stopped (finished runs are skipped, interrupted ones resume). --json: one object on stdout
// (ReproduceJson; progress stays on stderr).
import { Option, type Command } from 'commander';
import { ConfigError } from '../errors.ts';
import { flagValues, REPORT_FLAGS } from './analysis-flags.ts';
import { addEngineOptions } from './engine-options.ts';
import type { RunStudyResult } from '../study/run.ts';
import type { RunPlan } from '../sweep/plan.ts';

interface ReproduceCliOptions {
  preset: string;
  out?: string;
  workers?: string;
  executor: 'local' | 'slurm';
  partition?: string;
  gres?: string;
  time?: string;
  png?: boolean;
  dryRun?: boolean;
  bootstrap?: string;
  backend?: string;
  threads?: string;
  json?: boolean;
}

/** What `moelab reproduce --json` prints on stdout: the dry-run's plan, or where the study ended. */
export type ReproduceJson = ReproduceDryRunJson | ReproduceOutcomeJson;
export interface ReproduceDryRunJson {
  dryRun: true;
  plan: RunPlan;
  /** Confirmation runs added once the LR × batch grid is fitted (not in `plan`). */
  confirmationRuns: number;
}
export interface ReproduceOutcomeJson {
  dryRun: false;
  status: RunStudyResult['status'];
  sweepDir: string;
  /** The report's HTML file when status is 'done', else null. */
  reportPath: string | null;
  warnings: string[];
  seconds: number;
  /** The command's exit status (reproduceExitCode). */
  exitCode: number;
}

export function reproduceJson(result: RunStudyResult): ReproduceOutcomeJson {
  return {
    dryRun: false,
    status: result.status,
    sweepDir: result.sweepDir,
    reportPath: result.reportPath ?? null,
    warnings: result.warnings,
    seconds: result.seconds,
    exitCode: reproduceExitCode(result.status),
  };
}

/** 0 when the report was written or runs were submitted to Slurm; 130 interrupted; 1 failed runs. */
export function reproduceExitCode(status: RunStudyResult['status']): number {
  return status === 'done' || status === 'submitted' ? 0 : status === 'interrupted' ? 130 : 1;
}

export function registerReproduce(program: Command): void {
  addEngineOptions(
    program
      .command('reproduce')
      .description("reproduce the paper's scaling, LR × batch and schedule analyses: sweep → fit → report")
      .argument('[file]', 'study file', 'experiments/hunyuan-small.ts')
      .option('--preset <name>', 'preset of the study (quick: this laptop; full: GPU box or cluster)', 'quick')
      .option('--out <dir>', 'study folder (default results/<study>-<preset>)')
      .option('--workers <n>', 'parallel worker processes (local; default: number of cores)')
      .addOption(new Option('--executor <name>', 'where runs train').choices(['local', 'slurm']).default('local'))
      .option('--partition <name>', 'Slurm partition')
      .option('--gres <spec>', 'Slurm generic resources per task, e.g. gpu:1')
      .option('--time <limit>', 'Slurm time limit per task')
      .option('--png', 'also export every figure as PNG (needs chromium: scripts/setup.sh --report)')
      .option('--dry-run', "list the study's first-stage runs and their total compute; write nothing (no corpus check)")
      .option('--bootstrap <n>', 'bootstrap resamples of the fits (default per kind: src/analysis/defaults.ts)')
      .option('--json', 'print one JSON object on stdout: the plan (with --dry-run), or status, study folder, report path, warnings, seconds'),
  ).action(async (file: string, opts: ReproduceCliOptions) => {
    const workers = opts.workers === undefined ? undefined : Number(opts.workers);
    if (workers !== undefined && (!Number.isInteger(workers) || workers < 1)) {
      throw new ConfigError('--workers', opts.workers, 'Give an integer >= 1.', 'not a valid count');
    }
    const { bootstrap } = flagValues(REPORT_FLAGS.filter((f) => f.field === 'bootstrap'), { bootstrap: opts.bootstrap });
    const env = { ...process.env };
    if (opts.backend) env.MOELAB_BACKEND = opts.backend;
    if (opts.threads) env.MOELAB_THREADS = opts.threads;
    const log = (line: string) => process.stderr.write(`${line}\n`);
    const { runStudy, loadStudyFile, planStudy, confirmRunCount } = await import('../study/run.ts');
    if (opts.dryRun) {
      const { formatPlan } = await import('../sweep/format.ts');
      const study = await loadStudyFile(file);
      const { plan, parts } = planStudy(study, opts.preset, file, { corpusCheck: false });
      const confirmRuns = confirmRunCount(study, opts.preset, parts.lr, file);
      if (opts.json) {
        const { toJson } = await import('../io/atomic.ts');
        const out: ReproduceDryRunJson = { dryRun: true, plan, confirmationRuns: confirmRuns };
        process.stdout.write(`${toJson(out, 2)}\n`);
        return;
      }
      process.stdout.write(`${formatPlan(plan).join('\n')}\n(+ ${confirmRuns} confirmation runs once the LR × batch grid is fitted)\n`);
      return;
    }

    const execute = async (sweepDir: string) => {
      if (opts.executor === 'slurm') {
        const { submitSlurmSweep } = await import('../sweep/slurm.ts');
        const r = submitSlurmSweep(sweepDir, { partition: opts.partition, gres: opts.gres, time: opts.time, env });
        if (r.indices.length === 0 && r.running.length === 0 && r.queued.length === 0) {
          return { total: 0, alreadyFinished: [], done: [], diverged: [], failed: [], unfinished: [], interrupted: false };
        }
        log(
          r.indices.length > 0
            ? `submitted Slurm job ${r.jobId} (${r.indices.length} array tasks). Run this command again when they have finished.`
            : `${r.running.length + r.queued.length} runs still queued or training on Slurm. Run this command again when they have finished.`,
        );
        return 'submitted' as const;
      }
      const { runLocalSweep } = await import('./sweep-display.ts');
      return runLocalSweep(sweepDir, { workers, env });
    };

    const result = await runStudy(file, { preset: opts.preset, out: opts.out, execute, formats: opts.png ? ['png'] : undefined, bootstrap, log });
    for (const w of result.warnings) log(`warning: ${w}`);
    if (opts.json) {
      const { toJson } = await import('../io/atomic.ts');
      process.stdout.write(`${toJson(reproduceJson(result), 2)}\n`);
      process.exitCode = reproduceExitCode(result.status);
      return;
    }
    const minutes = (result.seconds / 60).toFixed(1);
    if (result.status === 'done') {
      process.stdout.write(`\nreport: ${result.reportPath}\n(${minutes} min; rerun the same command to continue or refresh)\n`);
      return;
    }
    process.stdout.write(`study stopped (${result.status}) after ${minutes} min in ${result.sweepDir}; run the same command again to continue.\n`);
    process.exitCode = reproduceExitCode(result.status);
  });
}
