// One process per run folder: a `.lock` file created with O_EXCL holding the owner's pid and host.
// A lock whose pid no longer runs on this host is stale and taken over; a lock from another host
// (a shared filesystem under Slurm) cannot be checked and is respected.
import { closeSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';

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

/** Take the run's lock or throw RunLockedError (stale locks of dead local processes are replaced). */
export function acquireRunLock(path: string): RunLock {
  const host = hostname();
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = readOwner(path);
      if (owner === undefined && isFresh(path)) {
        // Unreadable but just created: its owner is between open and write.
        throw new RunLockedError(path, { pid: -1, host: 'unknown' });
      }
      const stale = owner === undefined || (owner.host === host && !isAlive(owner.pid));
      if (!stale) throw new RunLockedError(path, owner);
      try {
        unlinkSync(path);
      } catch {
        // another process removed it first; retry the exclusive create
      }
      continue;
    }
    writeSync(fd, JSON.stringify({ pid: process.pid, host, since: new Date().toISOString() }));
    closeSync(fd);
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
