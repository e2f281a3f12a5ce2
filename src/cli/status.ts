// `moelab status DIR`: done / running / failed / diverged / pending / corrupt per run of a sweep, read from
// the run folders alone (works for local and Slurm sweeps on a shared filesystem). DIR may also be
// a single run folder (what `moelab train --out DIR` writes): its state, step and losses.
import type { Command } from 'commander';

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('show done / running / failed / diverged / pending / corrupt per run of a sweep folder (or the state of one run folder)')
    .argument('<dir>', 'sweep folder (results/<sweep name>), its plan.json, or a run folder')
    .option('--json', 'print JSON')
    .action(async (dir: string, opts: { json?: boolean }) => {
      const { dirname, join } = await import('node:path');
      const { existsSync } = await import('node:fs');
      const sweepDir = dir.endsWith('.json') ? dirname(dir) : dir;
      if (!existsSync(join(sweepDir, 'plan.json')) && existsSync(join(sweepDir, 'config.json'))) {
        const { inspectRunFolder } = await import('../sweep/run-folder.ts');
        const row = inspectRunFolder(sweepDir);
        if (opts.json) {
          process.stdout.write(`${JSON.stringify({ run: row }, null, 2)}\n`);
          return;
        }
        const finite = (x: number | null): x is number => x !== null && Number.isFinite(x);
        const loss = finite(row.finalValLoss) ? `, final val loss ${row.finalValLoss.toFixed(4)}` : finite(row.trainLoss) ? `, train loss ${row.trainLoss.toFixed(4)}` : '';
        process.stdout.write(`run ${JSON.stringify(row.runId)}: ${row.state}, step ${row.step ?? 0}/${row.steps}${loss}${row.detail ? ` (${row.detail})` : ''}\n`);
        return;
      }
      const { inspectSweep } = await import('../sweep/state.ts');
      const { formatStatus } = await import('../sweep/format.ts');
      const status = inspectSweep(sweepDir);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ sweep: status.plan.sweep, counts: status.counts, runs: status.rows }, null, 2)}\n`);
        return;
      }
      const { slurmQueueLine } = await import('../sweep/slurm.ts');
      const queue = slurmQueueLine(sweepDir);
      process.stdout.write(`${[`sweep ${JSON.stringify(status.plan.sweep)}`, ...formatStatus(status), ...(queue ? [queue] : [])].join('\n')}\n`);
    });
}
