import { describe, expect, it } from 'vitest';
import { checkDataBudget, createTokenStream, unigramEntropy } from '../../src/data/stream.ts';

/** Token i = i mod 60000: a ramp, so a window's position can be read off its first token. */
const ramp = (n: number) => Uint16Array.from({ length: n }, (_, i) => i % 60000);
const ARGS = { seqLen: 8, batchSize: 4, valTokens: 200, seed: 7 };

describe('token stream', () => {
  const tokens = ramp(10_001);
  const stream = createTokenStream(tokens, ARGS);

  it('splits train / validation at the end and counts windows', () => {
    expect(stream.trainTokens).toBe(9801);
    expect(stream.valTokens).toBe(200);
    expect(stream.windowsPerEpoch).toBe(Math.floor(9800 / 8));
    expect(stream.valWindows).toBe(Math.floor(199 / 8));
  });

  it('targets are inputs shifted by one', () => {
    const b = stream.trainBatch(3);
    for (let i = 0; i < b.inputs.length; i++) expect(b.targets[i]).toBe(b.inputs[i] + 1);
    for (let r = 0; r < 4; r++) expect(b.inputs[r * 8] % 8).toBe(0); // windows start on multiples of seqLen
  });

  it('is a pure function of (seed, step)', () => {
    const again = createTokenStream(tokens, ARGS);
    expect(Array.from(again.trainBatch(17).inputs)).toEqual(Array.from(stream.trainBatch(17).inputs));
    // Asking out of order gives the same batch (no loader state).
    stream.trainBatch(400);
    expect(Array.from(stream.trainBatch(17).inputs)).toEqual(Array.from(again.trainBatch(17).inputs));
    const other = createTokenStream(tokens, { ...ARGS, seed: 8 });
    expect(Array.from(other.trainBatch(17).inputs)).not.toEqual(Array.from(stream.trainBatch(17).inputs));
  });

  it('visits every training window exactly once per epoch, never a validation token', () => {
    const M = stream.windowsPerEpoch; // 1225 = 306 steps of 4 + 1
    const starts: number[] = [];
    for (let step = 0; step * 4 < M; step++) {
      const b = stream.trainBatch(step);
      for (let r = 0; r < 4 && step * 4 + r < M; r++) starts.push(b.inputs[r * 8]);
    }
    expect(new Set(starts).size).toBe(M);
    expect(Math.max(...starts) + 8).toBeLessThan(stream.trainTokens);
    // Step 307's rows are samples 1228..1231 = positions 3..6 of epoch 1, a new permutation.
    const e1 = stream.trainBatch(307);
    expect(e1.epoch).toBe(1);
    const e0 = [stream.trainBatch(0).inputs[3 * 8], ...[0, 1, 2].map((r) => stream.trainBatch(1).inputs[r * 8])];
    expect([0, 1, 2, 3].map((r) => e1.inputs[r * 8])).not.toEqual(e0);
  });

  it('reads any windows by offset, whatever the seed: inputs and targets shifted by one', () => {
    expect(stream.valStart).toBe(9801);
    const v = stream.windowBatch([9801, 9900, 9992]);
    expect(Array.from(v.inputs.slice(0, 3))).toEqual([9801, 9802, 9803]);
    expect(v.inputs[8]).toBe(9900);
    expect(v.inputs[16]).toBe(9992);
    expect(v.targets[23]).toBe(10000); // the last token of the stream
    const other = createTokenStream(tokens, { ...ARGS, seed: 99 });
    expect(Array.from(other.windowBatch([9801, 9900]).targets)).toEqual(Array.from(stream.windowBatch([9801, 9900]).targets));
    expect(() => stream.windowBatch([9993])).toThrow(/window at 9993 needs 9 tokens; the stream has 10001/);
  });
});

describe('data budget', () => {
  const stream = createTokenStream(ramp(10_001), ARGS);

  it('refuses a run that needs more tokens than the train split holds, naming the fix', () => {
    const steps = Math.ceil(stream.windowsPerEpoch / 4) + 1;
    expect(() => checkDataBudget(stream, { steps, valWindows: 1, repeat: false })).toThrow(
      /train\.tokens: the run needs 1232 windows of 8 tokens but the corpus's train split \(9801 tokens\) has only 1225.*Use train\.tokens <= 9800.*data\.repeat: true/,
    );
    expect(() => checkDataBudget(stream, { steps, valWindows: 1, repeat: true })).not.toThrow();
    expect(() => checkDataBudget(stream, { steps: 306, valWindows: 1, repeat: false })).not.toThrow();
  });

  it('refuses a validation set that does not fit in the split, naming data.valWindows and the fix', () => {
    expect(() => checkDataBudget(stream, { steps: 10, valWindows: 24, repeat: false })).not.toThrow();
    expect(() => checkDataBudget(stream, { steps: 10, valWindows: 25, repeat: false })).toThrow(
      /data\.valWindows: 25 windows of 8 tokens do not fit in the validation split of 200 tokens \(got 25\)\. Use data\.valWindows <= 24, or raise data\.valTokens to >= 201\./,
    );
  });

  it('refuses a validation split that leaves no training data', () => {
    expect(() => createTokenStream(ramp(100), { ...ARGS, valTokens: 95 })).toThrow(/data\.valTokens: the validation split leaves no training data/);
  });
});

describe('unigramEntropy', () => {
  it('is ln 2 for two equally frequent tokens, 0 for one, ln 256 for uniform bytes', () => {
    expect(unigramEntropy([0, 1, 0, 1])).toBeCloseTo(Math.LN2, 12);
    expect(unigramEntropy([5, 5, 5])).toBe(0);
    expect(unigramEntropy(Uint16Array.from({ length: 512 }, (_, i) => i % 256))).toBeCloseTo(Math.log(256), 12);
    expect(unigramEntropy([9, 0, 1, 0, 1, 9], 1, 5)).toBeCloseTo(Math.LN2, 12);
  });
});
