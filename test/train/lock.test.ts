import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
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

  it('replaces a stale lock only under the takeover lock; a takeover left by a killed process expires', () => {
    const path = join(dir, 'd.lock');
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    writeFileSync(path, JSON.stringify({ pid: dead, host: hostname() }));
    // Another process is mid-takeover (fresh .takeover): we must not delete the lock under it.
    writeFileSync(`${path}.takeover`, '');
    expect(() => acquireRunLock(path)).toThrow(RunLockedError);
    expect(JSON.parse(readFileSync(path, 'utf8')).pid).toBe(dead);
    // The takeover's owner died long ago: it expires and the stale lock is replaced.
    const old = (Date.now() - 60_000) / 1000;
    utimesSync(`${path}.takeover`, old, old);
    const lock = acquireRunLock(path);
    expect(JSON.parse(readFileSync(path, 'utf8')).pid).toBe(process.pid);
    expect(existsSync(`${path}.takeover`)).toBe(false);
    lock.release();
  });

  it('a torn lock file is respected while fresh and taken over once old', () => {
    const path = join(dir, 'e.lock');
    writeFileSync(path, '{"pid":');
    expect(() => acquireRunLock(path)).toThrow(RunLockedError);
    const old = (Date.now() - 60_000) / 1000;
    utimesSync(path, old, old);
    acquireRunLock(path).release();
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
