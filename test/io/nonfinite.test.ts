// Non-finite numbers in JSON artefacts (src/io/nonfinite.ts): written as null (capacityFactor's
// "no limit" as "inf", the config schema's spelling), read back as NaN/±Infinity from null and from
// the strings "nan"/"inf"/"-inf" of folders written before; a diverged run's summary written by
// the writer loads through loadSweep with its losses NaN, and an old-format folder loads the same.
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { toJson, writeJsonAtomic } from '../../src/io/atomic.ts';
import { decodeMetricRow, decodeRunSummary, numberFromJson } from '../../src/io/nonfinite.ts';
import { loadSweep } from '../../src/io/load.ts';
import { RunConfigSchema } from '../../src/config/schema.ts';
import { parseConfig } from '../../src/config/validate.ts';
import { PROJECT_ROOT } from '../../src/util/provenance.ts';
import type { MetricRow, RunSummary } from '../../src/io/results.ts';

const root = mkdtempSync(join(tmpdir(), 'moelab-nonfinite-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('toJson', () => {
  it('writes null for NaN and ±Infinity, at any depth; finite numbers unchanged', () => {
    expect(toJson({ a: NaN, b: [Infinity, -Infinity, 1.5], c: { d: NaN, e: 0 } })).toBe('{"a":null,"b":[null,null,1.5],"c":{"d":null,"e":0}}');
    expect(toJson(NaN)).toBe('null');
  });

  it('writes capacityFactor = Infinity as "inf", which the config schema reads back as Infinity', () => {
    expect(toJson({ model: { capacityFactor: Infinity, other: Infinity } })).toBe('{"model":{"capacityFactor":"inf","other":null}}');
    const raw = JSON.parse(readFileSync(join(PROJECT_ROOT, 'experiments', 'train', 'moe-2layer.json'), 'utf8'));
    const config = parseConfig(RunConfigSchema, { ...raw, model: { ...raw.model, capacityFactor: 'inf' } }, 'test');
    expect(config.model.capacityFactor).toBe(Infinity);
    const again = parseConfig(RunConfigSchema, JSON.parse(toJson(config)), 'test');
    expect(again.model.capacityFactor).toBe(Infinity);
    expect(again).toEqual(config);
  });
});

describe('readers', () => {
  it('numberFromJson: null and the old strings become NaN/±Infinity; other strings are not numbers', () => {
    expect(numberFromJson(null)).toBeNaN();
    expect(numberFromJson('nan')).toBeNaN();
    expect(numberFromJson('inf')).toBe(Infinity);
    expect(numberFromJson('-inf')).toBe(-Infinity);
    expect(numberFromJson(2.5)).toBe(2.5);
    expect(numberFromJson('2.5')).toBeUndefined();
    expect(numberFromJson(undefined)).toBeUndefined();
  });

  it('decodeRunSummary: numeric fields null/"nan" → NaN; absent fields stay absent; text fields untouched', () => {
    const raw = { runId: 'r', status: 'diverged', reason: 'step 3: loss is NaN', steps: 3, finalTrainLoss: 'inf', finalValLoss: null, bestValLoss: 'nan' } as unknown as RunSummary;
    const s = decodeRunSummary(raw);
    expect(s.finalTrainLoss).toBe(Infinity);
    expect(s.finalValLoss).toBeNaN();
    expect(s.bestValLoss).toBeNaN();
    expect(s.steps).toBe(3);
    expect(s.reason).toBe('step 3: loss is NaN');
    expect('finalValLossStderr' in s).toBe(false);
    expect(decodeRunSummary(undefined)).toBeUndefined();
  });

  it('decodeMetricRow: every number, and expertUsage entries', () => {
    const row = decodeMetricRow({ step: 5, trainLoss: null, valLoss: '-inf', gradNorm: 'nan', expertUsage: [0.5, null] } as unknown as MetricRow);
    expect(row.step).toBe(5);
    expect(row.trainLoss).toBeNaN();
    expect(row.valLoss).toBe(-Infinity);
    expect(row.gradNorm).toBeNaN();
    expect(row.expertUsage![0]).toBe(0.5);
    expect(row.expertUsage![1]).toBeNaN();
  });
});

describe('a diverged run, new format and old format, through loadSweep', () => {
  const config = { runId: 'r1', config: { name: 'r1' }, derived: { activatedParams: 1e4, steps: 10 }, backend: 'wasm', provenance: {} };
  const summary = (finalValLoss: unknown, bestValLoss: unknown) => ({
    runId: 'r1',
    status: 'diverged',
    reason: 'step 3: loss is NaN',
    steps: 3,
    tokens: 384,
    computeFlops: 1e6,
    finalTrainLoss: NaN,
    finalValLoss,
    bestValLoss,
    wallSeconds: 1,
    provenance: {},
  });

  it('the writer stores null (no "nan" string) and the status field says why; both formats load as NaN', () => {
    for (const [name, write] of [
      ['new', (dir: string) => writeJsonAtomic(join(dir, 'summary.json'), summary(NaN, NaN))],
      ['old', (dir: string) => writeFileSync(join(dir, 'summary.json'), JSON.stringify({ ...summary('nan', 'nan'), finalTrainLoss: 'nan' }))],
    ] as const) {
      const dir = join(root, name);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
      writeFileSync(join(dir, 'metrics.jsonl'), `${name === 'new' ? toJson({ step: 3, trainLoss: NaN }) : '{"step":3,"trainLoss":"nan"}'}\n`);
      write(dir);
      const text = readFileSync(join(dir, 'summary.json'), 'utf8');
      if (name === 'new') {
        expect(text).not.toMatch(/"nan"|"inf"/);
        expect(JSON.parse(text)).toMatchObject({ status: 'diverged', finalValLoss: null, finalTrainLoss: null });
      }
      const run = loadSweep(dir).runs[0];
      expect(run.state).toBe('diverged');
      expect(run.summary!.finalValLoss).toBeNaN();
      expect(run.summary!.finalTrainLoss).toBeNaN();
      expect(run.metrics[0].trainLoss).toBeNaN();
    }
  });
});
