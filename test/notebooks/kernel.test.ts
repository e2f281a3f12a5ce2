// The kernel spec scripts/install-kernel.sh writes carries what tslab needs (its own argv, and
// NODE_OPTIONS and PATH in env), so plain `jupyter nbconvert --execute` runs a notebook with an
// empty environment (no PATH to node_modules/.bin, no NODE_OPTIONS). Installed into a temp prefix
// found through JUPYTER_PATH: the machine's registered kernels are not touched. Reads the
// declarations scripts/run-notebooks.sh writes (node_modules/@types/moelab); skipped, with the
// reason, without Jupyter or those declarations.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/util/provenance.ts';

const root = mkdtempSync(join(tmpdir(), 'moelab-kernel-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const skip = !existsSync('/usr/bin/jupyter-nbconvert')
  ? 'jupyter-nbconvert is not installed (scripts/setup.sh --notebooks)'
  : !existsSync(join(PROJECT_ROOT, 'node_modules', '@types', 'moelab', 'index.d.ts'))
    ? 'node_modules/@types/moelab missing (bash scripts/run-notebooks.sh --prepare)'
    : undefined;
if (skip) console.warn(`[kernel test] SKIPPED: ${skip}`);

describe.skipIf(skip !== undefined)('the tslab kernel spec', () => {
  it('carries argv, NODE_OPTIONS and PATH; plain nbconvert --execute runs a notebook with an empty environment', () => {
    const prefix = join(root, 'prefix');
    const install = spawnSync('bash', [join(PROJECT_ROOT, 'scripts', 'install-kernel.sh'), '--prefix', prefix], { encoding: 'utf8' });
    expect(install.stderr.replace(/.*DeprecationWarning.*\n?/g, '')).toBe('');
    expect(install.status).toBe(0);
    const spec = JSON.parse(readFileSync(join(prefix, 'share', 'jupyter', 'kernels', 'tslab', 'kernel.json'), 'utf8'));
    expect(spec.argv.slice(1)).toEqual([join(PROJECT_ROOT, 'node_modules', 'tslab', 'bin', 'tslab'), 'kernel', '--config-path', '{connection_file}']);
    expect(spec.env.NODE_OPTIONS).toBe('--import tsx --conditions=moelab-source');
    expect(spec.env.PATH.split(':')[0]).toBe(join(PROJECT_ROOT, 'node_modules', '.bin'));

    const out = join(root, 'out');
    const r = spawnSync(
      '/usr/bin/jupyter',
      ['nbconvert', '--to', 'notebook', '--execute', join(PROJECT_ROOT, 'notebooks', 'fit-your-own-law.ipynb'), '--output-dir', out, '--ExecutePreprocessor.timeout=600'],
      { encoding: 'utf8', env: { HOME: process.env.HOME ?? root, PATH: '/usr/bin:/bin', JUPYTER_PATH: join(prefix, 'share', 'jupyter') }, timeout: 900_000 },
    );
    expect(r.stderr).not.toMatch(/CellExecutionError|No such kernel/);
    expect(r.status).toBe(0);
    const executed = JSON.parse(readFileSync(join(out, 'fit-your-own-law.ipynb'), 'utf8')) as { cells: { outputs?: { output_type: string }[] }[] };
    const outputs = executed.cells.flatMap((c) => c.outputs ?? []);
    expect(outputs.length).toBeGreaterThan(3);
    expect(outputs.filter((o) => o.output_type === 'error')).toEqual([]);
  }, 900_000);
});
