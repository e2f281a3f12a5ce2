// The `moelab` command line. Each subcommand lives in its own file under src/cli/ and registers
// itself here; heavy modules (TF.js, mathjs, danfojs) are imported inside the action handlers so
// `moelab --help` and analysis-only commands start fast.
import { resolve } from 'node:path';
import { Command, CommanderError } from 'commander';
import { MOELAB_VERSION } from '../util/provenance.ts';
import { setProgressSink, streamProgressSink } from '../util/progress.ts';
import { registerEnv } from './env.ts';
import { registerInspect } from './inspect.ts';
import { registerTrain } from './train.ts';
import { registerReport } from './report.ts';
import { registerPlan } from './plan.ts';
import { registerSweep } from './sweep.ts';
import { registerStatus } from './status.ts';
import { registerDashboard } from './dashboard.ts';
import { registerFit } from './fit.ts';
import { registerBench } from './bench.ts';
import { registerCompletion } from './completion.ts';
import { registerReproduce } from './reproduce.ts';
import { registerCompare } from './compare.ts';

const program = new Command('moelab')
  .description('Scaling laws and LR schedules for small Mixture-of-Experts LMs (TensorFlow.js).')
  .version(MOELAB_VERSION)
  .showHelpAfterError('(run with --help for usage)')
  .option('--results <dir>', 'where sweeps go without --out (default ./results, or $MOELAB_RESULTS)')
  .hook('preAction', () => {
    // Long computations (fits, bootstrap, figure export) report progress with an ETA on stderr:
    // on a terminal by default; MOELAB_PROGRESS=1 adds periodic lines off a terminal (logs), =0 none.
    const mode = process.env.MOELAB_PROGRESS;
    if (mode !== '0' && (process.stderr.isTTY || mode === '1')) setProgressSink(streamProgressSink(process.stderr));
    // src/io/results.ts resultsRoot() reads the variable at each call; workers inherit it.
    const dir = program.opts<{ results?: string }>().results;
    if (dir !== undefined) process.env.MOELAB_RESULTS = resolve(dir);
  });

// One line per subcommand; keep the list in the order a user meets them.
registerEnv(program);
registerInspect(program);
registerTrain(program);
registerPlan(program);
registerSweep(program);
registerStatus(program);
registerDashboard(program);
registerFit(program);
registerReport(program);
registerReproduce(program);
registerCompare(program);
registerBench(program);
registerCompletion(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode);
  const { DiskFullError, isDiskFull } = await import('../errors.ts');
  const raw = err as NodeJS.ErrnoException;
  // A full disk reached through a write that does not go through src/io/atomic.ts: one message
  // naming the path, not a stack trace.
  const e = isDiskFull(raw) && !(raw instanceof DiskFullError) ? new DiskFullError(raw.path ?? 'a file', raw.code ?? 'ENOSPC') : (err as Error);
  process.stderr.write(`moelab: ${e.name && e.name !== 'Error' ? `${e.name}: ` : ''}${e.message}\n`);
  if (process.env.MOELAB_DEBUG) process.stderr.write(`${e.stack}\n`);
  process.exit(1);
}
