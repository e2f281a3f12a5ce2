// Synthetic Multi-Power Law curves shared by the schedule-fit tests: four 3,000-step LR schedules
// and curves planted from a known law on them.
import { multiPowerLaw, predictCurve, prepareCurve, type LossCurve } from '../../src/fit/index.ts';
import { createRng } from '../../src/util/rng.ts';

/** 3,000-step schedules logged every 50 steps (warmup 200, peak 3e-4); losses are placeholders. */
export function schedules(): LossCurve[] {
  const steps = Array.from({ length: 60 }, (_, i) => 50 * (i + 1));
  const peak = 3e-4;
  const warm = (s: number, f: (s: number) => number) => (s <= 200 ? (peak * s) / 200 : f(s));
  const shapes: Record<string, (s: number) => number> = {
    constant: () => peak,
    cosine: (s) => 3e-5 + 0.5 * (peak - 3e-5) * (1 + Math.cos((Math.PI * (s - 200)) / 2800)),
    step: (s) => (s <= 1800 ? peak : 0.1 * peak), // an abrupt 10× drop (the paper's wsdcon curves)
    wsd: (s) => (s <= 2400 ? peak : peak - ((peak - 1e-5) * (s - 2400)) / 600),
  };
  return Object.entries(shapes).map(([name, f]) => ({ name, steps, lrs: steps.map((s) => warm(s, f)), losses: steps.map(() => 3) }));
}

/** The schedules' curves under a known law, times log-normal noise of SD `noise` (seeded; 0: exact). */
export function planted(truth: Record<string, number>, noise = 0, seed = 1): (LossCurve & { losses: number[] })[] {
  const rng = createRng(seed);
  return schedules().map((s) => ({ ...s, losses: Array.from(predictCurve(multiPowerLaw, truth, prepareCurve(s)), (v) => v * Math.exp(noise * rng.normal())) }));
}
