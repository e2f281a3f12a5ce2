// Multi-threaded wasm (XNNPACK's pthreadpool over worker_threads) in Node.
//
// tfjs-backend-wasm 4.22 never picks its threaded binary in Node: the WASM_HAS_MULTITHREAD_SUPPORT
// flag returns false there (tfjs issue 3830), and even when forced, its loader hands Emscripten
// `blob:` URLs for the pthread worker script and the main script, which worker_threads cannot
// load. So this module re-registers the `wasm` backend with a factory that instantiates the
// threaded SIMD module itself, pointing Emscripten at real files: the worker script (shipped as a
// string in wasm-out/…worker.js) written once to a temp file, and the package's own
// wasm-out/tfjs-backend-wasm-threaded-simd.js as the main script each worker imports.
//
// NOTE: this depends on tfjs-backend-wasm 4.22.0 internals (the `tfjs` cwrap table that its own
// init() builds, the wasm-out file names, BackendWasm's constructor reading setThreadsCount);
// package.json pins the version exactly and `assertSupportedVersion` refuses any other.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { BackendError } from '../errors.ts';

const SUPPORTED_VERSION = '4.22.0';
/** tfjs-backend-wasm registers `wasm` with this priority; keep it so `auto` ordering is unchanged. */
const WASM_PRIORITY = 2;

/** The parts of the `@tensorflow/tfjs-backend-wasm` module this uses. */
export interface WasmPackage {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the emscripten module type is internal
  BackendWasm: new (module: any) => tf.KernelBackend;
  setThreadsCount(n: number): void;
  version_wasm: string;
}

interface EmscriptenModule {
  cwrap(name: string, ret: string | null, args: string[]): (...args: number[]) => number;
  tfjs?: Record<string, (...args: number[]) => number>;
}
type Factory = (config: Record<string, unknown>) => Promise<EmscriptenModule>;

const require = createRequire(import.meta.url);

function assertSupportedVersion(wasm: WasmPackage): void {
  if (wasm.version_wasm !== SUPPORTED_VERSION) {
    throw new BackendError(
      `wasm threads: written against @tensorflow/tfjs-backend-wasm ${SUPPORTED_VERSION} internals, but ` +
        `${wasm.version_wasm} is installed. Use --threads 1, or pin ${SUPPORTED_VERSION} in package.json.`,
    );
  }
}

/** Writes the pthread worker script to a real file once (content-addressed) and returns its path. */
function workerScriptPath(): string {
  const { wasmWorkerContents } = require('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js') as {
    wasmWorkerContents: string;
  };
  const hash = createHash('sha256').update(wasmWorkerContents).update('escaped-newlines').digest('hex').slice(0, 12);
  const dir = join(tmpdir(), `moelab-wasm-${SUPPORTED_VERSION}`);
  // `.cjs`: the script uses require(), and must not inherit an ESM package type.
  const path = join(dir, `pthread-worker-${hash}.cjs`);
  if (!existsSync(path)) {
    mkdirSync(dir, { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    // The shipped string holds real newlines where the script has `"\n"` literals (tfjs escapes
    // them again before making its Blob); without this the script does not parse.
    writeFileSync(tmp, wasmWorkerContents.replace(/\n/g, '\\n'));
    renameSync(tmp, path);
  }
  return path;
}

/**
 * Re-register the `wasm` backend so it runs the threaded SIMD binary with `threads` XNNPACK
 * threads. Call before `tf.setBackend('wasm')`.
 */
export function enableWasmThreads(wasm: WasmPackage, threads: number): void {
  assertSupportedVersion(wasm);
  const mainScript = require.resolve('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js');
  const wasmBinary = join(dirname(mainScript), 'tfjs-backend-wasm-threaded-simd.wasm');
  const worker = workerScriptPath();
  const factory = require(mainScript) as Factory;

  wasm.setThreadsCount(threads);
  tf.removeBackend('wasm');
  tf.registerBackend(
    'wasm',
    async () => {
      // tfjs's own init() evaluates these flags; later code reads them synchronously.
      const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
      if (!simd) throw new BackendError('wasm threads: this runtime has no wasm SIMD; the threaded binary needs it.');
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
      let module: EmscriptenModule;
      // The C++ side caps the pool at emscripten_num_logical_cores() / 2 (it assumes 2 hyperthreads
      // per core), read once from os.cpus().length during the module's static initialisation. On
      // a 2-core machine that cap is 1, so report 2·threads cores until the module has started.
      const os = require('node:os') as { cpus: () => unknown[] };
      const realCpus = os.cpus;
      os.cpus = () => {
        const cpus = realCpus();
        return Array.from({ length: Math.max(cpus.length, 2 * threads) }, (_, i) => cpus[i % cpus.length]);
      };
      try {
        module = await factory({
          locateFile: (path: string) => (path.endsWith('.worker.js') ? worker : path.endsWith('.wasm') ? wasmBinary : path),
          // Each pthread worker importScripts() this file (a plain script defining the factory).
          mainScriptUrlOrBlob: mainScript,
        });
      } catch (err) {
        throw new BackendError(`wasm threads: the threaded wasm module failed to start: ${String(err)}`);
      } finally {
        os.cpus = realCpus;
      }
      // The cwrap table tfjs-backend-wasm's own init() attaches (4.22.0).
      module.tfjs = {
        init: module.cwrap('init', null, []),
        initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
        getThreadsCount: module.cwrap('get_threads_count', 'number', []),
        registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
        disposeData: module.cwrap('dispose_data', null, ['number']),
        dispose: module.cwrap('dispose', null, []),
      };
      const backend = new wasm.BackendWasm(module);
      // The constructor started XNNPACK's pool threads; Emscripten ref()s the worker of every
      // running pthread, and pool threads never finish, so the process would never exit. Unref
      // them: they only ever run while the main thread is inside a kernel.
      const pthreads = (module as unknown as { PThread?: { runningWorkers: { unref(): void }[] } }).PThread;
      for (const worker of pthreads?.runningWorkers ?? []) worker.unref();
      return backend;
    },
    WASM_PRIORITY,
  );
}

/** XNNPACK threads of the running wasm backend (1 for the single-threaded binary). */
export function wasmThreadsInUse(wasm: { getThreadsCount(): number }): number {
  try {
    return wasm.getThreadsCount();
  } catch {
    return 1;
  }
}
