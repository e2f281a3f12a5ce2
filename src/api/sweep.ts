// The `sweep` namespace of the public API (src/index.ts): experiment files, plans, local and Slurm
// runners (docs/sweeps.md), and studies, several sweeps answering one question (moelab reproduce).
export { defineSweep } from '../sweep/define.ts';
export { loadSweepFile, parseSweep } from '../sweep/load.ts';
export { SweepSchema } from '../config/sweep-schema.ts';
export type { SweepDefinition, UserSweepDefinition } from '../config/sweep-schema.ts';
export { expandSweep, runTags } from '../sweep/plan.ts';
export type { PlanProblem, PlanRun, RunPlan } from '../sweep/plan.ts';
export { formatRunId, parseRunId } from '../sweep/run-id.ts';
export type { RunIdParts } from '../sweep/run-id.ts';
export { assertPlanOk, prepareSweep } from '../sweep/prepare.ts';
export { inspectSweep, readPlan, writePlanFiles } from '../sweep/state.ts';
export type { RunStatusRow, SweepStatus } from '../sweep/state.ts';
export { runSweep, startSweep } from '../sweep/runner.ts';
export type { SweepOutcome } from '../sweep/runner.ts';
export { buildSbatchScript, submitSlurmSweep } from '../sweep/slurm.ts';
export { defineStudy, parseStudy } from '../study/define.ts';
export type { StudyDefinition, StudyPreset } from '../study/define.ts';
export { SIDE_BY_SIDE_COLUMNS, bootstrapReliability, paperComparison, sideBySideCells } from '../study/compare.ts';
export type { BootstrapReliability, ClaimStatus, ComparisonInput, ComparisonRow } from '../study/compare.ts';
export { PAPER } from '../study/paper.ts';
