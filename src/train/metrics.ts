// Metric rows of metrics.jsonl (MetricRow in src/io/results.ts): per-step numbers are summed over
// a logging interval and written as interval means, so a row summarises every step since the
// previous row. Pure helpers plus the one file operation resume needs.
import { existsSync } from 'node:fs';
import { readJsonl, toJson, writeFileAtomic } from '../io/atomic.ts';
import type { MetricRow } from '../io/results.ts';
import type { MoeLayerStats } from '../model/types.ts';

/** Sums over the steps of the current logging interval (saved in checkpoints). */
export interface IntervalStats {
  steps: number;
  trainLoss: number;
  loadBalancingLoss: number;
  routerZLoss: number;
  droppedTokenFraction: number;
  recycledTokenFraction: number;
  gradNorm: number;
  /** Summed per-expert usage fractions (layer-averaged per step); empty for dense models. */
  expertUsage: number[];
}

export interface StepStats {
  trainLoss: number;
  loadBalancingLoss: number;
  routerZLoss: number;
  gradNorm: number;
  moeLayers: MoeLayerStats[];
}

export function emptyInterval(): IntervalStats {
  return {
    steps: 0,
    trainLoss: 0,
    loadBalancingLoss: 0,
    routerZLoss: 0,
    droppedTokenFraction: 0,
    recycledTokenFraction: 0,
    gradNorm: 0,
    expertUsage: [],
  };
}

/**
 * Fraction of routed assignments per specialized expert, averaged over MoE layers (sums to 1);
 * undefined for dense models or when no token was routed.
 */
export function expertUsageOf(layers: MoeLayerStats[]): number[] | undefined {
  if (layers.length === 0) return undefined;
  const numExperts = layers[0].tokensPerExpert.length;
  const usage = new Array<number>(numExperts).fill(0);
  let counted = 0;
  for (const layer of layers) {
    const total = layer.tokensPerExpert.reduce((a, b) => a + b, 0);
    if (total === 0) continue;
    layer.tokensPerExpert.forEach((n, e) => (usage[e] += n / total));
    counted++;
  }
  return counted === 0 ? undefined : usage.map((u) => u / counted);
}

const meanOver = (layers: MoeLayerStats[], key: 'droppedTokenFraction' | 'recycledTokenFraction') =>
  layers.length === 0 ? 0 : layers.reduce((a, l) => a + l[key], 0) / layers.length;

/** Add one step to the interval (returns a new object; inputs are not modified). */
export function accumulate(interval: IntervalStats, step: StepStats): IntervalStats {
  const usage = expertUsageOf(step.moeLayers);
  const summed =
    usage === undefined
      ? interval.expertUsage
      : usage.map((u, e) => u + (interval.expertUsage[e] ?? 0));
  return {
    steps: interval.steps + 1,
    trainLoss: interval.trainLoss + step.trainLoss,
    loadBalancingLoss: interval.loadBalancingLoss + step.loadBalancingLoss,
    routerZLoss: interval.routerZLoss + step.routerZLoss,
    droppedTokenFraction: interval.droppedTokenFraction + meanOver(step.moeLayers, 'droppedTokenFraction'),
    recycledTokenFraction: interval.recycledTokenFraction + meanOver(step.moeLayers, 'recycledTokenFraction'),
    gradNorm: interval.gradNorm + step.gradNorm,
    expertUsage: summed,
  };
}

export interface RowContext {
  /** Steps completed (the row's `step`). */
  step: number;
  tokens: number;
  flopsPerToken: number;
  learningRate: number;
  expertLearningRate: number;
  valLoss?: number;
  wallSeconds: number;
  tokensPerSec: number;
}

/** The metrics.jsonl row of an interval: interval means plus the context at its last step. */
export function metricRow(interval: IntervalStats, ctx: RowContext): MetricRow {
  const n = Math.max(1, interval.steps);
  const usageTotal = interval.expertUsage.reduce((a, b) => a + b, 0);
  const row: MetricRow = {
    step: ctx.step,
    tokens: ctx.tokens,
    computeFlops: ctx.tokens * ctx.flopsPerToken,
    learningRate: ctx.learningRate,
    expertLearningRate: ctx.expertLearningRate,
    trainLoss: interval.trainLoss / n,
    loadBalancingLoss: interval.loadBalancingLoss / n,
    routerZLoss: interval.routerZLoss / n,
    droppedTokenFraction: interval.droppedTokenFraction / n,
    recycledTokenFraction: interval.recycledTokenFraction / n,
    gradNorm: interval.gradNorm / n,
    wallSeconds: ctx.wallSeconds,
    tokensPerSec: ctx.tokensPerSec,
  };
  if (ctx.valLoss !== undefined) row.valLoss = ctx.valLoss;
  if (usageTotal > 0) row.expertUsage = interval.expertUsage.map((u) => u / usageTotal);
  return row;
}

/**
 * Drop the rows past `maxStep` (written after the checkpoint a resumed run restarts from; the
 * resumed run writes them again) and a torn last line. Rewrites the file atomically.
 */
export function truncateMetrics(path: string, maxStep: number): void {
  if (!existsSync(path)) return;
  const rows = readJsonl<MetricRow>(path).filter((r) => r.step <= maxStep);
  writeFileAtomic(path, rows.map((r) => `${toJson(r)}\n`).join(''));
}
