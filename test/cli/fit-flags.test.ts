// src/fit names request fields in its errors; `moelab fit` maps them to its flags in one table
// (FIT_FIELD_FLAGS), so an API error names the field and a CLI error the flag.
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { ANALYSIS_DEFAULTS } from '../../src/analysis/defaults.ts';
import { asFlagError, FIT_FIELD_FLAGS, FIT_FLAGS, fitRequestFromFlags, registerFit } from '../../src/cli/fit.ts';
import { ConfigError } from '../../src/errors.ts';
import { checkRequestFields, FIT_KINDS, FIT_REQUEST_FIELDS, fitScheduleRuns, fitTable, kindsWithField, parseCsv, type FitKind, type FitRequest, type ScheduleRequest } from '../../src/fit/index.ts';

const fromFlags = (kind: FitKind, opts: Record<string, unknown>) => fitRequestFromFlags(kind, opts);
const errorOf = (f: () => unknown): ConfigError => {
  try {
    f();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('no ConfigError thrown');
};

describe('fit errors: fields in the API, flags in the CLI', () => {
  it('every flag of the table is an option of `moelab fit`', () => {
    const program = new Command();
    registerFit(program);
    const fit = program.commands.find((c) => c.name() === 'fit')!;
    const flags = new Set(fit.options.map((o) => o.long));
    for (const flag of new Set(Object.values(FIT_FIELD_FLAGS))) expect(flags.has(flag), flag).toBe(true);
  });

  it('renames the field, and field names in the fix, keeping value and problem', async () => {
    const api = await fitTable(parseCsv('batchTokens,lr,loss\n256,1e-3,3\n', 'grid.csv'), { kind: 'surge', targetLoss: 2 }).catch((e: unknown) => e);
    expect(api).toBeInstanceOf(ConfigError);
    expect((api as ConfigError).field).toBe('targetLoss');
    const cli = asFlagError(api) as ConfigError;
    expect(cli.message).toBe('--target-loss: needs training curves (got 2). Steps-to-target reads training curves from run records: fit the runs of a sweep (a CSV gives one final loss per run), or drop the option.');
    const drop = asFlagError(new ConfigError('targetLoss', 2, 'Drop targetLoss, or set surgeMethod to steps-to-target.', 'applies to the steps-to-target method only')) as ConfigError;
    expect(drop.message).toBe('--target-loss: applies to the steps-to-target method only (got 2). Drop --target-loss, or set --surge-method to steps-to-target.');
    expect((asFlagError(new ConfigError('columns.vars.G', 'g', 'Pick one.', 'no such column')) as ConfigError).field).toBe('--var G');
    const other = new ConfigError('kind', 'x', 'Use one of: a.');
    expect(asFlagError(other)).toBe(other);
    const plain = new Error('boom');
    expect(asFlagError(plain)).toBe(plain);
  });
});

describe('requests are a union of the kinds\' options; a flag its kind has not is refused', () => {
  it('every field of every kind\'s request is set by a flag of the table (predict: by --predict FILE)', () => {
    const flagged = new Set(FIT_FLAGS.map((f) => f.field.split('.')[0]));
    for (const kind of FIT_KINDS) for (const field of FIT_REQUEST_FIELDS[kind]) expect(flagged.has(field) || field in FIT_FIELD_FLAGS, `${kind}.${field}`).toBe(true);
    // and every flag of the table sets a field some kind has
    for (const f of FIT_FLAGS) expect(kindsWithField(f.field.split('.')[0]).length, f.flag).toBeGreaterThan(0);
  });

  it('builds the kind\'s request from the flags given, with the shared defaults where the kind has the field', () => {
    const iso = fromFlags('isoflop', { window: '2', nCol: 'size', targetFlops: '1e20,1e21' });
    expect(iso).toEqual({ kind: 'isoflop', isoflopWindow: 2, columns: { N: 'size' }, targetFlops: [1e20, 1e21], bootstrap: ANALYSIS_DEFAULTS.bootstrap.isoflop, seed: ANALYSIS_DEFAULTS.seed, edges: ANALYSIS_DEFAULTS.edges });
    const sched = fromFlags('schedule', {});
    expect(sched).toEqual({ kind: 'schedule', bootstrap: ANALYSIS_DEFAULTS.bootstrap.schedule, seed: ANALYSIS_DEFAULTS.seed, law: ANALYSIS_DEFAULTS.scheduleLaw });
    expect(fromFlags('surge', { experts: '16', batchTokens: '2048' })).toMatchObject({ kind: 'surge', expertLr: { numExperts: 16, topK: 1, batchTokens: 2048 } });
    expect(fromFlags('compute', {})).not.toHaveProperty('edges');
    expect(fromFlags('schedule', { law: 'multipower', prior: 'drop-shape' })).toMatchObject({ kind: 'schedule', law: 'multipower', prior: 'drop-shape' });
    expect(errorOf(() => fromFlags('schedule', { prior: 'flat' })).field).toBe('--prior');
    expect(errorOf(() => fromFlags('parametric', { prior: 'drop-shape' })).message).toMatch(/^--prior: not an option of parametric fits .*moelab fit schedule\.$/);
    expect(fromFlags('schedule', { law: 'multipower', procedure: 'released' })).toMatchObject({ kind: 'schedule', procedure: 'released' });
    expect(errorOf(() => fromFlags('schedule', { procedure: 'adam' })).field).toBe('--procedure');
    expect(errorOf(() => fromFlags('isoflop', { procedure: 'released' })).message).toMatch(/^--procedure: not an option of isoflop fits/);
  });

  it('a flag of another kind: one error naming the flag, the kind and the kinds that take it', () => {
    const e = errorOf(() => fromFlags('isoflop', { law: 'tissue' }));
    expect(e.message).toBe('--law: not an option of isoflop fits (got "tissue"). Drop --law: it is an option of moelab fit schedule.');
    const w = errorOf(() => fromFlags('parametric', { window: '2' }));
    expect(w.message).toBe('--window: not an option of parametric fits (got "2"). Drop --window: it is an option of moelab fit isoflop.');
    expect(errorOf(() => fromFlags('compute', { edges: 'drop' })).message).toMatch(/^--edges: not an option of compute fits \(got "drop"\)\. Drop --edges: it is an option of moelab fit isoflop, moelab fit surge\.$/);
    // a bad value of a flag the kind has is still a value error
    expect(errorOf(() => fromFlags('isoflop', { window: '0.5' })).field).toBe('--window');
  });

  it('the API refuses a field its kind has not, naming the field and the kinds that have it', async () => {
    const req = { kind: 'isoflop', law: 'tissue' } as unknown as FitRequest;
    const e = errorOf(() => checkRequestFields(req));
    expect(e.message).toBe('law: not an option of isoflop fits (got "tissue"). Drop law: it is an option of schedule fits only.');
    const viaFit = await fitTable(parseCsv('N,D,loss\n1,2,3\n', 't.csv'), { kind: 'compute', targetLoss: 2 } as unknown as FitRequest).catch((x: unknown) => x);
    expect((viaFit as ConfigError).field).toBe('targetLoss');
    expect((asFlagError(viaFit) as ConfigError).field).toBe('--target-loss');
    // the schedule law has no default inside src/fit: the callers take ANALYSIS_DEFAULTS'
    const noLaw = errorOf(() => fitScheduleRuns([], ['a'], [], { kind: 'schedule' } as unknown as ScheduleRequest));
    expect(noLaw.message).toMatch(/^law: missing \(got null\)\. Give the schedule law: tissue or multipower/);
  });
});

