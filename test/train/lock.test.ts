import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireRunLock, RunLockedError } from '../../src/train/lock.ts';

const dir = mkdtempSync(join(tmpdir(), 'moelab-lock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('run lock', () => {
  it('is exclusive and released on release()', () => {
    const path = join(dir, 'a.lock');
    const lock = acquireRunLock(path);
    expect(JSON.parse(readFileSync(path, 'utf8')).pid).toBe(process.pid);
    // Our own pid is alive: a second acquire fails.
    expect(() => acquireRunLock(path)).toThrow(RunLockedError);
    lock.release();
    expect(existsSync(path)).toBe(false);
    acquireRunLock(path).release();
  });

  it('takes over a lock whose process is dead', () => {
    const path = join(dir, 'b.lock');
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    writeFileSync(path, JSON.stringify({ pid: dead, host: hostname() }));
    const lock = acquireRunLock(path);
    expect(JSON.parse(readFileSync(path, 'utf8')).pid).toBe(process.pid);
    lock.release();
  });

  it('respects a live process and a lock from another host, naming the owner and the fix', async () => {
    const path = join(dir, 'c.lock');
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)']);
    try {
      writeFileSync(path, JSON.stringify({ pid: child.pid, host: hostname() }));
      expect(() => acquireRunLock(path)).toThrow(new RegExp(`locked by pid ${child.pid} on ${hostname()}.*delete the lock file`));
      writeFileSync(path, JSON.stringify({ pid: 1, host: 'some-other-node' }));
      expect(() => acquireRunLock(path)).toThrow(/locked by pid 1 on some-other-node/);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
