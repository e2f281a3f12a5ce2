// In-memory runs (src/io/load.ts's SweepRun) for analysis tests: no folder, no training. Each run
// has a real resolved config (RunConfigSchema), derived counts, optional metrics rows and a summary.
import { RunConfigSchema, type UserRunConfig } from '../../src/config/schema.ts';
import type { SweepRun } from '../../src/io/load.ts';
import type { DerivedCounts, MetricRow } from '../../src/io/results.ts';
import type { RunTags } from '../../src/io/tags.ts';
import { provenance } from '../../src/util/provenance.ts';

export interface SynthRunSpec {
  runId: string;
  /** Tags as the study contract writes them (arm tags may carry group expert-lr/lr-control, factor, comparison). */
  tags: Record<string, unknown>;
  finalValLoss?: number;
  finalValLossStderr?: number;
  status?: 'done' | 'diverged' | 'running';
  model?: UserRunConfig['model'];
  derived?: Partial<DerivedCounts>;
  metrics?: Partial<MetricRow>[];
}

const PROV = provenance();

export function synthRun(spec: SynthRunSpec): SweepRun {
  const config = RunConfigSchema.parse({
    name: spec.runId,
    seed: typeof spec.tags.seed === 'number' ? spec.tags.seed : 0,
    model: spec.model ?? { dModel: 32, numLayers: 2, numHeads: 2, dFf: 64, numExperts: 4, numSharedExperts: 1, topK: 1, seqLen: 64 },
    train: { tokens: 65536, batchSize: 8, lr: 1e-3 },
  } satisfies UserRunConfig);
  const derived: DerivedCounts = {
    totalParams: 1e5,
    activatedParams: 5e4,
    nonEmbeddingParams: 8e4,
    activatedNonEmbeddingParams: 4e4,
    flopsPerToken: 3e5,
    tokensPerStep: 512,
    steps: 128,
    tokens: 65536,
    computeFlops: 3e5 * 65536,
    ...spec.derived,
  };
  const status = spec.status ?? 'done';
  const metrics = (spec.metrics ?? []).map((m, i) => ({
    step: i + 1, tokens: 0, computeFlops: 0, learningRate: 1e-3, expertLearningRate: 1e-3, trainLoss: 3, loadBalancingLoss: 0, routerZLoss: 0,
    droppedTokenFraction: 0, recycledTokenFraction: 0, gradNorm: 1, wallSeconds: 1, tokensPerSec: 1, ...m,
  }) as MetricRow);
  return {
    runId: spec.runId,
    dir: `/synthetic/${spec.runId}`,
    config: { runId: spec.runId, config, derived, backend: 'cpu', provenance: PROV, tags: spec.tags as RunTags },
    tags: spec.tags as RunTags,
    metrics,
    ...(status === 'running'
      ? {}
      : {
          summary: {
            runId: spec.runId, status, steps: derived.steps, tokens: derived.tokens, computeFlops: derived.computeFlops, finalTrainLoss: 3,
            finalValLoss: spec.finalValLoss ?? NaN, ...(spec.finalValLossStderr !== undefined ? { finalValLossStderr: spec.finalValLossStderr } : {}),
            bestValLoss: spec.finalValLoss ?? NaN, wallSeconds: 1, provenance: PROV,
          },
        }),
    state: status,
  };
}
