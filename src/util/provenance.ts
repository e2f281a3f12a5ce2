// Provenance stamped on every artefact: git commit, moelab version, host, time.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

const require = createRequire(import.meta.url);
export const MOELAB_VERSION: string = (require('../../package.json') as { version: string }).version;

export interface Provenance {
  moelabVersion: string;
  gitCommit: string | null;
  gitDirty: boolean | null;
  node: string;
  host: string;
  createdAt: string;
}

let cachedGit: { commit: string | null; dirty: boolean | null } | undefined;

function gitState(): { commit: string | null; dirty: boolean | null } {
  if (cachedGit) return cachedGit;
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
    const status = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: PROJECT_ROOT,
      stdio: ['ignore', 'pipe', 'ignore'],
    }).toString();
    cachedGit = { commit, dirty: status.trim().length > 0 };
  } catch {
    cachedGit = { commit: null, dirty: null };
  }
  return cachedGit;
}

export function provenance(): Provenance {
  const git = gitState();
  return {
    moelabVersion: MOELAB_VERSION,
    gitCommit: git.commit,
    gitDirty: git.dirty,
    node: process.version,
    host: hostname(),
    createdAt: new Date().toISOString(),
  };
}
