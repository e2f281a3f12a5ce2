// `moelab fit <kind>`: fit a scaling law (or LR/batch/schedule law) to a sweep's runs or to a CSV,
// print a table, write the FitRecord JSON. The fitting code lives in src/fit (no TF.js); it is
// imported inside the action so `moelab --help` stays fast.
import { Option, type Command } from 'commander';
import { ANALYSIS_DEFAULTS } from '../analysis/defaults.ts';
import { ConfigError } from '../errors.ts';
import { parseComputeFormula } from '../fit/compute-formula.ts';
import { EDGE_POLICIES } from '../fit/edges.ts';
import { OBJECTIVES } from '../fit/objective.ts';
import type { FitKind } from '../fit/record.ts';
import { FIT_REQUEST_FIELDS, kindsWithField, type FitRequest } from '../fit/request.ts';

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
  prior?: string;
  procedure?: string;
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

/** One flag of `moelab fit` that sets a request field. */
export interface FitFlag {
  /** The long flag, as registered (e.g. '--window'). */
  flag: string;
  /** The request field it sets (src/fit/request.ts); 'columns.X' sets one column of `columns`. */
  field: string;
  /** The flag's text (or texts, for repeatable flags) → the field's value; a bad value is a ConfigError naming the flag. */
  parse: (value: string & string[], flag: string) => unknown;
}

const text = (v: string): string => v;
const num = (check: (v: number) => boolean, fix: string) => (v: string, flag: string) => number(v, flag, check, fix);
const pick = <T extends string>(allowed: readonly T[]) => (v: string, flag: string) => choice(v, flag, allowed);
const column = (role: string): FitFlag => ({ flag: `--${role === 'N' || role === 'D' || role === 'C' ? role.toLowerCase() : role}-col`, field: `columns.${role === 'batchTokens' ? 'batch' : role}`, parse: text });

/**
 * `moelab fit`'s flags → the request fields they set, in one table: the request is built from it,
 * a flag whose field the kind's request has not (src/fit/request.ts FIT_REQUEST_FIELDS) is refused
 * naming the flag and the kinds that take it, and a fit error is re-raised naming the flag (field
 * names in its fix become flags). Add a row with each new fit option.
 */
export const FIT_FLAGS: readonly FitFlag[] = Object.freeze([
  ...(['N', 'D', 'C', 'loss', 'budget', 'lr', 'step', 'curve', 'label', 'group', 'x2'] as const).map(column),
  { flag: '--batch-col', field: 'columns.batch', parse: text },
  { flag: '--var', field: 'columns.vars', parse: (v: string[]) => parseVars(v) },
  { flag: '--study', field: 'study', parse: text },
  { flag: '--tokens-from-flops', field: 'tokensFromFlops', parse: num((v) => v > 0, 'Give FLOPs per parameter per token > 0, e.g. 6.') },
  { flag: '--drop-highest', field: 'dropHighest', parse: num(nonNegInt, 'Give a whole number ≥ 0.') },
  { flag: '--n-field', field: 'nField', parse: pick(['activatedParams', 'totalParams', 'nonEmbeddingParams', 'activatedNonEmbeddingParams'] as const) },
  { flag: '--loss-field', field: 'lossField', parse: pick(['finalValLoss', 'bestValLoss'] as const) },
  { flag: '--curve-loss', field: 'curveLoss', parse: pick(['valLoss', 'trainLoss'] as const) },
  { flag: '--compute-formula', field: 'computeFormula', parse: (v: string, flag: string) => parseComputeFormula(v, flag) },
  { flag: '--holdout', field: 'holdout', parse: pick(['largest', 'none'] as const) },
  { flag: '--bootstrap', field: 'bootstrap', parse: num(nonNegInt, 'Give a whole number ≥ 0.') },
  { flag: '--seed', field: 'seed', parse: num(nonNegInt, 'Give a whole number ≥ 0.') },
  {
    flag: '--target-flops',
    field: 'targetFlops',
    parse: (v: string, flag: string) => v.split(',').map((s) => number(s, flag, (x) => x > 0, 'Give comma-separated FLOP budgets > 0, e.g. 1e21,3.12e24.') as number),
  },
  { flag: '--grid', field: 'grid', parse: pick(['chinchilla', 'coarse'] as const) },
  { flag: '--delta', field: 'delta', parse: num((v) => v > 0, 'Give a threshold > 0, e.g. 1e-3.') },
  { flag: '--flat-delta-l', field: 'flatDeltaL', parse: num((v) => v > 0, 'Give a loss tolerance > 0 in nats, e.g. 0.01.') },
  {
    flag: '--window',
    field: 'isoflopWindow',
    parse: (v: string, flag: string) => (v === 'auto' || v === 'all' ? v : number(v, flag, (x) => x > 1, 'Give a factor > 1, e.g. 2 (sizes from N_best/2 to 2·N_best), auto or all.')),
  },
  { flag: '--edges', field: 'edges', parse: pick(EDGE_POLICIES) },
  { flag: '--lmin-law', field: 'lminLaw', parse: pick(['power', 'saturating'] as const) },
  { flag: '--noise', field: 'noise', parse: num((v) => v >= 0, 'Give the loss noise in nats ≥ 0, e.g. 0.005.') },
  { flag: '--objective', field: 'objective', parse: pick(OBJECTIVES) },
  { flag: '--max-iterations', field: 'maxIterations', parse: num(positiveInt, 'Give a whole number ≥ 1, e.g. 5000.') },
  { flag: '--fix', field: 'fix', parse: (v: string[]) => parseFix(v) },
  { flag: '--tie', field: 'tie', parse: (v: string[]) => parseTies(v) },
  { flag: '--allow-unidentified', field: 'allowUnidentified', parse: () => true },
  // The expert-LR query is one field set by three flags (checked together in fitRequestFromFlags).
  { flag: '--experts', field: 'expertLr', parse: num(positiveInt, 'Give the number of specialized experts, e.g. 16.') },
  { flag: '--top-k', field: 'expertLr', parse: num(positiveInt, 'Give experts per token, e.g. 1.') },
  { flag: '--batch-tokens', field: 'expertLr', parse: num((v) => v > 0, 'Give the batch size in tokens.') },
  { flag: '--surge-method', field: 'surgeMethod', parse: pick(['auto', 'steps-to-target', 'final-loss'] as const) },
  { flag: '--target-loss', field: 'targetLoss', parse: num((v) => v > 0, 'Give a train loss > 0, e.g. 2.35.') },
  { flag: '--smooth-tokens', field: 'smoothTokens', parse: num((v) => v >= 0, 'Give a window in tokens ≥ 0, e.g. 4096.') },
  { flag: '--band', field: 'bandTolerance', parse: num((v) => v >= 0, 'Give a relative tolerance ≥ 0, e.g. 0.0025.') },
  { flag: '--selection', field: 'selection', parse: pick(['band', 'best'] as const) },
  { flag: '--grid-points', field: 'gridPoints', parse: num((v) => Number.isInteger(v) && v >= 2, 'Give a whole number ≥ 2.') },
  { flag: '--min-curves', field: 'minCurves', parse: num(positiveInt, 'Give a whole number ≥ 1.') },
  { flag: '--smooth', field: 'smoothWindow', parse: num(positiveInt, 'Give a whole number ≥ 1.') },
  { flag: '--law', field: 'law', parse: pick(['multipower', 'tissue'] as const) },
  { flag: '--warmup-steps', field: 'warmupSteps', parse: num(positiveInt, 'Give a whole number of steps ≥ 1.') },
  { flag: '--interpolation', field: 'interpolation', parse: pick(['linear', 'step'] as const) },
  { flag: '--prior', field: 'prior', parse: pick(['none', 'drop-shape'] as const) },
  { flag: '--procedure', field: 'procedure', parse: pick(['converge', 'released'] as const) },
  { flag: '--lambda', field: 'lambda', parse: num((v) => v > 0 && v < 1, 'Give λ in (0, 1), e.g. 0.999.') },
  { flag: '--expr', field: 'expr', parse: text },
  { flag: '--init', field: 'init', parse: (v: string) => parseInit(v) },
] as FitFlag[]);

/**
 * Request fields (as src/fit's errors name them) → flags, derived from FIT_FLAGS, plus the fields of
 * the fit functions' other arguments (the CSV path, the schedule fit's curve lists).
 */
export const FIT_FIELD_FLAGS: Readonly<Record<string, string>> = Object.freeze({
  ...Object.fromEntries(FIT_FLAGS.filter((f) => f.field !== 'columns.vars').map((f) => [f.field, f.flag])),
  expertLr: '--experts',
  predict: '--predict',
  path: '--csv',
  fitPaths: '--fit',
  fitIds: '--fit',
  predictIds: '--predict',
});

/** Commander's key of a long flag: '--flat-delta-l' → 'flatDeltaL'. */
function optionKey(flag: string): string {
  return flag.replace(/^--/, '').replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/**
 * The request of `moelab fit <kind>` from its flags (FIT_FLAGS): each flag given is parsed into its
 * field, after checking the kind's request has that field (FIT_REQUEST_FIELDS, src/fit/request.ts);
 * the shared defaults (src/analysis/defaults.ts) fill bootstrap, seed, and edges / the schedule law
 * where the kind has them.
 */
export function fitRequestFromFlags(kind: FitKind, opts: FitCliOptions): FitRequest {
  const fields: readonly string[] = FIT_REQUEST_FIELDS[kind];
  const values = opts as Record<string, string & string[]>;
  const out: Record<string, unknown> = {};
  const columns: Record<string, unknown> = {};
  const expert: Record<string, number> = {};
  for (const f of FIT_FLAGS) {
    const raw = values[optionKey(f.flag)];
    if (raw === undefined) continue;
    const root = f.field.split('.')[0];
    if (!fields.includes(root)) {
      const others = kindsWithField(root);
      throw new ConfigError(f.flag, raw, others.length ? `Drop ${f.flag}: it is an option of ${others.map((k) => `moelab fit ${k}`).join(', ')}.` : `Drop ${f.flag}.`, `not an option of ${kind} fits`);
    }
    const value = f.parse(raw, f.flag);
    if (root === 'columns') columns[f.field.slice('columns.'.length)] = value;
    else if (root === 'expertLr') expert[f.flag] = value as number;
    else out[root] = value;
  }
  if (Object.keys(expert).length) {
    if (expert['--experts'] === undefined || expert['--batch-tokens'] === undefined) {
      throw new ConfigError(expert['--experts'] === undefined ? '--experts' : '--batch-tokens', null, 'The expert-LR rule needs both --experts E and --batch-tokens B (and optionally --top-k).', 'missing');
    }
    out.expertLr = { numExperts: expert['--experts'], topK: expert['--top-k'] ?? 1, batchTokens: expert['--batch-tokens'] };
  }
  if (Object.keys(columns).length) out.columns = columns;
  out.bootstrap ??= ANALYSIS_DEFAULTS.bootstrap[kind];
  out.seed ??= ANALYSIS_DEFAULTS.seed;
  if (fields.includes('edges')) out.edges ??= ANALYSIS_DEFAULTS.edges;
  if (kind === 'schedule') out.law ??= ANALYSIS_DEFAULTS.scheduleLaw;
  if (kind === 'custom' && out.expr === undefined) throw new ConfigError('--expr', null, 'Give the law to fit, e.g. --expr "E + A / N^alpha + B / D^beta".', 'missing');
  return { ...out, kind } as FitRequest;
}

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
    .option('--noise <nats>', "isoflop: loss noise (e.g. a measured seed SD): the warning when a parabola's minimum undercuts the best run, and the bootstrap's σ when no cell has 2 seeds (docs/fit.md)")
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
    .option('--procedure <p>', "schedule (multipower): converge (default: multi-start Levenberg–Marquardt) | released, the MPL authors' early-stopped AdamW (docs/fit.md); not converged by design, so pair it with --allow-unconverged")
    .option('--prior <p>', 'schedule (multipower): none (default) | drop-shape, a MAP fit with a fixed Gaussian prior on ln C, ln beta, ln gamma (docs/fit.md)')
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
      const { predictInputFromTable } = await import('../fit/predict-input.ts');
      const { fitConvergence, UNCONVERGED_EXIT_CODE } = await import('../fit/convergence.ts');
      const { formatFit } = await import('../fit/format.ts');
      const { FIT_RECORD_SCHEMA } = await import('../fit/record.ts');
      const { writeJsonAtomic, toJson } = await import('../io/atomic.ts');
      const { sweepPaths } = await import('../io/results.ts');
      const { provenance } = await import('../util/provenance.ts');

      const kind = choice(kindArg, 'kind', FIT_KINDS);
      if (!kind) throw new ConfigError('kind', kindArg, `Use one of: ${FIT_KINDS.join(', ')}.`, 'missing');
      if ((opts.runs === undefined) === (opts.csv === undefined) && !(kind === 'schedule' && opts.runs === undefined && opts.fit)) {
        throw new ConfigError('--runs/--csv', opts.runs ?? opts.csv ?? null, 'Give exactly one data source: --runs DIR or --csv FILE (schedule fits from CSVs take --fit/--predict files).', 'need one data source');
      }
      const request = fitRequestFromFlags(kind, opts);
      if (opts.fit?.length && kind !== 'schedule') {
        throw new ConfigError('--fit', opts.fit, 'Drop --fit: it names the curves of moelab fit schedule (the other kinds fit every run of --runs, or --csv).', `not an option of ${kind} fits`);
      }

      const csvOptions = { dropna: opts.dropna, dedupe: opts.dedupe };
      // Long bootstraps (e.g. 100,000 rows) show their count and an ETA on stderr through the
      // progress sink src/cli/main.ts installs (src/util/progress.ts).
      let req = request;
      if (req.kind !== 'schedule' && opts.predict?.length) {
        if (!(FIT_REQUEST_FIELDS[req.kind] as readonly string[]).includes('predict')) {
          throw new ConfigError('--predict', opts.predict, `Drop --predict: it is an option of ${kindsWithField('predict').map((k) => `moelab fit ${k}`).join(', ')} (and names the held-out curves of moelab fit schedule).`, `not an option of ${kind} fits`);
        }
        if (opts.predict.length > 1) throw new ConfigError('--predict', opts.predict, 'Give one CSV of rows to predict at.', 'several files');
        const given = req.columns ?? {};
        const cols = { ...DEFAULT_COLUMNS, ...Object.fromEntries(Object.entries(given).filter(([, v]) => typeof v === 'string')) };
        const tokensFromFlops = req.kind === 'parametric' || req.kind === 'isoflop' ? req.tokensFromFlops : undefined;
        const predict = predictInputFromTable(readCsv(opts.predict[0], csvOptions), kind, { ...cols, vars: given.vars }, tokensFromFlops);
        req = { ...req, predict } as FitRequest;
      }
      let source: string;
      let result;
      try {
        if (req.kind === 'schedule') {
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
      const out = opts.out ?? (opts.runs ? sweepPaths(opts.runs).fit(req.kind === 'schedule' ? `schedule-${req.law}` : kind) : undefined);
      if (opts.json) process.stdout.write(`${toJson(record, 2)}\n`);
      else process.stdout.write(formatFit(result, source));
      if (out) {
        writeJsonAtomic(out, record);
        if (!opts.json) process.stdout.write(`wrote ${out}\n`);
      } else if (!opts.json) {
        process.stdout.write('(no --out given: record not written)\n');
      }
      if (!convergence.converged) {
        // The released Multi-Power procedure stops early by design: more iterations are not the fix.
        const fix = 'reason' in result.diagnostics && result.diagnostics.reason === 'early-stop' ? 'the procedure stops early by design (docs/fit.md); pass --allow-unconverged to accept it' : 'raise --max-iterations, change the objective or starts, or pass --allow-unconverged';
        process.stderr.write(`fit did not converge: ${convergence.reasons.join('; ')}.${opts.allowUnconverged ? ' (--allow-unconverged: exit 0)' : ` Exit ${UNCONVERGED_EXIT_CODE}; ${fix}.`}\n`);
        if (!opts.allowUnconverged) process.exitCode = UNCONVERGED_EXIT_CODE;
      }
    });
}
