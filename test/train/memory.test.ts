// The pre-flight memory estimate: hand-worked counts for a small model, the attack's configs
// (model.dFf, numExperts, numLayers = huge) refused naming the field, and size parsing.
import { describe, expect, it } from 'vitest';
import { resolveModelConfig } from '../../src/config/resolve.ts';
import { ModelConfigSchema } from '../../src/config/schema.ts';
import { ConfigError } from '../../src/errors.ts';
import { checkTrainingMemory, estimateTrainingMemory, formatBytes, parseMemorySize } from '../../src/train/memory.ts';

const model = (over: Record<string, unknown> = {}) =>
  resolveModelConfig(
    ModelConfigSchema.parse({ vocabSize: 256, seqLen: 32, dModel: 32, numLayers: 2, numHeads: 2, dFf: 64, numExperts: 4, numSharedExperts: 1, topK: 1, ...over }),
  );
const MiB = 2 ** 20;

describe('estimateTrainingMemory', () => {
  it('matches a hand count for a tiny MoE', () => {
    const m = model();
    const est = estimateTrainingMemory(m, 4);
    // T = 4·32 = 128 tokens. Attention per layer: 128·10·32 + 3·4·2·32² = 40960 + 24576 = 65536.
    // Experts per layer: 4·128·(1·1·64 + 1·64) + 3·128·4 = 65536 + 1536 = 67072 (capacityFactor inf → 1).
    // Output: 3·128·256 = 98304.  Activations: 5 · 4 bytes · (2·(65536 + 67072) + 98304) = 7,270,400.
    expect(est.activationBytes).toBe(7_270_400);
    expect(est.parameterBytes).toBe(7 * 4 * est.totalParams);
    expect(est.totalBytes).toBe(est.parameterBytes + est.activationBytes + 350 * MiB);
  });

  it('names the fields that drive it: parameters for a huge dFf, activations for a huge batch', () => {
    expect(estimateTrainingMemory(model({ dFf: 100_000_000 }), 4).drivers[0]).toBe('model.dFf');
    expect(estimateTrainingMemory(model({ numLayers: 1_000_000 }), 4).drivers).toContain('model.numLayers');
    expect(estimateTrainingMemory(model({ vocabSize: 50_000_000 }), 4).drivers[0]).toBe('model.vocabSize');
    expect(estimateTrainingMemory(model(), 1_000_000).drivers[0]).toBe('train.batchSize');
  });
});

describe('checkTrainingMemory', () => {
  const limit = 16 * 2 ** 30;
  it('refuses the attack configs (48B parameters from dFf=1e8; 1e6 experts; 1e6 layers) with a ConfigError naming the fields', () => {
    expect(() => checkTrainingMemory(model({ dFf: 100_000_000 }), 4, limit, "this machine's memory")).toThrow(ConfigError);
    expect(() => checkTrainingMemory(model({ dFf: 100_000_000 }), 4, limit, "this machine's memory")).toThrow(
      /^model\.dFf: the run would need about [\d.]+ TiB of memory \(9\.60e\+10 parameters.*more than this machine's memory \(16 GiB\) \(got 100000000\)\. .*start with model\.dFf/,
    );
    expect(() => checkTrainingMemory(model({ numExperts: 1_000_000 }), 4, limit, 'x')).toThrow(/model\.numExperts/);
    expect(() => checkTrainingMemory(model({ numLayers: 1_000_000 }), 4, limit, 'x')).toThrow(/model\.numLayers/);
  });
  it('passes a config that fits and honours a lower limit', () => {
    expect(checkTrainingMemory(model(), 4, limit, 'x').totalBytes).toBeLessThan(400 * MiB);
    expect(() => checkTrainingMemory(model(), 4, 100 * MiB, 'the memory limit 100M')).toThrow(/more than the memory limit 100M \(100 MiB\)/);
  });
});

describe('parseMemorySize / formatBytes', () => {
  it('reads binary sizes and refuses anything else', () => {
    expect(parseMemorySize('8G', '--max-memory')).toBe(8 * 2 ** 30);
    expect(parseMemorySize('512M', '--max-memory')).toBe(512 * MiB);
    expect(parseMemorySize('1.5GiB', '--max-memory')).toBe(1.5 * 2 ** 30);
    expect(parseMemorySize('2t', '--max-memory')).toBe(2 * 2 ** 40);
    expect(parseMemorySize('1000', '--max-memory')).toBe(1000);
    for (const bad of ['', 'lots', '-1G', '0', '8X']) expect(() => parseMemorySize(bad, '--max-memory')).toThrow(/--max-memory: not a memory size/);
  });
  it('formats', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(16 * 2 ** 30)).toBe('16 GiB');
  });
});
