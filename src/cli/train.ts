// `moelab train`: one resumable training run.
//
//   moelab train --config FILE --out DIR [--set key.path=value]...
//   moelab train --plan plan.json --index I [--sweep-dir DIR]      (sweep runner, Slurm array tasks)
//
// With --plan, the run is `runs[I]` of the plan file `{runs: [{runId, config, budgetFlops?, ...}]}`
// and its folder is `<sweep dir>/runs/<runId>/`, where the sweep dir is --sweep-dir or the plan
// file's folder. Exit codes: 0 done / diverged / already done, 1 bad input, 75 the run is locked
// by another process, 130 interrupted (checkpoint saved).
import { readFileSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { assertEngineHealthy, explainEngineFailure } from '../engine/backend.ts';
import { ConfigError, ResumeMismatchError } from '../errors.ts';
import { parseRunTags, type RunTags } from '../io/tags.ts';
import { addEngineOptions, initEngineFromOptions } from './engine-options.ts';

interface TrainOptions {
  config?: string;
  out?: string;
  set: string[];
  plan?: string;
  index?: string;
  sweepDir?: string;
  quiet?: boolean;
  forceRerun?: boolean;
  json?: boolean;
  progress: 'auto' | 'bar' | 'lines';
  backend?: string;
  threads?: string;
  maxMemory?: string;
}

/** The run to train, before schema validation. */
export interface RunRequest {
  runId: string;
  runDir: string;
  /** User-form run config (validated later, after overrides). */
  userConfig: Record<string, unknown>;
  /** Where the config came from, for error messages. */
  source: string;
  budgetFlops?: number;
  /** The plan entry's run tags (checked here, copied into config.json). */
  tags?: RunTags;
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A run config file (.json, or a .ts/.mjs module whose default export is the config). */
export async function readConfigFile(path: string): Promise<unknown> {
  const abs = resolve(path);
  let text: string;
  if (['.ts', '.js', '.mjs', '.mts'].includes(extname(abs))) {
    const { importUserModule } = await import('../config/module-file.ts');
    const mod = await importUserModule(abs, '--config', path, 'Give the path of a run config (.json, or a module whose default export is the config).');
    if (mod.default === undefined) {
      throw new ConfigError('--config', path, 'Export the run config as the default export (`export default {...}`).', 'module has no default export');
    }
    return mod.default;
  }
  try {
    text = readFileSync(abs, 'utf8');
  } catch (err) {
    throw new ConfigError('--config', path, 'Give the path of a run config (.json or .ts).', (err as Error).message);
  }
  const { parseJsonText } = await import('../io/json.ts');
  return parseJsonText(text, path, 'Fix the JSON syntax of the run config');
}

/** Resolve --config/--out or --plan/--index into the run to train (no validation of the config itself). */
export async function resolveRunRequest(opts: Pick<TrainOptions, 'config' | 'out' | 'plan' | 'index' | 'sweepDir'>): Promise<RunRequest> {
  if (opts.plan !== undefined) {
    if (opts.config !== undefined || opts.out !== undefined) {
      throw new ConfigError('--plan', opts.plan, 'Use either --plan with --index, or --config with --out, not both.', 'conflicting options');
    }
    const index = Number(opts.index);
    if (opts.index === undefined || !Number.isInteger(index) || index < 0) {
      throw new ConfigError('--index', opts.index, 'Give the 0-based index of the run in the plan, e.g. --index 0.', 'missing or not a non-negative integer');
    }
    let text: string;
    try {
      text = readFileSync(resolve(opts.plan), 'utf8');
    } catch (err) {
      throw new ConfigError('--plan', opts.plan, 'Give the plan.json written by `moelab plan`.', (err as Error).message);
    }
    const [{ parseJsonText }, { checkRunId }] = await Promise.all([import('../io/json.ts'), import('../sweep/run-id.ts')]);
    const plan = parseJsonText(text, opts.plan, 'Regenerate the plan with `moelab plan`');
    const runs = isRecord(plan) && Array.isArray(plan.runs) ? (plan.runs as unknown[]) : undefined;
    if (!runs) throw new ConfigError('--plan', opts.plan, 'A plan file is {"runs": [{"runId": ..., "config": {...}}, ...]}.', 'no "runs" array');
    if (index >= runs.length) {
      throw new ConfigError('--index', index, `Use an index from 0 to ${runs.length - 1}.`, `the plan has ${runs.length} runs`);
    }
    const entry = runs[index];
    if (!isRecord(entry) || typeof entry.runId !== 'string' || entry.runId === '' || !isRecord(entry.config)) {
      throw new ConfigError(`runs[${index}]`, entry, 'Each plan entry needs a string "runId" and an object "config".', 'malformed plan entry');
    }
    // The run id names the folder under runs/: it must not lead out of it (Slurm tasks and
    // workers read plan.json at start, so this is checked here, not only when planning).
    checkRunId(entry.runId, `${opts.plan} runs[${index}].runId`);
    const { runId, config, budgetFlops, tags } = entry as Record<string, unknown> & { runId: string; config: Record<string, unknown> };
    if (budgetFlops !== undefined && typeof budgetFlops !== 'number') {
      throw new ConfigError(`runs[${index}].budgetFlops`, budgetFlops, 'Give the compute budget as a number of FLOPs.', 'not a number');
    }
    const sweepDir = opts.sweepDir !== undefined ? resolve(opts.sweepDir) : dirname(resolve(opts.plan));
    return {
      runId,
      runDir: join(sweepDir, 'runs', runId),
      userConfig: { name: runId, ...structuredClone(config) },
      source: `${opts.plan} runs[${index}]`,
      ...(budgetFlops !== undefined ? { budgetFlops: budgetFlops as number } : {}),
      ...(tags !== undefined ? { tags: parseRunTags(tags, `${opts.plan} runs[${index}].tags`) } : {}),
    };
  }
  if (opts.config === undefined || opts.out === undefined) {
    throw new ConfigError(
      opts.config === undefined ? '--config' : '--out',
      undefined,
      'Use `moelab train --config FILE --out DIR`, or `moelab train --plan plan.json --index I`.',
      'missing option',
    );
  }
  const user = await readConfigFile(opts.config);
  if (!isRecord(user)) throw new ConfigError('--config', opts.config, 'A run config is a JSON object with model, data and train.', 'not an object');
  const runDir = resolve(opts.out);
  const runId = basename(runDir);
  return { runId, runDir, userConfig: { name: runId, ...structuredClone(user) }, source: opts.config };
}

/** Keys that would reach an object's prototype instead of a config field. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Apply `key.path=value` overrides to a user config in place. The value is parsed as JSON when it
 * parses (numbers, booleans, arrays, objects, quoted strings), else taken as a plain string.
 * `__proto__`, `constructor` and `prototype` are refused anywhere in the path (they are no
 * config field, and following them would change Object.prototype for the whole process).
 */
export function applyOverrides(user: Record<string, unknown>, overrides: string[]): void {
  for (const override of overrides) {
    const eq = override.indexOf('=');
    const path = eq > 0 ? override.slice(0, eq).split('.') : [];
    if (eq <= 0 || path.some((k) => k === '')) {
      throw new ConfigError('--set', override, 'Use --set key.path=value, e.g. --set train.lr=0.001.', 'not of the form key.path=value');
    }
    const bad = path.find((k) => FORBIDDEN_KEYS.has(k));
    if (bad !== undefined) {
      throw new ConfigError('--set', override, 'Name a config field, e.g. --set train.lr=0.001.', `"${bad}" is not a config field`);
    }
    const raw = override.slice(eq + 1);
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      value = raw;
    }
    let cur: Record<string, unknown> = user;
    for (const key of path.slice(0, -1)) {
      if (!Object.hasOwn(cur, key) || cur[key] === undefined) cur[key] = {};
      if (!isRecord(cur[key])) {
        throw new ConfigError('--set', override, `"${key}" holds ${JSON.stringify(cur[key])}, not an object; check the path.`, 'path goes through a non-object');
      }
      cur = cur[key] as Record<string, unknown>;
    }
    cur[path[path.length - 1]] = value;
  }
}

export function registerTrain(program: Command): void {
  addEngineOptions(
    program
      .command('train')
      .description('train one run (resumable; a finished run is skipped): --config FILE --out DIR, or --plan plan.json --index I')
      .option('--config <file>', 'run config (.json, or .ts exporting it as default)')
      .option('--out <dir>', 'run folder (its name is the run id)')
      .option('--set <key=value>', 'override a config field, e.g. --set train.lr=3e-3 (repeatable)', (v: string, acc: string[]) => [...acc, v], [])
      .option('--plan <file>', 'a sweep plan.json; trains runs[--index] into <sweep dir>/runs/<runId>/')
      .option('--index <i>', 'index of the run in the plan (e.g. $SLURM_ARRAY_TASK_ID)')
      .option('--sweep-dir <dir>', "sweep folder that holds runs/ (default: the plan file's folder)")
      .option('--quiet', 'no progress output')
      .option('--max-memory <size>', "refuse a config whose estimated memory exceeds this, e.g. 8G (default: the machine's memory; env MOELAB_MAX_MEMORY)")
      .option('--force-rerun', 'delete a finished run in the run folder and train it again (the way to rerun a changed config)')
      .option('--json', 'print the outcome as JSON (status, runId, runDir, summary) on stdout')
      .addOption(new Option('--progress <mode>', 'progress display').choices(['auto', 'bar', 'lines']).default('auto')),
  ).action(async (opts: TrainOptions) => {
    const [{ RunConfigSchema }, { parseConfig }] = await Promise.all([import('../config/schema.ts'), import('../config/validate.ts')]);
    const request = await resolveRunRequest(opts);
    applyOverrides(request.userConfig, opts.set);
    const config = parseConfig(RunConfigSchema, request.userConfig, request.source);
    const { parseMemorySize } = await import('../train/memory.ts');
    const maxMemory = opts.maxMemory ?? process.env.MOELAB_MAX_MEMORY;
    const memoryLimit =
      maxMemory === undefined
        ? undefined
        : { bytes: parseMemorySize(maxMemory, opts.maxMemory !== undefined ? '--max-memory' : 'MOELAB_MAX_MEMORY'), source: `the memory limit ${maxMemory}` };

    const info = await initEngineFromOptions(opts);
    // A finished run with another config is refused (fields named) unless --force-rerun.
    const { rerunDecision } = await import('../train/rerun.ts');
    const rerun = rerunDecision(request.runDir, config, { force: opts.forceRerun === true });
    if (rerun.kind === 'refuse') throw new ResumeMismatchError(rerun.message);
    if (rerun.kind === 'rerun') process.stderr.write(`moelab train: --force-rerun: ${rerun.message}\n`);
    const [{ trainRun }, { RunLockedError, LOCKED_EXIT_CODE }, { createProgressReporter }, { createMoeLm }] = await Promise.all([
      import('../train/loop.ts'),
      import('../train/lock.ts'),
      import('../train/progress.ts'),
      import('../model/transformer.ts'),
    ]);

    // First Ctrl-C / SIGTERM: finish the step, checkpoint, exit 130. A second one exits at once.
    const abort = new AbortController();
    const onSignal = () => {
      if (abort.signal.aborted) process.exit(130);
      process.stderr.write('\nmoelab train: stopping after this step (checkpoint will be saved; Ctrl-C again to exit now)\n');
      abort.abort();
    };
    // Installed when the loop starts: before that the run is in synchronous work (data, model
    // build) that cannot look at the signal, so a signal there ends the process at once (the
    // default), leaving what a kill leaves: a lock of a dead process, taken over by the next run.
    let handling = false;
    const handleSignals = () => {
      handling = true;
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
    };

    let result;
    try {
      result = await trainRun(config, request.runDir, {
        createModel: createMoeLm,
        runId: request.runId,
        backend: info.backend,
        engine: {
          backend: info.backend,
          threads: info.threads,
          simd: info.simd,
          nativeMatmul: info.nativeMatmul,
          blasThreads: info.blasThreads,
          fusedKernels: info.fusedKernels,
        },
        budgetFlops: request.budgetFlops,
        tags: request.tags,
        progress: createProgressReporter(opts.quiet ? 'quiet' : opts.progress),
        signal: abort.signal,
        onTrainingStart: handleSignals,
        checkDevice: assertEngineHealthy,
        ...(memoryLimit ? { memoryLimit } : {}),
      });
    } catch (err) {
      if (err instanceof RunLockedError) {
        process.stderr.write(`moelab train: ${err.message}\n`);
        process.exit(LOCKED_EXIT_CODE);
      }
      throw explainEngineFailure(err, info.backend, { batchSize: config.train.batchSize }) ?? err;
    } finally {
      if (handling) {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    }

    const s = result.summary;
    if (opts.json) {
      // Plain JSON: NaN and ±Infinity (a diverged run's losses) print as null (README "Commands").
      process.stdout.write(
        `${JSON.stringify({ status: result.status, runId: request.runId, runDir: request.runDir, startStep: result.startStep, endStep: result.endStep, summary: s ?? null })}\n`,
      );
      process.exit(result.status === 'interrupted' ? 130 : 0);
    }
    switch (result.status) {
      case 'skipped':
        process.stdout.write(`${request.runId}: already done (${s!.status}) in ${request.runDir}\n`);
        break;
      case 'done':
        process.stdout.write(
          `${request.runId}: done, ${s!.steps} steps, ${s!.tokens} tokens, final val loss ${s!.finalValLoss.toFixed(4)} ` +
            `(best ${s!.bestValLoss.toFixed(4)}), ${s!.wallSeconds.toFixed(1)} s → ${request.runDir}\n`,
        );
        break;
      case 'diverged':
        process.stdout.write(`${request.runId}: diverged (${s!.reason}) → ${request.runDir}\n`);
        break;
      case 'interrupted':
        process.stdout.write(`${request.runId}: interrupted at step ${result.endStep}; run the same command to continue\n`);
        process.exit(130);
    }
    process.exit(0);
  });
}
