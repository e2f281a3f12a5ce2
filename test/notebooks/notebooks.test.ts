// The notebooks execute: scripts/run-notebooks.sh runs every notebooks/*.ipynb with the
// tslab kernel and fails on any cell error or type error. The executed copies are then read back to
// check each notebook computed what it says it does.
//
// Two sweeps, both made here: the real smoke sweep (`moelab sweep experiments/smoke.ts`, 4 tiny
// runs, ~20 s), which every notebook runs on; and the report tests' synthetic sweep
// (test/report/synthetic-sweep.ts, records in the exact results/ layout generated from known laws),
// for the fits' fallback path when the shared data is absent, where the truth is known.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYNTH_LAW, writeSyntheticSweep, type SyntheticSweepInfo } from '../report/synthetic-sweep.ts';

const ROOT = resolve(import.meta.dirname, '../..');
/** The bundled published data (Chinchilla points, Multi-Power Law curves) the notebooks read by default. */
const HAS_REFERENCE_DATA = existsSync(join(ROOT, 'data/reference/chinchilla_svg_extracted_data.csv')) && existsSync(join(ROOT, 'data/reference/multipowerlaw_loss_curves/csv_25'));
const NOTEBOOKS = ['explore-runs.ipynb', 'fit-your-own-law.ipynb', 'lr-schedules.ipynb'];

interface Output {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, string | string[]>;
}
interface Notebook {
  metadata: { kernelspec?: { name?: string } };
  cells: { cell_type: string; source: string | string[]; outputs?: Output[]; execution_count?: number | null }[];
}

const joinText = (t: string | string[] | undefined) => (Array.isArray(t) ? t.join('') : (t ?? ''));

function readNotebook(path: string): Notebook {
  return JSON.parse(readFileSync(path, 'utf8')) as Notebook;
}

/** Everything a notebook printed (stdout streams), in order. */
function stdoutOf(nb: Notebook): string {
  return nb.cells.flatMap((c) => c.outputs ?? []).filter((o) => o.output_type === 'stream' && o.name === 'stdout').map((o) => joinText(o.text)).join('');
}

/** Every text/html output of a notebook. */
function htmlOf(nb: Notebook): string[] {
  return nb.cells.flatMap((c) => c.outputs ?? []).filter((o) => o.data?.['text/html'] !== undefined).map((o) => joinText(o.data!['text/html']));
}

/** `label: k = v, k = v, …` (the notebooks' closing summary lines) → {k: v}. */
function paramsAfter(text: string, label: string): Record<string, number> {
  const line = text.split('\n').find((l) => l.startsWith(`${label}: `));
  expect(line, `a line starting "${label}: "`).toBeDefined();
  return Object.fromEntries(line!.slice(label.length + 2).split(', ').map((kv) => kv.split(' = ')).map(([k, v]) => [k, Number(v)]));
}

/** `law: …; predicted mean |rel err|: curve 0.19%, curve 0.14%` → {curve: percent}. */
function predictedErrors(text: string, law: string): Record<string, number> {
  const line = text.split('\n').find((l) => l.startsWith(`${law}: `));
  expect(line, `a line starting "${law}: "`).toBeDefined();
  const list = line!.split('predicted mean |rel err|: ')[1];
  return Object.fromEntries(list.split(', ').map((item) => {
    const m = /^(.*) ([\d.]+)%$/.exec(item)!;
    return [m[1], Number(m[2])];
  }));
}

function run(args: string[], env: Record<string, string> = {}, timeoutMs = 240_000) {
  const res = spawnSync('bash', ['scripts/run-notebooks.sh', ...args], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1', ...env },
    encoding: 'utf8',
    timeout: timeoutMs,
  });
  return { status: res.status, out: `${res.stdout}\n${res.stderr}` };
}

let work: string;
let smokeDir: string;
let sweep: SyntheticSweepInfo;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'moelab-notebooks-'));
  smokeDir = join(work, 'smoke');
  const res = spawnSync(process.execPath, ['bin/moelab.js', 'sweep', 'experiments/smoke.ts', '--out', smokeDir], { cwd: ROOT, encoding: 'utf8', timeout: 240_000 });
  if (res.status !== 0) throw new Error(`moelab sweep experiments/smoke.ts failed (exit ${res.status}):\n${res.stdout}\n${res.stderr}`);
  sweep = writeSyntheticSweep(join(work, 'synthetic'), { studies: ['isoflop', 'lr-batch', 'schedule'], name: 'notebooks-test' });
}, 300_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('notebooks/', () => {
  it('holds the three notebooks, on the tslab kernel, committed without outputs', () => {
    const found = readdirSync(join(ROOT, 'notebooks')).filter((f) => f.endsWith('.ipynb')).sort();
    expect(found).toEqual([...NOTEBOOKS].sort());
    for (const f of found) expect(readNotebook(join(ROOT, 'notebooks', f)).metadata.kernelspec?.name).toBe('tslab');
    const res = run(['--check-clean']);
    expect(res.out).not.toContain('FAIL');
    expect(res.status).toBe(0);
  });

  it('every notebook executes cleanly on the smoke sweep', () => {
    const out = join(work, 'executed');
    const res = run(['--out', out], { MOELAB_NOTEBOOK_SWEEP: smokeDir });
    expect(res.out).toContain(`${NOTEBOOKS.length} notebooks ok, 0 failed`);
    expect(res.status).toBe(0);

    // Plotly is inlined once per notebook that plots (one output holds the bundle; figures are a div
    // and a short script each), so an executed notebook is the bundle plus its data, not a copy per plot.
    for (const f of NOTEBOOKS) {
      const outputs = htmlOf(readNotebook(join(out, f)));
      const bundles = outputs.filter((h) => h.includes('* plotly.js v')).length;
      expect(bundles, f).toBeLessThanOrEqual(1);
      const plots = outputs.filter((h) => h.includes('class="moelab-plot"'));
      expect(plots.every((h) => h.length < 1_000_000), f).toBe(true);
    }

    // explore-runs: one table row per smoke run (2 budgets × 2 sizes), the budgets grouped, and
    // figures for loss curves, isoFLOP slices and expert usage (the smoke runs are MoE).
    const explore = readNotebook(join(out, 'explore-runs.ipynb'));
    const html = htmlOf(explore);
    const smokeRuns = readdirSync(join(smokeDir, 'runs')).length;
    expect(smokeRuns).toBe(4);
    expect(html.some((h) => h.includes('id="table-runs"') && h.includes(`data-rows="${smokeRuns}"`))).toBe(true);
    expect(stdoutOf(explore)).toContain(`${smokeRuns} runs × 29 columns`);
    expect(stdoutOf(explore)).toContain('finalValLoss_min');
    const plots = html.filter((h) => h.includes('class="moelab-plot"'));
    for (const id of ['loss-vs-tokens', 'loss-vs-flops', 'isoflop-slices', 'expert-usage']) expect(plots.some((h) => h.includes(`id="moelab-${id}-`))).toBe(true);

    // fit-your-own-law and lr-schedules on the published data vendored in data/reference/.
    expect(HAS_REFERENCE_DATA).toBe(true);
    const fit = stdoutOf(readNotebook(join(out, 'fit-your-own-law.ipynb')));
    expect(fit).toContain('240 points from Chinchilla points');
    // The built-in fit reproduces Epoch's re-fit of these 240 points (docs/references.md#chinchilla-approach-3).
    const builtin = paramsAfter(fit, 'built-in fit');
    expect(builtin.E).toBeCloseTo(1.82, 1);
    expect(builtin.alpha).toBeCloseTo(0.348, 2);
    expect(builtin.beta).toBeCloseTo(0.366, 2);
    expect(Object.keys(paramsAfter(fit, 'your law')).sort()).toEqual(['A', 'B', 'E', 'alpha']);

    const lr = stdoutOf(readNotebook(join(out, 'lr-schedules.ipynb')));
    for (const law of ['multipower', 'tissue']) {
      const errors = predictedErrors(lr, law);
      expect(Object.keys(errors).sort()).toEqual(['wsd_20000_24000', 'wsdld_20000_24000']);
      for (const e of Object.values(errors)) expect(e).toBeLessThan(0.5); // percent; docs/references.md#tissue: 0.04–0.37%
    }
  }, 420_000);

  it('without the shared data, the fits fall back to the sweep and recover the laws it was made from', () => {
    const out = join(work, 'executed-fallback');
    const res = run(['notebooks/fit-your-own-law.ipynb', 'notebooks/lr-schedules.ipynb', '--out', out], {
      MOELAB_NOTEBOOK_SWEEP: sweep.dir,
      MOELAB_REFERENCE_DATA: join(work, 'no-shared-data'),
    });
    expect(res.out).toContain('2 notebooks ok, 0 failed');
    expect(res.status).toBe(0);

    const fit = stdoutOf(readNotebook(join(out, 'fit-your-own-law.ipynb')));
    expect(fit).toContain(`${sweep.isoflopRunIds.length} points from isoFLOP runs`);
    // The synthetic isoFLOP losses follow SYNTH_LAW exactly (plus 0.2% noise).
    const p = paramsAfter(fit, 'built-in fit');
    expect(p.E).toBeCloseTo(SYNTH_LAW.E, 1);
    expect(p.alpha).toBeCloseTo(SYNTH_LAW.alpha, 1);
    expect(p.beta).toBeCloseTo(SYNTH_LAW.beta, 1);
    expect(Math.abs(p.A / SYNTH_LAW.A - 1)).toBeLessThan(0.15);
    expect(Math.abs(p.B / SYNTH_LAW.B - 1)).toBeLessThan(0.15);

    // Three schedule runs made by Tissue et al.'s law: two fitted, the third predicted.
    const lr = stdoutOf(readNotebook(join(out, 'lr-schedules.ipynb')));
    expect(lr).toContain('valLoss');
    const errors = predictedErrors(lr, 'tissue');
    expect(Object.keys(errors)).toHaveLength(1);
    expect(Object.values(errors)[0]).toBeLessThan(1.5);
  }, 300_000);
});

describe('scripts/run-notebooks.py', () => {
  /** A one-off notebook on the tslab kernel with the given code cells. */
  function notebook(name: string, cells: string[]): string {
    const path = join(work, name);
    const nb = {
      nbformat: 4,
      nbformat_minor: 5,
      metadata: { kernelspec: { name: 'tslab', display_name: 'TypeScript', language: 'typescript' } },
      cells: cells.map((source, i) => ({ id: `c${i}`, cell_type: 'code', metadata: {}, source, outputs: [], execution_count: null })),
    };
    writeFileSync(path, JSON.stringify(nb));
    return path;
  }

  it('fails on a type error and on an exception, naming the cell and the message', () => {
    const typeError = notebook('type-error.ipynb', ['const ok: number = 1;', 'const bad: number = "not a number";', 'console.log("never runs")']);
    const thrown = notebook('throws.ipynb', ['throw new Error("boom from a cell");']);
    const clean = notebook('clean.ipynb', ['const x: number = 6 * 7;', 'console.log(`answer ${x}`)']);
    const res = spawnSync('/usr/bin/python3', ['scripts/run-notebooks.py', typeError, thrown, clean], {
      cwd: ROOT,
      env: { ...process.env, PATH: `${join(ROOT, 'node_modules/.bin')}:${process.env.PATH}` },
      encoding: 'utf8',
      timeout: 180_000,
    });
    expect(res.status).toBe(1);
    expect(res.stdout).toMatch(/FAIL .*type-error\.ipynb, cell 1:/);
    expect(res.stdout).toContain("Type 'string' is not assignable to type 'number'");
    expect(res.stdout).toMatch(/FAIL .*throws\.ipynb, cell 0:/);
    expect(res.stdout).toContain('boom from a cell');
    expect(res.stdout).toMatch(/ok {3}.*clean\.ipynb/);
    expect(res.stdout).toContain('1 notebooks ok, 2 failed');
  }, 200_000);

  it('--check-clean refuses a notebook with outputs', () => {
    const path = notebook('dirty.ipynb', ['1 + 1']);
    const nb = JSON.parse(readFileSync(path, 'utf8'));
    nb.cells[0].execution_count = 1;
    nb.cells[0].outputs = [{ output_type: 'stream', name: 'stdout', text: '2\n' }];
    writeFileSync(path, JSON.stringify(nb));
    const res = spawnSync('/usr/bin/python3', ['scripts/run-notebooks.py', '--check-clean', path], { cwd: ROOT, encoding: 'utf8' });
    expect(res.status).toBe(1);
    expect(res.stdout).toMatch(/dirty\.ipynb: code cells \[0\] carry outputs/);
  });
});
