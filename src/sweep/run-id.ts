// Run ids (docs/architecture.md#naming): readable names that work as an index, after OLMo's
// `{name}-{size}-{duration}`:
//
//   <sweep>-<size>-<duration>[-lr<x>][-bs<y>][-<variant>]-s<seed>
//
//   size      nominal activated parameters, 3 significant digits with k/M/B/T: `50k`, `1.53M`
//   duration  `C<flops>` (isoFLOP budget, `C1e14`), `D<tokens>` (token count, `D2.5M`) or
//             `<m>xC` (multiple of Chinchilla's 20 tokens per parameter, `2xC`)
//   lr        peak learning rate, `3e-3`;  bs  sequences per step, exact: `bs16`, `bs1024`
//   variant   a label such as a schedule name (`wsd`) or a grid point (`p3`)
//
// The sweep name is kept verbatim (it may hold spaces, quotes, even `-`), so parsing works from
// the right: every token after the name has a fixed grammar and none of them can be mistaken
// for another, which makes `parseRunId(formatRunId(x))` exact (test/sweep/run-id.test.ts).
import { ConfigError } from '../errors.ts';

export type RunDuration =
  | { kind: 'budget'; computeFlops: number }
  | { kind: 'tokens'; tokens: number }
  | { kind: 'chinchilla'; multiple: number };

export interface RunIdParts {
  sweep: string;
  /** Nominal activated parameters (the target the model was sized to). */
  activatedParams: number;
  duration: RunDuration;
  lr?: number;
  /** Sequences per step. */
  batchSize?: number;
  variant?: string;
  seed: number;
}

const SUFFIXES: [string, number][] = [
  ['T', 1e12],
  ['B', 1e9],
  ['M', 1e6],
  ['k', 1e3],
];

/** `1530000` → `1.53M`, `20000` → `20k`, `512` → `512` (3 significant digits). */
export function formatCount(n: number): string {
  if (!(n >= 0) || !Number.isFinite(n)) throw new RangeError(`formatCount: not a count: ${n}`);
  const rounded = Number(n.toPrecision(3));
  for (const [suffix, scale] of SUFFIXES) {
    if (rounded >= scale) return `${String(Number((rounded / scale).toPrecision(3)))}${suffix}`;
  }
  return String(rounded);
}

export function parseCount(s: string): number {
  const m = /^(\d+(?:\.\d+)?)([kMBT]?)$/.exec(s);
  if (!m) throw new RangeError(`parseCount: not a count: ${JSON.stringify(s)}`);
  const scale = SUFFIXES.find(([suffix]) => suffix === m[2])?.[1] ?? 1;
  return Number((Number(m[1]) * scale).toPrecision(12));
}

/** `0.003` → `3e-3`, `1e14` → `1e14`, `3.2e14` → `3.2e14` (3 significant digits). */
export function formatSci(x: number): string {
  if (!(x > 0) || !Number.isFinite(x)) throw new RangeError(`formatSci: not a positive number: ${x}`);
  const [mantissa, exponent] = x.toExponential(2).split('e');
  return `${String(Number(mantissa))}e${Number(exponent)}`;
}

export function parseSci(s: string): number {
  if (!/^\d+(?:\.\d+)?e-?\d+$/.test(s)) throw new RangeError(`parseSci: not a number: ${JSON.stringify(s)}`);
  return Number(s);
}

function formatDuration(d: RunDuration): string {
  switch (d.kind) {
    case 'budget':
      return `C${formatSci(d.computeFlops)}`;
    case 'tokens':
      return `D${formatCount(d.tokens)}`;
    case 'chinchilla':
      return `${String(Number(d.multiple.toPrecision(3)))}xC`;
  }
}

/** Variant labels: lower-case, no `-`, and never shaped like an lr/bs/seed token. */
export function isValidVariant(label: string): boolean {
  return /^[a-z][a-z0-9_.]*$/.test(label) && !/^(lr|bs)\d/.test(label) && !/^s\d+$/.test(label);
}

/** Sweep names name a folder: no `/`, no NUL, not `.`/`..`, at most 100 characters. */
export function sweepNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'is empty';
  if (name.length > 100) return `is ${name.length} characters long (max 100)`;
  if (name.includes('/') || name.includes('\0')) return 'contains "/" or a NUL byte (it names a folder)';
  if (name === '.' || name === '..') return 'is "." or ".."';
  if (/[\n\r]/.test(name)) return 'contains a line break';
  return undefined;
}

export function formatRunId(p: RunIdParts): string {
  const problem = sweepNameProblem(p.sweep);
  if (problem) throw new ConfigError('name', p.sweep, 'Choose a sweep name that can name a folder.', `sweep name ${problem}`);
  if (p.variant !== undefined && !isValidVariant(p.variant)) {
    throw new ConfigError(
      'variant',
      p.variant,
      'Use lower-case letters, digits, "_" or "." starting with a letter, not shaped like lr1…/bs1…/s1.',
      'not a valid run-id label',
    );
  }
  if (!Number.isInteger(p.seed) || p.seed < 0) throw new RangeError(`formatRunId: seed must be a non-negative integer: ${p.seed}`);
  const parts = [p.sweep, formatCount(p.activatedParams), formatDuration(p.duration)];
  if (p.lr !== undefined) parts.push(`lr${formatSci(p.lr)}`);
  if (p.batchSize !== undefined) parts.push(`bs${p.batchSize}`);
  if (p.variant !== undefined) parts.push(p.variant);
  parts.push(`s${p.seed}`);
  return parts.join('-');
}

const COUNT = String.raw`\d+(?:\.\d+)?[kMBT]?`;
const SCI = String.raw`\d+(?:\.\d+)?e-?\d+`;
const RUN_ID = new RegExp(
  String.raw`^(.+)-(${COUNT})-(C${SCI}|D${COUNT}|\d+(?:\.\d+)?xC)` +
    String.raw`(?:-lr(${SCI}))?(?:-bs(\d+))?(?:-([a-z][a-z0-9_.]*))?-s(\d+)$`,
  's',
);

/** Inverse of formatRunId; throws a ConfigError naming the expected shape for anything else. */
export function parseRunId(runId: string): RunIdParts {
  const m = RUN_ID.exec(runId);
  if (!m || (m[6] !== undefined && !isValidVariant(m[6]))) {
    throw new ConfigError(
      'runId',
      runId,
      'Run ids look like <sweep>-<size>-<duration>[-lr<x>][-bs<y>][-<variant>]-s<seed>, e.g. quick-50k-C1e14-s0.',
      'not a moelab run id',
    );
  }
  const [, sweep, size, duration, lr, bs, variant, seed] = m;
  const parts: RunIdParts = {
    sweep,
    activatedParams: parseCount(size),
    duration: parseDuration(duration),
    seed: Number(seed),
  };
  if (lr !== undefined) parts.lr = parseSci(lr);
  if (bs !== undefined) parts.batchSize = Number(bs);
  if (variant !== undefined) parts.variant = variant;
  return parts;
}

function parseDuration(s: string): RunDuration {
  if (s.startsWith('C')) return { kind: 'budget', computeFlops: parseSci(s.slice(1)) };
  if (s.startsWith('D')) return { kind: 'tokens', tokens: parseCount(s.slice(1)) };
  return { kind: 'chinchilla', multiple: Number(s.slice(0, -2)) };
}

/**
 * Why `runId` cannot name a run folder under `runs/`, or undefined when it can: one path
 * component (no "/" or "\\", not "." or "..", no NUL or line break, at most 200 characters), so
 * `runs/<runId>` never leaves `runs/`. Ids written by formatRunId always pass; hand-written plans
 * may use any such name. Every reader of plan.json checks this before joining an id into a path.
 */
export function runIdProblem(runId: unknown): string | undefined {
  if (typeof runId !== 'string') return 'is not a string';
  if (runId.length === 0) return 'is empty';
  if (runId.length > 200) return `is ${runId.length} characters long (max 200)`;
  if (/[/\\\0]/.test(runId)) return 'contains "/", "\\" or a NUL byte (it must name one folder under runs/)';
  if (runId === '.' || runId === '..') return 'is "." or ".."';
  if (/[\n\r]/.test(runId)) return 'contains a line break';
  return undefined;
}

/** Throw a ConfigError naming `field` when `runId` cannot name a run folder. */
export function checkRunId(runId: unknown, field: string, fix = 'Regenerate the plan with `moelab plan` (run ids name folders under runs/).'): string {
  const problem = runIdProblem(runId);
  if (problem) throw new ConfigError(field, runId, fix, `run id ${problem}`);
  return runId as string;
}
