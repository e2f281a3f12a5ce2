// The engine layer: the one module that knows TensorFlow.js backends exist (docs/architecture.md#public-api).
// It chooses a backend, initialises it, and reports what it chose. Everything else imports
// `@tensorflow/tfjs` and uses whatever backend is active.
//
// Order for `auto` (fastest first): tfjs-node-gpu → webgpu (a hardware adapter only) → tfjs-node →
// wasm → cpu. The two native packages are optionalDependencies: their install downloads
// libtensorflow, which fails on machines without internet, and npm then drops them silently, so
// the choice is logged at run time. webgpu (src/engine/webgpu.ts) installs from the npm registry
// alone; `auto` skips it when the only adapter is a software one (lavapipe), which
// `--backend webgpu` accepts.
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { BackendError } from '../errors.ts';
import { assertDeviceHealthy, webgpuAdapter as webgpuAdapterOf, type AdapterInfo } from './webgpu.ts';

export const BACKEND_NAMES = ['tfjs-node-gpu', 'webgpu', 'tfjs-node', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
export type BackendRequest = BackendName | 'auto';

/** npm package that provides each backend, and the tf.js backend name it registers. */
const PACKAGES: Record<BackendName, { pkg: string; tfName: string }> = {
  'tfjs-node-gpu': { pkg: '@tensorflow/tfjs-node-gpu', tfName: 'tensorflow' },
  webgpu: { pkg: '@tensorflow/tfjs-backend-webgpu', tfName: 'webgpu' },
  'tfjs-node': { pkg: '@tensorflow/tfjs-node', tfName: 'tensorflow' },
  wasm: { pkg: '@tensorflow/tfjs-backend-wasm', tfName: 'wasm' },
  cpu: { pkg: '@tensorflow/tfjs', tfName: 'cpu' },
};

export const INSTALL_HINTS: Record<BackendName, string> = {
  'tfjs-node-gpu':
    'Install it on a Linux machine with CUDA 11.2 + cuDNN 8.1 and internet access: ' +
    '`npm install @tensorflow/tfjs-node-gpu@4.22.0` (it downloads libtensorflow 2.9.1 at install ' +
    'time; behind a firewall set TFJS_NODE_BASE_URI to a mirror). See README "GPU machines".',
  webgpu:
    'Run `npm install` in the moelab folder on linux-x64, macOS or Windows (optional dependencies ' +
    '@tensorflow/tfjs-backend-webgpu@4.22.0 and webgpu@0.6.2, Dawn prebuilt, nothing downloaded at install ' +
    'time), and have a Vulkan driver (scripts/setup.sh --gpu installs the software one). See README "GPU machines".',
  'tfjs-node':
    'Install it on a machine with internet access: `npm install @tensorflow/tfjs-node@4.22.0` ' +
    '(it downloads libtensorflow 2.9.1 at install time). See README "GPU machines".',
  wasm: 'Run `npm install` in the moelab folder (it is a regular dependency).',
  cpu: 'Run `npm install` in the moelab folder (it is a regular dependency).',
};

export interface EngineOptions {
  /** Backend to use; `auto` (default) takes the best one installed. Env: MOELAB_BACKEND. */
  backend?: BackendRequest;
  /** wasm worker threads (1 = single-threaded). Env: MOELAB_THREADS. */
  threads?: number;
  /**
   * Use the native OpenBLAS matmul kernel on wasm when it is built (default true).
   * Env: MOELAB_NATIVE=0 turns it off.
   */
  native?: boolean;
  /** OpenBLAS threads for the native kernel (default 2, capped at the core count). Env: MOELAB_BLAS_THREADS. */
  blasThreads?: number;
  /**
   * Replace wasm's slow data-movement kernels (Slice, SplitV, GatherV2, Transpose, Sum over
   * leading axes, Identity) with heap-copy versions (default true). Env: MOELAB_HEAP_KERNELS=0.
   */
  heapKernels?: boolean;
  /** Log line sink for the choice (default: stderr). */
  log?: (line: string) => void;
}

export interface EngineInfo {
  backend: BackendName;
  /** Name registered with tf.js (`tensorflow`, `wasm`, `cpu`). */
  tfBackend: string;
  tfjsVersion: string;
  /** Versions of the backend packages that resolved. */
  packages: Record<string, string>;
  threads: number;
  simd: boolean;
  /** Whether the native OpenBLAS matmul kernel replaced the wasm BatchMatMul. */
  nativeMatmul: boolean;
  /** Why it is off (not built, MOELAB_NATIVE=0, not a wasm backend), when it is. */
  nativeMatmulReason?: string;
  /** OpenBLAS threads used by the native kernel (0 when it is off). */
  blasThreads: number;
  /** Whether the heap-copy data-movement kernels (src/engine/heap-kernels.ts) are registered. */
  heapKernels: boolean;
  /** Which fused kernels run (src/engine/fused-kernels.ts fusedKernelMode): C, JavaScript or none. */
  fusedKernels: 'native' | 'js' | 'off';
  /** Backends tried before this one in `auto` mode, with why each was skipped. */
  skipped: { backend: BackendName; reason: string }[];
  /** webgpu only: the adapter (vendor, architecture, limits). */
  adapter?: AdapterInfo;
  /**
   * Whether the model runs its device-resident path (impl "device": routing, dispatch and
   * attention in tensor ops, no host read inside a step): on webgpu. tfjs-node-gpu keeps the host
   * kernels (never run here; its dataSync works).
   */
  deviceResident: boolean;
  /** Whether `dataSync` works on GPU-resident tensors (false on webgpu in Node: use `await data()`). */
  syncReads: boolean;
}

// ---------------------------------------------------------------------------------------------
// Pure selection logic (tested without loading any backend)

export function parseBackendRequest(value: string | undefined, source: string): BackendRequest {
  if (value === undefined || value === '') return 'auto';
  if (value === 'auto' || (BACKEND_NAMES as readonly string[]).includes(value)) {
    return value as BackendRequest;
  }
  throw new BackendError(
    `${source}: unknown backend ${JSON.stringify(value)}. ` +
      `Use one of: auto, ${BACKEND_NAMES.join(', ')}.`,
  );
}

/**
 * Ordered candidates for a request: `auto` tries every backend best-first; an explicit name
 * tries only itself, and fails if it is not installed (with how to install it).
 */
export function candidateBackends(
  request: BackendRequest,
  isInstalled: (b: BackendName) => boolean,
): BackendName[] {
  if (request === 'auto') return BACKEND_NAMES.filter(isInstalled);
  if (!isInstalled(request)) {
    throw new BackendError(
      `backend ${request} was requested (--backend / MOELAB_BACKEND) but ` +
        `${PACKAGES[request].pkg} is not installed. ${INSTALL_HINTS[request]} ` +
        `Or use --backend auto to take the best installed backend.`,
    );
  }
  return [request];
}

export function parseThreads(value: string | number | undefined, source: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64) {
    throw new BackendError(
      `${source}: threads must be an integer from 1 to 64 (got ${JSON.stringify(value)}).`,
    );
  }
  return n;
}

/** `MOELAB_NATIVE`-style switches: 1/true/on or 0/false/off; empty or unset = undefined. */
export function parseSwitch(value: string | undefined, source: string): boolean | undefined {
  if (value === undefined || value === '') return undefined;
  const v = value.toLowerCase();
  if (v === '1' || v === 'true' || v === 'on') return true;
  if (v === '0' || v === 'false' || v === 'off') return false;
  throw new BackendError(`${source}: expected 1 or 0 (got ${JSON.stringify(value)}). Use ${source}=0 to turn it off.`);
}

// ---------------------------------------------------------------------------------------------
// Probing and initialisation

const require = createRequire(import.meta.url);

export function packageVersion(pkg: string): string | undefined {
  try {
    return (require(`${pkg}/package.json`) as { version: string }).version;
  } catch {
    return undefined;
  }
}

export function isBackendInstalled(backend: BackendName): boolean {
  if (backend === 'webgpu' && packageVersion('webgpu') === undefined) return false;
  return packageVersion(PACKAGES[backend].pkg) !== undefined;
}

let active: EngineInfo | undefined;

/** The engine chosen by `initEngine`, or undefined before it ran. */
export function engineInfo(): EngineInfo | undefined {
  return active;
}

/**
 * Choose and initialise the TF.js backend. Safe to call more than once: later calls with the
 * same request return the first result.
 */
export async function initEngine(options: EngineOptions = {}): Promise<EngineInfo> {
  const request = options.backend ?? parseBackendRequest(process.env.MOELAB_BACKEND, 'MOELAB_BACKEND');
  const threads = options.threads ?? parseThreads(process.env.MOELAB_THREADS, 'MOELAB_THREADS') ?? 1;
  const native = options.native ?? parseSwitch(process.env.MOELAB_NATIVE, 'MOELAB_NATIVE') ?? true;
  const blasThreads =
    options.blasThreads ??
    parseThreads(process.env.MOELAB_BLAS_THREADS, 'MOELAB_BLAS_THREADS') ??
    Math.min(2, availableParallelism());
  const heapKernels = options.heapKernels ?? parseSwitch(process.env.MOELAB_HEAP_KERNELS, 'MOELAB_HEAP_KERNELS') ?? true;
  if (active && (request === 'auto' || request === active.backend)) return active;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));

  const skipped: EngineInfo['skipped'] = [];
  for (const backend of candidateBackends(request, isBackendInstalled)) {
    try {
      const actualThreads = await activate(backend, threads, request === 'webgpu');
      const kernels =
        backend === 'wasm' ? await enableWasmKernels(native, blasThreads, heapKernels) : notWasm(backend);
      active = describe(backend, actualThreads, skipped, kernels);
      log(
        `moelab: backend ${backend} (tf.js ${active.tfjsVersion}` +
          (backend === 'wasm'
            ? `, simd ${active.simd ? 'on' : 'off'}, ${active.threads} thread(s), native matmul ` +
              (active.nativeMatmul ? `on (OpenBLAS, ${active.blasThreads} thread(s))` : `off: ${active.nativeMatmulReason}`) +
              `, heap kernels ${active.heapKernels ? 'on' : 'off'}` +
              (active.heapKernels ? `, fused kernels ${active.fusedKernels}` : '')
            : '') +
          (active.adapter
            ? `, adapter ${active.adapter.vendor} ${active.adapter.architecture}${active.adapter.software ? ' (software)' : ''}`
            : '') +
          `)` +
          (skipped.length ? `; skipped ${skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')}` : ''),
      );
      return active;
    } catch (err) {
      const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
      if (request !== 'auto') {
        throw new BackendError(`backend ${backend} is installed but failed to start: ${reason}`);
      }
      skipped.push({ backend, reason });
    }
  }
  throw new BackendError(
    `no TF.js backend could start (${skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')}). ` +
      `Run \`npm install\` in the moelab folder.`,
  );
}

/**
 * Throw a BackendError if the running backend's device reported an error since it started (webgpu:
 * src/engine/webgpu.ts assertDeviceHealthy); nothing to check on the other backends. What the
 * CLI hands the training loop (TrainRunOptions.checkDevice), which does not know backends exist.
 */
export function assertEngineHealthy(): void {
  assertDeviceHealthy();
}

/** The wasm backend's heap ceiling: emscripten's getHeapMax() in tfjs-backend-wasm 4.22 (4 GiB − 64 KiB). */
export const WASM_HEAP_MAX_BYTES = 4294901760;

/**
 * What a failure inside the wasm backend means, for the user: `RuntimeError: Aborted()` and
 * `RuntimeError: memory access out of bounds` are what tfjs-backend-wasm raises when its heap
 * cannot grow (emscripten_resize_heap refuses beyond WASM_HEAP_MAX_BYTES; an allocation then
 * aborts or a null-based write traps) — measured with the large workload at batches 32 and 64
 * (docs/BENCHMARKS.md "GPU: webgpu on Dawn, NVIDIA H200"). Returns a BackendError naming the
 * heap, its size when the failure happened and the fix, or undefined for any other error.
 * `heapBytes` is the backend's current heap size (read from the running backend when omitted).
 */
export function explainEngineFailure(err: unknown, backend: string, context: { batchSize?: number; batchField?: string } = {}, heapBytes: number | undefined = wasmHeapBytes()): BackendError | undefined {
  if (backend !== 'wasm' || !(err instanceof Error) || err.name !== 'RuntimeError') return undefined;
  if (!/Aborted\(|memory access out of bounds/.test(err.message)) return undefined;
  const gib = (b: number) => `${(b / 2 ** 30).toFixed(2)} GiB`;
  const heap = heapBytes === undefined ? '' : `, and this run had grown it to ${gib(heapBytes)}`;
  const field = context.batchField ?? 'train.batchSize';
  const batch = context.batchSize === undefined ? field : `${field} (now ${context.batchSize})`;
  return new BackendError(
    `the wasm backend failed (${err.name}: ${err.message.split('\n')[0]}): most likely its heap is full — a wasm heap holds at most ${gib(WASM_HEAP_MAX_BYTES)}${heap}. ` +
      `Fix: lower ${batch} or the model's size, or train on a GPU backend (--backend webgpu). What was written before the failure (the last checkpoint) is intact; a smaller batch is another configuration, so give it its own --out.`,
  );
}

/** The running wasm backend's heap size in bytes (undefined on other backends). */
function wasmHeapBytes(): number | undefined {
  try {
    const b = tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } };
    return b.wasm?.HEAPU8?.length;
  } catch {
    return undefined;
  }
}

/** Start a backend; returns the wasm thread count actually in use (1 elsewhere). */
async function activate(backend: BackendName, threads: number, allowSoftwareGpu: boolean): Promise<number> {
  let wasm: typeof import('@tensorflow/tfjs-backend-wasm') | undefined;
  if (backend === 'webgpu') {
    const { startWebGpu } = await import('./webgpu.ts');
    await startWebGpu({ allowSoftware: allowSoftwareGpu });
  } else if (backend === 'tfjs-node-gpu' || backend === 'tfjs-node') {
    // Importing the package registers the `tensorflow` backend on the shared tfjs-core instance.
    await import(PACKAGES[backend].pkg);
  } else if (backend === 'wasm') {
    wasm = await import('@tensorflow/tfjs-backend-wasm');
    if (threads > 1) {
      const { enableWasmThreads } = await import('./wasm-threads.ts');
      enableWasmThreads(wasm, threads);
    }
  }
  const ok = await tf.setBackend(PACKAGES[backend].tfName);
  if (!ok) throw new Error(`tf.setBackend('${PACKAGES[backend].tfName}') returned false`);
  await tf.ready();
  return wasm ? wasm.getThreadsCount() : 1;
}

type KernelState = Pick<EngineInfo, 'nativeMatmul' | 'nativeMatmulReason' | 'blasThreads' | 'heapKernels' | 'fusedKernels'>;

function notWasm(backend: BackendName): KernelState {
  return {
    nativeMatmul: false,
    nativeMatmulReason: `only used on wasm (${backend} has its own)`,
    blasThreads: 0,
    heapKernels: false,
    fusedKernels: 'off',
  };
}

/**
 * The engine's wasm kernels: heap-copy data movement (pure JS) and, when asked for and built, the
 * native OpenBLAS matmul. Never throws for a missing addon: the reason is reported instead.
 */
async function enableWasmKernels(native: boolean, blasThreads: number, heap: boolean): Promise<KernelState> {
  const { registerHeapKernels, unregisterHeapKernels } = await import('./heap-kernels.ts');
  const { fusedKernelMode } = await import('./fused-kernels.ts');
  const { loadNativeAddon, registerNativeMatmul, unregisterNativeMatmul } = await import('./native-matmul.ts');
  const load = native ? loadNativeAddon() : undefined;
  if (heap) registerHeapKernels(load?.addon);
  else unregisterHeapKernels();
  if (!load?.addon) {
    unregisterNativeMatmul();
    const reason = native ? load!.reason : 'turned off (--no-native or MOELAB_NATIVE=0)';
    return { nativeMatmul: false, nativeMatmulReason: reason, blasThreads: 0, heapKernels: heap, fusedKernels: fusedKernelMode() };
  }
  load.addon.setThreads(blasThreads);
  registerNativeMatmul(load.addon);
  return { nativeMatmul: true, blasThreads: load.addon.getThreads(), heapKernels: heap, fusedKernels: fusedKernelMode() };
}

function describe(
  backend: BackendName,
  threads: number,
  skipped: EngineInfo['skipped'],
  kernels: KernelState,
): EngineInfo {
  const packages: Record<string, string> = {};
  for (const b of BACKEND_NAMES) {
    const v = packageVersion(PACKAGES[b].pkg);
    if (v) packages[PACKAGES[b].pkg] = v;
  }
  const dawn = packageVersion('webgpu');
  if (dawn) packages.webgpu = dawn;
  return {
    backend,
    tfBackend: tf.getBackend(),
    tfjsVersion: tf.version.tfjs,
    packages,
    threads: backend === 'wasm' ? threads : 1,
    simd: backend === 'wasm' ? tf.env().getBool('WASM_HAS_SIMD_SUPPORT') : false,
    ...kernels,
    skipped,
    adapter: backend === 'webgpu' ? webgpuAdapterOf() : undefined,
    deviceResident: backend === 'webgpu',
    syncReads: backend !== 'webgpu',
  };
}

/**
 * Matmul throughput probe: GFLOP/s of an [m, k]·[k, n] product on the active backend (median of
 * `reps` timed products after two warm-ups), optionally with transposed operands (as backprop
 * issues them). Each timed product includes reading the result back (`dataSync`).
 *
 * NOTE: the product is disposed explicitly, never by returning `dataSync()` from `tf.tidy`:
 * tidy walks its return value looking for tensors (tfjs-core `getTensorsInContainer` iterates
 * every key of a returned typed array into a Set), which costs ~4–12 ms for 65,536 floats and
 * made this probe report 2.5 instead of ~40 GFLOP/s on 256³. Training code, which
 * returns tensors from tidy, is unaffected; never return large arrays from a tidy.
 */
export function probeMatmulGflops(
  n = 256,
  reps = 9,
  shape: { m?: number; k?: number; transposeA?: boolean; transposeB?: boolean } = {},
): number {
  const m = shape.m ?? n;
  const k = shape.k ?? n;
  const ta = shape.transposeA ?? false;
  const tb = shape.transposeB ?? false;
  const a = tf.randomNormal(ta ? [k, m] : [m, k]);
  const b = tf.randomNormal(tb ? [n, k] : [k, n]);
  const once = () => {
    const c = tf.matMul(a, b, ta, tb);
    c.dataSync();
    c.dispose();
  };
  const times: number[] = [];
  try {
    once();
    once();
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      once();
      times.push(performance.now() - t0);
    }
  } finally {
    a.dispose();
    b.dispose();
  }
  times.sort((x, y) => x - y);
  const ms = times[Math.floor(times.length / 2)];
  return (2 * m * n * k) / (ms * 1e6);
}

/**
 * probeMatmulGflops for backends without synchronous reads (webgpu): the same product, timed up
 * to the end of `await data()` on a one-element slice, so the time covers the product and one
 * small read, not the transfer of the whole result.
 */
export async function probeMatmulGflopsAsync(
  n = 256,
  reps = 9,
  shape: { m?: number; k?: number } = {},
): Promise<number> {
  const m = shape.m ?? n;
  const k = shape.k ?? n;
  const a = tf.randomNormal([m, k]);
  const b = tf.randomNormal([k, n]);
  const once = async () => {
    const c = tf.matMul(a, b);
    const corner = tf.slice(c, [0, 0], [1, 1]);
    await corner.data();
    tf.dispose([c, corner]);
  };
  const times: number[] = [];
  try {
    await once();
    await once();
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      await once();
      times.push(performance.now() - t0);
    }
  } finally {
    a.dispose();
    b.dispose();
  }
  times.sort((x, y) => x - y);
  const ms = times[Math.floor(times.length / 2)];
  return (2 * m * n * k) / (ms * 1e6);
}
