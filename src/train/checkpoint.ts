// Checkpoints: weights, optimiser state, step, data cursor, RNG state and the loop's running
// statistics, written so that `kill -9` at any moment leaves either the previous checkpoint or
// the new one, never a torn one.
//
//   checkpoint/
//     latest.json          {"dir": "step-000200", "step": 200}  (replaced atomically: the commit point)
//     step-000200/
//       state.json         CheckpointState + tensor manifest
//       weights.bin        float32 little-endian, parameters in manifest order
//       optimizer.bin      float32: AdamW m then v, per parameter in manifest order
// A new checkpoint is written into `step-N.tmp-<pid>/`, renamed to `step-N/`, then latest.json is
// replaced; only after that are older step folders removed.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ResumeMismatchError } from '../errors.ts';
import { readJson, writeFileAtomic, writeJsonAtomic } from '../io/atomic.ts';
import type { NamedParam } from '../model/types.ts';
import type { IntervalStats } from './metrics.ts';
import type { AdamW, AdamWState } from './optimizer.ts';

export interface CheckpointState {
  /** Steps completed; the run continues with this step. */
  step: number;
  /** Tokens trained so far. */
  tokens: number;
  /** The data cursor: the next batch's step and epoch (batches are a pure function of them). */
  dataCursor: { step: number; epoch: number };
  /** State of the run's RNG (recycle routing) after `step` steps. */
  rngState: number;
  /** Training loss of step 0 (the divergence reference). */
  firstLoss: number | null;
  bestValLoss: number | null;
  lastValLoss: number | null;
  /** Training wall seconds accumulated before this checkpoint. */
  wallSeconds: number;
  interval: IntervalStats;
}

interface TensorEntry {
  name: string;
  shape: number[];
  /** Offset in float32 elements within weights.bin (and within each half of optimizer.bin). */
  offset: number;
  size: number;
}

interface StateFile {
  format: 1;
  state: CheckpointState;
  optimizerStep: number;
  tensors: TensorEntry[];
}

export interface LoadedCheckpoint {
  state: CheckpointState;
  /** Step folder it was read from. */
  dir: string;
}

const stepDirName = (step: number) => `step-${String(step).padStart(6, '0')}`;

function manifest(params: readonly NamedParam[]): TensorEntry[] {
  let offset = 0;
  return params.map((p) => {
    const size = p.variable.size;
    const entry = { name: p.name, shape: [...p.variable.shape], offset, size };
    offset += size;
    return entry;
  });
}

function concat(arrays: Float32Array[]): Uint8Array {
  const total = arrays.reduce((n, a) => n + a.length, 0);
  const out = new Float32Array(total);
  let off = 0;
  for (const a of arrays) {
    out.set(a, off);
    off += a.length;
  }
  return new Uint8Array(out.buffer);
}

function readFloats(path: string): Float32Array {
  const buf = readFileSync(path);
  const out = new Float32Array(buf.byteLength / 4);
  new Uint8Array(out.buffer).set(buf);
  return out;
}

/** Write a checkpoint of `params` + `optimizer` + `state` under `checkpointDir` atomically. */
export function saveCheckpoint(
  checkpointDir: string,
  params: readonly NamedParam[],
  optimizer: AdamW,
  state: CheckpointState,
): void {
  mkdirSync(checkpointDir, { recursive: true });
  const name = stepDirName(state.step);
  const tmp = join(checkpointDir, `${name}.tmp-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  const opt: AdamWState = optimizer.getState();
  writeFileAtomic(join(tmp, 'weights.bin'), concat(params.map((p) => p.variable.dataSync() as Float32Array)));
  writeFileAtomic(join(tmp, 'optimizer.bin'), concat([...opt.m, ...opt.v]));
  const file: StateFile = { format: 1, state, optimizerStep: opt.step, tensors: manifest(params) };
  writeJsonAtomic(join(tmp, 'state.json'), file);
  const final = join(checkpointDir, name);
  rmSync(final, { recursive: true, force: true }); // a leftover from a run killed before its commit
  renameSync(tmp, final);
  writeJsonAtomic(join(checkpointDir, 'latest.json'), { dir: name, step: state.step });
  for (const entry of readdirSync(checkpointDir)) {
    if (entry !== name && entry.startsWith('step-')) rmSync(join(checkpointDir, entry), { recursive: true, force: true });
  }
}

/** The committed checkpoint's state, or undefined when there is none. */
export function readCheckpointState(checkpointDir: string): LoadedCheckpoint | undefined {
  const latest = join(checkpointDir, 'latest.json');
  if (!existsSync(latest)) return undefined;
  const { dir } = readJson<{ dir: string; step: number }>(latest);
  const file = readJson<StateFile>(join(checkpointDir, dir, 'state.json'));
  return { state: file.state, dir: join(checkpointDir, dir) };
}

/**
 * Restore weights and optimiser state from the committed checkpoint into `params`/`optimizer`
 * and return its loop state; undefined when there is no checkpoint. Throws ResumeMismatchError
 * when the checkpoint's parameters differ in names or shapes from the model's.
 */
export function loadCheckpoint(
  checkpointDir: string,
  params: readonly NamedParam[],
  optimizer: AdamW,
): LoadedCheckpoint | undefined {
  const loaded = readCheckpointState(checkpointDir);
  if (!loaded) return undefined;
  const file = readJson<StateFile>(join(loaded.dir, 'state.json'));
  const expected = manifest(params);
  const describe = (t: TensorEntry[]) => t.map((e) => `${e.name}[${e.shape.join(',')}]`).join(' ');
  if (describe(file.tensors) !== describe(expected)) {
    throw new ResumeMismatchError(
      `checkpoint ${loaded.dir} holds parameters ${describe(file.tensors).slice(0, 200)}… but the model has ` +
        `${describe(expected).slice(0, 200)}…. The run folder belongs to a different model: use a new output folder.`,
    );
  }
  const weights = readFloats(join(loaded.dir, 'weights.bin'));
  const moments = readFloats(join(loaded.dir, 'optimizer.bin'));
  const total = expected.reduce((n, e) => n + e.size, 0);
  if (weights.length !== total || moments.length !== 2 * total) {
    throw new ResumeMismatchError(`checkpoint ${loaded.dir} has truncated tensor files (expected ${total} floats of weights)`);
  }
  params.forEach((p, i) => {
    const e = expected[i];
    tf.tidy(() => p.variable.assign(tf.tensor(weights.subarray(e.offset, e.offset + e.size), e.shape, 'float32')));
  });
  optimizer.setState({
    step: file.optimizerStep,
    m: expected.map((e) => moments.slice(e.offset, e.offset + e.size)),
    v: expected.map((e) => moments.slice(total + e.offset, total + e.offset + e.size)),
  });
  return { state: file.state, dir: loaded.dir };
}
