// The local sweep on a terminal: one overall progress line (runs finished, ETA) plus the live
// run's line, redrawn in place on a TTY; plain event lines otherwise. Ctrl-C stops cleanly
// (workers get SIGTERM, checkpoint and exit); a second Ctrl-C kills them.
import { formatActive, formatDuration, formatOverall } from '../sweep/format.ts';
import { startSweep, type RunnerOptions, type SweepOutcome } from '../sweep/runner.ts';

export async function runLocalSweep(
  sweepDir: string,
  options: Pick<RunnerOptions, 'workers' | 'retries' | 'env' | 'command'>,
): Promise<SweepOutcome> {
  const out = process.stderr;
  const tty = Boolean(out.isTTY);
  let drawn = 0;
  let live: string[] = [];
  let lastPlain = 0;
  const redraw = () => {
    if (!tty) return;
    if (drawn > 0) out.write(`\x1b[${drawn}F\x1b[J`);
    const width = out.columns ?? 120;
    const lines = live.map((l) => (l.length > width - 1 ? `${l.slice(0, width - 2)}…` : l));
    if (lines.length > 0) out.write(`${lines.join('\n')}\n`);
    drawn = lines.length;
  };
  const message = (line: string) => {
    if (tty && drawn > 0) {
      out.write(`\x1b[${drawn}F\x1b[J`);
      drawn = 0;
    }
    out.write(`${line}\n`);
    redraw();
  };

  const controller = startSweep({
    sweepDir,
    ...options,
    onEvent: (e) => {
      switch (e.type) {
        case 'start':
          if (!tty) message(`start  ${e.run.runId}${e.attempt > 1 ? ` (attempt ${e.attempt})` : ''}`);
          break;
        case 'finish':
          message(
            `${e.status === 'done' ? 'done  ' : 'DIVERGED'} ${e.run.runId}` +
              (e.byOther ? ' (by another process)' : '') +
              (e.status === 'done' && Number.isFinite(e.summary.finalValLoss) ? `  val ${e.summary.finalValLoss.toFixed(3)}` : '') +
              (e.status === 'diverged' && e.summary.reason ? `  (${e.summary.reason})` : '') +
              `  ${formatDuration(e.summary.wallSeconds)}`,
          );
          break;
        case 'retry':
          message(`retry  ${e.run.runId}: ${e.reason}; resuming from its checkpoint (attempt ${e.attempt})`);
          break;
        case 'failed':
          message(`FAILED ${e.run.runId}: ${e.reason} (log: ${e.logPath})`);
          break;
        case 'held':
          message(`wait   ${e.run.runId}: another process trains it (${e.holder})`);
          break;
        case 'interrupted':
          message(`stop   ${e.run.runId}: interrupted; the next \`moelab sweep\` continues it from its last checkpoint`);
          break;
        case 'stopping':
          message(
            e.force
              ? 'killing workers (runs resume from their last checkpoint)'
              : 'stopping: workers checkpoint and exit (Ctrl-C again to kill them)',
          );
          break;
        case 'tick':
          live = [formatOverall(e.progress), ...formatActive(e.progress)];
          if (tty) redraw();
          else if (Date.now() - lastPlain > 30_000) {
            lastPlain = Date.now();
            out.write(`${live.join('\n')}\n`);
          }
          break;
      }
    },
  });

  let interrupts = 0;
  const onSignal = () => controller.stop(++interrupts > 1);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const outcome = await controller.done;
    live = [];
    redraw();
    const newly = outcome.done.length + outcome.diverged.length;
    out.write(
      `sweep: ${outcome.alreadyFinished.length + newly}/${outcome.total} runs finished ` +
        `(${outcome.alreadyFinished.length} before, ${outcome.done.length} done now, ${outcome.diverged.length} diverged), ` +
        `${outcome.failed.length} failed, ${outcome.unfinished.length} unfinished` +
        (outcome.interrupted ? ' — interrupted; run the same command again to continue' : '') +
        '\n',
    );
    return outcome;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
