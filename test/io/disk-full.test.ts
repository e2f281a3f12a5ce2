// A full disk, injected at the fs layer (every write past a byte budget fails with ENOSPC, as a
// full filesystem does): one DiskFullError naming the path, no temp file left behind, the previous
// version of a file intact, and a run lock that is never left empty. test/sweep/disk-full.test.ts
// runs the real thing on a small tmpfs where the machine allows mounting one.
import * as realFs from 'node:fs';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';

/** Bytes the "disk" still takes; Infinity = not full. */
const disk = vi.hoisted(() => ({ left: Infinity }));

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const enospc = (path: string) => Object.assign(new Error(`ENOSPC: no space left on device, write '${path}'`), { code: 'ENOSPC', errno: -28, syscall: 'write', path });
  const charge = (n: number, what: string) => {
    if (n > disk.left) {
      disk.left = 0;
      throw enospc(what);
    }
    disk.left -= n;
  };
  const size = (data: unknown) => (typeof data === 'string' ? Buffer.byteLength(data) : (data as Uint8Array).byteLength);
  const patched = {
    ...fs,
    writeSync: ((fd: number, data: Uint8Array | string, ...rest: unknown[]) => {
      const len = typeof data === 'string' ? Buffer.byteLength(data) : typeof rest[1] === 'number' ? (rest[1] as number) : data.byteLength;
      charge(len, `fd ${fd}`);
      return (fs.writeSync as (...a: unknown[]) => number)(fd, data, ...rest);
    }) as typeof fs.writeSync,
    appendFileSync: ((path: string, data: string | Uint8Array, ...rest: unknown[]) => {
      charge(size(data), path);
      return (fs.appendFileSync as (...a: unknown[]) => void)(path, data, ...rest);
    }) as typeof fs.appendFileSync,
  };
  return { ...patched, default: patched };
});

const { writeFileAtomic, writeJsonAtomic, appendJsonl } = await import('../../src/io/atomic.ts');
const { acquireRunLock } = await import('../../src/train/lock.ts');
const { DiskFullError } = await import('../../src/errors.ts');

const root = mkdtempSync(join(tmpdir(), 'moelab-full-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
afterEach(() => {
  disk.left = Infinity;
});

describe('a full disk', () => {
  it('writeFileAtomic: DiskFullError naming the path, no temp file, the previous content intact', () => {
    const dir = mkdtempSync(join(root, 'w-'));
    const path = join(dir, 'summary.json');
    writeJsonAtomic(path, { v: 1 });
    disk.left = 5;
    expect(() => writeJsonAtomic(path, { v: 2, pad: 'x'.repeat(100) })).toThrow(DiskFullError);
    disk.left = 5;
    expect(() => writeFileAtomic(path, 'y'.repeat(100))).toThrow(new RegExp(`^no space left to write ${path.replace(/[.]/g, '\\.')} \\(ENOSPC\\)\\. Free space`));
    expect(readdirSync(dir)).toEqual(['summary.json']);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ v: 1 });
  });

  it('appendJsonl: DiskFullError naming the log', () => {
    const path = join(mkdtempSync(join(root, 'a-')), 'metrics.jsonl');
    disk.left = 3;
    expect(() => appendJsonl(path, { step: 1, trainLoss: 3 })).toThrow(/no space left to write .*metrics\.jsonl \(ENOSPC\)/);
  });

  it('a run lock is never left empty: the failed attempt leaves no .lock, and a retry with space succeeds at once', () => {
    const dir = mkdtempSync(join(root, 'l-'));
    const lockPath = join(dir, '.lock');
    disk.left = 0;
    expect(() => acquireRunLock(lockPath)).toThrow(/no space left to write .*\.lock \(ENOSPC\)/);
    expect(readdirSync(dir)).toEqual([]);
    disk.left = Infinity;
    const lock = acquireRunLock(lockPath); // before: "locked by pid -1" for 10 s
    expect(JSON.parse(readFileSync(lockPath, 'utf8')).pid).toBe(process.pid);
    lock.release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a lock file from before (empty, torn by a writer killed long ago) is still taken over', () => {
    const dir = mkdtempSync(join(root, 'o-'));
    const lockPath = join(dir, '.lock');
    writeFileSync(lockPath, '');
    const old = new Date(Date.now() - 60_000);
    realFs.utimesSync(lockPath, old, old);
    const lock = acquireRunLock(lockPath);
    expect(JSON.parse(readFileSync(lockPath, 'utf8')).pid).toBe(process.pid);
    lock.release();
  });
});
