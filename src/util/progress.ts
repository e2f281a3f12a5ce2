// Progress of long computations (multi-start fits, bootstrap resamples, figure export) with an
// ETA, without threading a callback through every layer: the computation calls startTask(label,
// total) and tick(); whoever runs it installs a sink (the CLI: a line on stderr; tests: a
// recorder). With no sink installed (library use, notebooks) nothing is printed and the cost is a
// function call per tick.
//
// Nested tasks (the multi-start fit inside each bootstrap resample) are not reported: only the
// outermost running task is, so the line shows the phase that dominates the wait.

export interface TaskState {
  label: string;
  done: number;
  total: number;
  elapsedSeconds: number;
  /** Seconds left at the pace so far (null before the first tick). */
  etaSeconds: number | null;
  finished: boolean;
}

export type ProgressSink = (state: TaskState) => void;

export interface Task {
  tick(n?: number): void;
  end(): void;
}

let sink: ProgressSink | null = null;
let depth = 0;
const NOOP: Task = { tick() {}, end() {} };

/** Install (or with null remove) the sink; returns the previous one. */
export function setProgressSink(next: ProgressSink | null): ProgressSink | null {
  const previous = sink;
  sink = next;
  return previous;
}

export function etaOf(done: number, total: number, elapsedSeconds: number): number | null {
  if (done <= 0) return null;
  return (elapsedSeconds / done) * Math.max(0, total - done);
}

/** Start a task of `total` units; end() it in a finally block. */
export function startTask(label: string, total: number): Task {
  depth++;
  const current = sink;
  if (!current || depth > 1 || total <= 1) {
    let ended = false;
    return {
      tick() {},
      end() {
        if (!ended) depth--;
        ended = true;
      },
    };
  }
  const t0 = performance.now();
  let done = 0;
  let ended = false;
  const state = (finished: boolean): TaskState => {
    const elapsedSeconds = (performance.now() - t0) / 1000;
    return { label, done, total, elapsedSeconds, etaSeconds: finished ? 0 : etaOf(done, total, elapsedSeconds), finished };
  };
  current(state(false));
  return {
    tick(n = 1) {
      if (ended) return;
      done = Math.min(total, done + n);
      current(state(false));
    },
    end() {
      if (ended) return;
      ended = true;
      depth--;
      current(state(true));
    },
  };
}

/** For code paths that never report (keeps call sites uniform). */
export const noTask = (): Task => NOOP;

export function formatSeconds(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** `fit: multi-start 1200/4500 (26%), 12s elapsed, ETA 34s` */
export function formatTaskLine(s: TaskState): string {
  const pct = Math.floor((100 * s.done) / Math.max(1, s.total));
  return s.finished
    ? `${s.label}: ${s.done}/${s.total} done in ${formatSeconds(s.elapsedSeconds)}`
    : `${s.label}: ${s.done}/${s.total} (${pct}%), ${formatSeconds(s.elapsedSeconds)} elapsed, ETA ${formatSeconds(s.etaSeconds)}`;
}

/**
 * The CLI's sink: on a TTY one line rewritten in place (at most every 200 ms) and cleared at the
 * end; elsewhere (logs, CI) a line every `intervalSeconds` (default 10) for tasks that run that
 * long, and the final line for tasks that took over `intervalSeconds`.
 */
export function streamProgressSink(out: NodeJS.WriteStream = process.stderr, options: { intervalSeconds?: number } = {}): ProgressSink {
  const interval = (options.intervalSeconds ?? 10) * 1000;
  let last = 0;
  let drawn = false;
  return (s) => {
    const now = performance.now();
    if (out.isTTY) {
      if (s.finished) {
        if (drawn) out.write('\r\x1b[2K');
        drawn = false;
        return;
      }
      if (now - last < 200 && s.done > 0) return;
      last = now;
      const width = (out.columns ?? 120) - 1;
      const line = formatTaskLine(s);
      out.write(`\r\x1b[2K${line.length > width ? line.slice(0, width) : line}`);
      drawn = true;
      return;
    }
    if (s.finished) {
      if (s.elapsedSeconds * 1000 >= interval) out.write(`${formatTaskLine(s)}\n`);
      last = 0;
      return;
    }
    if (s.done === 0) {
      last = now;
      return;
    }
    if (now - last >= interval) {
      last = now;
      out.write(`${formatTaskLine(s)}\n`);
    }
  };
}
