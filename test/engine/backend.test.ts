import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  BACKEND_NAMES,
  candidateBackends,
  explainEngineFailure,
  initEngine,
  WASM_HEAP_MAX_BYTES,
  isBackendInstalled,
  parseBackendRequest,
  parseSwitch,
  parseThreads,
  type BackendName,
} from '../../src/engine/backend.ts';
import { BackendError } from '../../src/errors.ts';

const only = (...names: BackendName[]) => (b: BackendName) => names.includes(b);

describe('backend selection (pure)', () => {
  it('auto orders tfjs-node-gpu → webgpu → tfjs-node → wasm → cpu among installed backends', () => {
    expect(candidateBackends('auto', () => true)).toEqual(['tfjs-node-gpu', 'webgpu', 'tfjs-node', 'wasm', 'cpu']);
    expect(candidateBackends('auto', only('cpu', 'wasm', 'webgpu'))).toEqual(['webgpu', 'wasm', 'cpu']);
    expect(candidateBackends('auto', only('cpu', 'wasm'))).toEqual(['wasm', 'cpu']);
    expect(candidateBackends('auto', only('cpu', 'tfjs-node'))).toEqual(['tfjs-node', 'cpu']);
  });

  it('an explicit backend that is installed is the only candidate', () => {
    expect(candidateBackends('cpu', () => true)).toEqual(['cpu']);
    expect(candidateBackends('wasm', only('wasm'))).toEqual(['wasm']);
  });

  for (const missing of ['tfjs-node-gpu', 'tfjs-node'] as const) {
    it(`requesting missing ${missing} fails naming the package and how to install it`, () => {
      expect(() => candidateBackends(missing, only('wasm', 'cpu'))).toThrow(BackendError);
      expect(() => candidateBackends(missing, only('wasm', 'cpu'))).toThrow(
        new RegExp(`@tensorflow/${missing}.*not installed.*npm install @tensorflow/${missing}@4\\.22\\.0`),
      );
    });
  }

  it('parses backend names and rejects unknown ones', () => {
    expect(parseBackendRequest(undefined, 'x')).toBe('auto');
    expect(parseBackendRequest('', 'x')).toBe('auto');
    for (const b of BACKEND_NAMES) expect(parseBackendRequest(b, 'x')).toBe(b);
    expect(() => parseBackendRequest('gpu', 'MOELAB_BACKEND')).toThrow(/MOELAB_BACKEND: unknown backend "gpu".*auto, tfjs-node-gpu/);
  });

  it('parses thread counts', () => {
    expect(parseThreads(undefined, 'x')).toBeUndefined();
    expect(parseThreads('2', 'x')).toBe(2);
    expect(() => parseThreads('0', '--threads')).toThrow(/--threads: threads must be an integer from 1 to 64 \(got "0"\)/);
    expect(() => parseThreads('1.5', '--threads')).toThrow(/integer/);
  });
});

describe('engine switches (pure)', () => {
  it('parses MOELAB_NATIVE-style switches and rejects anything else', () => {
    expect(parseSwitch(undefined, 'X')).toBeUndefined();
    expect(parseSwitch('', 'X')).toBeUndefined();
    for (const on of ['1', 'true', 'ON']) expect(parseSwitch(on, 'X')).toBe(true);
    for (const off of ['0', 'false', 'off']) expect(parseSwitch(off, 'X')).toBe(false);
    expect(() => parseSwitch('maybe', 'MOELAB_NATIVE')).toThrow(/MOELAB_NATIVE: expected 1 or 0 \(got "maybe"\)/);
  });
});

describe('a failure inside the wasm backend (pure)', () => {
  it('heap exhaustion (Aborted(), out-of-bounds access) becomes one message naming the heap, its size and the fix', () => {
    const heap = 4_290_000_000;
    for (const raw of [new WebAssembly.RuntimeError('Aborted(). Build with -sASSERTIONS for more info.'), new WebAssembly.RuntimeError('memory access out of bounds')]) {
      const e = explainEngineFailure(raw, 'wasm', { batchSize: 32 }, heap)!;
      expect(e).toBeInstanceOf(BackendError);
      expect(e.message).toContain(`(RuntimeError: ${raw.message})`);
      expect(e.message).toContain(`at most ${(WASM_HEAP_MAX_BYTES / 2 ** 30).toFixed(2)} GiB, and this run had grown it to 4.00 GiB`);
      expect(e.message).toMatch(/Fix: lower train\.batchSize \(now 32\) or the model's size, or train on a GPU backend \(--backend webgpu\)/);
    }
    expect(explainEngineFailure(new WebAssembly.RuntimeError('Aborted()'), 'wasm', { batchSize: 8, batchField: '--batch-size' }, undefined)!.message).toMatch(
      /most likely its heap is full — a wasm heap holds at most 4\.00 GiB\. Fix: lower --batch-size \(now 8\)/,
    );
  });

  it('any other error, or the same error on another backend, is left as it is', () => {
    expect(explainEngineFailure(new WebAssembly.RuntimeError('unreachable'), 'wasm', {}, 1)).toBeUndefined();
    expect(explainEngineFailure(new Error('Aborted()'), 'wasm', {}, 1)).toBeUndefined();
    expect(explainEngineFailure(new WebAssembly.RuntimeError('Aborted()'), 'webgpu', {}, 1)).toBeUndefined();
    expect(explainEngineFailure('Aborted()', 'wasm', {}, 1)).toBeUndefined();
  });
});

describe('backend initialisation on this machine', () => {
  it('wasm and cpu are installed (regular dependencies)', () => {
    expect(isBackendInstalled('wasm')).toBe(true);
    expect(isBackendInstalled('cpu')).toBe(true);
  });

  it('auto picks the best installed backend and reports it', async () => {
    const info = await initEngine({ log: () => {} });
    const expected = BACKEND_NAMES.find(isBackendInstalled);
    // tfjs-node(-gpu) may be installed yet fail to start; then auto must fall through and say why.
    if (info.backend !== expected) expect(info.skipped.map((s) => s.backend)).toContain(expected);
    expect(info.tfjsVersion).toBe('4.22.0');
    if (info.backend === 'wasm') expect(info.simd).toBe(true);
  });
});

describe('moelab env (CLI)', () => {
  const run = (args: string[], env: Record<string, string> = {}) =>
    execFileSync(process.execPath, ['bin/moelab.js', ...args], {
      env: { ...process.env, ...env },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });

  it('names the backend and prints a GFLOP/s probe', () => {
    const out = run(['env', '--backend', 'wasm']);
    expect(out).toMatch(/^backend\s+wasm/m);
    expect(out).toMatch(/matmul\s+\d+(\.\d+)? GFLOP\/s/);
  });

  it('reports the native matmul kernel, and MOELAB_NATIVE=0 turns it off', async () => {
    const { loadNativeAddon } = await import('../../src/engine/native-matmul.ts');
    const built = loadNativeAddon().addon !== undefined;
    expect(run(['env', '--backend', 'wasm'])).toMatch(built ? /^native mm\s+on \(OpenBLAS/m : /^native mm\s+off: not built/m);
    expect(run(['env', '--backend', 'wasm'], { MOELAB_NATIVE: '0' })).toMatch(/^native mm\s+off: turned off/m);
    const json = JSON.parse(run(['env', '--backend', 'wasm', '--json', '--no-native']));
    expect(json).toMatchObject({ nativeMatmul: false, heapKernels: true });
  });

  it('fails clearly when MOELAB_BACKEND names a missing backend', () => {
    if (isBackendInstalled('tfjs-node')) return; // only meaningful where it cannot install
    let stderr = '';
    try {
      run(['env'], { MOELAB_BACKEND: 'tfjs-node' });
    } catch (err) {
      stderr = String((err as { stderr: string }).stderr);
    }
    expect(stderr).toMatch(/backend tfjs-node was requested.*not installed.*npm install @tensorflow\/tfjs-node@4\.22\.0/);
  });
});
