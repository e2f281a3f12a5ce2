import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { applyOverrides, resolveRunRequest } from '../../src/cli/train.ts';

describe('--set overrides', () => {
  it('parses JSON values, falls back to strings, creates missing objects', () => {
    const user: Record<string, unknown> = { train: { lr: 1 } };
    applyOverrides(user, ['train.lr=3e-3', 'train.schedule.kind=wsd', 'model.capacityFactor=inf', 'data.repeat=true', 'train.schedule.milestones=[0.5,0.9]']);
    expect(user).toEqual({
      train: { lr: 3e-3, schedule: { kind: 'wsd', milestones: [0.5, 0.9] } },
      model: { capacityFactor: 'inf' },
      data: { repeat: true },
    });
  });
  it('names the bad override and the fix', () => {
    expect(() => applyOverrides({}, ['lr'])).toThrow(/--set: not of the form key\.path=value \(got "lr"\)\. Use --set key\.path=value/);
    expect(() => applyOverrides({ train: 5 }, ['train.lr=1'])).toThrow(/--set: path goes through a non-object .*"train" holds 5/);
  });
  it('refuses __proto__, constructor and prototype anywhere in the path, leaving Object.prototype alone', () => {
    for (const o of ['__proto__.polluted=1', 'train.__proto__.polluted=1', 'constructor.prototype.polluted=1', 'model.prototype=1']) {
      expect(() => applyOverrides({ train: {} }, [o])).toThrow(/--set: "(__proto__|constructor|prototype)" is not a config field/);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('resolveRunRequest', () => {
  const dir = mkdtempSync(join(tmpdir(), 'moelab-args-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const planPath = join(dir, 'plan.json');
  writeFileSync(planPath, JSON.stringify({ runs: [{ runId: 'r0', config: { train: { lr: 1 } }, budgetFlops: 5e15, kind: 'isoflop', tags: { study: 'isoflop', budgetFlops: 5e15, size: 6e6, seed: 0 } }] }));

  it('--plan: run folder under the plan folder, name = runId, budgetFlops and the checked run tags split off', async () => {
    const r = await resolveRunRequest({ plan: planPath, index: '0' });
    expect(r).toEqual({
      runId: 'r0',
      runDir: join(dir, 'runs', 'r0'),
      userConfig: { name: 'r0', train: { lr: 1 } },
      source: `${planPath} runs[0]`,
      budgetFlops: 5e15,
      tags: { study: 'isoflop', budgetFlops: 5e15, size: 6e6, seed: 0 },
    });
    expect((await resolveRunRequest({ plan: planPath, index: '0', sweepDir: join(dir, 'x') })).runDir).toBe(join(dir, 'x', 'runs', 'r0'));
  });

  it('--plan: malformed run tags are refused with the field, the value and the fix', async () => {
    const bad = join(dir, 'bad-plan.json');
    writeFileSync(bad, JSON.stringify({ runs: [{ runId: 'r0', config: {}, tags: { study: 'isoflop', budgetFlops: 5e15, seed: 0 } }] }));
    await expect(resolveRunRequest({ plan: bad, index: '0' })).rejects.toThrow(/runs\[0\]\.tags\.size: .*Run tags are one of/);
    writeFileSync(bad, JSON.stringify({ runs: [{ runId: 'r0', config: {}, tags: { study: 'lr-grid', seed: 0 } }] }));
    await expect(resolveRunRequest({ plan: bad, index: '0' })).rejects.toThrow(/runs\[0\]\.tags\.study: /);
  });

  it('--config/--out: run id is the folder name unless the config names it', async () => {
    const cfg = join(dir, 'c.json');
    writeFileSync(cfg, JSON.stringify({ train: {} }));
    expect((await resolveRunRequest({ config: cfg, out: join(dir, 'my-run') })).userConfig.name).toBe('my-run');
    writeFileSync(cfg, JSON.stringify({ name: 'named', train: {} }));
    expect((await resolveRunRequest({ config: cfg, out: join(dir, 'my-run') })).userConfig.name).toBe('named');
  });

  it('rejects missing or conflicting options with the usage', async () => {
    await expect(resolveRunRequest({ config: 'x.json' })).rejects.toThrow(/--out: missing option .*moelab train --config FILE --out DIR/);
    await expect(resolveRunRequest({ plan: planPath })).rejects.toThrow(/--index: missing or not a non-negative integer/);
    await expect(resolveRunRequest({ plan: planPath, index: '0', out: 'x' })).rejects.toThrow(/--plan: conflicting options/);
    writeFileSync(join(dir, 'broken.json'), '{"model": ');
    await expect(resolveRunRequest({ config: join(dir, 'broken.json'), out: 'x' })).rejects.toThrow(
      /broken\.json: not valid JSON at line 1, column 11: the text ends early.*Fix the JSON syntax/,
    );
  });

  it('accepts a run config saved with a UTF-8 byte-order mark', async () => {
    const cfg = join(dir, 'bom.json');
    writeFileSync(cfg, `\uFEFF${JSON.stringify({ train: { lr: 2 } })}`);
    expect((await resolveRunRequest({ config: cfg, out: join(dir, 'bom-run') })).userConfig).toEqual({ name: 'bom-run', train: { lr: 2 } });
  });

  it('refuses a plan run id that leads out of runs/, naming the entry', async () => {
    const bad = join(dir, 'escape-plan.json');
    for (const runId of ['../../escaped_run', '..', 'a/b', 'a\\b']) {
      writeFileSync(bad, JSON.stringify({ runs: [{ runId, config: { train: { lr: 1 } } }] }));
      await expect(resolveRunRequest({ plan: bad, index: '0' })).rejects.toThrow(/escape-plan\.json runs\[0\]\.runId: run id (contains|is "\." or)/);
    }
  });

  it('names a plan.json that is not valid JSON', async () => {
    const bad = join(dir, 'torn-plan.json');
    writeFileSync(bad, '{"runs": [{"runId": "r0", "conf');
    await expect(resolveRunRequest({ plan: bad, index: '0' })).rejects.toThrow(/torn-plan\.json: not valid JSON at line 1, column \d+/);
  });
});
