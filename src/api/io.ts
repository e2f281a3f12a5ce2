// The `io` namespace of the public API (src/index.ts): the results/ layout, the one loader of sweep
// and run folders with its run tags, JSON helpers, errors, provenance.
export { PROJECT_ROOT, MOELAB_VERSION } from '../util/provenance.ts';
export { toJson, readJsonl } from '../io/atomic.ts';
export { resultsRoot, runPaths, sweepPaths } from '../io/results.ts';
export type { DerivedCounts, MetricRow, RunConfigRecord, RunStatus, RunSummary } from '../io/results.ts';
export { loadSweep } from '../io/load.ts';
export type { RunState, StoredFit, Sweep, SweepRun } from '../io/load.ts';
export { RunTagsSchema, STUDY_KINDS, parseRunTags } from '../io/tags.ts';
export type { ArmTags, GridTags, IsoflopTags, LrBatchTags, RunTags, ScheduleTags, StudyKind } from '../io/tags.ts';
export { writeFitRecord } from '../io/fits.ts';
export { createRng } from '../util/rng.ts';
