// `npm ls --all` is clean on a fresh install of the clone (it used to report ELSPROBLEMS for
// the tfjs-node shim). The clone's package.json, lockfile and shims/ are copied into a temporary
// folder and installed with `npm ci` from the npm cache (--offline, then --prefer-offline), install
// scripts off (the optional native @tensorflow/tfjs-node downloads libtensorflow in its script; npm
// ls checks the tree, not the binaries). Then: `npm ls --all` exits 0, danfojs-node's
// @tensorflow/tfjs-node is the shim (not the native package), and danfojs-node loads through it.
// Slow (~1 min on a loaded 2-core machine: ~500 packages).
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/util/provenance.ts';

const root = mkdtempSync(join(tmpdir(), 'moelab-npm-ls-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const env = { ...process.env, NO_COLOR: '1', npm_config_update_notifier: 'false' };

function run(cmd: string, args: string[]) {
  const r = spawnSync(cmd, args, { cwd: root, env, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

beforeAll(() => {
  for (const f of ['package.json', 'package-lock.json', 'shims']) cpSync(join(PROJECT_ROOT, f), join(root, f), { recursive: true });
  const args = ['ci', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'];
  let r = run('npm', [...args, '--offline']);
  if (r.code !== 0) r = run('npm', [...args, '--prefer-offline']);
  if (r.code !== 0) throw new Error(`npm ci of the clone's lockfile failed:\n${r.stderr}`);
}, 300_000);

describe('npm ls on a fresh install of the clone', () => {
  it('npm ls and npm ls --all exit 0 (no ELSPROBLEMS)', () => {
    const top = run('npm', ['ls']);
    expect(top.stderr).not.toMatch(/ELSPROBLEMS|invalid/);
    expect(top.code).toBe(0);
    const all = run('npm', ['ls', '--all']);
    expect(all.stderr).not.toMatch(/ELSPROBLEMS|invalid/);
    expect(all.stdout).toMatch(/danfojs-node@1\.2\.0/);
    expect(all.code).toBe(0);
  });

  it("danfojs-node's @tensorflow/tfjs-node is the shim, and danfojs-node loads through it", () => {
    const link = join(root, 'node_modules', 'danfojs-node', 'node_modules', '@tensorflow', 'tfjs-node');
    expect(realpathSync(link)).toBe(realpathSync(join(root, 'shims', 'tfjs-node')));
    expect(JSON.parse(readFileSync(join(link, 'package.json'), 'utf8')).version).toMatch(/moelab-shim/);
    const r = spawnSync(process.execPath, ['-e', "import('danfojs-node').then((d) => console.log(JSON.stringify(new d.DataFrame([{ a: 1 }, { a: 2 }]).shape)))"], {
      cwd: root,
      env,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.stdout.trim()).toBe('[2,1]');
  }, 120_000);
});
