// Progress of one run: a bar on a TTY (steps, tokens/s, loss, ETA), plain periodic lines
// otherwise (logs and Slurm output files), nothing with --quiet.
import cliProgress from 'cli-progress';

export interface ProgressEvent {
  /** Steps completed. */
  step: number;
  totalSteps: number;
  tokens: number;
  /** Throughput of the current session (tokens trained / wall seconds since start or resume). */
  tokensPerSec: number;
  /** Latest training loss (nats/token). */
  trainLoss: number;
  /** Latest validation loss, once there is one. */
  valLoss?: number;
  etaSeconds: number;
}

export type ProgressMode = 'auto' | 'bar' | 'lines' | 'quiet';

export interface ProgressReporter {
  start(totalSteps: number, startStep: number, label: string): void;
  update(event: ProgressEvent): void;
  /** A message line that must not be overwritten by the bar. */
  log(line: string): void;
  stop(): void;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** One plain progress line, e.g. `step 120/400 (30%) | 1,234 tok/s | loss 2.345 | val 2.401 | ETA 3m12s`. */
export function formatProgressLine(e: ProgressEvent): string {
  const pct = Math.floor((100 * e.step) / Math.max(1, e.totalSteps));
  return (
    `step ${e.step}/${e.totalSteps} (${pct}%) | ${Math.round(e.tokensPerSec).toLocaleString('en-US')} tok/s | ` +
    `loss ${e.trainLoss.toFixed(3)}` +
    (e.valLoss !== undefined ? ` | val ${e.valLoss.toFixed(3)}` : '') +
    ` | ETA ${formatDuration(e.etaSeconds)}`
  );
}

export interface ReporterOptions {
  out?: NodeJS.WriteStream;
  /** Seconds between plain lines (default 10). */
  intervalSeconds?: number;
}

export function createProgressReporter(mode: ProgressMode, options: ReporterOptions = {}): ProgressReporter {
  const out = options.out ?? process.stderr;
  const resolved = mode === 'auto' ? (out.isTTY ? 'bar' : 'lines') : mode;
  if (resolved === 'quiet') return { start() {}, update() {}, log() {}, stop() {} };

  if (resolved === 'lines') {
    const intervalMs = (options.intervalSeconds ?? 10) * 1000;
    let last = 0;
    let label = '';
    let lastEvent: ProgressEvent | undefined;
    return {
      start(_total, _startStep, l) {
        label = l;
        last = Date.now();
      },
      update(e) {
        lastEvent = e;
        if (Date.now() - last >= intervalMs) {
          last = Date.now();
          out.write(`${label}: ${formatProgressLine(e)}\n`);
        }
      },
      log(line) {
        out.write(`${line}\n`);
      },
      stop() {
        if (lastEvent) out.write(`${label}: ${formatProgressLine({ ...lastEvent, etaSeconds: 0 })}\n`);
        lastEvent = undefined;
      },
    };
  }

  const bar = new cliProgress.SingleBar(
    {
      // `etaText`, not `eta`: cli-progress fills its own {eta} (bare seconds), which would override ours.
      format: '{label} {bar} {percentage}% | step {value}/{total} | {tps} tok/s | loss {loss} | ETA {etaText}',
      hideCursor: true,
      // The bar line is removed when the run ends (the caller prints the outcome); no leftover text.
      clearOnComplete: true,
      gracefulExit: false,
      stream: out,
      barsize: 24,
    },
    cliProgress.Presets.shades_classic,
  );
  let running = false;
  return {
    start(total, startStep, label) {
      bar.start(total, startStep, { label, tps: '-', loss: '-', etaText: '?' });
      running = true;
    },
    update(e) {
      bar.update(e.step, {
        tps: Math.round(e.tokensPerSec).toLocaleString('en-US'),
        loss: e.trainLoss.toFixed(3) + (e.valLoss !== undefined ? ` (val ${e.valLoss.toFixed(3)})` : ''),
        etaText: formatDuration(e.etaSeconds),
      });
    },
    log(line) {
      out.write(running ? `\r\x1b[K${line}\n` : `${line}\n`);
    },
    stop() {
      if (running) bar.stop();
      running = false;
    },
  };
}
