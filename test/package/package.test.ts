// moelab as a dependency of someone else's project (docs/package.md): `npm pack` (which builds
// dist/), `npm install <tarball>` into a new empty project with only the npm registry (its cache
// first: --offline, then --prefer-offline), then, as that project's user would:
//   - an experiment file `mine.mts` in the project that imports 'moelab' plans and runs a smoke
//     sweep with `npx moelab`, the results landing under the project's results/;
//   - the same file as `.ts` and `.js` in a project without "type": "module";
//   - a plain `node` script imports the fit API and fits;
//   - the project's own tsc (NodeNext) type-checks a file importing 'moelab'.
// Slow-ish (~1 min on a loaded 2-core machine): the pack builds dist/ and npm installs ~300 packages.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/util/provenance.ts';

const root = mkdtempSync(join(tmpdir(), 'moelab-package-'));
const project = join(root, 'project');
afterAll(() => rmSync(root, { recursive: true, force: true }));

const env = { ...process.env, NO_COLOR: '1', MOELAB_BACKEND: 'wasm', MOELAB_RESULTS: '', npm_config_update_notifier: 'false' };
delete (env as Record<string, string | undefined>).MOELAB_RESULTS;

function run(cmd: string, args: string[], cwd: string) {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

const experiment = readFileSync(join(PROJECT_ROOT, 'experiments', 'smoke.ts'), 'utf8')
  .replace("from '../src/sweep/define.ts'", "from 'moelab'")
  .replace('budgets: [1e9, 3e9]', 'budgets: [1e9]');

let tarball = '';
beforeAll(() => {
  const packDir = join(root, 'pack');
  mkdirSync(packDir);
  execFileSync('npm', ['pack', '--pack-destination', packDir, '--loglevel=error'], { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'ignore', 'inherit'] });
  tarball = join(packDir, readdirSync(packDir).find((f) => f.endsWith('.tgz'))!);
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'my-research', private: true, type: 'module' }));
  const npmArgs = ['install', '--no-audit', '--no-fund', '--loglevel=error', tarball];
  let r = run('npm', [...npmArgs, '--offline'], project);
  if (r.code !== 0) r = run('npm', [...npmArgs, '--prefer-offline'], project);
  if (r.code !== 0) throw new Error(`npm install of the packed tarball failed:\n${r.stderr}`);
}, 300_000);

describe('moelab installed from its packed tarball into a new project', () => {
  it('ships dist/ (JS + .d.ts with .js specifiers), bin, the reference data; no TypeScript sources', () => {
    const pkg = join(project, 'node_modules', 'moelab');
    expect(existsSync(join(pkg, 'dist', 'index.js'))).toBe(true);
    expect(existsSync(join(pkg, 'dist', 'cli', 'main.js'))).toBe(true);
    expect(existsSync(join(pkg, 'src'))).toBe(false);
    expect(existsSync(join(pkg, 'data', 'reference', 'chinchilla_svg_extracted_data.csv'))).toBe(true);
    const index = readFileSync(join(pkg, 'dist', 'index.d.ts'), 'utf8');
    expect(index).toMatch(/from '\.\/fit\/index\.js'/);
    expect(index).not.toMatch(/\.ts'/);
    // danfojs-node is an optional peer: its URL-hosted xlsx dependency never reaches the install.
    expect(existsSync(join(project, 'node_modules', 'xlsx'))).toBe(false);
  });

  it('npm ls --all in the project exits 0 (no ELSPROBLEMS)', () => {
    const ls = run('npm', ['ls', '--all'], project);
    expect(ls.stderr).not.toMatch(/ELSPROBLEMS|invalid/);
    expect(ls.stdout).toMatch(/moelab@\d/);
    expect(ls.code).toBe(0);
  });

  it('plans and runs a smoke sweep from a .mts experiment file with npx moelab; results under ./results', () => {
    writeFileSync(join(project, 'mine.mts'), experiment);
    const plan = run('npx', ['moelab', 'plan', 'mine.mts', '--no-estimate'], project);
    expect(plan.stderr).not.toMatch(/Error/);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(/total: 2 runs/);
    expect(plan.stdout).toContain(join(project, 'results', 'smoke', 'plan.json'));

    const sweep = run('npx', ['moelab', 'sweep', 'mine.mts', '--workers', '2'], project);
    expect(sweep.code).toBe(0);
    expect(sweep.stderr).toMatch(/2\/2 runs finished/);
    const runs = readdirSync(join(project, 'results', 'smoke', 'runs'));
    expect(runs.sort()).toEqual(['smoke-30k-C1e9-s0', 'smoke-50k-C1e9-s0']);
    for (const id of runs) {
      const summary = JSON.parse(readFileSync(join(project, 'results', 'smoke', 'runs', id, 'summary.json'), 'utf8'));
      expect(summary.status).toBe('done');
    }
    // --results moves the default results root.
    const moved = run('npx', ['moelab', '--results', 'elsewhere', 'plan', 'mine.mts', '--no-estimate'], project);
    expect(moved.code).toBe(0);
    expect(existsSync(join(project, 'elsewhere', 'smoke', 'plan.json'))).toBe(true);
  });

  it('loads .ts and .js experiment files in a project without "type": "module"', () => {
    const cjs = join(root, 'cjs-project');
    mkdirSync(cjs);
    writeFileSync(join(cjs, 'package.json'), JSON.stringify({ name: 'cjs', private: true }));
    execFileSync('ln', ['-s', join(project, 'node_modules'), join(cjs, 'node_modules')]);
    for (const name of ['mine.ts', 'mine.js']) {
      writeFileSync(join(cjs, name), experiment);
      const r = run('npx', ['moelab', 'plan', name, '--no-estimate', '--out', `out-${name}`], cjs);
      expect(r.stderr).not.toMatch(/Error/);
      expect(r.code).toBe(0);
      expect(existsSync(join(cjs, `out-${name}`, 'plan.json'))).toBe(true);
    }
  });

  it('a plain node script imports the fit API and evaluates the Chinchilla law with it', () => {
    writeFileSync(
      join(project, 'fit.mjs'),
      `import { fit } from 'moelab';
const { chinchillaLoss, fitIsoflop, CHINCHILLA_PAPER_ROUNDED } = fit;
const truth = CHINCHILLA_PAPER_ROUNDED;
console.log(JSON.stringify({ loss: chinchillaLoss(truth, 1e9, 2e10), fitIsoflop: typeof fitIsoflop }));
`,
    );
    const r = run(process.execPath, ['fit.mjs'], project);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout) as { loss: number; fitIsoflop: string };
    // E + A/N^α + B/D^β with the paper's rounded values (1.69, 406.4, 410.7, 0.34, 0.28).
    const expected = 1.69 + 406.4 / 1e9 ** 0.34 + 410.7 / 2e10 ** 0.28;
    expect(out.loss).toBeCloseTo(expected, 10);
    expect(out.fitIsoflop).toBe('function');
  });

  it('without the optional danfojs-node, the DataFrame API says how to install it', () => {
    writeFileSync(
      join(project, 'frame.mjs'),
      `import { report } from 'moelab';
const { runsDataFrame, runTableRows } = report;
try { await runsDataFrame(runTableRows([])); console.log('loaded'); } catch (e) { console.log(e.message); }
`,
    );
    const r = run(process.execPath, ['frame.mjs'], project);
    expect(r.stdout).toMatch(/^danfojs-node is not installed: .*npm install danfojs-node@1\.2\.0.*docs\/package\.md/);
  });

  it("the project's tsc (module NodeNext) type-checks code importing 'moelab'", () => {
    writeFileSync(
      join(project, 'check.mts'),
      `import { defineSweep, fit as moefit } from 'moelab';
type ParametricFit = moefit.ParametricFit;
const fitParametric = moefit.fitParametric;
export const sweep = defineSweep({ name: 'x', kind: 'isoflop', family: { builder: 'hunyuan', seqLen: 32 }, budgets: [1e9], activatedParams: [3e4] });
export const fit: typeof fitParametric = fitParametric;
export type Fit = ParametricFit;
// @ts-expect-error: a wrong type is caught through the shipped declarations
export const bad: ParametricFit = 3;
`,
    );
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2022',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          typeRoots: [join(PROJECT_ROOT, 'node_modules', '@types')],
          types: ['node'],
        },
        files: ['check.mts'],
      }),
    );
    const r = run(process.execPath, [join(PROJECT_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], project);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});
