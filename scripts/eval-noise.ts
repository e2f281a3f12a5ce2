// How large must the validation set be? Trains real runs of the hunyuan-small quick family (its
// model settings, batch 8 × 64, lr 1e-2, cosine) with a large held-out split, then scores EVERY
// non-overlapping window of that split with the final weights: the full-split loss is the truth a
// validation set estimates. For each candidate set size W it prints
//   - the standard errors the trainer records (windows; documents as clusters),
//   - the actual spread of the set's loss around the full-split loss over all the W-window
//     systematic samples the split allows (offsets 0..stride−1 in steps of seqLen),
//   - the forward (evaluation) rate in tokens per CPU-second and per wall-second.
//
//   npx tsx scripts/eval-noise.ts [--runs 3240@1e10,9792@3e10,50880@3e11] [--val-tokens 4194304]
//     [--windows 1024,2048,4096,8192] [--out DIR]
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunConfigSchema, type UserRunConfig } from '../src/config/schema.ts';
import { prepareDataset } from '../src/data/dataset.ts';
import { createTokenStream } from '../src/data/stream.ts';
import { clusteredMean, windowDocuments } from '../src/data/validation.ts';
import { initEngine } from '../src/engine/backend.ts';
import { resolveModelConfig } from '../src/config/resolve.ts';
import { loadCheckpoint } from '../src/train/checkpoint.ts';
import { byteLengthsOf, evaluateValidationSet } from '../src/train/evaluate.ts';
import { trainRun } from '../src/train/loop.ts';
import { createAdamW } from '../src/train/optimizer.ts';
import { buildFamilyModel } from '../src/sweep/family.ts';
import { flopsPerToken } from '../src/model/count.ts';
import { createMoeLm } from '../src/model/transformer.ts';
import { runPaths } from '../src/io/results.ts';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
// size@budget: activated parameters and the isoFLOP budget that sets the run's tokens
const runs = arg('runs', '3240@1e10,9792@3e10,50880@3e11').split(',').map((r) => r.split('@').map(Number));
const valTokens = Number(arg('val-tokens', String(4 * 1024 * 1024)));
const candidates = arg('windows', '1024,2048,4096,8192').split(',').map(Number);
const out = arg('out', mkdtempSync(join(tmpdir(), 'moelab-eval-noise-')));

await initEngine({ log: () => {} });
const family = { builder: 'hunyuan', seqLen: 64, aspectRatio: 16, headDim: 8, claShareFactor: 2 } as const;

for (const [size, budget] of runs) {
  const model = buildFamilyModel(family, size, { capacityFactor: 1.25, overflowPolicy: 'recycle', auxLossCoef: 0.01 });
  const perToken = flopsPerToken(resolveModelConfig(RunConfigSchema.shape.model.parse(model)), { seqLen: 64 });
  const tokens = Math.floor(budget / perToken / 512) * 512;
  const user: UserRunConfig = {
    name: `noise-${size}`,
    seed: 0,
    model,
    data: { valTokens, valWindows: 16 },
    train: { tokens, batchSize: 8, lr: 1e-2, evalEvery: 1_000_000, evalBatches: 1, checkpointEvery: 1_000_000, logEvery: 100 },
  };
  const config = RunConfigSchema.parse(user);
  const dir = join(out, `noise-${size}`);
  const t0 = performance.now();
  const tc0 = process.cpuUsage();
  await trainRun(config, dir, { createModel: (m, seed) => createMoeLm(m, seed) });
  const trainSeconds = (performance.now() - t0) / 1000;
  const tc = process.cpuUsage(tc0);
  const trainCpu = (tc.user + tc.system) / 1e6;

  // The final weights, every window of the held-out split.
  const lm = createMoeLm(resolveModelConfig(config.model), config.seed);
  const opt = createAdamW(lm.params, config.train.optimizer);
  loadCheckpoint(runPaths(dir).checkpoint, lm.params, opt);
  const dataset = prepareDataset(config.data);
  const stream = createTokenStream(dataset.tokens, { seqLen: 64, batchSize: 8, valTokens, seed: 0 });
  const all = stream.valWindows;
  const starts = Int32Array.from({ length: all }, (_, i) => stream.valStart + i * 64);
  const documents = windowDocuments(starts, dataset.valDocumentStarts);
  const set = { starts, documents, documentCount: new Set(documents).size, seqLen: 64 };
  const cpu0 = process.cpuUsage();
  const w0 = performance.now();
  const full = evaluateValidationSet(lm, stream, set, byteLengthsOf(dataset.tokenizer.toJSON()), { rowsPerPass: 64 });
  const wall = (performance.now() - w0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  console.log(
    `${size} activated: ${tokens} training tokens in ${trainSeconds.toFixed(1)} s (${(tokens / trainCpu).toFixed(0)} tokens/CPU-s); ` +
      `full split ${all} windows ` +
      `(${set.documentCount} documents): loss ${full.loss.toFixed(4)}, ${full.bitsPerByte.toFixed(4)} bits/byte; ` +
      `eval ${((all * 64) / cpuSeconds).toFixed(0)} tokens/CPU-s, ${((all * 64) / wall).toFixed(0)} tokens/wall-s`,
  );
  for (const W of candidates) {
    const stride = Math.floor((valTokens - 1) / W);
    if (stride < 64) continue;
    // every systematic sample of W windows (offsets in steps of one window), as the trainer draws them
    const deviations: number[] = [];
    let seW = 0;
    let seD = 0;
    const offsets = Math.floor(stride / 64);
    for (let o = 0; o < offsets; o++) {
      const losses: number[] = [];
      const docs: number[] = [];
      for (let i = 0; i < W; i++) {
        const k = Math.floor((i * stride) / 64) + o;
        if (k >= all) break;
        losses.push(full.windowLosses[k]);
        docs.push(documents[k]);
      }
      if (losses.length < W) continue;
      const st = clusteredMean(losses, docs);
      deviations.push(st.mean - full.loss);
      seW += st.stderr;
      seD += st.stderrDocuments;
    }
    const m = deviations.length;
    if (m === 0) continue;
    const rms = Math.sqrt(deviations.reduce((a, d) => a + d * d, 0) / m);
    console.log(
      `  W=${W}: stderr (windows) ${(seW / m).toFixed(4)}, stderr (documents) ${(seD / m).toFixed(4)}, ` +
        `actual RMS deviation from the full-split loss ${rms.toFixed(4)} over ${m} offsets, max |dev| ${Math.max(...deviations.map(Math.abs)).toFixed(4)}`,
    );
  }
  lm.dispose();
  opt.dispose();
}
