// `moelab reproduce [FILE] --preset quick|full`: the paper reproduction end to end:
// sweep → fit → confirmation → report with the side-by-side table. Rerunning continues where it
// stopped (finished runs are skipped, interrupted ones resume). --json: one object on stdout
// (ReproduceJson; progress stays on stderr).
import { Option, type Command } from 'commander';
import { ConfigError } from '../errors.ts';
import { flagValues, REPORT_FLAGS } from './analysis-flags.ts';
import { addEngineOptions } from './engine-options.ts';
import type { RunStudyResult, StudyDryRun } from '../study/run.ts';

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
  json?: boolean;
  bootstrap?: string;
  backend?: string;
  threads?: string;
}

/** What `moelab reproduce --json` prints on stdout: the dry-run's plan, or where the study ended. */
export type ReproduceJson = ReproduceDryRunJson | ReproduceOutcomeJson;
/** The dry run: every stage and planned run with its tags, the totals and the time estimate. */
export interface ReproduceDryRunJson extends StudyDryRun {
  dryRun: true;
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
      .option('--dry-run', "list the study's runs stage by stage, their total compute and estimated time; write nothing (no corpus check)")
      .option('--bootstrap <n>', 'bootstrap resamples of the fits (default per kind: src/analysis/defaults.ts)')
      .option('--json', 'print one JSON object on stdout: with --dry-run every stage and planned run with its tags (src/study/run.ts StudyDryRun), else status, study folder, report path, warnings, seconds'),
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
    const { runStudy, loadStudyFile, planStudy, studyDryRun } = await import('../study/run.ts');
    if (opts.dryRun) {
      const study = await loadStudyFile(file);
      const dry = studyDryRun(study, opts.preset, file);
      if (opts.json) {
        const { toJson } = await import('../io/atomic.ts');
        const out: ReproduceDryRunJson = { dryRun: true, ...dry };
        process.stdout.write(`${toJson(out, 2)}\n`);
        return;
      }
      const { formatPlan } = await import('../sweep/format.ts');
      const { plan } = planStudy(study, opts.preset, file, { corpusCheck: false });
      const lines = [
        ...formatPlan(plan),
        '(the list above is the first stage, planned from the definitions alone; --json lists every stage\'s runs)',
      ];
      const shared = dry.runs.filter((r) => r.shared.length > 0);
      if (shared.length) {
        lines.push('', 'runs that also stand for other arms (the same configuration and seed: trained once, each arm reads its results):');
        const armText = (a: { runId: string; stage: string; arm: { name: string; comparison?: string; group: string } | null }) =>
          `${a.runId} (${a.stage}${a.arm ? `: ${a.arm.comparison ?? a.arm.group} · ${a.arm.name}` : ''})`;
        for (const r of shared) lines.push(`  ${armText(r)} = ${r.shared.map(armText).join(' = ')}`);
      }
      lines.push('', 'stages (top to bottom: plan → train → analyse → plan → …):');
      for (const st of dry.stages) {
        const when = st.plannedAfter === 'definitions' ? 'planned now' : `planned after ${st.plannedAfter}${st.decidedLater ? ` (decides ${st.decidedLater})` : ''}`;
        const time = st.estSeconds === null ? '' : `, ≈ ${(st.estSeconds / 60).toFixed(1)} min`;
        const also = st.sharedArms ? ` (+${st.sharedArms} arm(s) trained as runs above)` : '';
        lines.push(`  ${st.stage.padEnd(13)} ${String(st.runs).padStart(4)} runs${also}  ${st.computeFlops.toExponential(2)} FLOPs${time}  ${when}`);
      }
      lines.push(
        `total: ${dry.totals.runs} runs${dry.totals.sharedArms ? ` (${dry.totals.sharedArms} more arms trained as one of them)` : ''}, ${dry.totals.computeFlops.toExponential(2)} FLOPs` +
          (dry.totals.estimate ? `; estimated ${dry.totals.estimate}` : ''),
      );
      if (dry.timeModel) lines.push('(stages planned at the same point train together; stage times are each stage alone; run times come from a model fitted to measured runs, docs/BENCHMARKS.md "Study time estimates")');
      if (dry.departures.length) lines.push(`departures from the standard design (${opts.preset}):`, ...dry.departures.map((d) => `  - ${d}`));
      process.stdout.write(`${lines.join('\n')}\n`);
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
