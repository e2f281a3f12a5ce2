// Planner arithmetic and checks. Golden values are hand computations for TINY_MODEL
// (vocab 256, dModel 16, 1 layer, 2 heads of 8, 1 shared + 2 specialized experts of width 32,
// top-1, tied embeddings, seqLen 8):
//   embedding 256·16 = 4096; attention q,o 2·16·16 + k,v 2·16·16 = 1024; norms 2·16 + 16 = 48;
//   router 16·2 = 32; shared expert 3·16·32 = 1536; specialized 2·1536 = 3072
//   total 9808, activated 9808 − 1536 = 8272, activated non-embedding 8272 − 4096 = 4176
//   forward FLOPs/token: projections 2·(512+512) = 2048, attention 4·16·(9/2) = 288, router
//   2·16·2 = 64, experts 2·(1536+1536) = 6144, head 2·16·256 = 8192 → 16736; training ×3 = 50208.
import { describe, expect, it } from 'vitest';
import { ConfigErrors } from '../../src/errors.ts';
import { parseSweep } from '../../src/sweep/load.ts';
import { expandAxes, mergeConfig, setPath } from '../../src/sweep/merge.ts';
import { expandSweep, memoryProblems, roundToSteps, tokensForBudget, type FamilyBuilder } from '../../src/sweep/plan.ts';
import { provenance } from '../../src/util/provenance.ts';
import { TINY_MODEL } from '../helpers/sweep.ts';

const prov = provenance();
const noFamily: FamilyBuilder = () => {
  throw new Error('this sweep has no family');
};
/** A stand-in family: TINY_MODEL whatever the target (the ±5% check then decides). */
const tinyFamily: FamilyBuilder = () => ({ ...TINY_MODEL });

function plan(input: Record<string, unknown>, buildModel: FamilyBuilder = noFamily) {
  return expandSweep(parseSweep(input, 'test'), { buildModel, provenance: prov });
}

describe('pure arithmetic', () => {
  it('tokensForBudget divides the budget by the per-token cost', () => {
    expect(tokensForBudget(6e12, 6e6)).toBe(1e6);
  });
  it('roundToSteps rounds to the nearest whole step', () => {
    expect(roundToSteps(20148.7, 8)).toEqual({ steps: 2519, tokens: 20152 });
    expect(roundToSteps(3, 8)).toEqual({ steps: 0, tokens: 0 });
    expect(roundToSteps(4, 8)).toEqual({ steps: 1, tokens: 8 });
  });
});

describe('isoflop: tokens from budget and compute formula', () => {
  const iso = (computeFormula: string, budget: number, computeParams = 'activated') =>
    plan(
      {
        name: 'iso',
        kind: 'isoflop',
        family: { builder: 'hunyuan' },
        budgets: [budget],
        activatedParams: [8272],
        computeFormula,
        computeParams,
        base: { train: { batchSize: 1, lr: 1e-3 } },
      },
      tinyFamily,
    );

  it('counts the built model as worked out by hand', () => {
    const { plan: p } = iso('exact', 1e9);
    expect(p.runs[0].derived).toMatchObject({
      totalParams: 9808,
      activatedParams: 8272,
      nonEmbeddingParams: 9808 - 4096,
      activatedNonEmbeddingParams: 4176,
      flopsPerToken: 50208,
      tokensPerStep: 8,
    });
  });

  it('6ND: D = C / (6·N) = 1e9 / 49632 = 20148.7 → 2519 steps of 8 tokens', () => {
    const { plan: p, problems } = iso('6ND', 1e9);
    expect(problems.filter((x) => x.level === 'error')).toEqual([]);
    expect(p.runs[0].derived.steps).toBe(2519);
    expect(p.runs[0].derived.tokens).toBe(20152);
    expect(p.runs[0].config.train.tokens).toBe(20152);
    expect(p.runs[0].formulaFlops).toBeCloseTo(6 * 8272 * 20152, 0);
    expect(p.runs[0].budgetFlops).toBe(1e9);
  });

  it("hunyuan: D = C / (9.59·N + 2.3e8) = 1e12 / 230079328.5 = 4346.3 → 543 steps", () => {
    const { plan: p } = iso('hunyuan', 1e12);
    expect(p.runs[0].derived.steps).toBe(543);
    expect(p.runs[0].derived.tokens).toBe(4344);
  });

  it('exact: D = C / 50208 = 19917.1 → 2490 steps', () => {
    const { plan: p } = iso('exact', 1e9);
    expect(p.runs[0].derived.steps).toBe(2490);
    expect(p.runs[0].derived.computeFlops).toBe(50208 * 19920);
  });

  it('6ND on activated non-embedding N: D = 1e9 / (6·4176) → 4990 steps', () => {
    const { plan: p } = iso('6ND', 1e9, 'activatedNonEmbedding');
    expect(p.runs[0].derived.steps).toBe(Math.round(1e9 / (6 * 4176) / 8));
    expect(p.runs[0].tokensPerParam).toBeCloseTo(p.runs[0].derived.tokens / 4176, 9);
  });

  it('expands budgets × sizes × seeds with parseable ids, config.name = runId', () => {
    const { plan: p } = plan(
      {
        name: 'iso',
        kind: 'isoflop',
        family: { builder: 'hunyuan' },
        budgets: [1e9, 3e9],
        activatedParams: [8272, 8300],
        seeds: [0, 1],
        base: { train: { batchSize: 1, lr: 1e-3 } },
      },
      tinyFamily,
    );
    expect(p.runs.map((r) => r.runId)).toEqual([
      'iso-8.27k-C1e9-s0',
      'iso-8.27k-C1e9-s1',
      'iso-8.3k-C1e9-s0',
      'iso-8.3k-C1e9-s1',
      'iso-8.27k-C3e9-s0',
      'iso-8.27k-C3e9-s1',
      'iso-8.3k-C3e9-s0',
      'iso-8.3k-C3e9-s1',
    ]);
    expect(p.runs.map((r) => r.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    for (const r of p.runs) {
      expect(r.config.name).toBe(r.runId);
      expect(r.config.seed).toBe(r.seed);
    }
    expect(p.totals.runs).toBe(8);
    expect(p.totals.tokens).toBe(p.runs.reduce((s, r) => s + r.derived.tokens, 0));
  });

  it('fails the ±5% activated-parameter check with the numbers and a fix', () => {
    const { problems } = iso('exact', 1e9);
    expect(problems).toEqual([]);
    const { problems: off } = plan(
      {
        name: 'iso',
        kind: 'isoflop',
        family: { builder: 'hunyuan' },
        budgets: [1e9],
        activatedParams: [10_000],
        base: { train: { batchSize: 1, lr: 1e-3 } },
      },
      tinyFamily,
    );
    expect(off).toHaveLength(1);
    expect(off[0]).toMatchObject({ level: 'error', field: 'activatedParams', value: 10_000 });
    expect(off[0].message).toMatch(/8,272 activated parameters, -17\.3% from the target 10,000 \(allowed ±5%\)/);
  });

  it('tokensPerParam keeps only the cells in range and lists the rest', () => {
    const { plan: p } = plan(
      {
        name: 'iso',
        kind: 'isoflop',
        family: { builder: 'hunyuan' },
        budgets: [1e8, 1e9, 1e10],
        activatedParams: [8272],
        tokensPerParam: { min: 1, max: 10 },
        base: { train: { batchSize: 1, lr: 1e-3 } },
      },
      tinyFamily,
    );
    // D/N = C / 50208 / 8272: 0.24, 2.4, 24 → only the middle budget stays.
    expect(p.runs.map((r) => r.runId)).toEqual(['iso-8.27k-C1e9-s0']);
    expect(p.skipped.map((s) => s.label)).toEqual(['iso-8.27k-C1e8-s0', 'iso-8.27k-C1e10-s0']);
  });

  it('isoflop without a family is an error naming the fix', () => {
    const { problems } = plan({ name: 'iso', kind: 'isoflop', budgets: [1e9], activatedParams: [8272], base: { model: TINY_MODEL } });
    expect(problems[0]).toMatchObject({ level: 'error', field: 'family' });
    expect(problems[0].fix).toMatch(/family: \{ builder: "hunyuan" \}/);
  });
});

describe('lr-batch, schedules and grid', () => {
  it('lr-batch: one run per (budget, batch, lr), ids carry lr and bs', () => {
    const { plan: p, problems } = plan({
      name: 'surge',
      kind: 'lr-batch',
      lrs: [1e-3, 3e-3],
      batchSizes: [2, 4],
      base: { model: TINY_MODEL, train: { tokens: 640 } },
    });
    expect(problems).toEqual([]);
    expect(p.runs.map((r) => r.runId)).toEqual([
      'surge-8.27k-D640-lr1e-3-bs2-s0',
      'surge-8.27k-D640-lr3e-3-bs2-s0',
      'surge-8.27k-D640-lr1e-3-bs4-s0',
      'surge-8.27k-D640-lr3e-3-bs4-s0',
    ]);
    expect(p.runs.map((r) => [r.lr, r.batchSize, r.batchTokens, r.derived.steps])).toEqual([
      [1e-3, 2, 16, 40],
      [3e-3, 2, 16, 40],
      [1e-3, 4, 32, 20],
      [3e-3, 4, 32, 20],
    ]);
  });

  it('lr-batch with steps and sqrt LR scaling: each batch trains its own step count around its own LRs', () => {
    const { plan: p, problems } = plan({
      name: 'surge',
      kind: 'lr-batch',
      lrs: [1e-3],
      batchSizes: [2, 8],
      steps: [300, 50],
      base: { model: TINY_MODEL, train: { tokens: 640 } },
    });
    expect(problems).toEqual([]);
    // TINY_MODEL has seqLen 8: 300 steps × 2 × 8 and 50 × 8 × 8 tokens.
    expect(p.runs.map((r) => [r.batchSize, r.derived.steps, r.derived.tokens])).toEqual([
      [2, 300, 4800],
      [8, 50, 3200],
    ]);
    const scaled = plan({ name: 's', kind: 'lr-batch', lrs: [1e-3, 2e-3], batchSizes: [2, 8, 18], lrScaling: 'sqrt', base: { model: TINY_MODEL, train: { tokens: 2304 } } });
    expect(scaled.problems).toEqual([]);
    expect(scaled.plan.runs.map((r) => [r.batchSize, r.lr])).toEqual([
      [2, 1e-3],
      [2, 2e-3],
      [8, 2e-3],
      [8, 4e-3],
      [18, 3e-3],
      [18, 6e-3],
    ]);
    const mismatched = plan({ name: 's', kind: 'lr-batch', lrs: [1e-3], batchSizes: [2, 8], steps: [300], base: { model: TINY_MODEL } });
    expect(mismatched.problems[0]).toMatchObject({ level: 'error', field: 'steps', value: [300] });
    expect(mismatched.problems[0].fix).toMatch(/one step count per batch size/);
    const both = plan({ name: 's', kind: 'lr-batch', lrs: [1e-3], batchSizes: [2], steps: [10], budgets: [1e9], base: { model: TINY_MODEL } });
    expect(both.problems[0]).toMatchObject({ level: 'error', field: 'steps' });
  });

  it('schedules: the same budget under each labelled schedule, replacing (not merging) the base schedule', () => {
    const { plan: p, problems } = plan({
      name: 'sched',
      kind: 'schedules',
      schedules: {
        cosine: { kind: 'cosine', minLrRatio: 0.1 },
        wsd: { kind: 'wsd', cooldownFraction: 0.2 },
        hunyuan: { kind: 'hunyuan', annealFraction: 0.05, annealToRatio: 0.1 },
      },
      budget: 1e8,
      base: { model: TINY_MODEL, train: { batchSize: 1, lr: 1e-3, schedule: { kind: 'cosine', minLrRatio: 0.5, warmupFraction: 0.1 } } },
    });
    expect(problems).toEqual([]);
    expect(p.runs.map((r) => r.runId)).toEqual(['sched-8.27k-C1e8-cosine-s0', 'sched-8.27k-C1e8-wsd-s0', 'sched-8.27k-C1e8-hunyuan-s0']);
    expect(new Set(p.runs.map((r) => r.derived.tokens)).size).toBe(1);
    expect(p.runs[1].config.train.schedule).toEqual({ kind: 'wsd', cooldownFraction: 0.2, cooldownShape: '1-sqrt', minLrRatio: 0 });
    expect(p.runs.map((r) => r.schedule)).toEqual(['cosine', 'wsd', 'hunyuan']);
  });

  it('grid: cartesian product over config paths with seeds; zip pairs values', () => {
    const input = {
      name: 'g',
      kind: 'grid',
      axes: { 'model.numExperts': [2, 4], 'train.lr': [1e-3, 2e-3] },
      seeds: [0, 1],
      base: { model: TINY_MODEL, train: { tokens: 80, batchSize: 1 } },
    };
    const { plan: p, problems } = plan(input);
    expect(problems).toEqual([]);
    expect(p.runs).toHaveLength(8);
    expect(p.runs.map((r) => [r.point, r.seed])).toEqual([
      [{ 'model.numExperts': 2, 'train.lr': 1e-3 }, 0],
      [{ 'model.numExperts': 2, 'train.lr': 1e-3 }, 1],
      [{ 'model.numExperts': 2, 'train.lr': 2e-3 }, 0],
      [{ 'model.numExperts': 2, 'train.lr': 2e-3 }, 1],
      [{ 'model.numExperts': 4, 'train.lr': 1e-3 }, 0],
      [{ 'model.numExperts': 4, 'train.lr': 1e-3 }, 1],
      [{ 'model.numExperts': 4, 'train.lr': 2e-3 }, 0],
      [{ 'model.numExperts': 4, 'train.lr': 2e-3 }, 1],
    ]);
    expect(p.runs[4].config.model?.numExperts).toBe(4);
    expect(p.runs[4].derived.totalParams).toBe(9808 + 2 * 1536 + 2 * 16);
    expect(p.runs[0].runId).toBe('g-8.27k-D80-lr1e-3-p0-s0');
    const zip = plan({ ...input, mode: 'zip' }).plan;
    expect(zip.runs.map((r) => r.point)).toEqual([
      { 'model.numExperts': 2, 'train.lr': 1e-3 },
      { 'model.numExperts': 2, 'train.lr': 1e-3 },
      { 'model.numExperts': 4, 'train.lr': 2e-3 },
      { 'model.numExperts': 4, 'train.lr': 2e-3 },
    ]);
    const bad = plan({ ...input, mode: 'zip', axes: { 'train.lr': [1e-3, 2e-3], 'model.numExperts': [2] } });
    expect(bad.problems[0]).toMatchObject({ level: 'error', field: 'axes' });
  });

  it('an axis value the run schema rejects is reported with the run and the grid point', () => {
    const { problems } = plan({
      name: 'g',
      kind: 'grid',
      axes: { 'model.topK': [1, 3] },
      base: { model: TINY_MODEL, train: { tokens: 80, batchSize: 1, lr: 1e-3 } },
    });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ level: 'error', where: 'axes point 1 ({"model.topK":3})', field: 'model.topK' });
    expect(problems[0].message).toMatch(/topK \(3\) exceeds numExperts \(2\)/);
  });
});

describe('planning checks', () => {
  it('a budget below half a step, a missing token budget and maxTokens are errors with fixes', () => {
    const tiny = plan(
      { name: 'i', kind: 'isoflop', family: { builder: 'hunyuan' }, budgets: [1e5], activatedParams: [8272], base: { train: { batchSize: 4, lr: 1e-3 } } },
      tinyFamily,
    );
    expect(tiny.problems[0].message).toMatch(/less than half a step of 32 tokens/);
    const noTokens = plan({ name: 's', kind: 'lr-batch', lrs: [1e-3], batchSizes: [1], base: { model: TINY_MODEL } });
    expect(noTokens.problems[0]).toMatchObject({ field: 'base.train.tokens' });
    const capped = plan({
      name: 's',
      kind: 'lr-batch',
      lrs: [1e-3],
      batchSizes: [1],
      checks: { maxTokens: 100 },
      base: { model: TINY_MODEL, train: { tokens: 800 } },
    });
    expect(capped.problems[0]).toMatchObject({ level: 'error', field: 'checks.maxTokens', value: 800 });
  });

  it('rounding that moves tokens by more than 2% is a warning', () => {
    const { problems, plan: p } = plan({ name: 's', kind: 'lr-batch', lrs: [1e-3], batchSizes: [8], base: { model: TINY_MODEL, train: { tokens: 100 } } });
    expect(p.runs[0].derived.tokens).toBe(128);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ level: 'warning', field: 'train.tokens' });
  });

  it('two runs with the same id are an error', () => {
    // Distinct values that round to the same 3-digit id token.
    const { problems } = plan({
      name: 'g',
      kind: 'lr-batch',
      lrs: [1e-3, 1.0001e-3],
      batchSizes: [1],
      base: { model: TINY_MODEL, train: { tokens: 80 } },
    });
    expect(problems[0]).toMatchObject({ level: 'error', field: 'runId', value: 'g-8.27k-D80-lr1e-3-bs1-s0' });
  });
});

describe('strict sweep inputs', () => {
  const grid = (axes: Record<string, unknown[]>) => ({ name: 'g', kind: 'grid', axes, base: { model: TINY_MODEL, train: { tokens: 80, batchSize: 1, lr: 1e-3 } } });
  const errorsOf = (input: Record<string, unknown>): string => {
    try {
      plan(input);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigErrors);
      return (err as Error).message;
    }
    throw new Error('expected ConfigErrors');
  };

  it('grid axis values that go into run ids are checked one by one (no RangeError from the id formatter)', () => {
    const message = errorsOf(grid({ 'train.lr': ['fast', -1] }));
    expect(message).toMatch(/axes\.train\.lr\[0\]: .*positive numbers \(got "fast"\)/);
    expect(message).toMatch(/axes\.train\.lr\[1\]: .*positive numbers \(got -1\)/);
    expect(errorsOf(grid({ 'train.batchSize': [2.5] }))).toMatch(/axes\.train\.batchSize\[0\]: .*positive integers/);
    expect(errorsOf(grid({ activatedParams: [0] }))).toMatch(/axes\.activatedParams\[0\]/);
    for (const key of ['train.__proto__.x', 'train.constructor.prototype', 'model.prototype']) {
      expect(errorsOf(grid({ [key]: [1] }))).toMatch(/is not a config path/);
    }
    expect(errorsOf(JSON.parse('{"name": "g", "kind": "grid", "axes": {"__proto__": [1]}}'))).toMatch(/axes/); // dropped, then refused
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it('a value given twice is refused (it would train identical runs), in axes and in every list', () => {
    expect(errorsOf(grid({ 'train.lr': [0.001, 0.001] }))).toMatch(/axes\.train\.lr\[1\]: repeats entry \[0\] \(0\.001\); the same runs would be trained twice/);
    expect(errorsOf(grid({ 'train.schedule': [{ kind: 'cosine' }, { kind: 'cosine' }] }))).toMatch(/axes\.train\.schedule\[1\]: repeats entry \[0\]/);
    const lb = { name: 'l', kind: 'lr-batch', lrs: [1e-3, 2e-3, 1e-3], batchSizes: [1, 1], seeds: [0, 0], base: { model: TINY_MODEL, train: { tokens: 80 } } };
    const message = errorsOf(lb);
    expect(message).toMatch(/lrs\[2\]: repeats entry \[0\]/);
    expect(message).toMatch(/batchSizes\[1\]: repeats entry \[0\]/);
    expect(message).toMatch(/seeds\[1\]: repeats entry \[0\]/);
  });

  it('a sweep that expands to 0 runs is an error, not an empty plan', () => {
    const { plan: p, problems } = plan(
      {
        name: 'iso',
        kind: 'isoflop',
        family: { builder: 'hunyuan' },
        budgets: [1e8, 1e9],
        activatedParams: [8272],
        tokensPerParam: { min: 1000 },
        base: { train: { batchSize: 1, lr: 1e-3 } },
      },
      tinyFamily,
    );
    expect(p.runs).toEqual([]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ level: 'error', field: 'tokensPerParam' });
    expect(problems[0].message).toMatch(/the sweep expands to 0 runs \(all 2 cells skipped: .*outside tokensPerParam/);
  });
});

describe('memory pre-flight at planning', () => {
  it('warns (the planner may not be the training machine) for each run above the limit, naming the fields', () => {
    const { plan: p } = plan({ name: 'm', kind: 'grid', axes: { 'model.dFf': [32, 100_000_000] }, base: { model: TINY_MODEL, train: { tokens: 80, batchSize: 1, lr: 1e-3 } } });
    const warnings = memoryProblems(p, 16 * 2 ** 30, "this machine's memory");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 'warning', runId: p.runs[1].runId, field: 'model.dFf', value: 100_000_000 });
    expect(warnings[0].message).toMatch(/^the run would need about 495 GiB of memory \(1\.44e\+10 parameters/);
    expect(warnings[0].fix).toMatch(/moelab train refuses this run on a machine with less memory/);
  });
});

describe('merge helpers', () => {
  it('deep-merges objects but replaces tagged unions and arrays', () => {
    const under = { train: { lr: 1, schedule: { kind: 'cosine', minLrRatio: 0.1 }, optimizer: { beta1: 0.9, beta2: 0.95 } }, seeds: [1, 2] };
    const over = { train: { schedule: { kind: 'wsd' }, optimizer: { beta2: 0.99 } }, seeds: [3] };
    expect(mergeConfig(under, over)).toEqual({
      train: { lr: 1, schedule: { kind: 'wsd' }, optimizer: { beta1: 0.9, beta2: 0.99 } },
      seeds: [3],
    });
    expect(under.train.optimizer.beta2).toBe(0.95);
  });
  it('setPath creates objects along the way without touching the input', () => {
    const a = { train: { lr: 1 } };
    expect(setPath(a, 'train.optimizer.beta1', 0.8)).toEqual({ train: { lr: 1, optimizer: { beta1: 0.8 } } });
    expect(a).toEqual({ train: { lr: 1 } });
  });
  it('expandAxes: grid varies the first axis slowest; zip pairs', () => {
    expect(expandAxes({ a: [1, 2], b: ['x', 'y'] }, 'grid')).toEqual([
      { a: 1, b: 'x' },
      { a: 1, b: 'y' },
      { a: 2, b: 'x' },
      { a: 2, b: 'y' },
    ]);
    expect(expandAxes({ a: [1, 2], b: ['x', 'y'] }, 'zip')).toEqual([
      { a: 1, b: 'x' },
      { a: 2, b: 'y' },
    ]);
  });
});

describe('sweep schema errors', () => {
  it('reports every problem at once: unknown keys (top level and in base), bad name, empty lists, bad labels and axes', () => {
    let err: ConfigErrors | undefined;
    try {
      parseSweep(
        {
          name: 'a/b',
          kind: 'schedules',
          schedules: { Cosine: { kind: 'cosine' }, wsd: { kind: 'wsd', cooldown: 0.2 } },
          base: { train: { lrr: 1 }, model: { dmodel: 64 } },
          seeds: [],
          budgt: 1e9,
        },
        'experiments/bad.json',
      );
    } catch (e) {
      err = e as ConfigErrors;
    }
    expect(err).toBeInstanceOf(ConfigErrors);
    const text = err!.message;
    expect(text).toMatch(/^experiments\/bad\.json: \d+ problems/);
    expect(text).toMatch(/name: sweep name contains "\/"/);
    expect(text).toMatch(/base\.train\.lrr: unknown key/);
    expect(text).toMatch(/base\.model\.dmodel: unknown key/);
    expect(text).toMatch(/schedules\.wsd\.cooldown: unknown key/);
    expect(text).toMatch(/budgt: unknown key/);
    expect(text).toMatch(/seeds: .*(>=1|at least)/i);
    expect(text).toMatch(/schedules\.Cosine: "Cosine" is not a valid schedule label/);
    expect(() => parseSweep({ name: 'g', kind: 'grid', axes: { 'optimizer.lr': [1] } }, 'x')).toThrow(/not a config path.*"train\.lr"/s);
    expect(() => parseSweep({ name: 'g', kind: 'nope' }, 'x')).toThrow(/kind/);
  });

  it('base fields keep only what the user wrote (no schema defaults leak into builder models)', () => {
    const def = parseSweep({ name: 'g', kind: 'lr-batch', lrs: [1e-3], batchSizes: [1], base: { model: { dModel: 32 } } }, 'x');
    expect(def.base.model).toEqual({ dModel: 32 });
  });
});
