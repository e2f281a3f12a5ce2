// The shape of plan.json and sweep.json as readers need it. moelab writes these files itself
// (src/sweep/plan.ts, state.ts), so a mismatch means a damaged or hand-edited file: the reader
// (src/io/json.ts) names the file and the first bad fields instead of failing later with
// "plan.runs.map is not a function". Loose objects: fields a reader does not need pass through,
// so older and newer plans stay readable.
import { z } from 'zod';
import { runIdProblem } from '../sweep/run-id.ts';

const count = () => z.number().finite().min(0);

const RunIdSchema = z.string().superRefine((id, ctx) => {
  const problem = runIdProblem(id);
  if (problem) ctx.addIssue({ code: 'custom', message: `run id ${problem}`, params: { fix: 'Regenerate the plan with `moelab plan`.' } });
});

export const PlanRunSchema = z.looseObject({
  runId: RunIdSchema,
  index: z.number().int().min(0),
  config: z.record(z.string(), z.unknown()),
  budgetFlops: z.number().positive().optional(),
  derived: z.looseObject({ steps: count(), tokens: count(), computeFlops: count(), tokensPerStep: count() }),
  estSeconds: z.number().min(0).nullable().optional(),
  // Arms trained as this run (src/sweep/share.ts); their tags are checked by the loader (src/io/tags.ts).
  shared: z.array(z.looseObject({ runId: RunIdSchema, tags: z.record(z.string(), z.unknown()) })).optional(),
});

export const PlanFileSchema = z
  .looseObject({
    sweep: z.string(),
    kind: z.string(),
    runs: z.array(PlanRunSchema),
  })
  .superRefine((plan, ctx) => {
    const seen = new Set<string>();
    plan.runs.forEach((run, i) => {
      if (run.index !== i) {
        ctx.addIssue({ code: 'custom', path: ['runs', i, 'index'], message: `is ${run.index} at position ${i} (workers address runs by index)` });
      }
      if (seen.has(run.runId)) ctx.addIssue({ code: 'custom', path: ['runs', i, 'runId'], message: 'appears twice in the plan' });
      seen.add(run.runId);
      (run.shared ?? []).forEach((arm, j) => {
        if (seen.has(arm.runId)) ctx.addIssue({ code: 'custom', path: ['runs', i, 'shared', j, 'runId'], message: 'appears twice in the plan' });
        seen.add(arm.runId);
      });
    });
  });

export const SweepRecordSchema = z.looseObject({
  sweep: z.string(),
  source: z.string(),
  definition: z.looseObject({ kind: z.string() }),
});

/** How to repair a damaged plan.json. */
export const PLAN_FIX = 'Regenerate it with `moelab plan <experiment file> --out <sweep folder>` (finished runs are kept)';

/** How to repair a damaged sweep.json. */
export const SWEEP_RECORD_FIX = PLAN_FIX;
