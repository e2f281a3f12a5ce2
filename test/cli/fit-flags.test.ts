// src/fit names request fields in its errors; `moelab fit` maps them to its flags in one table
// (FIT_FIELD_FLAGS), so an API error names the field and a CLI error the flag.
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { asFlagError, FIT_FIELD_FLAGS, registerFit } from '../../src/cli/fit.ts';
import { ConfigError } from '../../src/errors.ts';
import { fitTable, parseCsv } from '../../src/fit/index.ts';

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
