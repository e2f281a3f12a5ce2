// A private single-node Slurm cluster for tests (docs/references.md#distributed-sweeps): its own
// slurm.conf in a temp folder, a private munged with its own key and socket, slurmctld and slurmd
// in the foreground as our children, free ports, and every daemon stopped by its PID. Nothing
// touches the machine's /etc/slurm, /etc/munge or system services.
//
// Needs root (slurmd launches jobs as their user; SlurmUser=root) and the Debian packages
// slurmd slurmctld slurm-client munge (`scripts/setup.sh --slurm`). `slurmUnavailable()` says
// why a cluster cannot start here, for a clear skip message.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, openSync, closeSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';

const BINARIES = ['munged', 'slurmctld', 'slurmd', 'sbatch', 'squeue', 'sinfo'];

function which(bin: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/usr/bin', '/sbin', '/bin'])) {
    const p = join(dir, bin);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** Why a private cluster cannot run here (undefined = it can). */
export function slurmUnavailable(): string | undefined {
  const missing = BINARIES.filter((b) => !which(b));
  if (missing.length > 0) {
    return `Slurm is not installed (missing ${missing.join(', ')}); install it with \`scripts/setup.sh --slurm\` (Debian, root)`;
  }
  if (process.getuid?.() !== 0) return 'the private Slurm cluster needs root (slurmd runs jobs as their user; SlurmUser=root)';
  return undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface SlurmCluster {
  dir: string;
  conf: string;
  /** Environment for clients (sbatch, squeue, …): SLURM_CONF points at our slurm.conf. */
  env: NodeJS.ProcessEnv;
  partition: string;
  /** Daemon logs, for failure messages. */
  logs(): string;
  stop(): Promise<void>;
}

export async function startSlurmCluster(options: { cpus?: number } = {}): Promise<SlurmCluster> {
  const reason = slurmUnavailable();
  if (reason) throw new Error(reason);
  const dir = mkdtempSync(join(tmpdir(), 'moelab-slurm-'));
  const d = (...p: string[]) => join(dir, ...p);
  for (const sub of ['etc', 'log', 'run', 'spool/ctld', 'spool/d', 'munge/lib']) mkdirSync(d(sub), { recursive: true });
  // munged checks permissions: key dir 0700 with a 0600 key, socket dir 0755.
  mkdirSync(d('munge/key'), { mode: 0o700 });
  mkdirSync(d('munge/sock'), { mode: 0o755 });
  chmodSync(d('munge/key'), 0o700);
  chmodSync(d('munge/sock'), 0o755);
  chmodSync(dir, 0o755);
  writeFileSync(d('munge/key/munge.key'), randomBytes(1024), { mode: 0o600 });
  const socket = d('munge/sock/munge.socket');

  const node = hostname().split('.')[0];
  const [ctldPort, slurmdPort] = [await freePort(), await freePort()];
  const partition = 'moelab';
  const conf = d('etc/slurm.conf');
  writeFileSync(
    conf,
    [
      'ClusterName=moelabtest',
      `SlurmctldHost=${node}(127.0.0.1)`,
      'SlurmUser=root',
      'SlurmdUser=root',
      `SlurmctldPort=${ctldPort}`,
      `SlurmdPort=${slurmdPort}`,
      'AuthType=auth/munge',
      'CredType=cred/munge',
      `AuthInfo=socket=${socket}`,
      `StateSaveLocation=${d('spool/ctld')}`,
      `SlurmdSpoolDir=${d('spool/d')}`,
      `SlurmctldPidFile=${d('run/slurmctld.pid')}`,
      `SlurmdPidFile=${d('run/slurmd.pid')}`,
      `SlurmctldLogFile=${d('log/slurmctld.log')}`,
      `SlurmdLogFile=${d('log/slurmd.log')}`,
      'ProctrackType=proctrack/linuxproc',
      'TaskPlugin=task/none',
      'AccountingStorageType=accounting_storage/none',
      'JobAcctGatherType=jobacct_gather/none',
      'JobCompType=jobcomp/none',
      'MailProg=/bin/true',
      'SchedulerType=sched/builtin',
      'SelectType=select/cons_tres',
      'SelectTypeParameters=CR_Core',
      'ReturnToService=2',
      'MinJobAge=600',
      'SlurmdTimeout=30',
      `NodeName=${node} NodeAddr=127.0.0.1 CPUs=${options.cpus ?? 2} State=UNKNOWN`,
      `PartitionName=${partition} Nodes=${node} Default=YES MaxTime=INFINITE State=UP`,
      '',
    ].join('\n'),
  );

  const children: ChildProcess[] = [];
  const daemon = (bin: string, args: string[], log: string) => {
    const fd = openSync(d('log', log), 'a');
    const child = spawn(which(bin) as string, args, { stdio: ['ignore', fd, fd], detached: true });
    closeSync(fd);
    child.unref();
    children.push(child);
    return child;
  };
  const env = { ...process.env, SLURM_CONF: conf };
  const cluster: SlurmCluster = {
    dir,
    conf,
    env,
    partition,
    logs: () =>
      ['munged.out', 'slurmctld.log', 'slurmd.log', 'slurmctld.out', 'slurmd.out']
        .map((f) => (existsSync(d('log', f)) ? `== ${f}\n${readFileSync(d('log', f), 'utf8').split('\n').slice(-30).join('\n')}` : ''))
        .join('\n'),
    async stop() {
      // By PID, children first-started last; SIGTERM, then SIGKILL what is still there.
      for (const child of [...children].reverse()) if (child.pid) tryKill(child.pid, 'SIGTERM');
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline && children.some((c) => c.pid && isAlive(c.pid))) await sleep(100);
      for (const child of children) if (child.pid && isAlive(child.pid)) tryKill(child.pid, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };

  try {
    daemon(
      'munged',
      ['--foreground', '--force', `--socket=${socket}`, `--key-file=${d('munge/key/munge.key')}`, `--pid-file=${d('run/munged.pid')}`,
        `--log-file=${d('log/munged.log')}`, `--seed-file=${d('munge/lib/munged.seed')}`],
      'munged.out',
    );
    await waitFor(() => existsSync(socket), 10_000, 'munged socket');
    daemon('slurmctld', ['-D', '-f', conf], 'slurmctld.out');
    daemon('slurmd', ['-D', '-f', conf, '-N', node], 'slurmd.out');
    await waitFor(
      () => {
        try {
          const state = execFileSync(which('sinfo') as string, ['-h', '-o', '%T', '-p', partition], { env, stdio: ['ignore', 'pipe', 'ignore'] })
            .toString()
            .trim();
          return state === 'idle';
        } catch {
          return false;
        }
      },
      30_000,
      'the node to become idle',
    );
  } catch (err) {
    const logs = cluster.logs();
    await cluster.stop();
    throw new Error(`${(err as Error).message}\n${logs}`);
  }
  return cluster;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function tryKill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return;
    await sleep(200);
  }
  throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
}
