// `moelab status DIR`: done / running / failed / diverged / pending / corrupt per run of a sweep, read from
// the run folders alone (works for local and Slurm sweeps on a shared filesystem).
import type { Command } from 'commander';

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('show done / running / failed / diverged / pending / corrupt per run of a sweep folder')
    .argument('<dir>', 'sweep folder (results/<sweep name>) or its plan.json')
    .option('--json', 'print JSON')
    .action(async (dir: string, opts: { json?: boolean }) => {
      const { dirname } = await import('node:path');
      const { inspectSweep } = await import('../sweep/state.ts');
      const { formatStatus } = await import('../sweep/format.ts');
      const status = inspectSweep(dir.endsWith('.json') ? dirname(dir) : dir);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ sweep: status.plan.sweep, counts: status.counts, runs: status.rows }, null, 2)}\n`);
        return;
      }
      const { slurmQueueLine } = await import('../sweep/slurm.ts');
      const queue = slurmQueueLine(dir.endsWith('.json') ? dirname(dir) : dir);
      process.stdout.write(`${[`sweep ${JSON.stringify(status.plan.sweep)}`, ...formatStatus(status), ...(queue ? [queue] : [])].join('\n')}\n`);
    });
}
