// `moelab dashboard DIR`: serve a live page for a sweep folder on localhost (src/dashboard/).
import type { Command } from 'commander';
import { ConfigError } from '../errors.ts';

interface DashboardCliOptions {
  port: string;
  host: string;
  pollMs: string;
  json?: boolean;
}

export function registerDashboard(program: Command): void {
  program
    .command('dashboard')
    .description('a local web page following a sweep while it runs: run states and ETA, loss curves, expert usage, fits')
    .argument('<dir>', 'sweep folder (results/<sweep name>) or its plan.json')
    .option('--port <n>', 'port on localhost (0: any free port)', '8765')
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--poll-ms <ms>', 'how often the page refreshes', '1000')
    .option('--json', 'print {"url": …} as JSON once listening')
    .action(async (dir: string, opts: DashboardCliOptions) => {
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError('--port', opts.port, 'Give a port from 0 to 65535.', 'not a port');
      const pollMs = Number(opts.pollMs);
      if (!(pollMs >= 100)) throw new ConfigError('--poll-ms', opts.pollMs, 'Give at least 100 (milliseconds).', 'too small or not a number');
      const { dirname } = await import('node:path');
      const { startDashboard } = await import('../dashboard/server.ts');
      let dashboard: Awaited<ReturnType<typeof startDashboard>>;
      try {
        dashboard = await startDashboard({ sweepDir: dir.endsWith('.json') ? dirname(dir) : dir, port, host: opts.host, pollMs });
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        if (e.code === 'EADDRINUSE') throw new ConfigError('--port', opts.port, 'Choose another port, or --port 0 for any free one.', 'already in use');
        throw err;
      }
      process.stdout.write(opts.json ? `${JSON.stringify({ url: dashboard.url })}\n` : `moelab dashboard: ${dashboard.url} (Ctrl-C to stop)\n`);
      const stop = () => {
        void dashboard.close().then(() => process.exit(0));
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
}
