// The report's analysis flags (src/cli/analysis-flags.ts): each flag sets one analysis option,
// a bad value names the flag.
import { describe, expect, it } from 'vitest';
import { flagKey, flagValues, REPORT_FLAGS } from '../../src/cli/analysis-flags.ts';
import { ConfigError } from '../../src/errors.ts';

describe('REPORT_FLAGS', () => {
  it('maps flags to analysis options, leaving absent flags out', () => {
    expect(flagValues(REPORT_FLAGS, { window: '4', edges: 'refuse', scheduleLaw: 'multipower', bootstrap: '200' })).toEqual({ isoflopWindow: 4, edges: 'refuse', scheduleLaw: 'multipower', bootstrap: 200 });
    expect(flagValues(REPORT_FLAGS, { window: 'all' })).toEqual({ isoflopWindow: 'all' });
    expect(flagValues(REPORT_FLAGS, { window: 'auto' })).toEqual({ isoflopWindow: 'auto' });
    expect(flagValues(REPORT_FLAGS, {})).toEqual({});
  });

  it('a bad value is a ConfigError naming the flag', () => {
    expect(() => flagValues(REPORT_FLAGS, { window: '1' })).toThrow(ConfigError);
    expect(() => flagValues(REPORT_FLAGS, { window: 'wide' })).toThrow(/^--window: not a valid value \(got "wide"\)\. Give a factor > 1 \(e\.g\. 4\), auto or all\.$/);
    expect(() => flagValues(REPORT_FLAGS, { edges: 'keep' })).toThrow(/^--edges: not an allowed value \(got "keep"\)\. Use one of: refuse, drop\.$/);
  });

  it('flag keys are commander\'s camelCase names', () => {
    expect(REPORT_FLAGS.map((f) => flagKey(f.flag))).toEqual(['targetFlops', 'bootstrap', 'scheduleLaw', 'seed', 'window', 'edges']);
  });
});
