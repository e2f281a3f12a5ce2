// The notebooks against the public API (src/index.ts), without a Jupyter kernel: every notebook's
// code cells, concatenated as the tslab kernel runs them, type-check against src/index.ts; and the
// namespaces the notebooks destructure exist at run time and work on a sweep folder.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as moelab from '../../src/index.ts';
import { writeSyntheticSweep } from '../report/synthetic-sweep.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const NOTEBOOKS = ['explore-runs', 'fit-your-own-law', 'lr-schedules'];

describe('the public API (src/index.ts)', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'moelab-api-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('is namespaced by layer, with the few first names at the top', () => {
    expect(Object.keys(moelab).sort()).toEqual(['ConfigError', 'DataError', 'MOELAB_VERSION', 'PROJECT_ROOT', 'analysis', 'defineSweep', 'fit', 'io', 'model', 'report', 'sweep', 'train']);
    expect(moelab.defineSweep).toBe(moelab.sweep.defineSweep); // experiment files: import { defineSweep } from 'moelab'
    expect(typeof moelab.io.loadSweep).toBe('function');
    expect(typeof moelab.analysis.planFits).toBe('function');
    expect(typeof moelab.fit.fitIsoflop).toBe('function');
    expect(typeof moelab.report.buildReport).toBe('function');
    expect(typeof moelab.sweep.defineStudy).toBe('function');
    expect(typeof moelab.train.lrCurve).toBe('function');
    expect(typeof moelab.model.countParams).toBe('function');
  });

  it('loads a sweep, plans and runs its fits and draws a figure through the namespaces', async () => {
    const info = writeSyntheticSweep(join(tmp, 's'), { studies: ['isoflop'], name: 'api' });
    const sweep = moelab.io.loadSweep(info.dir);
    expect(sweep.runs).toHaveLength(info.runIds.length);
    const { fits } = await moelab.analysis.runFits(sweep, moelab.analysis.planFits(sweep, { kinds: ['isoflop'], bootstrap: 0 }));
    const iso = moelab.analysis.latestFit(fits, 'isoflop')!;
    expect(iso.powerLaws.N_opt.exponent.value).toBeGreaterThan(0.3);
    expect(moelab.report.isoflopFigure(iso).data.length).toBeGreaterThan(0);
  }, 60_000);

  it.each(NOTEBOOKS)('notebooks/%s.ipynb type-checks against src/index.ts', (name) => {
    const nb = JSON.parse(readFileSync(join(ROOT, 'notebooks', `${name}.ipynb`), 'utf8')) as { cells: { cell_type: string; source: string | string[] }[] };
    const code = nb.cells
      .filter((c) => c.cell_type === 'code')
      .map((c) => (Array.isArray(c.source) ? c.source.join('') : c.source))
      .join('\n')
      .replaceAll('from "moelab"', `from ${JSON.stringify(join(ROOT, 'src/index.ts'))}`);
    // The check's files sit in the repository (tsconfig.json and @types/node resolve from there).
    const dir = mkdtempSync(join(ROOT, '.notebook-check-'));
    try {
      writeFileSync(join(dir, `${name}.ts`), `${code}\nexport {};\n`);
      writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ extends: '../tsconfig.json', compilerOptions: { noEmit: true, noUnusedLocals: false }, include: [], files: [`${name}.ts`] }));
      const r = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'tsconfig.json')], { encoding: 'utf8' });
      expect(r.stdout + r.stderr).toBe('');
      expect(r.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
