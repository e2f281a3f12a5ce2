// `moelab bench --calibration`: --json prints one object keyed by quantity with coverage (0–1) and
// n; an unknown --case is a ConfigError naming the known cases. (Coverage itself is checked in
// test/analysis/calibration.test.ts; here a few sweeps only exercise the command.)
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/util/provenance.ts';

const BIN = join(PROJECT_ROOT, 'bin', 'moelab.js');
const moelab = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', MOELAB_PROGRESS: '1' } });

describe('moelab bench --calibration', () => {
  it('--json: every quantity with coverage and n; the text table says whether each is in 0.90–0.98', () => {
    const r = moelab(['bench', '--calibration', '--json', '--sweeps', '4', '--bootstrap', '20', '--case', 'isoflop']);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, { coverage: number; n: number; meanSuccessFraction: number }>;
    expect(Object.keys(out)).toEqual(['isoflop.N_opt exponent', 'isoflop.D_opt exponent', 'isoflop.tokensPerParam@3e11']);
    for (const q of Object.values(out)) {
      expect(q.n).toBe(4);
      expect(q.coverage).toBeGreaterThanOrEqual(0);
      expect(q.coverage).toBeLessThanOrEqual(1);
    }
    const text = moelab(['bench', '--calibration', '--sweeps', '2', '--bootstrap', '20', '--case', 'isoflop-cells']);
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/quantity\s+coverage\s+sweeps\s+mean width\s+failed fits\s+mean success fraction\s+in 0\.9–0\.98/);
    expect(text.stdout).toMatch(/2 sweeps per case, 20 bootstrap resamples per fit/);
  }, 60_000);

  it('an unknown case is refused with the known ones', () => {
    const r = moelab(['bench', '--calibration', '--case', 'nope']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/--case: unknown calibration case \(got "nope"\)\. Use one of: isoflop, parametric, surge, isoflop-cells, isoflop-known-noise, isoflop-quick-run, parametric-rows, surge-seeds, surge-runs, surge-seed1\./);
  }, 30_000);
});
