// The `train` namespace of the public API (src/index.ts): run configs, LR schedules and the
// expert-specific LR rule (pure; training itself is `moelab train`).
export { RunConfigSchema, ScheduleSchema } from '../config/schema.ts';
export type { RunConfig, ScheduleConfig, UserRunConfig, UserSchedule } from '../config/schema.ts';
export { parseConfig } from '../config/validate.ts';
export { COOLDOWN_SHAPES, lrCurve, lrFactor, warmupStepsOf } from '../train/schedule.ts';
export { epsOpt, expertLrMultiplier, surgeExpertLrRatio } from '../train/expert-lr.ts';
