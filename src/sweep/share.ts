// Runs that train the same model (pure). A study names one configuration several times: the
// ablations' base model is the baseline arm of every comparison (routing "recycle", CLA "CLA 2",
// the KV-head arm equal to the family's), and the expert-LR arm's factor ×1 is its control's ×1.
// Each distinct (configuration, seed) is planned once; the other arms that stand for it are listed
// on that run (PlanRun.shared), and the loader (src/io/load.ts) gives each of them the run's
// results under its own run id and tags, so every analysis reads the arms as before.
import { RunConfigSchema } from '../config/schema.ts';
import { canonicalJson } from '../util/canonical-json.ts';
import { isPlainObject } from './merge.ts';
import { totalsOf, type PlanRun, type RunPlan, type SharedArm } from './plan.ts';

/** Significant digits two numbers of a configuration must share to train the same run. */
export const IDENTITY_DIGITS = 12;

function roundNumbers(v: unknown): unknown {
  if (typeof v === 'number') return Number.isFinite(v) && !Number.isInteger(v) ? Number(v.toPrecision(IDENTITY_DIGITS)) : v;
  if (Array.isArray(v)) return v.map(roundNumbers);
  if (isPlainObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, roundNumbers(x)]));
  return v;
}

/**
 * What a run trains, as canonical text: its configuration without the name (the seed included),
 * with the schema's defaults filled in (a plan entry omits them, config.json spells them out) and
 * two encodings of one training made equal:
 *   - train.expertLr {mode: 'multiplier', multiplier: 1} is {mode: 'same'} (src/train/expert-lr.ts:
 *     both give the specialized experts the base LR × 1);
 *   - numbers are compared to IDENTITY_DIGITS significant digits: the planner writes lr × factor
 *     rounded to 12 digits (src/study/run.ts expertLrPlan) and training computes in float32
 *     (7 digits). The quick demo's expert-LR ×1 (lr 0.024087482817679196, multiplier 1) and
 *     control ×1 (lr 0.0240874828177, 'same') runs gave bit-identical final losses on all three
 *     seeds (docs/BENCHMARKS.md "The paper reproduction, quick preset").
 * Two runs with equal identities are the same experiment.
 */
export function trainingIdentity(config: object): string {
  const parsed = RunConfigSchema.safeParse(config);
  const full = (parsed.success ? parsed.data : config) as Record<string, unknown>;
  const { name: _name, ...rest } = full;
  const train = rest.train as Record<string, unknown> | undefined;
  const e = train?.expertLr as { mode?: unknown; multiplier?: unknown } | undefined;
  const sameLr = e?.mode === 'multiplier' && e.multiplier === 1;
  return canonicalJson(roundNumbers(sameLr ? { ...rest, train: { ...train, expertLr: { mode: 'same' } } } : rest));
}

export interface ShareOptions {
  /**
   * Runs that stay runs of their own even when another run trains the same (their folder has
   * started: a finished or interrupted run's results are reused, never dropped).
   */
  keep?: (runId: string) => boolean;
  /**
   * Runs of different scopes are never shared (the dry run's stages whose LR a later fit decides
   * are planned at a placeholder LR, so an equality with another stage is not known yet).
   */
  scope?: (run: PlanRun) => string;
}

/** One arm folded into another run: the run id it had and the run that trains it. */
export interface SharedRun {
  runId: string;
  sameAs: string;
}

/**
 * Plan each distinct (configuration, seed) once (pure). Runs are taken in plan order; in each group
 * of equal trainingIdentity the runs `keep` names stay runs (all of them), else the first does; every
 * other run of the group is removed from `runs` and listed, with its tags, on the first run that
 * stays (PlanRun.shared). Indices are renumbered and the totals recomputed; `shared` lists every
 * arm folded here (arms already listed on a run stay with it).
 */
export function shareRepeatedRuns<P extends Pick<RunPlan, 'runs' | 'totals'>>(plan: P, options: ShareOptions = {}): { plan: P; shared: SharedRun[] } {
  const keep = options.keep ?? (() => false);
  const keyOf = (r: PlanRun) => `${options.scope?.(r) ?? ''}\n${trainingIdentity(r.config)}`;
  const groups = new Map<string, PlanRun[]>();
  for (const r of plan.runs) {
    const k = keyOf(r);
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  const primaryOf = new Map<string, PlanRun>();
  const stays = new Set<PlanRun>();
  for (const members of groups.values()) {
    const kept = members.filter((r) => keep(r.runId));
    const staying = kept.length > 0 ? kept : [members[0]];
    for (const r of staying) stays.add(r);
    for (const r of members) primaryOf.set(r.runId, staying[0]);
  }
  const extra = new Map<PlanRun, SharedArm[]>();
  const shared: SharedRun[] = [];
  for (const r of plan.runs) {
    if (stays.has(r)) continue;
    const p = primaryOf.get(r.runId)!;
    extra.set(p, [...(extra.get(p) ?? []), { runId: r.runId, tags: r.tags }, ...(r.shared ?? [])]);
    shared.push({ runId: r.runId, sameAs: p.runId });
  }
  const runs = plan.runs
    .filter((r) => stays.has(r))
    .map((r, index) => {
      const arms = [...(r.shared ?? []), ...(extra.get(r) ?? [])];
      const { shared: _old, ...rest } = r;
      return { ...rest, index, ...(arms.length ? { shared: arms } : {}) };
    });
  return { plan: { ...plan, runs, totals: totalsOf(runs) }, shared };
}

/**
 * What a new plan changes against the previous plan.json of the same folder, as lines to print:
 * arms of the previous plan now trained as another run (not started: dropped), runs that repeat
 * another's configuration and seed but had started (kept: their results are reused), and arms of
 * the previous plan that are now runs of their own again.
 */
export function describeSharing(previous: Pick<RunPlan, 'runs'> | undefined, next: Pick<RunPlan, 'runs'>): string[] {
  const lines: string[] = [];
  const before = new Set(previous?.runs.map((r) => r.runId) ?? []);
  const wasShared = new Map((previous?.runs ?? []).flatMap((r) => (r.shared ?? []).map((s) => [s.runId, r.runId] as const)));
  const nowShared = next.runs.flatMap((r) => (r.shared ?? []).map((s) => ({ runId: s.runId, sameAs: r.runId })));
  const dropped = nowShared.filter((s) => before.has(s.runId));
  if (dropped.length) {
    lines.push(
      `plan: ${dropped.length} run(s) of the previous plan train the same configuration and seed as another run and had not started; ` +
        `each is now that run under its own tags: ${dropped.map((s) => `${s.runId} = ${s.sameAs}`).join('; ')}`,
    );
  }
  const ids = next.runs.map((r) => r.runId);
  const byIdentity = new Map<string, string[]>();
  for (const r of next.runs) {
    const k = trainingIdentity(r.config);
    byIdentity.set(k, [...(byIdentity.get(k) ?? []), r.runId]);
  }
  const repeats = [...byIdentity.values()].filter((g) => g.length > 1);
  if (repeats.length) {
    lines.push(
      `plan: ${repeats.reduce((s, g) => s + g.length - 1, 0)} started run(s) repeat another run's configuration and seed exactly; kept, their results are used: ` +
        repeats.map((g) => g.join(' = ')).join('; '),
    );
  }
  const unshared = ids.filter((id) => wasShared.has(id));
  if (unshared.length) {
    lines.push(`plan: ${unshared.length} arm(s) shared in the previous plan now train as runs of their own (their configuration, or that of the run they shared, changed): ${unshared.join(', ')}`);
  }
  return lines;
}
