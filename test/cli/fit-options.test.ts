// `moelab fit` flags on small CSVs from known laws: --objective, --tie, --fix, --predict, --dropna,
// --dedupe, --lmin-law, --window, --group-col/--x2-col, --max-iterations with the non-zero exit of an
// unconverged fit (and --allow-unconverged), --allow-unidentified on degenerate data.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chinchillaLoss, chinchillaOptimal, CHINCHILLA_PAPER_UNROUNDED as P } from '../../src/fit/index.ts';

const root = new URL('../../', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'moelab-cli-fit-opts-'));

function moelab(args: string[]) {
  const r = spawnSync('node', ['bin/moelab.js', ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const truth = { E: 1.7, A: 400, B: 900, alpha: 0.3, beta: 0.3 };
/** N, D, loss rows of a law with alpha = beta, on six budgets (tab-separated, as pandas writes with sep='\t'). */
function parametricTsv(): string {
  const lines = ['N\tD\tloss'];
  for (const C of [1e17, 3e17, 1e18, 3e18, 1e19, 3e19]) {
    for (let k = -4; k <= 4; k++) {
      const N = Math.sqrt(C / 120) * Math.pow(10, k / 4);
      const D = C / (6 * N);
      lines.push(`${N}\t${D}\t${chinchillaLoss(truth, N, D)}`);
    }
  }
  lines.push('1e9\tnan\t3.1');
  return `${lines.join('\n')}\n`;
}

describe('moelab fit: objectives, tie, fix, predict, dropna', () => {
  const csv = join(dir, 'runs.tsv');
  const pred = join(dir, 'predict.csv');
  writeFileSync(csv, parametricTsv());
  writeFileSync(pred, 'N,D\n1e9,2e10\n');

  it('parametric --objective lsq-log --tie alpha=beta --fix E=1.7 --predict --dropna on a TSV', () => {
    const file = join(dir, 'p.json');
    const r = moelab(['fit', 'parametric', '--csv', csv, '--dropna', '--grid', 'coarse', '--bootstrap', '20', '--holdout', 'none', '--objective', 'lsq-log', '--tie', 'alpha=beta', '--fix', 'E=1.7', '--predict', pred, '--out', file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rec = JSON.parse(readFileSync(file, 'utf8'));
    expect(rec.diagnostics.loss).toBe('lsq-log');
    expect(rec.params.E).toEqual({ value: 1.7, ci95: null });
    expect(rec.params.alpha.value).toBe(rec.params.beta.value);
    expect(rec.params.alpha.value).toBeCloseTo(0.3, 4);
    expect(rec.data.dropped).toEqual([{ row: `${csv}:56`, reason: 'missing value in column "D" ("nan")' }]);
    expect(rec.predictions[0].values.loss.value).toBeCloseTo(chinchillaLoss(truth, 1e9, 2e10), 4);
    expect(rec.convergence).toEqual({ converged: true, reasons: [] });
    expect(r.stdout).toMatch(/prediction\s+N\s+D\s+loss\s+95% CI/);
    expect(r.stdout).toMatch(/dropped\s+reason\n.*\n.*runs\.tsv:56\s+missing value in column "D"/);
  }, 60_000);

  it('--max-iterations 2: the fit does not converge, exits 3 and says why; --allow-unconverged exits 0', () => {
    const file = join(dir, 'u.json');
    const args = ['fit', 'parametric', '--csv', csv, '--dropna', '--grid', 'coarse', '--bootstrap', '0', '--holdout', 'none', '--max-iterations', '2', '--out', file];
    const r = moelab(args);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/fit did not converge: main fit: lbfgs stopped by "max-iterations" after 2 iterations/);
    expect(JSON.parse(readFileSync(file, 'utf8')).convergence.converged).toBe(false);
    const ok = moelab([...args, '--allow-unconverged']);
    expect(ok.code).toBe(0);
    expect(ok.stderr).toMatch(/--allow-unconverged: exit 0/);
  }, 60_000);

  it('degenerate data (one budget) exits 1 naming the problem; --allow-unidentified writes a record marked so', () => {
    const one = join(dir, 'one.csv');
    const rows = parametricTsv().trim().split('\n').slice(1, 10).map((l) => l.replaceAll('\t', ','));
    writeFileSync(one, `N,D,loss\n${rows.join('\n')}\n`);
    const r = moelab(['fit', 'parametric', '--csv', one, '--grid', 'coarse', '--bootstrap', '0', '--holdout', 'none']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not identifiable — ln N and ln D move in lock-step/);
    const file = join(dir, 'one.json');
    const ok = moelab(['fit', 'parametric', '--csv', one, '--grid', 'coarse', '--bootstrap', '0', '--holdout', 'none', '--allow-unidentified', '--allow-unconverged', '--out', file]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/NOT IDENTIFIED \(--allow-unidentified\): ln N and ln D move in lock-step/);
    expect(JSON.parse(readFileSync(file, 'utf8')).identifiability.identified).toBe(false);
  }, 60_000);
});

describe('moelab fit: isoflop and deepseek flags', () => {
  it('isoflop --window 2 --lmin-law saturating --dedupe --predict', () => {
    const csv = join(dir, 'iso.csv');
    const lines = ['budget,N,loss'];
    for (const C of [1e18, 3e18, 1e19, 3e19, 1e20]) {
      const Nopt = chinchillaOptimal(P, C).N;
      for (let k = -3; k <= 3; k++) {
        const N = Nopt * Math.pow(10, k / 5 + 0.05);
        lines.push(`${C},${N},${chinchillaLoss(P, N, C / (6 * N))}`);
      }
    }
    lines.push(lines[3]); // a duplicated row
    writeFileSync(csv, `${lines.join('\n')}\n`);
    const pred = join(dir, 'iso-pred.csv');
    writeFileSync(pred, 'budget\n1e21\n');
    expect(moelab(['fit', 'isoflop', '--csv', csv, '--bootstrap', '0']).stderr).toMatch(/1 duplicate row \(line 37 repeats line 4\).*--dedupe/);
    const file = join(dir, 'iso.json');
    const r = moelab(['fit', 'isoflop', '--csv', csv, '--dedupe', '--window', '2', '--lmin-law', 'saturating', '--bootstrap', '30', '--predict', pred, '--out', file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rec = JSON.parse(readFileSync(file, 'utf8'));
    expect(rec.options).toMatchObject({ window: 2, lminLaw: 'saturating' });
    expect(rec.powerLaws.L_min.expression).toBe('L_min = E + A * C^(-alpha)');
    expect(rec.data.dropped).toEqual([{ row: `${csv}:37`, reason: 'duplicate of line 4' }]);
    const N21 = rec.predictions[0].values.N_opt.value;
    expect(Math.abs(N21 / chinchillaOptimal(P, 1e21).N - 1)).toBeLessThan(0.05);
    expect(r.stdout).toMatch(/3 of 7/);
  }, 60_000);

  it('deepseek --budget-col N --x2-col D --group-col cell: two-variable laws, labels from the columns', () => {
    const csv = join(dir, 'hp.csv');
    const lines = ['cell,N,D,lr,batch,loss'];
    for (const N of [1e7, 1e8, 1e9]) {
      for (const D of [1e9, 1e10, 1e11]) {
        const lrStar = 0.5 * Math.pow(N, -0.3) * Math.pow(D, 0.1);
        const bStar = 2 * Math.pow(N, 0.2) * Math.pow(D, 0.4);
        for (let i = -2; i <= 2; i++) {
          for (let j = -2; j <= 2; j++) {
            const lr = lrStar * Math.pow(2, i / 2);
            const B = bStar * Math.pow(2, j);
            lines.push(`n${N}d${D},${N},${D},${lr},${B},${3 * (1 + 0.01 * (Math.log(lr / lrStar) ** 2 + 0.5 * Math.log(B / bStar) ** 2))}`);
          }
        }
      }
    }
    writeFileSync(csv, `${lines.join('\n')}\n`);
    const file = join(dir, 'hp.json');
    const r = moelab(['fit', 'deepseek', '--csv', csv, '--budget-col', 'N', '--x2-col', 'D', '--group-col', 'cell', '--batch-col', 'batch', '--selection', 'best', '--bootstrap', '0', '--out', file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rec = JSON.parse(readFileSync(file, 'utf8'));
    expect(rec.form).toBe('lr_opt = kLr * N^aLr * D^bLr; batch_opt = kBatch * N^aBatch * D^bBatch');
    expect(rec.params.aLr.value).toBeCloseTo(-0.3, 6);
    expect(rec.params.bBatch.value).toBeCloseTo(0.4, 6);
    expect(rec.perBudget).toHaveLength(9);
    expect(rec.heldOut[0].label).toMatch(/^lr_opt at N = 1\.00e9, D = /);
  }, 60_000);
});
