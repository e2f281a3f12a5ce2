// Checkpoints: weights, optimiser state, step, data cursor, RNG state and the loop's running
// statistics, written so that `kill -9` at any moment leaves either the previous checkpoint or
// the new one, never a torn one.
//
//   checkpoint/
//     latest.json          {"dir": "step-000200", "step": 200, "stateSha256": …}  (replaced atomically: the commit point)
//     step-000200/
//       state.json         CheckpointState + tensor manifest + {bytes, sha256} of each .bin file
//       weights.bin        float32 little-endian, parameters in manifest order
//       optimizer.bin      float32: AdamW m then v, per parameter in manifest order
//     step-000100/         the previous checkpoint, kept as a fallback
// A new checkpoint is written into `step-N.tmp-<pid>/`, renamed to `step-N/`, then latest.json is
// replaced; only after that are older step folders removed, all but the previous one.
//
// Integrity: every file of a checkpoint is checksummed (sha256) in its manifest — the .bin files in
// state.json, state.json in latest.json — and verified on resume. A mismatch (a flipped byte, a
// NaN written into the weights, a truncated copy) refuses the resume with a CorruptFileError
// naming the file and the way out: the previous checkpoint, or a restart from step 0.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { CorruptFileError, ResumeMismatchError } from '../errors.ts';
import { rethrowWriteError, toJson, writeFileAtomic, writeJsonAtomic } from '../io/atomic.ts';
import { readJsonFile, readJsonFileIfExists } from '../io/json.ts';
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

interface FileSum {
  bytes: number;
  sha256: string;
}

interface StateFile {
  /** 1: no checksums (read, not verified); 2: `files` holds the .bin checksums. */
  format: 1 | 2;
  state: CheckpointState;
  optimizerStep: number;
  tensors: TensorEntry[];
  files?: { 'weights.bin': FileSum; 'optimizer.bin': FileSum };
}

interface LatestFile {
  dir: string;
  step: number;
  /** sha256 of the step folder's state.json (absent in checkpoints written before checksums). */
  stateSha256?: string;
}

export interface LoadedCheckpoint {
  state: CheckpointState;
  /** Step folder it was read from. */
  dir: string;
}

const stepDirName = (step: number) => `step-${String(step).padStart(6, '0')}`;
const STEP_DIR = /^step-\d+$/;

export const sha256 = (data: Uint8Array | string): string => createHash('sha256').update(data).digest('hex');
const fileSum = (data: Uint8Array): FileSum => ({ bytes: data.byteLength, sha256: sha256(data) });

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

function toFloats(buf: Uint8Array): Float32Array {
  const out = new Float32Array(Math.floor(buf.byteLength / 4));
  new Uint8Array(out.buffer).set(buf.subarray(0, out.length * 4));
  return out;
}

/**
 * Write a checkpoint of `params` + `optimizer` + `state` under `checkpointDir` atomically, reading
 * the tensors with `dataSync` (backends with synchronous reads; the training loop uses
 * saveCheckpointAsync, which writes the same bytes).
 */
export function saveCheckpoint(
  checkpointDir: string,
  params: readonly NamedParam[],
  optimizer: AdamW,
  state: CheckpointState,
): void {
  const weights = params.map((p) => p.variable.dataSync() as Float32Array);
  writeCheckpoint(checkpointDir, params, weights, optimizer.getState(), state);
}

/** saveCheckpoint reading the tensors with `await data()`: every backend, webgpu included. */
export async function saveCheckpointAsync(
  checkpointDir: string,
  params: readonly NamedParam[],
  optimizer: AdamW,
  state: CheckpointState,
): Promise<void> {
  const [weights, opt] = await Promise.all([
    Promise.all(params.map(async (p) => (await p.variable.data()) as Float32Array)),
    optimizer.readState(),
  ]);
  writeCheckpoint(checkpointDir, params, weights, opt, state);
}

/** The files of a checkpoint from host copies of the weights (in `params` order) and AdamW state. */
function writeCheckpoint(
  checkpointDir: string,
  params: readonly NamedParam[],
  weightValues: Float32Array[],
  opt: AdamWState,
  state: CheckpointState,
): void {
  const name = stepDirName(state.step);
  const tmp = join(checkpointDir, `${name}.tmp-${process.pid}`);
  const final = join(checkpointDir, name);
  const latestPath = join(checkpointDir, 'latest.json');
  let previous: string | undefined;
  try {
    mkdirSync(checkpointDir, { recursive: true });
    previous = committedDir(checkpointDir);
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp);
    const weights = concat(weightValues);
    const moments = concat([...opt.m, ...opt.v]);
    writeFileAtomic(join(tmp, 'weights.bin'), weights);
    writeFileAtomic(join(tmp, 'optimizer.bin'), moments);
    const file: StateFile = {
      format: 2,
      state,
      optimizerStep: opt.step,
      tensors: manifest(params),
      files: { 'weights.bin': fileSum(weights), 'optimizer.bin': fileSum(moments) },
    };
    const stateText = `${toJson(file, 2)}\n`;
    writeFileAtomic(join(tmp, 'state.json'), stateText);
    rmSync(final, { recursive: true, force: true }); // a leftover from a run killed before its commit
    renameSync(tmp, final);
    const latest: LatestFile = { dir: name, step: state.step, stateSha256: sha256(stateText) };
    writeJsonAtomic(latestPath, latest);
  } catch (err) {
    // Nothing half-written stays behind: the temp folder goes, latest.json still names the
    // previous checkpoint (or, if the rename happened, the folder it names is complete).
    rmSync(tmp, { recursive: true, force: true });
    rethrowWriteError(err, tmp);
  }
  for (const entry of readdirSync(checkpointDir)) {
    if (entry !== name && entry !== previous && entry.startsWith('step-')) rmSync(join(checkpointDir, entry), { recursive: true, force: true });
  }
}

/** The step folder latest.json names, if it can be read (used only to decide what to keep). */
function committedDir(checkpointDir: string): string | undefined {
  try {
    const latest = readJsonFileIfExists(join(checkpointDir, 'latest.json')) as LatestFile | undefined;
    return typeof latest?.dir === 'string' && STEP_DIR.test(latest.dir) ? latest.dir : undefined;
  } catch {
    return undefined;
  }
}

/** Complete step folders, newest first. */
function stepDirs(checkpointDir: string): string[] {
  if (!existsSync(checkpointDir)) return [];
  return readdirSync(checkpointDir)
    .filter((e) => STEP_DIR.test(e) && existsSync(join(checkpointDir, e, 'state.json')))
    .sort()
    .reverse();
}

/** The way out of a damaged checkpoint in `dir`: the previous one, or a restart. */
function wayOut(checkpointDir: string, damagedDir: string): string {
  const older = stepDirs(checkpointDir).filter((d) => d < damagedDir);
  const restart = `or delete ${checkpointDir} to restart the run from step 0`;
  if (older.length === 0) return `No earlier checkpoint is kept: delete ${checkpointDir} to restart the run from step 0`;
  return (
    `To resume from the previous checkpoint (${older[0]}), delete ${join(checkpointDir, damagedDir)} and ` +
    `${join(checkpointDir, 'latest.json')}, then run the same command again (it resumes from the newest step folder left); ${restart}`
  );
}

/**
 * The committed checkpoint's state, or undefined when there is none. latest.json names it; without
 * latest.json (deleted to fall back to the previous checkpoint) the newest complete step folder is
 * used. state.json is verified against latest.json's checksum.
 */
export function readCheckpointState(checkpointDir: string): LoadedCheckpoint | undefined {
  return readStateFile(checkpointDir)?.loaded;
}

function readStateFile(checkpointDir: string): { loaded: LoadedCheckpoint; file: StateFile; name: string } | undefined {
  const latestPath = join(checkpointDir, 'latest.json');
  let name: string;
  let expectedSha: string | undefined;
  if (existsSync(latestPath)) {
    const latest = readJsonFile(latestPath, {
      fix: `Delete ${latestPath}: the run then resumes from the newest complete step folder in ${checkpointDir}`,
    }) as LatestFile;
    if (typeof latest?.dir !== 'string' || !STEP_DIR.test(latest.dir)) {
      throw new CorruptFileError(
        latestPath,
        `names ${JSON.stringify(latest?.dir)}, not a step folder`,
        `Delete ${latestPath}: the run then resumes from the newest complete step folder in ${checkpointDir}`,
      );
    }
    name = latest.dir;
    expectedSha = latest.stateSha256;
  } else {
    const dirs = stepDirs(checkpointDir);
    if (dirs.length === 0) return undefined;
    name = dirs[0];
  }
  const dir = join(checkpointDir, name);
  const statePath = join(dir, 'state.json');
  if (!existsSync(statePath)) {
    throw new CorruptFileError(statePath, 'is missing (latest.json names this checkpoint)', wayOut(checkpointDir, name));
  }
  const text = readFileSync(statePath, 'utf8');
  if (expectedSha !== undefined && sha256(text) !== expectedSha) {
    throw new CorruptFileError(
      statePath,
      `does not match the sha256 recorded in ${join(checkpointDir, 'latest.json')} (the file is damaged)`,
      wayOut(checkpointDir, name),
    );
  }
  const file = readJsonFile(statePath, { fix: wayOut(checkpointDir, name) }) as StateFile;
  return { loaded: { state: file.state, dir }, file, name };
}

/** Read a .bin file of a checkpoint, verified against the manifest's checksum when there is one. */
function readVerified(checkpointDir: string, name: string, file: StateFile, bin: 'weights.bin' | 'optimizer.bin'): Float32Array {
  const path = join(checkpointDir, name, bin);
  if (!existsSync(path)) throw new CorruptFileError(path, 'is missing', wayOut(checkpointDir, name));
  const buf = readFileSync(path);
  const sum = file.files?.[bin];
  if (sum && (buf.byteLength !== sum.bytes || sha256(buf) !== sum.sha256)) {
    throw new CorruptFileError(
      path,
      buf.byteLength !== sum.bytes
        ? `has ${buf.byteLength} bytes but its manifest (state.json) records ${sum.bytes} (the file is damaged or cut short)`
        : `does not match the sha256 recorded in its manifest (state.json): the file is damaged (${relative(checkpointDir, path)})`,
      wayOut(checkpointDir, name),
    );
  }
  return toFloats(buf);
}

/**
 * Restore weights and optimiser state from the committed checkpoint into `params`/`optimizer`
 * and return its loop state; undefined when there is no checkpoint. Throws ResumeMismatchError
 * when the checkpoint's parameters differ in names or shapes from the model's, and
 * CorruptFileError when a file does not match its checksum.
 */
export function loadCheckpoint(
  checkpointDir: string,
  params: readonly NamedParam[],
  optimizer: AdamW,
): LoadedCheckpoint | undefined {
  const read = readStateFile(checkpointDir);
  if (!read) return undefined;
  const { loaded, file, name } = read;
  const expected = manifest(params);
  const describe = (t: TensorEntry[]) => t.map((e) => `${e.name}[${e.shape.join(',')}]`).join(' ');
  if (describe(file.tensors) !== describe(expected)) {
    throw new ResumeMismatchError(
      `checkpoint ${loaded.dir} holds parameters ${describe(file.tensors).slice(0, 200)}… but the model has ` +
        `${describe(expected).slice(0, 200)}…. The run folder belongs to a different model: use a new output folder.`,
    );
  }
  const weights = readVerified(checkpointDir, name, file, 'weights.bin');
  const moments = readVerified(checkpointDir, name, file, 'optimizer.bin');
  const total = expected.reduce((n, e) => n + e.size, 0);
  if (weights.length !== total || moments.length !== 2 * total) {
    throw new CorruptFileError(
      loaded.dir,
      `has truncated tensor files (expected ${total} floats of weights, found ${weights.length})`,
      wayOut(checkpointDir, name),
    );
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
