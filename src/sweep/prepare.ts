// From an experiment file to a checked plan: load + validate → expandSweep → corpus checks →
// (optional) time estimates. Shared by `moelab plan` and `moelab sweep`; nothing is written
// here (writePlanFiles in state.ts does that once the plan has no errors).
import { isAbsolute, join, resolve } from 'node:path';
import { totalmem } from 'node:os';
import { RunConfigSchema } from '../config/schema.ts';
import type { SweepDefinition } from '../config/sweep-schema.ts';
import { prepareDataset, type Dataset } from '../data/dataset.ts';
import { resolveValWindows } from '../data/validation.ts';
import { checkDataBudget, createTokenStream, type TokenStream } from '../data/stream.ts';
import { ConfigError, ConfigErrors } from '../errors.ts';
import { readJsonIfExists } from '../io/atomic.ts';
import { resultsCacheDir, resultsRoot } from '../io/results.ts';
import { provenance } from '../util/provenance.ts';
import { buildFamilyModel } from './family.ts';
import { loadSweepFile } from './load.ts';
import { mergeConfig } from './merge.ts';
import { expandSweep, memoryProblems, planErrors, type PlanProblem, type RunPlan } from './plan.ts';
import { probePlan, withRunEstimates, type ThroughputCache } from './probe.ts';

export interface PreparedSweep {
  definition: SweepDefinition;
  plan: RunPlan;
  problems: PlanProblem[];
  /** Where the sweep's results go (--out, else results/<sweep name>). */
  sweepDir: string;
  source: string;
}

/** <results root>/<sweep name> (src/io/results.ts resultsRoot) unless --out says otherwise. */
export function defaultSweepDir(name: string, out?: string): string {
  return out ? resolve(out) : join(resultsRoot(), name);
}

/**
 * Corpus paths in the plan become absolute (resolved against `baseDir`, the directory `moelab
 * plan` ran in), so workers started elsewhere (Slurm tasks start in the sweep folder) read the
 * same files.
 */
export function absolutizeCorpus(plan: RunPlan, baseDir: string): RunPlan {
  const runs = plan.runs.map((run) => {
    const corpus = run.config.data?.corpus;
    if (corpus === undefined || corpus === 'default' || isAbsolute(corpus)) return run;
    return { ...run, config: mergeConfig(run.config, { data: { corpus: resolve(baseDir, corpus) } }) };
  });
  return { ...plan, runs };
}

/**
 * Each run with its config and the token stream the trainer will build for it (src/data/stream.ts).
 * Each dataset is prepared once (and cached); a corpus that cannot load is reported once through
 * `onError` (without a run id) and its runs are skipped, as is a run whose stream cannot be built
 * (reported with its id).
 */
function* runStreams(plan: RunPlan, options: { cacheDir?: string }, onError: (err: ConfigError, runId?: string) => void = () => {}) {
  const datasets = new Map<string, Dataset | undefined>();
  for (const run of plan.runs) {
    const config = RunConfigSchema.parse(run.config);
    const key = JSON.stringify({ corpus: config.data.corpus, tokenizer: config.data.tokenizer });
    if (!datasets.has(key)) {
      try {
        datasets.set(key, prepareDataset(config.data, { cacheDir: options.cacheDir }));
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        datasets.set(key, undefined);
        onError(err);
      }
    }
    const dataset = datasets.get(key);
    if (!dataset) continue;
    let stream: TokenStream;
    try {
      stream = createTokenStream(dataset.tokens, { seqLen: config.model.seqLen, batchSize: config.train.batchSize, valTokens: config.data.valTokens, seed: config.seed });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      onError(err, run.runId);
      continue;
    }
    yield { run, config, stream };
  }
}

/**
 * The corpus checks of every run, exactly as the trainer will make them (src/data/stream.ts):
 * the training tokens fit in one pass over the train split (unless data.repeat), and the
 * validation split holds the evaluation batches.
 */
export function checkCorpus(plan: RunPlan, options: { cacheDir?: string } = {}): PlanProblem[] {
  const problems: PlanProblem[] = [];
  const problemOf = (err: ConfigError, runId?: string): PlanProblem => {
    const m = /^[^:]*: (.*) \(got /s.exec(err.message);
    return { level: 'error', ...(runId ? { runId } : {}), field: err.field, value: err.value, message: m ? m[1] : err.message, fix: err.fix };
  };
  // A corpus that cannot load is one problem, not one per run.
  for (const { run, config, stream } of runStreams(plan, options, (err, runId) => problems.push(problemOf(err, runId)))) {
    try {
      checkDataBudget(stream, {
        steps: run.derived.steps,
        valWindows: resolveValWindows(config.data.valTokens, config.model.seqLen, config.data.valWindows),
        repeat: config.data.repeat,
      });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems.push(problemOf(err, run.runId));
    }
  }
  return problems;
}

/**
 * Passes over the corpus's train split each run needs (its training windows over the windows in
 * one epoch, as src/data/stream.ts counts them); runs whose corpus cannot load are left out (their
 * problem is checkCorpus's).
 */
export function corpusPasses(plan: RunPlan, options: { cacheDir?: string } = {}): Map<string, number> {
  const passes = new Map<string, number>();
  for (const { run, config, stream } of runStreams(plan, options)) passes.set(run.runId, (run.derived.steps * config.train.batchSize) / stream.windowsPerEpoch);
  return passes;
}

export interface PrepareOptions {
  out?: string;
  /** 'measure': probe when not cached; 'cached': use a cached probe only; 'none'. */
  estimate?: 'measure' | 'cached' | 'none';
  /** Skip the corpus checks (they load and tokenize the corpus). */
  skipCorpusCheck?: boolean;
  backend?: string;
  log?: (line: string) => void;
  /** Changes to the definition as written, before validation (`--set`; src/sweep/load.ts). */
  edit?: (raw: Record<string, unknown>) => void;
}

export async function prepareSweep(file: string, options: PrepareOptions = {}): Promise<PreparedSweep> {
  const definition = await loadSweepFile(file, options.edit);
  const expanded = expandSweep(definition, { buildModel: buildFamilyModel, provenance: provenance() });
  let plan = absolutizeCorpus(expanded.plan, process.cwd());
  const problems = [...expanded.problems];
  if (planErrors(problems).length === 0) problems.push(...memoryProblems(plan, totalmem(), "this machine's memory"));
  if (!options.skipCorpusCheck && planErrors(problems).length === 0) problems.push(...checkCorpus(plan));
  const estimate = options.estimate ?? 'none';
  if (estimate !== 'none' && options.backend && planErrors(problems).length === 0 && plan.runs.length > 0) {
    const cachePath = join(resultsCacheDir(), `throughput-${options.backend}.json`);
    if (estimate === 'measure') {
      const points = await probePlan(plan, { backend: options.backend, cachePath, log: options.log });
      plan = withRunEstimates(plan, options.backend, points);
    } else {
      const cached = readJsonIfExists<ThroughputCache>(cachePath);
      if (cached && cached.points.length > 0) plan = withRunEstimates(plan, options.backend, cached.points);
    }
  }
  return { definition, plan, problems, sweepDir: defaultSweepDir(definition.name, options.out), source: file };
}

/** Throw every error-level problem at once (nothing is written when a plan has errors). */
export function assertPlanOk(prepared: PreparedSweep): void {
  const errors = planErrors(prepared.problems);
  if (errors.length === 0) return;
  throw new ConfigErrors(
    prepared.source,
    errors.map(
      (p) => new ConfigError(p.runId ? `${p.runId}: ${p.field}` : p.field, p.value, p.fix, p.message),
    ),
  );
}
