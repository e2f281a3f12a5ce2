// A full disk under a sweep: the runner records the run it cannot start as failed (naming the
// disk) and goes on, instead of dying with an uncaught ENOSPC (the error is injected at the fs
// layer for one run's folder). Where this machine lets the test mount a small tmpfs (root), the
// real trainer is also run on a full filesystem: one message naming the path, no temp files left.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';

const inject = vi.hoisted(() => ({ failPath: '' }));

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const patched = {
    ...fs,
    openSync: ((path: string, ...rest: unknown[]) => {
      if (inject.failPath && String(path).includes(inject.failPath)) {
        throw Object.assign(new Error(`ENOSPC: no space left on device, open '${path}'`), { code: 'ENOSPC', errno: -28, syscall: 'open', path });
      }
      return (fs.openSync as (...a: unknown[]) => number)(path, ...rest);
    }) as typeof fs.openSync,
  };
  return { ...patched, default: patched };
});

const { runSweep } = await import('../../src/sweep/runner.ts');
const { fakeCommand, makeTinySweep } = await import('../helpers/sweep.ts');
const { PROJECT_ROOT } = await import('../../src/util/provenance.ts');

describe('a full disk under the sweep runner', () => {
  it('records the run it cannot start as failed, names the disk, and finishes the others', async () => {
    const { dir, plan } = makeTinySweep({ name: 'full-disk', lrs: [1e-3, 2e-3, 3e-3], steps: 5 });
    inject.failPath = join(plan.runs[1].runId, 'worker.log');
    const events: string[] = [];
    const outcome = await runSweep({
      sweepDir: dir,
      workers: 1,
      command: fakeCommand,
      pollMs: 50,
      onEvent: (e) => {
        if (e.type === 'failed') events.push(e.reason);
      },
    });
    inject.failPath = '';
    expect(outcome.failed).toEqual([plan.runs[1].runId]);
    expect(outcome.done.sort()).toEqual([plan.runs[0].runId, plan.runs[2].runId].sort());
    expect(events[0]).toMatch(/no space left on the disk of .*full-disk\/runs\/.* \(ENOSPC\)/);
  }, 60_000);
});

/** Mount a tmpfs of `size` at a fresh folder, or undefined when this machine does not allow it. */
function mountTmpfs(size: string): string | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'moelab-tmpfs-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  if (r.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
  return dir;
}

const mounted = mountTmpfs('600k');
afterAll(() => {
  if (mounted) {
    spawnSync('umount', [mounted]);
    rmSync(mounted, { recursive: true, force: true });
  }
});

describe.skipIf(!mounted)('moelab train on a real full filesystem (tmpfs)', () => {
  it('fails with one message naming the path and leaves no temp file', () => {
    const root = mounted as string;
    const cfg = join(tmpdir(), `moelab-full-${process.pid}.json`);
    // ~76k parameters: a checkpoint (weights + AdamW moments ≈ 0.9 MB) cannot fit in 600 kB.
    writeFileSync(
      cfg,
      JSON.stringify({
        seed: 1,
        model: { vocabSize: 256, seqLen: 32, dModel: 32, numLayers: 2, numHeads: 2, dFf: 64, numExperts: 4, numSharedExperts: 1, topK: 1 },
        data: { valTokens: 8192 },
        train: { tokens: 10 * 4 * 32, batchSize: 4, lr: 0.01, evalEvery: 5, evalBatches: 2, checkpointEvery: 5, logEvery: 5 },
      }),
    );
    mkdirSync(join(root, 'runs'));
    const out = join(root, 'runs', 'r');
    let stderr = '';
    try {
      execFileSync(process.execPath, [join(PROJECT_ROOT, 'bin', 'moelab.js'), 'train', '--config', cfg, '--out', out, '--quiet'], {
        env: { ...process.env, MOELAB_BACKEND: 'wasm' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (err) {
      stderr = String((err as { stderr: Buffer }).stderr);
    }
    rmSync(cfg, { force: true });
    expect(stderr).toMatch(/moelab: DiskFullError: no space left to write .*\/runs\/r\/checkpoint\/step-000005\.tmp-\d+\/(weights|optimizer)\.bin \(ENOSPC\)\. Free space/);
    expect(stderr).not.toMatch(/\n\s+at /); // no stack trace
    const leftovers: string[] = [];
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        if (/\.tmp-/.test(e.name)) leftovers.push(join(d, e.name));
        if (e.isDirectory()) walk(join(d, e.name));
      }
    };
    walk(out);
    expect(leftovers).toEqual([]);
  }, 120_000);
});
