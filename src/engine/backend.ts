// The engine layer: the one module that knows TensorFlow.js backends exist (STYLE.md §5.1).
// It chooses a backend, initialises it, and reports what it chose. Everything else imports
// `@tensorflow/tfjs` and uses whatever backend is active.
//
// Order for `auto` (fastest first): tfjs-node-gpu → tfjs-node → wasm → cpu. The two native
// packages are optionalDependencies: their install downloads libtensorflow, which fails on
// machines without internet, and npm then drops them silently (STACK.md), so the choice is
// logged at run time.
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { BackendError } from '../errors.ts';

export const BACKEND_NAMES = ['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
export type BackendRequest = BackendName | 'auto';

/** npm package that provides each backend, and the tf.js backend name it registers. */
const PACKAGES: Record<BackendName, { pkg: string; tfName: string }> = {
  'tfjs-node-gpu': { pkg: '@tensorflow/tfjs-node-gpu', tfName: 'tensorflow' },
  'tfjs-node': { pkg: '@tensorflow/tfjs-node', tfName: 'tensorflow' },
  wasm: { pkg: '@tensorflow/tfjs-backend-wasm', tfName: 'wasm' },
  cpu: { pkg: '@tensorflow/tfjs', tfName: 'cpu' },
};

export const INSTALL_HINTS: Record<BackendName, string> = {
  'tfjs-node-gpu':
    'Install it on a Linux machine with CUDA 11.2 + cuDNN 8.1 and internet access: ' +
    '`npm install @tensorflow/tfjs-node-gpu@4.22.0` (it downloads libtensorflow 2.9.1 at install ' +
    'time; behind a firewall set TFJS_NODE_BASE_URI to a mirror). See README "GPU machines".',
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
  /** Backends tried before this one in `auto` mode, with why each was skipped. */
  skipped: { backend: BackendName; reason: string }[];
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
  if (active && (request === 'auto' || request === active.backend)) return active;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));

  const skipped: EngineInfo['skipped'] = [];
  for (const backend of candidateBackends(request, isBackendInstalled)) {
    try {
      await activate(backend, threads);
      active = describe(backend, threads, skipped);
      log(
        `moelab: backend ${backend} (tf.js ${active.tfjsVersion}` +
          (backend === 'wasm' ? `, simd ${active.simd ? 'on' : 'off'}, ${threads} thread(s)` : '') +
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

async function activate(backend: BackendName, threads: number): Promise<void> {
  if (backend === 'tfjs-node-gpu' || backend === 'tfjs-node') {
    // Importing the package registers the `tensorflow` backend on the shared tfjs-core instance.
    await import(PACKAGES[backend].pkg);
  } else if (backend === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    if (threads > 1) {
      const { enableWasmThreads } = await import('./wasm-threads.ts');
      enableWasmThreads(wasm, threads);
    }
  }
  const ok = await tf.setBackend(PACKAGES[backend].tfName);
  if (!ok) throw new Error(`tf.setBackend('${PACKAGES[backend].tfName}') returned false`);
  await tf.ready();
}

function describe(backend: BackendName, threads: number, skipped: EngineInfo['skipped']): EngineInfo {
  const packages: Record<string, string> = {};
  for (const b of BACKEND_NAMES) {
    const v = packageVersion(PACKAGES[b].pkg);
    if (v) packages[PACKAGES[b].pkg] = v;
  }
  return {
    backend,
    tfBackend: tf.getBackend(),
    tfjsVersion: tf.version.tfjs,
    packages,
    threads: backend === 'wasm' ? threads : 1,
    simd: backend === 'wasm' ? tf.env().getBool('WASM_HAS_SIMD_SUPPORT') : false,
    skipped,
  };
}

/**
 * Matmul throughput probe: GFLOP/s of an n×n by n×n product on the active backend
 * (median of `reps` timed products after one warm-up).
 */
export function probeMatmulGflops(n = 256, reps = 9): number {
  const a = tf.randomNormal([n, n]);
  const b = tf.randomNormal([n, n]);
  const times: number[] = [];
  try {
    tf.tidy(() => tf.matMul(a, b).dataSync());
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      tf.tidy(() => tf.matMul(a, b).dataSync());
      times.push(performance.now() - t0);
    }
  } finally {
    a.dispose();
    b.dispose();
  }
  times.sort((x, y) => x - y);
  const ms = times[Math.floor(times.length / 2)];
  return (2 * n ** 3) / (ms * 1e6);
}
