// `moelab dashboard` in a real headless chromium (Debian's, via playwright-core) while a real
// smoke sweep (experiments/smoke.ts, 4 runs, one worker) trains: the page updates without reload,
// run states change pending → running → done, the running run's loss curve grows, finished runs
// show their validation loss, and there are no page errors or requests outside the server.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startDashboard, snapshotJson } from '../../src/dashboard/server.ts';
import { dashboardFit, thin } from '../../src/dashboard/snapshot.ts';
import { CHROMIUM_ARGS, chromiumPath } from '../../src/report/export.ts';
import type { TrackedRun } from '../../src/sweep/tracking.ts';
import { PROJECT_ROOT } from '../../src/util/provenance.ts';

const BIN = join(PROJECT_ROOT, 'bin', 'moelab.js');
const root = mkdtempSync(join(tmpdir(), 'moelab-dashboard-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const env = { ...process.env, MOELAB_BACKEND: 'wasm', NO_COLOR: '1' };

function cli(args: string[]) {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: root, env });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<{ code: number | null; stderr: string }>((r) => child.on('exit', (code) => r({ code, stderr })));
  return { child, done };
}

describe('snapshot helpers', () => {
  it('thin keeps at most max points, evenly, and always the last', () => {
    const xs = Array.from({ length: 1000 }, (_, i) => i);
    const t = thin(xs, 100);
    expect(t.length).toBeLessThanOrEqual(101);
    expect(t[0]).toBe(0);
    expect(t.at(-1)).toBe(999);
    expect(thin([1, 2, 3], 100)).toEqual([1, 2, 3]);
  });

  it('fits isoFLOP parabolas once two budgets have three finished sizes, from a known optimum', () => {
    // L(N) = 3 + 0.05·(ln N − ln N*)² at each budget, N* = 1e4·(C/1e9)^0.5.
    const run = (budget: number, N: number, state: TrackedRun['state'] = 'done'): TrackedRun => {
      const nStar = 1e4 * (budget / 1e9) ** 0.5;
      return {
        runId: `r-${N}-${budget}`, index: 0, state, step: 1, steps: 1, tokens: budget / (6 * N),
        trainLoss: null, valLoss: 3 + 0.05 * Math.log(N / nStar) ** 2, tokensPerSec: null, etaSeconds: 0, kind: 'isoflop',
        budgetFlops: budget, activatedParams: N, totalParams: N, computeFlops: budget, lr: 1e-3, batchSize: 1, schedule: 'cosine', seed: 0, detail: '',
      };
    };
    const sizes = [2e3, 5e3, 1e4, 2e4, 5e4, 1e5];
    const waiting = dashboardFit([...sizes.map((n) => run(1e9, n)), run(1e11, 1e4), run(1e11, 1e5)], 'isoflop');
    expect(waiting.status).toBe('waiting');
    expect(waiting.message).toMatch(/needs 3 finished sizes in each of 2 budgets \(1 budget\(s\) ready, 8 run\(s\) done\)/);
    const fit = dashboardFit([...sizes.map((n) => run(1e9, n)), ...sizes.map((n) => run(1e11, n)), run(1e11, 3e4, 'running')], 'isoflop');
    expect(fit.status).toBe('fitted');
    expect(fit.budgets!.map((b) => b.sizes)).toEqual([6, 6]);
    expect(fit.budgets![0].N_opt).toBeCloseTo(1e4, -1);
    expect(fit.budgets![1].N_opt).toBeCloseTo(1e5, -2);
    expect(fit.a!).toBeCloseTo(0.5, 6);
    expect(dashboardFit([], 'schedules').message).toMatch(/no live fit for a schedules sweep/);
  });

  it('writes JSON without NaN or Infinity (null instead)', () => {
    const json = snapshotJson({ etaSeconds: Infinity, runs: [{ valLoss: NaN }] } as never);
    expect(json).toBe('{"etaSeconds":null,"runs":[{"valLoss":null}]}');
  });
});

const skip = !existsSync(chromiumPath()) ? `chromium not found at ${chromiumPath()} (scripts/setup.sh --report)` : undefined;
if (skip) console.warn(`[dashboard browser test] SKIPPED: ${skip}`);

describe.skipIf(skip !== undefined)('dashboard in headless chromium during a running sweep', () => {
  it('follows the sweep: states change, curves grow, no page errors, no reload', async () => {
    const sweepDir = join(root, 'smoke');
    const planned = await cli(['plan', join(PROJECT_ROOT, 'experiments', 'smoke.ts'), '--no-estimate', '--out', sweepDir]).done;
    expect(planned.code).toBe(0);

    const dashboard = await startDashboard({ sweepDir, pollMs: 200, minIntervalMs: 100 });
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS, headless: true });
    const pageErrors: string[] = [];
    const external: string[] = [];
    let navigations = 0;
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 1000 } });
      page.on('pageerror', (e) => pageErrors.push(e.message));
      page.on('console', (m) => {
        if (m.type() === 'error') pageErrors.push(m.text());
      });
      page.on('framenavigated', () => navigations++);
      await page.route('**/*', (route) => {
        const url = route.request().url();
        if (url.startsWith(dashboard.url)) return route.continue();
        external.push(url);
        return route.abort();
      });
      await page.goto(dashboard.url, { waitUntil: 'load' });
      await page.waitForFunction(() => Number(document.body.dataset.updates) > 0, undefined, { timeout: 30_000 });

      const sample = () =>
        page.evaluate(() => ({
          states: Object.fromEntries(Array.from(document.querySelectorAll<HTMLElement>('#runs tbody tr')).map((tr) => [tr.dataset.runId!, tr.dataset.state!])),
          trainPoints: Object.fromEntries(
            ((document.getElementById('fig-train') as unknown as { data?: { name: string; x: unknown[] }[] }).data ?? []).map((t) => [t.name, t.x.length]),
          ),
          updates: Number(document.body.dataset.updates),
          status: document.getElementById('status')!.textContent ?? '',
        }));
      const first = await sample();
      const runIds = Object.keys(first.states);
      expect(runIds).toHaveLength(4);
      expect(Object.values(first.states).every((s) => s === 'pending')).toBe(true);

      const sweep = cli(['sweep', join(PROJECT_ROOT, 'experiments', 'smoke.ts'), '--out', sweepDir, '--workers', '1']);
      let ended = false;
      void sweep.done.then(() => (ended = true));
      const history = new Map<string, string[]>(runIds.map((id) => [id, []]));
      const pointsWhileRunning = new Map<string, Set<number>>(runIds.map((id) => [id, new Set()]));
      while (!ended) {
        const s = await sample();
        for (const id of runIds) {
          const h = history.get(id)!;
          if (h.at(-1) !== s.states[id]) h.push(s.states[id]);
          if (s.states[id] === 'running' && s.trainPoints[id] !== undefined) pointsWhileRunning.get(id)!.add(s.trainPoints[id]);
        }
        await new Promise((r) => setTimeout(r, 150));
      }
      const result = await sweep.done;
      expect(result.code).toBe(0);
      await page.waitForFunction(() => document.querySelectorAll('#runs tbody tr[data-state="done"]').length === 4, undefined, { timeout: 30_000 });
      const last = await sample();

      // Every run went pending → … → done, and at least one was seen running on the page.
      for (const id of runIds) {
        const h = [...history.get(id)!, last.states[id]];
        expect(h[0]).toBe('pending');
        expect(h.at(-1)).toBe('done');
      }
      expect([...history.values()].some((h) => h.includes('running'))).toBe(true);
      // A running run's training curve grew while the page watched it.
      expect([...pointsWhileRunning.values()].some((p) => p.size >= 2)).toBe(true);
      for (const id of runIds) expect(last.trainPoints[id]).toBeGreaterThan(2);
      expect(last.status).toMatch(/^4\/4 done · 0 running · 0 pending · 0 failed · 0 diverged · sweep ETA 0s/);
      expect(last.updates).toBeGreaterThan(first.updates + 5);
      const valTraces = await page.evaluate(() => ((document.getElementById('fig-val') as unknown as { data?: unknown[] }).data ?? []).length);
      expect(valTraces).toBe(4);
      const usageBars = await page.evaluate(() => ((document.getElementById('fig-usage') as unknown as { data?: { y: number[] }[] }).data ?? []).map((t) => t.y.length));
      expect(usageBars.length).toBe(4);
      expect(usageBars.every((n) => n > 1)).toBe(true);
      expect(await page.evaluate(() => document.getElementById('fit')!.textContent)).toMatch(/isoFLOP fit needs 3 finished sizes/);
      expect(navigations).toBe(1); // updates came without reloading
      expect(pageErrors).toEqual([]);
      expect(external).toEqual([]);
      await page.close();
    } finally {
      await browser.close();
      await dashboard.close();
    }
  });
});
