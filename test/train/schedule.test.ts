import { describe, expect, it } from 'vitest';
import { ScheduleSchema, type UserSchedule } from '../../src/config/schema.ts';
import { lrCurve, lrFactor, warmupStepsOf } from '../../src/train/schedule.ts';

const s = (u: UserSchedule) => ScheduleSchema.parse(u);
/** [step, expected factor] pairs, hand-computed from the formulas in docs/training.md. */
type Golden = [number, number][];

const cases: { name: string; schedule: UserSchedule; T: number; golden: Golden }[] = [
  {
    name: 'constant, warmup 10 steps',
    schedule: { kind: 'constant', warmupSteps: 10 },
    T: 100,
    golden: [[0, 0.1], [4, 0.5], [9, 1], [50, 1], [99, 1]],
  },
  {
    name: 'cosine, warmup 10%, floor 0.1',
    schedule: { kind: 'cosine', warmupFraction: 0.1, minLrRatio: 0.1 },
    T: 100,
    // decay over [10, 100): x = (s − 9)/90; s = 54 → x = 0.5 → 0.1 + 0.9·0.5
    golden: [[9, 1], [10, 0.1 + 0.45 * (1 + Math.cos(Math.PI / 90))], [54, 0.55], [99, 0.1]],
  },
  {
    name: 'wsd, linear cooldown over 20%',
    schedule: { kind: 'wsd', cooldownFraction: 0.2, cooldownShape: 'linear' },
    T: 100,
    golden: [[0, 1], [79, 1], [80, 0.95], [89, 0.5], [99, 0]],
  },
  {
    name: 'wsd, 1−sqrt cooldown over 20%',
    schedule: { kind: 'wsd', cooldownFraction: 0.2, cooldownShape: '1-sqrt' },
    T: 100,
    golden: [[79, 1], [80, 1 - Math.sqrt(0.05)], [89, 1 - Math.SQRT1_2], [99, 0]],
  },
  {
    name: 'wsd, cosine cooldown to 0.1 with warmup',
    schedule: { kind: 'wsd', warmupSteps: 5, cooldownFraction: 0.2, cooldownShape: 'cosine', minLrRatio: 0.1 },
    T: 100,
    golden: [[0, 0.2], [4, 1], [79, 1], [89, 0.55], [99, 0.1]],
  },
  {
    name: 'hunyuan: warmup, cosine decay to 0.3, anneal the last 5% to 0.1',
    schedule: { kind: 'hunyuan', warmupSteps: 10 },
    T: 200,
    // decay over [10, 190): s = 99 → x = 0.5 → 0.3 + 0.7·0.5; anneal over [190, 200) linear 0.3 → 0.1
    golden: [[9, 1], [99, 0.65], [189, 0.3], [190, 0.28], [194, 0.2], [199, 0.1]],
  },
  {
    name: 'hunyuan with linear decay',
    schedule: { kind: 'hunyuan', warmupSteps: 10, decayShape: 'linear' },
    T: 200,
    golden: [[99, 0.65], [189, 0.3], [199, 0.1]],
  },
  {
    name: 'hunyuan with exponential decay',
    schedule: { kind: 'hunyuan', warmupSteps: 10, decayShape: 'exp', decayToRatio: 0.25, annealToRatio: 0.05 },
    T: 200,
    golden: [[99, 0.5], [189, 0.25], [194, 0.15], [199, 0.05]],
  },
  {
    name: 'inverse-sqrt, warmup 4',
    schedule: { kind: 'inverse-sqrt', warmupSteps: 4 },
    T: 100,
    golden: [[0, 0.25], [3, 1], [15, 0.5], [99, 0.2]],
  },
  {
    name: 'inverse-sqrt, no warmup',
    schedule: { kind: 'inverse-sqrt' },
    T: 100,
    golden: [[0, 1], [3, 0.5], [99, 0.1]],
  },
  {
    name: 'multistep (DeepSeek: 31.6% after 80%, 10% after 90%)',
    schedule: { kind: 'multistep', milestones: [0.8, 0.9], factors: [0.316, 0.1] },
    T: 100,
    golden: [[0, 1], [79, 1], [80, 0.316], [89, 0.316], [90, 0.1], [99, 0.1]],
  },
  {
    name: 'piecewise [[0,0],[0.1,1],[1,0.1]]',
    schedule: { kind: 'piecewise', points: [[0, 0], [0.1, 1], [1, 0.1]] },
    T: 100,
    // x = (s + 1)/T
    golden: [[4, 0.5], [9, 1], [54, 0.55], [99, 0.1]],
  },
];

describe('lrFactor golden values', () => {
  for (const c of cases) {
    it(`${c.name} (T=${c.T})`, () => {
      const sched = s(c.schedule);
      for (const [step, want] of c.golden) expect(lrFactor(sched, step, c.T), `step ${step}`).toBeCloseTo(want, 12);
    });
  }
});

describe('schedule properties', () => {
  it('warmup fraction and steps agree; warmup is linear to the peak', () => {
    expect(warmupStepsOf(s({ kind: 'cosine', warmupFraction: 0.05 }), 1000)).toBe(50);
    expect(warmupStepsOf(s({ kind: 'cosine', warmupSteps: 50 }), 1000)).toBe(50);
    const curve = lrCurve(s({ kind: 'cosine', warmupSteps: 50 }), 1000);
    for (let i = 0; i < 50; i++) expect(curve[i]).toBeCloseTo((i + 1) / 50, 12);
  });

  it('every decaying schedule is non-increasing after warmup and ends at its floor', () => {
    const T = 500;
    const floors: [UserSchedule, number][] = [
      [{ kind: 'cosine', warmupSteps: 20, minLrRatio: 0.1 }, 0.1],
      [{ kind: 'wsd', warmupSteps: 20, cooldownShape: '1-sqrt' }, 0],
      [{ kind: 'hunyuan', warmupSteps: 20 }, 0.1],
      [{ kind: 'multistep', warmupSteps: 20 }, 0.1],
    ];
    for (const [u, floor] of floors) {
      const curve = lrCurve(s(u), T);
      for (let i = 21; i < T; i++) expect(curve[i]).toBeLessThanOrEqual(curve[i - 1] + 1e-15);
      expect(curve[T - 1]).toBeCloseTo(floor, 12);
    }
  });

  it('the hunyuan anneal covers exactly the last 5% of steps', () => {
    const curve = lrCurve(s({ kind: 'hunyuan', warmupSteps: 100 }), 2000);
    // decay ends at 0.3 on step 1899; the anneal (steps 1900..1999) goes linearly to 0.1
    expect(curve[1899]).toBeCloseTo(0.3, 12);
    expect(curve[1900]).toBeCloseTo(0.3 - 0.2 / 100, 12);
    expect(curve[1999]).toBeCloseTo(0.1, 12);
  });
});

describe('schedule config errors', () => {
  it('rejects both warmupSteps and warmupFraction', () => {
    expect(ScheduleSchema.safeParse({ kind: 'cosine', warmupSteps: 5, warmupFraction: 0.1 }).success).toBe(false);
  });
  it('rejects multistep with mismatched factors or unsorted milestones', () => {
    expect(ScheduleSchema.safeParse({ kind: 'multistep', milestones: [0.8, 0.9], factors: [0.3] }).success).toBe(false);
    expect(ScheduleSchema.safeParse({ kind: 'multistep', milestones: [0.9, 0.8], factors: [0.3, 0.1] }).success).toBe(false);
  });
  it('rejects piecewise points that do not run from 0 to 1', () => {
    expect(ScheduleSchema.safeParse({ kind: 'piecewise', points: [[0.1, 1], [1, 0]] }).success).toBe(false);
    expect(ScheduleSchema.safeParse({ kind: 'piecewise', points: [[0, 1], [0.5, 1], [0.4, 0], [1, 0]] }).success).toBe(false);
  });
});
