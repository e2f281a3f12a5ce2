// Per-kernel wall and CPU time of a piece of work on the active backend ("measure what pays").
// Every registered kernel of the backend is wrapped with a timer while `f` runs, then the original
// registrations are restored. Unlike tf.profile, nothing is double counted: tf.customGrad scopes
// are not kernels, and kernels that call other kernels' functions directly (wasm BatchMatMul →
// Reshape) are timed once, as the outer kernel. Only meaningful on synchronous backends (wasm,
// cpu, tfjs-node); WebGL/WebGPU kernels return before their work is done.
import * as tf from '@tensorflow/tfjs';

export interface KernelTime {
  kernel: string;
  calls: number;
  /** Wall time. */
  ms: number;
  /** CPU time of the process (all threads) while the kernel ran: robust to other load. */
  cpuMs: number;
}

export function timeKernels<T>(
  f: () => T,
  backendName = tf.getBackend(),
): { result: T; kernels: KernelTime[]; totalMs: number; totalCpuMs: number } {
  const configs = tf.getKernelsForBackend(backendName);
  const times = new Map<string, KernelTime>();
  for (const config of configs) {
    const inner = config.kernelFunc;
    const entry: KernelTime = { kernel: config.kernelName, calls: 0, ms: 0, cpuMs: 0 };
    times.set(config.kernelName, entry);
    tf.unregisterKernel(config.kernelName, backendName);
    tf.registerKernel({
      ...config,
      kernelFunc: ((args: Parameters<tf.KernelFunc>[0]) => {
        const t0 = performance.now();
        const c0 = process.cpuUsage();
        try {
          return inner(args);
        } finally {
          const c = process.cpuUsage(c0);
          entry.ms += performance.now() - t0;
          entry.cpuMs += (c.user + c.system) / 1000;
          entry.calls += 1;
        }
      }) as tf.KernelFunc,
    });
  }
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let result: T;
  try {
    result = f();
  } finally {
    for (const config of configs) {
      tf.unregisterKernel(config.kernelName, backendName);
      tf.registerKernel(config);
    }
  }
  const totalMs = performance.now() - t0;
  const c = process.cpuUsage(c0);
  const kernels = [...times.values()].filter((k) => k.calls > 0).sort((a, b) => b.cpuMs - a.cpuMs);
  return { result, kernels, totalMs, totalCpuMs: (c.user + c.system) / 1000 };
}
