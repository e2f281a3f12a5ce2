// The WebGPU engine: TF.js's WebGPU backend (@tensorflow/tfjs-backend-webgpu) on Dawn's Node
// bindings (npm `webgpu`, a prebuilt Dawn that drives Vulkan on Linux). Both are optional
// dependencies that install from the npm registry alone (no download at install time).
//
// What this module adds over the package's own registration (which needs a browser `navigator`):
// - adapter choice: a hardware adapter, or a software one (Mesa's lavapipe / llvmpipe, SwiftShader)
//   only when the caller allows it; `auto` in backend.ts never takes a software adapter;
// - the adapter's identity and limits, for `moelab env` and for buffer-size planning;
// - uncaptured device errors (validation, out-of-memory) and device loss are recorded and raised
//   by assertDeviceHealthy(): Dawn reports them asynchronously and TF.js ignores them, so an
//   over-limit buffer would otherwise give zeros (a loss of 0.000) with no error;
// - shutdown: the device is destroyed, so the process exits by itself.
//
// NOTE: synchronous reads (`dataSync`) of GPU data do not work here: TF.js's WebGPU readSync goes
// through OffscreenCanvas, which Node lacks. Tensors created from host arrays still read
// synchronously (their values stay cached on the host). Code that runs on this backend reads
// with `await tensor.data()`; the device model path (src/model/device-*.ts) needs no read inside
// forward or backward.
/// <reference types="@webgpu/types" />
import * as tf from '@tensorflow/tfjs';
import { BackendError } from '../errors.ts';
import { setDeviceBufferLimit } from '../model/device-kernels.ts';

/** Headroom under maxStorageBufferBindingSize: TF.js rounds buffer sizes up (64 bytes seen). */
const BUFFER_HEADROOM_BYTES = 1 << 16;

export interface AdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** True for a software rasteriser (lavapipe, llvmpipe, SwiftShader) or a fallback adapter. */
  software: boolean;
  /** The adapter limits moelab plans against (bytes / counts). */
  limits: {
    maxStorageBufferBindingSize: number;
    maxBufferSize: number;
    maxComputeWorkgroupStorageSize: number;
    maxComputeInvocationsPerWorkgroup: number;
    maxComputeWorkgroupsPerDimension: number;
  };
}

/** Whether an adapter is a software implementation (pure, tested on the identities seen). */
export function isSoftwareAdapter(info: { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean }): boolean {
  if (info.isFallbackAdapter) return true;
  const text = `${info.vendor ?? ''} ${info.architecture ?? ''} ${info.device ?? ''} ${info.description ?? ''}`.toLowerCase();
  return /llvmpipe|lavapipe|swiftshader|softpipe|software/.test(text);
}

interface GpuState {
  device: GPUDevice;
  adapter: AdapterInfo;
  errors: string[];
}

let state: GpuState | undefined;
let gpuInstance: GPU | undefined;

/** The adapter of the running WebGPU backend, or undefined when it is not started. */
export function webgpuAdapter(): AdapterInfo | undefined {
  return state?.adapter;
}

/**
 * Throw a BackendError if the GPU device reported an error (validation, out-of-memory, device
 * lost) since it started. Call it after each step's read-back: results computed after such an
 * error are not trustworthy.
 */
export function assertDeviceHealthy(): void {
  if (state && state.errors.length > 0) {
    throw new BackendError(
      `the WebGPU device reported ${state.errors.length} error(s); results since then are invalid. First: ` +
        `${state.errors[0]} ` +
        'Usual causes: a buffer over the adapter\'s maxStorageBufferBindingSize (use a smaller batch or model; ' +
        '`moelab env --backend webgpu` prints the limits) or a TF.js WebGPU kernel the driver rejects (the message names it).',
    );
  }
}

/** Errors the device reported so far (copies; for tests and reports). */
export function deviceErrors(): string[] {
  return state ? [...state.errors] : [];
}

export interface StartWebGpuOptions {
  /** Accept a software adapter (lavapipe). `auto` never does; `--backend webgpu` does. */
  allowSoftware: boolean;
  /** Extra Dawn options (`create([...])`), e.g. `backend=vulkan`. Env: MOELAB_DAWN_OPTIONS (comma-separated). */
  dawnOptions?: string[];
}

/**
 * Start Dawn, choose the adapter, create the device and register TF.js's `webgpu` backend on it.
 * Throws with the reason when no acceptable adapter exists. Does not call tf.setBackend.
 */
export async function startWebGpu(options: StartWebGpuOptions): Promise<AdapterInfo> {
  if (state) return state.adapter;
  const dawn = (await import('webgpu')) as unknown as {
    create: (opts: string[]) => GPU;
    globals: Record<string, unknown>;
  };
  // The WebGPU constants (GPUBufferUsage, GPUMapMode, …) TF.js's backend reads as globals.
  Object.assign(globalThis, dawn.globals);
  const dawnOptions =
    options.dawnOptions ??
    (process.env.MOELAB_DAWN_OPTIONS ? process.env.MOELAB_DAWN_OPTIONS.split(',').map((s) => s.trim()).filter(Boolean) : []);
  // One Dawn instance per process (a second create() after a refused adapter hung on lavapipe).
  gpuInstance ??= dawn.create(dawnOptions);
  const gpu = gpuInstance;
  const g = globalThis as unknown as { navigator?: { gpu?: GPU } };
  if (!g.navigator) Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  else if (!g.navigator.gpu) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });

  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) {
    throw new Error(
      'no WebGPU adapter: Dawn found no Vulkan driver. On a GPU machine install its Vulkan driver (NVIDIA: the ' +
        "driver's nvidia_icd.json; set VK_DRIVER_FILES to it if the loader misses it); for the software driver run " +
        '`scripts/setup.sh --gpu` (Mesa 25 lavapipe from Debian bookworm-backports) and pass --backend webgpu',
    );
  }
  const raw = adapter.info as unknown as Record<string, unknown>;
  const info = {
    vendor: String(raw.vendor ?? ''),
    architecture: String(raw.architecture ?? ''),
    device: String(raw.device ?? ''),
    description: String(raw.description ?? ''),
    isFallbackAdapter: Boolean(raw.isFallbackAdapter ?? (adapter as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter),
  };
  const software = isSoftwareAdapter(info);
  const name = `${info.vendor} ${info.architecture} (${info.description || info.device})`.trim();
  if (software && !options.allowSoftware) {
    throw new Error(`only a software adapter was found (${name}); auto does not take it: use --backend webgpu to run on it anyway`);
  }
  const l = adapter.limits;
  const requiredFeatures: GPUFeatureName[] = [];
  if (adapter.features.has('timestamp-query')) requiredFeatures.push('timestamp-query');
  const device = await adapter.requestDevice({
    requiredFeatures,
    // The limits TF.js's own registration asks for: the adapter's maxima.
    requiredLimits: {
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
    },
  });
  const errors: string[] = [];
  device.addEventListener('uncapturederror', (event) => {
    const message = ((event as GPUUncapturedErrorEvent).error?.message ?? String(event)).split('\n')[0];
    if (errors.length === 0) process.stderr.write(`moelab: WebGPU device error: ${message}\n`);
    errors.push(message);
  });
  void device.lost.then((lost) => {
    if (lost.reason !== 'destroyed') errors.push(`device lost (${lost.reason}): ${lost.message}`);
  });
  const adapterInfo: AdapterInfo = {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    software,
    limits: {
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
    },
  };
  const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu');
  // Importing the package registers its own 'webgpu' factory only where a browser navigator.gpu
  // existed at import; ours replaces it so the backend runs on the device chosen here.
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', () => new WebGPUBackend(device, adapter.info));
  state = { device, adapter: adapterInfo, errors };
  // The model's device path and the optimiser split their tensors under this (device-kernels.ts).
  setDeviceBufferLimit(l.maxStorageBufferBindingSize - BUFFER_HEADROOM_BYTES);
  process.once('exit', stopWebGpu);
  return adapterInfo;
}

/** Destroy the device (idempotent), so Dawn lets the process exit. */
export function stopWebGpu(): void {
  if (!state) return;
  const { device } = state;
  state = undefined;
  try {
    device.destroy();
  } catch {
    // Already gone: nothing to release.
  }
}
