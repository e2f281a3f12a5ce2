// Learning-rate schedules as pure functions of the step (docs/references.md#wsd, docs/references.md#lr-schedule).
//
// Conventions (docs/training.md has the formulas):
//   - steps are 0-based; `lrFactor(s, step, T)` is the LR multiplier (of the peak LR) used by the
//     update of step `step`, for a run of T steps;
//   - a phase of L steps starting at step a has position x = (step − a + 1) / L ∈ (0, 1], so a
//     phase ends exactly at its target on its last step: warmup reaches the peak on step W − 1,
//     and a decay reaches its floor on the final step T − 1;
//   - fractions of the run (warmupFraction, cooldownFraction, annealFraction, milestones) become
//     steps by rounding fraction · T; with a fixed batch, a fraction of steps is the same
//     fraction of tokens.
import type { ScheduleConfig } from '../config/schema.ts';

/** Warmup length in steps: warmupSteps, else round(warmupFraction · T), else 0; at most T. */
export function warmupStepsOf(schedule: ScheduleConfig, totalSteps: number): number {
  if (schedule.kind === 'piecewise') return 0;
  const w = schedule.warmupSteps ?? Math.round((schedule.warmupFraction ?? 0) * totalSteps);
  return Math.min(Math.max(w, 0), totalSteps);
}

/** Position in (0, 1] of `step` within the phase [start, end). */
function phase(step: number, start: number, end: number): number {
  return Math.min(1, (step - start + 1) / Math.max(1, end - start));
}

/** Half-cosine from 1 (x = 0) to 0 (x = 1). */
const cosineDown = (x: number) => 0.5 * (1 + Math.cos(Math.PI * x));

/** Cooldown shapes g(x): 1 at x = 0, 0 at x = 1 (Hägele et al. 2024, docs/references.md#wsd). */
export const COOLDOWN_SHAPES = {
  linear: (x: number) => 1 - x,
  cosine: cosineDown,
  '1-sqrt': (x: number) => 1 - Math.sqrt(x),
} as const;

/**
 * LR multiplier of the peak at `step` of a `totalSteps`-step run.
 *
 *   constant      1
 *   cosine        r + (1 − r)·½(1 + cos πx)                 x over [W, T)              (Chinchilla)
 *   wsd           1, then r + (1 − r)·g(x) over the last round(c·T) steps             (MiniCPM, Hägele)
 *   hunyuan       decay 1 → d over [W, T − A), then linear d → a over the last A = round(f·T) steps
 *   inverse-sqrt  sqrt(max(W, 1) / (step + 1))
 *   multistep     factors[j] from step round(milestones[j]·T) on                         (DeepSeek)
 *   piecewise     linear interpolation of the points at x = (step + 1) / T
 * All but piecewise start with a linear warmup (step + 1) / W over the first W steps.
 */
export function lrFactor(schedule: ScheduleConfig, step: number, totalSteps: number): number {
  const T = totalSteps;
  if (schedule.kind === 'piecewise') {
    const x = (step + 1) / T;
    const pts = schedule.points;
    for (let i = 1; i < pts.length; i++) {
      const [x1, y1] = pts[i];
      if (x <= x1) {
        const [x0, y0] = pts[i - 1];
        return y0 + ((y1 - y0) * (x - x0)) / (x1 - x0);
      }
    }
    return pts[pts.length - 1][1];
  }

  const W = warmupStepsOf(schedule, T);
  if (step < W) return (step + 1) / W;

  switch (schedule.kind) {
    case 'constant':
      return 1;
    case 'cosine': {
      const r = schedule.minLrRatio;
      return r + (1 - r) * cosineDown(phase(step, W, T));
    }
    case 'wsd': {
      const start = Math.max(W, T - Math.round(schedule.cooldownFraction * T));
      if (step < start) return 1;
      const r = schedule.minLrRatio;
      return r + (1 - r) * COOLDOWN_SHAPES[schedule.cooldownShape](phase(step, start, T));
    }
    case 'hunyuan': {
      // docs/references.md#lr-schedule: warmup → gradual decay → anneal over the last 5% of tokens to 0.1× peak.
      const annealStart = Math.max(W, T - Math.round(schedule.annealFraction * T));
      const d = schedule.decayToRatio;
      if (step < annealStart) {
        const x = phase(step, W, annealStart);
        switch (schedule.decayShape) {
          case 'cosine':
            return d + (1 - d) * cosineDown(x);
          case 'linear':
            return 1 - (1 - d) * x;
          case 'exp':
            return d ** x;
        }
      }
      return d + (schedule.annealToRatio - d) * phase(step, annealStart, T);
    }
    case 'inverse-sqrt':
      return Math.sqrt(Math.max(W, 1) / (step + 1));
    case 'multistep': {
      let f = 1;
      schedule.milestones.forEach((m, j) => {
        if (step >= Math.round(m * T)) f = schedule.factors[j];
      });
      return f;
    }
  }
}

/** The whole curve: factor per step, for plots and schedule-aware loss fits. */
export function lrCurve(schedule: ScheduleConfig, totalSteps: number): Float64Array {
  const out = new Float64Array(totalSteps);
  for (let s = 0; s < totalSteps; s++) out[s] = lrFactor(schedule, s, totalSteps);
  return out;
}
