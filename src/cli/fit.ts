// `moelab fit <kind>`: fit a scaling law (or LR/batch/schedule law) to a sweep's runs or to a CSV,
// print a table, write the FitRecord JSON. The fitting code lives in src/fit (no TF.js); it is
// imported inside the action so `moelab --help` stays fast.
import { Option, type Command } from 'commander';
import { ConfigError } from '../errors.ts';

interface FitCliOptions {
  runs?: string;
  study?: string;
  csv?: string;
  out?: string;
  json?: boolean;
  nCol?: string;
  dCol?: string;
  cCol?: string;
  lossCol?: string;
  budgetCol?: string;
  lrCol?: string;
  batchCol?: string;
  stepCol?: string;
  curveCol?: string;
  labelCol?: string;
  var?: string[];
  tokensFromFlops?: string;
  dropHighest?: string;
  nField?: string;
  lossField?: string;
  curveLoss?: string;
  computeFormula?: string;
  holdout?: string;
  bootstrap?: string;
  seed?: string;
  targetFlops?: string;
  grid?: string;
  delta?: string;
  flatDeltaL?: string;
  window?: string;
  edges?: string;
  experts?: string;
  topK?: string;
  batchTokens?: string;
  surgeMethod?: string;
  targetLoss?: string;
  smoothTokens?: string;
  band?: string;
  selection?: string;
  gridPoints?: string;
  minCurves?: string;
  smooth?: string;
  law?: string;
  fit?: string[];
  predict?: string[];
  warmupSteps?: string;
  interpolation?: string;
  lambda?: string;
  expr?: string;
  init?: string;
  objective?: string;
  tie?: string[];
  fix?: string[];
  dropna?: boolean;
  dedupe?: boolean;
  groupCol?: string;
  x2Col?: string;
  lminLaw?: string;
  noise?: string;
  maxIterations?: string;
  allowUnconverged?: boolean;
  allowUnidentified?: boolean;
}

/** `NAME=VALUE` items of --fix. */
function parseFix(list: string[] | undefined): Record<string, number> | undefined {
  if (!list?.length) return undefined;
  const out: Record<string, number> = {};
  for (const item of list.flatMap((s) => s.split(','))) {
    const m = /^\s*([A-Za-z_][A-Za-z_0-9]*)\s*=\s*(.+?)\s*$/.exec(item);
    const v = m ? Number(m[2]) : NaN;
    if (!m || !/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(m[2]) || !Number.isFinite(v)) {
      throw new ConfigError('--fix', item, 'Write NAME=VALUE with a decimal number, e.g. --fix E=1.69 (repeat or comma-separate for several).', 'not a parameter value');
    }
    out[m[1]] = v;
  }
  return out;
}

/** `LEADER=FOLLOWER` items of --tie. */
function parseTies(list: string[] | undefined): [string, string][] | undefined {
  if (!list?.length) return undefined;
  return list.flatMap((s) => s.split(',')).map((item) => {
    const m = /^\s*([A-Za-z_][A-Za-z_0-9]*)\s*=\s*([A-Za-z_][A-Za-z_0-9]*)\s*$/.exec(item);
    if (!m) throw new ConfigError('--tie', item, 'Write LEADER=FOLLOWER with parameter names, e.g. --tie alpha=beta.', 'not a tie');
    return [m[1], m[2]] as [string, string];
  });
}


function number(value: string | undefined, flag: string, check: (v: number) => boolean = Number.isFinite, fix = 'Give a number.'): number | undefined {
  if (value === undefined) return undefined;
  const v = Number(value);
  if (value.trim() === '' || !Number.isFinite(v) || !check(v)) throw new ConfigError(flag, value, fix, 'not a valid value');
  return v;
}

const positiveInt = (v: number) => Number.isInteger(v) && v > 0;
const nonNegInt = (v: number) => Number.isInteger(v) && v >= 0;

function choice<T extends string>(value: string | undefined, flag: string, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw new ConfigError(flag, value, `Use one of: ${allowed.join(', ')}.`, 'not an allowed value');
  return value as T;
}

/** `name=v` or `name=v1|v2|v3`, comma-separated. */
function parseInit(spec: string | undefined): Record<string, number | number[]> | undefined {
  if (spec === undefined) return undefined;
  const out: Record<string, number | number[]> = {};
  for (const part of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([A-Za-z_][A-Za-z_0-9]*)\s*=\s*(.+)$/.exec(part);
    const values = m ? m[2].split('|').map(Number) : [];
    if (!m || values.some((v) => !Number.isFinite(v))) {
      throw new ConfigError('--init', part, 'Write name=value or name=v1|v2|v3, comma-separated, e.g. --init "E=1.5,A=100|400,alpha=0.3".', 'not a start value');
    }
    out[m[1]] = values.length === 1 ? values[0] : values;
  }
  return out;
}

function parseVars(list: string[] | undefined): Record<string, string> | undefined {
  if (!list) return undefined;
  const out: Record<string, string> = {};
  for (const item of list) {
    const i = item.indexOf('=');
    if (i <= 0) throw new ConfigError('--var', item, 'Write name=column, e.g. --var G="granularity".', 'not a mapping');
    out[item.slice(0, i).trim()] = item.slice(i + 1);
  }
  return out;
}

/**
 * Request fields of src/fit (as its errors name them) → the flags that set them, in one table: a
 * fit error is re-raised naming the flag, and field names in its fix text become flags. Add a row
 * with each new fit option.
 */
export const FIT_FIELD_FLAGS: Readonly<Record<string, string>> = Object.freeze({
  'columns.N': '--n-col',
  'columns.D': '--d-col',
  'columns.C': '--c-col',
  'columns.loss': '--loss-col',
  'columns.budget': '--budget-col',
  'columns.lr': '--lr-col',
  'columns.batch': '--batch-col',
  'columns.step': '--step-col',
  'columns.curve': '--curve-col',
  'columns.label': '--label-col',
  'columns.group': '--group-col',
  'columns.x2': '--x2-col',
  path: '--csv',
  isoflopWindow: '--window',
  lminLaw: '--lmin-law',
  noise: '--noise',
  objective: '--objective',
  maxIterations: '--max-iterations',
  fix: '--fix',
  tie: '--tie',
  edges: '--edges',
  tokensFromFlops: '--tokens-from-flops',
  dropHighest: '--drop-highest',
  study: '--study',
  computeFormula: '--compute-formula',
  surgeMethod: '--surge-method',
  targetLoss: '--target-loss',
  expr: '--expr',
  init: '--init',
  fitPaths: '--fit',
  fitIds: '--fit',
  predictIds: '--predict',
});

/** A fit's ConfigError, naming the flag instead of the request field (fields not in the table stay). */
export function asFlagError(err: unknown): unknown {
  if (!(err instanceof ConfigError)) return err;
  const flagOf = (field: string) => FIT_FIELD_FLAGS[field] ?? (field.startsWith('columns.vars.') ? `--var ${field.slice('columns.vars.'.length)}` : undefined);
  const flag = flagOf(err.field);
  if (flag === undefined) return err;
  // Field names in the fix (columns.N, camelCase fields) become flags; plain words stay.
  const fix = err.fix.replace(/\b(columns\.[A-Za-z]+|[a-z]+[A-Z][A-Za-z]*)\b/g, (w) => FIT_FIELD_FLAGS[w] ?? w).replace(/\bexpr = /g, '--expr ');
  return new ConfigError(flag, err.value, fix, err.problem);
}

export function registerFit(program: Command): void {
  program
    .command('fit')
    .description('fit a law to a sweep (--runs DIR) or a CSV (--csv FILE); print a table, write the FitRecord JSON')
    .argument('<kind>', 'parametric | isoflop | envelope | compute | surge | deepseek | schedule | custom')
    .option('--runs <dir>', 'sweep folder (or folder of run folders)')
    .option('--study <kind>', 'with --runs: only runs of this study kind (the runs\' tags.study, e.g. isoflop, lr-batch)')
    .option('--csv <file>', 'CSV with one row per run/point')
    .option('--out <file>', 'write the FitRecord JSON here (default with --runs: <sweep>/fits/<kind>.json)')
    .option('--json', 'print the JSON record instead of the table')
    .option('--n-col <name>', 'column of N, activated parameters (default "N")')
    .option('--d-col <name>', 'column of D, training tokens (default "D")')
    .option('--c-col <name>', 'column of C, training FLOPs (default "C")')
    .option('--loss-col <name>', 'column of the loss (default "loss")')
    .option('--budget-col <name>', 'column of the compute budget (default "budget"; else C rounded to 2 s.f.)')
    .option('--lr-col <name>', 'column of the learning rate (default "lr")')
    .option('--batch-col <name>', 'column of the batch size in tokens (default "batchTokens")')
    .option('--step-col <name>', 'column of the step in curve CSVs (default "step")')
    .option('--curve-col <name>', 'column naming the curve/run of each row (envelope; default "curve")')
    .option('--label-col <name>', 'column used to name rows in messages and the record')
    .option('--var <name=column...>', 'map an extra expression variable to a column (custom)')
    .option('--tokens-from-flops <k>', 'D = C / (k·N) (the Chinchilla CSV: 6)')
    .option('--drop-highest <k>', 'drop the k rows with the highest loss first (Epoch: 5)')
    .addOption(new Option('--n-field <field>', 'run field used as N').choices(['activatedParams', 'totalParams', 'nonEmbeddingParams', 'activatedNonEmbeddingParams']))
    .addOption(new Option('--loss-field <field>', 'run summary field used as the loss').choices(['finalValLoss', 'bestValLoss']))
    .addOption(new Option('--curve-loss <field>', 'metrics.jsonl series for curves (envelope default valLoss, schedule default trainLoss)').choices(['valLoss', 'trainLoss']))
    .option('--compute-formula <f>', '6nd | hunyuan | a,b for C = a·N·D + b·D (default 6nd)')
    .option('--holdout <which>', 'largest | none: the held-out check (default largest)')
    .option('--bootstrap <n>', 'bootstrap resamples for the 95% intervals (0 = none; default per kind, src/analysis/defaults.ts)')
    .option('--seed <s>', 'bootstrap seed (default 0)')
    .option('--target-flops <list>', 'comma-separated budgets at which to report optima, e.g. 1e21,3.12e24')
    .option('--grid <g>', 'parametric start grid: chinchilla (4,500 starts, default) | coarse (243)')
    .option('--delta <d>', 'Huber δ on log residuals (default 1e-3)')
    .option('--flat-delta-l <nats>', 'isoflop: ΔL of the flat-optimum range (default 0.01)')
    .option('--window <rule>', "isoflop: sizes each budget's parabola sees: a factor around its best run (e.g. 2), auto (default: 2×, widened by √2 until ≥ 5 sizes) or all")
    .addOption(new Option('--edges <policy>', 'isoflop, surge (final-loss): budgets/batches without an interior minimum are dropped and listed in data.dropped (default) or refused').choices(['refuse', 'drop']))
    .option('--lmin-law <law>', 'isoflop: L_min(C) law, power (kL·C^c, default) | saturating (E + A·C^-alpha, ≥ 3 budgets)')
    .option('--noise <nats>', "isoflop: loss noise (e.g. seed SD) for the warning when a parabola's minimum undercuts the best run")
    .option('--objective <o>', 'iterative fits (parametric, custom, saturating L_min): huber-log (default) | lsq-log | lsq | huber; see docs/fit.md')
    .option('--tie <LEADER=FOLLOWER...>', 'parametric: tie parameters, e.g. alpha=beta')
    .option('--fix <NAME=VALUE...>', 'parametric: hold parameters at values, e.g. E=1.69')
    .option('--dropna', 'CSV: drop rows with an empty or NaN-like cell (listed in the record) instead of refusing them')
    .option('--dedupe', 'CSV: keep the first of identical rows (listed in the record) instead of refusing them')
    .option('--group-col <name>', 'deepseek: column grouping the runs whose best are compared (default: the regressor, --budget-col or C)')
    .option('--x2-col <name>', 'deepseek: second regressor, for the two-variable laws k·x^a·x2^b (e.g. --budget-col N --x2-col D)')
    .option('--max-iterations <n>', 'iteration cap of each optimiser start (parametric, custom, schedule)')
    .option('--allow-unconverged', 'exit 0 even when the fit did not converge (the record says why)')
    .option('--allow-unidentified', 'write a record marked unidentified instead of refusing degenerate data')
    .option('--experts <E>', 'surge: specialized experts, for the expert-LR ratio')
    .option('--top-k <k>', 'surge: experts per token (default 1)')
    .option('--batch-tokens <B>', 'surge: batch size (tokens) at which to evaluate the expert-LR rule')
    .option('--surge-method <m>', 'surge: auto | steps-to-target | final-loss (default auto: steps-to-target for constant-LR runs with logged train loss)')
    .option('--target-loss <x>', 'surge steps-to-target: train loss the steps are counted to (default: the lowest 2-decimal loss that ≥ 4 learning rates reach with all their seeds at every batch)')
    .option('--smooth-tokens <n>', 'surge steps-to-target: moving-average window of the train loss, in tokens (default 4096)')
    .option('--band <tol>', 'deepseek: relative loss band of near-optimal runs (default 0.0025)')
    .option('--selection <s>', 'deepseek: band | best (default band)')
    .option('--grid-points <k>', 'envelope: log-spaced FLOP values (default 1500)')
    .option('--min-curves <k>', 'envelope: curves that must cover a FLOP value (default 2)')
    .option('--smooth <k>', 'envelope: moving-average window over logged points (default 1)')
    .option('--law <law>', 'schedule: tissue | multipower (default tissue, as the report)')
    .option('--fit <items...>', 'schedule: curves to fit (CSV files, or run ids with --runs)')
    .option('--predict <items...>', 'schedule: curves to predict (held out); parametric, isoflop, compute, deepseek, custom: a CSV of rows to predict at (same column names)')
    .option('--warmup-steps <w>', 'schedule: step where linear warmup from 0 reaches the first logged LR (default: first logged step)')
    .option('--interpolation <m>', 'schedule: linear | step, LR between logged steps (default linear)')
    .option('--lambda <l>', 'schedule (tissue): momentum decay λ (default 0.999)')
    .option('--expr <law>', 'custom: the law in mathjs syntax, e.g. "E + A / N^alpha + B / D^beta"')
    .option('--init <starts>', 'custom: start values, e.g. "E=1.5,A=100|400,alpha=0.3"')
    .action(async (kindArg: string, opts: FitCliOptions) => {
      const { readCsv } = await import('../fit/data.ts');
      const { loadSweep } = await import('../io/load.ts');
      const runsOf = (dir: string) => {
        const runs = loadSweep(dir).runs;
        if (runs.length === 0) throw new ConfigError('--runs', dir, 'Train the sweep first, or point --runs at a folder with run folders.', 'no run in the folder has started');
        return runs;
      };
      const { DEFAULT_COLUMNS, FIT_KINDS, fitTable, fitRuns, fitScheduleCsvs, fitScheduleRuns } = await import('../fit/run-fit.ts');
      const { OBJECTIVES } = await import('../fit/objective.ts');
      const { predictInputFromTable } = await import('../fit/predict-input.ts');
      const { fitConvergence, UNCONVERGED_EXIT_CODE } = await import('../fit/convergence.ts');
      const { parseComputeFormula } = await import('../fit/compute-formula.ts');
      const { formatFit } = await import('../fit/format.ts');
      const { FIT_RECORD_SCHEMA } = await import('../fit/record.ts');
      const { ANALYSIS_DEFAULTS } = await import('../analysis/defaults.ts');
      const { writeJsonAtomic, toJson } = await import('../io/atomic.ts');
      const { sweepPaths } = await import('../io/results.ts');
      const { provenance } = await import('../util/provenance.ts');

      const kind = choice(kindArg, 'kind', FIT_KINDS);
      if (!kind) throw new ConfigError('kind', kindArg, `Use one of: ${FIT_KINDS.join(', ')}.`, 'missing');
      if ((opts.runs === undefined) === (opts.csv === undefined) && !(kind === 'schedule' && opts.runs === undefined && opts.fit)) {
        throw new ConfigError('--runs/--csv', opts.runs ?? opts.csv ?? null, 'Give exactly one data source: --runs DIR or --csv FILE (schedule fits from CSVs take --fit/--predict files).', 'need one data source');
      }
      const law = choice(opts.law, '--law', ['multipower', 'tissue'] as const) ?? ANALYSIS_DEFAULTS.scheduleLaw;
      const expertsGiven = opts.experts !== undefined || opts.batchTokens !== undefined;
      if (expertsGiven && (opts.experts === undefined || opts.batchTokens === undefined)) {
        throw new ConfigError(opts.experts === undefined ? '--experts' : '--batch-tokens', null, 'The expert-LR rule needs both --experts E and --batch-tokens B (and optionally --top-k).', 'missing');
      }
      const req = {
        kind,
        columns: {
          N: opts.nCol,
          D: opts.dCol,
          C: opts.cCol,
          loss: opts.lossCol,
          budget: opts.budgetCol,
          lr: opts.lrCol,
          batch: opts.batchCol,
          step: opts.stepCol,
          curve: opts.curveCol,
          label: opts.labelCol,
          group: opts.groupCol,
          x2: opts.x2Col,
          vars: parseVars(opts.var),
        },
        study: opts.study,
        tokensFromFlops: number(opts.tokensFromFlops, '--tokens-from-flops', (v) => v > 0, 'Give FLOPs per parameter per token > 0, e.g. 6.'),
        dropHighest: number(opts.dropHighest, '--drop-highest', nonNegInt, 'Give a whole number ≥ 0.'),
        nField: choice(opts.nField, '--n-field', ['activatedParams', 'totalParams', 'nonEmbeddingParams', 'activatedNonEmbeddingParams'] as const),
        lossField: choice(opts.lossField, '--loss-field', ['finalValLoss', 'bestValLoss'] as const),
        curveLoss: choice(opts.curveLoss, '--curve-loss', ['valLoss', 'trainLoss'] as const),
        computeFormula: opts.computeFormula ? parseComputeFormula(opts.computeFormula, '--compute-formula') : undefined,
        holdout: choice(opts.holdout, '--holdout', ['largest', 'none'] as const),
        bootstrap: number(opts.bootstrap, '--bootstrap', nonNegInt, 'Give a whole number ≥ 0.') ?? ANALYSIS_DEFAULTS.bootstrap[kind],
        seed: number(opts.seed, '--seed', nonNegInt, 'Give a whole number ≥ 0.') ?? ANALYSIS_DEFAULTS.seed,
        targetFlops: opts.targetFlops?.split(',').map((s) => number(s, '--target-flops', (v) => v > 0, 'Give comma-separated FLOP budgets > 0, e.g. 1e21,3.12e24.') as number),
        grid: choice(opts.grid, '--grid', ['chinchilla', 'coarse'] as const),
        delta: number(opts.delta, '--delta', (v) => v > 0, 'Give a threshold > 0, e.g. 1e-3.'),
        flatDeltaL: number(opts.flatDeltaL, '--flat-delta-l', (v) => v > 0, 'Give a loss tolerance > 0 in nats, e.g. 0.01.'),
        edges: choice(opts.edges, '--edges', ['refuse', 'drop'] as const) ?? ANALYSIS_DEFAULTS.edges,
        isoflopWindow:
          opts.window === 'auto' || opts.window === 'all'
            ? (opts.window as 'auto' | 'all')
            : number(opts.window, '--window', (v) => v > 1, 'Give a factor > 1, e.g. 2 (sizes from N_best/2 to 2·N_best), auto or all.'),
        lminLaw: choice(opts.lminLaw, '--lmin-law', ['power', 'saturating'] as const),
        noise: number(opts.noise, '--noise', (v) => v >= 0, 'Give the loss noise in nats ≥ 0, e.g. 0.005.'),
        objective: choice(opts.objective, '--objective', OBJECTIVES),
        maxIterations: number(opts.maxIterations, '--max-iterations', positiveInt, 'Give a whole number ≥ 1, e.g. 5000.'),
        fix: parseFix(opts.fix),
        tie: parseTies(opts.tie),
        allowUnidentified: opts.allowUnidentified,
        expertLr: expertsGiven
          ? {
              numExperts: number(opts.experts, '--experts', positiveInt, 'Give the number of specialized experts, e.g. 16.') as number,
              topK: number(opts.topK, '--top-k', positiveInt, 'Give experts per token, e.g. 1.') ?? 1,
              batchTokens: number(opts.batchTokens, '--batch-tokens', (v) => v > 0, 'Give the batch size in tokens.') as number,
            }
          : undefined,
        surgeMethod: choice(opts.surgeMethod, '--surge-method', ['auto', 'steps-to-target', 'final-loss'] as const),
        targetLoss: number(opts.targetLoss, '--target-loss', (v) => v > 0, 'Give a train loss > 0, e.g. 2.35.'),
        smoothTokens: number(opts.smoothTokens, '--smooth-tokens', (v) => v >= 0, 'Give a window in tokens ≥ 0, e.g. 4096.'),
        bandTolerance: number(opts.band, '--band', (v) => v >= 0, 'Give a relative tolerance ≥ 0, e.g. 0.0025.'),
        selection: choice(opts.selection, '--selection', ['band', 'best'] as const),
        gridPoints: number(opts.gridPoints, '--grid-points', (v) => Number.isInteger(v) && v >= 2, 'Give a whole number ≥ 2.'),
        minCurves: number(opts.minCurves, '--min-curves', positiveInt, 'Give a whole number ≥ 1.'),
        smoothWindow: number(opts.smooth, '--smooth', positiveInt, 'Give a whole number ≥ 1.'),
        law,
        warmupSteps: number(opts.warmupSteps, '--warmup-steps', positiveInt, 'Give a whole number of steps ≥ 1.'),
        interpolation: choice(opts.interpolation, '--interpolation', ['linear', 'step'] as const),
        lambda: number(opts.lambda, '--lambda', (v) => v > 0 && v < 1, 'Give λ in (0, 1), e.g. 0.999.'),
        expr: opts.expr,
        init: parseInit(opts.init),
      };

      const csvOptions = { dropna: opts.dropna, dedupe: opts.dedupe };
      // Long bootstraps (e.g. 100,000 rows) show their count and an ETA on stderr through the
      // progress sink src/cli/main.ts installs (src/util/progress.ts).
      if (kind !== 'schedule' && opts.predict?.length) {
        if (opts.predict.length > 1) throw new ConfigError('--predict', opts.predict, 'Give one CSV of rows to predict at.', 'several files');
        const cols = { ...DEFAULT_COLUMNS, ...Object.fromEntries(Object.entries(req.columns).filter(([, v]) => typeof v === 'string')) };
        Object.assign(req, { predict: predictInputFromTable(readCsv(opts.predict[0], csvOptions), kind, { ...cols, vars: req.columns.vars }, req.tokensFromFlops) });
      }
      let source: string;
      let result;
      try {
        if (kind === 'schedule') {
          if (!opts.fit?.length) throw new ConfigError('--fit', null, 'Give the curves to fit: --fit A.csv B.csv (or run ids with --runs).', 'missing');
          if (opts.runs) {
            source = opts.runs;
            result = fitScheduleRuns(runsOf(opts.runs), opts.fit, opts.predict ?? [], req);
          } else {
            source = [...opts.fit, ...(opts.predict ?? [])].join(', ');
            result = fitScheduleCsvs(opts.fit, opts.predict ?? [], req);
          }
        } else if (opts.runs) {
          source = opts.runs;
          result = await fitRuns(runsOf(opts.runs), req);
        } else {
          source = opts.csv as string;
          result = await fitTable(readCsv(source, csvOptions), req);
        }
      } catch (err) {
        throw asFlagError(err);
      }

      const convergence = fitConvergence(result);
      const record = { schema: FIT_RECORD_SCHEMA, ...result, convergence, source, provenance: provenance() };
      const out = opts.out ?? (opts.runs ? sweepPaths(opts.runs).fit(kind === 'schedule' ? `schedule-${law}` : kind) : undefined);
      if (opts.json) process.stdout.write(`${toJson(record, 2)}\n`);
      else process.stdout.write(formatFit(result, source));
      if (out) {
        writeJsonAtomic(out, record);
        if (!opts.json) process.stdout.write(`wrote ${out}\n`);
      } else if (!opts.json) {
        process.stdout.write('(no --out given: record not written)\n');
      }
      if (!convergence.converged) {
        process.stderr.write(`fit did not converge: ${convergence.reasons.join('; ')}.${opts.allowUnconverged ? ' (--allow-unconverged: exit 0)' : ` Exit ${UNCONVERGED_EXIT_CODE}; raise --max-iterations, change the objective or starts, or pass --allow-unconverged.`}\n`);
        if (!opts.allowUnconverged) process.exitCode = UNCONVERGED_EXIT_CODE;
      }
    });
}
