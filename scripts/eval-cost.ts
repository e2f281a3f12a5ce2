// What does the validation set cost the quick demo? For each model size of the hunyuan-small
// quick family, times (in CPU seconds of this process, so a loaded machine still gives rates) one
// evaluation of the study's validation set and, for context, training (the difference between a
// run of 2·steps and one of `steps`, so start-up cancels), then sums over the quick preset's plan
// the CPU seconds of every run's evaluations (the final one on the whole set, intermediate ones on
// the subset) — on an idle core, CPU seconds are wall seconds of that run.
//
//   npx tsx scripts/eval-cost.ts [--steps 60] [--windows 4096] [--val-tokens 4194304]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveModelConfig } from '../src/config/resolve.ts';
import { RunConfigSchema, type UserRunConfig } from '../src/config/schema.ts';
import { prepareDataset } from '../src/data/dataset.ts';
import { createTokenStream } from '../src/data/stream.ts';
import { initEngine } from '../src/engine/backend.ts';
import { createMoeLm } from '../src/model/transformer.ts';
import { buildFamilyModel } from '../src/sweep/family.ts';
import { buildValidationSet, byteLengthsOf, evalRowsPerPass, evaluateValidationSet } from '../src/train/evaluate.ts';
import { trainRun } from '../src/train/loop.ts';
import { loadStudyFile, planStudy } from '../src/study/run.ts';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const steps = Number(arg('steps', '60'));
const windows = Number(arg('windows', '4096'));
const valTokens = Number(arg('val-tokens', String(4 * 1024 * 1024)));

await initEngine({ log: () => {} });
const cpu = (f: () => unknown) => {
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  return Promise.resolve(f()).then(() => {
    const c = process.cpuUsage(c0);
    return { cpu: (c.user + c.system) / 1e6, wall: (performance.now() - w0) / 1000 };
  });
};

const study = await loadStudyFile('experiments/hunyuan-small.ts');
const { plan } = planStudy(study, 'quick', 'experiments/hunyuan-small.ts');
const family = { builder: 'hunyuan', seqLen: 64, aspectRatio: 16, headDim: 8, claShareFactor: 2 } as const;
const sizes = [...new Set(plan.runs.map((r) => r.derived.activatedParams))].sort((a, b) => a - b);
const root = mkdtempSync(join(tmpdir(), 'moelab-eval-cost-'));
const rates = new Map<number, { train: number; evalTokens: number }>();
try {
  for (const target of sizes) {
    const model = buildFamilyModel(family, target, { capacityFactor: 1.25, overflowPolicy: 'recycle', auxLossCoef: 0.01 });
    const user: UserRunConfig = {
      name: `cost-${target}`,
      model,
      data: { valTokens, valWindows: 16 },
      train: { tokens: steps * 512, batchSize: 8, lr: 1e-2, evalEvery: 1_000_000, evalBatches: 1, checkpointEvery: 1_000_000, logEvery: 100 },
    };
    const config = RunConfigSchema.parse(user);
    const t1 = await cpu(() => trainRun(config, join(root, `cost-${target}`), { createModel: (m, s) => createMoeLm(m, s) }));
    const twice = RunConfigSchema.parse({ ...user, train: { ...user.train, tokens: 2 * steps * 512 } });
    const t2 = await cpu(() => trainRun(twice, join(root, `cost2-${target}`), { createModel: (m, s) => createMoeLm(m, s) }));
    const t = { cpu: t2.cpu - t1.cpu };
    const lm = createMoeLm(resolveModelConfig(config.model), 0);
    const dataset = prepareDataset(config.data);
    const stream = createTokenStream(dataset.tokens, { seqLen: 64, batchSize: 8, valTokens, seed: 0 });
    const set = buildValidationSet(stream, windows, dataset.valDocumentStarts);
    const e = await cpu(() => evaluateValidationSet(lm, stream, set, byteLengthsOf(dataset.tokenizer.toJSON()), { rowsPerPass: evalRowsPerPass(8, 64) }));
    lm.dispose();
    const trainRate = (steps * 512) / t.cpu;
    const evalRate = (windows * 64) / e.cpu;
    rates.set(target, { train: trainRate, evalTokens: evalRate });
    console.log(
      `${target} activated: train ${trainRate.toFixed(0)} tokens/CPU-s (steps ${steps + 1}–${2 * steps}), ` +
        `eval ${evalRate.toFixed(0)} tokens/CPU-s: the ${windows}-window set costs ${e.cpu.toFixed(2)} CPU-s ` +
        `(${e.wall.toFixed(2)} s wall here) = ${((windows * 64) / evalRate / ((512 / trainRate))).toFixed(0)} training steps of 8×64`,
    );
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}

// The quick plan: per run, its training tokens and its evaluations (the final one on the whole set,
// intermediate ones on the subset), each at its size's measured rate.
let trainCpu = 0;
let evalCpu = 0;
let evalCpuOld = 0;
const perPart = new Map<string, number>();
for (const r of plan.runs) {
  const rate = rates.get(r.derived.activatedParams)!;
  const c = RunConfigSchema.parse(r.config);
  const windowsNow = c.data.valWindows ?? windows;
  const subset = Math.min(windowsNow, c.train.evalBatches * c.train.batchSize);
  const intermediate = Math.floor((r.derived.steps - 1) / c.train.evalEvery);
  trainCpu += r.derived.tokens / rate.train;
  const runEval = ((windowsNow + intermediate * subset) * 64) / rate.evalTokens;
  evalCpu += runEval;
  const part = r.kind;
  perPart.set(part, (perPart.get(part) ?? 0) + runEval);
  // before: evalBatches × batchSize windows at every evaluation, the last one included
  evalCpuOld += ((intermediate + 1) * subset * 64) / rate.evalTokens;
}
console.log(
  `quick plan (${plan.runs.length} stage-1 runs): training ${trainCpu.toFixed(0)} CPU-s, evaluation ${evalCpu.toFixed(0)} CPU-s ` +
    `(${((100 * evalCpu) / trainCpu).toFixed(1)}% of training; before this change ${evalCpuOld.toFixed(0)} CPU-s, ` +
    `${((100 * evalCpuOld) / trainCpu).toFixed(1)}%)`,
);
console.log(`evaluation CPU-s by part: ${[...perPart].map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')}`);
