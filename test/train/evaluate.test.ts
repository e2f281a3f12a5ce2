// The evaluation of a real run: a tiny Hunyuan-like MoE (recycle routing with capacity, the setting
// whose old evaluation depended on the RNG) trained on the default corpus. summary.json's three
// evaluation fields, the whole set at the end and the subset before, and two evaluations of the
// saved checkpoint giving exactly the run's final loss.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveModelConfig } from '../../src/config/resolve.ts';
import { RunConfigSchema, type UserRunConfig } from '../../src/config/schema.ts';
import { prepareDataset } from '../../src/data/dataset.ts';
import { createTokenStream } from '../../src/data/stream.ts';
import { initEngine } from '../../src/engine/backend.ts';
import { ConfigError } from '../../src/errors.ts';
import { readJsonl } from '../../src/io/atomic.ts';
import type { MetricRow, RunConfigRecord, RunSummary } from '../../src/io/results.ts';
import { createMoeLm } from '../../src/model/transformer.ts';
import { loadCheckpoint } from '../../src/train/checkpoint.ts';
import { buildValidationSet, byteLengthsOf, evalRowsPerPass, evaluateValidationSet } from '../../src/train/evaluate.ts';
import { trainRun } from '../../src/train/loop.ts';
import { createAdamW } from '../../src/train/optimizer.ts';
import { existsSync } from 'node:fs';

const USER: UserRunConfig = {
  name: 'eval',
  seed: 1,
  model: {
    vocabSize: 256, seqLen: 32, dModel: 16, numLayers: 2, numHeads: 2, dFf: 16, numExperts: 4, numSharedExperts: 1,
    topK: 1, capacityFactor: 1.0, overflowPolicy: 'recycle', claShareFactor: 2,
  },
  data: { valTokens: 32768, valWindows: 96 },
  train: { tokens: 8 * 32 * 40, batchSize: 8, lr: 1e-2, evalEvery: 15, evalBatches: 2, checkpointEvery: 20, logEvery: 5 },
};
const config = RunConfigSchema.parse(USER);
const root = mkdtempSync(join(tmpdir(), 'moelab-eval-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const read = <T>(path: string) => JSON.parse(readFileSync(path, 'utf8')) as T;

beforeAll(async () => {
  await initEngine({ backend: 'wasm', log: () => {} });
});

describe('evaluation of a run', () => {
  const dir = join(root, 'run');
  let summary: RunSummary;
  beforeAll(async () => {
    const result = await trainRun(config, dir, { createModel: (m, s) => createMoeLm(m, s) });
    summary = result.summary!;
  }, 120_000);

  it('summary.json records the final loss on the whole set, its stderr and bits per byte', () => {
    const onDisk = read<RunSummary>(join(dir, 'summary.json'));
    expect(onDisk.status).toBe('done');
    expect(onDisk.finalValLoss).toBeLessThan(Math.log(256) - 2); // it learned the byte frequencies
    // byte-level: one byte per token
    expect(onDisk.finalValBitsPerByte).toBeCloseTo(onDisk.finalValLoss / Math.LN2, 9);
    expect(onDisk.finalValLossStderr).toBeGreaterThan(0.005);
    expect(onDisk.finalValLossStderr).toBeLessThan(0.1);
    expect(onDisk.finalEval).toMatchObject({ windows: 96, tokens: 96 * 32 });
    expect(onDisk.finalEval!.documents).toBeGreaterThan(1);
    expect(onDisk.finalEval!.stderrDocuments).toBeGreaterThan(0);
    expect(onDisk.evalSeconds).toBeGreaterThan(0);
    expect(onDisk.evalSeconds).toBeLessThan(onDisk.wallSeconds);
    // training FLOPs count training tokens only
    const record = read<RunConfigRecord>(join(dir, 'config.json'));
    expect(onDisk.computeFlops).toBe(record.derived.flopsPerToken * 40 * 256);
    expect(record.dataset!.valSet).toEqual({ windows: 96, seqLen: 32, documents: onDisk.finalEval!.documents, intermediateWindows: 16, stride: 341 });
  });

  it('evaluates a fixed subset before the end and the whole set at the end, with its time', () => {
    const evals = readJsonl<MetricRow>(join(dir, 'metrics.jsonl')).filter((r) => r.valLoss !== undefined);
    expect(evals.map((r) => [r.step, r.valWindows])).toEqual([[15, 16], [30, 16], [40, 96]]);
    for (const r of evals) {
      expect(r.evalSeconds).toBeGreaterThan(0);
      expect(r.valLossStderr).toBeGreaterThan(0);
    }
    expect(evals.at(-1)!.valLoss).toBe(summary.finalValLoss);
  });

  it('two evaluations of the saved checkpoint give the run\'s final loss exactly', () => {
    const dataset = prepareDataset(config.data);
    const stream = createTokenStream(dataset.tokens, { seqLen: 32, batchSize: 8, valTokens: 32768, seed: 99 });
    const set = buildValidationSet(stream, 96, dataset.valDocumentStarts);
    const bytes = byteLengthsOf(dataset.tokenizer.toJSON());
    const evalOnce = (rowsPerPass: number) => {
      const model = createMoeLm(resolveModelConfig(config.model), config.seed);
      const opt = createAdamW(model.params, config.train.optimizer);
      expect(loadCheckpoint(join(dir, 'checkpoint'), model.params, opt)?.state.step).toBe(40);
      const r = evaluateValidationSet(model, stream, set, bytes, { rowsPerPass });
      model.dispose();
      opt.dispose();
      return r;
    };
    // the run evaluated 256 windows of 32 tokens per pass (evalRowsPerPass: 8192 tokens)
    expect(evalRowsPerPass(8, 32)).toBe(256);
    const a = evalOnce(256);
    const b = evalOnce(256);
    expect(b.loss).toBe(a.loss);
    expect(Array.from(b.windowLosses)).toEqual(Array.from(a.windowLosses));
    expect(a.loss).toBe(summary.finalValLoss);
    expect(a.stderr).toBe(summary.finalValLossStderr);
    // other batch compositions: the same per-window losses up to float rounding (no capacity at eval)
    const c = evalOnce(5);
    expect(c.loss).toBeCloseTo(a.loss, 5);
  });
});

describe('bits per byte of a BPE run', () => {
  it('counts the bytes the target tokens stand for, so bits per byte < loss / ln 2', async () => {
    const bpe = RunConfigSchema.parse({
      ...USER,
      name: 'bpe',
      model: { ...USER.model, vocabSize: 512 },
      data: { tokenizer: { kind: 'bpe', vocabSize: 512 }, valTokens: 16384, valWindows: 64 },
      train: { ...USER.train, tokens: 8 * 32 * 10 },
    });
    const dir = join(root, 'bpe');
    const { summary: s } = await trainRun(bpe, dir, { createModel: (m, seed) => createMoeLm(m, seed) });
    // bytes of the set's targets, from the decoded text of each window (mostly ASCII, so a window
    // edge rarely splits a character)
    const dataset = prepareDataset(bpe.data);
    const stream = createTokenStream(dataset.tokens, { seqLen: 32, batchSize: 8, valTokens: 16384, seed: 0 });
    const set = buildValidationSet(stream, 64, dataset.valDocumentStarts);
    const batch = stream.windowBatch(set.starts);
    let bytes = 0;
    for (let r = 0; r < 64; r++) bytes += Buffer.byteLength(dataset.tokenizer.decode(batch.targets.subarray(r * 32, (r + 1) * 32)), 'utf8');
    const bytesPerToken = bytes / (64 * 32);
    expect(bytesPerToken).toBeGreaterThan(1.5);
    expect((s!.finalValLoss / Math.LN2 / s!.finalValBitsPerByte!) / bytesPerToken).toBeCloseTo(1, 2);
  }, 120_000);
});

describe('validation-set config', () => {
  it('refuses a set larger than the split before writing anything, naming data.valWindows', async () => {
    const bad = RunConfigSchema.parse({ ...USER, data: { valTokens: 32768, valWindows: 2000 } });
    const dir = join(root, 'bad');
    await expect(trainRun(bad, dir, { createModel: (m, s) => createMoeLm(m, s) })).rejects.toThrow(ConfigError);
    await expect(trainRun(bad, dir, { createModel: (m, s) => createMoeLm(m, s) })).rejects.toThrow(
      /data\.valWindows: 2000 windows of 32 tokens do not fit in the validation split of 32768 tokens \(got 2000\)\. Use data\.valWindows <= 1023/,
    );
    expect(existsSync(dir)).toBe(false);
  });

  it('the schema refuses a non-positive or fractional window count', () => {
    expect(() => RunConfigSchema.parse({ ...USER, data: { valWindows: 0 } })).toThrow();
    expect(() => RunConfigSchema.parse({ ...USER, data: { valWindows: 2.5 } })).toThrow();
  });
});
