// The run-tag contract for a study's arms and per-size LRs (src/io/tags.ts).
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.ts';
import { parseRunTags } from '../../src/io/tags.ts';

describe('arm and isoFLOP tags', () => {
  it('reads the expert-LR, control and ablation arms with their factor or comparison', () => {
    expect(parseRunTags({ study: 'arm', group: 'expert-lr', name: 'specialized experts ×0.25', factor: 0.25, seed: 1 }, 'x')).toEqual({
      study: 'arm',
      group: 'expert-lr',
      name: 'specialized experts ×0.25',
      factor: 0.25,
      seed: 1,
    });
    expect(parseRunTags({ study: 'arm', group: 'lr-control', name: 'every group ×2', factor: 2, seed: 0 }, 'x').study).toBe('arm');
    expect(parseRunTags({ study: 'arm', group: 'ablation', comparison: 'cla', name: 'no CLA', seed: 0 }, 'x')).toMatchObject({ comparison: 'cla' });
  });

  it('refuses an unknown group, a non-positive factor and an unknown field, naming the field', () => {
    expect(() => parseRunTags({ study: 'arm', group: 'warmup', name: 'a', seed: 0 }, 'run.tags')).toThrow(/run\.tags\.group/);
    expect(() => parseRunTags({ study: 'arm', group: 'expert-lr', name: 'a', factor: 0, seed: 0 }, 'run.tags')).toThrow(/run\.tags\.factor/);
    expect(() => parseRunTags({ study: 'arm', group: 'expert-lr', name: 'a', multiplier: 2, seed: 0 }, 'run.tags')).toThrow(ConfigError);
  });

  it('isoFLOP tags carry the LR a cell trained at when the study picks one per size', () => {
    expect(parseRunTags({ study: 'isoflop', budgetFlops: 1e10, size: 3240, lr: 0.0123, seed: 0 }, 'x')).toMatchObject({ lr: 0.0123 });
    expect(parseRunTags({ study: 'isoflop', budgetFlops: 1e10, size: 3240, seed: 0 }, 'x')).not.toHaveProperty('lr');
    expect(() => parseRunTags({ study: 'isoflop', budgetFlops: 1e10, size: 3240, lr: -1, seed: 0 }, 'run.tags')).toThrow(/run\.tags\.lr/);
  });
});
