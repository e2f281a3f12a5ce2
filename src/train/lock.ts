// One process per run folder: a `.lock` file created with O_EXCL holding the owner's pid and host.
// A lock whose pid no longer runs on this host is stale and taken over; a lock from another host
// (a shared filesystem under Slurm) cannot be checked and is respected.
//
// The lock is written whole before it exists: its content goes to a temp file (fsynced), which is
// then hard-linked to `.lock` — link() fails with EEXIST like O_EXCL, so exactly one process wins,
// and nobody ever sees an empty or torn lock (a full disk fails the temp write, not the lock).
import { closeSync, linkSync, openSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, basename, join } from 'node:path';
import { rethrowWriteError, writeAll } from '../io/atomic.ts';

/** Exit code for "another process holds this run" (EX_TEMPFAIL: try again later). */
export const LOCKED_EXIT_CODE = 75;

export class RunLockedError extends Error {
  override name = 'RunLockedError';
  constructor(
    readonly lockPath: string,
    readonly owner: { pid: number; host: string },
  ) {
    super(
      `run is locked by pid ${owner.pid} on ${owner.host} (${lockPath}). Another moelab process is ` +
        `training this run; wait for it, or delete the lock file if that process is gone.`,
    );
  }
}

export interface RunLock {
  readonly path: string;
  release(): void;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readOwner(path: string): { pid: number; host: string } | undefined {
  try {
    const owner = JSON.parse(readFileSync(path, 'utf8')) as { pid: number; host: string };
    return typeof owner.pid === 'number' ? owner : undefined;
  } catch {
    return undefined; // vanished, or torn by a writer killed between open and write
  }
}

function isFresh(path: string): boolean {
  try {
    return Date.now() - statSync(path).mtimeMs < 10_000;
  } catch {
    return false;
  }
}

/** Block the thread briefly (lock retries are rare and short). */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Take the run's lock or throw RunLockedError. A stale lock (its local process is dead, or it was
 * torn long ago) is replaced under a second, short-lived `.takeover` lock, and re-checked there:
 * without it, two processes that both saw the same dead lock could each delete the other's fresh
 * lock and both train the run.
 */
export function acquireRunLock(path: string): RunLock {
  const host = hostname();
  const isStale = (owner: { pid: number; host: string } | undefined) =>
    owner === undefined ? !isFresh(path) : owner.host === host && !isAlive(owner.pid);
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      createWhole(path, JSON.stringify({ pid: process.pid, host, since: new Date().toISOString() }));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') rethrowWriteError(err, path);
      const owner = readOwner(path);
      // A file without a readable owner is either being written right now (fresh) or was torn by
      // a writer killed between open and write (old): only the old one is stale.
      if (!isStale(owner)) throw new RunLockedError(path, owner ?? { pid: -1, host: 'unknown' });
      const takeover = `${path}.takeover`;
      let t: number;
      try {
        t = openSync(takeover, 'wx');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        // Someone else is replacing the stale lock; a takeover left by a killed process expires.
        if (!isFresh(takeover)) rmQuiet(takeover);
        pause(20);
        continue;
      }
      try {
        if (isStale(readOwner(path))) rmQuiet(path); // re-checked: it may have been replaced meanwhile
      } finally {
        closeSync(t);
        rmQuiet(takeover);
      }
      continue;
    }
    let released = false;
    return {
      path,
      release() {
        if (released) return;
        released = true;
        if (readOwner(path)?.pid === process.pid) unlinkSync(path);
      },
    };
  }
  const owner = readOwner(path) ?? { pid: -1, host: 'unknown' };
  throw new RunLockedError(path, owner);
}

/** Create `path` holding `content`, failing with EEXIST when it exists; never visible half-written. */
function createWhole(path: string, content: string): void {
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${Date.now()}`);
  try {
    const fd = openSync(tmp, 'wx');
    try {
      writeAll(fd, Buffer.from(content));
    } finally {
      closeSync(fd);
    }
    try {
      linkSync(tmp, path);
    } catch (err) {
      // A filesystem without hard links: O_EXCL create and write (the torn-lock handling above
      // covers the short window in which the lock exists but is empty).
      if (!NO_LINKS.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
      const fd = openSync(path, 'wx');
      try {
        writeAll(fd, Buffer.from(content));
      } catch (e) {
        rmQuiet(path); // never leave an empty lock behind (a full disk)
        throw e;
      } finally {
        closeSync(fd);
      }
    }
  } finally {
    rmQuiet(tmp);
  }
}

/** link() errors of filesystems that do not support hard links. */
const NO_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

function rmQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
