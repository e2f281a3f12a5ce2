// `moelab inspect --config FILE [--seq-len N] [--json]`: parameter, FLOP and KV-cache accounting of a
// model config, without building the model (pure arithmetic, src/model/count.ts; no TF.js).
// FILE is a run config ({name, seed, model, data, train}) or a bare model config.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { RunConfig } from '../config/schema.ts';
import type { ResolvedModelConfig } from '../config/resolve.ts';
import { ConfigError } from '../errors.ts';
import type { ModelAccounting } from '../model/count.ts';

export interface InspectReport extends ModelAccounting {
  source: string;
  kind: 'run' | 'model';
  model: ResolvedModelConfig;
  /** Run configs only: the training budget at the model's seqLen. */
  run?: {
    name: string;
    tokensPerStep: number;
    steps: number;
    /** steps × tokensPerStep (≤ train.tokens). */
    tokens: number;
    /** Training FLOPs of the run under each named formula. */
    computeFlops: Record<'6ND' | 'hunyuan' | 'exact', number>;
  };
}

export async function inspectConfigFile(path: string, options: { seqLen?: number } = {}): Promise<InspectReport> {
  const [{ ModelConfigSchema, RunConfigSchema }, { parseConfig }, { resolveModelConfig }, count] = await Promise.all([
    import('../config/schema.ts'),
    import('../config/validate.ts'),
    import('../config/resolve.ts'),
    import('../model/count.ts'),
  ]);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError('--config', path, 'Give the path of a JSON run config or model config.', `cannot read the file (${(err as Error).message})`);
  }
  let input: unknown;
  const { parseJsonText } = await import('../io/json.ts');
  try {
    input = parseJsonText(text, path); // a BOM is fine; a syntax error is placed at its line and column
  } catch (err) {
    const problem = (err as { problem?: string }).problem ?? (err as Error).message;
    throw new ConfigError('--config', path, 'Fix the JSON syntax (no comments or trailing commas).', problem);
  }
  const isRun = typeof input === 'object' && input !== null && 'model' in input;
  const run: RunConfig | undefined = isRun ? parseConfig(RunConfigSchema, input, path) : undefined;
  const model = resolveModelConfig(run ? run.model : parseConfig(ModelConfigSchema, input, path));
  const accounting = count.accountModel(model, { seqLen: options.seqLen });
  const report: InspectReport = { source: path, kind: isRun ? 'run' : 'model', model, ...accounting };
  if (run) {
    const tokensPerStep = run.train.batchSize * model.seqLen;
    const steps = Math.floor(run.train.tokens / tokensPerStep);
    const tokens = steps * tokensPerStep;
    report.run = {
      name: run.name,
      tokensPerStep,
      steps,
      tokens,
      computeFlops: {
        '6ND': count.trainingFlops(model, tokens, '6ND'),
        hunyuan: count.trainingFlops(model, tokens, 'hunyuan'),
        exact: count.trainingFlops(model, tokens, 'exact', { seqLen: model.seqLen }),
      },
    };
  }
  return report;
}

// ---------------------------------------------------------------------------------------------
// Text rendering

/** 388698128640 → "388.70B"; 81920 → "81.92K". */
export function formatCount(n: number): string {
  const abs = Math.abs(n);
  for (const [div, unit] of [[1e12, 'T'], [1e9, 'B'], [1e6, 'M'], [1e3, 'K']] as const) {
    if (abs >= div) return `${(n / div).toFixed(2)}${unit}`;
  }
  return String(n);
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const sci = (n: number) => n.toExponential(3);

export function renderInspect(r: InspectReport): string {
  const m = r.model;
  const p = r.params;
  const f = r.flops.forward;
  const dense = p.router === 0 && p.ffn > 0;
  const lines = [
    `config       ${r.source} (${r.kind === 'run' ? `run config "${r.run!.name}"` : 'model config'})`,
    `shape        ${m.numLayers} layers, dModel ${m.dModel}, ${m.numHeads} heads × ${m.headDim} ` +
      `(${m.numKvHeads} KV head${m.numKvHeads === 1 ? '' : 's'}), CLA ${m.claShareFactor}` +
      `${m.qkNorm ? ', QK-norm' : ''}, vocab ${m.vocabSize} (${m.tieEmbeddings ? 'tied' : 'untied'})`,
    `ffn          ${dense ? `dense SwiGLU dFf ${m.dFf}` : `MoE ${m.numExperts} experts top-${m.topK} + ${m.numSharedExperts} shared, dFf ${m.dFf}`}`,
    '',
    `parameters   total ${formatCount(r.totalParams)} (${int(r.totalParams)})`,
    `             activated ${formatCount(r.activatedParams)} (${int(r.activatedParams)})`,
    `             non-embedding ${formatCount(r.nonEmbeddingParams)}, activated non-embedding ${formatCount(r.activatedNonEmbeddingParams)}`,
    `  by part    embedding ${formatCount(p.embedding)}, attention ${formatCount(p.attention)}, norms ${formatCount(p.norms)}, ` +
      (dense
        ? `ffn ${formatCount(p.ffn)}`
        : `router ${formatCount(p.router)}, shared experts ${formatCount(p.sharedExperts)}, specialized experts ${formatCount(p.specializedExperts)}`),
    '',
    `FLOPs/token  ${sci(r.flopsPerToken)} exact training (3 × forward) at seqLen ${r.seqLen}`,
    `  forward    projections ${sci(f.attentionProjections)}, attention ${sci(f.attentionScores)}, router ${sci(f.router)}, ` +
      `ffn ${sci(f.ffn)}, output ${sci(f.lmHead)}`,
    `  formulas   6N ${sci(r.flopsPerTokenByFormula['6ND'])}, 9.59N+2.3e8 ${sci(r.flopsPerTokenByFormula.hunyuan)} (N = activated)`,
    '',
    `KV cache     ${int(r.kvCacheBytesPerToken)} B/token (bf16)`,
    ...r.kvCacheTable.map(
      (row) =>
        `  ${row.variant.padEnd(9)}  ${int(row.bytesPerToken).padStart(12)} B/token  ${(row.fractionOfMha * 100).toFixed(1).padStart(5)}% of MHA` +
        `  (${row.kvHeads} KV heads × ${row.kvLayers} layers)`,
    ),
  ];
  if (r.run) {
    lines.push(
      '',
      `run          ${r.run.steps} steps × ${int(r.run.tokensPerStep)} tokens = ${int(r.run.tokens)} tokens`,
      `  compute    exact ${sci(r.run.computeFlops.exact)}, 6ND ${sci(r.run.computeFlops['6ND'])}, hunyuan ${sci(r.run.computeFlops.hunyuan)} FLOPs`,
    );
  }
  return lines.join('\n');
}

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description('parameter, FLOP and KV-cache accounting of a model or run config (no training)')
    .requiredOption('--config <file>', 'a run config or a bare model config (JSON)')
    .option('--seq-len <n>', 'sequence length for the attention FLOPs (default: the model seqLen)')
    .option('--json', 'print JSON')
    .action(async (opts: { config: string; seqLen?: string; json?: boolean }) => {
      let seqLen: number | undefined;
      if (opts.seqLen !== undefined) {
        seqLen = Number(opts.seqLen);
        if (!Number.isInteger(seqLen) || seqLen < 1) {
          throw new ConfigError('--seq-len', opts.seqLen, 'Give a positive integer number of tokens, e.g. --seq-len 4096.');
        }
      }
      const report = await inspectConfigFile(opts.config, { seqLen });
      if (opts.json) {
        const { toJson } = await import('../io/atomic.ts');
        process.stdout.write(`${toJson(report, 2)}\n`);
      } else {
        process.stdout.write(`${renderInspect(report)}\n`);
      }
    });
}
