// CLI conventions shared by the commands: --set on plan (and sweep: same code path) edits the
// experiment before validation; a bad --set names the field; --results moves the default results
// root; status refuses a folder that is neither a sweep nor a run with the fix.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/util/provenance.ts';

const BIN = join(PROJECT_ROOT, 'bin', 'moelab.js');
const SMOKE = join(PROJECT_ROOT, 'experiments', 'smoke.ts');
const root = mkdtempSync(join(tmpdir(), 'moelab-conventions-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const env = { ...process.env, NO_COLOR: '1', MOELAB_BACKEND: 'wasm' };
delete (env as Record<string, string | undefined>).MOELAB_RESULTS;
const moelab = (args: string[]) => {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: root, encoding: 'utf8', env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

describe('moelab plan --set and --results', () => {
  it('--set edits the experiment before validation; the plan and sweep.json show it', () => {
    const r = moelab(['plan', SMOKE, '--no-estimate', '--set', 'budgets=[1e9]', '--set', 'base.train.lr=0.01', '--json']);
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout) as { runs: { budgetFlops: number; lr: number }[] };
    expect(plan.runs).toHaveLength(2);
    expect(plan.runs.every((x) => x.budgetFlops === 1e9 && x.lr === 0.01)).toBe(true);
    // Without --out: ./results/<name> under the current directory.
    const record = JSON.parse(readFileSync(join(root, 'results', 'smoke', 'sweep.json'), 'utf8'));
    expect(record.source).toBe(`${SMOKE} --set budgets=[1e9] --set base.train.lr=0.01`);
    expect(record.definition.budgets).toEqual([1e9]);
  });

  it('a bad --set is reported like any config problem, and nothing is written', () => {
    const r = moelab(['--results', 'other', 'plan', SMOKE, '--no-estimate', '--set', 'base.train.lr=-1', '--set', 'budgets=[]']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/base\.train\.lr: .*\(got -1\)/);
    expect(r.stderr).toMatch(/budgets: /);
    expect(existsSync(join(root, 'other'))).toBe(false);
    const malformed = moelab(['plan', SMOKE, '--no-estimate', '--set', 'budgets']);
    expect(malformed.stderr).toMatch(/--set: not of the form key\.path=value \(got "budgets"\)/);
  });

  it('--results DIR puts the sweep under DIR', () => {
    const r = moelab(['--results', 'elsewhere', 'plan', SMOKE, '--no-estimate']);
    expect(r.code).toBe(0);
    expect(existsSync(join(root, 'elsewhere', 'smoke', 'plan.json'))).toBe(true);
  });

  it('status on a folder that is neither a sweep nor a run says what it needs', () => {
    const r = moelab(['status', root]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Run `moelab plan FILE`|neither plan\.json nor config\.json/);
  });
});

describe('messages that point to documentation', () => {
  it('every README "Section" / docs/x.md "Section" named in src/ exists as a heading', async () => {
    const { readdirSync, statSync } = await import('node:fs');
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (name.endsWith('.ts')) files.push(path);
      }
    };
    walk(join(PROJECT_ROOT, 'src'));
    const refs: { file: string; doc: string; section: string }[] = [];
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/\b(README|docs\/[\w-]+\.md) \\?"([^"\\]+)\\?"/g)) refs.push({ file, doc: m[1], section: m[2] });
    }
    expect(refs.length).toBeGreaterThan(2);
    const missing = refs.filter(({ doc, section }) => {
      const path = join(PROJECT_ROOT, doc === 'README' ? 'README.md' : doc);
      if (!existsSync(path)) return true;
      const headings = readFileSync(path, 'utf8').split('\n').filter((l) => /^#+ /.test(l)).map((l) => l.replace(/^#+ /, '').trim());
      return !headings.some((h) => h === section || h.startsWith(`${section} `));
    });
    expect(missing).toEqual([]);
  });
});
